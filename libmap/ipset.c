/*
 * ipset.c - IPv4/IPv6 addresses, networks, ranges, interval sets and covers.
 *
 * Addresses are kept as 16 bytes in network order (ipset.h); arithmetic is
 * done on a two-word number so IPv4 and IPv6 share one code path.  Parsers
 * record one LM_E_SYNTAX diagnostic naming the text and the column of the
 * offending character, and never accept a form the caller did not ask for:
 * a Sendmail key, a tcp.smtp key and an Exchange net;mask differ in small
 * ways that decide whether a rule ever matches.  Covers are exact (their
 * union is the set, never more) and greedy, which is minimal because every
 * item kind is an aligned block or a run of aligned blocks of one level.
 */
#include "libmap/ipset.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address as a number: IPv4 uses the low 32 bits of lo. */
struct ipset_num {
    uint64_t hi, lo;
};

/* --- numbers ---------------------------------------------------------------- */

unsigned
lm_ipfam_bits(int family)
{
    return family == LM_IPV6 ? 128 : 32;
}

static void
ipset_to_num(const struct lm_ipaddr *a, struct ipset_num *n)
{
    int i;

    n->hi = n->lo = 0;
    if (a->family == LM_IPV6) {
        for (i = 0; i < 8; i++)
            n->hi = n->hi << 8 | a->b[i];
        for (i = 8; i < 16; i++)
            n->lo = n->lo << 8 | a->b[i];
    } else {
        for (i = 0; i < 4; i++)
            n->lo = n->lo << 8 | a->b[i];
    }
}

static void
ipset_from_num(int family, const struct ipset_num *n, struct lm_ipaddr *a)
{
    int i;

    memset(a, 0, sizeof *a);
    a->family = (unsigned char)family;
    if (family == LM_IPV6) {
        for (i = 0; i < 8; i++)
            a->b[i] = (unsigned char)(n->hi >> (56 - 8 * i));
        for (i = 0; i < 8; i++)
            a->b[8 + i] = (unsigned char)(n->lo >> (56 - 8 * i));
    } else {
        for (i = 0; i < 4; i++)
            a->b[i] = (unsigned char)(n->lo >> (24 - 8 * i));
    }
}

/* The number whose low k bits are one (k = 0..128). */
static struct ipset_num
ipset_lowmask(unsigned k)
{
    struct ipset_num m;

    if (k >= 128) {
        m.hi = m.lo = UINT64_MAX;
    } else if (k >= 64) {
        m.lo = UINT64_MAX;
        m.hi = k == 64 ? 0 : UINT64_MAX >> (128 - k);
    } else {
        m.hi = 0;
        m.lo = k == 0 ? 0 : UINT64_MAX >> (64 - k);
    }
    return m;
}

static int
ipset_num_cmp(const struct ipset_num *a, const struct ipset_num *b)
{
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

static int
ipset_num_is_max(const struct ipset_num *n, unsigned bits)
{
    struct ipset_num m = ipset_lowmask(bits);

    return n->hi == m.hi && n->lo == m.lo;
}

/* n + 1; the caller checks for the family's maximum first. */
static void
ipset_num_inc(struct ipset_num *n)
{
    if (++n->lo == 0)
        n->hi++;
}

static void
ipset_num_dec(struct ipset_num *n)
{
    if (n->lo-- == 0)
        n->hi--;
}

/* Trailing zero bits of n, at most bits. */
static unsigned
ipset_num_ctz(const struct ipset_num *n, unsigned bits)
{
    unsigned k = 0;
    uint64_t w = n->lo;

    if (w == 0) {
        k = 64;
        w = n->hi;
        if (w == 0)
            return bits;
    }
    while ((w & 1) == 0) {
        w >>= 1;
        k++;
    }
    return k < bits ? k : bits;
}

/* n with its low k bits set (the last address of the 2^k block at n). */
static struct ipset_num
ipset_num_fill(const struct ipset_num *n, unsigned k)
{
    struct ipset_num m = ipset_lowmask(k), r;

    r.hi = n->hi | m.hi;
    r.lo = n->lo | m.lo;
    return r;
}

static struct ipset_num
ipset_num_clear(const struct ipset_num *n, unsigned k)
{
    struct ipset_num m = ipset_lowmask(k), r;

    r.hi = n->hi & ~m.hi;
    r.lo = n->lo & ~m.lo;
    return r;
}

/* --- address arithmetic -------------------------------------------------------- */

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

/* --- sets ------------------------------------------------------------------------ */

void
lm_ipset_init(struct lm_ipset *s)
{
    memset(s, 0, sizeof *s);
}

void
lm_ipset_fini(struct lm_ipset *s)
{
    if (s == NULL)
        return;
    free(s->v);
    memset(s, 0, sizeof *s);
}

void
lm_ipset_clear(struct lm_ipset *s)
{
    s->n = 0;
    s->dirty = 0;
}

static int
ipset_nomem(struct lm_diags *d)
{
    if (d == NULL)
        return -1;
    return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory in an address set");
}

static int
ipset_reserve(struct lm_ipset *s, size_t need, struct lm_diags *d)
{
    size_t ncap;
    struct lm_iprange *nv;

    if (need <= s->cap)
        return 0;
    ncap = s->cap ? s->cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / sizeof *nv)
            return ipset_nomem(d);
        ncap *= 2;
    }
    nv = realloc(s->v, ncap * sizeof *nv);
    if (nv == NULL)
        return ipset_nomem(d);
    s->v = nv;
    s->cap = ncap;
    return 0;
}

/* 1 when b starts right after a ends or overlaps it (same family). */
static int
ipset_joins(const struct lm_iprange *a, const struct lm_iprange *b)
{
    struct ipset_num ah, bl;

    if (a->hi.family != b->lo.family)
        return 0;
    ipset_to_num(&a->hi, &ah);
    ipset_to_num(&b->lo, &bl);
    if (ipset_num_cmp(&bl, &ah) <= 0)
        return 1;
    if (ipset_num_is_max(&ah, lm_ipfam_bits(a->hi.family)))
        return 1;
    ipset_num_inc(&ah);
    return ipset_num_cmp(&bl, &ah) == 0;
}

/* Append r to a normalized list, merging with the last range. */
static int
ipset_push(struct lm_ipset *s, const struct lm_iprange *r, struct lm_diags *d)
{
    if (s->n > 0 && ipset_joins(&s->v[s->n - 1], r)) {
        if (lm_ipaddr_cmp(&r->hi, &s->v[s->n - 1].hi) > 0)
            s->v[s->n - 1].hi = r->hi;
        return 0;
    }
    if (ipset_reserve(s, s->n + 1, d) != 0)
        return -1;
    s->v[s->n++] = *r;
    return 0;
}

int
lm_ipset_add_range(struct lm_ipset *s, const struct lm_iprange *r, struct lm_diags *d)
{
    /* In order (the usual case when building from a sorted source) the set
     * stays normalized; otherwise it is sorted once, when next read. */
    if (!s->dirty && (s->n == 0 || lm_ipaddr_cmp(&s->v[s->n - 1].lo, &r->lo) <= 0))
        return ipset_push(s, r, d);
    if (ipset_reserve(s, s->n + 1, d) != 0)
        return -1;
    s->v[s->n++] = *r;
    s->dirty = 1;
    return 0;
}

int
lm_ipset_add_net(struct lm_ipset *s, const struct lm_ipnet *n, struct lm_diags *d)
{
    struct lm_iprange r;

    lm_ipnet_range(n, &r);
    return lm_ipset_add_range(s, &r, d);
}

int
lm_ipset_add_addr(struct lm_ipset *s, const struct lm_ipaddr *a, struct lm_diags *d)
{
    struct lm_iprange r;

    r.lo = r.hi = *a;
    return lm_ipset_add_range(s, &r, d);
}

int
lm_ipset_add_masked(struct lm_ipset *s, const struct lm_ipaddr *net,
                    const struct lm_ipaddr *mask, size_t max_ranges,
                    struct lm_diags *d)
{
    struct ipset_num nn, mn;
    uint32_t m, base, free_hi;
    unsigned t, f = 0, bit;
    uint64_t count, c;
    char q[LM_IPADDR_BUF];

    if (max_ranges == 0)
        max_ranges = 65536;
    ipset_to_num(net, &nn);
    ipset_to_num(mask, &mn);
    m = (uint32_t)mn.lo;
    t = ipset_num_ctz(&mn, 32);        /* free bits at the bottom: one range */
    free_hi = ~m & (t >= 32 ? 0 : ~(uint32_t)0 << t);
    for (bit = 0; bit < 32; bit++)
        f += (free_hi >> bit) & 1;
    count = (uint64_t)1 << f;
    if (count > max_ranges) {
        if (d == NULL)
            return -1;
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "mask %s needs %llu address ranges (limit %zu)",
                           lm_ipaddr_format(mask, q), (unsigned long long)count, max_ranges);
    }
    base = (uint32_t)nn.lo & m;
    for (c = 0; c < count; c++) {
        struct lm_iprange r;
        struct ipset_num lo, hi;
        uint32_t v = base;
        uint64_t cc = c;
        /* Spread the bits of c over the free mask bits, lowest first, so the
         * ranges come out in ascending order. */
        for (bit = 0; bit < 32 && cc; bit++) {
            if (free_hi >> bit & 1) {
                if (cc & 1)
                    v |= (uint32_t)1 << bit;
                cc >>= 1;
            }
        }
        lo.hi = 0;
        lo.lo = v;
        hi = ipset_num_fill(&lo, t);
        ipset_from_num(LM_IPV4, &lo, &r.lo);
        ipset_from_num(LM_IPV4, &hi, &r.hi);
        if (lm_ipset_add_range(s, &r, d) != 0)
            return -1;
    }
    return 0;
}

static int
ipset_cmp_lo(const void *a, const void *b)
{
    const struct lm_iprange *x = a, *y = b;

    return lm_ipaddr_cmp(&x->lo, &y->lo);
}

/* One family's ranges as numbers.  32 bytes, so the C library sorts them in
 * place; wider elements it sorts through pointers, several times slower on
 * a million rules. */
struct ipset_span {
    struct ipset_num lo, hi;
};

static int
ipset_cmp_span(const void *a, const void *b)
{
    const struct ipset_span *x = a, *y = b;

    return ipset_num_cmp(&x->lo, &y->lo);
}

static int
ipset_cmp_num(const void *a, const void *b)
{
    return ipset_num_cmp(a, b);
}

/* Sort the spans of one family, merge the ones that overlap or touch, and
 * write them to out as ranges.  Returns how many were written. */
static size_t
ipset_merge_spans(struct ipset_span *sp, size_t n, int family, struct lm_iprange *out)
{
    unsigned bits = lm_ipfam_bits(family);
    struct ipset_span cur;
    size_t i, o = 0;

    if (n == 0)
        return 0;
    qsort(sp, n, sizeof *sp, ipset_cmp_span);
    cur = sp[0];
    for (i = 1; i < n; i++) {
        struct ipset_num next = cur.hi;
        int joins = ipset_num_is_max(&cur.hi, bits);
        if (!joins) {
            ipset_num_inc(&next);
            joins = ipset_num_cmp(&sp[i].lo, &next) <= 0;
        }
        if (joins) {
            if (ipset_num_cmp(&sp[i].hi, &cur.hi) > 0)
                cur.hi = sp[i].hi;
            continue;
        }
        ipset_from_num(family, &cur.lo, &out[o].lo);
        ipset_from_num(family, &cur.hi, &out[o].hi);
        o++;
        cur = sp[i];
    }
    ipset_from_num(family, &cur.lo, &out[o].lo);
    ipset_from_num(family, &cur.hi, &out[o].hi);
    return o + 1;
}

void
lm_ipset_normalize(struct lm_ipset *s)
{
    struct ipset_span *sp;
    size_t i, n4 = 0, k4 = 0, k6, o;

    if (!s->dirty)
        return;
    s->dirty = 0;
    if (s->n == 0)
        return;
    sp = malloc(s->n * sizeof *sp);
    if (sp == NULL) {
        /* No memory for the fast path: sort the ranges themselves. */
        qsort(s->v, s->n, sizeof *s->v, ipset_cmp_lo);
        for (i = 1, o = 0; i < s->n; i++) {
            if (ipset_joins(&s->v[o], &s->v[i])) {
                if (lm_ipaddr_cmp(&s->v[i].hi, &s->v[o].hi) > 0)
                    s->v[o].hi = s->v[i].hi;
            } else {
                s->v[++o] = s->v[i];
            }
        }
        s->n = o + 1;
        return;
    }
    for (i = 0; i < s->n; i++)
        n4 += s->v[i].lo.family == LM_IPV4;
    for (i = 0, k6 = n4; i < s->n; i++) {
        struct ipset_span *t = &sp[s->v[i].lo.family == LM_IPV4 ? k4++ : k6++];
        ipset_to_num(&s->v[i].lo, &t->lo);
        ipset_to_num(&s->v[i].hi, &t->hi);
    }
    o = ipset_merge_spans(sp, n4, LM_IPV4, s->v);
    o += ipset_merge_spans(sp + n4, s->n - n4, LM_IPV6, s->v + o);
    s->n = o;
    free(sp);
}

int
lm_ipset_copy(struct lm_ipset *dst, struct lm_ipset *src, struct lm_diags *d)
{
    if (dst == src)
        return 0;
    lm_ipset_normalize(src);
    if (ipset_reserve(dst, src->n, d) != 0)
        return -1;
    if (src->n > 0)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
    dst->dirty = 0;
    return 0;
}

/* Put the result t into out, whose old content is dropped. */
static void
ipset_take(struct lm_ipset *out, struct lm_ipset *t)
{
    lm_ipset_fini(out);
    *out = *t;
}

int
lm_ipset_union(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
               struct lm_diags *d)
{
    struct lm_ipset t;
    size_t i = 0, j = 0;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    lm_ipset_init(&t);
    while (i < a->n || j < b->n) {
        const struct lm_iprange *r;
        if (j == b->n || (i < a->n && lm_ipaddr_cmp(&a->v[i].lo, &b->v[j].lo) <= 0))
            r = &a->v[i++];
        else
            r = &b->v[j++];
        if (ipset_push(&t, r, d) != 0) {
            lm_ipset_fini(&t);
            return -1;
        }
    }
    ipset_take(out, &t);
    return 0;
}

int
lm_ipset_intersect(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                   struct lm_diags *d)
{
    struct lm_ipset t;
    size_t i = 0, j = 0;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    lm_ipset_init(&t);
    while (i < a->n && j < b->n) {
        const struct lm_iprange *x = &a->v[i], *y = &b->v[j];
        struct lm_iprange r;
        r.lo = lm_ipaddr_cmp(&x->lo, &y->lo) >= 0 ? x->lo : y->lo;
        r.hi = lm_ipaddr_cmp(&x->hi, &y->hi) <= 0 ? x->hi : y->hi;
        if (lm_ipaddr_cmp(&r.lo, &r.hi) <= 0 && r.lo.family == r.hi.family
            && ipset_push(&t, &r, d) != 0) {
            lm_ipset_fini(&t);
            return -1;
        }
        /* Drop whichever range ends first. */
        if (lm_ipaddr_cmp(&x->hi, &y->hi) <= 0)
            i++;
        else
            j++;
    }
    ipset_take(out, &t);
    return 0;
}

int
lm_ipset_subtract(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                  struct lm_diags *d)
{
    struct lm_ipset t;
    size_t i, j = 0;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    lm_ipset_init(&t);
    for (i = 0; i < a->n; i++) {
        struct lm_iprange cur = a->v[i];
        int live = 1;
        /* Ranges of b wholly before cur cannot matter to later ones either. */
        while (j < b->n && lm_ipaddr_cmp(&b->v[j].hi, &cur.lo) < 0)
            j++;
        for (size_t k = j; live && k < b->n && lm_ipaddr_cmp(&b->v[k].lo, &cur.hi) <= 0;
             k++) {
            const struct lm_iprange *y = &b->v[k];
            if (lm_ipaddr_cmp(&y->lo, &cur.lo) > 0) {
                struct lm_iprange left = cur;
                left.hi = y->lo;
                lm_ipaddr_pred(&left.hi);
                if (ipset_push(&t, &left, d) != 0)
                    goto fail;
            }
            if (lm_ipaddr_cmp(&y->hi, &cur.hi) >= 0) {
                live = 0;
            } else {
                cur.lo = y->hi;
                lm_ipaddr_succ(&cur.lo);
            }
        }
        if (live && ipset_push(&t, &cur, d) != 0)
            goto fail;
    }
    ipset_take(out, &t);
    return 0;
fail:
    lm_ipset_fini(&t);
    return -1;
}

int
lm_ipset_complement(struct lm_ipset *out, struct lm_ipset *a, unsigned fams,
                    struct lm_diags *d)
{
    struct lm_ipset all;
    struct lm_iprange r;
    int rc;

    lm_ipset_init(&all);
    if (fams & LM_IPSET_V4) {
        lm_iprange_all(&r, LM_IPV4);
        if (ipset_push(&all, &r, d) != 0)
            goto fail;
    }
    if (fams & LM_IPSET_V6) {
        lm_iprange_all(&r, LM_IPV6);
        if (ipset_push(&all, &r, d) != 0)
            goto fail;
    }
    rc = lm_ipset_subtract(out, &all, a, d);
    lm_ipset_fini(&all);
    return rc;
fail:
    lm_ipset_fini(&all);
    return -1;
}

/* Index of the range containing a, or of the first range after it (n when
 * none): ranges are sorted by lo, so binary search on lo. */
static size_t
ipset_find(const struct lm_ipset *s, const struct lm_ipaddr *a)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&s->v[mid].hi, a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
lm_ipset_contains(struct lm_ipset *s, const struct lm_ipaddr *a)
{
    size_t i;

    lm_ipset_normalize(s);
    i = ipset_find(s, a);
    return i < s->n && lm_ipaddr_cmp(&s->v[i].lo, a) <= 0;
}

int
lm_ipset_equal(struct lm_ipset *a, struct lm_ipset *b)
{
    size_t i;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++)
        if (lm_ipaddr_cmp(&a->v[i].lo, &b->v[i].lo) != 0
            || lm_ipaddr_cmp(&a->v[i].hi, &b->v[i].hi) != 0)
            return 0;
    return 1;
}

int
lm_ipset_subset(struct lm_ipset *a, struct lm_ipset *b)
{
    size_t i, k;

    lm_ipset_normalize(a);
    lm_ipset_normalize(b);
    /* b is merged, so a range of a inside b lies inside one range of b. */
    for (i = 0; i < a->n; i++) {
        k = ipset_find(b, &a->v[i].lo);
        if (k == b->n || lm_ipaddr_cmp(&b->v[k].lo, &a->v[i].lo) > 0
            || lm_ipaddr_cmp(&a->v[i].hi, &b->v[k].hi) > 0)
            return 0;
    }
    return 1;
}

unsigned
lm_ipset_families(struct lm_ipset *s)
{
    unsigned f = 0;
    size_t i;

    for (i = 0; i < s->n; i++)
        f |= s->v[i].lo.family == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4;
    return f;
}

unsigned long long
lm_ipset_count(struct lm_ipset *s)
{
    unsigned long long total = 0;
    size_t i;

    lm_ipset_normalize(s);
    for (i = 0; i < s->n; i++) {
        struct ipset_num lo, hi, size;
        ipset_to_num(&s->v[i].lo, &lo);
        ipset_to_num(&s->v[i].hi, &hi);
        size.hi = hi.hi - lo.hi - (hi.lo < lo.lo);
        size.lo = hi.lo - lo.lo;
        if (size.hi != 0 || size.lo == UINT64_MAX
            || total > ULLONG_MAX - (size.lo + 1))
            return ULLONG_MAX;
        total += size.lo + 1;
    }
    return total;
}

/* --- covers ---------------------------------------------------------------------- */

/* A growing array of items of size sz. */
struct ipset_vec {
    void  *v;
    size_t n, cap, sz;
};

static void *
ipset_vec_push(struct ipset_vec *a, struct lm_diags *d)
{
    if (a->n == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 64;
        void *nv;
        if (ncap > SIZE_MAX / 2 / a->sz) {
            ipset_nomem(d);
            return NULL;
        }
        nv = realloc(a->v, ncap * a->sz);
        if (nv == NULL) {
            ipset_nomem(d);
            return NULL;
        }
        a->v = nv;
        a->cap = ncap;
    }
    return (char *)a->v + a->sz * a->n++;
}

/* Greedy block cover of one range: at each step the largest allowed block
 * (2^k addresses, k in the allowed list, largest first) that starts at lo,
 * is aligned there and ends by hi.  allowed[] must contain 0. */
static int
ipset_cover_blocks(const struct lm_iprange *r, const unsigned *allowed, size_t nallowed,
                   struct ipset_vec *out, struct lm_diags *d)
{
    int fam = r->lo.family;
    unsigned bits = lm_ipfam_bits(fam);
    struct ipset_num lo, hi, end;

    ipset_to_num(&r->lo, &lo);
    ipset_to_num(&r->hi, &hi);
    for (;;) {
        unsigned align = ipset_num_ctz(&lo, bits), k = 0;
        size_t i;
        struct lm_ipnet *net;

        for (i = 0; i < nallowed; i++) {
            k = allowed[i];
            if (k > align)
                continue;
            end = ipset_num_fill(&lo, k);
            if (ipset_num_cmp(&end, &hi) <= 0)
                break;
        }
        net = ipset_vec_push(out, d);
        if (net == NULL)
            return -1;
        ipset_from_num(fam, &lo, &net->addr);
        net->prefix = bits - k;
        if (ipset_num_cmp(&end, &hi) >= 0)
            return 0;
        lo = end;
        ipset_num_inc(&lo);
    }
}

static int
ipset_cover(struct lm_ipset *s, const unsigned *a4, size_t n4, const unsigned *a6,
            size_t n6, struct lm_ipnet **out, size_t *n, struct lm_diags *d)
{
    struct ipset_vec v = { NULL, 0, 0, sizeof **out };
    size_t i;

    lm_ipset_normalize(s);
    for (i = 0; i < s->n; i++) {
        int six = s->v[i].lo.family == LM_IPV6;
        if (ipset_cover_blocks(&s->v[i], six ? a6 : a4, six ? n6 : n4, &v, d) != 0) {
            free(v.v);
            return -1;
        }
    }
    *out = v.v;
    *n = v.n;
    return 0;
}

int
lm_ipset_cover_cidr(struct lm_ipset *s, struct lm_ipnet **out, size_t *n,
                    struct lm_diags *d)
{
    unsigned a[129];
    unsigned k;

    for (k = 0; k <= 128; k++)
        a[k] = 128 - k;
    /* IPv4 uses the tail of the same list: 32 .. 0. */
    return ipset_cover(s, a + 96, 33, a, 129, out, n, d);
}

int
lm_ipset_cover_octets(struct lm_ipset *s, struct lm_ipnet **out, size_t *n,
                      struct lm_diags *d)
{
    /* Block sizes (host bits) of the keys Sendmail can look up: it strips
     * whole octets (IPv4) or whole groups (IPv6) but never the last one. */
    static const unsigned a4[] = { 24, 16, 8, 0 };
    static const unsigned a6[] = { 112, 96, 80, 64, 48, 32, 16, 0 };

    return ipset_cover(s, a4, 4, a6, 8, out, n, d);
}

/* --- partition probes --------------------------------------------------------------- */

int
lm_ip_probes(const struct lm_iprange *v, size_t n, unsigned fams,
             struct lm_ipaddr **out, size_t *nout, struct lm_diags *d)
{
    struct ipset_vec res = { NULL, 0, 0, sizeof **out };
    struct ipset_num *st = NULL;
    struct lm_ipaddr *a;
    size_t i, ns, o;
    int f;

    for (i = 0; i < n; i++)
        fams |= v[i].lo.family == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4;
    if (n > (SIZE_MAX / sizeof *st - 1) / 2)
        return ipset_nomem(d);
    st = malloc((2 * n + 1) * sizeof *st);
    if (st == NULL)
        return ipset_nomem(d);
    for (f = LM_IPV4; f <= LM_IPV6; f += LM_IPV6 - LM_IPV4) {
        unsigned bits = lm_ipfam_bits(f);
        struct ipset_num max = ipset_lowmask(bits);
        if (!(fams & (f == LM_IPV6 ? LM_IPSET_V6 : LM_IPSET_V4)))
            continue;
        /* Every piece starts at the family's first address, at some lo, or
         * right after some hi. */
        st[0].hi = st[0].lo = 0;
        ns = 1;
        for (i = 0; i < n; i++) {
            if (v[i].lo.family != f)
                continue;
            ipset_to_num(&v[i].lo, &st[ns++]);
            ipset_to_num(&v[i].hi, &st[ns]);
            if (!ipset_num_is_max(&st[ns], bits)) {
                ipset_num_inc(&st[ns]);
                ns++;
            }
        }
        qsort(st, ns, sizeof *st, ipset_cmp_num);
        for (i = 1, o = 0; i < ns; i++)
            if (ipset_num_cmp(&st[i], &st[o]) != 0)
                st[++o] = st[i];
        ns = o + 1;
        /* Each piece runs to just before the next start, the last one to
         * the family's last address. */
        for (i = 0; i < ns; i++) {
            struct ipset_num end = max;
            if (i + 1 < ns) {
                end = st[i + 1];
                ipset_num_dec(&end);
            }
            if ((a = ipset_vec_push(&res, d)) == NULL)
                goto fail;
            ipset_from_num(f, &st[i], a);
            if (ipset_num_cmp(&end, &st[i]) != 0) {
                if ((a = ipset_vec_push(&res, d)) == NULL)
                    goto fail;
                ipset_from_num(f, &end, a);
            }
        }
    }
    free(st);
    *out = res.v;
    *nout = res.n;
    return 0;
fail:
    free(st);
    free(res.v);
    return -1;
}

/* --- nested covers ------------------------------------------------------------ */

struct ipset_nest {
    const struct lm_cover_iv  *iv;
    size_t                     niv;
    const struct lm_nest_opts *o;
    int                        family;
    unsigned                   unit, len;   /* key step and address length, bytes */
    struct lm_cover_key       *key;
    size_t                     nkey, cap;
    int                        overflow, fail;
};

static long
ipset_nest_child(const unsigned char *b, unsigned depth, unsigned unit)
{
    return unit == 1 ? (long)b[depth] : ((long)b[depth] << 8) | b[depth + 1];
}

static void
ipset_nest_setchild(unsigned char *b, unsigned depth, unsigned unit, long c)
{
    if (unit == 1) {
        b[depth] = (unsigned char)c;
    } else {
        b[depth] = (unsigned char)(c >> 8);
        b[depth + 1] = (unsigned char)c;
    }
}

/* Are b[from .. len) all x? */
static int
ipset_nest_tail(const unsigned char *b, unsigned from, unsigned len, unsigned char x)
{
    unsigned i;

    for (i = from; i < len; i++)
        if (b[i] != x)
            return 0;
    return 1;
}

static void
ipset_nest_add(struct ipset_nest *t, const unsigned char *b, unsigned depth, unsigned hi,
               size_t val)
{
    struct lm_cover_key *k;

    if (t->overflow || t->fail)
        return;
    if (t->nkey >= t->o->maxkeys) {
        t->overflow = 1;
        return;
    }
    if (t->nkey == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 64;
        struct lm_cover_key *nk = realloc(t->key, nc * sizeof *nk);
        if (nk == NULL) {
            t->fail = 1;
            return;
        }
        t->key = nk;
        t->cap = nc;
    }
    k = &t->key[t->nkey++];
    memset(k->b, 0, sizeof k->b);
    memcpy(k->b, b, depth);
    k->depth = (unsigned char)depth;
    k->hi = (unsigned char)hi;
    k->val = val;
}

static int
ipset_nest_whole(const struct ipset_nest *t, size_t val)
{
    return t->o->whole != NULL && t->o->whole[val];
}

/* Cover the block of addresses starting with b[0 .. depth), whose value is
 * v unless a key inside says otherwise; keyable: the block may have a key
 * of its own (not the whole space).  Two passes over the intervals that
 * meet the block: the first counts how many whole children each value
 * fills, to choose the block's value; the second writes the children that
 * differ from it and walks into the children an interval cuts. */
static void
ipset_nest_walk(struct ipset_nest *t, const unsigned char *b, unsigned depth, size_t v,
                int keyable)
{
    struct lm_ipaddr blo, bhi;
    unsigned long *count;
    size_t lo = 0, hi = t->niv, k, w = v, x;
    long bestscore, last = -1;
    unsigned char cb[16];
    int pass;

    if (t->overflow || t->fail)
        return;
    memset(&blo, 0, sizeof blo);
    blo.family = (unsigned char)t->family;
    memcpy(blo.b, b, depth);
    bhi = blo;
    memset(bhi.b + depth, 0xff, t->len - depth);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&t->iv[mid].hi, &blo) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if ((count = calloc(t->o->nval, sizeof *count)) == NULL) {
        t->fail = 1;
        return;
    }
    for (pass = 0; pass < 2 && !t->overflow && !t->fail; pass++) {
        for (k = lo; k < t->niv && lm_ipaddr_cmp(&t->iv[k].lo, &bhi) <= 0; k++) {
            const struct lm_cover_iv *iv = &t->iv[k];
            const struct lm_ipaddr *clo = lm_ipaddr_cmp(&iv->lo, &blo) < 0 ? &blo : &iv->lo;
            const struct lm_ipaddr *chi = lm_ipaddr_cmp(&iv->hi, &bhi) > 0 ? &bhi : &iv->hi;
            long cl = ipset_nest_child(clo->b, depth, t->unit);
            long ch = ipset_nest_child(chi->b, depth, t->unit);
            int la = ipset_nest_tail(clo->b, depth + t->unit, t->len, 0);
            int ha = ipset_nest_tail(chi->b, depth + t->unit, t->len, 0xff);
            long fa = cl + !la, fb = ch - !ha, c;
            int whole = depth + t->unit < t->len && ipset_nest_whole(t, iv->val);

            /* a value for whole addresses only: walk down to them */
            if (whole) {
                la = ha = 0;
                fa = cl + 1;
                fb = ch - 1;
            }
            if (pass == 0) {
                if (fa <= fb)
                    count[iv->val] += (unsigned long)(fb - fa + 1);
                continue;
            }
            memcpy(cb, b, sizeof cb);
            if (!la && cl != last) {
                ipset_nest_setchild(cb, depth, t->unit, cl);
                ipset_nest_walk(t, cb, depth + t->unit, w, 1);
                last = cl;
            }
            if (fa <= fb && iv->val != w) {
                if (whole) {
                    for (c = fa; c <= fb && !t->overflow && !t->fail; c++) {
                        ipset_nest_setchild(cb, depth, t->unit, c);
                        ipset_nest_walk(t, cb, depth + t->unit, w, 1);
                    }
                } else if (t->o->flags & LM_NEST_RUNS) {
                    ipset_nest_setchild(cb, depth, t->unit, fa);
                    ipset_nest_add(t, cb, depth + t->unit, (unsigned)fb, iv->val);
                } else {
                    for (c = fa; c <= fb && !t->overflow && !t->fail; c++) {
                        ipset_nest_setchild(cb, depth, t->unit, c);
                        ipset_nest_add(t, cb, depth + t->unit, cb[depth + t->unit - 1],
                                       iv->val);
                    }
                }
            }
            if (!ha && ch != last) {
                ipset_nest_setchild(cb, depth, t->unit, ch);
                ipset_nest_walk(t, cb, depth + t->unit, w, 1);
                last = ch;
            }
        }
        if (pass == 0) {
            /* the block's own value: the one most children share, counting
             * the key it costs when it differs from the inherited one */
            bestscore = (long)count[v];
            if (keyable)
                for (x = 0; x < t->o->nval; x++)
                    if (x != v && !ipset_nest_whole(t, x) && (long)count[x] - 1 > bestscore) {
                        bestscore = (long)count[x] - 1;
                        w = x;
                    }
            if (w != v)
                ipset_nest_add(t, b, depth, b[depth - 1], w);
        }
    }
    free(count);
}

int
lm_ipset_cover_nested(const struct lm_cover_iv *iv, size_t niv, int family,
                      const struct lm_nest_opts *o, struct lm_cover_key **out, size_t *n,
                      struct lm_diags *d)
{
    struct ipset_nest t;
    unsigned char b[16];

    *out = NULL;
    *n = 0;
    memset(&t, 0, sizeof t);
    t.iv = iv;
    t.niv = niv;
    t.o = o;
    t.family = family;
    t.len = family == LM_IPV4 ? 4 : 16;
    t.unit = family == LM_IPV4 ? 1 : 2;
    if (niv == 0 || o->nval == 0)
        return 0;
    memset(b, 0, sizeof b);
    ipset_nest_walk(&t, b, 0, 0, 0);
    if (t.fail) {
        free(t.key);
        return ipset_nomem(d);
    }
    if (t.overflow) {
        free(t.key);
        return 1;
    }
    *out = t.key;
    *n = t.nkey;
    return 0;
}

static int
ipset_paint_cmp(const void *a, const void *b)
{
    return lm_ipaddr_cmp(a, b);
}

/* The index of the first of v[0 .. n) not below a. */
static size_t
ipset_paint_find(const struct lm_ipaddr *v, size_t n, const struct lm_ipaddr *a)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&v[mid], a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
lm_ipset_paint(int family, const struct lm_iprange *r, const size_t *val, size_t n,
               size_t base, struct lm_cover_iv **out, size_t *nout, struct lm_diags *d)
{
    struct lm_ipaddr *pts;
    struct lm_cover_iv *iv = NULL;
    size_t *nxt = NULL, *v = NULL, np = 0, i, j, k, m = 0;
    struct lm_iprange all;

    *out = NULL;
    *nout = 0;
    lm_iprange_all(&all, family);
    if ((pts = malloc((2 * n + 1) * sizeof *pts)) == NULL)
        return ipset_nomem(d);
    /* the pieces: every range's first address and the one after its last */
    pts[np++] = all.lo;
    for (i = 0; i < n; i++) {
        struct lm_ipaddr end = r[i].hi;
        pts[np++] = r[i].lo;
        if (lm_ipaddr_succ(&end) == 0)
            pts[np++] = end;
    }
    qsort(pts, np, sizeof *pts, ipset_paint_cmp);
    for (i = j = 0; i < np; i++)
        if (j == 0 || lm_ipaddr_cmp(&pts[j - 1], &pts[i]) != 0)
            pts[j++] = pts[i];
    np = j;
    nxt = malloc((np + 1) * sizeof *nxt);
    v = malloc(np * sizeof *v);
    iv = malloc(np * sizeof *iv);
    if (nxt == NULL || v == NULL || iv == NULL) {
        free(pts);
        free(nxt);
        free(v);
        free(iv);
        return ipset_nomem(d);
    }
    for (i = 0; i <= np; i++)
        nxt[i] = i;
    for (i = 0; i < np; i++)
        v[i] = base;
    /* in priority order, each range paints the pieces nobody painted yet;
     * nxt[] skips painted pieces (union-find with path compression), so
     * every piece is painted once */
    for (k = 0; k < n; k++) {
        struct lm_ipaddr end = r[k].hi;
        size_t a = ipset_paint_find(pts, np, &r[k].lo), b, x;
        b = lm_ipaddr_succ(&end) == 0 ? ipset_paint_find(pts, np, &end) : np;
        for (x = a; x < b;) {
            size_t root = x, y;
            while (nxt[root] != root)
                root = nxt[root];
            for (y = x; nxt[y] != root;) {
                size_t z = nxt[y];
                nxt[y] = root;
                y = z;
            }
            if ((x = root) >= b)
                break;
            v[x] = val[k];
            nxt[x] = x + 1;
            x++;
        }
    }
    for (i = 0; i < np; i++) {
        struct lm_ipaddr hi = all.hi;
        if (i + 1 < np) {
            hi = pts[i + 1];
            lm_ipaddr_pred(&hi);
        }
        if (m > 0 && iv[m - 1].val == v[i]) {
            iv[m - 1].hi = hi;
            continue;
        }
        iv[m].lo = pts[i];
        iv[m].hi = hi;
        iv[m].val = v[i];
        m++;
    }
    free(pts);
    free(nxt);
    free(v);
    *out = iv;
    *nout = m;
    return 0;
}
