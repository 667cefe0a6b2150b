#!/bin/sh
# t3110: mapc -s tcprules -q IP,HOST,INFO answers in the words of
# tcprulescheck, for every key kind of tcpserver's lookup order (INFO@IP,
# INFO@=HOST, IP, =HOST, prefixes, =.SUFFIX, =, the empty key) and for
# seeded questions over generated rule files; the same for tcprules6.
. "$TOP/tests/cli/lib.sh"
DATA=$TOP/tests/data/tcprules
GEN=$TOP/tests/interop/tcprules-gen.awk
R6=$TOP/build/debs/root/usr/bin

need_tool "$BIN/mapc" "relaymap itself: run make first" || { finish; exit 1; }
have4=1 have6=1
need_tool tcprulescheck ucspi-tcp || have4=
need_tool "$R6/tcprulescheck" "ucspi-tcp-ipv6 (unpacked by sh mk/deps.sh test, listed in mk/debs.txt)" || have6=

# ask SYNTAX CHECKER CDB QUESTIONS NAME: every question to both tools.
ask() {
    syn=$1 chk=$2 cdb=$3 qs=$4 name=$5
    n=0 bad=0
    while IFS=, read -r ip host info; do
        n=$((n + 1))
        mapc -s "$syn" -q "$ip,$host,$info" "$cdb" >ours 2>&1
        (TCPREMOTEIP=$ip; export TCPREMOTEIP
         [ -n "$host" ] && { TCPREMOTEHOST=$host; export TCPREMOTEHOST; }
         [ -n "$info" ] && { TCPREMOTEINFO=$info; export TCPREMOTEINFO; }
         exec "$chk" "$cdb") >theirs 2>&1
        if ! cmp -s ours theirs; then
            bad=$((bad + 1))
            [ $bad -le 3 ] && { echo "#   $ip,$host,$info: mapc said"; sed 's/^/#     /' ours
                                 echo "#   $chk said"; sed 's/^/#     /' theirs; }
        fi
    done <"$qs"
    if [ $bad = 0 ] && [ $n -gt 0 ]; then _ok "$name: $n questions, same answers"
    else _notok "$name: $bad of $n answers differ"; fi
}

if [ -n "$have4" ]; then
    tcprules corpus.cdb corpus.tmp <"$DATA/corpus.tcp"
    ask tcprules tcprulescheck corpus.cdb "$DATA/questions" "corpus, every key kind"
    for seed in 1 2; do
        awk -v seed=$seed -v n=300 -v v6=0 -f "$GEN" >gen$seed
        tcprules gen$seed.cdb gen$seed.tmp <gen$seed
        awk -v seed=$((seed + 100)) -v n=60 -v v6=0 -v mode=questions -f "$GEN" >q$seed
        ask tcprules tcprulescheck gen$seed.cdb q$seed "generated rules, seed $seed"
    done
    # mapc reads the source name as when compiling
    cp "$DATA/corpus.tcp" tcp.smtp
    mapc -s tcprules tcp.smtp
    mapc -s tcprules -q 10.1.2.3 tcp.smtp >a; mapc -s tcprules -q 10.1.2.3 tcp.smtp.cdb >b
    same_file "-q on the source name and on the cdb" a b
fi
if [ -n "$have6" ]; then
    timeout 60 "$R6/tcprules" corpus6.cdb corpus6.tmp <"$DATA/corpus6.tcp"
    ask tcprules6 "$R6/tcprulescheck" corpus6.cdb "$DATA/questions6" "IPv6 corpus, every key kind"
    awk -v seed=7 -v n=300 -v v6=1 -f "$GEN" >gen6
    timeout 60 "$R6/tcprules" gen6.cdb gen6.tmp <gen6
    awk -v seed=107 -v n=60 -v v6=1 -v mode=questions -f "$GEN" >q6
    ask tcprules6 "$R6/tcprulescheck" gen6.cdb q6 "generated IPv6 rules"
fi
finish
