#!/usr/bin/env bash
# Side-by-side ring benchmark: the Swift ring (ring-bench) against the C reference (bench_ref) from
# ../shared/perf/ring-ref, driven by its runbench.py: interleaved, alternating which goes first,
# REPS repetitions per row, ping-pong probe before each run so pairs whose vCPU placement changed
# are discarded. Payloads 16..4096 B on 16 KiB and 2 MiB rings, protocol and poll modes.
# Prints the table with the per-row median Swift/C ratio and ends with "min ratio: X.XX".
#   REPS=5 SECS=1 scripts/bench-ring.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
REF=../shared/perf/ring-ref
OUT=${1:-.build-bench}
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
REPS=${REPS:-5}
SECS=${SECS:-1}
mkdir -p "$OUT"
make -s -C "$REF" OUT="$OUT/ref" >/dev/null
swift build -c release --product ring-bench >/dev/null
SWIFT_BIN=$(swift build -c release --show-bin-path)/ring-bench
CSV="$OUT/ring-$(date +%Y%m%d-%H%M%S).csv"
for mode in 0 1; do
  python3 "$REF/runbench.py" ring --bin "c=$OUT/ref/bench_ref" --bin "swift=$SWIFT_BIN" \
    --rings 16384,2097152 --sizes 16,64,256,1024,4096 --reps "$REPS" --secs "$SECS" --mode "$mode" \
    --quiet-wait 5 --probe "$OUT/ref/limits" --out "$CSV" >&2
done
echo "raw data: $CSV" >&2
python3 scripts/ring_ratio.py "$CSV"
