#!/bin/sh
# Everyday conventions of every tool: --help and --version print on standard
# output, nothing on standard error, and exit 0; a usage error (unknown
# option, missing option argument, no operand) prints the message, a
# one-line usage and a pointer to --help on standard error, nothing on
# standard output, and exits 64 (EX_USAGE).
. "$TOP/tests/cli/lib.sh"

for t in mapc relayconv relaytest; do
    for a in --help --version; do
        run $t $a
        ok_if "$t $a: exit 0, stdout only" sh -c \
            "test $rc = 0 && test -s '$T/out' && test ! -s '$T/err'"
    done
done
run mapc --help;      ok_if "mapc --help starts with usage:" sed -n '1{/^usage: mapc /q0;q1}' "$T/out"
run relayconv --help; ok_if "relayconv --help starts with usage:" sed -n '1{/^usage: relayconv /q0;q1}' "$T/out"
run relaytest --help; ok_if "relaytest --help starts with usage:" sed -n '1{/^usage: relaytest /q0;q1}' "$T/out"

# usage_case NAME WANT-MESSAGE TOOL ARGS...
usage_case() {
    name=$1 want=$2 tool=$3; shift 3
    run "$tool" "$@"
    if [ "$rc" = 64 ] && [ ! -s "$T/out" ] \
        && [ "$(sed -n 1p "$T/err")" = "$tool: $want" ] \
        && sed -n 2p "$T/err" | grep -q "^usage: $tool ." \
        && [ "$(sed -n 3p "$T/err")" = "Try '$tool --help' for more information." ] \
        && [ "$(wc -l <"$T/err")" -eq 3 ]; then
        _ok "$name"
    else
        _notok "$name (exit $rc, want 64)"; sed 's/^/#   /' "$T/out" "$T/err"
    fi
}

for t in mapc relayconv relaytest; do
    usage_case "$t: unknown long option" "unknown option --no-such-option" $t --no-such-option x
    usage_case "$t: unknown long option with =" "unknown option --no-such" $t --no-such=1 x
    usage_case "$t: unknown short option" "unknown option -Z" $t -Z x
    usage_case "$t: --help with an argument" "option --help takes no argument" $t --help=x x
done
usage_case "mapc: unknown option inside a bundle" "unknown option -Z" mapc -nZ x
usage_case "mapc: -t without its argument" "option -t needs an argument" mapc -t
usage_case "mapc: --max-line without its argument" "option --max-line needs an argument" mapc --max-line
usage_case "mapc: no operand" "no source or map named" mapc -t hash
usage_case "relayconv: --to without its argument" "option --to needs an argument" relayconv --to
usage_case "relayconv: -o without its argument" "option -o needs an argument" relayconv -o
usage_case "relayconv: no input" "no input file" relayconv --to policy
usage_case "relaytest: -t without its argument" "option -t needs an argument" relaytest -t
usage_case "relaytest: --source without its argument" "option --source needs an argument" relaytest --source
usage_case "relaytest: no server" "no server given" relaytest
finish
