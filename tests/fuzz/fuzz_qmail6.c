/*
 * fuzz_qmail6.c - libFuzzer target for the qmail6 codec (the IPv6 build of
 * tcpserver): tcp.smtp, rcpthosts and badmailfrom separated by NUL bytes;
 * see fuzz_files.h.
 */
#include "tests/fuzz/fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_files(&lm_codec_qmail6, data, size);
}
