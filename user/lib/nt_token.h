/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Time-limited auth tokens in the TURN REST API style
 * (draft-uberti-behave-turn-rest): "<expiry>:<user>:<mac>" where expiry is
 * unix seconds in decimal and mac is base64(HMAC-SHA256(secret,
 * "<expiry>:<user>")) with padding (44 characters). The operator shares the
 * secret with the application server, which mints tokens; nattravd verifies.
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_TOKEN_H
#define NT_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define NT_TOKEN_MAX 256	/* characters, without the terminating NUL */
#define NT_TOKEN_USER_MAX 64	/* characters of [A-Za-z0-9._@-] */
#define NT_TOKEN_SECRET_MAX 4096
#define NT_TOKEN_MAC_B64_LEN 44	/* base64 of 32 bytes, with one '=' */

/*
 * verify results:
 *   0           authentic and not expired
 *   -EINVAL     malformed (syntax, length, charset, base64, number)
 *   -EACCES     well formed but the MAC does not match (forged or wrong secret)
 *   -ETIMEDOUT  authentic but expired (now >= expiry)
 * The MAC is checked before the expiry, so -ETIMEDOUT is only ever reported
 * for a token the secret really signed.
 */

/* True when user is 1..NT_TOKEN_USER_MAX characters of [A-Za-z0-9._@-]. */
bool nt_token_user_valid(const char *user);

/*
 * Mint a token valid until expiry (unix seconds) into out (NUL terminated).
 * Returns the token length, -EINVAL for a bad user / empty secret,
 * -ENOSPC when out is too small (NT_TOKEN_MAX + 1 is always enough).
 */
int nt_token_mint(const void *secret, size_t secret_len, const char *user,
		  uint64_t expiry, char *out, size_t out_len);

/* Same, with expiry = now + ttl. -EINVAL when that overflows. */
int nt_token_mint_ttl(const void *secret, size_t secret_len, const char *user,
		      uint64_t now, uint64_t ttl, char *out, size_t out_len);

/*
 * Verify token (NUL terminated) at time now. On 0, user (may be NULL; room
 * for NT_TOKEN_USER_MAX + 1) and expiry (may be NULL) are filled in; they
 * are also filled on -ETIMEDOUT so the caller can log who it was.
 */
int nt_token_verify(const void *secret, size_t secret_len, const char *token,
		    uint64_t now, char *user, uint64_t *expiry);

/*
 * Read a secret file into buf (room for NT_TOKEN_SECRET_MAX bytes): one
 * trailing "\n" (or "\r\n") is stripped. -ENODATA when empty, -EFBIG when
 * larger than NT_TOKEN_SECRET_MAX, -errno of open/read otherwise.
 */
int nt_token_read_secret(const char *path, void *buf, size_t *len);

#endif /* NT_TOKEN_H */
