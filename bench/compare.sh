#!/bin/sh
# bench/compare.sh NEW.json BASELINE.json - each row of a bench run against
# the same row (size, row, anchor) of the run BENCH.md records
# (bench/baseline.json).  Ratios of CPU time (user+sys), not times, are
# compared: the anchor runs in the same minute, so a slower machine cancels
# out, and neither a busy machine nor a slow disk (mapc syncs, most anchors
# do not) moves them much.  Prints one line a row; exits 1 when a row's ratio
# grew past BENCH_REGRESSION times the baseline's (2.0 by default) where ours
# used at least 0.1 s of CPU in both runs, so that start-up noise of tiny runs
# cannot fail it.  A row the baseline lacks
# is listed as new, never failed.
set -u
[ $# -eq 2 ] || { echo "usage: bench/compare.sh NEW.json BASELINE.json" >&2; exit 64; }
for f in "$1" "$2"; do [ -r "$f" ] || { echo "bench/compare.sh: cannot read $f" >&2; exit 66; }; done
awk -v limit="${BENCH_REGRESSION:-2.0}" -v base_file="$2" '
# The bench writes one row an object a line: pick its fields by name.
function field(line, name,   s) {
    if (match(line, "\"" name "\": (\"[^\"]*\"|[^,}]*)") == 0) return ""
    s = substr(line, RSTART + length(name) + 4, RLENGTH - length(name) - 4)
    gsub(/^"|"$/, "", s)
    return s
}
function cpu_ratio(line,   a) { a = field(line, "anchor_cpu_s") + 0; return a > 0 ? field(line, "ours_cpu_s") / a : 0 }
function key(line) { return field(line, "size") " " field(line, "row") " | " field(line, "anchor") }
BEGIN {
    while ((getline l < base_file) > 0)
        if (l ~ /"size":/) { k = key(l); bratio[k] = cpu_ratio(l); bours[k] = field(l, "ours_cpu_s") }
    printf "%-58s %8s %8s %7s\n", "row (size, row | anchor), CPU ratio", "baseline", "now", "change"
}
/"size":/ {
    k = key($0); r = cpu_ratio($0); o = field($0, "ours_cpu_s")
    if (!(k in bratio)) { printf "%-58s %8s %8.2f %7s\n", k, "-", r, "new"; next }
    change = bratio[k] > 0 ? r / bratio[k] : 0
    flag = ""
    if (change > limit + 0 && o + 0 >= 0.1 && bours[k] + 0 >= 0.1) { flag = "  REGRESSION"; bad++ }
    printf "%-58s %8.2f %8.2f %6.2fx%s\n", k, bratio[k], r, change, flag
}
END {
    if (bad) { printf "bench: %d row(s) use more than %sx the CPU against their anchor than in bench/baseline.json\n", bad, limit; exit 1 }
    print "bench: no row uses more than " limit "x the CPU against its anchor than in bench/baseline.json"
}' "$1"
