#!/bin/sh
# The tools leak nothing: valgrind's memcheck on compile, query, dump, check
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
finish
