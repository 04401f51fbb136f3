#!/usr/bin/env python3
"""fcopy_diff - differential test of hvagent's file copy against Linux's hv_fcopy_uio_daemon.

Every scenario below (docs/PROTOCOL.md §6.6; the sequences of the spec's host script: 0 B, 1 B,
6144 B, 6145 B, a few MiB, non-ASCII and astral-plane names, CREATE_PATH, existing targets with
and without OVER_WRITE, CANCEL mid-way, malformed packets) is one `hvagent sim-host
--fcopy-script` session, run once against `hvagent run --sim-socket` and once against the
unmodified daemon (built from Debian's linux-source-6.12 by build-reference.sh, driven through
uio_shim.c), each time into the same, freshly emptied destination directory. Per step the reply
is compared (HRESULT, the reply's IC header byte for byte, whether the body echoes the request,
its length; for whole copies the statuses), then the destination tree (names, types, modes,
sizes, SHA-256 of contents, leftovers). A difference passes only when expected_differences.json
lists it (each is a daemon defect of the spec, F1-F13, also in docs/COMPATIBILITY.md); anything
else fails, and so does a listed difference that no longer occurs. hvagent's own results are also
checked against what the scenario expects (file contents recomputed from the script's pattern).

    Tests/fcopy-diff/fcopy_diff.py [--hvagent PATH] [--only NAME] [--keep DIR]

No root needed. Skips (exit 0, printed reason) when the daemon cannot be built because the source
package cannot be had. About 10 s on a quiet machine (two guests per scenario, debug build; the 100 MiB copy
is most of it).
"""
import argparse
import hashlib
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CHUNK = 6144
OK = "0x00000000"
E_FAIL = "0x80004005"
EXISTS = "0x80070050"


def pattern(seed, size, offset=0):
    """The bytes FileCopyScript writes (Sources/HostSimulator/FileCopyScript.swift): byte k of the
    file is (k mod 251) xor seed."""
    period = bytes((k % 251) ^ seed for k in range(251))
    start = offset % 251
    repeated = period * ((start + size) // 251 + 1)
    return repeated[start:start + size]


def sha(data):
    return hashlib.sha256(data).hexdigest()


# Scenario helpers: steps are FileCopyScript steps; "{root}" is the destination directory.
def start(name, path="{root}", flags=0, size=0, **extra):
    return dict(op="start", file=name, path=path, flags=flags, size=size, **extra)


def writes(size, seed, chunk=CHUNK, reverse=False, trimmed=False):
    offsets = list(range(0, size, chunk))
    if reverse:
        offsets.reverse()
    return [dict(op="write", offset=o, length=min(chunk, size - o), seed=seed, trimmed=trimmed) for o in offsets]


def whole(name, size, seed, **kw):
    return [start(name, size=size)] + writes(size, seed, **kw) + [dict(op="complete")]


def utf16_field(units, terminate=True):
    data = b"".join(u.to_bytes(2, "little") for u in units) + (b"\0\0" if terminate else b"")
    return (data + b"\0" * 520)[:520].hex()


OVER_WRITE, CREATE_PATH = 1, 2

# name: (setup files {relpath: bytes}, steps, hvagent's expected regular files {relpath: bytes})
SCENARIOS = {
    "size-0": ({}, whole("zero", 0, 1), {"zero": b""}),
    "size-1": ({}, whole("one", 1, 2), {"one": pattern(2, 1)}),
    "size-6144": ({}, whole("chunk", 6144, 3), {"chunk": pattern(3, 6144)}),
    "size-6145": ({}, whole("chunk-plus-1", 6145, 4), {"chunk-plus-1": pattern(4, 6145)}),
    "size-3MiB": ({}, [dict(op="copy", file="three-mib", path="{root}", size=3 << 20, seed=5)],
                  {"three-mib": pattern(5, 3 << 20)}),
    "size-100MiB": ({}, [dict(op="copy", file="hundred-mib", path="{root}", size=100 << 20, seed=21)],
                    {"hundred-mib": pattern(21, 100 << 20)}),
    "trimmed-reversed": ({}, [start("rev", size=20000)] + writes(20000, 6, reverse=True, trimmed=True) + [dict(op="complete")],
                         {"rev": pattern(6, 20000)}),
    "non-ascii": ({}, whole("résumé-ü.txt", 100, 7), {"résumé-ü.txt": pattern(7, 100)}),
    "astral": ({}, whole("\U0001F600-𝄞.txt", 100, 8), {"\U0001F600-𝄞.txt": pattern(8, 100)}),
    "create-path-slash": ({}, [start("f", path="{root}/new/sub/", flags=CREATE_PATH, size=10)] + writes(10, 9)
                          + [dict(op="complete")], {"new/sub/f": pattern(9, 10)}),
    # Windows semantics (F11): a destination that is not a directory is the file itself.
    "create-path-no-slash": ({}, [start("f", path="{root}/new/sub", flags=CREATE_PATH, size=10)] + writes(10, 10)
                             + [dict(op="complete")], {"new/sub": pattern(10, 10)}),
    "missing-dir-no-create-path": ({}, [start("f", path="{root}/missing/dir/", size=10), dict(op="cancel")], {}),
    "exists-no-overwrite": ({"exists.txt": b"old contents\n"}, [start("exists.txt", size=10), dict(op="cancel")],
                           {"exists.txt": b"old contents\n"}),
    "exists-overwrite": ({"exists.txt": b"old contents, longer than the new\n"},
                         [start("exists.txt", flags=OVER_WRITE, size=10)] + writes(10, 11) + [dict(op="complete")],
                         {"exists.txt": pattern(11, 10)}),
    "cancel-midway": ({}, [dict(op="copy", file="cancelled", path="{root}", size=10 * CHUNK, seed=12, cancelAfter=3)], {}),
    "write-before-start": ({}, writes(100, 13) + [dict(op="cancel")], {}),
    "unknown-operation": ({}, [dict(op="raw", hex=(7).to_bytes(4, "little").hex() + "00" * 32)], {}),
    # size larger than the data the packet carries (F5): the daemon writes what lies beyond.
    "size-beyond-packet": ({}, [start("beyond", size=100), dict(op="write", offset=0, length=10, seed=14, trimmed=True, declared=100),
                                dict(op="cancel")], {}),
    "size-over-6144": ({}, [start("over", size=7000), dict(op="write", offset=0, length=6144, seed=15, declared=6145),
                            dict(op="cancel")], {}),
    "offset-past-file-size": ({}, [start("past", size=100), dict(op="write", offset=10 * CHUNK, length=100, seed=16),
                                   dict(op="cancel")], {}),
    "offset-overflow": ({}, [start("overflow", size=100), dict(op="write", offset=(1 << 63) - 50, length=100, seed=17),
                             dict(op="cancel")], {}),
    "dot-dot": ({}, [start("dd", path="{root}/../" + "{rootname}", size=10)] + writes(10, 18) + [dict(op="complete")], {}),
    "unpaired-surrogate": ({}, [start("", fileHex=utf16_field([0x61, 0xD800, 0x62]), size=10)] + writes(10, 19)
                           + [dict(op="complete")], {}),
    "unterminated-name": ({}, [start("", fileHex=utf16_field([0x61] * 260, terminate=False), size=1), dict(op="cancel")], {}),
    # A packet shorter than the fcopy header (F9): the daemon exits without a reply; hvagent answers
    # and goes on with the next copy.
    "short-packet": ({}, [dict(op="raw", hex=(1).to_bytes(4, "little").hex() + "00" * 4)] + whole("after", 10, 20),
                     {"after": pattern(20, 10)}),
}


def tree(root):
    """Every entry under root: relative name (escaped bytes) -> type, mode, size, sha256."""
    out = {}
    broot = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(broot):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, broot).decode("utf-8", "backslashreplace")
            st = os.lstat(full)
            entry = {"mode": oct(stat.S_IMODE(st.st_mode))}
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    data = f.read()
                entry.update(type="file", size=len(data), sha256=sha(data)[:16])
            elif stat.S_ISDIR(st.st_mode):
                entry["type"] = "dir"
            else:
                entry["type"] = "other"
            out[rel] = entry
    return out


def cpu_seconds(pid):
    """utime + stime of a live process (/proc/PID/stat fields 14 and 15)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_session(hvagent, guest_cmd, env, steps, work, root, setup, usage=None, snapshot=True):
    """One sim-host session against one guest; returns (outcomes, tree, guest exit status).
    `usage` (a dict), when given, receives the host's and the guest's CPU seconds."""
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    for rel, data in setup.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(root, rel), 0o644)
    rootname = os.path.basename(root)
    script = os.path.join(work, "script.jsonl")
    with open(script, "w") as f:
        for step in steps:
            s = {k: (v.replace("{root}", root).replace("{rootname}", rootname) if isinstance(v, str) else v)
                 for k, v in step.items()}
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    sock = os.path.join(work, "sim.sock")
    results = os.path.join(work, "results.jsonl")
    for p in (sock, results):
        if os.path.exists(p):
            os.unlink(p)
    host = subprocess.Popen([hvagent, "sim-host", "--socket", sock, "--fcopy-script", script, "--fcopy-results", results,
                             "--fcopy-timeout", "60", "--seconds", "120", "--log", os.path.join(work, "host.jsonl")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    guest = None
    try:
        # Its first line comes after listen(): the socket file alone exists from bind() on, and a
        # guest connecting in between would be refused.
        ready, _, _ = select.select([host.stderr], [], [], 30)
        if not ready or b"listening" not in host.stderr.readline():
            raise RuntimeError("sim-host did not listen")
        # stdin read-only /dev/null, as under systemd: the daemon's stale descriptor 0 (F6) then
        # fails its writes the way it does when installed.
        with open(os.devnull, "rb") as devnull:
            guest = subprocess.Popen(guest_cmd, env=env, stdin=devnull, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(work, "guest.err"), "wb"),
                                     preexec_fn=lambda: os.umask(0o022))
        deadline = time.monotonic() + 600
        while host.poll() is None and time.monotonic() < deadline:
            if usage is not None:
                usage["guest_cpu"] = cpu_seconds(guest.pid)  # the guest may stop with the host
                usage["host_cpu"] = cpu_seconds(host.pid)
            time.sleep(0.05 if usage is not None else 0.01)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
        host.stderr.close()
        exit_status = None
        if guest is not None:
            exit_status = guest.poll()
            if exit_status is None:
                guest.send_signal(signal.SIGTERM)
                try:
                    guest.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    guest.kill()
                    guest.wait()
    outcomes = []
    if os.path.exists(results):
        with open(results) as f:
            outcomes = [json.loads(line) for line in f if line.strip()]
    return outcomes, tree(root) if snapshot else {}, exit_status


def compare(name, steps, mine, theirs):
    """Differences as (kind, key, detail): 'step' (key = step index), 'mode' (a file both wrote alike
    but the daemon with 0744, key = name) or 'tree' (any other difference at that name)."""
    diffs = []
    timing = ("seconds", "megabytesPerSecond")
    a_out = [{k: v for k, v in o.items() if k not in timing} for o in mine[0]]
    b_out = [{k: v for k, v in o.items() if k not in timing} for o in theirs[0]]
    a_tree, b_tree = mine[1], theirs[1]
    for i in range(len(steps)):
        a = next((o for o in a_out if o["step"] == i), None)
        b = next((o for o in b_out if o["step"] == i), None)
        if a != b:
            diffs.append(("step", i, "hvagent %s | daemon %s" % (short(a), short(b))))
    for rel in sorted(set(a_tree) | set(b_tree)):
        a, b = a_tree.get(rel), b_tree.get(rel)
        if a == b:
            continue
        kind = "tree"
        if a and b and a["mode"] == "0o644" and b["mode"] == "0o744" and dict(a, mode=0) == dict(b, mode=0):
            kind = "mode"
        diffs.append((kind, rel, "hvagent %s | daemon %s" % (a, b)))
    return diffs


def short(o):
    if o is None:
        return "(not run)"
    keys = ["op", "status", "statuses", "echo", "replyBytes", "header"]
    return json.dumps({k: o[k] for k in keys if k in o}, ensure_ascii=False)


def check_hvagent(name, expected, result, root_tree):
    """hvagent on its own: the expected regular files, 0644, contents recomputed; dirs 0755."""
    problems = []
    outcomes, t, _ = result
    files = {rel: e for rel, e in t.items() if e["type"] == "file"}
    if set(files) != set(expected):
        problems.append("files %s, expected %s" % (sorted(files), sorted(expected)))
    for rel, data in expected.items():
        e = files.get(rel)
        if e and (e["size"] != len(data) or e["sha256"] != sha(data)[:16]):
            problems.append("%s: contents differ from the script's pattern" % rel)
        if e and e["mode"] != "0o644":
            problems.append("%s: mode %s" % (rel, e["mode"]))
    for rel, e in t.items():
        if e["type"] == "dir" and e["mode"] != "0o755":
            problems.append("%s/: mode %s" % (rel, e["mode"]))
        if e["type"] == "other":
            problems.append("%s: not a regular file or directory" % rel)
    if any(o["status"] == "no reply" for o in outcomes):
        problems.append("a request went unanswered")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hvagent", default=os.path.join(REPO, ".build", "debug", "hvagent"))
    ap.add_argument("--only", help="run only this scenario")
    ap.add_argument("--keep", help="keep the work directory here")
    args = ap.parse_args()

    built = subprocess.run([os.path.join(HERE, "build-reference.sh")], capture_output=True, text=True)
    if built.returncode == 2:
        print("fcopy-diff: skipped (hv_fcopy_uio_daemon cannot be built: %s)" % built.stderr.strip())
        return 0
    if built.returncode != 0:
        print("fcopy-diff: building hv_fcopy_uio_daemon failed:\n" + built.stderr)
        return 1
    cache = built.stdout.strip().splitlines()[-1]
    with open(os.path.join(HERE, "expected_differences.json")) as f:
        expected = json.load(f)["differences"]

    began = time.monotonic()
    # tmpfs when there is one: the scenarios are about behaviour, and fsync on a disk shared with
    # other work can take seconds (hvagent fsyncs at COMPLETE, the daemon does not).
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    work = args.keep or tempfile.mkdtemp(prefix="hvagent-fcopy-diff.", dir=shm)
    os.makedirs(work, exist_ok=True)
    root = os.path.join(work, "dest")
    shim_dir = os.path.join(work, "shim")
    os.makedirs(shim_dir, exist_ok=True)
    failures = 0
    seen = set()
    names = [args.only] if args.only else list(SCENARIOS)
    try:
        for name in names:
            setup, steps, want = SCENARIOS[name]
            sock = os.path.join(work, "sim.sock")
            mine = run_session(args.hvagent, [args.hvagent, "run", "--sim-socket", sock, "--timesync-mode", "off",
                                              "--config", "/dev/null", "--set", "fcopy.allowed_roots=" + root],
                               dict(os.environ), steps, work, root, setup)
            env = dict(os.environ, LD_PRELOAD=os.path.join(cache, "uio_shim.so"), HVAGENT_SIM_SOCKET=sock,
                       HVAGENT_SHIM_DIR=shim_dir)
            theirs = run_session(args.hvagent, [os.path.join(cache, "hv_fcopy_uio_daemon"), "-n"], env, steps, work,
                                 root, setup)
            problems = check_hvagent(name, want, mine, root)
            unlisted = []
            for kind, key, detail in compare(name, steps, mine, theirs):
                hit = next((e for e in expected if e["scenario"] in (name, "*") and
                            (key in e.get("steps", []) if kind == "step" else e.get(kind, False))), None)
                if hit:
                    seen.add((name, hit["id"], kind))
                    seen.add((hit["scenario"], hit["id"], kind))
                else:
                    unlisted.append("%s %s: %s" % (kind, key, detail))
            verdict = "ok" if not problems and not unlisted else "FAIL"
            listed = sorted({s[1] for s in seen if s[0] == name})
            print("fcopy-diff %-28s %-4s %s" % (name, verdict, ("listed: " + ", ".join(listed)) if listed else "identical"))
            for p in problems:
                print("    hvagent: " + p)
            for u in unlisted:
                print("    unlisted difference: " + u)
            failures += verdict != "ok"
        for e in expected:
            if e["scenario"] not in names and not (e["scenario"] == "*" and not args.only):
                continue
            kinds = [k for k in ("steps", "tree", "mode") if e.get(k)]
            kinds = ["step" if k == "steps" else k for k in kinds]
            for kind in kinds:
                if (e["scenario"], e["id"], kind) not in seen:
                    print("fcopy-diff %-28s FAIL listed %s difference (%s) no longer occurs" % (e["scenario"], kind, e["id"]))
                    failures += 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("fcopy-diff: %d scenarios, %d failed, %.1f s" % (len(names), failures, time.monotonic() - began))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
