#!/bin/sh
# mapc --if-changed: for every map type and the tcprules and rcpthosts
# syntaxes, a run that would write the same records exits 0 and leaves the
# map alone (inode, mode, owner, mtime), a run with other records exits 2
# and replaces it; a damaged map, a map of another type and a missing one
# are replaced; --json says "changed"; what --if-changed cannot go with.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
mkdir w && cd w || exit 1

# inode, mode, owner, mtime of each file named: what "untouched" means here
fingerprint() { stat -c '%n %i %a %u:%g %Y' "$@"; }

# Compile, age the output, compile again: 0 and nothing touched; a changed
# source: 2 and a new file.  $1 type, $2 first output file, $3.. more mapc
# options before the source "src".
same_then_changed() {
    type=$1 out=$2; shift 2
    rm -f src.* .src*
    printf 'b.example REJECT\na.example OK\n172.16.5 RELAY\n' >src
    run mapc --if-changed -t "$type" "$@" src
    ok_if "$type: first run writes $out (exit 2)" test "$rc" = 2 -a -f "$out"
    touch -d '2001-02-03 04:05:06' src.*
    chmod 640 "$out"
    before=$(fingerprint src.*)
    ino=$(stat -c %i "$out")
    # the same records in another order: another layout, the same map
    printf '172.16.5 RELAY\na.example OK\nb.example REJECT\n' >src
    run mapc --if-changed -t "$type" "$@" src
    ok_if "$type: same records: exit 0, no message" test "$rc" = 0 -a ! -s "$T/err"
    ok_if "$type: same records: inode, mode, owner, mtime untouched" \
        test "$(fingerprint src.*)" = "$before"
    printf '172.16.5 RELAY\na.example OK\nb.example DISCARD\n' >src
    run mapc --if-changed -t "$type" "$@" src
    ok_if "$type: a value changed: exit 2" test "$rc" = 2
    ok_if "$type: a value changed: a new $out" test "$(stat -c %i "$out")" != "$ino"
    ok_if "$type: a value changed: the mode kept" test "$(stat -c %a "$out")" = 640
    ok_if "$type: a value changed: the new record is there" \
        test "$(mapc -t "$type" "$@" -q b.example src)" = DISCARD
}

for t in hash btree dbm gdbm cdb lmdb; do
    case $t in
    hash | btree) f=src.db ;;
    dbm) f=src.pag ;;
    *) f=src.$t ;;
    esac
    same_then_changed $t $f
done
# -N keys and values are records like any other
same_then_changed hash src.db -N

# A damaged map, a map of another type: replaced, with a note saying why.
printf 'a 1\n' >m
echo 'not a database at all, only some text' >m.db
golden "ifchanged-damaged" 2 mapc --if-changed -t btree m
golden "ifchanged-damaged-again" 0 mapc --if-changed -t btree m
golden "ifchanged-other-type" 2 mapc --if-changed -t hash m
ok_if "other type: m.db is a hash map now" test "$(mapc -t hash -q a m)" = 1
golden "ifchanged-missing" 2 sh -c 'rm m.db && mapc --if-changed -t hash m'
: >m.cdb
golden "ifchanged-empty-file" 2 mapc --if-changed -t cdb m
chmod 000 m.cdb
if [ "$(id -u)" != 0 ]; then
    golden "ifchanged-unreadable" 2 mapc --if-changed -t cdb m
else
    ok_if "unreadable (skipped as root: root reads any file)" true
fi
chmod 644 m.cdb

# tcprules, the way tcprules compiles tcp.smtp, and rcpthosts
cp "$TOP/examples/tcp.smtp" tcp.smtp
sed -i 's/^172\.16\.5:/172.16.5.:/' tcp.smtp
golden "ifchanged-tcprules-first" 2 mapc --if-changed -s tcprules tcp.smtp
touch -d '2001-02-03 04:05:06' tcp.smtp.cdb
before=$(fingerprint tcp.smtp.cdb)
golden "ifchanged-tcprules-same" 0 mapc --if-changed -s tcprules tcp.smtp
ok_if "tcprules: tcp.smtp.cdb untouched" test "$(fingerprint tcp.smtp.cdb)" = "$before"
echo '10.0.0.:deny' >>tcp.smtp
golden "ifchanged-tcprules-changed" 2 mapc --if-changed -s tcprules tcp.smtp
ok_if "tcprules: a new tcp.smtp.cdb" test "$(fingerprint tcp.smtp.cdb)" != "$before"
if command -v tcprules >/dev/null; then
    tcprules ref.cdb ref.tmp <tcp.smtp
    same_file "tcprules: the replaced cdb is byte for byte tcprules' own" ref.cdb tcp.smtp.cdb
fi
cp "$TOP/examples/rcpthosts" rcpthosts
golden "ifchanged-rcpthosts-first" 2 mapc --if-changed -s rcpthosts -o morercpthosts rcpthosts
touch -d '2001-02-03 04:05:06' morercpthosts.cdb
before=$(fingerprint morercpthosts.cdb)
# rcpthosts folds case: the same hosts in other letters are the same records
sed 's/Mail.Example.Org/MAIL.example.ORG/' rcpthosts >rcpthosts.2 && mv rcpthosts.2 rcpthosts
golden "ifchanged-rcpthosts-same" 0 mapc --if-changed -s rcpthosts -o morercpthosts rcpthosts
ok_if "rcpthosts: morercpthosts.cdb untouched" test "$(fingerprint morercpthosts.cdb)" = "$before"
echo 'example.net' >>rcpthosts
golden "ifchanged-rcpthosts-changed" 2 mapc --if-changed -s rcpthosts -o morercpthosts rcpthosts

# --json: "changed" with and without --if-changed; -v says which
cp "$TOP/examples/access" access
json() { "$@" >j; rc=$?; sed 's/"elapsed":[0-9.]*/"elapsed":X/' j; return $rc; }
golden "ifchanged-json-written" 2 json mapc --if-changed --json -t hash access
golden "ifchanged-json-same" 0 json mapc --if-changed --json -t hash access
golden "ifchanged-verbose-same" 0 mapc --if-changed -v -t hash access
golden "ifchanged-without" 0 json mapc --json -t hash access
# a bad source is still an error, and the map in place stays
echo 'dup OK' >>access; echo 'dup REJECT' >>access
before=$(fingerprint access.db)
golden "ifchanged-bad-source" 65 mapc --if-changed -t hash access
ok_if "bad source: access.db untouched" test "$(fingerprint access.db)" = "$before"

# what --if-changed does not go with
golden "ifchanged-with-query" 64 mapc --if-changed -q a -t hash access
golden "ifchanged-with-check" 64 mapc --if-changed --check -t hash access
golden "ifchanged-with-migrate" 64 mapc --if-changed --migrate access.db lmdb
finish
