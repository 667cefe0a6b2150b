#!/bin/sh
# t2007-mapc-bdb-order: a btree map is loaded in key order at the end of
# the pass, a hash map in batches sorted by bucket (map_bdb.c); whatever the
# order of the source, the file holds the records makemap writes (a btree in
# Berkeley DB's own key order), has no duplicates flag, and passes
# db5.3_verify.  The keys stress the sort: long shared prefixes (runs of
# equal 8-byte windows), keys that are prefixes of others, bytes above 0x7f,
# keys of every length from 1 to 40.  A duplicate key is still reported with
# the line it was first defined on, also when a hash batch lies between the
# two lines.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_anchors makemap db5.3_dump || { finish; exit 1; }

awk 'BEGIN {
    for (i = 0; i < 3000; i++) {
        printf "connect:10.%d.%d.%d\tREJECT\n", i % 7, i % 251, i
        printf "from:user%d@a-rather-long-shared-domain-name.example\tOK\n", i
        printf "to:%x.example\tRELAY\n", i * 7919
    }
    s = ""
    for (i = 1; i <= 40; i++) { s = s "k"; printf "%s\tlen%d\n", s, i }
    for (i = 1; i <= 24; i++) printf "prefix%s\tp%d\n", substr("abcdefghijklmnopqrstuvwx", 1, i), i
    printf "h\303\251t\303\251ro.example\tREJECT\n"
    printf "\377high\tREJECT\n"
    printf "z\tlast\n"
    # keys sharing 300 bytes and more: sorted past the windows by whole keys
    long = ""
    for (i = 0; i < 40; i++) long = long "longprefix"
    for (i = 0; i < 60; i++) printf "%s%d\tlong%d\n", long, (i * 37) % 60, i
    printf "%s\tlongest-prefix-alone\n", long
}' >records
# the same records in a scrambled order, fixed so that runs repeat
awk 'BEGIN { srand(2007) } { printf "%.9f\t%s\n", rand(), $0 }' records | LC_ALL=C sort |
    cut -f2- >access
LC_ALL=C sort records >want

for nul in "" -N; do
    tag="btree${nul:+ $nul}"
    rm -f ours.db ref.db
    run mapc $nul -t btree -o ours access
    ok_if "$tag: mapc compiles the scrambled source" test "$rc" = 0 -a ! -s "$T/err"
    run db5.3_verify ours.db
    ok_if "$tag: db5.3_verify accepts the file" test "$rc" = 0
    dbdump_run ours.db >dump
    ok_if "$tag: no duplicates flag in the file" sh -c '! grep -q "^duplicates=" dump'
    mapc -u -t btree ours >got
    if [ -z "$nul" ]; then
        same_records "$tag: a cursor walks the keys in byte order" want got
    else
        ok_if "$tag: a cursor walks every key" test "$(wc -l <got)" = "$(wc -l <want)"
    fi
    makemap_run $nul btree ref <access 2>/dev/null
    bdb_records ref.db >ref.recs; bdb_records ours.db >ours.recs
    same_records "$tag: the records makemap writes (db5.3_dump, hex)" ref.recs ours.recs
done

# A duplicate key is still found, with the line it was first defined on, and
# nothing is published.
{ cat access; printf 'to:%x.example\tOK\n' 7919; } >dup
dupline=$(grep -n "^to:1eef.example	" dup | head -n 1 | cut -d: -f1)
for type in btree hash; do
    rm -f ours.db
    mapc -t $type -o ours access && cp ours.db before.db
    run mapc -t $type -o ours dup
    ok_if "$type, duplicate key: exit 65" test "$rc" = 65
    ok_if "$type, duplicate key: names both lines" \
        grep -q "dup:$(wc -l <dup): duplicate key \"to:1eef.example\" (first defined at line $dupline;" "$T/err"
    same_file "$type, duplicate key: the old map is untouched" before.db ours.db
done

# Hash maps: a small one (stored as the records come) and one of several
# batches, each against makemap.
awk 'BEGIN { for (i = 0; i < 150000; i++) printf "host%d.example.net\tREJECT %d\n", (i * 7919) % 150000, i }' >big
head -n 50 access >small
for src in small access big; do
    for nul in "" -N; do
        tag="hash $src${nul:+ $nul}"
        rm -f ours.db ref.db
        run mapc $nul -t hash -o ours $src
        ok_if "$tag: mapc compiles" test "$rc" = 0 -a ! -s "$T/err"
        run db5.3_verify ours.db
        ok_if "$tag: db5.3_verify accepts the file" test "$rc" = 0
        dbdump_run ours.db >dump
        ok_if "$tag: no duplicates flag in the file" sh -c '! grep -q "^duplicates=" dump'
        makemap_run $nul hash ref <$src 2>/dev/null
        bdb_records ref.db >ref.recs; bdb_records ours.db >ours.recs
        same_records "$tag: the records makemap writes (db5.3_dump, hex)" ref.recs ours.recs
    done
done
# a duplicate two batches away from its first line
{ cat big; echo "host5.example.net DUP"; } >bigdup
first=$(grep -n "^host5.example.net	" bigdup | head -n 1 | cut -d: -f1)
run mapc -t hash -o bigout bigdup
ok_if "hash, duplicate key batches apart: exit 65 with both lines" \
    grep -q "bigdup:150001: duplicate key \"host5.example.net\" (first defined at line $first;" "$T/err"
ok_if "hash, duplicate key batches apart: nothing written" test ! -e bigout.db
# A btree load stores a sorted run whenever it holds -c bytes of records (96
# MiB by default): memory stays flat.  Five runs of 1 MiB here.
rm -f ours.db ref.db
run mapc -t btree -c 1048576 -o ours big
ok_if "btree in runs of 1 MiB: mapc compiles" test "$rc" = 0 -a ! -s "$T/err"
run db5.3_verify ours.db
ok_if "btree in runs: db5.3_verify accepts the file" test "$rc" = 0
makemap_run btree ref <big 2>/dev/null
bdb_records ref.db >ref.recs; bdb_records ours.db >ours.recs
same_records "btree in runs: the records makemap writes" ref.recs ours.recs
mapc -u -t btree ours | cut -f1 >got
LC_ALL=C sort got >got.sorted
same_records "btree in runs: a cursor walks the keys in byte order" got.sorted got
run mapc -t btree -c 1048576 -o bigout bigdup
ok_if "btree, duplicate key runs apart: exit 65 with both lines" \
    grep -q "bigdup:150001: duplicate key \"host5.example.net\" (first defined at line $first;" "$T/err"
ok_if "btree, duplicate key runs apart: nothing written" test ! -e bigout.db
finish
