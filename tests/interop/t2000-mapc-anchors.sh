#!/bin/sh
# t2000-mapc-anchors: the peer tools run from their unpacked packages, and the
# facts the other interop tests rely on still hold (reference/makemap-postmap.md).
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/interop/anchors.sh"

need_anchors || { finish; exit 1; }

printf 'Connect:127.0.0.1\tRELAY\nFrom:X@Y\tOK\n' >a2

offers() { # TOOL-OUTPUT-FILE TYPE...: every TYPE is listed
    f=$1; shift
    for ty in "$@"; do grep -qx "$ty" "$f" || { echo "$ty missing from:"; cat "$f"; return 1; }; done
}
makemap_run -l >types.makemap
ok_if "makemap -l offers hash and btree" offers types.makemap hash btree
postconf_run -m >types.postfix
ok_if "postconf -m offers hash, btree and cdb" offers types.postfix hash btree cdb
makemap_run hash a2 <a2
ok_if "makemap hash writes a Berkeley DB hash" test "$(bdb_type a2.db)" = hash
# Keys folded, no NUL: the bytes of reference §4.1.
printf '%s\n' "636f6e6e6563743a3132372e302e302e31 52454c4159" "66726f6d3a784079 4f4b" >a2.want
bdb_records a2.db >a2.got
same_records "makemap hash: folded keys, no NUL (db5.3_dump)" a2.want a2.got
postmap_run hash:a2 && bdb_records a2.db >a2.got
printf '%s\n' "636f6e6e6563743a3132372e302e302e3100 52454c415900" "66726f6d3a78407900 4f4b00" >a2.want
same_records "postmap hash: folded keys, with NUL (db5.3_dump)" a2.want a2.got
postmap_run cdb:a2 && cdb_run -d a2.cdb >a2.got
printf '+17,5:connect:127.0.0.1->RELAY\n+8,2:from:x@y->OK\n\n' >a2.want
same_records "postmap cdb: input order, no NUL (cdb -d)" a2.want a2.got
cdb_run -d a2.cdb | cdb_run -c a2rt.cdb
same_file "cdb -d | cdb -c reproduces postmap's cdb" a2.cdb a2rt.cdb
# makemap's 1022-byte line limit is why the long-line checks run against
# postmap, db5.3_dump and cdb only.
awk 'BEGIN { s = "k1 "; for (i = 0; i < 1100; i++) s = s "v"; print s }' >long
makemap_run hash long <long 2>long.err
ok_if "makemap rejects a line over 1022 bytes (exit 65)" test $? = 65
ok_if "makemap says: line too long" grep -q "line too long" long.err
finish
