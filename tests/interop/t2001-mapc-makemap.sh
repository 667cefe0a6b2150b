#!/bin/sh
# t2001-mapc-makemap: mapc's hash and btree maps hold exactly the records
# Sendmail's makemap writes for the same source (with and without -N), makemap
# -u reads them back, and mapc -u / mapc -q read the maps makemap writes.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
DATA=$TOP/tests/data/interop

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_anchors makemap db5.3_dump || { finish; exit 1; }

for src in seed-access sendmail-access; do
    cp "$DATA/$src" "$src"
    cut -f1 "$DATA/$src.records" >"$src.keys"
    for type in hash btree; do
        for nul in "" -N; do
            tag="$src $type${nul:+ $nul}"
            ref=ref-$src-$type$nul ours=ours-$src-$type$nul
            makemap_run $nul "$type" "$ref" <"$src" 2>/dev/null
            run mapc $nul -t "$type" -o "$ours" "$src"
            ok_if "$tag: mapc compiles" test "$rc" = 0 -a ! -s "$T/err"

            # mapc -> makemap and db5.3_dump: the very same bytes
            bdb_records "$ref.db" >want; bdb_records "$ours.db" >got
            same_records "$tag: mapc's records = makemap's (db5.3_dump, hex)" want got
            bdb_print_records "$ref.db" >want; bdb_print_records "$ours.db" >got
            same_records "$tag: same records (db5.3_dump -p)" want got
            ok_if "$tag: mapc wrote a $type file" test "$(bdb_type "$ours.db")" = "$type"
            makemap_run -u "$type" "$ours" | LC_ALL=C sort >got
            same_records "$tag: makemap -u reads mapc's map" "$DATA/$src.records" got

            # makemap -> mapc
            mapc -u -t "$type" "$ref" | LC_ALL=C sort >got
            same_records "$tag: mapc -u reads makemap's map" "$DATA/$src.records" got
            mapc -t "$type" -q - "$ref" <"$src.keys" >got
            same_records "$tag: mapc -q - finds every key in makemap's map" "$DATA/$src.records" got
        done
    done
done

# Case folding on lookup, and a key that is absent (exit 1, nothing printed).
makemap_run hash seed <seed-access 2>/dev/null
run mapc -t hash -q SPAM@Hacker.COM seed
ok_if "mapc -q folds the key like makemap folded the source" test "$rc" = 0 -a "$(cat "$T/out")" = REJECT
run mapc -t hash -q nobody@example.org seed
ok_if "mapc -q on an absent key: exit 1, no output" test "$rc" = 1 -a ! -s "$T/out"

# Maps written by the real makemap and kept in the tree (reference samples).
for db in sendmail-access.db:hash sendmail-access-N.db:hash sendmail-access-btree.db:btree; do
    mapc -u -t "${db#*:}" "$DATA/${db%:*}" | LC_ALL=C sort >got
    same_records "stored makemap map ${db%:*}: mapc -u" "$DATA/sendmail-access.records" got
done
finish
