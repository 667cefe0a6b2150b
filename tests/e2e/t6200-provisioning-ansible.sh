#!/bin/sh
# examples/provisioning/site.yml under the real ansible-playbook (local
# connection only), against a temporary root: the first run changes every
# task, a second changes none and touches no file; every output is proven
# against the policy (relayconv --verify) and the maps are up to date
# (mapc --check; tcp.smtp.cdb byte for byte tcprules' own).  Then one
# sender rule changes: exactly the Sendmail map, access.db and the qmail set
# change, and of the qmail files only badmailfrom is replaced.  Then one
# client network is added: everything that lists clients changes, the
# domain and sender files stay.  Counts come from the PLAY RECAP; "changed"
# and "untouched" from each file's inode, mode and mtime.
. "$TOP/tests/cli/lib.sh"
need_tool ansible-playbook ansible-core || { finish; exit; }
need_tool relayconv "(make builds it)" || { finish; exit; }
need_tool mapc "(make builds it)" || { finish; exit; }
need_tool tcprules ucspi-tcp || { finish; exit; }

# Ansible writes under HOME and its temporary directories: keep them here.
mkdir home ansible-tmp
HOME=$T/home ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ANSIBLE_REMOTE_TEMP=$T/ansible-tmp
ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=auto_silent
export HOME ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP ANSIBLE_NOCOLOR ANSIBLE_RETRY_FILES_ENABLED \
    ANSIBLE_PYTHON_INTERPRETER
PLAYBOOK=$TOP/examples/provisioning/site.yml
R=$T/root
cp "$TOP/examples/policy.txt" policy.txt
M1=$R/mail1/etc/mail M2=$R/mail2/etc/qmail GW=$R/gateway

n=0
play() {
    n=$((n + 1))
    # Ansible refuses to start in the C locale the tests run in
    LC_ALL=C.UTF-8 ansible-playbook -i localhost, -c local -e "root=$R" -e "policy=$T/policy.txt" \
        "$PLAYBOOK" </dev/null >"play$n.log" 2>&1
    prc=$?
    changed=$(sed -n 's/^localhost *:.* changed=\([0-9]*\).*/\1/p' "play$n.log")
    tasks=$(grep -c '^TASK \[' "play$n.log")
    [ "$prc" = 0 ] || sed 's/^/#   /' "play$n.log" | tail -30
}

# inode, mode and mtime of every file of the three servers; all made old first
snapshot() {
    find "$R" -type f -exec touch -d '2001-02-03 04:05:06' {} +
    find "$R" -type f | sort | xargs stat -c '%n %i %a %Y' >"$1"
}
# the files whose inode, mode or mtime differ from snapshot $1, as paths below $R
touched_since() {
    find "$R" -type f | sort | xargs stat -c '%n %i %a %Y' | diff "$1" - |
        sed -n "s|^> $R/\([^ ]*\) .*|\1|p" | sort | tr '\n' ' '
}

prove() {
    ok_if "$1: mail1 access decides like the policy" relayconv --verify policy.txt "$M1/access"
    ok_if "$1: mail1 access.db holds access" mapc --check -t hash "$M1/access"
    ok_if "$1: mail2 qmail files decide like the policy" relayconv --verify policy.txt "$M2"
    ok_if "$1: mail2 tcp.smtp.cdb holds tcp.smtp" mapc --check -s tcprules -t cdb "$M2/tcp.smtp"
    tcprules ref.cdb ref.tmp <"$M2/tcp.smtp"
    same_file "$1: mail2 tcp.smtp.cdb is byte for byte tcprules' own" ref.cdb "$M2/tcp.smtp.cdb"
    ok_if "$1: the gateway's .reg decides like the policy's relay rules" \
        relayconv --verify "$GW/relay-policy.txt" "$GW/relay.reg"
    ok_if "$1: the gateway's antirelay files decide like the policy's relay rules" \
        relayconv --verify "$GW/relay-policy.txt" "$GW/antirelay"
    # the relay rules are the policy but its sender rules: the same decisions
    # for every client and recipient once the senders are taken out of both
    grep -v '^from ' policy.txt >nosenders.txt
    ok_if "$1: the gateway's relay rules are the policy's, senders aside" \
        relayconv --verify nosenders.txt "$GW/relay-policy.txt"
    ok_if "$1: no lock or temporary file left" test -d "$R" -a -z "$(find "$R" -name '.*')"
}

# 1: a new root; every task changes
play
ok_if "run 1: the playbook succeeds" test "$prc" = 0
ok_if "run 1: every task changed ($changed of $tasks)" test "$tasks" = 8 -a "$changed" = "$tasks"
prove "run 1"

# 2: the same policy; nothing changes, no file is touched
snapshot s2
play
ok_if "run 2: the playbook succeeds" test "$prc" = 0
ok_if "run 2: no task changed ($changed)" test "$changed" = 0
ok_if "run 2: no file touched: $(touched_since s2)" test -s s2 -a -z "$(touched_since s2)"
ok_if "run 2: the proofs (handlers) did not run" test "$(grep -c 'RUNNING HANDLER' play2.log)" = 0

# 3: one sender rule changes: Sendmail's map and qmail's badmailfrom only
sed -i 's/^from address spam@hacker.com reject/from address spam@cracker.example reject/' policy.txt
ok_if "run 3: the policy was edited" grep -q '^from address spam@cracker.example' policy.txt
snapshot s3
play
ok_if "run 3: the playbook succeeds" test "$prc" = 0
ok_if "run 3: three tasks changed (access, access.db, qmail) ($changed)" test "$changed" = 3
want="mail1/etc/mail/access mail1/etc/mail/access.db mail2/etc/qmail/badmailfrom "
ok_if "run 3: exactly access, access.db and badmailfrom replaced: $(touched_since s3)" \
    test "$(touched_since s3)" = "$want"
ok_if "run 3: the new sender is in access.db" \
    test "$(mapc -t hash -q from:spam@cracker.example "$M1/access")" = REJECT
prove "run 3"

# 4: one client network more: every file that lists relaying clients
echo 'connect net 192.0.2.0/24 relay' >>policy.txt
snapshot s4
play
ok_if "run 4: the playbook succeeds" test "$prc" = 0
ok_if "run 4: every task but the directories changed ($changed)" test "$changed" = 7
want="gateway/antirelay/ARgoodIP.dat gateway/relay-policy.txt gateway/relay.reg"
want="$want mail1/etc/mail/access mail1/etc/mail/access.db mail2/etc/qmail/tcp.smtp"
want="$want mail2/etc/qmail/tcp.smtp.cdb "
ok_if "run 4: the client lists replaced, rcpthosts, badmailfrom, ARdomain.dat and antirelay.ini not: $(touched_since s4)" \
    test "$(touched_since s4)" = "$want"
ok_if "run 4: the new network relays on every server" sh -c "
    for p in '$M1/access' '$M2' '$GW/relay.reg' '$GW/antirelay'; do
        relayconv --decide --client 192.0.2.7 \"\$p\" | grep -q ': relays' || exit 1
    done"
prove "run 4"

# 5: and again: nothing
snapshot s5
play
ok_if "run 5: no task changed ($changed)" test "$prc" = 0 -a "$changed" = 0
ok_if "run 5: no file touched: $(touched_since s5)" test -s s5 -a -z "$(touched_since s5)"
finish
