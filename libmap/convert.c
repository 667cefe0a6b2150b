/*
 * convert.c - the relayconv pipeline (convert.h): load and detect, emit to
 * memory, read the output back with the target's parser, verify both
 * policies by lm_decide() on every boundary of the address partition and on
 * every name and address they mention, then publish atomically.  Loss fails
 * closed; nothing is written unless every check passed or the caller opted
 * in (LM_CV_LOSSY, LM_CV_ALLOW_WIDENING).  Also the loss list of codec.h.
 */
#include "libmap/convert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libmap/atomic.h"
#include "libmap/json.h"
#include "libmap/ipset.h"
#include "libmap/source.h"

#define CONVERT_PROBE_DOMAIN "relaymap-probe.invalid"
#define CONVERT_PROBE_USER   "relaymap-probe"
#define CONVERT_SAMPLE       32         /* listed addresses tried with each name */
#define CONVERT_PAIRS        1000000    /* at most this many name x address pairs */

/* --- losses ------------------------------------------------------------------ */

void
lm_losses_init(struct lm_losses *l)
{
    memset(l, 0, sizeof *l);
}

void
lm_losses_fini(struct lm_losses *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->n; i++) {
        free(l->v[i].file);
        free(l->v[i].rule);
        free(l->v[i].why);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

const char *
lm_loss_kind_name(enum lm_loss_kind k)
{
    switch (k) {
    case LM_LOSS_DROPPED:  return "dropped";
    case LM_LOSS_WIDENED:  return "widened";
    case LM_LOSS_NARROWED: return "narrowed";
    case LM_LOSS_CHANGED:  return "changed";
    }
    return "?";
}

int
lm_loss_add(struct lm_losses *l, enum lm_loss_kind kind, int widens,
            const struct lm_rule *r, const struct lm_pos *pos,
            struct lm_diags *d, const char *fmt, ...)
{
    struct lm_loss *x;
    va_list ap;
    int len;

    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 16;
        struct lm_loss *nv = realloc(l->v, ncap * sizeof *nv);
        if (nv == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
        l->v = nv;
        l->cap = ncap;
    }
    x = &l->v[l->n];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->widens = widens != 0;
    if (r != NULL)
        pos = &r->pos;
    if (pos != NULL) {
        x->file = pos->file ? strdup(pos->file) : NULL;
        x->line = pos->line;
    }
    x->rule = r ? lm_rule_str(r) : NULL;
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len >= 0 && (x->why = malloc((size_t)len + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(x->why, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    if (x->why == NULL || (r != NULL && x->rule == NULL) ||
        (pos != NULL && pos->file != NULL && x->file == NULL)) {
        free(x->file);
        free(x->rule);
        free(x->why);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
    }
    l->n++;
    l->nwiden += x->widens;
    return 0;
}

/* --- report -------------------------------------------------------------------- */

void
lm_convert_report_init(struct lm_convert_report *r)
{
    memset(r, 0, sizeof *r);
    lm_losses_init(&r->losses);
}

void
lm_convert_report_fini(struct lm_convert_report *r)
{
    size_t i;

    if (r == NULL)
        return;
    lm_losses_fini(&r->losses);
    for (i = 0; i < r->nkept; i++) {
        free(r->diffs[i].query);
        free(r->diffs[i].a_at);
        free(r->diffs[i].b_at);
    }
    free(r->diffs);
    memset(r, 0, sizeof *r);
}

void
lm_convert_report_json(FILE *f, const struct lm_convert_report *r)
{
    size_t i;

    fputs("{\"from\":", f);
    lm_json_cstr(f, r->from ? r->from->name : NULL);
    fputs(",\"to\":", f);
    lm_json_cstr(f, r->to ? r->to->name : NULL);
    fprintf(f, ",\"written\":%s,\"rules_in\":%zu,\"rules_out\":%zu,\"probes\":%zu,"
            "\"losses\":[", r->written ? "true" : "false", r->nrules_in, r->nrules_out,
            r->nprobes);
    for (i = 0; i < r->losses.n; i++) {
        const struct lm_loss *x = &r->losses.v[i];
        fputs(i ? ",{\"file\":" : "{\"file\":", f);
        lm_json_cstr(f, x->file);
        fprintf(f, ",\"line\":%lu,\"kind\":\"%s\",\"widens\":%s,\"rule\":", x->line,
                lm_loss_kind_name(x->kind), x->widens ? "true" : "false");
        lm_json_cstr(f, x->rule);
        fputs(",\"why\":", f);
        lm_json_cstr(f, x->why);
        fputc('}', f);
    }
    fprintf(f, "],\"differences_total\":%zu,\"differences_widening\":%zu,\"differences\":[",
            r->ndiffs, r->nwider);
    for (i = 0; i < r->nkept; i++) {
        const struct lm_diff *x = &r->diffs[i];
        fputs(i ? ",{\"query\":" : "{\"query\":", f);
        lm_json_cstr(f, x->query);
        fprintf(f, ",\"source\":\"%s\",\"target\":\"%s\",\"source_rule\":",
                lm_verdict_name(x->a), lm_verdict_name(x->b));
        lm_json_cstr(f, x->a_at);
        fputs(",\"target_rule\":", f);
        lm_json_cstr(f, x->b_at);
        fprintf(f, ",\"widens\":%s}", x->wider ? "true" : "false");
    }
    fputs("]}\n", f);
}

/* --- loading ------------------------------------------------------------------- */

/* Read a whole file ("-" = standard input) into *buf. */
static int
convert_slurp(const char *path, char **buf, size_t *len, struct lm_diags *d)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 65536, n = 0;
    char *b;

    *buf = NULL;
    *len = 0;
    if (f == NULL)
        return lm_diag_sys(d, LM_E_NOINPUT, errno, NULL, "cannot open %s", path);
    if ((b = malloc(cap)) == NULL) {
        if (f != stdin)
            fclose(f);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                if (f != stdin)
                    fclose(f);
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            }
            b = nb;
            cap *= 2;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(b);
        if (f != stdin)
            fclose(f);
        return lm_diag_sys(d, LM_E_NOINPUT, e, NULL, "cannot read %s", path);
    }
    if (f != stdin)
        fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

static const char *
convert_base(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* Choose the codec for one file's text; NULL after an error. */
static const struct lm_codec *
convert_detect(const char *path, const char *text, size_t len, struct lm_diags *d)
{
    const struct lm_codec *const *cs = lm_codecs();
    const struct lm_codec *best = NULL;
    int bestscore = -1, ties = 0;
    char names[256];
    size_t i;

    for (i = 0; cs[i] != NULL; i++) {
        int s;
        if (!(cs[i]->caps & LM_CODEC_PARSE) || cs[i]->detect == NULL)
            continue;
        s = cs[i]->detect(convert_base(path), text, len);
        if (s > bestscore) {
            best = cs[i];
            bestscore = s;
            ties = 0;
        } else if (s == bestscore) {
            ties++;
        }
    }
    if (best != NULL && bestscore >= LM_DETECT_LIKELY && ties == 0)
        return best;
    names[0] = '\0';
    for (i = 0; cs[i] != NULL; i++) {
        int s;
        if (!(cs[i]->caps & LM_CODEC_PARSE) || cs[i]->detect == NULL)
            continue;
        s = cs[i]->detect(convert_base(path), text, len);
        if (s == bestscore && s >= LM_DETECT_MAYBE &&
            strlen(names) + strlen(cs[i]->name) + 5 < sizeof names) {
            if (names[0] != '\0')
                strcat(names, " or ");
            strcat(names, cs[i]->name);
        }
    }
    if (ties > 0 && bestscore >= LM_DETECT_MAYBE)
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: ambiguous format: it could be %s; "
                    "name it with --from", path, names);
    else if (names[0] != '\0')
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: cannot tell the format (perhaps "
                    "%s); name it with --from", path, names);
    else
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: cannot tell the format; name it "
                    "with --from", path);
    return NULL;
}

static int
convert_parse_file(const char *path, const char *from, struct lm_policy *p,
                   const struct lm_codec **codec, struct lm_diags *d)
{
    const struct lm_codec *c;
    struct lm_source *src;
    char *text;
    size_t len;
    int rc;

    if (convert_slurp(path, &text, &len, d) != 0)
        return -1;
    if (from != NULL) {
        c = lm_codec_find(from);
    } else if ((c = convert_detect(path, text, len, d)) == NULL) {
        free(text);
        return -1;
    }
    if (*codec != NULL && *codec != c) {
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s looks like %s, but the files "
                    "before it are %s; give --from", path, c->name, (*codec)->name);
        free(text);
        return -1;
    }
    *codec = c;
    src = lm_source_mem(strcmp(path, "-") == 0 ? "<stdin>" : path, text, len, d);
    if (src == NULL) {
        free(text);
        return -1;
    }
    rc = c->parse(src, p, d);
    lm_source_close(src);
    free(text);
    return rc;
}

/* A directory holding a several-file format: parse each part present. */
static int
convert_parse_dir(const char *dir, const char *from, struct lm_policy *p,
                  const struct lm_codec **codec, struct lm_diags *d)
{
    const struct lm_codec *const *cs = lm_codecs();
    size_t i, k, found = 0;
    int rc = 0;

    for (i = 0; cs[i] != NULL; i++) {
        const struct lm_codec *c = cs[i];
        struct stat st;
        char path[4096];
        if ((from != NULL && strcmp(c->name, from) != 0) || !(c->caps & LM_CODEC_PARSE))
            continue;
        if (*codec != NULL && *codec != c)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, c->outputs[0]);
        if (stat(path, &st) != 0)
            continue;
        *codec = c;
        for (k = 0; c->outputs[k] != NULL; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, c->outputs[k]);
            if (stat(path, &st) != 0)
                continue;
            found++;
            if (convert_parse_file(path, c->name, p, codec, d) != 0)
                rc = -1;
        }
        break;
    }
    if (found == 0)
        return lm_diag_add(d, LM_ERROR, LM_E_NOINPUT, NULL, "%s: directory holds no policy "
                           "file under a name relayconv knows", dir);
    return rc;
}

int
lm_policy_load(const char *const *files, size_t n, const char *from,
               struct lm_policy **out, const struct lm_codec **codec,
               struct lm_diags *d)
{
    const struct lm_codec *c = NULL;
    struct lm_policy *p;
    size_t i;
    int rc = 0;

    *out = NULL;
    if (from != NULL) {
        const struct lm_codec *f = lm_codec_find(from);
        if (f == NULL || !(f->caps & LM_CODEC_PARSE))
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "unknown input format "
                               "\"%s\" (relayconv --list shows them)", from);
    }
    if ((p = lm_policy_new(d)) == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc |= convert_parse_dir(files[i], from, p, &c, d);
        else
            rc |= convert_parse_file(files[i], from, p, &c, d);
        if (lm_diags_full(d))
            break;
    }
    if (rc != 0 || d->nerrors > 0 || lm_policy_index(p, d) != 0) {
        lm_policy_free(p);
        return -1;
    }
    if (codec != NULL)
        *codec = c;
    *out = p;
    return 0;
}

/* --- verify ---------------------------------------------------------------------- */

/* A set of probe strings: text appended to one buffer (offsets while it
 * grows), then sorted and made unique as pointers by convert_suniq.  A
 * million names would otherwise be a million mallocs. */
struct convert_strs {
    char   *buf;
    size_t  len, cap;
    size_t *off;        /* while adding */
    char  **v;          /* after convert_suniq */
    size_t  n, capoff;
    int     err;
};

static void
convert_sadd(struct convert_strs *s, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0;

    if (s->err)
        return;
    if (s->n == s->capoff) {
        size_t ncap = s->capoff ? 2 * s->capoff : 64;
        size_t *nv = realloc(s->off, ncap * sizeof *nv);
        if (nv == NULL) {
            s->err = 1;
            return;
        }
        s->off = nv;
        s->capoff = ncap;
    }
    if (s->cap - s->len < la + lb + 1) {
        size_t ncap = s->cap ? 2 * s->cap : 4096;
        char *nb;
        while (ncap - s->len < la + lb + 1)
            ncap *= 2;
        if ((nb = realloc(s->buf, ncap)) == NULL) {
            s->err = 1;
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, a, la);
    if (b != NULL)
        memcpy(s->buf + s->len + la, b, lb);
    s->buf[s->len + la + lb] = '\0';
    s->off[s->n++] = s->len;
    s->len += la + lb + 1;
}

static int
convert_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Freeze the set: pointers into the buffer, sorted, repeats dropped.  No
 * more adds after this. */
static void
convert_suniq(struct convert_strs *s)
{
    size_t i, j;

    if (s->err)
        return;
    if ((s->v = malloc((s->n ? s->n : 1) * sizeof *s->v)) == NULL) {
        s->err = 1;
        return;
    }
    for (i = 0; i < s->n; i++)
        s->v[i] = s->buf + s->off[i];
    free(s->off);
    s->off = NULL;
    if (s->n == 0)
        return;
    qsort(s->v, s->n, sizeof *s->v, convert_strcmp);
    for (i = j = 1; i < s->n; i++)
        if (strcmp(s->v[i], s->v[j - 1]) != 0)
            s->v[j++] = s->v[i];
    s->n = j;
}

static void
convert_sfree(struct convert_strs *s)
{
    free(s->buf);
    free(s->off);
    free(s->v);
}

/* Every domain the rules of a policy mention (names), and the mail
 * addresses to try (addrs): the rules' own, and one at and one below each
 * accepted domain. */
static void
convert_names(const struct lm_policy *p, struct convert_strs *names,
              struct convert_strs *addrs)
{
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        const char *at;
        switch (r->kind) {
        case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW:
            convert_sadd(names, r->pattern, NULL);
            break;
        case LM_K_ADDR:
            convert_sadd(addrs, r->pattern, NULL);
            if ((at = strrchr(r->pattern, '@')) != NULL)
                convert_sadd(names, at + 1, NULL);
            break;
        case LM_K_USER:
            convert_sadd(addrs, r->pattern, "@" CONVERT_PROBE_DOMAIN);
            break;
        default:
            break;
        }
    }
    /* An accepted domain matters only as a recipient domain: as a client
     * host name it meets the same rules as the probe below the longest
     * rule name it ends in (or the unknown probe domain), which the names
     * of the rules already give.  A million accepted domains would
     * otherwise add millions of host questions that cannot differ. */
    for (i = 0; i < p->ndomains; i++) {
        convert_sadd(addrs, CONVERT_PROBE_USER "@", p->domains[i].name);
        convert_sadd(addrs, CONVERT_PROBE_USER "@" CONVERT_PROBE_USER ".", p->domains[i].name);
    }
}

/* A recipient at each end of each of the server's own addresses
 * ("relaymap-probe@[192.0.2.1]"). */
static void
convert_locals(const struct lm_policy *p, struct convert_strs *lits)
{
    char buf[LM_IPADDR_BUF + 8];
    size_t i, k, n;

    for (i = 0; i < p->nlocals; i++)
        for (k = 0; k < 2; k++) {
            const struct lm_iprange *r = &p->locals[i].net.range;
            n = (size_t)sprintf(buf, "[%s", r->lo.family == LM_IPV6 ? "IPv6:" : "");
            lm_ipaddr_format(k == 0 ? &r->lo : &r->hi, buf + n);
            strcat(buf, "]");
            convert_sadd(lits, CONVERT_PROBE_USER "@", buf);
        }
}

static void
convert_ranges(const struct lm_policy *p, struct lm_iprange **v, size_t *n, size_t *cap,
               unsigned *fams, int *err)
{
    size_t i;

    for (i = 0; i < p->nrules + p->nlocals; i++) {
        const struct lm_iprange *r;
        if (i < p->nrules) {
            if (p->rules[i].kind != LM_K_NET)
                continue;
            r = &p->rules[i].net.range;
        } else {
            r = &p->locals[i - p->nrules].net.range;
        }
        if (*n == *cap) {
            size_t ncap = *cap ? 2 * *cap : 64;
            struct lm_iprange *nv = realloc(*v, ncap * sizeof *nv);
            if (nv == NULL) {
                *err = 1;
                return;
            }
            *v = nv;
            *cap = ncap;
        }
        (*v)[(*n)++] = *r;
        *fams |= r->lo.family == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4;
    }
}

struct convert_vctx {
    const struct lm_policy *a, *b;
    const char *alabel, *blabel;
    size_t max;
    int as_warnings;
    struct lm_convert_report *rep;
    struct lm_diags *d;
    int err;
};

static char *
convert_at(const struct lm_verdict *v)
{
    const struct lm_pos *pos = NULL;
    char buf[4200];

    if (v->rule != NULL)
        pos = &v->rule->pos;
    else if (v->domain != NULL)
        pos = &v->domain->pos;
    if (pos == NULL || pos->file == NULL)
        return NULL;
    snprintf(buf, sizeof buf, "%s:%lu", pos->file, pos->line);
    return strdup(buf);
}

static char *
convert_qstr(const struct lm_query *q)
{
    char ip[LM_IPADDR_BUF];
    size_t len;
    char *s;
    /* The probe sender is the same everywhere: leave it out of messages. */
    int def = q->sender != NULL &&
              strcmp(q->sender, CONVERT_PROBE_USER "@" CONVERT_PROBE_DOMAIN) == 0;

    if (q->ip.family != 0)
        lm_ipaddr_format(&q->ip, ip);
    else
        strcpy(ip, "(none)");
    len = strlen(ip) + 64 + (q->host ? strlen(q->host) : 0) +
          (q->sender ? strlen(q->sender) : 0) + (q->rcpt ? strlen(q->rcpt) : 0);
    if ((s = malloc(len)) == NULL)
        return NULL;
    snprintf(s, len, "client %s%s%s%s%s%s, to %s", ip, q->host ? " (" : "",
             q->host ? q->host : "", q->host ? ")" : "",
             q->sender && !def ? ", from " : "",
             q->sender && !def ? (*q->sender ? q->sender : "<>") : "",
             q->rcpt ? q->rcpt : "<none>");
    return s;
}

/* Compare one transaction; record a difference. */
static void
convert_probe(struct convert_vctx *c, const struct lm_query *q, struct lm_verdict *va)
{
    struct lm_verdict a, b;
    struct lm_diff *x;
    char *qs, *aat, *bat;
    size_t i;
    int wider;

    lm_decide(c->a, q, &a);
    lm_decide(c->b, q, &b);
    c->rep->nprobes++;
    if (va != NULL)
        *va = a;
    if (lm_verdict_same(a.kind, b.kind))
        return;
    wider = lm_verdict_wider(a.kind, b.kind);
    c->rep->ndiffs++;
    c->rep->nwider += wider;
    if (c->rep->nkept >= c->max)
        return;
    aat = convert_at(&a);
    bat = convert_at(&b);
    /* Show one counterexample per pair of deciding rules: the rest say
     * the same thing again. */
    for (i = 0; i < c->rep->nkept; i++) {
        const struct lm_diff *o = &c->rep->diffs[i];
        if (o->a == a.kind && o->b == b.kind &&
            (o->a_at == NULL ? aat == NULL : aat != NULL && strcmp(o->a_at, aat) == 0) &&
            (o->b_at == NULL ? bat == NULL : bat != NULL && strcmp(o->b_at, bat) == 0)) {
            free(aat);
            free(bat);
            return;
        }
    }
    qs = convert_qstr(q);
    lm_diag_add(c->d, c->as_warnings > 1 || (c->as_warnings && !wider) ? LM_WARNING
                                                                       : LM_ERROR,
                LM_E_LOSSY, NULL,
                "%s: %s %s%s%s%s, %s %s%s%s%s%s", qs ? qs : "?",
                c->alabel, lm_verdict_verb(a.kind), aat ? " (" : "", aat ? aat : "",
                aat ? ")" : "", c->blabel, lm_verdict_verb(b.kind), bat ? " (" : "",
                bat ? bat : "", bat ? ")" : "", wider ? ": wider" : "");
    if (c->rep->nkept == c->rep->capdiffs) {
        size_t ncap = c->rep->capdiffs ? 2 * c->rep->capdiffs : 16;
        struct lm_diff *nv = realloc(c->rep->diffs, ncap * sizeof *nv);
        if (nv == NULL) {
            free(qs);
            free(aat);
            free(bat);
            c->err = 1;
            return;
        }
        c->rep->diffs = nv;
        c->rep->capdiffs = ncap;
    }
    x = &c->rep->diffs[c->rep->nkept++];
    x->query = qs;
    x->a = a.kind;
    x->b = b.kind;
    x->a_at = aat;
    x->b_at = bat;
    x->wider = wider;
}

int
lm_verify(const struct lm_policy *a, const struct lm_policy *b,
          const char *alabel, const char *blabel, size_t max_diffs,
          int as_warnings, struct lm_convert_report *rep, struct lm_diags *d)
{
    struct convert_vctx c = { a, b, alabel, blabel, max_diffs ? max_diffs : 10,
                              as_warnings, rep, d, 0 };
    struct convert_strs names = { 0 }, addrs = { 0 }, hosts = { 0 }, lits = { 0 };
    struct lm_iprange *rv = NULL;
    struct lm_ipaddr *probes = NULL, ip0, ipr;
    struct lm_ipset all;
    size_t nr = 0, cap = 0, np = 0, i, k, ndiffs0 = rep->ndiffs, nsample;
    unsigned fams = LM_IPSET_V4;
    int err = 0, have_relay = 0;
    static const char *const rcpts[] = {
        CONVERT_PROBE_USER "@" CONVERT_PROBE_DOMAIN, "postmaster",
    };
    static const char *const sender0 = CONVERT_PROBE_USER "@" CONVERT_PROBE_DOMAIN;

    lm_ipset_init(&all);
    convert_ranges(a, &rv, &nr, &cap, &fams, &err);
    convert_ranges(b, &rv, &nr, &cap, &fams, &err);
    convert_names(a, &names, &addrs);
    convert_names(b, &names, &addrs);
    if (err || names.err || addrs.err)
        goto oom;
    if (lm_ip_probes(rv, nr, fams, &probes, &np, d) != 0)
        goto fail;
    /* A client that no network rule of either side names: the lowest IPv4
     * address outside every network.  Mostly that is 0.0.0.0, which one
     * pass finds; only when a network covers it is the union built (for a
     * million rules that set costs more memory than the rules). */
    lm_ipaddr_v4(&ip0, 0, 0, 0, 0);
    for (i = 0; i < nr; i++)
        if (lm_ipaddr_cmp(&rv[i].lo, &ip0) <= 0 && lm_ipaddr_cmp(&rv[i].hi, &ip0) >= 0)
            break;
    if (i < nr) {
        lm_ipaddr_v4(&ip0, 192, 0, 2, 1);
        for (i = 0; i < nr; i++)
            if (lm_ipset_add_range(&all, &rv[i], d) != 0)
                goto fail;
        if (lm_ipset_complement(&all, &all, LM_IPSET_V4, d) != 0)
            goto fail;
        if (all.n > 0)
            ip0 = all.v[0].lo;
        lm_ipset_fini(&all);
        lm_ipset_init(&all);
    }
    convert_suniq(&names);
    if (names.err)
        goto oom;
    for (i = 0; i < names.n; i++) {
        convert_sadd(&hosts, names.v[i], NULL);
        convert_sadd(&hosts, CONVERT_PROBE_USER ".", names.v[i]);
        convert_sadd(&addrs, CONVERT_PROBE_USER "@", names.v[i]);
        convert_sadd(&addrs, CONVERT_PROBE_USER "@" CONVERT_PROBE_USER ".", names.v[i]);
    }
    convert_sadd(&hosts, CONVERT_PROBE_DOMAIN, NULL);
    convert_sadd(&addrs, sender0, NULL);
    if (hosts.err || addrs.err)
        goto oom;
    convert_suniq(&hosts);
    convert_suniq(&addrs);
    if (hosts.err || addrs.err)
        goto oom;

    /* 1. every boundary address, without a host name.  Steps 1 and 2 send
     *    with the null sender: sender rules are probed in step 3, and this
     *    keeps millions of questions from repeating the same lookups. */
    for (i = 0; i < np && !c.err; i++)
        for (k = 0; k < 2; k++) {
            struct lm_query q = { probes[i], NULL, NULL, NULL, rcpts[k] };
            struct lm_verdict v;
            convert_probe(&c, &q, &v);
            if (k == 0 && v.kind == LM_V_RELAY && !have_relay) {
                ipr = probes[i];
                have_relay = 1;
            }
        }
    /* 2. every host name from an unlisted address, and from a sample of
     *    listed ones (formats differ in whether a name or an address rule
     *    wins; every pair would be quadratic, so at most 32 addresses, fewer
     *    when there are many names) */
    nsample = nr < CONVERT_SAMPLE ? nr : CONVERT_SAMPLE;
    if (hosts.n > 0 && nsample > CONVERT_PAIRS / hosts.n)
        nsample = CONVERT_PAIRS / hosts.n;
    for (i = 0; i < hosts.n && !c.err; i++)
        for (k = 0; k < 2; k++) {
            struct lm_query q = { ip0, hosts.v[i], NULL, NULL, rcpts[k] };
            size_t j;
            convert_probe(&c, &q, NULL);
            for (j = 0; j < nsample; j++) {
                q.ip = rv[j * nr / nsample].lo;
                convert_probe(&c, &q, NULL);
            }
        }
    /* 2b. the loopback clients, which Sendmail lets relay whatever its map
     *    says: no rule need mention them, so the partition may not reach
     *    them (127.0.0.1 and ::1 are two clients: relaymap-formats(5)).
     *    Then mail to each side's own addresses ("user@[192.0.2.1]"),
     *    which is local whatever the client. */
    for (i = 0; i < 2 && !c.err; i++) {
        static const char *const loops[2] = { "127.0.0.1", "::1" };
        struct lm_query q = { ip0, NULL, NULL, NULL, rcpts[0] };
        if (lm_ipaddr_parse(loops[i], strlen(loops[i]), LM_IPF_V4 | LM_IPF_V6, &q.ip,
                            NULL, NULL) != 0)
            continue;
        convert_probe(&c, &q, NULL);
        q.rcpt = rcpts[1];
        convert_probe(&c, &q, NULL);
    }
    convert_locals(a, &lits);
    convert_locals(b, &lits);
    if (lits.err)
        goto oom;
    convert_suniq(&lits);
    if (lits.err)
        goto oom;
    for (i = 0; i < lits.n && !c.err; i++) {
        struct lm_query q = { ip0, NULL, NULL, NULL, lits.v[i] };
        convert_probe(&c, &q, NULL);
        if (have_relay) {
            q.ip = ipr;
            convert_probe(&c, &q, NULL);
        }
    }
    /* 3. every sender, and 4. every recipient, from an unlisted client and
     *    from one the source lets relay */
    for (i = 0; i < addrs.n && !c.err; i++) {
        struct lm_query q = { ip0, NULL, NULL, addrs.v[i], rcpts[1] };
        convert_probe(&c, &q, NULL);
        q.sender = sender0;
        q.rcpt = addrs.v[i];
        convert_probe(&c, &q, NULL);
        q.sender = NULL;
        convert_probe(&c, &q, NULL);
        if (have_relay) {
            q.ip = ipr;
            convert_probe(&c, &q, NULL);
            q.sender = addrs.v[i];
            q.rcpt = rcpts[0];
            convert_probe(&c, &q, NULL);
        }
    }
    if (c.err)
        goto oom;
    convert_sfree(&names);
    convert_sfree(&addrs);
    convert_sfree(&hosts);
    convert_sfree(&lits);
    lm_ipset_fini(&all);
    free(rv);
    free(probes);
    return rep->ndiffs > ndiffs0 ? LM_NOTFOUND : 0;
oom:
    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
fail:
    convert_sfree(&names);
    convert_sfree(&addrs);
    convert_sfree(&hosts);
    convert_sfree(&lits);
    lm_ipset_fini(&all);
    free(rv);
    free(probes);
    return -1;
}

/* --- convert ------------------------------------------------------------------------ */

struct convert_out {
    char  *buf;
    size_t len;
};

static int
convert_emit(const struct lm_codec *to, const struct lm_policy *p, struct convert_out *o,
             size_t nout, struct lm_losses *lost, struct lm_diags *d)
{
    FILE *fs[16];
    size_t i;
    int rc = 0;

    if (nout > 16)
        return lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "codec %s has too many outputs",
                           to->name);
    for (i = 0; i < nout; i++) {
        o[i].buf = NULL;
        o[i].len = 0;
        if ((fs[i] = open_memstream(&o[i].buf, &o[i].len)) == NULL) {
            while (i-- > 0)
                fclose(fs[i]);
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        }
    }
    if (to->emit(p, fs, lost, d) != 0)
        rc = -1;
    for (i = 0; i < nout; i++)
        if (ferror(fs[i]) | fclose(fs[i]))
            rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "cannot buffer the output");
    return rc;
}

/* Read the emitted text back with the target's own parser. */
static struct lm_policy *
convert_readback(const struct lm_codec *to, const struct convert_out *o, size_t nout,
                 const char *outpath, struct lm_diags *d)
{
    struct lm_policy *p = lm_policy_new(d);
    struct lm_diags rd;
    size_t i;
    int rc = 0;

    if (p == NULL)
        return NULL;
    lm_diags_init(&rd);
    for (i = 0; i < nout && rc == 0; i++) {
        char name[4096];
        struct lm_source *s;
        if (o[i].len == 0 && i > 0)
            continue;
        if (outpath != NULL && nout > 1)
            snprintf(name, sizeof name, "%s/%s", outpath, to->outputs[i]);
        else
            snprintf(name, sizeof name, "%s", outpath ? outpath : to->outputs[i]);
        s = lm_source_mem(name, o[i].buf ? o[i].buf : "", o[i].len, &rd);
        if (s == NULL || to->parse(s, p, &rd) != 0)
            rc = -1;
        lm_source_close(s);
    }
    if (rc == 0)
        rc = lm_policy_index(p, &rd);
    if (rc != 0) {
        /* Our own output does not parse: a bug in the emitter.  Show why. */
        for (i = 0; i < rd.n && i < 5; i++)
            lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "reading the %s output back: "
                        "%s:%lu: %s", to->name, rd.v[i].file ? rd.v[i].file : "?",
                        rd.v[i].line, rd.v[i].msg ? rd.v[i].msg : "?");
        lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "the %s output does not read back; "
                    "nothing written", to->name);
        lm_policy_free(p);
        p = NULL;
    }
    lm_diags_fini(&rd);
    return p;
}

static int
convert_publish(const struct lm_codec *to, const struct convert_out *o, size_t nout,
                const struct lm_convert_opts *opt, FILE *out, struct lm_diags *d)
{
    char **finals;
    struct lm_atomic *a;
    size_t i;
    int rc = -1;

    if (opt->output == NULL) {
        for (i = 1; i < nout; i++)
            if (o[i].len > 0)
                return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s output is %zu files "
                                   "(%s is not empty); write it with -o DIR", to->name,
                                   nout, to->outputs[i]);
        if (o[0].len > 0 && fwrite(o[0].buf, 1, o[0].len, out) != o[0].len)
            return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the output");
        if (fflush(out) != 0)
            return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the output");
        return 0;
    }
    if (nout > 1 && mkdir(opt->output, 0755) != 0 && errno != EEXIST)
        return lm_diag_sys(d, LM_E_CREATE, errno, NULL, "cannot create directory %s",
                           opt->output);
    if ((finals = calloc(nout + 1, sizeof *finals)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (i = 0; i < nout; i++) {
        size_t len = strlen(opt->output) + strlen(to->outputs[i]) + 2;
        if ((finals[i] = malloc(len)) == NULL)
            goto out;
        if (nout > 1)
            snprintf(finals[i], len, "%s/%s", opt->output, to->outputs[i]);
        else
            snprintf(finals[i], len, "%s", opt->output);
    }
    /* The files of a format are one policy: published all new or all old. */
    a = lm_atomic_begin((const char *const *)finals, LM_ATOMIC_SET
                        | ((opt->flags & LM_CV_NOWAIT) ? LM_ATOMIC_NOWAIT : 0), d);
    if (a == NULL)
        goto out;
    for (i = 0; i < nout; i++)
        if (lm_atomic_write(a, i, o[i].buf, o[i].len, d) != 0) {
            lm_atomic_end(a);
            goto out;
        }
    rc = lm_atomic_commit(a, d);
    lm_atomic_end(a);
out:
    if (rc != 0 && d->nerrors == 0)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (i = 0; i < nout; i++)
        free(finals[i]);
    free(finals);
    return rc;
}

/* Report each loss as a warning (published anyway) or an error. */
static void
convert_report_losses(const struct lm_losses *l, const struct lm_codec *to, unsigned flags,
                      struct lm_diags *d)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct lm_loss *x = &l->v[i];
        struct lm_pos pos = { x->file, x->line, 0 };
        int fatal = !(flags & LM_CV_LOSSY) || (x->widens && !(flags & LM_CV_ALLOW_WIDENING));
        lm_diag_add(d, fatal ? LM_ERROR : LM_WARNING, LM_E_LOSSY, x->file ? &pos : NULL,
                    "%s: %s%s", to->name, x->why ? x->why : lm_loss_kind_name(x->kind),
                    x->widens ? " (this widens what the policy accepts)" : "");
    }
}

int
lm_convert(const char *const *files, size_t n, const struct lm_convert_opts *o,
           FILE *out, struct lm_convert_report *rep, struct lm_diags *d)
{
    struct lm_policy *src = NULL, *back = NULL;
    struct convert_out bufs[16];
    const struct lm_codec *to = lm_codec_find(o->to);
    size_t nout = 0, i;
    int rc = -1, vr;

    memset(bufs, 0, sizeof bufs);
    if (to == NULL || !(to->caps & LM_CODEC_EMIT))
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "unknown output format \"%s\" "
                           "(relayconv --list shows them)", o->to);
    rep->to = to;
    if (lm_policy_load(files, n, o->from, &src, &rep->from, d) != 0)
        return -1;
    rep->nrules_in = src->nrules;
    lm_lint(src, d);
    nout = lm_codec_noutputs(to);
    if (convert_emit(to, src, bufs, nout, &rep->losses, d) != 0)
        goto out;
    convert_report_losses(&rep->losses, to, o->flags, d);
    if (rep->losses.n > 0 && !(o->flags & LM_CV_LOSSY)) {
        /* Name the options that would really write it: --lossy alone
         * still refuses a widening loss. */
        if (rep->losses.nwiden > 0)
            lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "%zu rule%s cannot be written as %s "
                        "(%zu of the losses widen what the policy accepts); nothing "
                        "written (--lossy --allow-widening writes the rest)", rep->losses.n,
                        rep->losses.n == 1 ? "" : "s", to->name, rep->losses.nwiden);
        else
            lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "%zu rule%s cannot be written as %s; "
                        "nothing written (--lossy writes the rest)", rep->losses.n,
                        rep->losses.n == 1 ? "" : "s", to->name);
        goto out;
    }
    if (rep->losses.nwiden > 0 && !(o->flags & LM_CV_ALLOW_WIDENING)) {
        lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "%zu change%s would widen what the "
                    "policy accepts; nothing written (--allow-widening permits it)",
                    rep->losses.nwiden, rep->losses.nwiden == 1 ? "" : "s");
        goto out;
    }
    if ((back = convert_readback(to, bufs, nout, o->output, d)) == NULL)
        goto out;
    rep->nrules_out = back->nrules;
    vr = lm_verify(src, back, "source", "target", o->max_diffs,
                   !(o->flags & LM_CV_LOSSY) ? 0 :
                   (o->flags & LM_CV_ALLOW_WIDENING) ? 2 : 1, rep, d);
    if (vr < 0)
        goto out;
    if (vr == LM_NOTFOUND) {
        if (!(o->flags & LM_CV_LOSSY) || (rep->nwider > 0 &&
                                          !(o->flags & LM_CV_ALLOW_WIDENING))) {
            lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "the %s output decides %zu of %zu "
                        "probes differently%s; nothing written (%s writes it anyway)",
                        to->name, rep->ndiffs, rep->nprobes,
                        rep->nwider ? ", some of them wider" : "",
                        rep->nwider == 0 ? "--lossy" :
                        (o->flags & LM_CV_LOSSY) ? "--allow-widening"
                                                 : "--lossy --allow-widening");
            goto out;
        }
    }
    if (convert_publish(to, bufs, nout, o, out, d) != 0)
        goto out;
    rep->written = 1;
    rc = 0;
out:
    for (i = 0; i < nout; i++)
        free(bufs[i].buf);
    lm_policy_free(src);
    lm_policy_free(back);
    return rc;
}

/* --- small helpers ------------------------------------------------------------------- */

int
lm_query_ip(struct lm_query *q, const char *text, struct lm_diags *d)
{
    if (lm_ipaddr_parse(text, strlen(text), LM_IPF_V4 | LM_IPF_V6, &q->ip, NULL, NULL) != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "bad client address \"%s\"", text);
    return 0;
}

char *
lm_verdict_str(const struct lm_verdict *v)
{
    char *at = convert_at(v), *s;
    size_t len = 128 + (at ? strlen(at) : 0) + (v->why ? strlen(v->why) : 0);

    if ((s = malloc(len)) != NULL)
        snprintf(s, len, "%s (%s%s%s)", lm_verdict_verb(v->kind), at ? at : "",
                 at ? ": " : "", v->why ? v->why : "");
    free(at);
    return s;
}

/* --- the tool's modes, callable from tests ------------------------------------------ */

void
lm_answer_print(FILE *f, const struct lm_policy *p, const struct lm_query *q,
                const char *client, int json)
{
    struct lm_verdict v;
    char *s;

    lm_decide(p, q, &v);
    if (json) {
        fprintf(f, "{\"verdict\":\"%s\",\"client\":", lm_verdict_name(v.kind));
        lm_json_cstr(f, client);
        fputs(",\"rule\":", f);
        if (v.rule != NULL && v.rule->pos.file != NULL) {
            fputs("{\"file\":", f);
            lm_json_cstr(f, v.rule->pos.file);
            fprintf(f, ",\"line\":%lu}", v.rule->pos.line);
        } else {
            fputs("null", f);
        }
        fputs(",\"why\":", f);
        lm_json_cstr(f, v.why ? v.why : "");
        fputs("}\n", f);
        return;
    }
    s = lm_verdict_str(&v);
    fprintf(f, "client %s%s%s%s, to %s: %s\n", client, q->host ? " (" : "",
            q->host ? q->host : "", q->host ? ")" : "", q->rcpt ? q->rcpt : "<none>",
            s ? s : "?");
    free(s);
}

int
lm_decide_files(const char *const *files, size_t n, const char *fmt, struct lm_query *q,
                const char *client, int json, FILE *in, FILE *out, struct lm_diags *d)
{
    struct lm_policy *p;
    char line[256];

    if (q->rcpt == NULL)
        q->rcpt = CONVERT_PROBE_USER "@" CONVERT_PROBE_DOMAIN;
    if (strcmp(client, "-") != 0 && lm_query_ip(q, client, d) != 0)
        return -1;
    if (lm_policy_load(files, n, fmt, &p, NULL, d) != 0)
        return -1;
    if (strcmp(client, "-") != 0) {
        lm_answer_print(out, p, q, client, json);
    } else {
        /* one address per line; a bad one is reported and skipped */
        while (fgets(line, sizeof line, in) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] != '\0' && lm_query_ip(q, line, d) == 0)
                lm_answer_print(out, p, q, line, json);
        }
    }
    lm_policy_free(p);
    return 0;
}

int
lm_verify_files(const char *a, const char *b, const char *fmt,
                struct lm_convert_report *rep, struct lm_diags *d)
{
    struct lm_policy *pa = NULL, *pb = NULL;
    int rc = -1;

    if (lm_policy_load(&a, 1, fmt, &pa, &rep->from, d) == 0 &&
        lm_policy_load(&b, 1, fmt, &pb, &rep->to, d) == 0) {
        rep->nrules_in = pa->nrules;
        rep->nrules_out = pb->nrules;
        rc = lm_verify(pa, pb, a, b, 0, 0, rep, d);
    }
    lm_policy_free(pa);
    lm_policy_free(pb);
    return rc;
}

int
lm_lint_files(const char *const *files, size_t n, const char *fmt, size_t *nwarn,
              struct lm_diags *d)
{
    struct lm_policy *p;
    size_t before = d->nwarnings;

    *nwarn = 0;
    if (lm_policy_load(files, n, fmt, &p, NULL, d) != 0)
        return -1;
    lm_lint(p, d);
    /* the parsers' warnings (keys that can never match, repeats) count too */
    *nwarn = d->nwarnings - before;
    lm_policy_free(p);
    return 0;
}
