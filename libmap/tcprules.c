/*
 * tcprules.c - tcp.smtp rules: parse a line the way tcprules does and encode
 * it as tcprules encodes it (so the cdb comes out byte for byte the same),
 * refuse the lines that tcprules accepts but that can never match in
 * tcpserver, walk tcpserver's key order, decode data items, and write a
 * compiled record back as a rule line.
 *
 * Grammar, encoding and lookup order: ../shared/reference/tcprules.md and
 * man/mapc.8 (SOURCE SYNTAXES).  Nothing here allocates per line; the
 * lookup allocates one key buffer per question.
 */
#include "libmap/tcprules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libmap/json.h"

#define TR_MSG 1400

/* One line's parse.  While the address is checked (soft), a key that
 * tcprules stores but tcpserver never looks up is an error in the strict
 * mode and, with LM_TR_LENIENT, a rule that never matches: the message is
 * kept here and becomes a warning. */
struct tr_cx {
    struct lm_diags *d;
    unsigned         flags;
    int              soft;
    int              never;
    size_t           col;
    char             msg[TR_MSG];
};

static int tr_report(struct tr_cx *cx, int hard, const struct lm_pos *pos, size_t col,
                     const char *fmt, va_list ap) LM_PRINTF(5, 0);
static int tr_error(struct tr_cx *cx, const struct lm_pos *pos, size_t col,
                    const char *fmt, ...) LM_PRINTF(4, 5);
static int tr_refuse(struct tr_cx *cx, const struct lm_pos *pos, size_t col,
                     const char *fmt, ...) LM_PRINTF(4, 5);

static int
tr_report(struct tr_cx *cx, int hard, const struct lm_pos *pos, size_t col, const char *fmt,
          va_list ap)
{
    struct lm_pos p = { NULL, 0, 0 };
    char msg[TR_MSG];

    if (pos != NULL)
        p = *pos;
    p.col = (unsigned)col;
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!hard && cx->soft && (cx->flags & LM_TR_LENIENT)) {
        cx->never = 1;
        cx->col = col;
        memcpy(cx->msg, msg, sizeof msg);
        return -1;
    }
    return lm_diag_add(cx->d, LM_ERROR, LM_E_SYNTAX, &p, "%s", msg);
}

/* An LM_E_SYNTAX error at column col (1-based; 0 = none); in the address,
 * with LM_TR_LENIENT, a key that never matches. */
static int
tr_error(struct tr_cx *cx, const struct lm_pos *pos, size_t col, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = tr_report(cx, 0, pos, col, fmt, ap);
    va_end(ap);
    return rc;
}

/* An error in every mode: tcprules refuses the line, or what the line
 * means cannot be told. */
static int
tr_refuse(struct tr_cx *cx, const struct lm_pos *pos, size_t col, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = tr_report(cx, 1, pos, col, fmt, ap);
    va_end(ap);
    return rc;
}

/* The address a[0..n) quoted for a message, into q (LM_QUOTE_BUF bytes). */
static const char *
tr_qa(char *q, const char *a, size_t n)
{
    return lm_quote(q, a, n, LM_QUOTE_MAX);
}

static int
tr_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
tr_blank(int c)
{
    return c == ' ' || c == '\t';
}

static const char *
tr_memmem(const char *h, size_t hl, const char *n, size_t nl)
{
    size_t i;

    for (i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return h + i;
    return NULL;
}

/* Where the address ends: the first ':' (IPv4 build) or the first ':' that
 * is followed by "allow" or "deny" (IPv6 build), or NULL. */
static const char *
tr_colon(const char *s, size_t n, unsigned flags)
{
    const char *c = memchr(s, ':', n);

    if (!(flags & LM_TR_V6) || c == NULL)
        return c;
    for (; c != NULL; c = memchr(c + 1, ':', n - (size_t)(c + 1 - s))) {
        size_t rest = n - (size_t)(c + 1 - s);
        if ((rest >= 5 && memcmp(c + 1, "allow", 5) == 0)
            || (rest >= 4 && memcmp(c + 1, "deny", 4) == 0))
            return c;
    }
    return memchr(s, ':', n);   /* reported as a bad verb */
}

/* --- instructions: allow|deny *( ",NAME=" d VALUE d ) ---------------------- */

static int
tr_instructions(const char *s, size_t n, size_t col0, const struct lm_pos *pos,
                unsigned flags, char *out, struct lm_tcprules_rule *r, struct tr_cx *d)
{
    const char *p = s, *end = s + n, *eq, *close;
    char q[LM_QUOTE_BUF], q2[LM_QUOTE_BUF];
    char *o = out;

    r->deny = 0;
    if (n >= 5 && memcmp(p, "allow", 5) == 0) {
        p += 5;
    } else if (n >= 4 && memcmp(p, "deny", 4) == 0) {
        p += 4;
        r->deny = 1;
        *o++ = 'D';
        *o++ = '\0';
    } else {
        const char *hint = "";
        if ((n >= 5 && strncasecmp(p, "allow", 5) == 0)
            || (n >= 4 && strncasecmp(p, "deny", 4) == 0))
            hint = " (lower case only)";
        else if (n > 0 && tr_blank((unsigned char)*p))
            hint = " (no blank after the colon)";
        else if (!(flags & LM_TR_V6)
                 && (tr_memmem(s, n, ":allow", 6) || tr_memmem(s, n, ":deny", 5)))
            hint = (flags & LM_TR_LENIENT) ? " (an IPv6 address? only the IPv6 build of "
                                             "tcprules reads those)"
                                           : " (an IPv6 address? those need -s tcprules6)";
        return tr_error(d, pos, col0, "expected \"allow\" or \"deny\" after the colon, "
                        "not \"%s\"%s; "
                        "tcprules refuses this line", lm_quote(q, s, n, 24), hint);
    }
    while (p < end) {
        size_t at = col0 + (size_t)(p - s);
        if (*p != ',')
            return tr_error(d, pos, at, "unexpected \"%s\" after the %s: only ,NAME=\"VALUE\" "
                            "may follow (no blanks); tcprules refuses this line",
                            lm_quote(q, p, (size_t)(end - p), 24),
                            p == s + (r->deny ? 4 : 5) ? "verb" : "assignment");
        p++;
        if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
            return tr_error(d, pos, at, "no '=' in \"%s\": write ,NAME=\"VALUE\"",
                            lm_quote(q, p - 1, (size_t)(end - p + 1), 24));
        *o++ = '+';
        memcpy(o, p, (size_t)(eq - p));
        o += eq - p;
        *o++ = '=';
        p = eq + 1;
        if (p == end)
            return tr_error(d, pos, col0 + (size_t)(p - s), "no value after \"%s\": write "
                            "\"\" for an empty value", lm_quote(q, s, (size_t)(p - s), 40));
        if ((close = memchr(p + 1, *p, (size_t)(end - p - 1))) == NULL)
            return tr_error(d, pos, col0 + (size_t)(p - s) + 1,
                            "value \"%s\" is not closed by its delimiter \"%s\" "
                            "(the byte after '=' opens and closes the value)",
                            lm_quote(q, p + 1, (size_t)(end - p - 1), 40), lm_quote(q2, p, 1, 1));
        memcpy(o, p + 1, (size_t)(close - p - 1));
        o += close - p - 1;
        *o++ = '\0';
        p = close + 1;
    }
    r->data = out;
    r->dlen = (size_t)(o - out);
    return 0;
}

/* --- addresses ------------------------------------------------------------ */

/* A decimal number of up to 9 digits (tcprules reads longer ones too, but
 * they wrap; we refuse them).  Returns digits read, 0 if none or too long. */
static size_t
tr_number(const char *s, size_t n, unsigned long *v)
{
    size_t i;

    *v = 0;
    for (i = 0; i < n && tr_digit((unsigned char)s[i]); i++) {
        if (i == 9)
            return 0;
        *v = *v * 10 + (unsigned long)(s[i] - '0');
    }
    return i;
}

enum { TR_IP_FULL, TR_IP_PREFIX, TR_IP_SHORT, TR_IP_BAD };

/* Not an address at all (1.2.3.999): no reading of it can be trusted, so
 * it is refused in every mode. */
static const char tr_why_octet[] = "an octet is above 255";

/* Check an IPv4 address or octet prefix as tcpserver prints addresses:
 * TR_IP_FULL "a.b.c.d", TR_IP_PREFIX "a." .. "a.b.c.", TR_IP_SHORT a prefix
 * without its dot ("192.168"), TR_IP_BAD anything else (*why says why). */
static int
tr_ipv4(const char *s, size_t n, const char **why)
{
    size_t i = 0, parts = 0, k;
    unsigned long v;

    *why = "not an IPv4 address";
    if (n == 0)
        return TR_IP_BAD;
    while (i < n) {
        k = tr_number(s + i, n - i, &v);
        if (k == 0)
            return TR_IP_BAD;
        if (k > 1 && s[i] == '0') {
            *why = "an octet has a leading zero (tcpserver writes none)";
            return TR_IP_BAD;
        }
        if (v > 255) {
            *why = tr_why_octet;
            return TR_IP_BAD;
        }
        parts++;
        i += k;
        if (i == n)
            break;
        if (s[i] != '.')
            return TR_IP_BAD;
        i++;
        if (i == n)
            return parts <= 3 ? TR_IP_PREFIX : TR_IP_BAD;
    }
    if (parts == 4)
        return TR_IP_FULL;
    return parts < 4 ? TR_IP_SHORT : TR_IP_BAD;
}

static int
tr_hex(int c)
{
    return tr_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Check an IPv6 address ("fe80::1") or prefix ending in ':' ("2001:db8:")
 * as tcpserver prints addresses: lower-case hex, no leading zeros, no
 * dotted part (an IPv4-mapped peer is looked up by its IPv4 address). */
static int
tr_ipv6(const char *s, size_t n, const char **why)
{
    unsigned char a[16];
    char tmp[64];
    size_t i, g = 0;

    *why = "not an IPv6 address";
    for (i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '.') {
            *why = "a dotted IPv4 part never matches: tcpserver looks up an IPv4-mapped peer "
                   "by its IPv4 address and writes other addresses in hex";
            return TR_IP_BAD;
        }
        if (c >= 'A' && c <= 'F') {
            *why = "upper-case hex digits never match: tcpserver writes IPv6 addresses in "
                   "lower case";
            return TR_IP_BAD;
        }
        if (c == ':') {
            g = 0;
            continue;
        }
        if (!tr_hex(c))
            return TR_IP_BAD;
        if (g == 0 && c == '0' && i + 1 < n && tr_hex((unsigned char)s[i + 1])) {
            *why = "a group has a leading zero (tcpserver writes none)";
            return TR_IP_BAD;
        }
        if (++g > 4)
            return TR_IP_BAD;
    }
    if (tr_memmem(s, n, ":::", 3) != NULL)
        return TR_IP_BAD;
    if (n > 0 && s[n - 1] == ':') {
        const char *dc = tr_memmem(s, n, "::", 2);
        if (dc != NULL && dc + 2 != s + n && tr_memmem(dc + 1, (size_t)(s + n - dc - 1), "::", 2))
            return TR_IP_BAD;
        return TR_IP_PREFIX;
    }
    if (n >= sizeof tmp)
        return TR_IP_BAD;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET6, tmp, a) != 1)
        return TR_IP_BAD;
    return TR_IP_FULL;
}

/* Render prefix + lo-hi + suffix (or prefix alone) for a hint. */
static const char *
tr_form(char *buf, size_t cap, const char *pre, size_t plen, unsigned long lo,
        unsigned long hi, const char *suf, size_t slen, int range)
{
    char q[LM_QUOTE_BUF], qs[LM_QUOTE_BUF];

    lm_quote(q, pre, plen, LM_QUOTE_MAX);
    lm_quote(qs, suf, slen, LM_QUOTE_MAX);
    if (!range)
        snprintf(buf, cap, "%s", q);
    else if (lo == hi)
        snprintf(buf, cap, "%s%lu%s", q, lo, qs);
    else
        snprintf(buf, cap, "%s%lu-%lu%s", q, lo, hi, qs);
    return buf;
}

/* A CIDR block written as a key.  An IPv4 block is one octet prefix or one
 * range of tcprules (a /20 is "a.b.c-d.", a /26 "a.b.c.d-e"); an IPv6 block
 * is a prefix ending in ':' when it ends on a group boundary and no group
 * before it is zero. */
static int
tr_cidr(char *a, size_t n, const char *slash, size_t col0, const struct lm_pos *pos,
        unsigned flags, struct lm_tcprules_rule *r, struct tr_cx *d)
{
    char q[LM_QUOTE_BUF], form[2 * LM_QUOTE_BUF + 32];
    size_t alen = (size_t)(slash - a), blen, k, i;
    unsigned long bits, oct[4], mask[4];
    const char *why, *p;
    int v6 = memchr(a, ':', alen) != NULL;

    blen = tr_number(slash + 1, n - alen - 1, &bits);
    if (blen == 0 || blen != n - alen - 1 || bits > (v6 ? 128u : 32u)
        || (blen > 1 && slash[1] == '0'))
        return tr_error(d, pos, col0 + alen + 1, "bad prefix length in \"%s\"", tr_qa(q, a, n));
    if (!v6) {
        if (tr_ipv4(a, alen, &why) != TR_IP_FULL)
            return (why == tr_why_octet ? tr_refuse : tr_error)(d, pos, col0, "\"%s\" is not a "
                        "CIDR block: %s", tr_qa(q, a, n), why);
        for (i = 0, p = a; i < 4; i++) {
            p += tr_number(p, (size_t)(a + alen - p), &oct[i]) + 1;
        }
        for (i = 0; i < 4; i++) {
            unsigned long keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
            mask[i] = (0xff00UL >> keep) & 0xff;
        }
        if ((oct[0] & ~mask[0]) | (oct[1] & ~mask[1]) | (oct[2] & ~mask[2]) | (oct[3] & ~mask[3]))
            return tr_error(d, pos, col0, "CIDR \"%s\" has bits set beyond /%lu: "
                            "did you mean %lu.%lu.%lu.%lu/%lu?",
                            tr_qa(q, a, n), bits, oct[0] & mask[0],
                            oct[1] & mask[1], oct[2] & mask[2], oct[3] & mask[3], bits);
        if ((flags & LM_TR_V6) && bits == 0)
            return tr_error(d, pos, col0, "CIDR \"%s\" would be the empty key, which matches "
                            "IPv6 and every host too; write \":allow\" or \":deny\" if you mean "
                            "every connection", tr_qa(q, a, n));
        /* k whole octets, then a range over the next one if bits % 8. */
        k = bits / 8;
        for (i = 0, p = a; i < k && i < 4; i++)
            p = (i < 3) ? (const char *)memchr(p, '.', (size_t)(a + alen - p)) + 1 : a + alen;
        r->key = a;
        r->klen = (size_t)(p - a);
        r->range = 0;
        r->suffix = "";
        r->slen = 0;
        if (bits % 8 != 0) {
            r->range = 1;
            r->lo = oct[k];
            r->hi = oct[k] + (1UL << (8 - bits % 8)) - 1;
            r->suffix = k < 3 ? "." : "";
            r->slen = k < 3 ? 1 : 0;
        }
    } else {
        unsigned char b[16];
        char tmp[64];
        if (alen >= sizeof tmp || (memcpy(tmp, a, alen), tmp[alen] = '\0',
                                   inet_pton(AF_INET6, tmp, b) != 1))
            return tr_error(d, pos, col0, "\"%s\" is not a CIDR block: not an IPv6 address",
                            tr_qa(q, a, n));
        if (!(flags & LM_TR_V6))
            return tr_error(d, pos, col0, "IPv6 CIDR \"%s\" in an IPv4 rule file: use -s tcprules6",
                            tr_qa(q, a, n));
        for (i = bits / 8; i < 16; i++)
            if ((b[i] & (i == bits / 8 ? 0xff >> (bits % 8) : 0xff)) != 0)
                return tr_error(d, pos, col0, "CIDR \"%s\" has bits set beyond /%lu",
                                tr_qa(q, a, n), bits);
        if (bits == 128) {
            if (tr_ipv6(a, alen, &why) != TR_IP_FULL)
                return tr_error(d, pos, col0, "\"%s\": %s", tr_qa(q, a, n), why);
            r->key = a;
            r->klen = alen;
            r->range = 0;
        } else {
            k = bits / 16;
            for (i = 0; i < k; i++)
                if (b[2 * i] == 0 && b[2 * i + 1] == 0)
                    break;
            if (bits % 16 != 0 || bits == 0 || i < k)
                return tr_error(d, pos, col0, "CIDR \"%s\" cannot be written as a tcprules6 key: "
                                "a prefix key must end on a 16-bit group boundary after groups "
                                "that are not zero; list the addresses or smaller blocks",
                                tr_qa(q, a, n));
            for (i = 0, p = a; i < k; i++) {
                const char *c = memchr(p, ':', (size_t)(a + alen - p));
                if (c == NULL || c == p)
                    break;
                p = c + 1;
            }
            if (i < k || tr_ipv6(a, (size_t)(p - a), &why) != TR_IP_PREFIX)
                return tr_error(d, pos, col0, "CIDR \"%s\": write its first %lu groups in full, "
                                "lower case, without leading zeros",
                                tr_qa(q, a, n), (unsigned long)k);
            r->key = a;
            r->klen = (size_t)(p - a);
            r->range = 0;
        }
        r->suffix = "";
        r->slen = 0;
    }
    if (!(flags & LM_TR_EXPAND))
        return tr_error(d, pos, col0, "CIDR \"%s\" is not a tcprules key and never matches: "
                        "write \"%s\" (or compile with --expand to have it written so)",
                        tr_qa(q, a, n),
                        tr_form(form, sizeof form, r->key, r->klen, r->lo, r->hi, r->suffix,
                                r->slen, r->range));
    return 0;
}

/* An octet range a.b.c.x-y or a.x-y. (tcprules expands the first '-'). */
static int
tr_range(char *a, size_t n, const char *dash, size_t col0, const struct lm_pos *pos,
         unsigned flags, struct lm_tcprules_rule *r, struct tr_cx *d)
{
    char q[LM_QUOTE_BUF], form[2 * LM_QUOTE_BUF + 32], tmp[64];
    const char *ls = dash, *re, *why;
    size_t llen, rlen, tlen;
    unsigned long lo, hi;
    int kind;

    if (flags & LM_TR_V6 && memchr(a, ':', n) != NULL)
        return tr_refuse(d, pos, col0, "\"%s\": tcprules cannot expand a range in an IPv6 "
                        "address (it reads the digits after the last '.'); list the addresses",
                        tr_qa(q, a, n));
    while (ls > a && ls[-1] != '.')
        ls--;
    re = dash + 1;
    while (re < a + n && *re != '.')
        re++;
    llen = (size_t)(dash - ls);
    rlen = (size_t)(re - dash - 1);
    if (llen == 0 || rlen == 0)
        return tr_refuse(d, pos, col0 + (size_t)(dash - a), "range \"%s\" lacks a %s bound "
                        "(tcprules would read it as 0)",
                        tr_qa(q, a, n), llen == 0 ? "lower" : "upper");
    if (tr_number(ls, llen, &lo) != llen || tr_number(dash + 1, rlen, &hi) != rlen)
        return tr_refuse(d, pos, col0 + (size_t)(ls - a), "range \"%s\": both bounds must be "
                        "decimal numbers; tcprules refuses this line", tr_qa(q, a, n));
    if (lo > 255 && !(flags & LM_TR_LENIENT))
        return tr_error(d, pos, col0 + (size_t)(ls - a), "range \"%s\" starts above 255: "
                        "no address matches", tr_qa(q, a, n));
    if (hi > 255)
        hi = 255;       /* tcprules clamps the upper bound; that is documented */
    r->key = a;
    r->klen = (size_t)(ls - a);
    r->suffix = re;
    r->slen = (size_t)(a + n - re);
    r->range = 1;
    r->lo = lo;
    r->hi = hi;
    if (lo > hi && (flags & LM_TR_LENIENT)) {
        struct lm_pos p = { NULL, 0, 0 };
        if (pos != NULL)
            p = *pos;
        p.col = (unsigned)(col0 + (size_t)(ls - a));
        return lm_diag_add(d->d, LM_WARNING, LM_E_SYNTAX, &p, "range \"%s\" is empty: "
                           "tcprules stores no key for it", tr_qa(q, a, n));
    }
    if (lo > hi)
        return tr_error(d, pos, col0 + (size_t)(ls - a), "reversed range \"%s\": tcprules "
                        "writes no rule at all for it; write \"%s\"", tr_qa(q, a, n),
                        tr_form(form, sizeof form, a, r->klen, hi, lo, re, r->slen, 1));
    /* The keys must be addresses or prefixes; check the first one. */
    if (r->klen + r->slen + 4 > sizeof tmp)
        return tr_error(d, pos, col0, "\"%s\" is not an IPv4 address or prefix: it never matches",
                        tr_qa(q, a, n));
    tlen = lm_tcprules_key(r, lo, tmp);
    kind = tr_ipv4(tmp, tlen, &why);
    if (kind == TR_IP_SHORT)
        return tr_error(d, pos, col0, "range \"%s\" gives prefixes without their trailing dot, "
                        "which never match: write \"%s.\"", tr_qa(q, a, n), tr_qa(q, a, n));
    if (kind == TR_IP_BAD)
        return (why == tr_why_octet ? tr_refuse : tr_error)(d, pos, col0, "\"%s\" does not give "
                        "IPv4 addresses or prefixes (%s): "
                        "it never matches", tr_qa(q, a, n), why);
    (void)flags;
    return 0;
}

/* The address part of a rule (before the colon): host names, INFO@, IP
 * addresses and prefixes, ranges, CIDR. */
static int
tr_address(char *a, size_t n, const struct lm_pos *pos, unsigned flags,
           struct lm_tcprules_rule *r, struct tr_cx *d)
{
    char q[LM_QUOTE_BUF], q2[LM_QUOTE_BUF], q3[LM_QUOTE_BUF], low[LM_QUOTE_BUF];
    const char *why, *ip, *dash, *slash;
    size_t i, iplen, ipcol;
    char *at;
    int kind;

    r->key = a;
    r->klen = n;
    r->range = 0;
    r->suffix = "";
    r->slen = 0;
    r->lo = r->hi = 0;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if (tr_blank((unsigned char)a[i])) {
            size_t s = 0, e = n;
            while (s < n && tr_blank((unsigned char)a[s]))
                s++;
            while (e > s && tr_blank((unsigned char)a[e - 1]))
                e--;
            if (memchr(a + s, ' ', e - s) == NULL && memchr(a + s, '\t', e - s) == NULL)
                return tr_error(d, pos, i + 1, "white space in address \"%s\": tcprules keeps "
                                "it in the key, which then never matches; write \"%s\"",
                                tr_qa(q, a, n),
                                lm_quote(q2, a + s, e - s, LM_QUOTE_MAX));
            return tr_error(d, pos, i + 1, "white space in address \"%s\": the key never "
                            "matches; remove it", tr_qa(q, a, n));
        }
    at = memchr(a, '@', n);
    ip = at ? at + 1 : a;
    iplen = n - (size_t)(ip - a);
    ipcol = (size_t)(ip - a) + 1;
    if (iplen > 0 && ip[0] == '=') {
        /* =host, =.suffix, "=", INFO@=host: tcpserver has lower-cased the name. */
        for (i = 1; i < iplen; i++)
            if (ip[i] >= 'A' && ip[i] <= 'Z') {
                size_t k, m = iplen < LM_QUOTE_MAX ? iplen : LM_QUOTE_MAX;
                for (k = 0; k < m; k++)
                    low[k] = (ip[k] >= 'A' && ip[k] <= 'Z') ? (char)(ip[k] - 'A' + 'a') : ip[k];
                lm_quote(q2, a, (size_t)(ip - a), LM_QUOTE_MAX);
                return tr_error(d, pos, ipcol + i, "host name \"%s\" has upper case: tcpserver "
                                "looks names up in lower case and never matches it; write "
                                "\"%s%s\"", tr_qa(q, a, n), q2, lm_quote(q3, low, m, LM_QUOTE_MAX));
            }
        if (memchr(ip, ':', iplen) != NULL)
            return tr_error(d, pos, ipcol, "host name \"%s\" holds a ':' and never matches",
                            tr_qa(q, a, n));
        return 0;
    }
    if (memchr(a, '=', n) != NULL)
        return tr_error(d, pos, (size_t)((char *)memchr(a, '=', n) - a) + 1, "\"%s\": '=' "
                        "belongs at the start of a host name (=host, INFO@=host); this key "
                        "never matches", tr_qa(q, a, n));
    if (at != NULL && memchr(ip, '@', iplen) != NULL)
        return tr_error(d, pos, ipcol, "\"%s\" has two '@': it never matches", tr_qa(q, a, n));
    slash = memchr(ip, '/', iplen);
    dash = memchr(ip, '-', iplen);
    if (at != NULL) {
        /* INFO@IP: only the whole address is tried, never a prefix. */
        if (dash != NULL || slash != NULL)
            return tr_error(d, pos, ipcol, "\"%s\": tcprules expands no %s after '@' and "
                            "tcpserver tries INFO@ only with the whole address; write one "
                            "rule per address", tr_qa(q, a, n), dash ? "range" : "CIDR");
        kind = memchr(ip, ':', iplen) && (flags & LM_TR_V6) ? tr_ipv6(ip, iplen, &why)
                                                             : tr_ipv4(ip, iplen, &why);
        if (kind == TR_IP_FULL)
            return 0;
        if (kind == TR_IP_BAD)
            return (why == tr_why_octet ? tr_refuse : tr_error)(d, pos, ipcol, "\"%s\": after "
                            "'@' comes an address or =host; %s",
                            tr_qa(q, a, n), why);
        return tr_error(d, pos, ipcol, "\"%s\" never matches: tcpserver tries INFO@ only with "
                        "the whole address, never with a prefix", tr_qa(q, a, n));
    }
    if (slash != NULL)
        return tr_cidr(a, n, slash, 1, pos, flags, r, d);
    if (dash != NULL)
        return tr_range(a, n, dash, 1, pos, flags, r, d);
    if ((flags & LM_TR_V6) && memchr(a, ':', n) != NULL) {
        if (tr_ipv6(a, n, &why) == TR_IP_BAD)
            return tr_error(d, pos, 1, "\"%s\" never matches: %s", tr_qa(q, a, n), why);
        return 0;
    }
    kind = tr_ipv4(a, n, &why);
    if (kind == TR_IP_SHORT)
        return tr_error(d, pos, n, "numeric prefix \"%s\" has no trailing dot: it is an exact "
                        "key that no address matches; write \"%s.\"",
                        tr_qa(q, a, n), tr_qa(q, a, n));
    if (kind == TR_IP_BAD) {
        int letters = 0;
        for (i = 0; i < n; i++)
            letters |= (a[i] >= 'a' && a[i] <= 'z') || (a[i] >= 'A' && a[i] <= 'Z');
        if (letters && !((flags & LM_TR_V6) && tr_hex((unsigned char)a[0])
                         && memchr(a, '.', n) == NULL))
            return tr_error(d, pos, 1, "\"%s\" is not an IP address or prefix and never matches; "
                            "a host name is written \"=%s\" (a domain \"=.%s\")",
                            tr_qa(q, a, n), tr_qa(q, a, n), tr_qa(q, a, n));
        if (memchr(a, ':', n) != NULL && !(flags & LM_TR_V6))
            return tr_error(d, pos, 1, "\"%s\": IPv6 addresses need -s tcprules6", tr_qa(q, a, n));
        return (why == tr_why_octet ? tr_refuse : tr_error)(d, pos, 1, "\"%s\" never "
                        "matches: %s", tr_qa(q, a, n), why);
    }
    return 0;
}

int
lm_tcprules_parse(const char *text, size_t len, const struct lm_pos *pos, unsigned flags,
                  char *buf, struct lm_tcprules_rule *r, struct lm_diags *d)
{
    char q[LM_QUOTE_BUF];
    const char *colon, *nul;
    size_t n = len, i, alen;
    struct lm_pos at = { NULL, 0, 0 };
    struct tr_cx cx;
    char *a;

    if (pos != NULL)
        at = *pos;
    memset(r, 0, sizeof *r);
    r->suffix = "";
    cx.d = d;
    cx.flags = flags;
    cx.soft = 0;
    cx.never = 0;
    cx.col = 0;
    if (len == 0)
        return LM_NOTFOUND;
    if ((nul = memchr(text, '\0', len)) != NULL)
        return tr_error(&cx, pos, (size_t)(nul - text) + 1, "NUL byte in line");
    if (text[len - 1] == '\r')
        return tr_error(&cx, pos, len, "line ends in CR (a CRLF file): tcprules keeps the CR and "
                        "refuses or mangles the rule; convert the file to LF line ends "
                        "(tr -d '\\r')");
    if (text[0] == '#')
        return LM_NOTFOUND;
    while (n > 0 && tr_blank((unsigned char)text[n - 1]))
        n--;
    if (n == 0 && (flags & LM_TR_V6)) {
        struct lm_pos p = at;
        p.col = 1;
        lm_diag_add(d, LM_WARNING, LM_E_NONE, &p, "line of blanks: the IPv6 build of tcprules "
                    "loops forever on it (mapc skips it); make it empty");
    }
    if (n == 0)
        return LM_NOTFOUND;
    if ((colon = tr_colon(text, n, flags)) == NULL) {
        struct lm_pos p = at;
        for (i = 0; i < n && tr_blank((unsigned char)text[i]); i++)
            ;
        if (text[i] == '#' && !(flags & LM_TR_LENIENT))
            return tr_error(&cx, pos, i + 1, "comment does not start in column 1: tcprules "
                            "reads it as a rule line; move the '#' to the first column");
        if ((flags & LM_TR_LENIENT) && !(flags & LM_TR_V6)) {
            /* tcprules skips it: so does a reader of an existing file */
            p.col = 1;
            lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &p, "line \"%s\" has no colon: tcprules "
                        "ignores it silently", lm_quote(q, text, n, LM_QUOTE_MAX));
            return LM_NOTFOUND;
        }
        return tr_error(&cx, pos, 1, "no colon in \"%s\": tcprules silently ignores this line; "
                        "write ADDRESS:allow or ADDRESS:deny, or comment it out with '#'",
                        lm_quote(q, text, n, LM_QUOTE_MAX));
    }
    alen = (size_t)(colon - text);
    r->alen = alen;
    /* The address goes to the end of the buffer, the data to its start. */
    if (tr_instructions(colon + 1, n - alen - 1, alen + 2, pos, flags, buf, r, &cx) != 0)
        return -1;
    a = buf + len + 8;
    memcpy(a, text, alen);
    cx.soft = 1;
    if (tr_address(a, alen, pos, flags, r, &cx) == 0)
        return 0;
    if (!cx.never)
        return -1;
    /* LM_TR_LENIENT: the keys tcprules stores, as a rule that never matches. */
    if (!r->range || r->key != a || memchr(a, '/', alen) != NULL) {
        r->key = a;
        r->klen = alen;
        r->range = 0;
        r->suffix = "";
        r->slen = 0;
    }
    r->never = 1;
    {
        struct lm_pos p = at;
        p.col = (unsigned)cx.col;
        lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &p, "%s%s", cx.msg,
                    strstr(cx.msg, "never match") || strstr(cx.msg, "no address matches") ? ""
                    : "; tcpserver never matches this key");
    }
    return 0;
}

size_t
lm_tcprules_key(const struct lm_tcprules_rule *r, unsigned long n, char *out)
{
    char num[24];
    size_t k = 0, i;

    if (out != r->key && r->klen)
        memmove(out, r->key, r->klen);
    if (!r->range)
        return r->klen;
    do
        num[k++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    for (i = 0; i < k; i++)
        out[r->klen + i] = num[k - 1 - i];
    if (r->slen)
        memmove(out + r->klen + k, r->suffix, r->slen);
    return r->klen + k + r->slen;
}

/* --- what a stored key matches -------------------------------------------- */

size_t
lm_tcprules_ip6_format(const unsigned char *b, char *out)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    size_t n = 0;
    int g, run = 0, done = 0;

    if (memcmp(b, mapped, sizeof mapped) == 0)
        return (size_t)sprintf(out, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    for (g = 0; g < 8; g++) {
        unsigned v = (unsigned)b[2 * g] << 8 | b[2 * g + 1];
        if (v == 0 && !done) {
            /* the first run of zero groups, however short, is "::" */
            if (!run && g == 0)
                out[n++] = ':';
            run = 1;
            continue;
        }
        if (run) {
            out[n++] = ':';
            run = 0;
            done = 1;
        }
        n += (size_t)sprintf(out + n, "%x", v);
        if (g < 7)
            out[n++] = ':';
    }
    if (run)
        out[n++] = ':';
    out[n] = '\0';
    return n;
}

/* A host name as tcpserver gives it: lower case, no ':' or blank, no empty
 * label. */
static int
tr_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || c == ':' || c <= ' ' || c == 0x7f
            || (c == '.' && s[i + 1] == '.'))
            return 0;
    }
    return 1;
}

/* An IPv6 key of the IPv6 build: 0, 1 never (*why), -1 no one network. */
static int
tr_subject6(const char *k, size_t n, struct lm_tcprules_subject *s, const char **why)
{
    char tmp[64], text[LM_TR_IP6_BUF];
    unsigned char b[16];
    size_t i, groups = 0, g0;
    int end2 = 0;

    if (tr_ipv6(k, n, why) == TR_IP_BAD)
        return 1;
    if (n >= sizeof tmp)
        return 1;
    memset(&s->net, 0, sizeof s->net);
    s->net.lo.family = s->net.hi.family = LM_IPV6;
    if (k[n - 1] != ':') {
        memcpy(tmp, k, n);
        tmp[n] = '\0';
        if (inet_pton(AF_INET6, tmp, b) != 1)
            return 1;
        if (lm_tcprules_ip6_format(b, text) != n || memcmp(text, k, n) != 0) {
            *why = "tcpserver writes this address otherwise (the first run of zero groups "
                   "as \"::\", an IPv4-mapped one as its dotted quad)";
            return 1;
        }
        memcpy(s->net.lo.b, b, 16);
        s->net.hi = s->net.lo;
        return 0;
    }
    /* A prefix: groups, each followed by ':', perhaps ending in "::". */
    if (n >= 2 && k[n - 2] == ':')
        end2 = 1;
    if (tr_memmem(k, n - end2, "::", 2) != NULL) {
        *why = "the zero groups \"::\" stands for vary in number, so the addresses it "
               "matches are no one network; list them";
        return -1;
    }
    memset(b, 0, sizeof b);
    for (i = 0, g0 = 0; i + end2 < n; i++) {
        if (k[i] != ':')
            continue;
        if (i == g0)
            break;
        if (groups == 8) {
            *why = "a prefix has at most seven groups";
            return 1;
        }
        {
            unsigned long v = strtoul(k + g0, NULL, 16);
            if (v == 0) {
                *why = "tcpserver writes the first zero group as \"::\", never as \"0:\"";
                return 1;
            }
            b[2 * groups] = (unsigned char)(v >> 8);
            b[2 * groups + 1] = (unsigned char)v;
        }
        groups++;
        g0 = i + 1;
    }
    if (groups == 0) {
        *why = "it matches the addresses whose first group is zero except the IPv4-mapped "
               "ones, which tcpserver looks up as IPv4: no one network";
        return -1;
    }
    if (groups + end2 > 8 || (groups == 8 && !end2)) {
        *why = "a prefix has at most seven groups";
        return 1;
    }
    groups += (size_t)end2;         /* "::" at the end: the next group is zero */
    memcpy(s->net.lo.b, b, 16);
    s->net.hi = s->net.lo;
    memset(s->net.hi.b + 2 * groups, 0xff, 16 - 2 * groups);
    s->prefix = 1;
    return 0;
}

int
lm_tcprules_subject(const char *k, size_t n, unsigned flags, struct lm_tcprules_subject *s,
                    const char **why)
{
    const char *at = memchr(k, '@', n), *ip = k;
    size_t iplen = n, i;
    unsigned long o[4] = { 0, 0, 0, 0 };
    int kind, rc;

    memset(s, 0, sizeof *s);
    *why = NULL;
    s->what = LM_TRW_NEVER;
    if (at != NULL) {
        s->info = k;
        s->ilen = (size_t)(at - k);
        ip = at + 1;
        iplen = n - s->ilen - 1;
        if (memchr(ip, '@', iplen) != NULL) {
            *why = "two '@'";
            return 0;
        }
    }
    if (iplen == 0 && at == NULL) {
        s->what = LM_TRW_ANY;
        return 0;
    }
    if (iplen > 0 && ip[0] == '=') {
        if (iplen == 1 && at == NULL) {
            s->what = LM_TRW_ANYHOST;
            return 0;
        }
        s->what = iplen > 1 && ip[1] == '.' ? LM_TRW_DOMAIN : LM_TRW_HOST;
        s->name = ip + 1 + (s->what == LM_TRW_DOMAIN);
        s->nlen = iplen - 1 - (s->what == LM_TRW_DOMAIN);
        if (at != NULL && s->what == LM_TRW_DOMAIN)
            *why = "tcpserver tries INFO@ only with the whole host name";
        else if (!tr_name_ok(s->name, s->nlen))
            *why = "not a host name as tcpserver gives it (lower case, no blank, ':' or "
                   "empty label)";
        if (*why != NULL)
            s->what = LM_TRW_NEVER;
        return 0;
    }
    s->what = LM_TRW_NEVER;
    if ((flags & LM_TR_V6) && memchr(ip, ':', iplen) != NULL) {
        rc = tr_subject6(ip, iplen, s, why);
        if (rc < 0)
            return -1;
        if (rc == 0 && !(at != NULL && s->prefix))
            s->what = LM_TRW_NET;
        else if (rc == 0)
            *why = "tcpserver tries INFO@ only with the whole address, never with a prefix";
        return 0;
    }
    kind = tr_ipv4(ip, iplen, why);
    if (kind == TR_IP_SHORT)
        *why = "a numeric prefix without its trailing dot";
    if (kind != TR_IP_FULL && kind != TR_IP_PREFIX)
        return 0;
    if (at != NULL && kind == TR_IP_PREFIX) {
        *why = "tcpserver tries INFO@ only with the whole address, never with a prefix";
        return 0;
    }
    for (i = 0; i < 4 && ip < k + n; i++) {
        size_t d = tr_number(ip, (size_t)(k + n - ip), &o[i]);
        ip += d;
        if (ip < k + n)
            ip++;           /* the dot */
        if (d == 0)
            break;
    }
    s->prefix = kind == TR_IP_PREFIX;
    lm_ipaddr_v4(&s->net.lo, (unsigned)o[0], (unsigned)o[1], (unsigned)o[2], (unsigned)o[3]);
    s->net.hi = s->net.lo;
    for (; i < 4; i++)
        s->net.hi.b[i] = 255;
    s->what = LM_TRW_NET;
    *why = NULL;
    return 0;
}

const char *
lm_rcpthosts_why(const char *s, size_t n)
{
    const char *why;
    size_t i, digits = 1;

    if (n == 0)
        return "an empty name";
    for (i = 0; i < n; i++) {
        if (s[i] == '.' && (i == 0 || i + 1 == n || s[i + 1] == '.'))
            return "an empty label (two dots in a row, or a dot at an end)";
        if (s[i] != '.' && !tr_digit((unsigned char)s[i]))
            digits = 0;
    }
    if (digits && tr_ipv4(s, n, &why) != TR_IP_FULL)
        return "its labels are all numbers, but they make no IPv4 address";
    return NULL;
}

/* --- data items and lookup ------------------------------------------------ */

int
lm_tcprules_item_next(const void *data, size_t len, size_t *off, struct lm_tcprules_item *it)
{
    const char *p = (const char *)data + *off, *nul, *eq;
    size_t rest = len - *off;

    if (*off >= len || (nul = memchr(p, '\0', rest)) == NULL)
        return LM_NOTFOUND;
    memset(it, 0, sizeof *it);
    it->text = p;
    it->len = (size_t)(nul - p);
    *off += it->len + 1;
    it->kind = LM_TRI_OTHER;
    if (it->len > 0 && p[0] == 'D') {
        it->kind = LM_TRI_DENY;
    } else if (it->len > 0 && p[0] == '+' && (eq = memchr(p, '=', it->len)) != NULL) {
        it->kind = LM_TRI_SET;
        it->name = p + 1;
        it->nlen = (size_t)(eq - p - 1);
        it->value = eq + 1;
        it->vlen = (size_t)(nul - eq - 1);
    }
    return 0;
}

int
lm_tcprules_walk(const char *ip, const char *host, const char *info, unsigned flags,
                 lm_tcprules_probe probe, void *arg)
{
    size_t il = strlen(ip), hl = host ? strlen(host) : 0, nl = info ? strlen(info) : 0;
    size_t n, i;
    char *k;
    int rc = 0;

    if ((k = malloc(il + hl + nl + 4)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (info != NULL) {
        memcpy(k, info, nl);
        k[nl] = '@';
        memcpy(k + nl + 1, ip, il);
        if ((rc = probe(arg, k, nl + 1 + il)) != 0)
            goto out;
        if (host != NULL) {
            k[nl + 1] = '=';
            memcpy(k + nl + 2, host, hl);
            if ((rc = probe(arg, k, nl + 2 + hl)) != 0)
                goto out;
        }
    }
    if ((rc = probe(arg, ip, il)) != 0)
        goto out;
    k[0] = '=';
    if (host != NULL) {
        memcpy(k + 1, host, hl);
        if ((rc = probe(arg, k, hl + 1)) != 0)
            goto out;
    }
    for (n = il; n > 0; n--)
        if (ip[n - 1] == '.' || ((flags & LM_TR_V6) && ip[n - 1] == ':'))
            if ((rc = probe(arg, ip, n)) != 0)
                goto out;
    if (host != NULL) {
        /* k holds "=" + host; "=" + the suffix from dot i is k + i once
         * k[i] is set to '=' (the bytes before it are no longer needed). */
        for (i = 0; i < hl; i++)
            if (host[i] == '.') {
                k[i] = '=';
                if ((rc = probe(arg, k + i, hl - i + 1)) != 0)
                    goto out;
            }
        if ((rc = probe(arg, "=", 1)) != 0)
            goto out;
    }
    rc = probe(arg, "", 0);
out:
    free(k);
    return rc;
}

struct tr_find {
    struct lm_map *m;
    struct lm_diags *d;
    lm_datum val;
    char *key;
    size_t klen;
};

static int
tr_probe(void *arg, const char *key, size_t klen)
{
    struct tr_find *f = arg;
    lm_datum k = { key, klen };
    int rc = lm_map_get(f->m, &k, &f->val, f->d);

    if (rc == LM_NOTFOUND)
        return 0;
    if (rc < 0)
        return -1;
    if ((f->key = malloc(klen + 1)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(f->key, key, klen);
    f->key[klen] = '\0';
    f->klen = klen;
    return 1;
}

int
lm_tcprules_lookup(struct lm_map *m, const char *ip, const char *host, const char *info,
                   unsigned flags, char **key, size_t *klen, lm_datum *val,
                   struct lm_diags *d)
{
    struct tr_find f;
    size_t errors0 = d->nerrors;
    int rc;

    memset(&f, 0, sizeof f);
    f.m = m;
    f.d = d;
    rc = lm_tcprules_walk(ip, host, info, flags, tr_probe, &f);
    if (rc < 0) {
        free(f.key);
        if (d->nerrors == errors0)
            lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        return -1;
    }
    if (rc == 0)
        return LM_NOTFOUND;
    *key = f.key;
    *klen = f.klen;
    *val = f.val;
    return 0;
}

int
lm_tcprules_query(struct lm_map *m, const char *question, unsigned flags, int json,
                  FILE *out, struct lm_diags *d)
{
    struct lm_tcprules_item it;
    char *q, *ip, *host = NULL, *info = NULL, *c, *key = NULL;
    size_t klen = 0, off = 0;
    lm_datum val = { NULL, 0 };
    int rc, deny = 0, first = 1;

    if ((q = malloc(strlen(question) + 1)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    strcpy(q, question);
    ip = q;
    if ((c = strchr(ip, ',')) != NULL) {
        *c = '\0';
        host = c + 1;
        if ((c = strchr(host, ',')) != NULL) {
            *c = '\0';
            info = c + 1;
        }
    }
    if (host != NULL && *host == '\0')
        host = NULL;
    if (info != NULL && *info == '\0')
        info = NULL;
    if (*ip == '\0') {
        free(q);
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL,
                           "the question is IP[,HOST[,INFO]], not \"%s\"", question);
    }
    rc = lm_tcprules_lookup(m, ip, host, info, flags, &key, &klen, &val, d);
    if (rc < 0) {
        free(q);
        return -1;
    }
    if (json) {
        fputs("{\"ip\":", out);
        lm_json_string(out, ip, strlen(ip));
        fputs(",\"host\":", out);
        lm_json_cstr(out, host);
        fputs(",\"info\":", out);
        lm_json_cstr(out, info);
        fputs(",\"rule\":", out);
        if (rc == 0)
            lm_json_string(out, key, klen);
        else
            fputs("null", out);
        fputs(",\"env\":[", out);
    } else if (rc == 0) {
        fputs("rule ", out);
        fwrite(key, 1, klen, out);
        fputs(":\n", out);
    } else {
        fputs("default:\n", out);
    }
    /* Items in order up to a deny, as tcpserver applies them. */
    while (rc == 0 && !deny && lm_tcprules_item_next(val.data, val.len, &off, &it) == 0) {
        if (it.kind == LM_TRI_DENY) {
            deny = 1;
        } else if (it.len > 0 && it.text[0] == '+') {
            if (!json) {
                fputs("set environment variable ", out);
                fwrite(it.text + 1, 1, it.len - 1, out);
                putc('\n', out);
            } else if (it.kind == LM_TRI_SET) {
                fputs(first ? "{\"name\":" : ",{\"name\":", out);
                lm_json_string(out, it.name, it.nlen);
                fputs(",\"value\":", out);
                lm_json_string(out, it.value, it.vlen);
                putc('}', out);
                first = 0;
            }
        }
    }
    if (json)
        fprintf(out, "],\"action\":\"%s\"}\n", deny ? "deny" : "allow");
    else
        fputs(deny ? "deny connection\n" : "allow connection\n", out);
    free(key);
    free(q);
    return rc;
}

/* Delimiters tried for a value, in order. */
static const char tr_delims[] = "\"'/|%#!~^&*+.;?@_";

int
lm_tcprules_dump(FILE *out, const lm_datum *key, const lm_datum *val, unsigned flags,
                 struct lm_diags *d)
{
    const char *k = key->data, *v = val->data, *why = NULL;
    char q[LM_QUOTE_BUF], q2[LM_QUOTE_BUF];
    struct lm_tcprules_item it;
    size_t off = 0, n = 0, i;
    int deny = 0;

    /* The key must read back as itself: no range expansion, no end of line,
     * no comment, and nothing that ends the address early. */
    if (memchr(k, '\n', key->len) || memchr(k, '\0', key->len) || memchr(k, '\r', key->len))
        why = "the key holds a line end or NUL";
    else if (key->len > 0 && k[0] == '#')
        why = "the key starts with '#'";
    else if (!(flags & LM_TR_V6) && memchr(k, ':', key->len))
        why = "the key holds a ':'";
    else if ((flags & LM_TR_V6)
             && (tr_memmem(k, key->len, ":allow", 6) || tr_memmem(k, key->len, ":deny", 5)))
        why = "the key holds \":allow\" or \":deny\"";
    else if (memchr(k, '-', key->len) && !memchr(k, '=', key->len) && !memchr(k, '@', key->len))
        why = "tcprules would expand the '-' in the key as a range";
    if (why == NULL) {
        while (lm_tcprules_item_next(v, val->len, &off, &it) == 0) {
            if (it.kind == LM_TRI_DENY && it.len == 1 && n == 0)
                deny = 1;
            else if (it.kind != LM_TRI_SET || memchr(it.text, '\n', it.len))
                break;
            n++;
        }
        if (off != val->len)
            why = "its data is not a deny marker followed by +NAME=VALUE items";
    }
    if (why != NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "record \"%s\" cannot be written as "
                           "a rule: %s", lm_quote(q, k, key->len, LM_QUOTE_MAX), why);
    fwrite(k, 1, key->len, out);
    fputs(deny ? ":deny" : ":allow", out);
    off = 0;
    while (lm_tcprules_item_next(v, val->len, &off, &it) == 0) {
        if (it.kind != LM_TRI_SET)
            continue;
        for (i = 0; tr_delims[i] != '\0'; i++)
            if (memchr(it.value, tr_delims[i], it.vlen) == NULL)
                break;
        if (tr_delims[i] == '\0')
            return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "record \"%s\": no delimiter "
                               "left for the value of %s", lm_quote(q, k, key->len, LM_QUOTE_MAX),
                               lm_quote(q2, it.name, it.nlen, LM_QUOTE_MAX));
        putc(',', out);
        fwrite(it.name, 1, it.nlen, out);
        putc('=', out);
        putc(tr_delims[i], out);
        fwrite(it.value, 1, it.vlen, out);
        putc(tr_delims[i], out);
    }
    putc('\n', out);
    return 0;
}
