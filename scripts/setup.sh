#!/bin/bash
# setup.sh - install the Debian packages the build and the tests need.
# Idempotent: installs only what is missing and runs `apt-get update` only
# when something has to be installed.  Packages that ship services
# (hyperv-daemons, cloud-init) are installed with service start-up disabled
# through a temporary /usr/sbin/policy-rc.d that exits 101, so installing
# them never touches the machine's real state.
set -euo pipefail

# Build/test tools and the peers the differential tests run against.
PACKAGES=(
    gcc python3 util-linux    # shim build, kernel emulator, unshare
    hyperv-daemons            # the real hv_kvp_daemon (differential tests, benchmark)
    cloud-init                # HyperVKvpReportingHandler (pool-file concurrency test)
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi

# Keep services from starting during the install (restored afterwards).
restore=""
if [ -e /usr/sbin/policy-rc.d ]; then
    restore="$(mktemp)"
    cp -p /usr/sbin/policy-rc.d "$restore"
fi
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
cleanup() {
    if [ -n "$restore" ]; then mv "$restore" /usr/sbin/policy-rc.d; else rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
