#!/bin/sh
# make demo, Postfix and Exim part: the seed's policy and the seed's Sendmail
# access map as a Postfix main.cf fragment with its tables, proven equal to
# the source, asked what-if questions, and linted; the policy as Exim lists
# and ACL, proven equal to the Postfix form.
set -e
say() { printf '\n$ %s\n' "$*"; "$@"; }

echo
echo "== relayconv: the same policy for Postfix"
say "$bin/relayconv" --to postfix --postfix-dir /etc/postfix/relaymap -o postfix policy.txt
for f in main.cf.relaymap relay_clients.cidr sender_access relay_domains; do
    printf '\n--- postfix/%s\n' "$f"; cat "postfix/$f"
done
say "$bin/relayconv" --verify policy.txt postfix && echo "the two decide every address alike"
say "$bin/relayconv" --decide --client 172.16.5.9 --to someone@elsewhere.example postfix
say "$bin/relayconv" --decide --client 192.0.2.7 --from spam@hacker.com --to u@example.com postfix
echo
echo "== the seed's Sendmail access map, to Postfix (recipient rules become recipient_access)"
say "$bin/relayconv" --to postfix --table-type cdb -o postfix-from-access access
cat postfix-from-access/client_access postfix-from-access/recipient_access
echo
echo "== Postfix pitfalls --lint knows: a cidr entry an earlier wider one shadows, a host-name relay"
cp -r postfix pitfalls
printf '10.0.0.0/8\tOK\n10.1.0.0/16\tREJECT\n' >pitfalls/relay_clients.cidr
printf 'trusted.example.org\tOK\n' >pitfalls/client_access
say "$bin/relayconv" --lint pitfalls || echo "(exit $?: warnings)"

echo
echo "== relayconv: the same policy for Exim (lists and the RCPT ACL to include)"
say "$bin/relayconv" --to exim --server-dir /etc/exim4/relaymap -o exim policy.txt
for f in exim.acl.conf relay_hosts relay_to_domains refused_senders; do
    printf '\n--- exim/%s\n' "$f"; cat "exim/$f"
done
say "$bin/relayconv" --verify postfix exim && echo "the Postfix and the Exim forms decide every address alike"
