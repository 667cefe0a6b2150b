#!/bin/sh
# bench/relayconv-rows.sh - the relayconv rows of issue 14 at one size, with
# `mapc -t hash` of the same Sendmail map measured alongside (the goal is a
# ratio to it).  One run each; prints "ROW WALL USER SYS MAXRSS_KB STATUS".
#
#   sh bench/relayconv-rows.sh BINDIR N [SCRATCH]
#
# BINDIR holds mapc and relayconv; the inputs are bench/gen.c's access map
# and neutral policy of N lines (seed 20261122, as make bench).  Environment:
# RC_TIMEOUT, seconds after which a row is stopped (status 124).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=$1 N=$2 W=${3:-/tmp/relayconv-rows}
mkdir -p "$W" || exit 1
CFL="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L"
[ -x "$W/gen" ] || ${CC:-cc} $CFL -o "$W/gen" "$top/bench/gen.c" || exit 1
[ -x "$W/measure" ] || ${CC:-cc} $CFL -o "$W/measure" "$top/bench/measure.c" || exit 1
[ -s "$W/access.$N" ] || "$W/gen" access "$N" 20261122 >"$W/access.$N"
[ -s "$W/policy.$N" ] || "$W/gen" policy "$N" 20261122 >"$W/policy.$N"
# RC_TIMEOUT (seconds) stops a row that runs longer (status 124)
row() { name=$1; shift; echo "$name $("$W/measure" -- ${RC_TIMEOUT:+timeout "$RC_TIMEOUT"} "$@" 2>"$W/$name.err")"; }
A=$W/access.$N P=$W/policy.$N
Q=; "$BIN/relayconv" --help | grep -q -e '\[-q\]' && Q=-q    # older builds have no -q
rm -rf "$W/o.db" "$W/q" "$W/p" "$W/s"
row mapc-hash "$BIN/mapc" -t hash -o "$W/o" "$A"
row sendmail-to-qmail "$BIN/relayconv" $Q --from sendmail --to qmail --lossy --allow-widening -o "$W/q" "$A"
row sendmail-to-policy "$BIN/relayconv" $Q --from sendmail --to policy -o "$W/p" "$A"
row verify-sendmail-policy "$BIN/relayconv" $Q --verify "$A" "$W/p"
row policy-to-sendmail "$BIN/relayconv" $Q --from policy --to sendmail -o "$W/s" "$P"
row verify-policy-sendmail "$BIN/relayconv" $Q --verify "$P" "$W/s"
rm -f "$W/o.db"
row mapc-hash-again "$BIN/mapc" -t hash -o "$W/o" "$A"
