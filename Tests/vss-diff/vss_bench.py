#!/usr/bin/env python3
"""vss_bench - FREEZE and THAW latency, hvagent (kernel mode) vs hv_vss_daemon.

Both daemons run at once, each behind its own emulated /dev/vmbus/hv_vss
(vss_kernel_emu.py, hvvss_shim.c: the same safety guard as vss_diff.py), on
the same three loop filesystems this script makes (ext4, xfs, a nested ext4),
inside a private mount namespace.  Each round sends FREEZE then THAW to one
daemon and then to the other, alternating which goes first; the time is from
the request's send to the reply's arrival at the emulated kernel.  Optionally
each filesystem gets --dirty-kb of unsynced data before every FREEZE (the
freeze then includes the writeback, the same amount for both).

    scripts/bench-vss.sh [--rounds 30] [--dirty-kb 0] [--hvagent PATH]

Prints one table (median, p10, p90, min, max in ms per daemon and request).
Needs root; otherwise it says why and exits 0.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vss_kernel_emu as emu  # noqa: E402


def percentile(values, q):
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def dirty(box, kb):
    if kb <= 0:
        return
    block = os.urandom(1024)
    for name in box.devices:
        with open(os.path.join(box.mnt, name, "dirty"), "wb") as f:
            for _ in range(kb):
                f.write(block)


def timed(daemon, op, timeout):
    t0 = time.perf_counter()
    r = daemon.kernel.host_request(op, timeout)
    ms = (time.perf_counter() - t0) * 1000
    if r["host"]["status"] != "S_OK":
        raise SystemExit("%s: %s answered %s" % (daemon.name, op, r["host"]))
    return ms


def inside(args):
    with emu.Sandbox(with_extras=False) as box:
        box.build_shim()
        daemons = {
            "hv_vss_daemon": emu.Daemon(box, "ref", [emu.REFERENCE, "-n"]),
            "hvagent": emu.Daemon(box, "ours", box.hvagent_command(args.hvagent, "ours")),
        }
        try:
            for d in daemons.values():
                ev = d.kernel.connected(10)
                if not ev or ev.get("refused"):
                    raise SystemExit("%s did not register: %s" % (d.name, ev))
            samples = {(n, op): [] for n in daemons for op in ("FREEZE", "THAW")}
            names = list(daemons)
            for i in range(args.warmup + args.rounds):
                for n in (names if i % 2 == 0 else names[::-1]):
                    dirty(box, args.dirty_kb)
                    f = timed(daemons[n], emu.OP_FREEZE, 60)
                    t = timed(daemons[n], emu.OP_THAW, 60)
                    if i >= args.warmup:
                        samples[(n, "FREEZE")].append(f)
                        samples[(n, "THAW")].append(t)
            refused = any("REFUSED" in open(d.trace).read() for d in daemons.values() if os.path.exists(d.trace))
        finally:
            for d in daemons.values():
                d.stop()
        if refused:
            raise SystemExit("SAFETY: the shim refused a FIFREEZE/FITHAW outside the test filesystems")
    print("VSS latency, request sent -> reply received at the emulated kernel; %d rounds (after %d warm-up), "
          "3 loop filesystems (ext4, xfs, nested ext4), %d KiB dirty per filesystem before each FREEZE; %s"
          % (args.rounds, args.warmup, args.dirty_kb, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print("| daemon | request | median ms | p10 | p90 | min | max |")
    print("|---|---|---|---|---|---|---|")
    for (n, op), v in samples.items():
        print("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f |" % (
            n, op, statistics.median(v), percentile(v, 0.1), percentile(v, 0.9), min(v), max(v)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hvagent", default=os.path.join(HERE, "..", "..", ".build", "release", "hvagent"))
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--dirty-kb", type=int, default=0)
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.hvagent = os.path.abspath(args.hvagent)
    if not args.inside:
        if os.geteuid() != 0:
            print("vss-bench: skipped (not root: needs a private mount namespace, loop devices and FIFREEZE)")
            return 0
        for p in (emu.REFERENCE, args.hvagent):
            if not os.path.exists(p):
                raise SystemExit("vss-bench: %s missing" % p)
        return subprocess.call(["unshare", "-m", "--propagation", "private", sys.executable,
                                os.path.abspath(__file__), "--inside"] + sys.argv[1:])
    return inside(args)


if __name__ == "__main__":
    sys.exit(main())
