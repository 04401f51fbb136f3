#!/usr/bin/env bash
# Resource-stability soak (a benchmark, not a CI test):
#   scripts/soak.sh MINUTES
# Runs `hvagent sim-host` exchanging as fast as it can (heartbeat and timesync intervals 0: the next
# request goes out as soon as the reply arrives) against `hvagent run --sim-socket`, two processes.
# Reports the agent's open descriptors, VmRSS and threads at start (5 s in), after a 20 s warm-up,
# every 10 s (every 60 s for runs of 10 minutes or more) and at the end, the requests it served
# (from `hvagent status --json`) and the rate. RSS steps up once by ~3.6 MiB within the first
# 20 s under full load and is flat afterwards (measured: +8 kB over the next 110 s; the cause of the
# one-time step was not investigated), so growth is judged from the warm-up sample. Exits 1 if descriptors or threads grew, or RSS grew by more than 2 % + 512 kB.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:?usage: scripts/soak.sh MINUTES}
SECS=$(awk -v m="$MINUTES" 'BEGIN { s = int(m * 60); if (s < 1) s = 1; print s }')
. scripts/agent-pair.sh
agent_pair soak

"$BIN" sim-host --socket "$DIR/sim.sock" --heartbeat-interval 0 --timesync-interval 0 \
  --seconds $((SECS + 60)) >/dev/null 2>"$DIR/host.err" &
HOST_PID=$!
for _ in $(seq 100); do [ -S "$DIR/sim.sock" ] && break; sleep 0.1; done
"$BIN" run --sim-socket "$DIR/sim.sock" --timesync-mode discipline --status-socket "$DIR/status.sock" \
  >/dev/null 2>"$DIR/agent.err" &
AGENT_PID=$!

requests() {
  "$BIN" status --socket "$DIR/status.sock" --json |
    python3 -c 'import json,sys; print(sum(s.get("requests", 0) for s in json.load(sys.stdin)["services"]))'
}
sample() {
  local fds rss threads
  fds=$(ls "/proc/$AGENT_PID/fd" | wc -l)
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$AGENT_PID/status")
  threads=$(ls "/proc/$AGENT_PID/task" | wc -l)
  echo "$fds $rss $threads $(requests) $(date +%s.%N)"
}

sleep 5
read -r FDS RSSS THS REQS TS < <(sample)
echo "start:   fds $FDS, VmRSS $RSSS kB, threads $THS, requests served so far $REQS"
sleep 15
read -r FD0 RSS0 TH0 REQ0 T0 < <(sample)
echo "warm-up: fds $FD0, VmRSS $RSS0 kB, threads $TH0, requests served so far $REQ0 (baseline)"
echo "soaking for $SECS s ..."
STEP=$(( SECS >= 600 ? 60 : 10 ))
LEFT=$SECS
while [ "$LEFT" -gt 0 ]; do
  NAP=$(( LEFT < STEP ? LEFT : STEP ))
  sleep "$NAP"
  LEFT=$((LEFT - NAP))
  kill -0 "$AGENT_PID" 2>/dev/null || break
  read -r FD RSS TH REQ T < <(sample)
  echo "  +$((SECS - LEFT)) s: fds $FD, VmRSS $RSS kB, threads $TH, requests $REQ"
done
kill -0 "$AGENT_PID" || { echo "FAIL: the agent died"; cat "$DIR/agent.err"; exit 1; }
read -r FD1 RSS1 TH1 REQ1 T1 < <(sample)
echo "end:     fds $FD1, VmRSS $RSS1 kB, threads $TH1, requests served $REQ1"
awk -v r0="$REQ0" -v r1="$REQ1" -v t0="$T0" -v t1="$T1" \
  'BEGIN { printf "served %d requests in %.1f s: %.0f requests/s\n", r1 - r0, t1 - t0, (r1 - r0) / (t1 - t0) }'
STATUS=0
[ "$FD1" -le "$FD0" ] || { echo "FAIL: descriptors grew ($FD0 -> $FD1)"; STATUS=1; }
[ "$TH1" -le "$TH0" ] || { echo "FAIL: threads grew ($TH0 -> $TH1)"; STATUS=1; }
[ "$RSS1" -le $((RSS0 + RSS0 / 50 + 512)) ] || { echo "FAIL: VmRSS grew ($RSS0 -> $RSS1 kB)"; STATUS=1; }
[ "$STATUS" = 0 ] && echo "stable: no growth in descriptors, threads or RSS"
exit "$STATUS"
