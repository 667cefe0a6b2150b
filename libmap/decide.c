/*
 * decide.c - lm_decide(): the policy index and the lookups that judge one
 * SMTP transaction with the lookup order of the policy's server
 * (struct lm_order; policy.h documents each property).
 *
 * Lookups go through an index (lm_policy_index): client networks become a
 * sorted list of disjoint segments, each holding the rule that wins there
 * (built by one sweep with a heap, O(n log n)); names and addresses are
 * hashed.  A policy without an index gets a temporary one per call.  The
 * decision is made of lookups ("atoms") and pure combining steps, split by
 * the part of the query each reads (pindex.h): verify.c compares policies
 * on classes of input through the same functions.
 */
#include "libmap/util.h"
#include "libmap/pindex.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- index ------------------------------------------------------------------ */

static int
pol_hadd(struct lm_pindex *ix, char cls, const char *key, size_t idx, unsigned kind,
         unsigned stage, int info)
{
    struct pindex_hent *e = &ix->ents[ix->nents];
    size_t len = strlen(key);
    uint64_t hv;
    size_t b;

    if (len > UINT32_MAX)
        return -1;
    e->key = key;
    e->len = (uint32_t)len;
    e->idx = (uint32_t)idx;
    e->cls = cls;
    e->kind = (unsigned char)kind;
    e->stage = (unsigned char)stage;
    e->info = info != 0;
    /* accepted domains share the chains of domain rules: one walk a name
     * finds both (pindex_dom_atoms) */
    hv = pindex_hash(cls == 'D' ? 'd' : cls, key, e->len);
    e->hash = (uint32_t)hv;
    b = (size_t)hv & (ix->nbuckets - 1);
    /* Chains keep insertion order, so the earlier rule comes first. */
    e->next = PINDEX_NONE;
    if (ix->buckets[b] == PINDEX_NONE) {
        ix->buckets[b] = (uint32_t)ix->nents;
    } else {
        size_t j = ix->buckets[b];
        while (ix->ents[j].next != PINDEX_NONE)
            j = ix->ents[j].next;
        ix->ents[j].next = (uint32_t)ix->nents;
    }
    ix->nents++;
    return 0;
}

/* Width of a network (hi - lo) as 16 big-endian bytes: narrower wins. */
void
pindex_width(const struct lm_iprange *r, unsigned char w[16])
{
    int i, borrow = 0;

    for (i = 15; i >= 0; i--) {
        int v = r->hi.b[i] - r->lo.b[i] - borrow;
        borrow = v < 0;
        w[i] = (unsigned char)(v + (borrow ? 256 : 0));
    }
}

struct pol_heap {
    const struct lm_policy *p;
    unsigned char (*w)[16];     /* width per rule index (only NET rules) */
    size_t *v;
    size_t  n;
};

/* Priority of two connect network rules: narrower, then stage-specific
 * (tagged) before all-stages, then earlier.  <0 when a wins. */
static int
pol_netcmp(const struct pol_heap *h, size_t a, size_t b)
{
    int c, ta, tb;

    if (h->p->order->nets == LM_NET_FIRST)
        return a < b ? -1 : a > b;
    if (h->p->order->nets == LM_NET_REFUSE_FIRST &&
        (h->p->rules[a].action == LM_A_RELAY) != (h->p->rules[b].action == LM_A_RELAY))
        return h->p->rules[a].action == LM_A_RELAY ? 1 : -1;
    if ((c = memcmp(h->w[a], h->w[b], 16)) != 0)
        return c;
    ta = h->p->rules[a].stage != LM_S_CONNECT;
    tb = h->p->rules[b].stage != LM_S_CONNECT;
    if (ta != tb)
        return ta - tb;
    return a < b ? -1 : a > b;
}

static void
pol_hpush(struct pol_heap *h, size_t r)
{
    size_t i = h->n++;

    h->v[i] = r;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (pol_netcmp(h, h->v[i], h->v[up]) >= 0)
            break;
        h->v[i] = h->v[up];
        h->v[up] = r;
        i = up;
    }
}

static void
pol_hpop(struct pol_heap *h)
{
    size_t i = 0, last;

    last = h->v[--h->n];
    if (h->n == 0)
        return;
    h->v[0] = last;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i, t;
        if (l < h->n && pol_netcmp(h, h->v[l], h->v[m]) < 0)
            m = l;
        if (r < h->n && pol_netcmp(h, h->v[r], h->v[m]) < 0)
            m = r;
        if (m == i)
            break;
        t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

static int
pol_addrcmp_v(const void *a, const void *b)
{
    return lm_ipaddr_cmp(a, b);
}

/* A network rule by its first address, for the sweep: sorted as pairs so
 * that the comparison needs no context. */
struct pol_bylo {
    struct lm_ipaddr lo;
    uint32_t         rule;
};

static int
pol_bylo_cmp(const void *a, const void *b)
{
    const struct pol_bylo *x = a, *y = b;
    int c = lm_ipaddr_cmp(&x->lo, &y->lo);

    return c != 0 ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

int
pindex_is_connect_net(const struct lm_rule *r)
{
    return r->kind == LM_K_NET && (r->stage & LM_S_CONNECT) && r->info == NULL;
}

/* Sweep the connect networks into segments with their winner: each point
 * where a network starts or ends starts a segment (one with no rule where
 * none covers it), and a segment with the same winner as the one before
 * it is merged into that one. */
static int
pol_build_segs(const struct lm_policy *p, struct lm_pindex *ix)
{
    struct pol_heap h = { p, NULL, NULL, 0 };
    struct lm_ipaddr *pts = NULL;
    struct pol_bylo *byl = NULL;
    size_t nnet = 0, npts = 0, i, k, j;
    int rc = -1;

    for (i = 0; i < p->nrules; i++)
        nnet += pindex_is_connect_net(&p->rules[i]);
    if (nnet == 0)
        return 0;
    h.w = malloc(p->nrules * sizeof *h.w);
    h.v = malloc(nnet * sizeof *h.v);
    byl = malloc(nnet * sizeof *byl);
    pts = malloc(2 * nnet * sizeof *pts);
    if (h.w == NULL || h.v == NULL || byl == NULL || pts == NULL)
        goto out;
    for (i = k = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        struct lm_ipaddr end;
        if (!pindex_is_connect_net(r))
            continue;
        pindex_width(&r->net.range, h.w[i]);
        byl[k].lo = r->net.range.lo;
        byl[k++].rule = (uint32_t)i;
        pts[npts++] = r->net.range.lo;
        end = r->net.range.hi;
        if (lm_ipaddr_succ(&end) == 0)
            pts[npts++] = end;
    }
    qsort(byl, nnet, sizeof *byl, pol_bylo_cmp);
    qsort(pts, npts, sizeof *pts, pol_addrcmp_v);
    for (i = j = 0; i < npts; i++)
        if (j == 0 || lm_ipaddr_cmp(&pts[j - 1], &pts[i]) != 0)
            pts[j++] = pts[i];
    npts = j;
    /* at most one segment a point, and one after the last of each family */
    if ((ix->segs = malloc(npts * sizeof *ix->segs)) == NULL)
        goto out;
    for (i = k = 0; i < npts; i++) {
        const struct lm_ipaddr *pt = &pts[i];
        uint32_t win;
        while (k < nnet && lm_ipaddr_cmp(&byl[k].lo, pt) <= 0)
            pol_hpush(&h, byl[k++].rule);
        while (h.n > 0 && lm_ipaddr_cmp(&p->rules[h.v[0]].net.range.hi, pt) < 0)
            pol_hpop(&h);
        win = h.n > 0 ? (uint32_t)h.v[0] : PINDEX_NONE;
        if (ix->nsegs > 0 && ix->segs[ix->nsegs - 1].rule == win &&
            ix->segs[ix->nsegs - 1].lo.family == pt->family)
            continue;
        if (ix->nsegs == 0 && win == PINDEX_NONE)
            continue;
        ix->segs[ix->nsegs].lo = *pt;
        ix->segs[ix->nsegs++].rule = win;
    }
    if (ix->nsegs < npts) {
        /* merged neighbours leave the end unused: give it back */
        struct pindex_seg *fit = realloc(ix->segs, (ix->nsegs ? ix->nsegs : 1) * sizeof *fit);
        if (fit != NULL)
            ix->segs = fit;
    }
    rc = 0;
out:
    free(h.w);
    free(h.v);
    free(byl);
    free(pts);
    return rc;
}

static char
pol_cls(enum lm_kind k)
{
    switch (k) {
    case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW: return 'd';
    case LM_K_ADDR: return 'a';
    case LM_K_USER: return 'u';
    default: return 0;
    }
}

/* Is some RELAY rule looked up at a stage of STAGES (lm_emit_drop_widens)? */
int
pindex_relay_at(const struct lm_policy *p, unsigned stages)
{
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *x = &p->rules[i];
        unsigned common = x->stage & stages;
        if (x->action != LM_A_RELAY || common == 0 || x->kind == LM_K_NEVER)
            continue;
        if ((common & LM_S_CONNECT) == 0 && x->kind == LM_K_NET)
            continue;       /* networks are looked up only for clients */
        if ((common & ~(unsigned)LM_S_CONNECT) == LM_S_FROM && !(common & LM_S_CONNECT) &&
            !lm_sender_relay_grants(p, x))
            continue;       /* a sender RELAY that grants nothing */
        return 1;
    }
    return (stages & LM_S_TO) && p->ndomains > 0;
}

struct lm_pindex *
pindex_build(const struct lm_policy *p)
{
    struct lm_pindex *ix = calloc(1, sizeof *ix);
    size_t i, nkeys = p->ndomains;

    if (ix == NULL)
        return NULL;
    if (p->nrules > PINDEX_MAX || p->ndomains > PINDEX_MAX)
        goto fail;
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (pol_cls(r->kind) && r->pattern != NULL)
            nkeys++;
        else if (r->kind == LM_K_ANY || r->kind == LM_K_ANYHOST || r->kind == LM_K_SERVER ||
                 r->kind == LM_K_AUTH || (r->kind == LM_K_NET && r->info != NULL))
            ix->nspecial++;
    }
    if (nkeys > PINDEX_MAX / 2)
        goto fail;
    for (ix->nbuckets = 16; ix->nbuckets < 2 * nkeys; ix->nbuckets *= 2)
        ;
    ix->ents = malloc((nkeys + 1) * sizeof *ix->ents);
    ix->buckets = malloc(ix->nbuckets * sizeof *ix->buckets);
    ix->special = malloc((ix->nspecial + 1) * sizeof *ix->special);
    if (ix->ents == NULL || ix->buckets == NULL || ix->special == NULL)
        goto fail;
    for (i = 0; i < ix->nbuckets; i++)
        ix->buckets[i] = PINDEX_NONE;
    ix->nspecial = 0;
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        char c = pol_cls(r->kind);
        if (c && r->pattern != NULL) {
            if (pol_hadd(ix, c, r->pattern, i, r->kind, r->stage, r->info != NULL) != 0)
                goto fail;
            if (c == 'd')
                ix->stages_d |= r->stage;
            else if (c == 'a')
                ix->stages_a |= r->stage;
            else
                ix->stages_u |= r->stage;
        }
        else if (r->kind == LM_K_ANY || r->kind == LM_K_ANYHOST || r->kind == LM_K_SERVER ||
                 r->kind == LM_K_AUTH || (r->kind == LM_K_NET && r->info != NULL))
            ix->special[ix->nspecial++] = i;
    }
    for (i = 0; i < p->ndomains; i++)
        if (pol_hadd(ix, 'D', p->domains[i].name, i, p->domains[i].kind, 0, 0) != 0)
            goto fail;
    if (pol_build_segs(p, ix) != 0)
        goto fail;
    for (i = 1; i <= LM_S_ANY; i++)
        ix->relay_stages[i] = (unsigned char)(1 + pindex_relay_at(p, (unsigned)i));
    return ix;
fail:
    pindex_free(ix);
    return NULL;
}

int
lm_policy_index(struct lm_policy *p, struct lm_diags *d)
{
    pindex_free(p->index);
    p->index = pindex_build(p);
    if (p->index == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    return 0;
}

void
pindex_free(struct lm_pindex *ix)
{
    if (ix == NULL)
        return;
    free(ix->segs);
    free(ix->ents);
    free(ix->buckets);
    free(ix->special);
    free(ix);
}


/* --- lookups ------------------------------------------------------------------- */

const struct lm_rule *
pindex_net(const struct pindex_ctx *c, const struct lm_ipaddr *ip)
{
    size_t lo = 0, hi = c->ix->nsegs;
    const struct pindex_seg *s;

    if (ip->family == 0)
        return NULL;
    /* the last segment that starts at or before ip */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&c->ix->segs[mid].lo, ip) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    s = &c->ix->segs[lo - 1];
    if (s->rule == PINDEX_NONE || s->lo.family != ip->family)
        return NULL;
    return &c->p->rules[s->rule];
}

/*
 * The best rule keyed KEY (class cls) that applies at STAGE.  level0: KEY is
 * the whole name (NAME and TREE match); otherwise KEY is a parent domain
 * (BELOW before TREE, the Sendmail order for ".domain" keys).  Within a
 * kind the stage-specific rule beats the all-stages one, then the earlier.
 */
static const struct lm_rule *
pol_key(const struct pindex_ctx *c, char cls, const char *key, size_t len,
        unsigned stage, int level0)
{
    const struct lm_pindex *ix = c->ix;
    const struct lm_rule *best = NULL;
    int bestrank = 0;
    uint64_t hv;
    size_t e;

    if (!((cls == 'd' ? ix->stages_d : cls == 'a' ? ix->stages_a : ix->stages_u) & stage))
        return NULL;
    hv = pindex_hash(cls, key, len);
    e = ix->buckets[(size_t)hv & (ix->nbuckets - 1)];
    for (; e != PINDEX_NONE; e = ix->ents[e].next) {
        const struct pindex_hent *h = &ix->ents[e];
        int rank;
        /* rank first: it reads the entry only, the key is elsewhere */
        if (h->hash != (uint32_t)hv || h->cls != cls || h->len != len ||
            (rank = pindex_key_rank(h->kind, h->stage, h->info, stage, level0)) < 0 ||
            (best != NULL && rank >= bestrank) || memcmp(h->key, key, len) != 0)
            continue;
        best = &c->p->rules[h->idx];
        bestrank = rank;
    }
    return best;
}

/* The best sender and recipient rule met so far in one walk of a chain. */
struct pol_best2 {
    uint32_t from, to;
    int      rfrom, rto;
};

/* Offer entry h of KEY's chain, ranked rf (sender) and rt (recipient), -1
 * when it does not apply: it replaces a worse-ranked best. */
static void
pol_best2_offer(struct pol_best2 *b, const struct pindex_hent *h, const char *key, size_t len,
                int rf, int rt)
{
    if (rf >= 0 && b->from != PINDEX_NONE && rf >= b->rfrom)
        rf = -1;
    if (rt >= 0 && b->to != PINDEX_NONE && rt >= b->rto)
        rt = -1;
    if ((rf < 0 && rt < 0) || memcmp(h->key, key, len) != 0)
        return;
    if (rf >= 0) {
        b->from = h->idx;
        b->rfrom = rf;
    }
    if (rt >= 0) {
        b->to = h->idx;
        b->rto = rt;
    }
}

/* pol_key at LM_S_FROM and at LM_S_TO in one walk of KEY's chain. */
static void
pol_key_both(const struct pindex_ctx *c, char cls, const char *key, size_t len,
             const struct lm_rule **from, const struct lm_rule **to)
{
    const struct lm_pindex *ix = c->ix;
    unsigned stages = cls == 'a' ? ix->stages_a : cls == 'u' ? ix->stages_u : ix->stages_d;
    struct pol_best2 best = { PINDEX_NONE, PINDEX_NONE, 0, 0 };
    uint64_t hv;
    size_t e;

    *from = *to = NULL;
    if (!(stages & (LM_S_FROM | LM_S_TO)))
        return;
    hv = pindex_hash(cls, key, len);
    for (e = ix->buckets[(size_t)hv & (ix->nbuckets - 1)]; e != PINDEX_NONE;
         e = ix->ents[e].next) {
        const struct pindex_hent *h = &ix->ents[e];
        if (h->hash != (uint32_t)hv || h->cls != cls || h->len != len)
            continue;
        pol_best2_offer(&best, h, key, len,
                        pindex_key_rank(h->kind, h->stage, h->info, LM_S_FROM, 1),
                        pindex_key_rank(h->kind, h->stage, h->info, LM_S_TO, 1));
    }
    if (best.from != PINDEX_NONE)
        *from = &c->p->rules[best.from];
    if (best.to != PINDEX_NONE)
        *to = &c->p->rules[best.to];
}

const struct lm_rule *
pindex_chain(const struct pindex_ctx *c, const char *name, unsigned stage, int from_level,
             int only_level0)
{
    const char *s = name;
    int level = 0;

    while (*s) {
        if (level >= from_level) {
            const struct lm_rule *r = pol_key(c, 'd', s, strlen(s), stage, level == 0);
            if (r != NULL)
                return r;
        }
        if (only_level0)
            break;
        s = strchr(s, '.');
        if (s == NULL)
            break;
        s++;
        level++;
    }
    return NULL;
}

/* Lower-case copy without one trailing dot, in buf (POL_NORM_BUF bytes) when
 * it fits, else malloc'd (*heap set); NULL for NULL, "" or no memory.  The
 * common case allocates nothing: verification asks millions of questions. */
#define POL_NORM_BUF 256

static char *
pol_norm(const char *s, char *buf, char **heap)
{
    char *c;
    size_t n;

    *heap = NULL;
    if (s == NULL || *s == '\0')
        return NULL;
    n = strlen(s);
    if (n < POL_NORM_BUF) {
        c = buf;
    } else if ((c = *heap = malloc(n + 1)) == NULL) {
        return NULL;
    }
    memcpy(c, s, n + 1);
    lm_fold(c, n);
    if (n > 1 && c[n - 1] == '.')
        c[n - 1] = '\0';
    return c;
}

/* The first rule of KIND (ANY, ANYHOST) at STAGE, SKIP rules passed over. */
static const struct lm_rule *
pol_special(const struct pindex_ctx *c, enum lm_kind kind, unsigned stage)
{
    size_t i;

    for (i = 0; i < c->ix->nspecial; i++) {
        const struct lm_rule *r = &c->p->rules[c->ix->special[i]];
        if (r->kind == kind && (r->stage & stage) && r->action != LM_A_SKIP)
            return r;
    }
    return NULL;
}

/* The first non-SKIP "info@net" rule for this ident and address. */
static const struct lm_rule *
pol_info_net(const struct pindex_ctx *c, const struct lm_ipaddr *ip, const char *info)
{
    size_t i;

    if (info == NULL || ip->family == 0)
        return NULL;
    for (i = 0; i < c->ix->nspecial; i++) {
        const struct lm_rule *r = &c->p->rules[c->ix->special[i]];
        if (r->kind != LM_K_NET || !(r->stage & LM_S_CONNECT) || r->action == LM_A_SKIP ||
            strcmp(r->info, info) != 0 || lm_ipaddr_cmp(&r->net.range.lo, ip) > 0 ||
            lm_ipaddr_cmp(&r->net.range.hi, ip) < 0)
            continue;
        return r;
    }
    return NULL;
}

/* The first non-SKIP SERVER rule whose addresses hold the server address. */
static const struct lm_rule *
pol_server(const struct pindex_ctx *c, const struct lm_ipaddr *server)
{
    size_t i;

    if (server->family == 0)
        return NULL;
    for (i = 0; i < c->ix->nspecial; i++) {
        const struct lm_rule *r = &c->p->rules[c->ix->special[i]];
        if (r->kind != LM_K_SERVER || !(r->stage & LM_S_CONNECT) || r->action == LM_A_SKIP ||
            lm_ipaddr_cmp(&r->net.range.lo, server) > 0 ||
            lm_ipaddr_cmp(&r->net.range.hi, server) < 0)
            continue;
        return r;
    }
    return NULL;
}

/* info@=host rules live in the hash under the host name. */
static const struct lm_rule *
pol_info_host(const struct pindex_ctx *c, const char *host, const char *info)
{
    size_t len = strlen(host), e;

    e = c->ix->buckets[(size_t)pindex_hash('d', host, len) & (c->ix->nbuckets - 1)];
    for (; e != PINDEX_NONE; e = c->ix->ents[e].next) {
        const struct pindex_hent *h = &c->ix->ents[e];
        const struct lm_rule *r;
        if (h->cls != 'd' || h->len != len || memcmp(h->key, host, len) != 0)
            continue;
        r = &c->p->rules[h->idx];
        if (r->info != NULL && strcmp(r->info, info) == 0 && r->kind == LM_K_NAME)
            return r;
    }
    return NULL;
}

static int
pol_local_literal(const struct lm_policy *p, const char *dom)
{
    struct lm_ipaddr a;
    size_t len = strlen(dom), i;
    const char *s = dom + 1;

    if (len < 3 || dom[0] != '[' || dom[len - 1] != ']')
        return 0;
    len -= 2;
    if (len > 5 && strncmp(s, "ipv6:", 5) == 0) {
        s += 5;
        len -= 5;
    }
    if (lm_ipaddr_parse(s, len, LM_IPF_V4 | LM_IPF_V6, &a, NULL, NULL) != 0)
        return 0;
    for (i = 0; i < p->nlocals; i++)
        if (lm_ipaddr_cmp(&p->locals[i].net.range.lo, &a) <= 0 &&
            lm_ipaddr_cmp(&p->locals[i].net.range.hi, &a) >= 0)
            return 1;
    return 0;
}

static int
pol_loopback(const struct lm_ipaddr *ip)
{
    static const unsigned char v6lo[16] = { [15] = 1 };

    if (ip->family == LM_IPV4)
        return ip->b[0] == 127 && ip->b[1] == 0 && ip->b[2] == 0 && ip->b[3] == 1;
    if (ip->family == LM_IPV6)
        return memcmp(ip->b, v6lo, 16) == 0;
    return 1;   /* no address: submitted on the server itself */
}

static int
pol_skip(const struct lm_rule *r)
{
    return r != NULL && r->action == LM_A_SKIP;
}

/* --- atoms ------------------------------------------------------------------------ */

unsigned
pindex_code(const struct lm_rule *r, unsigned stage)
{
    return r == NULL ? 0 : (unsigned)r->action | (r->stage == stage ? 8u : 0u);
}

void
pindex_ip_atoms(const struct pindex_ctx *c, const struct lm_ipaddr *ip, const char *info,
                struct pindex_ipatoms *a)
{
    a->net = pindex_net(c, ip);
    a->single = a->net != NULL &&
                lm_ipaddr_cmp(&a->net->net.range.lo, &a->net->net.range.hi) == 0;
    a->infonet = pol_info_net(c, ip, info);
    a->builtin = c->p->order->loopback_relays && !(c->p->flags & LM_P_NO_LOOPBACK) &&
                 pol_loopback(ip);
}

void
pindex_host_atoms(const struct pindex_ctx *c, const char *host, const char *info,
                  struct pindex_hostatoms *a)
{
    memset(a, 0, sizeof *a);
    if (host == NULL)
        return;
    a->has = 1;
    if (c->p->order->connect == LM_CONNECT_NAMES_FIRST) {
        a->whole = pindex_chain(c, host, LM_S_CONNECT, 0, 0);
    } else {
        a->exact = pindex_chain(c, host, LM_S_CONNECT, 0, 1);
        a->parents = pindex_chain(c, host, LM_S_CONNECT, 1, 0);
        if (info != NULL)
            a->infohost = pol_info_host(c, host, info);
    }
}

void
pindex_srv_atoms(const struct pindex_ctx *c, const struct lm_ipaddr *server, int auth,
                 struct pindex_srvatoms *a)
{
    a->server = pol_server(c, server);
    a->auth = auth ? pol_special(c, LM_K_AUTH, LM_S_CONNECT) : NULL;
}

void
pindex_user_atoms(const struct pindex_ctx *c, const char *user, size_t len,
                  struct pindex_useratoms *a)
{
    a->from = a->to = NULL;
    if (len == 0)
        return;
    pol_key_both(c, 'u', user, len, &a->from, &a->to);
}

/*
 * The domain's atoms in one walk up its levels, one hash chain a level:
 * what pindex_chain() at FROM and at TO, pol_key() of the whole name and
 * pol_accepted() would find, each reading the same chain (a verification
 * asks this for every domain class of both policies).
 */
void
pindex_dom_atoms(const struct pindex_ctx *c, const char *dom, struct pindex_domatoms *a)
{
    const struct lm_pindex *ix = c->ix;
    const char *s = dom;
    int level0 = 1, want_from, want_to, want_acc = 1;

    memset(a, 0, sizeof *a);
    if (*dom == '\0')
        return;
    a->literal = (unsigned char)pol_local_literal(c->p, dom);
    want_from = (ix->stages_d & LM_S_FROM) != 0;
    want_to = (ix->stages_d & LM_S_TO) != 0;
    while (want_from || want_to || want_acc) {
        size_t len = strlen(s), e;
        uint64_t hv = pindex_hash('d', s, len);
        struct pol_best2 best = { PINDEX_NONE, PINDEX_NONE, 0, 0 };
        for (e = ix->buckets[(size_t)hv & (ix->nbuckets - 1)]; e != PINDEX_NONE;
             e = ix->ents[e].next) {
            const struct pindex_hent *h = &ix->ents[e];
            if (h->hash != (uint32_t)hv || h->len != len)
                continue;
            if (h->cls == 'D') {
                if (want_acc && (h->kind == LM_K_TREE || (level0 ? h->kind == LM_K_NAME
                                                               : h->kind == LM_K_BELOW)) &&
                    memcmp(h->key, s, len) == 0) {
                    a->accepted = &c->p->domains[h->idx];
                    want_acc = 0;
                }
                continue;
            }
            if (h->cls != 'd')
                continue;
            pol_best2_offer(&best, h, s, len,
                            want_from ? pindex_key_rank(h->kind, h->stage, h->info,
                                                        LM_S_FROM, level0) : -1,
                            want_to ? pindex_key_rank(h->kind, h->stage, h->info,
                                                      LM_S_TO, level0) : -1);
        }
        if (best.from != PINDEX_NONE) {
            a->from = &c->p->rules[best.from];
            want_from = 0;
            if (level0 && a->from->kind == LM_K_NAME && !pol_skip(a->from))
                a->exact_from = a->from;
        }
        if (best.to != PINDEX_NONE) {
            a->to = &c->p->rules[best.to];
            want_to = 0;
        }
        s = strchr(s, '.');
        if (s == NULL || *++s == '\0')
            break;
        level0 = 0;
    }
}

const struct lm_rule *
pindex_whole(const struct pindex_ctx *c, const char *addr, unsigned stage)
{
    return pol_key(c, 'a', addr, strlen(addr), stage, 1);
}

void
pindex_whole_both(const struct pindex_ctx *c, const char *addr, const struct lm_rule **from,
                  const struct lm_rule **to)
{
    pol_key_both(c, 'a', addr, strlen(addr), from, to);
}

/* --- combining ---------------------------------------------------------------------- */

static const struct lm_rule *
pol_connect_rule(const struct pindex_ctx *c, const struct pindex_ipatoms *ip,
                 const struct pindex_hostatoms *h, const struct pindex_srvatoms *srv)
{
    const struct lm_rule *net = pol_skip(ip->net) ? NULL : ip->net;
    const struct lm_rule *r;

    if (c->p->order->connect == LM_CONNECT_NAMES_FIRST) {
        if (h->whole != NULL && !pol_skip(h->whole))
            return h->whole;
        if (net != NULL)
            return net;
    } else {
        if (ip->infonet != NULL)
            return ip->infonet;
        if (h->infohost != NULL)
            return h->infohost;
        if (net != NULL && ip->single)
            return net;
        if (h->exact != NULL && !pol_skip(h->exact))
            return h->exact;
        if (net != NULL)
            return net;
        if (!pol_skip(h->exact) && h->parents != NULL && !pol_skip(h->parents))
            return h->parents;
    }
    if (srv->server != NULL)
        return srv->server;
    if (srv->auth != NULL)
        return srv->auth;
    if (h->has && (r = pol_special(c, LM_K_ANYHOST, LM_S_CONNECT)) != NULL)
        return r;
    return pol_special(c, LM_K_ANY, LM_S_CONNECT);
}

void
pindex_connect(const struct pindex_ctx *c, const struct pindex_ipatoms *ip,
               const struct pindex_hostatoms *h, const struct pindex_srvatoms *srv,
               struct pindex_outcome *o)
{
    const struct lm_rule *r = pol_connect_rule(c, ip, h, srv);

    o->rule = r;
    o->domain = NULL;
    if (r != NULL && lm_action_refuses(r->action))
        o->code = r->action == LM_A_DENY ? PX_DENY : PX_REFUSE;
    else if (r != NULL && r->action == LM_A_DISCARD)
        o->code = PX_DISCARD;
    else if (r != NULL && r->action == LM_A_RELAY)
        o->code = PX_RELAY;
    else if (ip->builtin)
        o->code = PX_BUILTIN;
    else
        o->code = PX_PASS;
}

/* The access(5)-style lookup of an address at STAGE: the whole address,
 * "user@", the domain and its parents, the default.  A SKIP on the address
 * or the local part ends the lookup; one on the domain falls to the
 * default.  With lm_order.user_last the domain and its parents come before
 * "user@", and a SKIP on the domain ends the search for keys of this
 * address there too (it falls to the default, "user@" is not looked up):
 * the server stops at the first key it finds, whatever its value.  Only the
 * order of the same three lookups changes, so lm_verify stays exact. */
static const struct lm_rule *
pol_access(const struct pindex_ctx *c, int has_at, const struct lm_rule *whole,
           const struct lm_rule *user, const struct lm_rule *dom, int has_dom, unsigned stage)
{
    if (!has_at)
        return NULL;
    if (whole != NULL)
        return pol_skip(whole) ? NULL : whole;
    if (c->p->order->user_last) {
        if (has_dom && dom != NULL)
            return pol_skip(dom) ? pol_special(c, LM_K_ANY, stage) : dom;
        if (user != NULL)
            return pol_skip(user) ? NULL : user;
        return pol_special(c, LM_K_ANY, stage);
    }
    if (user != NULL)
        return pol_skip(user) ? NULL : user;
    if (has_dom && dom != NULL && !pol_skip(dom))
        return dom;
    return pol_special(c, LM_K_ANY, stage);
}

/* A refusing, discarding or (with relay set) relaying rule as a code. */
static void
pol_rule_outcome(const struct lm_rule *r, int relays, enum pindex_code relay_code,
                 struct pindex_outcome *o)
{
    o->rule = r;
    o->domain = NULL;
    if (r == NULL)
        o->code = PX_PASS;
    else if (lm_action_refuses(r->action))
        o->code = PX_REFUSE;
    else if (r->action == LM_A_DISCARD)
        o->code = PX_DISCARD;
    else if (r->action == LM_A_RELAY && relays)
        o->code = relay_code;
    else
        o->code = PX_PASS;
}

void
pindex_from(const struct pindex_ctx *c, int has_at, const struct lm_rule *whole,
            const struct pindex_useratoms *u, const struct pindex_domatoms *dm,
            struct pindex_outcome *o)
{
    const struct lm_order *ord = c->p->order;
    const struct lm_rule *r = NULL;
    int relays;

    if (ord->sender == LM_SENDER_EXACT) {
        if (whole != NULL && !pol_skip(whole))
            r = whole;
        else if (has_at)
            r = dm->exact_from;
    } else if (ord->sender == LM_SENDER_ACCESS) {
        r = pol_access(c, has_at, whole, u->from, dm->from, has_at, LM_S_FROM);
    }
    relays = r != NULL && (ord->sender_relay == LM_SENDER_RELAY_ALWAYS ||
                           (ord->sender_relay == LM_SENDER_RELAY_TAGGED &&
                            (c->p->flags & LM_P_RELAY_MAIL_FROM) && r->stage == LM_S_FROM));
    pol_rule_outcome(r, relays, PX_RELAY, o);
}

void
pindex_to(const struct pindex_ctx *c, int has_at, const struct lm_rule *whole,
          const struct pindex_useratoms *u, const struct pindex_domatoms *dm,
          struct pindex_outcome *o)
{
    o->rule = NULL;
    o->domain = NULL;
    if (!has_at) {
        o->code = PX_LOCAL;
        return;
    }
    if (c->p->order->rcpt_rules) {
        pol_rule_outcome(pol_access(c, 1, whole, u->to, dm->to, 1, LM_S_TO), 1,
                         PX_ACCEPT_RULE, o);
        if (o->code != PX_PASS)
            return;
        o->rule = NULL;
    }
    if ((o->domain = dm->accepted) != NULL)
        o->code = PX_ACCEPT_DOMAIN;
    else if (dm->literal)
        o->code = PX_ACCEPT_LITERAL;
    else
        o->code = PX_NEEDRELAY;
}

void
pindex_verdict(const struct lm_policy *p, const struct pindex_outcome *conn,
               const struct pindex_outcome *from, const struct pindex_outcome *to,
               int have_rcpt, struct lm_verdict *v)
{
    memset(v, 0, sizeof *v);
    switch (conn->code) {
    case PX_REFUSE: case PX_DENY:
        v->kind = conn->code == PX_DENY ? LM_V_DENY : LM_V_REJECT;
        v->stage = LM_S_CONNECT;
        v->rule = conn->rule;
        v->why = "client refused";
        return;
    case PX_DISCARD:
        v->kind = LM_V_DISCARD;
        v->stage = LM_S_CONNECT;
        v->rule = conn->rule;
        v->why = "mail from this client is discarded";
        return;
    default:
        break;
    }
    if (from->code == PX_REFUSE || from->code == PX_DISCARD) {
        v->kind = from->code == PX_DISCARD ? LM_V_DISCARD : LM_V_REJECT;
        v->stage = LM_S_FROM;
        v->rule = from->rule;
        v->why = from->code == PX_DISCARD ? "mail from this sender is discarded"
                                          : "sender refused";
        return;
    }
    v->stage = LM_S_TO;
    v->rule = to->rule;
    switch (to->code) {
    case PX_LOCAL:
        v->kind = LM_V_ACCEPT;
        v->why = have_rcpt ? "unqualified local recipient" : "no recipient given";
        return;
    case PX_REFUSE:
        v->kind = LM_V_REJECT;
        v->why = "recipient refused";
        return;
    case PX_DISCARD:
        v->kind = LM_V_DISCARD;
        v->why = "mail to this recipient is discarded";
        return;
    case PX_ACCEPT_RULE:
        v->kind = LM_V_ACCEPT;
        v->why = "mail for this recipient is accepted";
        return;
    case PX_ACCEPT_DOMAIN:
        v->kind = LM_V_ACCEPT;
        v->domain = to->domain;
        v->why = "recipient domain is ours";
        return;
    case PX_ACCEPT_LITERAL:
        v->kind = LM_V_ACCEPT;
        v->why = "recipient is at one of our addresses";
        return;
    default:
        break;
    }
    if (conn->code == PX_RELAY || conn->code == PX_BUILTIN || from->code == PX_RELAY) {
        v->kind = LM_V_RELAY;
        v->rule = v->relay = conn->code == PX_RELAY ? conn->rule
                           : conn->code == PX_BUILTIN ? NULL : from->rule;
        v->why = conn->code == PX_RELAY ? "client may relay"
               : conn->code == PX_BUILTIN ? "loopback client" : "sender may relay";
        return;
    }
    v->kind = LM_V_REFUSE;
    v->why = p->order->refused;
}

/* --- decide ------------------------------------------------------------------------ */

/* The atoms of one address and its outcome at the from or to stage. */
static void
pol_address_stage(const struct pindex_ctx *c, const char *addr, unsigned stage,
                  struct pindex_outcome *o)
{
    struct pindex_useratoms u = { NULL, NULL };
    struct pindex_domatoms dm;
    const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
    const struct lm_rule *whole = addr != NULL ? pindex_whole(c, addr, stage) : NULL;

    memset(&dm, 0, sizeof dm);
    if (at != NULL) {
        pindex_user_atoms(c, addr, (size_t)(at - addr), &u);
        pindex_dom_atoms(c, at + 1, &dm);
    }
    if (stage == LM_S_FROM)
        pindex_from(c, at != NULL, whole, &u, &dm, o);
    else
        pindex_to(c, at != NULL, whole, &u, &dm, o);
}

int
lm_decide(const struct lm_policy *p, const struct lm_query *q, struct lm_verdict *v)
{
    struct pindex_ctx c;
    struct lm_pindex *tmp = NULL;
    char hb[POL_NORM_BUF], sb[POL_NORM_BUF], rb[POL_NORM_BUF];
    char *hh, *sh, *rh;
    char *host = pol_norm(q->host, hb, &hh);
    char *sender = pol_norm(q->sender, sb, &sh);
    char *rcpt = pol_norm(q->rcpt, rb, &rh);

    c.p = p;
    c.ix = p->index;
    if (c.ix == NULL)
        c.ix = tmp = pindex_build(p);
    if (c.ix == NULL) {
        /* No memory for even a small index: refuse, the safe answer. */
        memset(v, 0, sizeof *v);
        v->kind = LM_V_REFUSE;
        v->why = "out of memory";
    } else {
        struct pindex_ipatoms ia;
        struct pindex_hostatoms ha;
        struct pindex_srvatoms sa;
        struct pindex_outcome co, fo = { PX_PASS, NULL, NULL }, to;
        pindex_ip_atoms(&c, &q->ip, q->info, &ia);
        pindex_host_atoms(&c, host, q->info, &ha);
        pindex_srv_atoms(&c, &q->server, q->auth, &sa);
        pindex_connect(&c, &ia, &ha, &sa, &co);
        if (sender != NULL)
            pol_address_stage(&c, sender, LM_S_FROM, &fo);
        pol_address_stage(&c, rcpt, LM_S_TO, &to);
        pindex_verdict(p, &co, &fo, &to, rcpt != NULL, v);
    }
    pindex_free(tmp);
    free(hh);
    free(sh);
    free(rh);
    return 0;
}
