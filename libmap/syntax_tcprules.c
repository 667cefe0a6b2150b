/*
 * syntax_tcprules.c - mapc source syntaxes for qmail:
 *
 *   tcprules   tcp.smtp as Debian's tcprules reads it; the cdb is byte for
 *              byte the one tcprules writes (records in input order, ranges
 *              expanded, data "D\0" and "+NAME=VALUE\0"), and the lines that
 *              tcprules accepts but tcpserver never matches are errors;
 *   tcprules6  the same for the IPv6 build of tcprules (ucspi-tcp-ipv6);
 *   rcpthosts  a qmail rcpthosts list as qmail-newmrh writes
 *              morercpthosts.cdb: lower-cased keys, empty data.
 * Parsing and encoding live in tcprules.c; this file adapts them to the
 * compile pipeline (compile.h).  No allocation per line.
 */
#include <stdio.h>
#include <string.h>

#include "libmap/compile.h"
#include "libmap/tcprules.h"

static unsigned
tcprules_flags(struct lm_syntax_ctx *ctx, unsigned base)
{
    return base | ((lm_syntax_opts(ctx)->flags & LM_C_EXPAND) ? LM_TR_EXPAND : 0);
}

static int
tcprules_emit_rule(struct lm_syntax_ctx *ctx, struct lm_line *ln, unsigned flags,
                   struct lm_diags *d)
{
    struct lm_tcprules_rule r;
    unsigned long n;
    char *buf, *key;
    size_t klen;
    int rc;

    if ((buf = lm_syntax_scratch(ctx, LM_TCPRULES_BUF(ln->len) + ln->len + 32)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    rc = lm_tcprules_parse(ln->text, ln->len, &ln->pos, flags, buf, &r, d);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (!r.range)
        return lm_syntax_emit(ctx, r.key, r.klen, r.data, r.dlen);
    /* Range keys are built after the parser's buffers: the prefix is
     * copied once, then only the number and the suffix change. */
    key = buf + LM_TCPRULES_BUF(ln->len);
    memcpy(key, r.key, r.klen);
    r.key = key;
    for (n = r.lo; n <= r.hi; n++) {
        klen = lm_tcprules_key(&r, n, key);
        if (lm_syntax_emit(ctx, key, klen, r.data, r.dlen) != 0)
            return -1;
    }
    return 0;
}

static int
tcprules_line(struct lm_syntax_ctx *ctx, struct lm_line *ln, struct lm_diags *d)
{
    return tcprules_emit_rule(ctx, ln, tcprules_flags(ctx, 0), d);
}

static int
tcprules6_line(struct lm_syntax_ctx *ctx, struct lm_line *ln, struct lm_diags *d)
{
    return tcprules_emit_rule(ctx, ln, tcprules_flags(ctx, LM_TR_V6), d);
}

/* -N would add a NUL to every key and value: tcpserver and qmail-smtpd
 * look keys up without one, so the map would match nothing. */
static int
tcprules_end(struct lm_syntax_ctx *ctx, struct lm_diags *d)
{
    if (lm_syntax_opts(ctx)->flags & LM_C_NUL)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "-N does not apply to qmail maps: "
                           "tcpserver and qmail-smtpd look keys up without a NUL");
    return 0;
}

static int
tcprules_dump(FILE *out, const lm_datum *key, const lm_datum *val,
              const struct lm_compile_opts *o, struct lm_diags *d)
{
    (void)o;
    return lm_tcprules_dump(out, key, val, 0, d);
}

static int
tcprules6_dump(FILE *out, const lm_datum *key, const lm_datum *val,
               const struct lm_compile_opts *o, struct lm_diags *d)
{
    (void)o;
    return lm_tcprules_dump(out, key, val, LM_TR_V6, d);
}

static int
tcprules_query(struct lm_map *m, const char *question, int json, FILE *out,
               struct lm_diags *d)
{
    return lm_tcprules_query(m, question, 0, json, out, d);
}

static int
tcprules6_query(struct lm_map *m, const char *question, int json, FILE *out,
                struct lm_diags *d)
{
    return lm_tcprules_query(m, question, LM_TR_V6, json, out, d);
}

/* rcpthosts: qmail-newmrh lower-cases the line, strips trailing blanks and
 * skips empty and '#' lines.  A CR or a blank inside the name would make
 * a key no recipient domain matches, so those are errors here. */
static int
rcpthosts_line(struct lm_syntax_ctx *ctx, struct lm_line *ln, struct lm_diags *d)
{
    char *p = ln->text, q[LM_QUOTE_BUF];
    const char *why;
    size_t n = ln->len, i;

    if (n > 0 && p[n - 1] == '\r') {
        ln->pos.col = (unsigned)n;
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln->pos, "line ends in CR (a CRLF "
                           "file): qmail keeps the CR in the domain, which then never "
                           "matches; convert the file to LF line ends (tr -d '\\r')");
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || p[0] == '#')
        return 0;
    for (i = 0; i < n; i++) {
        if (p[i] == ' ' || p[i] == '\t' || p[i] == '\0' || p[i] == '\r') {
            ln->pos.col = (unsigned)i + 1;
            return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln->pos, "%s in domain \"%s\": "
                               "qmail keeps it in the name, which then never matches; "
                               "one domain per line, nothing else", p[i] == '\0' ? "NUL byte"
                               : p[i] == '\r' ? "CR" : "white space",
                               lm_quote(q, p, n, LM_QUOTE_MAX));
        }
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (char)(p[i] - 'A' + 'a');
    }
    if ((why = lm_rcpthosts_why(p + (p[0] == '.'), n - (p[0] == '.'))) != NULL) {
        /* qmail-newmrh lists it too: a warning keeps mapc a drop-in */
        ln->pos.col = 1;
        lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &ln->pos, "\"%s\" is no domain name (%s); "
                    "it is listed as written", lm_quote(q, p, n, LM_QUOTE_MAX), why);
    }
    return lm_syntax_emit(ctx, p, n, "", 0);
}

static int
rcpthosts_dump(FILE *out, const lm_datum *key, const lm_datum *val,
               const struct lm_compile_opts *o, struct lm_diags *d)
{
    const char *k = key->data;
    char q[LM_QUOTE_BUF];
    size_t i;
    int bad = val->len != 0 || key->len == 0 || k[0] == '#';

    (void)o;
    for (i = 0; i < key->len && !bad; i++)
        bad = k[i] == '\n' || k[i] == '\r' || k[i] == '\0' || k[i] == ' ' || k[i] == '\t'
              || (k[i] >= 'A' && k[i] <= 'Z');
    if (bad)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "record \"%s\" cannot be written "
                           "as an rcpthosts line (empty data and a lower-case name without "
                           "blanks expected)", lm_quote(q, k, key->len, LM_QUOTE_MAX));
    fwrite(k, 1, key->len, out);
    putc('\n', out);
    return 0;
}

const struct lm_syntax lm_syntax_tcprules = {
    .name = "tcprules",
    .default_type = "cdb",
    .description = "qmail tcp.smtp rules, as tcprules compiles them (IPv4)",
    .flags = LM_SYN_EXACT_KEYS | LM_SYN_FIRST_WINS,
    .line = tcprules_line,
    .end = tcprules_end,
    .dump = tcprules_dump,
    .query = tcprules_query,
};

const struct lm_syntax lm_syntax_tcprules6 = {
    .name = "tcprules6",
    .default_type = "cdb",
    .description = "qmail tcp.smtp rules, as the IPv6 build of tcprules compiles them",
    .flags = LM_SYN_EXACT_KEYS | LM_SYN_FIRST_WINS,
    .line = tcprules6_line,
    .end = tcprules_end,
    .dump = tcprules6_dump,
    .query = tcprules6_query,
};

const struct lm_syntax lm_syntax_rcpthosts = {
    .name = "rcpthosts",
    .default_type = "cdb",
    .description = "qmail rcpthosts list into morercpthosts.cdb (as qmail-newmrh)",
    .flags = LM_SYN_EXACT_KEYS,
    .line = rcpthosts_line,
    .end = tcprules_end,
    .dump = rcpthosts_dump,
};
