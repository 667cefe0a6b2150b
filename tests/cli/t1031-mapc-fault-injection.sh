#!/bin/sh
# mapc under fault injection: the Nth file-changing call under the output
# directory (write, pwrite, fsync, fdatasync, close, rename, link, mkdir,
# unlink, ftruncate, open with O_CREAT) fails with EIO, then with ENOSPC, for
# every N until a compile runs without reaching N, for every map type.
# After each run: no crash, a failure is a non-zero exit with a message, a
# failed fsync or close of a written file is never exit 0, the map is the
# old one byte for byte or the complete new one, and nothing is left behind.
# With --if-changed (IFC below) the same holds with exit 2 for "written", and
# a fault while the unchanged map is compared never replaces or loses it.
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
IFC=        # "--if-changed" for the runs that compare before they publish

# fault_run ERRNO MAPC-ARGS...: mapc with the Nth call failing; 1 when the
# run made fewer calls (no fault point left).  Sets rc, call, path, why.
fault_run() {
    e=$1; shift
    rm -f fault.log
    FAULT_DIR="$T/out" FAULT_N=$n FAULT_ERRNO=$e FAULT_LOG="$T/fault.log" \
        LD_PRELOAD="$SHIM" mapc "$@" >run.out 2>run.err
    rc=$?
    [ -s fault.log ] || return 1
    points=$((points + 1))
    read -r _ call path < fault.log
    why=
    [ $rc -lt 128 ] || why="$why crashed ($rc)"
}

# next_point LABEL: count the fault point as bad when $why says why, put the
# old map back, on to the next point.
next_point() {
    if [ -n "$why" ]; then
        bad=$((bad + 1))
        [ $bad -le 5 ] && echo "#   $1 N=$n ($call $path): exit $rc;$why; $(head -c 200 run.err)"
    fi
    for f in $files; do cp "keep/$f" "out/$f"; done
    n=$((n + 1))
}

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
    done_rc=0; [ -z "$IFC" ] || done_rc=2
    points=0 bad=0
    for err in EIO ENOSPC; do
        n=1
        while [ $n -le 300 ]; do
            fault_run $err $IFC -t "$type" -s "$syn" "out/$name" || break
            if [ $rc -ne 0 ] && [ $rc -ne $done_rc ] && [ ! -s run.err ]; then why="$why exit $rc without a message"; fi
            case $call in
            fsync|fdatasync) [ $rc -ne $done_rc ] || why="$why exit $rc after a failed $call" ;;
            close)
                # A written file in the temporary directory; Berkeley DB's own
                # descriptors are synced by libdb and by mapc before they close.
                case $type:$path in
                hash:*|btree:*) ;;
                *"/out/."*.??????/*) [ $rc -ne $done_rc ] || why="$why exit $rc after a failed close of $path" ;;
                esac ;;
            esac
            same=1
            for f in $files; do cmp -s "keep/$f" "out/$f" || same=0; done
            if [ $same = 0 ]; then
                mapc -t "$type" -s "$syn" -u "out/$name" 2>/dev/null | sort > got
                cmp -s got want.new || why="$why the map is neither the old nor the new one"
            elif [ $rc = $done_rc ]; then
                why="$why exit $rc but the old map is still there"
            fi
            [ -z "$IFC" ] || [ $rc -ne 0 ] || why="$why --if-changed said unchanged"
            [ $rc -ne $done_rc ] || [ $same = 0 ] || [ -z "$IFC" ] || why="$why exit 2 without the new map"
            left=$(ls -A out | grep '^\.' | tr '\n' ' ')
            if [ -n "$left" ]; then
                if [ "$call" = unlink ]; then
                    # Cleanup itself failed: the next run must remove it all.
                    mapc -t "$type" -s "$syn" "out/$name" 2>/dev/null
                    left=$(ls -A out | grep '^\.' | tr '\n' ' ')
                fi
                [ -z "$left" ] || why="$why left behind: $left"
            fi
            next_point "$type $err"
        done
    done
    summary="$summary $IFC${IFC:+ }$type${syn:+/$syn}:$points"
    ok_if "fault injection, ${IFC:+$IFC }$type${syn:+ -s $syn}: $points faults, every one handled" test $bad = 0 -a $points -gt 10
}

# --if-changed on a source that did not change: a fault while the maps are
# compared may fail the run or publish an equal map, never lose the old one.
inject_same() {  # TYPE SRC NAME FILES...
    type=$1 src=$2 name=$3; shift 3
    files=$*
    rm -rf out keep; mkdir out keep
    cp "$src" "out/$name"; mapc -t "$type" "out/$name"
    mapc -t "$type" -u "out/$name" | sort > want.same
    for f in $files; do cp "out/$f" "keep/$f"; done
    points=0 bad=0 n=1
    while [ $n -le 300 ]; do
        fault_run EIO --if-changed -t "$type" "out/$name" || break
        case $rc in 0|2) ;; *) [ -s run.err ] || why="$why exit $rc without a message" ;; esac
        mapc -t "$type" -u "out/$name" 2>/dev/null | sort > got
        cmp -s got want.same || why="$why the map lost its records"
        left=$(ls -A out | grep '^\.' | tr '\n' ' ')
        [ -z "$left" ] || [ "$call" = unlink ] || why="$why left behind: $left"
        next_point "unchanged $type"
    done
    summary="$summary unchanged/$type:$points"
    ok_if "fault injection, --if-changed on an unchanged $type map: $points faults, every one handled" test $bad = 0 -a $points -gt 3
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
IFC=--if-changed
inject hash access access.old access.new access access.db
inject dbm access access.old access.new access "access.dir access.pag"
inject gdbm access access.old access.new access access.gdbm
inject cdb access access.old access.new access access.cdb
IFC=
inject_same hash access.old access access.db
inject_same cdb access.old access access.cdb
inject_same dbm access.old access "access.dir access.pag"
echo "# fault points injected (EIO + ENOSPC):$summary"
finish
