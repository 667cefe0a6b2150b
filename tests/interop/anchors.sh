# Peer tools ("anchors") for interop tests and the benchmark (POSIX sh, sourced).
#
# Sendmail's makemap and Postfix's postmap are not installed: `sh mk/deps.sh test`
# unpacks their .debs (mk/debs.txt) under build/debs/root.  Run from there they
# need a private configuration:
#   makemap  reads the sendmail .cf for TrustedUser when run as root; -C names
#            an empty one.
#   postmap  needs LD_LIBRARY_PATH for its own shared libraries and -c DIR with
#            a main.cf naming accounts that exist; cdb: also needs
#            shlib_directory and a dynamicmaps.cf loading postfix-cdb.so.
# tinycdb's cdb, db5.3_dump and tcprules are installed packages (mk/apt-test.txt).
#
#   need_anchors [TOOL...]  check that the tools exist (default: all of them);
#                           each missing one is a failure naming its package
#   makemap_run ARGS...     makemap -C <empty cf> ARGS...
#   postmap_run ARGS...     postmap -c <private config> ARGS...
#   postconf_run ARGS...    postconf -c <private config> ARGS...
#   cdb_run, dbdump_run, tcprules_run, tcprulescheck_run ARGS...
#   anchor_path TOOL        absolute path of a tool's binary
#
# Inside a test script (tests/cli/lib.sh sourced first) a missing tool is a
# "not ok" line through need_tool; elsewhere (bench/run.sh) it is a message on
# stderr.  Either way the function returns non-zero; nothing is skipped quietly.
# Set ANCHOR_DIR for the scratch configuration (default: $T/anchors).

: "${TOP:?set TOP to the top of the source tree}"
ANCHOR_ROOT=${ANCHOR_ROOT:-$TOP/build/debs/root}
ANCHOR_DIR=${ANCHOR_DIR:-${T:?set T or ANCHOR_DIR}/anchors}
export ANCHOR_ROOT ANCHOR_DIR

anchor_path() {
    case $1 in
    makemap)        echo "$ANCHOR_ROOT/usr/sbin/makemap" ;;
    postmap)        echo "$ANCHOR_ROOT/usr/sbin/postmap" ;;
    postconf)       echo "$ANCHOR_ROOT/usr/sbin/postconf" ;;
    postfix-cdb)    echo "$ANCHOR_ROOT/usr/lib/postfix/postfix-cdb.so" ;;
    cdb)            command -v cdb || echo /usr/bin/cdb ;;
    db5.3_dump)     command -v db5.3_dump || echo /usr/bin/db5.3_dump ;;
    tcprules)       command -v tcprules || echo /usr/bin/tcprules ;;
    tcprulescheck)  command -v tcprulescheck || echo /usr/bin/tcprulescheck ;;
    *)              return 1 ;;
    esac
}

anchor_package() {
    case $1 in
    makemap)                echo "sendmail-bin (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)" ;;
    postmap|postconf)       echo "postfix (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)" ;;
    postfix-cdb)            echo "postfix-cdb (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)" ;;
    cdb)                    echo tinycdb ;;
    db5.3_dump)             echo db5.3-util ;;
    tcprules|tcprulescheck) echo ucspi-tcp ;;
    esac
}

# Report one missing tool: a failed test inside a TAP script, a message otherwise.
anchor_missing() {
    if command -v _notok >/dev/null 2>&1; then
        _notok "peer tool $1 is missing: install the Debian package $(anchor_package "$1")"
    else
        echo "anchors: peer tool $1 is missing: install the Debian package $(anchor_package "$1")" >&2
    fi
    return 1
}

anchor_have() {
    _an_p=$(anchor_path "$1") || return 1
    [ -x "$_an_p" ] || [ -f "$_an_p" ]
}

need_anchors() {
    set -- ${*:-makemap postmap postconf postfix-cdb cdb db5.3_dump tcprules tcprulescheck}
    _an_missing=0
    for _an_t in "$@"; do
        anchor_have "$_an_t" || { anchor_missing "$_an_t"; _an_missing=1; }
    done
    [ "$_an_missing" = 0 ] && anchor_setup
}

# The private configuration, made once per scratch directory.
anchor_setup() {
    ANCHOR_LIBS=$ANCHOR_ROOT/usr/lib/postfix
    for _an_d in "$ANCHOR_ROOT"/usr/lib/*-linux-gnu* "$ANCHOR_ROOT"/lib/*-linux-gnu*; do
        [ -d "$_an_d" ] && ANCHOR_LIBS="$ANCHOR_LIBS:$_an_d"
    done
    [ -f "$ANCHOR_DIR/postfix/main.cf" ] && return 0
    mkdir -p "$ANCHOR_DIR/postfix" || return 1
    : >"$ANCHOR_DIR/empty.cf"
    # The accounts must exist: Debian has daemon and mail, not postfix.
    cat >"$ANCHOR_DIR/postfix/main.cf" <<EOF
mail_owner = daemon
setgid_group = mail
compatibility_level = 3.6
shlib_directory = $ANCHOR_ROOT/usr/lib/postfix
meta_directory = $ANCHOR_DIR/postfix
EOF
    echo 'cdb postfix-cdb.so dict_cdb_open mkmap_cdb_open' >"$ANCHOR_DIR/postfix/dynamicmaps.cf"
}

makemap_run() {
    anchor_have makemap || { anchor_missing makemap; return 127; }
    anchor_setup && "$ANCHOR_ROOT/usr/sbin/makemap" -C "$ANCHOR_DIR/empty.cf" "$@"
}

postmap_run() {
    anchor_have postmap || { anchor_missing postmap; return 127; }
    anchor_setup && LD_LIBRARY_PATH="$ANCHOR_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$ANCHOR_ROOT/usr/sbin/postmap" -c "$ANCHOR_DIR/postfix" "$@"
}

postconf_run() {
    anchor_have postconf || { anchor_missing postconf; return 127; }
    anchor_setup && LD_LIBRARY_PATH="$ANCHOR_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$ANCHOR_ROOT/usr/sbin/postconf" -c "$ANCHOR_DIR/postfix" "$@"
}

cdb_run()           { anchor_have cdb || { anchor_missing cdb; return 127; }; cdb "$@"; }
dbdump_run()        { anchor_have db5.3_dump || { anchor_missing db5.3_dump; return 127; }; db5.3_dump "$@"; }
tcprules_run()      { anchor_have tcprules || { anchor_missing tcprules; return 127; }; tcprules "$@"; }
tcprulescheck_run() { anchor_have tcprulescheck || { anchor_missing tcprulescheck; return 127; }; tcprulescheck "$@"; }

# --- records: every map dump in one comparable form --------------------------
# One record per line, "KEYHEX VALUEHEX" (lower-case hex of the exact bytes), so
# NUL terminators, tabs and 8-bit bytes all compare exactly.
#
#   bdb_records FILE.db      db5.3_dump (hex) of a hash or btree file, sorted
#   bdb_print_records FILE   db5.3_dump -p (printable) data lines as pairs, sorted
#   bdb_type FILE.db         "hash" or "btree", from the dump header
#   cdb_records FILE.cdb     cdb -d, in file order (not sorted)
#   text_records [-N]        stdin "key<TAB>value" lines (a dump, or an expected
#                            list) as hex records, sorted; -N appends a NUL to both
#   text_hex [-N]            the same, in input order
#   hex_dbload               hex records on stdin as db5.3_load -T input
#   text_cdbmake             stdin "key<TAB>value" lines as cdb -c input

# awk program text shared by the converters: hex(s) of a byte string.
_an_awk_hex='
BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
function hex(s,   i, r) { r = ""; for (i = 1; i <= length(s); i++) r = r sprintf("%02x", ord[substr(s, i, 1)]); return r }
'

bdb_records() {
    dbdump_run "$1" | awk '/^HEADER=END/ { on = 1; next } /^DATA=END/ { on = 0 }
        on { sub(/^ /, ""); if (k == "") k = $0 "."; else { print substr(k, 1, length(k) - 1), $0; k = "" } }' | LC_ALL=C sort
}

bdb_print_records() {
    dbdump_run -p "$1" | awk '/^HEADER=END/ { on = 1; next } /^DATA=END/ { on = 0 }
        on { if (k == "") k = $0 "."; else { print substr(k, 1, length(k) - 1) "\t" $0; k = "" } }' | LC_ALL=C sort
}

bdb_type() {
    dbdump_run "$1" | sed -n 's/^type=//p'
}

cdb_records() {
    cdb_run -d "$1" | awk "$_an_awk_hex"'
        /^\+[0-9]+,[0-9]+:/ { c = index($0, ":"); split(substr($0, 2, c - 2), n, ",")
            print hex(substr($0, c + 1, n[1])), hex(substr($0, c + 1 + n[1] + 2, n[2])) }'
}

text_hex() {
    awk -v nul="${1:+00}" "$_an_awk_hex"'
        { t = index($0, "\t"); if (t == 0) t = length($0) + 1
          print hex(substr($0, 1, t - 1)) nul, hex(substr($0, t + 1)) nul }'
}

text_records() {
    text_hex "$@" | LC_ALL=C sort
}

hex_dbload() {
    awk '{ k = $1; v = $2; gsub(/../, "\\\\&", k); gsub(/../, "\\\\&", v); print k; print v }'
}

text_cdbmake() {
    awk '{ t = index($0, "\t"); k = substr($0, 1, t - 1); v = substr($0, t + 1)
           printf "+%d,%d:%s->%s\n", length(k), length(v), k, v } END { print "" }'
}

# same_records NAME WANT GOT: one test (TAP scripts only): the two lists are
# identical; a difference is shown as a diff.
same_records() {
    if [ -s "$2" ] && cmp -s "$2" "$3"; then
        _ok "$1"
    else
        _notok "$1"
        [ -s "$2" ] || echo "#   $2 is empty or missing"
        diff -u "$2" "$3" | cut -c1-160 | sed 's/^/#   /' | head -20
    fi
}
