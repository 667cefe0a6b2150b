/*
 * fuzz_ipset.c - libFuzzer target for the address parser and the set code.
 *
 * The first two bytes choose the notations (LM_IPF_*); each following line
 * is parsed as one network or range.  Whatever parses must format and parse
 * back to the same range; the set built from the lines must survive the
 * round trips through every cover, complement and probe list unchanged.
 * Any broken invariant aborts, so the fuzzer reports it as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/ipset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_ipset_check_cidr(struct lm_ipset *s)
{
    struct lm_ipnet *v;
    struct lm_ipset back;
    size_t n, i;

    if (lm_ipset_cover_cidr(s, &v, &n, NULL) != 0)
        abort();
    lm_ipset_init(&back);
    for (i = 0; i < n; i++) {
        char buf[LM_IPADDR_BUF];
        struct lm_ipnet again;
        const char *t = lm_ipnet_format(&v[i], LM_FMT_CIDR, buf);
        if (lm_ipnet_parse(t, strlen(t), LM_IPF_CIDR, &again, NULL, NULL) != 0
            || lm_ipaddr_cmp(&again.addr, &v[i].addr) != 0 || again.prefix != v[i].prefix)
            abort();
        if (lm_ipset_add_net(&back, &v[i], NULL) != 0)
            abort();
    }
    if (!lm_ipset_equal(&back, s))
        abort();
    lm_ipset_fini(&back);
    free(v);
}

/* Octet cover of the IPv4 part only: an odd IPv6 range can need a million
 * group prefixes, which would only slow the fuzzer down. */
static void
fuzz_ipset_check_v4(struct lm_ipset *s)
{
    struct lm_ipset v4, all, back;
    struct lm_iprange r;
    struct lm_ipnet *v;
    size_t n, i;

    lm_ipset_init(&v4);
    lm_ipset_init(&all);
    lm_ipset_init(&back);
    lm_iprange_all(&r, LM_IPV4);
    if (lm_ipset_add_range(&all, &r, NULL) != 0 || lm_ipset_intersect(&v4, s, &all, NULL) != 0)
        abort();
    if (lm_ipset_cover_octets(&v4, &v, &n, NULL) != 0)
        abort();
    for (i = 0; i < n; i++) {
        char buf[LM_IPADDR_BUF];
        struct lm_iprange again;
        const char *t = lm_ipnet_format(&v[i], LM_FMT_OCTETS, buf);
        if (t == NULL || lm_iprange_parse(t, strlen(t), LM_IPF_V4 | LM_IPF_OCTETS, &again,
                                          NULL, NULL) != 0)
            abort();
        if (lm_ipset_add_range(&back, &again, NULL) != 0)
            abort();
    }
    if (!lm_ipset_equal(&back, &v4))
        abort();
    free(v);
    lm_ipset_fini(&v4);
    lm_ipset_fini(&all);
    lm_ipset_fini(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lm_diags d;
    struct lm_ipset s, c, cc;
    struct lm_iprange raw[256];
    struct lm_ipaddr *p;
    size_t nraw = 0, i = 2, np;
    unsigned flags;

    if (size < 2)
        return 0;
    flags = ((unsigned)data[0] | (unsigned)data[1] << 8) & 0x1ffu;
    lm_diags_init(&d);
    lm_ipset_init(&s);
    lm_ipset_init(&c);
    lm_ipset_init(&cc);
    while (i < size && nraw < 256) {
        const char *line = (const char *)data + i;
        const char *nl = memchr(line, '\n', size - i);
        size_t len = nl ? (size_t)(nl - line) : size - i;
        struct lm_iprange r, again;
        char buf[LM_IPADDR_BUF];
        struct lm_pos pos = { "fuzz", 1, 1 };

        i += len + 1;
        if (lm_iprange_parse(line, len, flags, &r, &d, &pos) != 0)
            continue;
        if (r.lo.family != r.hi.family || lm_ipaddr_cmp(&r.lo, &r.hi) > 0)
            abort();
        lm_iprange_format(&r, buf);
        if (lm_iprange_parse(buf, strlen(buf), LM_IPF_RANGE, &again, NULL, NULL) != 0
            || lm_ipaddr_cmp(&r.lo, &again.lo) != 0 || lm_ipaddr_cmp(&r.hi, &again.hi) != 0)
            abort();
        raw[nraw++] = r;
        if (lm_ipset_add_range(&s, &r, NULL) != 0)
            abort();
    }
    for (i = 0; i < nraw; i++)
        if (!lm_ipset_contains(&s, &raw[i].lo) || !lm_ipset_contains(&s, &raw[i].hi))
            abort();
    fuzz_ipset_check_cidr(&s);
    fuzz_ipset_check_v4(&s);
    if (lm_ipset_complement(&c, &s, LM_IPSET_V4 | LM_IPSET_V6, NULL) != 0
        || lm_ipset_complement(&cc, &c, LM_IPSET_V4 | LM_IPSET_V6, NULL) != 0
        || !lm_ipset_equal(&cc, &s))
        abort();
    if (lm_ip_probes(raw, nraw, 0, &p, &np, NULL) != 0)
        abort();
    for (i = 1; i < np; i++)
        if (lm_ipaddr_cmp(&p[i - 1], &p[i]) >= 0)
            abort();
    free(p);
    lm_ipset_fini(&s);
    lm_ipset_fini(&c);
    lm_ipset_fini(&cc);
    lm_diags_fini(&d);
    return 0;
}
