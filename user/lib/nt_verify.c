// SPDX-License-Identifier: GPL-2.0
/* Challenge table: a few per session, single use, short lifetime, bound to the address; indexed, never scanned. */
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

static uint64_t h_sess(const struct nt_verify *v, uint64_t session_id)
{
	return nt_index_hash(v->hkey, &session_id, sizeof(session_id));
}

int nt_verify_init(struct nt_verify *v, size_t cap)
{
	memset(v, 0, sizeof(*v));
	if (!cap || cap > UINT32_MAX / 2)
		return -EINVAL;
	v->c = calloc(cap, sizeof(*v->c));
	v->prev = calloc(cap, sizeof(*v->prev));
	v->next = calloc(cap, sizeof(*v->next));
	if (!v->c || !v->prev || !v->next || nt_hidx_init(&v->by_session, cap) ||
	    nt_freelist_init(&v->free, cap)) {
		nt_verify_free(v);
		return -ENOMEM;
	}
	nt_index_key_init(v->hkey);
	v->cap = cap;
	return 0;
}

void nt_verify_free(struct nt_verify *v)
{
	if (v->c)
		OPENSSL_cleanse(v->c, v->cap * sizeof(*v->c));
	free(v->c);
	free(v->prev);
	free(v->next);
	nt_hidx_free(&v->by_session);
	nt_freelist_free(&v->free);
	memset(v, 0, sizeof(*v));
}

/* Entry i into the expiry list: from the tail, where a new one goes when lifetimes are equal. */
static void order_link(struct nt_verify *v, uint32_t i)
{
	uint32_t after = v->tail;

	while (after && v->c[after - 1].expires_ns > v->c[i].expires_ns)
		after = v->prev[after - 1];
	v->prev[i] = after;
	v->next[i] = after ? v->next[after - 1] : v->head;
	if (v->next[i])
		v->prev[v->next[i] - 1] = i + 1;
	else
		v->tail = i + 1;
	if (after)
		v->next[after - 1] = i + 1;
	else
		v->head = i + 1;
}

static void order_unlink(struct nt_verify *v, uint32_t i)
{
	if (v->prev[i])
		v->next[v->prev[i] - 1] = v->next[i];
	else
		v->head = v->next[i];
	if (v->next[i])
		v->prev[v->next[i] - 1] = v->prev[i];
	else
		v->tail = v->prev[i];
	v->prev[i] = v->next[i] = 0;
}

static void drop(struct nt_verify *v, struct nt_challenge *c)
{
	uint32_t i = (uint32_t)(c - v->c);

	if (!c->used)
		return;
	nt_hidx_del(&v->by_session, h_sess(v, c->session_id), i);
	order_unlink(v, i);
	OPENSSL_cleanse(c, sizeof(*c));
	nt_freelist_put(&v->free, i);
	v->n--;
}

/*
 * A free entry for a new challenge of session_id: the session's oldest
 * given up when it has its fill, else a free one, else the one closest to
 * expiry. Expired ones go first.
 */
static uint32_t new_slot(struct nt_verify *v, uint64_t session_id, uint64_t now_ns)
{
	struct nt_challenge *oldest = NULL;
	size_t mine = 0;
	uint32_t it;

	while (v->head && v->c[v->head - 1].expires_ns <= now_ns)
		drop(v, &v->c[v->head - 1]);
	for (it = nt_hidx_first(&v->by_session, h_sess(v, session_id)); it;) {
		struct nt_challenge *c = &v->c[it - 1];

		it = nt_hidx_next(&v->by_session, it);
		if (c->session_id != session_id)
			continue;
		if (c->expires_ns <= now_ns) {
			drop(v, c);
			continue;
		}
		mine++;
		if (!oldest || c->probe_seq < oldest->probe_seq)
			oldest = c;
	}
	if (mine >= NT_VERIFY_PER_SESSION)
		drop(v, oldest);
	else if (!v->free.n)
		drop(v, &v->c[v->head - 1]); /* full: the table has entries, so a head */
	return (uint32_t)nt_freelist_get(&v->free);
}

int nt_verify_probe(struct nt_verify *v, uint64_t session_id, uint64_t *last_seq,
		    const struct nt_endpoint *observed, uint64_t seq,
		    const uint8_t nonce[NT_VERIFY_NONCE_LEN], uint64_t now_ns,
		    uint64_t lifetime_ns, const struct nt_challenge **out)
{
	struct nt_challenge *slot;
	uint32_t i;

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
	i = new_slot(v, session_id, now_ns);
	slot = &v->c[i];
	slot->used = true;
	slot->session_id = session_id;
	slot->observed = *observed;
	slot->probe_seq = seq;
	memcpy(slot->nonce, nonce, NT_VERIFY_NONCE_LEN);
	slot->expires_ns = now_ns + lifetime_ns;
	nt_hidx_add(&v->by_session, h_sess(v, session_id), i);
	order_link(v, i);
	v->n++;
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
	for (uint32_t it = nt_hidx_first(&v->by_session, h_sess(v, session_id)); it;
	     it = nt_hidx_next(&v->by_session, it)) {
		struct nt_challenge *c = &v->c[it - 1];

		if (c->session_id == session_id && !CRYPTO_memcmp(c->nonce, nonce, NT_VERIFY_NONCE_LEN))
			hit = c;
	}
	if (!hit)
		return -ENOENT;
	if (hit->expires_ns <= now_ns) {
		drop(v, hit);
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
	for (uint32_t it = nt_hidx_first(&v->by_session, h_sess(v, session_id)); it;) {
		struct nt_challenge *c = &v->c[it - 1];

		it = nt_hidx_next(&v->by_session, it);
		if (c->session_id == session_id)
			drop(v, c);
	}
}

size_t nt_verify_expire(struct nt_verify *v, uint64_t now_ns)
{
	size_t n = 0;

	for (; v->head && v->c[v->head - 1].expires_ns <= now_ns; n++)
		drop(v, &v->c[v->head - 1]);
	return n;
}

size_t nt_verify_count(const struct nt_verify *v)
{
	return v->n;
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
