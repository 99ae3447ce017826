// SPDX-License-Identifier: GPL-2.0
/* nt_log: "<N>" priorities and no timestamp of ours when stderr is the journal. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "nt_log.h"

static FILE *capture;

/* stderr into a file of ours; JOURNAL_STREAM naming it when journal is set */
static void point_stderr(bool journal)
{
	struct stat st;
	char v[64];

	capture = tmpfile();
	cr_assert_not_null(capture);
	cr_assert_geq(dup2(fileno(capture), 2), 0);
	setvbuf(stderr, NULL, _IONBF, 0);
	cr_assert_eq(fstat(2, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (journal ? 0 : 1));
	setenv("JOURNAL_STREAM", v, 1);
	nt_log_redetect();
	nt_log_set_level(NT_LOG_DEBUG);
}

static char *captured(void)
{
	static char buf[4096];
	size_t n;

	fflush(stderr);
	rewind(capture);
	n = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[n] = '\0';
	return buf;
}

Test(log, journal_lines_carry_priority_and_no_timestamp)
{
	point_stderr(true);
	nt_err("disk %s", "gone");
	nt_warn("slow");
	nt_info("up on %d", 3478);
	nt_dbg("two\nlines\n");
	cr_assert_str_eq(captured(), "<3>disk gone\n<4>slow\n<6>up on 3478\n<7>two\n<7>lines\n");
}

Test(log, other_stream_keeps_timestamp_and_level)
{
	char *out;

	/* JOURNAL_STREAM inherited from a parent, but stderr goes elsewhere */
	point_stderr(false);
	nt_warn("slow");
	out = captured();
	cr_assert_eq(strncmp(out, "20", 2), 0, "timestamp first: %s", out);
	cr_assert_not_null(strstr(out, "Z warn  slow\n"), "%s", out);
	cr_assert_null(strchr(out, '<'), "%s", out);
}
