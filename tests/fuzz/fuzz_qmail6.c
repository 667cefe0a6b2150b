/*
 * fuzz_qmail6.c - libFuzzer target for the qmail6 codec (the IPv6 build of
 * tcpserver): the qmail target's body and invariants, read and written
 * with the IPv6 grammar.
 */
#define FUZZ_QMAIL_CODEC lm_codec_qmail6
#include "fuzz_qmail.c"
