#!/bin/sh
# Builds a capture guest by hand (the capture scripts do the same through
# lib.sh): downloads Debian's kernel and busybox-static for ARCH into the
# cache, unpacks them, and writes a busybox initramfs with the generic
# /init (init.sh), the given guest.conf and the named modules.
#
#   guest.sh [--arch amd64|arm64|ppc64el] [--kernel 6.1|6.12] \
#            --conf GUEST_CONF --initrd OUT.cpio MODULE...
#
# Prints kernel=, kver=, package= and initrd= lines.  Exit 77 when the
# packages cannot be fetched.
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
arch=amd64 conf= initrd=
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=$2; shift 2 ;;
	--kernel) IOMMUTOOL_QEMU_KERNEL=$2; shift 2 ;;
	--conf) conf=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	-*) echo "guest.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ -n "$conf" ] && [ -n "$initrd" ] || {
	echo "usage: guest.sh [--arch A] [--kernel 6.1|6.12] --conf F --initrd OUT MODULE..." >&2
	exit 2
}
. "$QEMU_LIB_DIR/lib.sh"
guest_fetch "$arch"
guest_initramfs "$initrd" "$conf" "$@"
echo "kernel=$GUEST_KERNEL"
echo "kver=$GUEST_KVER"
echo "package=$GUEST_KPKG"
echo "initrd=$initrd"
