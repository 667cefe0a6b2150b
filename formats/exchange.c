/*
 * formats/exchange.c - Exchange Server 5.5 Internet Mail Service relay
 * restrictions (Microsoft KB Q193922) as a .reg file: RelayFlags,
 * RelayDenyList, RelayAllowList and RelayLocalIPList under the IMC's
 * Parameters key.  Reading accepts REGEDIT4 and version 5 (UTF-16LE) files,
 * any wrapping, LF or CRLF, the values in any order; writing produces the
 * bytes regedit and Wine export (version 5 by default, REGEDIT4 with the
 * setting reg-version=4).  Networks are covered exactly with "net;mask"
 * items.  The .reg holds no accepted domains: relayconv keeps the policy's
 * as "; relaymap accept ..." comment lines that regedit ignores and that
 * this reader takes back.  Model and mapping: relaymap-formats(5), EXCHANGE.
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

/*
 * The IMS's decision (KB Q193922; the KB numbers the bits 1 to 4):
 *   (flags & 1) and the client is in RelayDenyList     -> no relaying
 *   (flags & 2) and the client is in RelayAllowList    -> relay
 *   (flags & 4) and the server address the client reached is in
 *               RelayLocalIPList                       -> relay
 *   (flags & 8) and the client authenticated           -> relay
 *   flags == 1                                         -> relay
 *   otherwise                                          -> no relaying
 * A deny item is a connect network rule that refuses relaying but not mail
 * for our own domains (OK), resolved before any allow item (refuse first);
 * an allow item a connect RELAY network; a local item a SERVER rule; bit 4
 * an AUTH rule; flags == 1 an ANY rule that relays.  Items of a list whose
 * bit is off are LM_K_NEVER rules, kept to be reported.  Nothing else is
 * looked up: no host names, senders or recipient rules, no loopback
 * privilege (the KB names none).
 */
static const struct lm_order exchange_order = {
    .name = "exchange",
    .connect = LM_CONNECT_EXACT_FIRST,
    .nets = LM_NET_REFUSE_FIRST,
    .sender = LM_SENDER_NONE,
    .sender_relay = LM_SENDER_RELAY_NEVER,
    .rcpt_rules = 0,
    .loopback_relays = 0,
    .refused = "relaying prohibited",
};

#define EX_ROOT   "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\"
#define EX_KEY    EX_ROOT "Services\\MSExchangeIMC\\Parameters"
#define EX_KEY_KB EX_ROOT "Service\\MSExchangeIMC\\Parameters"   /* KB's typo */
#define EX_HDR5   "Windows Registry Editor Version 5.00"
#define EX_HDR4   "REGEDIT4"
#define EX_WRAP   77      /* regedit's export: wrap hex data at this column */
#define EX_MAX_RANGES 4096  /* address ranges one non-contiguous mask may need */
#define EX_NOTE   "; relaymap"

enum { EX_FLAGS, EX_DENY, EX_ALLOW, EX_LOCALIP, EX_NVALS };

static const char *const ex_names[EX_NVALS] = {
    "RelayFlags", "RelayDenyList", "RelayAllowList", "RelayLocalIPList"
};

/* The RelayFlags bit that puts each list in force. */
static const unsigned ex_bit[EX_NVALS] = { 0, 1, 2, 4 };

static const char *const exchange_outputs[] = { "relay.reg", NULL };

/* --- small text helpers ----------------------------------------------------------- */

static int
ex_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ex_blank(int c)
{
    return c == ' ' || c == '\t';
}

static int
ex_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ex_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A growable byte buffer; err is set once an allocation failed. */
struct ex_buf {
    char  *s;
    size_t n, cap;
    int    err;
};

static void
ex_put(struct ex_buf *b, const void *p, size_t n)
{
    if (b->err)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        char *ns;
        while (nc < b->n + n + 1)
            nc *= 2;
        if ((ns = realloc(b->s, nc)) == NULL) {
            b->err = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void
ex_puts(struct ex_buf *b, const char *s)
{
    ex_put(b, s, strlen(s));
}

/* --- reading ------------------------------------------------------------------------ */

/* One value under the IMC key: the last assignment read wins, as in regedit. */
struct ex_value {
    unsigned long line;     /* 0: not in the file */
    int           deleted;  /* "Name"=- */
    uint32_t      dword;    /* RelayFlags */
    char        **items;    /* the lists: each string, malloc'd */
    size_t        nitems;
};

struct ex_parse {
    struct lm_policy *p;
    struct lm_diags  *d;
    const char       *file;     /* interned */
    const char       *t;        /* the text, 8-bit */
    size_t            n, off;
    unsigned long     line;     /* of the physical line last read */
    int               v5;       /* the header says version 5 */
    int               inkey;    /* 1 under the IMC key, 0 elsewhere, -1 none yet */
    struct ex_value   val[EX_NVALS];
};

static void
ex_value_clear(struct ex_value *v)
{
    size_t i;

    for (i = 0; i < v->nitems; i++)
        free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static int ex_err(struct ex_parse *x, unsigned long line, const char *fmt, ...)
    LM_PRINTF(3, 4);
static void ex_warn(struct ex_parse *x, unsigned long line, const char *fmt, ...)
    LM_PRINTF(3, 4);

static int
ex_err(struct ex_parse *x, unsigned long line, const char *fmt, ...)
{
    struct lm_pos pos = { x->file, line, 0 };
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lm_diag_add(x->d, LM_ERROR, LM_E_SYNTAX, &pos, "%s", msg);
}

static void
ex_warn(struct ex_parse *x, unsigned long line, const char *fmt, ...)
{
    struct lm_pos pos = { x->file, line, 0 };
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lm_diag_add(x->d, LM_WARNING, LM_E_SYNTAX, &pos, "%s", msg);
}

/* The next physical line without its CR LF and trailing blanks; 0 at the end. */
static int
ex_next(struct ex_parse *x, const char **s, size_t *len)
{
    const char *l, *e;
    size_t n;

    if (x->off >= x->n)
        return 0;
    l = x->t + x->off;
    e = memchr(l, '\n', x->n - x->off);
    n = e ? (size_t)(e - l) : x->n - x->off;
    x->off += n + (e != NULL);
    x->line++;
    while (n > 0 && (l[n - 1] == '\r' || ex_blank((unsigned char)l[n - 1])))
        n--;
    *s = l;
    *len = n;
    return 1;
}

/*
 * The input as 8-bit text in *out (malloc'd): a file that starts with the
 * UTF-16LE byte order mark is decoded (characters past U+00FF, which
 * nothing the IMS reads contains, become '?').  Big-endian UTF-16 and
 * UTF-16 without its mark are errors: regedit reads neither.
 */
static int
ex_decode(struct ex_parse *x, const unsigned char *b, size_t n, char **out, size_t *olen)
{
    size_t i;
    char *t;

    *out = NULL;
    if (n >= 2 && b[0] == 0xfe && b[1] == 0xff)
        return ex_err(x, 1, "big-endian UTF-16 (bytes FE FF): regedit reads UTF-16LE, "
                      "which starts with FF FE");
    if (n >= 2 && b[0] == 0xff && b[1] == 0xfe) {
        if (n % 2 != 0)
            return ex_err(x, 1, "odd number of bytes in a UTF-16 file: it is cut");
        if ((t = malloc(n / 2 + 1)) == NULL)
            return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        for (i = 2; i < n; i += 2) {
            unsigned u = b[i] | (unsigned)b[i + 1] << 8;
            t[i / 2 - 1] = u == 0 ? '\0' : u < 0x100 ? (char)u : '?';
        }
        *olen = n / 2 - 1;
        t[*olen] = '\0';
        *out = t;
        return 0;
    }
    if (n >= 2 && (b[0] == 0) != (b[1] == 0))
        return ex_err(x, 1, "UTF-16 text without a byte order mark: regedit reads a "
                      "version 5 file only when it starts with the bytes FF FE");
    if ((t = malloc(n + 1)) == NULL)
        return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    memcpy(t, b, n);
    t[n] = '\0';
    *out = t;
    *olen = n;
    return 0;
}

/* "a.b.c.d" as a 32-bit number; -1 if s[0..n) is not one. */
static int
ex_quad(const char *s, size_t n, uint32_t *v)
{
    struct lm_ipaddr a;

    if (n == 0 || lm_ipaddr_parse(s, n, LM_IPF_V4, &a, NULL, NULL) != 0)
        return -1;
    *v = (uint32_t)a.b[0] << 24 | (uint32_t)a.b[1] << 16 | (uint32_t)a.b[2] << 8 | a.b[3];
    return 0;
}

static void
ex_addr(struct lm_ipaddr *a, uint32_t v)
{
    lm_ipaddr_v4(a, v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

static unsigned
ex_popcount(uint32_t v)
{
    unsigned n = 0;

    for (; v; v &= v - 1)
        n++;
    return n;
}

/* "net;mask" as the text the IMS would need ("10.0.0.5" for a host). */
static void
ex_item_text(uint32_t net, uint32_t mask, char *buf)
{
    struct lm_ipaddr a, m;
    char nb[LM_IPADDR_BUF], mb[LM_IPADDR_BUF];

    ex_addr(&a, net);
    ex_addr(&m, mask);
    if (mask == 0xffffffffu)
        sprintf(buf, "%s", lm_ipaddr_format(&a, nb));
    else
        sprintf(buf, "%s;%s", lm_ipaddr_format(&a, nb), lm_ipaddr_format(&m, mb));
}

/* Add the rules of one list item: each address range it matches. */
static int
ex_item(struct ex_parse *x, int list, int active, char *item, unsigned long line)
{
    const char *semi = strchr(item, ';');
    uint32_t net, mask = 0xffffffffu, inv;
    size_t nl = semi ? (size_t)(semi - item) : strlen(item);
    struct lm_rule r;
    struct lm_pos pos = { x->file, line, 0 };
    char q[LM_QUOTE_BUF], want[2 * LM_IPADDR_BUF];

    lm_quote(q, item, strlen(item), LM_QUOTE_MAX);
    if (ex_quad(item, nl, &net) != 0)
        return ex_err(x, line, "%s item \"%s\": want a dotted-quad IPv4 address, "
                      "optionally \";\" and a dotted-quad mask", ex_names[list], q);
    if (semi != NULL && ex_quad(semi + 1, strlen(semi + 1), &mask) != 0)
        return ex_err(x, line, "%s item \"%s\": the mask after \";\" must be a dotted "
                      "quad", ex_names[list], q);
    if ((net & ~mask) != 0) {
        /* Never AND-ed silently: a wider item could widen an allow list. */
        ex_item_text(net & mask, mask, want);
        return lm_diag_add(x->d, LM_ERROR, LM_E_SYNTAX, &pos, "%s item \"%s\" has address "
                           "bits outside its mask, so the IMS never matches it; write %s",
                           ex_names[list], q, want);
    }
    memset(&r, 0, sizeof r);
    r.stage = LM_S_CONNECT;
    r.action = list == EX_DENY ? LM_A_OK : LM_A_RELAY;
    r.pos = pos;
    if (!active) {
        r.kind = LM_K_NEVER;
        r.pattern = item;
        return lm_policy_add(x->p, &r, x->d) != NULL ? 0 : -1;
    }
    r.kind = list == EX_LOCALIP ? LM_K_SERVER : LM_K_NET;
    r.net.form = LM_NF_MASK;
    inv = ~mask;
    if ((inv & (inv + 1)) == 0) {
        /* a contiguous mask: one network */
        ex_addr(&r.net.range.lo, net);
        ex_addr(&r.net.range.hi, net | inv);
        r.net.prefix = ex_popcount(mask);
        return lm_policy_add(x->p, &r, x->d) != NULL ? 0 : -1;
    }
    {
        /* A non-contiguous mask matches several ranges: one rule for each,
         * all at the item's line. */
        struct lm_ipset s;
        struct lm_ipaddr na, ma;
        uint32_t low = mask & (0u - mask);     /* lowest set bit of the mask */
        unsigned freebits = ex_popcount(inv & ~(low - 1u));
        size_t i;
        int rc = 0;
        if (freebits > 12) {
            char mb[LM_IPADDR_BUF];
            ex_addr(&ma, mask);
            return lm_diag_add(x->d, LM_ERROR, LM_E_SYNTAX, &pos, "%s item \"%s\": the "
                               "non-contiguous mask %s matches %lu separate address ranges; "
                               "relaymap reads at most %d (write a contiguous mask)",
                               ex_names[list], q, lm_ipaddr_format(&ma, mb),
                               1ul << freebits, EX_MAX_RANGES);
        }
        lm_ipset_init(&s);
        ex_addr(&na, net);
        ex_addr(&ma, mask);
        if (lm_ipset_add_masked(&s, &na, &ma, EX_MAX_RANGES, x->d) != 0) {
            lm_ipset_fini(&s);
            return -1;
        }
        lm_ipset_normalize(&s);
        for (i = 0; i < s.n && rc == 0; i++) {
            struct lm_ipnet cn;
            r.net.range = s.v[i];
            r.net.prefix = lm_iprange_to_net(&s.v[i], &cn) == 0 ? cn.prefix : 0;
            if (lm_policy_add(x->p, &r, x->d) == NULL)
                rc = -1;
        }
        lm_ipset_fini(&s);
        return rc;
    }
}

/* Split REG_MULTI_SZ bytes into the value's strings (into v->items).  The
 * list ends with an empty string: 00,00 after the last string's own in a
 * version 5 file (UTF-16), 00 in REGEDIT4; an empty list is that alone. */
static int
ex_multi_sz(struct ex_parse *x, int list, const unsigned char *b, size_t n,
            struct ex_value *v, unsigned long line)
{
    size_t unit = x->v5 ? 2 : 1, nu = n / unit, i, start = 0, k;
    const char *name = ex_names[list];
    unsigned *u;

    if (n % unit != 0)
        return ex_err(x, line, "%s: odd number of bytes in a hex(7) list of a version 5 "
                      "file (its strings are UTF-16, two bytes a character)", name);
    if (nu == 0)
        return 0;
    if ((u = malloc(nu * sizeof *u)) == NULL)
        return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (i = 0; i < nu; i++)
        u[i] = x->v5 ? b[2 * i] | (unsigned)b[2 * i + 1] << 8 : b[i];
    if (u[nu - 1] != 0 || (nu > 1 && u[nu - 2] != 0)) {
        free(u);
        return ex_err(x, line, "%s: the hex(7) list does not end with its terminator (an "
                      "empty string: %s after the last string's own)", name,
                      x->v5 ? "00,00" : "00");
    }
    for (i = 0; i < nu; i++) {
        char *s, **nv;
        if (u[i] != 0) {
            if (u[i] < 0x21 || u[i] > 0x7e) {
                ex_err(x, line, "%s: character U+%04X in a list item: items are IPv4 "
                       "addresses and masks", name, u[i]);
                free(u);
                return -1;
            }
            continue;
        }
        if (i == start) {
            /* an empty string ends the list: only the terminator may follow */
            for (k = i; k < nu && u[k] == 0; k++)
                ;
            if (k == nu)
                break;
            free(u);
            return ex_err(x, line, "%s: an empty string inside the list (the IMS stops "
                          "reading the list there)", name);
        }
        s = malloc(i - start + 1);
        nv = realloc(v->items, (v->nitems + 1) * sizeof *nv);
        if (nv != NULL)
            v->items = nv;
        if (s == NULL || nv == NULL) {
            free(s);
            free(u);
            return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        }
        for (k = start; k < i; k++)
            s[k - start] = (char)u[k];
        s[i - start] = '\0';
        v->items[v->nitems++] = s;
        start = i + 1;
    }
    free(u);
    return 0;
}

/* Hex bytes "xx,xx,..." (already joined) into *out. */
static int
ex_hexbytes(struct ex_parse *x, const char *s, size_t n, unsigned long line,
            unsigned char **out, size_t *nout)
{
    unsigned char *b = malloc(n / 2 + 2);
    size_t i = 0, k = 0;
    char q[LM_QUOTE_BUF];

    *out = NULL;
    *nout = 0;
    if (b == NULL)
        return lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    while (i < n && ex_blank((unsigned char)s[i]))
        i++;
    if (i == n) {
        *out = b;
        return 0;
    }
    for (;;) {
        size_t st, e;
        while (i < n && ex_blank((unsigned char)s[i]))
            i++;
        st = i;
        while (i < n && s[i] != ',' && !ex_blank((unsigned char)s[i]))
            i++;
        e = i;
        while (i < n && ex_blank((unsigned char)s[i]))
            i++;
        if (e - st != 2 || ex_hexval((unsigned char)s[st]) < 0 ||
            ex_hexval((unsigned char)s[st + 1]) < 0) {
            free(b);
            lm_quote(q, s + st, e - st, LM_QUOTE_MAX);
            if (e == st)
                return ex_err(x, line, "hex data: a byte is missing%s%s",
                              i >= n ? " at the end (a comma and no \\ continuation?)" : "",
                              "");
            return ex_err(x, line, "hex data: \"%s\" is not a byte (two hex digits)%s", q,
                          (e - st) % 2 ? ": odd number of hex digits" : "");
        }
        b[k++] = (unsigned char)(ex_hexval((unsigned char)s[st]) * 16 +
                                 ex_hexval((unsigned char)s[st + 1]));
        if (i >= n)
            break;
        if (s[i] != ',') {
            free(b);
            return ex_err(x, line, "hex data: bytes are separated by commas");
        }
        i++;
    }
    *out = b;
    *nout = k;
    return 0;
}

/* Read the value assignment that starts on line L (text s, len n), pulling
 * continuation lines of hex data. */
static int
ex_value_line(struct ex_parse *x, const char *s, size_t n)
{
    unsigned long line = x->line;
    struct ex_buf name = { NULL, 0, 0, 0 }, data = { NULL, 0, 0, 0 };
    size_t i = 0;
    int which = -1, rc = 0;
    char q[LM_QUOTE_BUF];

    if (s[0] == '@') {
        ex_puts(&name, "@");
        i = 1;
    } else {
        for (i = 1; i < n && s[i] != '"'; i++) {
            if (s[i] == '\\' && i + 1 < n)
                i++;
            ex_put(&name, s + i, 1);
        }
        if (i >= n) {
            free(name.s);
            return ex_err(x, line, "the value name's closing quote is missing");
        }
        i++;
        if (name.s == NULL)
            ex_puts(&name, "");
    }
    while (i < n && ex_blank((unsigned char)s[i]))
        i++;
    if (i >= n || s[i] != '=') {
        free(name.s);
        return ex_err(x, line, "want \"Name\"=data");
    }
    i++;
    while (i < n && ex_blank((unsigned char)s[i]))
        i++;
    ex_put(&data, s + i, n - i);
    /* hex data continues on the next line after a final backslash */
    if (data.n >= 3 && lm_ieq(data.s, 3, "hex")) {
        const char *c;
        size_t cl;
        while (!data.err && data.n > 0 && data.s[data.n - 1] == '\\') {
            data.n--;
            if (!ex_next(x, &c, &cl))
                break;
            while (cl > 0 && ex_blank((unsigned char)*c))
                c++, cl--;
            ex_put(&data, c, cl);
        }
    }
    if (name.err || data.err) {
        rc = lm_diag_add(x->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    if (x->inkey < 0) {
        rc = ex_err(x, line, "a value before any [key] line");
        goto out;
    }
    if (x->inkey == 0)
        goto out;   /* another key: reported once at its [key] line */
    for (i = 0; i < EX_NVALS; i++)
        if (strcmp(name.s, "@") != 0 && lm_ieq(name.s, strlen(name.s), ex_names[i]))
            which = (int)i;
    lm_quote(q, name.s, strlen(name.s), LM_QUOTE_MAX);
    if (which < 0) {
        ex_warn(x, line, "value \"%s\" under the IMC key is not a relay setting; it is not "
                "part of the policy%s", q, "");
        goto out;
    }
    {
        struct ex_value *v = &x->val[which], nv;
        const char *dt = data.s;
        size_t dl = data.n;
        memset(&nv, 0, sizeof nv);
        nv.line = line;
        if (dl == 1 && dt[0] == '-') {
            nv.deleted = 1;
        } else if (which == EX_FLAGS) {
            uint32_t f = 0;
            size_t k;
            if (dl < 7 || !lm_ieq(dt, 6, "dword:") || dl > 14) {
                rc = ex_err(x, line, "RelayFlags must be a REG_DWORD (dword:00000003)%s%s", "",
                            "");
                goto out;
            }
            for (k = 6; k < dl; k++) {
                int h = ex_hexval((unsigned char)dt[k]);
                if (h < 0) {
                    rc = ex_err(x, line, "RelayFlags: \"%s\" is not hexadecimal%s", dt + 6,
                                "");
                    goto out;
                }
                f = f << 4 | (uint32_t)h;
            }
            nv.dword = f;
        } else {
            unsigned char *b;
            size_t nb;
            if (dl < 7 || !lm_ieq(dt, 7, "hex(7):")) {
                rc = ex_err(x, line, "%s must be a REG_MULTI_SZ (hex(7):...)%s",
                            ex_names[which], "");
                goto out;
            }
            if (ex_hexbytes(x, dt + 7, dl - 7, line, &b, &nb) != 0) {
                rc = -1;
                goto out;
            }
            rc = ex_multi_sz(x, which, b, nb, &nv, line);
            free(b);
            if (rc != 0) {
                ex_value_clear(&nv);
                goto out;
            }
        }
        if (v->line != 0) {
            char lb[32];
            snprintf(lb, sizeof lb, "%lu", v->line);
            ex_warn(x, line, "%s is set again (first at line %s); regedit keeps the last",
                    ex_names[which], lb);
        }
        ex_value_clear(v);
        *v = nv;
    }
out:
    free(name.s);
    free(data.s);
    return rc;
}

/* "; relaymap accept KIND DOMAIN" / "; relaymap local NET": what the .reg
 * cannot hold, kept by relayconv in comments. */
static int
ex_note(struct ex_parse *x, char *s)
{
    struct lm_pos pos = { x->file, x->line, 0 };
    char *w[4] = { NULL, NULL, NULL, NULL };
    int nw = 0;

    while (*s != '\0' && nw < 4) {
        while (ex_blank((unsigned char)*s))
            *s++ = '\0';
        if (*s == '\0')
            break;
        w[nw++] = s;
        while (*s != '\0' && !ex_blank((unsigned char)*s))
            s++;
    }
    if (nw == 3 && strcmp(w[0], "accept") == 0) {
        enum lm_kind k = strcmp(w[1], "name") == 0 ? LM_K_NAME
                       : strcmp(w[1], "domain") == 0 ? LM_K_TREE
                       : strcmp(w[1], "subdomains") == 0 ? LM_K_BELOW : LM_K_NEVER;
        size_t i;
        for (i = 0; w[2][i] != '\0'; i++) {
            unsigned char c = (unsigned char)w[2][i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_'))
                break;
        }
        if (k != LM_K_NEVER && w[2][i] == '\0' && w[2][0] != '.')
            return lm_policy_add_domain(x->p, w[2], k, &pos, x->d) < 0 ? -1 : 0;
    } else if (nw == 2 && strcmp(w[0], "local") == 0) {
        struct lm_rule_net net;
        memset(&net, 0, sizeof net);
        if (lm_iprange_parse(w[1], strlen(w[1]), LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR,
                             &net.range, NULL, NULL) == 0) {
            struct lm_ipnet cn;
            net.prefix = lm_iprange_to_net(&net.range, &cn) == 0 ? cn.prefix : 0;
            return lm_policy_add_local(x->p, &net, &pos, x->d);
        }
    }
    ex_warn(x, x->line, "comment \"; relaymap %s...\" is not a line relayconv writes; "
            "ignored%s", nw > 0 ? w[0] : "", "");
    return 0;
}

/* A [key] line: the IMC key (or the KB's spelling of it), or another. */
static void
ex_key_line(struct ex_parse *x, const char *s, size_t n)
{
    char q[LM_QUOTE_BUF];

    lm_quote(q, s, n, LM_QUOTE_MAX);
    if (n >= 3 && s[1] == '-') {
        if (lm_ieq(s + 2, n - 3, EX_KEY) || lm_ieq(s + 2, n - 3, EX_KEY_KB))
            ex_warn(x, x->line, "\"%s\" deletes the IMC key; the relay values read so far "
                    "are kept%s", q, "");
        x->inkey = 0;
        return;
    }
    if (lm_ieq(s + 1, n - 2, EX_KEY)) {
        x->inkey = 1;
    } else if (lm_ieq(s + 1, n - 2, EX_KEY_KB)) {
        ex_warn(x, x->line, "\"%s\" is the KB article's spelling; Windows keeps service keys "
                "under \"Services\": read as %s", q, "[" EX_KEY "]");
        x->inkey = 1;
    } else {
        ex_warn(x, x->line, "key %s is not the IMC's Parameters key; its values are not part "
                "of the policy%s", q, "");
        x->inkey = 0;
    }
}

/* The rules the values say (see the decision at the top). */
static int
ex_rules(struct ex_parse *x)
{
    const struct ex_value *fv = &x->val[EX_FLAGS];
    uint32_t flags = fv->line && !fv->deleted ? fv->dword : 0, f = flags & 0xf;
    struct lm_rule r;
    size_t i;
    int k, rc = 0, any = 0;
    char fb[16];

    for (k = EX_DENY; k < EX_NVALS; k++)
        any |= x->val[k].line != 0;
    if (!(fv->line && !fv->deleted) && any)
        ex_warn(x, fv->line, "no RelayFlags value: read as 0, so no list is in force and no "
                "client may relay");
    if (flags & ~0xfu) {
        snprintf(fb, sizeof fb, "0x%x", (unsigned)(flags & ~0xfu));
        ex_warn(x, fv->line, "RelayFlags bits %s mean nothing to the IMS; ignored%s", fb, "");
    }
    for (k = EX_DENY; k < EX_NVALS; k++) {
        const struct ex_value *v = &x->val[k];
        int active = (f & ex_bit[k]) != 0;
        if (v->nitems > 0 && !active) {
            snprintf(fb, sizeof fb, "%u", k == EX_DENY ? 1 : k == EX_ALLOW ? 2 : 3);
            ex_warn(x, v->line, "%s is not in force (RelayFlags bit %s is off); its items "
                    "are kept only to be reported", ex_names[k], fb);
        }
        for (i = 0; i < v->nitems; i++)
            if (ex_item(x, k, active, v->items[i], v->line) != 0)
                rc = -1;
    }
    memset(&r, 0, sizeof r);
    r.stage = LM_S_CONNECT;
    r.action = LM_A_RELAY;
    r.pos.file = x->file;
    r.pos.line = fv->line;
    if (f & 8) {
        r.kind = LM_K_AUTH;
        if (lm_policy_add(x->p, &r, x->d) == NULL)
            rc = -1;
    }
    if (f == 1) {
        r.kind = LM_K_ANY;
        if (lm_policy_add(x->p, &r, x->d) == NULL)
            rc = -1;
    }
    return rc;
}

static int
exchange_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    struct ex_parse x;
    struct ex_buf raw = { NULL, 0, 0, 0 };
    struct lm_line ln;
    size_t errs0 = d->nerrors, tlen = 0;
    char *text = NULL;
    const char *s;
    size_t n;
    int rc, k;

    memset(&x, 0, sizeof x);
    x.p = out;
    x.d = d;
    x.inkey = -1;
    out->order = &exchange_order;
    if ((x.file = lm_policy_file(out, lm_source_name(in))) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    /* The whole file: a UTF-16 file has its line feeds in every other byte. */
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        ex_put(&raw, ln.text, ln.len);
        if (!ln.last)
            ex_put(&raw, "\n", 1);
    }
    if (rc < 0 || raw.err) {
        free(raw.s);
        return rc < 0 ? -1 : lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    if (ex_decode(&x, (const unsigned char *)(raw.s ? raw.s : ""), raw.n, &text, &tlen) != 0) {
        free(raw.s);
        return -1;
    }
    free(raw.s);
    x.t = text;
    x.n = tlen;
    if (!ex_next(&x, &s, &n) || !(lm_ieq(s, n, EX_HDR5) || lm_ieq(s, n, EX_HDR4))) {
        ex_err(&x, 1, "not a .reg file: the first line must be \"%s\" or \"%s\"", EX_HDR5,
               EX_HDR4);
        free(text);
        return -1;
    }
    x.v5 = lm_ieq(s, n, EX_HDR5);
    while (ex_next(&x, &s, &n) && !lm_diags_full(d)) {
        while (n > 0 && ex_blank((unsigned char)*s))
            s++, n--;
        if (n == 0)
            continue;
        if (memchr(s, '\0', n) != NULL) {
            /* names and data are C strings to regedit: never guess where
             * the line was meant to end */
            char q[LM_QUOTE_BUF];
            ex_err(&x, x.line, "NUL character in \"%s\": a .reg file is text",
                   lm_quote(q, s, n, LM_QUOTE_MAX));
            continue;
        }
        if (n >= strlen(EX_NOTE) + 1 && memcmp(s, EX_NOTE " ", strlen(EX_NOTE) + 1) == 0) {
            char *c = malloc(n + 1);
            if (c == NULL) {
                lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
                break;
            }
            memcpy(c, s, n);
            c[n] = '\0';
            ex_note(&x, c + strlen(EX_NOTE) + 1);
            free(c);
        } else if (s[0] == ';' || s[0] == '#') {
            continue;
        } else if (s[0] == '[') {
            if (s[n - 1] != ']') {
                ex_err(&x, x.line, "a key line ends with \"]\"");
                continue;
            }
            ex_key_line(&x, s, n);
        } else if (s[0] == '"' || s[0] == '@') {
            ex_value_line(&x, s, n);
        } else {
            char q[LM_QUOTE_BUF];
            ex_err(&x, x.line, "\"%s\" is not a key, a value or a comment%s",
                   lm_quote(q, s, n, LM_QUOTE_MAX), "");
        }
    }
    if (d->nerrors == errs0)
        ex_rules(&x);
    for (k = 0; k < EX_NVALS; k++)
        ex_value_clear(&x.val[k]);
    free(text);
    return d->nerrors > errs0 ? -1 : 0;
}

static int
exchange_detect(const char *name, const char *text, size_t len)
{
    const unsigned char *b = (const unsigned char *)text;
    size_t nl = name ? strlen(name) : 0;

    if (len >= 4 && b[0] == 0xff && b[1] == 0xfe && (b[2] == 'W' || b[2] == 'R') && b[3] == 0)
        return LM_DETECT_SURE;
    if ((len >= 8 && memcmp(text, EX_HDR4, 8) == 0) ||
        (len >= 36 && memcmp(text, EX_HDR5, 36) == 0))
        return LM_DETECT_SURE;
    if (nl > 4 && lm_ieq(name + nl - 4, 4, ".reg"))
        return LM_DETECT_LIKELY;
    return LM_DETECT_NO;
}

/* The main file's name for messages: the directory form has none. */

/* --- writing ------------------------------------------------------------------------- */

/* IPv4 address sets as sorted disjoint 32-bit intervals. */
struct ex_iv {
    uint32_t lo, hi;
};

static uint32_t
ex_u32(const struct lm_ipaddr *a)
{
    return (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
}

/* The IPv4 part of s as intervals (malloc'd; NULL with *n 0 when empty). */
static struct ex_iv *
ex_ivs(struct lm_ipset *s, size_t *n, int *fail)
{
    struct ex_iv *v;
    size_t i, k = 0;

    lm_ipset_normalize(s);
    *n = 0;
    if ((v = malloc((s->n + 1) * sizeof *v)) == NULL) {
        *fail = 1;
        return NULL;
    }
    for (i = 0; i < s->n; i++)
        if (s->v[i].lo.family == LM_IPV4) {
            v[k].lo = ex_u32(&s->v[i].lo);
            v[k++].hi = ex_u32(&s->v[i].hi);
        }
    *n = k;
    return v;
}

/* Does any interval of v meet [lo, hi]? */
static int
ex_meets(const struct ex_iv *v, size_t n, uint32_t lo, uint32_t hi)
{
    size_t a = 0, b = n;

    while (a < b) {     /* the first interval with hi >= lo */
        size_t m = a + (b - a) / 2;
        if (v[m].hi < lo)
            a = m + 1;
        else
            b = m;
    }
    return a < n && v[a].lo <= hi;
}

/* Is [lo, hi] inside one interval of v? */
static int
ex_inside(const struct ex_iv *v, size_t n, uint32_t lo, uint32_t hi)
{
    size_t a = 0, b = n;

    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (v[m].hi < lo)
            a = m + 1;
        else
            b = m;
    }
    return a < n && v[a].lo <= lo && v[a].hi >= hi;
}

struct ex_cover {
    struct lm_ipnet *v;
    size_t           n, cap;
    int              fail;
};

/* The fewest CIDR blocks that hold every address of T and only addresses
 * of U (T inside U): a block inside U that meets T is taken whole, else its
 * halves are tried.  Taking a block whole is never worse, so the count is
 * minimal.  Blocks come in address order. */
static void
ex_dc(const struct ex_iv *t, size_t nt, const struct ex_iv *u, size_t nu, uint32_t base,
      unsigned prefix, struct ex_cover *c)
{
    uint32_t last = prefix >= 32 ? base : base | (0xffffffffu >> prefix);

    if (c->fail || !ex_meets(t, nt, base, last))
        return;
    if (ex_inside(u, nu, base, last) || prefix == 32) {
        if (c->n == c->cap) {
            size_t nc = c->cap ? 2 * c->cap : 16;
            struct lm_ipnet *nv = realloc(c->v, nc * sizeof *nv);
            if (nv == NULL) {
                c->fail = 1;
                return;
            }
            c->v = nv;
            c->cap = nc;
        }
        memset(&c->v[c->n], 0, sizeof c->v[c->n]);
        ex_addr(&c->v[c->n].addr, base);
        c->v[c->n++].prefix = prefix;
        return;
    }
    ex_dc(t, nt, u, nu, base, prefix + 1, c);
    ex_dc(t, nt, u, nu, base | (0x80000000u >> prefix), prefix + 1, c);
}

static void
ex_cover(struct lm_ipset *t, struct lm_ipset *u, struct ex_cover *c)
{
    size_t nt, nu;
    int fail = 0;
    struct ex_iv *tv = ex_ivs(t, &nt, &fail), *uv = ex_ivs(u, &nu, &fail);

    memset(c, 0, sizeof *c);
    if (!fail)
        ex_dc(tv, nt, uv, nu, 0, 0, c);
    c->fail |= fail;
    free(tv);
    free(uv);
}

struct ex_emit {
    const struct lm_policy *p;
    struct lm_losses       *lost;
    struct lm_diags        *d;
    int                     fail;
    int                     anyrelay, authrelay;
};

static void
ex_loss(struct ex_emit *e, enum lm_loss_kind k, int widens, const struct lm_rule *r,
        const char *why)
{
    if (lm_loss_add(e->lost, k, widens, r, NULL, e->d, "%s", why) != 0)
        e->fail = 1;
}

/* What the lists cannot say, rule by rule. */
static void
ex_rule_losses(struct ex_emit *e)
{
    const struct lm_policy *p = e->p;
    size_t i, k;

    for (i = 0; i < p->nrules && !e->fail; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (r->kind == LM_K_NEVER)
            continue;
        if (r->info != NULL) {
            ex_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(e->p, r, LM_S_CONNECT), r,
                    "Exchange's relay lists have no ident (RFC 1413) rules; rule dropped");
            continue;
        }
        for (k = 0; k < r->nenv; k++)
            if (strcmp(r->env[k].name, "RELAYCLIENT") != 0) {
                ex_loss(e, LM_LOSS_CHANGED, 0, r, "Exchange has no per-client settings; "
                        "the variables are dropped");
                break;
            }
        if (r->stage & LM_S_CONNECT) {
            switch (r->kind) {
            case LM_K_NET:
            case LM_K_SERVER:
                if (r->net.range.lo.family != LM_IPV4) {
                    ex_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(e->p, r, LM_S_CONNECT), r,
                            "Exchange's relay lists hold IPv4 only; rule dropped");
                    break;
                }
                if (r->kind == LM_K_SERVER && r->action != LM_A_RELAY &&
                    r->action != LM_A_SKIP &&
                    (lm_action_stops(r->action) || e->authrelay || e->anyrelay))
                    ex_loss(e, LM_LOSS_DROPPED, 1, r, "RelayLocalIPList can only let "
                            "clients relay; this exception for a server address is dropped");
                else if (r->kind == LM_K_NET && lm_action_stops(r->action))
                    ex_loss(e, LM_LOSS_CHANGED, 1, r, r->action == LM_A_DISCARD
                            ? "Exchange cannot discard a client's mail; the client is put in "
                              "RelayDenyList, which refuses its relaying only"
                            : "Exchange can refuse a client only relaying (RelayDenyList, "
                              "\"550 relaying prohibited\"), not its mail for our domains "
                              "nor with this reply");
                break;
            case LM_K_AUTH:
                if (lm_action_stops(r->action) || (r->action == LM_A_OK && e->anyrelay))
                    ex_loss(e, LM_LOSS_DROPPED, 1, r, "Exchange can only let authenticated "
                            "clients relay (RelayFlags bit 4); rule dropped");
                break;
            case LM_K_ANY:
                if (lm_action_stops(r->action))
                    ex_loss(e, LM_LOSS_DROPPED, 1, r, "Exchange cannot refuse every client; "
                            "rule dropped");
                break;
            case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW: case LM_K_ANYHOST:
                if (r->action != LM_A_SKIP)
                    ex_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(e->p, r, LM_S_CONNECT), r,
                            "Exchange's relay lists have no host-name rules; rule dropped");
                break;
            default:
                break;
            }
        }
        if (r->kind == LM_K_NET || r->kind == LM_K_SERVER || r->kind == LM_K_AUTH ||
            r->kind == LM_K_ANYHOST)
            continue;   /* looked up for clients only */
        if ((r->stage & LM_S_FROM) && p->order->sender != LM_SENDER_NONE &&
            (lm_action_stops(r->action) || lm_sender_relay_grants(p, r)))
            ex_loss(e, LM_LOSS_DROPPED, lm_action_stops(r->action), r,
                    "Exchange's relay lists have no sender rules; the sender part is dropped");
        if ((r->stage & LM_S_TO) && p->order->rcpt_rules &&
            (lm_action_stops(r->action) ||
             (r->action == LM_A_RELAY && r->kind != LM_K_NAME && r->kind != LM_K_TREE &&
              r->kind != LM_K_BELOW)))
            ex_loss(e, LM_LOSS_DROPPED, lm_action_stops(r->action), r,
                    "Exchange's relay lists have no recipient rules (only accepted domains, "
                    "kept as comments); the recipient part is dropped");
    }
}

/* The first non-SKIP connect rule of KIND in file order, as decide reads
 * ANY and AUTH rules. */
static const struct lm_rule *
ex_special(const struct lm_policy *p, enum lm_kind kind)
{
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if (r->kind == kind && (r->stage & LM_S_CONNECT) && r->action != LM_A_SKIP &&
            r->info == NULL)
            return r;
    }
    return NULL;
}

/* "Name"=hex(7):... wrapped as regedit exports it: after each "xx," the
 * column count grows by 3, and at EX_WRAP or more the line ends in "\"
 * and the next starts with two blanks. */
static void
ex_put_list(struct ex_buf *b, const char *name, const struct lm_ipnet *nets, size_t n, int v5)
{
    struct ex_buf data = { NULL, 0, 0, 0 };
    size_t i, col;
    char nb[2 * LM_IPADDR_BUF];

    for (i = 0; i < n; i++) {
        const char *s = lm_ipnet_format(&nets[i], LM_FMT_MASK, nb);
        for (; *s; s++) {
            ex_put(&data, s, 1);
            if (v5)
                ex_put(&data, "", 1);
        }
        ex_put(&data, "\0", v5 ? 2 : 1);
    }
    ex_put(&data, "\0", v5 ? 2 : 1);     /* the list's terminator */
    if (data.err) {
        b->err = 1;
        return;
    }
    ex_puts(b, "\"");
    ex_puts(b, name);
    ex_puts(b, "\"=hex(7):");
    col = strlen(name) + 2 + 1 + 7;
    for (i = 0; i < data.n; i++) {
        char hx[4];
        snprintf(hx, sizeof hx, "%02x", (unsigned char)data.s[i]);
        ex_puts(b, hx);
        if (i + 1 == data.n)
            break;
        ex_puts(b, ",");
        col += 3;
        if (col >= EX_WRAP) {
            ex_puts(b, "\\\r\n  ");
            col = 2;
        }
    }
    ex_puts(b, "\r\n");
    free(data.s);
}

/* A recipient rule that accepts mail for a domain, as an accepted domain. */
static int
ex_to_domain(const struct lm_rule *r)
{
    return (r->stage & LM_S_TO) && r->action == LM_A_RELAY && r->info == NULL &&
           (r->kind == LM_K_NAME || r->kind == LM_K_TREE || r->kind == LM_K_BELOW);
}

/* "; relaymap accept KIND NAME", once each. */
static void
ex_put_domain(struct ex_buf *b, struct lm_seen *seen, enum lm_kind k, const char *name,
              int *fail)
{
    const char *kw = k == LM_K_NAME ? "name" : k == LM_K_TREE ? "domain" : "subdomains";
    unsigned long first = 0;
    char *line = malloc(strlen(name) + 64);

    if (line == NULL) {
        *fail = 1;
        return;
    }
    sprintf(line, EX_NOTE " accept %s %s\r\n", kw, name);
    if (lm_seen_add(seen, line, 1, &first) != 0)
        *fail = 1;
    else if (first == 0)
        ex_puts(b, line);
    free(line);
}

static int
exchange_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
              struct lm_losses *lost, struct lm_diags *d)
{
    struct ex_emit e;
    struct lm_cover_iv *iv = NULL;
    struct lm_ipset R, D, N, L, A, U, T;
    struct ex_cover allow, deny, local;
    struct ex_buf b = { NULL, 0, 0, 0 };
    const struct lm_rule *any, *auth;
    size_t niv = 0, i;
    uint32_t flags = 0;
    int v5 = 1, todom, rc = -1;
    char line[64];

    for (i = 0; opts != NULL && opts[i] != NULL; i++) {
        if (strcmp(opts[i], "reg-version=4") == 0)
            v5 = 0;
        else if (strcmp(opts[i], "reg-version=5") == 0)
            v5 = 1;
        else
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "exchange: unknown setting "
                               "\"%s\" (reg-version=4 or reg-version=5)", opts[i]);
    }
    memset(&e, 0, sizeof e);
    e.p = in;
    e.lost = lost;
    e.d = d;
    any = ex_special(in, LM_K_ANY);
    auth = ex_special(in, LM_K_AUTH);
    e.anyrelay = any != NULL && any->action == LM_A_RELAY;
    e.authrelay = auth != NULL && auth->action == LM_A_RELAY;
    ex_rule_losses(&e);
    memset(&allow, 0, sizeof allow);
    memset(&deny, 0, sizeof deny);
    memset(&local, 0, sizeof local);
    lm_ipset_init(&R);
    lm_ipset_init(&D);
    lm_ipset_init(&N);
    lm_ipset_init(&L);
    lm_ipset_init(&A);
    lm_ipset_init(&U);
    lm_ipset_init(&T);

    /* What each client address gets from the connect networks, in the
     * source's own order: relay (R), no relaying (D), nothing (N). */
    if (e.fail || lm_emit_paint(in, LM_IPV4, &iv, &niv, d) != 0)
        goto fail;
    for (i = 0; i < niv; i++) {
        struct lm_iprange rg = { iv[i].lo, iv[i].hi };
        const struct lm_rule *r = iv[i].val ? &in->rules[iv[i].val - 1] : NULL;
        struct lm_ipset *to = r == NULL || r->action == LM_A_SKIP ? &N
                            : r->action == LM_A_RELAY ? &R : &D;
        if (lm_ipset_add_range(to, &rg, d) != 0)
            goto fail;
        if (lm_policy_loopback_relays(in) && (to == &N || r->action == LM_A_OK)) {
            /* the source's server lets its loopback client relay by itself */
            struct lm_ipaddr lb;
            lm_ipaddr_v4(&lb, 127, 0, 0, 1);
            if (lm_ipaddr_cmp(&rg.lo, &lb) <= 0 && lm_ipaddr_cmp(&rg.hi, &lb) >= 0) {
                struct lm_ipset one;
                lm_ipset_init(&one);
                if (lm_ipset_add_addr(&one, &lb, d) != 0 ||
                    lm_ipset_subtract(to, to, &one, d) != 0 ||
                    lm_ipset_union(&R, &R, &one, d) != 0) {
                    lm_ipset_fini(&one);
                    goto fail;
                }
                lm_ipset_fini(&one);
            }
        }
    }
    free(iv);
    iv = NULL;
    /* The server addresses whose first SERVER rule relays. */
    for (i = 0; i < in->nrules; i++) {
        const struct lm_rule *r = &in->rules[i];
        struct lm_ipset one, cut;
        if (r->kind != LM_K_SERVER || !(r->stage & LM_S_CONNECT) || r->action == LM_A_SKIP ||
            r->net.range.lo.family != LM_IPV4)
            continue;
        lm_ipset_init(&one);
        lm_ipset_init(&cut);
        if (lm_ipset_add_range(&one, &r->net.range, d) != 0 ||
            lm_ipset_subtract(&cut, &one, &T, d) != 0 ||   /* T: claimed so far */
            (r->action == LM_A_RELAY && lm_ipset_union(&L, &L, &cut, d) != 0) ||
            lm_ipset_union(&T, &T, &one, d) != 0) {
            lm_ipset_fini(&one);
            lm_ipset_fini(&cut);
            goto fail;
        }
        lm_ipset_fini(&one);
        lm_ipset_fini(&cut);
    }
    lm_ipset_clear(&T);

    if (e.anyrelay) {
        /* RelayFlags = 1: everyone relays but the deny list */
        flags = 1;
        ex_cover(&D, &D, &deny);
    } else {
        int fallback = L.n > 0 || e.authrelay;
        /* allow may take in denied addresses: the deny list wins there */
        if (lm_ipset_union(&U, &R, &D, d) != 0)
            goto fail;
        ex_cover(&R, &U, &allow);
        for (i = 0; i < allow.n; i++)
            if (lm_ipset_add_net(&A, &allow.v[i], d) != 0)
                goto fail;
        /* deny is needed where allow holds denied addresses, and everywhere
         * when a server address or authentication could let a client relay;
         * otherwise it may spread over addresses nothing lets relay */
        if (fallback) {
            if (lm_ipset_copy(&T, &D, d) != 0 || lm_ipset_copy(&U, &D, d) != 0)
                goto fail;
        } else if (lm_ipset_intersect(&T, &D, &A, d) != 0 ||
                   lm_ipset_union(&U, &D, &N, d) != 0) {
            goto fail;
        }
        ex_cover(&T, &U, &deny);
        ex_cover(&L, &L, &local);
        flags = (deny.n ? 1u : 0u) | (allow.n ? 2u : 0u) | (local.n ? 4u : 0u) |
                (e.authrelay ? 8u : 0u);
    }
    if (allow.fail || deny.fail || local.fail)
        goto fail;
    /* each list in the order of the source rules written as exactly one
     * item (a list read from Exchange keeps its order), the rest address
     * order */
    if (lm_emit_order_nets(in, LM_K_NET, 1, allow.v, allow.n, d) != 0 ||
        lm_emit_order_nets(in, LM_K_NET, 0, deny.v, deny.n, d) != 0 ||
        lm_emit_order_nets(in, LM_K_SERVER, 1, local.v, local.n, d) != 0)
        goto fail;

    ex_puts(&b, v5 ? EX_HDR5 "\r\n\r\n" : EX_HDR4 "\r\n\r\n");
    todom = 0;
    for (i = 0; i < in->nrules && in->order->rcpt_rules; i++)
        todom |= ex_to_domain(&in->rules[i]);
    if (in->ndomains > 0 || in->nlocals > 0 || todom) {
        char nb[2 * LM_IPADDR_BUF];
        struct lm_seen seen;
        int sfail = 0;
        memset(&seen, 0, sizeof seen);
        ex_puts(&b, EX_NOTE ": Exchange takes its local domains from its own configuration;\r\n"
                    EX_NOTE ": relayconv keeps the policy's here (regedit ignores them)\r\n");
        for (i = 0; i < in->ndomains; i++)
            ex_put_domain(&b, &seen, in->domains[i].kind, in->domains[i].name, &sfail);
        /* a recipient domain RELAY accepts mail as an accepted domain does */
        for (i = 0; i < in->nrules && in->order->rcpt_rules; i++)
            if (ex_to_domain(&in->rules[i]))
                ex_put_domain(&b, &seen, in->rules[i].kind, in->rules[i].pattern, &sfail);
        lm_seen_fini(&seen);
        if (sfail)
            goto fail;
        for (i = 0; i < in->nlocals; i++) {
            ex_puts(&b, EX_NOTE " local ");
            ex_puts(&b, lm_rule_net_str(&in->locals[i].net, nb));
            ex_puts(&b, "\r\n");
        }
        ex_puts(&b, "\r\n");
    }
    ex_puts(&b, "[" EX_KEY "]\r\n");
    /* values in the registry's order (by name), as an export lists them */
    if (flags & 2)
        ex_put_list(&b, ex_names[EX_ALLOW], allow.v, allow.n, v5);
    if (flags & 1)
        ex_put_list(&b, ex_names[EX_DENY], deny.v, deny.n, v5);
    snprintf(line, sizeof line, "\"RelayFlags\"=dword:%08x\r\n", (unsigned)flags);
    ex_puts(&b, line);
    if (flags & 4)
        ex_put_list(&b, ex_names[EX_LOCALIP], local.v, local.n, v5);
    ex_puts(&b, "\r\n");
    if (b.err)
        goto fail;
    if (v5) {
        /* UTF-16LE with its byte order mark: every character here is ASCII */
        fputc(0xff, out[0]);
        fputc(0xfe, out[0]);
        for (i = 0; i < b.n; i++) {
            fputc((unsigned char)b.s[i], out[0]);
            fputc(0, out[0]);
        }
    } else {
        fwrite(b.s, 1, b.n, out[0]);
    }
    rc = e.fail ? lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory") : 0;
    goto out;
fail:
    if (d->nerrors == 0)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory while writing the .reg file");
out:
    free(iv);
    free(b.s);
    free(allow.v);
    free(deny.v);
    free(local.v);
    lm_ipset_fini(&R);
    lm_ipset_fini(&D);
    lm_ipset_fini(&N);
    lm_ipset_fini(&L);
    lm_ipset_fini(&A);
    lm_ipset_fini(&U);
    lm_ipset_fini(&T);
    return rc;
}

static const char *const exchange_settings[] = { "reg-version", NULL };

const struct lm_codec lm_codec_exchange = {
    .name = "exchange",
    .description = "Exchange 5.5 IMS relay restrictions: RelayFlags and Relay*List values "
                   "in a .reg file (version 5 or REGEDIT4)",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &exchange_order,
    .outputs = exchange_outputs,
    .detect = exchange_detect,
    .parse = exchange_parse,
    .emit = exchange_emit,
    .settings = exchange_settings,
};
