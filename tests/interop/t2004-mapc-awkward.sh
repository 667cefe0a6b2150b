#!/bin/sh
# t2004-mapc-awkward: a seeded generated source with what breaks map tools
# (lines and keys over 1024 bytes, mixed case, tabs and form feeds between key
# and value, tabs and trailing blanks inside values, 8-bit bytes in keys and
# values, '#' after column 1, empty values with -e, CRLF lines, comments and
# blank lines).  The generator also writes the records meant, so every reader
# is checked against an expectation that comes from neither mapc nor a peer.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
DATA=$TOP/tests/data/interop

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_anchors makemap postmap postfix-cdb cdb db5.3_dump || { finish; exit 1; }
need_tool db5.3_load db5.3-util || { finish; exit 1; }

awk -v n=300 -v seed=20261122 -f "$DATA/awkward.awk" >aw
ok_if "generator: 300 records, long lines, 8-bit bytes, CRLF" \
    test "$(wc -l <exp)" = 300 -a "$(awk 'length($0) > 1024' aw | wc -l)" -gt 20 \
         -a "$(LC_ALL=C grep -a -c "$(printf '\r')" aw)" -gt 10 -a "$(LC_ALL=C grep -a -c "$(printf '[\200-\377]')" aw)" -gt 20
# postmap -q (smtputf8_enable=yes, its default) refuses a key that is not
# UTF-8, stops with "query error" on such a value, and warns on an empty one:
# it is asked about the ASCII records with a value only.
asciiq() { LC_ALL=C awk -F '\t' '$2 != "" && $0 !~ /[^\t -~]/'; }

for type in hash btree cdb; do
    for v in "" -N -f; do
        tag="mapc -e $type${v:+ $v}"
        m=m-$type$v exp=exp; [ "$v" = -f ] && exp=expf
        nul=; [ "$v" = -N ] && nul=-N
        run mapc -e $v -t "$type" -o "$m" aw
        ok_if "$tag: compiles" test "$rc" = 0 -a ! -s "$T/err"
        text_records <"$exp" >want
        if [ "$type" = cdb ]; then
            text_hex $nul <"$exp" >want.n; cdb_records "$m.cdb" >got
            same_records "$tag: cdb -d shows the exact bytes in source order" want.n got
            cdb_run -d "$m.cdb" | cdb_run -c rt.cdb
            same_file "$tag: cdb -d | cdb -c rebuilds it byte for byte" "$m.cdb" rt.cdb
            if [ -z "$v" ]; then
                asciiq <exp | head -40 >want.q
                while IFS="$(printf '\t')" read -r k val; do
                    printf '%s\t%s\n' "$k" "$(cdb_run -q "$m.cdb" "$k")"
                done <want.q >got
                same_records "$tag: cdb -q finds the values" want.q got
            fi
        else
            text_records $nul <"$exp" >want.n; bdb_records "$m.db" >got
            same_records "$tag: db5.3_dump shows the exact bytes" want.n got
            makemap_run -u "$type" "$m" | text_records >got
            same_records "$tag: makemap -u reads it" want got
            postmap_run -s "$type:$m" 2>/dev/null | text_records >got
            same_records "$tag: postmap -s reads it" want got
        fi
        pf=; [ "$v" = -f ] && pf=-f; [ "$type" = cdb ] && pf="$pf $nul"
        asciiq <"$exp" >want.q
        cut -f1 want.q | postmap_run $pf -q - "$type:$m" 2>/dev/null >got
        same_records "$tag: postmap -q - finds the ASCII keys" want.q got
        mapc -u -t "$type" "$m" | text_records >got
        same_records "$tag: mapc -u lists the records" want got
        cut -f1 "$exp" | mapc $v -t "$type" -q - "$m" >got
        same_records "$tag: mapc -q - finds every key" "$exp" got
    done
done

# The other way: Berkeley DB's own loader and tinycdb write the records (no
# line limit there), mapc reads them.
text_records <exp | hex_dbload >load.txt
for type in hash btree; do
    db5.3_load -T -t "$type" "ld-$type.db" <load.txt
    mapc -u -t "$type" "ld-$type.db" | text_records >got
    text_records <exp >want
    same_records "db5.3_load $type: mapc -u lists the records" want got
    cut -f1 exp | mapc -t "$type" -q - "ld-$type.db" >got
    same_records "db5.3_load $type: mapc -q - finds every key" exp got
done
text_cdbmake <exp | cdb_run -c ld.cdb
mapc -u -t cdb ld.cdb | text_records >got
same_records "cdb -c: mapc -u lists the records" want got
cut -f1 exp | mapc -t cdb -q - ld.cdb >got
same_records "cdb -c: mapc -q - finds every key" exp got
finish
