/*
 * pindex.h - private to libmap: the policy index and the lookups lm_decide()
 * makes, split by the part of the query each one reads.
 *
 * lm_decide() is written as lookups ("atoms") followed by pure combining
 * steps: the client's atoms (address, host name, ident) give the connect
 * outcome, an address's atoms (whole address, local part, domain) give the
 * sender and recipient outcomes, and the three outcomes give the verdict.
 * The combining steps read a rule only through pindex_code() (its action
 * and whether it is tagged for the stage asked), so two inputs whose atoms
 * have equal codes are decided alike.  lm_verify (verify.c) relies on
 * exactly that to compare two policies on every class of input instead of
 * on samples.  Every lookup decide makes must be one of these atoms.
 */
#ifndef LIBMAP_PINDEX_H
#define LIBMAP_PINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "libmap/policy.h"

/* Rule, domain and entry numbers are 32 bits wide: a million-rule policy's
 * index then fits twice as many entries in the cache (pindex_build refuses
 * more than PINDEX_MAX keys or rules). */
#define PINDEX_NONE UINT32_MAX
#define PINDEX_MAX  (UINT32_MAX - 1)

/* A network segment and the rule that wins on it (PINDEX_NONE: no rule
 * there).  It runs from lo to the next segment's lo, or to the end of its
 * family's space: the segments tile every span the networks touch, so
 * the end need not be stored. */
struct pindex_seg {
    struct lm_ipaddr lo;
    uint32_t rule;
};

/* Hash chain entry: a rule (or accepted domain) under its key.  The rule's
 * kind, stages and whether it has ident info are copied here, so that a
 * lookup ranks the candidates of a chain without reading the rules. */
struct pindex_hent {
    const char *key;
    uint32_t    len;
    uint32_t    idx;    /* rule or domain index */
    uint32_t    next;   /* next entry in the chain, PINDEX_NONE at the end */
    uint32_t    hash;   /* low bits of the key's hash: a chain is walked
                           without touching the keys of other names */
    char        cls;    /* 'd' domain rule, 'a' address, 'u' user, 'D' accepted domain */
    unsigned char kind;     /* the rule's lm_kind (or the domain's) */
    unsigned char stage;    /* the rule's LM_S_* bits */
    unsigned char info;     /* the rule has ident info */
};

struct lm_pindex {
    struct pindex_seg  *segs;   /* connect networks, info-less rules, sorted */
    size_t              nsegs;
    struct pindex_hent *ents;
    size_t              nents;
    uint32_t           *buckets;
    size_t              nbuckets;  /* power of two */
    size_t             *special;   /* ANY, ANYHOST and info rules, in order */
    size_t              nspecial;
    unsigned            stages_d, stages_a, stages_u;  /* stages with keyed rules
                                                          of each class, to skip
                                                          lookups that cannot hit */
    unsigned char       relay_stages[LM_S_ANY + 1]; /* 1 + whether some RELAY rule is
                                                       looked up at a stage of the mask
                                                       (lm_emit_drop_widens); 0 unknown */
};

/* lm_rule_key_rank of a rule given by its kind, stages and whether it has
 * ident info: what a hash entry keeps of its rule. */
static inline int
pindex_key_rank(unsigned kind, unsigned rstage, int info, unsigned stage, int level0)
{
    if (!(rstage & stage) || info)
        return -1;
    if (kind == LM_K_NAME || kind == LM_K_TREE || kind == LM_K_BELOW) {
        if (level0 ? kind == LM_K_BELOW : kind == LM_K_NAME)
            return -1;
        return ((!level0 && kind == LM_K_TREE) ? 2 : 0) + (rstage != stage);
    }
    return rstage != stage;
}

/* FNV-1a over a class byte and the key (policy.c, shared with the index). */
uint64_t pindex_hash(char cls, const char *s, size_t len);

struct lm_pindex *pindex_build(const struct lm_policy *p);
int pindex_relay_at(const struct lm_policy *p, unsigned stages);
void pindex_free(struct lm_pindex *ix);

/* A policy and the index its lookups use. */
struct pindex_ctx {
    const struct lm_policy *p;
    const struct lm_pindex *ix;
};

/* --- atoms: what the lookups find; SKIP rules are kept where the combining
 * step must tell "SKIP" from "nothing". */

struct pindex_ipatoms {                 /* the client address (and ident) */
    const struct lm_rule *net;          /* the network that wins, SKIP kept */
    const struct lm_rule *infonet;      /* first non-SKIP "info@net" rule */
    unsigned char single;               /* net is one address */
    unsigned char builtin;              /* loopback (or no address): the
                                           server's own clients */
};

struct pindex_hostatoms {               /* the client host name (and ident) */
    unsigned char has;                  /* a host name is known */
    const struct lm_rule *whole;        /* the name, then its parents */
    const struct lm_rule *exact;        /* the name alone */
    const struct lm_rule *parents;      /* its parents, longest first */
    const struct lm_rule *infohost;     /* "info@=host" */
};

struct pindex_srvatoms {                /* the server address, authentication */
    const struct lm_rule *server;       /* first non-SKIP SERVER rule */
    const struct lm_rule *auth;         /* first non-SKIP AUTH rule, if
                                           the client authenticated */
};

struct pindex_useratoms {               /* the local part of an address */
    const struct lm_rule *from, *to;
};

struct pindex_domatoms {                /* the domain of an address */
    const struct lm_rule *from, *to;    /* the domain, then its parents */
    const struct lm_rule *exact_from;   /* the domain alone, NAME, non-SKIP */
    const struct lm_domain *accepted;
    unsigned char literal;              /* "[one of our addresses]" */
};

/* A stage's outcome: a small code, and what decided it. */
enum pindex_code {
    PX_PASS = 0,        /* nothing decided at this stage */
    PX_RELAY,           /* connect/from: the client may relay */
    PX_BUILTIN,         /* connect: the server's own client relays */
    PX_REFUSE,          /* refused by a rule */
    PX_DENY,            /* connection refused */
    PX_DISCARD,
    PX_LOCAL,           /* to: no recipient, or one without a domain */
    PX_ACCEPT_RULE,     /* to: a RELAY rule accepts it */
    PX_ACCEPT_DOMAIN,   /* to: an accepted domain */
    PX_ACCEPT_LITERAL,  /* to: one of our addresses */
    PX_NEEDRELAY        /* to: accepted only if the client may relay */
};

struct pindex_outcome {
    enum pindex_code        code;
    const struct lm_rule   *rule;
    const struct lm_domain *domain;
};

/* A rule as the combining steps see it at STAGE: 0 for none, else its
 * action, plus 8 when it is tagged for exactly that stage. */
unsigned pindex_code(const struct lm_rule *r, unsigned stage);

void pindex_ip_atoms(const struct pindex_ctx *c, const struct lm_ipaddr *ip,
                     const char *info, struct pindex_ipatoms *a);
void pindex_host_atoms(const struct pindex_ctx *c, const char *host, const char *info,
                       struct pindex_hostatoms *a);
void pindex_srv_atoms(const struct pindex_ctx *c, const struct lm_ipaddr *server, int auth,
                      struct pindex_srvatoms *a);
void pindex_user_atoms(const struct pindex_ctx *c, const char *user, size_t len,
                       struct pindex_useratoms *a);
void pindex_dom_atoms(const struct pindex_ctx *c, const char *dom,
                      struct pindex_domatoms *a);
/* The whole address "user@domain" at STAGE, SKIP kept. */
const struct lm_rule *pindex_whole(const struct pindex_ctx *c, const char *addr,
                                   unsigned stage);
/* pindex_whole at LM_S_FROM and at LM_S_TO, in one lookup. */
void pindex_whole_both(const struct pindex_ctx *c, const char *addr,
                       const struct lm_rule **from, const struct lm_rule **to);

void pindex_connect(const struct pindex_ctx *c, const struct pindex_ipatoms *ip,
                    const struct pindex_hostatoms *host, const struct pindex_srvatoms *srv,
                    struct pindex_outcome *o);
/* has_at: the address has an "@"; whole: pindex_whole at LM_S_FROM. */
void pindex_from(const struct pindex_ctx *c, int has_at, const struct lm_rule *whole,
                 const struct pindex_useratoms *u, const struct pindex_domatoms *dm,
                 struct pindex_outcome *o);
/* has_at 0 also for no recipient; whole: pindex_whole at LM_S_TO. */
void pindex_to(const struct pindex_ctx *c, int has_at, const struct lm_rule *whole,
               const struct pindex_useratoms *u, const struct pindex_domatoms *dm,
               struct pindex_outcome *o);
/* The verdict from the three outcomes (from is PX_PASS without a sender). */
void pindex_verdict(const struct lm_policy *p, const struct pindex_outcome *conn,
                    const struct pindex_outcome *from, const struct pindex_outcome *to,
                    int have_rcpt, struct lm_verdict *v);

/* The winning connect network rule for ip (SKIP kept), or NULL. */
const struct lm_rule *pindex_net(const struct pindex_ctx *c, const struct lm_ipaddr *ip);

/* The first rule keyed by NAME or a parent domain at STAGE, from level
 * FROM_LEVEL (0 = the name itself), only level 0 with ONLY_LEVEL0; SKIP
 * kept.  NULL when none. */
const struct lm_rule *pindex_chain(const struct pindex_ctx *c, const char *name,
                                   unsigned stage, int from_level, int only_level0);

int pindex_is_connect_net(const struct lm_rule *r);

/* Width of a network (hi - lo) as 16 big-endian bytes. */
void pindex_width(const struct lm_iprange *r, unsigned char w[16]);

#endif
