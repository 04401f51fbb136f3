#!/usr/bin/env python3
"""Idle wake-ups of a KVP daemon once it has settled (docs/PERFORMANCE.md).

The shared emulator's `bench` opens its idle window the instant it has answered the daemon's
registration, so the window also holds the daemon's last steps into poll()/read() (logging the
"KVP LIC Version" line, the FQDN lookup thread's first milliseconds): strace shows no system call
after that, yet one or two timeslices land in the window on some runs. This measures the same
counters (the main thread's timeslices from /proc/PID/schedstat, and every thread's context
switches) over a window that starts SETTLE seconds after registration, through the emulator's
own spawn and registration code (imported from the peer harness, see README.md; not modified).

    idle.py --emu PATH --socket PATH --spawn "CMD" [--preload SO] [--runs 3] [--settle 1] [--seconds 10]
"""
import argparse
import importlib.util
import json
import os
import signal
import shlex
import time


def load_emulator(path):
    spec = importlib.util.spec_from_file_location("kvp_kernel_emu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counters(pid):
    """Main-thread timeslices and the context switches of every thread."""
    with open("/proc/%d/schedstat" % pid) as f:
        timeslices = int(f.read().split()[2])
    switches = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, task)) as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split(":")[1])
    return timeslices, switches


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--emu", required=True)
    p.add_argument("--socket", default=os.environ.get("HV_KVP_SOCKET"))
    p.add_argument("--spawn", required=True)
    p.add_argument("--preload")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    emu_module = load_emulator(args.emu)
    results = []
    for run in range(args.runs):
        emu = emu_module.KernelEmulator(args.socket, op_timeout=30, on_event=lambda e: None)
        emu.listen()
        try:
            env = {"LD_PRELOAD": os.path.abspath(args.preload)} if args.preload else None
            pid = emu.spawn(shlex.split(args.spawn), env=env)
            emu.ensure_ready(30)
            time.sleep(args.settle)
            slices_before, switches_before = counters(pid)
            time.sleep(args.seconds)
            slices_after, switches_after = counters(pid)
            threads = len(os.listdir("/proc/%d/task" % pid))
        finally:
            emu.close()
            # hvagent kvp-daemon outlives a closed device by design (it reopens it with a
            # back-off, as after a kernel-side close); the measurement is over, so end it.
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (NameError, ProcessLookupError, ChildProcessError):
                pass
        result = {"run": run, "settle_s": args.settle, "window_s": args.seconds, "threads": threads,
                  "main_thread_timeslices": slices_after - slices_before,
                  "context_switches_all_threads": switches_after - switches_before}
        results.append(result)
        print(json.dumps(result), flush=True)
    worst = max(r["main_thread_timeslices"] + r["context_switches_all_threads"] for r in results)
    print(json.dumps({"summary": True, "runs": args.runs, "worst_wakeups": worst}))


if __name__ == "__main__":
    main()
