// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * HMAC-SHA256 with a kept context per thread (nt_hmac.h); one-shot with
 * NT_HMAC_ONESHOT, as the client library builds it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include "nt_hmac.h"

#ifdef NT_HMAC_ONESHOT
int nt_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		   uint8_t out[NT_HMAC_SHA256_LEN])
{
	size_t len = 0;

	if (!key || !key_len)
		return -EIO;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg, msg_len, out,
		       NT_HMAC_SHA256_LEN, &len) || len != NT_HMAC_SHA256_LEN)
		return -EIO;
	return 0;
}
#else
static pthread_key_t key_slot;
static bool key_ok;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx)
{
	EVP_MAC_CTX_free(ctx);
}

/* the context goes with its thread */
static void key_init(void)
{
	key_ok = !pthread_key_create(&key_slot, ctx_free);
}

static EVP_MAC_CTX *thread_ctx(void)
{
	static __thread EVP_MAC_CTX *ctx;
	OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
			   OSSL_PARAM_construct_end() };
	EVP_MAC *mac;

	if (ctx)
		return ctx;
	pthread_once(&key_once, key_init);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context holds its own reference */
	/* the digest once: each EVP_MAC_init after only sets the key */
	if (!ctx || EVP_MAC_CTX_set_params(ctx, p) != 1 || !key_ok ||
	    pthread_setspecific(key_slot, ctx)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int nt_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		   uint8_t out[NT_HMAC_SHA256_LEN])
{
	EVP_MAC_CTX *ctx = thread_ctx();
	size_t len = 0;

	/* a zero-length key would mean "keep the last one" to EVP_MAC_init */
	if (!ctx || !key || !key_len)
		return -EIO;
	if (EVP_MAC_init(ctx, key, key_len, NULL) != 1 || EVP_MAC_update(ctx, msg, msg_len) != 1 ||
	    EVP_MAC_final(ctx, out, &len, NT_HMAC_SHA256_LEN) != 1 || len != NT_HMAC_SHA256_LEN)
		return -EIO;
	return 0;
}
#endif
