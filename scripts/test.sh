#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup.sh), then runs the whole suite.
# Tests that need root (network namespaces, mounts) skip with a printed reason when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
# hvagent's ring against DPDK's own VMBus ring code (librte_bus_vmbus), both ways, on a channel file
# (skips with the reason without root or unprivileged user namespaces; about 10 s).
scripts/dpdk-interop.sh .build/debug/ring-peer
# KVP against the real hv_kvp_daemon and real pool-file writers (each skips with a reason when not root).
python3 Tests/kvp-diff/kvp_diff.py --hvagent .build/debug/hvagent
python3 Tests/kvp-crash/kvp_crash.py --hvagent .build/debug/hvagent --rounds 20 --sets 10000
# VSS against the real hv_vss_daemon behind an emulated /dev/vmbus/hv_vss, on loop filesystems the
# test makes in a private mount namespace (Tests/vss-diff/README.md; 8-15 s, most of it hvagent's
# 1 s reopen delay after a device failure; root, else skipped).
python3 Tests/vss-diff/vss_diff.py --hvagent .build/debug/hvagent
# Pool-file faults: a lock held past the timeout, a full and a read-only pool directory (~8 s).
python3 Tests/kvp-faults/kvp_faults.py --hvagent .build/debug/hvagent
/usr/bin/python3 Tests/kvp-concurrency/kvp_cloudinit_concurrency.py --build .build/debug
# File copy against Linux's hv_fcopy_uio_daemon (built from linux-source-6.12, run through the uio
# shim; skips with the reason when the package cannot be had): 25 scenarios up to 100 MiB, ~17 s
# at load 30 on 2 cores (the 100 MiB copy is most of it), plus ~15 s for the first download and
# build into /var/tmp/hvagent-peers.
python3 Tests/fcopy-diff/fcopy_diff.py --hvagent .build/debug/hvagent
# SET_IP_INFO against Linux 6.12's hv_kvp_daemon built from Debian's linux-source-6.12: same status,
# byte-identical ifcfg and keyfile (root: private mount and network namespaces; ~15 s, plus ~20 s
# the first time to extract the source package into /var/tmp/hvagent-peers).
python3 Tests/kvp-setip/kvp_setip.py --hvagent .build/debug/hvagent
# The packages: the .deb and .rpm from a release build, then lintian, rpmlint, the unit's
# systemd-analyze checks and an install into a throwaway root (packaging/README.md). About 70 s
# from a fresh clone on 2 cores, so in CI (CI=true) or on request (HVAGENT_PACKAGE_TESTS=1).
if [ "${CI:-}" = true ] || [ "${HVAGENT_PACKAGE_TESTS:-}" = 1 ]; then
  scripts/package.sh
  scripts/check-packages.sh
else
  echo "package tests: skipped (set HVAGENT_PACKAGE_TESTS=1 to build and check the .deb and .rpm; CI=true does)"
fi
# End to end in a real Debian 12 VM (systemd as PID 1, QEMU/TCG; ../shared/vm/README.md): the
# .deb built above, its shipped unit, every service acting for real, the package life cycle, host
# IP injection through systemd-networkd and NetworkManager (scripts/vm-test.sh, about 6 minutes:
# two VMs at once; the image is cached in /var/tmp/hvagent-vm, rebuilt in about 2 minutes when
# scripts/vm/packages.sh or the image scripts change).
# In CI or on request (HVAGENT_VM_TESTS=1, which builds the .deb itself).
if [ "${CI:-}" = true ] || [ "${HVAGENT_VM_TESTS:-}" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "vm tests: skipped (not root: the image is built with mmdebstrap and the .deb installed as root)"
  elif ! command -v qemu-system-x86_64 >/dev/null || ! command -v mmdebstrap >/dev/null; then
    echo "vm tests: skipped (qemu-system-x86_64 or mmdebstrap missing: scripts/setup.sh installs them)"
  elif ! qemu-system-x86_64 -accel help 2>/dev/null | grep -qx tcg; then
    echo "vm tests: skipped (this QEMU has no TCG accelerator; KVM alone cannot boot the guest here, see ../shared/vm/README.md)"
  elif [ "${CI:-}" = true ]; then
    scripts/vm-test.sh --no-build
  else
    scripts/vm-test.sh
  fi
else
  echo "vm tests: skipped (set HVAGENT_VM_TESTS=1 to run scripts/vm-test.sh; CI=true does)"
fi
# Fuzz smoke: every libFuzzer target for 30 s from its seed corpus (libFuzzer + AddressSanitizer
# build; a crash fails the run and leaves its input in .build-fuzz/artifacts/). A target runs on one
# core, so they run as many at a time as there are cores, each for its full 30 s: about 3.5 minutes
# for 12 targets on 2 cores (the first one alone, as it builds the fuzz binary). In CI or on request
# (HVAGENT_FUZZ_SMOKE=1).
if [ "${CI:-}" = true ] || [ "${HVAGENT_FUZZ_SMOKE:-}" = 1 ]; then
  fuzz_one() {  # one target's summary lines; fails if the target failed
    local out rc=0
    out=$(scripts/fuzz.sh "$1" 30 2>&1) || rc=$?
    grep -E "^(Done|==[0-9]+==|SUMMARY)|deadly" <<<"$out" | sed "s/^/fuzz $1: /" || true
    [ "$rc" = 0 ] || { echo "fuzz $1: FAILED"; return 1; }
  }
  export -f fuzz_one
  targets=$(ls Tests/Fuzz/corpus)
  fuzz_one "$(head -n 1 <<<"$targets")"
  tail -n +2 <<<"$targets" | xargs -P "$(nproc)" -I{} bash -c 'fuzz_one "$1"' _ {} || { echo "fuzz smoke: FAILED"; exit 1; }
else
  echo "fuzz smoke: skipped (set HVAGENT_FUZZ_SMOKE=1 to run every fuzz target for 30 s; CI=true does)"
fi
