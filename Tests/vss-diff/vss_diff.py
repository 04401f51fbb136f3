#!/usr/bin/env python3
"""vss_diff - differential test of `hvagent run` (VSS in kernel mode) against
the real hv_vss_daemon (Debian hyperv-daemons), behind the same emulated
/dev/vmbus/hv_vss (vss_kernel_emu.py + hvvss_shim.c).

Every op script in ops/ is run once against each daemon, on the same
test-made filesystems (loop devices: ext4, xfs, a nested ext4, a bind mount, a
read-only ext4, a tmpfs), inside a private mount namespace.  Per op it
compares byte for byte what the daemon wrote to the device (registration,
replies), what the host gets (status, flags), whether the daemon reopened the
device or died, the FIFREEZE/FITHAW calls in order with their results, and
the set of filesystems frozen afterwards.  A difference passes only when
expected_differences.json lists it (op and fields) with its reason; anything
else fails, and so does a listed difference that no longer occurs.

    Tests/vss-diff/vss_diff.py [--hvagent .build/debug/hvagent] [--keep DIR]

Safety: the shim refuses (and reports) any FIFREEZE/FITHAW on a filesystem
that is not one of the test's loop devices; hv_vss_daemon reads a mounts list
naming only the test mounts; hvagent's plan is confined by vss.only_under.
Needs root; otherwise it prints why and skips (exit 0).
"""
import argparse
import fcntl
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import diffverdict  # noqa: E402
import vss_kernel_emu as emu  # noqa: E402

# Generous on purpose: on a normal machine nothing waits this long (hvagent reopens after 1 s),
# but a machine loaded far beyond its cores must not turn slowness into a false difference.
REOPEN_WAIT = 20
FIELDS = ["registration", "host", "reply", "outcome", "reopened", "exit", "ioctls", "frozen", "external"]


def frozen_names(box, frozen_devs):
    names = {dev: name for name, dev in box.devices.items()}
    return sorted(names.get(d, d) for d in frozen_devs)


def run_script(box, script, kind, hvagent, timeout):
    """Runs one op script against one daemon; returns the list of per-op results."""
    ops = json.load(open(script))["ops"]
    open(box.fail_file, "w").close()  # no fault injected unless the script says so
    cmd = [emu.REFERENCE, "-n"] if kind == "ref" else box.hvagent_command(hvagent, kind)
    d = emu.Daemon(box, kind, cmd)
    frozen = set()
    results = []

    def settle(entry):
        # hvagent thaws after a device failure off its loop: give it a moment to finish.
        time.sleep(0.3 if entry.get("reopened") else 0)
        calls = []
        with open(d.trace) if os.path.exists(d.trace) else open(os.devnull) as f:
            f.seek(d.trace_pos)
            text = f.read()
            d.trace_pos = f.tell()
        for line in text.splitlines():
            _pid, call, path, dev, result = line.split(" ")
            calls.append([call, box.relative(path), result])
            if result == "0":
                (frozen.add if call == "FIFREEZE" else frozen.discard)(dev)
            if result == "REFUSED":
                entry["refused"] = True
        entry["ioctls"] = calls
        entry["frozen"] = frozen_names(box, frozen)
        rc = d.exited()
        if rc is not None:
            entry["exit"] = rc

    try:
        start = d.kernel.connected(timeout)
        results.append({"i": -1, "op": "start", "registration": start})
        for i, op in enumerate(ops):
            entry = {"i": i, "op": op["op"], "note": op.get("note", "")}
            kind_of = op["op"]
            if kind_of == "host":
                entry["vss_op"] = op["vss_op"]
                r = d.kernel.host_request(op["vss_op"], op.get("timeout", timeout))
                entry.update({"host": r["host"], "reply": r["reply"]})
            elif kind_of == "raw":
                r = d.kernel.raw(bytes.fromhex(op["hex"]), op.get("timeout", timeout))
                entry.update({"reply": r["reply"], "outcome": r["outcome"]})
            elif kind_of == "fail_freeze":
                with open(box.fail_file, "w") as f:
                    f.write("%s %d\n" % (box.devices[op["mount"]], op["errno"]))
            elif kind_of == "drop":
                # The kernel side goes away (device removed, module reloaded): the daemon sees end of file.
                d.kernel.drop()
                entry["reopened"] = d.kernel.connected(REOPEN_WAIT)
            elif kind_of == "clear_fail":
                with open(box.fail_file, "w") as f:
                    f.write("")
            elif kind_of in ("external_freeze", "external_thaw"):
                # Someone else (this runner) freezes or thaws a test filesystem directly.
                fd = os.open(os.path.join(box.mnt, op["mount"]), os.O_RDONLY)
                try:
                    fcntl.ioctl(fd, emu.FIFREEZE if kind_of == "external_freeze" else emu.FITHAW, 0)
                    entry["external"] = "0"
                except OSError as e:
                    entry["external"] = os.strerror(e.errno)
                os.close(fd)
            else:
                raise SystemExit("%s: unknown op %r" % (script, kind_of))
            if d.kernel.conn is None and d.exited() is None and kind_of in ("host", "raw"):
                ev = d.kernel.connected(REOPEN_WAIT)
                entry["reopened"] = ev
            settle(entry)
            results.append(entry)
    except BaseException:
        d.stop()  # never leave a daemon running behind a failed run
        raise
    log = d.stop()
    end = {"i": len(ops), "op": "stop (SIGTERM)"}
    settle(end)
    end.pop("exit", None)  # hv_vss_daemon dies of SIGTERM, hvagent exits 0: not a protocol matter
    results.append(end)
    box.thaw_all()
    return results, log


def guard_check(box):
    """Proves the safety net before any daemon runs: under the shim, a FIFREEZE on a filesystem
    outside the allow-list (the work tmpfs, which could not freeze anyway) must be refused."""
    trace = os.path.join(box.work, "guard.trace")
    probe = ("import fcntl, os\nfd = os.open(%r, os.O_RDONLY)\ntry:\n    fcntl.ioctl(fd, %d, 0)\n"
             "    print(0)\nexcept OSError as e:\n    print(e.errno)\n" % (box.work, emu.FIFREEZE))
    p = subprocess.run([sys.executable, "-c", probe], env=box.shim_env(os.path.join(box.work, "none.sock"), trace),
                       capture_output=True, text=True)
    refused = os.path.exists(trace) and "REFUSED" in open(trace).read()
    if os.path.exists(trace):
        os.unlink(trace)
    if p.stdout.strip() == "1" and refused and "REFUSED" in p.stderr:
        return "ok (FIFREEZE outside the test filesystems refused with EPERM and reported)"
    return "BROKEN (errno %s, trace refused=%s, stderr %r)" % (p.stdout.strip(), refused, p.stderr[-200:])


def load_expected():
    with open(os.path.join(HERE, "expected_differences.json")) as f:
        return json.load(f)["differences"]


def find_rule(rules, script, i):
    for rule in rules:
        if rule["script"] == script and i in rule["ops"]:
            return rule
    return None


def short(e):
    if e is None:
        return "-"
    parts = []
    if e.get("host"):
        parts.append(e["host"]["status"] + ("/flags %d" % e["host"]["flags"] if e["host"]["flags"] else ""))
    if e.get("outcome"):
        parts.append(e["outcome"])
    if e.get("reopened"):
        parts.append("reopened")
    if e.get("external"):
        parts.append("ext %s" % e["external"])
    if e.get("ioctls"):
        parts.append("%d ioctls" % len(e["ioctls"]))
    parts.append("frozen=%s" % ",".join(e.get("frozen", [])) if e.get("frozen") else "")
    return " ".join(p for p in parts if p) or "ok"


def inside(args):
    rules = load_expected()
    keep = args.keep
    rows, passed, failed, refused = [], 0, 0, False
    t0 = time.monotonic()
    with emu.Sandbox() as box:
        box.build_shim()
        guard = guard_check(box)
        print("shim guard: %s" % guard)
        if not guard.startswith("ok"):
            print("vss-diff: FAILED (the shim's FIFREEZE guard does not hold; nothing was run)")
            return 1
        for script in sorted(glob.glob(os.path.join(HERE, "ops", "*.json"))):
            name = os.path.basename(script)
            ref, ref_log = run_script(box, script, "ref", args.hvagent, args.timeout)
            ours, our_log = run_script(box, script, "ours", args.hvagent, args.timeout)
            if keep:
                os.makedirs(keep, exist_ok=True)
                for tag, res, log in (("ref", ref, ref_log), ("ours", ours, our_log)):
                    with open(os.path.join(keep, "%s.%s.json" % (name, tag)), "w") as f:
                        json.dump(res, f, indent=1)
                    with open(os.path.join(keep, "%s.%s.log" % (name, tag)), "w") as f:
                        f.write(log)
            for r, o in zip(ref, ours):
                i = r["i"]
                refused |= bool(r.get("refused") or o.get("refused"))
                diff = [f for f in FIELDS if r.get(f) != o.get(f)]
                rule = find_rule(rules, name, i)
                verdict, ok = diffverdict.verdict(diff, rule)
                passed += ok
                failed += not ok
                label = r["op"] + ("(%d)" % r["vss_op"] if "vss_op" in r else "")
                rows.append((name, str(i), label, short(r), short(o), verdict))
                if not ok:
                    for f in diff:
                        print("  %s #%d %s\n    ref:  %s\n    ours: %s" % (
                            name, i, f, json.dumps(r.get(f)), json.dumps(o.get(f))), file=sys.stderr)
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    print("%-*s %*s %-*s %-*s %-*s %s" % (widths[0], "script", widths[1], "#", widths[2], "op",
                                          widths[3], "hv_vss_daemon", widths[4], "hvagent", "verdict"))
    for row in rows:
        print("%-*s %*s %-*s %-*s %-*s %s" % (widths[0], row[0], widths[1], row[1], widths[2], row[2],
                                              widths[3], row[3], widths[4], row[4], row[5]))
    if refused:
        print("SAFETY: the shim refused a FIFREEZE/FITHAW outside the test's filesystems", file=sys.stderr)
        failed += 1
    print("vss-diff: %d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hvagent", default=os.path.join(HERE, "..", "..", ".build", "debug", "hvagent"))
    ap.add_argument("--keep", help="write each run's results and daemon logs here")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds to wait for a reply (the kernel's THAW and HOT_BACKUP timeout)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.hvagent = os.path.abspath(args.hvagent)
    if args.keep:
        args.keep = os.path.abspath(args.keep)
    if not args.inside:
        if os.geteuid() != 0:
            print("vss-diff: skipped (not root: needs a private mount namespace, loop devices and FIFREEZE)")
            return 0
        missing = [p for p in (emu.REFERENCE, args.hvagent) if not os.path.exists(p)]
        if missing:
            print("vss-diff: FAILED: %s missing (scripts/setup.sh installs hyperv-daemons; "
                  "swift build --product hvagent)" % ", ".join(missing))
            return 1
        return subprocess.call(["unshare", "-m", "--propagation", "private", sys.executable,
                                os.path.abspath(__file__), "--inside"] + sys.argv[1:])
    return inside(args)


if __name__ == "__main__":
    sys.exit(main())
