# Helpers for the relaytest scripts: start and stop the scripted SMTP peer
# (tests/cli/smtppeer.py).  Source after lib.sh.
#
#   start_peer NAME MODE [ARGS...]  peer in the background; sets $port and
#                                   $peer_pid; its log is $T/NAME.log
#   stop_peer                       end the last peer started
#   rt ARGS...                      relaytest with "port <number>" shown as
#                                   "port PORT" (for golden files)
PEER="$TOP/tests/cli/smtppeer.py"
# Debian's python3 (mk/apt-test.txt); a version manager's shim on PATH costs a
# second per start.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DATA="$TOP/tests/data/relaytest"

start_peer() {
    _pn=$1; shift
    rm -f "$T/$_pn.port" "$T/$_pn.log"
    "$PY" "$PEER" "$@" --portfile "$T/$_pn.port" --log "$T/$_pn.log" --lifetime 60 &
    peer_pid=$!
    _i=0
    while [ ! -s "$T/$_pn.port" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    port=$(cat "$T/$_pn.port" 2>/dev/null)
    : >>"$T/$_pn.log"
    [ -n "$port" ]
}

stop_peer() {
    kill "$peer_pid" 2>/dev/null
    wait "$peer_pid" 2>/dev/null
    return 0
}

rt() {
    relaytest "$@" >"$T/rt.out" 2>"$T/rt.err"
    _rc=$?
    sed "s/port $port\$/port PORT/; s/port $port\([^0-9]\)/port PORT\1/" "$T/rt.out"
    sed "s/port $port\$/port PORT/; s/port $port\([^0-9]\)/port PORT\1/" "$T/rt.err" >&2
    return $_rc
}

# json_check FILE PYTHON-EXPR: the expression, over the parsed JSON as j, is true.
json_check() {
    "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}
