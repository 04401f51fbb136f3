#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup.sh), then runs the whole suite.
# Tests that need root (network namespaces, mounts) skip with a printed reason when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
# KVP against the real hv_kvp_daemon and real pool-file writers (each skips with a reason when not root).
python3 Tests/kvp-diff/kvp_diff.py --hvagent .build/debug/hvagent
python3 Tests/kvp-crash/kvp_crash.py --hvagent .build/debug/hvagent --rounds 20 --sets 10000
/usr/bin/python3 Tests/kvp-concurrency/kvp_cloudinit_concurrency.py --build .build/debug
