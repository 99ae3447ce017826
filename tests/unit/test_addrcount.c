// SPDX-License-Identifier: GPL-2.0
/* nt_addrcount: counts per address, ports ignored, bounded, deletions keep probes right. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "nt_addrcount.h"

static struct nt_endpoint v4(uint32_t a, uint16_t port)
{
	struct nt_endpoint e = { .family = NT_FAMILY_V4 };

	e.addr[10] = e.addr[11] = 0xff;
	e.addr[12] = (uint8_t)(a >> 24);
	e.addr[13] = (uint8_t)(a >> 16);
	e.addr[14] = (uint8_t)(a >> 8);
	e.addr[15] = (uint8_t)a;
	e.port = port;
	return e;
}

Test(addrcount, per_address_not_port)
{
	struct nt_addrcount t;
	struct nt_endpoint a1 = v4(0xcb007101, 1000), a2 = v4(0xcb007101, 2000), b = v4(0xcb007102, 1000);

	cr_assert_eq(nt_addrcount_init(&t, 4), 0);
	cr_assert_eq(nt_addrcount_inc(&t, &a1), 1);
	cr_assert_eq(nt_addrcount_inc(&t, &a2), 2);
	cr_assert_eq(nt_addrcount_inc(&t, &b), 1);
	cr_assert_eq(nt_addrcount_get(&t, &a1), 2);
	nt_addrcount_dec(&t, &a2);
	cr_assert_eq(nt_addrcount_get(&t, &a1), 1);
	nt_addrcount_dec(&t, &a1);
	cr_assert_eq(nt_addrcount_get(&t, &a1), 0);
	nt_addrcount_dec(&t, &a1); /* absent: no-op */
	cr_assert_eq(nt_addrcount_get(&t, &b), 1);
	cr_assert_eq(t.used, 1);
	nt_addrcount_free(&t);
}

Test(addrcount, bounded)
{
	struct nt_addrcount t;

	cr_assert_eq(nt_addrcount_init(&t, 3), 0);
	for (uint32_t i = 0; i < 3; i++) {
		struct nt_endpoint e = v4(i + 1, 1);

		cr_assert_eq(nt_addrcount_inc(&t, &e), 1);
	}
	struct nt_endpoint e4 = v4(4, 1), e1 = v4(1, 9);

	cr_assert_eq(nt_addrcount_inc(&t, &e4), -ENOSPC);
	cr_assert_eq(nt_addrcount_inc(&t, &e1), 2, "a held address still counts up");
	cr_assert_eq(nt_addrcount_init(&t, 0), -EINVAL);
}

/* Many addresses in and out in mixed order: counts always match a plain array. */
Test(addrcount, churn_matches_reference)
{
	enum { N = 300 };
	static uint32_t ref[N];
	struct nt_addrcount t;
	uint32_t x = 12345;

	memset(ref, 0, sizeof(ref));
	cr_assert_eq(nt_addrcount_init(&t, N), 0);
	for (int round = 0; round < 200000; round++) {
		uint32_t i;
		struct nt_endpoint e;

		x = x * 1103515245u + 12345u;
		i = (x >> 8) % N;
		e = v4(i * 2654435761u, (uint16_t)round);
		if ((x >> 4) & 1 || !ref[i]) {
			cr_assert_eq(nt_addrcount_inc(&t, &e), (int)ref[i] + 1);
			ref[i]++;
		} else {
			nt_addrcount_dec(&t, &e);
			ref[i]--;
		}
		if (round % 997 == 0)
			for (uint32_t k = 0; k < N; k++) {
				struct nt_endpoint f = v4(k * 2654435761u, 0);

				cr_assert_eq(nt_addrcount_get(&t, &f), ref[k], "address %u", k);
			}
	}
	nt_addrcount_free(&t);
}
