#!/bin/sh
# relayconv and Postfix: the bundled example through every ordered pair of
# formats (policy, sendmail, qmail, postfix), each result proven equivalent
# (and --verify'd) or refused with its reasons (golden stderr); the fragment
# with --postfix-dir and --table-type; --decide and --lint on a Postfix
# directory with its pitfalls; option and reading errors.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv-postfix"
cp "$TOP/examples/policy.txt" policy.txt

# The example in each format.  qmail cannot hold its sender rules: its qmail
# form is the lossy one, and says so.
relayconv --to sendmail -o sendmail.access policy.txt
golden "example-to-qmail-lossy" 0 relayconv --to qmail --lossy --allow-widening -o qmail policy.txt
golden "example-to-postfix" 0 relayconv --to postfix --postfix-dir /etc/postfix/relaymap \
    -o postfix policy.txt
golden "example-postfix-files" 0 sh -c 'cd postfix && for f in main.cf.relaymap \
    relay_clients.cidr client_access sender_access recipient_access relay_domains; do
    echo "== $f"; cat $f; done'
ok_if "verify example = its postfix form" relayconv --verify policy.txt postfix

# Every ordered pair.  The exit status is part of the expectation: 0 proven
# equivalent and written, 65 refused (the reasons are in the .err file).
for pair in policy:sendmail:0 policy:qmail:65 policy:postfix:0 \
            sendmail:policy:0 sendmail:qmail:65 sendmail:postfix:0 \
            qmail:policy:0 qmail:sendmail:65 qmail:postfix:0 \
            postfix:policy:0 postfix:sendmail:0 postfix:qmail:65; do
    from=${pair%%:*} rest=${pair#*:}; to=${rest%%:*} want=${rest#*:}
    case $from in
    policy) in=policy.txt ;; sendmail) in=sendmail.access ;; *) in=$from ;;
    esac
    golden "pair-$from-$to" "$want" relayconv --from "$from" --to "$to" -o "out-$from-$to" "$in"
    if [ "$want" = 0 ]; then
        ok_if "pair $from -> $to: --verify proves the output equals its source" \
            relayconv --verify "$in" "out-$from-$to"
    else
        ok_if "pair $from -> $to: refused, nothing written" test ! -e "out-$from-$to"
    fi
done

# --decide on the Postfix directory: the cidr table, the sender table.
golden "decide-postfix" 0 sh -c 'for c in 172.16.5.9 10.0.0.1; do
    relayconv --decide --client $c --to x@outside.example postfix; done
    relayconv --decide --client 10.0.0.1 --from x@sub.spammail.com --to u@example.com postfix
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
