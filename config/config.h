/* config/config.h — xturnd's one YAML file (DESIGN.md §4) into a validated struct xturn_config.
 *
 * Every key has a default except interface, addresses and realm. Unknown keys, wrong types, bad
 * addresses or CIDRs, empty port ranges or ranges that hold the listen port, and missing files are
 * errors that name the file, the line and the key ("xturn.yaml:12: relay_ports.min: ..."). The loader
 * reads nothing but the file: it opens no socket and touches no other module's state.
 */
#ifndef XTURN_CONFIG_H
#define XTURN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "pkt/addr.h"

#define XTURN_CONFIG_MAX_ADDRESSES 16
#define XTURN_CONFIG_MAX_QUEUES 64
#define XTURN_CONFIG_ERR_LEN 512
#define XTURN_CONFIG_IFNAME_LEN 16 /* IFNAMSIZ */

struct xturn_cidr {
	__u8 family; /* XT_AF_INET or XT_AF_INET6 */
	__u8 prefix_len;
	__u8 ip[16]; /* host bits cleared */
};

struct xturn_user {
	char *username;
	char *password; /* NULL when given as key */
	bool has_key;
	__u8 key[16]; /* MD5(username:realm:password), when given as key: 0x<32 hex digits> */
};

enum xturn_xdp_mode { XTURN_XDP_AUTO, XTURN_XDP_NATIVE, XTURN_XDP_GENERIC };
enum xturn_zero_copy { XTURN_ZC_AUTO, XTURN_ZC_ON, XTURN_ZC_OFF };
enum xturn_log_level { XTURN_LOG_ERROR, XTURN_LOG_WARN, XTURN_LOG_INFO, XTURN_LOG_DEBUG };
enum xturn_log_format { XTURN_LOG_TEXT, XTURN_LOG_JSON };

struct xturn_config {
	char *path;
	char interface[XTURN_CONFIG_IFNAME_LEN];
	struct xt_addr addresses[XTURN_CONFIG_MAX_ADDRESSES]; /* port 0 */
	struct xt_addr advertised[XTURN_CONFIG_MAX_ADDRESSES]; /* per address; family 0 = itself */
	size_t n_addresses;
	__u16 listen_port;
	__u16 relay_port_min, relay_port_max;
	char *realm;
	char *software; /* SOFTWARE attribute; NULL = not sent (the default) */

	struct {
		struct xturn_user *users;
		size_t n_users;
		char **secrets; /* TURN REST API shared secrets, tried in order */
		size_t n_secrets;
		unsigned int nonce_lifetime; /* seconds */
	} auth;

	struct {
		unsigned int default_lifetime, max_lifetime; /* seconds */
		unsigned int max_per_user, max_total;
		unsigned long long bandwidth_bps; /* per allocation, bytes/s; 0 = unlimited */
		bool legacy_channels; /* channel numbers up to 0x7FFF (RFC 5766 clients) */
	} allocations;

	struct {
		bool deny_default; /* the built-in list: loopback, private, link-local, ... */
		struct xturn_cidr *deny, *allow;
		size_t n_deny, n_allow;
	} peers;

	struct {
		enum xturn_xdp_mode mode;
		enum xturn_zero_copy zero_copy;
		bool fast_path;
		bool all_queues;
		unsigned int queues[XTURN_CONFIG_MAX_QUEUES]; /* when !all_queues */
		size_t n_queues;
	} xdp;

	struct {
		bool enabled;
		struct xt_addr listen; /* address and port */
	} metrics;

	struct {
		enum xturn_log_level level;
		enum xturn_log_format format;
	} log;
};

/* Loads and validates path into cfg (which the caller then owns; free with xturn_config__free).
 * Returns 0, or -errno with a one-line message in err: -ENOENT/-EACCES for the file, -EINVAL for
 * its content. cfg is untouched on error, so a failed reload keeps the old configuration. */
int xturn_config__load(const char *path, struct xturn_config *cfg, char *err, size_t err_len);

/* The same from a string; name stands for the file in messages (tests, fuzzing). */
int xturn_config__load_string(const char *name, const char *text, size_t len,
			      struct xturn_config *cfg, char *err, size_t err_len);

void xturn_config__free(struct xturn_config *cfg);

/* Parsing helpers shared with the CLI and tests. Return 0 or -EINVAL. */
int xturn_parse_ip(const char *text, struct xt_addr *addr);
int xturn_parse_cidr(const char *text, struct xturn_cidr *cidr);
bool xturn_cidr_contains(const struct xturn_cidr *cidr, const struct xt_addr *addr);
/* "ADDRESS:PORT" or "[IPv6]:PORT", port 1-65535. */
int xturn_parse_host_port(const char *text, struct xt_addr *addr);

const char *xturn_log_level_name(enum xturn_log_level level);

#endif
