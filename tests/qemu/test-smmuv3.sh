#!/bin/sh
# Real-kernel acceptance test: Arm SMMUv3 on QEMU's virt machine.  Boots
# Debian's arm64 kernel under TCG with virtio-blk, NVMe (behind a PCIe
# root port) and e1000e doing DMA behind the emulated SMMUv3, captures RAM
# and the SMMU registers, derives the kernel's own truth from kprobes on
# the SMMUv3 driver, and checks `iommutool dump` against it page by page
# (the harness is tests/qemu/lib.sh, truth.py, compare.py; see README).
#
#   test-smmuv3.sh [--make-fixture] [VARIANT]
#     VARIANT: strict (default) | lazy | passthrough
#     --make-fixture: after a match, also write the committed fixture
#       tests/fixtures/smmuv3-qemu-SERIES-VARIANT.elf (only the pages the
#       decoder reads, registers in the note: `iommutool extract`) and
#       .truth (the kernel's truth as runs), which
#       test-smmuv3-fixtures.sh checks without QEMU
#
# Linux 6.1 on arm64 builds the SMMUv2 and SMMUv3 drivers in, and both
# have static functions named arm_smmu_map_pages etc., so a kprobe by name
# is refused.  The probes go by address: a first short boot (cached per
# kernel) prints /proc/kallsyms' candidates and the ones next to a
# v3-only function are taken; both boots use nokaslr so the addresses
# hold.  Checked with Debian 6.1 and 6.12 (IOMMUTOOL_QEMU_KERNEL=6.12).
# Exit 0 pass, 1 fail, 77 skip (no qemu-system-aarch64, no Debian
# packages, or no SMMUv3 decoder in iommutool yet).  Captures stay in
# $IOMMUTOOL_QEMU_CACHE/captures/smmuv3-VARIANT/, the symbol list in
# captures/smmuv3-kallsyms-KERNEL.txt.
set -u
QEMU_LIB_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$QEMU_LIB_DIR/lib.sh"

fixture=no
if [ "${1:-}" = --make-fixture ]; then fixture=yes; shift; fi
variant=${1:-strict}
case "$variant" in
strict) kopts="iommu.strict=1" ;;
lazy) kopts="iommu.strict=0" ;;
passthrough) kopts="iommu.passthrough=1" ;;
*) echo "usage: test-smmuv3.sh [strict|lazy|passthrough]" >&2; exit 2 ;;
esac

QEMU=${QEMU_SYSTEM_AARCH64:-qemu-system-aarch64}
need_cmd "$QEMU" python3 cpio
[ -n "${IOMMUTOOL:-}" ] || die "IOMMUTOOL is not set (the iommutool binary)"
"$IOMMUTOOL" dump --help 2>/dev/null | grep -q -- 'smmuv3' ||
	skip "iommutool dump cannot decode SMMUv3 yet"

SMMU_BASE=0x09050000  # QEMU hw/arm/virt.c VIRT_SMMU
# The SMMU registers (offsets: formats.md 3.4); 32-bit ones read alone.
SMMU_REGS="strtab_base=0x09050080:8 strtab_base_cfg=0x09050088:4 idr0=0x09050000:4"
SMMU_REGS="$SMMU_REGS idr1=0x09050004:4 idr3=0x0905000c:4 idr5=0x09050014:4 cr0=0x09050020:4"
MARK_SYMS_BEGIN='@@IOMMUTOOL-KALLSYMS-BEGIN@@'
MARK_SYMS_END='@@IOMMUTOOL-KALLSYMS-END@@'
# Functions only one of the two drivers has: all of a driver's functions
# lie on one side of the other's, which tells the copies of a duplicated
# name apart (6.1: arm-smmu.c links before arm-smmu-v3.c).
V2_ANCHORS="arm_smmu_tlb_sync_context arm_smmu_write_context_bank arm_smmu_device_cfg_probe arm_smmu_impl_init"
V3_ANCHORS="arm_smmu_cmdq_issue_cmdlist arm_smmu_device_hw_probe arm_smmu_init_queues"
PROBED="arm_smmu_map_pages arm_smmu_unmap_pages arm_smmu_attach_dev arm_smmu_domain_free"

run_qemu() { # INITRD APPEND EXTRA... : becomes QEMU (run it with &)
	local initrd append
	initrd=$1 append=$2; shift 2
	exec "$QEMU" -machine virt,iommu=smmuv3 -cpu max,pauth-impdef=on -accel tcg \
		-m 256M -smp 1 -nodefaults "$@" \
		-kernel "$GUEST_KERNEL" -initrd "$initrd" -append "$append" 9>&-
}

# kallsyms OUT: boots once to list the candidate addresses (cached).
kallsyms_boot() {
	local out conf initrd work log qpid i state
	out=$1
	work="$QEMU_CACHE/work"
	mkdir -p "$work"
	conf="$work/smmuv3-syms.conf.$$"
	# guest.conf is sourced by init.sh: print the symbols and stop here.
	cat >"$conf" <<EOF
echo "$MARK_SYMS_BEGIN"
grep -E ' [tT] arm_smmu_[a-z_]+\$' /proc/kallsyms
echo "$MARK_SYMS_END"
echo "$MARK_IDLE"
exec sleep 86400
EOF
	initrd="$work/smmuv3-syms-$GUEST_KPKG.cpio.$$"
	guest_initramfs "$initrd" "$conf"
	rm -f "$conf"
	log="$work/smmuv3-syms.log.$$"
	note "smmuv3: listing the driver's symbols ($GUEST_KPKG, nokaslr)"
	run_qemu "$initrd" "console=ttyAMA0 loglevel=4 panic=-1 nokaslr" \
		-display none -no-reboot -serial "file:$log" >/dev/null 2>&1 &
	qpid=$!
	i=0 state=timeout
	while [ $i -lt $((${IOMMUTOOL_QEMU_TIMEOUT:-600} * 2)) ]; do
		if grep -qa "$MARK_IDLE" "$log" 2>/dev/null; then state=idle; break; fi
		if grep -qa "$MARK_FAIL" "$log" 2>/dev/null; then state=failed; break; fi
		kill -0 "$qpid" 2>/dev/null || { state=exited; break; }
		sleep 0.5
		i=$((i + 1))
	done
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	rm -f "$initrd"
	if [ $state != idle ]; then
		tail -n 30 "$log" >&2
		rm -f "$log"
		die "symbol boot: $state"
	fi
	sed -n "/$MARK_SYMS_BEGIN/,/$MARK_SYMS_END/p" "$log" | grep -v '@@' |
		tr -d '\r' >"$out.tmp"
	rm -f "$log"
	mv "$out.tmp" "$out"
}

# v3_addr SYMS FUNC: the address of the SMMUv3 driver's FUNC: the only
# copy, or the copy on the SMMUv3 side of the SMMUv2 driver's functions.
v3_addr() {
	awk -v want="$2" -v v2="$V2_ANCHORS" -v v3="$V3_ANCHORS" '
	BEGIN {
		n = split(v2, a, " "); for (i = 1; i <= n; i++) is2[a[i]] = 1
		n = split(v3, a, " "); for (i = 1; i <= n; i++) is3[a[i]] = 1
	}
	function hex(s,   v, i) {
		v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	$3 in is2 { x = hex($1); if (!n2 || x < min2) min2 = x; if (!n2 || x > max2) max2 = x; n2++ }
	$3 in is3 { x = hex($1); if (!n3 || x < min3) min3 = x; if (!n3 || x > max3) max3 = x; n3++ }
	$3 == want { cand[++nc] = $1 }
	END {
		if (nc == 1) { print "0x" cand[1]; exit 0 }
		if (!nc || !n2 || !n3) exit 1
		for (i = 1; i <= nc; i++) {
			x = hex(cand[i])
			if ((max2 < min3 && x > max2) || (max3 < min2 && x < min2)) {
				print "0x" cand[i]; found++
			}
		}
		exit found == 1 ? 0 : 1
	}' "$1"
}

smmu_capture() { # OUT
	local out conf initrd work syms KP append rc f a
	out=$1
	work="$QEMU_CACHE/work"
	mkdir -p "$work" "$QEMU_CACHE/disks"
	disk_image "$QEMU_CACHE/disks/virtio.img" 4 || die "cannot make a disk image"
	disk_image "$QEMU_CACHE/disks/nvme.img" 4 || die "cannot make a disk image"

	syms="$QEMU_CACHE/captures/smmuv3-kallsyms-$GUEST_KPKG.txt"
	[ -s "$syms" ] || kallsyms_boot "$syms"
	for f in $PROBED; do
		a=$(v3_addr "$syms" "$f") || die "no SMMUv3 $f in $syms"
		eval "addr_$f=\$a"
	done

	conf="$work/smmuv3-guest.conf.$$"
	cat >"$conf" <<'EOF'
MODULES="virtio_pci virtio_blk nvme e1000e"
DISKS="vda nvme0n1"
NETIFS="eth0"
EOF
	initrd="$work/smmuv3-$GUEST_KPKG.cpio.$$"
	guest_initramfs "$initrd" "$conf" virtio_pci virtio_blk nvme e1000e
	rm -f "$conf"

	# Linux 6.1 drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c:
	# map_pages(domain, iova, paddr, pgsize, pgcount, ...), unmap_pages(
	# domain, iova, pgsize, pgcount, gather), attach_dev(domain, dev),
	# domain_free(domain); dev->kobj.name is the first word of struct
	# device.  Spaces become commas on the command line.
	# shellcheck disable=SC2154
	KP="p:iommutool/iommutool_map,$addr_arm_smmu_map_pages,dom=%x0:x64,iova=%x1:x64,paddr=%x2:x64,pgsize=%x3:x64,pgcount=%x4:x64,prot=%x5:x32"
	KP="$KP;p:iommutool/iommutool_unmap,$addr_arm_smmu_unmap_pages,dom=%x0:x64,iova=%x1:x64,pgsize=%x2:x64,pgcount=%x3:x64"
	KP="$KP;p:iommutool/iommutool_attach,$addr_arm_smmu_attach_dev,dom=%x0:x64,dev=+0(+0(%x1)):string"
	KP="$KP;p:iommutool/iommutool_free,$addr_arm_smmu_domain_free,dom=%x0:x64"

	append="console=ttyAMA0 loglevel=${IOMMUTOOL_QEMU_LOGLEVEL:-4} panic=-1 nokaslr ipv6.disable=1 $kopts"
	append="$append trace_event=iommu:map,iommu:unmap trace_buf_size=16M kprobe_event=$KP"

	note "smmuv3 $variant: booting $GUEST_KPKG under TCG"
	qemu_capture "$out" "$SMMU_REGS" -- \
		"$QEMU" -machine virt,iommu=smmuv3 -cpu max,pauth-impdef=on -accel tcg \
		-m 256M -smp 1 -nodefaults \
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
}

guest_fetch arm64
out="$QEMU_CACHE/captures/smmuv3-$variant"
[ "$QEMU_KERNEL_SERIES" = 6.1 ] || out="$out-$QEMU_KERNEL_SERIES"
mkdir -p "$QEMU_CACHE/captures"
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
# iommu.passthrough=1: every stream gets a bypass STE and nothing is
# mapped; the decoder must say so instead of mapping.
empty=
[ "$variant" = passthrough ] && empty="--allow-empty --expect-finding smmu.ste.bypass"
capture_with_truth "smmuv3 $variant" "$out" "$stamp" "$reuse" smmu_capture ${empty:+--allow-empty}
sed 's/^/   /' "$out/timing.txt"
echo "   truth: $(wc -l <"$out/truth.txt") pages"

regs=$(regs_args "$out/regs.txt" strtab_base strtab_base_cfg idr0 idr1 idr3 idr5 cr0)
# shellcheck disable=SC2086
python3 "$QEMU_LIB_DIR/compare.py" --iommu smmuv3 --truth "$out/truth.txt" $empty \
	-- "$IOMMUTOOL" dump --json --pages --iommu smmuv3 $regs "$out/dump.elf" || exit 1
[ $fixture = yes ] || exit 0

fixtures=$(CDPATH= cd -- "$QEMU_LIB_DIR/../fixtures" && pwd)
name="$fixtures/smmuv3-qemu-$QEMU_KERNEL_SERIES-$variant"
# shellcheck disable=SC2086
"$IOMMUTOOL" extract --iommu smmuv3 $regs "$out/dump.elf" -o "$name.elf.tmp" ||
	die "extract failed"
python3 "$QEMU_LIB_DIR/truth.py" ${empty:+--allow-empty} --runs "$out/serial.log" \
	-o "$name.truth.tmp" || die "no usable truth in $out/serial.log"
# shellcheck disable=SC2086
python3 "$QEMU_LIB_DIR/compare.py" --iommu smmuv3 --truth "$name.truth.tmp" $empty \
	-- "$IOMMUTOOL" dump --json --pages "$name.elf.tmp" ||
	die "the extracted image does not match the truth"
mv "$name.elf.tmp" "$name.elf"
mv "$name.truth.tmp" "$name.truth"
echo "wrote $name.elf ($(wc -c <"$name.elf") bytes) and $name.truth from $GUEST_KPKG"
