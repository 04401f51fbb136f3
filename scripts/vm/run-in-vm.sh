#!/bin/bash
# scripts/vm/run-in-vm.sh JOBDIR COMMAND: boots the test image (scripts/vm/image.sh) with JOBDIR
# as the guest's 9p share (/mnt/job; JOBDIR/files is the command's cwd), runs COMMAND as root
# once the boot has finished (guest/vmtest-runner), and waits until QEMU exits. Derived from
# ../shared/vm/run-in-vm.sh. The root disk is snapshot=on: the image is never modified; the
# snapshot lives as long as QEMU, so it survives a guest reboot when REBOOT=1.
# Prints the command's output; exits with its exit code (124: VM timed out, 125: no result).
# JOBDIR keeps console.log (serial console, host-timestamped), timings.txt, qemu.rc, output.txt.
# Env: IMAGE_DIR (required), MEM (MiB, 1024), SMP (2), TIMEOUT (s, 600), REBOOT=1 (a guest
#      reboot restarts the guest instead of ending QEMU), CPU (max,-svm,-la57; see the recipe's
#      README: KVM is unusable here, TCG only), APPEND (extra kernel arguments), NIC_MAC
#      (52:54:00:12:34:56: the NIC the SET_IP_INFO checks configure, virtio-net on a QEMU hub whose
#      only other port is a second NIC, 52:54:00:12:34:ee, that the checks move into a network
#      namespace as "another machine on the network"; no traffic leaves the VM).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n 2,13p "$0"; exit 2; }
JOB=$1; shift
CMD="$*"
: "${IMAGE_DIR:?IMAGE_DIR must name the image (scripts/vm/image.sh)}"
MEM=${MEM:-1024}; SMP=${SMP:-2}; TIMEOUT=${TIMEOUT:-600}
mkdir -p "$JOB/files"
chmod 755 "$JOB"
printf '#!/bin/bash\ncd /mnt/job/files || exit 125\n%s\n' "$CMD" > "$JOB/run.sh"
echo $((TIMEOUT - 30)) > "$JOB/guest-timeout"
rm -f "$JOB/boots" "$JOB/exitcode" "$JOB/output.txt"
noreboot=(-no-reboot); [ "${REBOOT:-0}" = 1 ] && noreboot=()
t0=$(date +%s.%N)
set +e
# -svm: no nested /dev/kvm in the guest; -la57: TCG with 5-level paging breaks mounts (recipe).
# no_timer_check: on a loaded host TCG delivers the first timer interrupts late and the guest
# kernel panics in its IO-APIC timer check ("IO-APIC + timer doesn't work!", seen once here).
"$HERE/tsrun.py" "$TIMEOUT" "$JOB/console.log" -- \
  qemu-system-x86_64 -accel tcg,thread=multi,tb-size=256 -cpu "${CPU:-max,-svm,-la57}" \
    -m "$MEM" -smp "$SMP" -nodefaults -display none "${noreboot[@]}" -serial stdio \
    -netdev hubport,id=nic0,hubid=0 -device virtio-net-pci,netdev=nic0,mac="${NIC_MAC:-52:54:00:12:34:56}" \
    -netdev hubport,id=peer0,hubid=0 -device virtio-net-pci,netdev=peer0,mac=52:54:00:12:34:ee \
    -kernel "$IMAGE_DIR/vmlinux" -initrd "$IMAGE_DIR/initrd.img" \
    -append "console=ttyS0 root=/dev/vda rw panic=-1 quiet loglevel=3 no_timer_check vmtest.job=1 ${APPEND:-}" \
    -drive file="$IMAGE_DIR/rootfs.img",format=raw,if=virtio,snapshot=on,cache=unsafe \
    -virtfs local,path="$JOB",mount_tag=job,security_model=none,id=job \
    -device virtio-rng-pci
qrc=$?
set -e
t1=$(date +%s.%N)
echo "$qrc" > "$JOB/qemu.rc"
mark() { grep "$1" "$JOB/console.log" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' | tr '\n' ' '; }
{
  echo "qemu_wall_s=$(echo "$t1 - $t0" | bc)"
  echo "booted_at_s=$(mark VMTEST-BOOTED)"
  echo "done_at_s=$(mark VMTEST-DONE)"
  echo "qemu_rc=$qrc"
} > "$JOB/timings.txt"
[ -f "$JOB/output.txt" ] && cat "$JOB/output.txt"
if [ "$qrc" = 124 ]; then echo "vm: TIMEOUT after ${TIMEOUT}s (see $JOB/console.log)" >&2; exit 124; fi
[ -f "$JOB/exitcode" ] || { echo "vm: no result (qemu rc=$qrc, see $JOB/console.log)" >&2; exit 125; }
exit "$(cat "$JOB/exitcode")"
