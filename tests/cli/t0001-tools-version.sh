#!/bin/sh
# Every tool prints its name and the release with --version on standard
# output and exits 0; the release is the Makefile's VERSION.
. "$TOP/tests/cli/lib.sh"
want=$(sed -n 's/^VERSION *= *//p' "$TOP/Makefile")
for t in mapc relayconv relaytest; do
    ok_if "$t --version" sh -c "test \"\$($t --version)\" = '$t (relaymap) $want'"
done
finish
