/*
 * qmail.c - the qmail codecs: tcpserver's rules text (tcp.smtp, as tcprules
 * reads it), control/rcpthosts and control/badmailfrom, read into the
 * policy model and written back as those three files; "qmail" for the
 * IPv4 build of tcpserver, "qmail6" for the IPv6 build (ucspi-tcp-ipv6),
 * one server and one lookup order.
 *
 * tcp.smtp is read by the one grammar of tcprules.c in its lenient mode
 * (LM_TR_LENIENT): what tcprules refuses is an error, a key tcpserver
 * never looks up becomes LM_K_NEVER with a warning, and lm_tcprules_subject
 * says what every other stored key matches.  allow with RELAYCLIENT set is
 * relay.  Writing covers networks with prefixes and last-octet ranges
 * (IPv4) or whole-group keys in tcpserver's text (IPv6) nested the way
 * tcpserver's longest-key-first lookup reads them, and reports every rule
 * qmail cannot carry (sender rules other than exact refusals, reply texts,
 * IPv6 for the IPv4 build...).  badmailfrom holds the sender refusals
 * qmail-smtpd can make: a whole address or "@domain", exact, case folded.
 * Grammar and mapping: relaymap-formats(5).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/emit.h"
#include "libmap/util.h"
#include "libmap/ipset.h"
#include "libmap/policy.h"
#include "libmap/tcprules.h"

/* tcpserver's rules, then qmail-smtpd's badmailfrom and rcpthosts
 * (reference tcprules.md section 3, qmail-rcpthosts.md). */
static const struct lm_order qmail_order = {
    .name = "qmail",
    .connect = LM_CONNECT_EXACT_FIRST,
    .nets = LM_NET_NARROWEST,
    .sender = LM_SENDER_EXACT,
    .sender_relay = LM_SENDER_RELAY_NEVER,
    .rcpt_rules = 0,
    .loopback_relays = 0,
    .refused = "recipient domain not in rcpthosts",
};

/* A cover of the networks may have this many keys per network rule, plus a
 * fixed allowance; beyond that (a runaway split of ranges) the emitter
 * reports a loss instead of writing it.  Relative to the input, so large
 * policies still convert. */
#define QMAIL_KEYS_PER_RULE 16
#define QMAIL_KEYS_EXTRA    65536

/* --- reading tcp.smtp -------------------------------------------------------------- */

struct qmail_parse {
    unsigned          trflags;   /* LM_TR_V6 for qmail6 */
    struct lm_policy *p;
    struct lm_diags  *d;
    struct lm_seen seen;     /* tcp.smtp keys */
    struct lm_seen rseen;    /* rcpthosts entries */
    struct lm_seen bseen;    /* badmailfrom entries */
};

/* A host name as tcpserver would give it: lower case, no blanks. */
static int
qmail_host_ok(const char *s, size_t n, int *upper)
{
    size_t i;

    *upper = 0;
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c))
            *upper = 1;
        else if (!isalnum(c) && c != '-' && c != '.' && c != '_')
            return 0;
    }
    return !*upper;
}

static int
qmail_add(struct qmail_parse *qp, struct lm_rule *r, const char *key)
{
    unsigned long first = 0;
    char q[LM_QUOTE_BUF];

    if (lm_seen_add(&qp->seen, key, r->pos.line, &first) != 0)
        return lm_diag_add(qp->d, LM_ERROR, LM_E_NOMEM, &r->pos, "out of memory");
    if (first != 0)
        lm_diag_add(qp->d, LM_WARNING, LM_E_DUPLICATE, &r->pos,
                    "duplicate key \"%s\" (first defined at line %lu): tcpserver uses the "
                    "first", lm_quote(q, key, strlen(key), LM_QUOTE_MAX), first);
    return lm_policy_add(qp->p, r, qp->d) == NULL ? -1 : 0;
}

/* One stored key (NUL-terminated) as the subject of rule c.  -1 after an
 * error: a key whose addresses relayconv cannot tell. */
static int
qmail_subject(struct qmail_parse *qp, char *key, size_t klen, int never, struct lm_rule *c)
{
    struct lm_tcprules_subject s;
    struct lm_ipnet net;
    const char *why = NULL;
    char q[LM_QUOTE_BUF];
    int upper = 0;

    c->info = NULL;
    c->pattern = NULL;
    memset(&c->net, 0, sizeof c->net);
    if (lm_tcprules_subject(key, klen, qp->trflags, &s, &why) < 0)
        return lm_diag_add(qp->d, LM_ERROR, LM_E_SYNTAX, &c->pos, "key \"%s\": %s",
                           lm_quote(q, key, klen, LM_QUOTE_MAX), why);
    if ((s.what == LM_TRW_HOST || s.what == LM_TRW_DOMAIN) && !never
        && !qmail_host_ok(s.name, s.nlen, &upper)) {
        s.what = LM_TRW_NEVER;
        why = "not a host name the policy model can hold";
    }
    if (s.info != NULL)
        key[s.ilen] = '\0';
    switch (never ? LM_TRW_NEVER : s.what) {
    case LM_TRW_ANY:
        c->kind = LM_K_ANY;
        break;
    case LM_TRW_ANYHOST:
        c->kind = LM_K_ANYHOST;
        break;
    case LM_TRW_HOST:
    case LM_TRW_DOMAIN:
        c->kind = s.what == LM_TRW_HOST ? LM_K_NAME : LM_K_BELOW;
        c->pattern = (char *)(uintptr_t)s.name;
        c->info = s.info != NULL ? key : NULL;
        break;
    case LM_TRW_NET:
        c->kind = LM_K_NET;
        c->net.range = s.net;
        c->net.prefix = lm_iprange_to_net(&s.net, &net) == 0 ? net.prefix : 0;
        c->net.form = s.prefix ? LM_NF_PREFIX : LM_NF_CIDR;
        c->info = s.info != NULL ? key : NULL;
        break;
    case LM_TRW_NEVER:
        if (s.info != NULL)
            key[s.ilen] = '@';
        if (!never)
            lm_diag_add(qp->d, LM_WARNING, LM_E_SYNTAX, &c->pos, "key \"%s\" can never match: "
                        "%s", lm_quote(q, key, klen, LM_QUOTE_MAX), why);
        c->kind = LM_K_NEVER;
        c->pattern = key;
        break;
    }
    return 0;
}

/* One tcp.smtp line, read by the grammar of tcprules.c in its lenient mode. */
static int
qmail_rule_line(struct qmail_parse *qp, struct lm_line *ln)
{
    struct lm_diags *d = qp->d;
    struct lm_tcprules_rule tr;
    struct lm_tcprules_item it;
    struct lm_rule r;
    struct lm_kv *env = NULL;
    size_t nenv = 0, off = 0, klen, blen = LM_TCPRULES_BUF(ln->len) + ln->len + 32;
    char *buf, *key;
    unsigned long n;
    int rc;

    if ((buf = malloc(blen)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &ln->pos, "out of memory");
    rc = lm_tcprules_parse(ln->text, ln->len, &ln->pos, qp->trflags | LM_TR_LENIENT, buf, &tr, d);
    if (rc != 0) {
        free(buf);
        return rc < 0 ? -1 : 0;
    }
    if ((env = calloc(tr.dlen / 2 + 1, sizeof *env)) == NULL) {
        free(buf);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &ln->pos, "out of memory");
    }
    memset(&r, 0, sizeof r);
    r.stage = LM_S_CONNECT;
    r.pos = ln->pos;
    r.action = tr.deny ? LM_A_DENY : LM_A_OK;
    /* items are "+NAME=VALUE\0": cut each at its first '=' (buf is ours) */
    while (lm_tcprules_item_next(tr.data, tr.dlen, &off, &it) == 0) {
        if (it.kind != LM_TRI_SET)
            continue;
        tr.data[it.name + it.nlen - tr.data] = '\0';
        env[nenv].name = tr.data + (it.name - tr.data);
        env[nenv].value = tr.data + (it.value - tr.data);
        if (!tr.deny && strcmp(env[nenv].name, "RELAYCLIENT") == 0)
            r.action = LM_A_RELAY;
        nenv++;
    }
    r.env = env;
    r.nenv = nenv;
    if (tr.range) {
        /* the keys follow the parser's buffers; only the number and the
         * suffix change */
        key = buf + LM_TCPRULES_BUF(ln->len);
        memmove(key, tr.key, tr.klen);
        tr.key = key;
    } else {
        key = tr.key;
    }
    rc = 0;
    for (n = tr.range ? tr.lo : 0; n <= (tr.range ? tr.hi : 0) && rc == 0; n++) {
        struct lm_rule c = r;
        char *k;
        klen = lm_tcprules_key(&tr, n, key);
        if ((k = malloc(klen + 1)) == NULL) {
            rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &ln->pos, "out of memory");
            break;
        }
        memcpy(k, key, klen);
        k[klen] = '\0';
        if (qmail_subject(qp, k, klen, tr.never, &c) == 0) {
            char *full = NULL;
            if (c.info != NULL && (full = malloc(klen + 1)) != NULL) {
                memcpy(full, key, klen);
                full[klen] = '\0';
            }
            rc = c.info != NULL && full == NULL
                 ? lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &ln->pos, "out of memory")
                 : qmail_add(qp, &c, full != NULL ? full : k);
            free(full);
        } else {
            rc = -1;
        }
        free(k);
    }
    free(env);
    free(buf);
    return rc;
}

/* --- reading rcpthosts ----------------------------------------------------------- */

static int
qmail_rcpt_line(struct qmail_parse *qp, struct lm_line *ln)
{
    struct lm_pos pos = ln->pos;
    char q[LM_QUOTE_BUF];
    char *t = ln->text;
    size_t n = ln->len, i;
    int upper, rc;
    enum lm_kind kind = LM_K_NAME;
    const char *why;

    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    t[n] = '\0';
    if (n == 0 || t[0] == '#')
        return 0;
    for (i = 0; i < n; i++)
        t[i] = (char)tolower((unsigned char)t[i]);
    if (t[0] == '.') {
        kind = LM_K_BELOW;
        t++;
        n--;
    }
    if ((why = lm_rcpthosts_why(t, n)) != NULL)
        /* qmail would list it; what the administrator meant cannot be told */
        return lm_diag_add(qp->d, LM_ERROR, LM_E_SYNTAX, &pos, "rcpthosts entry \"%s\" is no "
                           "domain name: %s", lm_quote(q, ln->text, ln->len, LM_QUOTE_MAX), why);
    if (!qmail_host_ok(t, n, &upper)) {
        lm_diag_add(qp->d, LM_WARNING, LM_E_SYNTAX, &pos,
                    "rcpthosts entry \"%s\" can never match a recipient domain%s; ignored",
                    lm_quote(q, ln->text, ln->len, LM_QUOTE_MAX),
                    memchr(ln->text, '\r', ln->len) ? " (carriage return)" :
                    (ln->text[0] == ' ' || ln->text[0] == '\t') ? " (leading blank)" : "");
        return 0;
    }
    {
        unsigned long first = 0;
        if (lm_seen_add(&qp->rseen, kind == LM_K_BELOW ? t - 1 : t, pos.line, &first) != 0)
            return lm_diag_add(qp->d, LM_ERROR, LM_E_NOMEM, &pos, "out of memory");
        if (first != 0)
            return lm_diag_add(qp->d, LM_WARNING, LM_E_DUPLICATE, &pos,
                               "rcpthosts entry \"%s\" is listed twice (first at line %lu)",
                               lm_quote(q, ln->text, n + (kind == LM_K_BELOW), LM_QUOTE_MAX),
                               first);
    }
    rc = lm_policy_add_domain(qp->p, t, kind, &pos, qp->d);
    return rc < 0 ? -1 : 0;
}

/* --- reading badmailfrom --------------------------------------------------------- */

/* Why a badmailfrom line can never refuse a sender qmail-smtpd parses, or
 * NULL when it can: a whole address "user@domain" or "@domain". */
static const char *
qmail_bmf_why(const char *t, size_t n)
{
    const char *at = memchr(t, '@', n);
    size_t i;

    for (i = 0; i < n; i++)
        if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] == 0x7f)
            return "a blank or control byte in it";
    if (at == NULL)
        return "no \"@\" (it would match only a sender written without a domain)";
    if (at + 1 == t + n)
        return "nothing after \"@\" (qmail has no \"user@\" entries)";
    return NULL;
}

static int
qmail_bmf_line(struct qmail_parse *qp, struct lm_line *ln)
{
    struct lm_pos pos = ln->pos;
    char q[LM_QUOTE_BUF];
    char *t = ln->text;
    size_t n = ln->len, i;
    const char *why;
    struct lm_rule r;
    unsigned long first = 0;
    int rc;

    /* control files lose trailing blanks; empty and '#' lines are skipped */
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    t[n] = '\0';
    if (n == 0 || t[0] == '#')
        return 0;
    for (i = 0; i < n; i++)
        t[i] = (char)tolower((unsigned char)t[i]);
    memset(&r, 0, sizeof r);
    r.stage = LM_S_FROM;
    r.action = LM_A_REJECT;
    r.pos = pos;
    if ((why = qmail_bmf_why(t, n)) != NULL) {
        lm_diag_add(qp->d, LM_WARNING, LM_E_SYNTAX, &pos,
                    "badmailfrom entry \"%s\" can never refuse a sender: %s",
                    lm_quote(q, t, n, LM_QUOTE_MAX), why);
        r.kind = LM_K_NEVER;
        r.pattern = t;
    } else if (t[0] == '@') {
        r.kind = LM_K_NAME;     /* the domain exactly, no subdomains */
        r.pattern = t + 1;
    } else {
        r.kind = LM_K_ADDR;
        r.pattern = t;
    }
    if (lm_seen_add(&qp->bseen, t, pos.line, &first) != 0)
        return lm_diag_add(qp->d, LM_ERROR, LM_E_NOMEM, &pos, "out of memory");
    if (first != 0) {
        lm_diag_add(qp->d, LM_WARNING, LM_E_DUPLICATE, &pos,
                    "badmailfrom entry \"%s\" is listed twice (first at line %lu)",
                    lm_quote(q, t, n, LM_QUOTE_MAX), first);
        return 0;
    }
    rc = lm_policy_add(qp->p, &r, qp->d) == NULL ? -1 : 0;
    return rc;
}

/* --- parse and detect ------------------------------------------------------------- */

static int
qmail_is_rcpthosts_name(const char *b)
{
    return strcmp(b, "rcpthosts") == 0 || strcmp(b, "morercpthosts") == 0;
}

/* Does a line (not blank, not a comment) look like badmailfrom: an '@'
 * and no colon? */
static int
qmail_bmf_like(const char *l, size_t n)
{
    return memchr(l, '@', n) != NULL && memchr(l, ':', n) == NULL;
}

static int
qmail_parse_build(struct lm_source *in, struct lm_policy *out, struct lm_diags *d,
                  unsigned trflags)
{
    struct qmail_parse qp;
    struct lm_line ln;
    const char *b = lm_path_base(lm_source_name(in));
    size_t errs0 = d->nerrors, i;
    int rc, rules = -1;     /* 1 tcp.smtp, 0 rcpthosts, 2 badmailfrom */
    size_t nbmf = 0, nother = 0;

    lm_source_keep_bom(in);     /* qmail and tcprules read it as a key's bytes */
    struct {
        char *text;
        size_t len;
        struct lm_pos pos;
    } *lines = NULL;
    size_t nl = 0, cap = 0;

    memset(&qp, 0, sizeof qp);
    qp.trflags = trflags;
    qp.p = out;
    qp.d = d;
    out->order = &qmail_order;
    if (strcmp(b, "tcp.smtp") == 0)
        rules = 1;
    else if (qmail_is_rcpthosts_name(b))
        rules = 0;
    else if (strcmp(b, "badmailfrom") == 0)
        rules = 2;
    /* Which file this is may only show in its content: keep the lines. */
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        if (nl == cap) {
            size_t nc = cap ? 2 * cap : 64;
            void *nv = realloc(lines, nc * sizeof *lines);
            if (nv == NULL) {
                rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
                break;
            }
            lines = nv;
            cap = nc;
        }
        if ((lines[nl].text = malloc(ln.len + 1)) == NULL) {
            rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            break;
        }
        memcpy(lines[nl].text, ln.text, ln.len);
        lines[nl].text[ln.len] = '\0';
        lines[nl].len = ln.len;
        lines[nl].pos = ln.pos;
        nl++;
        if (rules < 0 && ln.len > 0 && ln.text[0] != '#' && memchr(ln.text, ':', ln.len))
            rules = 1;
        if (ln.len > 0 && ln.text[0] != '#') {
            if (qmail_bmf_like(ln.text, ln.len))
                nbmf++;
            else
                nother++;
        }
    }
    /* by content: badmailfrom when every entry holds an '@' */
    if (rules < 0)
        rules = nbmf > 0 && nother == 0 ? 2 : 0;
    for (i = 0; i < nl && rc >= 0; i++) {
        struct lm_line l2;
        l2.text = lines[i].text;
        l2.len = lines[i].len;
        l2.pos = lines[i].pos;
        l2.last = 0;
        if (lm_diags_full(d))
            break;
        if (rules == 1)
            qmail_rule_line(&qp, &l2);
        else if (rules == 2)
            qmail_bmf_line(&qp, &l2);
        else
            qmail_rcpt_line(&qp, &l2);
    }
    for (i = 0; i < nl; i++)
        free(lines[i].text);
    free(lines);
    lm_seen_fini(&qp.seen);
    lm_seen_fini(&qp.rseen);
    lm_seen_fini(&qp.bseen);
    if (rc < 0)
        return -1;
    return d->nerrors > errs0 ? -1 : 0;
}

/* Where a tcp.smtp line's address ends: its first colon, or in the IPv6
 * build the first one followed by the verb. */
static const char *
qmail_colon(const char *l, size_t n, int v6)
{
    const char *c = memchr(l, ':', n);

    for (; v6 && c != NULL; c = memchr(c + 1, ':', n - (size_t)(c + 1 - l))) {
        size_t rest = n - (size_t)(c + 1 - l);
        if ((rest >= 5 && memcmp(c + 1, "allow", 5) == 0) ||
            (rest >= 4 && memcmp(c + 1, "deny", 4) == 0))
            return c;
    }
    return v6 ? memchr(l, ':', n) : c;
}

static int
qmail_detect_build(const char *name, const char *text, size_t len, int v6, size_t *nsix)
{
    const char *b = lm_path_base(name);
    size_t i = 0, rules = 0, bad = 0, names = 0, bmf = 0, six = 0;

    while (i < len) {
        const char *l = text + i, *e = memchr(l, '\n', len - i), *c;
        size_t n = e ? (size_t)(e - l) : len - i;
        i += n + 1;
        while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t'))
            n--;
        if (n == 0 || l[0] == '#')
            continue;
        if ((c = qmail_colon(l, n, v6)) != NULL) {
            size_t rest = n - (size_t)(c - l) - 1;
            if ((rest >= 5 && memcmp(c + 1, "allow", 5) == 0 &&
                 (rest == 5 || c[6] == ',')) ||
                (rest >= 4 && memcmp(c + 1, "deny", 4) == 0 && (rest == 4 || c[5] == ','))) {
                rules++;
                six += memchr(l, ':', (size_t)(c - l)) != NULL;
            } else {
                bad++;
            }
        } else {
            size_t j;
            for (j = 0; j < n; j++)
                if (!isalnum((unsigned char)l[j]) && l[j] != '.' && l[j] != '-' && l[j] != '_')
                    break;
            if (j == n)
                names++;
            else if (qmail_bmf_like(l, n))
                bmf++;
            else
                bad++;
        }
    }
    *nsix = six;
    if (bmf > 0 && rules == 0 && names == 0 && bad == 0)
        return strcmp(b, "badmailfrom") == 0 ? LM_DETECT_SURE : LM_DETECT_LIKELY;
    if (strcmp(b, "badmailfrom") == 0 && rules == 0 && bad == 0)
        return LM_DETECT_SURE;
    bad += bmf;
    if (rules > 0 && bad == 0)
        return LM_DETECT_SURE;
    if (rules > 0 && bad <= rules / 4)
        return LM_DETECT_LIKELY;
    if (rules == 0 && names > 0 && bad == 0)
        return (strcmp(b, "rcpthosts") == 0 || strcmp(b, "morercpthosts") == 0)
               ? LM_DETECT_SURE : LM_DETECT_LIKELY;
    if (strcmp(b, "tcp.smtp") == 0 && rules > 0)
        return LM_DETECT_MAYBE;
    return LM_DETECT_NO;
}

/* --- writing ------------------------------------------------------------------------ */

struct qmail_emit {
    const struct lm_policy *p;
    FILE                   *f, *rf, *bf;
    struct lm_losses       *lost;
    struct lm_diags        *d;
    char                  **val;        /* rendered "allow,..." / "deny"; [0] = "" (nothing) */
    size_t                  nval, capval;
    int                     fallthrough;    /* a "nothing" key had to be written */
    int                     exact;          /* single addresses must stay exact keys */
    int                     v4;             /* a key for a non-exact value at depth 4 */
    int                     v6;             /* qmail6: IPv6 keys of the IPv6 build */
    struct lm_seen       seen, rseen, bseen;
    int                     fail;
};

static int
qmail_loss(struct qmail_emit *e, enum lm_loss_kind k, int widens, const struct lm_rule *r,
           const struct lm_pos *pos, const char *why)
{
    if (lm_loss_add(e->lost, k, widens, r, pos, e->d, "%s", why) != 0) {
        e->fail = 1;
        return -1;
    }
    return 0;
}

/* What a rule says after the colon, malloc'd; NULL for "nothing" (SKIP, or
 * OK from a Sendmail policy, where an address OK and no entry are the same)
 * and with e->fail on no memory.  *alt collects what had to change:
 * 1 reply text dropped, 2 discard written as deny, 4 a variable that cannot
 * be written, 8 RELAYCLIENT on a rule that does not relay. */
static char *
qmail_rhs(const struct lm_policy *p, const struct lm_rule *r, unsigned *alt, int *fail)
{
    static const char delims[] = "\"'/|%!^~+*;#";
    size_t n = 64, i;
    char *s, *o;
    int relay = r->action == LM_A_RELAY, has_rc = 0;

    *alt = 0;
    if (r->action == LM_A_SKIP || (r->action == LM_A_OK && p->order->connect == LM_CONNECT_NAMES_FIRST &&
                                   r->kind == LM_K_NET && r->nenv == 0))
        return NULL;
    for (i = 0; i < r->nenv; i++)
        n += strlen(r->env[i].name) + strlen(r->env[i].value) + 4;
    if ((s = malloc(n)) == NULL) {
        *fail = 1;
        return NULL;
    }
    o = s;
    if (lm_action_stops(r->action)) {
        o += sprintf(o, "deny");
        if (r->action == LM_A_ERROR && (r->text != NULL || r->code != 0))
            *alt |= 1;
        if (r->action == LM_A_REJECT && r->text != NULL)
            *alt |= 1;
        if (r->action == LM_A_DISCARD)
            *alt |= 2;
    } else {
        o += sprintf(o, "allow");
    }
    for (i = 0; i < r->nenv; i++)
        if (strcmp(r->env[i].name, "RELAYCLIENT") == 0)
            has_rc = 1;
    if (relay && !has_rc)
        o += sprintf(o, ",RELAYCLIENT=\"\"");
    for (i = 0; i < r->nenv; i++) {
        const struct lm_kv *kv = &r->env[i];
        const char *dl;
        if (strcmp(kv->name, "RELAYCLIENT") == 0 && !relay && !lm_action_stops(r->action)) {
            *alt |= 8;
            continue;
        }
        for (dl = delims; *dl && strchr(kv->value, *dl) != NULL; dl++)
            ;
        if (*dl == '\0' || strchr(kv->name, '=') != NULL || strchr(kv->name, '\n') != NULL ||
            strchr(kv->value, '\n') != NULL) {
            *alt |= 4;
            continue;
        }
        o += sprintf(o, ",%s=%c%s%c", kv->name, *dl, kv->value, *dl);
    }
    return s;
}

static size_t
qmail_valid(struct qmail_emit *e, char *v)
{
    size_t i;

    if (v == NULL)
        return 0;
    for (i = 1; i < e->nval; i++)
        if (strcmp(e->val[i], v) == 0) {
            free(v);
            return i;
        }
    if (e->nval == e->capval) {
        size_t nc = e->capval ? 2 * e->capval : 16;
        char **nv = realloc(e->val, nc * sizeof *nv);
        if (nv == NULL) {
            free(v);
            e->fail = 1;
            return 0;
        }
        e->val = nv;
        e->capval = nc;
    }
    e->val[e->nval] = v;
    return e->nval++;
}

/* Values of single-address rules start with this byte when host-name rules
 * exist: tcpserver looks an exact address up before "=host", a prefix after
 * it, so those values must stay exact keys. */
#define QMAIL_EXACT '\001'

static const char *
qmail_text(const char *v)
{
    return v[0] == QMAIL_EXACT ? v + 1 : v;
}

/* --- the nested cover: prefixes and runs, longest key first ------------------------
 * tcpserver looks a client up as a.b.c.d, a.b.c., a.b., a. (longest first):
 * the connect networks paint IPv4 into intervals (qmail_paint) and
 * lm_ipset_cover_nested writes prefixes and last-octet runs nested that
 * way. */

/* A connect network the target's tcp.smtp has keys for. */
static int
qmail_is_net(const struct qmail_emit *e, const struct lm_rule *r)
{
    return r->kind == LM_K_NET && (r->stage & LM_S_CONNECT) && r->info == NULL &&
           (r->net.range.lo.family == LM_IPV4 || e->v6);
}

/* 127.0.0.1 or ::1 */
static void
qmail_loopback(int family, struct lm_ipaddr *lb)
{
    if (family == LM_IPV4) {
        lm_ipaddr_v4(lb, 127, 0, 0, 1);
    } else {
        memset(lb, 0, sizeof *lb);
        lb->family = LM_IPV6;
        lb->b[15] = 1;
    }
}

/* The value a network rule is written with; a single address under
 * e->exact is marked as such. */
static size_t
qmail_paint_value(void *arg, const struct lm_rule *r)
{
    struct qmail_emit *e = arg;
    unsigned alt;
    char *v;

    if (e->fail)
        return 0;
    v = qmail_rhs(e->p, r, &alt, &e->fail);
    if (v != NULL && e->exact && lm_ipaddr_cmp(&r->net.range.lo, &r->net.range.hi) == 0) {
        char *x2 = malloc(strlen(v) + 2);
        if (x2 == NULL) {
            free(v);
            e->fail = 1;
            return 0;
        }
        x2[0] = QMAIL_EXACT;
        strcpy(x2 + 1, v);
        free(v);
        v = x2;
    }
    return qmail_valid(e, v);
}

/* Cut IPv4 into intervals with the value the connect networks give them
 * (narrowest wins, tagged before untagged, then the earlier).  With loop,
 * 127.0.0.1 relays unless a rule refuses it (Sendmail's built-in rule).
 * NULL with e->fail on failure. */
static struct lm_cover_iv *
qmail_paint(struct qmail_emit *e, int family, int loop, size_t *n)
{
    struct lm_cover_iv *iv = NULL;
    struct lm_iprange *rg;
    struct lm_ipaddr lb;
    size_t *val, nr, k, first = 1;

    *n = 0;
    qmail_loopback(family, &lb);
    /* slot 0 is kept for the loopback rule */
    if (lm_emit_net_values(e->p, family, 1, qmail_paint_value, e, &rg, &val, &nr, e->d) != 0) {
        e->fail = 1;
        return NULL;
    }
    if (loop && !e->fail) {
        /* the value 127.0.0.1 gets: the first range that holds it */
        size_t at = 0;
        for (k = 0; k < nr; k++)
            if (lm_ipaddr_cmp(&rg[k + 1].lo, &lb) <= 0 && lm_ipaddr_cmp(&rg[k + 1].hi, &lb) >= 0) {
                at = val[k + 1];
                break;
            }
        if (at == 0 || strcmp(qmail_text(e->val[at]), "allow") == 0) {
            char *x2 = strdup("\001allow,RELAYCLIENT=\"\"");
            if (x2 == NULL) {
                e->fail = 1;
                goto out;
            }
            if (!e->exact)
                memmove(x2, x2 + 1, strlen(x2));
            rg[0].lo = rg[0].hi = lb;
            val[0] = qmail_valid(e, x2);
            first = 0;
        }
    }
    if (!e->fail &&
        lm_ipset_paint(family, rg + first, val + first, nr + 1 - first, 0, &iv, n, e->d) != 0)
        iv = NULL;
out:
    if (iv == NULL)
        e->fail = 1;
    free(rg);
    free(val);
    return iv;
}

/* Write "KEY:RHS" unless KEY was written already (first wins, as in tcpserver). */
static void
qmail_put(struct qmail_emit *e, const char *key, const char *rhs)
{
    unsigned long first = 0;

    if (lm_seen_add(&e->seen, key, 1, &first) != 0) {
        e->fail = 1;
        return;
    }
    if (first == 0)
        fprintf(e->f, "%s:%s\n", key, rhs);
}

/* The IPv6 build's text of a nested-cover key of k->depth bytes (whole
 * groups): an address as tcpserver writes it; a prefix of groups that are
 * not zero, "g:"; or such groups and a zero one, "g::".  NULL when the key
 * is none of these: tcpserver writes the first zero group as "::", so a
 * prefix with a zero group inside matches addresses of other lengths too. */
static const char *
qmail_key6(const struct lm_cover_key *k, char *buf)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    unsigned g, ng = k->depth / 2;
    char *o = buf;

    if (k->depth == 16) {
        if (memcmp(k->b, mapped, sizeof mapped) == 0)
            return NULL;        /* looked up as IPv4 */
        lm_tcprules_ip6_format(k->b, buf);
        return buf;
    }
    for (g = 0; g < ng; g++) {
        unsigned v = (unsigned)k->b[2 * g] << 8 | k->b[2 * g + 1];
        if (v == 0 && (g + 1 < ng || g == 0))
            return NULL;
        if (v == 0)
            o += sprintf(o, ":");
        else
            o += sprintf(o, "%x:", v);
    }
    return buf;
}

/* The IPv4 text of a nested-cover key: prefixes and runs of the last
 * written octet. */
static const char *
qmail_key4(const struct lm_cover_key *k, char *buf)
{
    char *o = buf;
    unsigned j;

    for (j = 0; j + 1 < k->depth; j++)
        o += sprintf(o, "%u.", k->b[j]);
    o += sprintf(o, "%u", k->b[k->depth - 1]);
    if (k->hi != k->b[k->depth - 1])
        o += sprintf(o, "-%u", k->hi);
    if (k->depth < 4)
        sprintf(o, ".");
    return buf;
}

/* The narrowest IPv6 connect network that meets key k's block. */
static const struct lm_rule *
qmail_key_rule(const struct qmail_emit *e, const struct lm_cover_key *k)
{
    const struct lm_rule *best = NULL;
    struct lm_iprange blk;
    size_t i;

    memset(&blk, 0, sizeof blk);
    blk.lo.family = blk.hi.family = LM_IPV6;
    memcpy(blk.lo.b, k->b, 16);
    memcpy(blk.hi.b, k->b, 16);
    memset(blk.hi.b + k->depth, 0xff, 16 - (size_t)k->depth);
    for (i = 0; i < e->p->nrules; i++) {
        const struct lm_rule *r = &e->p->rules[i];
        if (qmail_is_net(e, r) && r->net.range.lo.family == LM_IPV6
            && lm_ipaddr_cmp(&r->net.range.lo, &blk.hi) <= 0
            && lm_ipaddr_cmp(&r->net.range.hi, &blk.lo) >= 0
            && (best == NULL || (lm_ipaddr_cmp(&r->net.range.lo, &best->net.range.lo) >= 0
                                 && lm_ipaddr_cmp(&r->net.range.hi, &best->net.range.hi) <= 0)))
            best = r;
    }
    return best;
}

static void
qmail_emit_nets(struct qmail_emit *e, int family)
{
    struct lm_cover_iv *iv;
    struct lm_cover_key *keys;
    struct lm_nest_opts o;
    unsigned char *whole;
    size_t niv, nkeys, i;
    int loop = lm_policy_loopback_relays(e->p), rc;

    iv = qmail_paint(e, family, loop, &niv);
    if (iv == NULL)
        return;
    if ((whole = malloc(e->nval)) == NULL) {
        free(iv);
        e->fail = 1;
        return;
    }
    for (i = 0; i < e->nval; i++)
        whole[i] = e->val[i][0] == QMAIL_EXACT;
    memset(&o, 0, sizeof o);
    o.flags = family == LM_IPV4 ? LM_NEST_RUNS : 0;
    o.nval = e->nval;
    o.whole = whole;
    for (i = 0; i < e->p->nrules; i++)
        o.maxkeys += qmail_is_net(e, &e->p->rules[i]);
    o.maxkeys = o.maxkeys * QMAIL_KEYS_PER_RULE + QMAIL_KEYS_EXTRA;
    rc = lm_ipset_cover_nested(iv, niv, family, &o, &keys, &nkeys, e->d);
    free(iv);
    free(whole);
    if (rc < 0) {
        e->fail = 1;
        return;
    }
    if (rc > 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the networks need more than %zu tcp.smtp keys (%d per "
                 "network rule plus %d); none written", o.maxkeys, QMAIL_KEYS_PER_RULE,
                 QMAIL_KEYS_EXTRA);
        qmail_loss(e, LM_LOSS_DROPPED, 1, NULL, NULL, msg);
        return;
    }
    for (i = 0; i < nkeys && !e->fail; i++) {
        const struct lm_cover_key *k = &keys[i];
        char kb[LM_TR_IP6_BUF + 8];
        const char *text;
        if (k->val == 0)
            e->fallthrough = 1;     /* a part of a network left to other rules */
        if (k->depth == (family == LM_IPV4 ? 4 : 16) && e->exact &&
            e->val[k->val][0] != QMAIL_EXACT)
            e->v4 = 1;              /* a network written as single addresses */
        text = family == LM_IPV4 ? qmail_key4(k, kb) : qmail_key6(k, kb);
        if (text == NULL) {
            qmail_loss(e, LM_LOSS_DROPPED, 1, qmail_key_rule(e, k), NULL,
                       "part of this network is a block with a zero group (or IPv4-mapped "
                       "addresses), which no tcp.smtp key of the IPv6 build matches exactly "
                       "(tcpserver writes the first zero group as \"::\"); it is left to "
                       "the shorter keys");
            continue;
        }
        qmail_put(e, text, k->val == 0 ? "allow" : qmail_text(e->val[k->val]));
    }
    free(keys);
}

/* A Sendmail policy decides a client by its host name first, tcpserver by
 * an exact address, then the name, then prefixes, then name suffixes: a
 * name rule and an address rule that meet on one client and say different
 * things are a loss. */
static char *
qmail_conflict_value(void *arg, const struct lm_rule *r)
{
    struct qmail_emit *e = arg;
    unsigned alt;
    char *v = qmail_rhs(e->p, r, &alt, &e->fail);

    return v != NULL || e->fail ? v : strdup("allow");
}

static void
qmail_conflict(void *arg, const struct lm_rule *n, const struct lm_rule *r)
{
    struct qmail_emit *e = arg;
    char msg[300], nb[2 * LM_IPADDR_BUF];

    snprintf(msg, sizeof msg, "tcpserver looks addresses up before host-name suffixes: a "
             "client in %s (line %lu) whose name matches would get %s there instead of %s",
             lm_rule_net_str(&r->net, nb), r->pos.line, lm_action_name(r->action),
             lm_action_name(n->action));
    qmail_loss(e, LM_LOSS_CHANGED,
               lm_emit_action_rank(r->action, 1) > lm_emit_action_rank(n->action, 1), n, NULL,
               msg);
}

static void
qmail_order_conflicts(struct qmail_emit *e)
{
    const struct lm_emit_conflicts c = { e->v6 ? 0 : LM_IPV4, qmail_conflict_value, qmail_conflict,
                                         e };

    if (e->p->order->connect == LM_CONNECT_NAMES_FIRST &&
        lm_emit_name_net_conflicts(e->p, &c, e->d) != 0)
        e->fail = 1;
}

/* Losses of a connect rule's right-hand side, once per rule. */
static void
qmail_rhs_losses(struct qmail_emit *e, const struct lm_rule *r)
{
    unsigned alt = 0;
    char *s = qmail_rhs(e->p, r, &alt, &e->fail);

    free(s);
    if (alt & 1)
        qmail_loss(e, LM_LOSS_CHANGED, 0, r, NULL,
                   "tcp.smtp cannot carry a reply code or text; the client is denied");
    if (alt & 2)
        qmail_loss(e, LM_LOSS_CHANGED, 0, r, NULL,
                   "qmail cannot discard a client's mail; the client is denied instead");
    if (alt & 4)
        qmail_loss(e, LM_LOSS_DROPPED, 0, r, NULL,
                   "a variable cannot be written in tcp.smtp (\"=\" or a newline in it, or "
                   "no free delimiter); it is left out");
    if (alt & 8)
        qmail_loss(e, LM_LOSS_CHANGED, 0, r, NULL,
                   "RELAYCLIENT on a rule that does not relay is left out");
}

/* Bytes a key may hold so that tcprules and tcpserver read it back as
 * written: no colon (it ends the key), no blank or control byte. */
static int
qmail_key_ok(const char *s)
{
    for (; *s; s++)
        if (*s == ':' || (unsigned char)*s <= ' ' || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

static void
qmail_emit_names(struct qmail_emit *e)
{
    const struct lm_policy *p = e->p;
    size_t i;
    int pass;

    for (pass = 0; pass < 2 && !e->fail; pass++)
        for (i = 0; i < p->nrules && !e->fail; i++) {
            const struct lm_rule *r = &p->rules[i];
            unsigned alt;
            char *rhs, *key;
            if ((r->kind != LM_K_NAME && r->kind != LM_K_TREE && r->kind != LM_K_BELOW) ||
                !(r->stage & LM_S_CONNECT) || (r->stage == LM_S_CONNECT) != (pass == 0))
                continue;
            if (r->info != NULL && r->kind != LM_K_NAME) {
                qmail_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(p, r, r->stage), r, NULL,
                           "tcpserver matches info@ only with a full host name");
                continue;
            }
            if (!qmail_key_ok(r->pattern) || (r->info != NULL && !qmail_key_ok(r->info))) {
                qmail_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(p, r, r->stage), r, NULL,
                           "the name cannot be written as a tcp.smtp key");
                continue;
            }
            rhs = qmail_rhs(p, r, &alt, &e->fail);
            if (rhs == NULL) {
                if (!e->fail)
                    qmail_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(p, r, r->stage), r, NULL,
                               "tcp.smtp has no SKIP; rule dropped");
                continue;
            }
            if ((key = malloc(strlen(r->pattern) + (r->info ? strlen(r->info) : 0) + 8)) ==
                NULL) {
                free(rhs);
                e->fail = 1;
                return;
            }
            if (r->info != NULL) {
                sprintf(key, "%s@=%s", r->info, r->pattern);
                qmail_put(e, key, rhs);
            } else {
                if (r->kind != LM_K_BELOW) {
                    sprintf(key, "=%s", r->pattern);
                    qmail_put(e, key, rhs);
                }
                if (r->kind != LM_K_NAME) {
                    sprintf(key, "=.%s", r->pattern);
                    qmail_put(e, key, rhs);
                }
            }
            free(key);
            free(rhs);
        }
}

static void
qmail_rcpt_put(struct qmail_emit *e, const char *dot, const char *name)
{
    unsigned long first = 0;
    char *k = malloc(strlen(name) + 2);

    if (k == NULL) {
        e->fail = 1;
        return;
    }
    sprintf(k, "%s%s", dot, name);
    if (lm_seen_add(&e->rseen, k, 1, &first) != 0)
        e->fail = 1;
    else if (first == 0)
        fprintf(e->rf, "%s\n", k);
    free(k);
}

/* Can rule r's sender part be a badmailfrom line?  qmail-smtpd refuses a
 * sender that equals a line, or whose part after the last '@' equals a
 * line "@domain"; nothing else (no "user@", no parents, no reply text). */
static int
qmail_bmf_refusal(const struct lm_rule *r)
{
    return (r->stage & LM_S_FROM) && r->info == NULL && r->pattern != NULL &&
           (r->action == LM_A_REJECT || r->action == LM_A_ERROR || r->action == LM_A_DENY) &&
           (r->kind == LM_K_ADDR || r->kind == LM_K_NAME || r->kind == LM_K_TREE);
}

/* A refusal whose line qmail-smtpd reads back as written: no blank or
 * control byte (control files lose trailing blanks; a sender has none),
 * not empty, no '#' first. */
static int
qmail_bmf_ok(const struct lm_rule *r)
{
    const char *s;

    if (!qmail_bmf_refusal(r) || r->pattern[0] == '\0' ||
        (r->kind == LM_K_ADDR && r->pattern[0] == '#'))
        return 0;
    for (s = r->pattern; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s == 0x7f)
            return 0;
    return 1;
}

/* The badmailfrom line of rule r, malloc'd; NULL with e->fail. */
static char *
qmail_bmf_key(struct qmail_emit *e, const struct lm_rule *r)
{
    char *k = malloc(strlen(r->pattern) + 2);

    if (k == NULL)
        e->fail = 1;
    else
        sprintf(k, "%s%s", r->kind == LM_K_ADDR ? "" : "@", r->pattern);
    return k;
}

/* Does the source prefer rule x over rule r for the same key?  The
 * stage-specific rule first, then the earlier one (lm_decide's order). */
static int
qmail_prefers(const struct lm_rule *x, const struct lm_rule *r)
{
    if ((x->stage == LM_S_FROM) != (r->stage == LM_S_FROM))
        return x->stage == LM_S_FROM;
    return x < r;
}

/* The hash of a badmailfrom candidate's key: whether it is an address, and
 * its pattern (FNV-1a). */
static size_t
qmail_bmf_hash(int addr, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (unsigned)addr;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (size_t)(h ^ (h >> 29));
}

/* The first refusal (index into bmf, SIZE_MAX for none) on the chain of
 * key (addr, pat) that x must give way to; with x NULL, the first at all. */
static size_t
qmail_bmf_first(const struct lm_policy *p, const size_t *bmf, const size_t *head,
                const size_t *next, size_t mask, int addr, const char *pat,
                const struct lm_rule *x)
{
    size_t j;

    for (j = head[qmail_bmf_hash(addr, pat) & mask]; j != SIZE_MAX; j = next[j]) {
        const struct lm_rule *r = &p->rules[bmf[j]];
        if ((r->kind == LM_K_ADDR) == addr && strcmp(r->pattern, pat) == 0 &&
            (x == NULL || qmail_prefers(x, r)))
            return j;
    }
    return SIZE_MAX;
}

/* Sender rules that let a sender through where a badmailfrom line written
 * for another rule refuses it: an address or "user@" rule inside a refused
 * domain, or a preferred rule on the same key.  Each is reported, naming the
 * first such line.  The refusals are hashed by key, each chain in rule
 * order, so a policy of many sender rules is checked in linear time. */
static void
qmail_bmf_conflicts(struct qmail_emit *e)
{
    const struct lm_policy *p = e->p;
    size_t i, j, nb = 0, *bmf, *head, *next, cap, firstdom = SIZE_MAX;

    for (i = 0; i < p->nrules; i++)
        nb += qmail_bmf_ok(&p->rules[i]);
    if (nb == 0)
        return;
    for (cap = 16; cap < 2 * nb; cap *= 2)
        ;
    bmf = malloc(nb * sizeof *bmf);
    next = malloc(nb * sizeof *next);
    head = malloc(cap * sizeof *head);
    if (bmf == NULL || next == NULL || head == NULL) {
        e->fail = 1;
        goto out;
    }
    for (i = nb = 0; i < p->nrules; i++)
        if (qmail_bmf_ok(&p->rules[i]))
            bmf[nb++] = i;
    for (i = 0; i < cap; i++)
        head[i] = SIZE_MAX;
    for (j = nb; j-- > 0;) {        /* backwards: each chain ends up in rule order */
        const struct lm_rule *r = &p->rules[bmf[j]];
        size_t h = qmail_bmf_hash(r->kind == LM_K_ADDR, r->pattern) & (cap - 1);
        next[j] = head[h];
        head[h] = j;
        if (r->kind != LM_K_ADDR)
            firstdom = j;
    }
    for (i = 0; i < p->nrules && !e->fail; i++) {
        const struct lm_rule *x = &p->rules[i];
        const char *at;
        size_t hit, k;
        if (!(x->stage & LM_S_FROM) || x->pattern == NULL || x->info != NULL ||
            x->action == LM_A_REJECT || x->action == LM_A_ERROR || x->action == LM_A_DENY ||
            (x->kind != LM_K_ADDR && x->kind != LM_K_USER &&
                                x->kind != LM_K_NAME && x->kind != LM_K_TREE))
            continue;
        /* a "user@" rule meets every domain refusal */
        hit = x->kind == LM_K_USER ? firstdom : SIZE_MAX;
        at = x->kind == LM_K_ADDR ? strrchr(x->pattern, '@') : NULL;
        if (at != NULL &&
            (k = qmail_bmf_first(p, bmf, head, next, cap - 1, 0, at + 1, NULL)) < hit)
            hit = k;
        if ((k = qmail_bmf_first(p, bmf, head, next, cap - 1, x->kind == LM_K_ADDR,
                                 x->pattern, x)) < hit)
            hit = k;
        if (hit != SIZE_MAX) {
            char msg[160];
            snprintf(msg, sizeof msg, "badmailfrom refuses every sender the line for line "
                     "%lu matches, this rule's senders too", p->rules[bmf[hit]].pos.line);
            qmail_loss(e, LM_LOSS_CHANGED, 0, x, NULL, msg);
        }
    }
out:
    free(bmf);
    free(next);
    free(head);
}

/* badmailfrom: every sender refusal it can hold, once each. */
static void
qmail_emit_bmf(struct qmail_emit *e)
{
    const struct lm_policy *p = e->p;
    size_t i;

    for (i = 0; i < p->nrules && !e->fail; i++) {
        const struct lm_rule *r = &p->rules[i];
        unsigned long first = 0;
        char *k;
        if (!qmail_bmf_ok(r)) {
            /* other orders report it with the rule's other losses */
            if (p->order->sender == LM_SENDER_EXACT && qmail_bmf_refusal(r))
                qmail_loss(e, LM_LOSS_DROPPED, 1, r, NULL,
                           "the sender cannot be written as a badmailfrom line");
            continue;
        }
        if ((k = qmail_bmf_key(e, r)) == NULL)
            continue;
        if (lm_seen_add(&e->bseen, k, 1, &first) != 0)
            e->fail = 1;
        else if (first == 0)
            fprintf(e->bf, "%s\n", k);
        free(k);
    }
}

static int
qmail_emit_build(const struct lm_policy *in, FILE *const *out, struct lm_losses *lost,
                 struct lm_diags *d, int v6)
{
    struct qmail_emit e;
    const struct lm_rule *sp;
    size_t i;

    memset(&e, 0, sizeof e);
    e.v6 = v6;
    e.p = in;
    e.f = out[0];
    e.rf = out[1];
    e.bf = out[2];
    e.lost = lost;
    e.d = d;
    e.val = malloc(16 * sizeof *e.val);
    if (e.val == NULL || (e.val[0] = strdup("")) == NULL) {
        free(e.val);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    e.nval = 1;
    e.capval = 16;
    for (i = 0; i < in->nrules; i++)
        if ((in->rules[i].kind == LM_K_NAME || in->rules[i].kind == LM_K_TREE) &&
            (in->rules[i].stage & LM_S_CONNECT) && in->rules[i].info == NULL)
            e.exact = 1;

    /* what the files cannot say, rule by rule */
    for (i = 0; i < in->nrules && !e.fail; i++) {
        const struct lm_rule *r = &in->rules[i];
        unsigned other = r->stage & (LM_S_FROM | LM_S_TO);
        if (r->kind == LM_K_NEVER)
            continue;
        if (r->kind == LM_K_SERVER || r->kind == LM_K_AUTH) {
            qmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                       r->kind == LM_K_AUTH ? "tcp.smtp has no key for authenticated clients"
                       : "tcp.smtp has no key for the server address a client reached");
            continue;
        }
        if (r->stage & LM_S_CONNECT) {
            if (r->kind == LM_K_NET && r->net.range.lo.family == LM_IPV6 && !e.v6)
                qmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                           "tcprules has no IPv6 keys (the IPv6 build has: --to qmail6)");
            else if (r->kind == LM_K_NET && r->info != NULL &&
                     lm_ipaddr_cmp(&r->net.range.lo, &r->net.range.hi) != 0)
                qmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                           "tcpserver matches info@ only with a full address");
            else if (r->kind != LM_K_ADDR && r->kind != LM_K_USER)
                qmail_rhs_losses(&e, r);
        }
        if (other == 0 || in->order == &qmail_order)
            continue;
        if ((other & LM_S_FROM) && qmail_bmf_ok(r)) {
            other &= ~LM_S_FROM;    /* written to badmailfrom */
            if (r->kind == LM_K_TREE)
                qmail_loss(&e, LM_LOSS_NARROWED, 1, r, NULL,
                           "badmailfrom matches a sender domain exactly, not the names "
                           "below it: senders at subdomains are no longer refused");
            if (r->text != NULL || (r->action == LM_A_ERROR && r->code != 0 &&
                                    r->code != 553))
                qmail_loss(&e, LM_LOSS_CHANGED, 0, r, NULL,
                           "badmailfrom refuses with qmail-smtpd's own 553 reply; the "
                           "reply code and text are dropped");
        }
        if (r->kind == LM_K_ANY && (r->action == LM_A_OK || r->action == LM_A_SKIP))
            continue;
        if (r->kind == LM_K_NET)
            continue;       /* never looked up at these stages */
        if ((other & LM_S_TO) && r->action == LM_A_RELAY &&
            (r->kind == LM_K_NAME || r->kind == LM_K_TREE || r->kind == LM_K_BELOW))
            other &= ~LM_S_TO;      /* written to rcpthosts */
        if ((other & LM_S_FROM) && r->action == LM_A_RELAY && !lm_sender_relay_grants(in, r))
            other &= ~LM_S_FROM;    /* no effect in the source either */
        if ((other & (LM_S_FROM | LM_S_TO)) && (r->action == LM_A_OK || r->action == LM_A_SKIP) &&
            !lm_emit_drop_widens(in, r, other))
            other = 0;              /* an OK that changes nothing */
        if (other == 0)
            continue;
        qmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, other), r, NULL,
                   other == LM_S_TO ? "qmail has no recipient rules other than rcpthosts; "
                                      "the recipient part is dropped"
                   : other == LM_S_FROM ? "qmail's only sender rules are badmailfrom "
                                          "refusals of a whole address or \"@domain\"; "
                                          "the sender part is dropped"
                   : "qmail has no place for these sender or recipient rules; those parts "
                     "are dropped");
    }
    for (i = 0; i < in->nlocals && !e.fail; i++)
        qmail_loss(&e, LM_LOSS_DROPPED, 0, NULL, &in->locals[i].pos,
                   "qmail has no list of the server's own addresses in tcp.smtp or "
                   "rcpthosts");
    qmail_order_conflicts(&e);
    if (in->order != &qmail_order)
        qmail_bmf_conflicts(&e);

    /* tcp.smtp: info@ keys, networks, names, "=", "" */
    for (i = 0; i < in->nrules && !e.fail; i++) {
        const struct lm_rule *r = &in->rules[i];
        char kb[LM_IPADDR_BUF], *key, *rhs;
        unsigned alt;
        if (r->kind != LM_K_NET || r->info == NULL || !(r->stage & LM_S_CONNECT) ||
            (r->net.range.lo.family != LM_IPV4 && !e.v6) ||
            lm_ipaddr_cmp(&r->net.range.lo, &r->net.range.hi) != 0)
            continue;
        if (!qmail_key_ok(r->info)) {
            qmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                       "the ident name cannot be written as a tcp.smtp key");
            continue;
        }
        if ((rhs = qmail_rhs(in, r, &alt, &e.fail)) == NULL)
            continue;
        if (r->net.range.lo.family == LM_IPV4)
            lm_ipaddr_format(&r->net.range.lo, kb);
        else
            lm_tcprules_ip6_format(r->net.range.lo.b, kb);
        if ((key = malloc(strlen(r->info) + strlen(kb) + 2)) == NULL) {
            free(rhs);
            e.fail = 1;
            break;
        }
        sprintf(key, "%s@%s", r->info, kb);
        qmail_put(&e, key, rhs);
        free(key);
        free(rhs);
    }
    if (!e.fail)
        qmail_emit_nets(&e, LM_IPV4);
    if (!e.fail && e.v6)
        qmail_emit_nets(&e, LM_IPV6);
    if (!e.fail)
        qmail_emit_names(&e);
    if (e.v4 && !e.fail && in->order->connect != LM_CONNECT_NAMES_FIRST)
        qmail_loss(&e, LM_LOSS_CHANGED, 1, NULL, NULL,
                   "part of a network can be written only as single addresses, which "
                   "tcpserver looks up before host names");
    if (e.fallthrough && !e.fail && in->order->connect != LM_CONNECT_NAMES_FIRST) {
        for (i = 0; i < in->nrules; i++) {
            const struct lm_rule *r = &in->rules[i];
            if ((r->stage & LM_S_CONNECT) && r->info == NULL &&
                (r->kind == LM_K_TREE || r->kind == LM_K_BELOW || r->kind == LM_K_ANYHOST ||
                 r->kind == LM_K_ANY) && r->action != LM_A_OK)
                break;
        }
        if (i < in->nrules)
            qmail_loss(&e, LM_LOSS_CHANGED, 1, &in->rules[i], NULL,
                       "tcp.smtp cannot let part of a listed network fall through to "
                       "host-name suffix rules; that part is allowed plainly");
    }
    if (!e.fail && (sp = lm_policy_first(in, LM_K_ANYHOST, LM_S_CONNECT)) != NULL) {
        unsigned alt;
        char *rhs = qmail_rhs(in, sp, &alt, &e.fail);
        if (rhs != NULL)
            qmail_put(&e, "=", rhs);
        free(rhs);
    }
    if (!e.fail && (sp = lm_policy_first(in, LM_K_ANY, LM_S_CONNECT)) != NULL) {
        unsigned alt;
        char *rhs = qmail_rhs(in, sp, &alt, &e.fail);
        if (rhs != NULL)
            qmail_put(&e, "", rhs);
        free(rhs);
    }

    /* rcpthosts: accepted domains, and recipient-domain RELAY rules */
    for (i = 0; i < in->ndomains && !e.fail; i++) {
        const struct lm_domain *dm = &in->domains[i];
        if (dm->kind != LM_K_BELOW)
            qmail_rcpt_put(&e, "", dm->name);
        if (dm->kind != LM_K_NAME)
            qmail_rcpt_put(&e, ".", dm->name);
    }
    for (i = 0; i < in->nrules && !e.fail && in->order != &qmail_order; i++) {
        const struct lm_rule *r = &in->rules[i];
        if (!(r->stage & LM_S_TO) || r->action != LM_A_RELAY ||
            (r->kind != LM_K_NAME && r->kind != LM_K_TREE && r->kind != LM_K_BELOW))
            continue;
        if (r->kind != LM_K_BELOW)
            qmail_rcpt_put(&e, "", r->pattern);
        if (r->kind != LM_K_NAME)
            qmail_rcpt_put(&e, ".", r->pattern);
    }
    if (!e.fail)
        qmail_emit_bmf(&e);

    for (i = 0; i < e.nval; i++)
        free(e.val[i]);
    free(e.val);
    lm_seen_fini(&e.seen);
    lm_seen_fini(&e.rseen);
    lm_seen_fini(&e.bseen);
    if (e.fail)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory while writing "
                           "tcp.smtp");
    return 0;
}

static int
qmail_detect(const char *name, const char *text, size_t len)
{
    size_t six;

    return qmail_detect_build(name, text, len, 0, &six);
}

/* Without an IPv6 key both builds read a file alike: the IPv4 one, the
 * usual, is chosen then. */
static int
qmail6_detect(const char *name, const char *text, size_t len)
{
    size_t six;
    int score = qmail_detect_build(name, text, len, 1, &six);

    return six > 0 || score == LM_DETECT_NO ? score : LM_DETECT_MAYBE - 1;
}

static int
qmail_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    return qmail_parse_build(in, out, d, 0);
}

static int
qmail6_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    return qmail_parse_build(in, out, d, LM_TR_V6);
}

/* Neither build has settings: opts is always empty. */
static int
qmail_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
           struct lm_losses *lost, struct lm_diags *d)
{
    (void)opts;
    return qmail_emit_build(in, out, lost, d, 0);
}

static int
qmail6_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
            struct lm_losses *lost, struct lm_diags *d)
{
    (void)opts;
    return qmail_emit_build(in, out, lost, d, 1);
}

static const char *const qmail_outputs[] = { "tcp.smtp", "rcpthosts", "badmailfrom", NULL };

const struct lm_codec lm_codec_qmail = {
    .name = "qmail",
    .description = "qmail: tcpserver rules (tcp.smtp, tcprules input), control/rcpthosts and "
                   "control/badmailfrom",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &qmail_order,
    .outputs = qmail_outputs,
    .detect = qmail_detect,
    .parse = qmail_parse,
    .emit = qmail_emit,
};

/* The same files for the IPv6 build of ucspi-tcp (Debian ucspi-tcp-ipv6):
 * IPv6 addresses and prefixes in tcp.smtp, one server, one lookup order. */
const struct lm_codec lm_codec_qmail6 = {
    .name = "qmail6",
    .description = "qmail with IPv6: tcp.smtp for the IPv6 build of tcpserver and tcprules "
                   "(ucspi-tcp-ipv6), control/rcpthosts and control/badmailfrom",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &qmail_order,
    .outputs = qmail_outputs,
    .detect = qmail6_detect,
    .parse = qmail6_parse,
    .emit = qmail6_emit,
};
