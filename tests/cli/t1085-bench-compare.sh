#!/bin/sh
# bench/compare.sh: a bench run against bench/baseline.json, by CPU-time
# ratio; fails only on a row grown past the limit that used enough CPU.
. "$TOP/tests/cli/lib.sh"
C="$TOP/bench/compare.sh"
row() {  # SIZE ROW OURS_CPU ANCHOR_CPU
    printf '    {"size": %s, "row": "%s", "anchor": "tool x", "goal": 0.8, "ours_s": 1.0, "anchor_s": 1.0, "ratio": 1.00, "verdict": "met", "ours_cpu_s": %s, "anchor_cpu_s": %s, "ours_rss_mib": 1.0, "anchor_rss_mib": 1.0, "ours_bytes": 1, "anchor_bytes": 1, "runs": 3, "ours_growth_x10": null, "anchor_growth_x10": null, "status": 0},\n' "$@"
}
{ echo '{'; echo '  "rows": ['; row 1000 hash 0.50 1.00; row 1000 cdb 0.04 0.04; row 1000 rc 3.0 1.0; echo '  ]'; echo '}'; } > base.json
{ echo '{'; echo '  "rows": ['; row 1000 hash 0.90 1.00; row 1000 cdb 0.09 0.03; row 1000 rc 5.0 1.0; row 1000 lmdb 1.0 1.0; echo '  ]'; echo '}'; } > same.json
{ echo '{'; echo '  "rows": ['; row 1000 hash 1.10 1.00; row 1000 rc 3.0 1.0; echo '  ]'; echo '}'; } > worse.json

run sh "$C" same.json base.json
ok_if "rows within twice their baseline ratio pass" test $rc = 0
ok_if "a row's change is printed (hash 0.50 -> 0.90)" grep -q '^1000 hash | tool x .* 0.50  *0.90  *1.80x$' out
ok_if "a tiny row (under 0.1 s of CPU) grown 4x does not fail" sh -c "! grep -q REGRESSION '$T/out'"
ok_if "a row the baseline lacks is listed as new" grep -q '^1000 lmdb | tool x .* new$' out
run sh "$C" worse.json base.json
ok_if "a row grown past twice its ratio fails the bench" test $rc = 1
ok_if "and is named" grep -q '^1000 hash | tool x .*2.20x  REGRESSION$' out
run env BENCH_REGRESSION=3 sh "$C" worse.json base.json
ok_if "BENCH_REGRESSION sets the limit" test $rc = 0
run sh "$C" worse.json
ok_if "a missing argument is a usage error" test $rc = 64
run sh "$C" worse.json nothing.json
ok_if "an unreadable baseline is an error that names it" sh -c "test $rc = 66 && grep -q nothing.json '$T/err'"
ok_if "the committed baseline is a bench run with rows" \
    sh -c "test \$(grep -c '\"size\": ' '$TOP/bench/baseline.json') -gt 10"
finish
