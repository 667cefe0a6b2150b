#!/bin/sh
# Every ordered pair of formats: the bundled example and a few inputs (the
# relay part of the example, the former example (IPv6 loopback, a refused
# sender domain with its subdomains, which tcp.smtp and badmailfrom cannot
# hold), the Exchange worked example, Exchange with all four settings,
# Exchange with RelayFlags = 1, an ARDEF-1 directory) are written in each
# format, and each of those converted to every format.  An input a format
# refuses is also written with --lossy --allow-widening and that output
# converted on.  Each conversion is either proven equivalent by relayconv's
# own check and again by --verify (exit 0), or refused with the reason
# (golden stderr) and nothing written.  A new format needs nothing here but
# its expected outcomes in the golden file.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/pairs"
IN="$TOP/tests/data"
cp "$TOP/examples/policy.txt" .
cp "$IN/relayconv/seed-policy.txt" seed.txt
grep -v -e '^from' -e '^connect net ::1 ' policy.txt > relay.txt
cp "$IN/exchange/imc-relay-v5.reg" worked.reg
cp "$IN/exchange/full.reg" "$IN/exchange/open.reg" .
cp -r "$IN/antirelay/dir" ardir
formats=$(relayconv --list | awk '{ print $1 }')

pairs() {
    for x in policy.txt relay.txt seed.txt worked.reg full.reg open.reg ardir; do
        for a in $formats; do
            rm -rf "in.$a"
            if ! relayconv --to "$a" -o "in.$a" "$x" >/dev/null 2>err; then
                echo "== $x -> $a: refused"; sed 's/^/   /' err
                [ -e "in.$a" ] && echo "   but written"
                relayconv --to "$a" --lossy --allow-widening -o "in.$a" "$x" >/dev/null 2>err
                rc=$?
                echo "== $x -> $a --lossy --allow-widening: exit $rc"; sed 's/^/   /' err
                [ $rc = 0 ] || continue
            fi
            for b in $formats; do
                rm -rf "out.$b"
                relayconv --to "$b" -o "out.$b" "in.$a" >/dev/null 2>err
                rc=$?
                if [ $rc = 0 ]; then
                    relayconv --verify "in.$a" "out.$b" >/dev/null 2>verr
                    echo "== $x as $a -> $b: written, --verify exit $?"
                    sed 's/^/   /' verr
                else
                    echo "== $x as $a -> $b: exit $rc"; sed 's/^/   /' err
                    [ -e "out.$b" ] && echo "   but written"
                fi
            done
        done
    done
}
golden "every-pair" 0 pairs
ok_if "no pair written without a proof" sh -c '! grep "written, --verify exit [^0]" "$DATA/every-pair.out"'
ok_if "nothing written where refused" sh -c '! grep "^   but written" "$DATA/every-pair.out"'
finish
