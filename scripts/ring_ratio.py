#!/usr/bin/env python3
"""Per-row median Swift/C throughput ratio from a runbench.py ring CSV.

A pair is the two runs (swift, c) of one repetition on one (mode, ring, payload) row. Pairs whose
two runs saw different vCPU placements (ping-pong RTT class before each run: sibling < 45 ns,
near < 150 ns, far otherwise, as runbench.py report classifies them) are discarded: identical
binaries can differ 2x across a move. Prints one table row per benchmark row and ends with
"min ratio: X.XX", the smallest per-row median.
"""
import csv, statistics, sys
from collections import defaultdict


def placement(rtt):
    try:
        v = float(rtt)
    except ValueError:
        return "unknown"
    if v != v:
        return "unknown"
    return "sibling" if v < 45 else ("near" if v < 150 else "far")


def main(path, base="c", other="swift"):
    runs = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        key = (r["mode"], int(r["ring_bytes"]), int(r["payload"]))
        runs[(key, r["rep"])][r["impl"]] = r
    rows = defaultdict(list)
    dropped = defaultdict(int)
    for (key, rep), by in runs.items():
        if base not in by or other not in by:
            continue
        b, o = by[base], by[other]
        if placement(b["pp_rtt_ns"]) != placement(o["pp_rtt_ns"]):
            dropped[key] += 1
            continue
        rows[key].append((float(o["mmsgs_per_s"]) / float(b["mmsgs_per_s"]), b, o))
    print(f"| mode | ring | payload | pairs | {base} Mmsg/s | {other} Mmsg/s | {other}/{base} median [min-max] "
          f"| {base} wsig/msg | {other} wsig/msg | dropped (placement moved) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    medians = []
    for key in sorted(rows, key=lambda k: (k[0], -k[1], k[2])):
        mode, ring, size = key
        ratios = [x[0] for x in rows[key]]
        med = statistics.median(ratios)
        medians.append(med)
        bm = statistics.median(float(x[1]["mmsgs_per_s"]) for x in rows[key])
        om = statistics.median(float(x[2]["mmsgs_per_s"]) for x in rows[key])
        bw = statistics.median(float(x[1]["wsig_per_msg"]) for x in rows[key])
        ow = statistics.median(float(x[2]["wsig_per_msg"]) for x in rows[key])
        rl = f"{ring // 1024} KiB" if ring < (1 << 20) else f"{ring >> 20} MiB"
        print(f"| {mode} | {rl} | {size} | {len(ratios)} | {bm:.2f} | {om:.2f} | {med:.2f} [{min(ratios):.2f}-{max(ratios):.2f}] "
              f"| {bw:.3f} | {ow:.3f} | {dropped[key]} |")
    if not medians:
        print("no comparable pairs")
        return 1
    print(f"min ratio: {min(medians):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
