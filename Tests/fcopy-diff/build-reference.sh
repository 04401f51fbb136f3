#!/usr/bin/env bash
# Builds Linux's hv_fcopy_uio_daemon, unmodified, from Debian's linux-source-6.12 package, and the
# LD_PRELOAD shim (uio_shim.c) that runs it against `hvagent sim-host`.
#
# Only tools/hv/hv_fcopy_uio_daemon.c, tools/hv/vmbus_bufring.{c,h} and include/uapi/linux/hyperv.h
# are taken out of the package (apt-get download, dpkg-deb --fsys-tarfile, then those files out of
# /usr/src/linux-source-6.12.tar.xz) into a cache; nothing is copied into the repository.
#
# Usage: Tests/fcopy-diff/build-reference.sh
#   prints the cache directory holding hv_fcopy_uio_daemon and uio_shim.so; exits 2 with the reason
#   on standard error when the package cannot be had (no apt, no network).
# Cache: $HVAGENT_PEERS (default /var/tmp/hvagent-peers)/fcopy-uio-<package version>. The first run
# downloads ~150 MB and decompresses the tarball (~30 s); later runs only rebuild the shim if changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="${HVAGENT_PEERS:-/var/tmp/hvagent-peers}"
package=linux-source-6.12

command -v gcc >/dev/null || { echo "gcc missing (scripts/setup.sh installs it)" >&2; exit 2; }
candidate() { apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
version="$(candidate)"
if { [ -z "$version" ] || [ "$version" = "(none)" ]; } && [ "$(id -u)" = 0 ] && ! ls -d "$peers"/fcopy-uio-* >/dev/null 2>&1; then
  # A fresh machine may have no package lists yet (scripts/setup.sh updates only when it installs).
  apt-get update -qq >/dev/null 2>&1 || true
  version="$(candidate)"
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  # No candidate (no package lists, no network): use a cache built earlier, if any.
  cache="$(ls -d "$peers"/fcopy-uio-* 2>/dev/null | sort | tail -n 1 || true)"
  [ -n "$cache" ] || { echo "$package is not available from apt here" >&2; exit 2; }
else
  cache="$peers/fcopy-uio-$version"
fi
src="$cache/src"
mkdir -p "$cache" 2>/dev/null || { echo "cannot write the cache $cache (set HVAGENT_PEERS)" >&2; exit 2; }

if [ ! -f "$src/tools/hv/hv_fcopy_uio_daemon.c" ]; then
  work="$(mktemp -d "$peers/fcopy-download.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -q "$package=$version" >/dev/null 2>"$work/apt.log") || {
    echo "cannot download $package $version: $(tail -n 1 "$work/apt.log")" >&2; exit 2; }
  mkdir -p "$work/src"
  dpkg-deb --fsys-tarfile "$work"/"$package"_*.deb \
    | tar -xO "./usr/src/$package.tar.xz" \
    | tar -xJ -C "$work/src" --strip-components=1 \
        "$package/tools/hv/hv_fcopy_uio_daemon.c" "$package/tools/hv/vmbus_bufring.c" \
        "$package/tools/hv/vmbus_bufring.h" "$package/include/uapi/linux/hyperv.h"
  rm -rf "$src"
  mv "$work/src" "$src"
fi

# The daemon as tools/hv/Makefile builds it (the package's own uapi header first on the path);
# no _FORTIFY_SOURCE, so its open/read/pread/write calls are the plain symbols the shim interposes.
if [ ! -x "$cache/hv_fcopy_uio_daemon" ]; then
  mkdir -p "$cache/include/linux"
  cp "$src/include/uapi/linux/hyperv.h" "$cache/include/linux/hyperv.h"
  gcc -O2 -Wall -U_FORTIFY_SOURCE -I"$cache/include" -I"$src/tools/hv" -o "$cache/hv_fcopy_uio_daemon.tmp" \
    "$src/tools/hv/hv_fcopy_uio_daemon.c" "$src/tools/hv/vmbus_bufring.c" 2>"$cache/build.log" || {
    cat "$cache/build.log" >&2; exit 1; }
  mv "$cache/hv_fcopy_uio_daemon.tmp" "$cache/hv_fcopy_uio_daemon"
fi
if [ ! -f "$cache/uio_shim.so" ] || [ "$here/uio_shim.c" -nt "$cache/uio_shim.so" ]; then
  gcc -O2 -Wall -Wextra -shared -fPIC -o "$cache/uio_shim.so.tmp" "$here/uio_shim.c" -ldl
  mv "$cache/uio_shim.so.tmp" "$cache/uio_shim.so"
fi
echo "$cache"
