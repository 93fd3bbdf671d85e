#!/bin/busybox sh
# /init of the test guest (busybox only). It brings up just enough for the
# host's own Python, venv and tests to run unchanged on a real kernel:
# modules, the host root read-only over 9p, a writable 9p share for results.
# Then it runs /run/rescue-results/cmd.sh (written by the host for each boot)
# in a chroot of the host root, stores its exit code and powers off.
# Scratch space is a tmpfs on /run (TMPDIR=/run/tmp); /tmp gets one too,
# unless the kernel command line says rescue.keep_tmp (the repo is under /tmp).
# Debian's kernel does not mount devtmpfs by itself (CONFIG_DEVTMPFS_MOUNT=n).

/bin/busybox mkdir -p /proc /sys /dev /host /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

say() { echo "rescue-init: $*"; }

# load.list: one module per line in dependency order, then its parameters.
while read -r module params; do
    # shellcheck disable=SC2086 # parameters are separate words on purpose
    insmod "/modules/$module" $params 2>/dev/null || say "insmod $module failed (skipped)"
done </modules/load.list
mount -t configfs configfs /sys/kernel/config

P9="trans=virtio,version=9p2000.L,msize=262144"
if ! mount -t 9p -o "$P9,ro,cache=loose" hostroot /host; then
    say "cannot mount the host root over 9p"
    poweroff -f
fi
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t configfs configfs /host/sys/kernel/config
mount -t devtmpfs devtmpfs /host/dev
mount -t tmpfs -o mode=755 tmpfs /host/run
mkdir -p -m 1777 /host/run/tmp
grep -q rescue.keep_tmp /proc/cmdline || mount -t tmpfs -o mode=1777 tmpfs /host/tmp
RESULTS=/run/rescue-results
mkdir -p "/host$RESULTS"
mount -t 9p -o "$P9,cache=none" results "/host$RESULTS"

say "ready at $(cut -d' ' -f1 /proc/uptime) s uptime"
chroot /host /bin/sh "$RESULTS/cmd.sh"
rc=$?
say "command exited $rc at $(cut -d' ' -f1 /proc/uptime) s uptime"
echo "$rc" >"/host$RESULTS/rc"
sync
umount "/host$RESULTS"
poweroff -f
