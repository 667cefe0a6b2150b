#!/bin/sh
# mapc: faults never lose the old map: full disk, unwritable directory,
# kill -9 in the middle of a million-line compile (the next run removes the
# stale temporaries), a held lock (-n exits 75, without -n the run waits).
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/mapc"
cp "$TOP/examples/access" access
for t in hash cdb dbm; do mapc -t $t access; done
mkdir keep && cp access.* keep/

awk 'BEGIN { for (i = 0; i < 200000; i++) printf "key%d.example.org REJECT number %d\n", i, i }' > big
for t in hash cdb dbm; do
    run sh -c "ulimit -f 256; trap '' XFSZ; exec mapc -t $t -o access big"
    ok_if "disk full ($t): failure reported with exit 74" test "$rc" = 74
    ok_if "disk full ($t): message names the cause" grep -q 'File too large' "$T/err"
done
ok_if "disk full: old maps byte-identical" sh -c 'for f in keep/*; do cmp "$f" "${f#keep/}" || exit 1; done'
ok_if "disk full: no temporaries left" sh -c '[ -z "$(ls -A | grep "^\.")" ]'

if [ "$(id -u)" = 0 ]; then asuser="setpriv --reuid=65534 --regid=65534 --clear-groups"; else asuser=; fi
chmod 755 "$T"     # the unprivileged user must reach ro/
mkdir ro && cp access ro/ && mapc -t cdb ro/access && chmod 555 ro && chmod 644 ro/access.cdb
cp ro/access.cdb ro.orig
run $asuser "$BIN/mapc" -t cdb ro/access
ok_if "unwritable directory: exit 73" test "$rc" = 73
ok_if "unwritable directory: message" grep -q 'cannot create.*ro' "$T/err"
same_file "unwritable directory: old map intact" ro.orig ro/access.cdb
chmod 755 ro

awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "host%d.example.net RELAY\n", i }' > million
mapc -t hash -o killed access && cp killed.db killed.orig
mapc -t hash -o killed million & pid=$!
sleep 0.3; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
same_file "kill -9: old map byte-identical" killed.orig killed.db
ok_if "kill -9: the next run removes the stale temporaries" sh -c \
    'mapc -t hash -o killed access && [ -z "$(ls -A | grep "^\.killed")" ]'

mkfifo gate
( exec 3<gate; mapc -t cdb -o locked - <&3 ) & holder=$!
exec 4>gate
sleep 0.3
golden "lock-busy" 75 mapc -n -t cdb -o locked access
( mapc -t cdb -o locked access; echo "waiter done $?" > waiter.log ) 4>&- & waiter=$!
sleep 0.3
ok_if "a second run waits for the lock" test ! -e waiter.log
printf 'from holder\n' >&4; exec 4>&-
wait $holder; wait $waiter
ok_if "the waiting run finished after the holder" grep -q 'waiter done 0' waiter.log
golden "after-lock" 0 mapc -q useful.org locked.cdb
finish
