#!/bin/sh
# mkcorpus.sh DIR [SEED] - the damaged-map corpus, made at test time from good
# maps of every type (t1034).  Needs mapc in PATH and $DAMAGE (the helper
# built from tests/damage/damage.c).  The same seed gives the same damage.
#
# DIR/manifest has one line per damaged map: NAME TYPE FILE MUST
#   NAME  the map name given to mapc (FILE without its suffix)
#   TYPE  the -t type mapc is told
#   MUST  the operations that must fail (u = -u, q = -q, a = -a; "-" = none:
#         damage no reader can see, such as a flipped bit in a value, may
#         read as a good map; it must still never crash or hang)
# Every damaged map that fails must fail with exit 65 or 74 and a message
# naming the file; t1034 checks this for every operation on every map.
set -e
dir=$1 seed=${2:-1034}
: "${DAMAGE:?set DAMAGE to the damage helper}"
mkdir -p "$dir"
cd "$dir"
awk -v seed="$seed" 'BEGIN { x = seed
    for (i = 0; i < 400; i++) {
        x = (x * 16807) % 2147483647
        printf "host%d.example.org REJECT number %d %d\n", i, i, x % 1000 } }' > src
for t in cdb hash btree dbm gdbm lmdb; do mapc -t $t -o good-$t src; done
: > manifest
n=0
# mk TYPE SUFFIX MUST OP... : one damaged copy of good-TYPE
mk() {
    t=$1 s=$2 must=$3; shift 3
    n=$((n + 1))
    name=$t-$n
    [ "$t" = dbm ] && cp good-dbm.dir "$name.dir"
    "$DAMAGE" $((seed + n)) "good-$t$s" "$name$s" "$@"
    echo "$name $t $name$s $must" >> manifest
}
for t in cdb hash btree dbm gdbm lmdb; do
    case $t in cdb) s=.cdb;; hash|btree) s=.db;; dbm) s=.pag;; gdbm) s=.gdbm;; lmdb) s=.lmdb;; esac
    mk $t $s uqa zero
    mk $t $s uqa trunc:1
    mk $t $s uqa trunc:100
    mk $t $s uqa trunc:half
    mk $t $s uqa random:0
    mk $t $s - flip:0:0:1
    mk $t $s - flip:0:0:8
    mk $t $s - flip:0:512:2
    mk $t $s - flip:4096:0:30
done
# cdb: every cut and every bad position is seen by each operation that
# reaches it; the header is checked by all.
mk cdb .cdb uqa trunc:2047
mk cdb .cdb uqa trunc:2048
mk cdb .cdb uqa trunc:-1
mk cdb .cdb uqa trunc:-8
mk cdb .cdb uqa random:2048
mk cdb .cdb uqa append:100
mk cdb .cdb uqa set32:2040:0xfffffff0
mk cdb .cdb uqa set32:2044:0x01000000
mk cdb .cdb ua set32:2048:0x7fffffff
mk cdb .cdb ua set32:2052:3
mk cdb .cdb ua "flip:-2048:0:1"
mk cdb .cdb ua "flip:-2048:0:3"
dend=$(od -An -tu4 -N4 good-cdb.cdb | tr -d ' ')
mk cdb .cdb ua "flip:$dend:0:1"
mk cdb .cdb ua "flip:$dend:0:5"
mk cdb .cdb ua "flip:2048:2056:1"
mk cdb .cdb ua "flip:2056:2064:1"
# Berkeley DB, LMDB, GDBM: random bodies after the first page, cut files
mk hash .db uqa random:4096
mk hash .db uqa trunc:-4096
mk btree .db uqa random:16384
mk btree .db uqa trunc:-16384
mk lmdb .lmdb uqa random:8192
mk lmdb .lmdb uqa trunc:-4096
mk gdbm .gdbm uqa random:1024
mk gdbm .gdbm uqa append:100
mk dbm .pag uqa random:1024
# a btree whose random pages make libdb loop for ever when listing it (found
# by search: this body, whatever the records before it)
"$DAMAGE" 3 good-btree.db btree-loop.db random:16384
echo "btree-loop btree btree-loop.db uqa" >> manifest
# the wrong type: a good map of one type read as another
wrong() {
    n=$((n + 1)); name=$2-$n
    cp "good-$1$3" "$name$4"
    echo "$name $2 $name$4 uqa" >> manifest
}
wrong cdb hash .cdb .db
wrong cdb lmdb .cdb .lmdb
wrong cdb gdbm .cdb .gdbm
wrong hash btree .db .db
wrong btree hash .db .db
wrong hash cdb .db .cdb
wrong gdbm lmdb .gdbm .lmdb
wrong lmdb gdbm .lmdb .gdbm
wrong lmdb cdb .lmdb .cdb
wrong gdbm hash .gdbm .db
