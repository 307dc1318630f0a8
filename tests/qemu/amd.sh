#!/bin/sh
# AMD-Vi acceptance run: boot a Debian kernel on QEMU's q35 with an
# emulated amd-iommu, let virtio-blk, NVMe (on the root bus) and
# e1000e do DMA, capture RAM + registers, derive the kernel's own truth, and
# check `iommutool dump` against it page by page.
#
#   amd.sh [--self-check] VARIANT
#     VARIANT: strict | lazy | passthrough
#     --self-check: check the harness only (truth against the reference
#                   walker amd_walk.py); iommutool is not needed
#
# Linux 6.1 turns the AMD IOMMU on by itself when the IVRS table is there
# (amd_iommu=on is not an option).  It maps power-of-two sizes natively,
# so v1 tables carry NextLevel=7 pages (replicated entries) even for 8 KiB
# buffers, and it parks every unused DeviceID as V=1, TV=1, no permission.
# Every run also checks the truth against amd_walk.py, so a disagreement
# says whether the harness or the decoder is wrong.  Exit 0 pass, 1 fail,
# 77 skip (no QEMU, no Debian packages, or no AMD decoder in iommutool
# yet).  Captures stay in $IOMMUTOOL_QEMU_CACHE/captures/amd-VARIANT/
# (dump.elf, regs.txt, serial.log, truth.txt, walk.txt, timing.txt).
# A capture made by the same harness files and QEMU is reused instead of
# booting again (the kernel's truth is in it); IOMMUTOOL_QEMU_REUSE=0
# always boots, =1 reuses any complete capture.
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$QEMU_LIB_DIR/lib.sh"

compare=yes
if [ "${1:-}" = --self-check ]; then compare=no; shift; fi
variant=${1:-}

# Per variant: the kernel's flush policy (the tables do not depend on it,
# only when invalidations happen; both must decode the same way).
case "$variant" in
strict) kopts="iommu.strict=1" ;;
lazy) kopts="iommu.strict=0" ;;
passthrough) kopts="iommu=pt iommu.strict=1" ;;
*) echo "usage: amd.sh [--self-check] strict|lazy|passthrough" >&2
	exit 2 ;;
esac

QEMU=${QEMU_SYSTEM_X86_64:-qemu-system-x86_64}
need_cmd "$QEMU" python3 cpio
if [ $compare = yes ]; then
	[ -n "${IOMMUTOOL:-}" ] || die "IOMMUTOOL is not set (the iommutool binary)"
	# The decoder may not be there yet: skip rather than boot for nothing.
	"$IOMMUTOOL" dump --help 2>/dev/null | grep -q -- '--iommu' ||
		skip "iommutool dump cannot decode AMD-Vi yet"
fi

# amd_capture OUT: boots the guest and captures into OUT.
amd_capture() {
	local out conf initrd work KP append rc
	out=$1
	guest_fetch amd64
	work="$QEMU_CACHE/work"
	mkdir -p "$work" "$QEMU_CACHE/disks"
	disk_image "$QEMU_CACHE/disks/virtio.img" 4 || die "cannot make a disk image"
	disk_image "$QEMU_CACHE/disks/nvme.img" 4 || die "cannot make a disk image"

	conf="$work/amd-guest.conf.$$"
	cat >"$conf" <<'EOF'
MODULES="virtio_pci virtio_blk nvme e1000e"
DISKS="vda nvme0n1"
NETIFS="eth0"
EOF
	initrd="$work/amd-$GUEST_KPKG.cpio.$$"
	guest_initramfs "$initrd" "$conf" virtio_pci virtio_blk nvme e1000e
	rm -f "$conf"

	# Per-domain truth: the map/unmap tracepoints carry no domain, so probe the
	# driver's iommu_domain_ops/iommu_ops callbacks (Linux 6.1
	# drivers/iommu/amd/iommu.c): amd_iommu_map_pages(domain, iova, paddr,
	# pgsize, pgcount, prot, gfp, mapped), amd_iommu_unmap_pages(domain, iova,
	# pgsize, pgcount, gather), amd_iommu_attach_device(domain, dev),
	# amd_iommu_domain_free(domain).  They are only reached through the ops
	# tables, so they are never inlined.  dev->kobj.name is the first word of
	# struct device, hence +0(+0(%si)).  Arguments are read from registers so
	# that x86_probe's +9 site (IBT kernels) works too.  Spaces become commas
	# on the command line.
	KP="p:iommutool/iommutool_map,$(x86_probe amd_iommu_map_pages),dom=%di:x64,iova=%si:x64,paddr=%dx:x64,pgsize=%cx:x64,pgcount=%r8:x64,prot=%r9:x32"
	KP="$KP;p:iommutool/iommutool_unmap,$(x86_probe amd_iommu_unmap_pages),dom=%di:x64,iova=%si:x64,pgsize=%dx:x64,pgcount=%cx:x64"
	KP="$KP;p:iommutool/iommutool_attach,$(x86_probe amd_iommu_attach_device),dom=%di:x64,dev=+0(+0(%si)):string"
	KP="$KP;p:iommutool/iommutool_free,$(x86_probe amd_iommu_domain_free),dom=%di:x64"

	append="console=ttyS0 loglevel=${IOMMUTOOL_QEMU_LOGLEVEL:-4} panic=-1 mitigations=off ipv6.disable=1 $kopts"
	append="$append trace_event=iommu:map,iommu:unmap trace_buf_size=16M kprobe_event=$KP"

	# NVMe sits on the root bus: QEMU 7.2's amd-iommu takes a device's
	# DeviceID from its bus number when the device is created, before the
	# guest numbers the buses behind a root port, so DMA from there would
	# use DeviceID 00:xx.x and fault.
	# amd-iommu MMIO at 0xfed80000: Device Table Base +0x0 (with its Size
	# field), EFR +0x30, Control +0x18.  intremap=on needs a split irqchip.
	note "amd $variant: booting $GUEST_KPKG under TCG"
	qemu_capture "$out" "dtbase=0xfed80000 efr=0xfed80030 control=0xfed80018" -- \
		"$QEMU" -machine q35,kernel-irqchip=split -accel tcg -m 256M -smp 1 \
		-nodefaults -vga none \
		-device amd-iommu,intremap=on \
		-drive "if=none,id=vd0,file=$QEMU_CACHE/disks/virtio.img,format=raw,snapshot=on" \
		-device virtio-blk-pci,drive=vd0,disable-legacy=on,iommu_platform=on,addr=0x3 \
		-drive "if=none,id=nv0,file=$QEMU_CACHE/disks/nvme.img,format=raw,snapshot=on" \
		-device nvme,drive=nv0,serial=iommutool0,addr=0x4 \
		-netdev user,id=n0,restrict=on -device e1000e,netdev=n0,addr=0x5 \
		-kernel "$GUEST_KERNEL" -initrd "$initrd" -append "$append"
	rc=$?
	rm -f "$initrd"
	[ $rc -eq 0 ] || die "capture failed ($out)"
	echo "kernel=$GUEST_KPKG" >>"$out/timing.txt"
}

out="$QEMU_CACHE/captures/amd-$variant"
[ "$QEMU_KERNEL_SERIES" = 6.1 ] || out="$out-$QEMU_KERNEL_SERIES"
mkdir -p "$QEMU_CACHE/captures"
# One run per variant at a time: parallel `make check`s share the cache.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$out.lock"
	flock -w 1800 9 || die "cannot lock $out.lock"
fi
stamp=$({ cat "$QEMU_LIB_DIR/lib.sh" "$QEMU_LIB_DIR/init.sh" "$0"
	"$QEMU" --version | head -n 1; echo "$variant $QEMU_KERNEL_SERIES"; } | cksum)
case "${IOMMUTOOL_QEMU_REUSE:-auto}" in
0) reuse=no ;;
1) reuse=yes ;;
*) reuse=no; [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && reuse=yes ;;
esac
# iommu=pt: every device is in the identity domain (Mode 0, IR=IW=1),
# nothing is mapped, and the decoder must say pass-through instead.
empty=
[ "$variant" = passthrough ] && empty="--allow-empty --expect-finding amd.device.passthrough"
capture_with_truth "amd $variant" "$out" "$stamp" "$reuse" amd_capture ${empty:+--allow-empty}
sed 's/^/   /' "$out/timing.txt"
python3 "$QEMU_LIB_DIR/amd_walk.py" "$out/dump.elf" "$out/regs.txt" -o "$out/walk.txt" \
	2>"$out/walk.log" || { cat "$out/walk.log"; die "the reference walk failed"; }
if ! cmp -s "$out/truth.txt" "$out/walk.txt"; then
	diff "$out/truth.txt" "$out/walk.txt" | head -n 20
	die "harness: the reference walk of the dump disagrees with the kernel's truth"
fi
echo "   reference walk agrees with the truth ($(wc -l <"$out/truth.txt") pages)"
[ $compare = yes ] || exit 0

# shellcheck disable=SC2046
python3 "$QEMU_LIB_DIR/compare.py" --iommu amd --truth "$out/truth.txt" $empty \
	-- "$IOMMUTOOL" dump --json --pages --iommu amd $(regs_args "$out/regs.txt" dtbase efr) \
	"$out/dump.elf"
