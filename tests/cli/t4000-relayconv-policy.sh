#!/bin/sh
# relayconv with the neutral policy file: conversion, read back, verify,
# decide, lint, JSON, and every refusal that needs no other codec.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv"
cp "$TOP/tests/data/relayconv/seed-policy.txt" policy.txt
cp "$DATA/bad.txt" "$DATA/lint.txt" "$DATA/narrow.txt" "$DATA/notpolicy.txt" .

ok_if "--version prints the release on standard output" sh -c \
    'relayconv --version | grep -qxE "relayconv \(relaymap\) [0-9]+\.[0-9]+\.[0-9]+"'
golden "policy-to-policy" 0 relayconv --to policy policy.txt
golden "policy-to-file" 0 relayconv --from policy --to policy -o out.txt policy.txt
ok_if "-o writes the file" test -s out.txt
golden "verify-same" 0 relayconv --verify policy.txt out.txt
golden "verify-differs" 65 relayconv --verify policy.txt narrow.txt
golden "verify-json" 65 relayconv --verify --json policy.txt narrow.txt
golden "stdin" 0 sh -c 'relayconv --to policy - < policy.txt'
golden "json-report" 0 relayconv --to policy --json -o json.txt policy.txt
golden "json-needs-output" 64 relayconv --to policy --json policy.txt
golden "no-to" 64 relayconv policy.txt
golden "unknown-to" 64 relayconv --to nosuch policy.txt
golden "unknown-from" 64 relayconv --from nosuch --to policy policy.txt
golden "no-input" 64 relayconv --to policy
golden "missing-input" 66 relayconv --to policy nosuch.txt
golden "undetectable" 64 relayconv --to policy notpolicy.txt
golden "bad-lines" 65 relayconv --to policy -o never.txt bad.txt
ok_if "nothing written after bad input" test ! -e never.txt
golden "lint" 1 relayconv --lint lint.txt
golden "lint-clean" 0 relayconv --lint policy.txt
golden "lint-during-conversion" 0 relayconv --to policy lint.txt
golden "decide-relay" 0 relayconv --decide --client 172.16.5.9 policy.txt
golden "decide-refuse" 0 relayconv --decide --client 172.16.6.9 --to bob@example.org policy.txt
golden "decide-ours" 0 relayconv --decide --client 203.0.113.7 --to bob@www.example.com policy.txt
golden "decide-sender" 0 relayconv --decide --client 172.16.5.9 --from spam@hacker.com policy.txt
golden "decide-json" 0 relayconv --decide --json --client 127.0.0.1 policy.txt
golden "decide-needs-client" 64 relayconv --decide policy.txt
golden "decide-bad-client" 64 relayconv --decide --client 300.1.1.1 policy.txt
golden "modes-exclusive" 64 relayconv --lint --verify policy.txt out.txt
golden "list" 0 sh -c 'relayconv --list | grep "^policy"'
# an existing output is replaced atomically and keeps its mode
chmod 640 out.txt
relayconv --to policy -o out.txt narrow.txt 2>/dev/null
ok_if "output replaced, mode kept" sh -c 'grep -q 172.16.5.0/25 out.txt && test "$(stat -c %a out.txt)" = 640'
ok_if "no temporary files left" sh -c '! ls -a | grep -q "^\.out"'
# a refused conversion leaves the old output in service
cp out.txt out.before
relayconv --to policy -o out.txt bad.txt 2>/dev/null
same_file "bad input leaves the old output untouched" out.before out.txt
# (the wording of the publishing error belongs to atomic.c: check the status
# and that the path is named)
run relayconv --to policy -o /nonexistent/dir/x.txt policy.txt
ok_if "cannot create: exit 73, path named" sh -c "test $rc = 73 && grep -q /nonexistent/dir '$T/err'"
grep -v "^from" narrow.txt > clients.txt
golden "cannot-create-dir" 73 relayconv --to qmail -o /nonexistent/dir/q clients.txt
# rules on the server address reached and on authenticated clients: decided
# after the client's own networks, kept by the neutral file, refused by the
# formats that cannot hold them
cp "$DATA/server-auth.txt" .
golden "server-auth-decide" 0 sh -c 'for a in "10.2.3.4" "10.1.2.3" "198.51.100.7" \
    "198.51.100.7 --server 192.0.2.25" "198.51.100.7 --authenticated" \
    "10.1.2.3 --authenticated"; do relayconv --decide --client $a --to x@other.org \
    server-auth.txt; done'
golden "server-auth-roundtrip" 0 relayconv --to policy server-auth.txt
golden "server-auth-to-sendmail" 65 relayconv --to sendmail server-auth.txt
golden "server-bad-address" 64 relayconv --decide --client 10.0.0.1 --server nonsense server-auth.txt
finish
