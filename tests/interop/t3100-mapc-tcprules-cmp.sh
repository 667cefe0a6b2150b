#!/bin/sh
# t3100: mapc -s tcprules writes byte for byte the cdb that Debian's tcprules
# writes (hand-written corpus, the reference sample, seeded generated rule
# files with -d), and mapc -s tcprules6 the one that the IPv6 build writes;
# mapc -u dumps a tcprules cdb as text that compiles to the same bytes.
. "$TOP/tests/cli/lib.sh"
DATA=$TOP/tests/data/tcprules
GEN=$TOP/tests/interop/tcprules-gen.awk
R6=$TOP/build/debs/root/usr/bin

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
have4=1 have6=1
need_tool tcprules ucspi-tcp || have4=
need_tool "$R6/tcprules" "ucspi-tcp-ipv6 (unpacked by sh mk/deps.sh test, listed in mk/debs.txt)" || have6=

# compare SYNTAX TCPRULES NAME SOURCE [mapc flags]: both compile SOURCE.
compare() {
    syn=$1 tr=$2 name=$3 src=$4; shift 4
    rm -f ref.cdb ref.tmp ours.cdb
    timeout 20 "$tr" ref.cdb ref.tmp <"$src" || { _notok "$name: $tr refused $src"; return; }
    run mapc -s "$syn" "$@" -o ours "$src"
    if [ "$rc" != 0 ]; then _notok "$name: mapc exit $rc"; sed 's/^/#   /' "$T/err" | head -5; return; fi
    same_file "$name: same bytes as $tr" ref.cdb ours.cdb
    # dump the real tool's cdb and compile the text again
    run mapc -s "$syn" -u ref.cdb
    cp "$T/out" dumped
    run mapc -s "$syn" "$@" -o again dumped
    if [ "$rc" = 0 ]; then same_file "$name: mapc -u text compiles to the same bytes" ref.cdb again.cdb
    else _notok "$name: mapc -u text does not compile (exit $rc)"; sed 's/^/#   /' "$T/err" | head -5; fi
}

if [ -n "$have4" ]; then
    compare tcprules tcprules "hand-written corpus" "$DATA/corpus.tcp"
    compare tcprules tcprules "reference sample" "$DATA/sample.tcp"
    compare tcprules tcprules "seed example, prefix fixed" "$DATA/seed-fixed.tcp"
    for seed in 1 2 3 4 5 6; do
        awk -v seed=$seed -v n=400 -v v6=0 -f "$GEN" >gen$seed
        compare tcprules tcprules "generated rules, seed $seed (-d)" gen$seed -d
    done
fi
if [ -n "$have6" ]; then
    compare tcprules6 "$R6/tcprules" "IPv6 corpus" "$DATA/corpus6.tcp"
    # The IPv6 build loops forever on a line of blanks (mapc warns about it).
    grep -v '^[[:blank:]][[:blank:]]*$' "$DATA/corpus.tcp" >corpus4
    compare tcprules6 "$R6/tcprules" "IPv4 corpus with the IPv6 build" corpus4
    for seed in 1 2 3; do
        awk -v seed=$seed -v n=400 -v v6=1 -f "$GEN" >gen6-$seed
        compare tcprules6 "$R6/tcprules" "generated IPv6 rules, seed $seed (-d)" gen6-$seed -d
    done
fi
finish
