/*
 * fuzz_qmail.c - libFuzzer target for the qmail codec: tcp.smtp, rcpthosts
 * and badmailfrom separated by NUL bytes; see fuzz_files.h.
 */
#include "tests/fuzz/fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_files(&lm_codec_qmail, data, size);
}
