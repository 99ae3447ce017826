// SPDX-License-Identifier: GPL-2.0
/* Several token secrets, for rotation (nt_token.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "nt_readfile.h"
#include "nt_token.h"

/* every secret at its longest with "\r\n", and one byte to see a larger file */
#define SECRETS_FILE_MAX (NT_TOKEN_SECRETS_MAX * (NT_TOKEN_SECRET_MAX + 2) + 1)

static int split(const unsigned char *b, size_t n, struct nt_token_secrets *s)
{
	size_t off = 0;

	s->n = 0;
	while (off < n) {
		const unsigned char *nl = memchr(b + off, '\n', n - off);
		size_t end = nl ? (size_t)(nl - b) : n, len = end - off;

		if (len && b[off + len - 1] == '\r')
			len--;
		if (len) {
			if (len > NT_TOKEN_SECRET_MAX)
				return -EFBIG;
			if (s->n == NT_TOKEN_SECRETS_MAX)
				return -E2BIG;
			memcpy(s->key[s->n], b + off, len);
			s->len[s->n++] = len;
		}
		off = end + 1;
	}
	return s->n ? 0 : -ENODATA;
}

int nt_token_read_secrets(const char *path, struct nt_token_secrets *s)
{
	unsigned char *b = malloc(SECRETS_FILE_MAX);
	size_t n;
	int err;

	if (!b)
		return -ENOMEM;
	err = nt_read_small_file(path, b, SECRETS_FILE_MAX, &n);
	if (err == -EFBIG)
		err = -E2BIG;
	if (!err)
		err = split(b, n, s);
	if (err)
		OPENSSL_cleanse(s, sizeof(*s));
	OPENSSL_clear_free(b, SECRETS_FILE_MAX);
	return err;
}

int nt_token_verify_any(const struct nt_token_secrets *s, const char *token, uint64_t now,
			struct nt_token_claims *claims)
{
	for (size_t i = 0; i < s->n; i++) {
		int err = nt_token_verify(s->key[i], s->len[i], token, now, claims);

		/* anything but a MAC mismatch is the token's own answer, whatever the secret */
		if (err != -EACCES)
			return err;
	}
	return -EACCES;
}
