#!/bin/sh
# make deb builds the three Debian packages (relaymap, libmap0, libmap-dev);
# lintian reports nothing at warning level; unpacked with dpkg -x into a
# scratch root (nothing is installed), the packaged tools run against the
# packaged shared library and agree with the tools of the tree on the
# examples, and a program builds against libmap-dev through pkg-config.
. "$TOP/tests/cli/lib.sh"
want=$(sed -n 's/^VERSION *= *//p' "$TOP/Makefile")
arch=$(dpkg --print-architecture 2>/dev/null)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
missing=0
for t in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian; do
    need_tool "${t%%:*}" "${t#*:}" || missing=1
done
if [ $missing = 1 ]; then finish; exit 1; fi

out="$T/deb" root="$T/root" lib="$T/root/usr/lib/$multiarch"
# The CFLAGS of a calling make (make sanitize passes its own down) must not
# reach the package build: it uses the Debian build flags.
ok_if "make deb builds the packages" make -s -C "$TOP" deb DEB_DIR="$out" DEB_LINTIAN=0 \
    CFLAGS="-O2 -g -DRELAYMAP_NOT_FOR_THE_PACKAGE"
ok_if "the package build used the Debian build flags, not the caller's" sh -c \
    "grep -q -- '-fstack-protector-strong' '$out/build.log' && ! grep -q RELAYMAP_NOT_FOR_THE_PACKAGE '$out/build.log'"
for p in relaymap libmap0 libmap-dev; do
    ok_if "built ${p}_${want}_$arch.deb" test -f "$out/${p}_${want}_$arch.deb"
done
run lintian --fail-on error,warning "$out"/relaymap_"$want"_"$arch".changes
ok_if "lintian --fail-on error,warning passes" test "$rc" = 0
ok_if "lintian reports no error or warning" sh -c "! grep -E '^[EW]: ' '$T/out' '$T/err'"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/out" "$T/err" | head -30

for p in relaymap libmap0 libmap-dev; do
    dpkg -x "$out/${p}_${want}_$arch.deb" "$root" 2>/dev/null
done
for f in usr/bin/mapc usr/bin/relayconv usr/bin/relaytest \
         usr/share/man/man8/mapc.8.gz usr/share/man/man8/relayconv.8.gz \
         usr/share/man/man8/relaytest.8.gz usr/share/man/man5/relaymap-formats.5.gz \
         "usr/lib/$multiarch/libmap.so.0" "usr/lib/$multiarch/libmap.a" \
         "usr/lib/$multiarch/libmap.so" "usr/lib/$multiarch/pkgconfig/libmap.pc" \
         usr/include/libmap/map.h usr/share/man/man3/libmap.3.gz \
         usr/share/doc/relaymap/copyright usr/share/bash-completion/completions/mapc \
         usr/share/bash-completion/completions/relayconv \
         usr/share/bash-completion/completions/relaytest; do
    ok_if "packaged /$f" test -e "$root/$f"
done
ok_if "libmap.so is a symbolic link to libmap.so.0" test "$(readlink "$lib/libmap.so")" = libmap.so.0
ok_if "no private header is packaged" sh -c \
    "test ! -e '$root/usr/include/libmap/internal.h' && test ! -e '$root/usr/include/libmap/pindex.h'"
ok_if "the shared library is in libmap0 only" sh -c \
    "dpkg -c '$out/libmap0_${want}_$arch.deb' | grep -q 'libmap.so.0\$' \
     && ! dpkg -c '$out/relaymap_${want}_$arch.deb' | grep -q libmap"
ok_if "relaymap depends on libmap0 (shlibs)" sh -c \
    "dpkg-deb -f '$out/relaymap_${want}_$arch.deb' Depends | grep -q 'libmap0 (>= $want)'"
ok_if "libmap-dev depends on the same libmap0" sh -c \
    "dpkg-deb -f '$out/libmap-dev_${want}_$arch.deb' Depends | grep -q 'libmap0 (= $want)'"
ok_if "the packaged mapc links libmap.so.0" sh -c \
    "readelf -d '$root/usr/bin/mapc' | grep -q 'NEEDED.*\\[libmap.so.0\\]'"
# Hardening from dpkg-buildflags: full RELRO, PIE, stack protector, fortify.
ok_if "mapc and libmap.so.0 are built with relro and bind-now" sh -c \
    "for f in '$root/usr/bin/mapc' '$lib/libmap.so.0'; do \
         readelf -lW \$f | grep -q GNU_RELRO && readelf -dW \$f | grep -q BIND_NOW || exit 1; done"
ok_if "the packaged mapc carries no sanitizer from the calling build" sh -c \
    "! nm -D '$root/usr/bin/mapc' | grep -q -e __asan -e __ubsan"
ok_if "mapc is a PIE" sh -c "readelf -hW '$root/usr/bin/mapc' | grep -q 'DYN '"
ok_if "libmap.so.0 uses the stack protector and fortified functions" sh -c \
    "nm -D '$lib/libmap.so.0' | grep -q __stack_chk_fail && nm -D '$lib/libmap.so.0' | grep -q '__.*_chk'"

# The packaged tools on the examples, against the tree's tools.
export LD_LIBRARY_PATH="$lib"
pbin="$root/usr/bin"
ok_if "packaged relayconv --version" test "$("$pbin/relayconv" --version)" = "relayconv (relaymap) $want"
ok_if "packaged mapc --version" test "$("$pbin/mapc" --version)" = "mapc (relaymap) $want"
mkdir pkg tree conv
cp "$TOP"/examples/access pkg/; cp "$TOP"/examples/access tree/
for type in hash btree dbm gdbm cdb lmdb; do
    ok_if "packaged mapc -t $type compiles examples/access" sh -c "cd pkg && '$pbin/mapc' -t $type access"
    ok_if "packaged mapc -t $type -q spammail.com answers REJECT" \
        test "$(cd pkg && "$pbin/mapc" -t $type -q spammail.com access)" = REJECT
    (cd tree && env -u LD_LIBRARY_PATH "$BIN/mapc" -t $type access && "$BIN/mapc" -t $type -u access > dump.$type)
    (cd pkg && "$pbin/mapc" -t $type -u access > dump.$type)
    same_file "packaged mapc -t $type -u: same records as the tree's mapc" pkg/dump.$type tree/dump.$type
done
# Postfix and Exim outputs name their own path: both tools write to conv/.
for fmt in sendmail postfix exim; do
    "$pbin/relayconv" --to $fmt -o conv/$fmt "$TOP/examples/policy.txt" 2>/dev/null
    ok_if "packaged relayconv --to $fmt converts examples/policy.txt" test $? = 0
    mv conv/$fmt pkg/$fmt
    env -u LD_LIBRARY_PATH "$BIN/relayconv" --to $fmt -o conv/$fmt "$TOP/examples/policy.txt" 2>/dev/null
    ok_if "packaged relayconv --to $fmt: same output as the tree's" diff -r pkg/$fmt conv/$fmt
done
ok_if "packaged relayconv --verify proves the Postfix output" \
    "$pbin/relayconv" --verify "$TOP/examples/policy.txt" conv/postfix

# libmap-dev: headers and pkg-config file build a program against libmap.
cat > prog.c <<'C'
#include <stdio.h>
#include <libmap/map.h>
int main(void) { printf("%s\n", lm_map_types()[0]->name); return 0; }
C
pc="PKG_CONFIG_SYSROOT_DIR='$root' PKG_CONFIG_PATH='$lib/pkgconfig'"
ok_if "pkg-config --modversion libmap is $want" sh -c "test \"\$($pc pkg-config --modversion libmap)\" = '$want'"
ok_if "a program builds against libmap-dev through pkg-config and runs on libmap0" sh -c "
    cc -Wall -Werror -o prog prog.c \$($pc pkg-config --cflags --libs libmap) \
    && readelf -d prog | grep -q 'NEEDED.*libmap.so.0' && ./prog | grep -q ."
ok_if "a program links libmap-dev's static library (pkg-config --static)" sh -c "
    cc -static-libgcc -o prog-static prog.c \$($pc pkg-config --cflags libmap) '$lib/libmap.a' \
       \$($pc pkg-config --static --libs-only-l libmap | sed 's/-lmap//') \
    && ! readelf -d prog-static | grep -q libmap.so && env -u LD_LIBRARY_PATH ./prog-static | grep -q ."
unset LD_LIBRARY_PATH

# The packaging cannot drift from the tree: symbols file = export list,
# Build-Depends = mk/apt-build.txt (less build-essential's make and gcc).
sed -n 's/^    \(lm_[a-z0-9_]*\);$/\1/p' "$TOP/libmap/libmap.map" | sort > listed
sed -n 's/^ \(lm_[a-z0-9_]*\)@Base .*/\1/p' "$TOP/debian/libmap0.symbols" | sort > symbols
ok_if "debian/libmap0.symbols lists exactly libmap/libmap.map (add new names with the next version)" \
    diff listed symbols
sed 's/#.*//' "$TOP/mk/apt-build.txt" | tr -s ' \n' '\n' | grep -v -x -e '' -e make -e gcc | sort > apt-build
sed -n '/^Build-Depends:/,/^[A-Z]/p' "$TOP/debian/control" \
    | sed 's/^Build-Depends://; /^[A-Z]/d' | tr ',' '\n' | sed 's/[<(].*//; s/ //g' | grep -v -e '^$' -e debhelper | sort > control
ok_if "Build-Depends in debian/control are mk/apt-build.txt" diff apt-build control
ok_if "debian/changelog is at the Makefile's VERSION" \
    test "$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)" = "$want"
finish
