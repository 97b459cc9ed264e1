/* app/turn_setup.h — the TURN core's configuration built from a loaded xturn_config: the credential
 * store, the peer-policy CIDRs and the struct turn_server_config that points at them, kept
 * together.
 *
 * Shared by xturnd (one per configuration generation) and xturn-replay, so that a replay runs the
 * core with exactly the settings the daemon would. It builds values only: it creates no server,
 * reads no clock and keeps no global state.
 */
#ifndef XTURN_APP_TURN_SETUP_H
#define XTURN_APP_TURN_SETUP_H

#include "config/config.h"
#include "turn/server.h"

struct turn_setup {
	struct auth_store *auth;
	struct turn_cidr *deny, *allow;
	struct turn_server_config tcfg; /* points at auth, deny, allow and at cfg's strings */
};

/* Fills ts from cfg, which must outlive ts (tcfg.software points into it). Returns 0 or -errno;
 * a failure is logged once, naming the file and the key, and leaves nothing to release. */
int turn_setup__init(struct turn_setup *ts, const struct xturn_config *cfg);
void turn_setup__release(struct turn_setup *ts);

#endif
