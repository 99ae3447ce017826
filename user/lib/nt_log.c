// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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

/*
 * Under systemd, stderr is a stream to journald, which stamps each line
 * itself and reads its priority from an sd-daemon "<N>" prefix; our own
 * timestamp and level word would only be noise there. JOURNAL_STREAM names
 * the stream's device:inode, so a stderr redirected elsewhere by the unit's
 * child (or a shell) is not mistaken for the journal.
 */
enum sink { SINK_UNKNOWN, SINK_PLAIN, SINK_JOURNAL };
static enum sink sink;
static const int journal_prio[] = { 3, 4, 6, 7 }; /* err, warning, info, debug */

static enum sink detect_sink(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st))
		return SINK_PLAIN;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino ?
		       SINK_JOURNAL : SINK_PLAIN;
}

void nt_log_redetect(void)
{
	sink = SINK_UNKNOWN;
}

static void vlog_journal(enum nt_log_level level, const char *fmt, va_list ap)
{
	char buf[4096];
	const char *line = buf, *nl;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* every line carries the priority: journald reads each line alone */
	for (;;) {
		nl = strchr(line, '\n');
		fprintf(stderr, "<%d>%.*s\n", journal_prio[level],
			nl ? (int)(nl - line) : (int)strlen(line), line);
		if (!nl || !nl[1])
			break;
		line = nl + 1;
	}
}

static void vlog(enum nt_log_level level, const char *fmt, va_list ap)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	size_t n;

	if (sink == SINK_UNKNOWN)
		sink = detect_sink();
	if (sink == SINK_JOURNAL) {
		vlog_journal(level, fmt, ap);
		return;
	}
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
