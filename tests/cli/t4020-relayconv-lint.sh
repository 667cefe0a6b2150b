#!/bin/sh
# relayconv --lint on each format: keys that can never match (a Sendmail
# CIDR key, a tcp.smtp prefix without its dot), shadowed and duplicate
# rules, RELAY for wide networks, by host name or by envelope sender; domain
# rules that change nothing under a wider rule with the same answer (and
# those that do: another answer in between, another text, another stage).
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/relayconv"
printf '%s\n' '172.16.5:allow,RELAYCLIENT=""' '127.0.0.1:allow,RELAYCLIENT=""' \
    '10.:allow,RELAYCLIENT=""' '10.1.:allow' '10.1.:deny' ':allow' > tcp.smtp
printf '%s\n' '10.0.0.0/8 RELAY' 'Connect:172.16 RELAY' 'From:partner.example RELAY' \
    'Connect:trusted.example RELAY' 'Connect:10 RELAY' > access
golden "lint-tcp.smtp" 1 relayconv --lint tcp.smtp
golden "lint-access" 1 relayconv --lint access
golden "lint-example-clean" 0 relayconv --lint "$TOP/examples/policy.txt"
cp "$DATA/lint-wider.txt" .
golden "lint-wider" 1 relayconv --lint lint-wider.txt
printf '%s\n' 'spam.example REJECT' 'mail.spam.example REJECT' 'From:x.spam.example REJECT' \
    'From:y.example REJECT' 'From:z.y.example REJECT' 'To:ok.y.example OK' > wider.access
golden "lint-wider-access" 1 relayconv --lint wider.access
# a warning from the parser alone (a key that can never match, a repeated
# accept line) is a warning too: status 1
printf '%s\n' '172.16.5:allow,RELAYCLIENT=""' > never.smtp
golden "lint-never-only" 1 relayconv --lint never.smtp
printf '%s\n' 'accept domain example.org' 'accept domain EXAMPLE.org' > repeat.txt
golden "lint-repeat-only" 1 relayconv --lint repeat.txt
finish
