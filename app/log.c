/* app/log.c — see log.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "app/log.h"

static enum xturn_log_level current_level = XTURN_LOG_INFO;
static enum xturn_log_format current_format = XTURN_LOG_TEXT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_setup(enum xturn_log_level level, enum xturn_log_format format)
{
	__atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
	current_format = format;
}

void log_set_level(enum xturn_log_level level)
{
	__atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
}

bool log_enabled(enum xturn_log_level level)
{
	return level <= __atomic_load_n(&current_level, __ATOMIC_RELAXED);
}

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void log_msg(enum xturn_log_level level, const char *fmt, ...)
{
	char msg[1024], stamp[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp + strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm),
		 sizeof(stamp) - 19, ".%03ldZ", ts.tv_nsec / 1000000);

	pthread_mutex_lock(&log_lock);
	if (current_format == XTURN_LOG_JSON) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", stamp,
			xturn_log_level_name(level));
		json_escape(stderr, msg);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s %-5s %s\n", stamp, xturn_log_level_name(level), msg);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - rl->window_start_ms >= 1000) {
		if (rl->suppressed)
			log_msg(XTURN_LOG_WARN, "(%u similar messages suppressed)", rl->suppressed);
		rl->window_start_ms = now;
		rl->printed = rl->suppressed = 0;
	}
	if (rl->printed < 5) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
