#!/usr/bin/env bash
# Builds the fuzz binary with libFuzzer + AddressSanitizer and runs one target.
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags]
# The seed corpus is Tests/Fuzz/corpus/TARGET/ (committed); new inputs go to .build-fuzz/corpus/TARGET/
# (not committed). A crash leaves crash-* files in .build-fuzz/artifacts/: add the input to the
# committed corpus so the replay test keeps it as a regression case.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
SECONDS_TO_RUN=${2:-30}
shift 2 || true
swift build -c release --product hvagent-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -D -Xswiftc FUZZING >&2
BIN=$(swift build -c release --product hvagent-fuzz --scratch-path .build-fuzz --show-bin-path)/hvagent-fuzz
SEEDS=Tests/Fuzz/corpus/$TARGET
WORK=.build-fuzz/corpus/$TARGET
mkdir -p "$WORK" .build-fuzz/artifacts
[ -d "$SEEDS" ] || { echo "no seed corpus at $SEEDS" >&2; exit 2; }
FUZZ_TARGET=$TARGET "$BIN" "$WORK" "$SEEDS" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 \
  -artifact_prefix=.build-fuzz/artifacts/ "$@"
