#!/bin/sh
# make install: tools, static and shared library, headers, pkg-config file
# and man pages land under DESTDIR/PREFIX; a program builds against the
# installed library through pkg-config; the shared library exports only lm_
# names; every man page renders.
. "$TOP/tests/cli/lib.sh"
root="$T/root"
ok_if "make install DESTDIR=... PREFIX=/usr" make -s -C "$TOP" O="$O" install DESTDIR="$root" PREFIX=/usr
for f in bin/mapc lib/libmap.a lib/libmap.so lib/libmap.so.0 include/libmap/map.h \
         include/libmap/compile.h lib/pkgconfig/libmap.pc share/man/man8/mapc.8 \
         share/bash-completion/completions/mapc share/bash-completion/completions/relayconv \
         share/bash-completion/completions/relaytest; do
    ok_if "installed $f" test -e "$root/usr/$f"
done
ok_if "internal.h is not installed" test ! -e "$root/usr/include/libmap/internal.h"
cat > prog.c <<'C'
#include <stdio.h>
#include <libmap/map.h>
int main(void) { printf("%s\n", lm_map_types()[0]->name); return 0; }
C
# In the sanitizer build the library needs the sanitizer runtime in the program too.
san=; nm "$BIN/mapc" 2>/dev/null | grep -q __asan_init && san="-fsanitize=address,undefined"
ok_if "a program builds against the installed library via pkg-config" sh -c "
    PKG_CONFIG_SYSROOT_DIR='$root' PKG_CONFIG_PATH='$root/usr/lib/pkgconfig' \
    cc $san -o prog prog.c \$(PKG_CONFIG_SYSROOT_DIR='$root' PKG_CONFIG_PATH='$root/usr/lib/pkgconfig' pkg-config --cflags --libs libmap) \
    && LD_LIBRARY_PATH='$root/usr/lib' ./prog | grep -q ."
ok_if "pindex.h is not installed" test ! -e "$root/usr/include/libmap/pindex.h"
ok_if "ipnum.h is not installed" test ! -e "$root/usr/include/libmap/ipnum.h"
# The exports are exactly the documented list (libmap/libmap.map), and that
# list is exactly what the installed headers declare.
nm -D --defined-only "$root/usr/lib/libmap.so.0" | awk '$2 ~ /[TDBR]/ { print $3 }' | sort > exported
sed -n 's/^    \(lm_[a-z0-9_]*\);$/\1/p' "$TOP/libmap/libmap.map" | sort > listed
for h in "$root"/usr/include/libmap/*.h; do
    grep -oE '^[a-z].*\b(lm_[a-z0-9_]+)\s*\(' "$h" | grep -oE 'lm_[a-z0-9_]+\s*\($' | tr -d '( '
    grep -oE '^extern [^;]*\b(lm_[a-z0-9_]+);' "$h" | grep -oE 'lm_[a-z0-9_]+;$' | tr -d ';'
done | sort -u > declared
ok_if "nm -D of libmap.so equals the export list" cmp exported listed
ok_if "the export list equals what the installed headers declare" cmp listed declared
for m in "$TOP"/man/*.[358]; do
    ok_if "man page $(basename "$m") renders without warnings" sh -c \
        "MANWIDTH=80 man -l '$m' 2>&1 >/dev/null | grep . && exit 1; MANWIDTH=80 man -l '$m' | grep -q NAME"
done
ok_if "make uninstall removes it again" sh -c \
    "make -s -C '$TOP' O='$O' uninstall DESTDIR='$root' PREFIX=/usr && test ! -e '$root/usr/bin/mapc' && test ! -e '$root/usr/lib/libmap.a' \
     && test ! -e '$root/usr/share/bash-completion/completions/relayconv'"
finish
