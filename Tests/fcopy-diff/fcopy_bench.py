#!/usr/bin/env python3
"""fcopy_bench - Copy-VMFile throughput: hvagent vs hv_fcopy_uio_daemon through the same simulated host.

Run by scripts/bench-fcopy.sh (which builds what it needs); see its usage line. Per pair, one copy
of --size MiB into the target directory by each guest, the order alternating; then, per guest, the
round-trip floor (`ping`: COMPLETEs padded to a full 6 KiB WRITE with no copy open, a no-op S_OK
for both guests, so each costs one 6 KiB request/reply round trip through the same host, ring and
wake-ups and nothing else; the daemon's is the trivial echo: read, copy, reply, signal); then the
target's raw write bandwidth with dd. Prints a Markdown table (MB/s = 10^6 bytes/s).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fcopy_diff  # noqa: E402

CHUNK = 6144


def guests(hvagent, cache, sock, root, shim_dir):
    mine = ([hvagent, "run", "--sim-socket", sock, "--timesync-mode", "off", "--config", "/dev/null",
             "--set", "fcopy.allowed_roots=" + root], dict(os.environ))
    theirs = ([os.path.join(cache, "hv_fcopy_uio_daemon"), "-n"],
              dict(os.environ, LD_PRELOAD=os.path.join(cache, "uio_shim.so"), HVAGENT_SIM_SOCKET=sock,
                   HVAGENT_SHIM_DIR=shim_dir))
    return {"hvagent": mine, "daemon": theirs}


def one(hvagent, guest, steps, work, root):
    """One session; returns its outcomes and the CPU seconds of host and guest."""
    usage = {}
    outcomes, _, _ = fcopy_diff.run_session(hvagent, guest[0], guest[1], steps, work, root, {}, usage=usage, snapshot=False)
    shutil.rmtree(root, ignore_errors=True)
    if len(outcomes) != len(steps) or any(o["status"] != fcopy_diff.OK for o in outcomes if o["op"] == "copy"):
        raise RuntimeError("run failed: %s" % outcomes)
    return outcomes, usage


def dd(target, size_mib, block):
    path = os.path.join(target, "dd.bin")
    count = size_mib * (1 << 20) // block
    began = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=%d" % block, "count=%d" % count, "conv=fsync"],
                   check=True, capture_output=True)
    seconds = time.monotonic() - began
    os.unlink(path)
    return count * block / seconds / 1e6


def spread(values):
    return "%.0f [%.0f-%.0f]" % (statistics.median(values), min(values), max(values))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvagent", required=True)
    ap.add_argument("--cache", required=True, help="build-reference.sh's directory")
    ap.add_argument("--target", required=True, help="directory on the file system to copy into (tmpfs)")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--pings", type=int, default=20000)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="hvagent-fcopy-bench.")
    root = os.path.join(args.target, "hvagent-fcopy-bench")
    shim = os.path.join(work, "shim")
    os.makedirs(shim)
    sock = os.path.join(work, "sim.sock")
    g = guests(args.hvagent, args.cache, sock, root, shim)
    size = args.size_mib << 20
    names = ["hvagent", "daemon"]
    rate = {n: [] for n in names}
    floor = {n: [] for n in names}
    cpu = {n: [] for n in names}
    host_cpu = {n: [] for n in names}
    rows = []
    try:
        for i in range(args.pairs):
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                # The copy, then the floor in the same session: both under the same load.
                out, usage = one(args.hvagent, g[name], [dict(op="copy", file="bench.bin", path=root, size=size, seed=i),
                                                         dict(op="ping", count=args.pings)], work, root)
                rate[name].append(out[0]["megabytesPerSecond"])
                floor[name].append(out[1]["megabytesPerSecond"])
                if usage.get("guest_cpu") is not None and usage.get("host_cpu") is not None:
                    cpu[name].append(usage["guest_cpu"])
                    host_cpu[name].append(usage["host_cpu"])
            best = max(floor["hvagent"][-1], floor["daemon"][-1])
            rows.append((i + 1, " then ".join(order), rate["hvagent"][-1], rate["daemon"][-1],
                         rate["hvagent"][-1] / rate["daemon"][-1], floor["hvagent"][-1], floor["daemon"][-1],
                         best / rate["hvagent"][-1]))
            print("pair %d (%s): hvagent %.0f MB/s, daemon %.0f MB/s, floors %.0f / %.0f MB/s" % (
                rows[-1][0], rows[-1][1], rows[-1][2], rows[-1][3], rows[-1][5], rows[-1][6]), file=sys.stderr)
        os.makedirs(root, exist_ok=True)
        dd_1m = dd(root, args.size_mib, 1 << 20)
        dd_chunk = dd(root, args.size_mib, CHUNK)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)

    med = lambda xs: statistics.median(xs)
    us = lambda mbps: CHUNK / mbps  # microseconds per 6 KiB chunk at that rate
    ratios = [r[4] for r in rows]
    bound = [r[7] for r in rows]
    print("| pair | order | hvagent MB/s | hv_fcopy_uio_daemon MB/s | hvagent / daemon | floor hvagent MB/s | floor daemon MB/s | best floor / hvagent copy |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |" % r)
    print("| **median [min-max]** | | %s | %s | **%.2f** [%.2f-%.2f] | %s | %s | **%.2f** [%.2f-%.2f] |" % (
        spread(rate["hvagent"]), spread(rate["daemon"]), med(ratios), min(ratios), max(ratios),
        spread(floor["hvagent"]), spread(floor["daemon"]), med(bound), min(bound), max(bound)))
    print()
    print("| per 6 KiB chunk (medians) | hvagent | hv_fcopy_uio_daemon |")
    print("|---|---|---|")
    print("| copy of %d MiB | %.1f us | %.1f us |" % (args.size_mib, us(med(rate["hvagent"])), us(med(rate["daemon"]))))
    print("| round-trip floor (%d idle 6 KiB COMPLETEs after the copy) | %.1f us | %.1f us |" % (
        args.pings, us(med(floor["hvagent"])), us(med(floor["daemon"]))))
    print("| copy - floor (the WRITE's own work: decode, pwrite) | %.1f us | %.1f us |" % (
        us(med(rate["hvagent"])) - us(med(floor["hvagent"])), us(med(rate["daemon"])) - us(med(floor["daemon"]))))
    if cpu["hvagent"] and cpu["daemon"]:
        chunks = size / CHUNK + args.pings
        print("| guest CPU per request (copy + floor session) | %.1f us | %.1f us |" % (
            med(cpu["hvagent"]) / chunks * 1e6, med(cpu["daemon"]) / chunks * 1e6))
        print("| host (sim-host) CPU per request | %.1f us | %.1f us |" % (
            med(host_cpu["hvagent"]) / chunks * 1e6, med(host_cpu["daemon"]) / chunks * 1e6))
    print()
    print("Target raw write bandwidth (dd if=/dev/zero conv=fsync, %d MiB): bs=1M %.0f MB/s; bs=6144 %.0f MB/s = %.1f us per chunk."
          % (args.size_mib, dd_1m, dd_chunk, us(dd_chunk)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
