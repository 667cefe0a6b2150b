/*
 * emit.c - the emitter toolkit (emit.h): the priority of a policy's
 * network rules as its server applies them, for the emitters' covers.
 */
#include "libmap/emit.h"

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
