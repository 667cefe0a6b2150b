/*
 * fuzz_tcprules.c - libFuzzer target for the tcp.smtp line parser, the data
 * item decoder, the record dumper and the lookup walk.
 *
 * The first byte chooses the flags (IPv6 grammar, --expand, the lenient
 * mode of relayconv); every following line is parsed.  Invariants (a broken
 * one aborts, which the fuzzer reports): the data of an accepted rule
 * decodes into whole items; a rule's key and data written back by the
 * dumper parse to the same key and data (unless the key never matches);
 * what a key matches is a network, a name, or never, each with its reason;
 * the walk for an address taken from the input ends with the empty key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/tcprules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_probe(void *arg, const char *key, size_t klen)
{
    (void)key;
    *(size_t *)arg = klen;
    return 0;
}

/* Dump (key, data) and parse the line back: same single key, same data. */
static void
fuzz_round_trip(const char *key, size_t klen, const char *val, size_t vlen, unsigned flags)
{
    struct lm_tcprules_rule r;
    struct lm_diags d;
    lm_datum k = { key, klen }, v = { val, vlen };
    char *text = NULL, *buf;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    int rc;

    if (f == NULL)
        return;
    lm_diags_init(&d);
    rc = lm_tcprules_dump(f, &k, &v, flags & LM_TR_V6, &d);
    if (fclose(f) != 0 || rc != 0) {
        free(text);
        lm_diags_fini(&d);
        return;
    }
    if (tlen == 0 || text[tlen - 1] != '\n')
        abort();
    buf = malloc(LM_TCPRULES_BUF(tlen));
    if (buf == NULL)
        abort();
    if (lm_tcprules_parse(text, tlen - 1, NULL, flags & LM_TR_V6, buf, &r, &d) != 0
        || r.range || r.klen != klen || memcmp(r.key, key, klen) != 0
        || r.dlen != vlen || memcmp(r.data, val, vlen) != 0)
        abort();
    free(buf);
    free(text);
    lm_diags_fini(&d);
}

/* What a key matches: a network in order, a name, or never with a reason. */
static void
fuzz_subject(const char *key, size_t klen, unsigned flags)
{
    struct lm_tcprules_subject s;
    const char *why = NULL;
    int rc = lm_tcprules_subject(key, klen, flags, &s, &why);

    if (rc < 0 || s.what == LM_TRW_NEVER) {
        if (why == NULL)
            abort();
        return;
    }
    if (s.what == LM_TRW_NET
        && (s.net.lo.family != s.net.hi.family || lm_ipaddr_cmp(&s.net.lo, &s.net.hi) > 0
            || (s.net.lo.family == LM_IPV6 && !(flags & LM_TR_V6))))
        abort();
    if ((s.what == LM_TRW_HOST || s.what == LM_TRW_DOMAIN) && s.nlen == 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p, *end, *nl;
    unsigned flags;
    char *buf, key[4096 + 64];

    if (size < 1)
        return 0;
    flags = (data[0] & 1 ? LM_TR_V6 : 0) | (data[0] & 2 ? LM_TR_EXPAND : 0)
            | (data[0] & 4 ? LM_TR_LENIENT : 0);
    p = (const char *)data + 1;
    end = (const char *)data + size;
    if ((buf = malloc(LM_TCPRULES_BUF(size))) == NULL)
        return 0;
    for (; p < end; p = nl + 1) {
        struct lm_tcprules_rule r;
        struct lm_tcprules_item it;
        struct lm_pos pos = { "fuzz", 1, 0 };
        struct lm_diags d;
        size_t len, off = 0, last = 1;
        unsigned long n;

        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        len = (size_t)(nl - p);
        lm_diags_init(&d);
        if (lm_tcprules_parse(p, len, &pos, flags, buf, &r, &d) == 0) {
            if (d.nerrors != 0 || r.klen + r.slen > len + 8
                || (r.range && r.lo > r.hi && !(flags & LM_TR_LENIENT)))
                abort();
            while (lm_tcprules_item_next(r.data, r.dlen, &off, &it) == 0)
                ;
            if (off != r.dlen)
                abort();
            for (n = r.range ? r.lo : 0; n <= (r.range ? r.hi : 0); n++) {
                size_t klen;
                if (r.klen + r.slen + 24 > sizeof key)
                    break;
                klen = lm_tcprules_key(&r, n, key);
                if (!r.never)
                    fuzz_round_trip(key, klen, r.data, r.dlen, flags);
                fuzz_subject(key, klen, flags);
            }
        }
        lm_diags_fini(&d);
        if (len < 64) {
            char ip[64];
            memcpy(ip, p, len);
            ip[len] = '\0';
            if (memchr(ip, '\0', len) == NULL) {
                last = 1;
                if (lm_tcprules_walk(ip, len & 1 ? ip : NULL, len & 2 ? "joe" : NULL, flags,
                                     fuzz_probe, &last) != 0 || last != 0)
                    abort();
            }
        }
        if (nl == end)
            break;
    }
    free(buf);
    return 0;
}
