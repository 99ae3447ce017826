// SPDX-License-Identifier: GPL-2.0
/* nt_refusal: a flood of refused datagrams is one bounded summary line per interval. */
#include <criterion/criterion.h>
#include <string.h>

#include "nt_refusal.h"
#include "endpoints.h"

Test(refusal, nothing_noted_nothing_to_log)
{
	static struct nt_refusals rf;
	char line[256] = "x";

	cr_assert_eq(nt_refusal_flush(&rf, 10, line, sizeof(line)), 0);
	cr_assert_str_eq(line, "");
}

Test(refusal, one_line_for_a_flood)
{
	static struct nt_refusals rf;
	struct nt_endpoint a = ep4("192.0.2.7", 1), b = ep6("2001:db8::9", 2);
	char line[512];
	size_t n;

	for (int i = 0; i < 100000; i++)
		nt_refusal_note(&rf, NT_REF_BAD_MAC, a.addr);
	for (int i = 0; i < 20; i++)
		nt_refusal_note(&rf, NT_REF_UNKNOWN_SESSION, b.addr);
	nt_refusal_note(&rf, NT_REF_REPLAY, b.addr);
	n = nt_refusal_flush(&rf, 10, line, sizeof(line));
	cr_assert_eq(n, strlen(line));
	cr_assert_str_eq(line, "udp: refused 100021 datagrams from 2 sources in the last 10s "
			       "(unknown session: 20, bad mac: 100000, replayed: 1; "
			       "top source 192.0.2.7: 100000)");
	/* counted once: the next interval starts empty */
	cr_assert_eq(nt_refusal_flush(&rf, 10, line, sizeof(line)), 0);
	nt_refusal_note(&rf, NT_REF_RATE, b.addr);
	nt_refusal_flush(&rf, 10, line, sizeof(line));
	cr_assert_str_eq(line, "udp: refused 1 datagram from 1 source in the last 10s "
			       "(over rate: 1; top source [2001:db8::9]: 1)");
}

Test(refusal, many_sources_fixed_memory)
{
	static struct nt_refusals rf;
	char line[512];

	for (uint32_t i = 0; i < 10000; i++) {
		struct nt_endpoint e = ep4n(0xC6336400 + i, 1); /* 198.51.100.0 on */

		nt_refusal_note(&rf, NT_REF_MALFORMED, e.addr);
		if (i == 3)
			nt_refusal_note(&rf, NT_REF_MALFORMED, e.addr);
	}
	cr_assert_eq(rf.nsrc, NT_REFUSAL_SOURCES);
	nt_refusal_flush(&rf, 10, line, sizeof(line));
	cr_assert_str_eq(line, "udp: refused 10001 datagrams from more than 64 sources in the last "
			       "10s (malformed: 10001; top source 198.51.100.3: 2)");
}

Test(refusal, truncated_to_the_buffer)
{
	static struct nt_refusals rf;
	struct nt_endpoint a = ep4("192.0.2.7", 1);
	char line[24];

	for (int r = 0; r < NT_REF_MAX; r++)
		nt_refusal_note(&rf, (enum nt_refusal_reason)r, a.addr);
	nt_refusal_note(&rf, NT_REF_MAX, a.addr); /* out of range: ignored */
	cr_assert_eq(nt_refusal_flush(&rf, 10, line, sizeof(line)), sizeof(line) - 1);
	cr_assert_eq(strlen(line), sizeof(line) - 1);
	cr_assert_str_eq(nt_refusal_name(NT_REF_BAD_MAC), "bad mac");
	cr_assert_str_eq(nt_refusal_name(NT_REF_MAX), "?");
}
