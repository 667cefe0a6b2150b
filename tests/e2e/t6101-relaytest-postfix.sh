#!/bin/sh
# relaytest against a real Postfix on a loopback port: master, smtpd and
# trivial-rewrite from Debian's package, unpacked by mk/deps.sh (never
# installed), with a private configuration and queue; nothing leaves (every
# transport is discard).  The relay clients are in an access map compiled by
# mapc (hash); relaytest binds 127.0.0.x source addresses to play clients
# inside and outside the relay network.  A second listener is deliberately
# open: its mynetworks takes in all of 127.0.0.0/8, the classic mistake.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/e2e/lib.sh"
DATA="$TOP/tests/data/relaytest-postfix"
need_tool "$MASTER" postfix || { finish; exit; }
need_tool "$PY" python3 || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }
need_tool mapc "(make builds it)" || { finish; exit; }

chmod 755 "$T"
# Two free loopback ports: the guarded listener and the open one.
set -- $(free_ports 2)
port=$1 open_port=$2

postfix_setup "$T/pf" relaytest.test
cat >>"$D/conf/main.cf" <<CF
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP relaytest e2e
smtpd_relay_restrictions = permit_mynetworks, check_client_access hash:$D/access, reject_unauth_destination
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
CF
cat >>"$D/conf/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
127.0.0.1:$open_port inet n - n - - smtpd -o mynetworks=127.0.0.0/8
CF

# The relay network: one client, compiled by mapc for Postfix's hash: table.
printf '127.0.0.2 OK\n' >"$D/access"
ok_if "mapc compiles the access map to hash" mapc -t hash "$D/access"
ok_if "Postfix master started" postfix_start 120

rt() {
    relaytest --timeout 10 --helo tester.test "$@" >"$T/rt.out" 2>"$T/rt.err"
    _rc=$?
    sed "s/port $port\$/port PORT/; s/port $open_port\$/port OPENPORT/" "$T/rt.out"
    cat "$T/rt.err" >&2
    return $_rc
}

# Outside client: refused on all 20 probes.
golden outside 0 rt --source 127.0.0.3 127.0.0.1:$port
ok_if "outside client: all 20 probes denied" \
    grep -q '^summary: 20 probes: 0 relayed, 20 denied, 0 temp-failed, 0 errors' "$T/out"
# The client in the access map may relay: every probe goes through.
golden inside 1 rt --source 127.0.0.2 127.0.0.1:$port
ok_if "inside client: the baseline relays" grep -q '^ 0 .* RELAYED$' "$T/out"
run rt --source 127.0.0.4 --only 0 127.0.0.1:$port
ok_if "client next to the listed one (127.0.0.4) may not relay" test "$rc" = 0
# The deliberately open listener, from outside.
golden open 1 rt --source 127.0.0.3 --only 0,15,16 127.0.0.1:$open_port
ok_if "Postfix saw the chosen source addresses" \
    sh -c "grep -q 'connect from unknown\\[127.0.0.3\\]' '$D/maillog' && grep -q 'connect from unknown\\[127.0.0.2\\]' '$D/maillog'"
ok_if "no message reached the queue (no DATA)" \
    sh -c "! grep -q 'message-id=' '$D/maillog'"
postfix_stop
[ -n "$KEEP" ] && cp "$D/maillog" "$KEEP"
finish
