#!/bin/sh
# make demo: compile the seed examples with mapc into every map type, query
# and dump them, and show what happened.  Works in a scratch copy so the
# examples directory stays clean.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${O:-build}"
work=$(mktemp -d "${TMPDIR:-/tmp}/relaymap-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$top"/examples/* "$work"/
cd "$work"
say() { printf '\n$ %s\n' "$*"; "$@"; }

echo "== mapc: the seed's Sendmail access file into every map type"
cat access
for t in $("$bin/mapc" -l | awk '/^syntaxes:/ { exit } { print $1 }'); do
    say "$bin/mapc" -v -t "$t" access
done
ls -l access.*
say "$bin/mapc" -t btree -q spammail.com access
say "$bin/mapc" -q 172.16 access.cdb
say "$bin/mapc" -t btree -u access
say "$bin/mapc" -t btree --check access && echo "access.db is up to date"

echo
echo "== a mistake is caught with file:line, and the old map stays in service"
cp access access.bad
printf 'Spam@Hacker.com\tOK\n  useful.org OK\n' >> access.bad
say "$bin/mapc" -t btree -o access access.bad || echo "(exit $?: nothing written)"
say "$bin/mapc" -t btree -q spam@hacker.com access

if [ -f tcp.smtp ] && "$bin/mapc" -l | grep -q '^tcprules'; then
    echo
    echo "== qmail: the seed's tcp.smtp (it forgot the trailing dot after 172.16.5)"
    cat tcp.smtp
    say "$bin/mapc" -t cdb -s tcprules tcp.smtp || echo "(exit $?: nothing written)"
fi
for extra in "$top"/examples/demo-*.sh; do
    [ -f "$extra" ] && bin="$bin" sh "$extra"
done
echo
echo "demo: done"
