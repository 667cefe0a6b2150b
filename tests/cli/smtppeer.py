#!/usr/bin/env python3
"""Scripted SMTP peer for the relaytest tests.

    smtppeer.py MODE [--listen ADDR] [--unix PATH] [--stdio [--preamble]] [--portfile F]
                     [--log F] [--name S] [--ip I] [--lifetime SEC]

Serves one connection at a time (relaytest reconnects after a drop) on a
loopback port chosen by the kernel (written to --portfile), on a UNIX
socket, or one session on stdin/stdout (--stdio, for relaytest --pipe).
Every line the client sends is appended to --log as "N> line" (N counts
sessions), and every connection as "N: connect from ADDR", so tests can
check the exact probe strings and that DATA never came.

Modes: closed (answers as the Sendmail 8.11 of the manual transcript),
open (accepts every recipient), percent (accepts only the % hack aimed at
itself), quirky (multi-line replies, EHLO refused, 4xx greylisting, 421,
drops after RCPT, an over-long line, two bang paths accepted), slowbanner
(banner in pieces over about a second), stall (never answers MAIL FROM),
garbage (a banner that is not SMTP), refuse (554 banner).
Exits by itself after --lifetime seconds (default 30).
"""
import os
import re
import socket
import sys
import time


class Peer:
    def __init__(self, mode, name, ip, log):
        self.mode, self.name, self.ip, self.logf = mode, name, ip, log
        self.session = 0

    def log(self, text):
        if self.logf:
            with open(self.logf, "a") as f:
                f.write(text + "\n")

    # -- replies ----------------------------------------------------------
    def banner(self):
        if self.mode == "quirky":
            return ["220-%s ESMTP scripted quirky peer" % self.name,
                    "220-this greeting has three lines",
                    "220 ready"]
        if self.mode == "garbage":
            return ["hello, this is not SMTP"]
        if self.mode == "refuse":
            return ["554 5.7.1 %s: no SMTP service for you" % self.name]
        return ["220 %s ESMTP Sendmail 8.11.0/8.11.0; scripted peer" % self.name]

    def mail(self, arg):
        if self.mode == "open":
            return ["250 2.1.0 %s... Sender ok" % arg]
        if arg == "<>" and self.mode == "quirky":
            return ["451 4.7.1 <>... greylisted, try again later"]
        if "spam.mail." in arg:
            return ["501 5.1.8 %s... Sender domain must exist" % arg]
        if arg.strip("<>").endswith("@localhost"):
            return ["553 5.5.4 %s... Real domain name required" % arg]
        if arg != "<>" and "@" not in arg:
            return ["553 5.5.4 %s... Domain name required" % arg]
        return ["250 2.1.0 %s... Sender ok" % arg]

    def own_domain(self, dom):
        return dom.lower() in (self.name.lower(), "[%s]" % self.ip.lower())

    def rcpt(self, arg):
        """Reply lines, and what to do after: None, 'close' or 'drop'."""
        ok = ["250 2.1.5 %s... Recipient ok" % arg]
        denied = ["550 5.7.1 %s... Relaying denied" % arg]
        addr = arg[1:-1] if arg.startswith("<") and arg.endswith(">") else arg
        if self.mode == "open":
            return ok, None
        if self.mode == "percent":
            m = re.match(r'^([^"@]+)@([^@]+)$', addr)
            if m and "%" in m.group(1) and self.own_domain(m.group(2)):
                return ok, None
            return denied, None
        if self.mode == "quirky":
            if "!" in addr:
                return ["250-2.1.5 %s... Recipient ok" % arg, "250 2.1.5 will relay"], None
            if re.match(r'^"[^"]*@[^"]*"$', addr) and "@" not in addr[1:-1].split("@", 1)[1]:
                return ["450 4.2.0 %s... greylisted, try again later" % arg], None
            if addr.startswith('"') and addr.endswith("]"):
                return denied, "close"
            if addr.count("@") == 2 and addr[0] not in '"@':
                return [], "drop"
            if addr.startswith("@") and ":" in addr and not addr.startswith("@["):
                return ["421 4.3.2 %s closing connection" % self.name], "close"
            if "%" in addr and addr.endswith("]"):
                return ["550 5.7.1 " + "x" * 10000], None
            return ["550-5.7.1 %s... Relaying denied" % arg,
                    "550-5.7.1 this reply has",
                    "550 5.7.1 three lines"], None
        return denied, None

    # -- one session --------------------------------------------------------
    def serve(self, rfile, send):
        self.session += 1
        n = self.session
        if self.mode == "slowbanner":
            line = self.banner()[0] + "\r\n"
            for i in range(0, len(line), 20):
                send(line[i:i + 20])
                time.sleep(0.15)
        else:
            send("".join(l + "\r\n" for l in self.banner()))
        if self.mode in ("garbage", "refuse"):
            # A refusing server still answers QUIT; relaytest just leaves.
            rfile.readline()
            return
        while True:
            raw = rfile.readline()
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            self.log("%d> %s" % (n, line))
            verb = line[:4].upper()
            after = None
            if verb == "EHLO":
                if self.mode == "quirky":
                    reply = ["500 5.5.1 Command unrecognized: \"%s\"" % line]
                else:
                    reply = ["250-%s Hello, pleased to meet you" % self.name,
                             "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250 HELP"]
            elif verb == "HELO":
                reply = ["250 %s Hello, pleased to meet you" % self.name]
            elif line.upper().startswith("MAIL FROM:"):
                if self.mode == "stall":
                    # Say nothing until the client gives up and closes.
                    while rfile.readline():
                        pass
                    return
                reply = self.mail(line[10:])
            elif line.upper().startswith("RCPT TO:"):
                reply, after = self.rcpt(line[8:])
            elif verb == "RSET":
                reply = ["250 2.0.0 Reset state"]
            elif verb == "QUIT":
                send("221 2.0.0 %s closing connection\r\n" % self.name)
                return
            elif verb == "DATA":
                reply = ["554 5.5.1 this peer never takes DATA"]
            else:
                reply = ["500 5.5.1 Command unrecognized"]
            if reply:
                send("".join(l + "\r\n" for l in reply))
            if after in ("close", "drop"):
                return


def main():
    args = sys.argv[1:]
    mode = args.pop(0)
    opts = {"--listen": "127.0.0.1", "--unix": None, "--portfile": None, "--log": None,
            "--name": "relay.test", "--ip": "127.0.0.1", "--lifetime": "30"}
    stdio = preamble = False
    while args:
        a = args.pop(0)
        if a == "--stdio":
            stdio = True
        elif a == "--preamble":
            preamble = True
        else:
            opts[a] = args.pop(0)
    peer = Peer(mode, opts["--name"], opts["--ip"], opts["--log"])
    if stdio:
        out = sys.stdout.buffer
        if preamble:
            # As "exim -bh" does: notices on stdout before the banner.
            out.write(b"\n**** SMTP testing session\n**** This is not for real!\n\n")

        def send_stdio(text):
            out.write(text.encode("latin-1"))
            out.flush()
        peer.log("1: connect from stdio")
        peer.serve(sys.stdin.buffer, send_stdio)
        return
    if opts["--unix"]:
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(opts["--unix"])
    else:
        fam = socket.AF_INET6 if ":" in opts["--listen"] else socket.AF_INET
        srv = socket.socket(fam, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((opts["--listen"], 0))
    srv.listen(8)
    if opts["--portfile"]:
        tmp = opts["--portfile"] + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % (srv.getsockname()[1] if not opts["--unix"] else 0))
        os.rename(tmp, opts["--portfile"])
    end = time.time() + float(opts["--lifetime"])
    while time.time() < end:
        srv.settimeout(max(0.1, end - time.time()))
        try:
            conn, addr = srv.accept()
        except socket.timeout:
            break
        conn.settimeout(max(0.1, end - time.time()))
        peer.log("%d: connect from %s" % (peer.session + 1,
                                          addr[0] if isinstance(addr, tuple) else "unix"))
        try:
            peer.serve(conn.makefile("rb"), lambda t: conn.sendall(t.encode("latin-1")))
        except (OSError, socket.timeout):
            pass
        conn.close()


if __name__ == "__main__":
    main()
