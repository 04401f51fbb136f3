#!/usr/bin/env bash
# Prints a directory holding tools/hv and include/uapi/linux/hyperv.h of Debian's linux-source-6.12,
# extracted (unmodified) from the package into a cache the first time; nothing is copied into the
# repository. The reference daemons the peer tests build (hv_kvp_daemon, hv_fcopy_uio_daemon) come
# from here. Exit 3 with a reason on stderr when the package cannot be had.
#   HVAGENT_PEER_CACHE  cache directory (default /var/tmp/hvagent-peers)
set -euo pipefail
cache=${HVAGENT_PEER_CACHE:-/var/tmp/hvagent-peers}
package=linux-source-6.12
out=$cache/$package
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/.extract.XXXXXX")
trap 'rm -rf "$work"' EXIT
deb=$(ls /var/cache/apt/archives/${package}_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
  (cd "$work" && apt-get download "$package" >/dev/null 2>&1) || { echo "cannot download $package (apt-get download failed)" >&2; exit 3; }
  deb=$(ls "$work"/${package}_*.deb | tail -1)
fi
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" ./usr/src/$package.tar.xz
tar -xJf "$work/usr/src/$package.tar.xz" -C "$work" \
  $package/tools/hv $package/include/uapi/linux/hyperv.h
dpkg-deb -f "$deb" Version > "$work/$package/VERSION"
rm -rf "$out"
mv "$work/$package" "$out"
touch "$out/.complete"
echo "$out"
