#!/bin/bash
# scripts/vm/guest-checks.sh PHASE: the checks scripts/vm-test.sh runs inside the test VM (as root,
# systemd as PID 1, cwd = the job folder holding the .debs). Prints PASS/FAIL/PENDING/INFO lines;
# scripts/vm-test.sh counts them. Phases (one per boot):
#   main        install the .deb; the shipped unit with the test drop-in against the simulated
#               host (a second unit); READY, watchdog, reload, status, doctor, kvp, journal,
#               timesync (discipline, then chrony), stop, sandbox denials; pending services;
#               SET_IP_INFO through systemd-networkd; then arms a host power-off request and leaves the VM running (the agent powers
#               it off; scripts/vm-test.sh checks that from outside).
#   lifecycle   upgrade over an older build, remove, purge, hyperv-daemons beside it; SET_IP_INFO
#               through NetworkManager; then arms a host restart request (the agent reboots the VM).
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
# on, SET_IP_INFO handed to the IP helper as installed) and the Unit section's virtualization condition and ordering on the sim host; sandbox,
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
ExecStart=/usr/sbin/hvagent run --sim-socket $SIM_SOCKET --status-socket $STATUS_SOCKET --kvp-pool-dir /var/lib/hyperv --act-on-shutdown --ip-helper-socket /run/hvagent/ip.sock $1
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

# ---- SET_IP_INFO through the VM's network manager ------------------------------------------------
# The guest's one NIC (scripts/vm/run-in-vm.sh: virtio-net, nothing else on its QEMU hub). The agent
# hands a SET_IP_INFO to the IP helper (hvagent-ip.service, socket-activated, as installed), which
# finds the adapter by /sys/class/net/<if>/device/device_id == the VMBus instance GUID; virtio has
# no such file, so a test drop-in gives the helper's unit (only it) a private /sys/class/net: a
# copy of each interface's address and ifindex, plus that file for the NIC.
NIC_MAC=52:54:00:12:34:56
# ip_injection runs with `[kvp] ip_injection = networkd` in the main VM and `networkmanager` in
# the lifecycle VM, each with that manager managing the NIC (a value the installed build does not
# know is a PENDING line). `netlink` (no manager) works with this harness but not under the
# shipped unit, which withholds CAP_NET_ADMIN: every change is refused with EPERM.
NIC_GUID='{f8615163-df3e-46c5-913f-f2d2f965ed0e}'
# The other port of the NIC's QEMU hub (run-in-vm.sh): in a network namespace of its own, it is
# a second machine on that network that already holds 2001:db8::20.
PEER_MAC=52:54:00:12:34:ee
IPDIR=/run/vmtest-ip
IP_DROPIN=/etc/systemd/system/hvagent-ip.service.d/vm-test-ip.conf
nic_name() { local d; for d in /sys/class/net/*; do [ "$(cat "$d/address" 2>/dev/null)" = "$NIC_MAC" ] && { echo "${d##*/}"; return 0; }; done; return 1; }
# ip_host STEP...: the sim host runs these --ip-script steps now (SIGUSR2); waits for their outcomes.
ip_host() {
  local before; before=$(wc -l <"$IPDIR/results.jsonl")
  printf '%s\n' "$@" >"$IPDIR/steps.jsonl"
  systemctl kill -s USR2 hvagent-sim-host.service
  wait_for 90 sh -c "[ \$(wc -l <$IPDIR/results.jsonl) -ge $((before + $#)) ]"
}
# ip_outcome LABEL [FIELD]: the last outcome with that label (FIELD of it, or of the GET_IP_INFO
# reply it holds; or the whole line).
ip_outcome() { python3 - "$IPDIR/results.jsonl" "$@" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("label") == sys.argv[2]: last = r
if last is None: sys.exit(1)
if len(sys.argv) > 3: print(last.get(sys.argv[3], (last.get("reply") or {}).get(sys.argv[3], "")))
else: print(json.dumps(last, sort_keys=True))
PY
}
# kernel_view IF: the interface's global addresses and default gateways, sorted, as netlink shows them.
kernel_view() { { ip -j addr show dev "$1"; echo; ip -j -4 route show default dev "$1"; echo; ip -j -6 route show default dev "$1"; } | python3 -c '
import json, sys
a, r4, r6 = [json.loads(p) if p.strip() else [] for p in sys.stdin.read().split("\n\n")]
addrs = sorted("%s/%d%s" % (x["local"], x["prefixlen"], "(dadfailed)" if x.get("dadfailed") else "")
               for i in a for x in i.get("addr_info", []) if x.get("scope") == "global")
gws = sorted(r["gateway"] for r in r4 + r6 if "gateway" in r)
print("addresses %s; gateways %s" % (" ".join(addrs) or "-", " ".join(gws) or "-"))'; }
kernel_is() { [ "$(kernel_view "$1")" = "$2" ]; }
# kernel_watch IF WANT SECONDS: until the kernel shows WANT; prints each distinct view on the way
# with the seconds since the call ("0s: view | 1s: view"); fails if WANT never came.
kernel_watch() {
  local start=$SECONDS last="" v trail=""
  while :; do
    v=$(kernel_view "$1")
    [ "$v" != "$last" ] && { trail+="${trail:+ | }$((SECONDS - start))s: $v"; last=$v; }
    [ "$v" = "$2" ] && { echo "$trail"; return 0; }
    [ $((SECONDS - start)) -ge "$3" ] && { echo "$trail"; return 1; }
    sleep 0.3
  done
}
# manager_view MANAGER IF: what the manager itself says it configured on IF (one line).
manager_view() {
  local f
  case $1 in
  networkmanager)
    for f in GENERAL.CONNECTION IP4.ADDRESS IP6.ADDRESS IP4.GATEWAY IP6.GATEWAY IP4.DNS IP6.DNS; do
      printf '%s %s; ' "$f" "$(nmcli -g "$f" dev show "$2" 2>&1 | sed 's/\\//g; s/ | /,/g' | paste -sd,)"
    done ;;
  networkd)
    # networkctl prints addresses without their prefix length.
    networkctl status --no-pager "$2" 2>&1 | python3 -c '
import re, sys
key, vals = None, {}
for line in sys.stdin.read().splitlines():
    m = re.match(r"\s*([A-Z][A-Za-z ]*):\s*(.*)", line)
    if m: key = m.group(1).strip(); vals.setdefault(key, []).append(m.group(2).strip())
    elif key and line.strip(): vals[key].append(line.strip())
g = lambda k: ",".join(vals.get(k, [])) or "-"
print("state %s; network file %s; addresses %s; gateways %s; dns %s" % (g("State"), g("Network File"), g("Address"), g("Gateway"), g("DNS")))' ;;
  *) echo "no manager" ;;
  esac
}
# manager_has MANAGER IF ITEM...: every address (with /prefix; networkd shows none), gateway
# or DNS server is in the manager's view; for netlink there is no manager to ask. (networkd's
# own state may stay "configuring": with no router on the hub, IPv6 autoconfiguration never ends.)
manager_has() {
  local m=$1 ifn=$2 v w; shift 2
  [ "$m" = netlink ] && return 0
  v=$(manager_view "$m" "$ifn")
  for w in "$@"; do [ "$m" = networkd ] && w=${w%/*}; grep -qFw -- "$w" <<<"$v" || return 1; done
}
manager_lacks() {
  local m=$1 ifn=$2 v w; shift 2
  [ "$m" = netlink ] && return 0
  v=$(manager_view "$m" "$ifn")
  for w in "$@"; do [ "$m" = networkd ] && w=${w%/*}; grep -qFw -- "$w" <<<"$v" && return 1; done
  return 0
}
# ip_baseline MANAGER IF: the manager under test running and managing IF with a static
# configuration of its own (198.51.100.5/24, 2001:db8:1::5/64), before the host says anything.
ip_baseline() {
  case $1 in
  networkmanager)
    mkdir -p /etc/NetworkManager/conf.d
    printf '[main]\nno-auto-default=*\n' >/etc/NetworkManager/conf.d/vm-test.conf
    systemctl start NetworkManager.service
    wait_for 30 sh -c "nmcli -t -f RUNNING general | grep -q running" &&
    nmcli con add type ethernet ifname "$2" con-name vmtest-previous ipv4.method manual ipv4.addresses 198.51.100.5/24 \
      ipv6.method manual ipv6.addresses 2001:db8:1::5/64 >/dev/null &&
    nmcli con up vmtest-previous >/dev/null ;;
  networkd)
    mkdir -p /etc/systemd/network
    printf '[Match]\nMACAddress=%s\n\n[Network]\nAddress=198.51.100.5/24\nAddress=2001:db8:1::5/64\n' "$NIC_MAC" >/etc/systemd/network/50-vmtest-previous.network
    systemctl start systemd-networkd.service ;;
  netlink)
    ip link set "$2" up && ip addr add 198.51.100.5/24 dev "$2" && ip addr add 2001:db8:1::5/64 dev "$2" ;;
  esac
}
ip_teardown() {
  case $1 in
  networkmanager)
    nmcli -t -f UUID con show 2>/dev/null | xargs -r nmcli con delete >/dev/null 2>&1
    systemctl stop NetworkManager.service; rm -f /etc/NetworkManager/conf.d/vm-test.conf ;;
  networkd)
    systemctl stop systemd-networkd.service systemd-networkd.socket
    grep -l -i -r "$NIC_MAC\|$2" /etc/systemd/network /run/systemd/network 2>/dev/null | xargs -r rm -f ;;
  esac
  ip addr flush dev "$2" scope global; ip route flush dev "$2"
}
# hub_peer: the hub's other NIC in namespace "hubpeer", holding 2001:db8::20 (valid at once: nodad).
hub_peer() {
  local d p=""
  ip netns pids hubpeer >/dev/null 2>&1 && ip -n hubpeer -6 addr show | grep -q 2001:db8::20 && return 0
  for d in /sys/class/net/*; do [ "$(cat "$d/address" 2>/dev/null)" = "$PEER_MAC" ] && p=${d##*/}; done
  [ -n "$p" ] || return 1
  ip netns add hubpeer && ip link set "$p" netns hubpeer && ip -n hubpeer link set "$p" up &&
    ip -n hubpeer addr add 2001:db8::20/64 dev "$p" nodad
}
# ip_injection MANAGER: `[kvp] ip_injection = MANAGER` (one config line), the manager running
# and managing the NIC; the host SETs static IPv4 + IPv6 with gateways and DNS, reads it back,
# then sends requests that must fail without changing anything.
ip_injection() {
  local m=$1 ifn t0 v out r want want_gw since marks=""
  if ! out=$(hvagent config --file /dev/null --set "kvp.ip_injection=$m" 2>&1 >/dev/null); then
    pending "set-ip-info ($m): waiting for that backend (issue 15): $out"; return
  fi
  ifn=$(nic_name) || { fail "set-ip-info ($m): no NIC with MAC $NIC_MAC: $(ip -br link | tr '\n' '|')"; return; }
  since=$(date '+%Y-%m-%d %H:%M:%S')
  t0=$SECONDS
  hub_peer || fail "set-ip-info ($m): no second machine on the hub: $(ip -br link | tr '\n' '|')"
  if ! out=$(ip_baseline "$m" "$ifn" 2>&1) || ! wait_for 30 sh -c "ip -j addr show dev $ifn | grep -q 198.51.100.5" ||
     ! wait_for 15 manager_has "$m" "$ifn" 198.51.100.5; then
    fail "set-ip-info ($m): the previous configuration did not come up: $out; kernel: $(kernel_view "$ifn"); manager: $(manager_view "$m" "$ifn")"
    ip_teardown "$m" "$ifn"; return
  fi
  marks+="manager up at $((SECONDS - t0)) s, "
  info "set-ip-info ($m): $ifn managed, previous configuration: kernel: $(kernel_view "$ifn"); manager: $(manager_view "$m" "$ifn")"

  # The agent: one config line, the private sysfs view, the sim host with the IP script.
  systemctl stop hvagent.service
  cp /etc/hvagent/hvagent.conf "$IPDIR.conf-before"
  printf '\n# vm-test: SET_IP_INFO through %s\n[kvp]\nip_injection = %s\nip_verify_timeout_seconds = 8\n' "$m" "$m" >>/etc/hvagent/hvagent.conf
  rm -rf /run/vmtest-sysnet "$IPDIR"; mkdir -p /run/vmtest-sysnet "$IPDIR"
  for d in /sys/class/net/*; do mkdir -p "/run/vmtest-sysnet/${d##*/}"; cp "$d/address" "$d/ifindex" "/run/vmtest-sysnet/${d##*/}/"; done
  mkdir -p "/run/vmtest-sysnet/$ifn/device"; echo "$NIC_GUID" >"/run/vmtest-sysnet/$ifn/device/device_id"
  mkdir -p "${IP_DROPIN%/*}"
  printf '[Service]\nBindReadOnlyPaths=/run/vmtest-sysnet:/sys/class/net\n' >"$IP_DROPIN"
  systemctl daemon-reload
  local mac_up=${NIC_MAC^^}
  printf '{"label": "previous", "get": "%s"}\n' "$mac_up" >"$IPDIR/steps.jsonl"
  : >"$IPDIR/results.jsonl"
  printf 'SIMHOST_ARGS=%s\n' "--kvp-walk-on-signal --ip-script $IPDIR/steps.jsonl --ip-results $IPDIR/results.jsonl" >/run/hvagent-sim-args
  systemctl restart hvagent-sim-host.service
  systemctl start hvagent.service
  if ! wait_for 30 ip_outcome previous; then
    fail "set-ip-info ($m): the sim host's first GET_IP_INFO got no outcome: $(cat "$IPDIR/results.jsonl" | tail -2) $(agent_journal | tail -3 | tr '\n' '|')"
  fi
  marks+="agent negotiated at $((SECONDS - t0)) s, "
  # ---- static IPv4 + IPv6, gateways, DNS ----------------------------------------------------------
  ip_host "{\"label\": \"static\", \"set\": {\"adapter\": \"$NIC_GUID\", \"addresses\": \"192.0.2.10;2001:db8::10\", \"subnets\": \"255.255.255.0;64\", \"gateways\": \"192.0.2.1;2001:db8::1\", \"dns\": \"192.0.2.53;2001:db8::53\"}}" \
          "{\"label\": \"readback\", \"get\": \"$mac_up\"}"
  want="addresses 192.0.2.10/24 2001:db8::10/64; gateways 192.0.2.1 2001:db8::1"
  r=$(ip_outcome static status)
  # The helper, started by the agent's first request, still runs (it exits after 30 s idle).
  local pid view_ok dropins
  pid=$(systemctl show -p MainPID --value hvagent-ip.service)
  view_ok=$([ "${pid:-0}" != 0 ] && nsenter -t "$pid" -m cat "/sys/class/net/$ifn/device/device_id" 2>&1)
  dropins="$(ls /etc/systemd/system/hvagent.service.d/ | tr '\n' ' ')/ $(ls /etc/systemd/system/hvagent-ip.service.d/ | tr '\n' ' ')"
  if [ "$view_ok" = "$NIC_GUID" ] && [ "$(grep -v '^\[Service\]$' "$IP_DROPIN")" = "BindReadOnlyPaths=/run/vmtest-sysnet:/sys/class/net" ] &&
     [ "$dropins" = "vm-test.conf / vm-test-ip.conf " ] && grep -q -- '--ip-helper-socket /run/hvagent/ip.sock' "$DROPIN"; then
    pass "set-ip-info ($m): the agent handed the request to the IP helper (hvagent-ip.service, PID $pid, shipped unit plus one drop-in that only binds a private /sys/class/net, where $ifn/device/device_id = $view_ok); GET_IP_INFO before: $(ip_outcome previous status) $(ip_outcome previous addresses)"
  else fail "set-ip-info ($m): the IP helper: PID '$pid', sysfs view '$view_ok', drop-ins $dropins: $(cat "$IP_DROPIN" | tr '\n' ' ')"; fi
  wait_for 5 kernel_is "$ifn" "$want"
  v=$(kernel_view "$ifn")
  if [ "$r" = HV_S_OK ] && [ "$v" = "$want" ] && manager_has "$m" "$ifn" 192.0.2.10/24 2001:db8::10/64 192.0.2.1 2001:db8::1 192.0.2.53 &&
     manager_lacks "$m" "$ifn" 198.51.100.5/24; then
    pass "set-ip-info ($m): host SET static IPv4+IPv6 -> $r in $(ip_outcome static seconds | cut -c1-5) s; kernel: $v (exactly); manager: $(manager_view "$m" "$ifn"); agent: $(agent_journal --since "$since" | grep -m1 'SET_IP_INFO applied' | cut -c1-200)"
  else fail "set-ip-info ($m): host SET static -> $r; kernel: $v (want $want); manager: $(manager_view "$m" "$ifn"); agent: $(agent_journal --since "$since" | grep 'SET_IP_INFO' | tail -2 | tr '\n' '|')"; fi
  local ga gg
  ga=$(ip_outcome readback addresses); gg=$(ip_outcome readback gateways)
  if [ "$(ip_outcome readback status)" = HV_S_OK ] && grep -qw 192.0.2.10 <<<"${ga//;/ }" && grep -qw 2001:db8::10 <<<"${ga//;/ }" &&
     ! grep -qw 198.51.100.5 <<<"${ga//;/ }" && grep -qw 192.0.2.1 <<<"${gg//;/ }" && grep -qw 2001:db8::1 <<<"${gg//;/ }"; then
    pass "set-ip-info ($m): host GET_IP_INFO reads it back: addresses $ga, subnets $(ip_outcome readback subnets), gateways $gg, dns '$(ip_outcome readback dns)', dhcp $(ip_outcome readback dhcp)"
  else fail "set-ip-info ($m): GET_IP_INFO after SET: $(ip_outcome readback)"; fi

  marks+="SET and GET checked at $((SECONDS - t0)) s, "
  # ---- forced failure: an IPv6 address another machine on the link already holds -----------------
  # The backend applies it, the kernel's duplicate address detection fails it (dadfailed: never
  # usable), the 8 s verification ends: HV_E_FAIL, and the configuration of the successful SET
  # must be back, in the kernel and in the manager.
  ip_host "{\"label\": \"duplicate address\", \"set\": {\"adapter\": \"$NIC_GUID\", \"addresses\": \"192.0.2.10;2001:db8::20\", \"subnets\": \"255.255.255.0;64\", \"gateways\": \"192.0.2.1;2001:db8::1\"}}"
  local trail
  trail=$(kernel_watch "$ifn" "$want" 60)
  r=$(ip_outcome "duplicate address" status)
  v=$(kernel_view "$ifn")
  wait_for 10 manager_has "$m" "$ifn" 192.0.2.10/24 2001:db8::10/64 192.0.2.1 2001:db8::1
  if [ "$r" = HV_E_FAIL ] && [ "$v" = "$want" ] && manager_has "$m" "$ifn" 192.0.2.10/24 2001:db8::10/64 192.0.2.1 2001:db8::1 &&
     manager_lacks "$m" "$ifn" 2001:db8::20/64; then
    pass "set-ip-info ($m): forced failure (2001:db8::20, which another machine on the link holds: DAD fails) -> $r after $(ip_outcome "duplicate address" seconds | cut -c1-5) s, previous configuration back: $v (kernel from the reply on: $trail); manager: $(manager_view "$m" "$ifn"); agent: $(agent_journal --since "$since" | grep -m1 'SET_IP_INFO for .* answered HV_E_FAIL' | cut -c1-300)"
  else fail "set-ip-info ($m): forced failure -> $r; kernel: $v (want $want; from the reply on: $trail); manager: $(manager_view "$m" "$ifn"); agent: $(agent_journal --since "$since" | grep 'SET_IP_INFO' | tail -2 | tr '\n' '|')"; fi

  marks+="forced failure checked at $((SECONDS - t0)) s, "
  # ---- requests answered at once, changing nothing ---------------------------------------------------
  ip_host "{\"label\": \"unknown adapter\", \"set\": {\"adapter\": \"{00000000-0000-0000-0000-00000000abcd}\", \"addresses\": \"192.0.2.30\", \"subnets\": \"255.255.255.0\"}}" \
          "{\"label\": \"bad token\", \"set\": {\"adapter\": \"$NIC_GUID\", \"addresses\": \"192.0.2.300\", \"subnets\": \"255.255.255.0\"}}" \
          "{\"label\": \"after\", \"get\": \"$mac_up\"}"
  v=$(kernel_view "$ifn")
  if [ "$(ip_outcome "unknown adapter" status)" = HV_GUID_NOTFOUND ] && [ "$(ip_outcome "bad token" status)" = HV_INVALIDARG ] &&
     [ "$v" = "$want" ] && [ "$(ip_outcome after addresses)" = "$ga" ]; then
    pass "set-ip-info ($m): unknown adapter GUID -> HV_GUID_NOTFOUND, bad token 192.0.2.300 -> HV_INVALIDARG, nothing changed ($v)"
  else fail "set-ip-info ($m): unknown adapter -> $(ip_outcome "unknown adapter" status), bad token -> $(ip_outcome "bad token" status); kernel $v; GET $(ip_outcome after addresses)"; fi

  # ---- the sandbox let it through ----------------------------------------------------------------------
  local denials
  denials=$(journalctl --since "$since" -o cat --no-pager _SYSTEMD_UNIT=hvagent.service + _SYSTEMD_UNIT=hvagent-ip.service + SYSLOG_IDENTIFIER=hvagent |
            grep -Ei 'EPERM|EROFS|EACCES|Operation not permitted|Read-only file system|Permission denied|seccomp|AccessDenied|not authorized|errno[ =:]*(1|13|30)\b')
  if [ -z "$denials" ]; then pass "set-ip-info ($m): no sandbox or D-Bus denial in the agent's or the IP helper's journal (units as shipped)"
  else fail "set-ip-info ($m): denied: $(head -5 <<<"$denials" | tr '\n' '|')"; fi
  journalctl --since "$since" -o short-monotonic --no-pager -u hvagent -u hvagent-ip -u NetworkManager -u systemd-networkd >"/mnt/job/files/journal-ip-$m.txt" 2>&1
  cp "$IPDIR/results.jsonl" "/mnt/job/files/ip-results-$m.jsonl" 2>/dev/null

  # Back to how it was: the agent without IP injection, no manager on the NIC.
  systemctl stop hvagent.service
  cp "$IPDIR.conf-before" /etc/hvagent/hvagent.conf
  rm -f "$IP_DROPIN" /run/hvagent-sim-args; systemctl daemon-reload
  ip_teardown "$m" "$ifn"
  info "set-ip-info ($m): $((SECONDS - t0)) s in all: ${marks}torn down at $((SECONDS - t0)) s (the agent is left stopped)"
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
  # Slewed time samples are routine, logged at debug (steps stay at info); the discipline check
  # below counts both in the journal.
  printf '\n# vm-test: routine time samples in the journal\n[agent]\nlog_level = debug\n' >>/etc/hvagent/hvagent.conf
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
  pending "vss-freeze-thaw: not checked in the VM yet (VSS: freeze and thaw the VM's real ext4/xfs filesystems; covered outside the VM by RealFreezeTests and vss-diff)"
  pending "file-copy: not checked in the VM yet (file copy lands a file with the right name, bytes and mode; covered outside the VM by fcopy-diff)"

  # ---- SET_IP_INFO through systemd-networkd (NetworkManager: the lifecycle VM) ---------------------
  ip_injection networkd

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
  # ---- SET_IP_INFO through NetworkManager (systemd-networkd: the main VM) ---------------------------
  ip_injection networkmanager
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
