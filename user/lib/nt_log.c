// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "nt_log.h"

static enum nt_log_level cur_level = NT_LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void nt_log_set_level(enum nt_log_level level)
{
	cur_level = level;
}

enum nt_log_level nt_log_get_level(void)
{
	return cur_level;
}

int nt_log_parse_level(const char *s)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (s && !strcmp(s, level_names[i]))
			return (int)i;
	return -EINVAL;
}

static void vlog(enum nt_log_level level, const char *fmt, va_list ap)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s ", ts, now.tv_nsec / 1000000, level_names[level]);
	vfprintf(stderr, fmt, ap);
	n = strlen(fmt);
	if (!n || fmt[n - 1] != '\n')
		fputc('\n', stderr);
}

void nt_log(enum nt_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static struct {
	char *buf;
	size_t len, used;
} keep;

void nt_log_libbpf_keep(char *buf, size_t len)
{
	keep.buf = len ? buf : NULL;
	keep.len = len;
	keep.used = 0;
	if (keep.buf)
		keep.buf[0] = '\0';
}

/* the first warnings that fit: the one naming the cause comes before its echoes */
static void keep_warning(const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (!keep.buf || keep.used + 1 >= keep.len)
		return;
	va_copy(cp, ap);
	n = vsnprintf(keep.buf + keep.used, keep.len - keep.used, fmt, cp);
	va_end(cp);
	if (n > 0)
		keep.used = keep.used + (size_t)n < keep.len ? keep.used + (size_t)n : keep.len - 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum nt_log_level l = level == LIBBPF_WARN ? NT_LOG_WARN : NT_LOG_DEBUG;

	if (level == LIBBPF_WARN)
		keep_warning(fmt, ap);

	/*
	 * Netlink's extack ("native XDP not supported", "cannot find filter
	 * chain" before a first TC attach): our own callers say what it meant.
	 */
	if (strstr(fmt, "Kernel error message"))
		l = NT_LOG_DEBUG;
	if (l > cur_level)
		return 0;
	vlog(l, fmt, ap);
	return 0;
}

void nt_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
