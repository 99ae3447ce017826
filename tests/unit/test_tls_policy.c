// SPDX-License-Identifier: GPL-2.0
/* nt_tls_policy: TLS 1.2..1.3 only; every suite AEAD; on 1.2 every suite ECDHE. */
#include <criterion/criterion.h>
#include <string.h>
#include <openssl/ssl.h>

#include "nt_tls_policy.h"

static bool is_tls13(const SSL_CIPHER *c)
{
	return !strcmp(SSL_CIPHER_get_version(c), "TLSv1.3");
}

/* Suites of ctx that break the policy; 0 when all keep it. */
static int offenders(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);
	int i, bad = 0;

	cr_assert(list && sk_SSL_CIPHER_num(list) > 0);
	for (i = 0; i < sk_SSL_CIPHER_num(list); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(list, i);
		bool tls13 = is_tls13(c);

		if (!SSL_CIPHER_is_aead(c) ||
		    (!tls13 && SSL_CIPHER_get_kx_nid(c) != NID_kx_ecdhe)) {
			cr_log_info("outside the policy: %s", SSL_CIPHER_get_name(c));
			bad++;
		}
	}
	return bad;
}

Test(tls_policy, server_and_client_contexts_keep_it)
{
	const SSL_METHOD *methods[] = { TLS_server_method(), TLS_client_method() };

	for (size_t m = 0; m < 2; m++) {
		SSL_CTX *ctx = SSL_CTX_new(methods[m]);

		cr_assert_not_null(ctx);
		cr_assert_eq(nt_tls_policy(ctx), 0);
		cr_assert_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
		cr_assert_eq(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
		cr_assert_eq(offenders(ctx), 0);
		cr_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION);
		cr_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION);
		SSL_CTX_free(ctx);
	}
}

/* The check above can fail: OpenSSL's defaults include CBC and RSA key transport. */
Test(tls_policy, defaults_break_it)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	cr_assert_not_null(ctx);
	cr_assert_gt(offenders(ctx), 0);
	SSL_CTX_free(ctx);
}

/* Each of the six TLS 1.2 suites exists in this OpenSSL (a typo would drop one silently). */
Test(tls_policy, every_named_tls12_suite_is_known)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(SSL_CIPHER) *list;
	int n12 = 0, n13 = 0, i;

	cr_assert_eq(nt_tls_policy(ctx), 0);
	list = SSL_CTX_get_ciphers(ctx);
	for (i = 0; i < sk_SSL_CIPHER_num(list); i++) {
		if (is_tls13(sk_SSL_CIPHER_value(list, i)))
			n13++;
		else
			n12++;
	}
	cr_assert_eq(n12, 6);
	cr_assert_eq(n13, 3);
	SSL_CTX_free(ctx);
}
