#!/bin/busybox sh
# /init of the capture guest (busybox only; there is no /bin/sh before
# `busybox --install`).  Reads /etc/guest.conf:
#   MODULES  modules to load, in order
#   DISKS    block devices to read completely (names under /dev)
#   NETIFS   network interfaces to bring up (their RX rings get mapped)
# then waits until no more trace events arrive, prints the trace between
# markers on the console, checks that the ring buffer lost nothing and that
# no kprobe missed a hit, and prints the idle marker.  The host stops the VM
# there.  A line with @@IOMMUTOOL-FAIL@@ tells the host to give up early.
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
	mount -t debugfs debugfs /sys/kernel/debug
T=/sys/kernel/tracing
[ -f $T/trace ] || T=/sys/kernel/debug/tracing

fail() { echo "@@IOMMUTOOL-FAIL@@ $*"; exec sleep 86400; }

# Keep printk out of the trace lines printed below.
echo 1 >/proc/sys/kernel/printk
# Optimised (jump) kprobes run with interrupts enabled and count nested hits
# as missed; plain kprobes do not lose calls from interrupt context.
echo 0 >/proc/sys/debug/kprobes-optimization 2>/dev/null

. /etc/guest.conf

grep -q . $T/kprobe_events || fail "no kprobe events defined (kprobe_event= on the command line?)"

for m in $MODULES; do
	modprobe "$m" || fail "modprobe $m failed"
done

# Wait for devices: probing is asynchronous (nvme resets its controller in a
# work item).
waitfor() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "$1 did not appear"
		sleep 0.1
	done
}
for d in $DISKS; do
	waitfor /sys/class/block/$d
	waitfor /dev/$d
	dd if=/dev/$d of=/dev/null bs=64k 2>/dev/null || fail "reading /dev/$d failed"
done
for n in $NETIFS; do
	waitfor /sys/class/net/$n
	ip link set "$n" up || fail "cannot bring $n up"
done

written() {
	sed -n 's/.*entries-in-buffer\/entries-written: *\([0-9]*\)\/\([0-9]*\).*/\1 \2/p' $T/trace
}
# Idle: the count of written entries has not moved for two seconds.
last= same=0 i=0
while [ $same -lt 4 ]; do
	sleep 0.5
	cur=$(written)
	if [ "$cur" = "$last" ]; then same=$((same + 1)); else same=0; fi
	last=$cur
	i=$((i + 1))
	[ $i -gt 120 ] && fail "trace never went quiet"
done

echo "@@IOMMUTOOL-KPROBES-BEGIN@@"
cat $T/kprobe_events
cat $T/kprobe_profile
echo "@@IOMMUTOOL-KPROBES-END@@"
echo "@@IOMMUTOOL-TRACE-BEGIN@@"
cat $T/trace
echo "@@IOMMUTOOL-TRACE-END@@"
after=$(written)
set -- $after
[ "$1" = "$2" ] || fail "trace ring buffer overran: $1 of $2 entries kept"
[ "$after" = "$last" ] || fail "trace grew while being printed: $last -> $after"
echo "@@IOMMUTOOL-IDLE@@"
exec sleep 86400
