#!/usr/bin/env bash
# idle-agent.sh - idle memory and wake-ups of the whole agent (docs/PERFORMANCE.md, "Idle agent"):
# for each binary given, `hvagent run --sim-socket` against `hvagent sim-host` (heartbeat and
# timesync every 60 s); 4 s after start, VmRSS / RssAnon / RssFile from /proc/PID/status, then the
# context switches of every agent thread over a 10 s window. Binaries alternate, RUNS rounds.
# HEARTBEAT, TIMESYNC (seconds between requests) and SETTLE (seconds before the sample) measure a
# serving agent instead, e.g. HEARTBEAT=1 TIMESYNC=5 SETTLE=15 (its "wake-ups" are then the
# requests it answered).
#
#   scripts/idle-agent.sh [RUNS] BINARY [BINARY...]
set -euo pipefail
RUNS="${1:-3}"; shift
[ "$#" -ge 1 ] || { echo "usage: $0 [RUNS] BINARY..." >&2; exit 2; }
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
switches() {  # voluntary + involuntary context switches over every thread of PID
    local total=0 t
    for t in /proc/"$1"/task/*/status; do
        total=$((total + $(awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 } END { print s }' "$t")))
    done
    echo "$total"
}
printf '%-60s %4s %9s %9s %9s %10s\n' binary run VmRSS_kB Anon_kB File_kB wakeups/10s
for run in $(seq 1 "$RUNS"); do
    for bin in "$@"; do
        sock="$work/sim-$run.sock"
        "$bin" sim-host --socket "$sock" --heartbeat-interval "${HEARTBEAT:-60}" --timesync-interval "${TIMESYNC:-60}" \
            --log /dev/null 2>/dev/null &
        host=$!
        for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
        "$bin" run --sim-socket "$sock" --timesync-mode off >/dev/null 2>&1 &
        agent=$!
        sleep "${SETTLE:-4}"
        rss=$(kb VmRSS $agent); anon=$(kb RssAnon $agent); file=$(kb RssFile $agent)
        before=$(switches $agent); sleep 10; after=$(switches $agent)
        printf '%-60s %4s %9s %9s %9s %10s\n' "$bin" "$run" "$rss" "$anon" "$file" $((after - before))
        kill $agent $host 2>/dev/null; wait $agent $host 2>/dev/null || true
        rm -f "$sock"
    done
done
