/*
 * ipset.c - address sets: sorted disjoint intervals, normalize, union, intersection, difference.
 *
 * A set holds both families, IPv4 first (ipset.h); every function that
 * reads a set normalizes it first.
 */
#include "libmap/ipset.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/ipnum.h"

/* --- sets ------------------------------------------------------------------------ */

void
lm_ipset_init(struct lm_ipset *s)
{
    memset(s, 0, sizeof *s);
}

void
lm_ipset_fini(struct lm_ipset *s)
{
    if (s == NULL)
        return;
    free(s->v);
    memset(s, 0, sizeof *s);
}

void
lm_ipset_clear(struct lm_ipset *s)
{
    s->n = 0;
    s->dirty = 0;
}

static int
ipset_reserve(struct lm_ipset *s, size_t need, struct lm_diags *d)
{
    size_t ncap;
    struct lm_iprange *nv;

    if (need <= s->cap)
        return 0;
    ncap = s->cap ? s->cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / sizeof *nv)
            return ipset_nomem(d);
        ncap *= 2;
    }
    nv = realloc(s->v, ncap * sizeof *nv);
    if (nv == NULL)
        return ipset_nomem(d);
    s->v = nv;
    s->cap = ncap;
    return 0;
}

/* 1 when b starts right after a ends or overlaps it (same family). */
static int
ipset_joins(const struct lm_iprange *a, const struct lm_iprange *b)
{
    struct ipset_num ah, bl;

    if (a->hi.family != b->lo.family)
        return 0;
    ipset_to_num(&a->hi, &ah);
    ipset_to_num(&b->lo, &bl);
    if (ipset_num_cmp(&bl, &ah) <= 0)
        return 1;
    if (ipset_num_is_max(&ah, lm_ipfam_bits(a->hi.family)))
        return 1;
    ipset_num_inc(&ah);
    return ipset_num_cmp(&bl, &ah) == 0;
}

/* Append r to a normalized list, merging with the last range. */
static int
ipset_push(struct lm_ipset *s, const struct lm_iprange *r, struct lm_diags *d)
{
    if (s->n > 0 && ipset_joins(&s->v[s->n - 1], r)) {
        if (lm_ipaddr_cmp(&r->hi, &s->v[s->n - 1].hi) > 0)
            s->v[s->n - 1].hi = r->hi;
        return 0;
    }
    if (ipset_reserve(s, s->n + 1, d) != 0)
        return -1;
    s->v[s->n++] = *r;
    return 0;
}

int
lm_ipset_add_range(struct lm_ipset *s, const struct lm_iprange *r, struct lm_diags *d)
{
    /* In order (the usual case when building from a sorted source) the set
     * stays normalized; otherwise it is sorted once, when next read. */
    if (!s->dirty && (s->n == 0 || lm_ipaddr_cmp(&s->v[s->n - 1].lo, &r->lo) <= 0))
        return ipset_push(s, r, d);
    if (ipset_reserve(s, s->n + 1, d) != 0)
        return -1;
    s->v[s->n++] = *r;
    s->dirty = 1;
    return 0;
}

int
lm_ipset_add_net(struct lm_ipset *s, const struct lm_ipnet *n, struct lm_diags *d)
{
    struct lm_iprange r;

    lm_ipnet_range(n, &r);
    return lm_ipset_add_range(s, &r, d);
}

int
lm_ipset_add_addr(struct lm_ipset *s, const struct lm_ipaddr *a, struct lm_diags *d)
{
    struct lm_iprange r;

    r.lo = r.hi = *a;
    return lm_ipset_add_range(s, &r, d);
}

int
lm_ipset_add_masked(struct lm_ipset *s, const struct lm_ipaddr *net,
                    const struct lm_ipaddr *mask, size_t max_ranges,
                    struct lm_diags *d)
{
    struct ipset_num nn, mn;
    uint32_t m, base, free_hi;
    unsigned t, f = 0, bit;
    uint64_t count, c;
    char q[LM_IPADDR_BUF];

    if (max_ranges == 0)
        max_ranges = 65536;
    ipset_to_num(net, &nn);
    ipset_to_num(mask, &mn);
    m = (uint32_t)mn.lo;
    t = ipset_num_ctz(&mn, 32);        /* free bits at the bottom: one range */
    free_hi = ~m & (t >= 32 ? 0 : ~(uint32_t)0 << t);
    for (bit = 0; bit < 32; bit++)
        f += (free_hi >> bit) & 1;
    count = (uint64_t)1 << f;
    if (count > max_ranges) {
        if (d == NULL)
            return -1;
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "mask %s needs %llu address ranges (limit %zu)",
                           lm_ipaddr_format(mask, q), (unsigned long long)count, max_ranges);
    }
    base = (uint32_t)nn.lo & m;
    for (c = 0; c < count; c++) {
        struct lm_iprange r;
        struct ipset_num lo, hi;
        uint32_t v = base;
        uint64_t cc = c;
        /* Spread the bits of c over the free mask bits, lowest first, so the
         * ranges come out in ascending order. */
        for (bit = 0; bit < 32 && cc; bit++) {
            if (free_hi >> bit & 1) {
                if (cc & 1)
                    v |= (uint32_t)1 << bit;
                cc >>= 1;
            }
        }
        lo.hi = 0;
        lo.lo = v;
        hi = ipset_num_fill(&lo, t);
        ipset_from_num(LM_IPV4, &lo, &r.lo);
        ipset_from_num(LM_IPV4, &hi, &r.hi);
        if (lm_ipset_add_range(s, &r, d) != 0)
            return -1;
    }
    return 0;
}

static int
ipset_cmp_lo(const void *a, const void *b)
{
    const struct lm_iprange *x = a, *y = b;

    return lm_ipaddr_cmp(&x->lo, &y->lo);
}

/* One family's ranges as numbers.  32 bytes, so the C library sorts them in
 * place; wider elements it sorts through pointers, several times slower on
 * a million rules. */
struct ipset_span {
    struct ipset_num lo, hi;
};

static int
ipset_cmp_span(const void *a, const void *b)
{
    const struct ipset_span *x = a, *y = b;

    return ipset_num_cmp(&x->lo, &y->lo);
}

/* Sort the spans of one family, merge the ones that overlap or touch, and
 * write them to out as ranges.  Returns how many were written. */
static size_t
ipset_merge_spans(struct ipset_span *sp, size_t n, int family, struct lm_iprange *out)
{
    unsigned bits = lm_ipfam_bits(family);
    struct ipset_span cur;
    size_t i, o = 0;

    if (n == 0)
        return 0;
    qsort(sp, n, sizeof *sp, ipset_cmp_span);
    cur = sp[0];
    for (i = 1; i < n; i++) {
        struct ipset_num next = cur.hi;
        int joins = ipset_num_is_max(&cur.hi, bits);
        if (!joins) {
            ipset_num_inc(&next);
            joins = ipset_num_cmp(&sp[i].lo, &next) <= 0;
        }
        if (joins) {
            if (ipset_num_cmp(&sp[i].hi, &cur.hi) > 0)
                cur.hi = sp[i].hi;
            continue;
        }
        ipset_from_num(family, &cur.lo, &out[o].lo);
        ipset_from_num(family, &cur.hi, &out[o].hi);
        o++;
        cur = sp[i];
    }
    ipset_from_num(family, &cur.lo, &out[o].lo);
    ipset_from_num(family, &cur.hi, &out[o].hi);
    return o + 1;
}

void
lm_ipset_normalize(struct lm_ipset *s)
{
    struct ipset_span *sp;
    size_t i, n4 = 0, k4 = 0, k6, o;

    if (!s->dirty)
        return;
    s->dirty = 0;
    if (s->n == 0)
        return;
    sp = malloc(s->n * sizeof *sp);
    if (sp == NULL) {
        /* No memory for the fast path: sort the ranges themselves. */
        qsort(s->v, s->n, sizeof *s->v, ipset_cmp_lo);
        for (i = 1, o = 0; i < s->n; i++) {
            if (ipset_joins(&s->v[o], &s->v[i])) {
                if (lm_ipaddr_cmp(&s->v[i].hi, &s->v[o].hi) > 0)
                    s->v[o].hi = s->v[i].hi;
            } else {
                s->v[++o] = s->v[i];
            }
        }
        s->n = o + 1;
        return;
    }
    for (i = 0; i < s->n; i++)
        n4 += s->v[i].lo.family == LM_IPV4;
    for (i = 0, k6 = n4; i < s->n; i++) {
        struct ipset_span *t = &sp[s->v[i].lo.family == LM_IPV4 ? k4++ : k6++];
        ipset_to_num(&s->v[i].lo, &t->lo);
        ipset_to_num(&s->v[i].hi, &t->hi);
    }
    o = ipset_merge_spans(sp, n4, LM_IPV4, s->v);
    o += ipset_merge_spans(sp + n4, s->n - n4, LM_IPV6, s->v + o);
    s->n = o;
    free(sp);
}

int
lm_ipset_copy(struct lm_ipset *dst, struct lm_ipset *src, struct lm_diags *d)
{
    if (dst == src)
        return 0;
    lm_ipset_normalize(src);
    if (ipset_reserve(dst, src->n, d) != 0)
        return -1;
    if (src->n > 0)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
    dst->dirty = 0;
    return 0;
}

/* Put the result t into out, whose old content is dropped. */
static void
ipset_take(struct lm_ipset *out, struct lm_ipset *t)
{
    lm_ipset_fini(out);
    *out = *t;
}

int
lm_ipset_union(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
               struct lm_diags *d)
{
    struct lm_ipset t;
    size_t i = 0, j = 0;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    lm_ipset_init(&t);
    while (i < a->n || j < b->n) {
        const struct lm_iprange *r;
        if (j == b->n || (i < a->n && lm_ipaddr_cmp(&a->v[i].lo, &b->v[j].lo) <= 0))
            r = &a->v[i++];
        else
            r = &b->v[j++];
        if (ipset_push(&t, r, d) != 0) {
            lm_ipset_fini(&t);
            return -1;
        }
    }
    ipset_take(out, &t);
    return 0;
}

int
lm_ipset_intersect(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                   struct lm_diags *d)
{
    struct lm_ipset t;
    size_t i = 0, j = 0;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    lm_ipset_init(&t);
    while (i < a->n && j < b->n) {
        const struct lm_iprange *x = &a->v[i], *y = &b->v[j];
        struct lm_iprange r;
        r.lo = lm_ipaddr_cmp(&x->lo, &y->lo) >= 0 ? x->lo : y->lo;
        r.hi = lm_ipaddr_cmp(&x->hi, &y->hi) <= 0 ? x->hi : y->hi;
        if (lm_ipaddr_cmp(&r.lo, &r.hi) <= 0 && r.lo.family == r.hi.family
            && ipset_push(&t, &r, d) != 0) {
            lm_ipset_fini(&t);
            return -1;
        }
        /* Drop whichever range ends first. */
        if (lm_ipaddr_cmp(&x->hi, &y->hi) <= 0)
            i++;
        else
            j++;
    }
    ipset_take(out, &t);
    return 0;
}

int
lm_ipset_subtract(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                  struct lm_diags *d)
{
    struct lm_ipset t;
    size_t i, j = 0;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    lm_ipset_init(&t);
    for (i = 0; i < a->n; i++) {
        struct lm_iprange cur = a->v[i];
        int live = 1;
        /* Ranges of b wholly before cur cannot matter to later ones either. */
        while (j < b->n && lm_ipaddr_cmp(&b->v[j].hi, &cur.lo) < 0)
            j++;
        for (size_t k = j; live && k < b->n && lm_ipaddr_cmp(&b->v[k].lo, &cur.hi) <= 0;
             k++) {
            const struct lm_iprange *y = &b->v[k];
            if (lm_ipaddr_cmp(&y->lo, &cur.lo) > 0) {
                struct lm_iprange left = cur;
                left.hi = y->lo;
                lm_ipaddr_pred(&left.hi);
                if (ipset_push(&t, &left, d) != 0)
                    goto fail;
            }
            if (lm_ipaddr_cmp(&y->hi, &cur.hi) >= 0) {
                live = 0;
            } else {
                cur.lo = y->hi;
                lm_ipaddr_succ(&cur.lo);
            }
        }
        if (live && ipset_push(&t, &cur, d) != 0)
            goto fail;
    }
    ipset_take(out, &t);
    return 0;
fail:
    lm_ipset_fini(&t);
    return -1;
}

int
lm_ipset_complement(struct lm_ipset *out, struct lm_ipset *a, unsigned fams,
                    struct lm_diags *d)
{
    struct lm_ipset all;
    struct lm_iprange r;
    int rc;

    lm_ipset_init(&all);
    if (fams & LM_IPSET_V4) {
        lm_iprange_all(&r, LM_IPV4);
        if (ipset_push(&all, &r, d) != 0)
            goto fail;
    }
    if (fams & LM_IPSET_V6) {
        lm_iprange_all(&r, LM_IPV6);
        if (ipset_push(&all, &r, d) != 0)
            goto fail;
    }
    rc = lm_ipset_subtract(out, &all, a, d);
    lm_ipset_fini(&all);
    return rc;
fail:
    lm_ipset_fini(&all);
    return -1;
}

/* Index of the range containing a, or of the first range after it (n when
 * none): ranges are sorted by lo, so binary search on lo. */
static size_t
ipset_find(const struct lm_ipset *s, const struct lm_ipaddr *a)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&s->v[mid].hi, a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
lm_ipset_contains(struct lm_ipset *s, const struct lm_ipaddr *a)
{
    size_t i;

    lm_ipset_normalize(s);
    i = ipset_find(s, a);
    return i < s->n && lm_ipaddr_cmp(&s->v[i].lo, a) <= 0;
}

int
lm_ipset_equal(struct lm_ipset *a, struct lm_ipset *b)
{
    size_t i;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++)
        if (lm_ipaddr_cmp(&a->v[i].lo, &b->v[i].lo) != 0
            || lm_ipaddr_cmp(&a->v[i].hi, &b->v[i].hi) != 0)
            return 0;
    return 1;
}

int
lm_ipset_subset(struct lm_ipset *a, struct lm_ipset *b)
{
    size_t i, k;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    /* b is merged, so a range of a inside b lies inside one range of b. */
    for (i = 0; i < a->n; i++) {
        k = ipset_find(b, &a->v[i].lo);
        if (k == b->n || lm_ipaddr_cmp(&b->v[k].lo, &a->v[i].lo) > 0
            || lm_ipaddr_cmp(&a->v[i].hi, &b->v[k].hi) > 0)
            return 0;
    }
    return 1;
}

unsigned
lm_ipset_families(struct lm_ipset *s)
{
    unsigned f = 0;
    size_t i;

    for (i = 0; i < s->n; i++)
        f |= s->v[i].lo.family == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4;
    return f;
}

unsigned long long
lm_ipset_count(struct lm_ipset *s)
{
    unsigned long long total = 0;
    size_t i;

    lm_ipset_normalize(s);
    for (i = 0; i < s->n; i++) {
        struct ipset_num lo, hi, size;
        ipset_to_num(&s->v[i].lo, &lo);
        ipset_to_num(&s->v[i].hi, &hi);
        size.hi = hi.hi - lo.hi - (hi.lo < lo.lo);
        size.lo = hi.lo - lo.lo;
        if (size.hi != 0 || size.lo == UINT64_MAX
            || total > ULLONG_MAX - (size.lo + 1))
            return ULLONG_MAX;
        total += size.lo + 1;
    }
    return total;
}
