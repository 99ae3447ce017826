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

	memset(f, 0, sizeof(*f));
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
	for (size_t i = 0; i < sizeof(f->groups) / sizeof(f->groups[0]); i++) {
		struct nt_fwd_group *g = f->groups[i], *next;

		for (; g; g = next) {
			next = g->next;
			free(g);
		}
	}
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

int nt_fwd_set_group(struct nt_fwd *f, const struct nt_endpoint *src, uint32_t group_id,
		     uint32_t flags)
{
	struct nt_fwd_entry *e = nt_fwd_get(f, src);

	if (!e)
		return -ENOENT;
	e->group_id = group_id;
	e->flags = flags;
	return 0;
}

struct nt_fwd_group *nt_fwd_group_get(const struct nt_fwd *f, uint32_t id)
{
	struct nt_fwd_group *g = f->groups[id % 64];

	for (; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

int nt_fwd_group_put(struct nt_fwd *f, uint32_t id, const struct nt_endpoint *members,
		     uint32_t n)
{
	struct nt_fwd_group *g = nt_fwd_group_get(f, id);
	uint64_t delivered[NT_GROUP_MAX_MEMBERS] = { 0 };

	if (n > NT_GROUP_MAX_MEMBERS)
		return -E2BIG;
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->id = id;
		g->next = f->groups[id % 64];
		f->groups[id % 64] = g;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < g->n; j++)
			if (nt_endpoint_eq(&members[i], &g->members[j]))
				delivered[i] = g->delivered[j];
	memcpy(g->members, members, n * sizeof(*members));
	memcpy(g->delivered, delivered, sizeof(delivered));
	g->n = n;
	return 0;
}

int nt_fwd_group_del(struct nt_fwd *f, uint32_t id)
{
	struct nt_fwd_group **pp = &f->groups[id % 64];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct nt_fwd_group *g = *pp;

			*pp = g->next;
			free(g);
			return 0;
		}
	return -ENOENT;
}

void nt_fwd_group_for_each(struct nt_fwd *f,
			   void (*fn)(struct nt_fwd_group *g, void *arg), void *arg)
{
	for (size_t i = 0; i < sizeof(f->groups) / sizeof(f->groups[0]); i++)
		for (struct nt_fwd_group *g = f->groups[i]; g; g = g->next)
			fn(g, arg);
}

bool nt_bucket_over(uint64_t *credit_ns, uint64_t *last_ns, uint64_t cost_ns, uint64_t burst_ns,
		    uint64_t now)
{
	uint64_t credit;

	if (!cost_ns)
		return false;
	credit = *credit_ns + (now - *last_ns);
	if (credit > burst_ns || now < *last_ns)
		credit = burst_ns;
	*last_ns = now;
	if (credit < cost_ns) {
		*credit_ns = credit;
		return true;
	}
	*credit_ns = credit - cost_ns;
	return false;
}

bool nt_fwd_over_rate(struct nt_fwd_entry *e, uint64_t cost_ns, uint64_t burst_ns, uint64_t now)
{
	if (!nt_bucket_over(&e->tb_credit_ns, &e->tb_last_ns, cost_ns, burst_ns, now))
		return false;
	e->rate_drops++;
	return true;
}

void nt_fwd_rate_config(uint32_t pps, uint32_t burst, uint64_t *cost_ns, uint64_t *burst_ns)
{
	*cost_ns = pps ? 1000000000ull / pps : 0;
	/* at least one packet of credit, or nothing would ever pass */
	*burst_ns = *cost_ns * (burst ? burst : 1);
}
