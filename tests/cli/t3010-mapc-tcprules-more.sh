#!/bin/sh
# t3010: tcprules6 traps, query answers as text and JSON, mapc -u, and the
# rcpthosts syntax (lower case, empty data, its traps).
. "$TOP/tests/cli/lib.sh"
DATA=$TOP/tests/data/tcprules

cp "$DATA"/traps6.tcp "$DATA"/corpus.tcp "$DATA"/sample.tcp "$DATA"/rcpthosts-bad .
golden traps6 65 mapc -s tcprules6 traps6.tcp
mapc -s tcprules -o rules corpus.tcp
golden query-text 0 sh -c 'for q in 10.9.9.9,,joe 172.16.5.1,host.example.com 8.8.8.8,a.b.example.org 203.0.113.6 203.0.113.8; do mapc -s tcprules -q $q rules.cdb; done'
golden query-json 0 sh -c 'for q in 10.9.9.9,,joe 8.8.8.8,a.b.example.org 203.0.113.6 203.0.113.10 "0.0.0.0,,"; do mapc -s tcprules --json -q "$q" rules.cdb; done'
printf '1.2.3.4:deny\n' > nodefault
mapc -s tcprules nodefault
golden query-default 1 mapc -s tcprules -q 5.6.7.8 nodefault.cdb
golden query-bad 64 mapc -s tcprules -q ,host rules.cdb
printf '1.2.3.4:allow\n' > nul.tcp
golden nul-refused 64 mapc -s tcprules -N nul.tcp
golden dump 0 sh -c 'mapc -s tcprules -o sample sample.tcp && mapc -s tcprules -u sample.cdb'

cp "$TOP/examples/rcpthosts" rcpthosts
golden rcpthosts 0 sh -c 'mapc -s rcpthosts -o morercpthosts rcpthosts && cdb -d morercpthosts.cdb && mapc -s rcpthosts -u morercpthosts.cdb && mapc -s rcpthosts -q MAIL.example.ORG morercpthosts.cdb'
golden rcpthosts-bad 65 mapc -s rcpthosts rcpthosts-bad
finish
