/*
 * fuzz_exim.c - libFuzzer target for the Exim codec: the eight files of an
 * Exim policy (exim.lists.conf, exim.acl.conf, relay_hosts, refused_hosts,
 * relay_to_domains, refused_senders, refused_recipients,
 * accepted_recipients) separated by NUL bytes; see fuzz_files.h.
 */
#include "tests/fuzz/fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_files(&lm_codec_exim, data, size);
}
