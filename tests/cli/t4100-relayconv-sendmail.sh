#!/bin/sh
# relayconv with the Sendmail access codec: reading (every key form, keys
# Sendmail never matches, bad lines), writing (nested octet keys, tags,
# ERROR quoting), round trips proved by --verify, and every refusal.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/sendmail"
cp "$TOP/examples/access" access
cp "$TOP/tests/data/relayconv/seed-policy.txt" policy.txt
grep -v '^connect net ::1 ' policy.txt > policy4.txt
cp "$DATA/lint.access" "$DATA/bad.access" "$DATA/lossy.txt" "$DATA/nested.txt" .
cp "$DATA/seed-v6.txt" "$DATA/order-conflict.txt" .

golden "seed-to-policy" 0 relayconv --to policy access
golden "seed-to-sendmail" 0 relayconv --from sendmail --to sendmail access
# Sendmail lets ::1 relay by itself: the seed lets only 127.0.0.1 relay, a
# note (not a loss); the seed with ::1 converts and proves equal
golden "policy-to-sendmail" 0 relayconv --to sendmail policy4.txt
golden "example-to-sendmail" 0 relayconv --to sendmail policy.txt
golden "policy-v6-to-sendmail" 0 relayconv --to sendmail seed-v6.txt
golden "nested-to-sendmail" 0 relayconv --to sendmail -o nested.access nested.txt
ok_if "nested output written" test -s nested.access
golden "nested-verify" 0 relayconv --verify nested.txt nested.access
golden "nested-back" 0 relayconv --to policy nested.access
relayconv --to sendmail -o p.access seed-v6.txt 2>/dev/null
relayconv --to policy -o back.txt p.access 2>/dev/null
golden "round-trip-verify" 0 relayconv --verify seed-v6.txt back.txt
golden "lint-keys" 0 relayconv --to policy lint.access
golden "bad-lines" 65 relayconv --from sendmail --to policy -o never.txt bad.access
golden "undetectable" 64 relayconv --to policy bad.access
ok_if "nothing written after bad lines" test ! -e never.txt
golden "lossy-refused" 65 relayconv --to sendmail -o lossy.access lossy.txt
ok_if "nothing written when lossy" test ! -e lossy.access
golden "widening-refused" 65 relayconv --to sendmail --lossy -o lossy.access lossy.txt
ok_if "nothing written when widening" test ! -e lossy.access
golden "widening-allowed" 0 relayconv --to sendmail --lossy --allow-widening lossy.txt
golden "lossy-json" 65 relayconv --to sendmail --json -o lossy.access lossy.txt
golden "decide-seed" 0 relayconv --decide --client 172.16.5.9 --from spam@hacker.com access
golden "decide-host-first" 0 relayconv --decide --client 211.252.150.7 --host mx.spammail.com access
# A most-specific policy whose host-name rules and networks meet on a client:
# Sendmail asks the name first, so each such name rule is a loss (the
# uniform-value shortcut does not hide the single-address 10.1.2.3).
golden "order-conflict" 65 relayconv --to sendmail order-conflict.txt
finish
