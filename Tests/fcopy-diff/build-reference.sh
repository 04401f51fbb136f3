#!/usr/bin/env bash
# Builds Linux's hv_fcopy_uio_daemon, unmodified, from Debian's linux-source-6.12 package, and the
# LD_PRELOAD shim (uio_shim.c) that runs it against `hvagent sim-host`.
#
# tools/hv/hv_fcopy_uio_daemon.c, tools/hv/vmbus_bufring.{c,h} and include/uapi/linux/hyperv.h come
# from scripts/peers/linux-tools-hv.sh (the package extracted into a cache); nothing is copied into
# the repository.
#
# Usage: Tests/fcopy-diff/build-reference.sh
#   prints the cache directory holding hv_fcopy_uio_daemon and uio_shim.so; exits 2 with the reason
#   on standard error when the package cannot be had (no apt, no network).
# Cache: $HVAGENT_PEERS (default /var/tmp/hvagent-peers)/fcopy-uio-<package version>; later runs only
# rebuild the shim if it changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="${HVAGENT_PEERS:-/var/tmp/hvagent-peers}"

command -v gcc >/dev/null || { echo "gcc missing (scripts/setup.sh installs it)" >&2; exit 2; }
src="$("$here/../../scripts/peers/linux-tools-hv.sh")"
cache="$peers/fcopy-uio-$(cat "$src/VERSION")"
mkdir -p "$cache" 2>/dev/null || { echo "cannot write the cache $cache (set HVAGENT_PEERS)" >&2; exit 2; }

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
