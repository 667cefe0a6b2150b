#!/bin/sh
# relayconv -> qmail: the tcp.smtp that relayconv writes is compiled by the
# real tcprules, and tcprulescheck gives the verdict that decide() gives for
# sampled client addresses (every boundary of the policy's networks plus
# seeded random ones), for the source policy and for the output read back.
. "$TOP/tests/cli/lib.sh"
need_tool tcprules ucspi-tcp || { finish; exit 1; }
need_tool tcprulescheck ucspi-tcp || { finish; exit 1; }

# decide() for each address of file $3 sending to a foreign domain, as
# "ip verdict" lines: relay, allow (accepted but may not relay) or deny.
decide_all() {
    relayconv --decide --json -F "$1" --client - "$2" < "$3" |
        sed -n 's/^{"verdict":"\([a-z]*\)","client":"\([^"]*\)".*/\2 \1/p' |
        sed 's/ refuse$/ allow/'
}

# The same from the real tcprulescheck on the compiled cdb.
check_all() {
    while read -r ip; do
        v=$(TCPREMOTEIP=$ip tcprulescheck "$1" | awk '
            /^set environment variable RELAYCLIENT=/ { relay = 1 }
            /^deny connection/ { v = "deny" }
            /^allow connection/ { v = relay ? "relay" : "allow" }
            END { print v }')
        echo "$ip $v"
    done < "$2"
}

compare() {
    what=$1 src=$2 ips=$3
    rm -rf out
    relayconv --from policy --to qmail -o out "$src" 2>"$T/conv.err"
    ok_if "$what: converts to qmail" test -s out/tcp.smtp
    [ -s out/tcp.smtp ] || { sed 's/^/# /' "$T/conv.err" | head -5; return; }
    tcprules out/tcp.smtp.cdb out/tcp.smtp.tmp < out/tcp.smtp
    ok_if "$what: real tcprules compiles relayconv's tcp.smtp" test -s out/tcp.smtp.cdb
    decide_all policy "$src" "$ips" > want
    # read the output back through the qmail parser (rules only: tcp.smtp)
    decide_all qmail out/tcp.smtp "$ips" > back
    check_all out/tcp.smtp.cdb "$ips" > got
    same_file "$what: decide() on the source = tcprulescheck ($(wc -l < "$ips") addresses)" want got
    same_file "$what: decide() on the output read back = tcprulescheck" back got
}

# 1. The example's clients (its sender rules and ::1 have no place in tcp.smtp).
grep -v -e '^from' -e '::' "$TOP/tests/data/relayconv/seed-policy.txt" > example.txt
printf '%s\n' 172.16.5.0 172.16.5.9 172.16.5.255 172.16.4.255 172.16.6.0 \
    127.0.0.1 127.0.0.2 10.0.0.1 0.0.0.0 255.255.255.255 > example.ips
compare example example.txt example.ips

# 2. A seeded generated policy (gen.txt): overlapping networks of every
#    width and every client action; probes at each network's edges and at
#    random addresses (gen.ips).
awk -v seed=4242 -v n=40 'BEGIN {
    srand(seed)
    split("relay ok deny", act, " ")
    for (i = 0; i < n; i++) {
        len = int(8 + rand() * 25)
        ip = 167772160 + int(rand() * 67108864)
        m = 2 ^ (32 - len); ip = ip - ip % m
        printf "connect net %d.%d.%d.%d/%d %s\n", int(ip / 16777216), int(ip / 65536) % 256,
            int(ip / 256) % 256, ip % 256, len, act[1 + int(rand() * 3)] > "gen.txt"
        printf "%d\n%d\n%d\n%d\n", ip - 1, ip, ip + m - 1, ip + m
    }
    for (i = 0; i < 40; i++) printf "%d\n", 167772160 + int(rand() * 67108864)
}' | awk '{ n = $1; printf "%d.%d.%d.%d\n", int(n / 16777216) % 256, int(n / 65536) % 256,
            int(n / 256) % 256, n % 256 }' | sort -u > gen.ips
compare generated gen.txt gen.ips

# 3. Back again: the qmail output converts to a policy file that verifies.
relayconv --from qmail --to policy -o back.txt out 2>/dev/null
ok_if "qmail -> policy -> verify against the generated source" relayconv --verify gen.txt back.txt
finish
