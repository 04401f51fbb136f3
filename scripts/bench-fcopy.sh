#!/usr/bin/env bash
# Copy-VMFile throughput: hvagent vs Linux's hv_fcopy_uio_daemon, side by side through the same
# simulated host into the same tmpfs directory, plus the round-trip floor and the target's raw
# write bandwidth (docs/PERFORMANCE.md, "File copy").
#
# Usage: scripts/bench-fcopy.sh [--pairs N] [--size-mib N] [--pings N] [--target DIR] [--no-build]
#   --pairs     copies per guest, order alternating (default 5)
#   --size-mib  size of each copy (default 1024: 1 GiB)
#   --pings     idle 6 KiB COMPLETEs (no-op echo) per session for the round-trip floor (default 20000)
#   --target    a directory on tmpfs to copy into (default /dev/shm); it needs room for one copy
#   --no-build  use the existing .build/release/hvagent
# Builds hvagent in release (swift build -c release --product hvagent) and the daemon and its shim
# (Tests/fcopy-diff/build-reference.sh, from Debian's linux-source-6.12). Needs no root.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=5 size=1024 pings=20000 target=/dev/shm build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --size-mib) size="$2"; shift 2 ;;
    --pings) pings="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) sed -n 's/^# \{0,1\}//; 6,12p' "$0"; exit 2 ;;
  esac
done
[ "$(stat -f -c %T "$target")" = tmpfs ] || echo "bench-fcopy: note: $target is not tmpfs" >&2
if [ "$build" = 1 ]; then swift build -c release --product hvagent >&2; fi
cache="$(Tests/fcopy-diff/build-reference.sh)"
echo "bench-fcopy: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), target $target ($(stat -f -c %T "$target")), $pairs pairs of $size MiB" >&2
exec python3 Tests/fcopy-diff/fcopy_bench.py --hvagent .build/release/hvagent --cache "$cache" --target "$target" \
  --size-mib "$size" --pairs "$pairs" --pings "$pings"
