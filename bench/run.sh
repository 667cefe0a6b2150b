#!/bin/sh
# bench/run.sh - mapc against the tools it replaces, on the same inputs, in
# one run (issue "Speed").  Invoked by `make bench` (and by `make bench-quick`
# with BENCH_SIZES=100000); O names the build directory holding mapc.
#
# For each size it generates a seeded access map (bench/gen.c), runs every
# variant of a row in turn, BENCH_RUNS times, alternating the order (A B, then
# B A, ...), and prints per row the median wall time, user+sys, peak
# RSS and output size of ours and of the anchor, and the ratio ours/anchor
# against the goal.  Then it checks that every output holds the same records
# as the anchor's (cmp for cdb, sorted dumps for the rest, identical query
# answers), so no speed is bought with a wrong map.
#
# Environment: BENCH_SIZES ("10000 100000 1000000"), BENCH_RUNS (5, or 3 for
# sizes of 1M and more), BENCH_QUERIES (100000 keys), BENCH_SEED, BENCH_DIR
# (scratch, default $O/bench; about 1 GB at 1M lines).  Exit status: 0 when
# every output matched its anchor, 1 otherwise (goals missed are reported, not
# fatal: the closing note says by how much).
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
: >"$W/relayconv.txt"
RELAYCONV_MAX=${BENCH_RELAYCONV_MAX:-1000000}
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

# relayconv at scale: convert the generated policy to FORMAT and verify the
# result, once per size (these runs are long); a refusal is a result here.
relayconv_rows() {
    for f in sendmail qmail; do
        src=$d/policy
        # tcp.smtp has no IPv6 keys: the qmail copy leaves out the ::1 rule
        [ "$f" = qmail ] && { grep -v '::' "$d/policy" >"$d/policy.v4"; src=$d/policy.v4; }
        rm -rf "$d/rc-$f"
        c=$("$MEASURE" -- "$BIN/relayconv" --from policy --to "$f" -o "$d/rc-$f" "$src" 2>"$d/rc-$f.err")
        if [ -e "$d/rc-$f" ]; then
            v=$("$MEASURE" -- "$BIN/relayconv" --verify "$src" "$d/rc-$f" 2>"$d/rcv-$f.err")
        else
            v="0 0 0 0 -"
        fi
        echo "$n $f $c $v" >>"$W/relayconv.txt"
        why=$(grep -v 'warning:' "$d/rc-$f.err" | head -1)
        [ -n "$why" ] && echo "bench: relayconv --to $f ($n lines): $why"
    done
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

echo "bench: $(uname -sm), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
     "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "bench: mapc $(cd "$top" && git rev-parse --short HEAD 2>/dev/null), sizes: $SIZES, seed $SEED," \
     "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$have_tcprules" = 1 ] || echo "bench: mapc -s tcprules: not available yet (row skipped)"
[ "$have_relayconv" = 1 ] || echo "bench: relayconv: not available yet (rows skipped)"

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
            vs=$(echo "$g" | tr , ' ')
            [ $((r % 2)) = 1 ] && vs=$(echo "$vs" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
            for v in $vs; do run_variant "$v"; done
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
    if [ "$have_relayconv" = 1 ] && [ "$n" -le "$RELAYCONV_MAX" ]; then
        "$GEN" policy "$n" "$SEED" >"$d/policy"
        relayconv_rows
    fi
done

# --- report -------------------------------------------------------------------
# Medians per size and variant, then one line per goal.
awk -v sizes_file="$W/sizes.txt" '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN { while ((getline l < sizes_file) > 0) { split(l, f, " "); size[f[1] " " f[2]] = f[3] } }
{ k = $1 " " $2; wall[k] = wall[k] " " $3; cpu[k] = cpu[k] " " ($4 + $5); rss[k] = rss[k] " " $6
  if (!($1 in seen)) { seen[$1] = 1; order[++ns] = $1 } }
function row(n, what, ours, anchor, label, goal,   ko, ka, wo, wa, ratio, verdict, cr, gl) {
    ko = n " " ours; ka = n " " anchor
    if (!(ko in wall) || !(ka in wall)) { printf "%-11s %-34s not available yet\n", what, label; return }
    wo = median(wall[ko]); wa = median(wall[ka]); ratio = wa > 0 ? wo / wa : 0
    verdict = goal == "" ? "" : (ratio <= goal + 1e-9 ? "met" : sprintf("MISSED by %.0f%%", (ratio / goal - 1) * 100))
    cr = median(cpu[ka]); cr = cr > 0 ? median(cpu[ko]) / cr : 0
    gl = goal == "" ? "-" : "<=" goal
    printf("%-11s %-34s %8.3f %8.3f %6.2f  %-6s %-16s %6.2f %7.1f %7.1f %8.1f %8.1f\n", what, label, wo, wa, ratio,
        gl, verdict, cr, median(rss[ko]) / 1024, median(rss[ka]) / 1024, size[ko] / 1048576, size[ka] / 1048576)
}
END {
    for (s = 1; s <= ns; s++) {
        n = order[s]
        printf "\nsize %s lines: median of the runs; ratio = ours/anchor wall time (goals are set at 1M lines)\n", n
        printf "%-11s %-34s %8s %8s %6s  %-6s %-16s %6s %7s %7s %8s %8s\n", "row", "anchor", "ours s", "anchor s",
            "ratio", "goal", "verdict", "cpu", "rssMiB", "rssMiB", "sizeMiB", "sizeMiB"
        printf "%-11s %-34s %8s %8s %6s  %-6s %-16s %6s %7s %7s %8s %8s\n", "", "", "", "", "", "", "", "ratio", "ours", "anchor", "ours", "anchor"
        row(n, "cdb", "cdb.ours", "cdb.tinycdb", "tinycdb cdb -c -m", "1.0")
        row(n, "cdb", "cdb.ours", "cdb.postmap", "postmap cdb:", "")
        row(n, "hash", "hash.ours", "hash.makemap-c", "makemap -c 268435456 hash", "1.0")
        row(n, "hash", "hash.ours", "hash.makemap", "makemap hash (defaults)", "0.25")
        row(n, "hash", "hash.ours", "hash.postmap", "postmap hash:", "0.4")
        row(n, "btree", "btree.ours", "btree.makemap-c", "makemap -c 268435456 btree", "0.8")
        row(n, "btree", "btree.ours", "btree.postmap", "postmap btree:", "")
        row(n, "dbm", "dbm.ours", "dbm.ndbm", "ndbm(3) loop, GDBM defaults", "0.35")
        row(n, "tcprules", "tcp.ours", "tcp.tcprules", "tcprules", "1.0")
        row(n, "query hash", "qhash.ours", "qhash.postmap", "postmap -q - hash: (100k keys)", "0.6")
        row(n, "query cdb", "qcdb.ours", "qcdb.postmap", "postmap -q - cdb: (100k keys)", "1.0")
        row(n, "lmdb", "lmdb.ours", "lmdb.postmap", "postmap lmdb:", "0.5")
        row(n, "query lmdb", "qlmdb.ours", "qlmdb.postmap", "postmap -q - lmdb: (100k keys)", "")
    }
    printf "\npeak RSS of ours by size (MiB; hash, btree and dbm should stay flat):\n%-8s", "size"
    split("cdb.ours cdb.tinycdb hash.ours btree.ours dbm.ours lmdb.ours", vs, " ")
    for (i = 1; i <= 6; i++) printf " %12s", vs[i]
    printf "\n"
    for (s = 1; s <= ns; s++) {
        printf "%-8s", order[s]
        for (i = 1; i <= 6; i++) { k = order[s] " " vs[i]; printf " %12.1f", (k in rss) ? median(rss[k]) / 1024 : 0 }
        printf "\n"
    }
}' "$RES" >"$W/report.txt"
cat "$W/report.txt"
if [ "$have_relayconv" = 1 ]; then
    echo
    echo "relayconv: convert the generated policy and --verify the result (one run; status 0 = done)"
    awk '{ printf "%-8s %-9s convert %8.2f s %7.1f MiB exit %-3s  verify %8.2f s %7.1f MiB exit %s\n",
               $1, $2, $3, $6 / 1024, $7, $8, $11 / 1024, $12
           if (($2 in last) && $7 == 0 && lastrc[$2] == 0 && last[$2] > 0)
               printf "%-8s %-9s time x%.1f for x%.0f rules (linear: x%.0f)\n", "", "", ($3 + $8) / last[$2], $1 / lastn[$2], $1 / lastn[$2]
           last[$2] = $3 + $8; lastn[$2] = $1; lastrc[$2] = $7 }' "$W/relayconv.txt"
else
    echo "relayconv    not available yet"
fi
# Many copies of one key (issue 13): no anchor, because tinycdb's own writer
# probes the occupied slots again for every copy (it did not finish in 11
# minutes); mapc fills the tables in one pass.
awk 'BEGIN { for (i = 0; i < 2000000; i++) print "same.example.org REJECT" }' >"$W/many"
rm -f "$W/many.cdb"
m_r=$("$MEASURE" -- "$MAPC" -t cdb -d -o "$W/many" "$W/many") || m_r="0 0 0 0 127"
echo
echo "$m_r" | awk '{ printf "cdb -d, 2,000,000 copies of one key: %.2f s wall, %.2f s cpu, %.1f MiB, exit %s (no anchor: tinycdb is quadratic here)\n", $1, $2 + $3, $4 / 1024, $5 }'
set -- $m_r
[ "$5" = 0 ] || fail=1
rm -f "$W/many" "$W/many.cdb"
echo
echo "bench: load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times; cpu = user+sys)"
if [ "$fail" = 0 ]; then echo "bench: every output holds the same records as its anchor's"; else echo "bench: some check FAILED (see above)"; fi
echo "bench: raw runs in $RES"
exit "$fail"
