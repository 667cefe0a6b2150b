#!/usr/bin/env python3
# gen.py - writes the bad-input corpus beside it (run once; the files are in
# git).  t1037 runs every file through mapc or relayconv and compares exit
# status, stdout and stderr with the golden files.  Inputs that git cannot
# hold or that would be large (directories, FIFOs, multi-megabyte lines) are
# made by t1037 itself.
import os

here = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(here, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".in"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("latin-1"))

# A good line for each target, so that positions after it are checked too.
GOOD = {
    "access": "good.example OK\n",
    "tcprules": "10.0.0.1:allow\n",
    "tcprules6": "10.0.0.1:allow\n",
    "rcpthosts": "example.com\n",
    "policy": "accept domain example.com\n",
    "sendmail": "Connect:10.0.0.1 RELAY\n",
    "qmail": "10.0.0.1:allow,RELAYCLIENT=\"\"\n",
}
# One line that is good except for what each generic case puts into it.
LINE = {
    "access": ("spam{X}.example", "REJECT"),
    "tcprules": ("10.0.0.{X}", "deny"),
    "tcprules6": ("10.0.0.{X}", "deny"),
    "rcpthosts": ("ex{X}ample.org", None),
    "policy": ("from domain spam{X}.example", "reject"),
    "sendmail": ("From:spam{X}.example", "REJECT"),
    "qmail": ("10.0.0.{X}", "deny"),
}

def line(t, x, value=True):
    k, v = LINE[t]
    k = k.replace("{X}", x)
    if v is None:
        return k + "\n"
    if t in ("tcprules", "tcprules6", "qmail"):
        return k + ":" + v + "\n"
    return k + " " + v + "\n"

for t in GOOD:
    g = GOOD[t]
    put(t, "nul-in-key", g + line(t, "\0"))
    put(t, "nul-only", "\0" * 64)
    put(t, "nul-line-end", g + line(t, "9").rstrip("\n") + "\0\n")
    put(t, "utf8-invalid", g + line(t, "\xff\xfe"))
    put(t, "utf8-overlong", g + line(t, "\xc0\xaf"))
    put(t, "utf8-valid", g + line(t, "\xc3\xa9"))
    put(t, "crlf", (g + line(t, "7")).replace("\n", "\r\n"))
    put(t, "cr-only", (g + line(t, "7")).replace("\n", "\r"))
    put(t, "cr-inside", g + line(t, "7\r8"))
    put(t, "no-final-newline", g + line(t, "5").rstrip("\n"))
    put(t, "blank-lines", "\n\n   \n\t\n")
    put(t, "comments-only", "# nothing\n#\n")
    put(t, "bom-utf8", "\xef\xbb\xbf" + g)
    put(t, "bom-utf16", "\xff\xfe" + "".join(c + "\0" for c in g))
    put(t, "control-chars", g + line(t, "\x01\x1b[31m"))
    put(t, "long-key", g + line(t, "x" * 10000))
    put(t, "binary", bytes(range(256)) * 4)
    put(t, "empty", b"")

# mapc access syntax
a = "access"
put(a, "no-value", "lonely.example\n")
put(a, "leading-space", "  indented.example OK\n")
put(a, "dup-key", "a.example OK\nb.example OK\nA.EXAMPLE REJECT\n")
put(a, "tab-only", "\t\t\n")
put(a, "key-only-spaces", "key.example    \n")
put(a, "quote-unterminated", "\"spam@x.example REJECT\n")
put(a, "huge-value", "k.example " + "v" * 70000 + "\n")
put(a, "many-errors", "".join(" bad%d\n" % i for i in range(80)))

# tcprules / tcprules6 (qmail tcp.smtp as mapc compiles it)
for t in ("tcprules", "tcprules6"):
    put(t, "octet-256", "10.0.0.256:allow\n")
    put(t, "octet-999", "1.2.3.999:allow\n")
    put(t, "range-backwards", "10.0.0.9-4:allow\n")
    put(t, "range-over-255", "10.0.0.4-300:allow\n")
    put(t, "cidr-33", "10.0.0.0/33:allow\n")
    put(t, "mask-dotted", "10.0.0.0/255.0.255.0:allow\n")
    put(t, "no-action", "10.0.0.1\n")
    put(t, "bad-action", "10.0.0.1:maybe\n")
    put(t, "quote-unterminated", "10.0.0.1:allow,GREETING=\"hello\n")
    put(t, "env-no-name", "10.0.0.1:allow,=x\n")
    put(t, "env-no-equals", "10.0.0.1:allow,RELAYCLIENT\n")
    put(t, "hex-octet", "0x0a.0.0.1:allow\n")
    put(t, "two-double-colons", "1::2::3:allow\n")
    put(t, "ipv6-too-long", "1:2:3:4:5:6:7:8:9:allow\n")
    put(t, "ipv6-bracketed", "[::1]:allow\n")
    put(t, "dup-rule", "10.0.0.1:allow\n10.0.0.1:deny\n")
    put(t, "negative-octet", "10.0.-1.1:allow\n")

# rcpthosts
r = "rcpthosts"
put(r, "space-inside", "ex ample.com\n")
put(r, "dot-only", ".\n")
put(r, "double-dot", "a..example.com\n")
put(r, "at-sign", "@example.com\n")
put(r, "label-64", "x" * 64 + ".example.com\n")
put(r, "wildcard", "*.example.com\n")
put(r, "ip-literal", "[10.0.0.1]\n")
put(r, "trailing-dot", "example.com.\n")
put(r, "dup-domain", "example.com\nEXAMPLE.com\n")
put(r, "octets-over-255", "300.1.1.1\n")

# relayconv: neutral policy file
p = "policy"
put(p, "cidr-33", "connect net 10.0.0.0/33 relay\n")
put(p, "octet-999", "connect net 1.2.3.999 relay\n")
put(p, "mask-noncontiguous", "connect net 10.0.0.0;255.0.255.0 relay\n")
put(p, "two-double-colons", "connect net 1::2::3 relay\n")
put(p, "ipv6-cidr-129", "connect net 2001:db8::/129 relay\n")
put(p, "host-bits", "connect net 10.0.0.1/24 relay\n")
put(p, "unknown-stage", "deliver net 10.0.0.0/8 relay\n")
put(p, "unknown-action", "connect net 10.0.0.0/8 maybe\n")
put(p, "missing-action", "connect net 10.0.0.0/8\n")
put(p, "missing-subject", "connect net\n")
put(p, "accept-no-domain", "accept domain\n")
put(p, "quote-unterminated", "from address spam@x.example error \"550 go away\n")
put(p, "error-bad-code", "from address spam@x.example error 999 nope\n")
put(p, "range-backwards", "connect net 10.0.0.9-4 relay\n")
put(p, "conflict", "connect net 10.0.0.0/8 relay\nconnect net 10.0.0.0/8 reject\n")

# relayconv: Sendmail access
s = "sendmail"
put(s, "octet-999", "Connect:1.2.3.999 RELAY\n")
put(s, "octet-256", "Connect:256.1.1.1 RELAY\n")
put(s, "cidr-33", "Connect:10.0.0.0/33 RELAY\n")
put(s, "two-double-colons", "Connect:IPv6:1::2::3 RELAY\n")
put(s, "ipv6-no-tag", "Connect:1::2 RELAY\n")
put(s, "empty-key", "Connect: RELAY\n")
put(s, "unknown-tag", "Helo:host.example REJECT\n")
put(s, "unknown-action", "Connect:10.0.0.1 MAYBE\n")
put(s, "no-value", "Connect:10.0.0.1\n")
put(s, "error-unterminated", "From:spam.example ERROR:\"550 go away\n")
put(s, "error-bad-code", "From:spam.example ERROR:999 nope\n")
put(s, "error-dsn-bad", "From:spam.example ERROR:5.x.1:550 nope\n")
put(s, "quote-in-key", "From:\"spam REJECT\n")
put(s, "at-at", "From:spam@@x.example REJECT\n")
put(s, "dup-key", "From:spam.example REJECT\nFrom:spam.example OK\n")
put(s, "leading-space", "  From:spam.example REJECT\n")

# relayconv: qmail tcp.smtp
q = "qmail"
put(q, "octet-999", "1.2.3.999:allow\n")
put(q, "range-backwards", "10.0.0.9-4:allow\n")
put(q, "range-over-255", "10.0.0.4-300:allow\n")
put(q, "cidr-33", "10.0.0.0/33:allow\n")
put(q, "bad-action", "10.0.0.1:maybe\n")
put(q, "quote-unterminated", "10.0.0.1:allow,RELAYCLIENT=\"\n")
put(q, "env-no-equals", "10.0.0.1:allow,RELAYCLIENT\n")
put(q, "two-double-colons", "1::2::3:allow\n")
put(q, "no-colon", "10.0.0.1 allow\n")
put(q, "instruction-unknown", "10.0.0.1:allow,RBLSMTPD\n")
put(q, "dup-rule", "10.0.0.1:allow\n10.0.0.1:deny\n")

# relayconv: NUL bytes in the other places of a Sendmail line
s = "sendmail"
put(s, "nul-in-value", "Connect:10.0.0.1 RE\0LAY\n")
put(s, "nul-after-key", "From:spam.example\0 REJECT\n")

# relayconv: Exchange 5.5 .reg (REGEDIT4 and version 5), NUL bytes inside
e = "exchange"
REG = ("REGEDIT4\r\n\r\n"
       "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMC\\Parameters]\r\n"
       "\"RelayAllowList\"=hex(7):31,30,2e,30,2e,30,2e,35,00,00\r\n"
       "\"RelayFlags\"=dword:00000002\r\n\r\n")
put(e, "nul-in-name", REG.replace("RelayFlags", "Relay\0Flags"))
put(e, "nul-in-dword", REG.replace("00000002", "0000\x0002"))
put(e, "nul-in-key", REG.replace("[HKEY_LOCAL", "[HKEY\0_LOCAL"))
put(e, "nul-in-hex", REG.replace("31,30,2e", "31,3\x000,2e"))
v5 = REG.replace("REGEDIT4", "Windows Registry Editor Version 5.00").replace("RelayFlags", "Relay\0Flags")
put(e, "nul-v5", "\xff\xfe" + "".join(c + "\0" for c in v5))

# relayconv: EMWAC antirelay (ARDEF-1), each file by its content
a = "antirelay"
put(a, "nul-goodip", "10.0.0.0/8\r\n192.168\0.1.0/24\r\n")
put(a, "nul-domain", "example.com\r\nex\0ample.org\r\n")
put(a, "nul-ini", "[AntiRelay]\r\n[LocalNets]\r\nnet1=10.\0.0.0/8\r\n")
