#!/bin/sh
# relayconv --if-changed, for every output format (and both .reg versions):
# the same policy again exits 0 and touches no file (inode, mode, owner,
# mtime); a changed policy exits 2 and replaces exactly the files whose
# bytes differ, the others of a several-file set stay as they were; --json
# says "changed"; a missing file of a set is written; what --if-changed
# cannot go with.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv"
mkdir w && cd w || exit 1

# inode, mode, owner, mtime of every file of an output (a file or a directory)
fingerprint() { find "$1" -type f | sort | xargs stat -c '%n %i %a %u:%g %Y'; }
# the files of an output, one per line
files_of() { find "$1" -type f | sort; }

cat >relay.txt <<'EOF'
accept domain example.com
accept domain example.net
connect net 172.16.5.0/24 relay
connect net 127.0.0.1 relay
EOF
# one more network: only the files that list relaying clients change
{ cat relay.txt; echo 'connect net 10.9.0.0/16 relay'; } >relay2.txt

# $1 label, $2 output, $3.. relayconv options before the policy
each_format() {
    label=$1 out=$2; shift 2
    run relayconv --if-changed "$@" -o "$out" relay.txt
    ok_if "$label: first run writes $out (exit 2)" test "$rc" = 2 -a -e "$out"
    find "$out" -type f -exec touch -d '2001-02-03 04:05:06' {} + -exec chmod 640 {} +
    before=$(fingerprint "$out")
    run relayconv --if-changed "$@" -o "$out" relay.txt
    ok_if "$label: same policy: exit 0" test "$rc" = 0
    ok_if "$label: same policy: no file touched" test "$(fingerprint "$out")" = "$before"
    rm -rf old && cp -a "$out" old
    run relayconv --if-changed "$@" -o "$out" relay2.txt
    ok_if "$label: a network more: exit 2" test "$rc" = 2
    nsame=0 nchanged=0 bad=
    for f in $(files_of "$out"); do
        o=old${f#"$out"}
        was=$(echo "$before" | awk -v f="$f" '$1 == f')
        now=$(stat -c '%n %i %a %u:%g %Y' "$f")
        if cmp -s "$o" "$f"; then
            nsame=$((nsame + 1)); [ "$was" = "$now" ] || bad="$bad $f(same bytes, touched)"
        else
            nchanged=$((nchanged + 1)); [ "$was" != "$now" ] || bad="$bad $f(new bytes, same inode)"
            [ "$(stat -c %a "$f")" = 640 ] || bad="$bad $f(mode not kept)"
        fi
    done
    ok_if "$label: the files that differ are replaced (mode kept), the rest untouched:$bad" \
        test -z "$bad" -a "$nchanged" -gt 0
    if [ -d "$out" ]; then
        ok_if "$label: some files of the set stayed ($nsame of $((nsame + nchanged)))" \
            test "$nsame" -gt 0
    fi
    ok_if "$label: the output decides like the policy" relayconv --verify relay2.txt "$out"
}

each_format policy policy.out --to policy
each_format sendmail access --to sendmail
each_format qmail qmail --to qmail
each_format postfix postfix --to postfix
each_format exim exim --to exim
each_format exchange relay.reg --to exchange
each_format exchange-reg4 relay4.reg --to exchange --reg-version 4
each_format antirelay antirelay --to antirelay

# A file of a set that went missing is written again, alone.
before=$(fingerprint qmail | grep -v rcpthosts)
rm qmail/rcpthosts
golden "ifchanged-set-missing-file" 2 relayconv --if-changed --to qmail -o qmail relay2.txt
ok_if "qmail: rcpthosts back, the others untouched" \
    test -s qmail/rcpthosts -a "$(fingerprint qmail | grep -v rcpthosts)" = "$before"

# --json: "changed" and the exit status agree
golden "ifchanged-json-same" 0 relayconv --if-changed --json --to sendmail -o access relay2.txt
golden "ifchanged-json-changed" 2 relayconv --if-changed --json --to sendmail -o access relay.txt
# without --if-changed every run writes (exit 0) and says so
golden "ifchanged-json-without" 0 relayconv --json --to sendmail -o access relay.txt

# several-file output in the default directory beside the policy: no note
# when nothing was written
mkdir d && cp relay.txt d/
golden "ifchanged-default-dir-first" 2 relayconv --if-changed --to qmail d/relay.txt
golden "ifchanged-default-dir-same" 0 relayconv --if-changed --to qmail d/relay.txt

# a refused conversion is still an error, and nothing is touched
printf 'from address spam@hacker.com reject\n' >>relay.txt
before=$(fingerprint antirelay)
golden "ifchanged-refused" 65 relayconv --if-changed --to antirelay -o antirelay relay.txt
ok_if "refused: antirelay untouched" test "$(fingerprint antirelay)" = "$before"

# what --if-changed does not go with
golden "ifchanged-stdout" 64 relayconv --if-changed --to sendmail relay2.txt
golden "ifchanged-verify" 64 relayconv --if-changed --verify relay2.txt access
golden "ifchanged-lint" 64 relayconv --if-changed --lint relay2.txt
finish
