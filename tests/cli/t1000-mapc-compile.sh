#!/bin/sh
# mapc: compile the seed's access file into every type, query, dump, check,
# JSON summary, list; golden stdout/stderr/exit status for each.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
cp "$TOP/examples/access" access

for t in hash btree dbm gdbm cdb; do
    golden "compile-$t" 0 mapc -t $t access
    golden "query-$t" 0 mapc -t $t -q SPAMMAIL.COM access
    golden "query-missing-$t" 1 mapc -t $t -q nosuch.example access
    # dump order is the database's: compare sorted
    run mapc -t $t -u access
    sort "$T/out" > dump.sorted
    grep -v '^#' access | sed 's/[[:space:]]\{1,\}/	/' | sort > want.sorted
    same_file "dump-$t holds the source's records" want.sorted dump.sorted
    golden "check-fresh-$t" 0 mapc -t $t --check access
done
mapc -t hash access     # btree above wrote access.db too
ok_if "cdb output identical for identical input" sh -c 'cp access.cdb first.cdb && mapc -t cdb access && cmp first.cdb access.cdb'
golden "query-by-suffix" 0 mapc -q useful.org access.cdb
mapc -t btree -o tree access
golden "query-db-btree" 0 mapc -q useful.org tree.db
golden "query-db-hash" 0 mapc -q useful.org access.db
golden "query-batch" 0 sh -c 'printf "172.16\nnope\nSPAM@hacker.com\n" | mapc -t hash -q - access'
golden "query-batch-none" 1 sh -c 'printf "nope\n" | mapc -q - access.cdb'
golden "output-name" 0 mapc -t cdb -o other access
ok_if "-o names the output" test -f other.cdb
golden "output-with-suffix" 0 mapc -t hash -o named.db access
ok_if "-o NAME.db is used as is" test -f named.db
golden "stdin" 0 sh -c 'mapc -t cdb -o fromstdin - < access'
golden "stdin-needs-output" 64 sh -c 'mapc -t cdb - < access'
golden "json" 0 sh -c 'mapc -t cdb --json access | sed "s/\"elapsed\":[0-9.]*/\"elapsed\":X/"'
echo 'new.example OK' >> access
golden "check-stale" 1 mapc -t hash --check access
golden "check-missing" 1 mapc -t hash --check -o missing access
golden "list" 0 sh -c 'mapc -l | sed -n "1,5p"'
golden "verbose" 0 mapc -v -t cdb access
finish
