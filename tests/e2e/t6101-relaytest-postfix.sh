#!/bin/sh
# relaytest against a real Postfix on a loopback port: master, smtpd and
# trivial-rewrite from Debian's package, unpacked by mk/deps.sh (never
# installed), with a private configuration and queue; nothing leaves (every
# transport is discard).  The relay clients are in an access map compiled by
# mapc (hash); relaytest binds 127.0.0.x source addresses to play clients
# inside and outside the relay network.  A second listener is deliberately
# open: its mynetworks takes in all of 127.0.0.0/8, the classic mistake.
. "$TOP/tests/cli/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DATA="$TOP/tests/data/relaytest-postfix"
ROOT="$TOP/build/debs/root"
MASTER="$ROOT/usr/lib/postfix/sbin/master"
need_tool "$MASTER" postfix || { finish; exit; }
need_tool "$PY" python3 || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }
need_tool mapc "(make builds it)" || { finish; exit; }

chmod 755 "$T"
D="$T/pf"
LIBS="$ROOT/usr/lib/postfix"
for l in "$ROOT"/usr/lib/*-linux-gnu; do [ -d "$l" ] && LIBS="$LIBS:$l"; done

# Two free loopback ports: the guarded listener and the open one.
set -- $("$PY" -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
port=$1 open_port=$2

mkdir -p "$D/conf" "$D/data" "$D/queue"
for q in incoming active deferred bounce defer flush hold corrupt saved trace private pid \
         maildrop public; do
    mkdir -p "$D/queue/$q"
done
chown -R mail "$D/queue" "$D/data"
chgrp news "$D/queue/maildrop" "$D/queue/public"
chmod 730 "$D/queue/maildrop"
chmod 710 "$D/queue/public"

cat >"$D/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
meta_directory = $D/conf
daemon_directory = $ROOT/usr/lib/postfix/sbin
command_directory = $ROOT/usr/sbin
shlib_directory = $ROOT/usr/lib/postfix
mail_owner = mail
setgid_group = news
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH
maillog_file = $D/maillog
maillog_file_prefixes = $D
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.relaytest.test
mydomain = relaytest.test
mydestination = \$myhostname, localhost
mynetworks = 127.0.0.1/32
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP relaytest e2e
smtpd_relay_restrictions = permit_mynetworks, check_client_access hash:$D/access, reject_unauth_destination
default_transport = discard:RELAYED
local_transport = discard:LOCAL
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# No queue manager runs: without these every message and every rejection
# would cost a second of deliberate delay.
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
CF
cat >"$D/conf/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
127.0.0.1:$open_port inet n - n - - smtpd -o mynetworks=127.0.0.0/8
cleanup   unix  n - n - 0 cleanup
rewrite   unix  - - n - - trivial-rewrite
anvil     unix  - - n - 1 anvil
discard   unix  - - n - - discard
postlog   unix-dgram n - n - 1 postlogd
CF

# The relay network: one client, compiled by mapc for Postfix's hash: table.
printf '127.0.0.2 OK\n' >"$D/access"
ok_if "mapc compiles the access map to hash" mapc -t hash "$D/access"
# Postfix waits on files changed in the last second or so: back-date them.
touch -d "@$(($(date +%s) - 60))" "$D/conf/main.cf" "$D/conf/master.cf" "$D/access" "$D/access.db"

LD_LIBRARY_PATH="$LIBS" setsid "$MASTER" -c "$D/conf" -d -e 120 >"$D/master.out" 2>&1 &
i=0
while ! grep -q 'daemon started' "$D/maillog" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
ok_if "Postfix master started" grep -q 'daemon started' "$D/maillog"
# Stop master (it takes its children along) and wait for it, at most 5 s.
stop_postfix() {
    _mp=$(tr -d ' ' <"$D/queue/pid/master.pid" 2>/dev/null)
    [ -n "$_mp" ] && kill "$_mp" 2>/dev/null || return 0
    _i=0
    while kill -0 "$_mp" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
}

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
stop_postfix
[ -n "$KEEP" ] && cp "$D/maillog" "$KEEP"
finish
