#!/bin/bash
# scripts/vm/guest-checks.sh PHASE: the checks scripts/vm-test.sh runs inside the test VM (as root,
# systemd as PID 1, cwd = the job folder holding the .debs). Prints PASS/FAIL/PENDING/INFO lines;
# scripts/vm-test.sh counts them. Phases (one per boot):
#   main        install the .deb; the shipped unit with the test drop-in against the simulated
#               host (a second unit); READY, watchdog, reload, status, doctor, kvp, journal,
#               timesync (discipline, then chrony), stop, sandbox denials; pending services;
#               then arms a host power-off request and leaves the VM running (the agent powers
#               it off; scripts/vm-test.sh checks that from outside).
#   lifecycle   upgrade over an older build, remove, purge, hyperv-daemons beside it; then arms
#               a host restart request (the agent reboots the VM).
#   after-reboot  the second boot of the lifecycle VM: the agent negotiates again.
# Anything may happen for real here: this is a throw-away VM (root disk snapshot=on).
set -uo pipefail
PHASE=${1:?phase}
HERE=$PWD
SIM_SOCKET=/run/hvagent-sim/host.sock
STATUS_SOCKET=/run/hvagent/status.sock
SIM_LOG=/var/log/hvagent-sim/host.jsonl
export DEBIAN_FRONTEND=noninteractive
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
pending() { echo "PENDING $*"; }
info() { echo "INFO $*"; }
# check NAME COMMAND...: PASS NAME when COMMAND succeeds, else FAIL NAME with its output.
check() {
  local name=$1 out; shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name: $(tail -5 <<<"$out" | tr '\n' ' ')"; fi
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds (0.2 s steps).
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}
mono() { python3 -c 'import time; print("%.3f" % time.clock_gettime(time.CLOCK_MONOTONIC_RAW))'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# The log records of the simulated host as "time channel event type status detail" lines.
simlog() { python3 - "${1:-$SIM_LOG}" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: r = json.loads(line)
    except ValueError: continue
    print("%.3f %s %s %s %s %s" % (r["time"], r["channel"], r["event"], r.get("type") or "-", r.get("status") or "-", r["detail"]))
PY
}
# The agent's journal for this boot.
agent_journal() { journalctl -b -o cat -u hvagent.service --no-pager "$@"; }

# ---- The simulated host as a second unit, and the one test drop-in ----------------------------
# The sim host reads its arguments from /etc/hvagent-sim/args, overridden for one boot by
# /run/hvagent-sim-args (host-initiated shutdown tests: a reboot must not repeat the request).
install_sim_host() {
  mkdir -p /etc/hvagent-sim
  echo "SIMHOST_ARGS=$1" >/etc/hvagent-sim/args
  cat >/etc/systemd/system/hvagent-sim-host.service <<EOF
[Unit]
Description=Simulated Hyper-V host for vm-test (hvagent sim-host)
Before=hvagent.service

[Service]
Type=simple
Environment=SIMHOST_LOG=$SIM_LOG
EnvironmentFile=-/etc/hvagent-sim/args
EnvironmentFile=-/run/hvagent-sim-args
RuntimeDirectory=hvagent-sim
LogsDirectory=hvagent-sim
ExecStart=/usr/sbin/hvagent sim-host --socket $SIM_SOCKET --log \${SIMHOST_LOG} --accept-reconnect \$SIMHOST_ARGS
ExecStartPost=/bin/sh -c 'for i in \$(seq 100); do [ -S $SIM_SOCKET ] && exit 0; sleep 0.1; done; exit 1'

[Install]
WantedBy=multi-user.target
EOF
  systemctl daemon-reload
  systemctl enable hvagent-sim-host.service 2>/dev/null
}
# write_dropin TIMESYNC_FLAGS: the test drop-in. Only ExecStart (the simulated host's socket and
# the flags the checks need: the status socket, the KVP pools, the real clock, shutdowns acted
# on) and the Unit section's virtualization condition and ordering on the sim host; sandbox,
# capabilities and syscall filter stay as shipped (check "drop-in changes only ...").
DROPIN=/etc/systemd/system/hvagent.service.d/vm-test.conf
write_dropin() {
  mkdir -p "${DROPIN%/*}"
  cat >"$DROPIN" <<EOF
[Unit]
ConditionVirtualization=
Wants=hvagent-sim-host.service
After=hvagent-sim-host.service

[Service]
ExecStart=
ExecStart=/usr/sbin/hvagent run --sim-socket $SIM_SOCKET --status-socket $STATUS_SOCKET --kvp-pool-dir /var/lib/hyperv --act-on-shutdown $1
EOF
  systemctl daemon-reload
}
check_dropin_only() {
  local extra why=""
  extra=$(grep -Ev '^(\[Unit\]|\[Service\]|ConditionVirtualization=|Wants=hvagent-sim-host.service|After=hvagent-sim-host.service|ExecStart=.*|)$' "$DROPIN")
  [ -z "$extra" ] || why+="drop-in has: $extra; "
  [ "$(ls /etc/systemd/system/hvagent.service.d/)" = vm-test.conf ] || why+="drop-ins: $(ls /etc/systemd/system/hvagent.service.d/ | tr '\n' ' '); "
  [ "$(realpath "$(systemctl show -p FragmentPath --value hvagent)")" = /usr/lib/systemd/system/hvagent.service ] || why+="FragmentPath $(systemctl show -p FragmentPath --value hvagent); "
  dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/lib/systemd/system/hvagent.service >/run/shipped.service 2>/dev/null
  cmp -s /usr/lib/systemd/system/hvagent.service /run/shipped.service || why+="installed unit differs from the .deb's; "
  if [ -z "$why" ]; then
    pass "unit: the shipped hvagent.service plus one drop-in that changes only ExecStart (--sim-socket), ConditionVirtualization and ordering on the sim host"
  else
    fail "unit: $why"
  fi
}
# arm_shutdown FLAGS LOGFILE: the sim host, for this boot only, asks for a shutdown 5 s after
# the agent connects; the exchange log goes to the share so that it outlives the VM. The journal
# goes to the serial console (host-timestamped by scripts/vm/tsrun.py).
arm_shutdown() {
  mkdir -p /etc/systemd/journald.conf.d
  printf '[Journal]\nForwardToConsole=yes\nTTYPath=/dev/ttyS0\nMaxLevelConsole=info\n' >/etc/systemd/journald.conf.d/vm-test-console.conf
  systemctl restart systemd-journald
  systemctl stop hvagent.service
  printf 'SIMHOST_ARGS=%s\nSIMHOST_LOG=%s\n' "--shutdown-flags $1 --shutdown-after 5" "$2" >/run/hvagent-sim-args
  systemctl restart hvagent-sim-host.service
  systemctl start hvagent.service
  info "armed: the sim host asks for a shutdown with flags $1 5 s after start (exchange log: ${2##*/})"
}

DEB=$(ls "$HERE"/hvagent_*.deb | grep -v '~' | head -1)

case $PHASE in
main)
  info "guest: $(systemd-detect-virt), systemd $(systemctl --version | sed -n '1s/systemd \([0-9]*\).*/\1/p'), kernel $(uname -r); $(systemd-analyze time 2>/dev/null | head -1)"
  # ---- install --------------------------------------------------------------------------------
  if out=$(apt-get install -y "$DEB" 2>&1); then pass "apt-get install ./${DEB##*/}"
  else fail "apt-get install ./${DEB##*/}: $(tail -3 <<<"$out" | tr '\n' ' ')"; fi
  state="$(systemctl show -p ActiveState --value hvagent) $(systemctl show -p Result --value hvagent) $(systemctl show -p ConditionResult --value hvagent)"
  if [ "$state" = "inactive success no" ]; then
    pass "postinst start off Hyper-V: skipped by ConditionVirtualization=microsoft (guest is $(systemd-detect-virt)), not failed"
  else fail "postinst start off Hyper-V: ActiveState Result ConditionResult = $state"; fi

  # ---- agent and sim host, timesync in discipline mode ---------------------------------------
  # chronyd would fight the discipline loop: stopped until the chrony-mode check.
  systemctl stop chrony.service
  OFFSET=30.000
  install_sim_host "--host-clock-offset $OFFSET --kvp-set 0:VmTestHostKey=from-the-host --kvp-walk-on-signal --timesync-interval 1"
  write_dropin "--system-clock --timesync-mode discipline"
  check_dropin_only
  systemctl start hvagent-sim-host.service
  wait_for 10 grep -q '"event":"clock"' "$SIM_LOG"
  # Clock sampler: CLOCK_REALTIME minus the host's time every 0.2 s for 75 s (the host's time is
  # its logged start plus CLOCK_MONOTONIC_RAW, which the agent's steps and slews do not move).
  python3 - "$SIM_LOG" >/run/clock-samples.txt 2>&1 <<'PY' &
import json, re, sys, time
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "clock":
        base, raw0 = map(int, re.match(r"host time = (-?\d+) ns \+ \(CLOCK_MONOTONIC_RAW - (-?\d+) ns\)", r["detail"]).groups())
        break
end = time.clock_gettime(time.CLOCK_MONOTONIC_RAW) + 75
while time.clock_gettime(time.CLOCK_MONOTONIC_RAW) < end:
    raw = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
    real = time.clock_gettime_ns(time.CLOCK_REALTIME)
    raw2 = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
    host = base + ((raw + raw2) // 2 - raw0)
    print("%.3f %.6f" % (raw / 1e9, (real - host) / 1e9), flush=True)
    time.sleep(0.2)
PY
  sampler=$!
  sleep 1
  t_start=$(mono)
  if out=$(systemctl start hvagent.service 2>&1); then
    t_ready=$(mono)
    pass "systemctl start hvagent: active after READY=1 in $(minus "$t_ready" "$t_start") s (Type=notify); status: $(systemctl show -p StatusText --value hvagent)"
  else
    fail "systemctl start hvagent: $out $(agent_journal | tail -5 | tr '\n' ' ')"
  fi
  ready=$(agent_journal | grep -m1 'ready: ')
  if [ -n "$ready" ]; then pass "journal: READY logged ($ready)"; else fail "journal: no 'ready:' line"; fi

  # ---- every service negotiates with the host -------------------------------------------------
  wait_for 20 sh -c "grep -c '\"type\":\"negotiate\"' $SIM_LOG | grep -q 8"
  missing=""
  for s in heartbeat shutdown timesync kvp; do
    simlog | grep -q "^[0-9.]* $s reply negotiate S_OK" || missing+=" $s"
  done
  if [ -z "$missing" ]; then
    pass "sim host (second unit): every service negotiated: $(simlog | awk '$3 == "reply" && $4 == "negotiate" { printf "%s %s; ", $2, $9 }')"
  else fail "sim host: no negotiation for:$missing"; fi

  # ---- status, doctor ---------------------------------------------------------------------------
  if out=$(hvagent status --socket "$STATUS_SOCKET" --json 2>&1) &&
     summary=$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
services = s.get("services", [])
print(", ".join("%s %s %s" % (x.get("name"), "open" if x.get("open") else "closed", x.get("service_version")) for x in services))
good = {x.get("name") for x in services if x.get("open") and x.get("service_version")}
sys.exit(0 if {"heartbeat", "shutdown", "timesync", "kvp"} <= good else 1)' "$out" 2>&1); then
    pass "hvagent status --json answers: $summary"
  else fail "hvagent status: $(head -c 600 <<<"$out")"; fi
  hvagent status --socket "$STATUS_SOCKET" >/run/status.txt 2>&1; info "hvagent status: $(head -c 400 /run/status.txt | tr '\n' '|')"
  out=$(hvagent doctor 2>&1); rc=$?
  if [ -n "$out" ] && [ $rc -le 1 ] && grep -qi 'heartbeat' <<<"$out" && grep -qi 'shutdown' <<<"$out"; then
    pass "hvagent doctor answers (exit $rc off Hyper-V), with the running daemon's services: $(grep -i -m3 -E 'last|request' <<<"$out" | tr '\n' '|' | head -c 300)"
  else fail "hvagent doctor (exit $rc): $(head -c 600 <<<"$out" | tr '\n' '|')"; fi

  # ---- kvp both ways ----------------------------------------------------------------------------
  wait_for 10 simlog
  wait_for 15 sh -c "kvp get VmTestHostKey | grep -qx from-the-host"
  got=$(kvp get VmTestHostKey 2>&1)
  if [ "$got" = from-the-host ]; then pass "kvp get reads the key the host set: VmTestHostKey = $got (pool $(kvp dump --pool external 2>/dev/null | awk -F'\t' '$3 == "VmTestHostKey" { print $1 }'))"
  else fail "kvp get VmTestHostKey: '$got'"; fi
  if kvp set --pool guest VmTestGuestKey from-the-guest >/dev/null 2>&1; then
    systemctl kill -s USR1 hvagent-sim-host.service
    if wait_for 15 sh -c "grep -q 'VmTestGuestKey = from-the-guest' $SIM_LOG"; then
      pass "the host reads the key kvp set: $(simlog | grep -m1 'VmTestGuestKey' | cut -d' ' -f6-)"
    else fail "the host did not read VmTestGuestKey (walk: $(simlog | grep -c ENUMERATE) ENUMERATE records)"; fi
  else fail "kvp set --pool guest VmTestGuestKey: $(kvp set --pool guest VmTestGuestKey from-the-guest 2>&1)"; fi

  # ---- reload, watchdog -------------------------------------------------------------------------
  printf '\n# vm-test: reload check\n[heartbeat]\nhealth_command = /bin/true\n' >>/etc/hvagent/hvagent.conf
  since=$(date '+%Y-%m-%d %H:%M:%S')
  pid_before=$(systemctl show -p MainPID --value hvagent)
  if out=$(systemctl reload hvagent.service 2>&1) && wait_for 10 sh -c "journalctl -u hvagent -o cat -b | grep -q 'SIGHUP: .*applied heartbeat.health_command'"; then
    pass "systemctl reload applies a change: $(agent_journal | grep -m1 'SIGHUP:'); same PID $pid_before -> $(systemctl show -p MainPID --value hvagent), $(systemctl is-active hvagent)"
  else fail "systemctl reload: $out $(agent_journal | grep SIGHUP | tail -2 | tr '\n' ' ')"; fi
  # ---- journal priorities -----------------------------------------------------------------------
  prios=$(journalctl -b -u hvagent.service -o json --no-pager | python3 -c '
import json, sys, collections
c = collections.Counter()
for l in sys.stdin:
    r = json.loads(l)
    if r.get("SYSLOG_IDENTIFIER") == "hvagent" or r.get("_COMM") == "hvagent": c[r.get("PRIORITY")] += 1
names = {"0":"emerg","1":"alert","2":"crit","3":"err","4":"warning","5":"notice","6":"info","7":"debug"}
print(" ".join("%s=%d" % (names.get(k, k), v) for k, v in sorted(c.items())))')
  ready_prio=$(journalctl -b -u hvagent.service -o json --no-pager | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if "ready: " in str(r.get("MESSAGE")): print(r.get("PRIORITY")); break')
  if [ "$ready_prio" = 5 ] && grep -q 'info=' <<<"$prios"; then
    pass "journal priorities: $prios (the READY line at notice)"
  else fail "journal priorities: $prios; READY line priority '$ready_prio' (want 5)"; fi

  # ---- timesync, discipline mode: the VM's real clock --------------------------------------------
  wait "$sampler"
  result=$(python3 - "$t_start" "$OFFSET" /run/clock-samples.txt <<'PY'
import sys
t0, offset = float(sys.argv[1]), float(sys.argv[2])
samples = [tuple(map(float, l.split())) for l in open(sys.argv[3]) if len(l.split()) == 2]
before = [e for t, e in samples if t < t0]
after = [(t, e) for t, e in samples if t >= t0]
BOUND, HOLD = 0.005, 10.0   # |error| below 5 ms and staying there for 10 s
converged = None
for i, (t, e) in enumerate(after):
    window = [x for x in after[i:] if x[0] <= t + HOLD]
    if after[-1][0] >= t + HOLD and all(abs(x[1]) < BOUND for x in window):
        converged = t; break
last = [abs(e) for t, e in after if t >= after[-1][0] - 10]
print("ok" if converged is not None and before and abs(abs(before[-1]) - offset) < 1 else "bad",
      "initial error %+.3f s (host offset +%.3f s), |error| < %.0f ms for %.0f s from %s after start, residual (last 10 s) max %.3f ms mean %.3f ms, %d samples"
      % (before[-1] if before else float("nan"), offset, BOUND * 1e3, HOLD,
         "%.1f s" % (converged - t0) if converged else "never", max(last) * 1e3, sum(last) / len(last) * 1e3, len(samples)))
PY
)
  steps=$(agent_journal | grep -c 'timesync:.*step')
  slews=$(agent_journal | grep -c 'timesync:.*slew')
  if [[ $result == ok* ]] && [ "$steps" -ge 1 ] && [ "$slews" -ge 1 ]; then
    pass "timesync discipline moves CLOCK_REALTIME: ${result#ok } ($steps step, $slews slew samples; first step: $(agent_journal | grep -m1 'timesync:.*step' | sed 's/^ *[0-9.]*s *//'))"
  else fail "timesync discipline: ${result#* } ($steps steps, $slews slews)"; tail -3 /run/clock-samples.txt; fi

  # ---- watchdog: WATCHDOG=1 arrives every WatchdogSec/2 (wait for one past the start) ------------
  wd_us=$(systemctl show -p WatchdogUSec --value hvagent)
  if [ -n "$wd_us" ] && [ "$wd_us" != 0 ] && [ "$wd_us" != infinity ]; then
    w0=$(systemctl show -p ExecMainStartTimestampMonotonic --value hvagent)
    # systemd resets the watchdog timestamp at READY=1 too: only a time past half the interval
    # (less 5 s of slack) proves a WATCHDOG=1 from the agent's timer.
    half=$(python3 -c '
import re, sys
units = {"us": 1, "ms": 1e3, "s": 1e6, "min": 6e7, "h": 3.6e9}
print(int(sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)([a-z]+)", sys.argv[1])) / 2))' "$wd_us")
    want=$((w0 + half - 5000000))
    wait_for 240 sh -c "[ \$(systemctl show -p WatchdogTimestampMonotonic --value hvagent) -gt $want ]"
    w1=$(systemctl show -p WatchdogTimestampMonotonic --value hvagent)
    if [ "${w1:-0}" -gt "$want" ] && [ "$(systemctl is-active hvagent)" = active ]; then
      pass "watchdog: WatchdogSec=$wd_us, WATCHDOG=1 received $(( (w1 - w0) / 1000000 )) s after the agent started (pings every WatchdogSec/2), still active"
    else fail "watchdog: WatchdogSec=$wd_us but no WATCHDOG=1 within 240 s (start $w0, last $w1)"; fi
  else
    fail "watchdog: the unit sets no WatchdogSec (WatchdogUSec=$wd_us), so systemd never asks the agent to ping"
  fi

  # ---- timesync, chrony mode: chronyd selects the SOCK refclock -----------------------------------
  sed -i 's|^#refclock SOCK /run/chrony.hvagent.sock|refclock SOCK /run/chrony.hvagent.sock|' /etc/chrony/conf.d/hvagent.conf
  info "chrony drop-in line in use: $(grep '^refclock' /etc/chrony/conf.d/hvagent.conf)"
  systemctl start chrony.service
  write_dropin "--timesync-mode chrony"
  systemctl restart hvagent.service
  t_chrony=$SECONDS
  if wait_for 200 sh -c "chronyc -n sources | grep -q '^#\* *HYPV'"; then
    pass "timesync chrony mode: chronyd selected hvagent's SOCK refclock after $((SECONDS - t_chrony)) s: $(chronyc -n sources | grep HYPV | tr -s ' ')"
  else fail "timesync chrony mode: HYPV not selected after 200 s: $(chronyc -n sources 2>&1 | tail -2 | tr '\n' '|') $(agent_journal | grep -i chrony | tail -2 | tr '\n' '|')"; fi
  info "chronyc tracking: $(chronyc tracking 2>/dev/null | grep -E 'Reference ID|System time' | tr -s ' ' | tr '\n' '|')"

  # ---- stop, then the whole boot's journal for sandbox denials -----------------------------------
  restarts=$(systemctl show -p NRestarts --value hvagent)
  if [ "$restarts" = 0 ]; then pass "the agent ran through every check without a restart (NRestarts=0)"
  else fail "the agent was restarted $restarts times by systemd: $(agent_journal | grep -iE 'error|fatal|crash|main process exited|watchdog' | head -5 | tr '\n' '|')"; fi
  t0=$(mono)
  systemctl stop hvagent.service
  t1=$(mono)
  st=$(systemctl show -p Result -p ExecMainCode -p ExecMainStatus --value hvagent | tr '\n' ' ')
  if [ "$st" = "success 1 0 " ] && agent_journal | grep -q 'stopping'; then
    pass "systemctl stop is clean: $(minus "$t1" "$t0") s, Result=success, exit status 0 ($(agent_journal | grep -m1 'stopping'))"
  else fail "systemctl stop: Result ExecMainCode ExecMainStatus = $st"; fi
  denials=$(journalctl -b -o short-monotonic --no-pager _COMM=hvagent + _SYSTEMD_UNIT=hvagent.service + SYSLOG_IDENTIFIER=hvagent |
            grep -Ei 'EPERM|EROFS|EACCES|Operation not permitted|Read-only file system|Permission denied|seccomp|errno[ =:]*(1|13|30)\b')
  audit=$(journalctl -k -b --no-pager | grep -Ei 'audit.*(seccomp|denied).*hvagent')
  if [ -z "$denials$audit" ]; then
    pass "no sandbox denial in the journal ($(journalctl -b --no-pager _SYSTEMD_UNIT=hvagent.service | wc -l) hvagent lines scanned for EPERM/EROFS/EACCES/seccomp, and the kernel log)"
  else fail "sandbox denials: $(head -5 <<<"$denials$audit" | tr '\n' '|')"; fi

  # ---- services not landed yet ------------------------------------------------------------------
  pending "vss-freeze-thaw: waiting for issue 12 (VSS: freeze and thaw the VM's real ext4/xfs filesystems)"
  pending "file-copy: waiting for issue 13 (file copy lands a file with the right name, bytes and mode)"
  pending "set-ip-info: waiting for issue 15 (SET_IP_INFO applied by the VM's real networkd)"

  # ---- last: a host power-off request (checked from outside by scripts/vm-test.sh) ---------------
  write_dropin "--system-clock --timesync-mode discipline"
  systemctl stop chrony.service
  arm_shutdown 0 /mnt/job/files/simhost-poweroff.jsonl
  journalctl -b -o short-monotonic --no-pager -u hvagent -u hvagent-sim-host -u chrony >/mnt/job/files/journal-main.txt 2>&1
  info "guest checks done: $failures failed"
  touch /mnt/job/keep-running
  ;;

lifecycle)
  OLD=$(ls "$HERE"/hvagent_*~*.deb | head -1)
  install_sim_host "--kvp-walk-on-signal"
  write_dropin "--system-clock --timesync-mode discipline"
  systemctl stop chrony.service
  # ---- install over an older build ----------------------------------------------------------------
  apt-get install -y "$OLD" >/run/apt.log 2>&1 || fail "apt-get install ./${OLD##*/}: $(tail -3 /run/apt.log | tr '\n' ' ')"
  kvp set --pool guest VmTestLifeKey kept-across-upgrades >/dev/null
  printf '\n# vm-test: local edit\n[timesync]\nstep_threshold_seconds = 7\n' >>/etc/hvagent/hvagent.conf
  old_pid=$(systemctl show -p MainPID --value hvagent)
  if apt-get install -y "$DEB" >/run/apt.log 2>&1 </dev/null; then
    v=$(dpkg-query -W -f='${Version}' hvagent)
    if grep -q 'step_threshold_seconds = 7' /etc/hvagent/hvagent.conf && [ "$(kvp get VmTestLifeKey 2>&1)" = kept-across-upgrades ] &&
       [ "$v" = "$(dpkg-deb -f "$DEB" Version)" ]; then
      pass "upgrade $(dpkg-deb -f "$OLD" Version) -> $v: the hvagent.conf edit and the pools are kept; agent restarted (PID $old_pid -> $(systemctl show -p MainPID --value hvagent), $(systemctl is-active hvagent))"
    else fail "upgrade: version $v, conf edit $(grep -c 'step_threshold_seconds = 7' /etc/hvagent/hvagent.conf), pool key '$(kvp get VmTestLifeKey 2>&1)'"; fi
  else fail "upgrade: $(tail -5 /run/apt.log | tr '\n' ' ')"; fi
  # ---- remove keeps pools and configuration, purge removes the configuration ----------------------
  if apt-get remove -y hvagent >/run/apt.log 2>&1; then
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' hvagent 2>&1)
    if [ "${st:0:2}" = rc ] && grep -q 'step_threshold_seconds = 7' /etc/hvagent/hvagent.conf && [ -s /var/lib/hyperv/.kvp_pool_1 ] &&
       grep -q VmTestLifeKey /var/lib/hyperv/.kvp_pool_1 && [ ! -e /usr/sbin/hvagent ]; then
      pass "apt-get remove: binaries gone, state '$st', /etc/hvagent/hvagent.conf (with the edit) and the pools kept; unit $(systemctl is-enabled hvagent 2>&1)"
    else fail "apt-get remove: state '$st', conf $(ls /etc/hvagent 2>&1), pools $(ls -a /var/lib/hyperv | tr '\n' ' ')"; fi
  else fail "apt-get remove: $(tail -3 /run/apt.log | tr '\n' ' ')"; fi
  if apt-get purge -y hvagent >/run/apt.log 2>&1; then
    st=$(dpkg-query -W -f='${db:Status-Abbrev}' hvagent 2>/dev/null)
    if [ ! -e /etc/hvagent/hvagent.conf ] && [ ! -e /etc/chrony/conf.d/hvagent.conf ] && [ -z "${st// /}" -o "${st:0:2}" = un -o "${st:0:2}" = pn ]; then
      pass "apt-get purge: /etc/hvagent/hvagent.conf and the chrony drop-in removed; pools $( [ -e /var/lib/hyperv/.kvp_pool_1 ] && echo kept in /var/lib/hyperv || echo removed)"
    else fail "apt-get purge: state '$st', $(ls /etc/hvagent /etc/chrony/conf.d 2>&1 | tr '\n' ' ')"; fi
  else fail "apt-get purge: $(tail -3 /run/apt.log | tr '\n' ' ')"; fi
  # ---- hyperv-daemons beside it ---------------------------------------------------------------------
  HVD=$(ls "$HERE"/hyperv-daemons_*.deb | head -1)
  apt-get install -y "$DEB" >/run/apt.log 2>&1 || fail "reinstall: $(tail -3 /run/apt.log | tr '\n' ' ')"
  systemctl restart hvagent.service
  if apt-get install -y "$HVD" >/run/apt.log 2>&1; then
    a1=$(systemctl is-active hvagent)
    systemctl start --no-block hv-kvp-daemon.service; sleep 3
    a2=$(systemctl is-active hvagent); k2=$(systemctl show -p ActiveState -p ConditionResult --value hv-kvp-daemon | tr '\n' ' ')
    systemctl start hvagent.service
    a3=$(systemctl is-active hvagent); k3=$(systemctl is-active hv-kvp-daemon)
    info "hyperv-daemons $(dpkg-query -W -f='${Version}' hyperv-daemons) installed beside hvagent: hvagent $a1; start hv-kvp-daemon -> hvagent $a2, hv-kvp-daemon $k2; start hvagent -> hvagent $a3, hv-kvp-daemon $k3; hv-kvp-daemon enabled: $(systemctl is-enabled hv-kvp-daemon 2>&1)"
    if [ "$a1" = active ] && [ "$a2" = inactive ] && [ "$a3" = active ] && [ "$k3" != active ] &&
       [ "$(dpkg-query -W -f='${db:Status-Abbrev}\n' hvagent hyperv-daemons | grep -c '^ii')" = 2 ]; then
      pass "hyperv-daemons beside hvagent: both install (no package conflict); starting hv-kvp-daemon.service stops hvagent (the unit's Conflicts=, only one may open /dev/vmbus/hv_kvp), starting hvagent again works; hv-kvp-daemon itself never runs here (no /dev/vmbus/hv_kvp in a QEMU guest), so hvagent stopping it is not shown"
    else fail "hyperv-daemons beside hvagent: hvagent $a1/$a2/$a3, hv-kvp-daemon $k2/$k3"; fi
    # As packaging/README.md tells users: disable the other KVP daemon (if both were enabled,
    # systemd would drop one of the two conflicting start jobs at boot).
    systemctl disable hv-kvp-daemon.service 2>/dev/null
  else fail "apt-get install ./${HVD##*/}: $(tail -3 /run/apt.log | tr '\n' ' ')"; fi
  # ---- last: a host restart request (checked from outside by scripts/vm-test.sh) ------------------
  journalctl -b -o short-monotonic --no-pager -u hvagent -u hvagent-sim-host -u hv-kvp-daemon >/mnt/job/files/journal-lifecycle.txt 2>&1
  arm_shutdown 2 /mnt/job/files/simhost-reboot.jsonl
  info "guest checks done: $failures failed"
  touch /mnt/job/keep-running
  ;;

after-reboot)
  info "second boot: $(systemd-analyze time 2>/dev/null | head -1)"
  wait_for 30 sh -c "[ \$(grep -c '\"type\":\"negotiate\"' $SIM_LOG) -ge 8 ]"
  missing=""
  for s in heartbeat shutdown timesync kvp; do simlog | grep -q "^[0-9.]* $s reply negotiate S_OK" || missing+=" $s"; done
  if [ -z "$missing" ] && [ "$(systemctl is-active hvagent)" = active ]; then
    pass "after the reboot: hvagent started at boot (enabled) and every service negotiated again: $(simlog | awk '$3 == "reply" && $4 == "negotiate" { printf "%s %s; ", $2, $9 }')"
  else fail "after the reboot: hvagent $(systemctl is-active hvagent), no negotiation for:$missing $(journalctl -b -u hvagent -o cat | tail -3 | tr '\n' '|')"; fi
  cp "$SIM_LOG" /mnt/job/files/simhost-after-reboot.jsonl
  journalctl -b -o short-monotonic --no-pager -u hvagent -u hvagent-sim-host >/mnt/job/files/journal-after-reboot.txt 2>&1
  info "guest checks done: $failures failed"
  ;;
esac
exit $((failures > 0))
