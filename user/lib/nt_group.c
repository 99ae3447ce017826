// SPDX-License-Identifier: GPL-2.0
/* Group relay plans: alone, pair or fan-out, from the verified members. */
#include <errno.h>
#include <string.h>
#include "nt_group.h"
#include "nt_verify.h"

const char *nt_group_mode_name(enum nt_group_mode m)
{
	return m == NT_GROUP_FANOUT ? "fanout" : m == NT_GROUP_PAIR ? "pair" : "alone";
}

enum nt_group_mode nt_group_mode_for(uint32_t verified)
{
	return verified >= 3 ? NT_GROUP_FANOUT : verified == 2 ? NT_GROUP_PAIR : NT_GROUP_ALONE;
}

void nt_group_plan(const struct nt_group *g, struct nt_group_plan *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; g && i < NT_GROUP_MEMBERS; i++) {
		const struct nt_session *s = g->members[i];

		if (s && s->verified && p->n < NT_GROUP_MAX_MEMBERS)
			p->eps[p->n++] = s->mapping;
	}
	p->mode = nt_group_mode_for(p->n);
}

int nt_group_mapping_for(const struct nt_group_plan *p, const struct nt_endpoint *ep,
			 struct nt_endpoint *peer, uint32_t *flags)
{
	int self = -1;

	for (uint32_t i = 0; i < p->n && self < 0; i++)
		if (nt_endpoint_eq(&p->eps[i], ep))
			self = (int)i;
	if (self < 0)
		return -ENOENT;
	memset(peer, 0, sizeof(*peer));
	*flags &= ~(uint32_t)NT_MAPPING_F_FANOUT;
	if (p->mode == NT_GROUP_PAIR)
		*peer = p->eps[self ? 0 : 1];
	else if (p->mode == NT_GROUP_FANOUT)
		*flags |= NT_MAPPING_F_FANOUT;
	return 0;
}

int nt_group_member_index(const struct nt_fanout_group *g, const struct nt_endpoint *ep)
{
	uint32_t n = g->n_members < NT_GROUP_MAX_MEMBERS ? g->n_members : NT_GROUP_MAX_MEMBERS;

	for (uint32_t i = 0; i < n; i++)
		if (nt_endpoint_eq(&g->members[i], ep))
			return (int)i;
	return -1;
}

void nt_group_fanout_fill(const struct nt_group_plan *p, const struct nt_fanout_group *old,
			  struct nt_fanout_group *out)
{
	memset(out, 0, sizeof(*out));
	if (old) {
		out->packets_in = old->packets_in;
		out->copies_out = old->copies_out;
		out->bytes_out = old->bytes_out;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		int j = old ? nt_group_member_index(old, &p->eps[i]) : -1;

		out->members[i] = p->eps[i];
		if (j >= 0)
			out->delivered[i] = old->delivered[j];
	}
	out->n_members = p->n;
}

bool nt_group_plan_eq(const struct nt_group_plan *a, const struct nt_group_plan *b)
{
	if (a->mode != b->mode || a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (!nt_endpoint_eq(&a->eps[i], &b->eps[i]))
			return false;
	return true;
}
