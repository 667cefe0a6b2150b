#!/bin/sh
# The access text relayconv writes is accepted by the real makemap without
# a complaint (no duplicate key, no leading blank, no overlong line), and
# makemap -u gives back exactly the keys and values written (folded to lower
# case), for the seed's policies and for seeded random nested networks.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
need_anchors makemap || { finish; exit 1; }

# check NAME ACCESS: makemap compiles it silently; its dump is the text
check() {
    makemap_run hash "$2" < "$2" > mm.out 2> mm.err
    mmrc=$?
    ok_if "$1: makemap compiles relayconv's access map" test "$mmrc" -eq 0 -a ! -s mm.err ||
        sed 's/^/#   /' mm.err | head -5
    makemap_run -u hash "$2" | sort > dump
    awk -F '\t' '{ printf "%s\t%s\n", tolower($1), $2 }' "$2" | sort > want
    same_file "$1: makemap -u gives back every key and value" want dump
}

cp "$TOP/examples/access" .
# the seed's policy, letting ::1 relay as Sendmail does by itself
cp "$TOP/tests/data/sendmail/seed-v6.txt" policy.txt
relayconv --to sendmail -o policy.access policy.txt 2>/dev/null
check "seed policy" policy.access
relayconv --from sendmail --to sendmail -o seed.access access 2>/dev/null
check "seed access" seed.access

awk -v seed=4510 'function ip(n,  a, b, c) {
        a = int(n / 16777216); n -= a * 16777216; b = int(n / 65536); n -= b * 65536
        c = int(n / 256); return a "." b "." c "." (n - c * 256)
    }
    BEGIN {
        srand(seed)
        split("relay|ok|reject|discard|error 550 5.7.1 \"no  way\"", acts, "|")
        print "# relaymap policy\nconnect net 127.0.0.1 relay"
        for (k = 0; k < 30; k++) {
            len = 6 + int(rand() * 27)
            x = 167772160 + int(rand() * 1048576) * 16
            size = 2 ^ (32 - len); lo = x - x % size
            print "connect net " ip(lo) "/" len " " acts[1 + int(rand() * 5)]
        }
        print "connect net 2001:db8::/36 relay\nconnect net ::1 relay"
        print "from domain spam.example reject\nto domain example.net relay"
    }' > gen.txt
relayconv --to sendmail -o gen.access gen.txt 2>conv.err
ok_if "random nested networks convert" test -s gen.access || sed 's/^/#   /' conv.err | head -5
check "random nested networks" gen.access
ok_if "random nested networks: hundreds of keys" test "$(wc -l < gen.access)" -gt 200
finish
