/* tests/fuzz/fuzz_config.c — libFuzzer target for the configuration loader (config/config.h).
 *
 * One input is one YAML file (NUL bytes included: the loader takes a length). A refused file must
 * leave the caller's struct untouched (a failed SIGHUP reload keeps the running configuration) and
 * explain itself in a message that names the file. An accepted one must hold what the loader
 * promises (addresses, a realm, a port range that excludes the listen port), and the TURN core must
 * accept the settings built from it: a configuration that validates never fails later at start-up.
 */
#include <errno.h>
#include <string.h>
#include "app/turn_setup.h"
#include "config/config.h"
#include "tests/fuzz/fuzz_util.h"
#include "turn/server.h"

static void rnd(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xturn_config cfg, pristine;
	char err[XTURN_CONFIG_ERR_LEN];
	struct turn_setup ts;
	struct turn_server *s;
	int rc;

	memset(&cfg, 0xA5, sizeof(cfg));
	memcpy(&pristine, &cfg, sizeof(cfg));
	memset(err, 0, sizeof(err));
	rc = xturn_config__load_string("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof(err));
	if (rc) {
		FUZZ_ASSERT(rc < 0);
		FUZZ_ASSERT(!memcmp(&cfg, &pristine, sizeof(cfg)));
		FUZZ_ASSERT(memchr(err, 0, sizeof(err)) && !strncmp(err, "fuzz.yaml", 9));
		return 0;
	}
	FUZZ_ASSERT(cfg.n_addresses >= 1 && cfg.n_addresses <= XTURN_CONFIG_MAX_ADDRESSES);
	FUZZ_ASSERT(cfg.realm && *cfg.realm);
	FUZZ_ASSERT(cfg.interface[0] && memchr(cfg.interface, 0, sizeof(cfg.interface)));
	FUZZ_ASSERT(cfg.relay_port_min <= cfg.relay_port_max);
	FUZZ_ASSERT(cfg.listen_port < cfg.relay_port_min || cfg.listen_port > cfg.relay_port_max);
	for (size_t i = 0; i < cfg.n_addresses; i++)
		FUZZ_ASSERT(cfg.addresses[i].family == XT_AF_INET ||
			    cfg.addresses[i].family == XT_AF_INET6);
	for (size_t i = 0; i < cfg.auth.n_users; i++)
		FUZZ_ASSERT(cfg.auth.users[i].username &&
			    (cfg.auth.users[i].password || cfg.auth.users[i].has_key));

	/* What xturnd does next with it. The tables are sized by max_total: keep the run cheap. */
	if (cfg.allocations.max_total <= 4096) {
		rc = turn_setup__init(&ts, &cfg);
		FUZZ_ASSERT(rc == 0);
		s = turn_server__new(&ts.tcfg, rnd, NULL);
		FUZZ_ASSERT(s);
		turn_server__free(s);
		turn_setup__release(&ts);
	}
	xturn_config__free(&cfg);
	return 0;
}
