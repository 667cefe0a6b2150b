#!/bin/sh
# mapc --migrate [TYPE:]MAP NEWTYPE: an existing map rewritten in another
# type without its source, record for record (NUL terminators, case and the
# order of duplicate keys kept), published atomically; the summary line and
# --json; what is refused and the exit status.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
mkdir w && cd w || exit 1
cp "$TOP/examples/access" access
mapc -t hash access

golden "migrate-hash-lmdb" 0 mapc --migrate hash:access lmdb
mapc -u -t hash access | sort >want
mapc -u access.lmdb | sort >got
same_file "migrate hash -> lmdb: the same records" want got
golden "migrate-by-suffix" 0 mapc --migrate access.lmdb cdb
mapc -u access.cdb | sort >got
same_file "migrate lmdb -> cdb: the same records" want got
golden "migrate-db-guess-output" 0 mapc -o back --migrate access.cdb btree
mapc -u -t btree back | sort >got
same_file "migrate cdb -> btree (-o back): the same records" want got
golden "migrate-guess-btree" 0 mapc -o again --migrate back.db lmdb
golden "migrate-json" 0 sh -c 'mapc --json --migrate hash:access lmdb | sed "s/\"elapsed\":[0-9.]*/\"elapsed\":X/"'

# -N maps stay -N maps: the bytes are copied, not recompiled
printf 'Key1 Value One\nKEY2\tv2\n' >m
mapc -N -f -t hash m
golden "migrate-nul" 0 sh -c 'mapc --migrate hash:m lmdb && mapc -N -f -q Key1 m.lmdb && mapc -u m.lmdb | od -c'

# duplicates: kept in order where the new type can hold them, refused where not
printf 'a 1\na 2\nb 3\n' >dup
mapc -d -t hash dup
golden "migrate-dups-cdb" 0 sh -c 'mapc --migrate hash:dup cdb && cdb -d dup.cdb && mapc -q a dup.cdb'
mapc -t lmdb -r dup
cp dup.lmdb dup.lmdb.old
golden "migrate-dups-lmdb-refused" 65 mapc --migrate hash:dup lmdb
same_file "refused migration: the old dup.lmdb is unchanged" dup.lmdb.old dup.lmdb
ok_if "refused migration: no temporaries left" test -z "$(ls -a | grep '^\.dup')"

# refusals
golden "migrate-unknown-type" 69 mapc --migrate nosuch:access lmdb
golden "migrate-unknown-new-type" 69 mapc --migrate hash:access nosuch
golden "migrate-missing" 66 mapc --migrate hash:absent lmdb
golden "migrate-with-t" 64 mapc -t lmdb --migrate hash:access lmdb
golden "migrate-with-N" 64 mapc -N --migrate hash:access lmdb
golden "migrate-no-type" 64 mapc --migrate hash:access
golden "migrate-and-query" 64 mapc -q x --migrate hash:access lmdb
finish
