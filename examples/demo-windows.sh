#!/bin/sh
# make demo, Windows part: the seed's policy for Exchange 5.5 (a .reg file
# regedit imports) and the EMWAC AntiRelay plug-in (ARDEF-1), the refusal of
# what their lists cannot say, the conversion to every format and one
# --verify of each result against the source.
set -e
say() { printf '\n$ %s\n' "$*"; "$@"; }

echo
echo "== relayconv: the same policy for Exchange 5.5 and EMWAC antirelay"
say "$bin/relayconv" --to exchange -o policy.reg policy.txt || echo "(exit $?: refused, nothing written)"
echo
echo "# what the Windows servers' lists can hold: the clients and the domains"
grep -v -e '^from' -e '^connect net ::1 ' policy.txt > relay.txt
grep -v '^#' relay.txt | grep .
say "$bin/relayconv" --to exchange -o relay.reg relay.txt
echo "(relay.reg is UTF-16LE, as regedit writes version 5 files; decoded:)"
iconv -f UTF-16LE -t UTF-8 relay.reg | sed '1s/^\xef\xbb\xbf//' | tr -d '\r'
say "$bin/relayconv" --to exchange --reg-version 4 relay.txt
say "$bin/relayconv" --to antirelay -o antirelay relay.txt
for f in antirelay/antirelay.ini antirelay/ARgoodIP.dat antirelay/ARdomain.dat; do
    echo "--- $f"; tr -d '\r' < "$f"
done
say "$bin/relayconv" --decide --client 172.16.5.9 --to someone@elsewhere.example relay.reg
say "$bin/relayconv" --decide --client 192.0.2.7 --to postmaster@example.com antirelay

echo
echo "== every format, and one --verify of each against the source"
mkdir -p every
for f in $("$bin/relayconv" --list | awk '{ print $1 }'); do
    say "$bin/relayconv" --to "$f" -o "every/$f" relay.txt
done
for f in $("$bin/relayconv" --list | awk '{ print $1 }'); do
    say "$bin/relayconv" --verify relay.txt "every/$f"
done
