/*
 * verify.c - lm_verify(): decide whether two policies judge every SMTP
 * transaction alike, exactly, and show a counterexample where they do not.
 *
 * lm_decide() is lookups ("atoms") plus combining steps that read a rule
 * only through its code (pindex.h).  The input space is cut into classes on
 * which every atom of both policies has one code:
 *   - client addresses: the pieces that both sides' networks (and the
 *     loopback addresses) cut each family into;
 *   - host names, and the domains of addresses: each name a rule or an
 *     accepted domain names, a name just below it, a name nothing names, no
 *     name; any other name behaves as one of these (its longest named
 *     suffix decides every lookup), so these are all the classes;
 *   - local parts: each one a rule names, one nothing names, none;
 *   - idents: each one a rule names, another, none;
 *   - address literals: the pieces both sides' own addresses cut.
 * Classes with equal codes are merged (grouped by the pair of codes the two
 * sides give), one representative each.  The connect stage reads the client
 * only, the from stage the sender only, the to stage the recipient only,
 * and the verdict reads the three outcomes only; so the policies agree
 * everywhere exactly when they agree on every combination of the outcome
 * pairs reachable in each stage, which are few.  Nothing is sampled.  Cost:
 * linear in the rules after sorting (one lookup per class and side).
 */
#include "libmap/convert.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/util.h"
#include "libmap/pindex.h"

#define VF_NCODE 11     /* enum pindex_code values */

/* --- a set of strings: one arena, sorted and unique on freezing ------------------ */

/* A set of strings: each one either borrowed (a policy's pattern, or a
 * string of another set, which outlive the set) or copied into chunks
 * that never move, so v[] points straight at every member and nothing is
 * copied twice.  vf_freeze sorts v[] and drops repeats. */
struct vf_chunk {
    struct vf_chunk *next;
    size_t           used, cap;
    char             data[];
};

#define VF_CHUNK 65536

struct vf_strs {
    struct vf_chunk *chunks;    /* the copies; the newest first */
    char   **v;
    size_t   n, cap;
    int      err;
};

static void
vf_spush(struct vf_strs *s, char *str)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        char **nv = realloc(s->v, ncap * sizeof *nv);
        if (nv == NULL) {
            s->err = 1;
            return;
        }
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = str;
}

/* Add a string that outlives the set, without copying it. */
static void
vf_sref(struct vf_strs *s, char *str)
{
    if (!s->err)
        vf_spush(s, str);
}

/* Add a copy of a, b and c joined (b and c may be NULL). */
static void
vf_sadd(struct vf_strs *s, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;
    size_t need = la + lb + lc + 1;
    struct vf_chunk *k = s->chunks;
    char *dst;

    if (s->err)
        return;
    if (k == NULL || k->cap - k->used < need) {
        size_t cap = need > VF_CHUNK ? need : VF_CHUNK;
        if ((k = malloc(sizeof *k + cap)) == NULL) {
            s->err = 1;
            return;
        }
        k->used = 0;
        k->cap = cap;
        k->next = s->chunks;
        s->chunks = k;
    }
    dst = k->data + k->used;
    memcpy(dst, a, la);
    if (lb)
        memcpy(dst + la, b, lb);
    if (lc)
        memcpy(dst + la + lb, c, lc);
    dst[need - 1] = '\0';
    k->used += need;
    vf_spush(s, dst);
    if (s->err)
        k->used -= need;
}

/* Take back the last string vf_sadd added. */
static void
vf_sunadd(struct vf_strs *s)
{
    char *last = s->v[--s->n];

    s->chunks->used = (size_t)(last - s->chunks->data);
}

static int
vf_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
vf_freeze(struct vf_strs *s)
{
    size_t i, j;

    if (s->err || s->n == 0)
        return;
    qsort(s->v, s->n, sizeof *s->v, vf_strcmp);
    for (i = j = 1; i < s->n; i++)
        if (strcmp(s->v[i], s->v[j - 1]) != 0)
            s->v[j++] = s->v[i];
    s->n = j;
}

static int
vf_has(const struct vf_strs *s, const char *key)
{
    return s->n > 0 && bsearch(&key, s->v, s->n, sizeof *s->v, vf_strcmp) != NULL;
}

static void
vf_sfree(struct vf_strs *s)
{
    while (s->chunks != NULL) {
        struct vf_chunk *next = s->chunks->next;
        free(s->chunks);
        s->chunks = next;
    }
    free(s->v);
}

/* --- groups: classes merged by their codes ------------------------------------------ */

/* Members of each group in one array, linked; groups found by hashing the
 * 64-bit signature.  Indexes are 32 bits wide (PINDEX_NONE ends a list),
 * as in the policy index: a million classes take half the memory. */
struct vf_groups {
    uint64_t *sig;          /* per group */
    uint32_t *first, *last; /* member lists (indices into next) */
    size_t    n, cap;
    uint32_t *slot;         /* open addressing: group index + 1 */
    size_t    nslot;
    uint32_t *next;         /* per member: the next member of its group */
    uint32_t *member;       /* per member: the caller's index (PINDEX_NONE kept) */
    size_t    nmem, capmem;
    int       err;
};

static uint64_t
vf_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int
vf_grow_slots(struct vf_groups *g)
{
    size_t ns = g->nslot ? 2 * g->nslot : 64, i;
    uint32_t *nv = calloc(ns, sizeof *nv);

    if (nv == NULL)
        return -1;
    for (i = 0; i < g->n; i++) {
        size_t h = (size_t)vf_mix(g->sig[i]) & (ns - 1);
        while (nv[h] != 0)
            h = (h + 1) & (ns - 1);
        nv[h] = (uint32_t)i + 1;
    }
    free(g->slot);
    g->slot = nv;
    g->nslot = ns;
    return 0;
}

/* Put item IDX in the group of SIG. */
static void
vf_group_add(struct vf_groups *g, uint64_t sig, size_t idx)
{
    size_t h, gi;

    if (g->err)
        return;
    if (g->nmem >= PINDEX_MAX || (idx > PINDEX_MAX && idx != PINDEX_NONE))
        goto oom;
    if (2 * (g->n + 1) > g->nslot && vf_grow_slots(g) != 0)
        goto oom;
    for (h = (size_t)vf_mix(sig) & (g->nslot - 1); g->slot[h] != 0;
         h = (h + 1) & (g->nslot - 1))
        if (g->sig[g->slot[h] - 1] == sig)
            break;
    if (g->nmem == g->capmem) {
        size_t nc = g->capmem ? 2 * g->capmem : 64;
        uint32_t *a = realloc(g->next, nc * sizeof *a), *b;
        if (a == NULL)
            goto oom;
        g->next = a;
        if ((b = realloc(g->member, nc * sizeof *b)) == NULL)
            goto oom;
        g->member = b;
        g->capmem = nc;
    }
    g->member[g->nmem] = (uint32_t)idx;
    g->next[g->nmem] = PINDEX_NONE;
    if (g->slot[h] == 0) {
        if (g->n == g->cap) {
            size_t nc = g->cap ? 2 * g->cap : 16;
            uint64_t *s = realloc(g->sig, nc * sizeof *s);
            uint32_t *f, *l;
            if (s == NULL)
                goto oom;
            g->sig = s;
            if ((f = realloc(g->first, nc * sizeof *f)) == NULL)
                goto oom;
            g->first = f;
            if ((l = realloc(g->last, nc * sizeof *l)) == NULL)
                goto oom;
            g->last = l;
            g->cap = nc;
        }
        gi = g->n++;
        g->sig[gi] = sig;
        g->first[gi] = g->last[gi] = (uint32_t)g->nmem;
        g->slot[h] = (uint32_t)gi + 1;
    } else {
        gi = g->slot[h] - 1;
        g->next[g->last[gi]] = (uint32_t)g->nmem;
        g->last[gi] = (uint32_t)g->nmem;
    }
    g->nmem++;
    return;
oom:
    g->err = 1;
}

static void
vf_groups_free(struct vf_groups *g)
{
    free(g->sig);
    free(g->first);
    free(g->last);
    free(g->slot);
    free(g->next);
    free(g->member);
}

/* --- outcome pairs ------------------------------------------------------------------ */

/* The pairs of outcomes the two sides give in one stage, each with the
 * input that first showed it. */
struct vf_pairs {
    unsigned char seen[VF_NCODE][VF_NCODE];
    struct pindex_outcome a[VF_NCODE][VF_NCODE], b[VF_NCODE][VF_NCODE];
    size_t witness[VF_NCODE][VF_NCODE];
};

static void
vf_pair(struct vf_pairs *p, const struct pindex_outcome *a, const struct pindex_outcome *b,
        size_t witness)
{
    if (p->seen[a->code][b->code])
        return;
    p->seen[a->code][b->code] = 1;
    p->a[a->code][b->code] = *a;
    p->b[a->code][b->code] = *b;
    p->witness[a->code][b->code] = witness;
}

/* The first addresses of the pieces an address space is cut into, sorted:
 * the IPv4 ones as 32-bit numbers (a million networks make twice as many
 * pieces, four bytes each instead of seventeen), then the IPv6 ones. */
struct vf_pieces {
    uint32_t         *v4;
    struct lm_ipaddr *v6;
    size_t            n4, n6;
};

/* Piece i of P as an address, in *out. */
static const struct lm_ipaddr *
vf_piece(const struct vf_pieces *p, size_t i, struct lm_ipaddr *out)
{
    if (i >= p->n4)
        return &p->v6[i - p->n4];
    lm_ipaddr_v4(out, p->v4[i] >> 24, p->v4[i] >> 16 & 0xff, p->v4[i] >> 8 & 0xff,
                 p->v4[i] & 0xff);
    return out;
}

static void
vf_pieces_free(struct vf_pieces *p)
{
    free(p->v4);
    free(p->v6);
    memset(p, 0, sizeof *p);
}

/* --- the context ---------------------------------------------------------------------- */

struct vf_ctx {
    struct pindex_ctx a, b;
    struct lm_pindex *tmpa, *tmpb;
    struct vf_strs names;       /* every domain pattern and accepted domain */
    struct vf_strs addrs;       /* every ADDR pattern */
    struct vf_strs users;       /* every USER pattern */
    struct vf_strs infos;       /* every ident */
    struct vf_strs hosts;       /* host classes (names and names below) */
    struct vf_strs reps;        /* addresses that represent sender/recipient classes */
    char fresh[64];             /* a label no pattern holds */
    struct vf_pieces ips;       /* client address classes */
    struct lm_ipaddr *srvs;     /* server address classes (and "unknown") */
    size_t nsrvs;
    struct vf_pairs conn, from, to;
    struct { struct lm_ipaddr ip, server; size_t host, info; int auth; } *cw;
                                /* connect witnesses */
    size_t ncw, capcw;
    int err;
    struct lm_diags *d;         /* for the progress line only */
};

static void
vf_collect(struct vf_ctx *c, const struct lm_policy *p)
{
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (r->info != NULL)
            vf_sref(&c->infos, r->info);
        switch (r->kind) {
        case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW:
            if (r->pattern != NULL)
                vf_sref(&c->names, r->pattern);
            break;
        case LM_K_ADDR:
            if (r->pattern != NULL)
                vf_sref(&c->addrs, r->pattern);
            break;
        case LM_K_USER:
            if (r->pattern != NULL)
                vf_sref(&c->users, r->pattern);
            break;
        default:
            break;
        }
    }
    for (i = 0; i < p->ndomains; i++)
        vf_sref(&c->names, p->domains[i].name);
}

/* A label that occurs in no pattern, ident or address of either side, so
 * that "LABEL.name" and "LABEL@name" are named by nothing. */
static void
vf_pick_fresh(struct vf_ctx *c)
{
    const struct vf_strs *all[] = { &c->names, &c->addrs, &c->users, &c->infos };
    unsigned k;
    size_t i, j;

    for (k = 0;; k++) {
        int clash = 0;
        snprintf(c->fresh, sizeof c->fresh, k ? "relaymap-probe%u" : "relaymap-probe", k);
        for (i = 0; i < sizeof all / sizeof all[0] && !clash; i++)
            for (j = 0; j < all[i]->n && !clash; j++)
                clash = strstr(all[i]->v[j], c->fresh) != NULL;
        if (!clash)
            return;
    }
}

enum vf_which { VF_CLIENTS, VF_LOCALS, VF_SERVERS };

/* Range i of one kind in P (client networks, the server's own addresses,
 * or the server addresses rules name), or NULL when rule i is of another
 * kind. */
static const struct lm_iprange *
vf_range(const struct lm_policy *p, size_t i, enum vf_which which)
{
    if (which == VF_LOCALS)
        return &p->locals[i].net.range;
    if (p->rules[i].kind != (which == VF_CLIENTS ? LM_K_NET : LM_K_SERVER))
        return NULL;
    return &p->rules[i].net.range;
}

static size_t
vf_nranges(const struct lm_policy *p, enum vf_which which)
{
    return which == VF_LOCALS ? p->nlocals : p->nrules;
}

static uint32_t
vf_v4(const struct lm_ipaddr *a)
{
    return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

static int
vf_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int
vf_addr_cmp(const void *a, const void *b)
{
    return lm_ipaddr_cmp(a, b);
}

/* Add the first address of a piece: IPv4 ones as 32-bit numbers (most
 * networks are IPv4, and a million of them sort four times smaller). */
static void
vf_point(const struct lm_ipaddr *a, uint32_t *v4, size_t *n4, struct lm_ipaddr *v6,
         size_t *n6)
{
    if (a->family == LM_IPV4)
        v4[(*n4)++] = vf_v4(a);
    else
        v6[(*n6)++] = *a;
}

/* Sort and drop repeats; the new count. */
static size_t
vf_uniq(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *p = v;
    size_t i, j;

    if (n == 0)
        return 0;
    qsort(v, n, size, cmp);
    for (i = j = 1; i < n; i++)
        if (cmp(p + (j - 1) * size, p + i * size) != 0) {
            if (i != j)
                memcpy(p + j * size, p + i * size, size);
            j++;
        }
    return j;
}

/* The pieces both families are cut into by the ranges of both sides (and,
 * for clients, the loopback addresses), into *out.  Within a piece every
 * range holds all addresses or none, so one address stands for all. */
static int
vf_cut(struct vf_ctx *c, enum vf_which which, struct vf_pieces *out, struct lm_diags *d)
{
    const struct lm_policy *side[2] = { c->a.p, c->b.p };
    uint32_t *v4 = NULL, *s4;
    struct lm_ipaddr *v6 = NULL, *s6, lb;
    size_t r4 = 0, r6 = 0, n4 = 0, n6 = 0, i, k;

    memset(out, 0, sizeof *out);
    /* every piece starts at a family's first address, at some lo, or just
     * after some hi: count them by family first */
    for (k = 0; k < 2; k++)
        for (i = 0; i < vf_nranges(side[k], which); i++) {
            const struct lm_iprange *r = vf_range(side[k], i, which);
            if (r != NULL && r->lo.family == LM_IPV4)
                r4++;
            else if (r != NULL)
                r6++;
        }
    if ((v4 = malloc((2 * r4 + 3) * sizeof *v4)) == NULL ||
        (v6 = malloc((2 * r6 + 3) * sizeof *v6)) == NULL)
        goto oom;
    lm_ipaddr_v4(&lb, 0, 0, 0, 0);
    vf_point(&lb, v4, &n4, v6, &n6);
    lm_ipaddr_parse("::", 2, LM_IPF_V6, &lb, NULL, NULL);
    vf_point(&lb, v4, &n4, v6, &n6);
    if (which == VF_CLIENTS) {
        /* the loopback clients, which a server may treat by itself */
        lm_ipaddr_v4(&lb, 127, 0, 0, 1);
        vf_point(&lb, v4, &n4, v6, &n6);
        lm_ipaddr_succ(&lb);
        vf_point(&lb, v4, &n4, v6, &n6);
        lm_ipaddr_parse("::1", 3, LM_IPF_V6, &lb, NULL, NULL);
        vf_point(&lb, v4, &n4, v6, &n6);
        lm_ipaddr_succ(&lb);
        vf_point(&lb, v4, &n4, v6, &n6);
    }
    for (k = 0; k < 2; k++)
        for (i = 0; i < vf_nranges(side[k], which); i++) {
            const struct lm_iprange *r = vf_range(side[k], i, which);
            struct lm_ipaddr end;
            if (r == NULL)
                continue;
            end = r->hi;
            vf_point(&r->lo, v4, &n4, v6, &n6);
            if (lm_ipaddr_succ(&end) == 0)
                vf_point(&end, v4, &n4, v6, &n6);
        }
    out->n4 = vf_uniq(v4, n4, sizeof *v4, vf_u32_cmp);
    out->n6 = vf_uniq(v6, n6, sizeof *v6, vf_addr_cmp);
    /* give back what the repeats took (never fails: it shrinks) */
    out->v4 = (s4 = realloc(v4, out->n4 * sizeof *v4)) != NULL ? s4 : v4;
    out->v6 = (s6 = realloc(v6, out->n6 * sizeof *v6)) != NULL ? s6 : v6;
    return 0;
oom:
    free(v4);
    free(v6);
    return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
}

/* The same as one sorted array of addresses (malloc'd), for the server's
 * own addresses and those rules name, which are few. */
static int
vf_pieces(struct vf_ctx *c, enum vf_which which, struct lm_ipaddr **out, size_t *nout,
          struct lm_diags *d)
{
    struct vf_pieces p;
    struct lm_ipaddr *st;
    size_t i;

    if (vf_cut(c, which, &p, d) != 0)
        return -1;
    /* IPv4 sorts before IPv6 (lm_ipaddr_cmp) */
    if ((st = malloc((p.n4 + p.n6 + 1) * sizeof *st)) == NULL) {
        vf_pieces_free(&p);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    for (i = 0; i < p.n4 + p.n6; i++) {
        struct lm_ipaddr buf;
        st[i] = *vf_piece(&p, i, &buf);
    }
    vf_pieces_free(&p);
    *out = st;
    *nout = i;
    return 0;
}

/* --- signatures ------------------------------------------------------------------------ */

static uint64_t
vf_ipsig(const struct pindex_ipatoms *x)
{
    return pindex_code(x->net, LM_S_CONNECT) | (uint64_t)x->single << 4 |
           (uint64_t)x->builtin << 5 | (uint64_t)pindex_code(x->infonet, LM_S_CONNECT) << 6;
}

static uint64_t
vf_hostsig(const struct pindex_hostatoms *x)
{
    return x->has | (uint64_t)pindex_code(x->whole, LM_S_CONNECT) << 1 |
           (uint64_t)pindex_code(x->exact, LM_S_CONNECT) << 5 |
           (uint64_t)pindex_code(x->parents, LM_S_CONNECT) << 9 |
           (uint64_t)pindex_code(x->infohost, LM_S_CONNECT) << 13;
}

static uint64_t
vf_srvsig(const struct pindex_srvatoms *x)
{
    return pindex_code(x->server, LM_S_CONNECT) |
           (uint64_t)pindex_code(x->auth, LM_S_CONNECT) << 4;
}

static uint64_t
vf_usersig(const struct pindex_useratoms *x)
{
    return pindex_code(x->from, LM_S_FROM) | (uint64_t)pindex_code(x->to, LM_S_TO) << 4;
}

static uint64_t
vf_domsig(const struct pindex_domatoms *x)
{
    return pindex_code(x->from, LM_S_FROM) | (uint64_t)pindex_code(x->to, LM_S_TO) << 4 |
           (uint64_t)pindex_code(x->exact_from, LM_S_FROM) << 8 |
           (uint64_t)(x->accepted != NULL) << 12 | (uint64_t)x->literal << 13;
}

/* --- the connect stage ----------------------------------------------------------------- */

static int
vf_conn_witness(struct vf_ctx *c, const struct lm_ipaddr *ip, size_t host, size_t info,
                const struct lm_ipaddr *server, int auth)
{
    if (c->ncw == c->capcw) {
        size_t nc = c->capcw ? 2 * c->capcw : 64;
        void *nv = realloc(c->cw, nc * sizeof *c->cw);
        if (nv == NULL)
            return -1;
        c->cw = nv;
        c->capcw = nc;
    }
    c->cw[c->ncw].ip = *ip;
    c->cw[c->ncw].host = host;
    c->cw[c->ncw].info = info;
    c->cw[c->ncw].server = *server;
    c->cw[c->ncw].auth = auth;
    c->ncw++;
    return 0;
}

/* Host class i: PINDEX_NONE for "no name", else c->hosts.v[i]. */
static const char *
vf_host(const struct vf_ctx *c, size_t i)
{
    return i == PINDEX_NONE ? NULL : c->hosts.v[i];
}

/* Ident class k: 0 none, 1 one no rule names, k >= 2 infos.v[k - 2]. */
static const char *
vf_info(const struct vf_ctx *c, size_t k)
{
    return k == 0 ? NULL : k == 1 ? c->fresh : c->infos.v[k - 2];
}

/* Server class j: the server address (j / 2: 0 unknown, else srvs[j/2 - 1])
 * and whether the client authenticated (j % 2). */
static const struct lm_ipaddr *
vf_server(const struct vf_ctx *c, size_t j, struct lm_ipaddr *none)
{
    memset(none, 0, sizeof *none);
    return j / 2 == 0 ? none : &c->srvs[j / 2 - 1];
}

static int
vf_connect(struct vf_ctx *c, size_t *nclasses)
{
    struct vf_groups gsrv = { 0 };
    struct lm_ipaddr none;
    size_t nips = c->ips.n4 + c->ips.n6, k, i, gi, gh, gs;
    int err = 0;

    for (i = 0; i < 2 * (c->nsrvs + 1); i++) {
        struct pindex_srvatoms xa, xb;
        pindex_srv_atoms(&c->a, vf_server(c, i, &none), (int)(i % 2), &xa);
        pindex_srv_atoms(&c->b, vf_server(c, i, &none), (int)(i % 2), &xb);
        vf_group_add(&gsrv, vf_srvsig(&xa) | vf_srvsig(&xb) << 32, i);
    }
    *nclasses += 2 * (c->nsrvs + 1);
    err = gsrv.err;
    /* with no ident rule, "another ident" is looked up exactly like "none" */
    for (k = 0; k < (c->infos.n > 0 ? c->infos.n + 2 : 1) && !err; k++) {
        const char *info = vf_info(c, k);
        struct vf_groups gip = { 0 }, ghost = { 0 };
        for (i = 0; i < nips; i++) {
            struct pindex_ipatoms xa, xb;
            struct lm_ipaddr buf;
            const struct lm_ipaddr *ip = vf_piece(&c->ips, i, &buf);
            pindex_ip_atoms(&c->a, ip, info, &xa);
            pindex_ip_atoms(&c->b, ip, info, &xb);
            vf_group_add(&gip, vf_ipsig(&xa) | vf_ipsig(&xb) << 32, i);
            lm_progress_add(c->d, LM_PROGRESS_CLASSES, 1);
        }
        /* "no name" first: a group's first member shows it in messages */
        for (i = 0; i <= c->hosts.n; i++) {
            struct pindex_hostatoms xa, xb;
            const char *h = i > 0 ? c->hosts.v[i - 1] : NULL;
            pindex_host_atoms(&c->a, h, info, &xa);
            pindex_host_atoms(&c->b, h, info, &xb);
            vf_group_add(&ghost, vf_hostsig(&xa) | vf_hostsig(&xb) << 32,
                         i > 0 ? i - 1 : PINDEX_NONE);
            lm_progress_add(c->d, LM_PROGRESS_CLASSES, 1);
        }
        err = gip.err || ghost.err;
        *nclasses += nips + c->hosts.n + 1;
        for (gi = 0; gi < gip.n && !err; gi++) {
            struct lm_ipaddr buf;
            const struct lm_ipaddr *ip = vf_piece(&c->ips, gip.member[gip.first[gi]], &buf);
            struct pindex_ipatoms ia, ib;
            pindex_ip_atoms(&c->a, ip, info, &ia);
            pindex_ip_atoms(&c->b, ip, info, &ib);
            for (gh = 0; gh < ghost.n && !err; gh++) {
                size_t hi = ghost.member[ghost.first[gh]];
                struct pindex_hostatoms ha, hb;
                pindex_host_atoms(&c->a, vf_host(c, hi), info, &ha);
                pindex_host_atoms(&c->b, vf_host(c, hi), info, &hb);
                for (gs = 0; gs < gsrv.n && !err; gs++) {
                    size_t sj = gsrv.member[gsrv.first[gs]];
                    const struct lm_ipaddr *srv = vf_server(c, sj, &none);
                    struct pindex_srvatoms sa, sb;
                    struct pindex_outcome oa, ob;
                    pindex_srv_atoms(&c->a, srv, (int)(sj % 2), &sa);
                    pindex_srv_atoms(&c->b, srv, (int)(sj % 2), &sb);
                    pindex_connect(&c->a, &ia, &ha, &sa, &oa);
                    pindex_connect(&c->b, &ib, &hb, &sb, &ob);
                    if (!c->conn.seen[oa.code][ob.code]) {
                        if (vf_conn_witness(c, ip, hi, k, srv, (int)(sj % 2)) != 0)
                            err = 1;
                        else
                            vf_pair(&c->conn, &oa, &ob, c->ncw - 1);
                    }
                }
            }
        }
        vf_groups_free(&gip);
        vf_groups_free(&ghost);
    }
    vf_groups_free(&gsrv);
    /* the witnesses hold copies of the addresses they need */
    vf_pieces_free(&c->ips);
    free(c->srvs);
    c->srvs = NULL;
    return err ? -1 : 0;
}

/* --- the sender and recipient stages ------------------------------------------------------ */

/* Judge address rep (NULL: none) as a sender and as a recipient. */
static void
vf_address(struct vf_ctx *c, const char *addr, size_t witness)
{
    const struct pindex_ctx *side[2] = { &c->a, &c->b };
    struct pindex_outcome fo[2], to[2];
    const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
    int s;

    for (s = 0; s < 2; s++) {
        struct pindex_useratoms u = { NULL, NULL };
        struct pindex_domatoms dm;
        const struct lm_rule *wf, *wt;
        memset(&dm, 0, sizeof dm);
        if (addr == NULL) {
            fo[s].code = PX_PASS;
            fo[s].rule = NULL;
            fo[s].domain = NULL;
            pindex_to(side[s], 0, NULL, &u, &dm, &to[s]);
            continue;
        }
        if (at != NULL) {
            pindex_user_atoms(side[s], addr, (size_t)(at - addr), &u);
            pindex_dom_atoms(side[s], at + 1, &dm);
        }
        pindex_whole_both(side[s], addr, &wf, &wt);
        pindex_from(side[s], at != NULL, wf, &u, &dm, &fo[s]);
        pindex_to(side[s], at != NULL, wt, &u, &dm, &to[s]);
    }
    vf_pair(&c->from, &fo[0], &fo[1], witness);
    vf_pair(&c->to, &to[0], &to[1], witness);
}

static int
vf_addresses(struct vf_ctx *c, size_t *nclasses, struct lm_diags *d)
{
    struct vf_strs users = { 0 }, lits = { 0 };
    struct vf_groups gu = { 0 }, gd = { 0 };
    struct lm_ipaddr *lip = NULL;
    size_t nlip = 0, i, j, x, y;
    int rc = -1;

    /* local parts: each one named, one nothing names, none */
    vf_sadd(&users, "", NULL, NULL);
    vf_sadd(&users, c->fresh, NULL, NULL);
    for (i = 0; i < c->users.n; i++)
        vf_sref(&users, c->users.v[i]);
    /* domains: the host classes, none, and one address literal in each
     * piece the two sides' own addresses cut */
    if (vf_pieces(c, VF_LOCALS, &lip, &nlip, d) != 0)
        goto out;
    for (i = 0; i < nlip; i++) {
        char buf[LM_IPADDR_BUF];
        lm_ipaddr_format(&lip[i], buf);
        vf_sadd(&lits, lip[i].family == LM_IPV6 ? "[ipv6:" : "[", buf, "]");
    }
    vf_sadd(&lits, "", NULL, NULL);
    for (i = 0; i < c->hosts.n; i++)
        vf_sref(&lits, c->hosts.v[i]);
    vf_freeze(&users);
    vf_freeze(&lits);
    if (users.err || lits.err)
        goto oom;
    /* the local part nothing names first, so that messages show it */
    for (j = 0; j <= users.n; j++) {
        struct pindex_useratoms xa, xb;
        const char *u = j == 0 ? c->fresh : users.v[j - 1];
        if (j > 0 && strcmp(u, c->fresh) == 0)
            continue;
        pindex_user_atoms(&c->a, u, strlen(u), &xa);
        pindex_user_atoms(&c->b, u, strlen(u), &xb);
        vf_group_add(&gu, vf_usersig(&xa) | vf_usersig(&xb) << 32, j);
        lm_progress_add(d, LM_PROGRESS_CLASSES, 1);
    }
    /* the domain nothing names first (it is among the hosts), for messages */
    for (j = 0; j <= lits.n; j++) {
        struct pindex_domatoms xa, xb;
        size_t li = j;
        if (j == 0) {
            char *const *f = bsearch(&(const char *){ c->fresh }, lits.v, lits.n,
                                     sizeof *lits.v, vf_strcmp);
            li = (size_t)(f - lits.v);
        } else if (strcmp(lits.v[--li], c->fresh) == 0) {
            continue;
        }
        pindex_dom_atoms(&c->a, lits.v[li], &xa);
        pindex_dom_atoms(&c->b, lits.v[li], &xb);
        vf_group_add(&gd, vf_domsig(&xa) | vf_domsig(&xb) << 32, li);
        lm_progress_add(d, LM_PROGRESS_CLASSES, 1);
    }
    if (gu.err || gd.err)
        goto oom;
    /* one address per pair of groups that is not itself a named address
     * (those are classes of their own, below); each failed try is a named
     * address, so all tries together cost at most their number */
    for (x = 0; x < gu.n; x++)
        for (y = 0; y < gd.n; y++) {
            size_t mu, md;
            int found = 0;
            for (mu = gu.first[x]; mu != PINDEX_NONE && !found; mu = gu.next[mu])
                for (md = gd.first[y]; md != PINDEX_NONE && !found; md = gd.next[md]) {
                    size_t um = gu.member[mu];
                    const char *u = um == 0 ? c->fresh : users.v[um - 1];
                    const char *dm = lits.v[gd.member[md]];
                    size_t n0 = c->reps.n;
                    vf_sadd(&c->reps, u, "@", dm);
                    if (c->reps.err)
                        goto oom;
                    if (!vf_has(&c->addrs, c->reps.v[n0]))
                        found = 1;
                    else
                        vf_sunadd(&c->reps);
                }
        }
    /* the classes of the parts are done with before the addresses are
     * judged */
    *nclasses += users.n + lits.n;
    vf_groups_free(&gu);
    vf_groups_free(&gd);
    memset(&gu, 0, sizeof gu);
    memset(&gd, 0, sizeof gd);
    vf_sfree(&users);
    vf_sfree(&lits);
    memset(&users, 0, sizeof users);
    memset(&lits, 0, sizeof lits);
    for (i = 0; i < c->addrs.n; i++)
        vf_sref(&c->reps, c->addrs.v[i]);
    vf_sadd(&c->reps, c->fresh, NULL, NULL);       /* no "@" at all */
    vf_freeze(&c->reps);
    if (c->reps.err)
        goto oom;
    *nclasses += c->reps.n + 1;
    vf_address(c, NULL, PINDEX_NONE);
    for (j = 0; j < c->reps.n; j++) {
        vf_address(c, c->reps.v[j], j);
        lm_progress_add(d, LM_PROGRESS_CLASSES, 1);
    }
    rc = 0;
    goto out;
oom:
    rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
out:
    vf_sfree(&users);
    vf_sfree(&lits);
    vf_groups_free(&gu);
    vf_groups_free(&gd);
    free(lip);
    return rc;
}

/* --- combining and reporting ----------------------------------------------------------- */

static char *
vf_qstr(const struct lm_query *q)
{
    char ip[LM_IPADDR_BUF], srv[LM_IPADDR_BUF + 24] = "";
    size_t len;
    char *s;

    if (q->server.family != 0) {
        strcpy(srv, " to server ");
        lm_ipaddr_format(&q->server, srv + strlen(srv));
    }
    if (q->auth)
        strcat(srv, ", authenticated");
    lm_ipaddr_format(&q->ip, ip);
    len = strlen(ip) + strlen(srv) + 80 + (q->host ? strlen(q->host) : 0) + (q->info ? strlen(q->info) : 0) +
          (q->sender ? strlen(q->sender) : 0) + (q->rcpt ? strlen(q->rcpt) : 0);
    if ((s = malloc(len)) == NULL)
        return NULL;
    snprintf(s, len, "client %s%s%s%s%s%s%s, from %s, to %s", q->info ? q->info : "",
             q->info ? "@" : "", ip, q->host ? " (" : "", q->host ? q->host : "",
             q->host ? ")" : "", srv, q->sender ? q->sender : "<>",
             q->rcpt ? q->rcpt : "<none>");
    return s;
}

struct vf_report {
    const char *alabel, *blabel;
    size_t max;
    int as_warnings;
    struct lm_convert_report *rep;
    struct lm_diags *d;
};

/* Record one difference, shown with the concrete transaction and the rule
 * that decides on each side (decide() is asked again: it must agree with
 * the combined outcomes, or this engine is wrong). */
static int
vf_difference(const struct vf_report *r, const struct lm_policy *a, const struct lm_policy *b,
              const struct lm_query *q, enum lm_verdict_kind ka, enum lm_verdict_kind kb,
              int note)
{
    struct lm_convert_report *rep = r->rep;
    struct lm_verdict va, vb;
    struct lm_diff *x;
    char *qs, *aat, *bat;
    int wider = !note && lm_verdict_wider(ka, kb);
    size_t i;

    lm_decide(a, q, &va);
    lm_decide(b, q, &vb);
    if (va.kind != ka || vb.kind != kb)
        return lm_diag_add(r->d, LM_ERROR, LM_E_INTERNAL, NULL, "verify: decide() and the "
                           "class engine disagree (%s/%s against %s/%s)",
                           lm_verdict_name(va.kind), lm_verdict_name(vb.kind),
                           lm_verdict_name(ka), lm_verdict_name(kb));
    if (note) {
        rep->nloopback++;   /* summed up in one note by lm_verify */
        return 0;
    }
    rep->ndiffs++;
    rep->nwider += wider;
    if (rep->nkept >= r->max)
        return 0;
    aat = verdict_at(&va);
    bat = verdict_at(&vb);
    /* one counterexample per pair of deciding rules: more say the same */
    for (i = 0; i < rep->nkept; i++) {
        const struct lm_diff *o = &rep->diffs[i];
        if (o->a == va.kind && o->b == vb.kind &&
            (o->a_at == NULL ? aat == NULL : aat != NULL && strcmp(o->a_at, aat) == 0) &&
            (o->b_at == NULL ? bat == NULL : bat != NULL && strcmp(o->b_at, bat) == 0)) {
            free(aat);
            free(bat);
            return 0;
        }
    }
    qs = vf_qstr(q);
    lm_diag_add(r->d, r->as_warnings > 1 || (r->as_warnings && !wider) ? LM_WARNING : LM_ERROR,
                LM_E_LOSSY, NULL, "%s: %s %s%s%s%s, %s %s%s%s%s%s", qs ? qs : "?",
                r->alabel, lm_verdict_verb(va.kind), aat ? " (" : "", aat ? aat : "",
                aat ? ")" : "", r->blabel, lm_verdict_verb(vb.kind), bat ? " (" : "",
                bat ? bat : "", bat ? ")" : "", wider ? ": wider" : "");
    if (rep->nkept == rep->capdiffs) {
        size_t ncap = rep->capdiffs ? 2 * rep->capdiffs : 16;
        struct lm_diff *nv = realloc(rep->diffs, ncap * sizeof *nv);
        if (nv == NULL) {
            free(qs);
            free(aat);
            free(bat);
            return lm_diag_add(r->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        }
        rep->diffs = nv;
        rep->capdiffs = ncap;
    }
    x = &rep->diffs[rep->nkept++];
    x->query = qs;
    x->a = va.kind;
    x->b = vb.kind;
    x->a_at = aat;
    x->b_at = bat;
    x->wider = wider;
    return 0;
}

/* Would the two verdicts agree if neither server let its loopback clients
 * relay by itself? */
static int
vf_only_loopback(const struct vf_ctx *c, const struct pindex_outcome *ca,
                 const struct pindex_outcome *cb, const struct pindex_outcome *fa,
                 const struct pindex_outcome *fb, const struct pindex_outcome *ta,
                 const struct pindex_outcome *tb, int have_rcpt)
{
    struct pindex_outcome xa = *ca, xb = *cb;
    struct lm_verdict va, vb;

    if (xa.code != PX_BUILTIN && xb.code != PX_BUILTIN)
        return 0;
    if (xa.code == PX_BUILTIN)
        xa.code = PX_PASS;
    if (xb.code == PX_BUILTIN)
        xb.code = PX_PASS;
    pindex_verdict(c->a.p, &xa, fa, ta, have_rcpt, &va);
    pindex_verdict(c->b.p, &xb, fb, tb, have_rcpt, &vb);
    return lm_verdict_same(va.kind, vb.kind);
}

static int
vf_combine(struct vf_ctx *c, const struct vf_report *r)
{
    unsigned i, j, k, l, m, n;

    for (i = 0; i < VF_NCODE; i++)
    for (j = 0; j < VF_NCODE; j++) {
        if (!c->conn.seen[i][j])
            continue;
        for (k = 0; k < VF_NCODE; k++)
        for (l = 0; l < VF_NCODE; l++) {
            if (!c->from.seen[k][l])
                continue;
            for (m = 0; m < VF_NCODE; m++)
            for (n = 0; n < VF_NCODE; n++) {
                size_t tw = c->to.witness[m][n], fw = c->from.witness[k][l];
                struct lm_verdict va, vb;
                struct lm_query q;
                int note;
                if (!c->to.seen[m][n])
                    continue;
                r->rep->nprobes++;
                pindex_verdict(c->a.p, &c->conn.a[i][j], &c->from.a[k][l], &c->to.a[m][n],
                               tw != PINDEX_NONE, &va);
                pindex_verdict(c->b.p, &c->conn.b[i][j], &c->from.b[k][l], &c->to.b[m][n],
                               tw != PINDEX_NONE, &vb);
                if (lm_verdict_same(va.kind, vb.kind))
                    continue;
                note = !r->rep->strict_loopback &&
                       vf_only_loopback(c, &c->conn.a[i][j], &c->conn.b[i][j],
                                        &c->from.a[k][l], &c->from.b[k][l], &c->to.a[m][n],
                                        &c->to.b[m][n], tw != PINDEX_NONE);
                memset(&q, 0, sizeof q);
                q.ip = c->cw[c->conn.witness[i][j]].ip;
                q.host = vf_host(c, c->cw[c->conn.witness[i][j]].host);
                q.info = vf_info(c, c->cw[c->conn.witness[i][j]].info);
                q.server = c->cw[c->conn.witness[i][j]].server;
                q.auth = c->cw[c->conn.witness[i][j]].auth;
                q.sender = fw == PINDEX_NONE ? NULL : c->reps.v[fw];
                q.rcpt = tw == PINDEX_NONE ? NULL : c->reps.v[tw];
                if (vf_difference(r, c->a.p, c->b.p, &q, va.kind, vb.kind, note) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* vf_connect as a thread's body. */
struct vf_connect_job {
    struct vf_ctx *c;
    size_t nclasses;
    int rc;
};

static void *
vf_connect_thread(void *arg)
{
    struct vf_connect_job *j = arg;

    j->rc = vf_connect(j->c, &j->nclasses);
    return NULL;
}

int
lm_verify(const struct lm_policy *a, const struct lm_policy *b,
          const char *alabel, const char *blabel, size_t max_diffs,
          int as_warnings, struct lm_convert_report *rep, struct lm_diags *d)
{
    struct vf_ctx c;
    struct vf_report r = { alabel, blabel, max_diffs ? max_diffs : 10, as_warnings, rep, d };
    size_t i, ndiffs0 = rep->ndiffs, nclasses = 0;
    struct vf_connect_job cj = { NULL, 0, 0 };
    pthread_t ct;
    int rc = -1, threaded, ar;

    memset(&c, 0, sizeof c);
    c.d = d;
    lm_progress_phase(d, "verifying");
    c.a.p = a;
    c.b.p = b;
    if ((c.a.ix = a->index) == NULL && (c.a.ix = c.tmpa = pindex_build(a)) == NULL)
        goto oom;
    if ((c.b.ix = b->index) == NULL && (c.b.ix = c.tmpb = pindex_build(b)) == NULL)
        goto oom;
    vf_collect(&c, a);
    vf_collect(&c, b);
    vf_freeze(&c.names);
    vf_freeze(&c.addrs);
    vf_freeze(&c.users);
    vf_freeze(&c.infos);
    if (c.names.err || c.addrs.err || c.users.err || c.infos.err)
        goto oom;
    vf_pick_fresh(&c);
    /* host names: each name, one just below it, one nothing names */
    vf_sadd(&c.hosts, c.fresh, NULL, NULL);
    for (i = 0; i < c.names.n; i++) {
        vf_sref(&c.hosts, c.names.v[i]);
        vf_sadd(&c.hosts, c.fresh, ".", c.names.v[i]);
    }
    vf_freeze(&c.hosts);
    if (c.hosts.err)
        goto oom;
    /* the hosts hold every name now (the strings are the policies') */
    vf_sfree(&c.names);
    memset(&c.names, 0, sizeof c.names);
    if (vf_cut(&c, VF_CLIENTS, &c.ips, d) != 0 ||
        vf_pieces(&c, VF_SERVERS, &c.srvs, &c.nsrvs, d) != 0)
        goto out;
    /* The connect stage and the address stages read the same frozen sets
     * and write apart (conn and cw; reps, from and to), so the connect stage
     * runs on a second core when there is one; the results are the same
     * whatever the timing.  Only this thread reports progress. */
    cj.c = &c;
    c.d = NULL;
    threaded = pthread_create(&ct, NULL, vf_connect_thread, &cj) == 0;
    if (!threaded) {
        c.d = d;
        vf_connect_thread(&cj);
    }
    ar = vf_addresses(&c, &nclasses, d);
    if (threaded)
        pthread_join(ct, NULL);
    if (cj.rc != 0) {
        if (ar == 0)
            goto oom;
        goto out;
    }
    if (ar != 0)
        goto out;
    rep->nclasses += nclasses + cj.nclasses;
    if (vf_combine(&c, &r) != 0)
        goto out;
    if (rep->nloopback > 0 && !rep->strict_loopback)
        lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "%s and %s differ only where a server lets "
                    "its own loopback clients relay by itself (%zu combination%s); not a "
                    "difference of the policies (--strict-loopback counts it)", alabel, blabel,
                    rep->nloopback, rep->nloopback == 1 ? "" : "s");
    rc = rep->ndiffs > ndiffs0 ? LM_NOTFOUND : 0;
    goto out;
oom:
    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
out:
    pindex_free(c.tmpa);
    pindex_free(c.tmpb);
    vf_sfree(&c.names);
    vf_sfree(&c.addrs);
    vf_sfree(&c.users);
    vf_sfree(&c.infos);
    vf_sfree(&c.hosts);
    vf_sfree(&c.reps);
    vf_pieces_free(&c.ips);
    free(c.srvs);
    free(c.cw);
    return rc;
}
