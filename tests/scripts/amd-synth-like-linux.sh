#!/bin/sh
# `iommutool synth` writes AMD-Vi tables the way Linux 6.1 does: from the
# real capture tests/fixtures/amd-qemu-strict.elf, rebuild a spec (each
# translated device's domain and every leaf it maps, interrupt remapping
# where Linux set it up), synthesise it, and require every device table
# entry and every page-table entry to be bit for bit what Linux wrote,
# except for the addresses of tables (root pointers, next-table pointers,
# interrupt tables), which depend on where the pages were allocated.
# The domain's mode is left to synth's default (Linux's 3 levels grown as
# needed), so that is checked too.
set -u
SRCDIR=${SRCDIR:-.}
fixture="$SRCDIR/tests/fixtures/amd-qemu-strict.elf"
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
[ -n "${IOMMUTOOL:-}" ] || { echo "error: IOMMUTOOL is not set" >&2; exit 1; }
tmp=${TS_TMPDIR:-${TMPDIR:-/tmp}}
exec python3 - "$IOMMUTOOL" "$fixture" "$tmp" "$SRCDIR/tests/qemu" <<'EOF'
import json, re, struct, subprocess, sys

iommutool, fixture, tmp, qemu_dir = sys.argv[1:5]
sys.path.insert(0, qemu_dir)
from amd_walk import ElfMem  # the harness's small ELF reader

ADDR = ((1 << 52) - 1) & ~0xFFF


def run(*args):
    p = subprocess.run((iommutool,) + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode not in (0, 1):
        sys.exit("%s failed: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def devtab(image):
    """(base, entries) from `dump --regs`."""
    text = run("dump", "--regs", "--device", "ff:1f.7", image)
    size = int(re.search(r"Size +\[8:0\] +(0x[0-9a-f]+)", text).group(1), 16)
    base = int(re.search(r"DevTabBase +\[51:12\] +0x[0-9a-f]+ +(0x[0-9a-f]+)", text).group(1), 16)
    return base, (size + 1) * 4096 // 32


def dtes(mem, base, entries):
    return [struct.unpack_from("<4Q", mem.read(base + i * 32, 32)) for i in range(entries)]


def bdf(devid):
    return "%02x:%02x.%x" % (devid >> 8, (devid >> 3) & 0x1F, devid & 7)


real = ElfMem(fixture)
rbase, rentries = devtab(fixture)
rdte = dtes(real, rbase, rentries)

leaves = {}
for line in run("dump", "--json", "--pages", fixture).splitlines():
    r = json.loads(line)
    if r["type"] == "mapping":
        leaves.setdefault(r["domain"], {})[int(r["iova"], 16)] = r

domains, devices = {}, []
for devid, q in enumerate(rdte):
    if not q[0] & 1:
        continue  # invalid: not listed
    if (q[0] >> 9) & 7 == 0:
        # untranslated: synth's "unused" unless Linux gave it an interrupt
        # table (the IOAPIC's DeviceID)
        if (q[2] >> 1) & 0xF:
            ir_iw = (q[0] >> 61) & 3
            devices.append({"bdf": bdf(devid), "intremap": True,
                            "translation": "passthrough" if ir_iw == 3 else "blocked"})
        continue
    dom = q[1] & 0xFFFF
    if dom not in domains:
        maps = []
        for iova, r in sorted(leaves.get(dom, {}).items()):
            perm = ("r" if r["read"] else "") + ("w" if r["write"] else "")
            maps.append({"iova": hex(iova), "phys": r["phys"],
                         "size": hex(r["page_size"]), "perm": perm})
        domains[dom] = {"id": dom, "mappings": maps}
    dev = {"bdf": bdf(devid), "domain": dom}
    if (q[2] >> 1) & 0xF:  # Linux gave it an interrupt remapping table
        dev["intremap"] = True
    devices.append(dev)
spec = {"iommu": "amd", "devtab-entries": rentries, "unused": "blocked",
        "domains": list(domains.values()), "devices": devices}
with open(tmp + "/like-linux.json", "w") as f:
    json.dump(spec, f, indent=1)
synth_image = tmp + "/like-linux.elf"
run("synth", "-o", synth_image, tmp + "/like-linux.json")

mine = ElfMem(synth_image)
sbase, sentries = devtab(synth_image)
sdte = dtes(mine, sbase, sentries)
bad = 0


def fail(msg):
    global bad
    bad += 1
    if bad <= 20:
        print("mismatch: " + msg)


# DTE: QW0 without the root pointer, QW1, QW2 without the interrupt table
# pointer, QW3.  Linux leaves entries past its last DeviceID zero.
masks = (~(ADDR & ~0) & (2**64 - 1), 2**64 - 1,
         (2**64 - 1) & ~(((1 << 52) - 1) & ~0x3F), 2**64 - 1)
for devid in range(rentries):
    if not any(rdte[devid]):
        continue
    for q in range(4):
        if rdte[devid][q] & masks[q] != sdte[devid][q] & masks[q]:
            fail("DTE %s QW%d: linux 0x%016x synth 0x%016x"
                 % (bdf(devid), q, rdte[devid][q], sdte[devid][q]))


def compare(rt, st, level, where):
    n = 128 if level == 6 else 512
    re_ = struct.unpack("<%dQ" % n, real.read(rt, n * 8))
    se = struct.unpack("<%dQ" % n, mine.read(st, n * 8))
    for i in range(n):
        r, s = re_[i], se[i]
        nl = (r >> 9) & 7
        if r & 1 and 1 <= nl <= 6:  # table entry: compare without address
            if r & ~ADDR != s & ~ADDR or not s & 1:
                fail("%s[%d] PDE: linux 0x%016x synth 0x%016x" % (where, i, r, s))
            else:
                compare(r & ADDR, s & ADDR, nl, "%s[%d]" % (where, i))
        elif r != s:
            fail("%s[%d] entry: linux 0x%016x synth 0x%016x" % (where, i, r, s))


seen = set()
for devid, q in enumerate(rdte):
    if not q[0] & 1 or (q[0] >> 9) & 7 == 0 or (q[1] & 0xFFFF) in seen:
        continue
    seen.add(q[1] & 0xFFFF)
    compare(q[0] & ADDR, sdte[devid][0] & ADDR, (q[0] >> 9) & 7,
            "domain %d l%d" % (q[1] & 0xFFFF, (q[0] >> 9) & 7))

print("%d device table entries, %d domains, %d leaves compared; %d mismatches"
      % (sum(1 for d in rdte if any(d)), len(seen),
         sum(len(v) for v in leaves.values()), bad))
sys.exit(1 if bad else 0)
EOF
