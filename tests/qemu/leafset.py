#!/usr/bin/env python3
"""Compares the leaves of two `iommutool dump --json --pages` outputs.

  leafset.py [--fields F,...] [--show N] EXPECTED.json GOT.json

Each input holds "mapping" records (JSON lines or one array).  Every
record is one page-table leaf; the leaves of each device are compared as
sets of (iova, phys, page_size, read, write) (--fields picks other record
members).  Records of all PASIDs of a device are pooled.  Prints one line
per device with its leaf count and, on a mismatch, up to N leaves missing
from GOT and N extra in it.  Exit 0 when every device's set is equal,
1 otherwise, 2 on unreadable input.
"""
import argparse
import collections
import json
import sys

DEFAULT_FIELDS = "iova,phys,page_size,read,write"


def records(path):
    with open(path) as f:
        text = f.read().strip()
    if text.startswith("["):
        yield from json.loads(text)
        return
    for line in text.splitlines():
        line = line.strip()
        if line:
            yield json.loads(line)


def norm(v):
    if isinstance(v, str) and v.startswith("0x"):
        return int(v, 16)
    return v


def leaves(path, fields):
    out = collections.defaultdict(set)
    for rec in records(path):
        if rec.get("type") != "mapping":
            continue
        try:
            key = tuple(norm(rec[f]) for f in fields)
        except KeyError as e:
            raise SystemExit("%s: mapping record without %s" % (path, e))
        out[rec.get("device")].add(key)
    return out


def show(key, fields):
    return " ".join("%s=%s" % (f, hex(v) if isinstance(v, int) and
                               not isinstance(v, bool) else v)
                    for f, v in zip(fields, key))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fields", default=DEFAULT_FIELDS)
    ap.add_argument("--show", type=int, default=5)
    ap.add_argument("expected")
    ap.add_argument("got")
    args = ap.parse_args()
    fields = args.fields.split(",")
    try:
        want = leaves(args.expected, fields)
        got = leaves(args.got, fields)
    except (OSError, ValueError) as e:
        print("leafset.py: %s" % e, file=sys.stderr)
        return 2
    bad = 0
    for dev in sorted(set(want) | set(got), key=str):
        w, g = want.get(dev, set()), got.get(dev, set())
        sizes = collections.Counter(k[fields.index("page_size")] for k in w) \
            if "page_size" in fields else {}
        if w == g:
            print("%s: %d leaves equal%s" % (dev, len(w), "".join(
                " %dx%#x" % (n, s) for s, n in sorted(sizes.items()))))
            continue
        bad += 1
        print("%s: MISMATCH: %d expected, %d got, %d missing, %d extra"
              % (dev, len(w), len(g), len(w - g), len(g - w)))
        for k in sorted(w - g)[:args.show]:
            print("   missing %s" % show(k, fields))
        for k in sorted(g - w)[:args.show]:
            print("   extra   %s" % show(k, fields))
    if not want:
        print("no leaves expected")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
