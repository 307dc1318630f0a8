#!/usr/bin/env python3
"""Reference walk of VT-d tables in an ELF memory dump, for checking the
harness itself (the truth extractor, the register capture) independently
of iommutool.  Deliberately small: second-level tables only, no
validation beyond what the walk needs.

  vtd_walk.py DUMP.elf REGS.txt [-o PAGES]

Prints "DEVICE IOVA PHYS" per present 4 KiB page (the truth format) for
every device whose context entry translates (legacy TT=0/1 or scalable
PGTT=2 for PASID 0); pass-through and blocked devices print nothing and
are summarised on stderr.

Facts used (Intel VT-d spec rev 4.1 and Linux 6.1 drivers/iommu/intel/):
  RTADDR_REG bits 11:10 TTM (0 legacy, 1 scalable), bits 63:12 root table.
  Root entry (16 B per bus): legacy: low qword P=bit 0, CTP=63:12;
    scalable: low qword = lower context table (devfn 0-127), high qword =
    upper (devfn 128-255), each P=bit 0, CTP=63:12.
  Legacy context entry (16 B): low P=0, TT=3:2, SLPTPTR=63:12;
    high AW=2:0, DID=23:8.
  Scalable context entry (32 B): low P=0, PDTS=11:9, PASIDDIRPTR=63:12.
  PASID directory entry (8 B): P=0, SMPTBLPTR=63:12; index PASID[19:6].
  PASID table entry (64 B): qword0 P=0, AW=4:2, PGTT=8:6, SLPTPTR=63:12;
    qword1 DID=15:0; index PASID[5:0].
  Second-level entry (8 B): R=0, W=1, PS=7, ADDR=51:12; AW 1 = 3 levels
    (39-bit), 2 = 4 levels (48-bit), 3 = 5 levels.
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

    def q(self, pa):
        return struct.unpack("<Q", self.read(pa, 8))[0]


def walk_sl(mem, table, levels, out, visited_limit=100000):
    """Yields (iova, phys, size) leaves of a second-level table."""
    stack = [(table, levels, 0)]
    seen = 0
    while stack:
        tbl, lvl, base = stack.pop()
        seen += 1
        if seen > visited_limit:
            raise ValueError("too many tables")
        raw = mem.read(tbl, PAGE)
        shift = 12 + 9 * (lvl - 1)
        for i, e in enumerate(struct.unpack("<512Q", raw)):
            if not e & 3:  # neither R nor W: not present
                continue
            va = base + (i << shift)
            if lvl == 1 or e & 0x80:
                out.append((va, e & ADDR_MASK & ~((1 << shift) - 1), 1 << shift))
            else:
                stack.append((e & ADDR_MASK, lvl - 1, va))


def bdf(bus, devfn):
    return "0000:%02x:%02x.%x" % (bus, devfn >> 3, devfn & 7)


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
    rtaddr = regs["rtaddr"]
    scalable = (rtaddr >> 10) & 3 == 1
    root = rtaddr & ADDR_MASK
    pages = []
    summary = []
    for bus in range(256):
        lo, hi = struct.unpack("<QQ", mem.read(root + bus * 16, 16))
        if scalable:
            halves = [(lo, 0), (hi, 128)]
        else:
            halves = [(lo, 0)]
        for rte, first in halves:
            if not rte & 1:
                continue
            ctx_table = rte & ADDR_MASK
            count = 128 if scalable else 256
            esize = 32 if scalable else 16
            for i in range(count):
                devfn = first + i
                ce = mem.read(ctx_table + i * esize, esize)
                c0, c1 = struct.unpack_from("<QQ", ce)
                if not c0 & 1:
                    continue
                dev = bdf(bus, devfn)
                if scalable:
                    pasid_dir = c0 & ADDR_MASK
                    pde = mem.q(pasid_dir)  # PASID 0 -> directory entry 0
                    if not pde & 1:
                        summary.append((dev, "no PASID table"))
                        continue
                    pte0 = mem.q((pde & ADDR_MASK))
                    pte1 = mem.q((pde & ADDR_MASK) + 8)
                    if not pte0 & 1:
                        summary.append((dev, "PASID 0 not present"))
                        continue
                    pgtt = (pte0 >> 6) & 7
                    aw = (pte0 >> 2) & 7
                    did = pte1 & 0xFFFF
                    if pgtt == 4:
                        summary.append((dev, "pass-through did %d" % did))
                        continue
                    if pgtt != 2:
                        summary.append((dev, "PGTT %d not walked" % pgtt))
                        continue
                    sl = pte0 & ADDR_MASK
                else:
                    tt = (c0 >> 2) & 3
                    aw = c1 & 7
                    did = (c1 >> 8) & 0xFFFF
                    if tt == 2:
                        summary.append((dev, "pass-through did %d" % did))
                        continue
                    sl = c0 & ADDR_MASK
                leaves = []
                walk_sl(mem, sl, aw + 2, leaves)
                n = 0
                for va, pa, size in leaves:
                    for off in range(0, size, PAGE):
                        pages.append((dev, va + off, pa + off))
                        n += 1
                summary.append((dev, "did %d, %d-level, %d pages" % (did, aw + 2, n)))
    pages.sort()
    out = open(args.output, "w") if args.output else sys.stdout
    for dev, va, pa in pages:
        out.write("%s 0x%016x 0x%016x\n" % (dev, va, pa))
    for dev, what in summary:
        sys.stderr.write("walk: %-14s %s\n" % (dev, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
