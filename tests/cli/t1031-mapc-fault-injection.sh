#!/bin/sh
# mapc under fault injection: the Nth file-changing call under the output
# directory (write, pwrite, fsync, fdatasync, close, rename, link, mkdir,
# unlink, ftruncate, open with O_CREAT) fails with EIO, then with ENOSPC, for
# every N until a compile runs without reaching N, for every map type.
# After each run: no crash, a failure is a non-zero exit with a message, a
# failed fsync or close of a written file is never exit 0, the map is the
# old one byte for byte or the complete new one, and nothing is left behind.
. "$TOP/tests/cli/lib.sh"
SHIM="$BIN/tests/fault/faultshim.so"
[ -f "$SHIM" ] || { _notok "fault shim $SHIM not built (make $O/tests/fault/faultshim.so)"; finish; exit 1; }
# An ASan build must come first in the link order; the shim is not built with it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; export ASAN_OPTIONS

cp "$TOP/examples/access" access.old
{ cat access.old; echo "fault.example.org REJECT"; echo "newer.example.net OK"; } > access.new
printf '10.1.2.:allow,RELAYCLIENT=""\n127.:allow,RELAYCLIENT=""\n:allow\n' > tcp.old
printf '10.1.2.:allow,RELAYCLIENT=""\n10.9.:deny\n127.:allow,RELAYCLIENT=""\n:allow\n' > tcp.new
summary=

inject() {  # TYPE SYNTAX SRC.old SRC.new NAME FILES...
    type=$1 syn=$2 old=$3 new=$4 name=$5; shift 5
    files=$*
    rm -rf out; mkdir out
    cp "$new" "out/$name"; mapc -t "$type" -s "$syn" "out/$name" 2>/dev/null
    mapc -t "$type" -s "$syn" -u "out/$name" | sort > want.new
    rm -rf out; mkdir out keep 2>/dev/null
    cp "$old" "out/$name"; mapc -t "$type" -s "$syn" "out/$name"
    for f in $files; do cp "out/$f" "keep/$f"; done
    cp "$new" "out/$name"
    points=0 bad=0
    for err in EIO ENOSPC; do
        n=1
        while [ $n -le 300 ]; do
            rm -f fault.log
            FAULT_DIR="$T/out" FAULT_N=$n FAULT_ERRNO=$err FAULT_LOG="$T/fault.log" \
                LD_PRELOAD="$SHIM" mapc -t "$type" -s "$syn" "out/$name" >run.out 2>run.err
            rc=$?
            [ -s fault.log ] || break
            points=$((points + 1))
            read -r _ call path < fault.log
            why=
            [ $rc -lt 128 ] || why="$why crashed ($rc)"
            if [ $rc -ne 0 ] && [ ! -s run.err ]; then why="$why exit $rc without a message"; fi
            case $call in
            fsync|fdatasync) [ $rc -ne 0 ] || why="$why exit 0 after a failed $call" ;;
            close)
                # A written file in the temporary directory; Berkeley DB's own
                # descriptors are synced by libdb and by mapc before they close.
                case $type:$path in
                hash:*|btree:*) ;;
                *"/out/."*.??????/*) [ $rc -ne 0 ] || why="$why exit 0 after a failed close of $path" ;;
                esac ;;
            esac
            same=1
            for f in $files; do cmp -s "keep/$f" "out/$f" || same=0; done
            if [ $same = 0 ]; then
                mapc -t "$type" -s "$syn" -u "out/$name" 2>/dev/null | sort > got
                cmp -s got want.new || why="$why the map is neither the old nor the new one"
            elif [ $rc = 0 ]; then
                why="$why exit 0 but the old map is still there"
            fi
            left=$(ls -A out | grep '^\.' | tr '\n' ' ')
            if [ -n "$left" ]; then
                if [ "$call" = unlink ]; then
                    # Cleanup itself failed: the next run must remove it all.
                    mapc -t "$type" -s "$syn" "out/$name" 2>/dev/null
                    left=$(ls -A out | grep '^\.' | tr '\n' ' ')
                fi
                [ -z "$left" ] || why="$why left behind: $left"
            fi
            if [ -n "$why" ]; then
                bad=$((bad + 1))
                [ $bad -le 5 ] && echo "#   $type $err N=$n ($call $path): exit $rc;$why; $(head -c 200 run.err)"
            fi
            for f in $files; do cp "keep/$f" "out/$f"; done
            n=$((n + 1))
        done
    done
    summary="$summary $type${syn:+/$syn}:$points"
    ok_if "fault injection, $type${syn:+ -s $syn}: $points faults, every one handled" test $bad = 0 -a $points -gt 10
}

inject hash access access.old access.new access access.db
inject btree access access.old access.new access access.db
inject dbm access access.old access.new access "access.dir access.pag"
inject gdbm access access.old access.new access access.gdbm
inject cdb access access.old access.new access access.cdb
inject cdb tcprules tcp.old tcp.new tcp.smtp tcp.smtp.cdb
# A map large enough for the cdb writing thread and its early syncs (more
# than 8 MiB written): a fault in that thread fails the run all the same.
awk 'BEGIN { for (i = 0; i < 300000; i++) printf "h%d.example.org REJECT\n", i }' > big.old
{ cat big.old; echo "fault.example.org REJECT"; } > big.new
inject cdb access big.old big.new big big.cdb
echo "# fault points injected (EIO + ENOSPC):$summary"
finish
