#!/bin/sh
# Every manual page in man/ is clean under groff's warnings (man --warnings)
# and mandoc -T lint (all levels, style included): any message fails.
. "$TOP/tests/cli/lib.sh"
need_tool man man-db || { finish; exit 1; }
need_tool groff groff-base || { finish; exit 1; }
need_tool mandoc mandoc || { finish; exit 1; }
for m in "$TOP"/man/*.[358]; do
    n=$(basename "$m")
    MANWIDTH=80 man --warnings -l "$m" >/dev/null 2>groff.out
    ok_if "man --warnings -l $n: no message" test ! -s groff.out
    sed 's/^/#   /' groff.out | head -10
    mandoc -T lint "$m" >mandoc.out 2>&1; lint=$?
    ok_if "mandoc -T lint $n: no message" sh -c "test $lint = 0 && test ! -s mandoc.out"
    sed 's/^/#   /' mandoc.out | head -10
done
finish
