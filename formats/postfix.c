/*
 * formats/postfix.c - the Postfix codec: a main.cf fragment and the tables
 * it names, read into the policy model and written back as that set.
 *
 *   main.cf.relaymap    relay_domains, smtpd_relay_restrictions,
 *                       smtpd_sender_restrictions and the
 *                       parent_domain_matches_subdomains setting the tables
 *                       rely on; it names the others by directory and type
 *   relay_clients.cidr  client networks, cidr_table(5): first match wins
 *   client_access       client host names, access(5)
 *   sender_access       envelope senders, access(5)
 *   relay_domains       the domains we relay to (accept mail for)
 *
 * The server's order (postfix_order): check_client_access on the host-name
 * table, then on the cidr table, then reject_unauth_destination; senders by
 * check_sender_access, whose lookup is the full address, the domain and its
 * parents, then "user@" (lm_order.user_last).  The fragment takes
 * smtpd_access_maps and relay_domains out of parent_domain_matches_subdomains
 * so that every domain form of the model can be written: "example.com"
 * matches that name only, ".example.com" the names below it.  Reading takes
 * the same set back; anything else Postfix can say (restriction lists of
 * other shapes, DEFER, FILTER, "!" patterns...) is an error naming the line,
 * never a guess.  Grammar and mapping: relaymap-formats(5), reference
 * postfix-access.md.
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

static const struct lm_order postfix_order = {
    .name = "postfix",
    .connect = LM_CONNECT_NAMES_FIRST,  /* client_access before the cidr table */
    .nets = LM_NET_FIRST,               /* cidr_table: file order */
    .sender = LM_SENDER_ACCESS,
    .sender_relay = LM_SENDER_RELAY_NEVER, /* OK in smtpd_sender_restrictions
                                              only ends that list */
    .rcpt_rules = 1,                    /* check_recipient_access */
    .loopback_relays = 0,               /* permit_mynetworks is not used */
    .refused = "Relay access denied",
    .user_last = 1,
};

enum {
    PF_MAIN = 0, PF_CIDR, PF_CLIENT, PF_SENDER, PF_RCPT, PF_DOMAINS, PF_NFILES
};

static const char *const postfix_outputs[] = {
    "main.cf.relaymap", "relay_clients.cidr", "client_access", "sender_access",
    "recipient_access", "relay_domains", NULL
};

static const char *const postfix_table_types[] = { "lmdb", "cdb", "hash", NULL };
/* The main.cf fragment names the tables by directory and type. */
static const char *const postfix_settings[] = { "server-dir", "table-type", NULL };

/* What the fragment must say about parent domains for the tables to mean
 * what we read them as: every default entry but the two we rely on. */
#define POSTFIX_PARENT "debug_peer_list, fast_flush_domains, mynetworks, permit_mbox_mail_from"

/* The restriction class that ends the client checks without letting the
 * client relay (the model's connect OK): recipient rules, then our domains
 * only. */
#define POSTFIX_NORELAY "relaymap_norelay"

static int
postfix_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* --- reading ---------------------------------------------------------------- */

/* An error at line pos, column col (0: none): BEFORE ARG AFTER, ARG quoted
 * for the terminal. */
static int
postfix_err2(struct lm_diags *d, const struct lm_pos *lp, size_t col, const char *before,
             const char *arg, const char *after)
{
    struct lm_pos pos = *lp;
    char q[LM_QUOTE_BUF];

    pos.col = (unsigned)col;
    lm_quote(q, arg, strlen(arg), LM_QUOTE_MAX);
    return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos, "%s%s%s", before, q, after);
}

/* The action of an entry of table PART.  In the client tables OK lets the
 * client relay and the class relaymap_norelay is the model's OK; in
 * recipient_access OK accepts mail for the recipient (RELAY); in
 * sender_access OK only ends the sender checks.  Returns 0, or -1 after an
 * error. */
static int
postfix_action(char *v, int part, struct lm_rule *r, const struct lm_pos *lp, size_t col,
               struct lm_diags *d)
{
    int client = part == PF_CLIENT || part == PF_CIDR;
    char *rest;
    size_t n;

    for (n = 0; v[n] != '\0' && !postfix_blank((unsigned char)v[n]); n++)
        ;
    rest = v + n;
    while (postfix_blank((unsigned char)*rest))
        rest++;
    /* an all-numeric value is OK; "4NN text" and "5NN text" refuse */
    if ((n == 2 && strncasecmp(v, "OK", 2) == 0) ||
        (strspn(v, "0123456789") == n && *rest == '\0')) {
        if (*rest != '\0')
            return postfix_err2(d, lp, col, "\"", v, "\": OK takes no text");
        r->action = part == PF_SENDER ? LM_A_OK : LM_A_RELAY;
        return 0;
    }
    if (n == 5 && strncasecmp(v, "DUNNO", 5) == 0 && *rest == '\0') {
        r->action = LM_A_SKIP;
        return 0;
    }
    if (n == 6 && strncasecmp(v, "REJECT", 6) == 0) {
        r->action = LM_A_REJECT;
        r->text = *rest ? rest : NULL;
        return 0;
    }
    if (n == 7 && strncasecmp(v, "DISCARD", 7) == 0) {
        r->action = LM_A_DISCARD;
        r->text = *rest ? rest : NULL;
        return 0;
    }
    if (n == 3 && (v[0] == '4' || v[0] == '5') && isdigit((unsigned char)v[1]) &&
        isdigit((unsigned char)v[2])) {
        r->action = LM_A_ERROR;
        r->code = (unsigned)strtoul(v, NULL, 10);
        if (rest[0] == v[0] && rest[1] == '.') {
            char *e = rest;
            while (*e != '\0' && !postfix_blank((unsigned char)*e))
                e++;
            if (*e != '\0')
                *e++ = '\0';
            r->dsn = rest;
            rest = e;
            while (postfix_blank((unsigned char)*rest))
                rest++;
        }
        r->text = *rest ? rest : NULL;
        return 0;
    }
    if (client && n == strlen(POSTFIX_NORELAY) && strncmp(v, POSTFIX_NORELAY, n) == 0 &&
        *rest == '\0') {
        r->action = LM_A_OK;
        return 0;
    }
    return postfix_err2(d, lp, col, "action \"", v,
                        "\" is not one relayconv reads (OK, REJECT, 4NN/5NN text, DISCARD, "
                        "DUNNO)");
}

/* Split a table line into key and value in place.  Returns 0 with *key and
 * *val (val may be ""), 1 for a comment or blank line. */
static int
postfix_split(char *text, size_t len, char **key, char **val, size_t *vcol)
{
    size_t i = 0, k;

    while (len > 0 && postfix_blank((unsigned char)text[len - 1]))
        len--;
    text[len] = '\0';
    while (i < len && postfix_blank((unsigned char)text[i]))
        i++;
    if (i == len || text[i] == '#')
        return 1;
    *key = text + i;
    for (k = i; k < len && !postfix_blank((unsigned char)text[k]); k++)
        ;
    if (k < len)
        text[k++] = '\0';
    while (k < len && postfix_blank((unsigned char)text[k]))
        k++;
    *val = text + k;
    *vcol = k + 1;
    return 0;
}

/* Does the key look like a client address key (digits, dots, colons)? */
static int
postfix_is_addrkey(const char *s)
{
    return *s != '\0' && strspn(s, "0123456789.:abcdefABCDEF") == strlen(s) &&
           (isdigit((unsigned char)s[0]) || s[0] == ':') &&
           (strchr(s, ':') != NULL || strspn(s, "0123456789.") == strlen(s));
}

/* A line of client_access or sender_access. */
static int
postfix_access_line(struct lm_policy *p, int part, char *key, char *val, size_t vcol,
                    const struct lm_pos *lp, struct lm_diags *d)
{
    struct lm_rule r;
    char *at;

    memset(&r, 0, sizeof r);
    r.pos = *lp;
    r.stage = part == PF_CLIENT ? LM_S_CONNECT : part == PF_SENDER ? LM_S_FROM : LM_S_TO;
    lm_fold(key, strlen(key));
    if (*val == '\0')
        return postfix_err2(d, lp, 0, "key \"", key, "\" has no action");
    if (postfix_action(val, part, &r, lp, vcol, d) != 0)
        return -1;
    at = strrchr(key, '@');
    if (part == PF_CLIENT) {
        if (postfix_is_addrkey(key))
            return postfix_err2(d, lp, 1, "client address \"", key,
                                "\": relayconv writes client networks to relay_clients.cidr, "
                                "in the order they apply; move it there");
        if (at != NULL || !lm_is_domain(key[0] == '.' ? key + 1 : key)) {
            r.kind = LM_K_NEVER;
            r.pattern = key;
            lm_diag_add(d, LM_WARNING, LM_E_NONE, lp, "key \"%s\" is not a host name; "
                        "check_client_access never looks it up", key);
        } else {
            r.kind = key[0] == '.' ? LM_K_BELOW : LM_K_NAME;
            r.pattern = key[0] == '.' ? key + 1 : key;
        }
    } else if (strcmp(key, "<>") == 0) {
        r.kind = LM_K_NEVER;
        r.pattern = key;
        lm_diag_add(d, LM_WARNING, LM_E_NONE, lp, "the null sender key \"<>\" is not part "
                    "of the policy model; the rule is kept only to be reported");
    } else if (at != NULL && at[1] == '\0' && at != key) {
        *at = '\0';
        r.kind = LM_K_USER;
        r.pattern = key;
    } else if (at != NULL && at != key && lm_is_domain(at + 1)) {
        r.kind = LM_K_ADDR;
        r.pattern = key;
    } else if (at == NULL && lm_is_domain(key[0] == '.' ? key + 1 : key)) {
        r.kind = key[0] == '.' ? LM_K_BELOW : LM_K_NAME;
        r.pattern = key[0] == '.' ? key + 1 : key;
    } else {
        r.kind = LM_K_NEVER;
        r.pattern = key;
        lm_diag_add(d, LM_WARNING, LM_E_NONE, lp, "key \"%s\" is never looked up for an "
                    "address (want user@domain, domain, .domain or user@)", key);
    }
    return lm_policy_add(p, &r, d) != NULL ? 0 : -1;
}

/* A line of relay_clients.cidr. */
static int
postfix_cidr_line(struct lm_policy *p, char *key, char *val, size_t vcol,
                  const struct lm_pos *lp, struct lm_diags *d)
{
    struct lm_rule r;
    struct lm_pos pos = *lp;
    size_t len = strlen(key);
    char *k = key;

    memset(&r, 0, sizeof r);
    r.pos = *lp;
    r.stage = LM_S_CONNECT;
    if (k[0] == '!' || strcmp(k, "if") == 0 || strcmp(k, "endif") == 0)
        return postfix_err2(d, lp, 1, "\"", k,
                            "\": negation and if/endif blocks are not read by relayconv; write "
                            "plain patterns in first-match order");
    if (*val == '\0')
        return postfix_err2(d, lp, 0, "pattern \"", key, "\" has no action");
    if (postfix_action(val, PF_CIDR, &r, lp, vcol, d) != 0)
        return -1;
    if (k[0] == '[') {
        char *e = strchr(k, ']');
        if (e != NULL && (e[1] == '\0' || e[1] == '/')) {
            memmove(e, e + 1, strlen(e + 1) + 1);
            k++;
            len = strlen(k);
        }
    }
    pos.col = 1;
    r.kind = LM_K_NET;
    r.net.form = LM_NF_CIDR;
    if (lm_iprange_parse(k, len, LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR, &r.net.range, NULL,
                         NULL) != 0) {
        struct lm_iprange dummy;
        if (lm_iprange_parse(k, len, LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR | LM_IPF_HOSTBITS,
                             &dummy, NULL, NULL) == 0) {
            /* The server skips such a line with a warning: it decides nothing. */
            r.kind = LM_K_NEVER;
            r.pattern = key;
            lm_diag_add(d, LM_WARNING, LM_E_NONE, &pos, "\"%s\" has host bits under the "
                        "mask; Postfix skips this line", key);
            return lm_policy_add(p, &r, d) != NULL ? 0 : -1;
        }
        return lm_iprange_parse(k, len, LM_IPF_V4 | LM_IPF_V6 | LM_IPF_CIDR, &r.net.range, d,
                                &pos);
    }
    r.net.prefix = strchr(k, '/') != NULL ? (unsigned)strtoul(strchr(k, '/') + 1, NULL, 10)
                                          : lm_ipfam_bits(r.net.range.lo.family);
    return lm_policy_add(p, &r, d) != NULL ? 0 : -1;
}

/* relay_domains: names and .names, separated by blanks or commas. */
static int
postfix_domains(struct lm_policy *p, char *s, const struct lm_pos *lp, struct lm_diags *d)
{
    int rc = 0;

    while (*s != '\0') {
        char *w;
        while (*s != '\0' && (postfix_blank((unsigned char)*s) || *s == ','))
            s++;
        if (*s == '\0' || *s == '#')
            break;
        w = s;
        while (*s != '\0' && !postfix_blank((unsigned char)*s) && *s != ',')
            s++;
        if (*s != '\0')
            *s++ = '\0';
        lm_fold(w, strlen(w));
        if (w[0] == '!' || w[0] == '/' || strchr(w, ':') != NULL ||
            !lm_is_domain(w[0] == '.' ? w + 1 : w)) {
            rc = postfix_err2(d, lp, 0, "relay_domains entry \"", w,
                              "\": relayconv reads domain names and .domain names only");
            continue;
        }
        if (lm_policy_add_domain(p, w[0] == '.' ? w + 1 : w,
                                 w[0] == '.' ? LM_K_BELOW : LM_K_NAME, lp, d) < 0)
            return -1;
    }
    return rc;
}

/* The restriction list items of a main.cf value, split on blanks and commas. */
static size_t
postfix_items(char *v, char **it, size_t max)
{
    size_t n = 0;

    while (*v != '\0') {
        while (*v != '\0' && (postfix_blank((unsigned char)*v) || *v == ','))
            v++;
        if (*v == '\0')
            break;
        if (n == max)
            return max + 1;
        it[n++] = v;
        while (*v != '\0' && !postfix_blank((unsigned char)*v) && *v != ',')
            v++;
        if (*v != '\0')
            *v++ = '\0';
    }
    return n;
}

/* "TYPE:PATH" naming table PART (by base name).  0 or -1 after an error. */
static int
postfix_table_ref(const char *ref, int part, const struct lm_pos *lp, struct lm_diags *d)
{
    const char *colon = strchr(ref, ':');
    size_t i;

    if (colon == NULL)
        return postfix_err2(d, lp, 0, "\"", ref, "\" is not TYPE:FILE");
    if (part == PF_CIDR) {
        if (strncmp(ref, "cidr:", 5) != 0)
            return postfix_err2(d, lp, 0, "\"", ref,
                                "\": client networks are read from a cidr: table");
    } else {
        for (i = 0; postfix_table_types[i] != NULL; i++)
            if (strlen(postfix_table_types[i]) == (size_t)(colon - ref) &&
                strncmp(ref, postfix_table_types[i], (size_t)(colon - ref)) == 0)
                break;
        if (postfix_table_types[i] == NULL)
            return postfix_err2(d, lp, 0, "\"", ref,
                                "\": relayconv reads lmdb:, cdb: and hash: access tables");
    }
    if (strcmp(lm_path_base(colon + 1), postfix_outputs[part]) != 0) {
        lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, lp, "\"%s\": relayconv reads this table from "
                    "the file %s beside the fragment", ref, postfix_outputs[part]);
        return -1;
    }
    return 0;
}

/* A restriction list of exactly the shape relayconv writes: w[i], each
 * followed by a table reference when pt[i] names a table.  0, or -1 after
 * an error naming the setting and what was expected. */
static int
postfix_expect(const char *name, char *val, const char *const *w, const int *pt, size_t nw,
               const struct lm_pos *lp, struct lm_diags *d)
{
    char *it[16];
    size_t n = postfix_items(val, it, 16), i, k = 0;

    for (i = 0; i < nw; i++) {
        if (k >= n || n > 16 || strcmp(it[k], w[i]) != 0)
            break;
        k++;
        if (pt[i] >= 0) {
            if (k >= n || postfix_table_ref(it[k], pt[i], lp, d) != 0)
                break;
            k++;
        }
    }
    if (i == nw && k == n)
        return 0;
    lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, lp, "%s: relayconv reads the restrictions it "
                "writes (relaymap-formats(5)), in that order; not \"%s\"", name,
                k < n && n <= 16 ? it[k] : "(end of the list)");
    return -1;
}

/* One "name = value" setting of the fragment. */
static int
postfix_setting(struct lm_policy *p, char *name, char *val, int *seen_parent,
                const struct lm_pos *lp, struct lm_diags *d)
{
    char *it[16];
    size_t n, i;

    if (strcmp(name, "parent_domain_matches_subdomains") == 0) {
        *seen_parent = 1;
        n = postfix_items(val, it, 16);
        for (i = 0; i < n && i < 16; i++)
            if (strcmp(it[i], "smtpd_access_maps") == 0 || strcmp(it[i], "relay_domains") == 0)
                return postfix_err2(d, lp, 0, "parent_domain_matches_subdomains lists \"", it[i],
                                    "\": relayconv reads the tables with it left out (a domain "
                                    "matches itself, .domain the names below)");
        return 0;
    }
    if (strcmp(name, "relay_domains") == 0) {
        /* a file of names beside the fragment, or names inline */
        char *copy = val;
        n = postfix_items(copy, it, 16);
        for (i = 0; i < n && i < 16; i++) {
            if (it[i][0] == '/') {
                if (strcmp(lm_path_base(it[i]), postfix_outputs[PF_DOMAINS]) != 0)
                    return postfix_err2(d, lp, 0, "relay_domains names \"", it[i],
                                        "\": relayconv reads the file relay_domains beside the "
                                        "fragment");
            } else if (postfix_domains(p, it[i], lp, d) != 0) {
                return -1;
            }
        }
        return n > 16 ? postfix_err2(d, lp, 0, "", name, ": too many items") : 0;
    }
    if (strcmp(name, "smtpd_relay_restrictions") == 0) {
        static const char *const w[] = { "check_client_access", "check_client_access",
                                         "check_recipient_access",
                                         "reject_unauth_destination" };
        static const int pt[] = { PF_CLIENT, PF_CIDR, PF_RCPT, -1 };
        return postfix_expect(name, val, w, pt, 4, lp, d);
    }
    if (strcmp(name, POSTFIX_NORELAY) == 0) {
        static const char *const w[] = { "check_recipient_access",
                                         "reject_unauth_destination", "permit" };
        static const int pt[] = { PF_RCPT, -1, -1 };
        return postfix_expect(name, val, w, pt, 3, lp, d);
    }
    if (strcmp(name, "smtpd_sender_restrictions") == 0) {
        static const char *const w[] = { "check_sender_access" };
        static const int pt[] = { PF_SENDER };
        return postfix_expect(name, val, w, pt, 1, lp, d);
    }
    if (strcmp(name, "smtpd_recipient_restrictions") == 0) {
        static const char *const w[] = { "check_recipient_access" };
        static const int pt[] = { PF_RCPT };
        return postfix_expect(name, val, w, pt, 1, lp, d);
    }
    if (strcmp(name, "smtpd_restriction_classes") == 0) {
        static const char *const w[] = { POSTFIX_NORELAY };
        static const int pt[] = { -1 };
        return postfix_expect(name, val, w, pt, 1, lp, d);
    }
    lm_diag_add(d, LM_WARNING, LM_E_NONE, lp, "setting %s is not part of the relay policy; "
                "ignored", name);
    return 0;
}

/* The fragment: "name = value" lines; a line starting with a blank
 * continues the previous one. */
static int
postfix_main(struct lm_source *in, struct lm_policy *p, struct lm_diags *d)
{
    struct lm_line ln;
    char *cur = NULL;
    size_t curlen = 0;
    struct lm_pos cpos = { NULL, 0, 0 };
    int rc, seen_parent = 0, bad = 0;

    for (;;) {
        rc = lm_source_next(in, &ln, d);
        if (rc == 0) {
            ln.text[ln.len] = '\0';
            if (ln.len > 0 && ln.text[ln.len - 1] == '\r')
                ln.text[--ln.len] = '\0';
            if (ln.len == 0 || ln.text[strspn(ln.text, " \t")] == '#' ||
                ln.text[strspn(ln.text, " \t")] == '\0')
                continue;
            if (postfix_blank((unsigned char)ln.text[0]) && cur != NULL) {
                char *nc = realloc(cur, curlen + ln.len + 2);
                if (nc == NULL)
                    break;
                cur = nc;
                cur[curlen++] = ' ';
                memcpy(cur + curlen, ln.text, ln.len + 1);
                curlen += ln.len;
                continue;
            }
        }
        if (cur != NULL) {
            char *eq = strchr(cur, '='), *name = cur, *e, *v;
            if (eq == NULL) {
                bad |= postfix_err2(d, &cpos, 1, "\"", cur, "\": want name = value") != 0;
            } else {
                for (e = eq; e > name && postfix_blank((unsigned char)e[-1]); e--)
                    ;
                *e = '\0';
                for (v = eq + 1; postfix_blank((unsigned char)*v); v++)
                    ;
                if (postfix_setting(p, name, v, &seen_parent, &cpos, d) != 0)
                    bad = 1;
            }
            free(cur);
            cur = NULL;
        }
        if (rc != 0)
            break;
        if (postfix_blank((unsigned char)ln.text[0])) {
            bad |= postfix_err2(d, &ln.pos, 1, "\"", ln.text,
                                "\": continuation line without a setting") != 0;
            continue;
        }
        if ((cur = malloc(ln.len + 1)) == NULL)
            break;
        memcpy(cur, ln.text, ln.len + 1);
        curlen = ln.len;
        cpos = ln.pos;
    }
    if (cur != NULL) {
        free(cur);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    if (rc < 0)
        return -1;
    if (!seen_parent) {
        struct lm_pos pos = { lm_policy_file(p, lm_source_name(in)), 0, 0 };
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, pos.file ? &pos : NULL,
                           "no parent_domain_matches_subdomains setting: relayconv reads "
                           "the tables with smtpd_access_maps and relay_domains left out of "
                           "it (\"parent_domain_matches_subdomains = " POSTFIX_PARENT "\")");
    }
    return bad ? -1 : 0;
}

static int
postfix_parse(struct lm_source *in, struct lm_policy *out, struct lm_diags *d)
{
    struct lm_line ln;
    size_t errs0 = d->nerrors;
    int part = lm_codec_part(&lm_codec_postfix, lm_source_name(in)), rc;

    lm_source_keep_bom(in);     /* postmap reads it as the first key's bytes */
    out->order = &postfix_order;
    if (part < 0)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: a Postfix policy is read from "
                           "files named as relayconv writes them (main.cf.relaymap, "
                           "relay_clients.cidr, client_access, sender_access, relay_domains)",
                           lm_source_name(in));
    if (part == PF_MAIN)
        return postfix_main(in, out, d) != 0 || d->nerrors > errs0 ? -1 : 0;
    while ((rc = lm_source_next(in, &ln, d)) == 0) {
        char *key, *val;
        size_t vcol = 0;
        if (memchr(ln.text, '\0', ln.len) != NULL) {
            lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln.pos, "NUL byte in line; line skipped");
            continue;
        }
        if (ln.len > 0 && postfix_blank((unsigned char)ln.text[0]) &&
            ln.text[strspn(ln.text, " \t\r")] != '\0' && part != PF_DOMAINS &&
            ln.text[strspn(ln.text, " \t\r")] != '#') {
            ln.text[ln.len] = '\0';
            postfix_err2(d, &ln.pos, 1, "\"", ln.text,
                         "\": continuation lines are not read by relayconv; write each entry "
                         "on one line");
            continue;
        }
        if (part == PF_DOMAINS) {
            ln.text[ln.len] = '\0';
            postfix_domains(out, ln.text, &ln.pos, d);
        } else if (postfix_split(ln.text, ln.len, &key, &val, &vcol) == 0) {
            if (part == PF_CIDR)
                postfix_cidr_line(out, key, val, vcol, &ln.pos, d);
            else
                postfix_access_line(out, part, key, val, vcol, &ln.pos, d);
        }
        if (lm_diags_full(d))
            break;
    }
    if (rc < 0)
        return -1;
    return d->nerrors > errs0 ? -1 : 0;
}

/* --- writing ----------------------------------------------------------------- */

struct postfix_emit {
    const struct lm_policy *p;
    struct lm_losses *lost;
    struct lm_diags *d;
};

static int
postfix_lose(struct postfix_emit *e, enum lm_loss_kind k, const struct lm_rule *r,
             const char *why)
{
    return lm_loss_add(e->lost, k, r != NULL && lm_emit_drop_widens(e->p, r, r->stage), r,
                       NULL, e->d, "postfix cannot express %s", why);
}

/* Write the value of rule r in table PART. */
static void
postfix_value(FILE *f, const struct lm_rule *r, int part)
{
    const char *t = r->text;

    switch (r->action) {
    case LM_A_RELAY:
        fputs("OK", f);
        break;
    case LM_A_OK:
        /* a recipient's OK ends its lookup without accepting anything,
         * which is what DUNNO does there */
        fputs(part == PF_SENDER ? "OK" : part == PF_RCPT ? "DUNNO" : POSTFIX_NORELAY, f);
        break;
    case LM_A_SKIP:
        fputs("DUNNO", f);
        break;
    case LM_A_DISCARD:
        fprintf(f, "DISCARD%s%s", t ? " " : "", t ? t : "");
        break;
    case LM_A_ERROR:
        /* the server wants a text after the code */
        fprintf(f, "%u%s%s %s", r->code, r->dsn ? " " : "", r->dsn ? r->dsn : "",
                t ? t : "Access denied");
        break;
    case LM_A_REJECT: case LM_A_DENY: default:
        fprintf(f, "REJECT%s%s", t ? " " : "", t ? t : "");
        break;
    }
    fputc('\n', f);
}

/* Can the text of r be written on one table line?  Texts are the rest of
 * the line: no line breaks. */
static int
postfix_text_ok(const struct lm_rule *r)
{
    const char *s;

    for (s = r->text; s != NULL && *s; s++)
        if (*s == '\n' || *s == '\r')
            return 0;
    for (s = r->dsn; s != NULL && *s; s++)
        if ((unsigned char)*s <= ' ')
            return 0;
    return 1;
}

/* A keyed rule with what sorting needs, since qsort passes no context. */
struct postfix_ent {
    const struct lm_rule *r;
    size_t                idx;      /* position in the policy */
};

static int
postfix_bykey(const void *a, const void *b)
{
    const struct postfix_ent *x = a, *y = b;
    int c = strcmp(x->r->pattern, y->r->pattern);

    if (c == 0)
        c = (x->r->kind == LM_K_ADDR) - (y->r->kind == LM_K_ADDR);
    if (c == 0)
        c = (x->r->kind == LM_K_USER) - (y->r->kind == LM_K_USER);
    if (c != 0)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The keyed rules of STAGE as access table PART: per key the rule lm_decide
 * finds there.  The client table holds host names only. */
static int
postfix_access(struct postfix_emit *e, FILE *f, unsigned stage, int part)
{
    int client = part == PF_CLIENT;
    const struct lm_policy *p = e->p;
    struct postfix_ent *ix;
    size_t n = 0, i, j;

    if ((ix = malloc((p->nrules + 1) * sizeof *ix)) == NULL)
        return lm_diag_add(e->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        int dom = r->kind == LM_K_NAME || r->kind == LM_K_TREE || r->kind == LM_K_BELOW;
        if (!(r->stage & stage) || r->pattern == NULL)
            continue;
        if (!dom && (client || (r->kind != LM_K_ADDR && r->kind != LM_K_USER)))
            continue;
        if (r->info != NULL)
            continue;           /* reported with the connect rules */
        if (!postfix_text_ok(r)) {
            if (postfix_lose(e, LM_LOSS_DROPPED, r, "a reply text with a line break; rule "
                             "dropped") != 0)
                goto fail;
            continue;
        }
        ix[n].r = r;
        ix[n++].idx = i;
    }
    qsort(ix, n, sizeof *ix, postfix_bykey);
    for (i = 0; i < n; i = j) {
        const struct lm_rule *first = ix[i].r;
        const struct lm_rule *best0 = NULL, *best1 = NULL;
        int r0 = 0, r1 = 0, addr = first->kind == LM_K_ADDR, user = first->kind == LM_K_USER;
        for (j = i; j < n; j++) {
            const struct lm_rule *r = ix[j].r;
            int k;
            if (strcmp(r->pattern, first->pattern) != 0 || (r->kind == LM_K_ADDR) != addr ||
                (r->kind == LM_K_USER) != user)
                break;
            if ((k = lm_rule_key_rank(r, stage, 1)) >= 0 && (best0 == NULL || k < r0)) {
                best0 = r;
                r0 = k;
            }
            if (!addr && !user && (k = lm_rule_key_rank(r, stage, 0)) >= 0 &&
                (best1 == NULL || k < r1)) {
                best1 = r;
                r1 = k;
            }
        }
        if (best0 != NULL) {
            fprintf(f, "%s%s\t", first->pattern, user ? "@" : "");
            postfix_value(f, best0, part);
        }
        if (best1 != NULL) {
            fprintf(f, ".%s\t", first->pattern);
            postfix_value(f, best1, part);
        }
    }
    free(ix);
    return 0;
fail:
    free(ix);
    return -1;
}

/* One family's connect networks in the order the policy's server prefers
 * them (lm_emit_nets), so that the first match in file order is the rule
 * lm_decide finds. */
static int
postfix_cidr_family(struct postfix_emit *e, FILE *f, int family, const struct lm_rule *any)
{
    const struct lm_policy *p = e->p;
    size_t *idx = NULL, n = 0, i, k;

    if (lm_emit_nets(p, family, &idx, &n, e->d) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        const struct lm_rule *r = &p->rules[idx[i]];
        /* A DUNNO would end the first-match search; the model then falls to
         * the default, which the table holds last: write that instead. */
        const struct lm_rule *v = r->action == LM_A_SKIP && any != NULL ? any : r;
        struct lm_ipset s;
        struct lm_ipnet *nets = NULL;
        size_t nn = 0;
        char buf[LM_IPADDR_BUF];
        if (!postfix_text_ok(r))
            continue;           /* reported as a loss */
        lm_ipset_init(&s);
        if (lm_ipset_add_range(&s, &r->net.range, e->d) != 0 ||
            lm_ipset_cover_cidr(&s, &nets, &nn, e->d) != 0) {
            lm_ipset_fini(&s);
            free(idx);
            return -1;
        }
        for (k = 0; k < nn; k++) {
            fprintf(f, "%s\t", lm_ipnet_format(&nets[k], LM_FMT_CIDR, buf));
            postfix_value(f, v, PF_CIDR);
        }
        free(nets);
        lm_ipset_fini(&s);
    }
    free(idx);
    return 0;
}

static int
postfix_cidr(struct postfix_emit *e, FILE *f)
{
    const struct lm_policy *p = e->p;
    const struct lm_rule *any = NULL;
    size_t i;

    for (i = 0; i < p->nrules; i++)
        if (p->rules[i].kind == LM_K_ANY && (p->rules[i].stage & LM_S_CONNECT) &&
            p->rules[i].action != LM_A_SKIP) {
            any = &p->rules[i];
            break;
        }
    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        const char *why = NULL;
        if (!(r->stage & LM_S_CONNECT))
            continue;
        switch (r->kind) {
        case LM_K_NET:
            why = r->info != NULL ? "a client's ident (user@network); rule dropped"
                : !postfix_text_ok(r) ? "a reply text with a line break; rule dropped" : NULL;
            break;
        case LM_K_NAME: case LM_K_TREE: case LM_K_BELOW:
            why = r->info != NULL ? "a client's ident; rule dropped" : NULL;
            break;
        case LM_K_ANYHOST:
            why = "a rule for every client with a host name; rule dropped";
            break;
        case LM_K_SERVER:
            why = "a rule on the server address a client reached; rule dropped";
            break;
        case LM_K_AUTH:
            why = "a rule for authenticated clients in these tables (use "
                  "permit_sasl_authenticated); rule dropped";
            break;
        default:
            break;
        }
        if (why != NULL && postfix_lose(e, LM_LOSS_DROPPED, r, why) != 0)
            return -1;
    }
    /* IPv4 first, for the reader: the families never overlap */
    if (postfix_cidr_family(e, f, LM_IPV4, any) != 0 ||
        postfix_cidr_family(e, f, LM_IPV6, any) != 0)
        return -1;
    if (any != NULL) {
        fputs("0.0.0.0/0\t", f);
        postfix_value(f, any, PF_CIDR);
        fputs("::/0\t", f);
        postfix_value(f, any, PF_CIDR);
    }
    return 0;
}

/* Rules and policy items no table here holds. */
static int
postfix_other_losses(struct postfix_emit *e)
{
    const struct lm_policy *p = e->p;
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i];
        if ((r->stage & LM_S_FROM) && r->kind == LM_K_ANY &&
            p->order->sender != LM_SENDER_NONE &&
            postfix_lose(e, LM_LOSS_DROPPED, r, "a default for every sender in "
                         "sender_access; rule dropped") != 0)
            return -1;
        if ((r->stage & LM_S_FROM) && r->action == LM_A_RELAY &&
            r->kind != LM_K_NEVER && lm_sender_relay_grants(p, r) &&
            lm_loss_add(e->lost, LM_LOSS_CHANGED, 0, r, NULL, e->d, "postfix cannot let "
                        "a client relay because of its envelope sender; written as OK, "
                        "which does not relay") != 0)
            return -1;
        if ((r->stage & LM_S_TO) && r->kind == LM_K_ANY && p->order->rcpt_rules &&
            postfix_lose(e, LM_LOSS_DROPPED, r, "a default for every recipient in "
                         "recipient_access; rule dropped") != 0)
            return -1;
    }
    if (p->order->connect != LM_CONNECT_NAMES_FIRST) {
        /* The server looks the client's name and its parents up before its
         * address; a source that puts some networks first decides clients
         * that match both otherwise. */
        int net = 0, single = 0;
        for (i = 0; i < p->nrules; i++) {
            const struct lm_rule *r = &p->rules[i];
            if (r->kind == LM_K_NET && (r->stage & LM_S_CONNECT) && r->info == NULL) {
                net = 1;
                single |= lm_ipaddr_cmp(&r->net.range.lo, &r->net.range.hi) == 0;
            }
        }
        for (i = 0; i < p->nrules; i++) {
            const struct lm_rule *r = &p->rules[i];
            if (!(r->stage & LM_S_CONNECT) || r->info != NULL ||
                !((r->kind == LM_K_NAME && single) ||
                  ((r->kind == LM_K_TREE || r->kind == LM_K_BELOW) && net)))
                continue;
            if (postfix_lose(e, LM_LOSS_CHANGED, r, "a host-name rule that a network rule "
                             "beats for some clients: Postfix looks the client's name up "
                             "before its address") != 0)
                return -1;
        }
    }
    if (!p->order->user_last) {
        /* The server looks "user@" up after the domain: where a domain rule
         * and a local-part rule both match an address, the other one wins. */
        unsigned st, doms = 0;
        for (i = 0; i < p->nrules; i++)
            if (p->rules[i].kind == LM_K_NAME || p->rules[i].kind == LM_K_TREE ||
                p->rules[i].kind == LM_K_BELOW)
                doms |= p->rules[i].stage & (LM_S_FROM | LM_S_TO);
        for (i = 0; i < p->nrules; i++) {
            const struct lm_rule *r = &p->rules[i];
            st = r->stage & doms;
            if (r->kind == LM_K_USER && st != 0 &&
                postfix_lose(e, LM_LOSS_CHANGED, r, "a local-part rule (\"user@\") that "
                             "beats a domain rule: Postfix looks \"user@\" up after the "
                             "domain") != 0)
                return -1;
        }
    }
    for (i = 0; i < p->nlocals; i++) {
        char nb[2 * LM_IPADDR_BUF];
        if (lm_loss_add(e->lost, LM_LOSS_DROPPED, 0, NULL, &p->locals[i].pos, e->d,
                        "postfix takes its own addresses from inet_interfaces, not from "
                        "these tables; \"local %s\" dropped",
                        lm_rule_net_str(&p->locals[i].net, nb)) != 0)
            return -1;
    }
    return 0;
}

static void
postfix_domains_emit(const struct lm_policy *p, FILE *f)
{
    size_t i;

    for (i = 0; i < p->ndomains; i++) {
        const struct lm_domain *dm = &p->domains[i];
        if (dm->kind != LM_K_BELOW)
            fprintf(f, "%s\n", dm->name);
        if (dm->kind != LM_K_NAME)
            fprintf(f, ".%s\n", dm->name);
    }
}

static int
postfix_emit(const struct lm_policy *in, const char *const *opts, FILE *const *out,
             struct lm_losses *lost, struct lm_diags *d)
{
    struct postfix_emit e = { in, lost, d };
    const char *dir = lm_emit_setting(opts, "server-dir");
    const char *tt = lm_emit_setting(opts, "table-type");
    FILE *f = out[PF_MAIN];
    size_t i;

    if (dir == NULL)
        dir = "/etc/postfix/relaymap";
    for (i = 0; tt != NULL && postfix_table_types[i] != NULL; i++)
        if (strcmp(postfix_table_types[i], tt) == 0)
            break;
    if (tt == NULL) {
        tt = postfix_table_types[0];
    } else if (postfix_table_types[i] == NULL) {
        char list[64];
        size_t len = 0;
        for (i = 0; postfix_table_types[i] != NULL && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                    postfix_table_types[i]);
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "postfix output cannot name tables "
                           "of type \"%s\" (%s)", tt, list);
    }

    if (postfix_cidr(&e, out[PF_CIDR]) != 0 ||
        postfix_access(&e, out[PF_CLIENT], LM_S_CONNECT, PF_CLIENT) != 0 ||
        postfix_access(&e, out[PF_SENDER], LM_S_FROM, PF_SENDER) != 0 ||
        postfix_access(&e, out[PF_RCPT], LM_S_TO, PF_RCPT) != 0 ||
        postfix_other_losses(&e) != 0)
        return -1;
    postfix_domains_emit(in, out[PF_DOMAINS]);
    fprintf(f, "# relaymap: relay policy for Postfix, a main.cf fragment "
               "(relaymap-formats(5)).\n"
               "# Add these settings to main.cf; compile the access tables first:\n"
               "#   postmap %s:%s/client_access\n"
               "#   postmap %s:%s/sender_access\n"
               "#   postmap %s:%s/recipient_access\n"
               "# Relaying is decided by the tables below, not by mynetworks:\n"
               "# permit_mynetworks is deliberately left out.  The tables rely on\n"
               "# smtpd_access_maps and relay_domains being absent from\n"
               "# parent_domain_matches_subdomains: \"example.com\" matches that name\n"
               "# only, \".example.com\" the names below it.  Merge\n"
               "# smtpd_restriction_classes with any classes main.cf already has.\n",
            tt, dir, tt, dir, tt, dir);
    fprintf(f, "parent_domain_matches_subdomains = " POSTFIX_PARENT "\n");
    fprintf(f, "relay_domains = %s/relay_domains\n", dir);
    fprintf(f, "smtpd_restriction_classes = " POSTFIX_NORELAY "\n");
    fprintf(f, POSTFIX_NORELAY " = check_recipient_access %s:%s/recipient_access,\n"
               "    reject_unauth_destination, permit\n", tt, dir);
    fprintf(f, "smtpd_relay_restrictions = check_client_access %s:%s/client_access,\n"
               "    check_client_access cidr:%s/relay_clients.cidr,\n"
               "    check_recipient_access %s:%s/recipient_access,\n"
               "    reject_unauth_destination\n", tt, dir, dir, tt, dir);
    fprintf(f, "smtpd_sender_restrictions = check_sender_access %s:%s/sender_access\n",
            tt, dir);
    fprintf(f, "smtpd_recipient_restrictions = check_recipient_access %s:%s/recipient_access\n",
            tt, dir);
    return 0;
}

static int
postfix_detect(const char *name, const char *text, size_t len)
{
    static const char *const marks[] = {
        "smtpd_relay_restrictions", "check_client_access", "parent_domain_matches_subdomains",
        NULL };
    size_t k;
    int part = lm_codec_part(&lm_codec_postfix, name);

    for (k = 0; marks[k] != NULL; k++)
        if (lm_text_has(text, len, marks[k]))
            return LM_DETECT_SURE;
    if (part == PF_MAIN || part == PF_CIDR)
        return LM_DETECT_SURE;
    if (part >= 0)
        return LM_DETECT_LIKELY;
    return LM_DETECT_NO;
}

const struct lm_codec lm_codec_postfix = {
    .name = "postfix",
    .description = "Postfix main.cf fragment, cidr client table, access tables, "
                   "relay_domains",
    .caps = LM_CODEC_PARSE | LM_CODEC_EMIT,
    .order = &postfix_order,
    .outputs = postfix_outputs,
    .detect = postfix_detect,
    .parse = postfix_parse,
    .emit = postfix_emit,
    .settings = postfix_settings,
};
