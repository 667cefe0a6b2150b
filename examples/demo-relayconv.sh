#!/bin/sh
# make demo, relayconv part: the seed's policy in the neutral format, to
# Sendmail and back with proof, a what-if question, and the qmail target's
# refusal with its reasons.
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
say "$bin/relayconv" --to qmail -o qmail policy.txt || echo "(exit $?: refused, nothing written)"
say "$bin/relayconv" --to qmail --lossy --allow-widening -o qmail policy.txt
head qmail/tcp.smtp qmail/rcpthosts qmail/badmailfrom
