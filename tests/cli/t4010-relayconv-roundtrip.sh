#!/bin/sh
# relayconv between the policy file, Sendmail and qmail: the examples there
# and back, --verify on every pair, the refusals of lossy and widening
# conversions, several-file output, detection, and seeded generated policies
# converted to each format and proven equivalent.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv"
# The bundled example converts to every target with no flag, exactly as the
# card writes the commands; the qmail files land beside the source.  (The
# tests below use the seed policy as it was, with the refusals it shows.)
mkdir bundled && cp "$TOP/examples/policy.txt" bundled/policy.txt
golden "bundled-to-qmail" 0 relayconv --to qmail bundled/policy.txt
ok_if "bundled qmail files written" sh -c 'test -s bundled/qmail/tcp.smtp && test -s bundled/qmail/rcpthosts && test -s bundled/qmail/badmailfrom'
golden "bundled-to-sendmail" 0 relayconv --to sendmail bundled/policy.txt
golden "bundled-to-policy" 0 relayconv --to policy bundled/policy.txt
ok_if "verify bundled = its qmail form" relayconv --verify bundled/policy.txt bundled/qmail
# the seed's own Sendmail map: spammail.com and every name below it, which
# badmailfrom cannot hold, so the qmail conversion is refused with reasons
cp "$TOP/examples/access" seed-access
golden "seed-access-to-qmail-refused" 65 relayconv --from sendmail --to qmail -o refusedq seed-access
ok_if "nothing written when the seed map is refused" test ! -e refusedq
cp "$TOP/tests/data/relayconv/seed-policy.txt" policy.txt
cp "$TOP/examples/access" access
cp "$DATA/ambiguous.txt" .
grep -v -e '^from' -e '^connect net ::1 ' policy.txt > relay.txt     # what tcp.smtp can hold

# the example, to Sendmail and back.  Sendmail lets 127.0.0.1 and ::1 relay
# whatever the map says; the example names both and converts exactly, while
# policy4.txt (the example without ::1) converts: Sendmail letting ::1 relay by
# itself is the server's own business, shown in one note.
grep -v '^connect net ::1 ' policy.txt > policy4.txt
golden "example-to-sendmail" 0 relayconv --to sendmail policy4.txt
cp policy.txt policy6.txt
golden "example6-to-sendmail" 0 relayconv --to sendmail policy6.txt
relayconv --to sendmail -o example.access policy6.txt
golden "example-sendmail-back" 0 relayconv --from sendmail --to policy example.access
ok_if "verify example = its Sendmail form" relayconv --verify policy6.txt example.access
relayconv --from sendmail --to policy -o back.txt example.access
ok_if "verify example = policy -> sendmail -> policy" relayconv --verify policy6.txt back.txt
golden "verify-loopback-differs" 65 relayconv --verify policy4.txt example.access
# the seed's Sendmail access map, to a policy file and back
golden "access-to-policy" 0 relayconv --to policy access
relayconv --to policy -o access.txt access
relayconv --to sendmail -o access2 access.txt
ok_if "verify access = access -> policy -> sendmail" relayconv --verify access access2
# the example's clients and domains to qmail (a directory), and on to
# Sendmail: tcp.smtp has no IPv6, so Sendmail's ::1 widens and needs
# --lossy --allow-widening; back to qmail the files are the same
golden "relay-to-qmail" 0 relayconv --to qmail -o qmail relay.txt
golden "relay-qmail-files" 0 sh -c 'head qmail/tcp.smtp qmail/rcpthosts'
ok_if "verify relay part = its qmail form" relayconv --verify relay.txt qmail
golden "qmail-to-sendmail" 0 relayconv --from qmail --to sendmail qmail
relayconv --to sendmail --lossy --allow-widening -o q.access qmail 2>/dev/null
# the loopback clients Sendmail lets relay by itself: a note, not a difference,
# unless --strict-loopback
golden "qmail-sendmail-verify-loopback" 0 relayconv --verify qmail q.access
golden "qmail-sendmail-verify-strict-loopback" 65 relayconv --verify --strict-loopback qmail q.access
relayconv --to qmail --lossy -o qmail2 q.access 2>/dev/null
ok_if "verify qmail = qmail -> sendmail -> qmail" relayconv --verify qmail qmail2
ok_if "qmail -> sendmail -> qmail gives the same files" \
    sh -c 'cmp qmail/tcp.smtp qmail2/tcp.smtp && cmp qmail/rcpthosts qmail2/rcpthosts'

# refusals: sender rules have no place in tcp.smtp
golden "qmail-refused" 65 relayconv --to qmail -o refused policy.txt
ok_if "nothing written when refused" test ! -e refused
golden "qmail-lossy-still-widens" 65 relayconv --to qmail --lossy -o refused policy.txt
ok_if "nothing written under --lossy when widening" test ! -e refused
golden "qmail-lossy-widening" 0 relayconv --to qmail --lossy --allow-widening -o lossy policy.txt
ok_if "--allow-widening writes both files" test -s lossy/tcp.smtp -a -s lossy/rcpthosts
golden "qmail-json" 65 relayconv --to qmail --json -o refused policy.txt
# without -o, the qmail files go to a directory named after the format beside
# the source; standard input has no such place
golden "qmail-default-dir" 0 relayconv --to qmail relay.txt
ok_if "qmail files beside the source" sh -c 'test -s qmail/tcp.smtp && test -s qmail/rcpthosts'
golden "qmail-stdin-needs-dir" 64 sh -c 'relayconv --to qmail - < relay.txt'
# tcp.smtp has no IPv6: a loss; under --lossy a narrowing difference, written
printf '%s\n' 'connect net 172.16.5.0/24 relay' 'connect net 2001:db8::/32 relay' > v6.txt
golden "qmail-ipv6-refused" 65 relayconv --to qmail -o v6 v6.txt
golden "qmail-ipv6-lossy" 0 relayconv --to qmail --lossy -o v6 v6.txt
ok_if "--lossy wrote the IPv4 part" grep -q '^172.16.5.:allow' v6/tcp.smtp
golden "verify-lossy-differs" 65 relayconv --verify policy.txt lossy
golden "ambiguous" 64 relayconv --to policy ambiguous.txt

# seeded generated policies: client networks (whole-octet and arbitrary),
# the loopback address, accepted domains; each converted to Sendmail and to
# qmail and verified.  Sendmail always lets ::1 relay and tcp.smtp has no
# IPv6: the Sendmail variant says so, the qmail variant leaves IPv6 out.
for seed in 11 12 13 14 15; do
    awk -v seed=$seed 'BEGIN {
        srand(seed)
        split("relay ok", act, " ")
        print "connect net 127.0.0.1 relay"
        for (i = 0; i < 60; i++) {
            len = (rand() < 0.5) ? 8 * int(1 + rand() * 4) : int(12 + rand() * 21)
            ip = 167772160 + int(rand() * 33554432)
            m = 2 ^ (32 - len); ip = ip - ip % m
            printf "connect net %d.%d.%d.%d/%d %s\n", int(ip / 16777216), int(ip / 65536) % 256,
                int(ip / 256) % 256, ip % 256, len, act[1 + int(rand() * 2)]
        }
        for (i = 0; i < 8; i++)
            printf "accept domain d%d.example\n", i
    }' > gen$seed.txt
    { cat gen$seed.txt; echo "connect net ::1 relay"; } > gen$seed.v6.txt
    relayconv --to sendmail -o gen$seed.access gen$seed.v6.txt 2>gen.err
    ok_if "seed $seed: to sendmail" test -s gen$seed.access
    ok_if "seed $seed: verify policy = sendmail" relayconv --verify gen$seed.v6.txt gen$seed.access
    relayconv --to qmail -o gen$seed.q gen$seed.txt 2>gen.err
    ok_if "seed $seed: to qmail" test -s gen$seed.q/tcp.smtp
    ok_if "seed $seed: verify policy = qmail" relayconv --verify gen$seed.txt gen$seed.q
    relayconv --to sendmail --lossy --allow-widening -o gen$seed.q.access gen$seed.q 2>gen.err
    relayconv --to qmail --lossy -o gen$seed.q2 gen$seed.q.access 2>gen.err
    ok_if "seed $seed: verify qmail = qmail -> sendmail -> qmail" \
        relayconv --verify gen$seed.q gen$seed.q2
done
finish
