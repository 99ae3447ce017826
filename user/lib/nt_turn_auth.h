/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TURN credentials as application servers already mint them for coturn's
 * use-auth-secret (the "TURN REST API"): username "<expiry>:<user>", with
 * expiry in Unix seconds, password base64(HMAC-SHA1(secret, username)); the
 * long-term credential key MD5(username:realm:password) of RFC 8489 9.2;
 * and nonces the server can check without keeping them.
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_TURN_AUTH_H
#define NT_TURN_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define NT_TURN_USERNAME_MAX 128	/* bytes, as accepted in USERNAME */
#define NT_TURN_PASSWORD_LEN 28		/* base64 of 20 bytes */
#define NT_TURN_KEY_LEN 16		/* MD5 */
#define NT_TURN_NONCE_LEN 32		/* hex: 16 of time, 16 of MAC */
#define NT_TURN_REALM_MAX 64

/*
 * The user a REST username names, once its expiry is checked against now:
 * -EINVAL when the username is not "<expiry>:<user>" (user printable
 * ASCII without ':', 1..63 bytes), -EKEYEXPIRED when expired.
 */
int nt_turn_rest_user(const char *username, size_t len, uint64_t now_s, char user[64]);

/* The password the secret gives username (NUL-terminated, NT_TURN_PASSWORD_LEN chars). */
int nt_turn_rest_password(const uint8_t *secret, size_t slen, const char *username,
			  char out[NT_TURN_PASSWORD_LEN + 1]);

/* MD5(username ":" realm ":" password), the key of MESSAGE-INTEGRITY. */
int nt_turn_lt_key(const char *username, const char *realm, const char *password,
		   uint8_t key[NT_TURN_KEY_LEN]);

/* A nonce for now_s under key (NT_TURN_NONCE_LEN hex chars and a NUL). */
void nt_turn_nonce_make(const uint8_t key[32], uint64_t now_s, char out[NT_TURN_NONCE_LEN + 1]);
/* 0 when nonce is one of ours at most max_age_s old; -ESTALE when older, -EINVAL when not ours. */
int nt_turn_nonce_check(const uint8_t key[32], const char *nonce, size_t len, uint64_t now_s,
			uint64_t max_age_s);

#endif /* NT_TURN_AUTH_H */
