#!/bin/sh
# t2002-mapc-postmap: Postfix's postmap reads mapc's hash, btree and cdb maps
# (with and without -N) and finds exactly the records meant; mapc's cdb is
# byte-identical to postmap's for the same source; mapc -u / mapc -q read the
# hash, btree and cdb maps postmap writes, with and without NUL terminators.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
DATA=$TOP/tests/data/interop

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_anchors postmap postfix-cdb || { finish; exit 1; }

# mapc -> postmap
for src in seed-access sendmail-access; do
    cp "$DATA/$src" "$src"
    cut -f1 "$DATA/$src.records" >"$src.keys"
    for type in hash btree cdb; do
        for nul in "" -N; do
            tag="mapc $type${nul:+ $nul} $src"
            ours=ours-$src-$type$nul
            run mapc $nul -t "$type" -o "$ours" "$src"
            ok_if "$tag: compiles" test "$rc" = 0 -a ! -s "$T/err"
            # Postfix cannot list a cdb (no sequence operation): query it.
            if [ "$type" != cdb ]; then
                postmap_run -s "$type:$ours" | LC_ALL=C sort >got
                same_records "$tag: postmap -s lists exactly the source's records" "$DATA/$src.records" got
            fi
            # postmap tries keys with and without NUL for Berkeley DB maps,
            # but a cdb only the way its -N/-n says.
            pflag=; [ "$type" = cdb ] && pflag=$nul
            postmap_run $pflag -q - "$type:$ours" <"$src.keys" >got
            same_records "$tag: postmap -q - finds every key" "$DATA/$src.records" got
        done
        # postmap folds the query key as mapc folded the source
        k=$(head -1 "$src.keys" | tr a-z A-Z)
        v=$(postmap_run -q "$k" "$type:ours-$src-$type")
        ok_if "mapc $type $src: postmap -q $k (upper case) finds it" \
            test -n "$v" -a "$v" = "$(head -1 "$DATA/$src.records" | cut -f2-)"
        run postmap_run -q no.such.key "$type:ours-$src-$type"
        ok_if "mapc $type $src: postmap -q on an absent key: exit 1" test "$rc" = 1 -a ! -s "$T/out"
    done
    # Same source, same rules: the cdb files are the same bytes.
    for nul in "" -N; do
        cp "$src" "pm-$src$nul"
        postmap_run $nul "cdb:pm-$src$nul"
        same_file "mapc cdb${nul:+ $nul} $src is byte-identical to postmap${nul:+ $nul} cdb:" \
            "ours-$src-cdb$nul.cdb" "pm-$src$nul.cdb"
    done
done

# postmap -> mapc, including postfix's own sample (continuation lines,
# trailing blanks) that mapc itself would not compile.
for src in seed-access sendmail-access postfix-access; do
    cp "$DATA/$src" "$src"
    for type in hash btree cdb; do
        for nul in -n -N; do
            tag="postmap $nul $type:$src"
            cp "$src" "pm"
            postmap_run $nul "$type:pm"
            if [ "$type" = cdb ]; then
                # the records as postmap -s sees them in the hash twin
                postmap_run $nul "hash:pm" && postmap_run -s hash:pm
            else
                postmap_run -s "$type:pm"
            fi | LC_ALL=C sort >want
            mapc -u -t "$type" pm | LC_ALL=C sort >got
            same_records "$tag: mapc -u lists postmap's records" want got
            cut -f1 want >keys
            mapc -t "$type" -q - pm <keys >got
            same_records "$tag: mapc -q - finds every key" want got
        done
    done
done

# Maps written by the real postmap and kept in the tree (reference samples).
LC_ALL=C sort "$DATA/postfix-access.postmap-s" >want
for m in postfix-access.db:hash postfix-access.cdb:cdb; do
    mapc -u -t "${m#*:}" "$DATA/${m%:*}" | LC_ALL=C sort >got
    same_records "stored postmap map ${m%:*}: mapc -u" want got
done
finish
