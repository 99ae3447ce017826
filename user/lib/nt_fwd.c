// SPDX-License-Identifier: GPL-2.0
/* Userspace forwarding table: endpoint -> peer, chained hashing (FNV-1a). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nt_fwd.h"
#include "nt_verify.h"

static size_t hash(const struct nt_endpoint *ep)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(ep->addr); i++)
		h = (h ^ ep->addr[i]) * 1099511628211ull;
	h = (h ^ (ep->port & 0xff)) * 1099511628211ull;
	h = (h ^ (ep->port >> 8)) * 1099511628211ull;
	h = (h ^ ep->family) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32));
}

int nt_fwd_init(struct nt_fwd *f, size_t buckets)
{
	size_t n = 16;

	while (n < buckets && n < (1u << 24))
		n <<= 1;
	f->b = calloc(n, sizeof(*f->b));
	if (!f->b)
		return -ENOMEM;
	f->mask = n - 1;
	f->n = 0;
	return 0;
}

void nt_fwd_free(struct nt_fwd *f)
{
	for (size_t i = 0; f->b && i <= f->mask; i++) {
		struct nt_fwd_entry *e = f->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(f->b);
	memset(f, 0, sizeof(*f));
}

struct nt_fwd_entry *nt_fwd_get(const struct nt_fwd *f,
				const struct nt_endpoint *src)
{
	struct nt_fwd_entry *e = f->b[hash(src) & f->mask];

	for (; e; e = e->next)
		if (nt_endpoint_eq(&e->src, src))
			return e;
	return NULL;
}

int nt_fwd_put(struct nt_fwd *f, const struct nt_endpoint *src,
	       const struct nt_endpoint *peer)
{
	struct nt_fwd_entry *e = nt_fwd_get(f, src);

	if (!e) {
		size_t h = hash(src) & f->mask;

		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->src = *src;
		e->next = f->b[h];
		f->b[h] = e;
		f->n++;
	}
	if (peer)
		e->peer = *peer;
	else
		memset(&e->peer, 0, sizeof(e->peer));
	return 0;
}

int nt_fwd_del(struct nt_fwd *f, const struct nt_endpoint *src)
{
	struct nt_fwd_entry **pp = &f->b[hash(src) & f->mask];

	for (; *pp; pp = &(*pp)->next)
		if (nt_endpoint_eq(&(*pp)->src, src)) {
			struct nt_fwd_entry *e = *pp;

			*pp = e->next;
			free(e);
			f->n--;
			return 0;
		}
	return -ENOENT;
}

void nt_fwd_for_each(struct nt_fwd *f,
		     void (*fn)(struct nt_fwd_entry *e, void *arg), void *arg)
{
	for (size_t i = 0; i <= f->mask; i++)
		for (struct nt_fwd_entry *e = f->b[i]; e; e = e->next)
			fn(e, arg);
}
