#!/usr/bin/env python3
"""kvp_diff - differential test of `hvagent kvp-daemon` against the real
hv_kvp_daemon (Debian hyperv-daemons).

Every op script (the shared ones in the hv_kvp_daemon peer's ops/, see README.md,
and ours in Tests/kvp-diff/ops) is run through the same kernel emulator
(kvp_kernel_emu.py + the LD_PRELOAD shim, inside harness.sh's private mount
namespace with a tmpfs pool directory) once against each daemon.  Per op
the status, decoded reply, host view, enumeration items and daemon death
are compared, then the final pool files.  A difference passes only when
expected_differences.json lists it with its reason (each one is a
documented deliberate difference, see docs/COMPATIBILITY.md); anything else
fails, and so does a listed difference that no longer occurs.

    Tests/kvp-diff/kvp_diff.py [--hvagent PATH] [--keep DIR]

Needs root (unshare -m, tmpfs); otherwise it prints why and skips.
Prints a per-case table and a closing "N passed, N failed" line.
"""
import argparse
import fnmatch
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import diffverdict  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(os.path.dirname(REPO), "shared", "peers", "hv_kvp_daemon")
REFERENCE = "/usr/sbin/hv_kvp_daemon"
VOLATILE = {"us", "pid", "cmd", "timeout_s"}
FIELDS = ["status", "reply", "host", "daemon_exit", "why", "count_ok", "end_status", "items", "error"]


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in VOLATILE}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def scripts():
    return sorted(glob.glob(os.path.join(PEER, "ops", "*.json"))) + \
        sorted(glob.glob(os.path.join(HERE, "ops", "*.json")))


def run_one(script, daemon_cmd, log_path):
    """One run inside the namespace; returns (ops by index, pool dumps by file)."""
    pool_dir = os.environ["KVP_POOL_DIR"]
    for n in range(5):
        try:
            os.unlink(os.path.join(pool_dir, ".kvp_pool_%d" % n))
        except FileNotFoundError:
            pass
    emu = os.environ["KVP_EMU"]
    cmd = [sys.executable, emu, "run-script", script, "--socket", os.environ["HV_KVP_SOCKET"],
           "--spawn", daemon_cmd, "--preload", os.environ["KVP_PRELOAD"], "--respawn",
           "--op-timeout", "10", "--daemon-log", log_path]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    ops = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            if "i" in d:
                ops[d["i"]] = strip(d)
    dump = subprocess.run([sys.executable, emu, "pooldump", pool_dir, "--max-records", "100000"],
                          capture_output=True, text=True, check=True)
    pools = {}
    for line in dump.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            pools[d["file"]] = d
    return ops, pools


def short(r):
    if r is None:
        return "-"
    if "count_ok" in r:
        return "%d items, %s" % (r["count_ok"], r.get("end_status"))
    s = r.get("status") or r.get("error") or "?"
    if r.get("daemon_exit") is not None:
        s += " (daemon died %s)" % r["daemon_exit"]
    return s


def load_expected():
    with open(os.path.join(HERE, "expected_differences.json")) as f:
        return json.load(f)


def find_rule(rules, script, i, op):
    for rule in rules:
        if not fnmatch.fnmatch(script, rule.get("script", "*")):
            continue
        if "ops" in rule and i not in rule["ops"]:
            continue
        m = rule.get("match", {})
        if any(op.get(k) != v for k, v in m.items()):
            continue
        return rule
    return None


def inside(args):
    expected = load_expected()
    rules = expected["ops"]
    pool_rules = expected["pool_files"]
    ours_cmd = "%s kvp-daemon --pool-dir %s" % (shlex.quote(args.hvagent),
                                                  shlex.quote(os.environ["KVP_POOL_DIR"]))
    keep = args.keep or tempfile.mkdtemp(prefix="kvp-diff.")
    os.makedirs(keep, exist_ok=True)
    rows, passed, failed = [], 0, 0
    for script in scripts():
        name = os.path.basename(script)
        ref_ops, ref_pools = run_one(script, REFERENCE + " -n", os.path.join(keep, name + ".ref.log"))
        our_ops, our_pools = run_one(script, ours_cmd, os.path.join(keep, name + ".ours.log"))
        with open(os.path.join(keep, name + ".ref.json"), "w") as f:
            json.dump({"ops": ref_ops, "pools": ref_pools}, f, indent=1)
        with open(os.path.join(keep, name + ".ours.json"), "w") as f:
            json.dump({"ops": our_ops, "pools": our_pools}, f, indent=1)
        for i in sorted(set(ref_ops) | set(our_ops)):
            r, o = ref_ops.get(i), our_ops.get(i)
            op = r or o
            diff = [f for f in FIELDS if (r or {}).get(f) != (o or {}).get(f)] if r and o else ["missing"]
            rule = find_rule(rules, name, i, op)
            verdict, ok = diffverdict.verdict(diff, rule, pinned=rule is not None and "ops" in rule)
            passed += ok
            failed += not ok
            rows.append((name, str(i), "%s p%s" % (op.get("op"), op.get("pool", "")),
                         short(r), short(o), verdict))
            if not ok:
                for f in diff:
                    print("  %s #%d %s\n    ref:  %s\n    ours: %s" % (
                        name, i, f, json.dumps((r or {}).get(f))[:400],
                        json.dumps((o or {}).get(f))[:400]), file=sys.stderr)
        for fname in sorted(set(ref_pools) | set(our_pools)):
            a, b = ref_pools.get(fname), our_pools.get(fname)
            same = a == b
            rule = next((p for p in pool_rules if fnmatch.fnmatch(name, p["script"])
                         and p["file"] == fname), None)
            if same:
                verdict, ok = "same", rule is None
                if rule is not None:
                    verdict = "STALE expectation: %s" % rule["id"]
            elif rule is not None:
                verdict, ok = "expected: %s" % rule["id"], True
            else:
                verdict, ok = "UNEXPECTED", False
                print("  %s %s\n    ref:  %s\n    ours: %s" % (name, fname, json.dumps(a)[:600],
                                                              json.dumps(b)[:600]), file=sys.stderr)
            passed += ok
            failed += not ok
            rows.append((name, "file", fname, "%s rec" % (a or {}).get("records"),
                         "%s rec" % (b or {}).get("records"), verdict))
    widths = [max(len(r[c]) for r in rows + [("script", "#", "op", "hv_kvp_daemon", "hvagent", "verdict")])
              for c in range(6)]
    fmt = " | ".join("%%-%ds" % w for w in widths)
    print(fmt % ("script", "#", "op", "hv_kvp_daemon", "hvagent", "verdict"))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(fmt % r)
    if args.keep:
        print("raw results kept in %s" % keep)
    else:
        subprocess.run(["rm", "-rf", keep])
    print("kvp-diff: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvagent", default=os.path.join(REPO, ".build", "debug", "hvagent"))
    ap.add_argument("--keep", help="directory for raw results (default: a new temp dir)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.hvagent = os.path.abspath(args.hvagent)
    if args.inside:
        return inside(args)
    if os.geteuid() != 0:
        print("kvp-diff: SKIPPED: needs root (private mount namespace + tmpfs keep the real "
              "/var/lib/hyperv untouched); run as root, as CI does")
        return 0
    for path, what in ((REFERENCE, "hv_kvp_daemon (scripts/setup.sh installs hyperv-daemons)"),
                       (args.hvagent, "hvagent (swift build --product hvagent)"),
                       (os.path.join(PEER, "harness.sh"), "the shared peer harness")):
        if not os.path.exists(path):
            print("kvp-diff: FAILED: %s missing: %s" % (what, path))
            print("kvp-diff: 0 passed, 1 failed")
            return 1
    shim_dir = tempfile.mkdtemp(prefix="kvp-shim.")
    shim = os.path.join(shim_dir, "hvkvp_shim.so")
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-o", shim,
                    os.path.join(PEER, "hvkvp_shim.c"), "-ldl"], check=True)
    env = dict(os.environ, KVP_PRELOAD=shim)
    cmd = [os.path.join(PEER, "harness.sh"), "shell", sys.executable, os.path.abspath(__file__),
           "--inside", "--hvagent", args.hvagent] + (["--keep", args.keep] if args.keep else [])
    rc = subprocess.run(cmd, env=env).returncode
    os.unlink(shim)
    os.rmdir(shim_dir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
