#!/usr/bin/env python3
"""mta_probe.py - ask a real mail server and relayconv --decide the same
questions, and compare the answers.

  mta_probe.py --relayconv BIN --source POLICY --target DIR \\
               --clients FILE --senders FILE --rcpts FILE \\
               (--tcp HOST:PORT | --bh 'COMMAND {ip}')

For every client, sender and recipient of the three lists (one per line;
"<>" is the null sender) it sends MAIL FROM and RCPT TO to the server, from
that client: over TCP bound to the client address (loopback aliases), or
through a host-checking session (exim -bh) whose command gets the client
address for {ip}.  The server's reply to RCPT is "accepted" (2xx) or
"refused" (4xx, 5xx).  relayconv --decide answers for the converted policy
(TARGET) and for the source policy; all three must agree for every probe.
Prints one line per disagreement and a summary; exit 1 on any disagreement
or failure.
"""
import argparse
import re
import shlex
import socket
import subprocess
import sys

VERB = re.compile(r": (relays|accepts|discards|refuses|rejects|denies) ")
ACCEPTED = {"relays", "accepts", "discards"}


def lines(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip()]


def decide(relayconv, policy, clients, sender, rcpt):
    """{client: 'accepted'|'refused'} from relayconv --decide --client -"""
    cmd = [relayconv, "--decide", "--client", "-", "--to", rcpt]
    if sender != "<>":
        cmd += ["--from", sender]
    cmd.append(policy)
    p = subprocess.run(cmd, input="\n".join(clients) + "\n", capture_output=True, text=True)
    out = {}
    for c, l in zip(clients, p.stdout.splitlines()):
        m = VERB.search(l)
        if m is None or not l.startswith("client %s" % c):
            sys.exit("mta_probe: cannot read relayconv's answer %r (stderr %r)" % (l, p.stderr))
        out[c] = "accepted" if m.group(1) in ACCEPTED else "refused"
    if len(out) != len(clients):
        sys.exit("mta_probe: relayconv answered %d of %d clients: %s" %
                 (len(out), len(clients), p.stderr))
    return out


def dialogue(senders, rcpts):
    """The commands of one session: every sender with every recipient."""
    cmds = ["EHLO probe.relaymap.test"]
    for s in senders:
        cmds.append("MAIL FROM:<%s>" % ("" if s == "<>" else s))
        for r in rcpts:
            cmds.append("RCPT TO:<%s>" % r)
        cmds.append("RSET")
    cmds.append("QUIT")
    return cmds


def replies(text):
    """The final reply codes of an SMTP transcript, in order."""
    codes = []
    for l in text.splitlines():
        if len(l) >= 4 and l[:3].isdigit() and l[3] == " ":
            codes.append(int(l[:3]))
    return codes


def rcpt_codes(codes, senders, rcpts):
    """Map reply codes (banner, EHLO, MAIL, RCPT..., RSET, ..., QUIT) to
    {(sender, rcpt): code}."""
    i = 2
    out = {}
    for s in senders:
        i += 1                          # MAIL
        for r in rcpts:
            out[(s, r)] = codes[i]
            i += 1
        i += 1                          # RSET
    return out


def session_tcp(addr, client, senders, rcpts):
    host, port = addr.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30, source_address=(client, 0))
    f = sock.makefile("rwb")
    transcript = []

    def reply():
        while True:
            l = f.readline().decode("latin-1")
            if not l:
                raise RuntimeError("connection closed")
            transcript.append(l.rstrip("\r\n"))
            if len(l) < 4 or l[3] != "-":
                return

    reply()
    # Pipelining would be faster, but one command at a time is what every
    # client does and what the server's replies are counted on.
    for c in dialogue(senders, rcpts):
        f.write((c + "\r\n").encode())
        f.flush()
        reply()
    sock.close()
    return replies("\n".join(transcript))


def session_bh(cmd, client, senders, rcpts):
    text = "\r\n".join(dialogue(senders, rcpts)) + "\r\n"
    p = subprocess.run(cmd.replace("{ip}", client), shell=True, input=text,
                       capture_output=True, text=True)
    return replies(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--relayconv", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--clients", required=True)
    ap.add_argument("--senders", required=True)
    ap.add_argument("--rcpts", required=True)
    ap.add_argument("--tcp")
    ap.add_argument("--bh")
    a = ap.parse_args()
    clients, senders, rcpts = lines(a.clients), lines(a.senders), lines(a.rcpts)
    want_t, want_s = {}, {}
    for s in senders:
        for r in rcpts:
            want_t[(s, r)] = decide(a.relayconv, a.target, clients, s, r)
            want_s[(s, r)] = decide(a.relayconv, a.source, clients, s, r)
    n = bad = 0
    nacc = 0
    for c in clients:
        codes = session_tcp(a.tcp, c, senders, rcpts) if a.tcp else \
            session_bh(a.bh, c, senders, rcpts)
        if len(codes) != 3 + len(senders) * (len(rcpts) + 2):
            print("client %s: %d replies, want %d: %s" %
                  (c, len(codes), 3 + len(senders) * (len(rcpts) + 2), codes[:12]))
            bad += 1
            continue
        got = rcpt_codes(codes, senders, rcpts)
        for s in senders:
            for r in rcpts:
                n += 1
                code = got[(s, r)]
                real = "accepted" if 200 <= code < 300 else "refused"
                nacc += real == "accepted"
                t, src = want_t[(s, r)][c], want_s[(s, r)][c]
                if real != t or t != src:
                    bad += 1
                    if bad <= 20:
                        print("client %s, from <%s>, to <%s>: server %s (%d), --decide on "
                              "the output %s, on the source %s" %
                              (c, "" if s == "<>" else s, r, real, code, t, src))
    print("probes: %d, accepted: %d, refused: %d, disagreements: %d" % (n, nacc, n - nacc, bad))
    sys.exit(1 if bad or n == 0 else 0)


if __name__ == "__main__":
    main()
