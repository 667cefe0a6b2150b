#!/bin/sh
# The tools leak nothing: valgrind's memcheck on mapc, relayconv and relaytest,
# and error paths.  In the sanitizer build (O=build-san) LeakSanitizer does
# this job on every test instead, and valgrind cannot run ASan binaries.
. "$TOP/tests/cli/lib.sh"
cp "$TOP/examples/access" access
printf 'a 1\nA 2\n b\n' > bad
if nm "$BIN/mapc" 2>/dev/null | grep -q __asan_init; then
    run sh -c "mapc -t cdb access && mapc -t hash bad"
    ok_if "sanitizer build: LeakSanitizer reported nothing" sh -c "! grep -q LeakSanitizer '$T/err'"
    finish; exit $?
fi
need_tool valgrind valgrind || { finish; exit 1; }
vg() { valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$@"; }
for t in hash btree dbm gdbm cdb; do
    run vg "$BIN/mapc" -t $t access
    ok_if "no leak or memory error: compile $t" test "$rc" = 0
    run vg "$BIN/mapc" -t $t -q spammail.com access
    ok_if "no leak or memory error: query $t" test "$rc" = 0
    run vg "$BIN/mapc" -t $t -u access
    ok_if "no leak or memory error: dump $t" test "$rc" = 0
done
run vg "$BIN/mapc" -t hash bad
ok_if "no leak on the error path (exit 65, not 99)" test "$rc" = 65
run vg "$BIN/mapc" -t cdb --check access
ok_if "no leak in --check" test "$rc" = 0
run sh -c "printf 'a\nspammail.com\n' | valgrind -q --leak-check=full --error-exitcode=99 '$BIN/mapc' -q - access.cdb"
ok_if "no leak in batch queries" test "$rc" = 0

# the other tools
cp "$TOP/tests/data/relayconv/seed-policy.txt" policy.txt
for to in sendmail policy; do
    run vg "$BIN/relayconv" --to $to policy.txt
    ok_if "no leak or memory error: relayconv --to $to" test "$rc" = 0
done
run vg "$BIN/relayconv" --to qmail -o qdir policy.txt
ok_if "no leak on a refused conversion (exit 65, not 99)" test "$rc" = 65
run vg "$BIN/relayconv" --decide --client 172.16.5.9 --to x@example.org policy.txt
ok_if "no leak or memory error: relayconv --decide" test "$rc" != 99
run vg "$BIN/relaytest" --list
ok_if "no leak or memory error: relaytest --list" test "$rc" = 0
run vg "$BIN/relaytest" --timeout 2 127.0.0.1:1
ok_if "no leak when the server cannot be reached (exit 69, not 99)" test "$rc" = 69
finish
