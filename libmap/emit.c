/*
 * emit.c - the emitter toolkit (emit.h): the priority of a policy's
 * network rules as its server applies them, for the emitters' covers.
 */
#include "libmap/emit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/ipset.h"
#include "libmap/pindex.h"

/* A rule's sort key, computed once: qsort needs no context then. */
struct emit_netkey {
    unsigned char relays;       /* with refuse-first: relaying rules last */
    unsigned char width[16];    /* hi - lo, big-endian: narrower first */
    unsigned char untagged;     /* an untagged rule after a Connect: one */
    size_t        rule;         /* then file order */
};

static int
emit_netkey_cmp(const void *a, const void *b)
{
    const struct emit_netkey *x = a, *y = b;
    int c;

    if (x->relays != y->relays)
        return x->relays - y->relays;
    if ((c = memcmp(x->width, y->width, 16)) != 0)
        return c;
    if (x->untagged != y->untagged)
        return x->untagged - y->untagged;
    return (x->rule > y->rule) - (x->rule < y->rule);
}

int
lm_emit_nets(const struct lm_policy *p, int family, size_t **idx, size_t *n,
             struct lm_diags *d)
{
    struct emit_netkey *k;
    size_t i, m = 0;

    *idx = NULL;
    *n = 0;
    for (i = 0; i < p->nrules; i++)
        m += pindex_is_connect_net(&p->rules[i]) && p->rules[i].net.range.lo.family == family;
    if (m == 0)
        return 0;
    if ((k = calloc(m, sizeof *k)) == NULL || (*idx = malloc(m * sizeof **idx)) == NULL) {
        free(k);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        struct emit_netkey *x;
        if (!pindex_is_connect_net(r) || r->net.range.lo.family != family)
            continue;
        x = &k[(*n)++];
        x->rule = i;
        if (p->order->nets == LM_NET_FIRST)
            continue;   /* file order alone */
        x->relays = p->order->nets == LM_NET_REFUSE_FIRST && r->action == LM_A_RELAY;
        pindex_width(&r->net.range, x->width);
        x->untagged = r->stage != LM_S_CONNECT;
    }
    qsort(k, m, sizeof *k, emit_netkey_cmp);
    for (i = 0; i < m; i++)
        (*idx)[i] = k[i].rule;
    free(k);
    return 0;
}

int
lm_emit_net_values(const struct lm_policy *p, int family, size_t front,
                   size_t (*value)(void *arg, const struct lm_rule *r), void *arg,
                   struct lm_iprange **rg, size_t **val, size_t *n, struct lm_diags *d)
{
    size_t *idx, k;

    *rg = NULL;
    *val = NULL;
    if (lm_emit_nets(p, family, &idx, n, d) != 0)
        return -1;
    *rg = malloc((front + *n + 1) * sizeof **rg);
    *val = malloc((front + *n + 1) * sizeof **val);
    if (*rg == NULL || *val == NULL) {
        free(idx);
        free(*rg);
        free(*val);
        *rg = NULL;
        *val = NULL;
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    /* values taken in priority order: ties in the cover go to the first */
    for (k = 0; k < *n; k++) {
        const struct lm_rule *r = &p->rules[idx[k]];
        (*rg)[front + k] = r->net.range;
        (*val)[front + k] = value(arg, r);
    }
    free(idx);
    return 0;
}

int
lm_emit_drop_widens(const struct lm_policy *p, const struct lm_rule *r, unsigned stages)
{
    if (r->action == LM_A_RELAY)
        return 0;
    if (r->action == LM_A_REJECT || r->action == LM_A_ERROR || r->action == LM_A_DENY)
        return 1;
    /* the index holds the answer per stage mask: emitters ask once per rule,
     * and a scan each time is quadratic when no RELAY matches */
    if (p->index != NULL && stages <= LM_S_ANY && p->index->relay_stages[stages] != 0)
        return p->index->relay_stages[stages] - 1;
    return pindex_relay_at(p, stages);
}

int
lm_emit_paint(const struct lm_policy *p, int family, struct lm_cover_iv **out, size_t *n,
              struct lm_diags *d)
{
    struct lm_iprange *rg = NULL;
    size_t *idx = NULL, *val = NULL, m = 0, i;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (lm_emit_nets(p, family, &idx, &m, d) != 0)
        return -1;
    rg = malloc((m + 1) * sizeof *rg);
    val = malloc((m + 1) * sizeof *val);
    if (rg == NULL || val == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (i = 0; i < m; i++) {
        rg[i] = p->rules[idx[i]].net.range;
        val[i] = idx[i] + 1;
    }
    rc = lm_ipset_paint(family, rg, val, m, 0, out, n, d);
out:
    free(idx);
    free(rg);
    free(val);
    return rc;
}

/* A network of a list with the file position of the rule it was written
 * from ((size_t)-1 for none), computed once: qsort needs no context. */
struct emit_item {
    struct lm_ipnet net;
    size_t          rank;
};

static int
emit_item_cmp(const void *a, const void *b)
{
    const struct emit_item *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return lm_ipaddr_cmp(&x->net.addr, &y->net.addr);
}

/* A candidate rule for an item's rank, by its range. */
struct emit_rangekey {
    struct lm_iprange range;
    size_t            rule;
};

static int
emit_rangekey_cmp(const void *a, const void *b)
{
    const struct emit_rangekey *x = a, *y = b;
    int c = lm_ipaddr_cmp(&x->range.lo, &y->range.lo);

    if (c == 0)
        c = lm_ipaddr_cmp(&x->range.hi, &y->range.hi);
    return c != 0 ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

int
lm_emit_order_nets(const struct lm_policy *p, enum lm_kind kind, int relay,
                   struct lm_ipnet *nets, size_t n, struct lm_diags *d)
{
    struct emit_rangekey *k = malloc((p->nrules + 1) * sizeof *k);
    struct emit_item *it = malloc((n + 1) * sizeof *it);
    size_t i, nk = 0;

    if (k == NULL || it == NULL) {
        free(k);
        free(it);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (r->kind == kind && (r->stage & LM_S_CONNECT) && r->info == NULL &&
            (r->action == LM_A_RELAY) == (relay != 0)) {
            k[nk].range = r->net.range;
            k[nk++].rule = i;
        }
    }
    qsort(k, nk, sizeof *k, emit_rangekey_cmp);
    for (i = 0; i < n; i++) {
        struct emit_rangekey want;
        size_t lo = 0, hi = nk;
        it[i].net = nets[i];
        it[i].rank = (size_t)-1;
        lm_ipnet_range(&nets[i], &want.range);
        want.rule = 0;
        while (lo < hi) {   /* the first rule with this range: the earliest */
            size_t m = lo + (hi - lo) / 2;
            if (emit_rangekey_cmp(&k[m], &want) < 0)
                lo = m + 1;
            else
                hi = m;
        }
        if (lo < nk && lm_ipaddr_cmp(&k[lo].range.lo, &want.range.lo) == 0 &&
            lm_ipaddr_cmp(&k[lo].range.hi, &want.range.hi) == 0)
            it[i].rank = k[lo].rule;
    }
    free(k);
    qsort(it, n, sizeof *it, emit_item_cmp);
    for (i = 0; i < n; i++)
        nets[i] = it[i].net;
    free(it);
    return 0;
}

const char *
lm_emit_setting(const char *const *opts, const char *name)
{
    const char *v = NULL;
    size_t len = strlen(name), i;

    for (i = 0; opts != NULL && opts[i] != NULL; i++)
        if (strncmp(opts[i], name, len) == 0 && opts[i][len] == '=')
            v = opts[i] + len + 1;
    return v;
}

int
lm_emit_action_rank(enum lm_action a, int discard_stops)
{
    if (discard_stops ? lm_action_stops(a) : lm_action_refuses(a))
        return 1;
    return a == LM_A_RELAY ? 3 : 2;
}

static int
emit_is_loopback(const struct lm_ipaddr *a)
{
    static const unsigned char v6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

    if (a->family == LM_IPV4)
        return a->b[0] == 127 && a->b[1] == 0 && a->b[2] == 0 && a->b[3] == 1;
    return memcmp(a->b, v6, 16) == 0;
}

/* A connect network of the family asked for, and whether it is a single
 * address; 0 for a loopback address or any other rule. */
static int
emit_conflict_net(const struct lm_rule *r, int family, int *single)
{
    if (r->kind != LM_K_NET || !(r->stage & LM_S_CONNECT) || r->info != NULL ||
        (family != 0 && r->net.range.lo.family != family))
        return 0;
    *single = lm_ipaddr_cmp(&r->net.range.lo, &r->net.range.hi) == 0;
    return !(*single && emit_is_loopback(&r->net.range.lo));
}

int
lm_emit_name_net_conflicts(const struct lm_policy *p, const struct lm_emit_conflicts *c,
                           struct lm_diags *d)
{
    char **val = calloc(p->nrules + 1, sizeof *val);
    /* [0] every network, [1] single addresses (an exact name meets only
     * those): the first network, and the first whose value differs from
     * that one's.  The first network whose value differs from a name's is
     * one of the two, so each name is checked in constant time. */
    size_t first[2] = { SIZE_MAX, SIZE_MAX }, other[2] = { SIZE_MAX, SIZE_MAX };
    size_t i, j;
    int rc = -1;

    if (val == NULL)
        goto out;
    for (j = 0; j < p->nrules; j++) {
        int single, k;
        if (!emit_conflict_net(&p->rules[j], c->family, &single))
            continue;
        if ((val[j] = c->value(c->arg, &p->rules[j])) == NULL)
            goto out;
        for (k = 0; k < 2; k++) {
            if (k == 1 && !single)
                continue;
            if (first[k] == SIZE_MAX)
                first[k] = j;
            else if (other[k] == SIZE_MAX && strcmp(val[first[k]], val[j]) != 0)
                other[k] = j;
        }
    }
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *n = &p->rules[i];
        int k = n->kind == LM_K_NAME;
        char *a;
        if ((n->kind != LM_K_NAME && n->kind != LM_K_TREE && n->kind != LM_K_BELOW) ||
            !(n->stage & LM_S_CONNECT) || n->info != NULL || first[k] == SIZE_MAX)
            continue;
        if ((a = c->value(c->arg, n)) == NULL)
            goto out;
        j = strcmp(val[first[k]], a) != 0 ? first[k] : other[k];
        if (j != SIZE_MAX)
            c->conflict(c->arg, n, &p->rules[j]);
        free(a);
    }
    rc = 0;
out:
    for (j = 0; val != NULL && j < p->nrules; j++)
        free(val[j]);
    free(val);
    return rc == 0 ? 0 : lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
}
