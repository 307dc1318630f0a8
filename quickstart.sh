#!/bin/sh
# Sets up a fresh Debian 12 machine for iommutool and builds it.
#   ./quickstart.sh demo   install, build, and dump a real VT-d capture
#   ./quickstart.sh test   install, build, and run the whole test suite
# Run as root (or through sudo): it installs the build dependencies with apt-get.
set -eu
cd "$(dirname "$0")"

mode=${1:-demo}
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# Build dependencies; the test suite also boots Debian kernels under QEMU.
PKGS="build-essential autoconf automake pkg-config libelf-dev libpci-dev libjson-c-dev"
[ "$mode" = test ] && PKGS="$PKGS libcmocka-dev clang qemu-system-x86 qemu-system-arm busybox-static cpio python3 zstd"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --enable-werror
make -j"$(nproc)"

if [ "$mode" = demo ]; then
	./iommutool dump examples/qemu-vtd-legacy.elf
else
	make check
fi
