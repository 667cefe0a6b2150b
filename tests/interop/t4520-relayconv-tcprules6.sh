#!/bin/sh
# relayconv --to qmail6: the tcp.smtp it writes, compiled by the IPv6 build
# of tcprules (Debian ucspi-tcp-ipv6), makes its tcprulescheck answer each
# client the way relayconv --decide answers for the source policy, on the
# edges of every network of seeded random policies with IPv4 and IPv6
# networks (and ::1, defaults).  Clients are given to tcprulescheck in the
# text tcpserver writes: the first run of zero groups as "::".  The output
# read back with --from qmail6 decides alike too.
. "$TOP/tests/cli/lib.sh"
R6=$TOP/build/debs/root/usr/bin
need_tool "$R6/tcprules" "ucspi-tcp-ipv6 (unpacked by sh mk/deps.sh test, listed in mk/debs.txt)" ||
    { finish; exit 1; }
need_tool "$R6/tcprulescheck" "ucspi-tcp-ipv6" || { finish; exit 1; }

TCPRULES=$R6/tcprules TCPRULESCHECK=$R6/tcprulescheck
. "$TOP/tests/interop/probe-tcprules.sh"

# the same for the output read back as qmail6
readback() {
    want_verdicts "$1" "$3" | paste "$3" - > want.v
    want_verdicts "$2" "$3" "--from qmail6" | paste "$3" - > back.v
    diff want.v back.v
}

i=0
while [ $i -lt 10 ]; do
    awk -v seed=$((4520 + i)) '
    function hex(n) { return sprintf("%x", n) }
    # tcpserver text of g[1..8]: the first run of zero groups is "::"
    function fmt(g,   s, k, run, done) {
        s = ""; run = 0; done = 0
        for (k = 1; k <= 8; k++) {
            if (g[k] == 0 && !done) { if (!run && k == 1) s = s ":"; run = 1; continue }
            if (run) { s = s ":"; run = 0; done = 1 }
            s = s hex(g[k]); if (k < 8) s = s ":"
        }
        if (run) s = s ":"
        return s
    }
    function copy(a, b,   k) { for (k = 1; k <= 8; k++) b[k] = a[k] }
    function inc(g,   k) { for (k = 8; k >= 1; k--) { if (g[k] < 65535) { g[k]++; return } g[k] = 0 } }
    function dec(g,   k) { for (k = 8; k >= 1; k--) { if (g[k] > 0) { g[k]--; return } g[k] = 65535 } }
    function ip4(n,  a, b, c) {
        a = int(n / 16777216); n -= a * 16777216; b = int(n / 65536); n -= b * 65536
        c = int(n / 256); return a "." b "." c "." (n - c * 256)
    }
    BEGIN {
        srand(seed)
        split("32 40 48 56 64 128", lens, " ")
        split("relay|ok|deny|ok set X=\"1\"|relay set RBLSMTPD=\"\"", acts, "|")
        print "# relaymap policy" > "p.txt"
        n = 2 + int(rand() * 5)
        for (k = 0; k < n; k++) {
            # groups that are not zero: every block has a tcp.smtp key
            g[1] = 8193; g[2] = 3512
            for (j = 3; j <= 8; j++) g[j] = 256 + int(rand() * 65280)
            len = lens[1 + int(rand() * 6)]
            for (j = 1; j <= 8; j++) {
                keep = len - 16 * (j - 1)
                if (keep <= 0) g[j] = 0
                else if (keep < 16) g[j] = int(g[j] / 2 ^ (16 - keep)) * 2 ^ (16 - keep)
            }
            copy(g, lo); copy(g, hi)
            for (j = 1; j <= 8; j++) {
                keep = len - 16 * (j - 1)
                if (keep <= 0) hi[j] = 65535
                else if (keep < 16) hi[j] = lo[j] + 2 ^ (16 - keep) - 1
            }
            print "connect net " fmt(lo) "/" len " " acts[1 + int(rand() * 5)] > "p.txt"
            print fmt(lo) > "probes"; print fmt(hi) > "probes"
            copy(lo, x); dec(x); print fmt(x) > "probes"
            copy(hi, x); inc(x); print fmt(x) > "probes"
        }
        for (k = 0; k < 2; k++) {
            x4 = 167772160 + int(rand() * 65536) * 256
            print "connect net " ip4(x4) "/24 " acts[1 + int(rand() * 5)] > "p.txt"
            print ip4(x4) > "probes"; print ip4(x4 + 255) > "probes"; print ip4(x4 + 256) > "probes"
        }
        if (rand() < 0.5) print "connect net ::1 relay" > "p.txt"
        if (rand() < 0.4) print "default deny" > "p.txt"
        print "::1" > "probes"; print "::2" > "probes"; print "2001:db8::1" > "probes"
        print "fe80::1" > "probes"; print "192.0.2.1" > "probes"
    }'
    rm -rf q && mkdir q
    if relayconv --to qmail6 -o q p.txt 2>conv.err; then
        ok_if "random policy $i: ucspi-tcp-ipv6 tcprulescheck agrees with decide" \
            compare p.txt q probes
        ok_if "random policy $i: the output read back as qmail6 decides alike" \
            readback p.txt q probes
    else
        _notok "random policy $i: relayconv refused it"; sed 's/^/#   /' conv.err
    fi
    rm -f probes
    i=$((i + 1))
done

# an IPv6 key in tcprulescheck's own words: the prefix, and the exact key
printf '# relaymap policy\nconnect net 2001:db8::/32 relay\nconnect net 2001:db8:0:1:0:0:0:1 deny\n' > p.txt
rm -rf q && mkdir q
relayconv --to qmail6 -o q p.txt 2>/dev/null
"$R6/tcprules" q/tcp.smtp.cdb q/tcp.smtp.tmp < q/tcp.smtp
ok_if "tcpserver's text of 2001:db8:0:1::1 hits its exact key" sh -c \
    "TCPREMOTEIP=2001:db8::1:0:0:0:1 '$R6/tcprulescheck' q/tcp.smtp.cdb | grep -qx 'rule 2001:db8::1:0:0:0:1:'"
ok_if "a client in the /32 hits the prefix key" sh -c \
    "TCPREMOTEIP=2001:db8:5::1 '$R6/tcprulescheck' q/tcp.smtp.cdb | grep -qx 'rule 2001:db8::'"
finish
