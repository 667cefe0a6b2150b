/*
 * emit.h - the emitter toolkit: what every policy emitter needs and must
 * not write again, read from the source policy's order (struct lm_order)
 * and never from a format's name.  Private to the library and its codecs
 * (not installed, not exported).
 */
#ifndef LIBMAP_EMIT_H
#define LIBMAP_EMIT_H

#include <stddef.h>

#include "libmap/diag.h"
#include "libmap/policy.h"

/*
 * The connect network rules of P for clients of FAMILY (LM_IPV4 or
 * LM_IPV6; ident rules left out), as indices into p->rules, in the order
 * P's server prefers them when several hold an address (lm_order.nets: the
 * narrowest first, file order, or refusing rules first; then a rule tagged
 * for the connect stage before an untagged one, then the earlier).
 * Painting them in this order (lm_ipset_paint) gives every address the
 * rule P decides it with.  *idx is malloc'd (NULL when *n is 0; the caller
 * frees it).  Returns 0, or -1 with LM_E_NOMEM.
 */
int lm_emit_nets(const struct lm_policy *p, int family, size_t **idx, size_t *n,
                 struct lm_diags *d);

/*
 * The same networks ready for lm_ipset_paint: (*rg)[front + k] is the range
 * of the k-th of the *n networks and (*val)[front + k] the number VALUE
 * gives its rule (the target's value, interned by the caller); the first
 * FRONT slots are left to the caller.  *rg and *val are malloc'd, the
 * caller frees them.  Returns 0, or -1 with LM_E_NOMEM.
 */
int lm_emit_net_values(const struct lm_policy *p, int family, size_t front,
                       size_t (*value)(void *arg, const struct lm_rule *r), void *arg,
                       struct lm_iprange **rg, size_t **val, size_t *n, struct lm_diags *d);

/*
 * P's connect networks over all of FAMILY, as P's server ranks them
 * (lm_emit_nets): sorted, disjoint intervals whose val is 1 + the index of
 * the rule that decides there (a SKIP rule included), 0 where no network
 * holds the address.  *out is malloc'd (the caller frees it).  0, or -1
 * with LM_E_NOMEM.
 */
struct lm_cover_iv;
int lm_emit_paint(const struct lm_policy *p, int family, struct lm_cover_iv **out, size_t *n,
                  struct lm_diags *d);

/*
 * Would leaving out the STAGES part of rule r let in something P refuses?
 * A refusal that goes lets its clients or mail through; an OK, DISCARD or
 * SKIP that goes can only uncover a RELAY of the same stage (or, for
 * recipients, an accepted domain).  A quick per-rule note for loss
 * messages: whether an output really widens is decided exactly by
 * lm_verify.
 */
int lm_emit_drop_widens(const struct lm_policy *p, const struct lm_rule *r, unsigned stages);

/*
 * Put the networks NETS[0..n) of a target's list in the order to write
 * them: a network that is exactly the range of a connect rule of KIND
 * (LM_K_NET, LM_K_SERVER; no ident) that relays (RELAY nonzero) or does not
 * (RELAY zero) comes at the place of the earliest such rule in file order,
 * so that a list read from the target and written again keeps its order;
 * the rest follow in address order.  Sorts NETS in place.  Returns 0, or
 * -1 with LM_E_NOMEM.
 */
int lm_emit_order_nets(const struct lm_policy *p, enum lm_kind kind, int relay,
                       struct lm_ipnet *nets, size_t n, struct lm_diags *d);

/*
 * The connect rules whose order a target changes: where the target asks a
 * client's host name and its address in another order than P's server, a
 * host-name rule (name, domain, subdomains; no ident) and a network rule
 * of FAMILY (0: both) that can hold the same client (an exact name meets
 * only single addresses; the loopback addresses, which servers name
 * themselves, left out) decide that client differently when the target
 * writes them with different values.  VALUE gives the value the target
 * writes for a rule as a malloc'd string (NULL: out of memory).  For each
 * name rule with such a network, CONFLICT is called once, with the first
 * such network in file order; each name is checked in constant time.
 * Returns 0, or -1 with LM_E_NOMEM.
 */
struct lm_emit_conflicts {
    int    family;
    char *(*value)(void *arg, const struct lm_rule *r);
    void  (*conflict)(void *arg, const struct lm_rule *name, const struct lm_rule *net);
    void  *arg;
};
int lm_emit_name_net_conflicts(const struct lm_policy *p, const struct lm_emit_conflicts *c,
                               struct lm_diags *d);

/*
 * How much action A lets through, to tell whether a changed action widens:
 * 1 refuses (and, with DISCARD_STOPS, DISCARD), 2 accepts, 3 relays.
 */
int lm_emit_action_rank(enum lm_action a, int discard_stops);

/*
 * The value of setting NAME in OPTS, a NULL-terminated list of
 * "name=value" strings (lm_codec.emit), or NULL when OPTS has none (the
 * last one given wins).
 */
const char *lm_emit_setting(const char *const *opts, const char *name);

#endif
