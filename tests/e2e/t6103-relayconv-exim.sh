#!/bin/sh
# relayconv --to exim, proven on the real Exim: the bundled example and
# seeded generated policies of a few hundred rules (without host names and
# reply texts, which Exim's lists do not hold) are converted, the two include
# files put into a private configuration, and Exim 4 (unpacked from Debian's
# package, never installed) run in host-checking mode, "exim -bh CLIENT", in
# an empty network namespace.  Plain MAIL/RCPT probes from inside and outside
# clients must get the verdict relayconv --decide gives on the converted files
# and on the source policy (tests/e2e/mta_probe.py); relaytest's baseline too.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/e2e/lib.sh"
exim_need || { finish; exit; }
need_tool "$PY" python3 || { finish; exit; }
need_tool relayconv "(make builds it)" || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }
exim_users

# NAME: an Exim configuration in $T/NAME that includes the converted files
# of $T/NAME/pol, and $T/NAME/exim.sh to run it.
setup_exim() {
    D=$T/$1
    mkdir -p "$D/spool"
    cat >"$D/exim.conf" <<CONF
# relayconv end-to-end: Exim in host-checking mode; nothing is delivered.
primary_hostname = mail.relaymap.test
domainlist local_domains = @ : localhost
spool_directory = $D/spool
log_file_path = $D/spool/%slog
host_lookup =
rfc1413_hosts =
.include $D/pol/exim.lists.conf

begin acl
.include $D/pol/exim.acl.conf

begin routers
outside:
  driver = accept
  transport = devnull

begin transports
devnull:
  driver = appendfile
  file = /dev/null
CONF
    exim_script "$D/exim.conf" "$D/exim.sh" "$D/exim.err"
}

# NAME SOURCE CLIENTS SENDERS RCPTS
prove() {
    pn=$1 src=$2
    setup_exim "$pn"
    ok_if "$pn: relayconv converts it to exim" relayconv --to exim -o "$D/pol" "$src"
    chmod -R go+rX "$D/pol"
    ok_if "$pn: Exim accepts the configuration (exim -bV)" sh "$D/exim.sh" -bV
    ok_if "$pn: every RCPT probe: the real Exim (-bh), --decide on the output and on the source agree" \
        "$PY" "$TOP/tests/e2e/mta_probe.py" --relayconv "$(command -v relayconv)" \
        --source "$src" --target "$D/pol" --clients "$3" --senders "$4" --rcpts "$5" \
        --bh "sh $D/exim.sh -bh {ip}"
    [ -n "$VERBOSE" ] && cat "$T/ok_if.log"
    _rtbad=0
    while read -r c; do
        relaytest --timeout 10 --server-ip 192.0.2.1 --helo tester.test \
            --outside-domain relaymap-outside.test --only 0 \
            --pipe "sh $D/exim.sh -bh $c" >"$T/rt.out" 2>&1
        _rc=$?
        _d=$(relayconv --decide --client "$c" --from postmaster@mail.relaymap.test \
             --to relaytest@relaymap-outside.test "$D/pol" | sed -n 's/.*: \(relays\|accepts\|discards\|refuses\|rejects\|denies\) .*/\1/p')
        case $_rc:$_d in
        1:relays|0:refuses|0:rejects|0:denies) ;;
        *) _rtbad=1; echo "# relaytest from $c: exit $_rc, decide $_d"; sed 's/^/#   /' "$T/rt.out" ;;
        esac
    done <"$3"
    ok_if "$pn: relaytest's baseline relays exactly from the clients decide lets relay" \
        test "$_rtbad" = 0
}

# Recipients never include a bare local part or an address literal: Exim
# refuses both with 501 before any ACL (the server's own business,
# relaymap-formats(5)), and after three such errors ends the session.
# -bh takes any client address.
mkdir -p "$T/ex"
printf '127.0.0.1\n172.16.5.9\n172.16.5.255\n172.16.4.255\n192.0.2.7\n::1\n2001:db8::1\n' >"$T/ex/clients"
printf '<>\nspam@hacker.com\nsomeone@spammail.com\nx@sub.spammail.com\nfriend@useful.org\nfriend@outside.test\n' >"$T/ex/senders"
printf 'u@example.com\nu@sub.example.com\nu@example.net\nx@outside.test\n' >"$T/ex/rcpts"
prove example "$TOP/examples/policy.txt" "$T/ex/clients" "$T/ex/senders" "$T/ex/rcpts"

for seed in 3 4; do
    mkdir -p "$T/g$seed"
    "$PY" "$TOP/tests/e2e/gen_policy.py" "$seed" 300 --probes "$T/g$seed" --plain \
        >"$T/g$seed/policy.txt"
    grep @ "$T/g$seed/rcpts" >"$T/g$seed/rcpts.q"
    # -bh takes any address: the other networks' edges too
    sed -n 's/^connect net \(10\.[0-9.]*\)\/[0-9]* .*/\1/p' "$T/g$seed/policy.txt" | head -8 \
        >>"$T/g$seed/clients"
    prove "seed$seed" "$T/g$seed/policy.txt" "$T/g$seed/clients" "$T/g$seed/senders" \
        "$T/g$seed/rcpts.q"
done
finish
