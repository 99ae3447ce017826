// SPDX-License-Identifier: GPL-2.0
/* nt_token: mint/verify round trips, groups, expiry, forgeries, malformed tokens. */
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

static const char *const room9[] = { "room9" };
static const char *const any[] = { "*" };

static int verify(const char *tok, uint64_t now)
{
	struct nt_token_claims c;

	return nt_token_verify(secret, SLEN, tok, now, &c);
}

static int mint(const char *user, uint64_t expiry, char *tok, size_t len)
{
	return nt_token_mint(secret, SLEN, user, room9, 1, expiry, tok, len);
}

Test(token, round_trip)
{
	static const char *const groups[] = { "room9", "lobby", "a.b_c-d" };
	char tok[NT_TOKEN_MAX + 1];
	struct nt_token_claims c;
	int n;

	n = nt_token_mint_ttl(secret, SLEN, "alice@example.org", groups, 3, NOW, 3600, tok,
			      sizeof(tok));
	cr_assert_eq(n, (int)strlen(tok));
	cr_assert_eq(nt_token_verify(secret, SLEN, tok, NOW, &c), 0);
	cr_assert_str_eq(c.user, "alice@example.org");
	cr_assert_eq(c.expiry, NOW + 3600);
	cr_assert_not(c.any_group);
	cr_assert_eq(c.ngroups, 3);
	cr_assert_str_eq(c.groups[1], "lobby");
	cr_assert_eq(strncmp(tok, "v2:1700003600:alice@example.org:room9,lobby,a.b_c-d:", 52), 0);
	cr_assert(nt_token_allows(&c, "room9"));
	cr_assert(nt_token_allows(&c, "a.b_c-d"));
	cr_assert_not(nt_token_allows(&c, "room1"));
	cr_assert_not(nt_token_allows(&c, "room"));
	cr_assert_not(nt_token_allows(&c, "*"));
}

Test(token, wildcard)
{
	char tok[NT_TOKEN_MAX + 1];
	struct nt_token_claims c;

	cr_assert_gt(nt_token_mint(secret, SLEN, "bot", any, 1, NOW + 5, tok, sizeof(tok)), 0);
	cr_assert_eq(strncmp(tok, "v2:1700000005:bot:*:", 20), 0);
	cr_assert_eq(nt_token_verify(secret, SLEN, tok, NOW, &c), 0);
	cr_assert(c.any_group);
	cr_assert(nt_token_allows(&c, "anything"));
}

/* The MAC is what an application server computes: independent HMAC + base64. */
Test(token, matches_documented_layout)
{
	unsigned char mac[32];
	unsigned int mlen = 32;
	char b64[45], want[128], tok[NT_TOKEN_MAX + 1];
	const char *msg = "v2:42:bob:room9";

	HMAC(EVP_sha256(), secret, SLEN, (const unsigned char *)msg, strlen(msg), mac, &mlen);
	EVP_EncodeBlock((unsigned char *)b64, mac, 32);
	snprintf(want, sizeof(want), "%s:%s", msg, b64);
	cr_assert_gt(mint("bob", 42, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, want);
}

Test(token, group_lists_refused_at_mint)
{
	static const char *const dup[] = { "a", "b", "a" };
	static const char *const star2[] = { "*", "a" };
	static const char *const badname[] = { "a b" };
	static const char *const empty[] = { "" };
	const char *many[NT_TOKEN_GROUPS_MAX + 1];
	char tok[NT_TOKEN_MAX + 1], names[NT_TOKEN_GROUPS_MAX + 1][8];

	cr_assert_eq(nt_token_mint(secret, SLEN, "u", dup, 3, NOW, tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(nt_token_mint(secret, SLEN, "u", star2, 2, NOW, tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(nt_token_mint(secret, SLEN, "u", badname, 1, NOW, tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(nt_token_mint(secret, SLEN, "u", empty, 1, NOW, tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(nt_token_mint(secret, SLEN, "u", room9, 0, NOW, tok, sizeof(tok)), -EINVAL);
	for (int i = 0; i <= NT_TOKEN_GROUPS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "g%d", i);
		many[i] = names[i];
	}
	cr_assert_gt(nt_token_mint(secret, SLEN, "u", many, NT_TOKEN_GROUPS_MAX, NOW, tok,
				   sizeof(tok)), 0);
	cr_assert_eq(verify(tok, NOW - 1), 0);
	cr_assert_eq(nt_token_mint(secret, SLEN, "u", many, NT_TOKEN_GROUPS_MAX + 1, NOW, tok,
				   sizeof(tok)), -EINVAL);
}

/* The longest names that fit: every token stays within NT_TOKEN_MAX. */
Test(token, longest_fits_a_line)
{
	char names[5][NT_LINE_GROUP_MAX + 1], user[NT_TOKEN_USER_MAX + 1];
	const char *g[5];
	char tok[NT_TOKEN_MAX + 1];
	int n;

	memset(user, 'u', NT_TOKEN_USER_MAX);
	user[NT_TOKEN_USER_MAX] = '\0';
	for (int i = 0; i < 5; i++) {
		memset(names[i], 'a' + i, NT_LINE_GROUP_MAX);
		names[i][NT_LINE_GROUP_MAX] = '\0';
		g[i] = names[i];
	}
	/* 4 x 64 + 3 commas fit the groups field; 5 do not */
	n = nt_token_mint(secret, SLEN, user, g, 4, UINT64_MAX, tok, sizeof(tok));
	cr_assert_gt(n, 0);
	cr_assert_leq(n, NT_TOKEN_MAX);
	cr_assert_eq(verify(tok, NOW), 0);
	cr_assert_eq(nt_token_mint(secret, SLEN, user, g, 5, UINT64_MAX, tok, sizeof(tok)),
		     -ENOSPC);
}

Test(token, v1_is_refused_as_such)
{
	unsigned char mac[32];
	unsigned int mlen = 32;
	char b64[45], v1[128];

	HMAC(EVP_sha256(), secret, SLEN, (const unsigned char *)"1700000060:bob", 14, mac, &mlen);
	EVP_EncodeBlock((unsigned char *)b64, mac, 32);
	snprintf(v1, sizeof(v1), "1700000060:bob:%s", b64);
	cr_assert_eq(verify(v1, NOW), -EPROTO);
	cr_assert_eq(verify("1700000060:bob", NOW), -EINVAL);
}

Test(token, expired)
{
	char tok[NT_TOKEN_MAX + 1];
	struct nt_token_claims c;

	mint("alice", NOW, tok, sizeof(tok));
	cr_assert_eq(verify(tok, NOW - 1), 0);
	cr_assert_eq(nt_token_verify(secret, SLEN, tok, NOW, &c), -ETIMEDOUT);
	cr_assert_str_eq(c.user, "alice");
	cr_assert_eq(verify(tok, NOW + 100000), -ETIMEDOUT);
}

Test(token, wrong_secret)
{
	char tok[NT_TOKEN_MAX + 1];

	mint("alice", NOW + 60, tok, sizeof(tok));
	cr_assert_eq(nt_token_verify("other", 5, tok, NOW, NULL), -EACCES);
	cr_assert_eq(nt_token_verify(secret, SLEN - 1, tok, NOW, NULL), -EACCES);
}

/* Flip each bit of the MAC's decoded bytes: every one must be caught. */
Test(token, forged_mac_bits)
{
	char tok[NT_TOKEN_MAX + 1], forged[NT_TOKEN_MAX + 1];
	unsigned char raw[35];
	char *mac;

	mint("alice", NOW + 60, tok, sizeof(tok));
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

Test(token, forged_user_expiry_and_groups)
{
	char tok[NT_TOKEN_MAX + 1], other[NT_TOKEN_MAX + 1];

	mint("alice", NOW + 60, tok, sizeof(tok));
	/* v2:1700000060:alice:room9:... */
	tok[14] ^= 0x20; /* 'a' -> 'A' in the user */
	cr_assert_eq(tok[14], 'A');
	cr_assert_eq(verify(tok, NOW), -EACCES);
	tok[14] ^= 0x20;
	tok[12] ^= 0x01; /* last expiry digit 0 -> 1: still a number */
	cr_assert_eq(verify(tok, NOW), -EACCES);
	tok[12] ^= 0x01;
	tok[24] = '8'; /* room9 -> room8 */
	cr_assert_eq(verify(tok, NOW), -EACCES);
	tok[24] = '9';
	cr_assert_eq(verify(tok, NOW), 0);
	/* a group added, or the list widened to '*', is a forgery */
	snprintf(other, sizeof(other), "v2:1700000060:alice:room9,room1:%s", strrchr(tok, ':') + 1);
	cr_assert_eq(verify(other, NOW), -EACCES);
	snprintf(other, sizeof(other), "v2:1700000060:alice:*:%s", strrchr(tok, ':') + 1);
	cr_assert_eq(verify(other, NOW), -EACCES);
	/* an expired forgery is reported forged, not expired */
	tok[12] ^= 0x01;
	cr_assert_eq(verify(tok, NOW + 1000), -EACCES);
}

Test(token, malformed)
{
	char tok[NT_TOKEN_MAX + 1], bad[600];
	const char *mac;

	mint("alice", NOW + 60, tok, sizeof(tok));
	mac = strrchr(tok, ':') + 1;
	const char *cases[] = {
		"", ":", "::", "v2", "v2:", "v2:1700000060", "v2:1700000060:alice",
		"v2:1700000060:alice:room9", "v2:1700000060:alice:room9:",
		"v2::alice:room9:x", "v2:1700000060::room9:x", "v3:1700000060:alice:room9:x",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(verify(cases[i], NOW), -EINVAL, "case %zu", i);

	/* bad numbers: sign, space, leading zero, hex, overflow */
	const char *nums[] = { "+1700000060", "-1", " 1700000060",
			       "1700000060 ", "01700000060", "0x65",
			       "18446744073709551616", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(bad, sizeof(bad), "v2:%s:alice:room9:%s", nums[i], mac);
		cr_assert_eq(verify(bad, NOW), -EINVAL, "%s", bad);
	}
	/* UINT64_MAX itself parses (and then is simply forged) */
	snprintf(bad, sizeof(bad), "v2:18446744073709551615:alice:room9:%s", mac);
	cr_assert_eq(verify(bad, NOW), -EACCES);

	/* bad groups: empty, empty names, bad charset, duplicate, '*' in a list, too many */
	const char *groups[] = { "", ",", "a,", ",a", "a,,b", "a b", "a,a", "*,a", "a,*", "**",
				 "a/b", "g0,g1,g2,g3,g4,g5,g6,g7,g8,g9,g10,g11,g12,g13,g14,g15,g16" };
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		snprintf(bad, sizeof(bad), "v2:1700000060:alice:%s:%s", groups[i], mac);
		cr_assert_eq(verify(bad, NOW), -EINVAL, "%s", bad);
	}
	snprintf(bad, sizeof(bad), "v2:1700000060:alice:%065d:%s", 0, mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);

	/* bad base64: truncated, extra, no padding, bad char, trailing bits */
	snprintf(bad, sizeof(bad), "v2:1700000060:alice:room9:%.43s", mac);
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

	/* bad user: charset, too long; a colon in it shifts the fields */
	snprintf(bad, sizeof(bad), "v2:1700000060:al ice:room9:%s", mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "v2:1700000060:al:ice:room9:%s", mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	memset(bad, 'u', sizeof(bad));
	bad[sizeof(bad) - 1] = '\0';
	cr_assert_eq(verify(bad, NOW), -EINVAL);
	snprintf(bad, sizeof(bad), "v2:1:%065d:room9:%s", 0, mac);
	cr_assert_eq(verify(bad, NOW), -EINVAL);
}

Test(token, user_rules)
{
	char tok[NT_TOKEN_MAX + 1], u64[65];

	memset(u64, 'x', 64);
	u64[64] = '\0';
	cr_assert(nt_token_user_valid(u64));
	cr_assert_gt(mint(u64, NOW + 1, tok, sizeof(tok)), 0);
	cr_assert_lt(strlen(tok), NT_TOKEN_MAX);
	cr_assert_eq(verify(tok, NOW), 0);
	cr_assert_not(nt_token_user_valid(""));
	cr_assert_not(nt_token_user_valid("a:b"));
	cr_assert_not(nt_token_user_valid("a\nb"));
	cr_assert(nt_token_user_valid("A.b_c@d-e9"));
	cr_assert_eq(mint("bad user", NOW, tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(nt_token_mint(secret, 0, "alice", room9, 1, NOW, tok, sizeof(tok)), -EINVAL);
	cr_assert_eq(mint("alice", NOW, tok, 20), -ENOSPC);
	cr_assert_eq(nt_token_mint_ttl(secret, SLEN, "alice", room9, 1, UINT64_MAX, 1, tok,
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
