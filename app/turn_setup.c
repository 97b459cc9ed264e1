/* app/turn_setup.c — see turn_setup.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "app/log.h"
#include "app/turn_setup.h"
#include "turn/auth.h"

static struct turn_cidr *copy_cidrs(const struct xturn_cidr *src, size_t n)
{
	struct turn_cidr *out = calloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; out && i < n; i++) {
		out[i].family = src[i].family;
		out[i].prefix_len = src[i].prefix_len;
		memcpy(out[i].ip, src[i].ip, 16);
	}
	return out;
}

void turn_setup__release(struct turn_setup *ts)
{
	auth_store__free(ts->auth);
	free(ts->deny);
	free(ts->allow);
	memset(ts, 0, sizeof(*ts));
}

static int add_credentials(struct auth_store *auth, const struct xturn_config *cfg)
{
	int err = 0;

	for (size_t i = 0; i < cfg->auth.n_users; i++) {
		const struct xturn_user *u = &cfg->auth.users[i];

		if (u->has_key) {
			struct auth_key key = { .len = 16 };

			memcpy(key.b, u->key, 16);
			err = auth_store__add_user_key(auth, u->username, &key);
		} else {
			err = auth_store__add_user(auth, u->username, u->password);
		}
		if (err) {
			pr_err("%s: auth.users[%zu]: %s", cfg->path, i, strerror(-err));
			return err;
		}
	}
	for (size_t i = 0; i < cfg->auth.n_secrets; i++) {
		err = auth_store__add_secret(auth, (const uint8_t *)cfg->auth.secrets[i],
					     strlen(cfg->auth.secrets[i]));
		if (err) {
			pr_err("%s: auth.secrets[%zu]: %s", cfg->path, i, strerror(-err));
			return err;
		}
	}
	return 0;
}

int turn_setup__init(struct turn_setup *ts, const struct xturn_config *cfg)
{
	struct turn_server_config *t = &ts->tcfg;
	int err;

	memset(ts, 0, sizeof(*ts));
	ts->auth = auth_store__new(cfg->realm);
	if (!ts->auth) {
		err = -errno;
		pr_err("%s: realm: %s", cfg->path, strerror(errno));
		return err;
	}
	err = add_credentials(ts->auth, cfg);
	if (err)
		goto out_release;
	ts->deny = copy_cidrs(cfg->peers.deny, cfg->peers.n_deny);
	ts->allow = copy_cidrs(cfg->peers.allow, cfg->peers.n_allow);
	if (!ts->deny || !ts->allow) {
		err = -ENOMEM;
		goto out_release;
	}

	t->auth = ts->auth;
	t->nonce_lifetime = cfg->auth.nonce_lifetime;
	t->password_algorithms = true;
	t->software = cfg->software;
	for (size_t i = 0; i < cfg->n_addresses && i < TURN_MAX_RELAY_ADDRS; i++) {
		t->relays[i].addr = cfg->addresses[i];
		t->relays[i].advertised = cfg->advertised[i];
	}
	t->n_relays =
	    cfg->n_addresses < TURN_MAX_RELAY_ADDRS ? cfg->n_addresses : TURN_MAX_RELAY_ADDRS;
	t->listen_port = cfg->listen_port;
	t->relay_port_min = cfg->relay_port_min;
	t->relay_port_max = cfg->relay_port_max;
	t->default_lifetime = cfg->allocations.default_lifetime;
	t->max_lifetime = cfg->allocations.max_lifetime;
	t->max_per_user = cfg->allocations.max_per_user;
	t->max_total = cfg->allocations.max_total;
	t->legacy_channels = cfg->allocations.legacy_channels;
	t->bandwidth_bps = cfg->allocations.bandwidth_bps;
	t->deny_default = cfg->peers.deny_default;
	t->deny = ts->deny;
	t->n_deny = cfg->peers.n_deny;
	t->allow = ts->allow;
	t->n_allow = cfg->peers.n_allow;
	return 0;

out_release:
	turn_setup__release(ts);
	return err;
}
