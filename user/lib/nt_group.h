/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a group's verified members are relayed, as a pure function of who is
 * verified: alone (nothing to send to), a pair (each mapping's peer is the
 * other: XDP rewrites and sends, the fastest path), or fan-out (three or
 * more: every mapping flagged NT_MAPPING_F_FANOUT, peer zero, the members
 * listed in an nt_groups entry for the TC program or userspace to copy to).
 * The daemon applies the plan to the maps and the userspace table.
 */
#ifndef NT_GROUP_H
#define NT_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"
#include "nt_session.h"

enum nt_group_mode {
	NT_GROUP_ALONE = 0,	/* 0 or 1 verified member; no nt_groups entry */
	NT_GROUP_PAIR,		/* 2: peer fields, no nt_groups entry */
	NT_GROUP_FANOUT,	/* 3 or more: nt_groups entry, FANOUT flags */
};

struct nt_group_plan {
	enum nt_group_mode mode;
	uint32_t n;		/* verified members, in eps[] */
	struct nt_endpoint eps[NT_GROUP_MAX_MEMBERS];
};

const char *nt_group_mode_name(enum nt_group_mode m);
enum nt_group_mode nt_group_mode_for(uint32_t verified);

/* The plan for g's verified members (in member-slot order). */
void nt_group_plan(const struct nt_group *g, struct nt_group_plan *p);

/*
 * What the mapping of member ep holds under p: *peer (zeroed when none) and
 * the NT_MAPPING_F_FANOUT bit of *flags (other bits kept). -ENOENT when ep
 * is not a verified member of the plan.
 */
int nt_group_mapping_for(const struct nt_group_plan *p, const struct nt_endpoint *ep,
			 struct nt_endpoint *peer, uint32_t *flags);

/*
 * The nt_groups value for p: members = the verified endpoints; counters
 * carried over from old (NULL: none) for members that stay, the group's
 * totals kept.
 */
void nt_group_fanout_fill(const struct nt_group_plan *p, const struct nt_fanout_group *old,
			  struct nt_fanout_group *out);

/* Index of ep in g->members[0..n_members), or -1. */
int nt_group_member_index(const struct nt_fanout_group *g, const struct nt_endpoint *ep);

/* Whether two plans relay the same way (same mode, same members, same order). */
bool nt_group_plan_eq(const struct nt_group_plan *a, const struct nt_group_plan *b);

#endif /* NT_GROUP_H */
