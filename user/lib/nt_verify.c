// SPDX-License-Identifier: GPL-2.0
/* Challenge table: single use, short lifetime, bound to session and address. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "nt_verify.h"

bool nt_endpoint_eq(const struct nt_endpoint *a, const struct nt_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

int nt_verify_init(struct nt_verify *v, size_t cap)
{
	if (!cap)
		return -EINVAL;
	v->c = calloc(cap, sizeof(*v->c));
	if (!v->c)
		return -ENOMEM;
	v->cap = cap;
	return 0;
}

void nt_verify_free(struct nt_verify *v)
{
	if (v->c)
		OPENSSL_cleanse(v->c, v->cap * sizeof(*v->c));
	free(v->c);
	v->c = NULL;
	v->cap = 0;
}

static void drop(struct nt_challenge *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

int nt_verify_issue(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *observed,
		    const uint8_t nonce[NT_VERIFY_NONCE_LEN], uint64_t now_ns,
		    uint64_t lifetime_ns)
{
	struct nt_challenge *slot = NULL;

	if (!v->c || !session_id || !observed || !nonce)
		return -EINVAL;
	for (size_t i = 0; i < v->cap; i++) {
		struct nt_challenge *c = &v->c[i];

		if (c->used && c->expires_ns <= now_ns)
			drop(c);
		if (!c->used) {
			slot = c;
			break;
		}
		if (!slot || c->expires_ns < slot->expires_ns)
			slot = c;
	}
	drop(slot);
	slot->used = true;
	slot->session_id = session_id;
	slot->observed = *observed;
	memcpy(slot->nonce, nonce, NT_VERIFY_NONCE_LEN);
	slot->expires_ns = now_ns + lifetime_ns;
	return 0;
}

int nt_verify_check(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *src, const uint8_t *nonce,
		    size_t nonce_len, const struct nt_endpoint *mapped,
		    uint64_t now_ns)
{
	struct nt_challenge *hit = NULL;
	int err = 0;

	if (!v->c || nonce_len != NT_VERIFY_NONCE_LEN)
		return -ENOENT;
	for (size_t i = 0; i < v->cap; i++) {
		struct nt_challenge *c = &v->c[i];

		/* constant time on the nonce: its bytes are the secret here */
		if (c->used && c->session_id == session_id &&
		    !CRYPTO_memcmp(c->nonce, nonce, NT_VERIFY_NONCE_LEN)) {
			hit = c;
			break;
		}
	}
	if (!hit)
		return -ENOENT;
	if (hit->expires_ns <= now_ns)
		err = -ETIMEDOUT;
	else if (!nt_endpoint_eq(src, &hit->observed) ||
		 !nt_endpoint_eq(mapped, &hit->observed))
		err = -EADDRNOTAVAIL;
	drop(hit); /* single use, whatever the outcome */
	return err;
}

void nt_verify_forget(struct nt_verify *v, uint64_t session_id)
{
	for (size_t i = 0; i < v->cap; i++)
		if (v->c[i].used && v->c[i].session_id == session_id)
			drop(&v->c[i]);
}

size_t nt_verify_expire(struct nt_verify *v, uint64_t now_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < v->cap; i++)
		if (v->c[i].used && v->c[i].expires_ns <= now_ns) {
			drop(&v->c[i]);
			n++;
		}
	return n;
}

size_t nt_verify_count(const struct nt_verify *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->cap; i++)
		n += v->c[i].used;
	return n;
}
