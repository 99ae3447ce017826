// SPDX-License-Identifier: GPL-2.0
/* nt_prom: label values escaped per the text format; process figures that make sense. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "nt_prom.h"

static char *escaped(const char *s)
{
	static char *buf;
	size_t len;
	FILE *f;

	free(buf);
	f = open_memstream(&buf, &len);
	nt_prom_escape(f, s);
	fclose(f);
	return buf;
}

Test(prom, escapes_backslash_quote_newline_only)
{
	cr_assert_str_eq(escaped("eth0"), "eth0");
	cr_assert_str_eq(escaped("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
	cr_assert_str_eq(escaped("tab\there ü"), "tab\there ü");
	cr_assert_str_eq(escaped(""), "");
}

Test(prom, process_figures)
{
	struct nt_proc_stats a, b;
	int fd;

	cr_assert_eq(nt_proc_stats_read(&a), 0);
	fd = open("/dev/null", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(nt_proc_stats_read(&b), 0);
	cr_assert_eq(b.open_fds, a.open_fds + 1, "one more fd: %llu -> %llu",
		     (unsigned long long)a.open_fds, (unsigned long long)b.open_fds);
	close(fd);
	cr_assert_gt(a.rss_bytes, 0);
	cr_assert_geq(a.vsize_bytes, a.rss_bytes);
	cr_assert_gt(a.max_fds, a.open_fds);
	/* started within the last hour, not in the future */
	cr_assert_leq(a.start_time_s, (double)time(NULL) + 1);
	cr_assert_gt(a.start_time_s, (double)time(NULL) - 3600);
	cr_assert_geq(a.cpu_seconds, 0);
}
