# tests/e2e/lib.sh - the start-up the end-to-end tests share, sourced after
# tests/cli/lib.sh: the MTAs unpacked from Debian's packages by mk/deps.sh
# (never installed), free loopback ports, a private Postfix (queue, the
# settings every test needs, start, stop) and a private Exim run through
# nss_wrapper in an empty network namespace.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ROOT="$TOP/build/debs/root"
MASTER="$ROOT/usr/lib/postfix/sbin/master"
EXIM="$ROOT/usr/sbin/exim4"

# free_ports N: N free loopback TCP ports, separated by blanks.
free_ports() {
    "$PY" -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# --- Postfix ------------------------------------------------------------------

# The unpacked Postfix's libraries, for LD_LIBRARY_PATH.
LIBS="$ROOT/usr/lib/postfix"
for _l in "$ROOT"/usr/lib/*-linux-gnu; do [ -d "$_l" ] && LIBS="$LIBS:$_l"; done

# postfix_setup DIR DOMAIN: a private Postfix in DIR: its queue, a main.cf
# with what every test needs (paths, no DNS, every transport discards, no
# deliberate delays; myhostname mail.DOMAIN) and a master.cf with the
# services but no listener.  The test appends its own settings (no setting
# twice) and its smtpd lines.
postfix_setup() {
    D=$1
    mkdir -p "$D/conf" "$D/data" "$D/queue"
    for _q in incoming active deferred bounce defer flush hold corrupt saved trace private \
              pid maildrop public; do
        mkdir -p "$D/queue/$_q"
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
myhostname = mail.$2
mydomain = $2
mydestination = \$myhostname, localhost
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
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
CF
    cat >"$D/conf/master.cf" <<CF
cleanup   unix  n - n - 0 cleanup
rewrite   unix  - - n - - trivial-rewrite
anvil     unix  - - n - 1 anvil
discard   unix  - - n - - discard
postlog   unix-dgram n - n - 1 postlogd
CF
}

# postfix_start SECONDS: start the master of $D, which exits after SECONDS
# idle; 0 once it has started.
postfix_start() {
    # Postfix waits on files changed in the last second or so: back-date them.
    find "$D" -path "$D/queue" -prune -o -type f -exec touch -d "@$(($(date +%s) - 60))" {} +
    LD_LIBRARY_PATH="$LIBS" setsid "$MASTER" -c "$D/conf" -d -e "$1" >"$D/master.out" 2>&1 &
    _i=0
    while ! grep -q 'daemon started' "$D/maillog" 2>/dev/null && [ $_i -lt 100 ]; do
        sleep 0.1; _i=$((_i + 1))
    done
    grep -q 'daemon started' "$D/maillog"
}

# Stop the master of $D (it takes its children along) and wait for it, at
# most 5 s.
postfix_stop() {
    _mp=$(tr -d ' ' <"$D/queue/pid/master.pid" 2>/dev/null)
    [ -n "$_mp" ] && kill "$_mp" 2>/dev/null || return 0
    _i=0
    while kill -0 "$_mp" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
}

# --- Exim ---------------------------------------------------------------------

# exim_need: the unpacked Exim, unshare, nss_wrapper and libidn are there
# (fails the test loudly otherwise); sets EXIM_LIB and WRAP.
exim_need() {
    need_tool "$EXIM" "exim4-daemon-light (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)" || return 1
    need_tool unshare util-linux || return 1
    EXIM_LIB=$(dirname "$(find "$ROOT/usr/lib" -name libidn.so.12 2>/dev/null | head -1)")
    WRAP=$(find "$ROOT/usr/lib" -name libnss_wrapper.so 2>/dev/null | head -1)
    need_tool "$WRAP" libnss-wrapper || return 1
    need_tool "$EXIM_LIB/libidn.so.12" libidn12
}

# exim_users: $T/passwd and $T/group with the compiled-in Exim user mapped
# to the mail account; Exim drops to that uid, so $T must be reachable.
exim_users() {
    chmod 755 "$T"
    { cat /etc/passwd; echo 'Debian-exim:x:8:8:Exim:/nonexistent:/usr/sbin/nologin'; } >"$T/passwd"
    { cat /etc/group; echo 'Debian-exim:x:8:'; } >"$T/group"
}

# exim_script CONF SCRIPT ERR: SCRIPT runs Exim with configuration CONF, no
# network and no system user, its stderr appended to ERR; "SCRIPT -bh
# CLIENT-IP" is one SMTP session on stdin/stdout.
exim_script() {
    chmod 644 "$1"
    cat >"$2" <<SH
#!/bin/sh
exec unshare -n env LD_LIBRARY_PATH="$EXIM_LIB" LD_PRELOAD="$WRAP" \\
    NSS_WRAPPER_PASSWD="$T/passwd" NSS_WRAPPER_GROUP="$T/group" \\
    "$EXIM" -C "$1" "\$@" 2>>"$3"
SH
    chmod 755 "$2"
}
