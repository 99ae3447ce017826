// SPDX-License-Identifier: GPL-2.0
/* Per-address counts: linear probing, deletion by backward shift (no tombstones). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nt_addrcount.h"

int nt_addrcount_init(struct nt_addrcount *t, size_t max)
{
	size_t n = 16;

	memset(t, 0, sizeof(*t));
	if (!max || max > (1u << 24))
		return -EINVAL;
	/* at most half full: probes stay short */
	while (n < 2 * max)
		n <<= 1;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = n - 1;
	t->max = max;
	return 0;
}

void nt_addrcount_free(struct nt_addrcount *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* FNV-1a: the table is private and bounded, an attacker's collisions cost probes, not memory */
static size_t hash(const uint8_t a[16])
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

/* The slot holding a, or the free slot where it would go. */
static size_t find(const struct nt_addrcount *t, const uint8_t a[16])
{
	size_t i = hash(a) & t->mask;

	while (t->slots[i].count && memcmp(t->slots[i].addr, a, 16))
		i = (i + 1) & t->mask;
	return i;
}

uint32_t nt_addrcount_get(const struct nt_addrcount *t, const struct nt_endpoint *ep)
{
	if (!t->slots)
		return 0;
	return t->slots[find(t, ep->addr)].count;
}

int nt_addrcount_inc(struct nt_addrcount *t, const struct nt_endpoint *ep)
{
	size_t i;

	if (!t->slots)
		return -EINVAL;
	i = find(t, ep->addr);
	if (!t->slots[i].count) {
		if (t->used >= t->max)
			return -ENOSPC;
		memcpy(t->slots[i].addr, ep->addr, 16);
		t->used++;
	}
	if (t->slots[i].count == UINT32_MAX)
		return -EOVERFLOW;
	return (int)(++t->slots[i].count > INT32_MAX ? INT32_MAX : t->slots[i].count);
}

void nt_addrcount_dec(struct nt_addrcount *t, const struct nt_endpoint *ep)
{
	size_t i, j;

	if (!t->slots)
		return;
	i = find(t, ep->addr);
	if (!t->slots[i].count || --t->slots[i].count)
		return;
	t->used--;
	/* backward shift: move later entries of the run into the hole when they may */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & t->mask;
		if (!t->slots[j].count)
			break;
		home = hash(t->slots[j].addr) & t->mask;
		/* j's entry stays when its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
}
