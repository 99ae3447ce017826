// SPDX-License-Identifier: GPL-2.0
/* nt_turn_auth: coturn's REST credentials, the long-term key, stateless nonces. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "nt_turn_auth.h"

Test(turn_auth, rest_username)
{
	char user[64];

	cr_assert_eq(nt_turn_rest_user("1700000000:alice", 16, 1690000000, user), 0);
	cr_assert_str_eq(user, "alice");
	cr_assert_eq(nt_turn_rest_user("1700000000:alice", 16, 1700000001, user), -EKEYEXPIRED);
	cr_assert_eq(nt_turn_rest_user("alice:1700000000", 16, 0, user), -EINVAL);
	cr_assert_eq(nt_turn_rest_user("1700000000:", 11, 0, user), -EINVAL);
	cr_assert_eq(nt_turn_rest_user("1700000000:a:b", 14, 0, user), -EINVAL);
	cr_assert_eq(nt_turn_rest_user("1700000000:a b", 14, 0, user), -EINVAL);
	cr_assert_eq(nt_turn_rest_user("99999999999999999999:a", 22, 0, user), -EINVAL);
	/* the length given is the attribute's, not up to a NUL */
	cr_assert_eq(nt_turn_rest_user("1700000000:alice\0junk", 21, 0, user), -EINVAL);
}

Test(turn_auth, rest_password_matches_coturn_formula)
{
	/*
	 * echo -n 1700000000:alice | openssl dgst -sha1 -hmac secret -binary | base64
	 * gives this (the formula coturn's docs and application servers use)
	 */
	char pw[NT_TURN_PASSWORD_LEN + 1];

	cr_assert_eq(nt_turn_rest_password((const uint8_t *)"secret", 6, "1700000000:alice", pw), 0);
	cr_assert_eq(strlen(pw), NT_TURN_PASSWORD_LEN);
	cr_assert_str_eq(pw, "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
}

Test(turn_auth, long_term_key)
{
	/* MD5("user:realm:pass"), checked against md5sum */
	uint8_t key[NT_TURN_KEY_LEN];

	cr_assert_eq(nt_turn_lt_key("user", "realm", "pass", key), 0);
	cr_assert_eq(memcmp(key, "„“ûÅ;¥‚ûLLEkÜ@ë", NT_TURN_KEY_LEN), 0);
}

Test(turn_auth, nonces)
{
	uint8_t k[32] = { 1 }, k2[32] = { 2 };
	char n[NT_TURN_NONCE_LEN + 1];

	nt_turn_nonce_make(k, 1000, n);
	cr_assert_eq(strlen(n), NT_TURN_NONCE_LEN);
	cr_assert_eq(nt_turn_nonce_check(k, n, strlen(n), 1000, 600), 0);
	cr_assert_eq(nt_turn_nonce_check(k, n, strlen(n), 1600, 600), 0);
	cr_assert_eq(nt_turn_nonce_check(k, n, strlen(n), 1601, 600), -ESTALE);
	cr_assert_eq(nt_turn_nonce_check(k2, n, strlen(n), 1000, 600), -EINVAL);
	n[20] ^= 1;
	cr_assert_eq(nt_turn_nonce_check(k, n, strlen(n), 1000, 600), -EINVAL);
	cr_assert_eq(nt_turn_nonce_check(k, "short", 5, 1000, 600), -EINVAL);
}
