#!/usr/bin/env python3
"""kvp_faults - `hvagent kvp-daemon` under pool-file faults, through the
peer harness's kernel emulator (kvp_kernel_emu.py + LD_PRELOAD shim).

Cases (each prints one line, then a closing "N passed, N failed" line):
  lock-lockf / lock-flock
      another process holds the pool file's POSIX (lockf) or BSD (flock)
      lock for 3.5 s (longer than the host timeout); the daemon runs with
      --lock-timeout 1 under an emulated kernel timeout of 3 s.  The SET during the hold must be answered with a
      failure before the kernel timeout (not time out, not block), the daemon
      must stay alive, and after the hold a SET succeeds and the record
      written before the hold is intact.
  disk-full (root)
      the pool directory is a 12 KiB tmpfs in the daemon's private mount
      namespace.  SETs of new keys eventually fail (ENOSPC) with HV_E_FAIL
      and a log line naming the error; every pool file stays a whole number of
      records holding exactly the acknowledged keys; GET still works; after a
      DELETE frees room a SET succeeds again.
  read-only (root)
      the daemon starts on a read-only tmpfs holding one record: SET and
      DELETE fail with HV_E_FAIL and a log line, GET and ENUMERATE still
      answer, the pool file is unchanged.
Without root the two mount cases are skipped with the reason printed.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(os.path.dirname(REPO), "shared", "peers", "hv_kvp_daemon")
sys.path.insert(0, PEER)
import kvp_kernel_emu as emu  # noqa: E402

RECORD = 2560
OK = "HV_S_OK"


def pool_records(path):
    data = open(path, "rb").read()
    if len(data) % RECORD:
        return None
    return [(emu.cstr(data[i:i + 512]), emu.cstr(data[i + 512:i + RECORD]))
            for i in range(0, len(data), RECORD)]


class Daemon:
    def __init__(self, work, hvagent, shim, pool_dir, op_timeout, extra=(), wrap=None):
        self.log = os.path.join(work, "daemon-%d.log" % time.monotonic_ns())
        self.k = emu.KernelEmulator(os.path.join(work, "hv_kvp.sock"), op_timeout=op_timeout)
        self.k.listen()
        cmd = [hvagent, "kvp-daemon", "--pool-dir", pool_dir] + list(extra)
        self.k.spawn(wrap(cmd) if wrap else cmd, env={"LD_PRELOAD": shim}, log_path=self.log)
        self.k.ensure_ready(10)

    def op(self, **spec):
        return self.k.run_op(spec)

    def alive(self):
        return self.k.daemon_exit_status() is None

    def log_text(self):
        try:
            return open(self.log, errors="replace").read()
        except OSError:
            return ""

    def stop(self):
        self.k.stop_daemon()
        self.k.close()


def case_lock(a, work, shim, kind):
    pool_dir = tempfile.mkdtemp(dir=work)
    d = Daemon(work, a.hvagent, shim, pool_dir, op_timeout=3, extra=["--lock-timeout", "1"])
    problems = []
    try:
        if d.op(op="set", pool=1, key="BeforeHold", value="1")["status"] != OK:
            problems.append("first SET failed")
        holder = subprocess.Popen([sys.executable, os.path.join(PEER, "kvp_pool_writer.py"),
                                   os.path.join(pool_dir, ".kvp_pool_1"), "--lock", kind, "--hold", "3.5"],
                                  stdout=subprocess.PIPE, text=True)
        holder.stdout.readline()  # {"acquired": true}
        t0 = time.monotonic()
        r = d.op(op="set", pool=1, key="DuringHold", value="2")
        elapsed = time.monotonic() - t0
        if r.get("why") == "timeout":
            problems.append("SET during the hold timed out (%.1f s): the daemon blocked" % elapsed)
        elif r["status"] == OK:
            problems.append("SET during the hold succeeded without the lock")
        elif elapsed > 2.5:
            problems.append("failure came after %.1f s" % elapsed)
        if "lock" not in d.log_text().lower():
            problems.append("no log line about the lock")
        holder.wait()
        if not d.alive():
            problems.append("daemon exited")
        if d.op(op="set", pool=1, key="AfterHold", value="3")["status"] != OK:
            problems.append("SET after the hold failed")
        recs = dict(pool_records(os.path.join(pool_dir, ".kvp_pool_1")) or [])
        if recs.get(b"BeforeHold") != b"1" or recs.get(b"AfterHold") != b"3" or b"DuringHold" in recs:
            problems.append("pool file content wrong: %r" % sorted(recs))
        return problems, "SET during a %s hold answered %s after %.2f s" % (kind, r["status"], elapsed)
    finally:
        d.stop()


def in_namespace(mountpoint, size):
    """Wraps the daemon in a private mount namespace with a tmpfs pool dir."""
    def wrap(cmd):
        script = 'mount -t tmpfs -o size=%s,mode=0755 hvagent-kvp-faults "$0" && exec "$@"' % size
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, mountpoint] + cmd
    return wrap


def case_disk_full(a, work, shim):
    pool_dir = tempfile.mkdtemp(dir=work)
    d = Daemon(work, a.hvagent, shim, pool_dir, op_timeout=3, wrap=in_namespace(pool_dir, "12k"))
    view = "/proc/%d/root%s" % (d.k.daemon.pid, pool_dir)   # the daemon's tmpfs, seen from here
    problems = []
    try:
        acked = []
        failed = None
        for i in range(20):
            r = d.op(op="set", pool=1, key="Fill%02d" % i, value="v" * 2000)
            if r["status"] == OK:
                acked.append(("Fill%02d" % i).encode())
            else:
                failed = (i, r)
                break
        if failed is None:
            problems.append("20 SETs of 2.5 KiB fitted in a 12 KiB tmpfs?")
        elif failed[1].get("why") == "timeout":
            problems.append("the failing SET timed out instead of being answered")
        log = d.log_text()
        if "space" not in log.lower():
            problems.append("no log line naming ENOSPC")
        for n in range(5):
            path = os.path.join(view, ".kvp_pool_%d" % n)
            if os.path.exists(path) and pool_records(path) is None:
                problems.append("%s is not a whole number of records" % path)
        keys = [k for k, _ in pool_records(os.path.join(view, ".kvp_pool_1")) or []]
        if keys != acked:
            problems.append("pool 1 holds %r, acknowledged %r" % (keys, acked))
        if acked and d.op(op="get", pool=1, key=acked[0].decode())["status"] != OK:
            problems.append("GET failed on a full disk")
        if acked:
            d.op(op="delete", pool=1, key=acked[-1].decode())
            if d.op(op="set", pool=1, key="AfterDelete", value="x")["status"] != OK:
                problems.append("SET after freeing room failed")
        if not d.alive():
            problems.append("daemon exited")
        return problems, "%d SETs acknowledged, SET #%d answered %s" % (
            len(acked), failed[0] if failed else -1, failed[1]["status"] if failed else "-")
    finally:
        d.stop()


def read_only_namespace(mountpoint):
    """A private tmpfs holding pool 1 with one record (Before=1), remounted read-only before
    the daemon starts (a file system cannot go read-only under a writer that holds files open
    for writing, so this is how a read-only pool directory meets the daemon)."""
    def wrap(cmd):
        script = ('mount -t tmpfs -o size=64k,mode=0755 hvagent-kvp-faults "$0" && '
                  '{ printf Before; head -c 506 /dev/zero; printf 1; head -c 2047 /dev/zero; } > "$0/.kvp_pool_1" && '
                  'mount -o remount,ro "$0" && exec "$@"')
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, mountpoint] + cmd
    return wrap


def case_read_only(a, work, shim):
    pool_dir = tempfile.mkdtemp(dir=work)
    d = Daemon(work, a.hvagent, shim, pool_dir, op_timeout=3, wrap=read_only_namespace(pool_dir))
    view = "/proc/%d/root%s" % (d.k.daemon.pid, pool_dir)
    problems = []
    try:
        before = open(os.path.join(view, ".kvp_pool_1"), "rb").read()
        r_set = d.op(op="set", pool=1, key="After", value="2")
        r_del = d.op(op="delete", pool=1, key="Before")
        r_get = d.op(op="get", pool=1, key="Before")
        r_enum = d.op(op="enumerate", pool=1, index=0)
        for name, r in (("SET", r_set), ("DELETE", r_del)):
            if r["status"] == OK:
                problems.append("%s on a read-only pool succeeded" % name)
            if r.get("why") == "timeout":
                problems.append("%s timed out instead of being answered" % name)
        if r_get["status"] != OK or r_enum["status"] != OK:
            problems.append("GET/ENUMERATE failed on a read-only pool: %s/%s" % (r_get["status"], r_enum["status"]))
        if "read-only" not in d.log_text().lower():
            problems.append("no log line naming the read-only file system")
        # A host repeating the failing SET must not flood the log: one line per minute.
        for i in range(50):
            d.op(op="set", pool=1, key="Again", value=str(i))
        repeated = [l for l in d.log_text().splitlines() if "set pool 1" in l.lower()]
        if len(repeated) != 1:
            problems.append("%d log lines for 51 identical failing SETs (want 1)" % len(repeated))
        if open(os.path.join(view, ".kvp_pool_1"), "rb").read() != before:
            problems.append("pool file changed")
        if not d.alive():
            problems.append("daemon exited")
        return problems, "SET %s, DELETE %s, GET %s, ENUMERATE %s" % (
            r_set["status"], r_del["status"], r_get["status"], r_enum["status"])
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvagent", default=os.path.join(REPO, ".build", "debug", "hvagent"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kvp-faults.")
    shim = os.path.join(work, "hvkvp_shim.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(PEER, "hvkvp_shim.c"), "-ldl"], check=True)
    cases = [("lock-lockf", lambda: case_lock(a, work, shim, "lockf")),
             ("lock-flock", lambda: case_lock(a, work, shim, "flock"))]
    root = os.geteuid() == 0
    for name, fn in (("disk-full", lambda: case_disk_full(a, work, shim)),
                     ("read-only", lambda: case_read_only(a, work, shim))):
        if root:
            cases.append((name, fn))
        else:
            print("%-10s SKIP: needs root for a tmpfs in a private mount namespace" % name)
    passed = failed = 0
    for name, fn in cases:
        try:
            problems, summary = fn()
        except Exception as e:  # noqa: BLE001 - a harness failure is a failed case
            problems, summary = ["%s: %s" % (type(e).__name__, e)], "error"
        if problems:
            failed += 1
            print("%-10s FAIL %s: %s" % (name, summary, "; ".join(problems)))
        else:
            passed += 1
            print("%-10s ok   %s" % (name, summary))
    subprocess.run(["rm", "-rf", work])
    print("kvp-faults: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
