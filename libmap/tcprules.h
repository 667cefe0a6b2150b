/*
 * tcprules.h - qmail/ucspi-tcp connection rules (tcp.smtp): the line
 * grammar and record encoding of tcprules, the key order in which tcpserver
 * looks rules up, and the decoding of a rule's data items.
 *
 * The mapc syntaxes "tcprules", "tcprules6" and "rcpthosts" are built on
 * these functions (syntax_tcprules.c); relayconv can use the lookup to decide
 * a connection the way tcpserver does.
 */
#ifndef LIBMAP_TCPRULES_H
#define LIBMAP_TCPRULES_H

#include <stddef.h>
#include <stdio.h>

#include "libmap/diag.h"
#include "libmap/ipset.h"
#include "libmap/map.h"

/* Flags for the functions below. */
#define LM_TR_V6      0x01  /* the IPv6 build: an address ends at ":allow" or ":deny",
                               IPv6 keys, prefixes also end in ':' */
#define LM_TR_EXPAND  0x02  /* write a CIDR key as the prefix or range it covers */
#define LM_TR_LENIENT 0x04  /* read a file as tcprules does (relayconv): a key that
                               tcpserver never looks up is a rule with never set and
                               a warning, not an error; so is an empty range, and
                               (IPv4 build) a line without a colon is skipped with a
                               warning.  What tcprules refuses, and an address that
                               is none (1.2.3.999), stay errors. */

/* One parsed rule line.  Keys are key[0..klen) when range is 0; otherwise
 * one key per number n in lo..hi: key[0..klen), n in decimal, then
 * suffix[0..slen).  key points into the line or into the caller's buffer;
 * data into the caller's buffer. */
struct lm_tcprules_rule {
    char          *key;
    size_t         klen;
    const char    *suffix;
    size_t         slen;
    int            range;
    unsigned long  lo, hi;
    int            deny;
    char          *data;        /* "D\0" for deny, then "+NAME=VALUE\0" per assignment */
    size_t         dlen;
    int            never;       /* LM_TR_LENIENT: the keys never match (warned) */
    size_t         alen;        /* the address as written is text[0..alen) */
};

/* Bytes the caller's buffer must hold for a line of len bytes. */
#define LM_TCPRULES_BUF(len) (2 * (len) + 64)

/* Parse one physical line (text[0..len), no LF; text is not modified).
 * buf holds at least LM_TCPRULES_BUF(len) bytes.  pos names the line; each
 * diagnostic gets its column.  Returns 0 with *r filled, LM_NOTFOUND for a
 * line without a rule (empty, white space only, comment), -1 after
 * recording an error (LM_E_SYNTAX) with the offending text and a hint. */
int lm_tcprules_parse(const char *text, size_t len, const struct lm_pos *pos,
                      unsigned flags, char *buf, struct lm_tcprules_rule *r,
                      struct lm_diags *d);

/* The key for number n of a range rule (or the only key) into out, which
 * holds r->klen + r->slen + 24 bytes.  Returns its length. */
size_t lm_tcprules_key(const struct lm_tcprules_rule *r, unsigned long n, char *out);

/* What one stored key (after range expansion) matches in tcpserver. */
enum lm_tcprules_what {
    LM_TRW_ANY,             /* "": every connection */
    LM_TRW_ANYHOST,         /* "=": every client with a host name */
    LM_TRW_HOST,            /* "=NAME": that host name */
    LM_TRW_DOMAIN,          /* "=.NAME": names ending in ".NAME" */
    LM_TRW_NET,             /* an address or prefix: the addresses in net */
    LM_TRW_NEVER            /* nothing (*why says why) */
};

struct lm_tcprules_subject {
    enum lm_tcprules_what what;
    const char       *info;     /* "INFO@..." keys: INFO, not terminated; else NULL */
    size_t            ilen;
    const char       *name;     /* HOST and DOMAIN: the name, not terminated */
    size_t            nlen;
    struct lm_iprange net;      /* NET: the addresses whose text starts with (a
                                   prefix) or equals (an address) the key */
    int               prefix;   /* NET: the key is a prefix */
};

/* Say what key[0..klen) matches (LM_TR_V6: in the IPv6 build, where
 * tcpserver writes addresses as lm_tcprules_ip6_format does).  Returns 0
 * with *s filled (LM_TRW_NEVER with *why for a key tcpserver never looks
 * up), or -1 with *why when the addresses a key matches are no network an
 * IPv6 prefix with a zero group other than a last "::" ("2001:0:5:") can
 * be told only address by address. */
int lm_tcprules_subject(const char *key, size_t klen, unsigned flags,
                        struct lm_tcprules_subject *s, const char **why);

/* The IPv6 build's text of an address (16 bytes), as tcpserver puts it in
 * TCPREMOTEIP and looks it up: lower-case hex groups without leading
 * zeros, the first run of zero groups (even a single one) written "::",
 * an IPv4-mapped address as its dotted quad.  out holds LM_TR_IP6_BUF
 * bytes; returns its length. */
#define LM_TR_IP6_BUF 48
size_t lm_tcprules_ip6_format(const unsigned char *b, char *out);

/* qmail's rcpthosts: why the domain name[0..n) (lower case, without the
 * leading '.' of a subdomain entry) names no domain, or NULL when it can:
 * an empty label ("a..b"), or labels that are all numbers but make no IPv4
 * address ("300.1.1.1"). */
const char *lm_rcpthosts_why(const char *name, size_t n);

/* Data items of a compiled rule. */
enum lm_tcprules_kind {
    LM_TRI_DENY,            /* "D": refuse the connection */
    LM_TRI_SET,             /* "+NAME=VALUE": set an environment variable */
    LM_TRI_OTHER            /* anything else; tcpserver ignores it */
};

struct lm_tcprules_item {
    enum lm_tcprules_kind kind;
    const char *text;       /* the whole item, without its NUL */
    size_t      len;
    const char *name;       /* LM_TRI_SET only */
    size_t      nlen;
    const char *value;
    size_t      vlen;
};

/* The item at *off in data[0..len); advances *off.  0 an item, LM_NOTFOUND
 * at the end.  A last item without its NUL is not an item (tcpserver skips
 * it too). */
int lm_tcprules_item_next(const void *data, size_t len, size_t *off,
                          struct lm_tcprules_item *it);

/* Call probe with every key tcpserver tries for a connection, in its order:
 * INFO@IP, INFO@=HOST, IP, =HOST, the prefixes of IP ending in '.' (and ':'
 * with LM_TR_V6), longest first, =SUFFIX for each '.' of HOST from the left,
 * "=", and the empty key.  host and info may be NULL (not known).  Stops at
 * the first nonzero return of probe and returns it; 0 when none matched;
 * -1 with errno ENOMEM if out of memory. */
typedef int (*lm_tcprules_probe)(void *arg, const char *key, size_t klen);
int lm_tcprules_walk(const char *ip, const char *host, const char *info,
                     unsigned flags, lm_tcprules_probe probe, void *arg);

/* Find the rule tcpserver applies in a compiled map.  On 0, *key is a
 * malloc'd copy of the matching key (the caller frees it) and *val is
 * borrowed until the next call on m.  LM_NOTFOUND when no rule applies
 * (tcpserver allows the connection), -1 on error. */
int lm_tcprules_lookup(struct lm_map *m, const char *ip, const char *host,
                       const char *info, unsigned flags, char **key, size_t *klen,
                       lm_datum *val, struct lm_diags *d);

/* Answer "IP[,HOST[,INFO]]" (an empty HOST or INFO is unknown) on out, in
 * the words of tcprulescheck or as one JSON object.  0 a rule applies,
 * LM_NOTFOUND the default applies, -1 error (LM_E_USAGE for a bad question). */
int lm_tcprules_query(struct lm_map *m, const char *question, unsigned flags,
                      int json, FILE *out, struct lm_diags *d);

/* Write one compiled record as a tcp.smtp line that compiles to the same
 * record.  The value delimiter is '"' unless the value holds one; then the
 * first of a fixed list of others not in the value.  -1 (LM_E_FORMAT) when
 * the record cannot be written as a rule. */
int lm_tcprules_dump(FILE *out, const lm_datum *key, const lm_datum *val,
                     unsigned flags, struct lm_diags *d);

#endif
