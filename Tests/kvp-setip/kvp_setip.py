#!/usr/bin/env python3
"""kvp_setip - SET_IP_INFO against Linux 6.12's hv_kvp_daemon: the same requests, the same
status, and byte-identical compatibility files (/var/lib/hyperv/ifcfg-<if>, <if>.nmconnection).

The reference is built unmodified from Debian's linux-source-6.12 (scripts/peers/linux-tools-hv.sh;
nothing copied into the repository), with KVP_SCRIPTS_PATH pointing at a hv_set_ifconfig that only
exits 0 (Debian ships none). Both daemons run against the shared peer's kernel emulator
(../shared/peers/hv_kvp_daemon: kvp_kernel_emu.py and the LD_PRELOAD shim that turns
/dev/vmbus/hv_kvp into its socket), one daemon of each for all cases, inside `unshare --mount --net`:
a tmpfs over /var/lib holds /var/lib/hyperv, a tmpfs over /sys/class/net holds the fake adapter
(device/device_id = the VMBus instance GUID, address, ifindex of a veth named like it in the
private network namespace, so hvagent's netlink backend applies there and nowhere else).

    Tests/kvp-setip/kvp_setip.py [--hvagent PATH]

Needs root; otherwise it prints why and skips. Differences are allowed only where
expected_differences.json lists them (each one a row of docs/COMPATIBILITY.md).
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(os.path.dirname(REPO), "shared", "peers", "hv_kvp_daemon")
EMU = os.path.join(PEER, "kvp_kernel_emu.py")
IFNAME = "eth0"


def case_files():
    out = {}
    for kind, name in (("ifcfg", "ifcfg-" + IFNAME), ("keyfile", IFNAME + ".nmconnection")):
        p = os.path.join("/var/lib/hyperv", name)
        out[kind] = open(p, "rb").read().decode("utf-8", "backslashreplace") if os.path.exists(p) else None
    return out


class Daemon:
    """One daemon behind the emulator for all cases (the reference resolves its host name at start,
    which costs seconds in an empty network namespace)."""

    def __init__(self, cmd, shim, scratch, name):
        sys.path.insert(0, PEER)
        import kvp_kernel_emu
        self.emu = kvp_kernel_emu.KernelEmulator(os.path.join(scratch, name + ".sock"), op_timeout=28)
        self.emu.listen()
        self.log = os.path.join(scratch, name + ".log")
        self.emu.spawn(shlex.split(cmd), env={"LD_PRELOAD": shim}, log_path=self.log)
        self.emu.ensure_ready(timeout=30)

    def run(self, spec):
        for name in os.listdir("/var/lib/hyperv"):
            if not name.startswith(".kvp_pool_"):
                os.unlink(os.path.join("/var/lib/hyperv", name))
        r = self.emu.run_op(spec)
        return dict(status=r.get("status"), **case_files())

    def stop(self):
        self.emu.stop_daemon()
        self.emu.close()


def inside(args):
    cases = json.load(open(os.path.join(HERE, "cases.json")))
    expected = {d["case"]: d for d in json.load(open(os.path.join(HERE, "expected_differences.json")))["differences"]}
    scratch = tempfile.mkdtemp(prefix="kvp-setip.")
    # The private namespaces: nothing here is visible outside.
    cmds = ["mount -t tmpfs -o mode=0755 kvp-setip /var/lib", "mkdir -p /var/lib/hyperv",
            "ip link set lo up", "ip link add %s type veth peer name %s-peer" % (IFNAME, IFNAME),
            "ip link set %s address %s up" % (IFNAME, cases["mac"]), "ip link set %s-peer up" % IFNAME]
    for c in cmds:
        subprocess.run(c, shell=True, check=True)
    # sysfs still shows the parent namespace's interfaces: the index comes from this one's netlink.
    ifindex = subprocess.run("ip -o link show %s | cut -d: -f1" % IFNAME, shell=True, capture_output=True,
                             text=True, check=True).stdout.strip()
    subprocess.run("mount -t tmpfs -o mode=0755 kvp-setip-net /sys/class/net", shell=True, check=True)
    dev = "/sys/class/net/%s" % IFNAME
    os.makedirs(dev + "/device")
    open(dev + "/device/device_id", "w").write(cases["adapter"] + "\n")
    open(dev + "/address", "w").write(cases["mac"] + "\n")
    open(dev + "/ifindex", "w").write(ifindex + "\n")
    config = os.path.join(scratch, "hvagent.conf")
    open(config, "w").write("[kvp]\nip_injection = netlink\nip_verify_timeout_seconds = 5\n")
    ours = "%s kvp-daemon --pool-dir /var/lib/hyperv --config %s" % (shlex.quote(args.hvagent), shlex.quote(config))
    reference = Daemon(args.reference, args.shim, scratch, "ref")
    hvagent = Daemon(ours, args.shim, scratch, "ours")
    passed = failed = 0
    rows = []
    used = set()
    for case in cases["cases"]:
        spec = {"op": "set_ip_info", "adapter_id": case.get("adapter_id", cases["adapter"])}
        if spec["adapter_id"] == "UPPER":
            spec["adapter_id"] = cases["adapter"].upper()
        for k in ("addr_family", "dhcp_enabled", "ip_addr", "sub_net", "gate_way", "dns_addr"):
            if k in case:
                spec[k] = case[k]
        # Each daemon from the same starting point: addresses of an earlier case removed.
        subprocess.run("ip addr flush dev %s scope global; ip route flush dev %s" % (IFNAME, IFNAME), shell=True)
        ref = reference.run(spec)
        subprocess.run("ip addr flush dev %s scope global; ip route flush dev %s" % (IFNAME, IFNAME), shell=True)
        got = hvagent.run(spec)
        diff = [f for f in ("status", "ifcfg", "keyfile") if ref[f] != got[f]]
        rule = expected.get(case["name"])
        if not diff:
            ok, verdict = rule is None, "same" if rule is None else "STALE expectation"
        elif rule is not None and set(diff) <= set(rule["fields"]):
            ok, verdict = True, "expected (%s)" % ",".join(diff)
            used.add(case["name"])
        else:
            ok, verdict = False, "UNEXPECTED (%s)" % ",".join(diff)
            for f in diff:
                print("  %s: %s\n    hv_kvp_daemon 6.12: %r\n    hvagent:            %r" % (case["name"], f, ref[f], got[f]),
                      file=sys.stderr)
        passed += ok
        failed += not ok
        rows.append((case["name"], str(ref["status"]), str(got["status"]),
                     "same" if ref["ifcfg"] == got["ifcfg"] and ref["keyfile"] == got["keyfile"] else "differ", verdict))
    w = [max(len(r[i]) for r in rows + [("case", "hv_kvp_daemon 6.12", "hvagent", "files", "verdict")]) for i in range(5)]
    fmt = " | ".join("%%-%ds" % x for x in w)
    print(fmt % ("case", "hv_kvp_daemon 6.12", "hvagent", "files", "verdict"))
    for r in rows:
        print(fmt % r)
    reference.stop()
    hvagent.stop()
    if failed:
        for d in (reference, hvagent):
            print("--- %s" % d.log, file=sys.stderr)
            print(open(d.log, errors="replace").read()[-3000:], file=sys.stderr)
    shutil.rmtree(scratch, ignore_errors=True)
    print("kvp-setip: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvagent", default=os.path.join(REPO, ".build", "debug", "hvagent"))
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reference", help=argparse.SUPPRESS)
    ap.add_argument("--shim", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.hvagent = os.path.abspath(args.hvagent)
    if args.inside:
        return inside(args)
    if os.geteuid() != 0:
        print("kvp-setip: SKIPPED: needs root (private mount and network namespaces)")
        return 0
    src = subprocess.run([os.path.join(REPO, "scripts", "peers", "linux-tools-hv.sh")], capture_output=True, text=True)
    if src.returncode == 2:
        print("kvp-setip: SKIPPED: Debian's linux-source-6.12 cannot be had here: %s" % src.stderr.strip())
        return 0
    if src.returncode != 0:
        print("kvp-setip: FAILED: scripts/peers/linux-tools-hv.sh: %s" % src.stderr.strip())
        return 1
    source = src.stdout.strip()
    build = tempfile.mkdtemp(prefix="kvp-setip-build.")
    try:
        # <linux/hyperv.h> from the same tree; the helper script the daemon runs only succeeds.
        os.makedirs(os.path.join(build, "include", "linux"))
        shutil.copy(os.path.join(source, "include", "uapi", "linux", "hyperv.h"), os.path.join(build, "include", "linux"))
        scripts = os.path.join(build, "scripts") + "/"
        os.makedirs(scripts)
        with open(scripts + "hv_set_ifconfig", "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(scripts + "hv_set_ifconfig", 0o755)
        reference = os.path.join(build, "hv_kvp_daemon")
        subprocess.run(["cc", "-O2", "-Wall", "-D_GNU_SOURCE", "-Wno-address-of-packed-member", "-I", os.path.join(build, "include"),
                        '-DKVP_SCRIPTS_PATH="%s"' % scripts, "-o", reference,
                        os.path.join(source, "tools", "hv", "hv_kvp_daemon.c")], check=True)
        shim = os.path.join(build, "hvkvp_shim.so")
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o", shim, os.path.join(PEER, "hvkvp_shim.c"), "-ldl"],
                       check=True)
        print("kvp-setip: reference hv_kvp_daemon from linux-source-6.12 %s" % open(os.path.join(source, "VERSION")).read().strip())
        cmd = ["unshare", "--mount", "--net", "--propagation", "private", sys.executable, os.path.abspath(__file__),
               "--inside", "--hvagent", args.hvagent, "--reference", reference + " -n", "--shim", shim]
        return subprocess.run(cmd).returncode
    finally:
        shutil.rmtree(build, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
