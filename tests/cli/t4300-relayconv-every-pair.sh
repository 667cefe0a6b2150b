#!/bin/sh
# relayconv: the bundled example through every ordered pair of formats
# (policy, sendmail, qmail, postfix, exim).  Each result is proven equivalent
# while converting and again by --verify, or refused with the reasons the
# target cannot express it (golden stderr) and nothing written.  A new format
# adds one name to FORMATS and its expected outcomes here.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv-pairs"
cp "$TOP/examples/policy.txt" policy.txt
FORMATS="policy sendmail qmail postfix exim"

# The example in each format.  qmail cannot hold its sender rules: its qmail
# form is the lossy one, and says so.
golden "example-to-sendmail" 0 relayconv --to sendmail -o sendmail.access policy.txt
golden "example-to-qmail-lossy" 0 relayconv --to qmail --lossy --allow-widening -o qmail policy.txt
golden "example-to-postfix" 0 relayconv --to postfix -o postfix policy.txt
golden "example-to-exim" 0 relayconv --to exim -o exim policy.txt

# FROM:TO -> exit status: 0 proven and written, 65 refused (reasons in .err).
want() {
    case $1 in
    *:qmail) echo 65 ;;                 # sender domains and ::1: tcp.smtp/badmailfrom cannot
    qmail:sendmail) echo 65 ;;          # badmailfrom's exact domain is no Sendmail key
    *) echo 0 ;;
    esac
}
for from in $FORMATS; do
    for to in $FORMATS; do
        [ "$from" = "$to" ] && continue
        case $from in policy) in=policy.txt ;; sendmail) in=sendmail.access ;; *) in=$from ;; esac
        w=$(want "$from:$to")
        golden "pair-$from-$to" "$w" relayconv --from "$from" --to "$to" -o "out-$from-$to" "$in"
        if [ "$w" = 0 ]; then
            ok_if "pair $from -> $to: --verify proves the output equals its source" \
                relayconv --verify "$in" "out-$from-$to"
        else
            ok_if "pair $from -> $to: refused, nothing written" test ! -e "out-$from-$to"
        fi
    done
done
finish
