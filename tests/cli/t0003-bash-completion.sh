#!/bin/sh
# The bash completion (completion/relaymap.bash) under bash-completion:
# map types, syntaxes and formats as the tools list them, the fixed value
# lists, and option lists equal to the tools' getopt tables (tools/*.c), so
# the completion cannot drift from the tools.
. "$TOP/tests/cli/lib.sh"
bc=/usr/share/bash-completion/bash_completion
need_tool bash bash || { finish; exit 1; }
if [ ! -f $bc ]; then
    _notok "$bc is missing: install the Debian package bash-completion (make deps-test does)"
    finish; exit 1
fi

# comp WORD... : the completions bash offers for the last WORD, sorted.
cat > comp.bash <<B
. $bc
. "$TOP/completion/relaymap.bash"
COMP_WORDS=("\$@"); COMP_CWORD=\$((\$# - 1))
COMP_LINE="\$*"; COMP_POINT=\${#COMP_LINE}
f=\$(complete -p "\$1" | sed 's/.*-F \([^ ]*\) .*/\1/')
"\$f" "\$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf '%s\n' "\${COMPREPLY[@]}" | sed 's/=\$//' | sort -u
B
comp() { bash comp.bash "$@"; }

# check NAME WANT WORD... : the completions are exactly WANT (words).
check() {
    name=$1; printf '%s\n' $2 | sort -u > want; shift 2
    comp "$@" > got
    if cmp -s want got; then _ok "$name"; else _notok "$name"; diff want got | sed 's/^/#   /'; fi
}

check "mapc -t offers every map type" "hash btree dbm gdbm cdb lmdb" mapc -t ''
check "mapc --type= offers every map type" "hash btree dbm gdbm cdb lmdb" mapc --type=''
check "mapc -t g offers gdbm" "gdbm" mapc -t g
check "mapc -s offers every syntax" "access tcprules tcprules6 rcpthosts" mapc -s ''
check "mapc --migrate MAP offers the new type" "hash btree dbm gdbm cdb lmdb" mapc --migrate hash:access ''
check "relayconv --to offers every format" \
    "policy sendmail qmail qmail6 postfix exim exchange antirelay" relayconv --to ''
check "relayconv --from offers every format" \
    "policy sendmail qmail qmail6 postfix exim exchange antirelay" relayconv --from ''
check "relayconv -F offers every format" \
    "policy sendmail qmail qmail6 postfix exim exchange antirelay" relayconv --verify -F ''
check "relayconv --to=p offers policy and postfix" "policy postfix" relayconv --to=p
check "relayconv --reg-version offers 4 and 5" "4 5" relayconv --reg-version ''
check "relayconv --table-type offers lmdb, cdb, hash" "lmdb cdb hash" relayconv --table-type ''
# The dynamic lists are the tools' own.
check "mapc -t lists what mapc -l lists" "$(mapc -l | awk '/^syntaxes:/ { exit } { print $1 }')" mapc -t ''
check "relayconv --to lists what relayconv --list lists" "$(relayconv --list | awk '{ print $1 }')" relayconv --to ''

# Options: every long option in the tool's table and every letter of its
# option string, and nothing else.
for t in mapc relayconv relaytest; do
    src="$TOP/tools/$t.c"
    longs=$(awk '/struct option [a-z_]*\[\] = \{/ { f = 1; next } f && /\{ NULL/ { f = 0 } f' "$src" |
        grep -o '{ *"[a-z-]*"' | sed 's/{ *"\(.*\)"/--\1/')
    shorts=$(grep -o 'getopt_long(argc, argv, "[^"]*"' "$src" | sed 's/.*"\(.*\)"/\1/' |
        tr -d ':' | sed 's/./-& /g')
    ok_if "$t: option table found in tools/$t.c" test -n "$longs" -a -n "$shorts"
    check "$t -- offers exactly the long options of tools/$t.c" "$longs" $t --
    check "$t - offers exactly the options of tools/$t.c" "$longs $shorts" $t -
done
check "mapc --ty completes --type" "--type" mapc --ty
finish
