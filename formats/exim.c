/*
 * formats/exim.c - the Exim codec: list files and the ACL that reads them,
 * read into the policy model and written back as that set.
 *
 *   exim.lists.conf       main-section definitions to include: the host,
 *                         domain and address lists below, acl_smtp_rcpt
 *   exim.acl.conf         the RCPT ACL to include after "begin acl"
 *   relay_hosts           clients that may relay (net-iplsearch: CIDR,
 *                         IPv4 and quoted IPv6)
 *   refused_hosts         clients refused (net-iplsearch)
 *   relay_to_domains      the domains we accept mail for ("x", "*.x")
 *   refused_senders       sender refusal list (address list file)
 *   refused_recipients    recipients refused (address list file)
 *   accepted_recipients   recipients accepted from any client
 *
 * Exim's order (exim_order): the ACL's statements in turn, first that
 * matches decides: refused clients, refused senders, refused and accepted
 * recipients, our domains, relay clients, deny.  A host list only says
 * whether a client is in it: the networks of the model are painted into
 * disjoint sets (relay, refused), exactly, whatever order the source had;
 * refusing before relaying is what LM_NET_REFUSE_FIRST means, so reading
 * the files back needs no order of their lines.  Address lists are first
 * match in file order with "!" items: written most specific first (whole
 * addresses, then domains by depth, a name before the names below it), the
 * order access(5)-style lookups have, and read back only in that order.
 * Anything else Exim can say is an error naming the line.  Grammar and
 * mapping: relaymap-formats(5), reference real-mta.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/emit.h"
#include "libmap/util.h"
#include "libmap/ipset.h"
#include "libmap/policy.h"

static const struct lm_order exim_order = {
    .name = "exim",
    .connect = LM_CONNECT_NAMES_FIRST,  /* no host names are written */
    .nets = LM_NET_REFUSE_FIRST,        /* "deny hosts" before "accept hosts" */
    .sender = LM_SENDER_ACCESS,         /* refused_senders, most specific first */
    .sender_relay = LM_SENDER_RELAY_NEVER,
    .rcpt_rules = 1,                    /* refused/accepted_recipients */
    .loopback_relays = 0,
    .refused = "relay not permitted",
    .user_last = 0,
};

enum {
    EX_LISTS = 0, EX_ACL, EX_RELAY, EX_REFUSED, EX_DOMAINS, EX_SENDERS, EX_RREFUSED,
    EX_RACCEPTED, EX_NFILES
};

static const char *const exim_outputs[] = {
    "exim.lists.conf", "exim.acl.conf", "relay_hosts", "refused_hosts", "relay_to_domains",
    "refused_senders", "refused_recipients", "accepted_recipients", NULL
};

/* The ACL, statement by statement, as written and as read back. */
static const char *const exim_acl[] = {
    "acl_relaymap_rcpt:",
    "deny hosts = +relaymap_refused_hosts",
    "deny senders = +relaymap_refused_senders",
    "deny recipients = +relaymap_refused_recipients",
    "accept recipients = +relaymap_accepted_recipients",
    "accept domains = +relay_to_domains",
    "accept hosts = +relay_from_hosts",
    "deny message = relay not permitted",
    NULL
};

/* An item that matches no address.  A list whose last item is negative
 * takes in everything its items do not name ("!x" alone means "all but
 * x"); the address lists end with "!" items whenever their least specific
 * key does not refuse, so each ends with this positive item instead. */
#define EXIM_NOMATCH " : ^(?!)"

/* The list definitions: "KIND NAME = PREFIX" + DIR/file + suffix. */
static const struct {
    const char *def;
    int         file;
    const char *suffix;
} exim_lists[] = {
    { "hostlist relay_from_hosts = net-iplsearch;", EX_RELAY, "" },
    { "hostlist relaymap_refused_hosts = net-iplsearch;", EX_REFUSED, "" },
    { "domainlist relay_to_domains = ", EX_DOMAINS, "" },
    { "addresslist relaymap_refused_senders = ", EX_SENDERS, EXIM_NOMATCH },
    { "addresslist relaymap_refused_recipients = ", EX_RREFUSED, EXIM_NOMATCH },
    { "addresslist relaymap_accepted_recipients = ", EX_RACCEPTED, EXIM_NOMATCH },
};
#define EXIM_NLISTS (sizeof exim_lists / sizeof exim_lists[0])

static int
exim_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Trim in place; NULL for a blank or comment line. */
static char *
exim_trim(char *text, size_t len)
{
    char *s = text;

    while (len > 0 && exim_blank((unsigned char)text[len - 1]))
        len--;
    text[len] = '\0';
    while (exim_blank((unsigned char)*s))
        s++;
    return *s == '\0' || *s == '#' ? NULL : s;
}

static int
exim_err(struct lm_diags *d, const struct lm_pos *lp, const char *before, const char *arg,
         const char *after)
{
    char q[LM_QUOTE_BUF];

    lm_quote(q, arg, strlen(arg), LM_QUOTE_MAX);
    return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, lp, "%s%s%s", before, q, after);
}

/* --- reading ------------------------------------------------------------------ */

/* "KEY: value" or "KEY value" of an iplsearch file; KEY may be quoted. */
static int
exim_host_line(struct lm_policy *p, int part, char *s, const struct lm_pos *lp,
               struct lm_diags *d)
{
    struct lm_rule r;
    struct lm_pos pos = *lp;
    char *key = s, *e;

    if (*s == '"') {
        key = ++s;
        if ((e = strchr(s, '"')) == NULL)
            return exim_err(d, lp, "", key - 1, ": unterminated quoted key");
        *e = '\0';
    } else {
        for (e = s; *e != '\0' && *e != ':' && !exim_blank((unsigned char)*e); e++)
            ;
        /* an unquoted IPv6 key would end at its first colon */
        if (*e == ':' && e[1] != '\0' && !exim_blank((unsigned char)e[1]))
            return exim_err(d, lp, "key \"", key, "\": an IPv6 network must be quoted");
        *e = '\0';
    }
    memset(&r, 0, sizeof r);
    r.pos = *lp;
    r.kind = LM_K_NET;
    r.stage = LM_S_CONNECT;
    r.action = part == EX_RELAY ? LM_A_RELAY : LM_A_REJECT;
    r.net.form = LM_NF_CIDR;
    pos.col = 1;
    if (lm_iprange_parse(key, strlen(key), LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR |
                         LM_IPF_HOSTBITS, &r.net.range, d, &pos) != 0)
        return -1;
    r.net.prefix = strchr(key, '/') != NULL ? (unsigned)strtoul(strchr(key, '/') + 1, NULL, 10)
                                            : lm_ipfam_bits(r.net.range.lo.family);
    return lm_policy_add(p, &r, d) != NULL ? 0 : -1;
}

/* Specificity of an address-list item for the order check: whole
 * addresses first (0), then domains deepest first, a name before the names
 * below it. */
static long
exim_rank(enum lm_kind k, const char *pattern)
{
    long labels = 1;
    const char *c;

    if (k == LM_K_ADDR)
        return 0;
    for (c = pattern; *c; c++)
        labels += *c == '.';
    return (256 - labels) * 2 + (k == LM_K_BELOW);
}

/* An item of an address list: "[!]user@domain", "[!]*@domain",
 * "[!]*@*.domain".  *last is the rank of the previous item (order check). */
static int
exim_addr_line(struct lm_policy *p, int part, char *s, long *last, const struct lm_pos *lp,
               struct lm_diags *d)
{
    struct lm_rule r;
    int neg = 0;
    char *at;
    long rank;
    size_t i;

    memset(&r, 0, sizeof r);
    r.pos = *lp;
    if (*s == '!') {
        neg = 1;
        s++;
        while (exim_blank((unsigned char)*s))
            s++;
    }
    lm_fold(s, strlen(s));
    at = strrchr(s, '@');
    if (at == NULL || at == s)
        return exim_err(d, lp, "item \"", s, "\": relayconv reads user@domain, *@domain and "
                        "*@*.domain");
    *at = '\0';
    if (strcmp(s, "*") == 0 && strncmp(at + 1, "*.", 2) == 0 && lm_is_domain(at + 3)) {
        r.kind = LM_K_BELOW;
        r.pattern = at + 3;
    } else if (strcmp(s, "*") == 0 && lm_is_domain(at + 1)) {
        r.kind = LM_K_NAME;
        r.pattern = at + 1;
    } else if (strpbrk(s, "*^") == NULL && lm_is_domain(at + 1)) {
        *at = '@';
        r.kind = LM_K_ADDR;
        r.pattern = s;
    } else {
        *at = '@';
        return exim_err(d, lp, "item \"", s, "\": relayconv reads user@domain, *@domain and "
                        "*@*.domain");
    }
    rank = exim_rank(r.kind, r.pattern);
    if (rank < *last) {
        char item[600];
        snprintf(item, sizeof item, "%s%s", r.kind == LM_K_NAME ? "*@" :
                 r.kind == LM_K_BELOW ? "*@*." : "", r.pattern);
        return exim_err(d, lp, "item \"", item, "\" comes after a less specific one: "
                        "relayconv reads address lists most specific first, as it writes "
                        "them");
    }
    *last = rank;
    r.stage = part == EX_SENDERS ? LM_S_FROM : LM_S_TO;
    r.action = neg ? LM_A_OK : part == EX_RACCEPTED ? LM_A_RELAY : LM_A_REJECT;
    if (part != EX_SENDERS) {
        /* The two recipient lists hold the same keys; the one that names
         * the key without "!" says what it does. */
        for (i = 0; i < p->nrules; i++) {
            struct lm_rule *o = &p->rules[i];
            if (o->stage == LM_S_TO && o->kind == r.kind && strcmp(o->pattern, r.pattern) == 0) {
                if (!neg)
                    o->action = r.action;
                return 0;
            }
        }
    }
    return lm_policy_add(p, &r, d) != NULL ? 0 : -1;
}

/* The two include files must say exactly what is written (blanks aside). */
static int
exim_conf_line(int part, char *s, const struct lm_pos *lp, size_t *k, struct lm_diags *d)
{
    char norm[1024];
    size_t i, n = 0;
    int blank = 0;

    for (i = 0; s[i] != '\0' && n < sizeof norm - 1; i++) {
        if (exim_blank((unsigned char)s[i])) {
            blank = 1;
            continue;
        }
        if (blank && n > 0)
            norm[n++] = ' ';
        blank = 0;
        norm[n++] = s[i];
    }
    norm[n] = '\0';
    if (part == EX_ACL) {
        if (exim_acl[*k] == NULL || strcmp(norm, exim_acl[*k]) != 0)
            return exim_err(d, lp, "\"", norm, "\": relayconv reads the ACL it writes "
                            "(relaymap-formats(5)), statement by statement");
        (*k)++;
        return 0;
    }
    if (strcmp(norm, "acl_smtp_rcpt = acl_relaymap_rcpt") == 0)
        return 0;
    for (i = 0; i < EXIM_NLISTS; i++) {
        size_t pl = strlen(exim_lists[i].def);
        if (strncmp(norm, exim_lists[i].def, pl) == 0) {
            size_t nl = strlen(norm), sl = strlen(exim_lists[i].suffix);
            if (nl < pl + sl || strcmp(norm + nl - sl, exim_lists[i].suffix) != 0)
                return exim_err(d, lp, "\"", norm, "\": the list must end as relayconv "
                                "writes it");
            norm[nl - sl] = '\0';
            if (strcmp(lm_path_base(norm + pl), exim_outputs[exim_lists[i].file]) != 0 ||
                norm[pl] != '/')
                return exim_err(d, lp, "\"", norm, "\": relayconv reads the list from the "
                                "file of that name beside this one, by absolute path");
            return 0;
        }
    }
    return exim_err(d, lp, "\"", norm, "\": not one of the definitions relayconv writes "
                    "(relaymap-formats(5))");
}

static int
exim_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    struct lm_line ln;
    size_t errs0 = d->nerrors, k = 0;
    int part = lm_codec_part(&lm_codec_exim, lm_source_name(in)), rc;
    long last = -1;

    lm_source_keep_bom(in);     /* Exim reads it as the first line's bytes */
    out->order = &exim_order;
    if (part < 0)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: an Exim policy is read from "
                           "files named as relayconv writes them (exim.lists.conf, "
                           "exim.acl.conf, relay_hosts, refused_hosts, relay_to_domains, "
                           "refused_senders, refused_recipients, accepted_recipients)",
                           lm_source_name(in));
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        char *s;
        if (memchr(ln.text, '\0', ln.len) != NULL) {
            lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln.pos, "NUL byte in line; line skipped");
            continue;
        }
        if ((s = exim_trim(ln.text, ln.len)) == NULL)
            continue;
        switch (part) {
        case EX_LISTS: case EX_ACL:
            exim_conf_line(part, s, &ln.pos, &k, d);
            break;
        case EX_RELAY: case EX_REFUSED:
            exim_host_line(out, part, s, &ln.pos, d);
            break;
        case EX_DOMAINS:
            lm_fold(s, strlen(s));
            if (strncmp(s, "*.", 2) == 0 && lm_is_domain(s + 2))
                lm_policy_add_domain(out, s + 2, LM_K_BELOW, &ln.pos, d);
            else if (lm_is_domain(s))
                lm_policy_add_domain(out, s, LM_K_NAME, &ln.pos, d);
            else
                exim_err(d, &ln.pos, "domain \"", s, "\": relayconv reads names and *.names");
            break;
        default:
            exim_addr_line(out, part, s, &last, &ln.pos, d);
            break;
        }
        if (lm_diags_full(d))
            break;
    }
    if (rc < 0)
        return -1;
    if (part == EX_ACL && exim_acl[k] != NULL && d->nerrors == errs0) {
        struct lm_pos pos = { lm_policy_file(out, lm_source_name(in)), 0, 0 };
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, pos.file ? &pos : NULL, "the ACL ends "
                           "before \"%s\"", exim_acl[k]);
    }
    return d->nerrors > errs0 ? -1 : 0;
}

/* --- writing ------------------------------------------------------------------- */

struct exim_emit {
    const struct lm_policy *p;
    struct lm_losses *lost;
    struct lm_diags *d;
};

static int
exim_lose(struct exim_emit *e, enum lm_loss_kind k, const struct lm_rule *r, const char *why)
{
    return lm_loss_add(e->lost, k, r != NULL && lm_emit_drop_widens(e->p, r, r->stage), r,
                       NULL, e->d, "exim cannot express %s", why);
}

/* A refusing rule whose own reply (text, code, enhanced code) the lists
 * cannot carry: the ACL answers with Exim's own. */
static int
exim_reply_lost(struct exim_emit *e, const struct lm_rule *r)
{
    if (!lm_action_refuses(r->action) || (r->text == NULL && r->dsn == NULL &&
                                      (r->code == 0 || r->code == 550)))
        return 0;
    return lm_loss_add(e->lost, LM_LOSS_CHANGED, 0, r, NULL, e->d, "exim cannot carry a "
                       "rule's own reply in these lists; Exim answers with its own");
}

/* Connect outcomes painted on the address space. */
enum { EXIM_PASS = 0, EXIM_RELAY, EXIM_REFUSE };

static size_t
exim_outcome(const struct lm_rule *r, const struct lm_rule *any)
{
    if (r != NULL && r->action == LM_A_SKIP)
        r = any;
    if (r == NULL)
        return EXIM_PASS;
    if (r->action == LM_A_RELAY)
        return EXIM_RELAY;
    if (lm_action_refuses(r->action))
        return EXIM_REFUSE;
    return EXIM_PASS;
}

/* Paint FAMILY's addresses with the outcome the policy's connect networks
 * give them, in the order its server prefers them (lm_emit_nets), and write
 * the relaying and the refused ones as CIDR blocks to the two lists. */
static int
exim_hosts_family(struct exim_emit *e, int family, const struct lm_rule *any, FILE *relay,
                  FILE *refused)
{
    const struct lm_policy *p = e->p;
    struct lm_iprange *rg = NULL;
    size_t *idx = NULL, *val = NULL, n = 0, k = 0, i, niv = 0;
    struct lm_cover_iv *iv = NULL;
    struct lm_ipset set[3];
    int rc = -1, v;

    for (v = 0; v < 3; v++)
        lm_ipset_init(&set[v]);
    if (lm_emit_nets(p, family, &idx, &n, e->d) != 0)
        goto out;
    rg = malloc((n + 1) * sizeof *rg);
    val = malloc((n + 1) * sizeof *val);
    if (rg == NULL || val == NULL) {
        lm_diag_add(e->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        const struct lm_rule *r = &p->rules[idx[i]];
        if (r->action == LM_A_DISCARD)
            continue;           /* reported as a loss */
        rg[k] = r->net.range;
        val[k++] = exim_outcome(r, any);
    }
    if (lm_ipset_paint(family, rg, val, k, exim_outcome(any, NULL), &iv, &niv, e->d) != 0)
        goto out;
    for (i = 0; i < niv; i++) {
        struct lm_iprange r;
        r.lo = iv[i].lo;
        r.hi = iv[i].hi;
        if (iv[i].val != EXIM_PASS && lm_ipset_add_range(&set[iv[i].val], &r, e->d) != 0)
            goto out;
    }
    for (v = EXIM_RELAY; v <= EXIM_REFUSE; v++) {
        struct lm_ipnet *nets = NULL;
        size_t nn = 0;
        char buf[LM_IPADDR_BUF];
        if (lm_ipset_cover_cidr(&set[v], &nets, &nn, e->d) != 0)
            goto out;
        for (i = 0; i < nn; i++) {
            lm_ipnet_format(&nets[i], LM_FMT_CIDR_LEN, buf);
            fprintf(v == EXIM_RELAY ? relay : refused, family == LM_IPV6 ? "\"%s\": %s\n"
                                                                         : "%s: %s\n",
                    buf, v == EXIM_RELAY ? "relay" : "refused");
        }
        free(nets);
    }
    rc = 0;
out:
    for (v = 0; v < 3; v++)
        lm_ipset_fini(&set[v]);
    free(iv);
    free(idx);
    free(rg);
    free(val);
    return rc;
}

static int
exim_hosts(struct exim_emit *e, FILE *relay, FILE *refused)
{
    const struct lm_policy *p = e->p;
    const struct lm_rule *any = NULL;
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (!(r->stage & LM_S_CONNECT))
            continue;
        if (r->kind == LM_K_ANY && any == NULL && r->action != LM_A_SKIP)
            any = r;
        if ((r->kind == LM_K_NET || r->kind == LM_K_ANY) && r->info == NULL) {
            if (r->action == LM_A_DISCARD) {
                if (exim_lose(e, LM_LOSS_DROPPED, r, "discarding a client's mail in these "
                              "lists; rule dropped") != 0)
                    return -1;
            } else if (exim_reply_lost(e, r) != 0) {
                return -1;
            }
            continue;
        }
        switch (r->kind) {
        case LM_K_NET:
            if (exim_lose(e, LM_LOSS_DROPPED, r, "a client's ident; rule dropped") != 0)
                return -1;
            break;
        case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW:
            if (exim_lose(e, LM_LOSS_DROPPED, r, "a client host-name rule (a name matches "
                          "only after a reverse DNS lookup; relayconv writes addresses "
                          "only); rule dropped") != 0)
                return -1;
            break;
        case LM_K_ANYHOST:
            if (exim_lose(e, LM_LOSS_DROPPED, r, "a rule for every client with a host name; "
                          "rule dropped") != 0)
                return -1;
            break;
        case LM_K_SERVER:
            if (exim_lose(e, LM_LOSS_DROPPED, r, "a rule on the server address a client "
                          "reached; rule dropped") != 0)
                return -1;
            break;
        case LM_K_AUTH:
            if (exim_lose(e, LM_LOSS_DROPPED, r, "a rule for authenticated clients in these "
                          "lists; rule dropped") != 0)
                return -1;
            break;
        default:
            break;
        }
    }
    if (any != NULL && any->action == LM_A_DISCARD)
        any = NULL;
    return exim_hosts_family(e, LM_IPV4, any, relay, refused) != 0 ||
           exim_hosts_family(e, LM_IPV6, any, relay, refused) != 0 ? -1 : 0;
}

/* An address-list item to write. */
struct exim_item {
    const struct lm_rule *r;    /* the rule lm_decide finds for this key */
    const char *pattern;
    enum lm_kind kind;          /* ADDR, NAME (domain exactly), BELOW */
    long rank;
    size_t idx;
};

static int
exim_bykey(const void *a, const void *b)
{
    const struct exim_item *x = a, *y = b;
    int c = (x->kind == LM_K_ADDR) - (y->kind == LM_K_ADDR);

    if (c != 0)
        return -c;
    if ((c = strcmp(x->pattern, y->pattern)) != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
exim_byrank(const void *a, const void *b)
{
    const struct exim_item *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (strcmp(x->pattern, y->pattern) != 0)
        return strcmp(x->pattern, y->pattern);
    return 0;
}

static void
exim_item_write(FILE *f, const struct exim_item *it, int positive)
{
    fprintf(f, "%s%s%s\n", positive ? "" : "!",
            it->kind == LM_K_ADDR ? "" : it->kind == LM_K_NAME ? "*@" : "*@*.", it->pattern);
}

/* The keyed rules of STAGE as address-list items in lookup order; the
 * refusing ones positive in REFUSED, the accepting ones (RELAY at the
 * recipient stage) positive in ACCEPTED (may be NULL), all others negated. */
static int
exim_addresses(struct exim_emit *e, unsigned stage, FILE *refused, FILE *accepted)
{
    const struct lm_policy *p = e->p;
    struct exim_item *ix, *items;
    size_t n = 0, ni = 0, i, j;
    int rc = -1;

    ix = malloc((p->nrules + 1) * sizeof *ix);
    items = malloc((2 * p->nrules + 1) * sizeof *items);
    if (ix == NULL || items == NULL) {
        lm_diag_add(e->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (!(r->stage & stage) || r->kind == LM_K_NEVER)
            continue;
        if (r->kind == LM_K_USER) {
            if (exim_lose(e, LM_LOSS_DROPPED, r, "a local-part rule (\"user@\") in these "
                          "lists; rule dropped") != 0)
                goto out;
            continue;
        }
        if (r->kind == LM_K_ANY && stage != LM_S_CONNECT) {
            if ((stage == LM_S_TO ? p->order->rcpt_rules : p->order->sender != LM_SENDER_NONE) &&
                exim_lose(e, LM_LOSS_DROPPED, r, "a default for every address; rule "
                          "dropped") != 0)
                goto out;
            continue;
        }
        if (r->kind != LM_K_ADDR && r->kind != LM_K_NAME && r->kind != LM_K_TREE &&
            r->kind != LM_K_BELOW)
            continue;
        if (r->info != NULL || r->pattern == NULL)
            continue;
        if (stage == LM_S_TO && !p->order->rcpt_rules)
            continue;
        if (r->action == LM_A_DISCARD) {
            if (exim_lose(e, LM_LOSS_DROPPED, r, "discarding mail by address in these lists; "
                          "rule dropped") != 0)
                goto out;
            continue;
        }
        if (exim_reply_lost(e, r) != 0)
            goto out;
        if (stage == LM_S_FROM && r->action == LM_A_RELAY && lm_sender_relay_grants(p, r) &&
            lm_loss_add(e->lost, LM_LOSS_CHANGED, 0, r, NULL, e->d, "exim cannot let a "
                        "client relay because of its envelope sender; the sender is only "
                        "not refused") != 0)
            goto out;
        ix[n].r = r;
        ix[n].pattern = r->pattern;
        ix[n].kind = r->kind == LM_K_ADDR ? LM_K_ADDR : LM_K_NAME;
        ix[n].idx = i;
        n++;
    }
    qsort(ix, n, sizeof *ix, exim_bykey);
    for (i = 0; i < n; i = j) {
        const struct lm_rule *best0 = NULL, *best1 = NULL;
        int r0 = 0, r1 = 0, k;
        for (j = i; j < n && ix[j].kind == ix[i].kind &&
                    strcmp(ix[j].pattern, ix[i].pattern) == 0; j++) {
            const struct lm_rule *r = ix[j].r;
            if ((k = lm_rule_key_rank(r, stage, 1)) >= 0 && (best0 == NULL || k < r0)) {
                best0 = r;
                r0 = k;
            }
            if (ix[i].kind != LM_K_ADDR && (k = lm_rule_key_rank(r, stage, 0)) >= 0 &&
                (best1 == NULL || k < r1)) {
                best1 = r;
                r1 = k;
            }
        }
        if (best0 != NULL) {
            items[ni] = ix[i];
            items[ni].r = best0;
            items[ni].rank = exim_rank(ix[i].kind, ix[i].pattern);
            ni++;
        }
        if (best1 != NULL) {
            items[ni] = ix[i];
            items[ni].r = best1;
            items[ni].kind = LM_K_BELOW;
            items[ni].rank = exim_rank(LM_K_BELOW, ix[i].pattern);
            ni++;
        }
    }
    qsort(items, ni, sizeof *items, exim_byrank);
    for (i = 0; i < ni; i++) {
        const struct lm_rule *r = items[i].r;
        exim_item_write(refused, &items[i], lm_action_refuses(r->action));
        if (accepted != NULL)
            exim_item_write(accepted, &items[i], r->action == LM_A_RELAY);
    }
    rc = 0;
out:
    free(ix);
    free(items);
    return rc;
}

static int
exim_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
          struct lm_losses *lost, struct lm_diags *d)
{
    struct exim_emit e = { in, lost, d };
    const char *dir = lm_emit_setting(opts, "server-dir");
    size_t i;

    if (dir == NULL)
        dir = "/etc/exim4/relaymap";

    if (exim_hosts(&e, out[EX_RELAY], out[EX_REFUSED]) != 0 ||
        exim_addresses(&e, LM_S_FROM, out[EX_SENDERS], NULL) != 0 ||
        exim_addresses(&e, LM_S_TO, out[EX_RREFUSED], out[EX_RACCEPTED]) != 0)
        return -1;
    for (i = 0; i < in->ndomains; i++) {
        const struct lm_domain *dm = &in->domains[i];
        if (dm->kind != LM_K_BELOW)
            fprintf(out[EX_DOMAINS], "%s\n", dm->name);
        if (dm->kind != LM_K_NAME)
            fprintf(out[EX_DOMAINS], "*.%s\n", dm->name);
    }
    for (i = 0; i < in->nlocals; i++) {
        char nb[2 * LM_IPADDR_BUF];
        if (lm_loss_add(lost, LM_LOSS_DROPPED, 0, NULL, &in->locals[i].pos, d, "exim takes "
                        "its own addresses from its interfaces, not from these lists; "
                        "\"local %s\" dropped", lm_rule_net_str(&in->locals[i].net, nb)) != 0)
            return -1;
    }
    fprintf(out[EX_LISTS],
            "# relaymap: relay policy for Exim, main-section definitions "
            "(relaymap-formats(5)).\n"
            "# Include in the main section: .include %s/exim.lists.conf\n"
            "# and the ACL after \"begin acl\": .include %s/exim.acl.conf\n"
            "# The lists must be regular files the Exim user can read.\n", dir, dir);
    for (i = 0; i < EXIM_NLISTS; i++)
        fprintf(out[EX_LISTS], "%s%s/%s%s\n", exim_lists[i].def, dir,
                exim_outputs[exim_lists[i].file], exim_lists[i].suffix);
    fprintf(out[EX_LISTS], "acl_smtp_rcpt = acl_relaymap_rcpt\n");
    fprintf(out[EX_ACL], "# relaymap: the RCPT ACL (relaymap-formats(5)); include after "
                         "\"begin acl\".\n"
                         "# The first statement that matches decides.\n");
    for (i = 0; exim_acl[i] != NULL; i++) {
        const char *s = exim_acl[i], *sp = strchr(s, ' ');
        if (i == 0 || sp == NULL)
            fprintf(out[EX_ACL], "%s\n", s);
        else
            fprintf(out[EX_ACL], "  %-7.*s %s\n", (int)(sp - s), s, sp + 1);
    }
    return 0;
}

static int
exim_detect(const char *name, const char *text, size_t len)
{
    static const char *const marks[] = { "acl_relaymap_rcpt", "net-iplsearch;", NULL };
    size_t k;
    int part = lm_codec_part(&lm_codec_exim, name);

    for (k = 0; marks[k] != NULL; k++)
        if (lm_text_has(text, len, marks[k]))
            return LM_DETECT_SURE;
    if (part >= 0)
        return part <= EX_ACL ? LM_DETECT_SURE : LM_DETECT_LIKELY;
    return LM_DETECT_NO;
}

/* The lists file names the other files by directory (plain files: no
 * table type). */
static const char *const exim_settings[] = { "server-dir", NULL };

const struct lm_codec lm_codec_exim = {
    .name = "exim",
    .description = "Exim list files (net-iplsearch hosts, domains, addresses) and RCPT ACL",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &exim_order,
    .outputs = exim_outputs,
    .detect = exim_detect,
    .parse = exim_parse,
    .emit = exim_emit,
    .settings = exim_settings,
};
