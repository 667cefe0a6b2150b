#!/bin/sh
# Hostile input to mapc and relaytest (issue 13, item 4/5): a NUL byte in a
# key is an error with file:line:col; a line over the limit (and /dev/zero,
# an input without line ends) is exit 65, not an out-of-memory death;
# --max-line changes the limit; relaytest refuses port 99999 and a bad
# --server-ip with exit 64; every exit status the tools can return is in
# their man pages.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/limits"

printf 'good.example OK\nbad\000key.example REJECT\nalso.example OK\n' > nul
golden "nul-key" 65 mapc -t cdb nul
ok_if "nul key: nothing written" test ! -e nul.cdb
printf 'tail.example OK\nkey\000 REJECT\n' > nul2
golden "nul-key-end" 65 mapc -t hash nul2
# -N adds the NUL readers expect; a NUL in the source is still refused
golden "nul-key-N" 65 mapc -t cdb -N nul

# Under a memory limit (not with AddressSanitizer, which needs a huge
# address space for itself).
limit='ulimit -v 400000 2>/dev/null;'
ldd "$BIN/mapc" 2>/dev/null | grep -q libasan && limit=
run sh -c "$limit head -c 50000000 /dev/zero | mapc -t cdb -o zero -"
ok_if "/dev/zero: exit 65, not out of memory (got $rc)" test "$rc" = 65
ok_if "/dev/zero: the message names the line and the limit" \
    grep -q '^<stdin>:1: line longer than 1048576 bytes, the limit for a line' "$T/err"
# relayconv stops reading a pipe at the first line over the limit, so an
# endless input costs it about a megabyte, not its 1 GiB file limit
run sh -c "$limit head -c 1500000000 /dev/zero | relayconv --from sendmail --to policy -"
ok_if "relayconv /dev/zero: exit 65 under a 400 MB limit (got $rc)" test "$rc" = 65
ok_if "relayconv /dev/zero: the message names the line and the limit" \
    grep -q '^<stdin>:1: line longer than 1048576 bytes, the limit for a line' "$T/err"
awk 'BEGIN { s = ""; for (i = 0; i < 2000; i++) s = s "x"; print "a 1"; print "long " s; print "b 2" }' > long
golden "max-line" 65 mapc -t cdb --max-line 1000 long
golden "max-line-ok" 0 sh -c 'mapc -t cdb --max-line 3000 long && mapc -t cdb -q b long'
golden "max-line-off" 0 sh -c 'mapc -t cdb --max-line 0 -o off long && mapc -t cdb -q a off'
golden "max-line-bad" 64 mapc -t cdb --max-line lots long

golden "relaytest-port-99999" 64 relaytest 127.0.0.1:99999
golden "relaytest-port-0" 64 relaytest '[::1]:0'
golden "relaytest-port-junk" 64 relaytest 'mail.example:25;x'
golden "relaytest-server-ip" 64 relaytest --server-ip 1.2.3.999 127.0.0.1:25
golden "relaytest-server-ip-name" 64 relaytest --pipe 'cat' --server-ip mail.example

# Every exit status a tool returns appears in its man page's EXIT STATUS.
code() { awk -v n="$1" '$1 == "#define" && $2 == n { print $3 }' /usr/include/sysexits.h; }
section() { awk '/^\.SH "?EXIT STATUS/ { p = 1; next } /^\.SH/ { p = 0 } p' "$1"; }
missing=
for name in $(grep -o 'EX_[A-Z]*' "$TOP/tools/tool.c" "$TOP/tools/mapc.c" | sed 's/.*://' | sort -u); do
    n=$(code "$name")
    section "$TOP/man/mapc.8" | grep -Eq "^(\\.B )?$n\$|^$n,| $n\$" || missing="$missing mapc:$name=$n"
done
for name in $(grep -o 'EX_[A-Z]*' "$TOP/tools/relaytest.c" "$TOP/tools/tool.c" | sed 's/.*://' | sort -u); do
    case $name in EX_DATAERR|EX_NOINPUT|EX_CANTCREAT|EX_IOERR|EX_SOFTWARE) continue ;; esac  # mapc's, via tool.c
    n=$(code "$name")
    section "$TOP/man/relaytest.8" | grep -Eq "^(\\.B )?$n\$" || missing="$missing relaytest:$name=$n"
done
ok_if "every exit status is documented:$missing" test -z "$missing"
finish
