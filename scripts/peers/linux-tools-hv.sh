#!/usr/bin/env bash
# Prints a directory holding tools/hv and include/uapi/linux/hyperv.h of Debian's linux-source-6.12,
# extracted unmodified from the package into a cache the first time; nothing is copied into the
# repository. The peer tests build their reference daemons from here (Tests/kvp-setip:
# hv_kvp_daemon; Tests/fcopy-diff: hv_fcopy_uio_daemon). The package version is in VERSION.
# Exits 2 with the reason on standard error when the package cannot be had (no apt lists, no
# network) and no earlier extraction is cached.
#   HVAGENT_PEERS  cache directory (default /var/tmp/hvagent-peers); the first run downloads
#                  ~150 MB and decompresses the tarball (~20-30 s).
set -euo pipefail
peers="${HVAGENT_PEERS:-/var/tmp/hvagent-peers}"
package=linux-source-6.12
candidate() { apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
cached() { ls -d "$peers/$package"-*/.complete 2>/dev/null | sort | tail -n 1 | xargs -r dirname; }
version="$(candidate)"
if { [ -z "$version" ] || [ "$version" = "(none)" ]; } && [ "$(id -u)" = 0 ] && [ -z "$(cached)" ]; then
  # A fresh machine may have no package lists yet (scripts/setup.sh updates only when it installs).
  apt-get update -qq >/dev/null 2>&1 || true
  version="$(candidate)"
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  out="$(cached)"
  [ -n "$out" ] || { echo "$package is not available from apt here" >&2; exit 2; }
  echo "$out"
  exit 0
fi
out="$peers/$package-$version"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi
mkdir -p "$peers" 2>/dev/null || { echo "cannot write the cache $peers (set HVAGENT_PEERS)" >&2; exit 2; }
work="$(mktemp -d "$peers/.extract.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$package=$version" >/dev/null 2>"$work/apt.log") || {
  echo "cannot download $package $version: $(tail -n 1 "$work/apt.log")" >&2; exit 2; }
mkdir -p "$work/src"
dpkg-deb --fsys-tarfile "$work"/"$package"_*.deb \
  | tar -xO "./usr/src/$package.tar.xz" \
  | tar -xJ -C "$work/src" --strip-components=1 "$package/tools/hv" "$package/include/uapi/linux/hyperv.h"
echo "$version" > "$work/src/VERSION"
touch "$work/src/.complete"
rm -rf "$out"
mv "$work/src" "$out"
echo "$out"
