/* turn/policy.h — which peers a TURN allocation may talk to (RFC 8656 §21.4, "open relay" abuse).
 *
 * A deny list (the built-in default set plus configured CIDRs) and an allow list that punches holes
 * in it, as coturn's denied-peer-ip / allowed-peer-ip do. Addresses are judged in canonical form:
 * IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96) and NAT64 (64:ff9b::/96) IPv6 addresses are
 * unwrapped to the IPv4 address they reach, so that no IPv6 spelling sneaks past an IPv4 rule.
 * Whether a peer is the relay itself (hairpin) is turn/server's question, not this one.
 */
#ifndef XTURN_TURN_POLICY_H
#define XTURN_TURN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "pkt/addr.h"
#include "turn/server.h"

struct turn_policy {
	struct turn_cidr *deny; /* default set first (when on), then configured */
	struct turn_cidr *allow;
	size_t n_deny, n_allow;
};

/* The built-in deny set (loopback, unspecified, this-network, link-local, multicast, broadcast and
 * reserved, RFC 1918, CGNAT, ULA, site-local, 6to4, Teredo); *n = its length. */
const struct turn_cidr *turn_policy_default_deny(size_t *n);

/* Builds a policy from the server configuration's lists (copied). 0, -EINVAL (bad CIDR), -ENOMEM.
 */
int turn_policy__init(struct turn_policy *p, bool deny_default, const struct turn_cidr *deny,
		      size_t n_deny, const struct turn_cidr *allow, size_t n_allow);
void turn_policy__destroy(struct turn_policy *p);

/* true when the peer (canonical form, port ignored) may be used. */
bool turn_policy__allows(const struct turn_policy *p, const struct xt_addr *peer);

/* Writes the canonical form of a (IPv4 for the wrapped IPv6 forms above; else a copy). */
void turn_addr_canonical(const struct xt_addr *a, struct xt_addr *out);

/* a (any family) within c; false when the families differ. */
bool turn_cidr_contains(const struct turn_cidr *c, const struct xt_addr *a);

/* "198.51.100.0/24", "2001:db8::/32", or a bare address (full-length prefix). Host bits must be
 * clear. 0 or -EINVAL. */
int turn_cidr_parse(const char *text, struct turn_cidr *out);

#endif
