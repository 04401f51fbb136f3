#!/bin/bash
# bench.sh - docs/PERFORMANCE.md numbers: the shared emulator's `bench`
# (10k SET then 10k GET into pool 1, auto-pool ENUMERATE walks, RSS, idle
# wake-ups) against hvagent kvp-daemon and/or the real hv_kvp_daemon, in
# harness.sh's private mount namespace (root).
#
#   Tests/kvp-bench/bench.sh [hvagent-binary|reference] [RUNS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PEER="$HERE/../../../shared/peers/hv_kvp_daemon"
WHO="${1:-$HERE/../../.build/release/hvagent}"
RUNS="${2:-3}"
[ "$(id -u)" = 0 ] || { echo "bench: SKIPPED: needs root (unshare -m)"; exit 0; }
SHIM="$(mktemp -d)/hvkvp_shim.so"
cc -O2 -shared -fPIC -o "$SHIM" "$PEER/hvkvp_shim.c" -ldl
if [ "$WHO" = reference ]; then
    KVP_PRELOAD="$SHIM" "$PEER/harness.sh" bench --count "${COUNT:-10000}" --runs "$RUNS" --enum-walks 20 --idle-seconds 10
else
    BIN="$(cd "$(dirname "$WHO")" && pwd)/$(basename "$WHO")"
    KVP_PRELOAD="$SHIM" BIN="$BIN" RUNS="$RUNS" "$PEER/harness.sh" shell bash -c \
        'python3 "$KVP_EMU" bench --socket "$HV_KVP_SOCKET" --spawn "$BIN kvp-daemon --pool-dir $KVP_POOL_DIR" --preload "$KVP_PRELOAD" --pool-dir "$KVP_POOL_DIR" --count "${COUNT:-10000}" --runs "$RUNS" --enum-walks 20 --idle-seconds 10; status=$?
         # The emulator closes the device after each run, and hvagent kvp-daemon stays to reopen it
         # (as after a kernel-side close): end the ones this bench started.
         pkill -TERM -f "kvp-daemon --pool-dir $KVP_POOL_DIR" || true; exit $status'
fi
# Idle wake-ups once settled (idle.py says why the bench's own window is not enough).
if [ "$WHO" = reference ]; then SPAWN="/usr/sbin/hv_kvp_daemon -n"; else SPAWN="$BIN kvp-daemon --pool-dir @POOL@"; fi
KVP_PRELOAD="$SHIM" SPAWN="$SPAWN" IDLE_PY="$HERE/idle.py" RUNS="$RUNS" "$PEER/harness.sh" shell bash -c \
    'python3 "$IDLE_PY" --emu "$KVP_EMU" --socket "$HV_KVP_SOCKET" --preload "$KVP_PRELOAD" --runs "$RUNS" --spawn "${SPAWN//@POOL@/$KVP_POOL_DIR}"'
rm -rf "$(dirname "$SHIM")"
