// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Auth tokens, version 2; see nt_token.h for the format. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "nt_hmac.h"
#include "nt_readfile.h"
#include "nt_token.h"

#define MAC_LEN 32
#define PREFIX NT_TOKEN_VERSION ":"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static bool user_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
	       c == '-';
}

static bool user_ok(const char *u, size_t n)
{
	if (n == 0 || n > NT_TOKEN_USER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!user_char_ok(u[i]))
			return false;
	return true;
}

bool nt_token_user_valid(const char *user)
{
	return user && user_ok(user, strnlen(user, NT_TOKEN_USER_MAX + 1));
}

static int token_mac(const void *secret, size_t secret_len, const char *msg,
		     size_t msg_len, unsigned char mac[MAC_LEN])
{
	return nt_hmac_sha256(secret, secret_len, msg, msg_len, mac);
}

/*
 * The groups field into g: "*" alone, or names joined by ','. Duplicates are
 * refused: a token has one spelling of what it grants.
 */
static int groups_write(const char *const *groups, size_t n, char *g, size_t room)
{
	size_t len = 0;

	if (!groups || n == 0 || n > NT_TOKEN_GROUPS_MAX)
		return -EINVAL;
	if (n == 1 && groups[0] && !strcmp(groups[0], "*")) {
		snprintf(g, room, "*");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t l;

		if (!nt_line_group_valid(groups[i]))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(groups[i], groups[j]))
				return -EINVAL;
		l = strlen(groups[i]);
		if (len + (i > 0) + l > NT_TOKEN_GROUPS_LEN || len + (i > 0) + l >= room)
			return -ENOSPC;
		if (i > 0)
			g[len++] = ',';
		memcpy(g + len, groups[i], l);
		len += l;
	}
	g[len] = '\0';
	return (int)len;
}

int nt_token_mint(const void *secret, size_t secret_len, const char *user,
		  const char *const *groups, size_t ngroups, uint64_t expiry,
		  char *out, size_t out_len)
{
	unsigned char mac[MAC_LEN];
	char b64[NT_TOKEN_MAC_B64_LEN + 1];
	char g[NT_TOKEN_GROUPS_LEN + 1];
	char msg[NT_TOKEN_MAX + 1];
	int n, err;

	if (!secret || secret_len == 0 || secret_len > NT_TOKEN_SECRET_MAX ||
	    !nt_token_user_valid(user))
		return -EINVAL;
	err = groups_write(groups, ngroups, g, sizeof(g));
	if (err < 0)
		return err;
	n = snprintf(msg, sizeof(msg), PREFIX "%llu:%s:%s", (unsigned long long)expiry,
		     user, g);
	if (n < 0 || (size_t)n + 1 + NT_TOKEN_MAC_B64_LEN > NT_TOKEN_MAX)
		return -ENOSPC;
	err = token_mac(secret, secret_len, msg, (size_t)n, mac);
	if (err)
		return err;
	EVP_EncodeBlock((unsigned char *)b64, mac, MAC_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	if ((size_t)n + 1 + NT_TOKEN_MAC_B64_LEN + 1 > out_len)
		return -ENOSPC;
	return snprintf(out, out_len, "%s:%s", msg, b64);
}

int nt_token_mint_ttl(const void *secret, size_t secret_len, const char *user,
		      const char *const *groups, size_t ngroups, uint64_t now,
		      uint64_t ttl, char *out, size_t out_len)
{
	if (ttl > UINT64_MAX - now)
		return -EINVAL;
	return nt_token_mint(secret, secret_len, user, groups, ngroups, now + ttl, out,
			     out_len);
}

/* Digits only, no sign, no leading zero (one spelling per number), no overflow. */
static int parse_expiry(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Exactly 44 characters that decode to 32 bytes and re-encode to the same
 * text: rejects whitespace, missing or extra padding and non-zero trailing
 * bits, so there is one valid spelling of each MAC.
 */
static int parse_mac(const char *s, size_t n, unsigned char mac[MAC_LEN])
{
	unsigned char raw[MAC_LEN + 3];
	char again[NT_TOKEN_MAC_B64_LEN + 1];

	if (n != NT_TOKEN_MAC_B64_LEN)
		return -EINVAL;
	if (EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n) != MAC_LEN + 1)
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)again, raw, MAC_LEN);
	if (memcmp(again, s, n))
		return -EINVAL;
	memcpy(mac, raw, MAC_LEN);
	return 0;
}

/* "*" or 1..NT_TOKEN_GROUPS_MAX valid, distinct names joined by ','. */
static int parse_groups(const char *s, size_t n, struct nt_token_claims *c)
{
	size_t start = 0;

	c->any_group = false;
	c->ngroups = 0;
	if (n == 0 || n > NT_TOKEN_GROUPS_LEN)
		return -EINVAL;
	if (n == 1 && s[0] == '*') {
		c->any_group = true;
		return 0;
	}
	while (start <= n) {
		const char *comma = memchr(s + start, ',', n - start);
		size_t end = comma ? (size_t)(comma - s) : n, l = end - start;
		char *g;

		if (c->ngroups == NT_TOKEN_GROUPS_MAX || l == 0 || l > NT_LINE_GROUP_MAX)
			return -EINVAL;
		g = c->groups[c->ngroups];
		memcpy(g, s + start, l);
		g[l] = '\0';
		if (!nt_line_group_valid(g))
			return -EINVAL;
		for (size_t j = 0; j < c->ngroups; j++)
			if (!strcmp(c->groups[j], g))
				return -EINVAL;
		c->ngroups++;
		start = end + 1;
	}
	return 0;
}

/* A version 1 token: "<expiry>:<user>:<mac>", three fields, no prefix. */
static bool is_v1(const char *t, size_t len)
{
	const char *c1 = memchr(t, ':', len), *c2;
	uint64_t exp;

	if (!c1 || parse_expiry(t, (size_t)(c1 - t), &exp))
		return false;
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - t));
	return c2 && user_ok(c1 + 1, (size_t)(c2 - c1 - 1)) &&
	       !memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - t));
}

int nt_token_verify(const void *secret, size_t secret_len, const char *token,
		    uint64_t now, struct nt_token_claims *claims)
{
	unsigned char want[MAC_LEN], got[MAC_LEN];
	struct nt_token_claims tmp;
	struct nt_token_claims *c = claims ? claims : &tmp;
	const char *p, *c1, *c2, *c3;
	size_t len, rest, ulen;
	int err;

	if (!secret || secret_len == 0 || secret_len > NT_TOKEN_SECRET_MAX ||
	    !token)
		return -EINVAL;
	len = strnlen(token, NT_TOKEN_MAX + 1);
	if (len > NT_TOKEN_MAX)
		return -EINVAL;
	if (len < PREFIX_LEN || memcmp(token, PREFIX, PREFIX_LEN))
		return is_v1(token, len) ? -EPROTO : -EINVAL;
	p = token + PREFIX_LEN;
	rest = len - PREFIX_LEN;
	c1 = memchr(p, ':', rest);
	if (!c1)
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', rest - (size_t)(c1 + 1 - p));
	if (!c2)
		return -EINVAL;
	c3 = memchr(c2 + 1, ':', rest - (size_t)(c2 + 1 - p));
	if (!c3)
		return -EINVAL;
	ulen = (size_t)(c2 - c1 - 1);
	memset(c, 0, sizeof(*c));
	if (parse_expiry(p, (size_t)(c1 - p), &c->expiry) || !user_ok(c1 + 1, ulen) ||
	    parse_groups(c2 + 1, (size_t)(c3 - c2 - 1), c) ||
	    parse_mac(c3 + 1, len - (size_t)(c3 + 1 - token), got))
		return -EINVAL;

	err = token_mac(secret, secret_len, token, (size_t)(c3 - token), want);
	if (err)
		return err;
	err = CRYPTO_memcmp(want, got, MAC_LEN) ? -EACCES : 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (err)
		return err;

	memcpy(c->user, c1 + 1, ulen);
	c->user[ulen] = '\0';
	return now >= c->expiry ? -ETIMEDOUT : 0;
}

bool nt_token_allows(const struct nt_token_claims *c, const char *group)
{
	if (c->any_group)
		return true;
	for (size_t i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i], group))
			return true;
	return false;
}

int nt_token_read_secret(const char *path, void *buf, size_t *len)
{
	/* two spare bytes: a trailing "\r\n" on a secret of the maximum size */
	unsigned char tmp[NT_TOKEN_SECRET_MAX + 3];
	size_t n;
	int err = nt_read_small_file(path, tmp, sizeof(tmp), &n);

	if (!err && n && tmp[n - 1] == '\n') {
		n--;
		if (n && tmp[n - 1] == '\r')
			n--;
	}
	if (!err && n == 0)
		err = -ENODATA;
	if (!err && n > NT_TOKEN_SECRET_MAX)
		err = -EFBIG;
	if (!err) {
		memcpy(buf, tmp, n);
		*len = n;
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return err;
}
