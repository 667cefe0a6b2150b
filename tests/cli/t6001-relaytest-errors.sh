#!/bin/sh
# relaytest against servers that misbehave: a slow banner, a server that
# stalls, a banner that is not SMTP, a refusing banner, nobody listening;
# and usage errors.  Each must end with its documented exit status.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/smtppeer.sh"
need_tool "$PY" python3 || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }

# A banner that dribbles in over about a second is still a banner.
start_peer slow slowbanner
run relaytest --timeout 3 --helo tester.test 127.0.0.1:$port
stop_peer
ok_if "slow banner within the timeout: all 20 denied, exit 0" \
    sh -c "[ $rc = 0 ] && grep -q '^summary: 20 probes: 0 relayed, 20 denied' '$T/out'"

# A server that never answers MAIL FROM: each probe times out and the session
# is reopened for the next one; after three in a row the rest are given up.
# Exit 75.
start_peer stall stall
golden stall 75 rt --timeout 0.5 --only 0,1,2,19 --helo tester.test 127.0.0.1:$port
stop_peer
ok_if "stall: one session per probe, none after the third timeout" \
    test "$(grep -c 'connect from' "$T/stall.log")" = 3

start_peer garbage garbage
golden garbage 76 rt --timeout 2 --helo tester.test 127.0.0.1:$port
stop_peer

start_peer refuse refuse
golden refuse 69 rt --timeout 2 --helo tester.test 127.0.0.1:$port
run relaytest --json --timeout 2 --helo tester.test 127.0.0.1:$port
cp "$T/out" "$T/refuse.json"
stop_peer
ok_if "refusing server: JSON says failure connect, exit 69" \
    json_check "$T/refuse.json" "j['failure']=='connect' and j['exit']==69 and j['probes']==[]"

# Nobody listens on the port of a peer that has gone.
start_peer gone closed
stop_peer
golden nolistener 69 rt --timeout 2 --helo tester.test 127.0.0.1:$port

# A pipe command that ends at once.
golden pipe-exits 69 relaytest --timeout 2 --server-ip 192.0.2.1 --pipe 'exit 0'

golden usage-noserver 64 relaytest
golden usage-only 64 relaytest --only 3,20 localhost
golden usage-pipe-ip 64 relaytest --pipe 'exim -bh 192.0.2.7'
golden usage-timeout 64 relaytest --timeout 0 localhost
golden usage-value 64 relaytest --helo x --local-user 'a b' localhost
golden usage-hostport 64 relaytest '[::1'
finish
