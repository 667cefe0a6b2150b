#!/bin/sh
# relayconv --to postfix, proven on the real Postfix: the bundled example and
# seeded generated policies of a few hundred rules are converted, the access
# tables compiled with Postfix's own postmap (lmdb:, the default table type),
# the main.cf fragment appended to a private configuration, and a private
# master (unpacked from Debian's package, never installed; every transport
# discards) started on a loopback port.  Plain MAIL/RCPT probes from inside
# and outside clients (127.0.0.x source addresses) must get the verdict that
# relayconv --decide gives on the converted files and on the source policy
# (tests/e2e/mta_probe.py); relaytest's baseline probe too; and postmap -q on
# the cidr and access tables must agree with decide() on sampled keys.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/e2e/lib.sh"
POSTMAP="$ROOT/usr/sbin/postmap"
need_tool "$MASTER" "postfix (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)" || { finish; exit; }
need_tool "$ROOT/usr/lib/postfix/postfix-lmdb.so" "postfix-lmdb (unpacked by 'sh mk/deps.sh test', listed in mk/debs.txt)" || { finish; exit; }
need_tool "$PY" python3 || { finish; exit; }
need_tool relayconv "(make builds it)" || { finish; exit; }
need_tool relaytest "(make builds it)" || { finish; exit; }

chmod 755 "$T"
port=$(free_ports 1)

# One private Postfix per policy, in $T/NAME: configuration, queue, tables.
setup_postfix() {
    postfix_setup "$T/$1" relaymap.test
    cat >>"$D/conf/main.cf" <<CF
relay_transport = discard:RELAYED
smtpd_soft_error_limit = 100000
smtpd_hard_error_limit = 100000
smtpd_recipient_limit = 100000
CF
    # lmdb: is a plug-in, found through dynamicmaps.cf
    echo 'lmdb postfix-lmdb.so dict_lmdb_open mkmap_lmdb_open' >"$D/conf/dynamicmaps.cf"
    echo "127.0.0.1:$port inet n - n - - smtpd" >>"$D/conf/master.cf"
}

postmap_q() {
    LD_LIBRARY_PATH="$LIBS" "$POSTMAP" -c "$D/conf" -q "$1" "$2"
}

# postmap -q VALUE class, as decide() states the outcome: relays, rejects,
# discards, or passes (no value, DUNNO, relaymap_norelay).
value_class() {
    case $1 in
    OK|[0-9]) echo relays ;;
    REJECT*|[45][0-9][0-9]\ *) echo rejects ;;
    DISCARD*) echo discards ;;
    *) echo passes ;;
    esac
}

# postmap -q on the cidr table for each client against decide for that client
# and an outside recipient: the first match in file order is what decide says.
check_cidr() {
    _bad=0
    while read -r c; do
        _v=$(postmap_q "$c" "cidr:$D/pol/relay_clients.cidr")
        _want=$(value_class "$_v")
        _got=$(relayconv --decide --client "$c" --to "x@outside.relaymap.test" "$D/pol" |
               sed -n 's/.*: \(relays\|accepts\|discards\|refuses\|rejects\|denies\) .*/\1/p')
        case $_want:$_got in
        relays:relays|rejects:rejects|discards:discards|passes:refuses) ;;
        *) echo "client $c: postmap says \"$_v\", decide $_got"; _bad=1 ;;
        esac
    done <"$1"
    return $_bad
}

# postmap -q on sender_access and recipient_access for every whole key
# (domains and addresses; ".domain" keys are only found through a lookup
# order postmap -q does not make) against decide's reason for that address.
check_access() {
    _bad=0
    for _t in sender_access recipient_access; do
        grep -v '^\.' "$D/pol/$_t" | while read -r _k _v; do
            _pv=$(postmap_q "$_k" "lmdb:$D/pol/$_t")
            [ "$_pv" = "$_v" ] || { echo "$_t: postmap -q $_k gives \"$_pv\", the file \"$_v\""; exit 1; }
            [ -n "$2" ] || continue
            case $_k in *@*) _a=$_k ;; *) _a=probe@$_k ;; esac
            if [ $_t = sender_access ]; then
                _why=$(relayconv --decide --json --client "$2" --from "$_a" --to "postmaster" "$D/pol")
                case $(value_class "$_pv"):$_why in
                rejects:*'"sender refused"'*|discards:*'discarded'*) ;;
                passes:*'"unqualified local recipient"'*|relays:*'"unqualified local recipient"'*) ;;
                *) echo "sender $_a: postmap says \"$_pv\", decide $_why"; exit 1 ;;
                esac
            else
                _why=$(relayconv --decide --json --client "$2" --to "$_a" "$D/pol")
                case $(value_class "$_pv"):$_why in
                rejects:*'"recipient refused"'*|discards:*'discarded'*) ;;
                relays:*'"mail for this recipient is accepted"'*) ;;
                passes:*) case $_why in *'"recipient refused"'*|*'"mail for this recipient is accepted"'*)
                          echo "recipient $_a: postmap says \"$_pv\", decide $_why"; exit 1 ;; esac ;;
                *) echo "recipient $_a: postmap says \"$_pv\", decide $_why"; exit 1 ;;
                esac
            fi
        done || _bad=1
    done
    return $_bad
}

# NAME SOURCE CLIENTS SENDERS RCPTS: convert, start, probe, stop.
prove() {
    pn=$1 src=$2
    setup_postfix "$pn"
    ok_if "$pn: relayconv converts it to postfix" \
        relayconv --to postfix --postfix-dir "$D/pol" -o "$D/pol" "$src"
    ok_if "$pn: Postfix's postmap compiles the access tables (lmdb:)" sh -c "
        for t in client_access sender_access recipient_access; do
            LD_LIBRARY_PATH='$LIBS' '$POSTMAP' -c '$D/conf' lmdb:'$D/pol'/\$t || exit 1
        done"
    cat "$D/pol/main.cf.relaymap" >>"$D/conf/main.cf"
    ok_if "$pn: Postfix master starts with the converted configuration" postfix_start 300
    ok_if "$pn: every RCPT probe: the real Postfix, --decide on the output and on the source agree" \
        "$PY" "$TOP/tests/e2e/mta_probe.py" --relayconv "$(command -v relayconv)" \
        --source "$src" --target "$D/pol" --clients "$3" --senders "$4" --rcpts "$5" \
        --tcp "127.0.0.1:$port"
    [ -n "$VERBOSE" ] && cat "$T/ok_if.log"
    # relaytest's baseline probe from every client: relayed exactly where
    # decide says the client relays (its sender is postmaster@ the banner's name).
    _rtbad=0
    while read -r c; do
        relaytest --timeout 10 --helo tester.test --outside-domain relaymap-outside.test \
            --only 0 --source "$c" "127.0.0.1:$port" >"$T/rt.out" 2>&1
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
    ok_if "$pn: postmap -q on the cidr table agrees with decide on the sampled clients" \
        check_cidr "$3"
    # a client the connect checks let through, to see the address checks
    _quiet=
    for c in 192.0.2.1 $(cat "$3"); do
        case $(relayconv --decide --client "$c" --to x@outside.relaymap.test "$D/pol") in
        *": relays "*|*": refuses "*) _quiet=$c; break ;;
        esac
    done
    if [ -n "$_quiet" ]; then
        ok_if "$pn: postmap -q on the access tables agrees with decide" check_access "$3" "$_quiet"
    else
        ok_if "$pn: postmap -q on the access tables (every client is refused at connect)" \
            check_access "$3" ""
    fi
    postfix_stop
    ok_if "$pn: no message reached the queue (no DATA)" \
        sh -c "! grep -q 'message-id=' '$D/maillog'"
}

# Recipients never include a bare "postmaster": Postfix accepts it from every
# client whatever the restrictions say (RFC 5321 4.5.1), which is the
# server's own business like a loopback client's, outside the policy
# (relaymap-formats(5)).  "local" stands for the bare local parts.
# The bundled example: 127.0.0.1 may relay, the other loopback clients not.
mkdir -p "$T/ex"
printf '127.0.0.1\n127.0.0.2\n127.0.0.9\n' >"$T/ex/clients"
printf '<>\nspam@hacker.com\nsomeone@spammail.com\nx@sub.spammail.com\nfriend@useful.org\nfriend@outside.test\n' >"$T/ex/senders"
printf 'local\nu@example.com\nu@sub.example.com\nu@example.net\nx@outside.test\nx@[10.0.0.1]\n' >"$T/ex/rcpts"
prove example "$TOP/examples/policy.txt" "$T/ex/clients" "$T/ex/senders" "$T/ex/rcpts"

# Seeded generated policies of a few hundred rules.
for seed in 1 2; do
    mkdir -p "$T/g$seed"
    "$PY" "$TOP/tests/e2e/gen_policy.py" "$seed" 300 --probes "$T/g$seed" >"$T/g$seed/policy.txt"
    prove "seed$seed" "$T/g$seed/policy.txt" "$T/g$seed/clients" "$T/g$seed/senders" \
        "$T/g$seed/rcpts"
done
finish
