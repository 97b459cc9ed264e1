/* tests/unit/turn_harness.h — drives a turn_server with a fake clock and a seeded random source.
 *
 * A harness holds one server (realm example.org, users alice/wonderland and bob/builder, relay
 * addresses 198.18.0.10 and 2001:db8::10 unless a test's tweak changes the config), the actions of
 * the last call, and helpers that build authenticated requests with the codec of turn/stun.h and
 * check answers attribute by attribute.
 */
#ifndef XTURN_TESTS_TURN_HARNESS_H
#define XTURN_TESTS_TURN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "turn/auth.h"
#include "turn/server.h"
#include "turn/stun.h"

#define TH_T0	       1700000000000ull /* the fake clock starts at a plausible UNIX time (ms) */
#define TH_LISTEN_PORT 3478

struct th_client {
	struct xt_addr addr, local;
	const char *user, *pass;
	struct auth_key key;
	char nonce[AUTH_NONCE_MAX];
	size_t nonce_len;
	enum stun_integrity kind;    /* integrity to put on requests (SHA1 by default) */
	bool fingerprint;	     /* put FINGERPRINT on requests */
	uint8_t txid[STUN_TXID_LEN]; /* of the last request */
};

struct th {
	struct turn_server *s;
	struct auth_store *auth;
	struct turn_server_config cfg;
	uint64_t now;
	uint64_t rnd;	/* the server's random state */
	uint64_t txseq; /* request transaction IDs */
	struct turn_action v[256];
	uint8_t arena[1 << 17];
	struct turn_actions out;
	int rc;		   /* of the last call */
	uint8_t req[4096]; /* the last request built */
	size_t req_len;
	uint8_t resp[4096]; /* copy of the last SEND payload answering a request */
	size_t resp_len;
	struct stun_msg m; /* resp parsed */
};

typedef void (*th_tweak_fn)(struct turn_server_config *cfg);

/* Builds the server (tweak may change cfg first); CUnit-asserts success. */
void th_setup(struct th *t, th_tweak_fn tweak);
void th_teardown(struct th *t);
void th_random(void *ctx, uint8_t *buf, size_t len);

/* Client n (1, 2, ...) from 198.18.1.n:50000 to 198.18.0.10:3478, user alice. */
void th_client(struct th_client *c, int n);
void th_client6(struct th_client *c, int n); /* 2001:db8:1::n:50000 -> [2001:db8::10]:3478 */
void th_addr4(struct xt_addr *a, const char *ip, uint16_t port);
void th_addr6(struct xt_addr *a, const char *ip, uint16_t port);

/* Starts a request of method with a fresh random txid into t->req. */
void th_begin(struct th *t, struct th_client *c, struct stun_builder *b, uint16_t method);
/* Adds USERNAME, REALM, NONCE, integrity (c->kind) and FINGERPRINT (c->fingerprint), sends.
 * Returns the server's rc; parses the answer (last SEND to the client) into t->m when there is
 * one (t->resp_len 0 otherwise). */
int th_send_auth(struct th *t, struct th_client *c, struct stun_builder *b);
/* Sends as built (no credentials added). */
int th_send_plain(struct th *t, struct th_client *c, struct stun_builder *b);
/* Raw datagram from the client / from a peer to a relay address. Resets the actions first. */
int th_input_client(struct th *t, struct th_client *c, const uint8_t *data, size_t len);
int th_input_peer(struct th *t, const struct xt_addr *relay, const struct xt_addr *peer,
		  const uint8_t *data, size_t len);
int th_tick(struct th *t, uint64_t now);

/* Gets a nonce: an unauthenticated Allocate must be answered 401 with REALM and NONCE. */
void th_login(struct th *t, struct th_client *c);
/* Allocate (UDP, nothing else) and assert success; returns the IPv4 or IPv6 relayed address. */
void th_allocate(struct th *t, struct th_client *c, struct xt_addr *relayed);
/* CreatePermission / ChannelBind, asserting success. */
void th_permit(struct th *t, struct th_client *c, const struct xt_addr *peer);
void th_bind(struct th *t, struct th_client *c, uint16_t channel, const struct xt_addr *peer);

/* Checks the answer in t->m: class (success/error), error code (0 for success), exactly the
 * attribute types listed (in order, 0-terminated), integrity of the kind with key when kind is
 * not NONE, and FINGERPRINT validity when listed. Returns true when all hold (CUnit-asserted). */
bool th_check(struct th *t, int code, const uint16_t *types, enum stun_integrity kind,
	      const struct auth_key *key);
/* The attribute types of a STUN message, in order; returns their count. */
size_t th_attr_types(const uint8_t *msg, size_t len, uint16_t *types, size_t max);

/* The action types of the last call, as a 0-terminated array compared with want. */
bool th_actions_are(struct th *t, const uint8_t *want);
/* The index of the n-th (0-based) action of type, -1 if none. */
int th_find_action(struct th *t, uint8_t type, int n);

#endif
