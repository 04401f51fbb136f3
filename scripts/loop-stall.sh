#!/usr/bin/env bash
# The event loop's longest stall while a slow health probe runs (a measurement, not a CI test):
#   scripts/loop-stall.sh [SECONDS] [HVAGENT]
# Runs `hvagent sim-host` (heartbeat every 0.2 s, timesync every 0.3 s) against `hvagent run
# --sim-socket` configured with `[heartbeat] health_command = sleep 5`, for SECONDS (default 20),
# and prints the longest gap between a host request and the guest's reply (heartbeat and
# timesync, from the exchange log's timestamps), plus the count and median of the round trips.
# A loop that runs the probe synchronously answers nothing for the probe's 5 s.
# HVAGENT defaults to the debug build (built first).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
. scripts/agent-pair.sh
agent_pair stall "${2:-}"

printf '[heartbeat]\nhealth_command = sleep 5\n' >"$DIR/hvagent.conf"
"$BIN" sim-host --socket "$DIR/sim.sock" --heartbeat-interval 0.2 --timesync-interval 0.3 \
  --seconds $((SECS + 30)) --log "$DIR/exchange.jsonl" 2>"$DIR/host.err" &
HOST_PID=$!
for _ in $(seq 100); do [ -S "$DIR/sim.sock" ] && break; sleep 0.1; done
"$BIN" run --sim-socket "$DIR/sim.sock" --timesync-mode off --config "$DIR/hvagent.conf" \
  >/dev/null 2>"$DIR/agent.err" &
AGENT_PID=$!
sleep "$SECS"
kill "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
AGENT_PID=""

python3 - "$DIR/exchange.jsonl" <<'EOF'
import json, statistics, sys
sent, trips = {}, []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["channel"] not in ("heartbeat", "timesync") or r.get("type") == "negotiate":
        continue
    if r["event"] == "request":
        sent[r["channel"]] = r["time"]
    elif r["event"] == "reply" and r["channel"] in sent:
        trips.append((r["time"] - sent.pop(r["channel"]), r["channel"], r["time"]))
if not trips:
    sys.exit("no round trips in the exchange log")
worst = max(trips)
print(f"round trips: {len(trips)}, median {statistics.median(t[0] for t in trips) * 1000:.1f} ms, "
      f"longest {worst[0] * 1000:.1f} ms ({worst[1]} at {worst[2]:.2f} s)")
EOF
