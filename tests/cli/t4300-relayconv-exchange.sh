#!/bin/sh
# relayconv with the Exchange 5.5 codec: the worked example of the reference
# written byte for byte (version 5 and REGEDIT4), read back in every form
# regedit takes (LF, other wrapping, values in any order, other values, the
# KB's "Service" spelling), non-contiguous masks, lists switched off by
# RelayFlags, the server address and authenticated clients in --decide, and
# each bad input refused with file:line and nothing written.
. "$TOP/tests/cli/lib.sh"
DATA="$TOP/tests/data/exchange"
cp "$DATA"/*.reg "$DATA/worked.txt" .

# the reference's worked example, byte for byte as Wine's reg export wrote it
relayconv --to exchange worked.txt > v5.reg
same_file "worked example: version 5 bytes" v5.reg imc-relay-v5.reg
relayconv --to exchange --reg-version 4 worked.txt > v4.reg
same_file "worked example: REGEDIT4 bytes" v4.reg imc-relay-v4.reg
relayconv --to exchange --reg-version 5 -o v5o.reg worked.txt
same_file "worked example: -o and --reg-version 5" v5o.reg imc-relay-v5.reg
golden "ex-bad-reg-version" 64 relayconv --to exchange --reg-version 3 worked.txt
golden "ex-reg-version-other-format" 64 relayconv --to sendmail --reg-version 4 worked.txt

# reading: both versions, and every variation regedit accepts
golden "ex-v5-to-policy" 0 relayconv --to policy imc-relay-v5.reg
golden "ex-v4-to-policy" 0 relayconv --to policy imc-relay-v4.reg
ok_if "v5 and REGEDIT4 decide alike" relayconv --verify imc-relay-v5.reg imc-relay-v4.reg
golden "ex-variants" 0 relayconv --to policy variants.reg
ok_if "LF, rewrapped, reordered, KB spelling: same policy" \
    relayconv --verify variants.reg imc-relay-v5.reg
golden "ex-variants-lint" 1 relayconv --lint variants.reg
golden "ex-noncontig" 0 relayconv --to policy noncontig.reg
golden "ex-noncontig-back" 0 sh -c 'relayconv --to exchange --reg-version 4 noncontig.reg'
golden "ex-disabled" 0 relayconv --to policy disabled.reg
golden "ex-full" 0 relayconv --to policy full.reg
golden "ex-open" 0 relayconv --to policy open.reg
relayconv --to exchange -o full2.reg full.reg 2>/dev/null
ok_if "all four settings: exchange -> exchange decides alike" relayconv --verify full.reg full2.reg
relayconv --to exchange --reg-version 4 -o open2.reg open.reg 2>/dev/null
ok_if "RelayFlags = 1 written back" grep -q '"RelayFlags"=dword:00000001' open2.reg

# decide follows the KB: deny before allow, the server address, AUTH
golden "ex-decide-denied" 0 relayconv --decide --client 10.1.2.3 full.reg
golden "ex-decide-allowed" 0 relayconv --decide --client 10.9.9.9 full.reg
golden "ex-decide-server" 0 relayconv --decide --client 198.51.100.1 --server 192.0.2.1 full.reg
golden "ex-decide-auth" 0 relayconv --decide --client 198.51.100.1 --authenticated full.reg
golden "ex-decide-denied-auth" 0 relayconv --decide --client 10.1.2.3 --authenticated full.reg
golden "ex-decide-open" 0 relayconv --decide --client 198.51.100.1 open.reg
golden "ex-decide-open-denied" 0 relayconv --decide --client 10.1.0.9 open.reg

# accepted domains ride along as comments regedit ignores
printf '%s\n' 'accept domain example.com' 'accept subdomains example.org' \
    'local 192.0.2.25' 'connect net 172.16.5.0/24 relay' > domains.txt
golden "ex-domains" 0 relayconv --to exchange --reg-version 4 domains.txt
relayconv --to exchange -o domains.reg domains.txt
ok_if "domains and locals come back" relayconv --verify domains.txt domains.reg

# what the lists cannot say
cp "$TOP/examples/policy.txt" .
golden "ex-example-refused" 65 relayconv --to exchange -o never.reg policy.txt
ok_if "nothing written when refused" test ! -e never.reg
printf '%s\n' 'connect net 10.0.0.0/8 relay' 'connect net 10.6.6.6 reject "go away"' \
    'connect name mail.example.com relay' 'connect net 2001:db8::/32 relay' \
    'to address postmaster@example.com reject' > lossy.txt
golden "ex-losses" 65 relayconv --to exchange -o never.reg lossy.txt
golden "ex-losses-json" 65 relayconv --to exchange --json -o never.reg lossy.txt

# bad input: exit 65, file:line, nothing written
for f in err-oddhex err-noterm err-header err-nobom err-hostbits err-toomany err-flags; do
    golden "ex-$f" 65 relayconv --from exchange --to policy -o never.txt $f.reg
done
ok_if "nothing written after bad input" test ! -e never.txt
{ printf '\376\377'; printf 'Windows Registry Editor Version 5.00\r\n' | iconv -f UTF-8 -t UTF-16BE; } > be.reg
golden "ex-utf16be" 65 relayconv --to policy be.reg
printf 'Windows Registry Editor Version 5.00\r\n' | iconv -f UTF-8 -t UTF-16BE > be2.reg
golden "ex-utf16be-nobom" 65 relayconv --to policy be2.reg
printf '\377\376W\000i\000' > cut.reg
printf 'x' >> cut.reg
golden "ex-utf16-odd" 65 relayconv --to policy cut.reg
finish
