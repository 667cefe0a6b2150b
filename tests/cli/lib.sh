# Shared helpers for CLI, interop and e2e test scripts (POSIX sh, TAP output).
# Source it with: . "$TOP/tests/cli/lib.sh"
#
#   run CMD...            run a command; sets $rc, stdout in $T/out, stderr in $T/err
#   golden NAME EXIT CMD  run CMD, compare exit status, stdout and stderr with
#                         $DATA/NAME.out and $DATA/NAME.err (UPDATE_GOLDEN=1 rewrites them)
#   ok_if NAME CMD...     one test: passes when CMD succeeds
#   same_file NAME A B    one test: files are byte-identical
#   need_tool TOOL PKG    a missing peer tool is a failure naming the package, never a skip
#   finish                end of script: exit 1 if any test failed

: "${TOP:?run through tests/run.sh or set TOP}"
O=${O:-build}
BIN="$TOP/$O"
PATH="$BIN:$PATH"
export PATH LC_ALL=C TZ=UTC
T=$(mktemp -d "${TMPDIR:-/tmp}/relaymap-test.XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
tn=0 tfail=0

_ok()     { tn=$((tn + 1)); echo "ok $tn - $1"; }
_notok()  { tn=$((tn + 1)); tfail=$((tfail + 1)); echo "not ok $tn - $1"; }

run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }

ok_if() {
    name=$1; shift
    if "$@" >"$T/ok_if.log" 2>&1; then _ok "$name"; else _notok "$name"; sed 's/^/#   /' "$T/ok_if.log" | head -20; fi
}

same_file() {
    if cmp -s "$2" "$3"; then _ok "$1"; else _notok "$1"; echo "#   $2 and $3 differ"; cmp "$2" "$3" | sed 's/^/#   /'; fi
}

golden() {
    name=$1 want=$2; shift 2
    run "$@"
    # Scratch paths differ from run to run: show them as $T.
    sed "s|$T|\$T|g" "$T/out" >"$T/out.n"; sed "s|$T|\$T|g" "$T/err" >"$T/err.n"
    if [ -n "$UPDATE_GOLDEN" ]; then
        cp "$T/out.n" "$DATA/$name.out"; cp "$T/err.n" "$DATA/$name.err"
    fi
    [ -f "$DATA/$name.out" ] || : >"$DATA/$name.out"
    [ -f "$DATA/$name.err" ] || : >"$DATA/$name.err"
    if [ "$rc" = "$want" ] && cmp -s "$T/out.n" "$DATA/$name.out" && cmp -s "$T/err.n" "$DATA/$name.err"; then
        _ok "$name"
    else
        _notok "$name (exit $rc, want $want)"
        diff -u "$DATA/$name.out" "$T/out.n" | sed 's/^/#   /' | head -30
        diff -u "$DATA/$name.err" "$T/err.n" | sed 's/^/#   /' | head -30
    fi
}

need_tool() {
    if command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; then return 0; fi
    _notok "peer tool $1 is missing: install the Debian package $2 (make deps-test does)"
    return 1
}

finish() {
    echo "1..$tn"
    [ "$tfail" -eq 0 ]
}
