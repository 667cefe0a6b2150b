#!/bin/sh
# t2006-mapc-migrate-lmdb: a map migrated by mapc --migrate answers Postfix's
# postmap exactly as the original did: postmap -s lists the same records and
# postmap -q - gives the same answers (also for absent keys), for hash and cdb
# maps that postmap wrote (with and without NUL terminators) migrated to lmdb,
# for lmdb maps migrated back to hash and cdb, and for mapc's own -N maps.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"
. "$TOP/tests/interop/lmdb-anchors.sh"
DATA=$TOP/tests/data/interop

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
need_anchors postfix-cdb || { finish; exit 1; }
need_lmdb_anchors || { finish; exit 1; }

# answers FROM_TYPE:MAP TO_TYPE:MAP TAG: postmap -s and postmap -q - agree
same_answers() {
    postmap_run -s "$1" | LC_ALL=C sort >want.s
    postmap_run -s "$2" | LC_ALL=C sort >got.s
    same_records "$3: postmap -s lists the same records" want.s got.s
    { cut -f1 want.s; echo no.such.key; echo NO.SUCH@EXAMPLE.ORG; } >keys
    postmap_run -q - "$1" <keys >want.q
    postmap_run -q - "$2" <keys >got.q
    same_records "$3: postmap -q - gives the same answers" want.q got.q
}
# Postfix cannot list a cdb: its records come from a hash twin built alike.
cdb_answers() {
    postmap_run -q - "$1" <keys >want.q
    postmap_run -q - "$2" <keys >got.q
    same_records "$3: postmap -q - gives the same answers" want.q got.q
}

for src in seed-access sendmail-access postfix-access; do
    for nul in -n -N; do
        cp "$DATA/$src" pm
        rm -f pm.db pm.cdb pm.lmdb
        postmap_run $nul hash:pm
        run mapc --migrate hash:pm lmdb
        ok_if "postmap $nul hash:$src -> lmdb: migrated" test "$rc" = 0 -a ! -s "$T/err"
        same_answers hash:pm lmdb:pm "postmap $nul hash:$src -> lmdb"
        postmap_run $nul cdb:pm
        run mapc -o fromcdb --migrate cdb:pm lmdb
        ok_if "postmap $nul cdb:$src -> lmdb: migrated" test "$rc" = 0 -a ! -s "$T/err"
        postmap_run -s hash:pm | cut -f1 >keys
        echo no.such.key >>keys
        cdb_answers cdb:pm lmdb:fromcdb "postmap $nul cdb:$src -> lmdb"
        # and back: lmdb -> hash, lmdb -> cdb
        run mapc -o back --migrate lmdb:pm hash
        same_answers lmdb:pm hash:back "lmdb (from postmap $nul hash:$src) -> hash"
        run mapc -o back --migrate lmdb:pm cdb
        cdb_answers lmdb:pm cdb:back "lmdb (from postmap $nul hash:$src) -> cdb"
        ok_if "no lock file beside the migrated maps" test -z "$(ls | grep lmdb-lock)"
    done
done

# postmap's own lmdb maps, and mapc's -N maps
for src in seed-access sendmail-access; do
    cp "$DATA/$src" pl
    postmap_run lmdb:pl
    mapc -o pl2 --migrate lmdb:pl btree >/dev/null
    same_answers lmdb:pl btree:pl2 "postmap lmdb:$src -> btree"
    mapc -N -t hash -o ours "$DATA/$src"
    mapc --migrate ours.db lmdb >/dev/null
    same_answers hash:ours lmdb:ours "mapc -N hash $src -> lmdb"
    ok_if "mapc -N hash $src -> lmdb: NUL terminators kept (mdb_dump)" \
        test "$(lmdb_records ours.lmdb | grep -c '00 .*00$')" = "$(wc -l <"$DATA/$src.records")"
done
finish
