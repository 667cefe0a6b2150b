#!/bin/sh
# relayconv and Exim: the example's files, --server-dir, --decide and --lint
# on an Exim directory with its pitfalls (a relay network the refused list
# covers, which Exim's ACL asks first), and reading errors.  (Every pair of
# formats: t4320-relayconv-every-pair.sh.)
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv-exim"
cp "$TOP/examples/policy.txt" policy.txt
cp "$TOP/examples/access" access

golden "example-to-exim" 0 relayconv --to exim --server-dir /etc/exim4/relaymap -o exim policy.txt
golden "example-exim-files" 0 sh -c 'cd exim && for f in exim.lists.conf exim.acl.conf \
    relay_hosts refused_hosts relay_to_domains refused_senders refused_recipients \
    accepted_recipients; do echo "== $f"; cat $f; done'
# the seed's Sendmail map: an untagged key also applies to client host names,
# which these lists cannot hold: refused with the reasons
golden "access-to-exim" 65 relayconv --to exim -o exim-access access
# its sender and recipient parts: untagged keys refuse senders and recipients alike
grep -v -e '^spammail' -e '^useful' access >access.addr
golden "access-addr-to-exim" 0 relayconv --from sendmail --to exim -o exim-access access.addr
golden "access-exim-files" 0 sh -c 'cd exim-access && cat refused_senders refused_recipients \
    accepted_recipients relay_hosts'
golden "decide-exim" 0 sh -c 'relayconv --decide --client 127.0.0.1 --to x@outside.example exim
    relayconv --decide --client 172.16.5.200 --to x@outside.example exim
    relayconv --decide --client 10.0.0.1 --from spam@hacker.com --to u@example.com exim
    relayconv --decide --client 10.0.0.1 --from a@useful.org --to u@example.com exim'
golden "table-type-exim" 64 relayconv --to exim --table-type lmdb -o bad policy.txt
# host names and reply texts have no place in these lists
printf 'connect name mx.example.org relay\nconnect net 10.0.0.0/8 error 550 5.7.1 "go away"\n' >names.txt
golden "names-refused" 65 relayconv --to exim -o bad names.txt

cp -r exim lint
printf '10.0.0.0/8: relay\n172.16.5.0/24: relay\n' >lint/relay_hosts
printf '10.1.0.0/16: refused\n172.16.0.0/16: refused\n' >lint/refused_hosts
golden "lint-exim" 1 relayconv --lint lint

cp -r exim broken
printf '2001:db8::/32: relay\n' >broken/relay_hosts
printf '*@*.spammail.com\n*@spammail.com\nuser@*.example\n' >broken/refused_senders
printf 'acl_relaymap_rcpt:\n  accept hosts = +relay_from_hosts\n' >broken/exim.acl.conf
golden "read-errors" 65 relayconv --to policy broken
finish
