#!/bin/sh
# relaytest over each transport: TCP over IPv6 loopback, a chosen source
# address, a UNIX socket, and a child process (--pipe).
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/smtppeer.sh"
need_tool "$PY" python3 || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }

# IPv6: I defaults to the peer address, written as an IPv6 address literal.
start_peer v6 percent --listen ::1 --ip IPv6:::1
run relaytest --json --helo tester.test --source ::1 "[::1]:$port"
cp "$T/out" "$T/v6.json"
stop_peer
ok_if "IPv6: server IP literal IPv6:::1, probes 8 and 9 relayed" json_check "$T/v6.json" \
    "j['server']['ip']=='IPv6:::1' and [p['probe'] for p in j['probes'] if p['verdict']=='relayed']==[8,9] and j['probes'][9]['rcpt'][0]['to']=='relaytest%example.com@[IPv6:::1]'"
ok_if "IPv6: exit 1" test "$rc" = 1

# --source: the peer sees the chosen loopback address.
start_peer src closed
run relaytest --source 127.0.0.2 --helo tester.test 127.0.0.1:$port
stop_peer
ok_if "--source 127.0.0.2: the server saw 127.0.0.2, exit 0" \
    sh -c "[ $rc = 0 ] && grep -q '^1: connect from 127.0.0.2\$' '$T/src.log'"

# UNIX socket: S from the banner, I as given.
"$PY" "$PEER" closed --unix "$T/smtp.sock" --portfile "$T/unix.port" --log "$T/unix.log" --lifetime 60 &
peer_pid=$!
i=0; while [ ! -s "$T/unix.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run relaytest --json --unix "$T/smtp.sock" --server-ip 127.0.0.1 --helo tester.test
cp "$T/out" "$T/unix.json"
stop_peer
ok_if "--unix: 20 probes denied, exit 0" json_check "$T/unix.json" \
    "j['summary']['denied']==20 and j['exit']==0 and j['server']['name']=='relay.test'"

# --pipe: one child per session, SMTP on its stdin/stdout.
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$PY" "$PEER" >"$T/peer.sh"
golden pipe-open 1 relaytest --only 0,16 --server-ip 192.0.2.1 --helo tester.test \
    --pipe "sh '$T/peer.sh' open --stdio --log '$T/pipe.log'"
ok_if "--pipe: the child got the probes" grep -q '^1> RCPT TO:@\[192.0.2.1\]:relaytest@example.com$' "$T/pipe.log"
# A command that prints notices before its banner, as exim -bh does.
run relaytest --json --only 0 --server-ip 192.0.2.1 --helo tester.test \
    --pipe "sh '$T/peer.sh' closed --stdio --preamble"
cp "$T/out" "$T/preamble.json"
ok_if "--pipe: notices before the banner are skipped" json_check "$T/preamble.json" \
    "j['exit']==0 and j['server']['banner'].startswith('220 relay.test') and j['summary']['denied']==1"
finish
