#!/usr/bin/env bash
# Instructions per packet of the Swift ring and of the C reference, counted by callgrind in one
# thread (no second CPU, so no placement noise): each fills a ring until full and drains it,
# ROUNDS times, through out-of-line send/receive adapters (ring-bench -s; scripts/ring-cost/
# ring_cost.c over ../shared/perf/ring-ref/ring_ref.c). Prints send and receive instructions per
# packet for each payload, without and with the libc memcpy both call.
#   scripts/ring-cost.sh [RING_BYTES] [ROUNDS]     (default 16384 200)
set -euo pipefail
cd "$(dirname "$0")/.."
RING=${1:-16384}
ROUNDS=${2:-200}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
gcc -O2 -std=gnu11 -I../shared/perf/ring-ref -o "$OUT/ring_cost" scripts/ring-cost/ring_cost.c
swift build -c release --product ring-bench >/dev/null
# valgrind 3.19 rejects the DWARF of Swift 6 release binaries; symbols are enough.
objcopy --strip-debug "$(swift build -c release --show-bin-path)/ring-bench" "$OUT/ring-bench"
send=$(nm "$OUT/ring-bench" | awk '/ring_bench7sendOne/ {print $3}' | head -1)
recv=$(nm "$OUT/ring-bench" | awk '/ring_bench10receiveOne/ {print $3}' | head -1)
count() { # out-file function -> "self total" instructions
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null | awk -v f="$2" '
    index($0, f) && !done { gsub(",", "", $1); total = $1; done = 1 }
    END { print total + 0 }'
}
printf '| ring | payload | packets | C send | Swift send | C receive | Swift receive | Swift/C (send+receive) |\n|---|---|---|---|---|---|---|---|\n'
for payload in 16 64 256 1024 4096; do
  packets=$("$OUT/ring_cost" "$RING" "$payload" "$ROUNDS" | awk '{print $2}')
  for side in send recv; do
    c=cost_$side; s=$([ $side = send ] && echo "$send" || echo "$recv")
    valgrind --tool=callgrind --callgrind-out-file="$OUT/c.$side" --toggle-collect="$c" "$OUT/ring_cost" "$RING" "$payload" "$ROUNDS" >/dev/null 2>&1
    valgrind --tool=callgrind --callgrind-out-file="$OUT/s.$side" --toggle-collect="$s" "$OUT/ring-bench" -s "$ROUNDS" -r "$RING" -l "$payload" >/dev/null 2>&1
  done
  read -r cs ss cr sr < <(echo "$(count "$OUT/c.send" cost_send) $(count "$OUT/s.send" "$send") $(count "$OUT/c.recv" cost_recv) $(count "$OUT/s.recv" "$recv")")
  awk -v r="$RING" -v l="$payload" -v p="$packets" -v cs="$cs" -v ss="$ss" -v cr="$cr" -v sr="$sr" 'BEGIN {
    printf "| %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.2f |\n", r, l, p, cs/p, ss/p, cr/p, sr/p, (ss+sr)/(cs+cr) }'
done
