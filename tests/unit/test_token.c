// SPDX-License-Identifier: GPL-2.0
/* nt_token: mint/verify round trips, expiry, forgeries, malformed tokens. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "nt_token.h"

static const char secret[] = "north-wind-shared-secret";
#define SLEN (sizeof(secret) - 1)
#define NOW 1700000000ull

static int verify(const char *tok, uint64_t now)
{
	char user[NT_TOKEN_USER_MAX + 1];
	uint64_t exp;

	return nt_token_verify(secret, SLEN, tok, now, user, &exp);
}

Test(token, round_trip)
{
	char tok[NT_TOKEN_MAX + 1], user[NT_TOKEN_USER_MAX + 1];
	uint64_t exp = 0;
	int n;

	n = nt_token_mint_ttl(secret, SLEN, "alice@example.org", NOW, 3600, tok,
			      sizeof(tok));
	cr_assert_eq(n, (int)strlen(tok));
	cr_assert_eq(nt_token_verify(secret, SLEN, tok, NOW, user, &exp), 0);
	cr_assert_str_eq(user, "alice@example.org");
	cr_assert_eq(exp, NOW + 3600);
	cr_assert_eq(strncmp(tok, "1700003600:alice@example.org:", 29), 0);
}

/* The MAC is the one a TURN server would compute: independent HMAC + base64. */
Test(token, matches_turn_rest_layout)
{
	unsigned char mac[32];
	unsigned int mlen = 32;
	char b64[45], want[128], tok[NT_TOKEN_MAX + 1];

	HMAC(EVP_sha256(), secret, SLEN, (const unsigned char *)"42:bob", 6,
	     mac, &mlen);
	EVP_EncodeBlock((unsigned char *)b64, mac, 32);
	snprintf(want, sizeof(want), "42:bob:%s", b64);
	cr_assert_gt(nt_token_mint(secret, SLEN, "bob", 42, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, want);
}

Test(token, expired)
{
	char tok[NT_TOKEN_MAX + 1], user[NT_TOKEN_USER_MAX + 1];
	uint64_t exp;

	nt_token_mint(secret, SLEN, "alice", NOW, tok, sizeof(tok));
	cr_assert_eq(verify(tok, NOW - 1), 0);
	cr_assert_eq(nt_token_verify(secret, SLEN, tok, NOW, user, &exp),
		     -ETIMEDOUT);
	cr_assert_str_eq(user, "alice");
	cr_assert_eq(verify(tok, NOW + 100000), -ETIMEDOUT);
}

Test(token, wrong_secret)
{
	char tok[NT_TOKEN_MAX + 1];

	nt_token_mint(secret, SLEN, "alice", NOW + 60, tok, sizeof(tok));
	cr_assert_eq(nt_token_verify("other", 5, tok, NOW, NULL, NULL), -EACCES);
	cr_assert_eq(nt_token_verify(secret, SLEN - 1, tok, NOW, NULL, NULL),
		     -EACCES);
}

/* Flip each bit of the MAC's decoded bytes: every one must be caught. */
Test(token, forged_mac_bits)
{
	char tok[NT_TOKEN_MAX + 1], forged[NT_TOKEN_MAX + 1];
	unsigned char raw[35];
	char *mac;

	nt_token_mint(secret, SLEN, "alice", NOW + 60, tok, sizeof(tok));
	mac = strrchr(tok, ':') + 1;
	cr_assert_eq(EVP_DecodeBlock(raw, (unsigned char *)mac, 44), 33);
	for (int bit = 0; bit < 256; bit++) {
		size_t pre = (size_t)(mac - tok);

		raw[bit / 8] ^= 1u << (bit % 8);
		memcpy(forged, tok, pre);
		EVP_EncodeBlock((unsigned char *)forged + pre, raw, 32);
		raw[bit / 8] ^= 1u << (bit % 8);
		cr_assert_eq(verify(forged, NOW), -EACCES, "bit %d", bit);
	}
}

Test(token, forged_user_and_expiry)
{
	char tok[NT_TOKEN_MAX + 1];

	nt_token_mint(secret, SLEN, "alice", NOW + 60, tok, sizeof(tok));
	tok[11] ^= 0x20; /* 'a' -> 'A' in the user */
	cr_assert_eq(tok[11], 'A');
	cr_assert_eq(verify(tok, NOW), -EACCES);
	tok[11] ^= 0x20;
	tok[9] ^= 0x01; /* last expiry digit 0 -> 1: still a number */
	cr_assert_eq(verify(tok, NOW), -EACCES);
	tok[9] ^= 0x01;
	cr_assert_eq(verify(tok, NOW), 0);
	/* an expired forgery is reported forged, not expired */
	tok[9] ^= 0x01;
	cr_assert_eq(verify(tok, NOW + 1000), -EACCES);
}

Test(token, malformed)
{
	char tok[NT_TOKEN_MAX + 1], bad[600];
	const char *mac;

	nt_token_mint(secret, SLEN, "alice", NOW + 60, tok, sizeof(tok));
	mac = strrchr(tok, ':') + 1;
	const char *cases[] = {
		"", ":", "::", "1700000060", "1700000060:alice",
		"1700000060:alice:", ":alice:x", "1700000060::x",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(verify(cases[i], NOW), -EINVAL, "case %zu", i);

	/* bad numbers: sign, space, leading zero, hex, overflow */
	const char *nums[] = { "+1700000060", "-1", " 1700000060",
			       "1700000060 ", "01700000060", "0x65",
			       "18446744073709551616", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(bad, sizeof(bad), "%s:alice:%s", nums[i], mac);
		cr_assert_eq(verify(bad, NOW), -EINVAL, "%s", bad);
	}
	/* UINT64_MAX itself parses (and then is simply forged) */
	snprintf(bad, sizeof(bad), "18446744073709551615:alice:%s", mac);
	cr_assert_eq(verify(bad, NOW), -EACCES);

	/* bad base64: truncated, extra, no padding, bad char, trailing bits */
	snprintf(bad, sizeof(bad), "1700000060:alice:%.43s", mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "%s=", tok);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[strlen(bad) - 1] = 'A';
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[strlen(bad) - 10] = '*';
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[strlen(bad) - 2] ^= 1; /* 43rd char carries 2 unused bits */
	cr_assert_eq(verify(bad, NOW), -EINVAL);

	/* bad user: charset, colon, too long */
	snprintf(bad, sizeof(bad), "1700000060:al ice:%s", mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "1700000060:al:ice:%s", mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	memset(bad, 'u', sizeof(bad));
	bad[sizeof(bad) - 1] = '\0';
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "1:%065d:%s", 0, mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
}

Test(token, user_rules)
{
	char tok[NT_TOKEN_MAX + 1], u64[65];

	memset(u64, 'x', 64);
	u64[64] = '\0';
	cr_assert(nt_token_user_valid(u64));
	cr_assert_gt(nt_token_mint(secret, SLEN, u64, NOW + 1, tok, sizeof(tok)), 0);
	cr_assert_lt(strlen(tok), NT_TOKEN_MAX);
	cr_assert_eq(verify(tok, NOW), 0);
	cr_assert_not(nt_token_user_valid(""));
	cr_assert_not(nt_token_user_valid("a:b"));
	cr_assert_not(nt_token_user_valid("a\nb"));
	cr_assert(nt_token_user_valid("A.b_c@d-e9"));
	cr_assert_eq(nt_token_mint(secret, SLEN, "bad user", NOW, tok, sizeof(tok)),
		     -EINVAL);
	cr_assert_eq(nt_token_mint(secret, 0, "alice", NOW, tok, sizeof(tok)),
		     -EINVAL);
	cr_assert_eq(nt_token_mint(secret, SLEN, "alice", NOW, tok, 20), -ENOSPC);
	cr_assert_eq(nt_token_mint_ttl(secret, SLEN, "alice", UINT64_MAX, 1, tok,
				       sizeof(tok)), -EINVAL);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

Test(token, read_secret)
{
	char path[] = "/tmp/nt_token_testXXXXXX";
	unsigned char buf[NT_TOKEN_SECRET_MAX], big[NT_TOKEN_SECRET_MAX + 2];
	size_t len;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path, "s3cret\n", 7);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), 0);
	cr_assert_eq(len, 6);
	cr_assert_eq(memcmp(buf, "s3cret", 6), 0);
	write_file(path, "s3cret\n\n", 8); /* only one newline goes */
	cr_assert_eq(nt_token_read_secret(path, buf, &len), 0);
	cr_assert_eq(len, 7);
	write_file(path, "s3cret\r\n", 8);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), 0);
	cr_assert_eq(len, 6);
	write_file(path, "", 0);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), -ENODATA);
	write_file(path, "\n", 1);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), -ENODATA);
	memset(big, 'k', sizeof(big));
	big[NT_TOKEN_SECRET_MAX] = '\n';
	write_file(path, big, NT_TOKEN_SECRET_MAX + 1);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), 0);
	cr_assert_eq(len, NT_TOKEN_SECRET_MAX);
	big[NT_TOKEN_SECRET_MAX] = 'k';
	write_file(path, big, NT_TOKEN_SECRET_MAX + 1);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), -EFBIG);
	write_file(path, big, sizeof(big));
	cr_assert_eq(nt_token_read_secret(path, buf, &len), -EFBIG);
	unlink(path);
	cr_assert_eq(nt_token_read_secret(path, buf, &len), -ENOENT);
}
