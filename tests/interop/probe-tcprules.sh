# Shared by the tcp.smtp interop tests (t4500 IPv4, t4520 IPv6): probe a
# tcp.smtp compiled by a real tcprules with its tcprulescheck, and compare
# with relayconv --decide.  Set TCPRULES and TCPRULESCHECK before sourcing.
#
#   real_verdicts CDB PROBES     one verdict a probe line: D deny,
#                                R relay (RELAYCLIENT set), A allow
#   want_verdicts POLICY PROBES [FLAGS]   the same from relayconv --decide
#   compare POLICY DIR PROBES    DIR/tcp.smtp compiled and probed: every
#                                probe decided alike, or the differences

real_verdicts() {
    while read -r ip; do
        out=$(TCPREMOTEIP=$ip "$TCPRULESCHECK" "$1")
        case $out in
        *"deny connection"*) echo D ;;
        *"set environment variable RELAYCLIENT="*) echo R ;;
        *) echo A ;;
        esac
    done < "$2"
}

want_verdicts() {
    relayconv --decide --json $3 --client - "$1" < "$2" 2>/dev/null |
        sed -n 's/^{"verdict":"\([a-z]*\)".*/\1/p' |
        sed 's/^relay$/R/; s/^deny$/D/; s/^reject$/D/; s/^[a-z]*$/A/'
}

compare() {
    "$TCPRULES" "$2/tcp.smtp.cdb" "$2/tcp.smtp.tmp" < "$2/tcp.smtp" || return 1
    real_verdicts "$2/tcp.smtp.cdb" "$3" | paste "$3" - > real.v
    want_verdicts "$1" "$3" | paste "$3" - > want.v
    test "$(wc -l < real.v)" -eq "$(wc -l < "$3")" || return 1
    test "$(grep -c "	[DRA]$" want.v)" -eq "$(wc -l < "$3")" || return 1
    diff want.v real.v
}
