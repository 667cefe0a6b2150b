#!/bin/sh
# t2005-mapc-lmdb: Postfix's postmap (lmdb: plug-in) and mdb_dump read mapc's
# lmdb maps, with and without -N, and find exactly the records meant; mapc -u
# and mapc -q read the lmdb maps postmap writes (with NUL, postmap's default
# here, and with -n); a map far larger than the starting map size (-c) is
# grown and complete; neither writer leaves a lock file beside the map.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
. "$TOP/tests/interop/lmdb-anchors.sh"
DATA=$TOP/tests/data/interop

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_lmdb_anchors || { finish; exit 1; }

# mapc -> postmap, mdb_dump
for src in seed-access sendmail-access; do
    cp "$DATA/$src" "$src"
    cut -f1 "$DATA/$src.records" >"$src.keys"
    for nul in "" -N; do
        tag="mapc lmdb${nul:+ $nul} $src"
        ours=ours-$src$nul
        d=d-$src$nul; mkdir -p "$d"
        run mapc $nul -t lmdb -o "$d/$ours" "$src"
        ok_if "$tag: compiles" test "$rc" = 0 -a ! -s "$T/err"
        ok_if "$tag: one file, no lock file beside it" test "$(ls "$d")" = "$ours.lmdb"
        text_records $nul <"$DATA/$src.records" >want
        lmdb_records "$d/$ours.lmdb" >got
        same_records "$tag: mdb_dump shows the exact bytes" want got
        postmap_run -s "lmdb:$d/$ours" | LC_ALL=C sort >got
        same_records "$tag: postmap -s lists exactly the source's records" "$DATA/$src.records" got
        postmap_run -q - "lmdb:$d/$ours" <"$src.keys" >got
        same_records "$tag: postmap -q - finds every key" "$DATA/$src.records" got
        pflag=-n; [ -n "$nul" ] && pflag=-N
        postmap_run $pflag -q - "lmdb:$d/$ours" <"$src.keys" >got
        same_records "$tag: postmap $pflag -q - finds every key" "$DATA/$src.records" got
        ok_if "$tag: postmap left no lock file" test "$(ls "$d")" = "$ours.lmdb"
        k=$(head -1 "$src.keys" | tr a-z A-Z)
        v=$(postmap_run -q "$k" "lmdb:$d/$ours")
        ok_if "$tag: postmap -q $k (upper case) finds it" \
            test -n "$v" -a "$v" = "$(head -1 "$DATA/$src.records" | cut -f2-)"
        run postmap_run -q no.such.key "lmdb:$d/$ours"
        ok_if "$tag: postmap -q on an absent key: exit 1" test "$rc" = 1 -a ! -s "$T/out"
        mapc -u "$d/$ours.lmdb" | LC_ALL=C sort >got
        same_records "$tag: mapc -u (type from the suffix) lists the records" "$DATA/$src.records" got
    done
done

# postmap -> mapc, including Postfix's own sample (continuation lines,
# trailing blanks) that mapc itself would not compile.
for src in seed-access sendmail-access postfix-access; do
    cp "$DATA/$src" "$src"
    for nul in "" -n -N; do
        tag="postmap${nul:+ $nul} lmdb:$src"
        rm -f pm.lmdb
        cp "$src" pm
        postmap_run $nul lmdb:pm
        ok_if "$tag: no lock file" test ! -e pm.lmdb-lock
        postmap_run -s lmdb:pm | LC_ALL=C sort >want
        mapc -u -t lmdb pm | LC_ALL=C sort >got
        same_records "$tag: mapc -u lists postmap's records" want got
        cut -f1 want >keys
        mapc -t lmdb -q - pm <keys >got
        same_records "$tag: mapc -q - finds every key" want got
        # postmap's default here is a NUL after keys and values, as for hash
        wn=; [ "$nul" != -n ] && wn=-N
        text_records $wn <want >want.hex
        lmdb_records pm.lmdb >got
        same_records "$tag: mdb_dump: NUL terminators ${wn:+present}${wn:-absent}" want.hex got
    done
done

# Far beyond the starting map size: MDB_MAP_FULL makes mapc grow the map
# and load it again, until everything fits.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "host%06d.example.org REJECT blocked by rule %d of the list\n", i, i }' >big
run mapc -c 65536 -t lmdb big
ok_if "20000 records from a 64 KiB starting size: compiles" test "$rc" = 0 -a ! -s "$T/err"
ok_if "the map file is larger than the starting size" test "$(wc -c <big.lmdb)" -gt 65536
sed 's/ /	/' big | LC_ALL=C sort >want
postmap_run -s lmdb:big | LC_ALL=C sort >got
same_records "grown map: postmap -s lists all 20000 records" want got
v=$(postmap_run -q HOST019999.example.org lmdb:big)
ok_if "grown map: postmap -q finds the last key" test "$v" = "REJECT blocked by rule 19999 of the list"
ok_if "grown map: no temporaries or lock file left" test "$(ls -a | grep -c '^\.big\|lmdb-lock')" = 0
finish
