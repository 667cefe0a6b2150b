#!/bin/sh
# relayconv and Postfix: the example's files, the fragment with --postfix-dir
# and --table-type; --decide and --lint on a Postfix directory with its
# pitfalls; option and reading errors.  (Every pair of formats:
# t4320-relayconv-every-pair.sh.)
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv-postfix"
cp "$TOP/examples/policy.txt" policy.txt

golden "example-to-postfix" 0 relayconv --to postfix --postfix-dir /etc/postfix/relaymap \
    -o postfix policy.txt
golden "example-postfix-files" 0 sh -c 'cd postfix && for f in main.cf.relaymap \
    relay_clients.cidr client_access sender_access recipient_access relay_domains; do
    echo "== $f"; cat $f; done'
ok_if "verify example = its postfix form" relayconv --verify policy.txt postfix

# --decide on the Postfix directory: the cidr table, the sender table.
golden "decide-postfix" 0 sh -c 'for c in 172.16.5.9 10.0.0.1; do
    relayconv --decide --client $c --to x@outside.example postfix; done
    relayconv --decide --client 10.0.0.1 --from spam@hacker.com --to u@example.com postfix
    relayconv --decide --client 10.0.0.1 --to u@sub.example.net postfix'

# --table-type and --server-dir
golden "table-type-cdb" 0 sh -c 'relayconv --to postfix --table-type cdb --server-dir /srv/pf \
    -o cdb policy.txt && grep -v "^#" cdb/main.cf.relaymap'
golden "table-type-bad" 64 relayconv --to postfix --table-type btree -o bad policy.txt
golden "table-type-not-postfix" 64 relayconv --to sendmail --table-type lmdb policy.txt
golden "server-dir-relative" 64 relayconv --to postfix --postfix-dir relaymap -o bad policy.txt

# --lint knows the pitfalls: a cidr entry shadowed by an earlier wider one, a
# host-name relay rule
cp -r postfix lint
printf '10.0.0.0/8\tOK\n10.1.0.0/16\tREJECT\n172.16.5.0/24\tOK\n' >lint/relay_clients.cidr
printf 'trusted.example.org\tOK\n' >lint/client_access
golden "lint-postfix" 1 relayconv --lint lint

# Reading: what relayconv does not write is an error with its line
cp -r postfix broken
printf 'parent_domain_matches_subdomains = relay_domains\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n' \
    >broken/main.cf.relaymap
printf '10.1.2.3/8 OK\n!10.0.0.0/8 REJECT\n' >broken/relay_clients.cidr
golden "read-errors" 65 relayconv --to policy broken
finish
