#!/bin/bash
# scripts/vm/image.sh: prints the directory of the cached test VM image, building it first when
# missing or stale. The cache lives outside the clone (HVAGENT_VM_CACHE, /var/tmp/hvagent-vm) and
# is keyed by the package list and the image scripts (packages.sh, build-image.sh, the guest
# runner, extract-vmlinux.py): any change there gives a new key, and older images are removed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${HVAGENT_VM_CACHE:-/var/tmp/hvagent-vm}
key=$(cat "$HERE/packages.sh" "$HERE/build-image.sh" "$HERE/extract-vmlinux.py" "$HERE"/guest/* | sha256sum | cut -c1-16)
dir=$CACHE/image-$key
if [ -s "$dir/rootfs.img" ] && [ -s "$dir/vmlinux" ] && [ -s "$dir/initrd.img" ] && [ -e "$dir/complete" ]; then
  echo "$dir"; exit 0
fi
mkdir -p "$CACHE"
for old in "$CACHE"/image-*; do [ -d "$old" ] && [ "$old" != "$dir" ] && rm -rf "$old"; done
rm -rf "$dir"
"$HERE/build-image.sh" "$dir" >"$CACHE/build-image.log" 2>&1 || { tail -30 "$CACHE/build-image.log" >&2; echo "vm image build failed (log: $CACHE/build-image.log)" >&2; exit 1; }
touch "$dir/complete"
echo "$dir"
