// SPDX-License-Identifier: GPL-2.0
/* nt_index: hash chains and free lists, under churn, against a plain array. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nt_index.h"

#define CAP 512

/* A small fixed generator: the same churn every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(index, hash_is_keyed_and_stable)
{
	uint64_t k1[2] = { 1, 2 }, k2[2] = { 1, 3 };
	const char *a = "a group name";

	cr_assert_eq(nt_index_hash(k1, a, strlen(a)), nt_index_hash(k1, a, strlen(a)));
	cr_assert_neq(nt_index_hash(k1, a, strlen(a)), nt_index_hash(k2, a, strlen(a)));
	cr_assert_neq(nt_index_hash(k1, a, strlen(a)), nt_index_hash(k1, a, strlen(a) - 1));
	/* the SipHash-2-4 test vector: key 00..0f, empty message */
	{
		uint8_t kb[16];
		uint64_t k[2];

		for (int i = 0; i < 16; i++)
			kb[i] = (uint8_t)i;
		memcpy(k, kb, 16);
		cr_assert_eq(nt_index_hash(k, "", 0), 0x726fdb47dd0e0e31ull);
	}
}

Test(index, freelist)
{
	struct nt_freelist f;
	bool taken[4] = { 0 };

	cr_assert_eq(nt_freelist_init(&f, 0), -EINVAL);
	cr_assert_eq(nt_freelist_init(&f, 4), 0);
	cr_assert_eq(nt_freelist_get(&f), 0, "lowest first");
	taken[0] = true;
	for (int i = 1; i < 4; i++) {
		int64_t s = nt_freelist_get(&f);

		cr_assert(s >= 0 && s < 4 && !taken[s]);
		taken[s] = true;
	}
	cr_assert_eq(nt_freelist_get(&f), -ENOSPC);
	nt_freelist_put(&f, 2);
	cr_assert_eq(nt_freelist_get(&f), 2);
	cr_assert_eq(nt_freelist_get(&f), -ENOSPC);
	nt_freelist_free(&f);
}

/*
 * Entries with keys from a small range (so chains share buckets and keys
 * repeat) come and go at random; every key's lookup through the index must
 * find exactly the entries a scan of the array finds.
 */
Test(index, churn_matches_a_scan)
{
	struct nt_hidx x;
	struct nt_freelist f;
	uint64_t hk[2] = { 7, 11 }, seed = 88172645463325252ull;
	uint32_t keys[CAP];
	bool used[CAP] = { 0 };
	size_t n = 0;

	cr_assert_eq(nt_hidx_init(&x, CAP), 0);
	cr_assert_eq(nt_freelist_init(&f, CAP), 0);
	for (int round = 0; round < 200000; round++) {
		uint64_t r = rnd(&seed);

		if ((r & 3) != 0 && n < CAP) { /* add, 3 in 4 while there is room */
			int64_t i = nt_freelist_get(&f);
			uint32_t k = (uint32_t)(r >> 8) % 300;

			cr_assert(i >= 0 && !used[i], "a free slot");
			keys[i] = k;
			used[i] = true;
			nt_hidx_add(&x, nt_index_hash(hk, &k, sizeof(k)), (uint32_t)i);
			n++;
		} else if (n) { /* delete a random used one */
			uint32_t i = (uint32_t)(r >> 8) % CAP;

			while (!used[i])
				i = (i + 1) % CAP;
			nt_hidx_del(&x, nt_index_hash(hk, &keys[i], sizeof(keys[i])), i);
			used[i] = false;
			nt_freelist_put(&f, i);
			n--;
		}
		if (round % 97)
			continue;
		for (uint32_t k = 0; k < 300; k++) {
			size_t want = 0, got = 0;

			for (size_t i = 0; i < CAP; i++)
				want += used[i] && keys[i] == k;
			for (uint32_t it = nt_hidx_first(&x, nt_index_hash(hk, &k, sizeof(k))); it;
			     it = nt_hidx_next(&x, it)) {
				cr_assert(used[it - 1], "only live entries in chains");
				got += keys[it - 1] == k;
			}
			cr_assert_eq(got, want, "key %u: %zu in the index, %zu in the array", k, got,
				     want);
		}
		cr_assert_eq(f.n, CAP - n);
	}
	/* deleting what is not there changes nothing */
	for (uint32_t i = 0; i < CAP; i++)
		if (!used[i])
			nt_hidx_del(&x, 0, i);
	nt_hidx_free(&x);
	nt_freelist_free(&f);
}
