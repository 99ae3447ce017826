/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * HMAC-SHA256 for the hot paths (every control datagram's MESSAGE-INTEGRITY,
 * every token checked): one EVP_MAC context per thread, kept and rekeyed,
 * where OpenSSL 3's one-shot HMAC() fetches the algorithm and makes and frees
 * a context per call, which costs as much as the hashing of a short message.
 */
#ifndef NT_HMAC_H
#define NT_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define NT_HMAC_SHA256_LEN 32

/* out = HMAC-SHA256(key, msg). 0, or -EIO when OpenSSL fails (no context, no memory). */
int nt_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
		   uint8_t out[NT_HMAC_SHA256_LEN]);

#endif /* NT_HMAC_H */
