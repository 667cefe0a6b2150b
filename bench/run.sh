#!/bin/sh
# bench/run.sh - mapc and relayconv against the tools they replace, on the
# same inputs, in one run (issue "Speed").  Invoked by `make bench` (and by
# `make bench-quick` with BENCH_SIZES=100000); O names the build directory
# holding mapc.
#
# For each size it generates a seeded access map (bench/gen.c), runs every
# variant of a row in turn, BENCH_RUNS times, alternating the order (A B, then
# B A, ...), and prints per row the median wall time, user+sys, peak RSS and
# output size of ours and of the anchor, the ratio ours/anchor against the
# goal, and how ours grew from the size ten times smaller.  The relayconv rows
# are ratios to `mapc -t hash` of the same access map.  Then it checks that
# every output holds the same records as the anchor's (cmp for cdb, sorted
# dumps for the rest, identical query answers, relayconv --verify), so no
# speed is bought with a wrong map.  The same figures go to $W/bench.json.
#
# Environment: BENCH_SIZES ("10000 100000 1000000"), BENCH_RUNS (5, or 3 for
# sizes of 1M and more), BENCH_QUERIES (100000 keys), BENCH_SEED, BENCH_DIR
# (scratch, default $O/bench; about 1.5 GB at 1M lines), BENCH_RELAYCONV_MAX
# (largest size with relayconv rows, 1000000), BENCH_RELAYCONV_RUNS (3, or 1
# at 1M and more), BENCH_RELAYCONV_TIMEOUT (seconds a relayconv run may take,
# 900), BENCH_COPIES (copies of one key in the cdb -d row, 2000000; 0 skips
# it), BENCH_BASELINE (bench/baseline.json, the run BENCH.md records; empty:
# no comparison).  Exit status: 0 when every output matched its anchor and
# no row's CPU-time ratio grew past twice the baseline's (bench/compare.sh), 1
# otherwise (goals missed are reported, not fatal: the closing note says by
# how much).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
BIN=$top/$O
SIZES=${BENCH_SIZES:-10000 100000 1000000}
QUERIES=${BENCH_QUERIES:-100000}
SEED=${BENCH_SEED:-20261122}
W=${BENCH_DIR:-$BIN/bench}
CACHE=268435456
export LC_ALL=C

TOP=$top ANCHOR_DIR=$W/anchors
. "$top/tests/interop/anchors.sh"
need_anchors makemap postmap postfix-cdb cdb db5.3_dump tcprules || {
    echo "bench: the anchors are missing; run 'sh mk/deps.sh test' (make bench does)" >&2; exit 1; }
. "$top/tests/interop/lmdb-anchors.sh"
need_lmdb_anchors || {
    echo "bench: postmap's lmdb: plug-in is missing; run 'sh mk/deps.sh test' (make bench does)" >&2; exit 1; }
# postmap run directly (no shell in between), as postmap_run would
POSTMAP="env LD_LIBRARY_PATH=$ANCHOR_LIBS $(anchor_path postmap) -c $ANCHOR_DIR/postfix"
MAPC=$BIN/mapc
[ -x "$MAPC" ] || { echo "bench: $MAPC not built; run make O=$O" >&2; exit 1; }

mkdir -p "$W/bin" || exit 1
CFL="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra"
${CC:-cc} $CFL -o "$W/bin/gen" "$top/bench/gen.c" &&
${CC:-cc} $CFL -o "$W/bin/measure" "$top/bench/measure.c" &&
${CC:-cc} $CFL -o "$W/bin/ndbm" "$top/bench/ndbm.c" -lgdbm_compat -lgdbm || {
    echo "bench: cannot build the helpers in bench/" >&2; exit 1; }
GEN=$W/bin/gen MEASURE=$W/bin/measure NDBM=$W/bin/ndbm

have_tcprules=0
"$MAPC" -l 2>/dev/null | grep -q '^tcprules ' && have_tcprules=1
have_relayconv=0
[ -x "$BIN/relayconv" ] && have_relayconv=1

RES=$W/results.txt
: >"$RES"
RELAYCONV_MAX=${BENCH_RELAYCONV_MAX:-1000000}
RELAYCONV_TIMEOUT=${BENCH_RELAYCONV_TIMEOUT:-900}
COPIES=${BENCH_COPIES:-2000000}
: >"$W/sizes.txt"
fail=0

# measure_one SIZE VARIANT -i IN -o OUT -- CMD...: one timed run, appended to
# the results as "SIZE VARIANT WALL USER SYS RSS STATUS".
measure_one() {
    m_n=$1 m_v=$2; shift 2
    m_r=$("$MEASURE" "$@") || m_r="0 0 0 0 127"
    set -- $m_r
    [ "$5" = 0 ] || { echo "bench: $m_v (size $m_n) exited $5" >&2; fail=1; }
    echo "$m_n $m_v $m_r" >>"$RES"
}

# relayconv_one SIZE VARIANT ARG...: a timed relayconv run; its messages go
# to $d/VARIANT.err (a 1M-line map gives a warning per risky rule), a run
# past BENCH_RELAYCONV_TIMEOUT is stopped (status 124).
relayconv_one() {
    r_n=$1 r_v=$2; shift 2
    measure_one "$r_n" "$r_v" -- timeout "$RELAYCONV_TIMEOUT" "$BIN/relayconv" "$@" 2>"$d/$r_v.err"
    tail -n 1 "$RES" | awk '$7 != 0 { exit 1 }' ||
        echo "bench: relayconv $* ($r_n lines): $(grep -v 'warning:' "$d/$r_v.err" | tail -n 1)" >&2
}

# The variants, by name: how to run each on the current size's files in $d.
run_variant() {
    case $1 in
    cdb.ours)       rm -f "$d/ours.cdb"; measure_one "$n" "$1" -- "$MAPC" -t cdb -o "$d/ours" "$d/access" ;;
    cdb.tinycdb)    rm -f "$d/tiny.cdb"; measure_one "$n" "$1" -- cdb -c -m "$d/tiny.cdb" "$d/access" ;;
    cdb.postmap)    rm -f "$d/pmc.cdb"; measure_one "$n" "$1" -- $POSTMAP cdb:"$d/pmc" ;;
    hash.ours)      rm -f "$d/ours.db"; measure_one "$n" "$1" -- "$MAPC" -t hash -o "$d/ours" "$d/access" ;;
    hash.makemap-c) rm -f "$d/mmc.db"; measure_one "$n" "$1" -i "$d/access" -- \
                        "$(anchor_path makemap)" -C "$ANCHOR_DIR/empty.cf" -c $CACHE hash "$d/mmc" ;;
    hash.makemap)   rm -f "$d/mm.db"; measure_one "$n" "$1" -i "$d/access" -- \
                        "$(anchor_path makemap)" -C "$ANCHOR_DIR/empty.cf" hash "$d/mm" ;;
    hash.postmap)   rm -f "$d/pmh.db"; measure_one "$n" "$1" -- $POSTMAP hash:"$d/pmh" ;;
    btree.ours)     rm -f "$d/oursb.db"; measure_one "$n" "$1" -- "$MAPC" -t btree -o "$d/oursb" "$d/access" ;;
    btree.makemap-c) rm -f "$d/mmbc.db"; measure_one "$n" "$1" -i "$d/access" -- \
                        "$(anchor_path makemap)" -C "$ANCHOR_DIR/empty.cf" -c $CACHE btree "$d/mmbc" ;;
    btree.postmap)  rm -f "$d/pmb.db"; measure_one "$n" "$1" -- $POSTMAP btree:"$d/pmb" ;;
    dbm.ours)       rm -f "$d/oursd.dir" "$d/oursd.pag"; measure_one "$n" "$1" -- "$MAPC" -t dbm -o "$d/oursd" "$d/access" ;;
    dbm.ndbm)       rm -f "$d/nd.dir" "$d/nd.pag"; measure_one "$n" "$1" -i "$d/access" -- "$NDBM" "$d/nd" ;;
    tcp.ours)       rm -f "$d/ourst.cdb"; measure_one "$n" "$1" -- "$MAPC" -t cdb -s tcprules -o "$d/ourst" "$d/tcp.smtp" ;;
    tcp.tcprules)   rm -f "$d/tr.cdb"; measure_one "$n" "$1" -i "$d/tcp.smtp" -- tcprules "$d/tr.cdb" "$d/tr.tmp" ;;
    qhash.ours)     measure_one "$n" "$1" -i "$d/keys" -o "$d/qh.ours" -- "$MAPC" -t hash -q - "$d/ours" ;;
    qhash.postmap)  measure_one "$n" "$1" -i "$d/keys" -o "$d/qh.postmap" -- $POSTMAP -q - hash:"$d/ours" ;;
    qcdb.ours)      measure_one "$n" "$1" -i "$d/keys" -o "$d/qc.ours" -- "$MAPC" -t cdb -q - "$d/ours" ;;
    qcdb.postmap)   measure_one "$n" "$1" -i "$d/keys" -o "$d/qc.postmap" -- $POSTMAP -q - cdb:"$d/ours" ;;
    lmdb.ours)      rm -f "$d/oursl.lmdb"; measure_one "$n" "$1" -- "$MAPC" -t lmdb -o "$d/oursl" "$d/access" ;;
    lmdb.postmap)   rm -f "$d/pml.lmdb"; measure_one "$n" "$1" -- $POSTMAP lmdb:"$d/pml" ;;
    qlmdb.ours)     measure_one "$n" "$1" -i "$d/keys" -o "$d/ql.ours" -- "$MAPC" -t lmdb -q - "$d/oursl" ;;
    qlmdb.postmap)  measure_one "$n" "$1" -i "$d/keys" -o "$d/ql.postmap" -- $POSTMAP -q - lmdb:"$d/oursl" ;;
    rc.hash)        rm -f "$d/rch.db"; measure_one "$n" "$1" -- "$MAPC" -t hash -o "$d/rch" "$d/access" ;;
    # relayconv on the same access map (its losses in qmail need both flags)
    # and on the neutral policy of as many lines
    rc.qmail)       rm -rf "$d/rcq"; relayconv_one "$n" "$1" --from sendmail --to qmail \
                        --lossy --allow-widening -o "$d/rcq" "$d/access" ;;
    rc.policy)      rm -f "$d/rcp.policy"; relayconv_one "$n" "$1" --from sendmail --to policy \
                        -o "$d/rcp.policy" "$d/access" ;;
    rc.verify-policy) relayconv_one "$n" "$1" --verify "$d/access" "$d/rcp.policy" ;;
    rc.sendmail)    rm -f "$d/rcs.access"; relayconv_one "$n" "$1" --from policy --to sendmail \
                        -o "$d/rcs.access" "$d/policy" ;;
    rc.verify-sendmail) relayconv_one "$n" "$1" --verify "$d/policy" "$d/rcs.access" ;;
    # one key many times against as many distinct keys, both with -d
    copies.ours)    rm -f "$W/copies.cdb"; measure_one "$n" "$1" -- "$MAPC" -t cdb -d -o "$W/copies" "$W/copies" ;;
    copies.distinct) rm -f "$W/distinct.cdb"; measure_one "$n" "$1" -- "$MAPC" -t cdb -d -o "$W/distinct" "$W/distinct" ;;
    esac
}

# Output size of a variant's map, in bytes.
out_size() {
    case $1 in
    cdb.ours) f=ours.cdb ;; cdb.tinycdb) f=tiny.cdb ;; cdb.postmap) f=pmc.cdb ;;
    hash.ours) f=ours.db ;; hash.makemap-c) f=mmc.db ;; hash.makemap) f=mm.db ;; hash.postmap) f=pmh.db ;;
    btree.ours) f=oursb.db ;; btree.makemap-c) f=mmbc.db ;; btree.postmap) f=pmb.db ;;
    dbm.ours) f="oursd.dir oursd.pag" ;; dbm.ndbm) f="nd.dir nd.pag" ;;
    tcp.ours) f=ourst.cdb ;; tcp.tcprules) f=tr.cdb ;;
    lmdb.ours) f=oursl.lmdb ;; lmdb.postmap) f=pml.lmdb ;;
    *) echo 0; return ;;
    esac
    (cd "$d" && cat $f 2>/dev/null | wc -c)
}

# Groups run in turn; the first variant of each is ours.
GROUPS="cdb.ours,cdb.tinycdb,cdb.postmap hash.ours,hash.makemap-c,hash.makemap,hash.postmap
btree.ours,btree.makemap-c,btree.postmap dbm.ours,dbm.ndbm lmdb.ours,lmdb.postmap"
[ "$have_tcprules" = 1 ] && GROUPS="$GROUPS tcp.ours,tcp.tcprules"
# queries come after the maps they read exist
QGROUPS="qhash.ours,qhash.postmap qcdb.ours,qcdb.postmap qlmdb.ours,qlmdb.postmap"

# check NAME CMD...: a correctness check of the outputs.
check() {
    name=$1; shift
    if "$@" >/dev/null 2>&1; then echo "  check ok: $name"; else echo "  check FAILED: $name"; fail=1; fi
}
dump_same() { # FILE1 FILE2: both non-empty and equal after sorting
    sort "$1" >"$1.s" && sort "$2" >"$2.s" && [ -s "$1.s" ] && cmp -s "$1.s" "$2.s"
}

MACHINE="$(uname -sm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
COMMIT=$(cd "$top" && git rev-parse --short HEAD 2>/dev/null)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $MACHINE"
echo "bench: mapc $COMMIT, sizes: $SIZES, seed $SEED, load average at start: $LOAD_START"
[ "$have_tcprules" = 1 ] || echo "bench: mapc -s tcprules: not available yet (row skipped)"
[ "$have_relayconv" = 1 ] || echo "bench: relayconv: not available yet (rows skipped)"
command -v timeout >/dev/null 2>&1 || { echo "bench: timeout(1) is missing (coreutils)" >&2; exit 1; }

# alternate LIST...: the variants in order on even runs ($r), reversed on odd
alternate() {
    if [ $((r % 2)) = 1 ]; then echo "$*" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'; else echo "$*"; fi
}

for n in $SIZES; do
    d=$W/n$n
    rm -rf "$d"; mkdir -p "$d" || exit 1
    "$GEN" access "$n" "$SEED" >"$d/access"
    ln "$d/access" "$d/pmc"; ln "$d/access" "$d/pmh"; ln "$d/access" "$d/pmb"; ln "$d/access" "$d/pml"
    "$GEN" keys "$n" "$QUERIES" "$SEED" >"$d/keys"
    [ "$have_tcprules" = 1 ] && "$GEN" tcprules "$n" "$SEED" >"$d/tcp.smtp"
    runs=${BENCH_RUNS:-5}
    [ -z "${BENCH_RUNS:-}" ] && [ "$n" -ge 1000000 ] && runs=3
    recs=$(grep -c '^[^#]' "$d/access")
    echo "bench: size $n lines ($recs records, $(wc -c <"$d/access") bytes), $runs runs each"
    r=0
    while [ $r -lt $runs ]; do
        # A B, then B A: whoever runs first in a group (cold caches, a
        # neighbour's load) does not always pay for it
        for g in $GROUPS $QGROUPS; do
            for v in $(alternate $(echo "$g" | tr , ' ')); do run_variant "$v"; done
        done
        r=$((r + 1))
    done
    for v in cdb.ours cdb.tinycdb cdb.postmap hash.ours hash.makemap-c hash.makemap hash.postmap \
             btree.ours btree.makemap-c btree.postmap dbm.ours dbm.ndbm tcp.ours tcp.tcprules \
             lmdb.ours lmdb.postmap; do
        echo "$n $v $(out_size "$v")" >>"$W/sizes.txt"
    done

    # Same records as the anchors, whatever the speed.
    check "cdb: ours = tinycdb cdb -c -m, byte for byte" cmp "$d/ours.cdb" "$d/tiny.cdb"
    check "cdb: ours = postmap cdb:, byte for byte" cmp "$d/ours.cdb" "$d/pmc.cdb"
    makemap_run -u hash "$d/ours" >"$d/u.ours" 2>/dev/null
    makemap_run -u hash "$d/mmc" >"$d/u.mmc" 2>/dev/null
    postmap_run -s hash:"$d/pmh" >"$d/u.pmh" 2>/dev/null
    check "hash: makemap -u of ours = of makemap's" dump_same "$d/u.ours" "$d/u.mmc"
    check "hash: ours = postmap's (postmap -s)" dump_same "$d/u.ours" "$d/u.pmh"
    makemap_run -u btree "$d/oursb" >"$d/u.oursb" 2>/dev/null
    makemap_run -u btree "$d/mmbc" >"$d/u.mmbc" 2>/dev/null
    check "btree: makemap -u of ours = of makemap's" dump_same "$d/u.oursb" "$d/u.mmbc"
    "$NDBM" -u "$d/oursd" >"$d/u.oursd" 2>/dev/null
    "$NDBM" -u "$d/nd" >"$d/u.nd" 2>/dev/null
    check "dbm: dbm_fetch of ours = of the ndbm loop's" dump_same "$d/u.oursd" "$d/u.nd"
    check "query hash: mapc -q - answers = postmap -q - answers" cmp "$d/qh.ours" "$d/qh.postmap"
    check "query cdb: mapc -q - answers = postmap -q - answers" cmp "$d/qc.ours" "$d/qc.postmap"
    postmap_run -s lmdb:"$d/oursl" >"$d/u.oursl" 2>/dev/null
    postmap_run -s lmdb:"$d/pml" >"$d/u.pml" 2>/dev/null
    check "lmdb: postmap -s of ours = of postmap's" dump_same "$d/u.oursl" "$d/u.pml"
    check "query lmdb: mapc -q - answers = postmap -q - answers" cmp "$d/ql.ours" "$d/ql.postmap"
    check "queries: 9 in 10 keys found" test "$(wc -l <"$d/qh.ours")" -ge $((QUERIES * 85 / 100))
    if [ "$have_tcprules" = 1 ]; then
        check "tcprules: ours = tcprules, byte for byte" cmp "$d/ourst.cdb" "$d/tr.cdb"
    fi
    rm -f "$d"/u.* "$d"/*.s

    # relayconv, fewer runs (they are long); mapc -t hash of the same map
    # runs in the same turns, first or last, for the ratio
    if [ "$have_relayconv" = 1 ] && [ "$n" -le "$RELAYCONV_MAX" ]; then
        "$GEN" policy "$n" "$SEED" >"$d/policy"
        rruns=${BENCH_RELAYCONV_RUNS:-3}
        [ -z "${BENCH_RELAYCONV_RUNS:-}" ] && [ "$n" -ge 1000000 ] && rruns=1
        echo "bench: size $n: relayconv, $rruns runs each (at most ${RELAYCONV_TIMEOUT} s a run)"
        r=0
        while [ $r -lt $rruns ]; do
            for v in $(alternate rc.hash rc.qmail rc.policy rc.sendmail); do
                run_variant "$v"
                # the verifications read what the conversions wrote
                case $v in rc.policy|rc.sendmail) run_variant rc.verify-${v#rc.} ;; esac
            done
            r=$((r + 1))
        done
        check "relayconv: --verify finds access map and policy result alike" \
            awk -v n="$n" '$1 == n && $2 == "rc.verify-policy" { seen = 1; if ($7 != 0) bad = 1 } END { exit !seen || bad }' "$RES"
        check "relayconv: --verify finds policy and sendmail result alike" \
            awk -v n="$n" '$1 == n && $2 == "rc.verify-sendmail" { seen = 1; if ($7 != 0) bad = 1 } END { exit !seen || bad }' "$RES"
        check "relayconv: the qmail files are written" test -s "$d/rcq/tcp.smtp"
        for f in "$d"/rc.*.err; do
            [ -s "$f" ] && echo "  $(basename "$f"): $(grep -c . "$f") lines of messages"
        done
    fi
done

# One key many times (mapc -d keeps every copy): the cdb tables must stay
# linear however long a key's run of slots.  tinycdb's own writer probes the
# occupied slots again for every copy (quadratic), so the anchor is mapc on
# as many distinct keys.
if [ "$COPIES" -gt 0 ]; then
    echo "bench: $COPIES copies of one key against $COPIES distinct keys (cdb -d), 3 runs each"
    awk -v n="$COPIES" 'BEGIN { for (i = 0; i < n; i++) print "same.example.org REJECT" }' >"$W/copies"
    awk -v n="$COPIES" 'BEGIN { for (i = 0; i < n; i++) printf "h%d.example.org REJECT\n", i }' >"$W/distinct"
    r=0 n=$COPIES
    while [ $r -lt 3 ]; do
        for v in $(alternate copies.ours copies.distinct); do run_variant "$v"; done
        r=$((r + 1))
    done
    echo "$COPIES copies.ours $(wc -c <"$W/copies.cdb")" >>"$W/sizes.txt"
    echo "$COPIES copies.distinct $(wc -c <"$W/distinct.cdb")" >>"$W/sizes.txt"
    check "cdb -d: all $COPIES copies are in the file" \
        test "$("$MAPC" -t cdb -u "$W/copies" 2>/dev/null | grep -c '^same.example.org')" = "$COPIES"
    rm -f "$W/copies" "$W/distinct" "$W/copies.cdb" "$W/distinct.cdb"
fi

# --- report -------------------------------------------------------------------
# One line per row and size (medians of the runs) in $W/rows.txt, tab-separated;
# the table and bench.json are both printed from it.
ROWS="cdb	cdb.ours	cdb.tinycdb	tinycdb cdb -c -m	0.9
cdb	cdb.ours	cdb.postmap	postmap cdb:	-
hash	hash.ours	hash.makemap-c	makemap -c 256M hash	0.8
hash	hash.ours	hash.makemap	makemap hash (defaults)	0.25
hash	hash.ours	hash.postmap	postmap hash:	0.4
btree	btree.ours	btree.makemap-c	makemap -c 256M btree	0.75
btree	btree.ours	btree.postmap	postmap btree:	-
dbm	dbm.ours	dbm.ndbm	ndbm(3) loop, GDBM defaults	0.35
tcprules	tcp.ours	tcp.tcprules	tcprules	0.9
lmdb	lmdb.ours	lmdb.postmap	postmap lmdb:	0.5
query hash	qhash.ours	qhash.postmap	postmap -q - hash: (100k keys)	0.5
query cdb	qcdb.ours	qcdb.postmap	postmap -q - cdb: (100k keys)	1.0
query lmdb	qlmdb.ours	qlmdb.postmap	postmap -q - lmdb: (100k keys)	-
rc access>qmail	rc.qmail	rc.hash	mapc -t hash, same map	3
rc access>policy	rc.policy	rc.hash	mapc -t hash, same map	3
rc verify access	rc.verify-policy	rc.hash	mapc -t hash, same map	3
rc policy>sendmail	rc.sendmail	rc.hash	mapc -t hash, access map	3
rc verify policy	rc.verify-sendmail	rc.hash	mapc -t hash, access map	3
cdb -d copies	copies.ours	copies.distinct	mapc, as many distinct keys	2"
printf '%s\n' "$ROWS" >"$W/rowdefs.txt"
awk -F'\t' -v sizes_file="$W/sizes.txt" -v res="$RES" -v rss_goal=300 '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
    while ((getline l < sizes_file) > 0) { split(l, f, " "); bytes[f[1] " " f[2]] = f[3] }
    while ((getline l < res) > 0) {
        split(l, f, " "); k = f[1] " " f[2]
        wall[k] = wall[k] " " f[3]; cpu[k] = cpu[k] " " (f[4] + f[5]); rss[k] = rss[k] " " f[6]; runs[k]++
        if (f[7] != 0 && (!(k in bad) || f[7] == 124)) bad[k] = f[7]
        if (!(f[1] in seen)) { seen[f[1]] = 1; order[++ns] = f[1] }
    }
}
{ nd++; what[nd] = $1; ours[nd] = $2; anchor[nd] = $3; label[nd] = $4; goal[nd] = $5 }
END {
    for (s = 1; s <= ns; s++) for (i = 1; i <= nd; i++) {
        n = order[s]; ko = n " " ours[i]; ka = n " " anchor[i]
        if (!(ko in wall) || !(ka in wall)) continue
        wo = median(wall[ko]); wa = median(wall[ka]); ratio = wa > 0 ? wo / wa : 0
        co = median(cpu[ko]); ca = median(cpu[ka]); ro = median(rss[ko]) / 1024; ra = median(rss[ka]) / 1024
        if (ko in bad) verdict = bad[ko] == 124 ? "TIMED OUT" : "FAILED, exit " bad[ko]
        else if (goal[i] == "-") verdict = ""
        else if (ratio <= goal[i] + 1e-9) verdict = "met"
        else verdict = sprintf("MISSED by %.0f%%", (ratio / goal[i] - 1) * 100)
        if (ours[i] ~ /^rc\./ && ro > rss_goal) verdict = verdict (verdict == "" ? "" : ", ") "RSS over " rss_goal " MiB"
        # growth of ours from the size ten times smaller, when it ran
        k10 = (n / 10) " " ours[i]; growth = (k10 in wall) && median(wall[k10]) > 0 ? sprintf("%.1f", wo / median(wall[k10])) : "-"
        k10 = (n / 10) " " anchor[i]; agrowth = (k10 in wall) && median(wall[k10]) > 0 ? sprintf("%.1f", wa / median(wall[k10])) : "-"
        printf "%s\t%s\t%s\t%s\t%.3f\t%.3f\t%.2f\t%s\t%.3f\t%.3f\t%.1f\t%.1f\t%d\t%d\t%d\t%s\t%s\t%s\n",
            n, what[i], label[i], goal[i], wo, wa, ratio, verdict, co, ca, ro, ra,
            bytes[ko] + 0, bytes[ka] + 0, runs[ko], growth, agrowth, (ko in bad) ? bad[ko] : 0
    }
}' "$W/rowdefs.txt" >"$W/rows.txt"

# The table: one block per size.
awk -F'\t' '
$1 != last {
    last = $1
    printf "\nsize %s lines (medians; ratio = ours/anchor wall time, lower is better; goals are set at 1M lines)\n", $1
    printf "%-18s %-30s %7s %8s %6s %6s %-20s %5s %14s %6s\n", "row", "anchor", "ours s", "anchor s", "ratio", "goal",
        "verdict", "cpu", "RSS MiB", "x10"
    printf "%-18s %-30s %7s %8s %6s %6s %-20s %5s %14s %6s\n", "", "", "", "", "", "", "", "ratio", "ours/anchor", "growth"
}
{ printf "%-18s %-30s %7.3f %8.3f %6.2f %6s %-20s %5.2f %14s %6s\n", $2, $3, $5, $6, $7, $4 == "-" ? "-" : "<=" $4,
      $8, ($10 > 0 ? $9 / $10 : 0), sprintf("%.1f/%.1f", $11, $12), $16 }' "$W/rows.txt" >"$W/report.txt"
awk -F'\t' '
$2 ~ /^(hash|btree|dbm)$/ && !(($1 " " $2) in done) { done[$1 " " $2] = 1; r[$1] = r[$1] sprintf(" %8.1f", $11); if (!($1 in s)) { s[$1] = 1; o[++n] = $1 } }
END {
    if (n < 2) exit
    printf "\npeak RSS of ours by size (MiB; should stay flat):\n%-8s %8s %8s %8s\n", "size", "hash", "btree", "dbm"
    for (i = 1; i <= n; i++) printf "%-8s%s\n", o[i], r[o[i]]
}' "$W/rows.txt" >>"$W/report.txt"
cat "$W/report.txt"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "bench: load average at the end: $LOAD_END (other work on the machine skews wall times; cpu = user+sys)"

# The same figures as JSON, for plotting and for CI to compare.
awk -F'\t' -v machine="$MACHINE" -v commit="$COMMIT" -v seed="$SEED" -v l0="$LOAD_START" -v l1="$LOAD_END" -v ok="$fail" '
function str(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function num(s) { return s == "-" || s == "" ? "null" : s + 0 }
BEGIN { printf "{\n  \"machine\": %s,\n  \"commit\": %s,\n  \"seed\": %s,\n  \"load_start\": %s,\n  \"load_end\": %s,\n  \"outputs_match\": %s,\n  \"rows\": [",
            str(machine), str(commit), seed, str(l0), str(l1), ok == 0 ? "true" : "false" }
{ printf "%s\n    {\"size\": %d, \"row\": %s, \"anchor\": %s, \"goal\": %s, \"ours_s\": %s, \"anchor_s\": %s, \"ratio\": %s, \"verdict\": %s, \"ours_cpu_s\": %s, \"anchor_cpu_s\": %s, \"ours_rss_mib\": %s, \"anchor_rss_mib\": %s, \"ours_bytes\": %d, \"anchor_bytes\": %d, \"runs\": %d, \"ours_growth_x10\": %s, \"anchor_growth_x10\": %s, \"status\": %d}",
      (NR > 1 ? "," : ""), $1, str($2), str($3), num($4), $5, $6, $7, str($8), $9, $10, $11, $12, $13, $14, $15, num($16), num($17), $18 }
END { printf "\n  ]\n}\n" }' "$W/rows.txt" >"$W/bench.json"
if [ "$fail" = 0 ]; then echo "bench: every output holds the same records as its anchor's"; else echo "bench: some check FAILED (see above)"; fi
echo "bench: raw runs in $RES, the figures as JSON in $W/bench.json"
BASELINE=${BENCH_BASELINE-$top/bench/baseline.json}
if [ -n "$BASELINE" ]; then
    echo
    sh "$top/bench/compare.sh" "$W/bench.json" "$BASELINE" || fail=1
fi
exit "$fail"
