#!/bin/sh
# Intel VT-d acceptance run: boot a Debian kernel on QEMU's q35 with an
# emulated intel-iommu, let virtio-blk, NVMe (behind a PCIe root port) and
# e1000e do DMA, capture RAM + registers, derive the kernel's own truth, and
# check `iommutool dump` against it page by page.
#
#   vtd.sh [--self-check] VARIANT
#     VARIANT: legacy-strict | legacy-lazy | caching-mode | scalable |
#              passthrough | dma-lazy
#       dma-lazy: Linux 6.12 whatever IOMMUTOOL_QEMU_KERNEL says, lazy,
#       with the dma:* tracepoints too (the DMA-API calls behind the
#       IOMMU operations; the replay example and its fixture come from it)
#     --self-check: check the harness only (truth against the reference
#                   walker vtd_walk.py); iommutool is not needed
#
# Every run also checks the truth against vtd_walk.py, so a disagreement
# says whether the harness or the decoder is wrong.  Exit 0 pass, 1 fail,
# 77 skip (no QEMU, no Debian packages, or no VT-d decoder in iommutool
# yet).  Captures stay in $IOMMUTOOL_QEMU_CACHE/captures/vtd-VARIANT/
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

# Per variant: QEMU's intel-iommu properties and the kernel's options.
case "$variant" in
legacy-strict) dev_opts= ; kopts="intel_iommu=on,sm_off iommu.strict=1" ;;
legacy-lazy) dev_opts= ; kopts="intel_iommu=on,sm_off iommu.strict=0" ;;
caching-mode) dev_opts=",caching-mode=on,aw-bits=48"
	# forcedac: 64-bit devices get IOVAs from the top of the 48-bit space
	kopts="intel_iommu=on,sm_off iommu.strict=0 iommu.forcedac=1" ;;
scalable) dev_opts=",x-scalable-mode=on,aw-bits=48"
	kopts="intel_iommu=on,sm_on iommu.strict=1" ;;
passthrough) dev_opts= ; kopts="intel_iommu=on,sm_off iommu=pt iommu.strict=1" ;;
dma-lazy) dev_opts= ; kopts="intel_iommu=on,sm_off iommu.strict=0"
	# the dma:* events exist from Linux 6.12 (include/trace/events/dma.h)
	QEMU_KERNEL_SERIES=6.12 ;;
*) echo "usage: vtd.sh [--self-check] legacy-strict|legacy-lazy|caching-mode|scalable|passthrough|dma-lazy" >&2
	exit 2 ;;
esac

QEMU=${QEMU_SYSTEM_X86_64:-qemu-system-x86_64}
need_cmd "$QEMU" python3 cpio
if [ $compare = yes ]; then
	[ -n "${IOMMUTOOL:-}" ] || die "IOMMUTOOL is not set (the iommutool binary)"
	# The decoder may not be there yet: skip rather than boot for nothing.
	"$IOMMUTOOL" dump --help 2>/dev/null | grep -q -- '--iommu' ||
		skip "iommutool dump cannot decode VT-d yet"
fi

# vtd_capture OUT: boots the guest and captures into OUT.
vtd_capture() {
	local out conf initrd work KP append rc events
	out=$1
	guest_fetch amd64
	work="$QEMU_CACHE/work"
	mkdir -p "$work" "$QEMU_CACHE/disks"
	disk_image "$QEMU_CACHE/disks/virtio.img" 4 || die "cannot make a disk image"
	disk_image "$QEMU_CACHE/disks/nvme.img" 4 || die "cannot make a disk image"

	conf="$work/vtd-guest.conf.$$"
	cat >"$conf" <<'EOF'
MODULES="virtio_pci virtio_blk nvme e1000e"
DISKS="vda nvme0n1"
NETIFS="eth0"
EOF
	initrd="$work/vtd-$GUEST_KPKG.cpio.$$"
	guest_initramfs "$initrd" "$conf" virtio_pci virtio_blk nvme e1000e
	rm -f "$conf"

	# Per-domain truth: the map/unmap tracepoints carry no domain, so probe the
	# driver's callbacks (Linux 6.1 and 6.12 drivers/iommu/intel/iommu.c):
	# map_pages(domain, iova, paddr, pgsize, pgcount, prot, ...),
	# unmap_pages(domain, iova, pgsize, pgcount, ...), attach_dev(domain,
	# dev), domain_free(domain).  prot (IOMMU_READ/WRITE...) is an int:
	# the low 32 bits of %r9.  dev->kobj.name is the first word of struct
	# device, hence +0(+0(%si)).  Spaces become commas on the command line.
	KP="p:iommutool/iommutool_map,$(x86_probe intel_iommu_map_pages),dom=%di:x64,iova=%si:x64,paddr=%dx:x64,pgsize=%cx:x64,pgcount=%r8:x64,prot=%r9:x32"
	KP="$KP;p:iommutool/iommutool_unmap,$(x86_probe intel_iommu_unmap_pages),dom=%di:x64,iova=%si:x64,pgsize=%dx:x64,pgcount=%cx:x64"
	KP="$KP;p:iommutool/iommutool_attach,$(x86_probe intel_iommu_attach_device),dom=%di:x64,dev=+0(+0(%si)):string"
	KP="$KP;p:iommutool/iommutool_free,$(x86_probe intel_iommu_domain_free),dom=%di:x64"

	append="console=ttyS0 loglevel=${IOMMUTOOL_QEMU_LOGLEVEL:-4} panic=-1 mitigations=off ipv6.disable=1 $kopts"
	events=iommu:map,iommu:unmap
	[ "$variant" = dma-lazy ] &&
		events="$events,dma:dma_map_page,dma:dma_unmap_page,dma:dma_map_sg,dma:dma_unmap_sg,dma:dma_alloc,dma:dma_free"
	append="$append trace_event=$events trace_buf_size=16M kprobe_event=$KP"

	note "vtd $variant: booting $GUEST_KPKG under TCG"
	qemu_capture "$out" "rtaddr=0xfed90020 cap=0xfed90008 ecap=0xfed90010 gsts=0xfed9001c:4" -- \
		"$QEMU" -machine q35,kernel-irqchip=split -accel tcg -m 256M -smp 1 \
		-nodefaults -vga none \
		-device "intel-iommu,intremap=on$dev_opts" \
		-drive "if=none,id=vd0,file=$QEMU_CACHE/disks/virtio.img,format=raw,snapshot=on" \
		-device virtio-blk-pci,drive=vd0,disable-legacy=on,iommu_platform=on,addr=0x3 \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4 \
		-drive "if=none,id=nv0,file=$QEMU_CACHE/disks/nvme.img,format=raw,snapshot=on" \
		-device nvme,drive=nv0,serial=iommutool0,bus=rp1 \
		-netdev user,id=n0,restrict=on -device e1000e,netdev=n0,addr=0x5 \
		-kernel "$GUEST_KERNEL" -initrd "$initrd" -append "$append"
	rc=$?
	rm -f "$initrd"
	[ $rc -eq 0 ] || die "capture failed ($out)"
	echo "kernel=$GUEST_KPKG" >>"$out/timing.txt"
	"$QEMU" --version | head -n 1 >"$out/qemu-version.txt"
}

out="$QEMU_CACHE/captures/vtd-$variant"
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
# iommu=pt: every device is in the identity domain (context TT=2), nothing
# is mapped, and the decoder must say pass-through instead of mapping.
empty=
[ "$variant" = passthrough ] && empty="--allow-empty --expect-finding vtd.device.passthrough"
capture_with_truth "vtd $variant" "$out" "$stamp" "$reuse" vtd_capture ${empty:+--allow-empty}
sed 's/^/   /' "$out/timing.txt"
python3 "$QEMU_LIB_DIR/vtd_walk.py" "$out/dump.elf" "$out/regs.txt" -o "$out/walk.txt" \
	2>"$out/walk.log" || { cat "$out/walk.log"; die "the reference walk failed"; }
if ! cmp -s "$out/truth.txt" "$out/walk.txt"; then
	diff "$out/truth.txt" "$out/walk.txt" | head -n 20
	die "harness: the reference walk of the dump disagrees with the kernel's truth"
fi
echo "   reference walk agrees with the truth ($(wc -l <"$out/truth.txt") pages)"
[ $compare = yes ] || exit 0

# shellcheck disable=SC2046
python3 "$QEMU_LIB_DIR/compare.py" --iommu vtd --truth "$out/truth.txt" $empty \
	-- "$IOMMUTOOL" dump --json --pages --iommu vtd $(regs_args "$out/regs.txt" rtaddr cap ecap) \
	"$out/dump.elf"
