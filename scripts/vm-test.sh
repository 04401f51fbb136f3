#!/usr/bin/env bash
# scripts/vm-test.sh [--no-build]: hvagent end to end in a real Debian 12 VM (systemd as PID 1,
# QEMU/TCG): the installed .deb, its shipped hardened unit (plus one test drop-in), the simulated
# Hyper-V host as a second unit, and every action done for real (clock steps and slews, chronyd,
# power-off, reboot, package upgrade/remove/purge). The VMBus itself cannot exist in the VM: the
# agent serves `hvagent sim-host` over its simulated VMBus (--sim-socket).
#
# Two VMs, run at the same time (both mostly wait on the agent):
#   A  main checks (scripts/vm/guest-checks.sh main), host IP injection (SET_IP_INFO, GET_IP_INFO)
#      through systemd-networkd on the VM's NIC, then a host power-off request: QEMU must
#      exit because the guest powered off, after the agent's reply (sim host's exchange log).
#   B  package life cycle; host IP injection through NetworkManager; then a host restart request:
#      the guest reboots (same QEMU, same snapshot disk) and the agent negotiates again in the
#      second boot.
# Prints one line per check (PASS / FAIL / PENDING) and closes with "N passed, M failed, K pending";
# exits 1 if any failed. Image cache: scripts/vm/image.sh (outside the clone); job folders and
# logs: $HVAGENT_VM_CACHE/jobs (default /var/tmp/hvagent-vm). --no-build reuses dist/ (what
# scripts/test.sh does right after scripts/package.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=${HVAGENT_VM_CACHE:-/var/tmp/hvagent-vm}
T0=$(date +%s.%N)
passed=0; failed=0; pendings=0
result() { # result LINE: print and count a PASS/FAIL/PENDING line
  echo "$1"
  case $1 in PASS*) passed=$((passed + 1)) ;; FAIL*) failed=$((failed + 1)) ;; PENDING*) pendings=$((pendings + 1)) ;; esac
}
die() { echo "vm-test: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, the image build)"
for tool in qemu-system-x86_64 mmdebstrap mkfs.ext4 python3 bc dpkg-deb; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup.sh"
done

# ---- The .deb, an "older build" of it, hyperv-daemons -------------------------------------------
if [ "${1:-}" != --no-build ]; then
  nice -n 10 scripts/package.sh >"$CACHE.package.log" 2>&1 || { tail -20 "$CACHE.package.log"; die "scripts/package.sh failed"; }
fi
shopt -s nullglob
debs=(dist/hvagent_*.deb)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || die "expected one dist/hvagent_*.deb (run scripts/package.sh)"
DEB=$REPO/${debs[0]}
mkdir -p "$CACHE/jobs"
# Keep the last few runs' job folders (console logs, exchange logs) for inspection.
ls -1dt "$CACHE"/jobs/run-* 2>/dev/null | tail -n +4 | xargs -r rm -rf
RUN=$(mktemp -d "$CACHE/jobs/run-$(date +%Y%m%d-%H%M%S)-XXXX")
FILES=$RUN/files-common
mkdir -p "$FILES"
cp "$DEB" "$FILES/"
# The upgrade check needs an older build: the same package repacked as version X~vmtest.old-1
# (dpkg orders it before X-1), with its own maintainer scripts. Only the version differs.
VERSION=$(dpkg-deb -f "$DEB" Version)
OLDV=${VERSION%-*}~vmtest.old-1
rm -rf "$RUN/old" && mkdir -p "$RUN/old"
dpkg-deb -R "$DEB" "$RUN/old/root"
sed -i "s/^Version: .*/Version: $OLDV/" "$RUN/old/root/DEBIAN/control"
dpkg-deb --root-owner-group -b "$RUN/old/root" "$FILES/hvagent_${OLDV}_$(dpkg-deb -f "$DEB" Architecture).deb" >/dev/null ||
  die "cannot repack the older build"
rm -rf "$RUN/old"
# hyperv-daemons (Debian's hv_kvp_daemon and friends) for the side-by-side check.
HVD=$(ls /var/cache/apt/archives/hyperv-daemons_*.deb "$CACHE"/debs/hyperv-daemons_*.deb 2>/dev/null | head -1)
if [ -z "$HVD" ]; then
  mkdir -p "$CACHE/debs"
  (cd "$CACHE/debs" && apt-get download -q hyperv-daemons >/dev/null 2>&1)
  HVD=$(ls "$CACHE"/debs/hyperv-daemons_*.deb 2>/dev/null | head -1)
fi
[ -n "$HVD" ] && cp "$HVD" "$FILES/"
cp scripts/vm/guest-checks.sh "$FILES/"

# ---- The image -----------------------------------------------------------------------------------
t=$(date +%s.%N)
IMAGE_DIR=$(nice -n 10 scripts/vm/image.sh) || die "image build failed"
export IMAGE_DIR
image_s=$(echo "$(date +%s.%N) - $t" | bc)

# ---- Both VMs --------------------------------------------------------------------------------------
for vm in A B; do mkdir -p "$RUN/$vm"; cp -a "$FILES" "$RUN/$vm/files"; done
t=$(date +%s.%N)
TIMEOUT=600 nice -n 10 scripts/vm/run-in-vm.sh "$RUN/A" 'bash guest-checks.sh main' >/dev/null 2>"$RUN/A.stderr" &
pa=$!
TIMEOUT=600 REBOOT=1 nice -n 10 scripts/vm/run-in-vm.sh "$RUN/B" \
  'if [ "$VMTEST_BOOT" = 1 ]; then bash guest-checks.sh lifecycle; else bash guest-checks.sh after-reboot; fi' >/dev/null 2>"$RUN/B.stderr" &
pb=$!
wait $pa; wait $pb
vms_s=$(echo "$(date +%s.%N) - $t" | bc)

for vm in A B; do
  grep -E '^(PASS|FAIL|PENDING) ' "$RUN/$vm/output.txt" 2>/dev/null | while IFS= read -r line; do echo "$line"; done >"$RUN/$vm.results"
  while IFS= read -r line; do result "$line"; done <"$RUN/$vm.results"
  grep -q '^INFO guest checks done' "$RUN/$vm/output.txt" 2>/dev/null ||
    result "FAIL vm $vm: the guest checks did not finish (qemu rc $(cat "$RUN/$vm/qemu.rc" 2>/dev/null); $(tail -3 "$RUN/$vm/output.txt" 2>/dev/null | tr '\n' '|'); console: $RUN/$vm/console.log)"
done

# ---- Host-initiated power-off and reboot, from outside the VM --------------------------------------
# shutdown_order LOG: the sim host's shutdown request, the guest's reply and the agent's
# disconnect, in the exchange log's order and times; exit 0 if request < reply (S_OK) < disconnect.
shutdown_order() {
  python3 - "$1" <<'PY'
import json, sys
recs = []
for l in open(sys.argv[1]):
    try: recs.append(json.loads(l))
    except ValueError: pass
def first(pred, after=-1.0):
    return next((r for r in recs if r["time"] > after and pred(r)), None)
req = first(lambda r: r["channel"] == "shutdown" and r["event"] == "request" and r.get("type") == "shutdown")
rep = req and first(lambda r: r["channel"] == "shutdown" and r["event"] == "reply" and r.get("type") == "shutdown", req["time"])
gone = rep and first(lambda r: r["channel"] == "host" and r["event"] == "error" and "disconnected" in r["detail"], rep["time"] - 1e-9)
if not (req and rep and gone) or rep.get("status") != "S_OK":
    print("request %s, reply %s, disconnect %s" % (bool(req), rep and rep.get("status"), bool(gone))); sys.exit(1)
print("request at %.3f s (%s), reply %s at %.3f s, agent gone at %.3f s (+%.3f s after the reply)"
      % (req["time"], req["detail"], rep["status"], rep["time"], gone["time"], gone["time"] - rep["time"]))
PY
}
# console_order CONSOLE FINAL: the agent's shutdown line (the journal, forwarded to the serial
# console, host-timestamped) and the kernel's FINAL message, in that order.
console_order() {
  python3 - "$1" "$2" <<'PY'
import re, sys
agent = final = None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\[\s*([0-9.]+)\] (.*)", line)
    if not m: continue
    t, text = float(m.group(1)), m.group(2)
    if agent is None and "hvagent[" in text and re.search(r"agent shutdown: .*reply consumed by the host", text): agent = (t, text.strip())
    if sys.argv[2] in text: final = (t, text.strip())
if agent and final and agent[0] <= final[0]:
    print("console: %.2f s %s ... %.2f s %s" % (agent[0], agent[1][:140], final[0], final[1])); sys.exit(0)
print("console: agent line %s, '%s' %s" % (agent, sys.argv[2], final)); sys.exit(1)
PY
}
A=$RUN/A
if [ "$(cat "$A/qemu.rc" 2>/dev/null)" = 0 ] && grep -q 'reboot: Power down' "$A/console.log" &&
   order=$(shutdown_order "$A/files/simhost-poweroff.jsonl" 2>&1) && corder=$(console_order "$A/console.log" 'reboot: Power down' 2>&1); then
  result "PASS host power-off request: the agent replied, then powered the VM off for real (QEMU exited 0 after the guest's 'reboot: Power down'); exchange log: $order; $corder"
else
  result "FAIL host power-off request: qemu rc $(cat "$A/qemu.rc" 2>/dev/null), power-down message $(grep -c 'reboot: Power down' "$A/console.log" 2>/dev/null); ${order:-no exchange log}; ${corder:-}"
fi
B=$RUN/B
if [ "$(cat "$B/boots" 2>/dev/null)" = 2 ] && grep -q 'reboot: Restarting system' "$B/console.log" &&
   order=$(shutdown_order "$B/files/simhost-reboot.jsonl" 2>&1) && corder=$(console_order "$B/console.log" 'reboot: Restarting system' 2>&1); then
  result "PASS host restart request: the agent replied, then really rebooted the VM (second boot in the same QEMU); exchange log: $order; $corder"
else
  result "FAIL host restart request: boots $(cat "$B/boots" 2>/dev/null), restart message $(grep -c 'reboot: Restarting system' "$B/console.log" 2>/dev/null); ${order:-no exchange log}; ${corder:-}"
fi

# ---- Times ---------------------------------------------------------------------------------------
boot_times() { grep -o 'VMTEST-BOOTED boot=[0-9]* state=[a-z]* uptime=[0-9.]*' "$1/console.log" 2>/dev/null | sed 's/VMTEST-BOOTED //' | tr '\n' ';'; }
echo "times: image $(printf %.1f "$image_s") s (cached unless missing or stale), both VMs $(printf %.1f "$vms_s") s" \
     "(A qemu $(sed -n 's/qemu_wall_s=//p' "$A/timings.txt") s: $(boot_times "$A")" \
     "B qemu $(sed -n 's/qemu_wall_s=//p' "$B/timings.txt") s: $(boot_times "$B")), whole vm-test $(printf %.1f "$(echo "$(date +%s.%N) - $T0" | bc)") s; logs in $RUN"
echo "$passed passed, $failed failed, $pendings pending"
[ "$failed" -eq 0 ]
