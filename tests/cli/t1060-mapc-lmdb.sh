#!/bin/sh
# mapc -t lmdb: compile, query (also -q -), dump, --check, -N, -r, -a, -c,
# what lmdb refuses (-d, keys over 511 bytes), the list line; one file and no
# lock file beside it, whatever was run.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
mkdir w && cd w || exit 1
cp "$TOP/examples/access" access

golden "lmdb-compile" 0 mapc -t lmdb access
ok_if "lmdb: access.lmdb and nothing else" test "$(ls -a | tr '\n' ' ')" = ". .. access access.lmdb "
golden "lmdb-query" 0 mapc -t lmdb -q SPAMMAIL.COM access
golden "lmdb-query-by-suffix" 0 mapc -q useful.org access.lmdb
golden "lmdb-query-missing" 1 mapc -t lmdb -q nosuch.example access
golden "lmdb-query-batch" 0 sh -c 'printf "172.16\nnope\nSPAM@hacker.com\n" | mapc -q - access.lmdb'
golden "lmdb-dump" 0 mapc -u access.lmdb
golden "lmdb-check-fresh" 0 mapc -t lmdb --check access
ok_if "lmdb: reading left no lock file" test "$(ls -a | tr '\n' ' ')" = ". .. access access.lmdb "
echo 'new.example OK' >>access
golden "lmdb-check-stale" 1 mapc -t lmdb --check access
golden "lmdb-json" 0 sh -c 'mapc -t lmdb --json access | sed "s/\"elapsed\":[0-9.]*/\"elapsed\":X/"'

printf 'Key1 Value One\nKEY2\tv2\n' >m
golden "lmdb-nul" 0 sh -c 'mapc -t lmdb -N m && mapc -u m.lmdb | od -c && mapc -N -q key1 m.lmdb'
printf 'a 1\nA 2\nb 3\n' >dup
golden "lmdb-dup-error" 65 mapc -t lmdb dup
ok_if "lmdb: no map after a duplicate" test ! -e dup.lmdb
golden "lmdb-dup-replace" 0 sh -c 'mapc -t lmdb -r dup && mapc -u dup.lmdb'
golden "lmdb-dup-keep-refused" 69 mapc -t lmdb -d dup
printf 'c 4\n' >dup2
golden "lmdb-append" 0 sh -c 'mapc -t lmdb -r -o dup dup && mapc -t lmdb -a -o dup dup2 && mapc -u dup.lmdb'
awk 'BEGIN { k = ""; for (i = 0; i < 512; i++) k = k "k"; print "short v"; print k " v" }' >long
golden "lmdb-key-too-long" 65 mapc -t lmdb long
ok_if "lmdb: no map after a refused key" test ! -e long.lmdb
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "host%05d.example.org REJECT rule %d\n", i, i }' >big
golden "lmdb-grows" 0 sh -c 'mapc -v -c 16384 -t lmdb big && mapc -q HOST04999.example.org big.lmdb'
golden "lmdb-list" 0 sh -c 'mapc -l | grep "^lmdb "'
finish
