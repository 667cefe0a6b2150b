/*
 * ipcover.c - minimal covers of address sets: CIDR blocks, whole-octet prefixes, nested keys.
 *
 * Covers are exact (their union is the set, never more) and greedy, which
 * is minimal because every item kind is an aligned block or a run of
 * aligned blocks of one level.  Painting and partition probes cut a
 * family's space into the pieces the covers and the proofs work on.
 */
#include "libmap/ipset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/ipnum.h"

/* --- covers ---------------------------------------------------------------------- */

/* A growing array of items of size sz. */
struct ipset_vec {
    void  *v;
    size_t n, cap, sz;
};

static void *
ipset_vec_push(struct ipset_vec *a, struct lm_diags *d)
{
    if (a->n == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 64;
        void *nv;
        if (ncap > SIZE_MAX / 2 / a->sz) {
            ipset_nomem(d);
            return NULL;
        }
        nv = realloc(a->v, ncap * a->sz);
        if (nv == NULL) {
            ipset_nomem(d);
            return NULL;
        }
        a->v = nv;
        a->cap = ncap;
    }
    return (char *)a->v + a->sz * a->n++;
}

/* Greedy block cover of one range: at each step the largest allowed block
 * (2^k addresses, k in the allowed list, largest first) that starts at lo,
 * is aligned there and ends by hi.  allowed[] must contain 0. */
static int
ipset_cover_blocks(const struct lm_iprange *r, const unsigned *allowed, size_t nallowed,
                   struct ipset_vec *out, struct lm_diags *d)
{
    int fam = r->lo.family;
    unsigned bits = lm_ipfam_bits(fam);
    struct ipset_num lo, hi, end;

    ipset_to_num(&r->lo, &lo);
    ipset_to_num(&r->hi, &hi);
    for (;;) {
        unsigned align = ipset_num_ctz(&lo, bits), k = 0;
        size_t i;
        struct lm_ipnet *net;

        for (i = 0; i < nallowed; i++) {
            k = allowed[i];
            if (k > align)
                continue;
            end = ipset_num_fill(&lo, k);
            if (ipset_num_cmp(&end, &hi) <= 0)
                break;
        }
        net = ipset_vec_push(out, d);
        if (net == NULL)
            return -1;
        ipset_from_num(fam, &lo, &net->addr);
        net->prefix = bits - k;
        if (ipset_num_cmp(&end, &hi) >= 0)
            return 0;
        lo = end;
        ipset_num_inc(&lo);
    }
}

static int
ipset_cover(struct lm_ipset *s, const unsigned *a4, size_t n4, const unsigned *a6,
            size_t n6, struct lm_ipnet **out, size_t *n, struct lm_diags *d)
{
    struct ipset_vec v = { NULL, 0, 0, sizeof **out };
    size_t i;

    lm_ipset_normalize(s);
    for (i = 0; i < s->n; i++) {
        int six = s->v[i].lo.family == LM_IPV6;
        if (ipset_cover_blocks(&s->v[i], six ? a6 : a4, six ? n6 : n4, &v, d) != 0) {
            free(v.v);
            return -1;
        }
    }
    *out = v.v;
    *n = v.n;
    return 0;
}

int
lm_ipset_cover_cidr(struct lm_ipset *s, struct lm_ipnet **out, size_t *n,
                    struct lm_diags *d)
{
    unsigned a[129];
    unsigned k;

    for (k = 0; k <= 128; k++)
        a[k] = 128 - k;
    /* IPv4 uses the tail of the same list: 32 .. 0. */
    return ipset_cover(s, a + 96, 33, a, 129, out, n, d);
}

int
lm_ipset_cover_octets(struct lm_ipset *s, struct lm_ipnet **out, size_t *n,
                      struct lm_diags *d)
{
    /* Block sizes (host bits) of the keys Sendmail can look up: it strips
     * whole octets (IPv4) or whole groups (IPv6) but never the last one. */
    static const unsigned a4[] = { 24, 16, 8, 0 };
    static const unsigned a6[] = { 112, 96, 80, 64, 48, 32, 16, 0 };

    return ipset_cover(s, a4, 4, a6, 8, out, n, d);
}

/* --- partition probes --------------------------------------------------------------- */

static int
ipset_cmp_num(const void *a, const void *b)
{
    return ipset_num_cmp(a, b);
}

int
lm_ip_probes(const struct lm_iprange *v, size_t n, unsigned fams,
             struct lm_ipaddr **out, size_t *nout, struct lm_diags *d)
{
    struct ipset_vec res = { NULL, 0, 0, sizeof **out };
    struct ipset_num *st = NULL;
    struct lm_ipaddr *a;
    size_t i, ns, o;
    int f;

    for (i = 0; i < n; i++)
        fams |= v[i].lo.family == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4;
    if (n > (SIZE_MAX / sizeof *st - 1) / 2)
        return ipset_nomem(d);
    st = malloc((2 * n + 1) * sizeof *st);
    if (st == NULL)
        return ipset_nomem(d);
    for (f = LM_IPV4; f <= LM_IPV6; f += LM_IPV6 - LM_IPV4) {
        unsigned bits = lm_ipfam_bits(f);
        struct ipset_num max = ipset_lowmask(bits);
        if (!(fams & (f == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4)))
            continue;
        /* Every piece starts at the family's first address, at some lo, or
         * right after some hi. */
        st[0].hi = st[0].lo = 0;
        ns = 1;
        for (i = 0; i < n; i++) {
            if (v[i].lo.family != f)
                continue;
            ipset_to_num(&v[i].lo, &st[ns++]);
            ipset_to_num(&v[i].hi, &st[ns]);
            if (!ipset_num_is_max(&st[ns], bits)) {
                ipset_num_inc(&st[ns]);
                ns++;
            }
        }
        qsort(st, ns, sizeof *st, ipset_cmp_num);
        for (i = 1, o = 0; i < ns; i++)
            if (ipset_num_cmp(&st[i], &st[o]) != 0)
                st[++o] = st[i];
        ns = o + 1;
        /* Each piece runs to just before the next start, the last one to
         * the family's last address. */
        for (i = 0; i < ns; i++) {
            struct ipset_num end = max;
            if (i + 1 < ns) {
                end = st[i + 1];
                ipset_num_dec(&end);
            }
            if ((a = ipset_vec_push(&res, d)) == NULL)
                goto fail;
            ipset_from_num(f, &st[i], a);
            if (ipset_num_cmp(&end, &st[i]) != 0) {
                if ((a = ipset_vec_push(&res, d)) == NULL)
                    goto fail;
                ipset_from_num(f, &end, a);
            }
        }
    }
    free(st);
    *out = res.v;
    *nout = res.n;
    return 0;
fail:
    free(st);
    free(res.v);
    return -1;
}

/* --- nested covers ------------------------------------------------------------ */

struct ipset_nest {
    const struct lm_cover_iv  *iv;
    size_t                     niv;
    const struct lm_nest_opts *o;
    int                        family;
    unsigned                   unit, len;   /* key step and address length, bytes */
    struct lm_cover_key       *key;
    size_t                     nkey, cap;
    int                        overflow, fail;
};

static long
ipset_nest_child(const unsigned char *b, unsigned depth, unsigned unit)
{
    return unit == 1 ? (long)b[depth] : ((long)b[depth] << 8) | b[depth + 1];
}

static void
ipset_nest_setchild(unsigned char *b, unsigned depth, unsigned unit, long c)
{
    if (unit == 1) {
        b[depth] = (unsigned char)c;
    } else {
        b[depth] = (unsigned char)(c >> 8);
        b[depth + 1] = (unsigned char)c;
    }
}

/* Are b[from .. len) all x? */
static int
ipset_nest_tail(const unsigned char *b, unsigned from, unsigned len, unsigned char x)
{
    unsigned i;

    for (i = from; i < len; i++)
        if (b[i] != x)
            return 0;
    return 1;
}

static void
ipset_nest_add(struct ipset_nest *t, const unsigned char *b, unsigned depth, unsigned hi,
               size_t val)
{
    struct lm_cover_key *k;

    if (t->overflow || t->fail)
        return;
    if (t->nkey >= t->o->maxkeys) {
        t->overflow = 1;
        return;
    }
    if (t->nkey == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 64;
        struct lm_cover_key *nk = realloc(t->key, nc * sizeof *nk);
        if (nk == NULL) {
            t->fail = 1;
            return;
        }
        t->key = nk;
        t->cap = nc;
    }
    k = &t->key[t->nkey++];
    memset(k->b, 0, sizeof k->b);
    memcpy(k->b, b, depth);
    k->depth = (unsigned char)depth;
    k->hi = (unsigned char)hi;
    k->val = val;
}

static int
ipset_nest_whole(const struct ipset_nest *t, size_t val)
{
    return t->o->whole != NULL && t->o->whole[val];
}

/* Cover the block of addresses starting with b[0 .. depth), whose value is
 * v unless a key inside says otherwise; keyable: the block may have a key
 * of its own (not the whole space).  Two passes over the intervals that
 * meet the block: the first counts how many whole children each value
 * fills, to choose the block's value; the second writes the children that
 * differ from it and walks into the children an interval cuts. */
static void
ipset_nest_walk(struct ipset_nest *t, const unsigned char *b, unsigned depth, size_t v,
                int keyable)
{
    struct lm_ipaddr blo, bhi;
    unsigned long *count;
    size_t lo = 0, hi = t->niv, k, w = v, x;
    long bestscore, last = -1;
    unsigned char cb[16];
    int pass;

    if (t->overflow || t->fail)
        return;
    memset(&blo, 0, sizeof blo);
    blo.family = (unsigned char)t->family;
    memcpy(blo.b, b, depth);
    bhi = blo;
    memset(bhi.b + depth, 0xff, t->len - depth);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&t->iv[mid].hi, &blo) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if ((count = calloc(t->o->nval, sizeof *count)) == NULL) {
        t->fail = 1;
        return;
    }
    for (pass = 0; pass < 2 && !t->overflow && !t->fail; pass++) {
        for (k = lo; k < t->niv && lm_ipaddr_cmp(&t->iv[k].lo, &bhi) <= 0; k++) {
            const struct lm_cover_iv *iv = &t->iv[k];
            const struct lm_ipaddr *clo = lm_ipaddr_cmp(&iv->lo, &blo) < 0 ? &blo : &iv->lo;
            const struct lm_ipaddr *chi = lm_ipaddr_cmp(&iv->hi, &bhi) > 0 ? &bhi : &iv->hi;
            long cl = ipset_nest_child(clo->b, depth, t->unit);
            long ch = ipset_nest_child(chi->b, depth, t->unit);
            int la = ipset_nest_tail(clo->b, depth + t->unit, t->len, 0);
            int ha = ipset_nest_tail(chi->b, depth + t->unit, t->len, 0xff);
            long fa = cl + !la, fb = ch - !ha, c;
            int whole = depth + t->unit < t->len && ipset_nest_whole(t, iv->val);

            /* a value for whole addresses only: walk down to them */
            if (whole) {
                la = ha = 0;
                fa = cl + 1;
                fb = ch - 1;
            }
            if (pass == 0) {
                if (fa <= fb)
                    count[iv->val] += (unsigned long)(fb - fa + 1);
                continue;
            }
            memcpy(cb, b, sizeof cb);
            if (!la && cl != last) {
                ipset_nest_setchild(cb, depth, t->unit, cl);
                ipset_nest_walk(t, cb, depth + t->unit, w, 1);
                last = cl;
            }
            if (fa <= fb && iv->val != w) {
                if (whole) {
                    for (c = fa; c <= fb && !t->overflow && !t->fail; c++) {
                        ipset_nest_setchild(cb, depth, t->unit, c);
                        ipset_nest_walk(t, cb, depth + t->unit, w, 1);
                    }
                } else if (t->o->flags & LM_NEST_RUNS) {
                    ipset_nest_setchild(cb, depth, t->unit, fa);
                    ipset_nest_add(t, cb, depth + t->unit, (unsigned)fb, iv->val);
                } else {
                    for (c = fa; c <= fb && !t->overflow && !t->fail; c++) {
                        ipset_nest_setchild(cb, depth, t->unit, c);
                        ipset_nest_add(t, cb, depth + t->unit, cb[depth + t->unit - 1],
                                       iv->val);
                    }
                }
            }
            if (!ha && ch != last) {
                ipset_nest_setchild(cb, depth, t->unit, ch);
                ipset_nest_walk(t, cb, depth + t->unit, w, 1);
                last = ch;
            }
        }
        if (pass == 0) {
            /* the block's own value: the one most children share, counting
             * the key it costs when it differs from the inherited one */
            bestscore = (long)count[v];
            if (keyable)
                for (x = 0; x < t->o->nval; x++)
                    if (x != v && !ipset_nest_whole(t, x) && (long)count[x] - 1 > bestscore) {
                        bestscore = (long)count[x] - 1;
                        w = x;
                    }
            if (w != v)
                ipset_nest_add(t, b, depth, b[depth - 1], w);
        }
    }
    free(count);
}

int
lm_ipset_cover_nested(const struct lm_cover_iv *iv, size_t niv, int family,
                      const struct lm_nest_opts *o, struct lm_cover_key **out, size_t *n,
                      struct lm_diags *d)
{
    struct ipset_nest t;
    unsigned char b[16];

    *out = NULL;
    *n = 0;
    memset(&t, 0, sizeof t);
    t.iv = iv;
    t.niv = niv;
    t.o = o;
    t.family = family;
    t.len = family == LM_IPV4 ? 4 : 16;
    t.unit = family == LM_IPV4 ? 1 : 2;
    if (niv == 0 || o->nval == 0)
        return 0;
    memset(b, 0, sizeof b);
    ipset_nest_walk(&t, b, 0, 0, 0);
    if (t.fail) {
        free(t.key);
        return ipset_nomem(d);
    }
    if (t.overflow) {
        free(t.key);
        return 1;
    }
    *out = t.key;
    *n = t.nkey;
    return 0;
}

static int
ipset_paint_cmp(const void *a, const void *b)
{
    return lm_ipaddr_cmp(a, b);
}

/* The index of the first of v[0 .. n) not below a. */
static size_t
ipset_paint_find(const struct lm_ipaddr *v, size_t n, const struct lm_ipaddr *a)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&v[mid], a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
lm_ipset_paint(int family, const struct lm_iprange *r, const size_t *val, size_t n,
               size_t base, struct lm_cover_iv **out, size_t *nout, struct lm_diags *d)
{
    struct lm_ipaddr *pts;
    struct lm_cover_iv *iv = NULL;
    size_t *nxt = NULL, *v = NULL, np = 0, i, j, k, m = 0;
    struct lm_iprange all;

    *out = NULL;
    *nout = 0;
    lm_iprange_all(&all, family);
    if ((pts = malloc((2 * n + 1) * sizeof *pts)) == NULL)
        return ipset_nomem(d);
    /* the pieces: every range's first address and the one after its last */
    pts[np++] = all.lo;
    for (i = 0; i < n; i++) {
        struct lm_ipaddr end = r[i].hi;
        pts[np++] = r[i].lo;
        if (lm_ipaddr_succ(&end) == 0)
            pts[np++] = end;
    }
    qsort(pts, np, sizeof *pts, ipset_paint_cmp);
    for (i = j = 0; i < np; i++)
        if (j == 0 || lm_ipaddr_cmp(&pts[j - 1], &pts[i]) != 0)
            pts[j++] = pts[i];
    np = j;
    nxt = malloc((np + 1) * sizeof *nxt);
    v = malloc(np * sizeof *v);
    iv = malloc(np * sizeof *iv);
    if (nxt == NULL || v == NULL || iv == NULL) {
        free(pts);
        free(nxt);
        free(v);
        free(iv);
        return ipset_nomem(d);
    }
    for (i = 0; i <= np; i++)
        nxt[i] = i;
    for (i = 0; i < np; i++)
        v[i] = base;
    /* in priority order, each range paints the pieces nobody painted yet;
     * nxt[] skips painted pieces (union-find with path compression), so
     * every piece is painted once */
    for (k = 0; k < n; k++) {
        struct lm_ipaddr end = r[k].hi;
        size_t a = ipset_paint_find(pts, np, &r[k].lo), b, x;
        b = lm_ipaddr_succ(&end) == 0 ? ipset_paint_find(pts, np, &end) : np;
        for (x = a; x < b;) {
            size_t root = x, y;
            while (nxt[root] != root)
                root = nxt[root];
            for (y = x; nxt[y] != root;) {
                size_t z = nxt[y];
                nxt[y] = root;
                y = z;
            }
            if ((x = root) >= b)
                break;
            v[x] = val[k];
            nxt[x] = x + 1;
            x++;
        }
    }
    for (i = 0; i < np; i++) {
        struct lm_ipaddr hi = all.hi;
        if (i + 1 < np) {
            hi = pts[i + 1];
            lm_ipaddr_pred(&hi);
        }
        if (m > 0 && iv[m - 1].val == v[i]) {
            iv[m - 1].hi = hi;
            continue;
        }
        iv[m].lo = pts[i];
        iv[m].hi = hi;
        iv[m].val = v[i];
        m++;
    }
    free(pts);
    free(nxt);
    free(v);
    *out = iv;
    *nout = m;
    return 0;
}
