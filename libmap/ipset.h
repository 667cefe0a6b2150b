/*
 * ipset.h - IPv4 and IPv6 addresses, networks, ranges and interval sets.
 *
 * Every codec and the policy model do their address arithmetic here: parse
 * each format's network notation (CIDR, net;mask, Sendmail octet and IPv6
 * group prefixes, tcp.smtp prefixes and ranges), keep sets of addresses as
 * sorted disjoint intervals, combine them (union, intersection, difference,
 * complement), and cover a set exactly with the fewest items a target can
 * write: any CIDR or whole-octet prefixes (Sendmail), and many values at
 * once as keys looked up longest first (Sendmail, tcp.smtp prefixes and
 * ranges).  One set holds both families; IPv4 sorts first.
 */
#ifndef LIBMAP_IPSET_H
#define LIBMAP_IPSET_H

#include <stddef.h>

#include "libmap/diag.h"

enum lm_ipfam { LM_IPV4 = 4, LM_IPV6 = 6 };

/* An address.  b[] is in network byte order; IPv4 uses b[0..3] and keeps
 * b[4..15] zero, so two addresses compare equal with memcmp. */
struct lm_ipaddr {
    unsigned char family;       /* enum lm_ipfam */
    unsigned char b[16];
};

/* A CIDR network: the host bits of addr below prefix are always zero. */
struct lm_ipnet {
    struct lm_ipaddr addr;
    unsigned         prefix;    /* 0..32 (IPv4), 0..128 (IPv6) */
};

/* An inclusive range; lo and hi have the same family and lo <= hi. */
struct lm_iprange {
    struct lm_ipaddr lo, hi;
};

/* A set of addresses.  After lm_ipset_normalize (done by every function that
 * reads the set) v[] is sorted, IPv4 first, with no two ranges overlapping
 * or touching.  Zero-initialise or use lm_ipset_init; free with
 * lm_ipset_fini. */
struct lm_ipset {
    struct lm_iprange *v;       /* owned */
    size_t             n, cap;
    int                dirty;   /* appended out of order since normalized */
};

/* --- parsing ---------------------------------------------------------------
 * Which notations a parse accepts (OR them together).  A plain address of an
 * accepted family is always accepted. */
#define LM_IPF_V4        0x0001u /* dotted quad, 4 decimal octets          */
#define LM_IPF_V6        0x0002u /* RFC 4291 text, "::", dotted tail        */
#define LM_IPF_CIDR      0x0004u /* addr/len                                */
#define LM_IPF_MASK      0x0008u /* a.b.c.d;m.m.m.m and a.b.c.d/m.m.m.m     */
#define LM_IPF_OCTETS    0x0010u /* Sendmail "10.1" = 10.1.0.0/16 (1-3 octets) */
#define LM_IPF_GROUPS    0x0020u /* Sendmail IPv6 "2001:db8" = 2001:db8::/32 */
#define LM_IPF_DOTTED  0x0040u /* "10.1." prefix, "1.2.3.4-7", "10.2-3." */
#define LM_IPF_RANGE     0x0080u /* "A-B", two full addresses of one family */
#define LM_IPF_HOSTBITS  0x0100u /* host bits under the mask: clear them and
                                    warn, instead of an error               */
#define LM_IPF_ANY       0x00ffu

/* Parse text[0..len) as one network or range in the notations flags allow
 * (with neither LM_IPF_V4 nor LM_IPF_V6, both families).
 * On success fill *out and return 0.  On failure return -1 and, when d is
 * not NULL, record an LM_E_SYNTAX error quoting the text, at pos with the
 * column of the offending character (pos->col + offset; pos may be NULL).
 * d == NULL parses silently (format detection).  A network with host bits
 * set is an error that suggests the network address, unless LM_IPF_HOSTBITS
 * (then a warning).  A non-contiguous mask is an error here; see
 * lm_ipset_add_masked. */
int lm_iprange_parse(const char *text, size_t len, unsigned flags,
                     struct lm_iprange *out, struct lm_diags *d,
                     const struct lm_pos *pos);

/* Same, but the result must be one CIDR block ("1.2.3.4-7" is an error). */
int lm_ipnet_parse(const char *text, size_t len, unsigned flags,
                   struct lm_ipnet *out, struct lm_diags *d,
                   const struct lm_pos *pos);

/* Parse a plain address (LM_IPF_V4 / LM_IPF_V6 in flags). */
int lm_ipaddr_parse(const char *text, size_t len, unsigned flags,
                    struct lm_ipaddr *out, struct lm_diags *d,
                    const struct lm_pos *pos);

/* --- formatting ------------------------------------------------------------ */
#define LM_IPADDR_BUF 96        /* enough for any output of this header */

/* "192.0.2.1", or RFC 5952 IPv6 ("2001:db8::1", lower case). Returns buf. */
char *lm_ipaddr_format(const struct lm_ipaddr *a, char *buf);

enum lm_ipfmt {
    LM_FMT_CIDR,        /* "10.0.0.0/8"; a host without "/32" or "/128"   */
    LM_FMT_CIDR_LEN,    /* "10.0.0.5/32": always with the length          */
    LM_FMT_OCTETS,      /* Sendmail: "10", "10.1", "10.1.2", "10.1.2.3";
                           IPv6 as full groups without zero compression or
                           leading zeros: "2001:db8:0:0" for /64.  Needs a
                           prefix multiple of 8 (IPv4) or 16 (IPv6), >0.   */
    LM_FMT_MASK         /* Exchange: "10.0.0.0;255.0.0.0", host "10.0.0.5" */
};

/* Format a network.  Returns buf, or NULL when the style cannot write it
 * (LM_FMT_OCTETS with another prefix, LM_FMT_MASK for IPv6). */
char *lm_ipnet_format(const struct lm_ipnet *n, enum lm_ipfmt style, char *buf);

/* "lo-hi", or one address when lo == hi. Returns buf. */
char *lm_iprange_format(const struct lm_iprange *r, char *buf);

/* --- address arithmetic ------------------------------------------------------ */

/* <0, 0, >0; IPv4 sorts before IPv6. */
int lm_ipaddr_cmp(const struct lm_ipaddr *a, const struct lm_ipaddr *b);

/* a + 1 and a - 1 within the family; return -1 (a unchanged) on overflow. */
int lm_ipaddr_succ(struct lm_ipaddr *a);
int lm_ipaddr_pred(struct lm_ipaddr *a);

/* Address bits of the family (32 or 128). */
unsigned lm_ipfam_bits(int family);

/* First and last address of a network; 1 if net contains a, else 0. */
void lm_ipnet_range(const struct lm_ipnet *n, struct lm_iprange *out);
int  lm_ipnet_contains(const struct lm_ipnet *n, const struct lm_ipaddr *a);

/* The network of addr with prefix bits (host bits cleared). */
void lm_ipnet_make(struct lm_ipnet *out, const struct lm_ipaddr *addr, unsigned prefix);

/* 0 and *out = the range as one network when it is exactly a CIDR block,
 * else LM_NOTFOUND. */
int lm_iprange_to_net(const struct lm_iprange *r, struct lm_ipnet *out);

/* The IPv4 address a.b.c.d and the whole address space of a family. */
void lm_ipaddr_v4(struct lm_ipaddr *out, unsigned a, unsigned b, unsigned c, unsigned dd);
void lm_iprange_all(struct lm_iprange *out, int family);

/* --- sets ----------------------------------------------------------------------
 * Functions that allocate return 0, or -1 with an LM_E_NOMEM diagnostic (d
 * may be NULL).  Sets passed as inputs are normalized in place first, which
 * changes their layout but never their content. */

void lm_ipset_init(struct lm_ipset *s);
void lm_ipset_fini(struct lm_ipset *s);          /* safe on a zeroed set */
void lm_ipset_clear(struct lm_ipset *s);         /* empty, keep storage */
int  lm_ipset_copy(struct lm_ipset *dst, struct lm_ipset *src, struct lm_diags *d);

int lm_ipset_add_range(struct lm_ipset *s, const struct lm_iprange *r, struct lm_diags *d);
int lm_ipset_add_net(struct lm_ipset *s, const struct lm_ipnet *n, struct lm_diags *d);
int lm_ipset_add_addr(struct lm_ipset *s, const struct lm_ipaddr *a, struct lm_diags *d);

/* Add every IPv4 address x with (x & mask) == (net & mask), for any mask,
 * contiguous or not (Exchange allows both).  A non-contiguous mask can need
 * many ranges: more than max_ranges (0 = 65536) is an LM_E_UNSUPPORTED
 * error and adds nothing. */
int lm_ipset_add_masked(struct lm_ipset *s, const struct lm_ipaddr *net,
                        const struct lm_ipaddr *mask, size_t max_ranges,
                        struct lm_diags *d);

/* Sort and merge; idempotent.  Cannot fail. */
void lm_ipset_normalize(struct lm_ipset *s);

/* Set algebra.  out may be the same object as a or b. */
int lm_ipset_union(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                   struct lm_diags *d);
int lm_ipset_intersect(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                       struct lm_diags *d);
int lm_ipset_subtract(struct lm_ipset *out, struct lm_ipset *a, struct lm_ipset *b,
                      struct lm_diags *d);
/* Complement within the families in fams (LM_IPSET_V4 | LM_IPSET_V6). */
#define LM_IPSET_V4 1u
#define LM_IPSET_V6 2u
int lm_ipset_complement(struct lm_ipset *out, struct lm_ipset *a, unsigned fams,
                        struct lm_diags *d);

/* 1 if a is in s, else 0 (binary search). */
int lm_ipset_contains(struct lm_ipset *s, const struct lm_ipaddr *a);
/* 1 if the sets hold exactly the same addresses, else 0. */
int lm_ipset_equal(struct lm_ipset *a, struct lm_ipset *b);
/* 1 if every address of a is in b. */
int lm_ipset_subset(struct lm_ipset *a, struct lm_ipset *b);
/* Which families have addresses in s (LM_IPSET_V4 | LM_IPSET_V6). */
unsigned lm_ipset_families(struct lm_ipset *s);
/* Number of addresses, saturated at 2^64-1 (IPv6 sets overflow). */
unsigned long long lm_ipset_count(struct lm_ipset *s);

/* --- covers: write a set exactly, with the fewest items ---------------------
 * Each returns 0 with *out a malloc'd array (caller frees; NULL when *n is
 * 0) of disjoint items in address order whose union is exactly s. */

/* Any CIDR (Exchange, antirelay, Postfix cidr). */
int lm_ipset_cover_cidr(struct lm_ipset *s, struct lm_ipnet **out, size_t *n,
                        struct lm_diags *d);

/* Whole-octet prefixes for Sendmail: IPv4 /8 /16 /24 /32, IPv6 /16 .. /128 in
 * steps of 16 (format with LM_FMT_OCTETS).  A /20 gives 16 /24s; all of IPv4
 * gives 256 /8s, since Sendmail has no shorter key. */
int lm_ipset_cover_octets(struct lm_ipset *s, struct lm_ipnet **out, size_t *n,
                          struct lm_diags *d);

/* --- nested covers: many values, keys looked up longest first -----------------
 * The space of one family is painted: disjoint intervals in address order,
 * together the whole space, each with a value 0 .. nval-1, where 0 means "no
 * key" (what the server falls back to).  Sendmail's access map and
 * tcpserver look an address up longest key first, so a short key may hold
 * the value most of its block shares and longer keys the exceptions inside
 * it.  lm_ipset_cover_nested writes such keys, choosing each block's value
 * greedily (the value most of its children share, when that saves keys).
 * Looking any address up in the keys, longest matching key first, gives
 * its painted value, or no key where the value is 0.  Keys come in the order
 * of a depth-first walk of the space (a block's own key before those inside
 * it). */

struct lm_cover_iv {
    struct lm_ipaddr lo, hi;    /* inclusive, one family */
    size_t           val;       /* 0 .. nval-1 */
};

struct lm_cover_key {
    unsigned char b[16];        /* the key's bytes; the rest are zero */
    unsigned char depth;        /* bytes that make the key */
    unsigned char hi;           /* LM_NEST_RUNS: the key's last byte runs
                                   b[depth-1] .. hi; otherwise b[depth-1] */
    size_t        val;
};

/* lm_nest_opts.flags */
#define LM_NEST_RUNS 1u         /* IPv4 keys may end in a run of their last byte
                                   (tcp.smtp "10.16-31.", "1.2.3.0-127");
                                   otherwise keys are whole octets (IPv4) or
                                   whole 16-bit groups (IPv6): Sendmail */

struct lm_nest_opts {
    unsigned             flags;     /* LM_NEST_* */
    size_t               nval;      /* values are 0 .. nval-1 */
    size_t               maxkeys;   /* give up beyond this many keys */
    const unsigned char *whole;     /* NULL, or nval flags: a value flagged
                                       may be written only as keys of whole
                                       addresses (never a shorter key),
                                       e.g. tcp.smtp keys that must beat
                                       "=host" rules */
};

/* Paint all of FAMILY: ranges r[0 .. n) in priority order (where ranges
 * overlap the first one wins) with values val[i]; the addresses no range
 * holds get BASE.  Returns 0 with *out the intervals in address order,
 * neighbours with one value merged (malloc'd, caller frees), or -1 with
 * LM_E_NOMEM.  O(n log n). */
int lm_ipset_paint(int family, const struct lm_iprange *r, const size_t *val, size_t n,
                   size_t base, struct lm_cover_iv **out, size_t *nout, struct lm_diags *d);

/* IV: niv intervals painting all of FAMILY as above.  Returns 0 with *out
 * the keys (malloc'd, caller frees; NULL when *n is 0), 1 when more than
 * o->maxkeys keys would be needed (*out NULL), or -1 with LM_E_NOMEM. */
int lm_ipset_cover_nested(const struct lm_cover_iv *iv, size_t niv, int family,
                          const struct lm_nest_opts *o, struct lm_cover_key **out,
                          size_t *n, struct lm_diags *d);

/* --- partition probes ------------------------------------------------------------
 * Given any ranges (unsorted, overlapping, mixed families), the addresses
 * that cut each family's space into pieces on which membership in every
 * range is constant: the first and the last address of each piece, sorted,
 * without duplicates, each family's whole space included.  Comparing two
 * policies on these addresses compares them on every address.  *out is
 * malloc'd (caller frees). */
int lm_ip_probes(const struct lm_iprange *v, size_t n, unsigned fams,
                 struct lm_ipaddr **out, size_t *nout, struct lm_diags *d);

#endif
