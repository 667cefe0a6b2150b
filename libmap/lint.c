/*
 * lint.c - lm_lint(): warnings about a policy (networks that never decide,
 * duplicate and conflicting keys, rules that change nothing, RELAY for wide
 * networks, host names or senders).  It reads the order's properties and
 * the index decide() uses (pindex.h).
 */
#include "libmap/policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/pindex.h"

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
    struct pindex_ctx c = { p, ix };
    const struct lm_rule *w = NULL;
    unsigned st;
    char *s, *ws;

    if ((r->kind != LM_K_TREE && r->kind != LM_K_BELOW) || r->pattern == NULL ||
        r->info != NULL || r->action == LM_A_SKIP ||
        p->order->sender != LM_SENDER_ACCESS)
        return 0;
    /* every stage the rule applies at must have the same wider rule */
    for (st = LM_S_CONNECT; st <= LM_S_TO; st <<= 1) {
        const struct lm_rule *x;
        if (!(r->stage & st))
            continue;
        x = pindex_chain(&c, r->pattern, st, 1, 0);
        if (x != NULL && x->action == LM_A_SKIP)
            x = NULL;
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

    if (ix == NULL && (ix = tmp = pindex_build(p)) == NULL)
        return 0;
    wins = calloc(p->nrules + 1, 1);
    for (i = 0; wins != NULL && i < ix->nsegs; i++)
        if (ix->segs[i].rule != PINDEX_NONE)
            wins[ix->segs[i].rule] = 1;
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        unsigned char w[16];
        /* Parsers warn about keys that can never match, with the format's
         * reason, as they read them. */
        if (r->kind == LM_K_NEVER)
            continue;
        if (wins != NULL && pindex_is_connect_net(r) && !wins[i]) {
            struct pindex_ctx c = { p, ix };
            const struct lm_rule *o = pindex_net(&c, &r->net.range.lo);
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
            pindex_width(&r->net.range, w);
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
            lm_sender_relay_grants(p, r)) {
            lm_diag_add(d, LM_WARNING, LM_E_NONE, &r->pos, "RELAY granted on the envelope "
                        "sender, which any client can forge");
            n++;
        } else if (p->order->sender_relay == LM_SENDER_RELAY_TAGGED && r->stage == LM_S_FROM &&
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
        for (e = ix->buckets[i]; e != PINDEX_NONE; e = ix->ents[e].next) {
            const struct pindex_hent *he = &ix->ents[e];
            if (he->cls == 'D')
                continue;
            for (f = ix->ents[e].next; f != PINDEX_NONE; f = ix->ents[f].next) {
                const struct pindex_hent *hf = &ix->ents[f];
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
    pindex_free(tmp);
    return n;
}
