#!/bin/sh
# make demo, qmail part: the seed's tcp.smtp fixed, compiled as tcprules
# would, asked as tcprulescheck would; rcpthosts into morercpthosts.cdb.
set -e
say() { printf '\n$ %s\n' "$*"; "$@"; }

echo
echo "== qmail: the seed's rule with its trailing dot, byte-identical to tcprules"
sed 's/^172\.16\.5:/172.16.5.:/' tcp.smtp > tcp.smtp.fixed
cat tcp.smtp.fixed
say "$bin/mapc" -v -s tcprules -o tcp.smtp tcp.smtp.fixed
if command -v tcprules >/dev/null; then
    tcprules ref.cdb ref.tmp < tcp.smtp.fixed
    say cmp ref.cdb tcp.smtp.cdb && echo "identical to tcprules' tcp.smtp.cdb"
fi
say "$bin/mapc" -s tcprules -q 172.16.5.9 tcp.smtp.cdb
say "$bin/mapc" -s tcprules -q 192.0.2.1,mail.example.org tcp.smtp.cdb || true
say "$bin/mapc" -s tcprules --json -q 127.0.0.1 tcp.smtp.cdb
say "$bin/mapc" -s tcprules -u tcp.smtp.cdb
echo
echo "== qmail: rcpthosts into the morercpthosts.cdb form"
say "$bin/mapc" -s rcpthosts -o morercpthosts rcpthosts
say "$bin/mapc" -s rcpthosts -u morercpthosts.cdb
