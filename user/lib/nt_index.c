// SPDX-License-Identifier: GPL-2.0
/* Hash chains and free lists over fixed arrays (nt_index.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "nt_index.h"

/* Entries are addressed as uint32_t + 1: a table holds fewer. */
#define NT_INDEX_CAP_MAX (1u << 30)

int nt_hidx_init(struct nt_hidx *x, size_t cap)
{
	size_t nb = 1;

	memset(x, 0, sizeof(*x));
	if (!cap || cap > NT_INDEX_CAP_MAX)
		return -EINVAL;
	/* at least one bucket per entry: chains of one on average */
	while (nb < cap)
		nb <<= 1;
	x->head = calloc(nb, sizeof(*x->head));
	x->next = calloc(cap, sizeof(*x->next));
	if (!x->head || !x->next) {
		nt_hidx_free(x);
		return -ENOMEM;
	}
	x->mask = (uint32_t)(nb - 1);
	x->cap = (uint32_t)cap;
	return 0;
}

void nt_hidx_free(struct nt_hidx *x)
{
	free(x->head);
	free(x->next);
	memset(x, 0, sizeof(*x));
}

void nt_hidx_add(struct nt_hidx *x, uint64_t h, uint32_t i)
{
	uint32_t *b = &x->head[h & x->mask];

	x->next[i] = *b;
	*b = i + 1;
}

void nt_hidx_del(struct nt_hidx *x, uint64_t h, uint32_t i)
{
	uint32_t *p;

	if (!x->head)
		return;
	for (p = &x->head[h & x->mask]; *p; p = &x->next[*p - 1]) {
		if (*p == i + 1) {
			*p = x->next[i];
			x->next[i] = 0;
			return;
		}
	}
}

int nt_freelist_init(struct nt_freelist *f, size_t cap)
{
	memset(f, 0, sizeof(*f));
	if (!cap || cap > NT_INDEX_CAP_MAX)
		return -EINVAL;
	f->stack = malloc(cap * sizeof(*f->stack));
	if (!f->stack)
		return -ENOMEM;
	/* popped from the top: slot 0 first */
	for (size_t i = 0; i < cap; i++)
		f->stack[i] = (uint32_t)(cap - 1 - i);
	f->n = f->cap = (uint32_t)cap;
	return 0;
}

void nt_freelist_free(struct nt_freelist *f)
{
	free(f->stack);
	memset(f, 0, sizeof(*f));
}

int64_t nt_freelist_get(struct nt_freelist *f)
{
	if (!f->n)
		return -ENOSPC;
	return f->stack[--f->n];
}

void nt_freelist_put(struct nt_freelist *f, uint32_t i)
{
	if (f->n < f->cap)
		f->stack[f->n++] = i;
}

void nt_index_key_init(uint64_t key[2])
{
	if (RAND_bytes((unsigned char *)key, 2 * sizeof(key[0])) != 1)
		key[0] = key[1] = 0;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                   \
	do {                                                                       \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);          \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                             \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                             \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);          \
	} while (0)

uint64_t nt_index_hash(const uint64_t key[2], const void *p, size_t len)
{
	const uint8_t *in = p;
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t left = len & 7;
	const uint8_t *end = in + len - left;

	for (; in != end; in += 8) {
		memcpy(&m, in, 8); /* little-endian hosts; any order hashes as well */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}
