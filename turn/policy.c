/* Peer policy: deny/allow CIDR lists over canonical addresses. See policy.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "turn/policy.h"

#define V4(a, b, c, d, len)                                                                        \
	{                                                                                          \
		XT_AF_INET, len,                                                                   \
		{                                                                                  \
			a, b, c, d                                                                 \
		}                                                                                  \
	}
#define V6(len, ...)                                                                               \
	{                                                                                          \
		XT_AF_INET6, len,                                                                  \
		{                                                                                  \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

static const struct turn_cidr default_deny[] = {
	V4(0, 0, 0, 0, 8),	  /* "this network", incl. unspecified (RFC 1122 §3.2.1.3) */
	V4(10, 0, 0, 0, 8),	  /* RFC 1918 */
	V4(100, 64, 0, 0, 10),	  /* CGNAT shared space (RFC 6598) */
	V4(127, 0, 0, 0, 8),	  /* loopback */
	V4(169, 254, 0, 0, 16),	  /* link-local (RFC 3927) */
	V4(172, 16, 0, 0, 12),	  /* RFC 1918 */
	V4(192, 0, 0, 0, 24),	  /* IETF protocol assignments (RFC 6890) */
	V4(192, 168, 0, 0, 16),	  /* RFC 1918 */
	V4(224, 0, 0, 0, 4),	  /* multicast */
	V4(240, 0, 0, 0, 4),	  /* reserved, incl. limited broadcast 255.255.255.255 */
	V6(128),		  /* :: unspecified */
	V6(128, [15] = 1),	  /* ::1 loopback (also caught as 0.0.0.1 after unwrapping) */
	V6(7, 0xfc),		  /* ULA fc00::/7 (RFC 4193) */
	V6(10, 0xfe, 0x80),	  /* link-local fe80::/10 */
	V6(10, 0xfe, 0xc0),	  /* site-local fec0::/10 (deprecated, RFC 3879) */
	V6(8, 0xff),		  /* multicast ff00::/8 */
	V6(16, 0x20, 0x02),	  /* 6to4 2002::/16 (RFC 3056): reaches arbitrary IPv4 */
	V6(32, 0x20, 0x01, 0, 0), /* Teredo 2001::/32 (RFC 4380): reaches arbitrary IPv4 */
	V6(64, 0x01, 0x00),	  /* discard-only 100::/64 (RFC 6666) */
};

const struct turn_cidr *turn_policy_default_deny(size_t *n)
{
	*n = sizeof(default_deny) / sizeof(default_deny[0]);
	return default_deny;
}

static bool cidr_valid(const struct turn_cidr *c)
{
	unsigned int bits = c->family == XT_AF_INET ? 32 : c->family == XT_AF_INET6 ? 128 : 0;

	if (!bits || c->prefix_len > bits)
		return false;
	for (unsigned int i = c->prefix_len; i < 128; i++)
		if (c->ip[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool turn_cidr_contains(const struct turn_cidr *c, const struct xt_addr *a)
{
	unsigned int full = c->prefix_len / 8, rest = c->prefix_len % 8;

	if (c->family != a->family)
		return false;
	if (memcmp(c->ip, a->ip, full) != 0)
		return false;
	if (rest) {
		__u8 mask = (__u8)(0xFF << (8 - rest));
		if ((a->ip[full] & mask) != c->ip[full])
			return false;
	}
	return true;
}

void turn_addr_canonical(const struct xt_addr *a, struct xt_addr *out)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const __u8 compat[12] = { 0 };
	static const __u8 nat64[12] = { 0x00, 0x64, 0xff, 0x9b }; /* RFC 6052 well-known prefix */

	*out = *a;
	if (a->family != XT_AF_INET6)
		return;
	if (memcmp(a->ip, mapped, 12) == 0 || memcmp(a->ip, compat, 12) == 0 ||
	    memcmp(a->ip, nat64, 12) == 0) {
		__u8 v4[4];
		memcpy(v4, a->ip + 12, 4);
		xt_addr_set_v4(out, v4, xt_addr_port(a));
	}
}

static bool in_list(const struct turn_cidr *l, size_t n, const struct xt_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (turn_cidr_contains(&l[i], a))
			return true;
	return false;
}

bool turn_policy__allows(const struct turn_policy *p, const struct xt_addr *peer)
{
	struct xt_addr c;

	turn_addr_canonical(peer, &c);
	if (in_list(p->allow, p->n_allow, &c))
		return true;
	return !in_list(p->deny, p->n_deny, &c);
}

int turn_policy__init(struct turn_policy *p, bool deny_default, const struct turn_cidr *deny,
		      size_t n_deny, const struct turn_cidr *allow, size_t n_allow)
{
	size_t nd = 0, n_def = 0;
	const struct turn_cidr *def = turn_policy_default_deny(&n_def);

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < n_deny; i++)
		if (!cidr_valid(&deny[i]))
			return -EINVAL;
	for (size_t i = 0; i < n_allow; i++)
		if (!cidr_valid(&allow[i]))
			return -EINVAL;
	if (!deny_default)
		n_def = 0;
	p->deny = calloc(n_def + n_deny + 1, sizeof(*p->deny));
	p->allow = calloc(n_allow + 1, sizeof(*p->allow));
	if (!p->deny || !p->allow) {
		turn_policy__destroy(p);
		return -ENOMEM;
	}
	memcpy(p->deny, def, n_def * sizeof(*def));
	nd = n_def;
	if (n_deny)
		memcpy(p->deny + nd, deny, n_deny * sizeof(*deny));
	p->n_deny = nd + n_deny;
	if (n_allow)
		memcpy(p->allow, allow, n_allow * sizeof(*allow));
	p->n_allow = n_allow;
	return 0;
}

void turn_policy__destroy(struct turn_policy *p)
{
	free(p->deny);
	free(p->allow);
	memset(p, 0, sizeof(*p));
}

int turn_cidr_parse(const char *text, struct turn_cidr *out)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long plen = -1;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = 0;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->ip) == 1)
		out->family = XT_AF_INET;
	else if (inet_pton(AF_INET6, buf, out->ip) == 1)
		out->family = XT_AF_INET6;
	else
		return -EINVAL;
	if (slash) {
		char *end;
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end)
			return -EINVAL;
	}
	if (plen < 0)
		plen = out->family == XT_AF_INET ? 32 : 128;
	if (plen > (out->family == XT_AF_INET ? 32 : 128))
		return -EINVAL;
	out->prefix_len = (__u8)plen;
	return cidr_valid(out) ? 0 : -EINVAL;
}
