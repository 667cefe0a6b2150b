#!/bin/sh
# relayconv: a policy through every ordered pair of formats (policy,
# sendmail, qmail, postfix, exim).  Each result is proven equivalent while
# converting and again by --verify, or refused with the reasons the target
# cannot express it (golden stderr) and nothing written.  Two policies: the
# bundled example, which every format holds; and the former example (IPv6
# loopback, a refused sender domain with its subdomains), which tcp.smtp and
# badmailfrom cannot hold.  A new format adds one name to FORMATS and its
# expected outcomes to want().
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv-pairs"
FORMATS="policy sendmail qmail postfix exim"

# SET:FROM:TO -> exit status: 0 proven and written, 65 refused.
want() {
    case $1 in
    seed:*:qmail) echo 65 ;;            # ::1 and sender subdomains: no tcp.smtp key
    seed:qmail:sendmail) echo 65 ;;     # badmailfrom's exact domain is no Sendmail key
    *) echo 0 ;;
    esac
}

for set in example seed; do
    mkdir "$set"
    case $set in
    example) cp "$TOP/examples/policy.txt" "$set/policy.txt" ;;
    seed) cp "$TOP/tests/data/relayconv/seed-policy.txt" "$set/policy.txt" ;;
    esac
    cd "$set"
    # the policy in each format; the seed's qmail form is the lossy one, and says so
    golden "$set-to-sendmail" 0 relayconv --to sendmail -o sendmail.access policy.txt
    if [ $set = seed ]; then
        golden "$set-to-qmail-lossy" 0 relayconv --to qmail --lossy --allow-widening -o qmail \
            policy.txt
    else
        golden "$set-to-qmail" 0 relayconv --to qmail -o qmail policy.txt
    fi
    golden "$set-to-postfix" 0 relayconv --to postfix -o postfix policy.txt
    golden "$set-to-exim" 0 relayconv --to exim -o exim policy.txt
    for from in $FORMATS; do
        for to in $FORMATS; do
            [ "$from" = "$to" ] && continue
            case $from in policy) in=policy.txt ;; sendmail) in=sendmail.access ;; *) in=$from ;; esac
            w=$(want "$set:$from:$to")
            golden "$set-$from-$to" "$w" relayconv --from "$from" --to "$to" -o "out-$from-$to" "$in"
            if [ "$w" = 0 ]; then
                ok_if "$set: $from -> $to: --verify proves the output equals its source" \
                    relayconv --verify "$in" "out-$from-$to"
            else
                ok_if "$set: $from -> $to: refused, nothing written" test ! -e "out-$from-$to"
            fi
        done
    done
    cd "$T"
done
finish
