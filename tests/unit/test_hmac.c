// SPDX-License-Identifier: GPL-2.0
/* nt_hmac: RFC 4231 answers, a kept context rekeyed between calls, one per thread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "nt_hmac.h"

/* RFC 4231 test case 2 */
static const char key2[] = "Jefe", msg2[] = "what do ya want for nothing?";
static const uint8_t mac2[32] = { 0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
				  0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
				  0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43 };

/* the one-shot HMAC() the kept context replaced */
static void reference(const void *k, size_t kl, const void *m, size_t ml, uint8_t out[32])
{
	unsigned int len = 32;

	cr_assert_not_null(HMAC(EVP_sha256(), k, (int)kl, m, ml, out, &len));
}

Test(hmac, rfc4231_case2)
{
	uint8_t out[32];

	cr_assert_eq(nt_hmac_sha256(key2, 4, msg2, strlen(msg2), out), 0);
	cr_assert_arr_eq(out, mac2, 32);
}

Test(hmac, rekeyed_between_calls)
{
	uint8_t a[32], b[32], ref[32], k1[32], k2[64], msg[300];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	for (int round = 0; round < 3; round++) {
		cr_assert_eq(nt_hmac_sha256(k1, sizeof(k1), msg, sizeof(msg), a), 0);
		cr_assert_eq(nt_hmac_sha256(k2, sizeof(k2), msg, 100, b), 0);
		reference(k1, sizeof(k1), msg, sizeof(msg), ref);
		cr_assert_arr_eq(a, ref, 32, "the first key's MAC, after the second key was used");
		reference(k2, sizeof(k2), msg, 100, ref);
		cr_assert_arr_eq(b, ref, 32);
	}
	cr_assert_neq(memcmp(a, b, 32), 0);
}

Test(hmac, empty_key_refused)
{
	uint8_t out[32];

	/* EVP_MAC_init would take it as "the last key": never a MAC under someone else's key */
	cr_assert_eq(nt_hmac_sha256(key2, 0, msg2, strlen(msg2), out), -EIO);
	cr_assert_eq(nt_hmac_sha256(NULL, 4, msg2, strlen(msg2), out), -EIO);
}

static void *worker(void *arg)
{
	uint8_t out[32];
	int *bad = arg;

	for (int i = 0; i < 2000; i++)
		if (nt_hmac_sha256(key2, 4, msg2, strlen(msg2), out) || memcmp(out, mac2, 32))
			(*bad)++;
	return NULL;
}

Test(hmac, threads_each_their_own)
{
	pthread_t t[4];
	int bad[4] = { 0 };

	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, worker, &bad[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(bad[i], 0);
	}
}
