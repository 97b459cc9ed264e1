/* app/log.h — xturnd's logging: text or JSON lines on stderr, one level for the whole process.
 *
 * Log at the boundary that can explain a failure, once. Never per packet: on the data path use the
 * _ratelimited forms (at most a few lines per second per call site) and count in metrics instead.
 */
#ifndef XTURN_APP_LOG_H
#define XTURN_APP_LOG_H

#include <stdbool.h>
#include "config/config.h"

void log_setup(enum xturn_log_level level, enum xturn_log_format format);
void log_set_level(enum xturn_log_level level);
bool log_enabled(enum xturn_log_level level);
void log_msg(enum xturn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct log_ratelimit {
	long long window_start_ms;
	unsigned int printed, suppressed;
};
/* True when this call site may print now (5 lines per second); tells of what it suppressed. */
bool log_ratelimit_ok(struct log_ratelimit *rl);

#define pr_err(...) log_msg(XTURN_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(XTURN_LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(XTURN_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                                                               \
	do {                                                                                       \
		if (log_enabled(XTURN_LOG_DEBUG))                                                  \
			log_msg(XTURN_LOG_DEBUG, __VA_ARGS__);                                     \
	} while (0)
#define pr_warn_ratelimited(...)                                                                   \
	do {                                                                                       \
		static __thread struct log_ratelimit rl_;                                          \
		if (log_ratelimit_ok(&rl_))                                                        \
			pr_warn(__VA_ARGS__);                                                      \
	} while (0)

#endif
