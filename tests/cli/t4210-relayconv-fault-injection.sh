#!/bin/sh
# relayconv --to qmail -o DIR (and antirelay, postfix, exim) writes its files
# as one set, --to sendmail -o FILE one file: under fault injection at every file-changing call (EIO), and
# after a kill -9 at every such call followed by the next run, DIR holds all
# old or all new files.  With --if-changed, exit 2 says the new set was
# published and exit 0 that nothing changed; a fault never makes either untrue.
. "$TOP/tests/cli/lib.sh"
SHIM="$BIN/tests/fault/faultshim.so"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; export ASAN_OPTIONS
fmt=qmail files="tcp.smtp rcpthosts badmailfrom" target=q
IFC=
conv() { relayconv --to $fmt -o $target --lossy --allow-widening "$@" >/dev/null 2>&1; }

cp "$TOP/tests/data/relayconv/seed-policy.txt" new.txt
grep -v 'spammail' new.txt > old.txt
echo "connect net 10.77.0.0/16 relay" >> new.txt
echo "connect net 203.0.113.0/24 relay" >> new.txt
echo "accept domain example.org" >> new.txt

run_set() {
rm -rf q want.old want.new
mkdir -p q
conv new.txt && cp -r q want.new
rm -rf q && mkdir q
conv old.txt && cp -r q want.old
differ=0
for f in $files; do cmp -s want.old/$f want.new/$f || differ=$((differ + 1)); done
ok_if "$fmt: old and new policies differ ($differ of the files)" test $differ -gt 0

same_set() { for f in $files; do cmp -s "$1/$f" "q/$f" || return 1; done; }
state() {  # prints old, new or mixed (temporaries left by a failed cleanup aside)
    if same_set want.old; then echo old; elif same_set want.new; then echo new; else echo mixed; fi
}
points=0 bad=0 kills=0
n=1
while [ $n -le 100 ]; do
    rm -rf q; cp -r want.old q; rm -f fault.log
    FAULT_DIR="$T/q" FAULT_N=$n FAULT_ERRNO=EIO FAULT_LOG="$T/fault.log" LD_PRELOAD="$SHIM" \
        relayconv $IFC --to $fmt -o $target --lossy --allow-widening new.txt >/dev/null 2>run.err
    rc=$?
    [ -z "$IFC" ] || case $rc in 2) rc=0 ;; 0) rc=unchanged ;; esac
    [ -s fault.log ] || break
    points=$((points + 1))
    s=$(state); left=$(ls -A q | grep '^\.' | tr '\n' ' ')
    case $s:$rc in
    old:0|new:unchanged|old:unchanged|mixed:*) bad=$((bad + 1)); echo "#   N=$n $(cat fault.log): exit $rc, $s" ;;
    esac
    if [ "$rc" != 0 ] && [ ! -s run.err ]; then bad=$((bad + 1)); echo "#   N=$n: exit $rc without a message"; fi
    if [ -n "$left" ] && ! grep -q unlink fault.log; then bad=$((bad + 1)); echo "#   N=$n: left $left"; fi
    # The same call, now a crash; the next run recovers, then fails before
    # publishing anything itself (its first link), so what is seen is the
    # recovered state.
    rm -rf q; cp -r want.old q
    FAULT_DIR="$T/q" FAULT_N=$n FAULT_MODE=kill LD_PRELOAD="$SHIM" \
        relayconv --to $fmt -o $target --lossy --allow-widening new.txt >/dev/null 2>&1
    [ $? -eq 137 ] && kills=$((kills + 1))
    FAULT_DIR="$T/q" FAULT_N=1 FAULT_CALLS=link LD_PRELOAD="$SHIM" \
        relayconv --to $fmt -o $target --lossy --allow-widening old.txt >/dev/null 2>&1
    s=$(state)
    [ "$s" != mixed ] || { bad=$((bad + 1)); echo "#   kill at N=$n: mixed after recovery"; ls -la q | sed 's/^/#   /'; }
    n=$((n + 1))
done
echo "# relayconv ${IFC:+$IFC }--to $fmt: $points fault points, $kills kills"
ok_if "relayconv ${IFC:+$IFC }--to $fmt: every fault and crash leaves all old or all new files" \
    test $bad = 0 -a $points -gt 5 -a $kills = $points
}
run_set
IFC=--if-changed; run_set; IFC=
fmt=antirelay files="antirelay.ini ARgoodIP.dat ARdomain.dat"
run_set
# One output file: the same for -o FILE.
fmt=sendmail files=access target=q/access
run_set
IFC=--if-changed; run_set; IFC=
fmt=postfix target=q
files="client_access main.cf.relaymap recipient_access relay_clients.cidr relay_domains sender_access"
run_set
fmt=exim files="accepted_recipients exim.acl.conf exim.lists.conf refused_hosts refused_recipients
refused_senders relay_hosts relay_to_domains"
run_set
finish
