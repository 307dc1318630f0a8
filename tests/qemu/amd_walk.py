#!/usr/bin/env python3
"""Reference walk of AMD-Vi tables in an ELF memory dump, for checking the
harness itself (the truth extractor, the register capture) independently
of iommutool.  Deliberately small: v1 host tables only, no validation
beyond what the walk needs.

  amd_walk.py DUMP.elf REGS.txt [-o PAGES]

Prints "DEVICE IOVA PHYS" per present 4 KiB page (the truth format) for
every device whose DTE translates (V=1, TV=1, Mode 1..6); pass-through and
blocked devices print nothing and are summarised on stderr (blocked ones
only counted: Linux marks every unused DeviceID blocked).

Facts used (AMD IOMMU spec; Linux 6.1 drivers/iommu/amd/amd_iommu_types.h
and io_pgtable.c):
  dtbase (MMIO 0x0): table at bits 51:12, (bits 8:0 + 1) * 4 KiB long.
  DTE (32 B, indexed by DeviceID = bus << 8 | devfn): qword0 V=0, TV=1,
    Mode=11:9, PageTableRootPtr=51:12, IR=61, IW=62; qword1 DomainID=15:0.
  PDE/PTE (8 B): PR=0, NextLevel=11:9, address=51:12.  At level L (1..6,
    table entries span 2^(12+9(L-1)) bytes) NextLevel 1..L-1 points to a
    table of that level; 0 is a page of the entry's span; 7 is a page of
    2^(1 + lowest clear bit of (pte | 0xfff)) bytes, repeated in every slot
    it covers.
"""
import argparse
import struct
import sys

PAGE = 4096
ADDR_MASK = ((1 << 52) - 1) & ~0xFFF


class ElfMem:
    def __init__(self, path):
        self.f = open(path, "rb")
        hdr = self.f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2 or hdr[5] != 1:
            raise SystemExit("%s: not a little-endian ELF64 file" % path)
        phoff, = struct.unpack_from("<Q", hdr, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 0x36)
        if phnum == 0xFFFF:  # PN_XNUM: the real count is in section 0
            shoff, = struct.unpack_from("<Q", hdr, 0x28)
            self.f.seek(shoff + 0x2C)
            phnum, = struct.unpack("<I", self.f.read(4))
        self.ranges = []
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            ph = self.f.read(56)
            p_type, _, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<IIQQQQ", ph)
            if p_type == 1 and p_filesz:
                self.ranges.append((p_paddr, p_filesz, p_offset))

    def read(self, pa, n):
        for base, size, off in self.ranges:
            if base <= pa and pa + n <= base + size:
                self.f.seek(off + pa - base)
                return self.f.read(n)
        raise ValueError("physical 0x%x+%d is outside the dump" % (pa, n))


def page_size_nl7(pte):
    v = pte | 0xFFF
    bit = 0
    while v & (1 << bit):
        bit += 1
    return 1 << (bit + 1)


def walk_v1(mem, root, mode, out, limit=200000):
    """Appends (iova, phys, span) per present leaf slot of a v1 table."""
    stack = [(root, mode, 0)]
    tables = 0
    while stack:
        tbl, level, base = stack.pop()
        tables += 1
        if tables > limit:
            raise ValueError("too many tables")
        shift = 12 + 9 * (level - 1)
        n = 128 if level == 6 else 512
        for i, e in enumerate(struct.unpack("<%dQ" % n, mem.read(tbl, n * 8))):
            if not e & 1:
                continue
            va = base + (i << shift)
            nl = (e >> 9) & 7
            span = 1 << shift
            if nl == 0 or nl == 7:
                size = page_size_nl7(e) if nl == 7 else span
                pa = (e & ADDR_MASK & ~(size - 1)) + (va & (size - 1))
                out.append((va, pa, span))
            elif nl < level:
                stack.append((e & ADDR_MASK, nl, va))
            else:
                raise ValueError("NextLevel %d at level %d" % (nl, level))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dump")
    ap.add_argument("regs")
    ap.add_argument("-o", "--output")
    args = ap.parse_args()
    regs = {}
    for line in open(args.regs):
        k, _, v = line.strip().partition("=")
        if v:
            regs[k] = int(v, 16)
    mem = ElfMem(args.dump)
    dtbase = regs["dtbase"]
    table = dtbase & ADDR_MASK
    entries = ((dtbase & 0x1FF) + 1) * PAGE // 32
    raw = mem.read(table, entries * 32)
    pages = []
    summary = []
    blocked = 0
    for devid in range(entries):
        q0, q1 = struct.unpack_from("<QQ", raw, devid * 32)
        if not q0 & 1:
            continue
        dev = "0000:%02x:%02x.%x" % (devid >> 8, (devid >> 3) & 0x1F, devid & 7)
        mode = (q0 >> 9) & 7
        ir, iw = (q0 >> 61) & 1, (q0 >> 62) & 1
        domain = q1 & 0xFFFF
        if not q0 & 2 or (mode == 0 and not ir and not iw):
            blocked += 1
            continue
        if mode == 0:
            summary.append((dev, "pass-through domain %d" % domain))
            continue
        if mode == 7:
            summary.append((dev, "Mode 7"))
            continue
        leaves = []
        walk_v1(mem, q0 & ADDR_MASK, mode, leaves)
        n = 0
        for va, pa, span in leaves:
            for off in range(0, span, PAGE):
                pages.append((dev, va + off, pa + off))
                n += 1
        summary.append((dev, "domain %d, mode %d, %d pages" % (domain, mode, n)))
    pages.sort()
    out = open(args.output, "w") if args.output else sys.stdout
    for dev, va, pa in pages:
        out.write("%s 0x%016x 0x%016x\n" % (dev, va, pa))
    for dev, what in summary:
        sys.stderr.write("walk: %-14s %s\n" % (dev, what))
    sys.stderr.write("walk: %d blocked device IDs\n" % blocked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
