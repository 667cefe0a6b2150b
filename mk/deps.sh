#!/bin/sh
# Install what the build (deps.sh build) or the tests (deps.sh test) need.
# Debian packages come from mk/apt-build.txt and mk/apt-test.txt.  Peer tools
# that must not be installed as services (Sendmail's makemap, Postfix's
# postmap, ...) are listed in mk/debs.txt: they are fetched with
# apt-get download and unpacked with dpkg -x under build/debs/, so no MTA is
# installed or started.
set -e
what=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
lists="$top/mk/apt-build.txt"
[ "$what" = test ] && lists="$lists $top/mk/apt-test.txt"

want=$(cat $lists | sed 's/#.*//' | tr -s ' \n' '\n' | grep -v '^$' | sort -u)
missing=
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        echo "deps: missing Debian packages:$missing" >&2
        echo "deps: run as root: apt-get install$missing" >&2
        exit 1
    fi
fi

[ "$what" = test ] || exit 0
debs="$top/build/debs"
mkdir -p "$debs/pkg"
sed 's/#.*//' "$top/mk/debs.txt" | while read -r pkg; do
    [ -n "$pkg" ] || continue
    [ -f "$debs/pkg/$pkg.stamp" ] && continue
    if [ "$(id -u)" != 0 ] && ! command -v apt-get >/dev/null; then
        echo "deps: cannot fetch $pkg: no apt-get" >&2; exit 1
    fi
    echo "deps: fetching $pkg into build/debs"
    (cd "$debs/pkg" && rm -f "${pkg}"_*.deb && apt-get download -qq "$pkg" >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && apt-get download -qq "$pkg"; }) || {
        echo "deps: apt-get download $pkg failed" >&2; exit 1; }
    dpkg -x "$debs/pkg/${pkg}"_*.deb "$debs/root"
    touch "$debs/pkg/$pkg.stamp"
done
