#!/bin/sh
# relayconv keeps the converted text in an unlinked temporary file in
# $TMPDIR until the proof passes.  When that file cannot grow (a file size
# limit here, as a full /tmp would), the run fails with a message naming
# it, the old output stays byte for byte, and nothing is left in $TMPDIR or
# beside the output.  With room, the same run writes the output.
. "$TOP/tests/cli/lib.sh"
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "from domain h%d.example.org reject\n", i
             for (i = 0; i < 2000; i++) printf "connect net 10.%d.%d.0/24 relay\n", i / 256, i % 256 }' > big.txt
mkdir tmp q
echo "old access" > out.txt
echo "old tcp.smtp" > q/tcp.smtp
cp out.txt out.keep; cp q/tcp.smtp tcp.keep

limited() {  # run relayconv with files limited to 40 blocks (20 KiB)
    (trap '' XFSZ; ulimit -f 40; TMPDIR="$T/tmp" relayconv "$@") >run.out 2>run.err
}

limited --from policy --to sendmail -o out.txt big.txt; rc=$?
ok_if "a temporary file that cannot grow fails the run (exit 74)" test $rc -eq 74
ok_if "... with a message naming the temporary file" grep -q 'temporary file' run.err
same_file "... and the old output is kept" out.txt out.keep
ok_if "... and nothing is left in TMPDIR or beside the output" \
    sh -c "test -z \"\$(ls -A '$T/tmp')\" && test -z \"\$(ls -A '$T' | grep '^\\.')\""

limited --from policy --to qmail --lossy --allow-widening -o q big.txt; rc=$?
ok_if "qmail's set: the run fails (exit 74)" test $rc -eq 74
same_file "qmail's set: the old tcp.smtp is kept" q/tcp.smtp tcp.keep
ok_if "qmail's set: no other file appears" test "$(ls -A q)" = tcp.smtp

TMPDIR="$T/tmp" relayconv --from policy --to sendmail -o out.txt big.txt 2>/dev/null; rc=$?
ok_if "with room, the same run writes the output" \
    sh -c "test $rc -eq 0 && grep -q '^From:h4999.example.org' out.txt"
finish
