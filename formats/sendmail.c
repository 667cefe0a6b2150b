/*
 * sendmail.c - the Sendmail access map codec: the text that makemap compiles
 * for FEATURE(`access_db'), read into the policy model and written back.
 *
 * Reading follows makemap's line rules (comment only in column 1, key up to
 * the first blank, value = rest of the line) and Sendmail's lookups: tags
 * Connect:, From:, To: (untagged keys apply at all three), whole-octet and
 * IPv6 group prefixes, names that cover their subdomains, user@domain, user@.
 * Keys Sendmail can never match become LM_K_NEVER rules with a warning.
 * Writing covers networks with whole-octet keys, nested the way Sendmail's
 * longest-key-first lookup reads them, and reports in the loss list every
 * rule or item the format cannot carry.  Grammar: relaymap-formats(5).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libmap/codec.h"
#include "libmap/emit.h"
#include "libmap/util.h"
#include "libmap/ipset.h"
#include "libmap/policy.h"

/* check_relay, check_mail and check_rcpt over the access map (reference
 * sendmail-access.md sections 4 and 5). */
static const struct lm_order sendmail_order = {
    .name = "sendmail",
    .connect = LM_CONNECT_NAMES_FIRST,
    .nets = LM_NET_NARROWEST,
    .sender = LM_SENDER_ACCESS,
    .sender_relay = LM_SENDER_RELAY_TAGGED,
    .rcpt_rules = 1,
    .loopback_relays = 1,
    .refused = "relaying denied",
};

/* Features an access map relies on for some To: entries. */
#define SENDMAIL_BLOCKLIST "a To: entry that refuses or discards takes effect only with " \
                           "FEATURE(`blocklist_recipients')"
#define SENDMAIL_FULLADDR "relaying to a full address needs " \
                          "FEATURE(`access_db', , `relaytofulladdress')"

/* makemap reads lines into a 1024-byte buffer: 1022 bytes plus LF. */
#define SENDMAIL_DOTKEY "a key for the subdomains only (\".domain\") matches only with " \
                        "FEATURE(`access_db', , `lookupdotdomain')"

#define SENDMAIL_MAXLINE 1022

/* A cover of one family's networks may have this many keys per network
 * rule, plus a fixed allowance; beyond that (a runaway split of ranges
 * into octet keys) the emitter reports a loss instead of writing a map no
 * one wants.  Relative to the input, so large policies still convert. */
#define SENDMAIL_KEYS_PER_RULE 16
#define SENDMAIL_KEYS_EXTRA    65536

/* --- reading ----------------------------------------------------------------- */

static int
sendmail_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* Tags of the access map.  Only the first three take part in relaying; the
 * rest are other features' entries, read and ignored with a warning. */
static const struct {
    const char *tag;
    unsigned    stage;      /* 0: not part of the relay policy */
} sendmail_tags[] = {
    { "connect", LM_S_CONNECT }, { "from", LM_S_FROM }, { "to", LM_S_TO },
    { "spam", 0 }, { "clientrate", 0 }, { "clientconn", 0 }, { "greetpause", 0 },
    { "qgrp", 0 }, { "compat", 0 }, { "srv_features", 0 }, { "clt_features", 0 },
    { "try_tls", 0 }, { "tls_srv", 0 }, { "tls_clt", 0 }, { "tls_rcpt", 0 },
    { "certissuer", 0 }, { "certsubject", 0 }, { "authinfo", 0 },
};

struct sendmail_parse {
    struct lm_policy    *p;
    struct lm_diags     *d;
    struct lm_seen seen;
};

/* Parse a decimal octet of 1-3 digits at s[0..n): 0..255, or -1.  *lz is set
 * when it has a leading zero (Sendmail writes addresses without them). */
static int
sendmail_octet(const char *s, size_t n, int *lz)
{
    int v = 0;
    size_t i;

    if (n == 0 || n > 3)
        return -1;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (n > 1 && s[0] == '0')
        *lz = 1;
    return v > 255 ? -1 : v;
}

static int
sendmail_all(const char *s, size_t n, const char *set)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strchr(set, s[i]) == NULL)
            return 0;
    return 1;
}

/*
 * Classify an IPv4 key (digits and dots only).  0: r->net filled; 1: the
 * key can never match (why in *why); -1: not an IPv4 key at all.
 */
static int
sendmail_v4(const char *k, size_t n, struct lm_rule *r, const char **why)
{
    unsigned char b[4] = { 0, 0, 0, 0 };
    size_t i = 0, start = 0, noct = 0;
    int lz = 0;

    if (n == 0 || !sendmail_all(k, n, "0123456789."))
        return -1;
    if (k[n - 1] == '.') {
        *why = "a Sendmail network key has no final dot";
        return 1;
    }
    for (i = 0; i <= n; i++) {
        if (i < n && k[i] != '.')
            continue;
        if (noct == 4) {
            *why = "an IPv4 address has at most four octets";
            return 1;
        }
        {
            int v = sendmail_octet(k + start, i - start, &lz);
            if (v < 0) {
                *why = "an octet must be a number from 0 to 255";
                return 1;
            }
            b[noct++] = (unsigned char)v;
        }
        start = i + 1;
    }
    if (lz) {
        *why = "Sendmail writes client addresses without leading zeros";
        return 1;
    }
    lm_ipaddr_v4(&r->net.range.lo, b[0], b[1], b[2], b[3]);
    r->net.range.hi = r->net.range.lo;
    for (i = noct; i < 4; i++)
        r->net.range.hi.b[i] = 255;
    r->net.prefix = (unsigned)(8 * noct);
    r->net.form = noct == 4 ? LM_NF_CIDR : LM_NF_PREFIX;
    r->kind = LM_K_NET;
    return 0;
}

/* Classify the part after "IPv6:": 1..8 groups of 1..4 hex digits without
 * leading zeros, never "::" (Sendmail writes every group). */
static int
sendmail_v6(const char *k, size_t n, struct lm_rule *r, const char **why)
{
    size_t i, start = 0, ng = 0;
    unsigned char b[16];

    memset(b, 0, sizeof b);
    if (n == 0) {
        *why = "an IPv6 key needs at least one group";
        return 1;
    }
    if (strstr(k, "::") != NULL || k[0] == ':' || k[n - 1] == ':') {
        *why = "Sendmail writes IPv6 client addresses in full, without \"::\"";
        return 1;
    }
    for (i = 0; i <= n; i++) {
        unsigned long v;
        char *e;
        if (i < n && k[i] != ':')
            continue;
        if (ng == 8 || i - start > 4 ||
            !sendmail_all(k + start, i - start, "0123456789abcdef")) {
            *why = "an IPv6 key is up to eight groups of one to four hex digits";
            return 1;
        }
        if (i - start > 1 && k[start] == '0') {
            *why = "Sendmail writes IPv6 groups without leading zeros";
            return 1;
        }
        v = strtoul(k + start, &e, 16);
        b[2 * ng] = (unsigned char)(v >> 8);
        b[2 * ng + 1] = (unsigned char)v;
        ng++;
        start = i + 1;
    }
    r->net.range.lo.family = LM_IPV6;
    memcpy(r->net.range.lo.b, b, 16);
    r->net.range.hi = r->net.range.lo;
    for (i = 2 * ng; i < 16; i++)
        r->net.range.hi.b[i] = 255;
    r->net.prefix = (unsigned)(16 * ng);
    r->net.form = ng == 8 ? LM_NF_CIDR : LM_NF_PREFIX;
    r->kind = LM_K_NET;
    return 0;
}

/* A host or domain name as Sendmail can see one. */
static int
sendmail_name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
            return 0;
    return 1;
}

/* A local part as a key: anything but blanks, '@' and the detail wildcard. */
static int
sendmail_user_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '@' || s[i] == '"' ||
            (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/*
 * The subject of a key (tag removed, lower case).  Fills r->kind and the
 * net or pattern.  0 ok; 1 the key can never match (warning given, rule
 * kept as LM_K_NEVER); -1 an error was recorded.
 */
static int
sendmail_subject(struct sendmail_parse *sp, char *k, size_t n, struct lm_rule *r,
                 const struct lm_pos *pos, const char *raw)
{
    const char *why = NULL;
    char q[LM_QUOTE_BUF];
    char *at;
    int rc = 0, v4;

    if (n > 5 && strncmp(k, "ipv6:", 5) == 0) {
        rc = sendmail_v6(k + 5, n - 5, r, &why);
        if (rc == 0 && r->stage != LM_S_CONNECT && r->stage != LM_S_ANY)
            rc = 1, why = "networks are looked up only with Connect:";
    } else if ((v4 = sendmail_v4(k, n, r, &why)) >= 0) {
        rc = v4;
        if (rc == 0 && r->stage != LM_S_CONNECT && r->stage != LM_S_ANY)
            rc = 1, why = "networks are looked up only with Connect:";
        if (rc == 0 && r->net.prefix == 32 && k[n - 1] == '0' && k[n - 2] == '.')
            lm_diag_add(sp->d, LM_WARNING, LM_E_SYNTAX, pos,
                        "key \"%s\" matches the single address %s only; for the network "
                        "drop the final \".0\" octets", lm_quote(q, raw, strlen(raw),
                        LM_QUOTE_MAX), k);
    } else if (k[0] == '[') {
        return lm_diag_add(sp->d, LM_ERROR, LM_E_UNSUPPORTED, pos,
                           "key \"%s\": bracketed address literals match only clients "
                           "without a host name and are not supported; write the address "
                           "without brackets", lm_quote(q, raw, strlen(raw), LM_QUOTE_MAX));
    } else if ((at = memchr(k, '@', n)) != NULL) {
        size_t ul = (size_t)(at - k), dl = n - ul - 1;
        if (memchr(k, '+', ul) != NULL && ul >= 2 && k[ul - 1] == '*' && k[ul - 2] == '+')
            return lm_diag_add(sp->d, LM_ERROR, LM_E_UNSUPPORTED, pos,
                               "key \"%s\": the \"+*\" detail wildcard is not supported; "
                               "list the address without it",
                               lm_quote(q, raw, strlen(raw), LM_QUOTE_MAX));
        if (ul == 0)
            rc = 1, why = "the domain of an address is looked up without \"@\"";
        else if (!sendmail_user_ok(k, ul) || (dl > 0 && !sendmail_name_ok(at + 1, dl)))
            rc = 1, why = "not a mail address Sendmail can look up";
        else if (r->stage == LM_S_CONNECT)
            rc = 1, why = "addresses are looked up only with From:, To: or untagged";
        else if (dl == 0) {
            r->kind = LM_K_USER;
            *at = '\0';
            r->pattern = k;
        } else {
            r->kind = LM_K_ADDR;
            r->pattern = k;
        }
    } else if (strchr(k, '-') != NULL && strspn(k, "0123456789.-") == n) {
        rc = 1, why = "Sendmail has no address ranges; list each address";
    } else if (k[0] == '.' && sendmail_name_ok(k + 1, n - 1)) {
        r->kind = LM_K_BELOW;
        r->pattern = k + 1;
        lm_diag_add(sp->d, LM_WARNING, LM_E_SYNTAX, pos,
                    "key \"%s\" matches only with FEATURE(`lookupdotdomain')",
                    lm_quote(q, raw, strlen(raw), LM_QUOTE_MAX));
    } else if (sendmail_name_ok(k, n)) {
        r->kind = LM_K_TREE;
        r->pattern = k;
    } else if (strchr(k, '/') != NULL && strspn(k, "0123456789./") == n) {
        rc = 1, why = "Sendmail has no CIDR notation; list whole-octet prefixes "
                      "(10.0.0.0/8 is \"10\")";
    } else if (k[0] == '*') {
        rc = 1, why = "Sendmail has no wildcards; a domain key already covers its "
                      "subdomains";
    } else {
        rc = 1, why = "not an address, network, host name or domain Sendmail looks up";
    }
    if (rc == 1) {
        lm_diag_add(sp->d, LM_WARNING, LM_E_SYNTAX, pos,
                    "key \"%s\" can never match: %s", lm_quote(q, raw, strlen(raw),
                    LM_QUOTE_MAX), why);
        r->kind = LM_K_NEVER;
        r->pattern = k;
        memset(&r->net, 0, sizeof r->net);
    }
    return rc;
}

/* Parse "ERROR:..." after the colon: [D.S.N:]["]### text["]. */
static int
sendmail_error_rhs(struct sendmail_parse *sp, char *v, struct lm_rule *r,
                   const struct lm_pos *pos, const char *rhs)
{
    char q[LM_QUOTE_BUF];
    char *s = v, *e;
    size_t n;

    if (isdigit((unsigned char)s[0]) && s[1] == '.') {
        /* enhanced status code D.S.N: class 4 or 5, subject and detail 1-3 digits */
        size_t a = strspn(s + 2, "0123456789"), b;
        if (a >= 1 && a <= 3 && s[2 + a] == '.') {
            b = strspn(s + 3 + a, "0123456789");
            if (b >= 1 && b <= 3 && s[3 + a + b] == ':' && (s[0] == '4' || s[0] == '5')) {
                s[3 + a + b] = '\0';
                r->dsn = s;
                s += 4 + a + b;
            }
        }
    }
    n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    } else if (s[0] == '"') {
        return lm_diag_add(sp->d, LM_ERROR, LM_E_SYNTAX, pos,
                           "right-hand side \"%s\": unbalanced quote",
                           lm_quote(q, rhs, strlen(rhs), LM_QUOTE_MAX));
    }
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[2]) || (s[3] != '\0' && s[3] != ' ' && s[3] != '\t') ||
        (s[0] != '4' && s[0] != '5'))
        return lm_diag_add(sp->d, LM_ERROR, LM_E_SYNTAX, pos,
                           "right-hand side \"%s\": ERROR needs a 4xx or 5xx reply code "
                           "(ERROR:550 text or ERROR:5.7.1:550 text)",
                           lm_quote(q, rhs, strlen(rhs), LM_QUOTE_MAX));
    r->code = (unsigned)strtoul(s, &e, 10);
    if (r->dsn != NULL && r->dsn[0] != s[0])
        lm_diag_add(sp->d, LM_WARNING, LM_E_SYNTAX, pos,
                    "right-hand side \"%s\": status %s does not agree with reply code %u",
                    lm_quote(q, rhs, strlen(rhs), LM_QUOTE_MAX), r->dsn, r->code);
    while (*e == ' ' || *e == '\t')
        e++;
    r->text = *e ? e : NULL;
    r->action = LM_A_ERROR;
    return 0;
}

/*
 * The right-hand side.  0 ok; 1 the entry is not part of the relay policy
 * (ignored); -1 error recorded.
 */
static int
sendmail_rhs(struct sendmail_parse *sp, char *v, struct lm_rule *r, int spamtag,
             const struct lm_pos *pos)
{
    static const struct {
        const char *word;
        enum lm_action action;
    } words[] = {
        { "ok", LM_A_OK }, { "relay", LM_A_RELAY }, { "reject", LM_A_REJECT },
        { "discard", LM_A_DISCARD }, { "skip", LM_A_SKIP },
    };
    char q[LM_QUOTE_BUF];
    char rhs[LM_QUOTE_BUF];
    size_t i, n = strlen(v);

    lm_quote(rhs, v, n, LM_QUOTE_MAX);
    if (spamtag) {
        if (strcasecmp(v, "friend") == 0 || strcasecmp(v, "hater") == 0)
            return 1;
        return lm_diag_add(sp->d, LM_ERROR, LM_E_SYNTAX, pos,
                           "right-hand side \"%s\": a Spam: entry takes FRIEND or HATER",
                           rhs);
    }
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(v, words[i].word) == 0) {
            r->action = words[i].action;
            return 0;
        }
    if (strncasecmp(v, "error:", 6) == 0)
        return sendmail_error_rhs(sp, v + 6, r, pos, v);
    if (strncasecmp(v, "quarantine:", 11) == 0) {
        r->action = LM_A_OK;
        r->text = v[11] ? v + 11 : NULL;
        lm_diag_add(sp->d, LM_WARNING, LM_E_SYNTAX, pos,
                    "right-hand side \"%s\": QUARANTINE accepts the mail and is read as OK "
                    "(the quarantine itself is not part of the relay policy)", rhs);
        return 0;
    }
    if (isdigit((unsigned char)v[0]) && isdigit((unsigned char)v[1]) &&
        isdigit((unsigned char)v[2]) && (v[3] == ' ' || v[3] == '\t' || v[3] == '\0') &&
        (v[0] == '4' || v[0] == '5')) {
        lm_diag_add(sp->d, LM_WARNING, LM_E_SYNTAX, pos,
                    "right-hand side \"%s\": the bare \"### text\" form is deprecated; "
                    "write ERROR:%s", rhs, lm_quote(q, v, n, LM_QUOTE_MAX));
        return sendmail_error_rhs(sp, v, r, pos, v);
    }
    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t wl = strlen(words[i].word);
        if (n > wl && strncasecmp(v, words[i].word, wl) == 0 && sendmail_blank(v[wl]))
            return lm_diag_add(sp->d, LM_ERROR, LM_E_SYNTAX, pos,
                               "right-hand side \"%s\": unexpected text after %s "
                               "(for a reply text write ERROR:5.7.1:550 text)", rhs,
                               words[i].word);
    }
    return lm_diag_add(sp->d, LM_ERROR, LM_E_SYNTAX, pos,
                       "unknown right-hand side \"%s\" (OK, RELAY, REJECT, DISCARD, SKIP, "
                       "ERROR:### text or QUARANTINE:text)", rhs);
}

static int
sendmail_line(struct sendmail_parse *sp, struct lm_line *ln)
{
    struct lm_diags *d = sp->d;
    struct lm_pos pos = ln->pos;
    struct lm_rule r;
    char q[LM_QUOTE_BUF];
    char orig[SENDMAIL_MAXLINE + 1];    /* the key as written, for messages */
    char *t = ln->text, *key, *v, *k, *nul;
    size_t n = ln->len, i, kl, tl = 0;
    unsigned long first;
    unsigned stage = LM_S_ANY;
    int spamtag = 0, rc;

    if (n > 0 && t[n - 1] == '\r')
        n--;
    t[n] = '\0';
    if (n == 0 || t[0] == '#')
        return 0;
    for (i = 0; i < n && sendmail_blank((unsigned char)t[i]); i++)
        ;
    if (i == n)
        return 0;
    if (i > 0) {
        pos.col = (unsigned)i + 1;
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos,
                           "line starts with white space: \"%s\" (makemap has no "
                           "continuation lines; remove the leading blanks)",
                           lm_quote(q, t, n, LM_QUOTE_MAX));
    }
    if (ln->len > SENDMAIL_MAXLINE) {
        pos.col = SENDMAIL_MAXLINE + 1;
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos,
                           "line is %zu bytes long; makemap reads at most %d and would "
                           "split it: \"%s\"", ln->len, SENDMAIL_MAXLINE,
                           lm_quote(q, t, n, 40));
    }
    key = t;
    while (*t && !sendmail_blank((unsigned char)*t))
        t++;
    kl = (size_t)(t - key);
    if ((nul = memchr(key, '\0', n)) != NULL) {
        /* makemap reads a line as a C string: it would end there */
        size_t at = (size_t)(nul - key), end = at;
        while (end < n && !sendmail_blank((unsigned char)key[end]))
            end++;
        pos.col = (unsigned)at + 1;
        if (at == kl)       /* in the key: it ends at the NUL, show all of it */
            return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos, "NUL byte in key \"%s\" "
                               "(makemap would cut the line there)",
                               lm_quote(q, key, end, LM_QUOTE_MAX));
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos, "NUL byte in the right-hand side "
                           "of key \"%s\" (makemap would cut the line there)",
                           lm_quote(q, key, kl, LM_QUOTE_MAX));
    }
    while (*t && sendmail_blank((unsigned char)*t))
        t++;
    v = t;
    key[kl] = '\0';
    /* the value's trailing blanks are kept by makemap; Sendmail's rule sets
     * split the value into tokens, so they do not count */
    for (i = strlen(v); i > 0 && sendmail_blank((unsigned char)v[i - 1]); i--)
        v[i - 1] = '\0';
    if (*v == '\0')
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos,
                           "key \"%s\" has no right-hand side", lm_quote(q, key, kl,
                           LM_QUOTE_MAX));
    memset(&r, 0, sizeof r);
    memcpy(orig, key, kl + 1);      /* kl <= n <= SENDMAIL_MAXLINE */
    lm_fold(key, kl);
    rc = lm_seen_add(&sp->seen, key, pos.line, &first);
    if (rc < 0) {
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, &pos, "out of memory");
    }
    if (first != 0) {
        lm_diag_add(d, LM_ERROR, LM_E_DUPLICATE, &pos,
                    "duplicate key \"%s\" (first defined at line %lu; makemap keeps the "
                    "first)", lm_quote(q, orig, kl, LM_QUOTE_MAX), first);
        return -1;
    }
    /* tag: the text before the first colon, when it is a known tag */
    k = key;
    if ((t = strchr(key, ':')) != NULL) {
        size_t taglen = (size_t)(t - key);
        for (i = 0; i < sizeof sendmail_tags / sizeof sendmail_tags[0]; i++)
            if (strlen(sendmail_tags[i].tag) == taglen &&
                memcmp(sendmail_tags[i].tag, key, taglen) == 0)
                break;
        if (i < sizeof sendmail_tags / sizeof sendmail_tags[0]) {
            stage = sendmail_tags[i].stage;
            spamtag = strcmp(sendmail_tags[i].tag, "spam") == 0;
            k = t + 1;
            tl = taglen + 1;
            if (stage == 0 && !spamtag) {
                lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &pos,
                            "key \"%s\": %.*s: entries are not part of the relay policy; "
                            "ignored", lm_quote(q, orig, kl, LM_QUOTE_MAX), (int)taglen,
                            orig);
                        return 0;
            }
        }
    }
    r.stage = stage;
    r.pos = pos;
    pos.col = (unsigned)(v - ln->text) + 1;
    rc = sendmail_rhs(sp, v, &r, spamtag, &pos);
    if (rc != 0) {
        if (rc == 1)
            lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &r.pos,
                        "key \"%s\": Spam: entries do not affect relaying; ignored",
                        lm_quote(q, orig, kl, LM_QUOTE_MAX));
        return rc < 0 ? -1 : 0;
    }
    pos.col = (unsigned)tl + 1;
    rc = sendmail_subject(sp, k, kl - tl, &r, &pos, orig);
    if (rc < 0) {
        return -1;
    }
    /* two To: forms that Sendmail reads only with an access_db feature */
    if (rc == 0 && r.stage == LM_S_TO && r.action != LM_A_RELAY && r.action != LM_A_OK &&
        r.action != LM_A_SKIP)
        lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &r.pos, "key \"%s\": %s",
                    lm_quote(q, orig, kl, LM_QUOTE_MAX), SENDMAIL_BLOCKLIST);
    if (rc == 0 && r.stage == LM_S_TO && r.action == LM_A_RELAY && r.kind == LM_K_ADDR)
        lm_diag_add(d, LM_WARNING, LM_E_SYNTAX, &r.pos, "key \"%s\": %s",
                    lm_quote(q, orig, kl, LM_QUOTE_MAX), SENDMAIL_FULLADDR);
    return lm_policy_add(sp->p, &r, d) == NULL ? -1 : 0;
}

static int
sendmail_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    struct sendmail_parse sp;
    struct lm_line ln;
    size_t errs0 = d->nerrors;
    int rc;

    lm_source_keep_bom(in);     /* makemap reads it as the first key's bytes */
    memset(&sp, 0, sizeof sp);
    sp.p = out;
    sp.d = d;
    out->order = &sendmail_order;
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        sendmail_line(&sp, &ln);
        if (lm_diags_full(d))
            break;
    }
    lm_seen_fini(&sp.seen);
    if (rc < 0)
        return -1;
    return d->nerrors > errs0 ? -1 : 0;
}

/* --- detection ------------------------------------------------------------------ */

static int
sendmail_detect(const char *name, const char *text, size_t len)
{
    static const char *const rhs[] = { "ok", "relay", "reject", "discard", "skip" };
    size_t i = 0, good = 0, bad = 0, tags = 0;

    while (i < len) {
        const char *l = text + i, *e = memchr(l, '\n', len - i), *k, *v;
        size_t n = e ? (size_t)(e - l) : len - i, kl, vl, j;
        i += n + 1;
        if (n > 0 && l[n - 1] == '\r')
            n--;
        if (n == 0 || l[0] == '#')
            continue;
        for (k = l; k < l + n && !sendmail_blank((unsigned char)*k); k++)
            ;
        kl = (size_t)(k - l);
        for (v = k; v < l + n && sendmail_blank((unsigned char)*v); v++)
            ;
        vl = (size_t)(l + n - v);
        while (vl > 0 && sendmail_blank((unsigned char)v[vl - 1]))
            vl--;
        if (kl == 0 || vl == 0) {
            bad++;
            continue;
        }
        for (j = 0; j < sizeof rhs / sizeof rhs[0]; j++)
            if (vl == strlen(rhs[j]) && strncasecmp(v, rhs[j], vl) == 0)
                break;
        if (j < sizeof rhs / sizeof rhs[0] || (vl > 6 && strncasecmp(v, "error:", 6) == 0) ||
            (vl > 11 && strncasecmp(v, "quarantine:", 11) == 0))
            good++;
        else
            bad++;
        if ((kl > 8 && strncasecmp(l, "connect:", 8) == 0) ||
            (kl > 5 && strncasecmp(l, "from:", 5) == 0) ||
            (kl > 3 && strncasecmp(l, "to:", 3) == 0))
            tags++;
    }
    if (good == 0)
        return LM_DETECT_NO;
    if (bad > good / 4)
        return LM_DETECT_NO;
    if (tags > 0 && bad == 0)
        return LM_DETECT_SURE;
    if (name != NULL) {
        const char *b = strrchr(name, '/');
        b = b ? b + 1 : name;
        if (strcmp(b, "access") == 0 || strncmp(b, "access.", 7) == 0)
            return bad == 0 ? LM_DETECT_SURE : LM_DETECT_LIKELY;
    }
    return bad == 0 ? LM_DETECT_LIKELY : LM_DETECT_MAYBE;
}

/* --- writing -------------------------------------------------------------------- */

/* What a network key must say; index 0 of the table is "nothing" (no key,
 * or OK under a wider key: at the address, the last lookup, OK and no entry
 * mean the same). */
struct sendmail_val {
    enum lm_action action;      /* 0 = nothing */
    unsigned       code;
    const char    *dsn, *text;  /* borrowed from the policy */
};

struct sendmail_emit {
    const struct lm_policy *p;
    FILE                   *f;
    struct lm_losses       *lost;
    struct lm_diags        *d;
    struct sendmail_val    *val;
    size_t                  nval, capval;
    struct lm_seen    seen;   /* keys written, lower case */
    int                     blocklist, fulladdr;    /* To: keys needing a feature */
    int                     fail;
};

static int
sendmail_streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* The value of a connect network rule as a Sendmail key would say it. */
static struct sendmail_val
sendmail_netval(const struct lm_rule *r)
{
    struct sendmail_val v = { r->action, r->code, r->dsn, r->text };

    if (v.action == LM_A_OK || v.action == LM_A_SKIP)
        memset(&v, 0, sizeof v);
    else if (v.action == LM_A_DENY)
        v.action = LM_A_REJECT, v.code = 0, v.dsn = NULL, v.text = NULL;
    else if (v.action == LM_A_RELAY || v.action == LM_A_DISCARD)
        v.code = 0, v.dsn = NULL, v.text = NULL;
    return v;
}

static size_t
sendmail_valid(struct sendmail_emit *e, const struct sendmail_val *v)
{
    size_t i;

    for (i = 0; i < e->nval; i++)
        if (e->val[i].action == v->action && e->val[i].code == v->code &&
            sendmail_streq(e->val[i].dsn, v->dsn) && sendmail_streq(e->val[i].text, v->text))
            return i;
    if (e->nval == e->capval) {
        size_t nc = e->capval ? 2 * e->capval : 16;
        struct sendmail_val *nv = realloc(e->val, nc * sizeof *nv);
        if (nv == NULL) {
            e->fail = 1;
            return 0;
        }
        e->val = nv;
        e->capval = nc;
    }
    e->val[e->nval] = *v;
    return e->nval++;
}

/* An enhanced status code as ERROR: reads it: class 4 or 5, subject and
 * detail of one to three digits. */
static int
sendmail_dsn_ok(const char *s)
{
    size_t a, b;

    if ((s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    a = strspn(s + 2, "0123456789");
    if (a < 1 || a > 3 || s[2 + a] != '.')
        return 0;
    b = strspn(s + 3 + a, "0123456789");
    return b >= 1 && b <= 3 && s[3 + a + b] == '\0';
}

/* The right-hand side for an action, malloc'd.  *changed is set when the
 * text had to be altered to fit on one makemap line. */
static char *
sendmail_rhs_str(enum lm_action a, unsigned code, const char *dsn, const char *text,
                 int *changed)
{
    char *s, *t = NULL, *out;
    size_t n, i;
    int quote = 0;

    if ((int)a == 0)
        return strdup("OK");
    switch (a) {
    case LM_A_OK: return strdup("OK");
    case LM_A_RELAY: return strdup("RELAY");
    case LM_A_DISCARD: return strdup("DISCARD");
    case LM_A_SKIP: return strdup("SKIP");
    case LM_A_DENY:
    case LM_A_REJECT:
        if (text == NULL)
            return strdup("REJECT");
        code = 550;
        dsn = "5.7.1";
        break;
    case LM_A_ERROR:
        break;
    }
    if (code == 0)
        code = 550;
    if (dsn != NULL && !sendmail_dsn_ok(dsn)) {
        dsn = NULL;
        *changed = 1;
    }
    if (text != NULL) {
        if ((t = strdup(text)) == NULL)
            return NULL;
        n = strlen(t);
        for (i = 0; i < n; i++)
            if ((unsigned char)t[i] < ' ' && t[i] != '\t') {
                t[i] = ' ';
                *changed = 1;
            }
        quote = n > 0 && (t[0] == ' ' || t[0] == '\t' || t[n - 1] == ' ' ||
                          t[n - 1] == '\t' || strstr(t, "  ") != NULL ||
                          strchr(t, '\t') != NULL);
        if (quote && strchr(t, '"') != NULL) {
            quote = 0;
            *changed = 1;
        }
    }
    n = 64 + (t ? strlen(t) : 0) + (dsn ? strlen(dsn) : 0);
    if ((out = malloc(n)) == NULL) {
        free(t);
        return NULL;
    }
    s = out;
    s += sprintf(s, "ERROR:");
    if (dsn != NULL)
        s += sprintf(s, "%s:", dsn);
    s += sprintf(s, "%s%u%s%s%s", quote ? "\"" : "", code, t ? " " : "", t ? t : "",
                 quote ? "\"" : "");
    free(t);
    return out;
}

static int
sendmail_loss(struct sendmail_emit *e, enum lm_loss_kind k, int widens,
              const struct lm_rule *r, const struct lm_pos *pos, const char *why)
{
    if (lm_loss_add(e->lost, k, widens, r, pos, e->d, "%s", why) != 0) {
        e->fail = 1;
        return -1;
    }
    return 0;
}

/* Write "KEY<TAB>RHS" unless KEY (lower case) was written already.  Returns
 * 0 written, LM_EXISTS (with *first) when taken, -1 on failure. */
static int
sendmail_put(struct sendmail_emit *e, const char *key, const char *rhs,
             const struct lm_rule *r, unsigned long *first)
{
    char *lk = strdup(key);
    unsigned long line = r ? r->pos.line : 0, f0 = 0;

    if (lk == NULL) {
        e->fail = 1;
        return -1;
    }
    lm_fold(lk, strlen(lk));
    if (lm_seen_add(&e->seen, lk, line ? line : (unsigned long)-1, &f0) != 0) {
        free(lk);
        e->fail = 1;
        return -1;
    }
    free(lk);
    if (f0 != 0) {
        if (first != NULL)
            *first = f0;
        return LM_EXISTS;
    }
    if (strlen(key) + 1 + strlen(rhs) > SENDMAIL_MAXLINE) {
        sendmail_loss(e, LM_LOSS_DROPPED, r ? lm_emit_drop_widens(e->p, r, r->stage) : 1, r, NULL,
                      "the line would be longer than makemap's 1022 bytes; rule dropped");
        return 0;
    }
    fprintf(e->f, "%s\t%s\n", key, rhs);
    return 0;
}

/* --- the nested network cover ----------------------------------------------------
 * Sendmail looks a client address up as a.b.c.d, a.b.c, a.b, a (IPv6: drop
 * one group at a time): the longest key wins.  Given the address space cut
 * into intervals with the value each must get, the cover walks the key tree
 * (octets, or 16-bit groups): a block whose children mostly share one value
 * gets a key with that value, and only the children that differ get keys of
 * their own.  Blocks that are not uniform are walked further down
 * (lm_ipset_cover_nested); this file paints the intervals. */

static size_t
sendmail_paint_value(void *arg, const struct lm_rule *r)
{
    struct sendmail_val sv = sendmail_netval(r);

    return sendmail_valid(arg, &sv);
}

/*
 * Cut one family's space into intervals with the value the connect network
 * rules give them (narrowest rule wins, tagged before untagged, then the
 * earlier), gaps getting value base.  Returns a malloc'd array, or NULL
 * (e->fail set on failure) with *n 0 when there is nothing to cover.
 */
static struct lm_cover_iv *
sendmail_paint(struct sendmail_emit *e, int family, size_t base, size_t *n)
{
    struct lm_cover_iv *iv = NULL;
    struct lm_iprange *rg;
    size_t *val, nr;

    *n = 0;
    if (lm_emit_net_values(e->p, family, 0, sendmail_paint_value, e, &rg, &val, &nr, e->d) != 0) {
        e->fail = 1;
        return NULL;
    }
    if ((nr > 0 || base != 0) && !e->fail &&
        lm_ipset_paint(family, rg, val, nr, base, &iv, n, e->d) != 0)
        e->fail = 1;
    free(rg);
    free(val);
    return iv;
}

static void
sendmail_netkey(const struct lm_cover_key *k, int family, char *buf)
{
    unsigned i;

    if (family == LM_IPV4) {
        buf += sprintf(buf, "Connect:%u", k->b[0]);
        for (i = 1; i < k->depth; i++)
            buf += sprintf(buf, ".%u", k->b[i]);
    } else {
        buf += sprintf(buf, "Connect:IPv6:%x", ((unsigned)k->b[0] << 8) | k->b[1]);
        for (i = 2; i < k->depth; i += 2)
            buf += sprintf(buf, ":%x", ((unsigned)k->b[i] << 8) | k->b[i + 1]);
    }
}

/* The most keys a cover of FAMILY's networks may have (see above). */
static size_t
sendmail_maxkeys(const struct lm_policy *p, int family)
{
    size_t i, n = 0;

    for (i = 0; i < p->nrules; i++)
        n += p->rules[i].kind == LM_K_NET && (p->rules[i].stage & LM_S_CONNECT) &&
             p->rules[i].net.range.lo.family == family;
    return n * SENDMAIL_KEYS_PER_RULE + SENDMAIL_KEYS_EXTRA;
}

static void
sendmail_emit_nets(struct sendmail_emit *e)
{
    static const int fams[2] = { LM_IPV4, LM_IPV6 };
    const struct lm_rule *any = lm_policy_first(e->p, LM_K_ANY, LM_S_CONNECT);
    size_t f, i, base4 = 0;
    char kb[160];

    /* index 0 is "nothing" */
    {
        struct sendmail_val none = { 0, 0, NULL, NULL };
        sendmail_valid(e, &none);
    }
    if (any != NULL) {
        struct sendmail_val sv = sendmail_netval(any);
        base4 = sendmail_valid(e, &sv);
        if (base4 != 0 && sendmail_loss(e, LM_LOSS_NARROWED,
                                        lm_emit_drop_widens(e->p, any, any->stage),
                                        any, NULL, "Sendmail has no key for every IPv6 "
                                        "client; the rule is written for IPv4 only") != 0)
            return;
    }
    for (f = 0; f < 2 && !e->fail; f++) {
        struct lm_cover_iv *iv;
        struct lm_cover_key *keys;
        struct lm_nest_opts o;
        size_t niv, nkeys;
        int rc;

        iv = sendmail_paint(e, fams[f], fams[f] == LM_IPV4 ? base4 : 0, &niv);
        if (iv == NULL)
            continue;
        memset(&o, 0, sizeof o);
        o.nval = e->nval;
        o.maxkeys = sendmail_maxkeys(e->p, fams[f]);
        rc = lm_ipset_cover_nested(iv, niv, fams[f], &o, &keys, &nkeys, e->d);
        free(iv);
        if (rc < 0) {
            e->fail = 1;
            return;
        }
        if (rc > 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "the %s networks need more than %zu Sendmail keys "
                     "(%d per network rule plus %d); none written",
                     fams[f] == LM_IPV4 ? "IPv4" : "IPv6", o.maxkeys,
                     SENDMAIL_KEYS_PER_RULE, SENDMAIL_KEYS_EXTRA);
            sendmail_loss(e, LM_LOSS_DROPPED, 1, NULL, NULL, msg);
            continue;
        }
        for (i = 0; i < nkeys && !e->fail; i++) {
            const struct sendmail_val *v = &e->val[keys[i].val];
            int changed = 0;
            char *rhs = sendmail_rhs_str(v->action, v->code, v->dsn, v->text, &changed);
            if (rhs == NULL) {
                e->fail = 1;
                break;
            }
            sendmail_netkey(&keys[i], fams[f], kb);
            sendmail_put(e, kb, rhs, NULL, NULL);
            free(rhs);
        }
        free(keys);
    }
}

/* Report what Sendmail cannot carry of a rule's qmail settings. */
static void
sendmail_env_losses(struct sendmail_emit *e, const struct lm_rule *r)
{
    char msg[200];
    size_t i;

    if (!(r->stage & LM_S_CONNECT))
        return;
    for (i = 0; i < r->nenv && !e->fail; i++) {
        const struct lm_kv *kv = &r->env[i];
        if (strcmp(kv->name, "RELAYCLIENT") == 0) {
            if (kv->value[0] != '\0')
                sendmail_loss(e, LM_LOSS_CHANGED, 0, r, NULL,
                              "Sendmail cannot append RELAYCLIENT's text to recipients; "
                              "written as a plain RELAY");
            continue;
        }
        if (strcmp(kv->name, "RBLSMTPD") == 0 && kv->value[0] != '\0') {
            sendmail_loss(e, LM_LOSS_DROPPED, 1, r, NULL,
                          "Sendmail has no rblsmtpd: the RBLSMTPD refusal is dropped");
            continue;
        }
        snprintf(msg, sizeof msg, "Sendmail has no environment variables: %.60s dropped",
                 kv->name);
        sendmail_loss(e, LM_LOSS_DROPPED, 0, r, NULL, msg);
    }
}

/* For a policy read with another order: a host-name rule and an address
 * rule that both match one client are decided by the address first there,
 * by the name first in Sendmail.  A name whose value every candidate
 * network shares is passed over without a scan. */
static char *
sendmail_conflict_value(void *arg, const struct lm_rule *r)
{
    struct sendmail_val v = sendmail_netval(r);
    char *s;
    size_t n;

    (void)arg;
    /* the value's parts, a missing text told from an empty one */
    n = 64 + (v.dsn ? strlen(v.dsn) : 0) + (v.text ? strlen(v.text) : 0);
    if ((s = malloc(n)) != NULL)
        snprintf(s, n, "%d %u %c%s %c%s", (int)v.action, (unsigned)v.code, v.dsn ? '=' : '-',
                 v.dsn ? v.dsn : "", v.text ? '=' : '-', v.text ? v.text : "");
    return s;
}

static void
sendmail_conflict(void *arg, const struct lm_rule *n, const struct lm_rule *r)
{
    struct sendmail_emit *e = arg;
    char msg[300], nb[2 * LM_IPADDR_BUF];

    snprintf(msg, sizeof msg, "Sendmail looks host names up before addresses: a client in %s "
             "(line %lu) whose name matches would get %s here instead of %s",
             lm_rule_net_str(&r->net, nb), r->pos.line, lm_action_name(n->action),
             lm_action_name(r->action));
    sendmail_loss(e, LM_LOSS_CHANGED,
                  lm_emit_action_rank(n->action, 0) > lm_emit_action_rank(r->action, 0), n,
                  NULL, msg);
}

static void
sendmail_order_conflicts(struct sendmail_emit *e)
{
    const struct lm_emit_conflicts c = { 0, sendmail_conflict_value, sendmail_conflict, e };

    if (e->p->order != &sendmail_order && lm_emit_name_net_conflicts(e->p, &c, e->d) != 0)
        e->fail = 1;
}

/* Can PAT be written as (the subject part of) a key that reads back the same:
 * no blanks or control bytes, no comment mark in the first column, and
 * untagged, nothing that would read as a tag? */
static int
sendmail_key_ok(const char *pat, int untagged)
{
    const char *c;
    size_t i;

    if (*pat == '\0' || *pat == '#')
        return 0;
    for (c = pat; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7f)
            return 0;
    if (untagged && (c = strchr(pat, ':')) != NULL)
        for (i = 0; i < sizeof sendmail_tags / sizeof sendmail_tags[0]; i++)
            if (strlen(sendmail_tags[i].tag) == (size_t)(c - pat) &&
                strncasecmp(sendmail_tags[i].tag, pat, (size_t)(c - pat)) == 0)
                return 0;
    return 1;
}

/* Does the parser read PAT back as the subject of a rule of kind K, rather
 * than as a key that can never match (a local part or name with bytes
 * Sendmail's lookups never produce)? */
static int
sendmail_subject_ok(enum lm_kind k, const char *pat)
{
    const char *at = strchr(pat, '@');

    switch (k) {
    case LM_K_ADDR:
        return at != NULL && sendmail_user_ok(pat, (size_t)(at - pat)) &&
               sendmail_name_ok(at + 1, strlen(at + 1));
    case LM_K_USER:
        return sendmail_user_ok(pat, strlen(pat));
    case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW:
        return sendmail_name_ok(pat, strlen(pat));
    default:
        return 1;
    }
}

static void
sendmail_emit_rule(struct sendmail_emit *e, const struct lm_rule *r, char *used)
{
    static const struct {
        unsigned bit;
        const char *tag;
    } tags[] = { { LM_S_CONNECT, "Connect:" }, { LM_S_FROM, "From:" }, { LM_S_TO, "To:" } };
    const struct lm_policy *p = e->p;
    enum lm_action act = r->action == LM_A_DENY ? LM_A_REJECT : r->action;
    char *rhs, *key;
    const char *pat = r->pattern, *dot = "", *at = "";
    size_t i, klen;
    int changed = 0, widen_name = 0;

    if (!sendmail_key_ok(pat, r->stage == LM_S_ANY) || !sendmail_subject_ok(r->kind, pat)) {
        sendmail_loss(e, LM_LOSS_DROPPED, lm_emit_drop_widens(p, r, r->stage), r, NULL,
                      "the name or address cannot be written as an access map key");
        return;
    }
    if (r->kind == LM_K_NAME) {
        /* an exact name: Sendmail's key covers the subdomains too, unless a
         * ".name" key with the same stage says what they get */
        widen_name = 1;
        for (i = 0; i < p->nrules; i++) {
            const struct lm_rule *b = &p->rules[i];
            if (b->kind != LM_K_BELOW || b->stage != r->stage || strcmp(b->pattern, pat) != 0)
                continue;
            widen_name = 0;
            if (b->action == r->action && b->code == r->code &&
                sendmail_streq(b->dsn, r->dsn) && sendmail_streq(b->text, r->text))
                used[i] = 1;    /* one key says both */
            break;
        }
        if (widen_name && sendmail_loss(e, LM_LOSS_WIDENED,
                                        lm_emit_action_rank(r->action, 0) > 1, r,
                                        NULL, "a Sendmail name key also covers every "
                                        "subdomain") != 0)
            return;
    } else if (r->kind == LM_K_BELOW) {
        dot = ".";
        if (p->order != &sendmail_order &&
            sendmail_loss(e, LM_LOSS_NARROWED, lm_action_refuses(r->action), r, NULL,
                          SENDMAIL_DOTKEY) != 0)
            return;
    } else if (r->kind == LM_K_USER) {
        at = "@";
    }
    if (r->action == LM_A_RELAY && (r->stage & LM_S_FROM) &&
        lm_sender_relay_grants(p, r) &&
        sendmail_loss(e, LM_LOSS_NARROWED, 0, r, NULL, "a sender RELAY needs "
                      "FEATURE(`relay_mail_from') and a From: tag in Sendmail") != 0)
        return;
    if ((rhs = sendmail_rhs_str(act, r->code, r->dsn, r->text, &changed)) == NULL) {
        e->fail = 1;
        return;
    }
    if (changed)
        sendmail_loss(e, LM_LOSS_CHANGED, 0, r, NULL,
                      "the reply text was changed to fit on one makemap line");
    klen = 16 + strlen(pat);
    if ((key = malloc(klen)) == NULL) {
        free(rhs);
        e->fail = 1;
        return;
    }
    if ((r->stage & LM_S_TO) && r->stage != LM_S_ANY) {
        if (act != LM_A_RELAY && act != LM_A_OK && act != LM_A_SKIP)
            e->blocklist = 1;
        else if (act == LM_A_RELAY && r->kind == LM_K_ADDR)
            e->fulladdr = 1;
    }
    for (i = 0; i < 3; i++) {
        unsigned long first = 0;
        if (r->stage == LM_S_ANY) {
            if (i > 0)
                break;
            snprintf(key, klen, "%s%s%s", dot, pat, at);
        } else {
            if (!(r->stage & tags[i].bit))
                continue;
            if (tags[i].bit == LM_S_CONNECT && (r->kind == LM_K_ADDR || r->kind == LM_K_USER))
                continue;   /* never looked up: no effect in any order */
            snprintf(key, klen, "%s%s%s%s", tags[i].tag, dot, pat, at);
        }
        /* a key taken already belongs to a rule the lookup prefers */
        sendmail_put(e, key, rhs, r, &first);
    }
    free(key);
    free(rhs);
}

static void
sendmail_emit_domains(struct sendmail_emit *e)
{
    const struct lm_policy *p = e->p;
    char *key, msg[200];
    size_t i;

    for (i = 0; i < p->ndomains && !e->fail; i++) {
        const struct lm_domain *dm = &p->domains[i];
        unsigned long first = 0;
        const char *dot = dm->kind == LM_K_BELOW ? "." : "";
        int rc;

        if (dm->kind == LM_K_NAME) {
            if (lm_policy_domain(p, dm->name, LM_K_BELOW) == NULL &&
                sendmail_loss(e, LM_LOSS_WIDENED, 1, NULL, &dm->pos,
                              "Sendmail's To:domain RELAY also accepts mail for every "
                              "subdomain") != 0)
                return;
        } else if (dm->kind == LM_K_BELOW) {
            if (lm_policy_domain(p, dm->name, LM_K_NAME) != NULL)
                continue;   /* written as one key with the exact name */
            if (p->order != &sendmail_order &&
                sendmail_loss(e, LM_LOSS_NARROWED, 0, NULL, &dm->pos, SENDMAIL_DOTKEY) != 0)
                return;
        }
        if ((key = malloc(strlen(dm->name) + 8)) == NULL) {
            e->fail = 1;
            return;
        }
        sprintf(key, "To:%s%s", dot, dm->name);
        rc = sendmail_put(e, key, "RELAY", NULL, &first);
        free(key);
        if (rc == LM_EXISTS) {
            snprintf(msg, sizeof msg, "accepted domain %.100s: its To: key is already "
                     "taken by another rule", dm->name);
            sendmail_loss(e, LM_LOSS_NARROWED, 0, NULL, &dm->pos, msg);
        }
    }
}


static int
sendmail_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
              struct lm_losses *lost, struct lm_diags *d)
{
    struct sendmail_emit e;
    char *used = NULL;
    size_t i;
    int pass;

    (void)opts;     /* the format has no settings */

    memset(&e, 0, sizeof e);
    e.p = in;
    e.f = out[0];
    e.lost = lost;
    e.d = d;
    if (in->nrules > 0 && (used = calloc(in->nrules, 1)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    sendmail_order_conflicts(&e);
    sendmail_emit_nets(&e);
    /* rules for one stage before rules for several: the lookup prefers them */
    for (pass = 0; pass < 2 && !e.fail; pass++) {
        for (i = 0; i < in->nrules && !e.fail; i++) {
            const struct lm_rule *r = &in->rules[i];
            int single = r->stage == LM_S_CONNECT || r->stage == LM_S_FROM ||
                         r->stage == LM_S_TO;
            if (single != (pass == 0))
                continue;
            if (r->kind == LM_K_NEVER)
                continue;
            sendmail_env_losses(&e, r);
            if (r->info != NULL) {
                sendmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                              "Sendmail cannot match the ident user of a client");
                continue;
            }
            switch (r->kind) {
            case LM_K_NET:
                break;      /* written by the cover */
            case LM_K_ANYHOST:
                sendmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                              "Sendmail has no key for \"any client with a host name\"");
                break;
            case LM_K_SERVER: case LM_K_AUTH:
                sendmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage), r, NULL,
                              r->kind == LM_K_AUTH
                              ? "the access map has no key for authenticated clients"
                              : "the access map has no key for the server address a "
                                "client reached");
                break;
            case LM_K_ANY:
                if ((r->stage & (LM_S_FROM | LM_S_TO)) && r->action != LM_A_OK &&
                    r->action != LM_A_SKIP)
                    sendmail_loss(&e, LM_LOSS_DROPPED, lm_emit_drop_widens(in, r, r->stage),
                                  r, NULL, "Sendmail has no key for every sender or recipient");
                break;
            default:
                if (!used[i])
                    sendmail_emit_rule(&e, r, used);
                break;
            }
        }
    }
    if (!e.fail)
        sendmail_emit_domains(&e);
    for (i = 0; i < in->nlocals && !e.fail; i++)
        sendmail_loss(&e, LM_LOSS_DROPPED, 0, NULL, &in->locals[i].pos,
                      "Sendmail takes the server's own addresses from class w, not from "
                      "the access map");
    if (e.blocklist && !e.fail)
        lm_diag_add(d, LM_WARNING, LM_E_LOSSY, NULL, "the access map has To: keys that "
                    "refuse: %s", SENDMAIL_BLOCKLIST);
    if (e.fulladdr && !e.fail)
        lm_diag_add(d, LM_WARNING, LM_E_LOSSY, NULL, "the access map has To:user@domain "
                    "RELAY keys: %s", SENDMAIL_FULLADDR);
    free(used);
    free(e.val);
    lm_seen_fini(&e.seen);
    if (e.fail)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory while writing the "
                           "access map");
    return 0;
}

static const char *const sendmail_outputs[] = { "access", NULL };

const struct lm_codec lm_codec_sendmail = {
    .name = "sendmail",
    .description = "Sendmail access map text (makemap input): Connect:/From:/To: keys",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &sendmail_order,
    .outputs = sendmail_outputs,
    .detect = sendmail_detect,
    .parse = sendmail_parse,
    .emit = sendmail_emit,
};
