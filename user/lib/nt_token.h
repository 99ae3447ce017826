/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Time-limited auth tokens, version 2: a capability for named groups.
 *
 *   v2:<expiry>:<user>:<groups>:<mac>
 *
 * expiry is unix seconds in decimal, user 1..64 of [A-Za-z0-9._@-], groups
 * either "*" (any group) or 1..NT_TOKEN_GROUPS_MAX group names (nt_line's
 * charset) joined by ",", and mac base64(HMAC-SHA256(secret, everything
 * before the last ':')) with padding (44 characters). The operator shares
 * the secret with the application server, which mints tokens; nattravd
 * verifies them and lets the holder join only the groups named.
 *
 * Version 1 ("<expiry>:<user>:<mac>", TURN REST style) named no group: it is
 * recognised only to be refused with a clear reason (-EPROTO).
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_TOKEN_H
#define NT_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "nt_line.h"

#define NT_TOKEN_MAX NT_LINE_ARG_MAX	/* characters, without the terminating NUL */
#define NT_TOKEN_USER_MAX 64	/* characters of [A-Za-z0-9._@-] */
#define NT_TOKEN_SECRET_MAX 4096
#define NT_TOKEN_MAC_B64_LEN 44	/* base64 of 32 bytes, with one '=' */
#define NT_TOKEN_GROUPS_MAX 16	/* group names in one token */
#define NT_TOKEN_GROUPS_LEN 320	/* characters of the groups field */
#define NT_TOKEN_VERSION "v2"

/* What an authentic token grants. */
struct nt_token_claims {
	char user[NT_TOKEN_USER_MAX + 1];
	uint64_t expiry;
	bool any_group;		/* "*" */
	size_t ngroups;
	char groups[NT_TOKEN_GROUPS_MAX][NT_LINE_GROUP_MAX + 1];
};

/*
 * verify results:
 *   0           authentic and not expired
 *   -EINVAL     malformed (syntax, length, charset, base64, number, groups)
 *   -EPROTO     a version 1 token: well formed, but it names no groups
 *   -EACCES     well formed but the MAC does not match (forged or wrong secret)
 *   -ETIMEDOUT  authentic but expired (now >= expiry)
 * The MAC is checked before the expiry, so -ETIMEDOUT is only ever reported
 * for a token the secret really signed.
 */

/* True when user is 1..NT_TOKEN_USER_MAX characters of [A-Za-z0-9._@-]. */
bool nt_token_user_valid(const char *user);

/*
 * Mint a token for user and groups (ngroups names, or the one name "*")
 * valid until expiry (unix seconds) into out (NUL terminated). Returns the
 * token length, -EINVAL for a bad user, group list or empty secret,
 * -ENOSPC when out is too small or the token would be longer than
 * NT_TOKEN_MAX (NT_TOKEN_MAX + 1 is always enough room).
 */
int nt_token_mint(const void *secret, size_t secret_len, const char *user,
		  const char *const *groups, size_t ngroups, uint64_t expiry,
		  char *out, size_t out_len);

/* Same, with expiry = now + ttl. -EINVAL when that overflows. */
int nt_token_mint_ttl(const void *secret, size_t secret_len, const char *user,
		      const char *const *groups, size_t ngroups, uint64_t now,
		      uint64_t ttl, char *out, size_t out_len);

/*
 * Verify token (NUL terminated) at time now. On 0, claims (may be NULL) is
 * filled in; on -ETIMEDOUT its user and expiry are, so the caller can log
 * who it was.
 */
int nt_token_verify(const void *secret, size_t secret_len, const char *token,
		    uint64_t now, struct nt_token_claims *claims);

/* True when the claims let their holder join group. */
bool nt_token_allows(const struct nt_token_claims *c, const char *group);

/*
 * Read a secret file into buf (room for NT_TOKEN_SECRET_MAX bytes): one
 * trailing "\n" (or "\r\n") is stripped. -ENODATA when empty, -EFBIG when
 * larger than NT_TOKEN_SECRET_MAX, -errno of open/read otherwise.
 */
int nt_token_read_secret(const char *path, void *buf, size_t *len);

/*
 * Secrets for rotation (nt_token_secrets.c): a file of one secret per line
 * ("\r\n" too, blank lines skipped). The first mints, any verifies: the
 * operator adds the new secret as the first line, moves the application
 * server to it, and drops the old line once the tokens it signed expired.
 */
#define NT_TOKEN_SECRETS_MAX 8
struct nt_token_secrets {
	size_t n;
	size_t len[NT_TOKEN_SECRETS_MAX];
	uint8_t key[NT_TOKEN_SECRETS_MAX][NT_TOKEN_SECRET_MAX];
};

/*
 * Read path into s. -ENODATA when it holds no secret, -EFBIG for a line
 * longer than NT_TOKEN_SECRET_MAX, -E2BIG for more than
 * NT_TOKEN_SECRETS_MAX secrets, -errno of open/read otherwise.
 */
int nt_token_read_secrets(const char *path, struct nt_token_secrets *s);
/* nt_token_verify with each secret in turn: the first answer but -EACCES, else -EACCES. */
int nt_token_verify_any(const struct nt_token_secrets *s, const char *token, uint64_t now,
			struct nt_token_claims *claims);

#endif /* NT_TOKEN_H */
