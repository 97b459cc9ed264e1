/* config/config.c — see config.h. libyaml loads the document; this walks it against the schema. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "config/config.h"

struct loader {
	const char *name;
	yaml_document_t *doc;
	struct xturn_config *cfg;
	char *err;
	size_t err_len;
	/* lines of keys that cross-checks after the walk must name */
	unsigned long line_root, line_listen_port, line_relay_ports, line_lifetimes, line_auth;
};

static int fail(struct loader *l, unsigned long line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct loader *l, unsigned long line, const char *key, const char *fmt, ...)
{
	char msg[XTURN_CONFIG_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->err_len, "%s:%lu: %s: %s", l->name, line, key, msg);
	return -EINVAL;
}

static unsigned long line_of(const yaml_node_t *node)
{
	return (unsigned long)node->start_mark.line + 1;
}

static const char *node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int expect_kind(struct loader *l, const yaml_node_t *node, yaml_node_type_t type,
		       const char *key)
{
	static const char *const wanted[] = { [YAML_SCALAR_NODE] = "a value",
					      [YAML_SEQUENCE_NODE] = "a list",
					      [YAML_MAPPING_NODE] = "a mapping" };
	if (node->type == type)
		return 0;
	return fail(l, line_of(node), key, "expected %s, got %s", wanted[type], node_kind(node));
}

static int get_string(struct loader *l, const yaml_node_t *node, const char *key, const char **out)
{
	int err = expect_kind(l, node, YAML_SCALAR_NODE, key);

	if (err)
		return err;
	if (strlen((const char *)node->data.scalar.value) != node->data.scalar.length)
		return fail(l, line_of(node), key, "contains a NUL byte");
	*out = (const char *)node->data.scalar.value;
	return 0;
}

static int get_dup(struct loader *l, const yaml_node_t *node, const char *key, bool allow_empty,
		   char **out)
{
	const char *s;
	int err = get_string(l, node, key, &s);

	if (err)
		return err;
	if (!allow_empty && !*s)
		return fail(l, line_of(node), key, "must not be empty");
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int get_uint(struct loader *l, const yaml_node_t *node, const char *key,
		    unsigned long long min, unsigned long long max, unsigned long long *out)
{
	const char *s;
	char *end;
	unsigned long long v;
	int err = get_string(l, node, key, &s);

	if (err)
		return err;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno || v < min || v > max)
		return fail(l, line_of(node), key, "expected an integer from %llu to %llu, got '%s'",
			    min, max, s);
	*out = v;
	return 0;
}

static int get_uint_into(struct loader *l, const yaml_node_t *node, const char *key,
			 unsigned long long min, unsigned long long max, unsigned int *out)
{
	unsigned long long v;
	int err = get_uint(l, node, key, min, max, &v);

	if (!err)
		*out = (unsigned int)v;
	return err;
}

static int get_bool(struct loader *l, const yaml_node_t *node, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	const char *s;
	int err = get_string(l, node, key, &s);

	if (err)
		return err;
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return fail(l, line_of(node), key, "expected true or false, got '%s'", s);
}

static int get_enum(struct loader *l, const yaml_node_t *node, const char *key,
		    const char *const *names, size_t n, int *out)
{
	char choices[128] = "";
	const char *s;
	int err = get_string(l, node, key, &s);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(s, names[i]))
			return *out = (int)i, 0;
		snprintf(choices + strlen(choices), sizeof(choices) - strlen(choices), "%s%s",
			 i ? ", " : "", names[i]);
	}
	return fail(l, line_of(node), key, "expected one of %s, got '%s'", choices, s);
}

static yaml_node_t *node_at(struct loader *l, yaml_node_item_t id)
{
	return yaml_document_get_node(l->doc, id);
}

/* ---- address parsing (also used by the CLI and tests) ---- */

int xturn_parse_ip(const char *text, struct xt_addr *addr)
{
	__u8 buf[16];

	if (inet_pton(AF_INET, text, buf) == 1) {
		xt_addr_set_v4(addr, buf, 0);
		return 0;
	}
	if (inet_pton(AF_INET6, text, buf) == 1) {
		xt_addr_set_v6(addr, buf, 0);
		return 0;
	}
	return -EINVAL;
}

int xturn_parse_cidr(const char *text, struct xturn_cidr *cidr)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t ip_len = slash ? (size_t)(slash - text) : strlen(text);
	struct xt_addr a;
	unsigned long prefix;
	unsigned int bits;

	if (ip_len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, text, ip_len);
	ip[ip_len] = '\0';
	if (xturn_parse_ip(ip, &a))
		return -EINVAL;
	bits = a.family == XT_AF_INET ? 32 : 128;
	prefix = bits;
	if (slash) {
		char *end;

		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || prefix > bits)
			return -EINVAL;
	}
	memset(cidr, 0, sizeof(*cidr));
	cidr->family = a.family;
	cidr->prefix_len = (__u8)prefix;
	for (unsigned int i = 0; i < bits / 8; i++) {
		int keep = (int)prefix - (int)(i * 8);
		__u8 mask = keep >= 8 ? 0xFF : keep <= 0 ? 0 : (__u8)(0xFF << (8 - keep));

		cidr->ip[i] = a.ip[i] & mask;
	}
	return 0;
}

bool xturn_cidr_contains(const struct xturn_cidr *cidr, const struct xt_addr *addr)
{
	unsigned int full = cidr->prefix_len / 8, rest = cidr->prefix_len % 8;

	if (cidr->family != addr->family)
		return false;
	if (memcmp(cidr->ip, addr->ip, full))
		return false;
	return !rest || ((addr->ip[full] ^ cidr->ip[full]) & (__u8)(0xFF << (8 - rest))) == 0;
}

int xturn_parse_host_port(const char *text, struct xt_addr *addr)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = text;
	size_t h_len;
	char *end;
	unsigned long port;

	if (*text == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		h_len = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon)
			return -EINVAL;
		h_len = (size_t)(colon - text);
	}
	if (h_len >= sizeof(host) || !colon[1])
		return -EINVAL;
	memcpy(host, h, h_len);
	host[h_len] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	if (xturn_parse_ip(host, addr))
		return -EINVAL;
	xt_addr_set_port(addr, (__u16)port);
	return 0;
}

/* ---- sections ---- */

typedef int (*section_fn)(struct loader *l, yaml_node_t *value, const char *key);

struct field {
	const char *name;
	section_fn load;
};

/* Walks a mapping against a table of fields: unknown and repeated keys are errors. */
static int walk_mapping(struct loader *l, yaml_node_t *map, const char *prefix,
			const struct field *fields, size_t n_fields)
{
	yaml_node_pair_t *pair;
	int err = expect_kind(l, map, YAML_MAPPING_NODE, prefix[0] ? prefix : "(top level)");

	if (err)
		return err;
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(l, pair->key), *v = node_at(l, pair->value);
		char key[128];
		const char *name;
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return fail(l, line_of(k), prefix[0] ? prefix : "(top level)",
				    "keys must be plain names");
		name = (const char *)k->data.scalar.value;
		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", name);
		for (yaml_node_pair_t *prev = map->data.mapping.pairs.start; prev < pair; prev++) {
			yaml_node_t *pk = node_at(l, prev->key);
			if (pk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)pk->data.scalar.value, name))
				return fail(l, line_of(k), key, "given twice (first on line %lu)",
					    line_of(pk));
		}
		for (i = 0; i < n_fields; i++)
			if (!strcmp(fields[i].name, name))
				break;
		if (i == n_fields)
			return fail(l, line_of(k), key, "unknown key");
		err = fields[i].load(l, v, key);
		if (err)
			return err;
	}
	return 0;
}

static int load_interface(struct loader *l, yaml_node_t *v, const char *key)
{
	const char *s;
	int err = get_string(l, v, key, &s);

	if (err)
		return err;
	if (!*s || strlen(s) >= XTURN_CONFIG_IFNAME_LEN || strchr(s, '/') || strchr(s, ' '))
		return fail(l, line_of(v), key, "'%s' is not an interface name", s);
	strcpy(l->cfg->interface, s);
	return 0;
}

static int load_addresses(struct loader *l, yaml_node_t *v, const char *key)
{
	struct xturn_config *cfg = l->cfg;
	int err = expect_kind(l, v, YAML_SEQUENCE_NODE, key);

	if (err)
		return err;
	cfg->n_addresses = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = node_at(l, *it);
		struct xt_addr a;
		const char *s;

		if ((err = get_string(l, item, key, &s)))
			return err;
		if (xturn_parse_ip(s, &a))
			return fail(l, line_of(item), key, "'%s' is not an IPv4 or IPv6 address", s);
		for (size_t i = 0; i < cfg->n_addresses; i++)
			if (xt_addr_equal(&cfg->addresses[i], &a))
				return fail(l, line_of(item), key, "'%s' is listed twice", s);
		if (cfg->n_addresses == XTURN_CONFIG_MAX_ADDRESSES)
			return fail(l, line_of(item), key, "at most %d addresses",
				    XTURN_CONFIG_MAX_ADDRESSES);
		cfg->addresses[cfg->n_addresses++] = a;
	}
	if (!cfg->n_addresses)
		return fail(l, line_of(v), key, "at least one relay address is required");
	return 0;
}

/* advertised: {relay address: public address}; checked against addresses after the walk. */
static int load_advertised(struct loader *l, yaml_node_t *v, const char *key)
{
	int err = expect_kind(l, v, YAML_MAPPING_NODE, key);

	if (err)
		return err;
	return 0; /* resolved in resolve_advertised(), once addresses are known */
}

static int resolve_advertised(struct loader *l, yaml_node_t *v)
{
	struct xturn_config *cfg = l->cfg;

	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(l, p->key), *val = node_at(l, p->value);
		struct xt_addr local, pub;
		const char *ks, *vs;
		char key[128];
		size_t i;
		int err;

		if ((err = get_string(l, k, "advertised", &ks)))
			return err;
		snprintf(key, sizeof(key), "advertised.%s", ks);
		if ((err = get_string(l, val, key, &vs)))
			return err;
		if (xturn_parse_ip(ks, &local))
			return fail(l, line_of(k), key, "'%s' is not an IP address", ks);
		if (xturn_parse_ip(vs, &pub))
			return fail(l, line_of(val), key, "'%s' is not an IP address", vs);
		if (pub.family != local.family)
			return fail(l, line_of(val), key, "a 1:1 NAT address must be of the same family");
		for (i = 0; i < cfg->n_addresses; i++)
			if (xt_addr_equal(&cfg->addresses[i], &local))
				break;
		if (i == cfg->n_addresses)
			return fail(l, line_of(k), key, "'%s' is not one of addresses", ks);
		cfg->advertised[i] = pub;
	}
	return 0;
}

static int load_listen_port(struct loader *l, yaml_node_t *v, const char *key)
{
	unsigned int port;
	int err = get_uint_into(l, v, key, 1, 65535, &port);

	l->line_listen_port = line_of(v);
	if (!err)
		l->cfg->listen_port = (__u16)port;
	return err;
}

static int load_port_min(struct loader *l, yaml_node_t *v, const char *key)
{
	unsigned int port;
	int err = get_uint_into(l, v, key, 1, 65535, &port);

	if (!err)
		l->cfg->relay_port_min = (__u16)port;
	return err;
}

static int load_port_max(struct loader *l, yaml_node_t *v, const char *key)
{
	unsigned int port;
	int err = get_uint_into(l, v, key, 1, 65535, &port);

	if (!err)
		l->cfg->relay_port_max = (__u16)port;
	return err;
}

static int load_relay_ports(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "min", load_port_min }, { "max", load_port_max } };

	l->line_relay_ports = line_of(v);
	return walk_mapping(l, v, key, fields, 2);
}

static int load_realm(struct loader *l, yaml_node_t *v, const char *key)
{
	int err = get_dup(l, v, key, false, &l->cfg->realm);

	/* RFC 8489 §14.9: fewer than 128 characters. */
	if (!err && strlen(l->cfg->realm) >= 128)
		return fail(l, line_of(v), key, "must be shorter than 128 characters");
	return err;
}

static int load_software(struct loader *l, yaml_node_t *v, const char *key)
{
	int err = get_dup(l, v, key, true, &l->cfg->software);

	if (err)
		return err;
	if (!*l->cfg->software) {
		free(l->cfg->software);
		l->cfg->software = NULL;
	} else if (strlen(l->cfg->software) >= 128) { /* RFC 8489 §14.14 */
		return fail(l, line_of(v), key, "must be shorter than 128 characters");
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int load_user(struct loader *l, yaml_node_t *v, const char *key, struct xturn_user *u)
{
	int err = expect_kind(l, v, YAML_MAPPING_NODE, key);
	bool have_password = false, have_key = false;

	if (err)
		return err;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(l, p->key), *val = node_at(l, p->value);
		const char *name = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
		char sub[160];

		snprintf(sub, sizeof(sub), "%s.%s", key, name);
		if (!strcmp(name, "username")) {
			if ((err = get_dup(l, val, sub, false, &u->username)))
				return err;
			if (strlen(u->username) >= 513) /* RFC 8489 §14.3 */
				return fail(l, line_of(val), sub, "longer than 512 bytes");
		} else if (!strcmp(name, "password")) {
			if ((err = get_dup(l, val, sub, false, &u->password)))
				return err;
			have_password = true;
		} else if (!strcmp(name, "key")) {
			const char *s;

			if ((err = get_string(l, val, sub, &s)))
				return err;
			if (strncmp(s, "0x", 2) || strlen(s) != 34)
				return fail(l, line_of(val), sub,
					    "expected 0x and 32 hex digits (MD5 of user:realm:password)");
			for (int i = 0; i < 16; i++) {
				int hi = hex_digit(s[2 + 2 * i]), lo = hex_digit(s[3 + 2 * i]);
				if (hi < 0 || lo < 0)
					return fail(l, line_of(val), sub, "'%s' is not hex", s);
				u->key[i] = (__u8)(hi << 4 | lo);
			}
			u->has_key = have_key = true;
		} else {
			return fail(l, line_of(k), sub, "unknown key (username, password or key)");
		}
	}
	if (!u->username)
		return fail(l, line_of(v), key, "username is required");
	if (have_password == have_key)
		return fail(l, line_of(v), key, "give exactly one of password and key");
	return 0;
}

static int load_users(struct loader *l, yaml_node_t *v, const char *key)
{
	struct xturn_config *cfg = l->cfg;
	size_t n;
	int err = expect_kind(l, v, YAML_SEQUENCE_NODE, key);

	if (err)
		return err;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	cfg->auth.users = calloc(n ? n : 1, sizeof(*cfg->auth.users));
	if (!cfg->auth.users)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_at(l, v->data.sequence.items.start[i]);
		char sub[128];

		snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
		cfg->auth.n_users = i + 1;
		if ((err = load_user(l, item, sub, &cfg->auth.users[i])))
			return err;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->auth.users[j].username, cfg->auth.users[i].username))
				return fail(l, line_of(item), sub, "user '%s' is listed twice",
					    cfg->auth.users[i].username);
	}
	return 0;
}

static int load_secrets(struct loader *l, yaml_node_t *v, const char *key)
{
	struct xturn_config *cfg = l->cfg;
	size_t n;
	int err = expect_kind(l, v, YAML_SEQUENCE_NODE, key);

	if (err)
		return err;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	cfg->auth.secrets = calloc(n ? n : 1, sizeof(char *));
	if (!cfg->auth.secrets)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char sub[128];

		snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
		cfg->auth.n_secrets = i + 1;
		err = get_dup(l, node_at(l, v->data.sequence.items.start[i]), sub, false,
			      &cfg->auth.secrets[i]);
		if (err)
			return err;
	}
	return 0;
}

static int load_nonce_lifetime(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_uint_into(l, v, key, 10, 7 * 24 * 3600, &l->cfg->auth.nonce_lifetime);
}

static int load_auth(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "users", load_users },
					       { "secrets", load_secrets },
					       { "nonce_lifetime", load_nonce_lifetime } };
	l->line_auth = line_of(v);
	return walk_mapping(l, v, key, fields, 3);
}

static int load_default_lifetime(struct loader *l, yaml_node_t *v, const char *key)
{
	l->line_lifetimes = line_of(v);
	return get_uint_into(l, v, key, 1, 86400, &l->cfg->allocations.default_lifetime);
}

static int load_max_lifetime(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_uint_into(l, v, key, 1, 86400, &l->cfg->allocations.max_lifetime);
}

static int load_max_per_user(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_uint_into(l, v, key, 1, 1u << 30, &l->cfg->allocations.max_per_user);
}

static int load_max_total(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_uint_into(l, v, key, 1, 1u << 30, &l->cfg->allocations.max_total);
}

static int load_bandwidth(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_uint(l, v, key, 0, 1ull << 40, &l->cfg->allocations.bandwidth_bps);
}

static int load_legacy_channels(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_bool(l, v, key, &l->cfg->allocations.legacy_channels);
}

static int load_allocations(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "default_lifetime", load_default_lifetime },
					       { "max_lifetime", load_max_lifetime },
					       { "max_per_user", load_max_per_user },
					       { "max_total", load_max_total },
					       { "bandwidth", load_bandwidth },
					       { "legacy_channels", load_legacy_channels } };
	if (!l->line_lifetimes)
		l->line_lifetimes = line_of(v);
	return walk_mapping(l, v, key, fields, sizeof(fields) / sizeof(fields[0]));
}

static int load_cidr_list(struct loader *l, yaml_node_t *v, const char *key, bool allow_default,
			  struct xturn_cidr **out, size_t *n_out, bool *saw_default)
{
	size_t n;
	int err = expect_kind(l, v, YAML_SEQUENCE_NODE, key);

	if (err)
		return err;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	free(*out);
	*out = calloc(n ? n : 1, sizeof(**out));
	*n_out = 0;
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_at(l, v->data.sequence.items.start[i]);
		const char *s;

		if ((err = get_string(l, item, key, &s)))
			return err;
		if (allow_default && !strcmp(s, "default")) {
			*saw_default = true;
			continue;
		}
		if (xturn_parse_cidr(s, &(*out)[*n_out]))
			return fail(l, line_of(item), key, "'%s' is not an address or CIDR%s", s,
				    allow_default ? " (or default)" : "");
		(*n_out)++;
	}
	return 0;
}

static int load_deny(struct loader *l, yaml_node_t *v, const char *key)
{
	struct xturn_config *cfg = l->cfg;

	cfg->peers.deny_default = false;
	return load_cidr_list(l, v, key, true, &cfg->peers.deny, &cfg->peers.n_deny,
			      &cfg->peers.deny_default);
}

static int load_allow(struct loader *l, yaml_node_t *v, const char *key)
{
	bool unused = false;

	return load_cidr_list(l, v, key, false, &l->cfg->peers.allow, &l->cfg->peers.n_allow,
			      &unused);
}

static int load_peers(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "deny", load_deny }, { "allow", load_allow } };

	return walk_mapping(l, v, key, fields, 2);
}

static int load_xdp_mode(struct loader *l, yaml_node_t *v, const char *key)
{
	static const char *const names[] = { "auto", "native", "generic" };
	int m;
	int err = get_enum(l, v, key, names, 3, &m);

	if (!err)
		l->cfg->xdp.mode = (enum xturn_xdp_mode)m;
	return err;
}

static int load_zero_copy(struct loader *l, yaml_node_t *v, const char *key)
{
	static const char *const names[] = { "auto", "true", "false", "on", "off" };
	static const enum xturn_zero_copy values[] = { XTURN_ZC_AUTO, XTURN_ZC_ON, XTURN_ZC_OFF,
						       XTURN_ZC_ON, XTURN_ZC_OFF };
	int m;
	int err = get_enum(l, v, key, names, 5, &m);

	if (!err)
		l->cfg->xdp.zero_copy = values[m];
	return err;
}

static int load_fast_path(struct loader *l, yaml_node_t *v, const char *key)
{
	return get_bool(l, v, key, &l->cfg->xdp.fast_path);
}

/* queues: all | N (queues 0..N-1) | [ids] */
static int load_queues(struct loader *l, yaml_node_t *v, const char *key)
{
	struct xturn_config *cfg = l->cfg;
	unsigned long long n;
	int err;

	cfg->xdp.n_queues = 0;
	if (v->type == YAML_SCALAR_NODE && !strcmp((const char *)v->data.scalar.value, "all")) {
		cfg->xdp.all_queues = true;
		return 0;
	}
	cfg->xdp.all_queues = false;
	if (v->type == YAML_SCALAR_NODE) {
		if ((err = get_uint(l, v, key, 1, XTURN_CONFIG_MAX_QUEUES, &n)))
			return fail(l, line_of(v), key, "expected all, a queue count or a list of ids");
		for (unsigned int i = 0; i < n; i++)
			cfg->xdp.queues[cfg->xdp.n_queues++] = i;
		return 0;
	}
	if ((err = expect_kind(l, v, YAML_SEQUENCE_NODE, key)))
		return err;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = node_at(l, *it);

		if (cfg->xdp.n_queues == XTURN_CONFIG_MAX_QUEUES)
			return fail(l, line_of(item), key, "at most %d queues",
				    XTURN_CONFIG_MAX_QUEUES);
		if ((err = get_uint(l, item, key, 0, 4095, &n)))
			return err;
		for (size_t i = 0; i < cfg->xdp.n_queues; i++)
			if (cfg->xdp.queues[i] == n)
				return fail(l, line_of(item), key, "queue %llu is listed twice", n);
		cfg->xdp.queues[cfg->xdp.n_queues++] = (unsigned int)n;
	}
	if (!cfg->xdp.n_queues)
		return fail(l, line_of(v), key, "an empty list would serve no queue");
	return 0;
}

static int load_xdp(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "mode", load_xdp_mode },
					       { "zero_copy", load_zero_copy },
					       { "fast_path", load_fast_path },
					       { "queues", load_queues } };
	return walk_mapping(l, v, key, fields, 4);
}

static int load_metrics_listen(struct loader *l, yaml_node_t *v, const char *key)
{
	const char *s;
	int err = get_string(l, v, key, &s);

	if (err)
		return err;
	if (!*s || !strcmp(s, "off")) {
		l->cfg->metrics.enabled = false;
		return 0;
	}
	if (xturn_parse_host_port(s, &l->cfg->metrics.listen))
		return fail(l, line_of(v), key, "expected ADDRESS:PORT, [IPv6]:PORT or off, got '%s'",
			    s);
	l->cfg->metrics.enabled = true;
	return 0;
}

static int load_metrics(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "listen", load_metrics_listen } };

	return walk_mapping(l, v, key, fields, 1);
}

static int load_log_level(struct loader *l, yaml_node_t *v, const char *key)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	int m;
	int err = get_enum(l, v, key, names, 4, &m);

	if (!err)
		l->cfg->log.level = (enum xturn_log_level)m;
	return err;
}

static int load_log_format(struct loader *l, yaml_node_t *v, const char *key)
{
	static const char *const names[] = { "text", "json" };
	int m;
	int err = get_enum(l, v, key, names, 2, &m);

	if (!err)
		l->cfg->log.format = (enum xturn_log_format)m;
	return err;
}

static int load_log(struct loader *l, yaml_node_t *v, const char *key)
{
	static const struct field fields[] = { { "level", load_log_level },
					       { "format", load_log_format } };
	return walk_mapping(l, v, key, fields, 2);
}

static const struct field top_fields[] = {
	{ "interface", load_interface }, { "addresses", load_addresses },
	{ "advertised", load_advertised }, { "listen_port", load_listen_port },
	{ "relay_ports", load_relay_ports }, { "realm", load_realm },
	{ "software", load_software },	 { "auth", load_auth },
	{ "allocations", load_allocations }, { "peers", load_peers },
	{ "xdp", load_xdp },		 { "metrics", load_metrics },
	{ "log", load_log },
};

static void set_defaults(struct xturn_config *cfg)
{
	static const __u8 loopback[4] = { 127, 0, 0, 1 };

	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_port = 3478;
	cfg->relay_port_min = 49152;
	cfg->relay_port_max = 65535;
	cfg->auth.nonce_lifetime = 3600;
	cfg->allocations.default_lifetime = 600;
	cfg->allocations.max_lifetime = 3600;
	cfg->allocations.max_per_user = 64;
	cfg->allocations.max_total = 1000000;
	cfg->peers.deny_default = true;
	cfg->xdp.mode = XTURN_XDP_AUTO;
	cfg->xdp.zero_copy = XTURN_ZC_AUTO;
	cfg->xdp.fast_path = true;
	cfg->xdp.all_queues = true;
	cfg->metrics.enabled = true;
	xt_addr_set_v4(&cfg->metrics.listen, loopback, 9641);
	cfg->log.level = XTURN_LOG_INFO;
	cfg->log.format = XTURN_LOG_TEXT;
}

static yaml_node_t *find_top(struct loader *l, yaml_node_t *root, const char *name)
{
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, name))
			return node_at(l, p->value);
	}
	return NULL;
}

/* Rules that involve several keys, checked once everything is read. */
static int cross_check(struct loader *l, yaml_node_t *root)
{
	struct xturn_config *cfg = l->cfg;
	yaml_node_t *adv;
	int err;

	if (!cfg->interface[0])
		return fail(l, l->line_root, "interface", "required key missing");
	if (!cfg->n_addresses)
		return fail(l, l->line_root, "addresses", "required key missing");
	if (!cfg->realm)
		return fail(l, l->line_root, "realm", "required key missing");
	if (cfg->relay_port_min > cfg->relay_port_max)
		return fail(l, l->line_relay_ports ? l->line_relay_ports : l->line_root, "relay_ports",
			    "the range %u-%u is empty", cfg->relay_port_min, cfg->relay_port_max);
	if (cfg->listen_port >= cfg->relay_port_min && cfg->listen_port <= cfg->relay_port_max)
		return fail(l,
			    l->line_relay_ports ? l->line_relay_ports
						: l->line_listen_port ? l->line_listen_port
								      : l->line_root,
			    "relay_ports", "the range %u-%u holds listen_port %u", cfg->relay_port_min,
			    cfg->relay_port_max, cfg->listen_port);
	if (cfg->allocations.default_lifetime > cfg->allocations.max_lifetime)
		return fail(l, l->line_lifetimes ? l->line_lifetimes : l->line_root,
			    "allocations.default_lifetime", "%u is above max_lifetime %u",
			    cfg->allocations.default_lifetime, cfg->allocations.max_lifetime);
	if (!cfg->auth.n_users && !cfg->auth.n_secrets)
		return fail(l, l->line_auth ? l->line_auth : l->line_root, "auth",
			    "no users and no secrets: every Allocate would be refused");
	adv = find_top(l, root, "advertised");
	if (adv && (err = resolve_advertised(l, adv)))
		return err;
	return 0;
}

int xturn_config__load_string(const char *name, const char *text, size_t len,
			      struct xturn_config *cfg, char *err, size_t err_len)
{
	struct xturn_config tmp;
	struct loader l = { .name = name, .cfg = &tmp, .err = err, .err_len = err_len };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret;

	set_defaults(&tmp);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "%s:%lu: YAML syntax: %s%s%s", name,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "unreadable",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	l.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		snprintf(err, err_len,
			 "%s:1: (top level): the file is empty; interface, addresses and realm are required",
			 name);
		ret = -EINVAL;
		goto out_delete;
	}
	l.line_root = line_of(root);
	ret = walk_mapping(&l, root, "", top_fields, sizeof(top_fields) / sizeof(top_fields[0]));
	if (!ret)
		ret = cross_check(&l, root);
	if (ret) {
		xturn_config__free(&tmp);
		goto out_delete;
	}
	tmp.path = strdup(name);
	*cfg = tmp;
out_delete:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int xturn_config__load(const char *path, struct xturn_config *cfg, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	for (;;) {
		if (len == cap) {
			char *grown;

			if (cap >= (1u << 24)) {
				snprintf(err, err_len, "%s: larger than 16 MiB", path);
				ret = -EFBIG;
				goto out_close;
			}
			cap = cap ? cap * 2 : 4096;
			grown = realloc(text, cap);
			if (!grown) {
				ret = -ENOMEM;
				goto out_close;
			}
			text = grown;
		}
		size_t n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: read error", path);
		ret = -EIO;
		goto out_close;
	}
	ret = xturn_config__load_string(path, text ? text : "", len, cfg, err, err_len);
out_close:
	free(text);
	fclose(f);
	return ret;
}

void xturn_config__free(struct xturn_config *cfg)
{
	for (size_t i = 0; i < cfg->auth.n_users; i++) {
		free(cfg->auth.users[i].username);
		free(cfg->auth.users[i].password);
	}
	free(cfg->auth.users);
	for (size_t i = 0; i < cfg->auth.n_secrets; i++)
		free(cfg->auth.secrets[i]);
	free(cfg->auth.secrets);
	free(cfg->peers.deny);
	free(cfg->peers.allow);
	free(cfg->realm);
	free(cfg->software);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const char *xturn_log_level_name(enum xturn_log_level level)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	return (unsigned int)level < 4 ? names[level] : "unknown";
}
