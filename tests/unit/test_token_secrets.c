// SPDX-License-Identifier: GPL-2.0
/* Token secrets for rotation: one per line, the first mints, any verifies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nt_token.h"

#define NOW 1700000000ull

static struct nt_token_secrets s;

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int read_text(const char *text)
{
	char path[] = "/tmp/nt_secrets_testXXXXXX";
	int fd = mkstemp(path), err;

	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path, text, strlen(text));
	err = nt_token_read_secrets(path, &s);
	unlink(path);
	return err;
}

static void mint(const char *secret, uint64_t expiry, char *out)
{
	const char *g[] = { "room1" };

	cr_assert_gt(nt_token_mint(secret, strlen(secret), "alice", g, 1, expiry, out,
				   NT_TOKEN_MAX + 1), 0);
}

Test(token_secrets, lines_blank_and_crlf)
{
	cr_assert_eq(read_text("new-secret\r\n\nold-secret\n"), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.len[0], 10);
	cr_assert_eq(memcmp(s.key[0], "new-secret", 10), 0);
	cr_assert_eq(s.len[1], 10);
	cr_assert_eq(memcmp(s.key[1], "old-secret", 10), 0);
	/* one line without a newline: the single-secret file of before */
	cr_assert_eq(read_text("only"), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.len[0], 4);
}

Test(token_secrets, any_verifies)
{
	char tnew[NT_TOKEN_MAX + 1], told[NT_TOKEN_MAX + 1], tother[NT_TOKEN_MAX + 1];
	char texp[NT_TOKEN_MAX + 1];
	struct nt_token_claims c;

	cr_assert_eq(read_text("new-secret\nold-secret\n"), 0);
	mint("new-secret", NOW + 60, tnew);
	mint("old-secret", NOW + 60, told);
	mint("another", NOW + 60, tother);
	mint("old-secret", NOW - 1, texp);
	cr_assert_eq(nt_token_verify_any(&s, tnew, NOW, &c), 0);
	cr_assert_str_eq(c.user, "alice");
	cr_assert_eq(nt_token_verify_any(&s, told, NOW, &c), 0);
	cr_assert_eq(nt_token_verify_any(&s, tother, NOW, &c), -EACCES);
	/* expired under the second secret: still told as expired, not as forged */
	cr_assert_eq(nt_token_verify_any(&s, texp, NOW, &c), -ETIMEDOUT);
	cr_assert_eq(nt_token_verify_any(&s, "garbage", NOW, &c), -EINVAL);
	/* the old secret dropped: its tokens stop working */
	cr_assert_eq(read_text("new-secret\n"), 0);
	cr_assert_eq(nt_token_verify_any(&s, told, NOW, &c), -EACCES);
}

Test(token_secrets, refused)
{
	char *big = malloc(NT_TOKEN_SECRET_MAX + 3);
	char many[256] = "";

	cr_assert_eq(read_text(""), -ENODATA);
	cr_assert_eq(read_text("\n\r\n\n"), -ENODATA);
	for (int i = 0; i <= NT_TOKEN_SECRETS_MAX; i++)
		strcat(many, "secret\n");
	cr_assert_eq(read_text(many), -E2BIG);
	memset(big, 'k', NT_TOKEN_SECRET_MAX + 1);
	big[NT_TOKEN_SECRET_MAX + 1] = '\n';
	big[NT_TOKEN_SECRET_MAX + 2] = '\0';
	cr_assert_eq(read_text(big), -EFBIG);
	big[NT_TOKEN_SECRET_MAX] = '\n';
	big[NT_TOKEN_SECRET_MAX + 1] = '\0';
	cr_assert_eq(read_text(big), 0);
	cr_assert_eq(s.len[0], NT_TOKEN_SECRET_MAX);
	free(big);
	cr_assert_eq(nt_token_read_secrets("/nonexistent/secret", &s), -ENOENT);
}
