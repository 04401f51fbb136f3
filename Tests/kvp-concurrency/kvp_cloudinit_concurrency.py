#!/usr/bin/python3
"""kvp_cloudinit_concurrency - cloud-init's real HyperVKvpReportingHandler
appends to pool 1 while `hvagent kvp-daemon` serves host ENUMERATEs and
SETs of pool 1 and the `kvp` CLI writes keys into the same file.

Must run under Debian's /usr/bin/python3, which imports the `cloud-init`
package (installed by scripts/setup.sh with service start-up disabled).
The handler's kvp_file_path points into a private temp dir, the daemon
talks to the kernel emulator through the peer harness's shim: nothing of
the machine's real state is touched and no root is needed.

Afterwards every record is accounted for: every cloud-init event, every
CLI key (last value) and every host SET is in .kvp_pool_1 exactly once, the
file is whole records, every record is valid UTF-8 with zero padding, and
every item the host enumerated during the run was a whole record.
Prints a summary table and a closing "N passed, N failed" line.
"""
import argparse
import json
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, ".build", "debug"))
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--cli-keys", type=int, default=150)
    ap.add_argument("--host-sets", type=int, default=500)
    ap.add_argument("--reference", action="store_true",
                    help="run the real hv_kvp_daemon instead (for comparison; expected to lose records)")
    a = ap.parse_args()
    try:
        from cloudinit.reporting import events
        from cloudinit.reporting.handlers import HyperVKvpReportingHandler
    except ImportError as e:
        print("kvp-cloudinit: FAILED: cloud-init not importable by %s (%s); "
              "scripts/setup.sh installs it" % (sys.executable, e))
        print("kvp-cloudinit: 0 passed, 1 failed")
        return 1

    work = tempfile.mkdtemp(prefix="kvp-ci.")
    shim = os.path.join(work, "hvkvp_shim.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim,
                    os.path.join(PEER, "hvkvp_shim.c"), "-ldl"], check=True)
    pool_dir = os.path.join(work, "pool")
    os.mkdir(pool_dir)
    pool1 = os.path.join(pool_dir, ".kvp_pool_1")
    k = emu.KernelEmulator(os.path.join(work, "sock"), op_timeout=30)
    k.listen()
    if a.reference:
        # the shim rewrites hv_kvp_daemon's /var/lib/hyperv to the temp dir
        k.spawn(["/usr/sbin/hv_kvp_daemon", "-n"],
                env={"LD_PRELOAD": shim, "HV_KVP_POOL_DIR": pool_dir},
                log_path=os.path.join(work, "daemon.log"))
    else:
        k.spawn([os.path.join(a.build, "hvagent"), "kvp-daemon", "--pool-dir", pool_dir],
                env={"LD_PRELOAD": shim}, log_path=os.path.join(work, "daemon.log"))
    k.ensure_ready(10)

    handler = HyperVKvpReportingHandler(kvp_file_path=pool1)
    incarnation = handler.incarnation_no
    cli_errors = []

    def publish():
        for i in range(a.events):
            handler.publish_event(events.ReportingEvent(
                "concurrency", "event-%05d" % i, "description of event %d " % i + "d" * (i % 200)))
        handler.flush()

    def cli():
        for i in range(a.cli_keys):
            r = subprocess.run([os.path.join(a.build, "kvp"), "set", "cli-key-%03d" % (i % 50),
                                "cli-value-%d" % i, "--pool-dir", pool_dir], capture_output=True)
            if r.returncode:
                cli_errors.append(r.stderr.decode())

    threads = [threading.Thread(target=publish), threading.Thread(target=cli)]
    for t in threads:
        t.start()
    # Host side, on this thread: SETs of pool 1 interleaved with full walks.
    bad_items, walks, host_fail = [], 0, 0
    for i in range(a.host_sets):
        m, _ = emu.build_request({"op": "set", "pool": 1, "key": "host-key-%04d" % i,
                                  "value": "host-value-%d" % i})
        if k.transact(m).get("error") != 0:
            host_fail += 1
        if i % 25 == 0:
            walks += 1
            r = k.run_op({"op": "enumerate_all", "pool": 1, "limit": 100000})
            if r["end_status"] != "HV_S_CONT":
                bad_items.append("walk ended with %s" % r["end_status"])
            for it in r["items"]:
                if it["status"] == "HV_S_OK" and (not it["key"] or it["host"]["status"] != "HV_S_OK"):
                    bad_items.append(it)
    for t in threads:
        t.join()
    final_walk = k.run_op({"op": "enumerate_all", "pool": 1, "limit": 100000})
    k.stop_daemon()
    k.close()

    data = open(pool1, "rb").read()
    recs = []
    torn = []
    for i in range(len(data) // RECORD):
        r = data[i * RECORD:(i + 1) * RECORD]
        key, value = emu.cstr(r[:512]), emu.cstr(r[512:])
        try:
            key.decode(), value.decode()
        except UnicodeDecodeError:
            torn.append(i)
        if not key or any(r[len(key):512]) or any(r[512 + len(value):]):
            torn.append(i)
        recs.append((key.decode("utf-8", "replace"), value.decode("utf-8", "replace")))
    keys = [kk for kk, _ in recs]
    prefix = "CLOUD_INIT|%d|concurrency|" % incarnation
    ci_names = []
    for kk, vv in recs:
        if kk.startswith(prefix):
            try:
                ci_names.append(json.loads(vv)["name"])
            except ValueError:
                torn.append(kk)
    expected_ci = {"event-%05d" % i for i in range(a.events)}
    host_keys = {"host-key-%04d" % i for i in range(a.host_sets)}
    last_cli = {}
    for i in range(a.cli_keys):
        last_cli["cli-key-%03d" % (i % 50)] = "cli-value-%d" % i
    values = dict(recs)
    # cloud-init's own reader (strict UTF-8, strips NULs) must see exactly our records.
    try:
        ci_view = [(kv["key"], kv["value"]) for kv in handler._iterate_kvps(0)]
        ci_read_error = None
    except Exception as e:  # a stale byte after a NUL would surface here or in the values
        ci_view, ci_read_error = [], repr(e)
    checks = [
        ("file is whole records", len(data) % RECORD == 0, "%d bytes" % len(data)),
        ("no torn / non-UTF-8 / dirty-padding record", not torn, "%d bad" % len(torn)),
        ("every cloud-init event present once", sorted(ci_names) == sorted(expected_ci),
         "%d of %d, %d duplicates" % (len(set(ci_names) & expected_ci), len(expected_ci),
                                       len(ci_names) - len(set(ci_names)))),
        ("every host SET acknowledged and present once",
         host_fail == 0 and all(keys.count(h) == 1 for h in host_keys),
         "%d failed, %d present" % (host_fail, len(host_keys & set(keys)))),
        ("every CLI key present once with its last value",
         not cli_errors and all(keys.count(c) == 1 and values[c] == v for c, v in last_cli.items()),
         "%d CLI errors" % len(cli_errors)),
        ("nothing else in the file", len(recs) == len(expected_ci) + len(host_keys) + len(last_cli),
         "%d records" % len(recs)),
        ("cloud-init's own reader sees exactly these records", ci_read_error is None and ci_view == recs,
         ci_read_error or "%d records" % len(ci_view)),
        ("host walks saw only whole records (%d walks)" % walks, not bad_items, "%d bad" % len(bad_items)),
        ("final host walk sees every record", final_walk["count_ok"] == len(recs),
         "%d of %d" % (final_walk["count_ok"], len(recs))),
    ]
    passed = sum(1 for _, ok, _ in checks if ok)
    for name, ok, detail in checks:
        print("%-4s %-55s %s" % ("ok" if ok else "FAIL", name, detail))
    subprocess.run(["rm", "-rf", work])
    print("kvp-cloudinit: %d passed, %d failed" % (passed, len(checks) - passed))
    return 0 if passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
