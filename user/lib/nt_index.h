/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed-capacity indexes over a caller's array of entries, for tables that
 * must not scan: a chained hash index (entries found by a hash of their
 * key, the caller comparing keys) and a free list of slots. Everything is
 * allocated once at init for the table's capacity: no allocation per
 * packet or per line, and a full table is an error, never growth.
 *
 * Hashes are keyed (SipHash-2-4 with a random key, nt_index_key_init):
 * group and user names come from clients, and must not be able to pile up
 * in one chain.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef NT_INDEX_H
#define NT_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* Chains: entry i is in at most one chain; links are entry + 1, 0 ends. */
struct nt_hidx {
	uint32_t *head;		/* per bucket */
	uint32_t *next;		/* per entry */
	uint32_t mask;		/* buckets - 1 */
	uint32_t cap;		/* entries */
};

int nt_hidx_init(struct nt_hidx *x, size_t cap);
void nt_hidx_free(struct nt_hidx *x);
/* Entry i (< cap), not in the index yet, under hash h. */
void nt_hidx_add(struct nt_hidx *x, uint64_t h, uint32_t i);
/* Entry i out of the chain of h; nothing when it is not there. */
void nt_hidx_del(struct nt_hidx *x, uint64_t h, uint32_t i);

/*
 * The entries under h, as entry + 1 (0: no more): the caller checks the
 * key of each, as different keys share chains.
 *   for (uint32_t it = nt_hidx_first(x, h); it; it = nt_hidx_next(x, it))
 *           e = &array[it - 1];
 */
static inline uint32_t nt_hidx_first(const struct nt_hidx *x, uint64_t h)
{
	return x->head ? x->head[h & x->mask] : 0;
}

static inline uint32_t nt_hidx_next(const struct nt_hidx *x, uint32_t it)
{
	return x->next[it - 1];
}

/* Free slots of a table of cap entries, lowest index first at the start. */
struct nt_freelist {
	uint32_t *stack;
	uint32_t n, cap;
};

int nt_freelist_init(struct nt_freelist *f, size_t cap);
void nt_freelist_free(struct nt_freelist *f);
/* A free slot, now taken, or -ENOSPC. */
int64_t nt_freelist_get(struct nt_freelist *f);
/* Slot i is free again (it was taken). */
void nt_freelist_put(struct nt_freelist *f, uint32_t i);

/* A random hash key (16 bytes); zeros if the system has no randomness. */
void nt_index_key_init(uint64_t key[2]);
/* SipHash-2-4 of len bytes under key. */
uint64_t nt_index_hash(const uint64_t key[2], const void *p, size_t len);

#endif /* NT_INDEX_H */
