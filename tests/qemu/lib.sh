# Shared helpers for the QEMU capture scripts (POSIX sh plus `local`, which
# dash, bash and busybox ash have; source this file).
#
# A capture boots a Debian kernel with a busybox initramfs under TCG, lets
# real drivers do DMA behind an emulated IOMMU, records the kernel's own
# account of every IOMMU map/unmap (ftrace + kprobes) on the serial console,
# then stops the VM and dumps guest RAM and the IOMMU registers over QMP.
# Per-IOMMU scripts (vtd.sh, ...) choose machine, devices, kernel command
# line and registers; everything else lives here.
#
# Environment:
#   IOMMUTOOL_QEMU_CACHE   cache directory ($HOME/.cache/iommutool-qemu)
#   IOMMUTOOL_QEMU_KERNEL  Debian kernel series: 6.1 (bookworm, default) or
#                          6.12 (bookworm-backports)
#   IOMMUTOOL_DEBIAN_MIRROR  (http://deb.debian.org)
#   IOMMUTOOL_QEMU_TIMEOUT seconds from boot to idle before giving up (600)

QEMU_LIB_DIR=${QEMU_LIB_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)}
QEMU_CACHE=${IOMMUTOOL_QEMU_CACHE:-${HOME:-/tmp}/.cache/iommutool-qemu}
QEMU_KERNEL_SERIES=${IOMMUTOOL_QEMU_KERNEL:-6.1}
DEBIAN_MIRROR=${IOMMUTOOL_DEBIAN_MIRROR:-http://deb.debian.org}
DEBIAN_KEYRING=${IOMMUTOOL_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# Markers printed by the guest's /init (see init.sh).
MARK_IDLE='@@IOMMUTOOL-IDLE@@'
MARK_FAIL='@@IOMMUTOOL-FAIL@@'

skip() { echo "$*"; exit 77; }
die() { echo "error: $*" >&2; exit 1; }
note() { echo "== $*"; }

now_ms() { date +%s%3N; }

# need_cmd CMD... : skip the test when a host tool is missing.
need_cmd() {
	for c; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not found"
	done
}

# Debian names for an architecture's kernel meta package.
debian_kernel_meta() {
	case "$1" in
	amd64) echo linux-image-amd64 ;;
	arm64) echo linux-image-arm64 ;;
	ppc64el) echo linux-image-powerpc64le ;;
	*) die "no Debian kernel flavour known for $1" ;;
	esac
}

# apt_private ARCH : prints apt options selecting a private package list for
# ARCH under the cache (bookworm, -security, -backports), refreshing it when
# missing.  Nothing on the host is installed or changed.
apt_private() {
	local arch adir s
	arch=$1
	adir="$QEMU_CACHE/apt/$arch"
	[ -f "$DEBIAN_KEYRING" ] || skip "Debian archive keyring $DEBIAN_KEYRING not found"
	need_cmd apt-get dpkg-deb
	mkdir -p "$adir/lists/partial" "$adir/archives/partial"
	if [ ! -f "$adir/sources.list" ]; then
		for s in "debian bookworm" "debian bookworm-updates" \
			"debian-security bookworm-security" "debian bookworm-backports"; do
			set -- $s
			echo "deb [arch=$arch signed-by=$DEBIAN_KEYRING] $DEBIAN_MIRROR/$1 $2 main"
		done >"$adir/sources.list"
	fi
	APT_OPTS="-q -oAPT::Architecture=$arch -oAPT::Architectures=$arch \
-oDir::Etc::SourceList=$adir/sources.list -oDir::Etc::SourceParts=/dev/null \
-oDir::State::Lists=$adir/lists -oDir::Cache=$adir -oDir::Cache::pkgcache= \
-oDir::Cache::srcpkgcache= -oDir::State::status=/dev/null \
-oDebug::NoLocking=1 -oAPT::Sandbox::User=root"
	if [ ! -f "$adir/updated" ] || [ "${APT_FORCE_UPDATE:-}" = 1 ]; then
		# shellcheck disable=SC2086
		apt-get $APT_OPTS update >"$adir/update.log" 2>&1 ||
			skip "cannot fetch Debian package lists (see $adir/update.log)"
		touch "$adir/updated"
	fi
}

# apt_download DIR PKG[/RELEASE]... : downloads .debs into DIR (cached).
apt_download() {
	local ddir
	ddir=$1; shift
	mkdir -p "$ddir"
	# shellcheck disable=SC2086
	(cd "$ddir" && apt-get $APT_OPTS download "$@") >"$ddir/download.log" 2>&1
}

# guest_fetch ARCH : downloads and unpacks the kernel and busybox-static for
# ARCH and $QEMU_KERNEL_SERIES.  Sets GUEST_ROOT (unpacked tree), GUEST_KVER,
# GUEST_KERNEL (vmlinuz path), GUEST_KPKG (package name_version).
guest_fetch() {
	local arch rel meta mdir tries mdeb kpkg d
	arch=$1
	case "$QEMU_KERNEL_SERIES" in
	6.1) rel= ;;
	6.12) rel=/bookworm-backports ;;
	*) die "unknown kernel series $QEMU_KERNEL_SERIES (6.1 or 6.12)" ;;
	esac
	apt_private "$arch"
	meta=$(debian_kernel_meta "$arch")
	mdir="$QEMU_CACHE/debs/$arch-$QEMU_KERNEL_SERIES"
	tries=0
	while :; do
		rm -f "$mdir"/"$meta"_*.deb
		if apt_download "$mdir" "$meta$rel"; then break; fi
		tries=$((tries + 1))
		[ $tries -ge 2 ] && skip "cannot download $meta$rel (see $mdir/download.log)"
		APT_FORCE_UPDATE=1 apt_private "$arch"
	done
	mdeb=$(ls "$mdir"/"$meta"_*.deb | head -n 1)
	# The meta package depends on exactly one linux-image-<abi>-<flavour>.
	kpkg=$(dpkg-deb -f "$mdeb" Depends | tr ',' '\n' | sed 's/[( ].*//; s/^ *//' |
		grep '^linux-image-' | head -n 1)
	kpkg=$(echo "$kpkg" | sed 's/ //g')
	[ -n "$kpkg" ] || die "cannot read the kernel package from $mdeb"
	GUEST_ROOT="$QEMU_CACHE/root/$arch-$kpkg"
	if [ ! -f "$GUEST_ROOT/.unpacked" ]; then
		ls "$mdir"/"$kpkg"_*.deb >/dev/null 2>&1 ||
			apt_download "$mdir" "$kpkg$rel" ||
			skip "cannot download $kpkg (see $mdir/download.log)"
		ls "$mdir"/busybox-static_*.deb >/dev/null 2>&1 ||
			apt_download "$mdir" busybox-static ||
			skip "cannot download busybox-static (see $mdir/download.log)"
		rm -rf "$GUEST_ROOT"
		mkdir -p "$GUEST_ROOT"
		for d in "$mdir"/"$kpkg"_*.deb "$mdir"/busybox-static_*.deb; do
			dpkg-deb -x "$d" "$GUEST_ROOT" || die "cannot unpack $d"
		done
		touch "$GUEST_ROOT/.unpacked"
	fi
	GUEST_KVER=$(ls "$GUEST_ROOT/lib/modules" | head -n 1)
	GUEST_KERNEL=$(ls "$GUEST_ROOT"/boot/vmlinu* | head -n 1)
	GUEST_KPKG=$(basename "$(ls "$mdir"/"$kpkg"_*.deb | head -n 1)" .deb)
	[ -n "$GUEST_KVER" ] && [ -f "$GUEST_KERNEL" ] || die "no kernel in $GUEST_ROOT"
}

# host_depmod BASE KVER : writes modules.dep for BASE/lib/modules/KVER (Debian
# ships none).  kmod's depmod when present, else busybox's.
host_depmod() {
	if command -v depmod >/dev/null 2>&1; then
		depmod -b "$1" "$2"
	elif command -v busybox >/dev/null 2>&1; then
		busybox depmod -b "$1" "$2"
	else
		skip "neither depmod nor busybox found on the host"
	fi
}

# module_closure MODULES_DEP NAME... : prints the module files (relative to
# the modules directory) that NAMEs need, dependencies included.  Names that
# are built into the kernel print nothing.
module_closure() {
	local dep m want
	dep=$1; shift
	for m; do
		want=$(echo "$m" | tr '-' '_')
		awk -v want="$want" '
		{
			path = $1; sub(/:$/, "", path)
			base = path; sub(/.*\//, "", base); sub(/\.ko(\.[a-z]+)?$/, "", base)
			gsub(/-/, "_", base)
			if (base == want) { print path; for (i = 2; i <= NF; i++) print $i }
		}' "$dep"
	done | sort -u
}

# guest_initramfs OUT CONF MODULE... : builds a newc cpio with busybox, the
# generic /init (init.sh), /etc/guest.conf (copied from CONF) and the named
# modules with their dependencies (decompressed, with a fresh modules.dep).
guest_initramfs() {
	local out conf mdir stage f dst
	out=$1 conf=$2; shift 2
	mdir="$GUEST_ROOT/lib/modules/$GUEST_KVER"
	[ -f "$mdir/modules.dep" ] || host_depmod "$GUEST_ROOT" "$GUEST_KVER" ||
		die "depmod failed on $mdir"
	stage=$(mktemp -d "${TMPDIR:-/tmp}/iommutool-initramfs.XXXXXX")
	mkdir -p "$stage/bin" "$stage/etc" "$stage/proc" "$stage/sys" "$stage/dev" \
		"$stage/tmp" "$stage/lib/modules/$GUEST_KVER"
	cp "$GUEST_ROOT/bin/busybox" "$stage/bin/busybox"
	cp "$QEMU_LIB_DIR/init.sh" "$stage/init"
	chmod 755 "$stage/init"
	cp "$conf" "$stage/etc/guest.conf"
	for f in $(module_closure "$mdir/modules.dep" "$@"); do
		dst="$stage/lib/modules/$GUEST_KVER/$f"
		mkdir -p "$(dirname "$dst")"
		case "$f" in
		*.xz) xz -dc "$mdir/$f" >"${dst%.xz}" ;;
		*.zst) zstd -qdc "$mdir/$f" >"${dst%.zst}" ;;
		*.gz) gzip -dc "$mdir/$f" >"${dst%.gz}" ;;
		*) cp "$mdir/$f" "$dst" ;;
		esac || die "cannot copy module $f"
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "$mdir/$f" ] && cp "$mdir/$f" "$stage/lib/modules/$GUEST_KVER/"
	done
	host_depmod "$stage" "$GUEST_KVER" || die "depmod failed on the initramfs"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out" ||
		die "cannot write $out"
	rm -rf "$stage"
}

# disk_image PATH SIZE_MIB : a raw disk with non-zero content, made once.
disk_image() {
	[ -f "$1" ] && return 0
	dd if=/dev/urandom of="$1.tmp" bs=1M count="$2" 2>/dev/null && mv "$1.tmp" "$1"
}

# qemu_capture OUTDIR REGS -- QEMU_COMMAND... : boots, waits for the idle
# marker on the serial console, then through QMP stops the VM, reads the
# registers REGS ("name=addr[:width] ...", width in bytes) into
# OUTDIR/regs.txt, dumps RAM to OUTDIR/dump.elf and quits.  The serial log
# is OUTDIR/serial.log; OUTDIR/timing.txt gets boot-to-idle and dump times.
qemu_capture() {
	local outdir regs sockdir sock t0 t1 t2 qpid limit state rc i
	outdir=$1 regs=$2; shift 3
	rm -rf "$outdir"
	mkdir -p "$outdir"
	sockdir=$(mktemp -d "${TMPDIR:-/tmp}/iommutool-qmp.XXXXXX")
	sock="$sockdir/qmp.sock"
	echo "$*" >"$outdir/qemu-command.txt"
	t0=$(now_ms)
	"$@" -display none -no-reboot -serial "file:$outdir/serial.log" \
		-qmp "unix:$sock,server=on,wait=off" >"$outdir/qemu.log" 2>&1 &
	qpid=$!
	limit=${IOMMUTOOL_QEMU_TIMEOUT:-600}
	state=timeout
	while [ $(( ($(now_ms) - t0) / 1000 )) -lt "$limit" ]; do
		if grep -qa "$MARK_IDLE" "$outdir/serial.log" 2>/dev/null; then
			state=idle; break
		fi
		if grep -qa "$MARK_FAIL" "$outdir/serial.log" 2>/dev/null; then
			state=guest-failed; break
		fi
		kill -0 "$qpid" 2>/dev/null || { state=exited; break; }
		sleep 0.5
	done
	t1=$(now_ms)
	if [ "$state" != idle ]; then
		kill "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
		rm -rf "$sockdir"
		echo "qemu: $state after $(( (t1 - t0) / 1000 )) s; serial log tail:" >&2
		tail -n 30 "$outdir/serial.log" >&2 2>/dev/null
		cat "$outdir/qemu.log" >&2
		return 1
	fi
	python3 "$QEMU_LIB_DIR/qmp.py" "$sock" capture --regs-out "$outdir/regs.txt" \
		--dump "$outdir/dump.elf" $regs >"$outdir/qmp.log" 2>&1
	rc=$?
	t2=$(now_ms)
	# QMP quit ends QEMU; give it a moment, then make sure.
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	rm -rf "$sockdir"
	if [ $rc -ne 0 ]; then
		cat "$outdir/qmp.log" >&2
		return 1
	fi
	{
		echo "boot_to_idle_ms=$((t1 - t0))"
		echo "qmp_capture_ms=$((t2 - t1))"
		echo "dump_bytes=$(wc -c <"$outdir/dump.elf")"
	} >"$outdir/timing.txt"
	return 0
}

# x86_probe FUNC : where to put a kprobe on FUNC's entry in the guest
# kernel.  With IBT (Debian 6.12) the function starts with endbr64 and the
# fentry call (4 + 5 bytes); a probe at FUNC lands on the ftrace site at +4
# and misses calls from interrupt context, so probe right after it, at +9,
# where the argument registers are still untouched.  Read arguments as
# %di %si %dx %cx %r8 %r9 so that both sites work.
x86_probe() {
	if grep -q '^CONFIG_X86_KERNEL_IBT=y' "$GUEST_ROOT"/boot/config-* 2>/dev/null; then
		echo "$1+9"
	else
		echo "$1"
	fi
}

# regs_args REGS_TXT NAME... : "--reg name=value ..." for iommutool, for the
# named registers of regs.txt.
regs_args() {
	local rf r
	rf=$1; shift
	for r; do
		sed -n "s/^$r=\\(0x[0-9a-f]*\\)\$/--reg $r=\\1/p" "$rf"
	done | tr '\n' ' '
}

# capture_with_truth NAME OUT STAMP REUSE CAPTURE_FN [truth.py options]:
# reuses or makes the capture in OUT, then derives the kernel's truth.  A
# trace that is not a usable truth (most often a kprobe that missed a hit
# while another probe ran) is booted again, up to three captures in all,
# so one unlucky boot does not fail the test.
capture_with_truth() {
	local name=$1 out=$2 stamp=$3 reuse=$4 capture=$5 attempt=1
	shift 5
	while :; do
		if [ "$reuse" = yes ] && [ -f "$out/timing.txt" ] && [ -f "$out/dump.elf" ] &&
			[ -f "$out/regs.txt" ]; then
			note "$name: reusing the capture in $out (IOMMUTOOL_QEMU_REUSE=0 boots anew)"
		else
			"$capture" "$out"
			echo "$stamp" >"$out/stamp"
		fi
		python3 "$QEMU_LIB_DIR/truth.py" "$@" "$out/serial.log" -o "$out/truth.txt" && return 0
		[ $attempt -ge 3 ] && die "the kernel's trace is not a usable truth ($out/serial.log)"
		note "$name: the kernel's trace is not a usable truth; booting again ($attempt of 3)"
		attempt=$((attempt + 1))
		reuse=no
		rm -f "$out/stamp"
	done
}
