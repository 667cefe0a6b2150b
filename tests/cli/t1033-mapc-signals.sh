#!/bin/sh
# mapc: SIGTERM, SIGINT and SIGHUP in the middle of a compile remove the
# temporary directory and the lock, keep the old map, and exit 128+N.
. "$TOP/tests/cli/lib.sh"
mkfifo feed
cp "$TOP/examples/access" access
for t in hash cdb; do
    f=out.db; [ $t = cdb ] && f=out.cdb
    mapc -t $t -o out access && cp $f keep.$t
    for s in TERM:143 INT:130 HUP:129; do
        sig=${s%:*} want=${s#*:}
        # A background job of a non-interactive shell ignores SIGINT: undo that.
        # The input stays open (a FIFO), so the signal comes mid-compile.
        ( trap - INT; exec mapc -t $t -o out - < feed ) 2>err & pid=$!
        exec 4>feed
        printf 'a.example RELAY\nb.example OK\n' >&4
        sleep 0.3; kill -$sig $pid
        printf 'c.example RELAY\n' >&4
        wait $pid; rc=$?; exec 4>&-
        ok_if "$t: SIG$sig exits $want" test $rc = $want
        ok_if "$t: SIG$sig leaves no temporary directory and no lock" \
            sh -c '[ -z "$(ls -A | grep "^\.out")" ]'
        same_file "$t: SIG$sig keeps the old map" keep.$t $f
    done
done
finish
