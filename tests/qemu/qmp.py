#!/usr/bin/env python3
"""Minimal QMP client for the capture scripts (python3 standard library only).

  qmp.py SOCKET capture --dump FILE --regs-out FILE [NAME=ADDR[:WIDTH]]...
      stop the VM, read each register from guest-physical ADDR with the HMP
      `xp` command (WIDTH 8 or 4 bytes, default 8; one register per command,
      since some models answer 0 to wider or combined reads), write
      "name=0x..." lines to --regs-out, dump guest memory as ELF without
      paging to --dump, then quit QEMU.
  qmp.py SOCKET hmp COMMAND      run one monitor command, print its output
  qmp.py SOCKET quit
"""
import json
import os
import re
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=60.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10.0
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        self.buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.execute("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise QMPError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise QMPError("%s: %s" % (cmd, reply["error"].get("desc")))
            return reply.get("return")

    def hmp(self, line):
        return self.execute("human-monitor-command", **{"command-line": line})


XP_LINE = re.compile(r"^\s*([0-9a-fA-F]+):\s+0x([0-9a-fA-F]+)\s*$")


def read_reg(q, addr, width):
    fmt = {8: "/1gx", 4: "/1wx"}[width]
    out = q.hmp("xp %s 0x%x" % (fmt, addr))
    for line in out.splitlines():
        m = XP_LINE.match(line)
        if m and int(m.group(1), 16) == addr:
            return int(m.group(2), 16)
    raise QMPError("cannot parse xp output for 0x%x: %r" % (addr, out))


def parse_reg(spec):
    name, _, rest = spec.partition("=")
    addr, _, width = rest.partition(":")
    if not name or not addr:
        raise SystemExit("bad register spec %r (NAME=ADDR[:WIDTH])" % spec)
    width = int(width or "8")
    if width not in (4, 8):
        raise SystemExit("register width must be 4 or 8: %r" % spec)
    return name, int(addr, 0), width


def capture(q, argv):
    dump = regs_out = None
    regs = []
    it = iter(argv)
    for a in it:
        if a == "--dump":
            dump = next(it)
        elif a == "--regs-out":
            regs_out = next(it)
        else:
            regs.append(parse_reg(a))
    if not dump or not regs_out:
        raise SystemExit("capture needs --dump and --regs-out")
    q.execute("stop")
    lines = []
    for name, addr, width in regs:
        lines.append("%s=0x%0*x\n" % (name, width * 2, read_reg(q, addr, width)))
    with open(regs_out, "w") as f:
        f.writelines(lines)
    if os.path.exists(dump):
        os.unlink(dump)
    t = time.monotonic()
    q.execute("dump-guest-memory", paging=False,
              protocol="file:" + os.path.abspath(dump))
    print("dump-guest-memory took %.1f s" % (time.monotonic() - t))
    sys.stdout.writelines(lines)
    try:
        q.execute("quit")
    except (QMPError, OSError):
        pass  # QEMU may close the socket before answering


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    q = QMP(argv[1])
    cmd = argv[2]
    if cmd == "capture":
        capture(q, argv[3:])
    elif cmd == "hmp":
        sys.stdout.write(q.hmp(" ".join(argv[3:])))
    elif cmd == "quit":
        try:
            q.execute("quit")
        except (QMPError, OSError):
            pass
    else:
        raise SystemExit("unknown command %r" % cmd)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except (QMPError, OSError) as e:
        sys.stderr.write("qmp: %s\n" % e)
        sys.exit(1)
