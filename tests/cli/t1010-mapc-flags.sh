#!/bin/sh
# mapc: makemap's flags keep their meaning (-N -f -r -d -e -D -T -a -c), and
# the long options.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
printf 'Key1 Value One\nKEY2\tv2\n' > m
mapc -t cdb -N m
golden "nul-dump" 0 sh -c 'cdb -d m.cdb | od -c'
golden "nul-query" 0 mapc -t cdb -N -q key1 m
golden "nul-query-auto" 0 mapc -t cdb -q key1 m
mapc -t cdb -f m
golden "keep-case" 0 sh -c 'cdb -d m.cdb'
golden "keep-case-query" 1 mapc -t cdb -q key1 m
golden "keep-case-query-f" 0 mapc -t cdb -f -q Key1 m

printf 'a 1\nA 2\nb 3\n' > dup
golden "dup-error" 65 mapc -t cdb dup
ok_if "no map after a duplicate" test ! -e dup.cdb
golden "dup-replace" 0 sh -c 'mapc -t cdb -r dup && cdb -d dup.cdb'
golden "dup-keep" 0 sh -c 'mapc -t cdb -d dup && cdb -d dup.cdb'
golden "dup-keep-gdbm" 69 mapc -t gdbm -d dup
golden "dup-replace-and-keep" 64 mapc -t cdb -r -d dup

printf 'k1\nk2 v\n' > empty
golden "empty-refused" 65 mapc -t cdb empty
golden "empty-allowed" 0 sh -c 'mapc -t cdb --empty empty && cdb -d empty.cdb'
golden "empty-nul" 0 sh -c 'mapc -t cdb -e -N empty && cdb -d empty.cdb | od -c'

printf '; comment\n# not a comment x\n' > cc
golden "comment-char" 0 sh -c 'mapc -t cdb -D ";" cc && cdb -d cc.cdb'
printf 'k1:v 1\nk2::v2\n' > delim
golden "delimiter" 0 sh -c 'mapc -t cdb -T : delim && cdb -d delim.cdb'
golden "delimiter-long" 0 sh -c 'mapc --type=cdb --delimiter=: delim && cdb -d delim.cdb'

printf 'a 1\n' > ap
mapc -t hash ap
printf 'b 2\n' > ap
golden "append" 0 sh -c 'mapc -t hash -a ap && mapc -t hash -u ap | sort'
golden "append-dup" 65 mapc -t hash -a ap
golden "cache-size" 0 mapc -t hash -c 1048576 -r ap
golden "cache-size-bad" 64 mapc -t hash -c lots ap
golden "usage-no-source" 64 mapc -t hash
golden "usage-two-sources" 64 mapc -t hash a b
golden "usage-bad-option" 64 mapc -Z -t hash ap
golden "usage-q-and-u" 64 mapc -t hash -q a -u ap
golden "unknown-type" 69 mapc -t ndbm ap
golden "no-type" 64 mapc ap
golden "no-source" 66 mapc -t hash nosuchfile
golden "help" 0 mapc --help
finish
