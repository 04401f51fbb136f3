#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup.sh), then runs the whole suite.
# Tests that need root (network namespaces, mounts) skip with a printed reason when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
