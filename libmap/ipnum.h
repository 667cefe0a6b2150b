/*
 * ipnum.h - private to libmap: an address as a two-word number, shared by
 * ipaddr.c, ipset.c and ipcover.c.
 *
 * Arithmetic is done on a two-word number so IPv4 and IPv6 share one code
 * path.  The helpers are inline because normalizing a set of a million
 * ranges converts every one of them through here.
 */
#ifndef LIBMAP_IPNUM_H
#define LIBMAP_IPNUM_H

#include <stdint.h>
#include <string.h>

#include "libmap/ipset.h"

/* An address as a number: IPv4 uses the low 32 bits of lo. */
struct ipset_num {
    uint64_t hi, lo;
};

static inline void
ipset_to_num(const struct lm_ipaddr *a, struct ipset_num *n)
{
    int i;

    n->hi = n->lo = 0;
    if (a->family == LM_IPV6) {
        for (i = 0; i < 8; i++)
            n->hi = n->hi << 8 | a->b[i];
        for (i = 8; i < 16; i++)
            n->lo = n->lo << 8 | a->b[i];
    } else {
        for (i = 0; i < 4; i++)
            n->lo = n->lo << 8 | a->b[i];
    }
}

static inline void
ipset_from_num(int family, const struct ipset_num *n, struct lm_ipaddr *a)
{
    int i;

    memset(a, 0, sizeof *a);
    a->family = (unsigned char)family;
    if (family == LM_IPV6) {
        for (i = 0; i < 8; i++)
            a->b[i] = (unsigned char)(n->hi >> (56 - 8 * i));
        for (i = 0; i < 8; i++)
            a->b[8 + i] = (unsigned char)(n->lo >> (56 - 8 * i));
    } else {
        for (i = 0; i < 4; i++)
            a->b[i] = (unsigned char)(n->lo >> (24 - 8 * i));
    }
}

/* The number whose low k bits are one (k = 0..128). */
static inline struct ipset_num
ipset_lowmask(unsigned k)
{
    struct ipset_num m;

    if (k >= 128) {
        m.hi = m.lo = UINT64_MAX;
    } else if (k >= 64) {
        m.lo = UINT64_MAX;
        m.hi = k == 64 ? 0 : UINT64_MAX >> (128 - k);
    } else {
        m.hi = 0;
        m.lo = k == 0 ? 0 : UINT64_MAX >> (64 - k);
    }
    return m;
}

static inline int
ipset_num_cmp(const struct ipset_num *a, const struct ipset_num *b)
{
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

static inline int
ipset_num_is_max(const struct ipset_num *n, unsigned bits)
{
    struct ipset_num m = ipset_lowmask(bits);

    return n->hi == m.hi && n->lo == m.lo;
}

/* n + 1; the caller checks for the family's maximum first. */
static inline void
ipset_num_inc(struct ipset_num *n)
{
    if (++n->lo == 0)
        n->hi++;
}

static inline void
ipset_num_dec(struct ipset_num *n)
{
    if (n->lo-- == 0)
        n->hi--;
}

/* Trailing zero bits of n, at most bits. */
static inline unsigned
ipset_num_ctz(const struct ipset_num *n, unsigned bits)
{
    unsigned k = 0;
    uint64_t w = n->lo;

    if (w == 0) {
        k = 64;
        w = n->hi;
        if (w == 0)
            return bits;
    }
    while ((w & 1) == 0) {
        w >>= 1;
        k++;
    }
    return k < bits ? k : bits;
}

/* n with its low k bits set (the last address of the 2^k block at n). */
static inline struct ipset_num
ipset_num_fill(const struct ipset_num *n, unsigned k)
{
    struct ipset_num m = ipset_lowmask(k), r;

    r.hi = n->hi | m.hi;
    r.lo = n->lo | m.lo;
    return r;
}

static inline struct ipset_num
ipset_num_clear(const struct ipset_num *n, unsigned k)
{
    struct ipset_num m = ipset_lowmask(k), r;

    r.hi = n->hi & ~m.hi;
    r.lo = n->lo & ~m.lo;
    return r;
}

/* The out-of-memory diagnostic of the set and cover code. */
static inline int
ipset_nomem(struct lm_diags *d)
{
    if (d == NULL)
        return -1;
    return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory in an address set");
}

#endif
