/*
 * policy.h - the relay policy model shared by every codec, and decide().
 *
 * A policy is what a relay configuration says, in one format-neutral shape:
 * rules (subject, stage, action, qmail-style environment, origin), the
 * domains we accept mail for, the server's own addresses, and the matching
 * order of the format it came from.  Parsers record what a file says without
 * deciding anything; lm_decide() answers "may this client send this mail"
 * the way the real server would; emitters and lm_verify (convert.h) handle
 * the differences between formats.
 *
 * Why the policy keeps its format's matching order (lm_order) instead of
 * normalising everything to one order at parse time: the orders disagree
 * only where rules of different classes overlap (a host-name rule and an
 * address rule that both match one client; a tagged and an untagged
 * Sendmail key; duplicate keys).  Rewriting a Sendmail map into "neutral"
 * order at parse time would need rule splitting that the user never wrote and
 * could not recognise in messages.  Keeping the order beside the rules lets
 * every rule stay one line of its source file, lets decide() be checked
 * against the real tools, and leaves the differences to the one place that
 * must prove them away anyway: verification by decide() on both sides.
 *
 * Ownership: a policy owns everything in it.  Strings passed to the add
 * functions are copied (a rule's strings into an arena the policy frees as
 * a whole: do not free or realloc them one by one).  Pointers to rules stay valid until the next rule is
 * added.  File names in positions are interned copies owned by the policy.
 */
#ifndef LIBMAP_POLICY_H
#define LIBMAP_POLICY_H

#include <stddef.h>

#include "libmap/diag.h"
#include "libmap/ipset.h"

/* --- subjects ------------------------------------------------------------ */

enum lm_kind {
    LM_K_NET = 1,   /* an IPv4 or IPv6 address interval (net below) */
    LM_K_NAME,      /* exactly this name: a client host name, or the domain of
                       an address (qmail "=host", rcpthosts "example.com") */
    LM_K_TREE,      /* this domain and every name below it (Sendmail
                       "example.com", "To:example.com") */
    LM_K_BELOW,     /* only names strictly below this domain (qmail
                       "=.example.com", rcpthosts ".example.com", Sendmail
                       ".example.com" with lookupdotdomain) */
    LM_K_ADDR,      /* a full mail address "user@domain" (pattern) */
    LM_K_USER,      /* a local part in any domain: "user@" (pattern "user") */
    LM_K_ANYHOST,   /* any client that has a host name (qmail "=") */
    LM_K_ANY,       /* every client / address: the policy default (qmail "") */
    LM_K_SERVER,    /* the client connected to one of these server
                       addresses (net below; Exchange RelayLocalIPList) */
    LM_K_AUTH,      /* an authenticated client (SMTP AUTH) */
    LM_K_NEVER      /* a key the format stores but no input can ever match
                       (Sendmail "10.0.0.0/8", tcp.smtp "172.16.5" without
                       the final dot); kept only so lint and emitters can
                       name it.  decide() ignores it. */
};

/* How an LM_K_NET subject was written, so emitters and messages can keep
 * the user's form.  The interval [lo, hi] is what counts. */
enum lm_netform {
    LM_NF_CIDR = 0,     /* a.b.c.d/len, or a single address (/32, /128) */
    LM_NF_PREFIX,       /* whole-octet prefix: Sendmail "10.1", tcp.smtp "10.1." */
    LM_NF_RANGE,        /* last-octet or general range "a.b.c.x-y" */
    LM_NF_MASK          /* "net;mask" (Exchange) */
};

/* A rule's network: the interval is what counts; form and prefix only keep
 * the user's notation for emitters and messages.  Byte-sized fields keep a
 * million-rule policy small. */
struct lm_rule_net {
    struct lm_iprange range;    /* inclusive, one family (ipset.h) */
    unsigned char     form;     /* enum lm_netform */
    unsigned char     prefix;   /* prefix length for the CIDR and PREFIX forms */
};

/* --- stages and actions ---------------------------------------------------- */

/* Stages are bits: an untagged Sendmail key applies at all three. */
#define LM_S_CONNECT 0x1   /* client address / host name */
#define LM_S_FROM    0x2   /* envelope sender */
#define LM_S_TO      0x4   /* envelope recipient */
#define LM_S_ANY     (LM_S_CONNECT | LM_S_FROM | LM_S_TO)

enum lm_action {
    LM_A_RELAY = 1,  /* connect: the client may relay; from: the sender may
                        relay; to: mail for this recipient is accepted */
    LM_A_OK,         /* accept at this stage; never grants relaying */
    LM_A_REJECT,     /* refuse with the format's generic message */
    LM_A_DISCARD,    /* accept and throw the mail away */
    LM_A_ERROR,      /* refuse with code, dsn and text */
    LM_A_DENY,       /* refuse the connection itself (tcp.smtp "deny") */
    LM_A_SKIP        /* stop looking at wider keys of this kind (Sendmail SKIP) */
};

/* One qmail-style environment setting (tcp.smtp ",NAME="value""). */
struct lm_kv {
    char *name;     /* owned */
    char *value;    /* owned; "" for an empty value */
};

/* A rule: 112 bytes on LP64 (pointers first, byte-sized enums last), since
 * a provider's policy holds a million of them, twice during a conversion. */
struct lm_rule {
    char           *pattern;    /* NAME/TREE/BELOW: lower-case domain without
                                   leading dot; ADDR: "user@domain" lower-case;
                                   USER: the local part; NEVER: the raw key;
                                   NULL otherwise.  Owned. */
    char           *info;       /* qmail TCPREMOTEINFO part of "info@ip", or
                                   NULL.  Owned. */
    char           *dsn;        /* LM_A_ERROR: "5.7.1" or NULL.  Owned. */
    char           *text;       /* reply text or NULL.  Owned. */
    struct lm_kv   *env;        /* owned array of nenv settings */
    struct lm_pos   pos;        /* origin; pos.file is interned in the policy */
    struct lm_rule_net net;     /* LM_K_NET and LM_K_SERVER only */
    unsigned char   kind;       /* enum lm_kind */
    unsigned char   stage;      /* LM_S_* bits, never 0 */
    unsigned char   action;     /* enum lm_action */
    unsigned short  code;       /* LM_A_ERROR: SMTP code (e.g. 550), else 0 */
    unsigned        nenv;
};

/* --- the policy -------------------------------------------------------------- */

struct lm_pindex;
struct lm_pchunk;

/*
 * A server's lookup order, as data.  Each format's file (formats/NAME.c)
 * defines one for the server it configures; lm_decide(), lint and
 * verification read these properties and never ask which format a policy
 * came from.  A new server with a new property adds a field here and its
 * meaning to lm_decide(), never a test of a format's name.
 */
enum lm_connect_order {
    LM_CONNECT_NAMES_FIRST = 1, /* the host name and its parent domains, then
                                   the narrowest network (Sendmail) */
    LM_CONNECT_EXACT_FIRST      /* ident rules, the exact address, the exact
                                   name, the narrowest network, the name's
                                   parent domains longest first, any named
                                   client, anyone (tcpserver) */
};

enum lm_net_match {
    LM_NET_NARROWEST = 0,       /* the narrowest network containing the
                                   client decides (stage-tagged, then earlier,
                                   on a tie) */
    LM_NET_FIRST,               /* the first network in file order decides */
    LM_NET_REFUSE_FIRST         /* a network that does not let the client
                                   relay wins over one that does, then the
                                   narrowest (Exchange: deny list first) */
};

enum lm_sender_rules {
    LM_SENDER_NONE = 0,         /* the envelope sender is not looked up */
    LM_SENDER_EXACT,            /* the whole address, then "@domain" exactly
                                   (qmail badmailfrom); a hit refuses */
    LM_SENDER_ACCESS            /* the address, "user@", the domain and its
                                   parents, then the default */
};

enum lm_sender_relay {
    LM_SENDER_RELAY_NEVER = 0,  /* a sender rule never grants relaying */
    LM_SENDER_RELAY_TAGGED,     /* only a From:-tagged RELAY, and only with
                                   LM_P_RELAY_MAIL_FROM */
    LM_SENDER_RELAY_ALWAYS      /* any sender RELAY lets the client relay */
};

struct lm_order {
    const char            *name;        /* the format's name, for messages and
                                           the neutral file's "order" line */
    enum lm_connect_order  connect;
    enum lm_net_match      nets;
    enum lm_sender_rules   sender;
    enum lm_sender_relay   sender_relay;
    unsigned               rcpt_rules;  /* recipient rules (address, "user@",
                                           domain) come before the accepted
                                           domains */
    unsigned               loopback_relays; /* the server itself lets 127.0.0.1,
                                           ::1 (and mail submitted without a
                                           client address) relay, whatever
                                           the rules say, unless
                                           LM_P_NO_LOOPBACK */
    const char            *refused;     /* why a recipient is refused when
                                           nothing lets the client relay */
    unsigned               user_last;   /* LM_SENDER_ACCESS and recipient
                                           rules: "user@" is looked up after
                                           the domain and its parents, not
                                           before them (Postfix access(5)) */
};

/* The policy model's own order, most specific first everywhere: the order of
 * the neutral policy file and of a new policy. */
extern const struct lm_order lm_order_most_specific;

/* A domain we accept mail for (qmail rcpthosts, Sendmail To:dom RELAY or
 * class w, antirelay ARdomain.dat). */
struct lm_domain {
    char         *name;     /* lower case, no leading dot; owned */
    enum lm_kind  kind;     /* LM_K_NAME, LM_K_TREE or LM_K_BELOW */
    struct lm_pos pos;
};

/* One of the server's own addresses (a mail to user@[addr] is local). */
struct lm_local {
    struct lm_rule_net net;
    struct lm_pos      pos;
};

/* lm_policy.flags */
#define LM_P_RELAY_MAIL_FROM 0x01  /* Sendmail order: From:-tagged RELAY keys
                                      grant relaying (FEATURE relay_mail_from) */
#define LM_P_NO_LOOPBACK     0x02  /* Sendmail order: do not let the loopback
                                      address relay by default */

struct lm_policy {
    const struct lm_order *order;   /* never NULL; borrowed (a constant) */
    unsigned          flags;    /* LM_P_* */
    struct lm_rule   *rules;    /* in source order */
    size_t            nrules, caprules;
    struct lm_domain *domains;
    size_t            ndomains, capdomains;
    size_t           *domset;   /* private: hash of domains (index + 1) */
    size_t            ndomset;
    struct lm_local  *locals;
    size_t            nlocals, caplocals;
    char            **files;    /* interned file names */
    size_t            nfiles;
    struct lm_pindex *index;    /* private: lm_policy_index(), or NULL */
    struct lm_pchunk *strings;  /* private: the rules' strings */
};

/* A new empty policy (lm_order_most_specific), or NULL with LM_E_NOMEM. */
struct lm_policy *lm_policy_new(struct lm_diags *d);

/* Build the lookup index lm_decide uses (sorted networks, hashed names).
 * Call it after the last rule is added; any later add drops the index
 * again.  0, or -1 with LM_E_NOMEM (decide then scans). */
int lm_policy_index(struct lm_policy *p, struct lm_diags *d);

/* Free the policy and everything it owns.  NULL is fine. */
void lm_policy_free(struct lm_policy *p);

/* An interned copy of NAME owned by the policy (for lm_pos.file); NULL when
 * out of memory. */
const char *lm_policy_file(struct lm_policy *p, const char *name);

/* Append a copy of *r (strings, env and the position's file name are copied;
 * r keeps its own).  Returns the policy's copy, valid until the next add, or
 * NULL with LM_E_NOMEM.  Checks nothing: parsers validate first. */
struct lm_rule *lm_policy_add(struct lm_policy *p, const struct lm_rule *r,
                              struct lm_diags *d);

/* Add a setting to a rule (copies both strings).  0 or -1 (LM_E_NOMEM). */
int lm_rule_setenv(struct lm_rule *r, const char *name, const char *value,
                   struct lm_diags *d);

/* The value of setting NAME on r (borrowed), or NULL. */
const char *lm_rule_getenv(const struct lm_rule *r, const char *name);

/* Add an accepted domain (name without leading dot; folded to lower case).
 * Returns 0 when added; LM_EXISTS, adding nothing, when the policy already
 * accepts that name with that kind (a repeat changes nothing; the parser
 * decides whether to warn, lm_policy_domain finds the first); -1 with
 * LM_E_NOMEM.  O(1) per call (hashed). */
int lm_policy_add_domain(struct lm_policy *p, const char *name, enum lm_kind kind,
                         const struct lm_pos *pos, struct lm_diags *d);

/* The accepted domain NAME (lower case) of that kind, or NULL. */
const struct lm_domain *lm_policy_domain(const struct lm_policy *p, const char *name,
                                         enum lm_kind kind);

/* Add one of the server's own addresses (an interval). */
int lm_policy_add_local(struct lm_policy *p, const struct lm_rule_net *net,
                        const struct lm_pos *pos, struct lm_diags *d);

/* Release what a stack rule built by a parser owns (not the rule itself). */
void lm_rule_fini(struct lm_rule *r);

/* The rule as one line of the neutral policy file ("connect 10.0.0.0/8
 * relay"), malloc'd; NULL when out of memory. */
char *lm_rule_str(const struct lm_rule *r);

/* The rank of a keyed rule found under a key at STAGE, as every lookup
 * ranks candidates: at a parent level (level0 0) ".x" (BELOW) before a
 * domain (TREE), a NAME only at the name itself, then a rule tagged for
 * exactly STAGE before one that covers several.  Lower wins; -1 when the
 * rule does not apply there (other stage, an ident rule). */
int lm_rule_key_rank(const struct lm_rule *r, unsigned stage, int level0);

/* Does action A refuse (REJECT, ERROR, DENY)?  Does it stop the mail
 * (refuses, or DISCARD)? */
int lm_action_refuses(enum lm_action a);
int lm_action_stops(enum lm_action a);

/* Names for messages and the neutral file: "relay", "connect", "to"... */
const char *lm_action_name(enum lm_action a);
const char *lm_stage_name(unsigned stage);       /* "connect", "from", "to", "any" */
const char *lm_order_name(const struct lm_order *o);

/* The network as text: a CIDR when it is one, else "lo-hi" (ipset.h
 * formats).  buf must hold LM_IPADDR_BUF * 2 bytes.  Returns buf. */
char *lm_rule_net_str(const struct lm_rule_net *n, char *buf);

/* --- decide ------------------------------------------------------------------ */

/* One SMTP transaction to judge.  Any of the strings may be NULL (unknown
 * host name, no ident info, null sender "<>" is ""). */
struct lm_query {
    struct lm_ipaddr ip;        /* client address; family 0 = unknown */
    const char      *host;      /* client host name from reverse DNS */
    const char      *info;      /* ident user (TCPREMOTEINFO) */
    const char      *sender;    /* envelope sender address */
    const char      *rcpt;      /* envelope recipient address */
    struct lm_ipaddr server;    /* the server address the client connected
                                   to; family 0 = unknown */
    int              auth;      /* the client authenticated (SMTP AUTH) */
};

/* Outcome of a transaction, from the most to the least permissive. */
enum lm_verdict_kind {
    LM_V_RELAY = 1, /* recipient accepted although not ours: relayed */
    LM_V_ACCEPT,    /* recipient accepted as ours (domain, local address,
                       unqualified local part) */
    LM_V_DISCARD,   /* accepted and silently thrown away */
    LM_V_REFUSE,    /* recipient refused: relaying denied / not in rcpthosts */
    LM_V_REJECT,    /* refused by a rule (REJECT, ERROR) at some stage */
    LM_V_DENY       /* connection refused (tcp.smtp deny) */
};

struct lm_verdict {
    enum lm_verdict_kind  kind;
    unsigned              stage;    /* LM_S_* where it was decided */
    const struct lm_rule *rule;     /* the rule that decided, NULL if none */
    const struct lm_rule *relay;    /* for LM_V_RELAY: the rule that let the
                                       client relay, NULL for built-in ones */
    const struct lm_domain *domain; /* for LM_V_ACCEPT by accepted domain */
    const char           *why;      /* static text: "loopback client",
                                       "no rule lets this client relay", ... */
};

/*
 * lm_decide - judge one transaction with the policy's matching order.
 *
 * The lookup at each stage is "first hit wins" over a candidate sequence;
 * a SKIP hit ends that sequence as if nothing had matched.  Candidates at
 * one level: the stage-specific rule (LM_S_CONNECT, "Connect:") before an
 * all-stages rule (untagged), then the earlier rule in the file.
 *
 * The stages, each read from the policy's order (struct lm_order):
 *   connect: LM_CONNECT_NAMES_FIRST: the client host name and its parent
 *     domains (NAME matches the full host only; TREE at every level; BELOW
 *     at parent levels), then the client address's network.
 *     LM_CONNECT_EXACT_FIRST: "info@ip", "info@=host", the exact address (a
 *     one-address network), "=host" (NAME), the client's network,
 *     BELOW/TREE suffixes of the host, longest first.  Both then try the
 *     server address the client connected to (SERVER), an authenticated
 *     client (AUTH), "=" (ANYHOST) and "" (ANY).  The network is the narrowest one containing
 *     the address, or the first in file order (lm_order.nets).  REJECT,
 *     ERROR, DENY refuse; DISCARD discards; RELAY lets the client relay; OK
 *     ends the connect checks.  With loopback_relays, 127.0.0.1 and ::1
 *     relay although no rule says so (the server's own business).
 *   from: LM_SENDER_ACCESS: the sender "user@domain" (ADDR), "user@"
 *     (USER), then the domain and its parents, then the default; with
 *     user_last the domain and its parents come before "user@".
 *     LM_SENDER_EXACT: the whole sender, then the domain after its last "@"
 *     (NAME, exact).  REJECT/ERROR refuse, DISCARD discards; RELAY lets the
 *     client relay as lm_order.sender_relay says.  OK never grants relaying.
 *   to: a recipient without "@" is local (ACCEPT).  With rcpt_rules, the
 *     recipient address, "user@", domain and parents: REJECT/ERROR/DISCARD
 *     as above, RELAY accepts mail for that recipient.  Then accepted
 *     domains (NAME exact, BELOW strictly below, TREE both) and "[local
 *     address]" literals: ACCEPT.  Then, if the client may relay: RELAY.
 *     Otherwise REFUSE (lm_order.refused says why).
 * Each stage depends on its own part of the query only (client address,
 * host name and ident; sender; recipient), and the verdict on the three
 * stage outcomes only: lm_verify relies on that to decide equivalence
 * exactly.
 *
 * Returns 0 and fills *v.  Never fails: a missing address, host or sender
 * just skips the lookups that need it.  With an index (lm_policy_index)
 * each call costs O(log n + length of the names); without one it scans
 * every rule, which is fine for a handful of queries.
 */
int lm_decide(const struct lm_policy *p, const struct lm_query *q,
              struct lm_verdict *v);

/* Warnings about P (LM_WARNING diagnostics at each rule's position): network
 * rules that never decide (shadowed by
 * narrower or earlier ones), duplicate and conflicting keys, RELAY for very
 * wide or public networks or for every client, RELAY granted by host name
 * or by the envelope sender (both under the client's control).  Returns
 * the number of warnings.  Linear in the number of rules after indexing.
 * Keys that can never match (LM_K_NEVER) are reported by the parsers, with
 * the format's reason, not here. */
size_t lm_lint(const struct lm_policy *p, struct lm_diags *d);

/* One-word names for reports and JSON: "relay", "accept", "discard",
 * "refuse", "reject", "deny". */
const char *lm_verdict_name(enum lm_verdict_kind k);

/* Short names for messages: "relays", "accepts", "discards", "refuses"... */
const char *lm_verdict_verb(enum lm_verdict_kind k);

/* Do two verdicts count as the same for verification?  RELAY, ACCEPT and
 * DISCARD must match exactly; REFUSE, REJECT and DENY all count as
 * "refused" (formats differ in where they can refuse). */
int lm_verdict_same(enum lm_verdict_kind a, enum lm_verdict_kind b);

/* Is b wider than a: does b accept (relay, accept, discard) where a
 * refuses, or relay where a does not? */
int lm_verdict_wider(enum lm_verdict_kind a, enum lm_verdict_kind b);

/* Does rule r, a RELAY that applies to senders, let the client relay in
 * P's order (lm_order.sender_relay and LM_P_RELAY_MAIL_FROM)? */
int lm_sender_relay_grants(const struct lm_policy *p, const struct lm_rule *r);

/* Does P's server let its loopback clients relay by itself
 * (lm_order.loopback_relays, unless LM_P_NO_LOOPBACK)? */
int lm_policy_loopback_relays(const struct lm_policy *p);

/* The rule of KIND that applies at STAGE: one tagged for exactly that stage
 * before one that covers several, then the earlier; SKIP rules are passed
 * over.  NULL if none. */
const struct lm_rule *lm_policy_first(const struct lm_policy *p, enum lm_kind kind,
                                      unsigned stage);

#endif
