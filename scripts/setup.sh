#!/usr/bin/env bash
# Installs what building and testing hvagent needs on Debian/Ubuntu. Idempotent: it only calls apt
# when a package is missing. Packages that ship services (chrony, cloud-init, hyperv-daemons) are
# installed with service start-up disabled (a policy-rc.d that exits 101), so nothing starts on this
# machine.
set -euo pipefail

PACKAGES=(
  gcc libc6-dev make pkg-config python3   # C reference ring and peers used by the tests
  libnl-3-dev libnl-route-3-dev           # CNetlink (auto pool addresses)
  iproute2 util-linux hostname coreutils  # network-namespace tests (ip, unshare)
  hyperv-daemons                          # the real hv_kvp_daemon and hv_vss_daemon (differential tests, benchmarks)
  cloud-init                              # HyperVKvpReportingHandler (pool-file concurrency test)
  dpkg-dev rpm lintian rpmlint            # scripts/package.sh, scripts/check-packages.sh
  systemd man-db binutils                 # systemd-analyze verify/security, readelf/strip; systemd-networkd (NetworkdBackendNamespaceTests)
  dbus-daemon                             # PrivateBus: a private bus for SystemBusTests and NetworkdBackendTests (its service is not started)
  chrony                                  # timesync chrony SOCK refclock interop test (service not started)
  qemu-system-x86 mmdebstrap e2fsprogs bc # scripts/vm-test.sh: the Debian 12 test VM (TCG) and its image
  xfsprogs                                # VSS real-freeze tests (loop-mounted xfs; e2fsprogs gives ext4)
  xz-utils                                # Tests/fcopy-diff: hv_fcopy_uio_daemon out of linux-source-6.12's tarball
  libdpdk-dev                             # DPDK's VMBus ring (librte_bus_vmbus) for scripts/dpdk-interop.sh
  netplan.io                              # NetplanBackendTests: netplan's own `generate --root-dir` parses hvagent's YAML (no service; its generator writes nothing while /etc/netplan is empty)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
restore=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  restore=1
fi
trap '[ -n "$restore" ] && $SUDO rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
