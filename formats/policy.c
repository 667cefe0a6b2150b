/*
 * formats/policy.c - the neutral policy file (relaymap-formats(5), "POLICY
 * FILE"): one rule or directive per line, "STAGE SUBJECT ACTION [TEXT]
 * [set NAME="VALUE"]...", plus accept, local, default, order and option
 * lines.  It can say everything the model holds, so emitting never loses a
 * rule; parsing reports every bad line with its column and keeps going.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/ipset.h"
#include "libmap/policy.h"
#include "libmap/source.h"

#define POL_MAXTOK 64

struct ptok {
    char  *s;       /* NUL-terminated; quotes removed and escapes resolved */
    size_t col;     /* 1-based column of the token's first byte */
    int    quoted;
};

static const char *const policy_outputs[] = { "policy.txt", NULL };

static int
policy_isspace(int c)
{
    return c == ' ' || c == '\t';
}

/* Split LINE in place into tokens.  Returns the count, or -1 after an error
 * (unterminated quote, too many tokens). */
static int
policy_split(char *line, size_t len, struct ptok *t, const struct lm_pos *lpos,
             struct lm_diags *d)
{
    struct lm_pos pos = *lpos;
    size_t i = 0;
    int n = 0;

    while (i < len) {
        char *out;
        while (i < len && policy_isspace((unsigned char)line[i]))
            i++;
        if (i >= len || line[i] == '#')
            break;
        if (n == POL_MAXTOK) {
            pos.col = (unsigned)i + 1;
            return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos,
                               "too many words on one line (at most %d)", POL_MAXTOK);
        }
        t[n].col = i + 1;
        t[n].quoted = 0;
        out = t[n].s = line + i;
        while (i < len && !policy_isspace((unsigned char)line[i])) {
            if (line[i] == '"') {
                size_t q = i++;
                t[n].quoted = 1;
                while (i < len && line[i] != '"') {
                    if (line[i] == '\\' && i + 1 < len)
                        i++;
                    *out++ = line[i++];
                }
                if (i >= len) {
                    pos.col = (unsigned)q + 1;
                    return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos,
                                       "unterminated quoted string");
                }
                i++;
            } else {
                *out++ = line[i++];
            }
        }
        /* The byte after a token is a blank or the end: safe to terminate. */
        if (i < len)
            i++;
        *out = '\0';
        n++;
    }
    return n;
}

/* An error at token t (or at the line when t is NULL): BEFORE "token" AFTER. */
static int
policy_err(struct lm_diags *d, const struct lm_pos *lpos, const struct ptok *t,
           const char *before, const char *after)
{
    struct lm_pos pos = *lpos;
    char q[LM_QUOTE_BUF];

    if (t == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos, "%s%s", before, after);
    pos.col = (unsigned)t->col;
    lm_quote(q, t->s, strlen(t->s), LM_QUOTE_MAX);
    return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos, "%s\"%s\"%s", before, q, after);
}

/* A domain name: letters, digits, '-', '_' and inner dots.  Folded. */
static int
policy_domain(char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 255 || s[0] == '.' || s[n - 1] == '.')
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            s[i] = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_' || (c == '.' && s[i + 1] != '.') || c == '[' || c == ']' ||
                   c == ':'))
            return -1;
    }
    return 0;
}

/* A local part: no blanks, controls or '@'; 8-bit bytes are kept (a UTF-8 local
 * part, which badmailfrom and access maps can hold). */
static int
policy_local(const char *s)
{
    if (*s == '\0')
        return -1;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s == 127 || *s == '@')
            return -1;
    return 0;
}

static int
policy_net(const struct ptok *t, struct lm_rule_net *net, const struct lm_pos *lpos,
           struct lm_diags *d)
{
    struct lm_pos pos = *lpos;
    const char *s = t->s;
    size_t len = strlen(s);

    memset(net, 0, sizeof *net);
    pos.col = (unsigned)t->col;
    if (lm_iprange_parse(s, len, LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR | LM_IPF_MASK |
                         LM_IPF_DOTTED | LM_IPF_RANGE, &net->range, d, &pos) != 0)
        return -1;
    if (strchr(s, '/') != NULL) {
        net->form = LM_NF_CIDR;
        net->prefix = (unsigned)strtoul(strchr(s, '/') + 1, NULL, 10);
    } else if (strchr(s, ';') != NULL) {
        net->form = LM_NF_MASK;
    } else if (strchr(s, '-') != NULL) {
        net->form = LM_NF_RANGE;
    } else if (s[len - 1] == '.') {
        struct lm_ipnet n;
        net->form = LM_NF_PREFIX;
        if (lm_iprange_to_net(&net->range, &n) == 0)
            net->prefix = n.prefix;
    } else {
        net->form = LM_NF_CIDR;
        net->prefix = lm_ipfam_bits(net->range.lo.family);
    }
    return 0;
}

/* "name|domain|subdomains DOMAIN" -> kind.  Returns 0, or -1 when t is not
 * one of the three words. */
static int
policy_domkind(const char *w, enum lm_kind *k)
{
    if (strcmp(w, "name") == 0)
        *k = LM_K_NAME;
    else if (strcmp(w, "domain") == 0)
        *k = LM_K_TREE;
    else if (strcmp(w, "subdomains") == 0)
        *k = LM_K_BELOW;
    else
        return -1;
    return 0;
}

static int
policy_action(struct ptok *t, int n, int *i, struct lm_rule *r, const struct lm_pos *lp,
              struct lm_diags *d)
{
    static const struct { const char *w; enum lm_action a; } acts[] = {
        { "relay", LM_A_RELAY }, { "ok", LM_A_OK }, { "reject", LM_A_REJECT },
        { "discard", LM_A_DISCARD }, { "error", LM_A_ERROR }, { "deny", LM_A_DENY },
        { "skip", LM_A_SKIP },
    };
    size_t k;

    if (*i >= n)
        return policy_err(d, lp, NULL, "missing action (relay, ok, reject, discard, ",
                          "error, deny or skip)");
    for (k = 0; k < sizeof acts / sizeof acts[0]; k++)
        if (strcmp(t[*i].s, acts[k].w) == 0)
            break;
    if (k == sizeof acts / sizeof acts[0] || t[*i].quoted)
        return policy_err(d, lp, &t[*i], "unknown action ",
                          " (relay, ok, reject, discard, error, deny or skip)");
    r->action = acts[k].a;
    (*i)++;
    if (r->action == LM_A_ERROR) {
        char *end;
        unsigned long code;
        if (*i >= n)
            return policy_err(d, lp, &t[*i - 1], "",
                              " needs an SMTP code (error 550 [5.7.1] [\"text\"])");
        code = strtoul(t[*i].s, &end, 10);
        if (*end != '\0' || code < 400 || code > 599 || t[*i].quoted)
            return policy_err(d, lp, &t[*i], "bad SMTP code ", ": want 400 to 599");
        r->code = (unsigned)code;
        (*i)++;
        if (*i < n && !t[*i].quoted && t[*i].s[0] >= '2' && t[*i].s[0] <= '5' &&
            t[*i].s[1] == '.') {
            unsigned a, b, c;
            char extra;
            if (sscanf(t[*i].s, "%u.%u.%u%c", &a, &b, &c, &extra) != 3 || b > 999 ||
                c > 999 || a != code / 100)
                return policy_err(d, lp, &t[*i], "bad enhanced status code ",
                                  ": want X.Y.Z with X the first digit of the SMTP code");
            r->dsn = t[*i].s;
            (*i)++;
        }
    }
    if (*i < n && t[*i].quoted) {
        r->text = t[*i].s;
        (*i)++;
    }
    return 0;
}

static int
policy_env(struct ptok *t, int n, int i, struct lm_rule *r, const struct lm_pos *lp,
           struct lm_diags *d)
{
    while (i < n) {
        char *eq;
        if (strcmp(t[i].s, "set") != 0 || t[i].quoted)
            return policy_err(d, lp, &t[i], "unexpected ",
                              ": only set NAME=\"VALUE\" may follow the action");
        if (++i >= n || (eq = strchr(t[i].s, '=')) == NULL || eq == t[i].s)
            return policy_err(d, lp, i < n ? &t[i] : &t[i - 1],
                              "", ": want set NAME=\"VALUE\"");
        *eq = '\0';
        if (lm_rule_setenv(r, t[i].s, eq + 1, d) != 0)
            return -1;
        i++;
    }
    return 0;
}

static int
policy_stage(const char *w, unsigned *st)
{
    if (strcmp(w, "connect") == 0)
        *st = LM_S_CONNECT;
    else if (strcmp(w, "from") == 0)
        *st = LM_S_FROM;
    else if (strcmp(w, "to") == 0)
        *st = LM_S_TO;
    else if (strcmp(w, "any") == 0)
        *st = LM_S_ANY;
    else
        return -1;
    return 0;
}

/* One rule line; t[0] is the stage (or "default"). */
static int
policy_rule(struct lm_policy *p, struct ptok *t, int n, const struct lm_pos *lp,
            struct lm_diags *d)
{
    struct lm_rule r;
    enum lm_kind k;
    unsigned st;
    int i = 1, rc = -1;
    const char *w;

    memset(&r, 0, sizeof r);
    r.pos = *lp;
    if (strcmp(t[0].s, "default") == 0) {
        r.kind = LM_K_ANY;
        r.stage = LM_S_CONNECT;
        goto action;
    }
    if (policy_stage(t[0].s, &st) != 0 || t[0].quoted)
        return policy_err(d, lp, &t[0], "unknown word ",
                          ": a line starts with a stage (connect, from, to, any) or "
                          "accept, local, default, order, option");
    r.stage = (unsigned char)st;
    if (i >= n)
        return policy_err(d, lp, &t[0], "missing subject after ", "");
    w = t[i].s;
    if (strcmp(w, "net") == 0) {
        r.kind = LM_K_NET;
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs a network");
        if (policy_net(&t[i], &r.net, lp, d) != 0)
            return -1;
        i++;
    } else if (policy_domkind(w, &k) == 0) {
        r.kind = (unsigned char)k;
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs a domain name");
        if (policy_domain(t[i].s) != 0)
            return policy_err(d, lp, &t[i], "bad domain name ", "");
        r.pattern = t[i++].s;
    } else if (strcmp(w, "address") == 0) {
        char *at;
        r.kind = LM_K_ADDR;
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs user@domain");
        at = strrchr(t[i].s, '@');
        if (at == NULL || at == t[i].s) {
            return policy_err(d, lp, &t[i], "bad address ", ": want user@domain");
        }
        *at = '\0';
        if (policy_local(t[i].s) != 0 || policy_domain(at + 1) != 0)
            return policy_err(d, lp, &t[i], "bad address ", ": want user@domain");
        *at = '@';
        for (at = t[i].s; *at; at++)
            if (*at >= 'A' && *at <= 'Z')
                *at = (char)(*at - 'A' + 'a');
        r.pattern = t[i++].s;
    } else if (strcmp(w, "user") == 0) {
        r.kind = LM_K_USER;
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs a local part");
        if (policy_local(t[i].s) != 0)
            return policy_err(d, lp, &t[i], "bad local part ", "");
        for (w = t[i].s; *w; w++)
            if (*w >= 'A' && *w <= 'Z')
                t[i].s[w - t[i].s] = (char)(*w - 'A' + 'a');
        r.pattern = t[i++].s;
    } else if (strcmp(w, "server") == 0) {
        r.kind = LM_K_SERVER;
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs the server's address or network");
        if (policy_net(&t[i], &r.net, lp, d) != 0)
            return -1;
        i++;
    } else if (strcmp(w, "authenticated") == 0) {
        r.kind = LM_K_AUTH;
        i++;
    } else if (strcmp(w, "anyhost") == 0) {
        r.kind = LM_K_ANYHOST;
        i++;
    } else if (strcmp(w, "all") == 0) {
        r.kind = LM_K_ANY;
        i++;
    } else if (strcmp(w, "never") == 0) {
        r.kind = LM_K_NEVER;
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs the key as written");
        r.pattern = t[i++].s;
        {
            char q[LM_QUOTE_BUF];
            lm_diag_add(d, LM_WARNING, LM_E_NONE, lp, "key \"%s\" can never match; the "
                        "rule is kept only to be reported",
                        lm_quote(q, r.pattern, strlen(r.pattern), LM_QUOTE_MAX));
        }
    } else {
        return policy_err(d, lp, &t[i], "unknown subject ",
                          " (net, name, domain, subdomains, address, user, server, "
                          "authenticated, anyhost, all, never)");
    }
    if (i < n && strcmp(t[i].s, "ident") == 0 && !t[i].quoted) {
        if (++i >= n)
            return policy_err(d, lp, &t[i - 1], "", " needs a user name");
        r.info = t[i++].s;
    }
    if ((r.kind == LM_K_NET || r.kind == LM_K_ANYHOST || r.kind == LM_K_SERVER ||
         r.kind == LM_K_AUTH || r.info != NULL) && !(r.stage & LM_S_CONNECT))
        return policy_err(d, lp, &t[0], "", ": networks, server, authenticated, anyhost and "
                          "ident can only be matched at connect");
    if ((r.kind == LM_K_ADDR || r.kind == LM_K_USER) && r.stage == LM_S_CONNECT)
        return policy_err(d, lp, &t[1], "",
                          ": a mail address is not known at connect; use from, to or "
                          "any");
action:
    if (policy_action(t, n, &i, &r, lp, d) != 0)
        goto out;
    if (r.action == LM_A_DENY && r.stage != LM_S_CONNECT) {
        policy_err(d, lp, &t[0], "", ": deny refuses a connection; use reject at from or to");
        goto out;
    }
    if (policy_env(t, n, i, &r, lp, d) != 0)
        goto out;
    rc = lm_policy_add(p, &r, d) != NULL ? 0 : -1;
out:
    /* Only env is owned here; every string points into the line. */
    for (i = 0; (size_t)i < r.nenv; i++) {
        free(r.env[i].name);
        free(r.env[i].value);
    }
    free(r.env);
    return rc;
}

static int
policy_line(struct lm_policy *p, struct ptok *t, int n, const struct lm_pos *lp,
            int *order_seen, struct lm_diags *d)
{
    const char *w = t[0].s;
    int rc;

    if (strcmp(w, "accept") == 0) {
        enum lm_kind k;
        if (n != 3 || policy_domkind(t[1].s, &k) != 0)
            return policy_err(d, lp, &t[0], "", ": want accept name|domain|subdomains DOMAIN");
        if (policy_domain(t[2].s) != 0)
            return policy_err(d, lp, &t[2], "bad domain name ", "");
        rc = lm_policy_add_domain(p, t[2].s, k, lp, d);
        if (rc == LM_EXISTS) {
            const struct lm_domain *first;
            char *c;
            for (c = t[2].s; *c != '\0'; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            first = lm_policy_domain(p, t[2].s, k);
            lm_diag_add(d, LM_WARNING, LM_E_DUPLICATE, lp, "\"accept %s %s\" repeats %s:%lu",
                        t[1].s, t[2].s, first && first->pos.file ? first->pos.file : "?",
                        first ? first->pos.line : 0UL);
        }
        return rc < 0 ? -1 : 0;
    }
    if (strcmp(w, "local") == 0) {
        struct lm_rule_net net;
        if (n != 2)
            return policy_err(d, lp, &t[0], "", ": want local ADDRESS-OR-NETWORK");
        if (policy_net(&t[1], &net, lp, d) != 0)
            return -1;
        return lm_policy_add_local(p, &net, lp, d);
    }
    if (strcmp(w, "order") == 0) {
        /* the lookup order of another format's server, by that format's
         * name (its descriptor in the registry) */
        const struct lm_codec *c = n == 2 ? lm_codec_find(t[1].s) : NULL;
        const struct lm_order *o = c != NULL ? c->order : NULL;
        if (n == 2 && strcmp(t[1].s, lm_order_most_specific.name) == 0)
            o = &lm_order_most_specific;
        if (n != 2)
            return policy_err(d, lp, &t[0], "", ": want order FORMAT");
        if (o == NULL)
            return policy_err(d, lp, &t[1], "unknown order ",
                              ": want the name of a format (relayconv --list)");
        if (*order_seen && p->order != o)
            return policy_err(d, lp, &t[1], "order ", " contradicts an earlier order line");
        *order_seen = 1;
        p->order = o;
        return 0;
    }
    if (strcmp(w, "option") == 0) {
        if (n != 2)
            return policy_err(d, lp, &t[0], "", ": want option relay-mail-from|no-loopback");
        if (strcmp(t[1].s, "relay-mail-from") == 0)
            p->flags |= LM_P_RELAY_MAIL_FROM;
        else if (strcmp(t[1].s, "no-loopback") == 0)
            p->flags |= LM_P_NO_LOOPBACK;
        else
            return policy_err(d, lp, &t[1], "unknown option ", "");
        return 0;
    }
    return policy_rule(p, t, n, lp, d);
}

static int
policy_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    struct ptok t[POL_MAXTOK];
    struct lm_line ln;
    size_t errs0 = d->nerrors;
    int rc, order_seen = 0;

    out->order = &lm_order_most_specific;
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        int n;
        if (ln.len > 0 && ln.text[ln.len - 1] == '\r')
            ln.len--;
        ln.text[ln.len] = '\0';
        if (memchr(ln.text, '\0', ln.len) != NULL) {
            lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln.pos, "NUL byte in line; line skipped");
        } else if ((n = policy_split(ln.text, ln.len, t, &ln.pos, d)) > 0) {
            policy_line(out, t, n, &ln.pos, &order_seen, d);
        }
        if (lm_diags_full(d))
            break;
    }
    if (rc < 0)
        return -1;
    return d->nerrors > errs0 ? -1 : 0;
}

/* A name= or set value may hold any byte but '"', '\\' and newline are
 * escaped by lm_rule_str; a NAME with blanks or '=' cannot be written. */
static int
policy_envname_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '=' || *s == '"' || *s == '#')
            return 0;
    return 1;
}

static const char *
policy_kindword(enum lm_kind k)
{
    return k == LM_K_NAME ? "name" : k == LM_K_TREE ? "domain" : "subdomains";
}

static int
policy_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
            struct lm_losses *lost, struct lm_diags *d)
{
    FILE *f = out[0];
    char nb[2 * LM_IPADDR_BUF];
    size_t i, k;

    (void)opts;     /* the format has no settings */

    fprintf(f, "# relaymap policy\n");
    if (in->order != &lm_order_most_specific)
        fprintf(f, "order %s\n", lm_order_name(in->order));
    if (in->flags & LM_P_RELAY_MAIL_FROM)
        fprintf(f, "option relay-mail-from\n");
    if (in->flags & LM_P_NO_LOOPBACK)
        fprintf(f, "option no-loopback\n");
    for (i = 0; i < in->nlocals; i++)
        fprintf(f, "local %s\n", lm_rule_net_str(&in->locals[i].net, nb));
    for (i = 0; i < in->ndomains; i++)
        fprintf(f, "accept %s %s\n", policy_kindword(in->domains[i].kind),
                in->domains[i].name);
    for (i = 0; i < in->nrules; i++) {
        const struct lm_rule *r = &in->rules[i];
        char *s;
        for (k = 0; k < r->nenv; k++)
            if (!policy_envname_ok(r->env[k].name))
                break;
        if (k < r->nenv) {
            if (lm_loss_add(lost, LM_LOSS_DROPPED, 0, r, NULL, d, "variable name \"%s\" "
                            "cannot be written in a policy file; rule dropped",
                            r->env[k].name) != 0)
                return -1;
            continue;
        }
        if ((s = lm_rule_str(r)) == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &r->pos, "out of memory");
        fprintf(f, "%s\n", s);
        free(s);
    }
    return 0;
}

/* Does the line (first word w1, second word w2) look like the policy file? */
static int
policy_detect_line(const char *w1, size_t l1, const char *w2, size_t l2)
{
    static const char *const subjects[] = {
        "net", "name", "domain", "subdomains", "address", "user", "server", "authenticated",
        "anyhost", "all",
        "never", NULL };
    static const char *const actions[] = {
        "relay", "ok", "reject", "discard", "error", "deny", "skip", NULL };
    static const char *const kinds[] = { "name", "domain", "subdomains", NULL };
    static const char *const options[] = { "relay-mail-from", "no-loopback", NULL };
    static const struct { const char *w; const char *const *next; } first[] = {
        { "connect", subjects }, { "from", subjects }, { "to", subjects },
        { "any", subjects }, { "accept", kinds }, { "default", actions },
        { "order", NULL }, { "option", options },
    };
    size_t i, k;

    for (i = 0; i < sizeof first / sizeof first[0]; i++) {
        if (strlen(first[i].w) != l1 || memcmp(first[i].w, w1, l1) != 0)
            continue;
        if (first[i].next == NULL)
            return l2 > 0;      /* "order FORMAT": any format's name */
        for (k = 0; first[i].next[k] != NULL; k++)
            if (strlen(first[i].next[k]) == l2 && memcmp(first[i].next[k], w2, l2) == 0)
                return 1;
        return 0;
    }
    /* local ADDRESS: a digit or an IPv6 colon */
    return l1 == 5 && memcmp(w1, "local", 5) == 0 && l2 > 0 &&
           ((w2[0] >= '0' && w2[0] <= '9') || memchr(w2, ':', l2) != NULL);
}

static int
policy_detect(const char *name, const char *text, size_t len)
{
    size_t i = 0, good = 0, bad = 0;

    (void)name;
    if (len >= 17 && memcmp(text, "# relaymap policy", 17) == 0)
        return LM_DETECT_SURE;
    while (i < len) {
        size_t e = i, w1, w1e, w2, w2e;
        while (e < len && text[e] != '\n')
            e++;
        while (i < e && policy_isspace((unsigned char)text[i]))
            i++;
        if (i < e && text[i] != '#' && text[i] != '\r') {
            for (w1 = i, w1e = i; w1e < e && !policy_isspace((unsigned char)text[w1e]); w1e++)
                ;
            for (w2 = w1e; w2 < e && policy_isspace((unsigned char)text[w2]); w2++)
                ;
            for (w2e = w2; w2e < e && !policy_isspace((unsigned char)text[w2e]) &&
                           text[w2e] != '\r'; w2e++)
                ;
            if (policy_detect_line(text + w1, w1e - w1, text + w2, w2e - w2))
                good++;
            else
                bad++;
        }
        i = e + 1;
    }
    if (good > 0 && bad == 0)
        return LM_DETECT_SURE;
    if (good > bad)
        return LM_DETECT_LIKELY;
    if (good > 0)
        return LM_DETECT_MAYBE;
    return LM_DETECT_NO;
}

const struct lm_codec lm_codec_policy = {
    .name = "policy",
    .description = "neutral relaymap policy file (relaymap-formats(5))",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &lm_order_most_specific,
    .outputs = policy_outputs,
    .detect = policy_detect,
    .parse = policy_parse,
    .emit = policy_emit,
};
