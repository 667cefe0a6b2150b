/*
 * policy.c - the relay policy model: building a policy, naming its parts,
 * and lm_decide(), which judges one SMTP transaction with the matching order
 * of the format the policy came from (policy.h documents each order).
 *
 * Lookups go through an index (lm_policy_index): client networks become a
 * sorted list of disjoint segments, each holding the rule that wins there
 * (built by one sweep with a heap, O(n log n)); names and addresses are
 * hashed.  A policy without an index gets a temporary one per call.
 */
#include "libmap/policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX

/* A network segment and the rule that wins on it. */
struct pol_seg {
    struct lm_ipaddr lo, hi;
    size_t rule;
};

/* Hash chain entry: a rule (or accepted domain) under its key. */
struct pol_hent {
    const char *key;
    size_t      len;
    size_t      idx;    /* rule or domain index */
    size_t      next;   /* next entry in the chain, NONE at the end */
    uint32_t    hash;   /* low bits of the key's hash: a chain is walked
                           without touching the keys of other names */
    char        cls;    /* 'd' domain rule, 'a' address, 'u' user, 'D' accepted domain */
};

struct lm_pindex {
    struct pol_seg  *segs;      /* connect networks, info-less rules */
    size_t           nsegs;
    struct pol_hent *ents;
    size_t           nents;
    size_t          *buckets;
    size_t           nbuckets;  /* power of two */
    size_t          *special;   /* ANY, ANYHOST and info rules, in order */
    size_t           nspecial;
    unsigned         stages_d, stages_a, stages_u;  /* stages with keyed rules
                                                       of each class, to skip
                                                       lookups that cannot hit */
};

/* The rules' strings live in one arena per policy: a million rules would
 * otherwise cost five mallocs each, and the allocator's headers and
 * rounding more than the text.  Chunks are never moved, so pointers stay
 * valid; everything is freed with the policy. */
struct lm_pchunk {
    struct lm_pchunk *next;
    size_t            used, cap;
    char              data[];
};

#define POL_CHUNK 65536

static int
pol_dup(struct lm_policy *p, char **dst, const char *src)
{
    struct lm_pchunk *c = p->strings;
    size_t len;

    *dst = NULL;
    if (src == NULL)
        return 0;
    len = strlen(src) + 1;
    if (c == NULL || c->cap - c->used < len) {
        size_t cap = len > POL_CHUNK / 4 ? len : POL_CHUNK;
        struct lm_pchunk *n = malloc(sizeof *n + cap);
        if (n == NULL)
            return -1;
        n->used = 0;
        n->cap = cap;
        if (c != NULL && cap != POL_CHUNK) {
            /* a large string gets a chunk of its own behind the current one */
            n->next = c->next;
            c->next = n;
        } else {
            n->next = c;
            p->strings = n;
        }
        c = n;
    }
    *dst = memcpy(c->data + c->used, src, len);
    c->used += len;
    return 0;
}

/* Free a policy rule's settings; its strings belong to the arena. */
static void
pol_rule_free_env(struct lm_rule *r)
{
    size_t i;

    for (i = 0; i < r->nenv; i++) {
        free(r->env[i].name);
        free(r->env[i].value);
    }
    free(r->env);
    r->env = NULL;
    r->nenv = 0;
}

/* --- building -------------------------------------------------------------- */

struct lm_policy *
lm_policy_new(struct lm_diags *d)
{
    struct lm_policy *p = calloc(1, sizeof *p);

    if (p == NULL)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    return p;
}

static void
pol_index_free(struct lm_pindex *ix)
{
    if (ix == NULL)
        return;
    free(ix->segs);
    free(ix->ents);
    free(ix->buckets);
    free(ix->special);
    free(ix);
}

void
lm_rule_fini(struct lm_rule *r)
{
    size_t i;

    if (r == NULL)
        return;
    free(r->pattern);
    free(r->info);
    free(r->dsn);
    free(r->text);
    free(r->orig);
    for (i = 0; i < r->nenv; i++) {
        free(r->env[i].name);
        free(r->env[i].value);
    }
    free(r->env);
    r->pattern = r->info = r->dsn = r->text = r->orig = NULL;
    r->env = NULL;
    r->nenv = 0;
}

void
lm_policy_free(struct lm_policy *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->nrules; i++)
        pol_rule_free_env(&p->rules[i]);
    free(p->rules);
    while (p->strings != NULL) {
        struct lm_pchunk *next = p->strings->next;
        free(p->strings);
        p->strings = next;
    }
    for (i = 0; i < p->ndomains; i++)
        free(p->domains[i].name);
    free(p->domains);
    free(p->domset);
    free(p->locals);
    for (i = 0; i < p->nfiles; i++)
        free(p->files[i]);
    free(p->files);
    pol_index_free(p->index);
    free(p);
}

const char *
lm_policy_file(struct lm_policy *p, const char *name)
{
    char **nv;
    size_t i;

    if (name == NULL)
        return NULL;
    /* Policies come from a handful of files: a linear search is enough. */
    for (i = p->nfiles; i-- > 0;)
        if (strcmp(p->files[i], name) == 0)
            return p->files[i];
    nv = realloc(p->files, (p->nfiles + 1) * sizeof *nv);
    if (nv == NULL)
        return NULL;
    p->files = nv;
    if ((nv[p->nfiles] = strdup(name)) == NULL)
        return NULL;
    return nv[p->nfiles++];
}

static void
pol_drop_index(struct lm_policy *p)
{
    pol_index_free(p->index);
    p->index = NULL;
}

struct lm_rule *
lm_policy_add(struct lm_policy *p, const struct lm_rule *r, struct lm_diags *d)
{
    struct lm_rule *c;
    size_t i;

    pol_drop_index(p);
    if (p->nrules == p->caprules) {
        size_t ncap = p->caprules ? 2 * p->caprules : 64;
        struct lm_rule *nv = realloc(p->rules, ncap * sizeof *nv);
        if (nv == NULL)
            goto oom;
        p->rules = nv;
        p->caprules = ncap;
    }
    c = &p->rules[p->nrules];
    *c = *r;
    c->env = NULL;
    c->nenv = 0;
    if (pol_dup(p, &c->pattern, r->pattern) || pol_dup(p, &c->info, r->info) ||
        pol_dup(p, &c->dsn, r->dsn) || pol_dup(p, &c->text, r->text) ||
        pol_dup(p, &c->orig, r->orig))
        goto oom;
    c->pos.file = lm_policy_file(p, r->pos.file);
    if (r->pos.file != NULL && c->pos.file == NULL)
        goto oom;
    for (i = 0; i < r->nenv; i++)
        if (lm_rule_setenv(c, r->env[i].name, r->env[i].value, d) != 0) {
            pol_rule_free_env(c);
            return NULL;
        }
    p->nrules++;
    return c;
oom:
    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &r->pos, "out of memory");
    return NULL;
}

int
lm_rule_setenv(struct lm_rule *r, const char *name, const char *value,
               struct lm_diags *d)
{
    struct lm_kv *nv = realloc(r->env, (r->nenv + 1) * sizeof *nv);

    if (nv == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &r->pos, "out of memory");
    r->env = nv;
    nv[r->nenv].name = strdup(name);
    nv[r->nenv].value = strdup(value ? value : "");
    if (nv[r->nenv].name == NULL || nv[r->nenv].value == NULL) {
        free(nv[r->nenv].name);
        free(nv[r->nenv].value);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &r->pos, "out of memory");
    }
    r->nenv++;
    return 0;
}

const char *
lm_rule_getenv(const struct lm_rule *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nenv; i++)
        if (strcmp(r->env[i].name, name) == 0)
            return r->env[i].value;
    return NULL;
}

static void
pol_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* FNV-1a over a class byte and the key. */
static uint64_t
pol_hash(char cls, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ (unsigned char)cls;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot in p->domset for NAME of kind K: either the slot holding that
 * domain's index + 1, or an empty slot (0).  The table is open addressing
 * with linear probing, at most half full. */
static size_t *
pol_domslot(const struct lm_policy *p, const char *name, enum lm_kind k)
{
    size_t mask = p->ndomset - 1;
    size_t b = (size_t)pol_hash((char)k, name, strlen(name)) & mask;

    for (;; b = (b + 1) & mask) {
        const struct lm_domain *x;
        if (p->domset[b] == 0)
            return &p->domset[b];
        x = &p->domains[p->domset[b] - 1];
        if (x->kind == k && strcmp(x->name, name) == 0)
            return &p->domset[b];
    }
}

/* Make room for one more domain in the set: double it when half full. */
static int
pol_domset_grow(struct lm_policy *p)
{
    size_t *old = p->domset, nold = p->ndomset, i;

    if (2 * (p->ndomains + 1) <= p->ndomset)
        return 0;
    p->ndomset = nold ? 2 * nold : 64;
    if ((p->domset = calloc(p->ndomset, sizeof *p->domset)) == NULL) {
        p->domset = old;
        p->ndomset = nold;
        return -1;
    }
    for (i = 0; i < nold; i++)
        if (old[i] != 0) {
            const struct lm_domain *x = &p->domains[old[i] - 1];
            *pol_domslot(p, x->name, x->kind) = old[i];
        }
    free(old);
    return 0;
}

const struct lm_domain *
lm_policy_domain(const struct lm_policy *p, const char *name, enum lm_kind kind)
{
    size_t *slot;

    if (p->ndomset == 0)
        return NULL;
    slot = pol_domslot(p, name, kind);
    return *slot ? &p->domains[*slot - 1] : NULL;
}

int
lm_policy_add_domain(struct lm_policy *p, const char *name, enum lm_kind kind,
                     const struct lm_pos *pos, struct lm_diags *d)
{
    struct lm_domain *dom;
    size_t *slot;
    char *lower;

    if ((lower = strdup(name)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
    pol_lower(lower);
    if (pol_domset_grow(p) != 0) {
        free(lower);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
    }
    slot = pol_domslot(p, lower, kind);
    if (*slot != 0) {
        free(lower);
        return LM_EXISTS;
    }
    if (p->ndomains == p->capdomains) {
        size_t ncap = p->capdomains ? 2 * p->capdomains : 16;
        struct lm_domain *nv = realloc(p->domains, ncap * sizeof *nv);
        if (nv == NULL) {
            free(lower);
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
        }
        p->domains = nv;
        p->capdomains = ncap;
    }
    pol_drop_index(p);
    dom = &p->domains[p->ndomains];
    memset(dom, 0, sizeof *dom);
    dom->name = lower;
    dom->kind = kind;
    if (pos != NULL) {
        dom->pos = *pos;
        dom->pos.file = lm_policy_file(p, pos->file);
    }
    p->ndomains++;
    *slot = p->ndomains;
    return 0;
}

int
lm_policy_add_local(struct lm_policy *p, const struct lm_rule_net *net,
                    const struct lm_pos *pos, struct lm_diags *d)
{
    struct lm_local *nv = realloc(p->locals, (p->nlocals + 1) * sizeof *nv);

    if (nv == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
    p->locals = nv;
    memset(&nv[p->nlocals], 0, sizeof nv[p->nlocals]);
    nv[p->nlocals].net = *net;
    if (pos != NULL) {
        nv[p->nlocals].pos = *pos;
        nv[p->nlocals].pos.file = lm_policy_file(p, pos->file);
    }
    p->nlocals++;
    return 0;
}

/* --- names ---------------------------------------------------------------- */

const char *
lm_action_name(enum lm_action a)
{
    switch (a) {
    case LM_A_RELAY:   return "relay";
    case LM_A_OK:      return "ok";
    case LM_A_REJECT:  return "reject";
    case LM_A_DISCARD: return "discard";
    case LM_A_ERROR:   return "error";
    case LM_A_DENY:    return "deny";
    case LM_A_SKIP:    return "skip";
    }
    return "?";
}

const char *
lm_stage_name(unsigned stage)
{
    switch (stage) {
    case LM_S_CONNECT: return "connect";
    case LM_S_FROM:    return "from";
    case LM_S_TO:      return "to";
    case LM_S_ANY:     return "any";
    }
    return "?";
}

const char *
lm_order_name(enum lm_order o)
{
    switch (o) {
    case LM_ORDER_NEUTRAL:  return "neutral";
    case LM_ORDER_SENDMAIL: return "sendmail";
    case LM_ORDER_QMAIL:    return "qmail";
    }
    return "?";
}

const char *
lm_verdict_verb(enum lm_verdict_kind k)
{
    switch (k) {
    case LM_V_RELAY:   return "relays";
    case LM_V_ACCEPT:  return "accepts";
    case LM_V_DISCARD: return "discards";
    case LM_V_REFUSE:  return "refuses";
    case LM_V_REJECT:  return "rejects";
    case LM_V_DENY:    return "denies the connection";
    }
    return "?";
}

const char *
lm_verdict_name(enum lm_verdict_kind k)
{
    switch (k) {
    case LM_V_RELAY:   return "relay";
    case LM_V_ACCEPT:  return "accept";
    case LM_V_DISCARD: return "discard";
    case LM_V_REFUSE:  return "refuse";
    case LM_V_REJECT:  return "reject";
    case LM_V_DENY:    return "deny";
    }
    return "?";
}

static int
pol_refused(enum lm_verdict_kind k)
{
    return k == LM_V_REFUSE || k == LM_V_REJECT || k == LM_V_DENY;
}

int
lm_verdict_same(enum lm_verdict_kind a, enum lm_verdict_kind b)
{
    return a == b || (pol_refused(a) && pol_refused(b));
}

int
lm_verdict_wider(enum lm_verdict_kind a, enum lm_verdict_kind b)
{
    if (b == LM_V_RELAY)
        return a != LM_V_RELAY;
    return pol_refused(a) && !pol_refused(b);
}

char *
lm_rule_net_str(const struct lm_rule_net *n, char *buf)
{
    struct lm_ipnet net;

    if (lm_iprange_to_net(&n->range, &net) == 0)
        return lm_ipnet_format(&net, LM_FMT_CIDR, buf);
    return lm_iprange_format(&n->range, buf);
}

/* Append text to a growing string; returns -1 when out of memory. */
struct pol_buf {
    char  *s;
    size_t n, cap;
    int    err;
};

static void
pol_put(struct pol_buf *b, const char *s, size_t len)
{
    if (b->err)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t ncap = (b->n + len + 1) * 2;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL) {
            b->err = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->n, s, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static void
pol_puts(struct pol_buf *b, const char *s)
{
    pol_put(b, s, strlen(s));
}

/* A quoted string in the neutral file's syntax: "..." with \" and \\. */
static void
pol_putq(struct pol_buf *b, const char *s)
{
    pol_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            pol_put(b, "\\", 1);
        pol_put(b, s, 1);
    }
    pol_put(b, "\"", 1);
}

char *
lm_rule_str(const struct lm_rule *r)
{
    struct pol_buf b = { NULL, 0, 0, 0 };
    char nb[2 * LM_IPADDR_BUF];
    char code[16];
    size_t i;

    pol_puts(&b, lm_stage_name(r->stage));
    switch (r->kind) {
    case LM_K_NET:
        pol_puts(&b, " net ");
        pol_puts(&b, lm_rule_net_str(&r->net, nb));
        break;
    case LM_K_NAME:    pol_puts(&b, " name ");       pol_puts(&b, r->pattern); break;
    case LM_K_TREE:    pol_puts(&b, " domain ");     pol_puts(&b, r->pattern); break;
    case LM_K_BELOW:   pol_puts(&b, " subdomains "); pol_puts(&b, r->pattern); break;
    case LM_K_ADDR:    pol_puts(&b, " address ");    pol_puts(&b, r->pattern); break;
    case LM_K_USER:    pol_puts(&b, " user ");       pol_puts(&b, r->pattern); break;
    case LM_K_ANYHOST: pol_puts(&b, " anyhost"); break;
    case LM_K_ANY:     pol_puts(&b, " all"); break;
    case LM_K_NEVER:
        pol_puts(&b, " never ");
        pol_putq(&b, r->pattern ? r->pattern : "");
        break;
    }
    if (r->info != NULL) {
        pol_puts(&b, " ident ");
        pol_puts(&b, r->info);
    }
    pol_puts(&b, " ");
    pol_puts(&b, lm_action_name(r->action));
    if (r->action == LM_A_ERROR) {
        snprintf(code, sizeof code, " %u", r->code);
        pol_puts(&b, code);
        if (r->dsn != NULL) {
            pol_puts(&b, " ");
            pol_puts(&b, r->dsn);
        }
    }
    if (r->text != NULL) {
        pol_puts(&b, " ");
        pol_putq(&b, r->text);
    }
    for (i = 0; i < r->nenv; i++) {
        pol_puts(&b, " set ");
        pol_puts(&b, r->env[i].name);
        pol_puts(&b, "=");
        pol_putq(&b, r->env[i].value);
    }
    if (b.err) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* --- index ------------------------------------------------------------------ */

static void
pol_hadd(struct lm_pindex *ix, char cls, const char *key, size_t idx)
{
    struct pol_hent *e = &ix->ents[ix->nents];
    uint64_t hv;
    size_t b;

    e->key = key;
    e->len = strlen(key);
    e->idx = idx;
    e->cls = cls;
    hv = pol_hash(cls, key, e->len);
    e->hash = (uint32_t)hv;
    b = (size_t)hv & (ix->nbuckets - 1);
    /* Chains keep insertion order, so the earlier rule comes first. */
    e->next = NONE;
    if (ix->buckets[b] == NONE) {
        ix->buckets[b] = ix->nents;
    } else {
        size_t j = ix->buckets[b];
        while (ix->ents[j].next != NONE)
            j = ix->ents[j].next;
        ix->ents[j].next = ix->nents;
    }
    ix->nents++;
}

/* Width of a network (hi - lo) as 16 big-endian bytes: narrower wins. */
static void
pol_width(const struct lm_iprange *r, unsigned char w[16])
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
    int c = memcmp(h->w[a], h->w[b], 16);
    int ta, tb;

    if (c != 0)
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

static const struct lm_policy *pol_sort_policy;   /* qsort has no context */

static int
pol_lo_cmp(const void *a, const void *b)
{
    const struct lm_rule *ra = &pol_sort_policy->rules[*(const size_t *)a];
    const struct lm_rule *rb = &pol_sort_policy->rules[*(const size_t *)b];

    return lm_ipaddr_cmp(&ra->net.range.lo, &rb->net.range.lo);
}

static int
pol_is_connect_net(const struct lm_rule *r)
{
    return r->kind == LM_K_NET && (r->stage & LM_S_CONNECT) && r->info == NULL;
}

/* Sweep the connect networks into disjoint segments with their winner. */
static int
pol_build_segs(const struct lm_policy *p, struct lm_pindex *ix)
{
    struct pol_heap h = { p, NULL, NULL, 0 };
    struct lm_ipaddr *pts = NULL;
    size_t *byl = NULL, nnet = 0, npts = 0, i, k, j;
    int rc = -1;

    for (i = 0; i < p->nrules; i++)
        nnet += pol_is_connect_net(&p->rules[i]);
    if (nnet == 0)
        return 0;
    h.w = malloc(p->nrules * sizeof *h.w);
    h.v = malloc(nnet * sizeof *h.v);
    byl = malloc(nnet * sizeof *byl);
    pts = malloc(2 * nnet * sizeof *pts);
    ix->segs = malloc(2 * nnet * sizeof *ix->segs);
    if (h.w == NULL || h.v == NULL || byl == NULL || pts == NULL || ix->segs == NULL)
        goto out;
    for (i = k = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        struct lm_ipaddr end;
        if (!pol_is_connect_net(r))
            continue;
        pol_width(&r->net.range, h.w[i]);
        byl[k++] = i;
        pts[npts++] = r->net.range.lo;
        end = r->net.range.hi;
        if (lm_ipaddr_succ(&end) == 0)
            pts[npts++] = end;
    }
    /* A static context for qsort; index building is not reentrant on one
     * policy anyway (documented in policy.h). */
    pol_sort_policy = p;
    qsort(byl, nnet, sizeof *byl, pol_lo_cmp);
    qsort(pts, npts, sizeof *pts, pol_addrcmp_v);
    for (i = j = 0; i < npts; i++)
        if (j == 0 || lm_ipaddr_cmp(&pts[j - 1], &pts[i]) != 0)
            pts[j++] = pts[i];
    npts = j;
    for (i = k = 0; i < npts; i++) {
        const struct lm_ipaddr *pt = &pts[i];
        while (k < nnet && lm_ipaddr_cmp(&p->rules[byl[k]].net.range.lo, pt) <= 0)
            pol_hpush(&h, byl[k++]);
        while (h.n > 0 && lm_ipaddr_cmp(&p->rules[h.v[0]].net.range.hi, pt) < 0)
            pol_hpop(&h);
        if (h.n > 0) {
            struct pol_seg *s = &ix->segs[ix->nsegs];
            s->lo = *pt;
            if (i + 1 < npts && pts[i + 1].family == pt->family) {
                s->hi = pts[i + 1];
                lm_ipaddr_pred(&s->hi);
            } else {
                struct lm_iprange all;
                lm_iprange_all(&all, pt->family);
                s->hi = all.hi;
            }
            s->rule = h.v[0];
            if (ix->nsegs > 0 && ix->segs[ix->nsegs - 1].rule == s->rule) {
                struct lm_ipaddr nx = ix->segs[ix->nsegs - 1].hi;
                if (lm_ipaddr_succ(&nx) == 0 && lm_ipaddr_cmp(&nx, &s->lo) == 0) {
                    ix->segs[ix->nsegs - 1].hi = s->hi;
                    continue;
                }
            }
            ix->nsegs++;
        }
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

static struct lm_pindex *
pol_build(const struct lm_policy *p)
{
    struct lm_pindex *ix = calloc(1, sizeof *ix);
    size_t i, nkeys = p->ndomains;

    if (ix == NULL)
        return NULL;
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (pol_cls(r->kind) && r->pattern != NULL)
            nkeys++;
        else if (r->kind == LM_K_ANY || r->kind == LM_K_ANYHOST ||
                 (r->kind == LM_K_NET && r->info != NULL))
            ix->nspecial++;
    }
    for (ix->nbuckets = 16; ix->nbuckets < 2 * nkeys; ix->nbuckets *= 2)
        ;
    ix->ents = malloc((nkeys + 1) * sizeof *ix->ents);
    ix->buckets = malloc(ix->nbuckets * sizeof *ix->buckets);
    ix->special = malloc((ix->nspecial + 1) * sizeof *ix->special);
    if (ix->ents == NULL || ix->buckets == NULL || ix->special == NULL)
        goto fail;
    for (i = 0; i < ix->nbuckets; i++)
        ix->buckets[i] = NONE;
    ix->nspecial = 0;
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        char c = pol_cls(r->kind);
        if (c && r->pattern != NULL) {
            pol_hadd(ix, c, r->pattern, i);
            if (c == 'd')
                ix->stages_d |= r->stage;
            else if (c == 'a')
                ix->stages_a |= r->stage;
            else
                ix->stages_u |= r->stage;
        }
        else if (r->kind == LM_K_ANY || r->kind == LM_K_ANYHOST ||
                 (r->kind == LM_K_NET && r->info != NULL))
            ix->special[ix->nspecial++] = i;
    }
    for (i = 0; i < p->ndomains; i++)
        pol_hadd(ix, 'D', p->domains[i].name, i);
    if (pol_build_segs(p, ix) != 0)
        goto fail;
    return ix;
fail:
    pol_index_free(ix);
    return NULL;
}

int
lm_policy_index(struct lm_policy *p, struct lm_diags *d)
{
    pol_drop_index(p);
    p->index = pol_build(p);
    if (p->index == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    return 0;
}

/* --- decide ------------------------------------------------------------------- */

struct pol_ctx {
    const struct lm_policy *p;
    const struct lm_pindex *ix;
};

/* The winning connect network rule for ip, or NULL. */
static const struct lm_rule *
pol_net(const struct pol_ctx *c, const struct lm_ipaddr *ip)
{
    size_t lo = 0, hi = c->ix->nsegs;

    if (ip->family == 0)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pol_seg *s = &c->ix->segs[mid];
        if (lm_ipaddr_cmp(&s->hi, ip) < 0)
            lo = mid + 1;
        else if (lm_ipaddr_cmp(&s->lo, ip) > 0)
            hi = mid;
        else
            return &c->p->rules[s->rule];
    }
    return NULL;
}

static int
pol_single(const struct lm_rule *r)
{
    return lm_ipaddr_cmp(&r->net.range.lo, &r->net.range.hi) == 0;
}

/*
 * The best rule keyed KEY (class cls) that applies at STAGE.  level0: KEY is
 * the whole name (NAME and TREE match); otherwise KEY is a parent domain
 * (BELOW before TREE, the Sendmail order for ".domain" keys).  Within a
 * kind the stage-specific rule beats the all-stages one, then the earlier.
 */
static const struct lm_rule *
pol_key(const struct pol_ctx *c, char cls, const char *key, size_t len,
        unsigned stage, int level0)
{
    const struct lm_pindex *ix = c->ix;
    const struct lm_rule *best = NULL;
    int bestrank = 0;
    uint64_t hv;
    size_t e;

    if (!((cls == 'd' ? ix->stages_d : cls == 'a' ? ix->stages_a : ix->stages_u) & stage))
        return NULL;
    hv = pol_hash(cls, key, len);
    e = ix->buckets[(size_t)hv & (ix->nbuckets - 1)];
    for (; e != NONE; e = ix->ents[e].next) {
        const struct pol_hent *h = &ix->ents[e];
        const struct lm_rule *r;
        int rank;
        if (h->hash != (uint32_t)hv || h->cls != cls || h->len != len ||
            memcmp(h->key, key, len) != 0)
            continue;
        r = &c->p->rules[h->idx];
        if (!(r->stage & stage) || r->info != NULL)
            continue;
        if (cls == 'd') {
            if (level0 && r->kind == LM_K_BELOW)
                continue;
            if (!level0 && r->kind == LM_K_NAME)
                continue;
            rank = (!level0 && r->kind == LM_K_TREE) ? 2 : 0;
        } else {
            rank = 0;
        }
        rank += r->stage != stage;
        if (best == NULL || rank < bestrank) {
            best = r;
            bestrank = rank;
        }
    }
    return best;
}

/* Lookup of a domain name and its parents.  from_level 0 starts with the
 * whole name, 1 with its parent only (qmail's suffix step). */
static const struct lm_rule *
pol_domain(const struct pol_ctx *c, const char *name, unsigned stage, int from_level,
           int only_level0, int *skipped)
{
    const char *s = name;
    int level = 0;

    while (*s) {
        if (level >= from_level) {
            const struct lm_rule *r = pol_key(c, 'd', s, strlen(s), stage, level == 0);
            if (r != NULL) {
                if (r->action == LM_A_SKIP) {
                    *skipped = 1;
                    return NULL;
                }
                return r;
            }
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

/* Accepted-domain lookup: whole name (NAME, TREE), then parents (BELOW, TREE). */
static const struct lm_domain *
pol_accepted(const struct pol_ctx *c, const char *name)
{
    const char *s = name;
    int level0 = 1;

    while (*s) {
        size_t len = strlen(s), e;
        e = c->ix->buckets[(size_t)pol_hash('D', s, len) & (c->ix->nbuckets - 1)];
        for (; e != NONE; e = c->ix->ents[e].next) {
            const struct pol_hent *h = &c->ix->ents[e];
            const struct lm_domain *dom;
            if (h->cls != 'D' || h->len != len || memcmp(h->key, s, len) != 0)
                continue;
            dom = &c->p->domains[h->idx];
            if (dom->kind == LM_K_TREE || (level0 ? dom->kind == LM_K_NAME
                                                  : dom->kind == LM_K_BELOW))
                return dom;
        }
        s = strchr(s, '.');
        if (s == NULL)
            break;
        s++;
        level0 = 0;
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
    pol_lower(c);
    if (n > 1 && c[n - 1] == '.')
        c[n - 1] = '\0';
    return c;
}

/* The special rules (ANY, ANYHOST, info) that apply. */
static const struct lm_rule *
pol_special(const struct pol_ctx *c, enum lm_kind kind, const struct lm_query *q,
            unsigned stage)
{
    size_t i;

    for (i = 0; i < c->ix->nspecial; i++) {
        const struct lm_rule *r = &c->p->rules[c->ix->special[i]];
        if (r->kind != kind || !(r->stage & stage))
            continue;
        if (kind == LM_K_NET && (q->info == NULL || strcmp(r->info, q->info) != 0 ||
                                 q->ip.family == 0 ||
                                 lm_ipaddr_cmp(&r->net.range.lo, &q->ip) > 0 ||
                                 lm_ipaddr_cmp(&r->net.range.hi, &q->ip) < 0))
            continue;
        if (r->action == LM_A_SKIP)
            continue;
        return r;
    }
    return NULL;
}

/* info@=host rules live in the hash under the host name. */
static const struct lm_rule *
pol_info_host(const struct pol_ctx *c, const char *host, const char *info)
{
    size_t len = strlen(host), e;

    e = c->ix->buckets[(size_t)pol_hash('d', host, len) & (c->ix->nbuckets - 1)];
    for (; e != NONE; e = c->ix->ents[e].next) {
        const struct pol_hent *h = &c->ix->ents[e];
        const struct lm_rule *r;
        if (h->cls != 'd' || h->len != len || memcmp(h->key, host, len) != 0)
            continue;
        r = &c->p->rules[h->idx];
        if (r->info != NULL && strcmp(r->info, info) == 0 && r->kind == LM_K_NAME)
            return r;
    }
    return NULL;
}

static const struct lm_rule *
pol_connect(const struct pol_ctx *c, const struct lm_query *q, const char *host)
{
    const struct lm_rule *r, *net;
    int skipped = 0;

    net = pol_net(c, &q->ip);
    if (net != NULL && net->action == LM_A_SKIP)
        net = NULL;
    if (c->p->order == LM_ORDER_SENDMAIL) {
        if (host != NULL && (r = pol_domain(c, host, LM_S_CONNECT, 0, 0, &skipped)) != NULL)
            return r;
        if (net != NULL)
            return net;
    } else {
        if (q->info != NULL) {
            if ((r = pol_special(c, LM_K_NET, q, LM_S_CONNECT)) != NULL)
                return r;
            if (host != NULL && (r = pol_info_host(c, host, q->info)) != NULL)
                return r;
        }
        if (net != NULL && pol_single(net))
            return net;
        if (host != NULL && (r = pol_domain(c, host, LM_S_CONNECT, 0, 1, &skipped)) != NULL)
            return r;
        if (net != NULL)
            return net;
        if (host != NULL && !skipped &&
            (r = pol_domain(c, host, LM_S_CONNECT, 1, 0, &skipped)) != NULL)
            return r;
    }
    if (host != NULL && (r = pol_special(c, LM_K_ANYHOST, q, LM_S_CONNECT)) != NULL)
        return r;
    return pol_special(c, LM_K_ANY, q, LM_S_CONNECT);
}

/* Address lookup at the from or to stage: "user@domain", "user@", domain. */
static const struct lm_rule *
pol_address(const struct pol_ctx *c, char *addr, unsigned stage)
{
    const struct lm_rule *r;
    char *at = strrchr(addr, '@');
    int skipped = 0;

    if (at == NULL)
        return NULL;
    if ((r = pol_key(c, 'a', addr, strlen(addr), stage, 1)) != NULL)
        return r->action == LM_A_SKIP ? NULL : r;
    if (at > addr && (r = pol_key(c, 'u', addr, (size_t)(at - addr), stage, 1)) != NULL)
        return r->action == LM_A_SKIP ? NULL : r;
    if (at[1] != '\0' && (r = pol_domain(c, at + 1, stage, 0, 0, &skipped)) != NULL)
        return r;
    return pol_special(c, LM_K_ANY, NULL, stage & ~LM_S_CONNECT) ;
}

/* qmail-smtpd's badmailfrom check: the whole sender, then "@domain" after
 * its last '@', both exact (no "user@", no parent domains).  qmail refuses
 * every recipient of such a sender, relay clients' too. */
static const struct lm_rule *
pol_badmailfrom(const struct pol_ctx *c, const char *sender)
{
    const struct lm_rule *r;
    const char *at = strrchr(sender, '@');

    if ((r = pol_key(c, 'a', sender, strlen(sender), LM_S_FROM, 1)) != NULL &&
        r->action != LM_A_SKIP)
        return r;
    if (at != NULL && at[1] != '\0' &&
        (r = pol_key(c, 'd', at + 1, strlen(at + 1), LM_S_FROM, 1)) != NULL &&
        r->kind == LM_K_NAME && r->action != LM_A_SKIP)
        return r;
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
    return 0;
}

static int
pol_refusing(enum lm_action a)
{
    return a == LM_A_REJECT || a == LM_A_ERROR || a == LM_A_DENY;
}

static void
pol_decide(const struct pol_ctx *c, const struct lm_query *q, struct lm_verdict *v,
           char *host, char *sender, char *rcpt)
{
    const struct lm_policy *p = c->p;
    const struct lm_rule *r, *relay = NULL;
    const char *relay_why = NULL;
    char *at;

    memset(v, 0, sizeof *v);
    /* connect */
    r = pol_connect(c, q, host);
    if (r != NULL) {
        if (pol_refusing(r->action)) {
            v->kind = r->action == LM_A_DENY ? LM_V_DENY : LM_V_REJECT;
            v->stage = LM_S_CONNECT;
            v->rule = r;
            v->why = "client refused";
            return;
        }
        if (r->action == LM_A_DISCARD) {
            v->kind = LM_V_DISCARD;
            v->stage = LM_S_CONNECT;
            v->rule = r;
            v->why = "mail from this client is discarded";
            return;
        }
        if (r->action == LM_A_RELAY) {
            relay = r;
            relay_why = "client may relay";
        }
    }
    if (relay == NULL && p->order == LM_ORDER_SENDMAIL &&
        !(p->flags & LM_P_NO_LOOPBACK) && (q->ip.family == 0 || pol_loopback(&q->ip))) {
        relay_why = "loopback client";
        relay = NULL;
    }
    /* from */
    if (sender != NULL &&
        (r = p->order == LM_ORDER_QMAIL ? pol_badmailfrom(c, sender)
                                        : pol_address(c, sender, LM_S_FROM)) != NULL) {
        if (pol_refusing(r->action) || r->action == LM_A_DISCARD) {
            v->kind = r->action == LM_A_DISCARD ? LM_V_DISCARD : LM_V_REJECT;
            v->stage = LM_S_FROM;
            v->rule = r;
            v->why = r->action == LM_A_DISCARD ? "mail from this sender is discarded"
                                               : "sender refused";
            return;
        }
        if (r->action == LM_A_RELAY && relay_why == NULL &&
            (p->order == LM_ORDER_NEUTRAL ||
             ((p->flags & LM_P_RELAY_MAIL_FROM) && r->stage == LM_S_FROM))) {
            relay = r;
            relay_why = "sender may relay";
        }
    }
    /* to */
    v->stage = LM_S_TO;
    if (rcpt == NULL || (at = strrchr(rcpt, '@')) == NULL) {
        v->kind = LM_V_ACCEPT;
        v->why = rcpt == NULL ? "no recipient given" : "unqualified local recipient";
        return;
    }
    if (p->order != LM_ORDER_QMAIL && (r = pol_address(c, rcpt, LM_S_TO)) != NULL) {
        if (pol_refusing(r->action) || r->action == LM_A_DISCARD) {
            v->kind = r->action == LM_A_DISCARD ? LM_V_DISCARD : LM_V_REJECT;
            v->rule = r;
            v->why = r->action == LM_A_DISCARD ? "mail to this recipient is discarded"
                                               : "recipient refused";
            return;
        }
        if (r->action == LM_A_RELAY) {
            v->kind = LM_V_ACCEPT;
            v->rule = r;
            v->why = "mail for this recipient is accepted";
            return;
        }
    }
    if ((v->domain = pol_accepted(c, at + 1)) != NULL) {
        v->kind = LM_V_ACCEPT;
        v->why = "recipient domain is ours";
        return;
    }
    if (pol_local_literal(p, at + 1)) {
        v->kind = LM_V_ACCEPT;
        v->why = "recipient is at one of our addresses";
        return;
    }
    if (relay_why != NULL) {
        v->kind = LM_V_RELAY;
        v->rule = relay;
        v->relay = relay;
        v->why = relay_why;
        return;
    }
    v->kind = LM_V_REFUSE;
    v->why = p->order == LM_ORDER_QMAIL ? "recipient domain not in rcpthosts"
                                        : "relaying denied";
}

int
lm_decide(const struct lm_policy *p, const struct lm_query *q, struct lm_verdict *v)
{
    struct pol_ctx c;
    struct lm_pindex *tmp = NULL;
    char hb[POL_NORM_BUF], sb[POL_NORM_BUF], rb[POL_NORM_BUF];
    char *hh, *sh, *rh;
    char *host = pol_norm(q->host, hb, &hh);
    char *sender = pol_norm(q->sender, sb, &sh);
    char *rcpt = pol_norm(q->rcpt, rb, &rh);

    c.p = p;
    c.ix = p->index;
    if (c.ix == NULL)
        c.ix = tmp = pol_build(p);
    if (c.ix == NULL) {
        /* No memory for even a small index: refuse, the safe answer. */
        memset(v, 0, sizeof *v);
        v->kind = LM_V_REFUSE;
        v->why = "out of memory";
    } else {
        pol_decide(&c, q, v, host, sender, rcpt);
    }
    pol_index_free(tmp);
    free(hh);
    free(sh);
    free(rh);
    return 0;
}

/* --- lint ---------------------------------------------------------------------- */

static int
pol_same_subject(const struct lm_rule *a, const struct lm_rule *b)
{
    if (a->kind != b->kind || a->stage != b->stage)
        return 0;
    if ((a->info == NULL) != (b->info == NULL) ||
        (a->info != NULL && strcmp(a->info, b->info) != 0))
        return 0;
    if (a->kind == LM_K_NET)
        return lm_ipaddr_cmp(&a->net.range.lo, &b->net.range.lo) == 0 &&
               lm_ipaddr_cmp(&a->net.range.hi, &b->net.range.hi) == 0;
    if (a->pattern == NULL || b->pattern == NULL)
        return a->pattern == b->pattern;
    return strcmp(a->pattern, b->pattern) == 0;
}

static int
pol_same_action(const struct lm_rule *a, const struct lm_rule *b)
{
    return a->action == b->action && a->code == b->code;
}

static int
pol_same_str(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Would the rule that decides without r answer exactly as r does? */
static int
pol_same_answer(const struct lm_rule *a, const struct lm_rule *b)
{
    return a->action == b->action && a->code == b->code && pol_same_str(a->dsn, b->dsn) &&
           pol_same_str(a->text, b->text) && a->nenv == 0 && b->nenv == 0;
}

/*
 * A domain rule (TREE or BELOW) that changes nothing: for every name it
 * matches, the rule that would decide without it is a wider domain rule of
 * the same stage giving the same answer ("from domain mail.spam.example
 * reject" under "from domain spam.example reject").  The wider rule is the
 * one the parents of the pattern find, as decide() would look them up; a
 * rule in between with another answer (or SKIP) keeps r useful, and so
 * does a different stage tag (it ranks differently).  Only the neutral and
 * Sendmail orders, where all domain rules of a stage are looked up in one
 * sequence.  Returns the number of warnings (0 or 1).
 */
static size_t
pol_lint_wider(const struct lm_policy *p, const struct lm_pindex *ix,
               const struct lm_rule *r, struct lm_diags *d)
{
    struct pol_ctx c = { p, ix };
    const struct lm_rule *w = NULL;
    unsigned st;
    char *s, *ws;

    if ((r->kind != LM_K_TREE && r->kind != LM_K_BELOW) || r->pattern == NULL ||
        r->info != NULL || r->action == LM_A_SKIP ||
        (p->order != LM_ORDER_NEUTRAL && p->order != LM_ORDER_SENDMAIL))
        return 0;
    /* every stage the rule applies at must have the same wider rule */
    for (st = LM_S_CONNECT; st <= LM_S_TO; st <<= 1) {
        const struct lm_rule *x;
        int skipped = 0;
        if (!(r->stage & st))
            continue;
        x = pol_domain(&c, r->pattern, st, 1, 0, &skipped);
        if (x == NULL || x == r || (w != NULL && x != w))
            return 0;
        w = x;
    }
    if (w == NULL || w->stage != r->stage || !pol_same_answer(w, r))
        return 0;
    s = lm_rule_str(r);
    ws = lm_rule_str(w);
    lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "rule \"%s\" changes nothing: the wider "
                "rule \"%s\" at line %lu gives the same answer", s ? s : "?", ws ? ws : "?",
                w->pos.line);
    free(s);
    free(ws);
    return 1;
}

static size_t
pol_dup_warn(const struct lm_rule *first, const struct lm_rule *r, struct lm_diags *d)
{
    char *s = lm_rule_str(r);

    if (pol_same_action(first, r))
        lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "duplicate rule \"%s\" (first "
                    "at line %lu); it has no effect", s ? s : "?", first->pos.line);
    else
        lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "conflicting duplicate \"%s\": "
                    "the rule at line %lu (%s) wins", s ? s : "?", first->pos.line,
                    lm_action_name(first->action));
    free(s);
    return 1;
}

/* Is the interval inside a network the public Internet does not route? */
static int
pol_private(const struct lm_iprange *r)
{
    static const struct { unsigned char a, b, bits; } nets[] = {
        { 10, 0, 8 }, { 172, 16, 12 }, { 192, 168, 16 }, { 127, 0, 8 },
        { 100, 64, 10 }, { 169, 254, 16 },
    };
    size_t i;

    if (r->lo.family != LM_IPV4)
        return (r->lo.b[0] & 0xfe) == 0xfc ||                       /* fc00::/7 */
               (r->lo.b[0] == 0xfe && (r->lo.b[1] & 0xc0) == 0x80);  /* fe80::/10 */
    for (i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        struct lm_ipaddr a;
        struct lm_ipnet n;
        lm_ipaddr_v4(&a, nets[i].a, nets[i].b, 0, 0);
        lm_ipnet_make(&n, &a, nets[i].bits);
        if (lm_ipnet_contains(&n, &r->lo) && lm_ipnet_contains(&n, &r->hi))
            return 1;
    }
    return 0;
}

size_t
lm_lint(const struct lm_policy *p, struct lm_diags *d)
{
    struct lm_pindex *tmp = NULL;
    const struct lm_pindex *ix = p->index;
    unsigned char *wins = NULL;
    char nb[2 * LM_IPADDR_BUF];
    size_t i, n = 0;

    if (ix == NULL && (ix = tmp = pol_build(p)) == NULL)
        return 0;
    wins = calloc(p->nrules + 1, 1);
    for (i = 0; wins != NULL && i < ix->nsegs; i++)
        wins[ix->segs[i].rule] = 1;
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        unsigned char w[16];
        /* Parsers warn about keys that can never match, with the format's
         * reason, as they read them. */
        if (r->kind == LM_K_NEVER)
            continue;
        if (wins != NULL && pol_is_connect_net(r) && !wins[i]) {
            struct pol_ctx c = { p, ix };
            const struct lm_rule *o = pol_net(&c, &r->net.range.lo);
            if (o != NULL && pol_same_subject(o, r)) {
                n += pol_dup_warn(o, r, d);
            } else {
                lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "network %s never decides: "
                            "narrower or earlier rules cover all of it (first: line %lu)",
                            lm_rule_net_str(&r->net, nb), o ? o->pos.line : 0UL);
                n++;
            }
        }
        n += pol_lint_wider(p, ix, r, d);
        if (r->action != LM_A_RELAY)
            continue;
        if (r->kind == LM_K_ANY || r->kind == LM_K_ANYHOST) {
            lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "RELAY for every client%s: "
                        "this is an open relay",
                        r->kind == LM_K_ANYHOST ? " with a host name" : "");
            n++;
        } else if (r->kind == LM_K_NET && (r->stage & LM_S_CONNECT)) {
            int v4 = r->net.range.lo.family == LM_IPV4;
            pol_width(&r->net.range, w);
            /* very wide: more than an IPv4 /8 or an IPv6 /32; public: wider
               than an IPv4 /16 or an IPv6 /48 outside private space.  IPv4
               widths sit in the first four bytes. */
            if (v4 ? w[0] != 0 : (w[0] | w[1] | w[2] | w[3]) != 0) {
                lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "RELAY for a very wide "
                            "network %s", lm_rule_net_str(&r->net, nb));
                n++;
            } else if ((v4 ? w[1] != 0 : (w[4] | w[5]) != 0) &&
                       !pol_private(&r->net.range)) {
                lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "RELAY for a public "
                            "network wider than /%d: %s", v4 ? 16 : 48,
                            lm_rule_net_str(&r->net, nb));
                n++;
            }
        } else if ((r->stage & LM_S_CONNECT) &&
                   (r->kind == LM_K_NAME || r->kind == LM_K_TREE || r->kind == LM_K_BELOW)) {
            lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "RELAY granted by client host "
                        "name %s%s: whoever controls the reverse DNS of an address can "
                        "claim it", r->kind == LM_K_BELOW ? "." : "", r->pattern);
            n++;
        }
        if ((r->stage & LM_S_FROM) && r->kind != LM_K_NET &&
            (p->order == LM_ORDER_NEUTRAL ||
             (p->order == LM_ORDER_SENDMAIL && (p->flags & LM_P_RELAY_MAIL_FROM) &&
              r->stage == LM_S_FROM))) {
            lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "RELAY granted on the envelope "
                        "sender, which any client can forge");
            n++;
        } else if (p->order == LM_ORDER_SENDMAIL && r->stage == LM_S_FROM &&
                   r->kind != LM_K_NET) {
            lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "From: RELAY grants relaying "
                        "only with FEATURE(`relay_mail_from'), and then to any client that "
                        "forges this sender");
            n++;
        }
    }
    /* duplicate names: equal keys share a hash chain */
    for (i = 0; i < ix->nbuckets; i++) {
        size_t e, f;
        for (e = ix->buckets[i]; e != NONE; e = ix->ents[e].next) {
            const struct pol_hent *he = &ix->ents[e];
            if (he->cls == 'D')
                continue;
            for (f = ix->ents[e].next; f != NONE; f = ix->ents[f].next) {
                const struct pol_hent *hf = &ix->ents[f];
                if (hf->cls == he->cls && hf->len == he->len &&
                    memcmp(hf->key, he->key, he->len) == 0 &&
                    pol_same_subject(&p->rules[he->idx], &p->rules[hf->idx])) {
                    n += pol_dup_warn(&p->rules[he->idx], &p->rules[hf->idx], d);
                    break;
                }
            }
        }
    }
    free(wins);
    pol_index_free(tmp);
    return n;
}

int
lm_rule_net_order(const struct lm_rule *ra, const struct lm_rule *rb)
{
    unsigned char wa[16], wb[16];
    int i, ba = 0, bb = 0, c;

    /* the width hi - lo of each network, compared as 128-bit numbers */
    for (i = 15; i >= 0; i--) {
        int x = ra->net.range.hi.b[i] - ra->net.range.lo.b[i] - ba;
        int y = rb->net.range.hi.b[i] - rb->net.range.lo.b[i] - bb;
        ba = x < 0;
        bb = y < 0;
        wa[i] = (unsigned char)(x + (ba ? 256 : 0));
        wb[i] = (unsigned char)(y + (bb ? 256 : 0));
    }
    if ((c = memcmp(wa, wb, 16)) != 0)
        return c;
    if ((ra->stage != LM_S_CONNECT) != (rb->stage != LM_S_CONNECT))
        return ra->stage != LM_S_CONNECT ? 1 : -1;
    return ra < rb ? -1 : ra > rb;
}

const struct lm_rule *
lm_policy_first(const struct lm_policy *p, enum lm_kind kind, unsigned stage)
{
    const struct lm_rule *best = NULL;
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (r->kind != kind || !(r->stage & stage) || r->action == LM_A_SKIP)
            continue;
        if (best == NULL || (best->stage != stage && r->stage == stage))
            best = r;
    }
    return best;
}
