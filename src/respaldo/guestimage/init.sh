#!/bin/sh
# /init of respaldo's test guest: PID 1 in the initramfs, run by busybox sh.
#
# 1. mounts /proc, /sys, /dev (devtmpfs) and loads the modules listed in /etc/respaldo/modules
#    (written by the builder, in dependency order);
# 2. mounts the first virtio disk (/dev/vda, or respaldo.disk=<device> on the kernel command
#    line) at /data. It must hold an ext4 file system already: the guest has no mkfs.ext4, so
#    the host formats the disk before the first boot (mkfs.ext4 -q -F <raw image>);
# 3. starts qemu-ga on the virtio-serial port named org.qemu.guest_agent.0 (when the VM has
#    one) and busybox acpid, so that the ACPI power button (qm shutdown) and the agent's
#    guest-shutdown both run /sbin/shutdown: stop the workload, unmount /data, power off;
# 4. prints RESPALDO-GUEST-READY on the console (ttyS0), or RESPALDO-GUEST-ERROR: <why>;
# 5. runs /workload.sh /data, unless the kernel command line says respaldo.workload=0.
# PID 1 never exits: the kernel would panic.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu

say() { echo "respaldo-guest: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
idle() { while :; do sleep 3600; done; }
fail() {
    echo "RESPALDO-GUEST-ERROR: $*"
    idle
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /data /var/log
hostname respaldo-guest

# Value of respaldo.<name>= on the kernel command line ($2 when absent).
param() {
    for word in $(cat /proc/cmdline); do
        case "$word" in
            "respaldo.$1="*) echo "${word#*=}"; return ;;
        esac
    done
    echo "$2"
}

# wait_for TENTHS COMMAND...: run COMMAND every 0.1 s until it succeeds, at most TENTHS times.
wait_for() {
    tries=$1
    shift
    while ! "$@"; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

while read -r module; do
    insmod "/lib/modules/$module.ko" || say "insmod $module failed"
done < /etc/respaldo/modules

disk=$(param disk /dev/vda)
wait_for 100 test -b "$disk" || fail "no data disk $disk"
mount -t ext4 "$disk" /data ||
    fail "cannot mount $disk as ext4 (format it on the host first: mkfs.ext4 -q -F <image>)"

cat > /sbin/shutdown <<'EOF'
#!/bin/sh
# Called by qemu-ga (guest-shutdown: shutdown -P|-H|-r +0 ...) and by acpid (power button).
exec > /dev/console 2>&1
echo "respaldo-guest: shutting down"
[ -f /run/workload.pid ] && kill "$(cat /run/workload.pid)" 2>/dev/null
sleep 0.2
sync
umount /data 2>/dev/null || mount -o remount,ro /data
case "$1" in
    -r) reboot -f ;;
    *) poweroff -f ;;
esac
EOF
chmod 755 /sbin/shutdown
mkdir -p /etc/acpi/PWRF
ln -s /sbin/shutdown /etc/acpi/PWRF/00000080
acpid -c /etc/acpi -l /run/acpid.log -p /run/acpid.pid || say "acpid did not start"

# The agent's port: a virtio-serial port named org.qemu.guest_agent.0. Ports show up a moment
# after virtio_console is loaded; only wait for one when the VM has a virtio console device.
agent_port() {
    for name in /sys/class/virtio-ports/*/name; do
        if [ "$(cat "$name" 2>/dev/null)" = org.qemu.guest_agent.0 ]; then
            port=${name%/name}
            echo "/dev/${port##*/}"
            return 0
        fi
    done
    return 1
}
has_virtio_console() { grep -q 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; }
agent_listens() {
    for fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$fd")" = "$2" ] && return 0
    done
    kill -0 "$1" 2>/dev/null || fail "qemu-ga exited"
    return 1
}

agent=none
if has_virtio_console && wait_for 100 agent_port >/dev/null; then
    port=$(agent_port)
    qemu-ga -m virtio-serial -p "$port" -t /run &
    agent_pid=$!
    echo "$agent_pid" > /run/qemu-ga.pid
    wait_for 300 agent_listens "$agent_pid" "$port" || fail "qemu-ga does not open $port"
    agent=$port
fi

echo "RESPALDO-GUEST-READY uptime=$(uptime_s)s disk=$disk agent=$agent"

if [ "$(param workload 1)" != 0 ]; then
    /bin/sh /workload.sh /data &
    echo $! > /run/workload.pid
    wait $!
fi
idle
