#!/usr/bin/env python3
"""Checks `iommutool dump --json` against a capture's truth, page by page.

  compare.py --iommu NAME --truth TRUTH [--allow-status N]...
             [--allow-empty] [--expect-finding CODE]... -- COMMAND...

Runs COMMAND (an iommutool dump with --json), takes its "mapping" records
of IOMMU NAME, expands each into 4 KiB pages (iova + k*4096 ->
phys + k*4096 for k < size/4096) and checks that every device's set of
(iova, phys) pages equals the truth ("DEVICE IOVA PHYS" lines, or
"DEVICE IOVA PHYS PAGES" runs, see truth.py; "#" starts a comment line).  Records of all PASIDs of a device are pooled (Linux maps a
device's DMA through one PASID); devices absent from both sides are fine.
An empty truth is an error unless --allow-empty (a capture where every
device is in pass-through); --expect-finding requires at least one finding
record with that code (e.g. vtd.device.passthrough).
Exit 0 on an exact match, 1 otherwise (with the differences on stderr).
"""
import argparse
import collections
import json
import subprocess
import sys

PAGE = 4096
MAX_PAGES = 1 << 26  # 256 GiB of 4 KiB pages: more means a broken record


def load_truth(path):
    truth = collections.defaultdict(set)
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) not in (3, 4):
                raise SystemExit("%s:%d: expected DEVICE IOVA PHYS [PAGES]"
                                 % (path, lineno))
            iova, phys = int(parts[1], 16), int(parts[2], 16)
            count = int(parts[3]) if len(parts) == 4 else 1
            if count < 1 or count > MAX_PAGES:
                raise SystemExit("%s:%d: bad page count" % (path, lineno))
            for k in range(count):
                truth[parts[0]].add((iova + k * PAGE, phys + k * PAGE))
    return truth


def records(text):
    text = text.strip()
    if text.startswith("["):
        yield from json.loads(text)
        return
    for line in text.splitlines():
        line = line.strip()
        if line:
            yield json.loads(line)


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iommu", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--allow-status", type=int, action="append", default=[0],
                    help="exit status of COMMAND to accept (0 always)")
    ap.add_argument("--allow-empty", action="store_true",
                    help="an empty truth is fine")
    ap.add_argument("--expect-finding", action="append", default=[],
                    metavar="CODE", help="require a finding with this code")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("no command")

    truth = load_truth(args.truth)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode not in args.allow_status:
        sys.stderr.write("compare: %s exited with %d\n" % (cmd[0], proc.returncode))
        return 1

    got = collections.defaultdict(set)
    pasids = collections.defaultdict(set)
    findings = collections.Counter()
    bad = 0
    total = 0
    for r in records(proc.stdout):
        kind = r.get("type")
        if kind == "finding":
            findings[(r.get("severity"), r.get("code"))] += 1
            continue
        if kind != "mapping" or r.get("iommu") != args.iommu:
            continue
        dev = r["device"]
        iova, phys, size = num(r["iova"]), num(r["phys"]), num(r["size"])
        if size <= 0 or size % PAGE or iova % PAGE or phys % PAGE:
            sys.stderr.write("compare: record not in 4 KiB units: %s\n" % json.dumps(r))
            bad += 1
            continue
        total += size // PAGE
        if total > MAX_PAGES:
            sys.stderr.write("compare: more than %d pages, giving up\n" % MAX_PAGES)
            return 1
        pasids[dev].add(r.get("pasid"))
        s = got[dev]
        for off in range(0, size, PAGE):
            s.add((iova + off, phys + off))

    for (sev, code), n in sorted(findings.items(), key=str):
        sys.stderr.write("compare: finding %s %s x%d\n" % (sev, code, n))
    ok = bad == 0
    for dev in sorted(set(truth) | set(got)):
        want, have = truth.get(dev, set()), got.get(dev, set())
        missing, extra = sorted(want - have), sorted(have - want)
        status = "ok" if not missing and not extra else "MISMATCH"
        sys.stderr.write("compare: %-14s truth %6d dump %6d pages  %s%s\n" % (
            dev, len(want), len(have), status,
            "" if len(pasids.get(dev, ())) <= 1 else
            "  (pasids %s)" % sorted(pasids[dev], key=str)))
        for what, lst in (("missing from dump", missing), ("not in truth", extra)):
            for va, pa in lst[:5]:
                sys.stderr.write("compare:   %s: iova 0x%x -> 0x%x\n" % (what, va, pa))
            if len(lst) > 5:
                sys.stderr.write("compare:   ... %d more %s\n" % (len(lst) - 5, what))
        if missing or extra:
            ok = False
    if not truth and not args.allow_empty:
        sys.stderr.write("compare: the truth is empty\n")
        ok = False
    codes = set(code for _, code in findings)
    for code in args.expect_finding:
        if code not in codes:
            sys.stderr.write("compare: no %s finding\n" % code)
            ok = False
    print("compare: %s" % ("match" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
