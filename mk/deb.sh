#!/bin/sh
# make deb: build the Debian packages of debian/ into OUT (build/deb).
# dpkg-buildpackage writes next to the tree it builds, so a copy of the
# tree (tracked and new files, no build output) is built under OUT/src and
# the results are moved up into OUT.  lintian must then report nothing at
# warning level or above (DEB_LINTIAN=0 leaves that to the caller).
set -eu
out=$1 version=$2
top=$(cd "$(dirname "$0")/.." && pwd)
case $out in /*) ;; *) out=$top/$out ;; esac

for t in dpkg-buildpackage dh dpkg-parsechangelog lintian; do
    command -v "$t" >/dev/null || {
        echo "deb: $t is missing: apt-get install dpkg-dev debhelper lintian (make deps-test does)" >&2
        exit 1; }
done
changelog=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
if [ "$changelog" != "$version" ]; then
    echo "deb: debian/changelog is at $changelog, the Makefile's VERSION is $version: add an entry (dch -v $version)" >&2
    exit 1
fi

src=$out/src/relaymap-$version
rm -rf "$out"
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
        tar -C "$top" --null --ignore-failed-read -T - -cf - | tar -C "$src" -xf -
else
    tar -C "$top" --exclude=./build --exclude='./build-*' -cf - . | tar -C "$src" -xf -
fi

# The package is built with the Debian build flags alone (dpkg-buildflags;
# DEB_CFLAGS_APPEND and the like still work): nothing from a calling make
# (make sanitize passes CFLAGS=-fsanitize=... down, and make exports it) or
# from the test runner's O= may reach debian/rules.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL O CC CFLAGS CPPFLAGS LDFLAGS WERROR
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    echo "deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
    exit 1; }
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
rm -rf "$out/src"
ls "$out"/*.deb
if [ "${DEB_LINTIAN:-1}" != 0 ]; then
    lintian --fail-on error,warning "$out"/*.changes
fi
