#!/bin/sh
# relaytest against the scripted SMTP peer on loopback: a closed server (the
# replies of the manual transcript), an open relay, a server open only to the
# % hack, and a quirky one; relaytest must name exactly the right probes.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/smtppeer.sh"
need_tool "$PY" python3 || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }

# The probe table with its placeholders.
golden list 0 relaytest --list

# The transcript's own names: S, I, L, X, x as the seed document has them.
seed="--server-name certlinux.certcc.or.kr --server-ip 172.16.4.140 --local-user ksch"
seed="$seed --outside-domain korea.com --outside-user ksch90 --helo kisa"

start_peer closed closed --name certlinux.certcc.or.kr --ip 172.16.4.140
golden closed 0 rt $seed 127.0.0.1:$port
stop_peer
# The exact MAIL FROM / RCPT TO strings that went out, in order.
golden closed-transcript 0 grep -v 'connect from' "$T/closed.log"

start_peer open open
golden open 1 rt --helo tester.test 127.0.0.1:$port
stop_peer

start_peer percent percent
golden percent 1 rt --helo tester.test 127.0.0.1:$port
run relaytest --json --helo tester.test 127.0.0.1:$port
cp "$T/out" "$T/percent.json"
stop_peer
ok_if "percent: exit 1 and exactly probes 8 and 9 relayed (JSON)" \
    json_check "$T/percent.json" \
    "[p['probe'] for p in j['probes'] if p['verdict']=='relayed']==[8,9] and j['exit']==1 and j['summary']['denied']==18"
ok_if "percent: both relayed probes carry the local-delivery note (JSON)" \
    json_check "$T/percent.json" "[p['probe'] for p in j['probes'] if p['maybe_local']]==[8,9]"

start_peer quirky quirky
golden quirky 1 rt --helo tester.test 127.0.0.1:$port
run relaytest --json --helo tester.test 127.0.0.1:$port
cp "$T/out" "$T/quirky.json"
stop_peer
ok_if "quirky: every verdict as scripted (JSON)" json_check "$T/quirky.json" \
    "[(p['probe'],p['verdict'],p['stage'],p['error']) for p in j['probes'] if p['verdict']!='denied']==[(5,'temp-failed','mail',None),(10,'temp-failed','rcpt',None),(14,'error','rcpt','dropped'),(15,'temp-failed','rcpt',None),(17,'relayed','rcpt',None),(18,'relayed','rcpt',None)] and j['summary']['denied']==14"
ok_if "quirky: reconnected after the drops and the 421 (4 sessions)" \
    json_check "$T/quirky.json" "j['server']['sessions']==4 and not j['server']['esmtp']"
ok_if "quirky: HELO after the refused EHLO" grep -q '^1> HELO tester.test' "$T/quirky.log"

start_peer only percent
golden only 1 rt --only 8,9,15 --helo tester.test 127.0.0.1:$port
stop_peer

ok_if "DATA was never sent" sh -c "! cat '$T'/*.log | grep -i '^[0-9]*> DATA'"
finish
