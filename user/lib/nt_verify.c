// SPDX-License-Identifier: GPL-2.0
/* Challenge table: one per session, single use, short lifetime, bound to the address. */
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

static struct nt_challenge *of_session(struct nt_verify *v, uint64_t session_id)
{
	for (size_t i = 0; i < v->cap; i++)
		if (v->c[i].used && v->c[i].session_id == session_id)
			return &v->c[i];
	return NULL;
}

int nt_verify_probe(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *observed, const uint8_t tid[12],
		    const uint8_t nonce[NT_VERIFY_NONCE_LEN], uint64_t now_ns,
		    uint64_t lifetime_ns, const struct nt_challenge **out)
{
	struct nt_challenge *slot;

	if (!v->c || !session_id || !observed || !tid || !nonce)
		return -EINVAL;
	slot = of_session(v, session_id);
	if (slot && slot->expires_ns > now_ns && !memcmp(slot->tid, tid, sizeof(slot->tid)) &&
	    nt_endpoint_eq(&slot->observed, observed)) {
		*out = slot;
		return 1;
	}
	for (size_t i = 0; i < v->cap && !slot; i++) {
		struct nt_challenge *c = &v->c[i];

		if (c->used && c->expires_ns <= now_ns)
			drop(c);
		if (!c->used)
			slot = c;
	}
	if (!slot) {
		slot = &v->c[0];
		for (size_t i = 1; i < v->cap; i++)
			if (v->c[i].expires_ns < slot->expires_ns)
				slot = &v->c[i];
	}
	drop(slot);
	slot->used = true;
	slot->session_id = session_id;
	slot->observed = *observed;
	memcpy(slot->tid, tid, sizeof(slot->tid));
	memcpy(slot->nonce, nonce, NT_VERIFY_NONCE_LEN);
	slot->expires_ns = now_ns + lifetime_ns;
	*out = slot;
	return 0;
}

int nt_verify_check(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *src, const uint8_t *nonce,
		    size_t nonce_len, const struct nt_endpoint *mapped,
		    uint64_t now_ns)
{
	struct nt_challenge *hit;

	if (!v->c || nonce_len != NT_VERIFY_NONCE_LEN)
		return -ENOENT;
	hit = of_session(v, session_id);
	/* constant time on the nonce: its bytes are the secret here */
	if (!hit || CRYPTO_memcmp(hit->nonce, nonce, NT_VERIFY_NONCE_LEN))
		return -ENOENT;
	if (hit->expires_ns <= now_ns) {
		drop(hit);
		return -ETIMEDOUT;
	}
	if (!nt_endpoint_eq(src, &hit->observed) || !nt_endpoint_eq(mapped, &hit->observed))
		return -EADDRNOTAVAIL;
	drop(hit); /* single use */
	return 0;
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

void nt_ratelimit_init(struct nt_ratelimit *r, uint32_t per_sec, const uint8_t key[16])
{
	memset(r, 0, sizeof(*r));
	if (key)
		memcpy(r->key, key, sizeof(r->key));
	r->per_sec = per_sec;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

bool nt_ratelimit_allow(struct nt_ratelimit *r, const uint8_t addr[16], uint64_t now_ns)
{
	uint64_t a, b, h;
	size_t i;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	h = mix(mix(a ^ r->key[0]) ^ b ^ r->key[1]);
	i = (size_t)(h % NT_RATELIMIT_SLOTS);
	if (now_ns - r->slot[i].window_ns >= 1000000000ull || !r->slot[i].window_ns) {
		/* a new window: the slot goes to whoever comes first */
		memcpy(r->slot[i].addr, addr, 16);
		r->slot[i].window_ns = now_ns ? now_ns : 1;
		r->slot[i].n = 0;
	}
	if (r->slot[i].n >= r->per_sec) {
		r->limited++;
		return false;
	}
	r->slot[i].n++;
	return true;
}
