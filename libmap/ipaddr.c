/*
 * ipaddr.c - IPv4/IPv6 addresses: arithmetic, parsing every network notation, formatting.
 *
 * Addresses are kept as 16 bytes in network order (ipset.h); arithmetic is
 * done on a two-word number (ipnum.h).  Parsers record one LM_E_SYNTAX
 * diagnostic naming the text and the column of the offending character,
 * and never accept a form the caller did not ask for: a Sendmail key, a
 * tcp.smtp key and an Exchange net;mask differ in small ways that decide
 * whether a rule ever matches.
 */
#include "libmap/ipset.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "libmap/ipnum.h"

/* --- address arithmetic -------------------------------------------------------- */

unsigned
lm_ipfam_bits(int family)
{
    return family == LM_IPV6 ? 128 : 32;
}

int
lm_ipaddr_cmp(const struct lm_ipaddr *a, const struct lm_ipaddr *b)
{
    int c;

    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    /* Sorting a million rules spends its time here: IPv4 without memcmp. */
    if (a->family == LM_IPV4) {
        uint32_t x = (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16
                     | (uint32_t)a->b[2] << 8 | a->b[3];
        uint32_t y = (uint32_t)b->b[0] << 24 | (uint32_t)b->b[1] << 16
                     | (uint32_t)b->b[2] << 8 | b->b[3];
        return x < y ? -1 : x > y;
    }
    c = memcmp(a->b, b->b, sizeof a->b);
    return c < 0 ? -1 : c > 0;
}

int
lm_ipaddr_succ(struct lm_ipaddr *a)
{
    struct ipset_num n;

    ipset_to_num(a, &n);
    if (ipset_num_is_max(&n, lm_ipfam_bits(a->family)))
        return -1;
    ipset_num_inc(&n);
    ipset_from_num(a->family, &n, a);
    return 0;
}

int
lm_ipaddr_pred(struct lm_ipaddr *a)
{
    struct ipset_num n;

    ipset_to_num(a, &n);
    if (n.hi == 0 && n.lo == 0)
        return -1;
    ipset_num_dec(&n);
    ipset_from_num(a->family, &n, a);
    return 0;
}

void
lm_ipnet_make(struct lm_ipnet *out, const struct lm_ipaddr *addr, unsigned prefix)
{
    unsigned bits = lm_ipfam_bits(addr->family);
    struct ipset_num n;

    if (prefix > bits)
        prefix = bits;
    ipset_to_num(addr, &n);
    n = ipset_num_clear(&n, bits - prefix);
    ipset_from_num(addr->family, &n, &out->addr);
    out->prefix = prefix;
}

void
lm_ipnet_range(const struct lm_ipnet *net, struct lm_iprange *out)
{
    unsigned bits = lm_ipfam_bits(net->addr.family);
    struct ipset_num n, h;

    ipset_to_num(&net->addr, &n);
    n = ipset_num_clear(&n, bits - net->prefix);
    h = ipset_num_fill(&n, bits - net->prefix);
    ipset_from_num(net->addr.family, &n, &out->lo);
    ipset_from_num(net->addr.family, &h, &out->hi);
}

int
lm_ipnet_contains(const struct lm_ipnet *net, const struct lm_ipaddr *a)
{
    struct lm_iprange r;

    if (a->family != net->addr.family)
        return 0;
    lm_ipnet_range(net, &r);
    return lm_ipaddr_cmp(&r.lo, a) <= 0 && lm_ipaddr_cmp(a, &r.hi) <= 0;
}

int
lm_iprange_to_net(const struct lm_iprange *r, struct lm_ipnet *out)
{
    unsigned bits = lm_ipfam_bits(r->lo.family), k;
    struct ipset_num lo, hi, end;

    ipset_to_num(&r->lo, &lo);
    ipset_to_num(&r->hi, &hi);
    k = ipset_num_ctz(&lo, bits);
    /* The block must start at lo and end exactly at hi. */
    for (;;) {
        end = ipset_num_fill(&lo, k);
        if (ipset_num_cmp(&end, &hi) <= 0)
            break;
        k--;
    }
    if (ipset_num_cmp(&end, &hi) != 0)
        return LM_NOTFOUND;
    out->addr = r->lo;
    out->prefix = bits - k;
    return 0;
}

void
lm_ipaddr_v4(struct lm_ipaddr *out, unsigned a, unsigned b, unsigned c, unsigned dd)
{
    memset(out, 0, sizeof *out);
    out->family = LM_IPV4;
    out->b[0] = (unsigned char)a;
    out->b[1] = (unsigned char)b;
    out->b[2] = (unsigned char)c;
    out->b[3] = (unsigned char)dd;
}

void
lm_iprange_all(struct lm_iprange *out, int family)
{
    struct ipset_num z = { 0, 0 }, m = ipset_lowmask(lm_ipfam_bits(family));

    ipset_from_num(family, &z, &out->lo);
    ipset_from_num(family, &m, &out->hi);
}

/* --- parsing -------------------------------------------------------------------- */

struct ipset_ctx {
    const char          *t;
    size_t               len;
    unsigned             flags;
    struct lm_diags     *d;
    const struct lm_pos *pos;
};

/* Record "invalid IP address "TEXT": WHY" at the column of offset off. */
static int ipset_fail(const struct ipset_ctx *c, size_t off, const char *fmt, ...)
    LM_PRINTF(3, 4);

static int
ipset_fail(const struct ipset_ctx *c, size_t off, const char *fmt, ...)
{
    char q[LM_QUOTE_BUF], why[160];
    struct lm_pos p = { NULL, 0, 0 };
    va_list ap;

    if (c->d == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->pos != NULL) {
        p = *c->pos;
        if (p.col != 0)
            p.col += (unsigned)off;
    }
    return lm_diag_add(c->d, LM_ERROR, LM_E_SYNTAX, &p, "invalid IP address \"%s\": %s",
                       lm_quote(q, c->t, c->len, LM_QUOTE_MAX), why);
}

static int
ipset_isdigit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static int
ipset_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* One decimal octet at t[*i..end): 0..255, no leading zero ("010" is octal
 * to some resolvers and never equal to "10" as a map key). */
static int
ipset_octet(const struct ipset_ctx *c, size_t *i, size_t end, unsigned *val)
{
    size_t s = *i;
    unsigned long v = 0;

    while (*i < end && ipset_isdigit((unsigned char)c->t[*i])) {
        if (v < 1000)
            v = v * 10 + (unsigned long)(c->t[*i] - '0');
        (*i)++;
    }
    if (*i == s) {
        if (*i < end)
            return ipset_fail(c, *i, "unexpected '%c' where an octet should be",
                              c->t[*i]);
        return ipset_fail(c, *i, "missing octet at the end");
    }
    if (v > 255)
        return ipset_fail(c, s, "octet %.*s is over 255", (int)(*i - s), c->t + s);
    if (*i - s > 1 && c->t[s] == '0')
        return ipset_fail(c, s, "octet %.*s has a leading zero", (int)(*i - s), c->t + s);
    *val = (unsigned)v;
    return 0;
}

/* Dotted IPv4 text, possibly partial: up to 4 octets, an optional trailing
 * dot, and (tcp.smtp) an optional "x-y" run in one octet. */
struct ipset_dotted {
    unsigned oct[4];
    int      n;             /* octets written */
    int      dot;           /* ends with '.' */
    int      run_at;        /* octet holding "x-y", or -1 */
    unsigned run_hi;
    size_t   run_off;       /* offset of the run, for messages */
};

static int
ipset_dotted(const struct ipset_ctx *c, size_t i, size_t end, int allow_run,
             struct ipset_dotted *o)
{
    memset(o, 0, sizeof *o);
    o->run_at = -1;
    if (i == end)
        return ipset_fail(c, i, "empty address");
    for (;;) {
        if (o->n == 4)
            return ipset_fail(c, i, "more than four octets");
        if (ipset_octet(c, &i, end, &o->oct[o->n]) != 0)
            return -1;
        if (i < end && c->t[i] == '-') {
            size_t s = i;
            if (!allow_run)
                return ipset_fail(c, i, "'-' is not allowed here");
            if (o->run_at >= 0)
                return ipset_fail(c, i, "more than one range");
            i++;
            if (ipset_octet(c, &i, end, &o->run_hi) != 0)
                return -1;
            if (o->run_hi < o->oct[o->n])
                return ipset_fail(c, s, "empty range %u-%u", o->oct[o->n], o->run_hi);
            o->run_at = o->n;
            o->run_off = s;
        }
        o->n++;
        if (i == end)
            return 0;
        if (c->t[i] != '.')
            return ipset_fail(c, i, "unexpected '%c'", c->t[i]);
        i++;
        if (i == end) {
            o->dot = 1;
            return 0;
        }
    }
}

/* A complete dotted quad at t[i..end). */
static int
ipset_v4(const struct ipset_ctx *c, size_t i, size_t end, struct lm_ipaddr *a)
{
    struct ipset_dotted o;

    if (ipset_dotted(c, i, end, 0, &o) != 0)
        return -1;
    if (o.dot)
        return ipset_fail(c, end - 1, "trailing dot");
    if (o.n != 4)
        return ipset_fail(c, end, "only %d octet%s, four needed", o.n, o.n == 1 ? "" : "s");
    lm_ipaddr_v4(a, o.oct[0], o.oct[1], o.oct[2], o.oct[3]);
    return 0;
}

/* IPv6 text at t[i..end).  Returns 0 for a full address, n (1..7) when the
 * text is only n leading groups (no "::", no dotted tail), -1 on error. */
static int
ipset_v6(const struct ipset_ctx *c, size_t i, size_t end, struct lm_ipaddr *a)
{
    unsigned g[8];
    int n = 0, dc = -1, k, dotted = 0;

    memset(a, 0, sizeof *a);
    a->family = LM_IPV6;
    if (i == end)
        return ipset_fail(c, i, "empty address");
    if (c->t[i] == ':') {
        if (i + 1 >= end || c->t[i + 1] != ':')
            return ipset_fail(c, i, "a single ':' cannot start an address");
        dc = 0;
        i += 2;
    }
    while (i < end) {
        size_t s = i, e = i;
        unsigned v = 0;

        while (e < end && c->t[e] != ':')
            e++;
        if (memchr(c->t + s, '.', e - s) != NULL) {
            struct lm_ipaddr v4;
            if (e != end)
                return ipset_fail(c, s, "an IPv4 tail must come last");
            if (n > 6)
                return ipset_fail(c, s, "too many groups before the IPv4 tail");
            if (ipset_v4(c, s, e, &v4) != 0)
                return -1;
            g[n++] = (unsigned)v4.b[0] << 8 | v4.b[1];
            g[n++] = (unsigned)v4.b[2] << 8 | v4.b[3];
            dotted = 1;
            i = e;
            break;
        }
        if (e == s)
            return ipset_fail(c, s, "empty group");
        for (; i < e; i++) {
            int h = ipset_hexval((unsigned char)c->t[i]);
            if (h < 0)
                return ipset_fail(c, i, "unexpected '%c'", c->t[i]);
            v = v << 4 | (unsigned)h;
            if (i - s >= 4)
                return ipset_fail(c, s, "group longer than four hex digits");
        }
        if (n == 8)
            return ipset_fail(c, s, "more than eight groups");
        g[n++] = v;
        if (i == end)
            break;
        i++;                            /* the ':' */
        if (i < end && c->t[i] == ':') {
            if (dc >= 0)
                return ipset_fail(c, i - 1, "\"::\" appears twice");
            dc = n;
            i++;
        } else if (i == end) {
            return ipset_fail(c, i - 1, "address ends with a single ':'");
        }
    }
    if (dc < 0 && n < 8) {
        if (dotted)
            return ipset_fail(c, end, "only %d groups, eight needed", n);
        for (k = 0; k < n; k++) {
            a->b[2 * k] = (unsigned char)(g[k] >> 8);
            a->b[2 * k + 1] = (unsigned char)g[k];
        }
        return n;
    }
    if (dc >= 0 && n > 7)
        return ipset_fail(c, end, "\"::\" with eight groups besides");
    for (k = 0; k < n; k++) {
        int at = (dc >= 0 && k >= dc) ? 8 - (n - k) : k;
        a->b[2 * at] = (unsigned char)(g[k] >> 8);
        a->b[2 * at + 1] = (unsigned char)g[k];
    }
    return 0;
}

/* A complete address of either accepted family at t[i..end). */
static int
ipset_full(const struct ipset_ctx *c, size_t i, size_t end, struct lm_ipaddr *a)
{
    int rc;

    if (memchr(c->t + i, ':', end - i) != NULL) {
        if (!(c->flags & LM_IPF_V6))
            return ipset_fail(c, i, "IPv6 is not accepted here");
        rc = ipset_v6(c, i, end, a);
        if (rc > 0)
            return ipset_fail(c, end, "only %d group%s, eight or \"::\" needed", rc,
                              rc == 1 ? "" : "s");
        return rc;
    }
    if (!(c->flags & LM_IPF_V4))
        return ipset_fail(c, i, "IPv4 is not accepted here");
    return ipset_v4(c, i, end, a);
}

/* Check that the network addr/prefix has no host bits; with LM_IPF_HOSTBITS
 * clear them and warn.  The message suggests the network address. */
static int
ipset_hostbits(const struct ipset_ctx *c, struct lm_ipaddr *a, unsigned prefix)
{
    struct lm_ipnet net;
    char buf[LM_IPADDR_BUF], q[LM_QUOTE_BUF];
    struct lm_pos p = { NULL, 0, 0 };

    lm_ipnet_make(&net, a, prefix);
    if (lm_ipaddr_cmp(&net.addr, a) == 0)
        return 0;
    lm_ipnet_format(&net, LM_FMT_CIDR_LEN, buf);
    if (!(c->flags & LM_IPF_HOSTBITS))
        return ipset_fail(c, 0, "host bits set (did you mean %s?)", buf);
    if (c->d != NULL) {
        if (c->pos != NULL)
            p = *c->pos;
        lm_diag_add(c->d, LM_WARNING, LM_E_SYNTAX, &p,
                    "host bits set in \"%s\"; using %s",
                    lm_quote(q, c->t, c->len, LM_QUOTE_MAX), buf);
    }
    *a = net.addr;
    return 0;
}

static void
ipset_set_range(struct lm_iprange *out, const struct lm_ipaddr *a, unsigned prefix)
{
    struct lm_ipnet net;

    lm_ipnet_make(&net, a, prefix);
    lm_ipnet_range(&net, out);
}

/* addr/len, addr/mask, addr;mask. */
static int
ipset_parse_masked(const struct ipset_ctx *c, size_t sep, struct lm_iprange *out)
{
    struct lm_ipaddr a, m;
    size_t i = sep + 1;
    unsigned bits, prefix;

    if (ipset_full(c, 0, sep, &a) != 0)
        return -1;
    bits = lm_ipfam_bits(a.family);
    if (c->t[sep] == '/' && (i == c->len || memchr(c->t + i, '.', c->len - i) == NULL)) {
        unsigned long v = 0;
        if (!(c->flags & LM_IPF_CIDR))
            return ipset_fail(c, sep, "a \"/length\" suffix is not accepted here");
        if (i == c->len)
            return ipset_fail(c, i, "missing prefix length after '/'");
        for (; i < c->len; i++) {
            if (!ipset_isdigit((unsigned char)c->t[i]))
                return ipset_fail(c, i, "unexpected '%c' in the prefix length", c->t[i]);
            if (v <= 1000)
                v = v * 10 + (unsigned long)(c->t[i] - '0');
        }
        if (v > bits)
            return ipset_fail(c, sep + 1, "prefix length %.*s is over %u",
                              (int)(c->len - sep - 1), c->t + sep + 1, bits);
        prefix = (unsigned)v;
    } else {
        struct ipset_num mn, inv;
        if (!(c->flags & LM_IPF_MASK))
            return ipset_fail(c, sep, "a '%c' mask is not accepted here", c->t[sep]);
        if (i == c->len)
            return ipset_fail(c, i, "missing mask after '%c'", c->t[sep]);
        if (a.family != LM_IPV4)
            return ipset_fail(c, sep, "a mask needs an IPv4 address");
        if (memchr(c->t + i, ':', c->len - i) != NULL)
            return ipset_fail(c, i, "the mask must be a dotted quad");
        if (ipset_v4(c, i, c->len, &m) != 0)
            return -1;
        ipset_to_num(&m, &mn);
        inv.lo = ~mn.lo & 0xffffffffu;
        /* Contiguous: the inverted mask is a run of low one bits. */
        if ((inv.lo & (inv.lo + 1)) != 0)
            return ipset_fail(c, i, "mask %.*s is not contiguous", (int)(c->len - i),
                              c->t + i);
        prefix = 32 - ipset_num_ctz(&mn, 32);
    }
    if (ipset_hostbits(c, &a, prefix) != 0)
        return -1;
    ipset_set_range(out, &a, prefix);
    return 0;
}

/* Partial IPv4: Sendmail octet prefix, tcp.smtp prefix or range. */
static int
ipset_parse_partial(const struct ipset_ctx *c, struct lm_iprange *out)
{
    struct ipset_dotted o;
    unsigned lo[4] = { 0, 0, 0, 0 }, hi[4] = { 255, 255, 255, 255 };
    int k, tcp = (c->flags & LM_IPF_DOTTED) != 0;

    if (ipset_dotted(c, 0, c->len, tcp, &o) != 0)
        return -1;
    if (o.dot && o.n == 4)
        return ipset_fail(c, c->len - 1, "trailing dot after the fourth octet");
    if (o.dot && !tcp) {
        if (c->flags & LM_IPF_OCTETS)
            return ipset_fail(c, c->len - 1,
                              "trailing dot (a whole-octet prefix is written \"%.*s\")",
                              (int)(c->len - 1), c->t);
        return ipset_fail(c, c->len - 1, "trailing dot");
    }
    if (!o.dot && o.n < 4) {
        if (!(c->flags & LM_IPF_OCTETS)) {
            if (tcp)
                return ipset_fail(c, c->len,
                                  "incomplete address (a dotted prefix ends with a dot: "
                                  "\"%.*s.\")", (int)c->len, c->t);
            return ipset_fail(c, c->len, "only %d octet%s, four needed", o.n,
                              o.n == 1 ? "" : "s");
        }
        if (o.run_at >= 0)
            return ipset_fail(c, o.run_off, "a range needs a complete address or a "
                              "prefix ending in a dot");
    }
    if (o.run_at >= 0 && o.run_at != o.n - 1)
        return ipset_fail(c, o.run_off, "a range must be in the last octet written");
    for (k = 0; k < o.n; k++)
        lo[k] = hi[k] = o.oct[k];
    if (o.run_at >= 0)
        hi[o.run_at] = o.run_hi;
    lm_ipaddr_v4(&out->lo, lo[0], lo[1], lo[2], lo[3]);
    lm_ipaddr_v4(&out->hi, hi[0], hi[1], hi[2], hi[3]);
    return 0;
}

/* "A-B": two complete addresses; 1 when the text is not of that form. */
static int
ipset_parse_pair(const struct ipset_ctx *c, size_t dash, struct lm_iprange *out)
{
    struct ipset_ctx quiet = *c;
    struct lm_iprange r;

    quiet.d = NULL;
    if (ipset_full(&quiet, 0, dash, &r.lo) != 0)
        return 1;
    if (dash + 1 >= c->len)
        return ipset_fail(c, dash, "missing end of range after '-'");
    if (memchr(c->t + dash + 1, r.lo.family == LM_IPV6 ? ':' : '.',
               c->len - dash - 1) == NULL)
        return 1;               /* "1.2.3.4-7": a tcp.smtp run */
    if (ipset_full(c, dash + 1, c->len, &r.hi) != 0)
        return -1;
    if (r.hi.family != r.lo.family)
        return ipset_fail(c, dash + 1, "the ends of a range differ in family");
    if (lm_ipaddr_cmp(&r.lo, &r.hi) > 0)
        return ipset_fail(c, dash + 1, "range ends before it starts");
    *out = r;
    return 0;
}

int
lm_iprange_parse(const char *text, size_t len, unsigned flags,
                 struct lm_iprange *out, struct lm_diags *d,
                 const struct lm_pos *pos)
{
    struct ipset_ctx c;
    const char *sep, *dash;
    int rc;

    c.t = text;
    c.len = len;
    c.flags = flags;
    c.d = d;
    c.pos = pos;
    if (!(flags & (LM_IPF_V4 | LM_IPF_V6)))
        c.flags |= LM_IPF_V4 | LM_IPF_V6;
    if (len == 0)
        return ipset_fail(&c, 0, "empty address");
    sep = memchr(text, '/', len);
    if (sep == NULL)
        sep = memchr(text, ';', len);
    dash = memchr(text, '-', len);
    if (dash != NULL) {
        if (sep != NULL)
            return ipset_fail(&c, (size_t)(dash - text), "a range cannot have a mask");
        if (c.flags & LM_IPF_RANGE) {
            rc = ipset_parse_pair(&c, (size_t)(dash - text), out);
            if (rc <= 0)
                return rc;
        }
        if (memchr(text, ':', len) != NULL || !(c.flags & LM_IPF_DOTTED))
            return ipset_fail(&c, (size_t)(dash - text), "'-' is not allowed here");
        if (!(c.flags & LM_IPF_V4))
            return ipset_fail(&c, 0, "IPv4 is not accepted here");
        return ipset_parse_partial(&c, out);
    }
    if (sep != NULL)
        return ipset_parse_masked(&c, (size_t)(sep - text), out);
    /* Without IPv4, colon-less text is one IPv6 group ("IPv6:2001" in a
     * Sendmail key is 2001::/16). */
    if (memchr(text, ':', len) != NULL
        || (!(c.flags & LM_IPF_V4) && memchr(text, '.', len) == NULL)) {
        struct lm_ipaddr a;
        if (!(c.flags & LM_IPF_V6))
            return ipset_fail(&c, 0, "IPv6 is not accepted here");
        rc = ipset_v6(&c, 0, len, &a);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            if (!(c.flags & LM_IPF_GROUPS))
                return ipset_fail(&c, len, "only %d group%s, eight or \"::\" needed", rc,
                                  rc == 1 ? "" : "s");
            ipset_set_range(out, &a, 16 * (unsigned)rc);
            return 0;
        }
        out->lo = out->hi = a;
        return 0;
    }
    if (!(c.flags & LM_IPF_V4))
        return ipset_fail(&c, 0, "IPv4 is not accepted here");
    return ipset_parse_partial(&c, out);
}

int
lm_ipnet_parse(const char *text, size_t len, unsigned flags,
               struct lm_ipnet *out, struct lm_diags *d,
               const struct lm_pos *pos)
{
    struct lm_iprange r;

    if (lm_iprange_parse(text, len, flags, &r, d, pos) != 0)
        return -1;
    if (lm_iprange_to_net(&r, out) != 0) {
        struct ipset_ctx c = { text, len, flags, d, pos };
        return ipset_fail(&c, 0, "a range, not one network");
    }
    return 0;
}

int
lm_ipaddr_parse(const char *text, size_t len, unsigned flags,
                struct lm_ipaddr *out, struct lm_diags *d,
                const struct lm_pos *pos)
{
    struct ipset_ctx c;

    c.t = text;
    c.len = len;
    c.flags = flags & (LM_IPF_V4 | LM_IPF_V6);
    c.d = d;
    c.pos = pos;
    if (c.flags == 0)
        c.flags = LM_IPF_V4 | LM_IPF_V6;
    if (len == 0)
        return ipset_fail(&c, 0, "empty address");
    return ipset_full(&c, 0, len, out);
}

/* --- formatting ----------------------------------------------------------------- */

char *
lm_ipaddr_format(const struct lm_ipaddr *a, char *buf)
{
    unsigned g[8];
    int i, best = -1, bestlen = 0, run = 0;
    char *o = buf;

    if (a->family != LM_IPV6) {
        snprintf(buf, LM_IPADDR_BUF, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
        return buf;
    }
    for (i = 0; i < 8; i++)
        g[i] = (unsigned)a->b[2 * i] << 8 | a->b[2 * i + 1];
    /* An IPv4-mapped address keeps its dotted tail (RFC 5952 section 5). */
    if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
        snprintf(buf, LM_IPADDR_BUF, "::ffff:%u.%u.%u.%u", a->b[12], a->b[13], a->b[14],
                 a->b[15]);
        return buf;
    }
    /* The first longest run of two or more zero groups becomes "::". */
    for (i = 0; i <= 8; i++) {
        if (i < 8 && g[i] == 0) {
            run++;
            continue;
        }
        if (run > bestlen && run >= 2) {
            best = i - run;
            bestlen = run;
        }
        run = 0;
    }
    for (i = 0; i < 8; i++) {
        if (i == best) {
            *o++ = ':';
            *o++ = ':';
            i += bestlen - 1;
            continue;
        }
        if (i > 0 && i != best + bestlen)
            *o++ = ':';
        o += sprintf(o, "%x", g[i]);
    }
    *o = '\0';
    return buf;
}

char *
lm_ipnet_format(const struct lm_ipnet *n, enum lm_ipfmt style, char *buf)
{
    unsigned bits = lm_ipfam_bits(n->addr.family);
    char *o;
    unsigned i, k;

    switch (style) {
    case LM_FMT_CIDR:
    case LM_FMT_CIDR_LEN:
        lm_ipaddr_format(&n->addr, buf);
        if (style == LM_FMT_CIDR_LEN || n->prefix != bits)
            sprintf(buf + strlen(buf), "/%u", n->prefix);
        return buf;
    case LM_FMT_OCTETS:
        o = buf;
        if (n->addr.family == LM_IPV6) {
            if (n->prefix == 0 || n->prefix % 16 != 0)
                return NULL;
            k = n->prefix / 16;
            for (i = 0; i < k; i++)
                o += sprintf(o, "%s%x", i ? ":" : "",
                             (unsigned)n->addr.b[2 * i] << 8 | n->addr.b[2 * i + 1]);
        } else {
            if (n->prefix == 0 || n->prefix % 8 != 0)
                return NULL;
            k = n->prefix / 8;
            for (i = 0; i < k; i++)
                o += sprintf(o, "%s%u", i ? "." : "", n->addr.b[i]);
        }
        *o = '\0';
        return buf;
    case LM_FMT_MASK:
        if (n->addr.family == LM_IPV6)
            return NULL;
        lm_ipaddr_format(&n->addr, buf);
        if (n->prefix != 32) {
            struct ipset_num m = ipset_lowmask(32 - n->prefix);
            struct lm_ipaddr ma;
            m.lo = ~m.lo & 0xffffffffu;
            m.hi = 0;
            ipset_from_num(LM_IPV4, &m, &ma);
            strcat(buf, ";");
            lm_ipaddr_format(&ma, buf + strlen(buf));
        }
        return buf;
    }
    return NULL;
}

char *
lm_iprange_format(const struct lm_iprange *r, char *buf)
{
    lm_ipaddr_format(&r->lo, buf);
    if (lm_ipaddr_cmp(&r->lo, &r->hi) != 0) {
        size_t n = strlen(buf);
        buf[n] = '-';
        lm_ipaddr_format(&r->hi, buf + n + 1);
    }
    return buf;
}
