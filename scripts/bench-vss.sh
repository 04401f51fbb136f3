#!/usr/bin/env bash
# FREEZE and THAW latency, hvagent (kernel mode, release build) vs the real hv_vss_daemon, one run:
# both behind emulated /dev/vmbus/hv_vss devices on the same three loop filesystems the script
# makes (ext4, xfs, a nested ext4; images on tmpfs), alternating which goes first, in a private
# mount namespace (Tests/vss-diff/README.md for the shim and its guard). Root.
#   scripts/bench-vss.sh [--rounds 30] [--dirty-kb 0] [--hvagent PATH]
# Prints a markdown table (median, p10, p90, min, max in ms) for docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-vss: skipped (not root: loop devices, mounts and FIFREEZE)"; exit 0; }
case " $* " in
  *" --hvagent "*) ;;
  *) swift build -c release --product hvagent >&2
     set -- --hvagent "$(swift build -c release --show-bin-path)/hvagent" "$@" ;;
esac
exec python3 Tests/vss-diff/vss_bench.py "$@"
