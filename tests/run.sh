#!/bin/sh
# Run every tests/<dir>/t*.sh in order; each prints TAP lines.
# Prints "N passed, N failed" and fails if any test or script failed.
dir=$1
top=$(cd "$(dirname "$0")/.." && pwd)
export TOP="$top" O="${O:-build}"
pass=0 fail=0 bad_scripts=
for t in "$dir"/t*.sh; do
    [ -f "$t" ] || continue
    out=$(sh "$t" 2>&1); rc=$?
    printf '%s\n' "$out" | sed "s|^|$(basename "$t" .sh): |"
    p=$(printf '%s\n' "$out" | grep -c '^ok ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok ')
    pass=$((pass + p)); fail=$((fail + f))
    if [ $rc -ne 0 ] || [ $p -eq 0 ]; then bad_scripts="$bad_scripts $(basename "$t")"; fi
done
echo "$(basename "$dir"): $pass passed, $fail failed"
if [ -n "$bad_scripts" ]; then echo "scripts that failed or ran no test:$bad_scripts"; exit 1; fi
[ $fail -eq 0 ]
