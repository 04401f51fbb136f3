#!/usr/bin/env bash
# DPDK interop: hvagent's ring (ring-peer: RingWriter/RingReader) against DPDK's own VMBus ring
# code (Debian's librte_bus_vmbus, driven by ../shared/peers/dpdk-vmbus/dpdk-vmbus-peer) on one
# channel file, in both directions. It mirrors that directory's interop.sh with ring-peer in the
# place of ringref-peer, and adds packets aimed at each wrap-around case, an exactly full ring, a
# signal check and a negative control. Every packet's line (sequence, type, flags, offset8, len8,
# exact length, start offset, FNV hash) must match between writer and reader.
#   scripts/dpdk-interop.sh [RING_PEER]    (default: swift build --product ring-peer)
# Prints PASS/FAIL lines and exits 1 on a failure. Skips (exit 0, reason printed) without DPDK or
# without a way to get the private mount namespace dpdk-vmbus-peer needs (root or unprivileged
# user namespaces). The C peer is built into a cache outside the clone (HVAGENT_PEER_CACHE,
# default /var/tmp/hvagent-peers), never into ../shared. About 6 s.
set -euo pipefail
cd "$(dirname "$0")/.."
skip() { echo "dpdk interop: skipped ($*)"; exit 0; }
[ -f ../shared/peers/dpdk-vmbus/dpdk_vmbus_peer.c ] || skip "../shared/peers/dpdk-vmbus is not beside the clone"
SRC=$(realpath ../shared/peers/dpdk-vmbus)
pkg-config --exists libdpdk 2>/dev/null || skip "libdpdk-dev is not installed: scripts/setup.sh installs it"
if [ "$(id -u)" != 0 ] && ! unshare --user --map-root-user --mount true 2>/dev/null; then
  skip "not root and no unprivileged user namespaces: dpdk-vmbus-peer needs a private mount namespace"
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CACHE=${HVAGENT_PEER_CACHE:-/var/tmp/hvagent-peers}/dpdk-vmbus-$(pkg-config --modversion libdpdk)
mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ] || CACHE=$T # a user who cannot write the cache builds per run
make -s -C "$CACHE" -f "$SRC/Makefile" VPATH="$SRC" dpdk-vmbus-peer
DPDK=$CACHE/dpdk-vmbus-peer
if [ $# -ge 1 ]; then
  HV=$(realpath "$1")
else
  swift build --product ring-peer >/dev/null
  HV=$(swift build --show-bin-path)/ring-peer
fi

R=8192            # ring bytes: 4096 data bytes per ring, so the indices wrap every few packets
D=$((R - 4096))
CH=$T/channel.bin
fail=0
pass() { echo "PASS $*"; }
failed() { echo "FAIL $*"; fail=1; }
pk() { grep ' pkt ' "$1" | cut -d' ' -f2- ; }
# cmp_dir NAME WRITER_OUT READER_OUT: the same packets, line for line, none BAD.
cmp_dir() {
  if pk "$2" > "$T/w" && pk "$3" > "$T/r" && [ -s "$T/w" ] && cmp -s "$T/w" "$T/r" && ! grep -q BAD "$T/r"; then
    pass "$1: $(wc -l < "$T/w") packets, $(grep -c 'wrap=1' "$T/w" || true) wrapped"
  else
    failed "$1"; diff "$T/w" "$T/r" | head -20 || true
  fi
}
# The peers' exit status is not used: a BAD packet, a ring error or a missing packet shows in the
# comparison of their lines.
dpdk() { "$DPDK" "$@" 2>>"$T/eal.log" || true; }
hv() { "$HV" "$@" || true; }
# The write_index of the ring at byte offset $1 of the channel file.
windex() { od -An -tu4 -j "$1" -N4 "$CH" | tr -d ' '; }
rotate() { echo "$1" | awk -F, '{for(i=2;i<=NF;i++)printf "%s,",$i; print $1}'; }
seq=0

# rounds WRITER READER OUT_W OUT_R: 8 rounds of 3 packets written then read, sizes rotating, so
# the indices go round the ring many times (WRITER and READER are commands).
rounds() {
  : > "$3"; : > "$4"
  for round in 1 2 3 4 5 6 7 8; do
    $1 -n 3 -s $SIZES -q $seq >> "$3"
    $2 >> "$4"
    seq=$((seq + 3)); SIZES=$(rotate $SIZES)
  done
}
# 1. DPDK writes (flags 1), hvagent reads: DPDK's TX ring, the first half.
"$HV" init "$CH" "$R" >/dev/null
SIZES=1,7,8,9,100,333,1000,17,2000,64
rounds "dpdk write $CH -f 1" "hv read $CH" "$T/w1" "$T/r1"
cmp_dir "dpdk->hvagent" "$T/w1" "$T/r1"
# 2. hvagent writes (type 7), DPDK reads: DPDK's RX ring, the second half.
rounds "hv write $CH -t 7" "dpdk read $CH" "$T/w2" "$T/r2"
cmp_dir "hvagent->dpdk" "$T/w2" "$T/r2"
# Each batch was written into an empty ring whose reader had re-armed (interrupt_mask 0): the
# writer must have signalled exactly once per batch, DPDK's writer and ours alike.
if [ "$(grep -c 'sent=3 signals=1 ' "$T/w1" "$T/w2" | awk -F: '{s+=$2} END {print s}')" = 16 ]; then
  pass "signals: one per batch into an empty ring, both writers (16 batches)"
else
  failed "signals"; grep -h ' sent=' "$T/w1" "$T/w2"
fi

# 3. Each wrap-around case, aimed: a filler packet (written and read) brings the write index to
# the chosen offset, then the packet under test straddles the end of the data area there.
# aim WRITER READER OFFSET_OF_RING OUT_W OUT_R POSITION: WRITER/READER are commands.
aim() {
  local writer=$1 reader=$2 ring=$3 ow=$4 or=$5 pos=$6 gap
  gap=$(( (pos - $(windex "$ring") + D) % D ))
  if [ "$gap" -gt 0 ] && [ "$gap" -lt 24 ]; then # no packet is that small: go round once more
    $writer -n 1 -s 2000 -q $seq >> "$ow"; $reader >> "$or"; seq=$((seq + 1))
    gap=$(( (pos - $(windex "$ring") + D) % D ))
  fi
  if [ "$gap" -gt 0 ]; then
    $writer -n 1 -s $((gap - 24)) -q $seq >> "$ow"; $reader >> "$or"; seq=$((seq + 1))
  fi
}
# wrap_cases NAME WRITER READER RING: descriptor split (start = end - 8), payload split with an
# odd length (its zero pad after the wrap), payload starting exactly at 0, trailer exactly at 0.
wrap_cases() {
  local name=$1 writer=$2 reader=$3 ring=$4
  : > "$T/ww"; : > "$T/wr"
  for target in "$((D - 8)) 100" "$((D - 64)) 203" "$((D - 16)) 50" "$((D - 120)) 104"; do
    set -- $target
    aim "$writer" "$reader" "$ring" "$T/ww" "$T/wr" "$1"
    $writer -n 1 -s "$2" -q $seq >> "$T/ww"; $reader >> "$T/wr"; seq=$((seq + 1))
  done
  cmp_dir "$name wrap cases" "$T/ww" "$T/wr"
  # Each case must really have happened (start offsets and len8 from the writer's lines).
  local kinds
  kinds=$(pk "$T/ww" | awk -v d=$D '{
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      s = v["start"]; e = s + v["len8"] * 8
      if (s == d - 8) k["descriptor"] = 1
      else if (s + 16 == d) k["payload-at-0"] = 1
      else if (s + 16 < d && e > d) k["payload"] = 1
      else if (e == d) k["trailer-at-0"] = 1
    } END { print k["descriptor"] + k["payload"] + k["payload-at-0"] + k["trailer-at-0"] }')
  if [ "$kinds" = 4 ]; then
    pass "$name wrap kinds: descriptor split, payload split, payload at 0, trailer at 0"
  else
    failed "$name wrap kinds: only $kinds of 4 seen"
  fi
}
wrap_cases "dpdk->hvagent" "dpdk write $CH" "hv read $CH" 0
wrap_cases "hvagent->dpdk" "hv write $CH" "dpdk read $CH" "$R"

# 4. Full rings. An exactly full ring: the largest packet an empty ring takes leaves 8 bytes free
# (a packet needs free > its size, so full never looks empty); then even an 8-byte packet is
# refused. One size up can never fit: DPDK answers -EAGAIN as for a full ring (as the kernel
# does), hvagent's writer packetTooLarge (docs/COMPATIBILITY.md); neither writes anything.
: > "$T/w4"; : > "$T/r4"
dpdk write "$CH" -n 2 -s $((D - 32)),8 -q $seq >> "$T/w4"; hv read "$CH" >> "$T/r4"; seq=$((seq + 1))
hv write "$CH" -n 2 -s $((D - 32)),8 -q $seq >> "$T/w4"; dpdk read "$CH" >> "$T/r4"; seq=$((seq + 1))
dpdk write "$CH" -n 1 -s $((D - 24)) -q $seq >> "$T/w4"
hv write "$CH" -n 1 -s $((D - 24)) -q $seq 2>/dev/null >> "$T/w4"
if [ "$(grep -c 'sent=1 signals=1 stop=full' "$T/w4")" = 2 ] && grep -q 'dpdk-tx sent=0 signals=0 stop=full' "$T/w4" \
  && grep -q 'hv-tx sent=0 signals=0 stop=too-large' "$T/w4"; then
  cmp_dir "exactly full ring (8 bytes free), both ways" "$T/w4" "$T/r4"
else
  failed "exactly full ring"; grep -h ' sent=\| received=' "$T/w4" "$T/r4"
fi
# Filled until the writer is refused, small packets: both readers get every packet.
dpdk write "$CH" -n 100000 -s 24,40,8 -q $seq > "$T/w5"
hv read "$CH" > "$T/r5"
if grep -q 'stop=full' "$T/w5"; then cmp_dir "dpdk->hvagent full ring" "$T/w5" "$T/r5"; else failed "full ring (dpdk)"; fi
seq=$((seq + 1000))
# hvagent fills DPDK's RX ring and announces pending_send_sz; DPDK's reader must signal once.
hv write "$CH" -n 100000 -s 24,40,8 -q $seq --set-pending > "$T/w6"
dpdk read "$CH" > "$T/r6"
if grep -q 'stop=full' "$T/w6"; then cmp_dir "hvagent->dpdk full ring" "$T/w6" "$T/r6"; else failed "full ring (hvagent)"; fi
if grep -q 'pending_send_sz=[1-9]' "$T/w6" && grep -q 'signals=1 ' "$T/r6"; then
  pass "pending_send_sz: DPDK's reader signalled hvagent's blocked writer once"
else
  failed "pending_send_sz"; grep -h 'sz=\|received=' "$T/w6" "$T/r6"
fi
seq=$((seq + 1000))

# 5. --swap: DPDK's TX ring is the second half and its RX ring the first (hvagent's guest layout).
"$HV" init "$CH" "$R" >/dev/null
: > "$T/w7"; : > "$T/r7"; : > "$T/w8"; : > "$T/r8"
for round in 1 2 3 4 5 6; do
  dpdk write "$CH" --swap -n 4 -s 200,1,999 -q $seq >> "$T/w7"
  hv read "$CH" --half rx >> "$T/r7"
  hv write "$CH" --half tx -n 4 -s 300,5,777 -q $seq >> "$T/w8"
  dpdk read "$CH" --swap >> "$T/r8"
  seq=$((seq + 4))
done
cmp_dir "dpdk->hvagent --swap" "$T/w7" "$T/r7"
cmp_dir "hvagent->dpdk --swap" "$T/w8" "$T/r8"

# 6. Negative control: the check sees damage. A payload byte and a trailer changed in the file
# after DPDK wrote them: hvagent's reader marks both packets BAD and exits 1.
"$HV" init "$CH" "$R" >/dev/null
dpdk write "$CH" -n 2 -s 100,100 -q $seq > "$T/w9"
printf '\377' | dd of="$CH" bs=1 seek=$((4096 + 16 + 50)) conv=notrunc status=none # packet 1, payload byte 50
printf '\377' | dd of="$CH" bs=1 seek=$((4096 + 128 + 16 + 104 + 7)) conv=notrunc status=none # packet 2, trailer
if "$HV" read "$CH" > "$T/r9"; then rc=0; else rc=$?; fi
if [ "$rc" = 1 ] && [ "$(grep -c ' BAD$' "$T/r9")" = 2 ]; then
  pass "negative control: a changed payload byte and a changed trailer are both reported BAD"
else
  failed "negative control (exit $rc)"; cat "$T/r9"
fi

if [ $fail = 0 ]; then
  echo "dpdk interop: ALL PASS"
else
  echo "dpdk interop: SOME FAILED (EAL log:)"; tail -20 "$T/eal.log"
fi
exit $fail
