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
 * The value of setting NAME in OPTS, a NULL-terminated list of
 * "name=value" strings (lm_codec.emit), or NULL when OPTS has none (the
 * last one given wins).
 */
const char *lm_emit_setting(const char *const *opts, const char *name);

#endif
