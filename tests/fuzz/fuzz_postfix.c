/*
 * fuzz_postfix.c - libFuzzer target for the Postfix codec: the six files of
 * a Postfix policy (main.cf.relaymap, relay_clients.cidr, client_access,
 * sender_access, recipient_access, relay_domains) separated by NUL bytes;
 * see fuzz_files.h.
 */
#include "tests/fuzz/fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_files(&lm_codec_postfix, data, size);
}
