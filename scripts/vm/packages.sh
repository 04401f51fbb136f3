# The test VM's Debian packages (sourced by build-image.sh and image.sh; part of the image key).
# Base (as ../shared/vm/): systemd as PID 1, udev, dbus, a kernel and a small initrd.
# For the checks: chrony (SOCK refclock), e2fsprogs/xfsprogs (filesystems to freeze, VSS),
# libnl (hvagent's run-time dependencies: the guest has no network, apt-get install ./x.deb
# must find them), python3-minimal (clock measurements), the two network managers SET_IP_INFO is
# applied through: systemd's own networkd and network-manager (disabled at boot by build-image.sh;
# the checks start the one under test), ca-certificates-free apt, util-linux (fsfreeze).
VM_PACKAGES=systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,kmod,iproute2,procps,zstd
VM_PACKAGES+=,chrony,e2fsprogs,xfsprogs,libnl-3-200,libnl-route-3-200,python3-minimal,util-linux,apt,network-manager
