#!/bin/sh
# The policy core (model, decide, lint, the proof, the emitter toolkit,
# addresses and sets, diagnostics, helpers) reads a server's lookup order
# as data: it never includes a formats/ header, calls the codec registry,
# or names a format in its code (comments may explain where a rule comes
# from).  A new format is then one file in formats/ and one registry row.
. "$TOP/tests/cli/lib.sh"
core="libmap/policy.c libmap/policy.h libmap/decide.c libmap/pindex.h libmap/lint.c
      libmap/verify.c libmap/emit.c libmap/emit.h libmap/ipset.h libmap/ipnum.h
      libmap/ipaddr.c libmap/ipset.c libmap/ipcover.c libmap/diag.c libmap/diag.h
      libmap/util.c libmap/util.h"
for f in $core; do
    ok_if "$f exists" test -f "$TOP/$f"
    # comments out, code and strings kept
    cc -fpreprocessed -dD -E -P "$TOP/$f" > code.txt 2>/dev/null
    ok_if "$f: no format named, no registry, no codec header" sh -c \
        "! grep -n -i -E 'sendmail|qmail|exchange|antirelay|postfix|exim|tcprules|lm_codec|codec\.h|formats/' code.txt"
done
finish
