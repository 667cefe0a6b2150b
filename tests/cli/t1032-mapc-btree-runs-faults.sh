#!/bin/sh
# mapc -t btree -c SIZE stores its records in sorted runs of SIZE bytes (at
# least 1 MiB) while it reads; here a map of three runs meets a fault at
# points spread over the whole compile, so inside every run's store: the Nth
# file-changing call fails with EIO, with ENOSPC, or kills mapc (see
# t1031 for the shim).  After every fault the map is the old one byte for
# byte or the complete new one (a failed sync of the directory after the
# rename fails the run with the new map in place); exit 0 means the new one
# (Berkeley DB writes a page again when a write of it failed); a failure
# says why; after a kill the next run writes the new map; nothing is left
# behind.
. "$TOP/tests/cli/lib.sh"
SHIM="$BIN/tests/fault/faultshim.so"
[ -f "$SHIM" ] || { _notok "fault shim $SHIM not built (make $O/tests/fault/faultshim.so)"; finish; exit 1; }
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; export ASAN_OPTIONS

RUN=1048576     # bytes of keys and values a run holds (the smallest -c)
# 100,000 records of 25 bytes: three runs, keys out of order within each
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "h%06d.example.org REJECT\n", (i * 7919) % 100000 }' > big.old
{ cat big.old; echo "fault.example.org OK"; } > big.new
ok_if "the source holds three runs of records" \
    test "$(awk '{ n += length($1) + length($2) } END { print int(n / '$RUN') }' big.new)" -ge 2

mkdir out keep
cp big.new out/big; mapc -t btree -c $RUN out/big
mapc -t btree -u out/big | sort > want.new
rm -f out/big.db
cp big.old out/big; mapc -t btree -c $RUN out/big
cp out/big.db keep/big.db
mapc -t btree -u out/big | sort > want.old
cp big.new out/big
ok_if "the runs hold every record, in key order" \
    sh -c 'test "$(wc -l < want.new)" -eq 100001 && sort -c want.new'

# attempt MODE N: mapc with the Nth call failing (MODE is an errno or kill);
# 1 when the compile made fewer calls.  Sets rc, call.
attempt() {
    rm -f fault.log
    case $1 in
    kill) FAULT_DIR="$T/out" FAULT_N=$2 FAULT_MODE=kill FAULT_LOG="$T/fault.log" \
              LD_PRELOAD="$SHIM" mapc -t btree -c $RUN out/big >run.out 2>run.err ;;
    *)    FAULT_DIR="$T/out" FAULT_N=$2 FAULT_ERRNO=$1 FAULT_LOG="$T/fault.log" \
              LD_PRELOAD="$SHIM" mapc -t btree -c $RUN out/big >run.out 2>run.err ;;
    esac
    rc=$?
    [ -s fault.log ] || return 1
    read -r _ call _ < fault.log
}

# The number of calls a compile makes: the first N that injects nothing.
hi=1
while attempt EIO $hi; do cp keep/big.db out/big.db; hi=$((hi * 2)); done
lo=$((hi / 2))
while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    if attempt EIO $mid; then lo=$mid; else hi=$mid; fi
    cp keep/big.db out/big.db
done
total=$lo
ok_if "a compile of three runs makes many file-changing calls ($total)" test "$total" -gt 100

# Twenty points spread over the compile, and the last six (sync, rename).
points=
i=0
while [ $i -lt 20 ]; do points="$points $((1 + i * total / 20))"; i=$((i + 1)); done
i=$((total - 5)); [ $i -ge 1 ] || i=1
while [ $i -le "$total" ]; do points="$points $i"; i=$((i + 1)); done

check_state() {  # LABEL: the map is the old one or the complete new one
    why=
    [ "$rc" -lt 128 ] || [ "$mode" = kill ] || why="$why crashed ($rc)"
    if cmp -s keep/big.db out/big.db; then
        [ "$rc" -ne 0 ] || why="$why exit 0 but the old map is still there"
        [ "$rc" -eq 0 ] || [ "$mode" = kill ] || [ -s run.err ] || why="$why exit $rc without a message"
    else
        mapc -t btree -u out/big 2>/dev/null | sort > got
        cmp -s got want.new || why="$why the map is neither the old nor the new one"
        [ "$rc" -eq 0 ] || [ "$mode" = kill ] || [ -s run.err ] || why="$why exit $rc without a message"
    fi
}

for mode in EIO ENOSPC kill; do
    bad=0 seen=0
    for n in $points; do
        attempt $mode $n || continue
        seen=$((seen + 1))
        check_state
        [ "$mode" != kill ] || [ "$rc" -eq 137 ] || why="$why not killed ($rc)"
        if [ "$mode" = kill ]; then
            mapc -t btree -c $RUN out/big >run.out 2>run.err || why="$why the run after the crash failed"
            mapc -t btree -u out/big 2>/dev/null | sort > got
            cmp -s got want.new || why="$why the run after the crash wrote another map"
        fi
        left=$(ls -A out | grep '^\.' | tr '\n' ' ')
        if [ -n "$left" ] && [ "$call" = unlink ]; then
            mapc -t btree -c $RUN out/big 2>/dev/null     # cleanup itself failed
            left=$(ls -A out | grep '^\.' | tr '\n' ' ')
        fi
        [ -z "$left" ] || why="$why left behind: $left"
        if [ -n "$why" ]; then
            bad=$((bad + 1))
            [ $bad -le 5 ] && echo "#   $mode N=$n ($call): exit $rc;$why; $(head -c 200 run.err)"
        fi
        cp keep/big.db out/big.db
    done
    ok_if "btree runs, $mode at $seen points of $total: the old map or the whole new one" \
        test $bad = 0 -a $seen -ge 24
done
finish
