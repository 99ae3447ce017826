// SPDX-License-Identifier: GPL-2.0
/* nt_fwd: the userspace forwarding table. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nt_fwd.h"

static struct nt_endpoint ep4(uint32_t ip, uint16_t port)
{
	struct nt_endpoint ep = { .family = NT_FAMILY_V4, .port = htons(port) };
	uint32_t be = htonl(ip);

	ep.addr[10] = ep.addr[11] = 0xff;
	memcpy(ep.addr + 12, &be, 4);
	return ep;
}

static void count(struct nt_fwd_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
}

Test(fwd, put_get_peer_del)
{
	struct nt_fwd f;
	struct nt_endpoint a = ep4(0xcb007107, 4000), b = ep4(0xcb007108, 5000);
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
		struct nt_endpoint s = ep4(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));

		cr_assert_eq(nt_fwd_put(&f, &s, NULL), 0);
	}
	cr_assert_eq(f.n, 5000);
	nt_fwd_for_each(&f, count, &n);
	cr_assert_eq(n, 5000);
	for (uint32_t i = 0; i < 5000; i += 2) {
		struct nt_endpoint s = ep4(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));

		cr_assert_eq(nt_fwd_del(&f, &s), 0);
	}
	for (uint32_t i = 0; i < 5000; i++) {
		struct nt_endpoint s = ep4(0x0a000000 + i / 7, (uint16_t)(1000 + i % 7));

		cr_assert_eq(nt_fwd_get(&f, &s) != NULL, i % 2 == 1, "entry %u", i);
	}
	/* port and family are part of the key */
	struct nt_endpoint x = ep4(0x0a000000, 1000), y = x;

	y.family = NT_FAMILY_V6;
	cr_assert_null(nt_fwd_get(&f, &y));
	y = x;
	y.port = htons(1001);
	cr_assert_not_null(nt_fwd_get(&f, &y));
	nt_fwd_free(&f);
}
