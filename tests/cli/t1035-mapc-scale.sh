#!/bin/sh
# mapc at scale (issue 13, item 4): duplicate keys are found in linear time
# for every type and the error limit (50) holds for them; 2,000,000 copies of
# one key with -t cdb -d is linear too (the cdb tables are filled without
# walking occupied runs again) and tinycdb reads the result.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
need_tool cdb tinycdb || { finish; exit 1; }

awk 'BEGIN { for (i = 0; i < 200; i++) printf "key%d.example.org REJECT number %d\n", i, i }' > half
cat half half > twice
golden "dup-limit" 65 mapc -t hash twice
for t in hash btree dbm gdbm cdb lmdb; do
    run mapc -t $t -o lim-$t twice
    ok_if "$t: 200 duplicates, 50 messages and a note" \
        sh -c "test $rc = 65 && test \$(grep -c 'duplicate key \"' '$T/err') = 50 && grep -q '150 more duplicate keys not shown' '$T/err'"
done

# 200,000 lines and the same again: 200,000 duplicates (17.7 s before,
# quadratic; well under a second now).  The bound is loose for slow machines.
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "key%d.example.org REJECT number %d\n", i, i }' > big
cat big big > bigtwice
for t in hash cdb lmdb; do
    run timeout 30 mapc -t $t -o big-$t bigtwice
    ok_if "$t: 200,000 duplicates in linear time (exit 65 within 30 s, got $rc)" test "$rc" = 65
    ok_if "$t: a duplicate names its first line" \
        grep -q '^bigtwice:200001: duplicate key "key0.example.org" (first defined at line 1;' "$T/err"
    ok_if "$t: 50 messages, then a note" grep -q '199950 more duplicate keys not shown' "$T/err"
done

# 300,000 records: the duplicate check's sort runs on a second thread while
# the map is finished.  A duplicate on the last line still fails the run and
# leaves the map in place as it was, with nothing left behind; without it
# the map is published (for cdb, the same bytes as tinycdb's).
awk 'BEGIN { for (i = 0; i < 300000; i++) printf "key%d.example.org REJECT number %d\n", i, i }' > large
{ cat large; echo "key5.example.org OK"; } > largedup
for t in cdb hash; do
    f=large-$t.db; [ $t = cdb ] && f=large-$t.cdb
    mapc -t $t -o large-$t big
    cp "$f" keep-$t
    run mapc -t $t -o large-$t largedup
    ok_if "$t, 300,000 records: a duplicate on the last line fails the run (exit $rc)" test "$rc" = 65
    ok_if "$t, 300,000 records: the duplicate names its first line" \
        grep -q '^largedup:300001: duplicate key "key5.example.org" (first defined at line 6;' "$T/err"
    same_file "$t, 300,000 records: the old map is untouched" keep-$t "$f"
    ok_if "$t, 300,000 records: nothing left behind" sh -c '! ls -A | grep -q "^\.large"'
    run mapc -t $t -o large-$t large
    ok_if "$t, 300,000 records: published without the duplicate (exit $rc)" \
        sh -c "test $rc = 0 && test \"\$(mapc -t $t -q key299999.example.org large-$t)\" = 'REJECT number 299999'"
done
cdb -c -m tiny-large.cdb large
same_file "cdb, 300,000 records: the same bytes as tinycdb's" tiny-large.cdb large-cdb.cdb

# 2,000,000 copies of one key, -d: tinycdb's own writer probes occupied slots
# again for each copy (did not finish in 11 minutes).
awk 'BEGIN { for (i = 0; i < 2000000; i++) print "same.example.org REJECT" }' > many
run timeout 60 mapc -t cdb -d -o many many
ok_if "cdb -d: 2,000,000 copies of one key within 60 s (exit $rc)" test "$rc" = 0
ok_if "cdb -d: tinycdb sees 2,000,000 records" sh -c 'cdb -s many.cdb | grep -q "number of records: 2000000"'
ok_if "cdb -d: tinycdb finds the first copy" sh -c 'test "$(cdb -q -n 1 many.cdb same.example.org)" = REJECT'
ok_if "cdb -d: mapc -u lists every copy" sh -c 'test "$(mapc -t cdb -u many.cdb | wc -l)" = 2000000'
# Byte for byte what tinycdb writes for the same records (collisions and
# duplicates in one table).
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "k%d v%d\n", i % 1700, i }' > dups
mapc -t cdb -d -o dups dups
cdb -d dups.cdb | cdb -c ref.cdb
same_file "cdb -d: the same bytes as tinycdb's cdb -c" ref.cdb dups.cdb
printf 'a x\nb y\na z\nc w\nb v\n' > repl
mapc -t cdb -r -o repl repl
cdb -d repl.cdb > repl.dump
cdb -c -r repl2.cdb < repl.dump 2>/dev/null || cdb -d repl.cdb | cdb -c repl2.cdb
golden "cdb-replace-dump" 0 cdb -d repl.cdb
same_file "cdb -r: the replaced records are gone, the file is what tinycdb writes" repl2.cdb repl.cdb
finish
