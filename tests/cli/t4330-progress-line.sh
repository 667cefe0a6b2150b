#!/bin/sh
# The progress line: on a terminal, once a run has taken more than a second,
# relayconv and mapc show lines read, records written and classes verified
# on standard error, and clear it at the end; never in a pipe, with -q /
# --quiet or with --json.  The input comes through a FIFO whose writer
# pauses, so the run is slow enough on any machine.
. "$TOP/tests/cli/lib.sh"
TTY="python3 $TOP/tests/cli/ttyrun.py"

# slow_feed FIFO FILE: write FILE's first half, wait, then the rest
slow_feed() {
    mkfifo "$1" || exit 1
    { head -n 40000 "$2"; sleep 1.5; tail -n +40001 "$2"; } >"$1" &
}
awk 'BEGIN { print "accept domain example.org";
    for (i = 0; i < 80000; i++)
        printf "connect net 10.%d.%d.%d/32 %s\n", int(i / 65536), int(i / 256) % 256, i % 256,
               i % 3 ? "relay" : "reject" }' >policy.txt
awk 'BEGIN { for (i = 0; i < 80000; i++) printf "host%d.example.com OK\n", i }' >access

slow_feed in1 policy.txt
run $TTY relayconv --lint -F policy in1
ok_if "relayconv on a terminal shows lines read" grep -q 'relayconv: reading: [0-9]* lines read' "$T/out"
# cleared: the last thing on the line before the end is blanks and a carriage return
ok_if "the line is cleared at the end" sh -c "tail -c 3 '$T/out' | od -c | grep -q '\\\\r'"
ok_if "relayconv --lint still succeeds" test "$rc" = 0

slow_feed in2 policy.txt
run $TTY relayconv -q --lint -F policy in2
ok_if "-q silences it" sh -c "! grep -q 'lines read' '$T/out'"

slow_feed in3 policy.txt
run $TTY sh -c 'relayconv --lint -F policy in3 2>err.pipe'
ok_if "never when standard error is not a terminal" sh -c "! grep -q 'lines read' err.pipe '$T/out'"

slow_feed in4 policy.txt
run $TTY relayconv --json --verify -F policy in4 policy.txt
ok_if "never with --json" sh -c "! grep -q 'lines read' '$T/out'"
ok_if "--json output intact" grep -q '"classes":' "$T/out"

slow_feed in5 access
run $TTY mapc -t cdb -o out in5
ok_if "mapc on a terminal shows lines read and records written" \
    grep -q 'mapc: [0-9]* lines read, [0-9]* records written' "$T/out"
ok_if "mapc wrote the map" test -s out.cdb

slow_feed in6 access
run $TTY mapc --quiet -t cdb -o out6 in6
ok_if "mapc --quiet silences it" sh -c "! grep -q 'lines read' '$T/out'"
finish
