#!/bin/sh
# relaytest against a real MTA: Exim 4 from Debian, unpacked by mk/deps.sh
# (never installed), run as "exim -bh CLIENT" through relaytest --pipe in an
# empty network namespace.  The relay clients come from a cdb map compiled
# by mapc.  A client inside the relay network may relay; an outside client
# is refused on all 20 probes; a deliberately open configuration is reported
# open; without Exim's restricted-characters ACL the % hack aimed at the
# server itself is accepted (and delivered locally), which gets the note.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/e2e/lib.sh"
DATA="$TOP/tests/data/relaytest-exim"
exim_need || { finish; exit; }
need_tool "$PY" python3 || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }
need_tool mapc "(make builds it)" || { finish; exit; }

exim_users
mkdir "$T/spool"

# Relay clients: one host and one /16, compiled by mapc into cdb; Exim looks
# the client address up as is (net-cdb) and as its /16 network (net16-cdb).
printf '10.1.2.3 relay\n10.9.0.0/16 relay\n' >"$T/relay"
ok_if "mapc compiles the relay map to cdb" mapc -t cdb "$T/relay"
chmod 644 "$T/relay.cdb"

cat >"$T/exim.conf" <<CONF
# relaytest end-to-end: Exim in host-checking mode; nothing is delivered.
primary_hostname = mail.relaytest.test
smtp_banner = \$primary_hostname ESMTP relaytest e2e
domainlist local_domains = @ : localhost
hostlist relay_from_hosts = net-cdb;$T/relay.cdb : net16-cdb;$T/relay.cdb
spool_directory = $T/spool
log_file_path = $T/spool/%slog
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
.ifdef OPEN
  accept
.endif
.ifndef LAX
  deny    domains       = +local_domains
          local_parts   = ^[.] : ^.*[@%!/|]
          message       = restricted characters in address
  deny    domains       = !+local_domains
          local_parts   = ^[./|] : ^.*[@%!] : ^.*/\\\\.\\\\./
          message       = restricted characters in address
.endif
  accept  domains       = +local_domains
  accept  hosts         = +relay_from_hosts
  deny    message       = relay not permitted

begin routers
local:
  driver = accept
  domains = +local_domains
  transport = devnull
outside:
  driver = accept
  transport = devnull

begin transports
devnull:
  driver = appendfile
  file = /dev/null
CONF
# exim.sh ARGS: Exim with this configuration (exim_script).
exim_script "$T/exim.conf" "$T/exim.sh" "$T/exim.err"

# rtx CLIENT-IP MACRO|- [relaytest options]
rtx() {
    _cmd="sh $T/exim.sh -bh $1"
    [ "$2" = - ] || _cmd="$_cmd $2"
    shift 2
    relaytest --timeout 10 --server-ip 192.0.2.1 --helo tester.test "$@" --pipe "$_cmd"
}
relayed() {
    "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(" ".join(str(p["probe"]) for p in j["probes"] if p["verdict"]=="relayed"))' "$1"
}

# Outside client: every probe refused.
golden outside 0 rtx 192.0.2.7 -
ok_if "outside client: all 20 probes denied" grep -q '^summary: 20 probes: 0 relayed, 20 denied, 0 temp-failed, 0 errors' "$T/out"

# Inside clients (the host, and one in the /16): the plain outside recipient relays.
golden inside 1 rtx 10.1.2.3 -
run rtx 10.1.2.3 - --json
cp "$T/out" "$T/inside.json"
run rtx 10.9.77.1 - --json
cp "$T/out" "$T/inside16.json"
r=$(relayed "$T/inside16.json")
ok_if "client in the relay /16: exit 1, the outside recipient relays ($r)" \
    sh -c "[ $rc = 1 ] && [ '$r' = '$(relayed "$T/inside.json")' ] && case ' $r ' in *' 0 '*) true;; *) false;; esac"
run rtx 10.1.2.4 - --only 0
ok_if "client next to the listed host (10.1.2.4) may not relay" test "$rc" = 0

# A deliberately open configuration.
golden open 1 rtx 192.0.2.7 -DOPEN
# No restricted-characters ACL: Exim accepts x%y@itself and delivers it
# locally; relaytest reports it, with the note.
golden lax 1 rtx 192.0.2.7 -DLAX
ok_if "lax configuration: the % hack through the server's name gets the note" \
    grep -q '^note: probe 8: ' "$T/out"
# The note's advice: exim -bt shows that address goes to the local router.
sh "$T/exim.sh" -DLAX -bt relaytest%example.com@mail.relaytest.test </dev/null >"$T/bt.out"
ok_if "exim -bt: relaytest%example.com@mail.relaytest.test is delivered locally" \
    grep -q 'router = local' "$T/bt.out"
finish
