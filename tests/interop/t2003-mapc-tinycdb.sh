#!/bin/sh
# t2003-mapc-tinycdb: tinycdb's cdb reads mapc's cdb maps (cdb -d, cdb -q),
# `cdb -d | cdb -c` rebuilds them byte for byte, duplicates follow -r and -d
# as postmap's and tinycdb's do, and mapc reads maps that cdb -c writes.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
DATA=$TOP/tests/data/interop

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_anchors cdb postmap postfix-cdb || { finish; exit 1; }

for src in seed-access sendmail-access; do
    cp "$DATA/$src" "$src"
    for nul in "" -N; do
        tag="mapc cdb${nul:+ $nul} $src"
        ours=ours-$src$nul
        run mapc $nul -t cdb -o "$ours" "$src"
        ok_if "$tag: compiles" test "$rc" = 0 -a ! -s "$T/err"
        cdb_run -d "$ours.cdb" >got
        same_records "$tag: cdb -d shows the records in source order" "$DATA/$src$nul.cdbdump" got
        cdb_run -d "$ours.cdb" | cdb_run -c rt.cdb
        same_file "$tag: cdb -d | cdb -c rebuilds it byte for byte" "$ours.cdb" rt.cdb
        # cdb -q takes the exact stored key; a shell argument cannot hold the
        # NUL of a -N key, which cdb -d above has shown already.
        if [ -z "$nul" ]; then
            while IFS="$(printf '\t')" read -r k v; do
                printf '%s\t%s\n' "$k" "$(cdb_run -q "$ours.cdb" "$k")"
            done <"$DATA/$src.records" >got
            same_records "$tag: cdb -q finds every key" "$DATA/$src.records" got
        fi
    done
    # cdb -c writes a map from the dump; mapc reads it
    for nul in "" -N; do
        cdb_run -c "made$nul.cdb" <"$DATA/$src$nul.cdbdump"
        mapc -u -t cdb "made$nul" | LC_ALL=C sort >got
        same_records "cdb -c${nul:+ (NUL-terminated)} $src: mapc -u lists its records" "$DATA/$src.records" got
        cut -f1 "$DATA/$src.records" | mapc -t cdb -q - "made$nul" >got
        same_records "cdb -c${nul:+ (NUL-terminated)} $src: mapc -q - finds every key" "$DATA/$src.records" got
    done
done

# Duplicates: -r keeps the last, -d keeps both in source order; postmap -r
# makes the same bytes, and cdb -q sees the first copy first.
printf 'a\t1\nb\t2\nA\t3\n' >dup
run mapc -t cdb -o dup0 dup
ok_if "duplicate key without -r/-d: exit 65, no map" test "$rc" = 65 -a ! -e dup0.cdb
mapc -r -t cdb -o dupr dup
printf '+1,1:b->2\n+1,1:a->3\n\n' >want; cdb_run -d dupr.cdb >got
same_records "mapc -r cdb: the last value wins" want got
cp dup pmr && postmap_run -r cdb:pmr
same_file "mapc -r cdb is byte-identical to postmap -r cdb:" dupr.cdb pmr.cdb
mapc -d -t cdb -o dupd dup
printf '+1,1:a->1\n+1,1:b->2\n+1,1:a->3\n\n' >want; cdb_run -d dupd.cdb >got
same_records "mapc -d cdb: both copies, in source order" want got
ok_if "mapc -d cdb: cdb -q -n 1 gives the first copy" test "$(cdb_run -q -n 1 dupd.cdb a)" = 1
ok_if "mapc -d cdb: cdb -q gives both values" test "$(cdb_run -q -m dupd.cdb a | tr '\n' ,)" = "1,3,"

# A duplicate met after the key set has grown many times is still one
# (regression: the key set once lost keys when it grew).
{ echo "dupkey.example OK"; i=1; while [ $i -le 5000 ]; do echo "k$i.example OK"; i=$((i + 1)); done
  echo "Dupkey.Example REJECT"; } >dupfar
run mapc -t cdb -o dupfar dupfar
ok_if "a duplicate 5000 lines later: exit 65, no map" test "$rc" = 65 -a ! -e dupfar.cdb
ok_if "a duplicate 5000 lines later: named with both lines" grep -q "dupfar:5002: duplicate key \"dupkey.example\" (first defined at line 1" "$T/err"
mapc -r -t cdb -o dupfarr dupfar
cp dupfar pmfar && postmap_run -r cdb:pmfar
same_file "a duplicate 5000 lines later, -r: byte-identical to postmap -r cdb:" dupfarr.cdb pmfar.cdb
ok_if "a duplicate 5000 lines later, -r: one record, the last value" \
    test "$(cdb_run -q -m dupfarr.cdb dupkey.example)" = REJECT

# Identical input, identical bytes
mapc -t cdb -o again seed-access
same_file "mapc cdb: the same source gives the same bytes twice" ours-seed-access.cdb again.cdb
finish
