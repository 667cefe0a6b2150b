#!/bin/sh
# The tcp.smtp that relayconv writes, compiled by the real tcprules, makes
# tcprulescheck answer each client the way relayconv --decide answers for
# the source policy: on the edges of every network of seeded random
# policies (nested prefixes, odd lengths, ranges, defaults), and for the
# seed's own policy.
. "$TOP/tests/cli/lib.sh"
need_tool tcprules ucspi-tcp || { finish; exit 1; }
need_tool tcprulescheck ucspi-tcp || { finish; exit 1; }

TCPRULES=tcprules TCPRULESCHECK=tcprulescheck
. "$TOP/tests/interop/probe-tcprules.sh"

i=0
while [ $i -lt 12 ]; do
    awk -v seed=$((4500 + i)) '
    function ip(n,  a, b, c) {
        a = int(n / 16777216); n -= a * 16777216; b = int(n / 65536); n -= b * 65536
        c = int(n / 256); return a "." b "." c "." (n - c * 256)
    }
    BEGIN {
        srand(seed)
        split("8 12 15 16 20 23 24 25 27 28 30 31 32", lens, " ")
        split("relay|ok|deny|ok set X=\"1\"|relay set RBLSMTPD=\"\"", acts, "|")
        print "# relaymap policy" > "p.txt"
        n = 2 + int(rand() * 5)
        for (k = 0; k < n; k++) {
            len = lens[1 + int(rand() * 13)]
            x = 167772160 + int(rand() * 256) * 1024 + int(rand() * 1024)
            size = 2 ^ (32 - len); lo = x - x % size; hi = lo + size - 1
            print "connect net " ip(lo) "/" len " " acts[1 + int(rand() * 5)] > "p.txt"
            print ip(lo) > "probes"; print ip(hi) > "probes"
            print ip(lo - 1) > "probes"; print ip(hi + 1) > "probes"
        }
        if (rand() < 0.5) print "connect net 127.0.0.1 relay" > "p.txt"
        if (rand() < 0.4) print "default deny" > "p.txt"
        print "127.0.0.1" > "probes"; print "192.0.2.1" > "probes"
    }'
    rm -rf q && mkdir q
    if relayconv --to qmail -o q p.txt 2>conv.err; then
        ok_if "random policy $i: tcprulescheck agrees with decide" compare p.txt q probes
    else
        _notok "random policy $i: relayconv refused it"; sed 's/^/#   /' conv.err
    fi
    rm -f probes
    i=$((i + 1))
done

# the seed's policy, written with its sender rules dropped
cp "$TOP/tests/data/relayconv/seed-policy.txt" seed.txt
rm -rf q && mkdir q
relayconv --to qmail --lossy --allow-widening -o q seed.txt 2>/dev/null
printf '172.16.5.0\n172.16.5.255\n172.16.4.255\n172.16.6.0\n127.0.0.1\n127.0.0.2\n8.8.8.8\n' > probes
ok_if "seed policy: tcprulescheck agrees with decide" compare seed.txt q probes
finish
