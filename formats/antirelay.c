/*
 * formats/antirelay.c - the EMWAC IMS AntiRelay plug-in's files as defined by
 * ARDEF-1 (relaymap-formats(5), ANTIRELAY): antirelay.ini ([AntiRelay] file
 * names, [LocalNets] netN=), ARgoodIP.dat (one network a line) and
 * ARdomain.dat (one domain a line).  No public specification of the plug-in
 * exists; ARDEF-1 is this project's definition, conservative (never more
 * relaying than the source) and tolerant on input.  A client relays when its
 * address is in LocalNets or ARgoodIP.dat; mail for an ARdomain.dat domain is
 * accepted from anyone.  There is no deny list: refusals are subtracted from
 * the networks written, or reported.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/emit.h"
#include "libmap/util.h"
#include "libmap/ipset.h"
#include "libmap/policy.h"
#include "libmap/source.h"

/* Only relaying networks and accepted domains: nothing is looked up by host
 * name, sender or recipient rule, and nothing is refused but relaying. */
static const struct lm_order antirelay_order = {
    .name = "antirelay",
    .connect = LM_CONNECT_EXACT_FIRST,
    .nets = LM_NET_NARROWEST,
    .sender = LM_SENDER_NONE,
    .sender_relay = LM_SENDER_RELAY_NEVER,
    .rcpt_rules = 0,
    .loopback_relays = 0,
    .refused = "relaying denied",
};

enum { AR_INI, AR_GOODIP, AR_DOMAIN, AR_NPARTS };

static const char *const antirelay_outputs[] = {
    "antirelay.ini", "ARgoodIP.dat", "ARdomain.dat", NULL
};

/* The [AntiRelay] keys that name the other two files. */
static const char *const ar_filekeys[AR_NPARTS] = { NULL, "GoodIPFile", "DomainFile" };

static int
ar_blank(int c)
{
    return c == ' ' || c == '\t';
}

/* Trim CR and blanks at both ends, in place. */
static char *
ar_trim(char *s, size_t *n)
{
    while (*n > 0 && (s[*n - 1] == '\r' || ar_blank((unsigned char)s[*n - 1])))
        (*n)--;
    while (*n > 0 && ar_blank((unsigned char)*s))
        s++, (*n)--;
    s[*n] = '\0';
    return s;
}

/* --- reading --------------------------------------------------------------------- */

struct ar_parse {
    struct lm_policy *p;
    struct lm_diags  *d;
    struct lm_seen    nets;     /* [LocalNets] keys, as "netN" with N canonical */
    struct lm_seen    doms;     /* ARdomain.dat entries */
    struct lm_seen    sections; /* unknown sections already reported */
};

static void ar_diag(struct ar_parse *x, enum lm_sev sev, int code, const struct lm_pos *pos,
                    const char *fmt, ...) LM_PRINTF(5, 6);

static void
ar_diag(struct ar_parse *x, enum lm_sev sev, int code, const struct lm_pos *pos,
        const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lm_diag_add(x->d, sev, code, pos, "%s", msg);
}

/* One ARDEF-1 network: a.b.c.d[/len], or a.b.c.d/m.m.m.m and a.b.c.d;m.m.m.m
 * with a contiguous mask; host bits zero.  Adds a relaying rule. */
static int
ar_net(struct ar_parse *x, char *t, size_t n, const struct lm_pos *pos)
{
    struct lm_rule r;
    struct lm_ipnet cn;

    memset(&r, 0, sizeof r);
    if (lm_iprange_parse(t, n, LM_IPF_V4 | LM_IPF_CIDR | LM_IPF_MASK, &r.net.range, x->d,
                         pos) != 0)
        return -1;
    r.kind = LM_K_NET;
    r.stage = LM_S_CONNECT;
    r.action = LM_A_RELAY;
    r.pos = *pos;
    r.net.form = LM_NF_CIDR;
    r.net.prefix = lm_iprange_to_net(&r.net.range, &cn) == 0 ? cn.prefix : 32;
    return lm_policy_add(x->p, &r, x->d) != NULL ? 0 : -1;
}

/* One ARdomain.dat line: "example.com" that domain, ".example.com" the
 * names below it (qmail rcpthosts' matching). */
static int
ar_domain(struct ar_parse *x, char *t, size_t n, const struct lm_pos *pos)
{
    enum lm_kind k = LM_K_NAME;
    unsigned long first = 0;
    char q[LM_QUOTE_BUF];
    size_t i;

    lm_quote(q, t, n, LM_QUOTE_MAX);
    lm_fold(t, n);
    if (lm_seen_add(&x->doms, t, pos->line, &first) != 0)
        return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
    if (t[0] == '.') {
        k = LM_K_BELOW;
        t++;
        n--;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              (c == '.' && i > 0 && t[i - 1] != '.')))
            break;
    }
    if (n == 0 || i < n || t[n - 1] == '.') {
        ar_diag(x, LM_ERROR, LM_E_SYNTAX, pos, "\"%s\" is not a domain name (want "
                "example.com, or .example.com for the names below it)", q);
        return -1;
    }
    if (first != 0) {
        ar_diag(x, LM_WARNING, LM_E_DUPLICATE, pos, "domain \"%s\" is listed twice (first "
                "at line %lu)", q, first);
        return 0;
    }
    return lm_policy_add_domain(x->p, t, k, pos, x->d) < 0 ? -1 : 0;
}

/* A file name an [AntiRelay] key may give: a name in the directory of
 * antirelay.ini, nothing more. */
static int
ar_filename_ok(const char *v)
{
    return *v != '\0' && strchr(v, '/') == NULL && strchr(v, '\\') == NULL &&
           strcmp(v, ".") != 0 && strcmp(v, "..") != 0 && strchr(v, ':') == NULL;
}

static int
ar_ini_line(struct ar_parse *x, char *t, size_t n, const struct lm_pos *pos, int *sec)
{
    char q[LM_QUOTE_BUF], *eq, *k, *v;
    size_t kl, vl, i;

    if (t[0] == '[') {
        unsigned long first = 0;
        if (t[n - 1] != ']') {
            ar_diag(x, LM_ERROR, LM_E_SYNTAX, pos, "section line \"%s\" does not end with "
                    "\"]\"", lm_quote(q, t, n, LM_QUOTE_MAX));
            return -1;
        }
        t[n - 1] = '\0';
        kl = n - 2;
        k = ar_trim(t + 1, &kl);
        if (lm_ieq(k, kl, "AntiRelay")) {
            *sec = 1;
        } else if (lm_ieq(k, kl, "LocalNets")) {
            *sec = 2;
        } else {
            *sec = 3;
            lm_quote(q, k, kl, LM_QUOTE_MAX);
            lm_fold(k, kl);     /* section names are case-insensitive */
            if (lm_seen_add(&x->sections, k, pos->line, &first) != 0)
                return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
            if (first == 0)
                ar_diag(x, LM_WARNING, LM_E_SYNTAX, pos, "section [%s] is not part of "
                        "ARDEF-1: ignored, and not kept by a conversion", q);
        }
        return 0;
    }
    if ((eq = memchr(t, '=', n)) == NULL) {
        ar_diag(x, LM_ERROR, LM_E_SYNTAX, pos, "\"%s\" is not a [section] or KEY=VALUE line",
                lm_quote(q, t, n, LM_QUOTE_MAX));
        return -1;
    }
    *eq = '\0';
    kl = (size_t)(eq - t);
    vl = n - kl - 1;
    k = ar_trim(t, &kl);
    v = ar_trim(eq + 1, &vl);
    if (*sec == 0) {
        ar_diag(x, LM_WARNING, LM_E_SYNTAX, pos, "key \"%s\" before any [section]: ignored",
                lm_quote(q, k, kl, LM_QUOTE_MAX));
        return 0;
    }
    if (*sec == 1) {
        for (i = 1; i < AR_NPARTS; i++)
            if (lm_ieq(k, kl, ar_filekeys[i]))
                break;
        if (i == AR_NPARTS) {
            ar_diag(x, LM_WARNING, LM_E_SYNTAX, pos, "key \"%s\" in [AntiRelay] is not part "
                    "of ARDEF-1: ignored", lm_quote(q, k, kl, LM_QUOTE_MAX));
        } else if (!ar_filename_ok(v)) {
            ar_diag(x, LM_ERROR, LM_E_SYNTAX, pos, "%s=\"%s\": want a file name in the "
                    "directory of antirelay.ini", ar_filekeys[i],
                    lm_quote(q, v, vl, LM_QUOTE_MAX));
            return -1;
        }
        return 0;
    }
    if (*sec == 2) {
        unsigned long num = 0, first = 0;
        char key[32];
        for (i = 3; i < kl && i < 12 && k[i] >= '0' && k[i] <= '9'; i++)
            num = num * 10 + (unsigned long)(k[i] - '0');
        if (kl < 4 || !lm_ieq(k, 3, "net") || i != kl || num == 0) {
            ar_diag(x, LM_WARNING, LM_E_SYNTAX, pos, "key \"%s\" in [LocalNets] is not netN "
                    "(N = 1, 2, ...): ignored", lm_quote(q, k, kl, LM_QUOTE_MAX));
            return 0;
        }
        snprintf(key, sizeof key, "net%lu", num);
        if (lm_seen_add(&x->nets, key, pos->line, &first) != 0)
            return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
        if (first != 0) {
            ar_diag(x, LM_ERROR, LM_E_DUPLICATE, pos, "duplicate key \"%s\" in [LocalNets] "
                    "(first at line %lu)", lm_quote(q, k, kl, LM_QUOTE_MAX), first);
            return -1;
        }
        return ar_net(x, v, vl, pos);
    }
    return 0;   /* a section ARDEF-1 does not define */
}

/* Which part a file is: by its name, else by its content (a [section] line:
 * antirelay.ini; a first entry that is a network: ARgoodIP.dat). */
static int
ar_which(const char *name, char **lines, size_t nl)
{
    const char *b = lm_path_base(name);
    size_t i;

    for (i = 0; i < AR_NPARTS; i++)
        if (lm_ieq(b, strlen(b), antirelay_outputs[i]))
            return (int)i;
    for (i = 0; i < nl; i++) {
        size_t n = strlen(lines[i]);
        char *t = ar_trim(lines[i], &n);
        struct lm_iprange rg;
        if (n == 0 || t[0] == ';' || t[0] == '#')
            continue;
        if (t[0] == '[')
            return AR_INI;
        if (lm_iprange_parse(t, n, LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR | LM_IPF_MASK |
                             LM_IPF_HOSTBITS, &rg, NULL, NULL) == 0 ||
            (t[0] >= '0' && t[0] <= '9' && strspn(t, "0123456789./;") == n))
            return AR_GOODIP;
        return AR_DOMAIN;
    }
    return AR_DOMAIN;
}

static int
antirelay_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    struct ar_parse x;
    struct lm_line ln;
    size_t errs0 = d->nerrors, nl = 0, cap = 0, i;
    char **lines = NULL;
    unsigned long *lno = NULL;
    const char *file, *nul;
    int rc, part, sec = 0;

    memset(&x, 0, sizeof x);
    x.p = out;
    x.d = d;
    out->order = &antirelay_order;
    if ((file = lm_policy_file(out, lm_source_name(in))) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    /* which file this is may show only in its content: keep the lines */
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        if (nl == cap) {
            size_t nc = cap ? 2 * cap : 64;
            char **nv = realloc(lines, nc * sizeof *nv);
            unsigned long *nn = nv ? realloc(lno, nc * sizeof *nn) : NULL;
            if (nv != NULL)
                lines = nv;
            if (nn == NULL) {
                rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
                break;
            }
            lno = nn;
            cap = nc;
        }
        if ((lines[nl] = malloc(ln.len + 1)) == NULL) {
            rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            break;
        }
        memcpy(lines[nl], ln.text, ln.len);
        lines[nl][ln.len] = '\0';
        if ((nul = memchr(ln.text, '\0', ln.len)) != NULL) {
            /* reported here, where the whole line is known; kept empty */
            struct lm_pos pos = { file, ln.pos.line, (unsigned)(nul - ln.text) + 1 };
            char q[LM_QUOTE_BUF];
            size_t n = ln.len - (ln.len > 0 && ln.text[ln.len - 1] == '\r');
            ar_diag(&x, LM_ERROR, LM_E_SYNTAX, &pos, "NUL byte in \"%s\": ARDEF-1 files are "
                    "plain ASCII", lm_quote(q, ln.text, n, LM_QUOTE_MAX));
            lines[nl][0] = '\0';
        }
        lno[nl++] = ln.pos.line;
    }
    part = ar_which(file, lines, nl);
    for (i = 0; i < nl && rc >= 0 && !lm_diags_full(d); i++) {
        struct lm_pos pos = { file, lno[i], 0 };
        size_t n = strlen(lines[i]), k;
        char *t = ar_trim(lines[i], &n);
        if (n == 0 || t[0] == ';' || t[0] == '#')
            continue;
        for (k = 0; k < n; k++)
            if ((unsigned char)t[k] < 0x20 && t[k] != '\t')
                break;
        if (k < n || memchr(t, 0x7f, n) != NULL) {
            char q[LM_QUOTE_BUF];
            ar_diag(&x, LM_ERROR, LM_E_SYNTAX, &pos, "a control byte in \"%s\": ARDEF-1 "
                    "files are plain ASCII", lm_quote(q, t, n, LM_QUOTE_MAX));
            continue;
        }
        if (part == AR_INI)
            ar_ini_line(&x, t, n, &pos, &sec);
        else if (part == AR_GOODIP)
            ar_net(&x, t, n, &pos);
        else
            ar_domain(&x, t, n, &pos);
    }
    for (i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    free(lno);
    lm_seen_fini(&x.nets);
    lm_seen_fini(&x.doms);
    lm_seen_fini(&x.sections);
    if (rc < 0)
        return -1;
    return d->nerrors > errs0 ? -1 : 0;
}

/* The file names antirelay.ini gives under [AntiRelay] (lm_codec.parts). */
static int
antirelay_parts(const char *path, const char *text, size_t len, char **names,
                unsigned long *lines, struct lm_diags *d)
{
    size_t i = 0, k;
    unsigned long line = 0;
    int sec = 0;

    (void)path;
    while (i < len) {
        const char *l = text + i, *e = memchr(l, '\n', len - i), *eq;
        size_t n = e ? (size_t)(e - l) : len - i, kl, vl;
        i += n + 1;
        line++;
        while (n > 0 && (l[n - 1] == '\r' || ar_blank((unsigned char)l[n - 1])))
            n--;
        while (n > 0 && ar_blank((unsigned char)*l))
            l++, n--;
        if (n == 0 || l[0] == ';' || l[0] == '#')
            continue;
        if (l[0] == '[') {
            sec = n >= 2 && lm_ieq(l + 1, n - 2, "AntiRelay") && l[n - 1] == ']';
            continue;
        }
        if (!sec || (eq = memchr(l, '=', n)) == NULL)
            continue;
        kl = (size_t)(eq - l);
        while (kl > 0 && ar_blank((unsigned char)l[kl - 1]))
            kl--;
        for (k = 1; k < AR_NPARTS; k++) {
            char *v;
            if (!lm_ieq(l, kl, ar_filekeys[k]))
                continue;
            eq++;
            vl = n - (size_t)(eq - l);
            while (vl > 0 && ar_blank((unsigned char)*eq))
                eq++, vl--;
            if ((v = malloc(vl + 1)) == NULL)
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            memcpy(v, eq, vl);
            v[vl] = '\0';
            if (!ar_filename_ok(v)) {
                free(v);    /* the parser reports it */
                continue;
            }
            free(names[k]);
            names[k] = v;
            lines[k] = line;
        }
    }
    return 0;
}

static int
antirelay_detect(const char *name, const char *text, size_t len)
{
    const char *b = lm_path_base(name);
    size_t i = 0, k;

    for (k = 0; k < AR_NPARTS; k++)
        if (lm_ieq(b, strlen(b), antirelay_outputs[k]))
            return LM_DETECT_SURE;
    while (i < len) {
        const char *l = text + i, *e = memchr(l, '\n', len - i);
        size_t n = e ? (size_t)(e - l) : len - i;
        i += n + 1;
        while (n > 0 && (l[n - 1] == '\r' || ar_blank((unsigned char)l[n - 1])))
            n--;
        while (n > 0 && ar_blank((unsigned char)*l))
            l++, n--;
        if ((n == 11 && lm_ieq(l, 11, "[LocalNets]")) ||
            (n == 11 && lm_ieq(l, 11, "[AntiRelay]")))
            return LM_DETECT_SURE;
        if (n > 0 && l[0] == ';') {
            for (k = 0; k + 10 <= n; k++)
                if (memcmp(l + k, "(ARDEF-1)", 9) == 0)
                    return LM_DETECT_SURE;
        }
    }
    return LM_DETECT_NO;
}

/* --- writing ------------------------------------------------------------------------- */

struct ar_emit {
    const struct lm_policy *p;
    struct lm_losses       *lost;
    struct lm_diags        *d;
    int                     fail, anyrelay;
};

static void
ar_loss(struct ar_emit *e, enum lm_loss_kind k, int widens, const struct lm_rule *r,
        const struct lm_pos *pos, const char *why)
{
    if (lm_loss_add(e->lost, k, widens, r, pos, e->d, "%s", why) != 0)
        e->fail = 1;
}

static void
ar_rule_losses(struct ar_emit *e)
{
    const struct lm_policy *p = e->p;
    size_t i, k;

    for (i = 0; i < p->nrules && !e->fail; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (r->kind == LM_K_NEVER)
            continue;
        if (r->info != NULL) {
            ar_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(e->p, r, LM_S_CONNECT), r, NULL,
                    "ARDEF-1 has no ident (RFC 1413) rules; rule dropped");
            continue;
        }
        for (k = 0; k < r->nenv; k++)
            if (strcmp(r->env[k].name, "RELAYCLIENT") != 0) {
                ar_loss(e, LM_LOSS_CHANGED, 0, r, NULL, "ARDEF-1 has no per-client "
                        "settings; the variables are dropped");
                break;
            }
        if (r->stage & LM_S_CONNECT) {
            switch (r->kind) {
            case LM_K_NET:
                if (r->net.range.lo.family != LM_IPV4)
                    ar_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(e->p, r, LM_S_CONNECT), r, NULL,
                            "ARDEF-1 networks are IPv4 only; rule dropped");
                else if (lm_action_stops(r->action))
                    ar_loss(e, LM_LOSS_CHANGED, 1, r, NULL, "ARDEF-1 has no deny list: "
                            "the client is left out of the relaying networks, but its mail "
                            "for our domains is accepted");
                break;
            case LM_K_SERVER: case LM_K_AUTH:
                if (r->action == LM_A_SKIP || (r->action == LM_A_OK && !e->anyrelay) ||
                    (r->action == LM_A_RELAY && e->anyrelay))
                    break;
                ar_loss(e, LM_LOSS_DROPPED, r->action != LM_A_RELAY, r, NULL,
                        r->kind == LM_K_AUTH ? "ARDEF-1 has no rule for authenticated "
                                               "clients; rule dropped"
                                             : "ARDEF-1 has no rule for the server address "
                                               "a client reached; rule dropped");
                break;
            case LM_K_ANY:
                if (lm_action_stops(r->action))
                    ar_loss(e, LM_LOSS_DROPPED, 1, r, NULL, "ARDEF-1 cannot refuse every "
                            "client; rule dropped");
                else if (r->action == LM_A_RELAY && e->anyrelay)
                    ar_loss(e, LM_LOSS_NARROWED, 0, r, NULL, "ARDEF-1 networks are IPv4 "
                            "only: written as 0.0.0.0/0, it lets no IPv6 client relay");
                break;
            case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW: case LM_K_ANYHOST:
                if (r->action != LM_A_SKIP)
                    ar_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(e->p, r, LM_S_CONNECT), r, NULL,
                            "ARDEF-1 has no host-name rules; rule dropped");
                break;
            default:
                break;
            }
        }
        if (r->kind == LM_K_NET || r->kind == LM_K_SERVER || r->kind == LM_K_AUTH ||
            r->kind == LM_K_ANYHOST)
            continue;
        if ((r->stage & LM_S_FROM) && p->order->sender != LM_SENDER_NONE &&
            (lm_action_stops(r->action) || lm_sender_relay_grants(p, r)))
            ar_loss(e, LM_LOSS_DROPPED, lm_action_stops(r->action), r, NULL,
                    "ARDEF-1 has no sender rules; the sender part is dropped");
        if ((r->stage & LM_S_TO) && p->order->rcpt_rules &&
            (lm_action_stops(r->action) ||
             (r->action == LM_A_RELAY && r->kind != LM_K_NAME && r->kind != LM_K_TREE &&
              r->kind != LM_K_BELOW)))
            ar_loss(e, LM_LOSS_DROPPED, lm_action_stops(r->action), r, NULL,
                    "ARDEF-1 has no recipient rules other than ARdomain.dat domains; the "
                    "recipient part is dropped");
    }
    for (i = 0; i < p->nlocals && !e->fail; i++)
        ar_loss(e, LM_LOSS_DROPPED, 0, NULL, &p->locals[i].pos, "ARDEF-1 has no list of the "
                "server's own addresses (mail to user@[address])");
}

/* Private and loopback networks go to [LocalNets], the rest to ARgoodIP.dat. */
static int
ar_is_local(const struct lm_ipnet *n)
{
    static const struct { unsigned char a, b; unsigned prefix; } loc[] = {
        { 10, 0, 8 }, { 127, 0, 8 }, { 172, 16, 12 }, { 192, 168, 16 }, { 169, 254, 16 },
    };
    size_t i;

    for (i = 0; i < sizeof loc / sizeof loc[0]; i++) {
        struct lm_ipaddr a;
        struct lm_ipnet ln;
        lm_ipaddr_v4(&a, loc[i].a, loc[i].b, 0, 0);
        lm_ipnet_make(&ln, &a, loc[i].prefix);
        if (n->prefix >= ln.prefix && lm_ipnet_contains(&ln, &n->addr))
            return 1;
    }
    return 0;
}

/* The domains for ARdomain.dat, once each. */
static void
ar_put_domain(FILE *f, struct lm_seen *seen, const char *dot, const char *name, int *fail)
{
    unsigned long first = 0;
    char *k = malloc(strlen(name) + 2);

    if (k == NULL) {
        *fail = 1;
        return;
    }
    sprintf(k, "%s%s", dot, name);
    if (lm_seen_add(seen, k, 1, &first) != 0)
        *fail = 1;
    else if (first == 0)
        fprintf(f, "%s\r\n", k);
    free(k);
}

static int
antirelay_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
               struct lm_losses *lost, struct lm_diags *d)
{
    struct ar_emit e;
    struct lm_cover_iv *iv = NULL;
    struct lm_ipset relay;
    struct lm_ipnet *cv = NULL;
    struct lm_seen seen;
    size_t niv = 0, ncv = 0, i, nnet = 0;
    const struct lm_rule *any = NULL;
    char nb[2 * LM_IPADDR_BUF];
    int rc = -1;

    (void)opts;     /* the format has no settings */

    memset(&e, 0, sizeof e);
    memset(&seen, 0, sizeof seen);
    e.p = in;
    e.lost = lost;
    e.d = d;
    lm_ipset_init(&relay);
    for (i = 0; i < in->nrules && any == NULL; i++)
        if (in->rules[i].kind == LM_K_ANY && (in->rules[i].stage & LM_S_CONNECT) &&
            in->rules[i].action != LM_A_SKIP)
            any = &in->rules[i];
    e.anyrelay = any != NULL && any->action == LM_A_RELAY;
    ar_rule_losses(&e);
    /* The addresses that relay: the networks' own, in the source's order,
     * and with an ANY that relays every address no network rule holds. */
    if (e.fail || lm_emit_paint(in, LM_IPV4, &iv, &niv, d) != 0)
        goto out;
    for (i = 0; i < niv; i++) {
        struct lm_iprange rg = { iv[i].lo, iv[i].hi };
        const struct lm_rule *r = iv[i].val ? &in->rules[iv[i].val - 1] : NULL;
        int none = r == NULL || r->action == LM_A_SKIP;
        if ((none && e.anyrelay) || (!none && r->action == LM_A_RELAY)) {
            if (lm_ipset_add_range(&relay, &rg, d) != 0)
                goto out;
        } else if (lm_policy_loopback_relays(in) && (none || r->action == LM_A_OK)) {
            /* the source's server lets its loopback client relay by itself */
            struct lm_ipaddr lb;
            lm_ipaddr_v4(&lb, 127, 0, 0, 1);
            if (lm_ipaddr_cmp(&rg.lo, &lb) <= 0 && lm_ipaddr_cmp(&rg.hi, &lb) >= 0 &&
                lm_ipset_add_addr(&relay, &lb, d) != 0)
                goto out;
        }
    }
    if (lm_ipset_cover_cidr(&relay, &cv, &ncv, d) != 0)
        goto out;
    /* items keep the order of the relaying rules written as exactly one
     * item (a file read back keeps its order), the rest address order */
    if (lm_emit_order_nets(in, LM_K_NET, 1, cv, ncv, d) != 0)
        goto out;

    fputs("; AntiRelay settings (ARDEF-1)\r\n[AntiRelay]\r\nGoodIPFile=ARgoodIP.dat\r\n"
          "DomainFile=ARdomain.dat\r\n\r\n[LocalNets]\r\n", out[AR_INI]);
    fputs("; ARgoodIP.dat (ARDEF-1)\r\n", out[AR_GOODIP]);
    for (i = 0; i < ncv; i++) {
        if (ar_is_local(&cv[i]))
            fprintf(out[AR_INI], "net%zu=%s\r\n", ++nnet,
                    lm_ipnet_format(&cv[i], LM_FMT_CIDR_LEN, nb));
        else
            fprintf(out[AR_GOODIP], "%s\r\n", lm_ipnet_format(&cv[i], LM_FMT_CIDR, nb));
    }
    fputs("; ARdomain.dat (ARDEF-1)\r\n", out[AR_DOMAIN]);
    for (i = 0; i < in->ndomains && !e.fail; i++) {
        const struct lm_domain *dm = &in->domains[i];
        if (dm->kind != LM_K_BELOW)
            ar_put_domain(out[AR_DOMAIN], &seen, "", dm->name, &e.fail);
        if (dm->kind != LM_K_NAME)
            ar_put_domain(out[AR_DOMAIN], &seen, ".", dm->name, &e.fail);
    }
    for (i = 0; i < in->nrules && !e.fail && in->order->rcpt_rules; i++) {
        const struct lm_rule *r = &in->rules[i];
        if (!(r->stage & LM_S_TO) || r->action != LM_A_RELAY ||
            (r->kind != LM_K_NAME && r->kind != LM_K_TREE && r->kind != LM_K_BELOW))
            continue;
        if (r->kind != LM_K_BELOW)
            ar_put_domain(out[AR_DOMAIN], &seen, "", r->pattern, &e.fail);
        if (r->kind != LM_K_NAME)
            ar_put_domain(out[AR_DOMAIN], &seen, ".", r->pattern, &e.fail);
    }
    rc = e.fail ? -1 : 0;
out:
    free(iv);
    free(cv);
    lm_ipset_fini(&relay);
    lm_seen_fini(&seen);
    if (rc != 0 && d->nerrors == 0)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory while writing ARDEF-1");
    return rc;
}

const struct lm_codec lm_codec_antirelay = {
    .name = "antirelay",
    .description = "EMWAC IMS AntiRelay (ARDEF-1): antirelay.ini [LocalNets], ARgoodIP.dat, "
                   "ARdomain.dat",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &antirelay_order,
    .outputs = antirelay_outputs,
    .detect = antirelay_detect,
    .parse = antirelay_parse,
    .emit = antirelay_emit,
    .parts = antirelay_parts,
};
