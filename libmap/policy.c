/*
 * policy.c - the relay policy model: building a policy and naming its
 * parts.  Deciding is in decide.c, lint in lint.c, comparing two policies
 * in verify.c.
 */
#include "libmap/policy.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/util.h"
#include "libmap/pindex.h"

struct lm_pchunk {
    struct lm_pchunk *next;
    size_t            used, cap;
    char              data[];
};

#define POL_CHUNK 65536

const struct lm_order lm_order_most_specific = {
    .name = "neutral",
    .connect = LM_CONNECT_EXACT_FIRST,
    .nets = LM_NET_NARROWEST,
    .sender = LM_SENDER_ACCESS,
    .sender_relay = LM_SENDER_RELAY_ALWAYS,
    .rcpt_rules = 1,
    .loopback_relays = 0,
    .refused = "relaying denied",
};

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
    else
        p->order = &lm_order_most_specific;
    return p;
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
    for (i = 0; i < r->nenv; i++) {
        free(r->env[i].name);
        free(r->env[i].value);
    }
    free(r->env);
    r->pattern = r->info = r->dsn = r->text = NULL;
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
    pindex_free(p->index);
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
    pindex_free(p->index);
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
        pol_dup(p, &c->dsn, r->dsn) || pol_dup(p, &c->text, r->text))
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
    struct lm_kv *nv = r->nenv < UINT_MAX ? realloc(r->env, ((size_t)r->nenv + 1) * sizeof *nv)
                                          : NULL;

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

/* FNV-1a over a class byte and the key. */
uint64_t
pindex_hash(char cls, const char *s, size_t len)
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
    size_t b = (size_t)pindex_hash((char)k, name, strlen(name)) & mask;

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
    lm_fold(lower, strlen(lower));
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
lm_order_name(const struct lm_order *o)
{
    return o->name;
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
    case LM_K_AUTH:    pol_puts(&b, " authenticated"); break;
    case LM_K_SERVER:
        pol_puts(&b, " server ");
        pol_puts(&b, lm_rule_net_str(&r->net, nb));
        break;
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

int
lm_sender_relay_grants(const struct lm_policy *p, const struct lm_rule *r)
{
    if (r->action != LM_A_RELAY || !(r->stage & LM_S_FROM))
        return 0;
    return p->order->sender_relay == LM_SENDER_RELAY_ALWAYS ||
           (p->order->sender_relay == LM_SENDER_RELAY_TAGGED &&
            (p->flags & LM_P_RELAY_MAIL_FROM) && r->stage == LM_S_FROM);
}

int
lm_policy_loopback_relays(const struct lm_policy *p)
{
    return p->order->loopback_relays && !(p->flags & LM_P_NO_LOOPBACK);
}

int
lm_action_refuses(enum lm_action a)
{
    return a == LM_A_REJECT || a == LM_A_ERROR || a == LM_A_DENY;
}

int
lm_action_stops(enum lm_action a)
{
    return lm_action_refuses(a) || a == LM_A_DISCARD;
}

int
lm_rule_key_rank(const struct lm_rule *r, unsigned stage, int level0)
{
    return pindex_key_rank(r->kind, r->stage, r->info != NULL, stage, level0);
}
