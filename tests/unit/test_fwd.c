// SPDX-License-Identifier: GPL-2.0
/* nt_fwd: the userspace forwarding table. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nt_fwd.h"
#include "endpoints.h"

static void count(struct nt_fwd_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
}

Test(fwd, put_get_peer_del)
{
	struct nt_fwd f;
	struct nt_endpoint a = ep4n(0xcb007107, 4000), b = ep4n(0xcb007108, 5000);
	struct nt_fwd_entry *e;

	cr_assert_eq(nt_fwd_init(&f, 4), 0);
	cr_assert_null(nt_fwd_get(&f, &a));
	cr_assert_eq(nt_fwd_put(&f, &a, NULL), 0);
	e = nt_fwd_get(&f, &a);
	cr_assert_not_null(e);
	cr_assert_eq(e->peer.family, 0, "no peer yet");
	e->packets = 5;
	cr_assert_eq(nt_fwd_put(&f, &a, &b), 0);
	cr_assert_eq(nt_fwd_get(&f, &a), e, "same entry");
	cr_assert_eq(e->packets, 5, "counters kept");
	cr_assert_eq(memcmp(&e->peer, &b, sizeof(b)), 0);
	cr_assert_eq(nt_fwd_put(&f, &a, NULL), 0);
	cr_assert_eq(e->peer.family, 0, "peer unlinked");
	cr_assert_null(nt_fwd_get(&f, &b));
	cr_assert_eq(nt_fwd_del(&f, &a), 0);
	cr_assert_eq(nt_fwd_del(&f, &a), -ENOENT);
	cr_assert_eq(f.n, 0);
	nt_fwd_free(&f);
}

Test(fwd, many_and_collisions)
{
	struct nt_fwd f;
	size_t n = 0;

	cr_assert_eq(nt_fwd_init(&f, 16), 0);
	for (uint32_t i = 0; i < 5000; i++) {
		struct nt_endpoint s = ep4n(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));

		cr_assert_eq(nt_fwd_put(&f, &s, NULL), 0);
	}
	cr_assert_eq(f.n, 5000);
	nt_fwd_for_each(&f, count, &n);
	cr_assert_eq(n, 5000);
	for (uint32_t i = 0; i < 5000; i += 2) {
		struct nt_endpoint s = ep4n(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));

		cr_assert_eq(nt_fwd_del(&f, &s), 0);
	}
	for (uint32_t i = 0; i < 5000; i++) {
		struct nt_endpoint s = ep4n(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));

		cr_assert_eq(nt_fwd_get(&f, &s) != NULL, i % 2 == 1, "entry %u", i);
	}
	/* port and family are part of the key */
	struct nt_endpoint x = ep4n(0x0a000000, 1000), y = x;

	y.family = NT_FAMILY_V6;
	cr_assert_null(nt_fwd_get(&f, &y));
	y = x;
	y.port = 1001;
	cr_assert_not_null(nt_fwd_get(&f, &y));
	nt_fwd_free(&f);
}

Test(fwd, fanout_groups)
{
	struct nt_fwd f;
	struct nt_endpoint m[3] = { ep4n(0x0a000001, 1), ep4n(0x0a000002, 2), ep4n(0x0a000003, 3) };
	struct nt_fwd_group *g;

	cr_assert_eq(nt_fwd_init(&f, 4), 0);
	cr_assert_eq(nt_fwd_set_group(&f, &m[0], 7, NT_MAPPING_F_FANOUT), -ENOENT);
	cr_assert_eq(nt_fwd_put(&f, &m[0], NULL), 0);
	cr_assert_eq(nt_fwd_set_group(&f, &m[0], 7, NT_MAPPING_F_FANOUT), 0);
	cr_assert_eq(nt_fwd_get(&f, &m[0])->flags, NT_MAPPING_F_FANOUT);
	cr_assert_null(nt_fwd_group_get(&f, 7));
	cr_assert_eq(nt_fwd_group_put(&f, 7, m, 3), 0);
	cr_assert_eq(nt_fwd_group_put(&f, 71, m, 2), 0, "same hash bucket as 7");
	g = nt_fwd_group_get(&f, 7);
	cr_assert_not_null(g);
	cr_assert_eq(g->n, 3);
	g->delivered[0] = 5;
	g->delivered[2] = 9;
	/* member 1 goes: the others keep their pending counters */
	m[1] = m[2];
	cr_assert_eq(nt_fwd_group_put(&f, 7, m, 2), 0);
	cr_assert_eq(nt_fwd_group_get(&f, 7), g);
	cr_assert_eq(g->n, 2);
	cr_assert_eq(g->delivered[0], 5);
	cr_assert_eq(g->delivered[1], 9);
	cr_assert_eq(nt_fwd_group_put(&f, 7, m, NT_GROUP_MAX_MEMBERS + 1), -E2BIG);
	cr_assert_eq(nt_fwd_group_del(&f, 7), 0);
	cr_assert_null(nt_fwd_group_get(&f, 7));
	cr_assert_not_null(nt_fwd_group_get(&f, 71));
	cr_assert_eq(nt_fwd_group_del(&f, 7), -ENOENT);
	nt_fwd_free(&f); /* frees group 71 too (ASan/valgrind would tell) */
}

Test(fwd, token_bucket_as_the_xdp_program)
{
	struct nt_fwd_entry e = { 0 };
	uint64_t cost, burst, now = 5000000000ull;
	int passed = 0;

	nt_fwd_rate_config(1000, 10, &cost, &burst);
	cr_assert_eq(cost, 1000000);
	cr_assert_eq(burst, 10000000);
	nt_fwd_rate_config(0, 10, &cost, &burst);
	cr_assert_eq(cost, 0, "0 pps: no limit");
	cr_assert_not(nt_fwd_over_rate(&e, 0, 0, now));
	nt_fwd_rate_config(1000, 10, &cost, &burst);
	/* a fresh sender has a full bucket: 10 back to back, then the rate */
	for (int i = 0; i < 20; i++)
		passed += !nt_fwd_over_rate(&e, cost, burst, now);
	cr_assert_eq(passed, 10);
	cr_assert_eq(e.rate_drops, 10);
	/* 1 s at 2000 pps: 1000 pass */
	passed = 0;
	for (int i = 1; i <= 2000; i++)
		passed += !nt_fwd_over_rate(&e, cost, burst, now + (uint64_t)i * 500000);
	cr_assert(passed >= 999 && passed <= 1001, "passed %d", passed);
	/* a clock that goes back gets a full bucket, never a huge one */
	e.tb_last_ns = now * 2;
	cr_assert_not(nt_fwd_over_rate(&e, cost, burst, now));
	cr_assert_eq(e.tb_credit_ns, burst - cost);
}
