#!/bin/bash
# scripts/vm/build-image.sh [OUTDIR]: the Debian 12 test VM image (systemd as PID 1) for
# scripts/vm-test.sh. Derived from the recipe in ../shared/vm/ (build-image.sh, measured there:
# ~40 s); the project's own copy adds the packages the checks need and the guest runner.
#   OUTDIR/rootfs.img (raw ext4, root=/dev/vda), vmlinux (uncompressed, PVH boot), initrd.img
# Env: IMG_SIZE (2G).
# Needs (root): qemu-system-x86 mmdebstrap e2fsprogs python3 (scripts/setup.sh installs them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build-image.sh OUTDIR}
IMG_SIZE=${IMG_SIZE:-2G}
# shellcheck source=packages.sh
. "$HERE/packages.sh"

mirrors=()
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  [ -s "$f" ] && grep -q -v '^#' "$f" && { mirrors=("$f"); break; }
done
mkdir -p "$OUT"
ROOT="$OUT/rootfs.dir"
rm -rf "$ROOT" "$OUT/rootfs.img"
t0=$(date +%s.%N)
# Small initrd: only what mounts an ext4 root on virtio-blk.
INITRD_HOOK='#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk ext4 crc32c_generic'

mmdebstrap --variant=minbase --include="$VM_PACKAGES" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"; printf "MODULES=list\nRESUME=none\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/vmtest"' \
  --essential-hook="printf '%s\n' '$INITRD_HOOK' > \"\$1/etc/initramfs-tools/hooks/vmtest\"; chmod 755 \"\$1/etc/initramfs-tools/hooks/vmtest\"" \
  --customize-hook='echo vmtest > "$1/etc/hostname"' \
  --customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 vmtest\n" > "$1/etc/hosts"' \
  --customize-hook='echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" > "$1/etc/fstab"' \
  --customize-hook='chroot "$1" passwd -d root' \
  --customize-hook="copy-in $HERE/guest/vmtest-runner /usr/local/sbin/" \
  --customize-hook="copy-in $HERE/guest/vmtest-runner.service /etc/systemd/system/" \
  --customize-hook='chmod 755 "$1/usr/local/sbin/vmtest-runner"; chroot "$1" systemctl enable vmtest-runner.service' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service e2scrub_all.timer fstrim.timer man-db.timer 2>/dev/null || true' \
  --customize-hook='printf "9p\n9pnet_virtio\n" > "$1/etc/modules-load.d/9p.conf"' \
  --customize-hook='chroot "$1" systemctl disable NetworkManager.service NetworkManager-wait-online.service NetworkManager-dispatcher.service 2>/dev/null || true' \
  --customize-hook='cp -L "$1/vmlinuz" "$1/../vmlinuz" && cp -L "$1/initrd.img" "$1/../initrd.img"' \
  bookworm "$ROOT" "${mirrors[@]}"
t1=$(date +%s.%N)
python3 "$HERE/extract-vmlinux.py" "$OUT/vmlinuz" "$OUT/vmlinux"
rm -rf "$ROOT/var/cache/apt/archives/"*.deb "$ROOT/var/lib/apt/lists/"*_Packages 2>/dev/null || true
mkfs.ext4 -q -F -L vmroot -E root_owner=0:0 -d "$ROOT" "$OUT/rootfs.img" "$IMG_SIZE"
t2=$(date +%s.%N)
rm -rf "$ROOT"
echo "vm image: mmdebstrap $(echo "$t1-$t0" | bc)s, mkfs.ext4 -d $(echo "$t2-$t1" | bc)s -> $OUT"
