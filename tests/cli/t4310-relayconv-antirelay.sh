#!/bin/sh
# relayconv with the EMWAC antirelay codec (ARDEF-1): the example written as
# three files (CRLF, labelled, host bits zero) and published as a set, read
# back as a directory (following antirelay.ini's file-name keys) or as the
# three files in any order, and each bad input refused with file:line.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/antirelay"
cp -r "$DATA"/* .
grep -v -e '^from' -e '^connect net ::1 ' "$TOP/examples/policy.txt" > relay.txt

golden "ar-relay-to-antirelay" 0 relayconv --to antirelay -o arout relay.txt
golden "ar-relay-files" 0 sh -c 'cat arout/antirelay.ini arout/ARgoodIP.dat arout/ARdomain.dat'
ok_if "CRLF line ends" sh -c 'test "$(grep -c "$(printf "\r")\$" arout/antirelay.ini)" = "$(wc -l < arout/antirelay.ini)"'
ok_if "verify relay part = its antirelay form" relayconv --verify relay.txt arout
# without -o: a directory named after the format beside the source
golden "ar-default-dir" 0 relayconv --to antirelay relay.txt
ok_if "... holds the three files" test -s antirelay/antirelay.ini -a -s antirelay/ARgoodIP.dat -a -s antirelay/ARdomain.dat
golden "ar-dir-to-policy" 0 relayconv --to policy dir
golden "ar-files-any-order" 0 relayconv --to policy dir/ARdomain.dat dir/antirelay.ini dir/ARgoodIP.dat
golden "ar-custom-names" 0 relayconv --to policy custom
golden "ar-lint" 1 relayconv --lint dir
relayconv --to antirelay -o again dir 2>/dev/null
ok_if "antirelay -> antirelay decides alike" relayconv --verify dir again
# a second conversion replaces all three files together
printf '%s\n' 'connect net 192.0.2.0/24 relay' 'accept name example.net' > other.txt
relayconv --to antirelay -o arout other.txt
ok_if "the set was replaced" sh -c 'grep -q 192.0.2.0/24 arout/ARgoodIP.dat && grep -q example.net arout/ARdomain.dat && ! grep -q 172.16 arout/antirelay.ini'
# refusals subtract: a refused part of a relaying network is left out
printf '%s\n' 'connect net 10.0.0.0/8 relay' 'connect net 10.1.0.0/16 ok' 'connect all relay' \
    'connect net 0.0.0.0/1 ok' > subtract.txt
golden "ar-subtract" 0 sh -c 'relayconv --to antirelay --lossy -o sub subtract.txt && cat sub/antirelay.ini sub/ARgoodIP.dat'

# bad input: exit 65, file:line, nothing written
golden "ar-bad-nets" 65 relayconv --from antirelay --to policy -o never.txt err-nets.ini
golden "ar-missing-file" 65 relayconv --to policy -o never.txt missing
ok_if "nothing written after bad input" test ! -e never.txt
finish
