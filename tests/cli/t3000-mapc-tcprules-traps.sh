#!/bin/sh
# t3000: mapc -s tcprules refuses every line that tcprules accepts but that
# never matches in tcpserver (file:line:col, the text, a hint), writes
# nothing then, and compiles the spelling each hint gives; --expand writes
# CIDR keys as prefixes and ranges; duplicates (also through a range) name
# both lines unless -d; the seed's tcp.smtp is caught at its one mistake.
. "$TOP/tests/cli/lib.sh"
DATA=$TOP/tests/data/tcprules

cp "$DATA"/traps.tcp "$DATA"/fixed.tcp "$DATA"/cidr.tcp "$DATA"/dups.tcp "$DATA"/crlf.tcp .
golden traps 65 mapc -s tcprules traps.tcp
ok_if "nothing written for bad input" test ! -e traps.tcp.cdb
golden fixed 0 sh -c 'mapc -s tcprules fixed.tcp && cdb -d fixed.tcp.cdb'
golden cidr-refused 65 mapc -s tcprules cidr.tcp
golden cidr-expand 0 sh -c 'mapc -s tcprules --expand cidr.tcp && cdb -d cidr.tcp.cdb'
golden dups 65 mapc -s tcprules dups.tcp
golden dups-d 0 sh -c 'mapc -s tcprules -d dups.tcp && cdb -d dups.tcp.cdb && mapc -s tcprules -q 1.2.3.4 dups.tcp'
golden crlf 65 mapc -s tcprules crlf.tcp

# the seed's file: exactly its one mistake, at line 1
cp "$TOP/examples/tcp.smtp" tcp.smtp
golden seed 65 mapc -t cdb -s tcprules tcp.smtp
ok_if "seed: the old map stays" sh -c 'echo old > tcp.smtp.cdb; mapc -s tcprules tcp.smtp; test "$(cat tcp.smtp.cdb)" = old'
finish
