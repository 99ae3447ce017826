// SPDX-License-Identifier: GPL-2.0
/* TURN-REST style auth tokens; see nt_token.h for the format. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "nt_token.h"

#define MAC_LEN 32

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
	unsigned int len = MAC_LEN;

	if (!HMAC(EVP_sha256(), secret, (int)secret_len,
		  (const unsigned char *)msg, msg_len, mac, &len) ||
	    len != MAC_LEN)
		return -EIO;
	return 0;
}

int nt_token_mint(const void *secret, size_t secret_len, const char *user,
		  uint64_t expiry, char *out, size_t out_len)
{
	unsigned char mac[MAC_LEN];
	char b64[NT_TOKEN_MAC_B64_LEN + 1];
	char msg[NT_TOKEN_MAX + 1];
	int n, err;

	if (!secret || secret_len == 0 || secret_len > NT_TOKEN_SECRET_MAX ||
	    !nt_token_user_valid(user))
		return -EINVAL;
	n = snprintf(msg, sizeof(msg), "%llu:%s", (unsigned long long)expiry,
		     user);
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
		      uint64_t now, uint64_t ttl, char *out, size_t out_len)
{
	if (ttl > UINT64_MAX - now)
		return -EINVAL;
	return nt_token_mint(secret, secret_len, user, now + ttl, out, out_len);
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

int nt_token_verify(const void *secret, size_t secret_len, const char *token,
		    uint64_t now, char *user, uint64_t *expiry)
{
	unsigned char want[MAC_LEN], got[MAC_LEN];
	const char *c1, *c2;
	size_t len, ulen;
	uint64_t exp;
	int err;

	if (!secret || secret_len == 0 || secret_len > NT_TOKEN_SECRET_MAX ||
	    !token)
		return -EINVAL;
	len = strnlen(token, NT_TOKEN_MAX + 1);
	if (len > NT_TOKEN_MAX)
		return -EINVAL;
	c1 = memchr(token, ':', len);
	if (!c1)
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - token));
	if (!c2)
		return -EINVAL;
	ulen = (size_t)(c2 - c1 - 1);
	if (parse_expiry(token, (size_t)(c1 - token), &exp) ||
	    !user_ok(c1 + 1, ulen) ||
	    parse_mac(c2 + 1, len - (size_t)(c2 + 1 - token), got))
		return -EINVAL;

	err = token_mac(secret, secret_len, token, (size_t)(c2 - token), want);
	if (err)
		return err;
	err = CRYPTO_memcmp(want, got, MAC_LEN) ? -EACCES : 0;
	OPENSSL_cleanse(want, sizeof(want));
	if (err)
		return err;

	if (user) {
		memcpy(user, c1 + 1, ulen);
		user[ulen] = '\0';
	}
	if (expiry)
		*expiry = exp;
	return now >= exp ? -ETIMEDOUT : 0;
}

int nt_token_read_secret(const char *path, void *buf, size_t *len)
{
	/* two spare bytes: a trailing "\r\n" on a secret of the maximum size */
	unsigned char tmp[NT_TOKEN_SECRET_MAX + 3];
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < sizeof(tmp)) {
		r = read(fd, tmp + n, sizeof(tmp) - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!err && n == sizeof(tmp))
		err = -EFBIG;
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
