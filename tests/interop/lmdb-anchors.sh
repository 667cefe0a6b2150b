# Postfix's lmdb: plug-in for the interop tests and the benchmark (POSIX sh,
# sourced after tests/interop/anchors.sh).
#
# postfix-lmdb.so comes from the postfix-lmdb .deb (mk/debs.txt), unpacked
# beside postmap; it links against liblmdb0, which the build dependency
# liblmdb-dev brings.  postmap loads it through the dynamicmaps.cf of the
# private configuration, so the lmdb line is added there.  mdb_dump is the
# LMDB reference dumper (lmdb-utils, mk/apt-test.txt).
#
#   need_lmdb_anchors       postmap with lmdb: and mdb_dump are there, or a
#                           failure naming the package (never a skip)
#   mdbdump_run ARGS...     mdb_dump ARGS...
#   lmdb_records FILE.lmdb  mdb_dump of the map as "KEYHEX VALUEHEX" lines,
#                           sorted; run on a copy, because mdb_dump leaves a
#                           FILE.lmdb-lock beside what it reads

need_lmdb_anchors() {
    _lm_missing=0
    need_anchors postmap postconf || _lm_missing=1
    if [ ! -f "$ANCHOR_ROOT/usr/lib/postfix/postfix-lmdb.so" ]; then
        _lm_pkg="postfix-lmdb (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)"
        if command -v _notok >/dev/null 2>&1; then
            _notok "peer tool postfix-lmdb.so is missing: install the Debian package $_lm_pkg"
        else
            echo "anchors: peer tool postfix-lmdb.so is missing: install the Debian package $_lm_pkg" >&2
        fi
        _lm_missing=1
    fi
    if ! command -v mdb_dump >/dev/null 2>&1; then
        if command -v _notok >/dev/null 2>&1; then
            _notok "peer tool mdb_dump is missing: install the Debian package lmdb-utils"
        else
            echo "anchors: peer tool mdb_dump is missing: install the Debian package lmdb-utils" >&2
        fi
        _lm_missing=1
    fi
    [ "$_lm_missing" = 0 ] || return 1
    anchor_setup || return 1
    grep -q '^lmdb ' "$ANCHOR_DIR/postfix/dynamicmaps.cf" ||
        echo 'lmdb postfix-lmdb.so dict_lmdb_open mkmap_lmdb_open' >>"$ANCHOR_DIR/postfix/dynamicmaps.cf"
}

mdbdump_run() { mdb_dump "$@"; }

lmdb_records() {
    _lm_tmp=$(mktemp -d "${TMPDIR:-/tmp}/lmdb-dump.XXXXXX") || return 1
    cp "$1" "$_lm_tmp/m.lmdb" &&
    mdb_dump -n "$_lm_tmp/m.lmdb" | awk '/^HEADER=END/ { on = 1; next } /^DATA=END/ { on = 0 }
        on { sub(/^ /, ""); if (k == "") k = $0 "."; else { print substr(k, 1, length(k) - 1), $0; k = "" } }' | LC_ALL=C sort
    _lm_rc=$?
    rm -rf "$_lm_tmp"
    return $_lm_rc
}
