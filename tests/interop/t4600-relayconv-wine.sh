#!/bin/sh
# The .reg files relayconv writes, against the real reg.exe (Wine from
# Debian's wine64 package, no display): "reg import" takes our version 5 and
# REGEDIT4 files, "reg query" shows exactly the values meant, "reg export"
# of the imported key gives bytes identical to our version 5 file, and a
# file Wine exported reads back into the same policy.  One WINEPREFIX per
# run under the build directory; "wineserver -k" at the end.  If Wine cannot
# run, every test here fails naming the problem: never a silent skip.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/exchange"
KEY='HKLM\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters'

WINE=
for w in /usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null)"; do
    [ -n "$w" ] && [ -x "$w" ] && { WINE=$w; break; }
done
WINESERVER=/usr/lib/wine/wineserver
[ -x "$WINESERVER" ] || WINESERVER=$(command -v wineserver 2>/dev/null)
if [ -z "$WINE" ]; then
    _notok "wine64 is missing: install the Debian package wine64 (apt-get install --no-install-recommends wine64; make check does)"
    finish; exit 1
fi
mkdir -p "$TOP/$O"
WINEPREFIX=$(mktemp -d "$TOP/$O/wineprefix.XXXXXX")
export WINEPREFIX WINEDEBUG=-all
trap '"$WINESERVER" -k >/dev/null 2>&1; rm -rf "$WINEPREFIX"; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
reg() { "$WINE" reg "$@" 2>>"$T/wine.log"; }

# the first call creates the prefix: if Wine cannot start, say why
if ! reg query 'HKLM\SYSTEM\CurrentControlSet\Services' >/dev/null; then
    _notok "Wine cannot run here ($WINE reg query failed): $(tail -3 "$T/wine.log" | tr '\n' ' ')"
    finish; exit 1
fi

# a policy with all four settings, and the reference's worked example
printf '%s\n' 'connect net 10.0.0.0/8 relay' 'connect net 10.1.0.0/16 ok' \
    'connect net 172.16.5.0/25 relay' 'connect server 192.0.2.1 relay' \
    'connect authenticated relay' > full.txt
cp "$DATA/worked.txt" "$DATA/imc-relay-v5.reg" .
for p in full worked; do
    relayconv --to exchange -o $p.5.reg $p.txt
    relayconv --to exchange --reg-version 4 -o $p.4.reg $p.txt
    for v in 5 4; do
        reg delete "$KEY" /f >/dev/null 2>&1
        ok_if "$p: reg import takes our version $v file" reg import $p.$v.reg
        reg query "$KEY" | tr -d '\r' > $p.$v.query
        same_file "$p: reg query shows the values of version $v" $p.$v.query "$DATA/wine-$p.query"
        rm -f $p.$v.export.reg
        ok_if "$p: reg export after importing version $v" reg export "$KEY" $p.$v.export.reg /y
        same_file "$p: Wine's export of version $v = our version 5 bytes" $p.$v.export.reg $p.5.reg
    done
    ok_if "$p: Wine's export reads back into the same policy" \
        relayconv --verify $p.txt $p.5.export.reg
    relayconv --to policy $p.5.reg > ours.txt 2>&1
    relayconv --to policy $p.5.export.reg > theirs.txt 2>&1
    same_file "$p: the same policy file from ours and from Wine's" ours.txt theirs.txt
done
same_file "the worked example: our file = the reference's Wine export" worked.5.reg imc-relay-v5.reg

# Wine keeps other values under the key: read with a warning, kept out
reg add "$KEY" /v MaxMessageSize /t REG_DWORD /d 1024 /f >/dev/null
reg export "$KEY" other.reg /y
ok_if "an export with another value reads into the same policy" \
    relayconv --verify worked.txt other.reg
ok_if "... and --lint names the other value" sh -c \
    'relayconv --lint other.reg 2>&1 | grep -q "value \"MaxMessageSize\" under the IMC key"'
# accepted domains ride in comments, which reg import skips
printf '%s\n' 'accept domain example.com' 'connect net 172.16.5.0/24 relay' > dom.txt
relayconv --to exchange -o dom.reg dom.txt
reg delete "$KEY" /f >/dev/null 2>&1
ok_if "reg import skips our accepted-domain comments" reg import dom.reg
reg export "$KEY" dom.export.reg /y
grep -v '^accept' dom.txt > dom-nets.txt
ok_if "... and the values are the policy's networks" relayconv --verify dom-nets.txt dom.export.reg
finish
