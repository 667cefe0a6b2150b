#!/bin/sh
# make demo, relayconv part: the seed's policy in the neutral format, to
# Sendmail and back with proof, a what-if question, to qmail with proof, and
# the seed's Sendmail map refused for qmail with its reasons.
set -e
say() { printf '\n$ %s\n' "$*"; "$@"; }

echo
echo "== relayconv: one policy for Sendmail and qmail"
grep -v '^#' policy.txt | grep .
say "$bin/relayconv" --to sendmail -o policy.access policy.txt
cat policy.access
say "$bin/relayconv" --from sendmail --to policy policy.access
say "$bin/relayconv" --verify policy.txt policy.access && echo "the two decide every address alike"
say "$bin/relayconv" --decide --client 172.16.5.9 --to someone@elsewhere.example policy.txt
say "$bin/relayconv" --decide --client 192.0.2.7 --to someone@elsewhere.example policy.txt || true
say "$bin/relayconv" --to qmail policy.txt
head qmail/tcp.smtp qmail/rcpthosts qmail/badmailfrom
say "$bin/relayconv" --verify policy.txt qmail && echo "the qmail files decide every transaction alike"
echo
echo "== relayconv refuses what a target cannot hold: the seed's Sendmail map refuses"
echo "   spammail.com and every name below it; qmail's badmailfrom holds exact domains only"
say "$bin/relayconv" --from sendmail --to qmail -o seed-qmail access || echo "(exit $?: refused, nothing written)"
