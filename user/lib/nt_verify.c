// SPDX-License-Identifier: GPL-2.0
/* Challenge table: a few per session, single use, short lifetime, bound to the address. */
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

/* A slot for a new challenge of session_id: its oldest when it has its fill. */
static struct nt_challenge *new_slot(struct nt_verify *v, uint64_t session_id, uint64_t now_ns)
{
	struct nt_challenge *oldest = NULL, *free_slot = NULL, *soonest = &v->c[0];
	size_t mine = 0;

	for (size_t i = 0; i < v->cap; i++) {
		struct nt_challenge *c = &v->c[i];

		if (c->used && c->expires_ns <= now_ns)
			drop(c);
		if (!c->used) {
			free_slot = free_slot ?: c;
			continue;
		}
		if (c->session_id == session_id) {
			mine++;
			if (!oldest || c->probe_seq < oldest->probe_seq)
				oldest = c;
		}
		if (c->expires_ns < soonest->expires_ns || !soonest->used)
			soonest = c;
	}
	if (mine >= NT_VERIFY_PER_SESSION)
		return oldest;
	return free_slot ?: soonest;
}

int nt_verify_probe(struct nt_verify *v, uint64_t session_id, uint64_t *last_seq,
		    const struct nt_endpoint *observed, uint64_t seq,
		    const uint8_t nonce[NT_VERIFY_NONCE_LEN], uint64_t now_ns,
		    uint64_t lifetime_ns, const struct nt_challenge **out)
{
	struct nt_challenge *slot;

	if (!v->c || !session_id || !last_seq || !observed || !nonce)
		return -EINVAL;
	/*
	 * Every PROBE a client sends, retransmissions too, has a higher
	 * sequence: one that is not is a copy. Whoever replays a probe, from
	 * wherever, races the real one at best: the first copy to arrive takes
	 * the sequence and the others get nothing. The client's next probe has
	 * a new one.
	 */
	if (seq <= *last_seq)
		return -EALREADY;
	slot = new_slot(v, session_id, now_ns);
	drop(slot);
	slot->used = true;
	slot->session_id = session_id;
	slot->observed = *observed;
	slot->probe_seq = seq;
	memcpy(slot->nonce, nonce, NT_VERIFY_NONCE_LEN);
	slot->expires_ns = now_ns + lifetime_ns;
	*last_seq = seq;
	*out = slot;
	return 0;
}

int nt_verify_check(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *src, const uint8_t *nonce,
		    size_t nonce_len, const struct nt_endpoint *mapped,
		    uint64_t now_ns)
{
	struct nt_challenge *hit = NULL;

	if (!v->c || nonce_len != NT_VERIFY_NONCE_LEN)
		return -ENOENT;
	/* constant time on the nonce: its bytes are the secret here */
	for (size_t i = 0; i < v->cap; i++)
		if (v->c[i].used && v->c[i].session_id == session_id &&
		    !CRYPTO_memcmp(v->c[i].nonce, nonce, NT_VERIFY_NONCE_LEN))
			hit = &v->c[i];
	if (!hit)
		return -ENOENT;
	if (hit->expires_ns <= now_ns) {
		drop(hit);
		return -ETIMEDOUT;
	}
	if (!nt_endpoint_eq(src, &hit->observed) || !nt_endpoint_eq(mapped, &hit->observed))
		return -EADDRNOTAVAIL;
	/* single use, and the session's other challenges are moot now */
	nt_verify_forget(v, session_id);
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
