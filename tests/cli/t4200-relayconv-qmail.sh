#!/bin/sh
# relayconv with the qmail codec: tcp.smtp, rcpthosts and badmailfrom read together
# (the seed's prefix without its dot, every key form, bad lines), written
# to a directory (prefixes, ranges, names, =, the empty key), round trips
# proved by --verify, and every refusal.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/qmail"
cp "$TOP/examples/tcp.smtp" tcp.smtp
cp "$TOP/examples/rcpthosts" rcpthosts
cp "$TOP/tests/data/relayconv/seed-policy.txt" policy.txt
cp "$TOP/examples/access" .
cp "$DATA/bad.smtp" "$DATA/nested.txt" .
# the sample of reference/samples/tcprules
mkdir ref && cp "$DATA/reference.smtp" ref/tcp.smtp

golden "seed-to-policy" 0 relayconv --to policy tcp.smtp rcpthosts
golden "reference-to-policy" 0 relayconv --to policy ref/tcp.smtp
golden "reference-to-qmail" 0 relayconv --from qmail --to qmail ref/tcp.smtp
mkdir qout q q2
golden "nested-to-qmail" 0 relayconv --to qmail -o qout nested.txt
golden "nested-tcp.smtp" 0 cat qout/tcp.smtp
golden "nested-rcpthosts" 0 cat qout/rcpthosts
golden "nested-back" 0 relayconv --to policy qout/tcp.smtp qout/rcpthosts
golden "stdin-needs-dir" 64 sh -c 'relayconv --to qmail - < nested.txt'
golden "bad-lines" 65 relayconv --to policy -o never.txt bad.smtp
ok_if "nothing written after bad lines" test ! -e never.txt
golden "policy-refused" 65 relayconv --to qmail -o q policy.txt
ok_if "nothing written when refused" test ! -e q/tcp.smtp
golden "policy-lossy" 0 relayconv --to qmail --lossy --allow-widening -o q policy.txt
golden "policy-lossy-tcp.smtp" 0 cat q/tcp.smtp
golden "access-refused" 65 relayconv --to qmail -o q2 access
golden "access-lossy-json" 0 relayconv --to qmail --lossy --allow-widening --json -o q2 access
golden "decide-seed-prefix" 0 relayconv --decide --client 172.16.5.9 tcp.smtp rcpthosts
golden "decide-rcpthosts" 0 relayconv --decide --client 8.8.8.8 --to bob@www.example.com tcp.smtp rcpthosts
# badmailfrom: the seed's sender refusals, exact, written and proved; the
# seed's "from domain" also covers subdomains, which badmailfrom cannot
cp "$DATA/senders.txt" .
mkdir bmf && cp "$DATA/bad-badmailfrom" bmf/badmailfrom
mkdir qs
golden "senders-to-qmail" 0 relayconv --to qmail -o qs senders.txt
golden "senders-badmailfrom" 0 cat qs/badmailfrom
golden "senders-verify" 0 relayconv --verify senders.txt qs
golden "senders-back" 0 relayconv --to policy qs/tcp.smtp qs/rcpthosts qs/badmailfrom
# back to Sendmail: its From:domain covers subdomains, and it lets ::1
# relay, which tcp.smtp cannot mention: both reported
golden "senders-to-sendmail" 0 relayconv --to sendmail --lossy --allow-widening qs
golden "decide-badmailfrom" 0 relayconv --decide --client 172.16.5.9 --from Spam@Hacker.COM --to x@elsewhere.example qs
golden "decide-badmailfrom-subdomain" 0 relayconv --decide --client 172.16.5.9 --from a@sub.spammail.com --to x@elsewhere.example qs
golden "badmailfrom-warnings" 0 relayconv --from qmail --to policy bmf/badmailfrom
golden "seed-domain-refused" 65 relayconv --to qmail -o qs policy.txt
# what relayconv cannot decide: an address that is none, rcpthosts names
# that are none; an error with file:line and the text, nothing written
printf '10.1.:allow,RELAYCLIENT=""\n1.2.3.999:allow,RELAYCLIENT=""\n' > odd.smtp
printf 'example.com\na..b\n300.1.1.1\n' > odd-rcpthosts
golden "refuse-octet-999" 65 relayconv --from qmail --to policy -o odd.txt odd.smtp
golden "refuse-rcpthosts-names" 65 relayconv --from qmail --to policy -o odd.txt odd-rcpthosts
ok_if "nothing written for them" test ! -e odd.txt
# qmail6: IPv6 networks written for the IPv6 build, read back, decided
printf '# relaymap policy\nconnect net 2001:db8::/32 relay\nconnect net 2001:db8:5::/48 deny\nconnect net ::1 relay\nconnect net 10.0.0.0/8 relay\ndefault deny\n' > v6.txt
golden "v6-to-qmail6" 0 relayconv --to qmail6 -o q6 v6.txt
golden "v6-qmail6-tcp.smtp" 0 cat q6/tcp.smtp
golden "v6-qmail6-decide" 0 sh -c 'printf "2001:db8:5::1\n2001:db8:6::1\n::1\n::2\n10.9.9.9\n" | relayconv --decide --client - q6'
golden "v6-to-qmail-refused" 65 relayconv --to qmail -o q4 v6.txt
golden "v6-qmail6-back" 0 relayconv --to policy q6
# A UTF-8 byte order mark is the first key's bytes to tcprules and qmail (it
# matches nothing, with a warning), and stays one when written back first.
mkdir bom
printf '\357\273\27710.0.0.1:allow,RELAYCLIENT=""\n:deny\n' > bom/tcp.smtp
printf '\357\273\277example.com\n' > bom/rcpthosts
printf '\357\273\277@spam.example\nspam@x.example\n' > bom/badmailfrom
golden "bom-first-key" 0 relayconv --from qmail --to policy bom
relayconv --from qmail --to qmail -o bom2 bom 2>/dev/null
ok_if "a byte order mark written first reads back as the key's bytes" \
    sh -c 'head -c 3 bom2/badmailfrom | od -An -tx1 | grep -q "ef bb bf"'
# A UTF-8 local part in badmailfrom: the neutral policy holds it; Sendmail's
# access map cannot (its parser takes such a key as never matching): a loss.
printf 'spam@x.example\ncaf\303\251@x.example\n' > u8-badmailfrom
mkdir u8 && cp u8-badmailfrom u8/badmailfrom
golden "utf8-sender-to-policy" 0 relayconv --from qmail --to policy u8/badmailfrom
golden "utf8-sender-to-sendmail" 65 relayconv --from qmail --to sendmail u8/badmailfrom
finish
