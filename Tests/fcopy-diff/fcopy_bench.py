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
    usage = {}
    outcomes, _, _ = fcopy_diff.run_session(hvagent, guest[0], guest[1], steps, work, root, {}, usage=usage, snapshot=False)
    shutil.rmtree(root, ignore_errors=True)
    if not outcomes or outcomes[-1]["status"] != fcopy_diff.OK and outcomes[-1]["op"] == "copy":
        raise RuntimeError("run failed: %s" % outcomes)
    return outcomes[-1], usage


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
    ap.add_argument("--pings", type=int, default=50000)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="hvagent-fcopy-bench.")
    root = os.path.join(args.target, "hvagent-fcopy-bench")
    shim = os.path.join(work, "shim")
    os.makedirs(shim)
    sock = os.path.join(work, "sim.sock")
    g = guests(args.hvagent, args.cache, sock, root, shim)
    size = args.size_mib << 20
    rates = {"hvagent": [], "daemon": []}
    cpu = {"hvagent": [], "daemon": []}
    host_cpu = {"hvagent": [], "daemon": []}
    rows = []
    try:
        for i in range(args.pairs):
            order = ["hvagent", "daemon"] if i % 2 == 0 else ["daemon", "hvagent"]
            pair = {}
            for name in order:
                out, usage = one(args.hvagent, g[name], [dict(op="copy", file="bench.bin", path=root, size=size, seed=i)],
                                 work, root)
                pair[name] = out["megabytesPerSecond"]
                rates[name].append(out["megabytesPerSecond"])
                if usage.get("guest_cpu") is not None:
                    cpu[name].append(usage["guest_cpu"])
                if usage.get("host_cpu") is not None:
                    host_cpu[name].append(usage["host_cpu"])
            rows.append((i + 1, " then ".join(order), pair["hvagent"], pair["daemon"], pair["hvagent"] / pair["daemon"]))
            print("pair %d (%s): hvagent %.0f MB/s, daemon %.0f MB/s" % (rows[-1][0], rows[-1][1], pair["hvagent"],
                                                                        pair["daemon"]), file=sys.stderr)
        floors = {}
        for name in ["hvagent", "daemon"]:
            out, _ = one(args.hvagent, g[name], [dict(op="ping", count=args.pings)], work, root)
            floors[name] = out["megabytesPerSecond"]
        os.makedirs(root, exist_ok=True)
        dd_1m = dd(root, args.size_mib, 1 << 20)
        dd_chunk = dd(root, args.size_mib, CHUNK)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)

    ratios = [r[4] for r in rows]
    med = {k: statistics.median(v) for k, v in rates.items()}
    us = lambda mbps: CHUNK / mbps  # microseconds per 6 KiB chunk at that rate
    print("| pair | order | hvagent MB/s | hv_fcopy_uio_daemon MB/s | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %d | %s | %.0f | %.0f | %.2f |" % r)
    print("| **median [min-max]** | | %s | %s | **%.2f** [%.2f-%.2f] |" % (spread(rates["hvagent"]), spread(rates["daemon"]),
                                                                         statistics.median(ratios), min(ratios), max(ratios)))
    print()
    print("| per 6 KiB chunk | hvagent | hv_fcopy_uio_daemon |")
    print("|---|---|---|")
    print("| copy (%d MiB, median) | %.0f MB/s = %.1f us | %.0f MB/s = %.1f us |" % (
        args.size_mib, med["hvagent"], us(med["hvagent"]), med["daemon"], us(med["daemon"])))
    print("| round-trip floor (%d idle 6 KiB COMPLETEs) | %.0f MB/s = %.1f us | %.0f MB/s = %.1f us |" % (
        args.pings, floors["hvagent"], us(floors["hvagent"]), floors["daemon"], us(floors["daemon"])))
    print("| copy / floor | %.2f | %.2f |" % (floors["hvagent"] / med["hvagent"], floors["daemon"] / med["daemon"]))
    if cpu["hvagent"] and cpu["daemon"]:
        gib = size / (1 << 30)
        print("| guest CPU per GiB (median) | %.2f s | %.2f s |" % (statistics.median(cpu["hvagent"]) / gib,
                                                                   statistics.median(cpu["daemon"]) / gib))
        print("| host (sim-host) CPU per GiB (median) | %.2f s | %.2f s |" % (statistics.median(host_cpu["hvagent"]) / gib,
                                                                              statistics.median(host_cpu["daemon"]) / gib))
    print()
    print("Target raw write bandwidth (dd if=/dev/zero conv=fsync, %d MiB): bs=1M %.0f MB/s; bs=6144 %.0f MB/s = %.1f us per chunk."
          % (args.size_mib, dd_1m, dd_chunk, us(dd_chunk)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
