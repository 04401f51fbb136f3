#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Idempotent: installs only what is
# missing and runs `apt-get update` only when a package cannot be found in the current lists.
set -euo pipefail

packages=(
    # NetInfo: libnl-3 / libnl-route-3 headers and libraries (Sources/CNetlink), found via pkg-config.
    libnl-3-dev libnl-route-3-dev pkg-config
    # NetInfo tests: `ip` (veth/bridge interfaces, `ip -j addr`), `unshare` for a private network
    # and UTS namespace, `hostname`, `timeout`.
    iproute2 util-linux hostname coreutils
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi
