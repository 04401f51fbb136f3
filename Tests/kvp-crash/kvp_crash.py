#!/usr/bin/env python3
"""kvp_crash - SIGKILL `hvagent kvp-daemon` at random points while the
(emulated) kernel sends SETs, then check the pool file.

Each round restarts the daemon on the same pool directory, sends up to
--sets SET requests into pool 1 (new keys, and every 7th one a modify of an
earlier key with a longer or shorter value), and a timer kills the daemon
with SIGKILL after a random delay.  After each kill:
  * every .kvp_pool_N is a whole number of 2560-byte records,
  * every SET the daemon acknowledged (HV_S_OK reply) is in the file with
    the last acknowledged value (the one in-flight SET may or may not be),
  * no key appears twice (the daemon never duplicates on modify),
  * every byte after a field's NUL is zero.

The daemon talks to the emulator through the peer harness's LD_PRELOAD
shim; the pool directory is a private temp dir (no root needed).
Prints one line per round and a closing "N passed, N failed" line.
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(os.path.dirname(REPO), "shared", "peers", "hv_kvp_daemon")
sys.path.insert(0, PEER)
import kvp_kernel_emu as emu  # noqa: E402

RECORD = 2560


def check_pool(pool_dir, acked):
    problems = []
    for n in range(5):
        path = os.path.join(pool_dir, ".kvp_pool_%d" % n)
        if not os.path.exists(path):
            continue
        data = open(path, "rb").read()
        if len(data) % RECORD:
            problems.append("%s: %d bytes is not a whole number of records" % (path, len(data)))
    data = open(os.path.join(pool_dir, ".kvp_pool_1"), "rb").read()
    seen = {}
    for i in range(len(data) // RECORD):
        rec = data[i * RECORD:(i + 1) * RECORD]
        k, v = rec[:512], rec[512:]
        key, value = emu.cstr(k), emu.cstr(v)
        if any(k[len(key):]) or any(v[len(value):]):
            problems.append("record %d: non-zero bytes after a NUL" % i)
        if key in seen:
            problems.append("record %d: duplicate key %r" % (i, key))
        seen[key] = value
    for key, values in acked.items():
        key = key.encode()
        if key not in seen:
            problems.append("acknowledged key %r missing" % key)
        elif seen[key] not in values:
            problems.append("key %r has %r, expected one of %r" % (key, seen[key], values))
    return problems, len(seen)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hvagent", default=os.path.join(REPO, ".build", "debug", "hvagent"))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--sets", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("kvp-crash: seed %d, %d rounds of up to %d SETs" % (seed, a.rounds, a.sets))
    work = tempfile.mkdtemp(prefix="kvp-crash.")
    shim = os.path.join(work, "hvkvp_shim.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim,
                    os.path.join(PEER, "hvkvp_shim.c"), "-ldl"], check=True)
    pool_dir = os.path.join(work, "pool")
    os.mkdir(pool_dir)
    sock = os.path.join(work, "hv_kvp.sock")
    acked = {}        # key -> set of acceptable values (last acked, plus an in-flight one)
    passed = failed = 0
    for rnd_no in range(a.rounds):
        k = emu.KernelEmulator(sock, op_timeout=10)
        k.listen()
        k.spawn([a.hvagent, "kvp-daemon", "--pool-dir", pool_dir], env={"LD_PRELOAD": shim},
                log_path=os.path.join(work, "daemon.log"))
        pid = k.daemon.pid
        k.ensure_ready(10)
        # Keys of round r: a window sliding by 500 per round, so each round
        # appends new keys and modifies (in place) keys of earlier rounds.
        base = rnd_no * 500
        target = rnd.randrange(1, a.sets)          # the SET during which the kill lands
        delay = rnd.uniform(0, 0.0005)             # ... this long after it was sent
        killer = threading.Timer(delay, lambda: os.kill(pid, signal.SIGKILL))
        sent = ok = 0
        for i in range(a.sets):
            key = "crash-key-%06d" % (base + rnd.randrange(a.sets) if i % 7 == 6 else base + i)
            value = "r%d-%d-%s" % (rnd_no, i, "x" * rnd.randrange(0, 300))
            prev = acked.get(key, set())
            acked[key] = prev | {value.encode()}  # in flight: old or new value may be there
            msg, _ = emu.build_request({"op": "set", "pool": 1, "key": key, "value": value})
            if sent == target:
                killer.start()
            try:
                res = k.transact(msg)
            except emu.DaemonGone:
                res = {"error": None}  # killed before this SET was sent
            sent += 1
            if res.get("error") == 0:
                acked[key] = {value.encode()}
                ok += 1
            else:
                if not prev:
                    # never acknowledged: may or may not be there
                    del acked[key]
                break
        killer.join()
        k.daemon.wait()
        k.close()
        problems, records = check_pool(pool_dir, acked)
        if problems:
            failed += 1
            print("round %2d: FAIL after %d acked SETs (kill during SET #%d): %s" % (
                rnd_no, ok, target, "; ".join(problems[:5])))
        else:
            passed += 1
            print("round %2d: ok   killed during SET #%5d (+%3.0f us), %5d acked; file has %6d records, all acked present" % (
                rnd_no, target, delay * 1e6, ok, records))
    subprocess.run(["rm", "-rf", work])
    print("kvp-crash: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
