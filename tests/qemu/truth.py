#!/usr/bin/env python3
"""Ground truth from a capture's serial log: the live IOVA -> physical 4 KiB
pages of every device, as the kernel itself mapped them.

  truth.py SERIAL_LOG [-o TRUTH] [--json | --runs] [--allow-empty]

The guest's /init prints the ftrace buffer between markers.  It holds
  * kprobe events (named by the per-IOMMU script, same fields everywhere):
      iommutool_map    dom iova paddr pgsize pgcount   (driver map_pages)
      iommutool_unmap  dom iova pgsize pgcount         (driver unmap_pages)
      iommutool_attach dom dev                         (driver attach_dev)
      iommutool_free   dom                             (driver domain_free)
    where dom is the struct iommu_domain pointer and dev the device name;
  * the iommu:map / iommu:unmap tracepoints of the IOMMU core, which carry
    no domain.
The kprobes give per-domain state; attach maps each device to its latest
domain.  The tracepoints are the cross-check: the multiset of mapped
(iova, phys) pages and of unmapped iova pages must agree between the two
sources, the ring buffer must not have overrun and no kprobe may have
missed a hit.

Output: one line per live page, "DEVICE IOVA PHYS" (16 hex digits each,
sorted), devices named as PCI addresses dddd:bb:dd.f; with --json, JSON
Lines {"device":..,"iova":..,"phys":..}; with --runs, "DEVICE IOVA PHYS N"
per run of N pages contiguous in both IOVA and physical address (the
compact form kept for fixtures; compare.py reads both).  Devices attached to a domain
with no live page print nothing; the summary on stderr lists them.
Exit status 0 when consistent, 1 otherwise (with reasons on stderr).
"""
import argparse
import collections
import json
import re
import sys

PAGE = 4096

BEGIN = "@@IOMMUTOOL-TRACE-BEGIN@@"
END = "@@IOMMUTOOL-TRACE-END@@"
KP_BEGIN = "@@IOMMUTOOL-KPROBES-BEGIN@@"
KP_END = "@@IOMMUTOOL-KPROBES-END@@"

# "<task>-<pid> [cpu] flags timestamp: event: payload"
EVENT = re.compile(r"\[\d+\]\s+\S+\s+\d+\.\d+:\s+(\w+):\s+(.*)$")
FIELD = re.compile(r"(\w+)=(\"[^\"]*\"|\S+)")
COUNTS = re.compile(r"entries-in-buffer/entries-written:\s*(\d+)/(\d+)")

# How many pages one mapping call may cover (bounds the work on bad input).
MAX_PAGES_PER_CALL = 1 << 20


class Truth:
    def __init__(self, allow_empty=False):
        self.allow_empty = allow_empty  # pass-through: no map events at all
        self.errors = []
        self.warnings = []
        self.domains = collections.defaultdict(dict)  # dom -> {iova: phys}
        self.device_domain = {}                        # dev -> dom
        self.kp_map = collections.Counter()            # (iova, phys) pages
        self.kp_unmap = collections.Counter()          # iova pages
        self.tp_map = collections.Counter()
        self.tp_unmap = collections.Counter()
        self.events = collections.Counter()
        self.counts = None
        self.missed = {}

    def error(self, msg):
        if len(self.errors) < 50:
            self.errors.append(msg)
        elif len(self.errors) == 50:
            self.errors.append("(more errors not shown)")

    def pages(self, lineno, size):
        if size % PAGE or size == 0 or size // PAGE > MAX_PAGES_PER_CALL:
            self.error("line %d: size 0x%x is not a sane multiple of 4 KiB"
                       % (lineno, size))
            return 0
        return size // PAGE

    def kprobe(self, lineno, name, f):
        dom = f.get("dom")
        if dom is None:
            self.error("line %d: %s without dom" % (lineno, name))
            return
        if name == "iommutool_attach":
            dev = f.get("dev", "").strip('"')
            if not dev:
                self.error("line %d: attach without device" % lineno)
                return
            self.device_domain[dev] = dom
            self.domains[dom]  # make the domain known even when empty
        elif name == "iommutool_free":
            users = [d for d, x in self.device_domain.items() if x == dom]
            if users:
                self.warnings.append("domain %s freed while attached to %s"
                                     % (dom, ", ".join(users)))
                for d in users:
                    del self.device_domain[d]
            self.domains.pop(dom, None)
        elif name == "iommutool_map":
            iova, paddr = int(f["iova"], 16), int(f["paddr"], 16)
            n = self.pages(lineno, int(f["pgsize"], 16) * int(f["pgcount"], 16))
            if iova % PAGE or paddr % PAGE:
                self.error("line %d: unaligned map iova 0x%x paddr 0x%x"
                           % (lineno, iova, paddr))
                return
            live = self.domains[dom]
            for i in range(n):
                va, pa = iova + i * PAGE, paddr + i * PAGE
                old = live.get(va)
                if old is not None:
                    msg = ("line %d: domain %s maps iova 0x%x again (0x%x, was 0x%x)"
                           % (lineno, dom, va, pa, old))
                    # Linux warns and keeps the old PTE when a mapping exists.
                    if old == pa:
                        self.warnings.append(msg)
                    else:
                        self.error(msg)
                    pa = old
                live[va] = pa
                self.kp_map[(va, pa)] += 1
        elif name == "iommutool_unmap":
            iova = int(f["iova"], 16)
            n = self.pages(lineno, int(f["pgsize"], 16) * int(f["pgcount"], 16))
            live = self.domains[dom]
            for i in range(n):
                va = iova + i * PAGE
                if live.pop(va, None) is None:
                    self.error("line %d: domain %s unmaps iova 0x%x that is not mapped"
                               % (lineno, dom, va))
                self.kp_unmap[va] += 1

    def tracepoint(self, lineno, name, f):
        iova = int(f["iova"], 16)
        if name == "map":
            paddr = int(f["paddr"], 16)
            n = self.pages(lineno, int(f["size"], 0))
            for i in range(n):
                self.tp_map[(iova + i * PAGE, paddr + i * PAGE)] += 1
        else:
            n = self.pages(lineno, int(f["unmapped_size"], 0))
            for i in range(n):
                self.tp_unmap[iova + i * PAGE] += 1

    def feed(self, lines):
        state = None
        for lineno, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            if line.startswith(BEGIN):
                state = "trace"
                continue
            if line.startswith(END):
                state = "done"
                continue
            if line.startswith(KP_BEGIN):
                state = "kprobes"
                continue
            if line.startswith(KP_END):
                state = None
                continue
            if state == "kprobes":
                parts = line.split()
                # kprobe_profile: "event nhit nmissed"
                if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                    self.missed[parts[0]] = int(parts[2])
                continue
            if state != "trace":
                continue
            m = COUNTS.search(line)
            if m:
                self.counts = (int(m.group(1)), int(m.group(2)))
                continue
            if line.startswith("#"):
                continue
            m = EVENT.search(line)
            if not m:
                if line.strip():
                    self.warnings.append("line %d: not a trace event: %s"
                                         % (lineno, line[:80]))
                continue
            name, payload = m.group(1), m.group(2)
            f = dict((k, v) for k, v in FIELD.findall(payload))
            self.events[name] += 1
            try:
                if name.startswith("iommutool_"):
                    self.kprobe(lineno, name, f)
                elif name in ("map", "unmap") and payload.startswith("IOMMU:"):
                    self.tracepoint(lineno, name, f)
            except (KeyError, ValueError) as e:
                self.error("line %d: cannot parse %s event (%s): %s"
                           % (lineno, name, e, payload[:120]))
        if state != "done":
            self.error("no complete trace between %s and %s" % (BEGIN, END))

    def check(self):
        if self.counts is None:
            self.error("no entries-in-buffer/entries-written line")
        elif self.counts[0] != self.counts[1]:
            self.error("ring buffer overran: %d of %d entries kept" % self.counts)
        if not self.missed:
            self.error("no kprobe profile printed")
        for name, n in sorted(self.missed.items()):
            if n:
                self.error("kprobe %s missed %d hits" % (name, n))
        needed = ["iommutool_attach"]
        if not self.allow_empty:
            needed += ["iommutool_map", "map"]
        for need in needed:
            if not self.events[need]:
                self.error("no %s events in the trace" % need)
        if self.kp_map != self.tp_map:
            diff = (self.kp_map - self.tp_map) + (self.tp_map - self.kp_map)
            self.error("kprobe maps and iommu:map events disagree on %d pages "
                       "(kprobe %d, tracepoint %d)"
                       % (sum(diff.values()), sum(self.kp_map.values()),
                          sum(self.tp_map.values())))
        if self.kp_unmap != self.tp_unmap:
            diff = (self.kp_unmap - self.tp_unmap) + (self.tp_unmap - self.kp_unmap)
            self.error("kprobe unmaps and iommu:unmap events disagree on %d pages "
                       "(kprobe %d, tracepoint %d)"
                       % (sum(diff.values()), sum(self.kp_unmap.values()),
                          sum(self.tp_unmap.values())))

    def device_pages(self):
        out = {}
        for dev, dom in self.device_domain.items():
            out[dev] = sorted(self.domains.get(dom, {}).items())
        return out


def runs(pages):
    """Merges sorted (iova, phys) pages into (iova, phys, count) runs."""
    out = []
    for iova, phys in pages:
        if out:
            v, p, n = out[-1]
            if iova == v + n * PAGE and phys == p + n * PAGE:
                out[-1] = (v, p, n + 1)
                continue
        out.append((iova, phys, 1))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("serial_log")
    ap.add_argument("-o", "--output", help="write the truth here (default stdout)")
    fmt = ap.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON Lines output")
    fmt.add_argument("--runs", action="store_true",
                     help="one line per contiguous run of pages")
    ap.add_argument("--allow-empty", action="store_true",
                    help="no map events is fine (every device in pass-through)")
    args = ap.parse_args()

    t = Truth(args.allow_empty)
    with open(args.serial_log, encoding="utf-8", errors="replace") as f:
        t.feed(f)
    t.check()

    pages = t.device_pages()
    out = open(args.output, "w") if args.output else sys.stdout
    for dev in sorted(pages):
        if args.runs:
            for iova, phys, n in runs(pages[dev]):
                out.write("%s 0x%016x 0x%016x %d\n" % (dev, iova, phys, n))
            continue
        for iova, phys in pages[dev]:
            if args.json:
                out.write(json.dumps({"device": dev, "iova": "0x%x" % iova,
                                      "phys": "0x%x" % phys}) + "\n")
            else:
                out.write("%s 0x%016x 0x%016x\n" % (dev, iova, phys))
    if args.output:
        out.close()

    err = sys.stderr
    err.write("truth: %d events (%s)\n" % (sum(t.events.values()), ", ".join(
        "%s %d" % kv for kv in sorted(t.events.items()))))
    doms = {}
    for dev in sorted(pages):
        dom = t.device_domain[dev]
        doms.setdefault(dom, len(doms))
        err.write("truth: %-14s domain#%d %6d live pages\n"
                  % (dev, doms[dom], len(pages[dev])))
    for w in t.warnings[:10]:
        err.write("truth: warning: %s\n" % w)
    if len(t.warnings) > 10:
        err.write("truth: %d more warnings\n" % (len(t.warnings) - 10))
    for e in t.errors:
        err.write("truth: error: %s\n" % e)
    return 1 if t.errors else 0


if __name__ == "__main__":
    sys.exit(main())
