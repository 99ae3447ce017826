// SPDX-License-Identifier: GPL-2.0
/* nt_group: alone / pair / fan-out plans from group membership and verification. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "nt_group.h"
#include "nt_verify.h"
#include "endpoints.h"

static const uint8_t key[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static void verify(struct nt_session *s, uint16_t port)
{
	s->verified = true;
	s->mapping = ep4n(0xc6336400 + port % 200, port);
}

static struct nt_sessions t;
static struct nt_session *s[NT_GROUP_MAX_MEMBERS + 1];

static void setup(void)
{
	cr_assert_eq(nt_sessions_init(&t, NT_GROUP_MAX_MEMBERS + 1, 4), 0);
	for (int i = 0; i <= NT_GROUP_MAX_MEMBERS; i++)
		cr_assert_eq(nt_session_new(&t, (uint64_t)i + 1, key, "u", NULL, &s[i]), 0);
}

static void teardown(void)
{
	nt_sessions_free(&t);
}

TestSuite(group, .init = setup, .fini = teardown);

Test(group, modes)
{
	cr_assert_eq(nt_group_mode_for(0), NT_GROUP_ALONE);
	cr_assert_eq(nt_group_mode_for(1), NT_GROUP_ALONE);
	cr_assert_eq(nt_group_mode_for(2), NT_GROUP_PAIR);
	cr_assert_eq(nt_group_mode_for(3), NT_GROUP_FANOUT);
	cr_assert_eq(nt_group_mode_for(64), NT_GROUP_FANOUT);
	cr_assert_str_eq(nt_group_mode_name(NT_GROUP_FANOUT), "fanout");
}

Test(group, membership_follows_verification)
{
	struct nt_group_plan p;
	struct nt_endpoint peer;
	uint32_t flags = NT_MAPPING_F_STATIC;

	for (int i = 0; i < 4; i++)
		cr_assert_eq(nt_session_join(&t, s[i], "room"), 0);
	cr_assert_eq(s[0]->group->nmembers, 4);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.n, 0, "joined is not verified");
	cr_assert_eq(p.mode, NT_GROUP_ALONE);

	verify(s[0], 1000);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.mode, NT_GROUP_ALONE);
	cr_assert_eq(nt_group_mapping_for(&p, &s[0]->mapping, &peer, &flags), 0);
	cr_assert_eq(peer.family, 0, "alone: no peer");
	cr_assert_eq(flags, NT_MAPPING_F_STATIC, "other flags kept");
	cr_assert_eq(nt_group_mapping_for(&p, &s[1]->mapping, &peer, &flags), -ENOENT);

	verify(s[2], 1002);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.mode, NT_GROUP_PAIR, "two verified: direct path");
	cr_assert_eq(nt_group_mapping_for(&p, &s[0]->mapping, &peer, &flags), 0);
	cr_assert(nt_endpoint_eq(&peer, &s[2]->mapping));
	cr_assert_eq(flags & NT_MAPPING_F_FANOUT, 0);
	cr_assert_eq(nt_group_mapping_for(&p, &s[2]->mapping, &peer, &flags), 0);
	cr_assert(nt_endpoint_eq(&peer, &s[0]->mapping));

	verify(s[3], 1003);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.mode, NT_GROUP_FANOUT, "three verified: fan-out");
	cr_assert_eq(p.n, 3);
	for (int i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		flags = 0;
		cr_assert_eq(nt_group_mapping_for(&p, &s[i]->mapping, &peer, &flags), 0);
		cr_assert_eq(peer.family, 0, "fan-out: peer zeroed");
		cr_assert_eq(flags, NT_MAPPING_F_FANOUT);
	}

	/* expiry (mapping gone, session stays) drops it back to a pair */
	s[3]->verified = false;
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.mode, NT_GROUP_PAIR, "3 -> 2: back to the direct path");
	flags = NT_MAPPING_F_FANOUT;
	cr_assert_eq(nt_group_mapping_for(&p, &s[2]->mapping, &peer, &flags), 0);
	cr_assert_eq(flags, 0, "FANOUT flag cleared");
	cr_assert(nt_endpoint_eq(&peer, &s[0]->mapping));

	/* a rebinding: same member, new endpoint */
	verify(s[3], 1103);
	verify(s[1], 1001);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.n, 4);
	cr_assert(nt_endpoint_eq(&p.eps[3], &s[3]->mapping));

	/* leave: out of the plan at once */
	nt_session_leave(&t, s[1]);
	nt_session_leave(&t, s[3]);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.mode, NT_GROUP_PAIR);
	nt_session_leave(&t, s[2]);
	nt_group_plan(s[0]->group, &p);
	cr_assert_eq(p.mode, NT_GROUP_ALONE);
	nt_group_plan(NULL, &p);
	cr_assert_eq(p.n, 0);
}

Test(group, max_members)
{
	cr_assert_eq(nt_sessions_set_max_members(&t, 1), -EINVAL);
	cr_assert_eq(nt_sessions_set_max_members(&t, NT_GROUP_MAX_MEMBERS + 1), -EINVAL);
	cr_assert_eq(t.max_members, NT_GROUP_MEMBERS_DEFAULT);
	cr_assert_eq(nt_sessions_set_max_members(&t, 3), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(nt_session_join(&t, s[i], "room"), 0);
	cr_assert_eq(nt_session_join(&t, s[3], "room"), -EUSERS, "4th of 3 refused");
	cr_assert_null(s[3]->group);
	cr_assert_eq(nt_session_join(&t, s[3], "other"), 0, "another room is fine");
	nt_session_leave(&t, s[0]);
	cr_assert_eq(nt_session_join(&t, s[4], "room"), 0, "a seat freed by a leave");

	/* the kernel's limit: 64 verified members fit one nt_groups entry */
	cr_assert_eq(nt_sessions_set_max_members(&t, NT_GROUP_MAX_MEMBERS), 0);
	for (int i = 5; i <= NT_GROUP_MAX_MEMBERS; i++)
		cr_assert_eq(nt_session_join(&t, s[i], "big"), 0);
	for (int i = 0; i < 4; i++) {
		nt_session_leave(&t, s[i]);
		cr_assert_eq(nt_session_join(&t, s[i], "big"), 0);
	}
	cr_assert_eq(s[0]->group->nmembers, NT_GROUP_MAX_MEMBERS);
	nt_session_leave(&t, s[4]);
	cr_assert_eq(nt_session_join(&t, s[4], "big"), -EUSERS, "65th refused");
	for (int i = 0; i <= NT_GROUP_MAX_MEMBERS; i++)
		if (i != 4)
			verify(s[i], (uint16_t)(2000 + i));
	struct nt_group_plan p;

	nt_group_plan(s[5]->group, &p);
	cr_assert_eq(p.n, NT_GROUP_MAX_MEMBERS);
	cr_assert_eq(p.mode, NT_GROUP_FANOUT);
}

Test(group, fanout_entry_keeps_counters_of_members_that_stay)
{
	struct nt_group_plan p = { .mode = NT_GROUP_FANOUT, .n = 3 };
	struct nt_fanout_group old, out;

	p.eps[0] = ep4n(0x0a000001, 1);
	p.eps[1] = ep4n(0x0a000002, 2);
	p.eps[2] = ep4n(0x0a000003, 3);
	nt_group_fanout_fill(&p, NULL, &old);
	cr_assert_eq(old.n_members, 3);
	cr_assert_eq(old.delivered[0], 0);
	old.delivered[0] = 10;
	old.delivered[1] = 20;
	old.delivered[2] = 30;
	old.packets_in = 30;
	old.copies_out = 60;
	old.bytes_out = 6000;
	/* member 1 leaves, a new one comes */
	p.eps[1] = p.eps[2];
	p.eps[2] = ep4n(0x0a000004, 4);
	nt_group_fanout_fill(&p, &old, &out);
	cr_assert_eq(out.n_members, 3);
	cr_assert(nt_endpoint_eq(&out.members[1], &old.members[2]));
	cr_assert_eq(out.delivered[0], 10);
	cr_assert_eq(out.delivered[1], 30, "counter follows the member, not the slot");
	cr_assert_eq(out.delivered[2], 0, "new member starts at 0");
	cr_assert_eq(out.copies_out, 60);
	cr_assert_eq(nt_group_member_index(&out, &p.eps[2]), 2);
	cr_assert_eq(nt_group_member_index(&out, &old.members[1]), -1);
	cr_assert_eq(out.members[3].family, 0, "unused slots zero");
}

Test(group, plan_eq)
{
	struct nt_group_plan a = { .mode = NT_GROUP_PAIR, .n = 2 }, b;

	a.eps[0] = ep4n(1, 1);
	a.eps[1] = ep4n(2, 2);
	b = a;
	cr_assert(nt_group_plan_eq(&a, &b));
	b.eps[1] = ep4n(2, 3);
	cr_assert_not(nt_group_plan_eq(&a, &b));
	b = a;
	b.mode = NT_GROUP_FANOUT;
	cr_assert_not(nt_group_plan_eq(&a, &b));
}
