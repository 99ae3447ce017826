// SPDX-License-Identifier: GPL-2.0
/* nt_session: sessions, groups, peers, quotas. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nt_session.h"

static const uint8_t key[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdef";

Test(session, new_find_del)
{
	struct nt_sessions t;
	struct nt_session *a, *b;

	cr_assert_eq(nt_sessions_init(&t, 2, 2), 0);
	cr_assert_eq(nt_session_new(&t, 1, key, "alice", NULL, &a), 0);
	cr_assert_str_eq(a->user, "alice");
	cr_assert_eq(memcmp(a->key, key, sizeof(key)), 0);
	cr_assert_eq(nt_session_new(&t, 1, key, "dup", NULL, &b), -EEXIST);
	cr_assert_eq(nt_session_new(&t, 0, key, "zero", NULL, &b), -EEXIST);
	cr_assert_eq(nt_session_new(&t, 2, key, "bob", NULL, &b), 0);
	cr_assert_eq(nt_session_new(&t, 3, key, "carol", NULL, &b), -ENOSPC);
	cr_assert_eq(nt_session_find(&t, 1), a);
	cr_assert_null(nt_session_find(&t, 0));
	cr_assert_null(nt_session_find(&t, 99));
	nt_session_del(&t, a);
	cr_assert_null(nt_session_find(&t, 1));
	cr_assert_eq(nt_sessions_count(&t), 1);
	for (size_t i = 0; i < sizeof(key); i++)
		cr_assert_eq(a->key[i], 0, "key wiped");
	nt_sessions_free(&t);
}

Test(session, groups_of_two)
{
	struct nt_sessions t;
	struct nt_session *a, *b, *c;
	uint32_t gid;

	cr_assert_eq(nt_sessions_init(&t, 4, 4), 0);
	cr_assert_eq(nt_sessions_set_max_members(&t, 2), 0);
	cr_assert_eq(nt_session_new(&t, 1, key, "a", NULL, &a), 0);
	cr_assert_eq(nt_session_new(&t, 2, key, "b", NULL, &b), 0);
	cr_assert_eq(nt_session_new(&t, 3, key, "c", NULL, &c), 0);
	cr_assert_eq(nt_session_join(&t, a, "room/1"), -EINVAL);
	cr_assert_eq(nt_session_join(&t, a, "room1"), 0);
	cr_assert_null(nt_session_peer(a), "alone");
	cr_assert_eq(nt_session_join(&t, a, "room1"), -EALREADY);
	cr_assert_eq(nt_session_join(&t, b, "room1"), 0);
	cr_assert_eq(a->group, b->group);
	cr_assert_eq(nt_session_peer(a), b);
	cr_assert_eq(nt_session_peer(b), a);
	cr_assert_eq(nt_session_join(&t, c, "room1"), -EUSERS, "third member of a group of two refused");
	cr_assert_null(c->group);
	gid = a->group->id;
	cr_assert_neq(gid, 0);
	cr_assert_eq(nt_groups_count(&t), 1);
	cr_assert_eq(a->group->nmembers, 2);

	nt_session_leave(&t, a);
	cr_assert_null(a->group);
	cr_assert_null(nt_session_peer(b));
	cr_assert_eq(nt_session_join(&t, c, "room1"), 0, "room again");
	cr_assert_eq(c->group->id, gid, "same group, same id");
	nt_session_del(&t, b);
	nt_session_del(&t, c);
	cr_assert_eq(nt_groups_count(&t), 0, "the last member took the group along");
	nt_sessions_free(&t);
}

Test(session, group_quota_and_ids)
{
	struct nt_sessions t;
	struct nt_session *a, *b, *c;

	cr_assert_eq(nt_sessions_init(&t, 4, 2), 0);
	cr_assert_eq(nt_session_new(&t, 1, key, "a", NULL, &a), 0);
	cr_assert_eq(nt_session_new(&t, 2, key, "b", NULL, &b), 0);
	cr_assert_eq(nt_session_new(&t, 3, key, "c", NULL, &c), 0);
	nt_sessions_reserve_group_id(&t, 41); /* adopted mappings used up to 41 */
	cr_assert_eq(nt_session_join(&t, a, "g1"), 0);
	cr_assert_eq(a->group->id, 42);
	cr_assert_eq(nt_session_join(&t, b, "g2"), 0);
	cr_assert_eq(b->group->id, 43);
	cr_assert_eq(nt_session_join(&t, c, "g3"), -ENOSPC, "over the group quota");
	cr_assert_eq(nt_session_join(&t, c, "g2"), 0, "an existing group is fine");
	nt_sessions_free(&t);
	cr_assert_eq(nt_sessions_init(&t, 0, 1), -EINVAL);
}

Test(session, peer_prefers_a_verified_member)
{
	struct nt_sessions t;
	struct nt_session *a, *b, *c;

	cr_assert_eq(nt_sessions_init(&t, 4, 4), 0);
	cr_assert_eq(nt_session_new(&t, 1, key, "a", NULL, &a), 0);
	cr_assert_eq(nt_session_new(&t, 2, key, "b", NULL, &b), 0);
	cr_assert_eq(nt_session_new(&t, 3, key, "c", NULL, &c), 0);
	cr_assert_eq(nt_session_join(&t, a, "room"), 0);
	cr_assert_eq(nt_session_join(&t, b, "room"), 0);
	cr_assert_eq(nt_session_join(&t, c, "room"), 0, "three by default");
	cr_assert_eq(nt_session_peer(a), b);
	c->verified = true;
	cr_assert_eq(nt_session_peer(a), c);
	nt_session_del(&t, c);
	cr_assert_eq(a->group->nmembers, 2);
	nt_sessions_free(&t);
}

/* Ids held outside the table (the operator's groups, adopted mappings). */
static bool taken_5_6(uint32_t id, void *arg)
{
	(void)arg;
	return id == 5 || id == 6;
}

Test(session, group_ids_skip_ids_in_use)
{
	struct nt_sessions t;
	struct nt_session *s[6];
	char name[8];

	cr_assert_eq(nt_sessions_init(&t, 8, 8), 0);
	t.id_taken = taken_5_6;
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		cr_assert_eq(nt_session_new(&t, (uint64_t)i + 1, key, "u", NULL, &s[i]), 0);
		cr_assert_eq(nt_session_join(&t, s[i], name), 0);
		cr_assert_neq(s[i]->group->id, 5);
		cr_assert_neq(s[i]->group->id, 6);
		for (int j = 0; j < i; j++)
			cr_assert_neq(s[i]->group->id, s[j]->group->id);
	}
	/* the counter wraps onto a live group's id: that one is skipped too */
	t.next_group_id = s[0]->group->id;
	nt_session_leave(&t, s[5]);
	cr_assert_eq(nt_session_join(&t, s[5], "again"), 0);
	for (int j = 0; j < 5; j++)
		cr_assert_neq(s[5]->group->id, s[j]->group->id);
	nt_sessions_free(&t);
}

Test(session, user_usage)
{
	struct nt_sessions t;
	struct nt_session *a, *b, *c, *d;
	struct nt_user_usage u;

	cr_assert_eq(nt_sessions_init(&t, 8, 8), 0);
	nt_session_new(&t, 1, key, "alice", NULL, &a);
	nt_session_new(&t, 2, key, "alice", NULL, &b);
	nt_session_new(&t, 3, key, "alice", NULL, &c);
	nt_session_new(&t, 4, key, "bob", NULL, &d);
	nt_session_join(&t, a, "r1");
	nt_session_join(&t, b, "r1");
	nt_session_join(&t, c, "r2");
	nt_session_join(&t, d, "r1");
	nt_sessions_user_usage(&t, "alice", "r1", &u);
	cr_assert_eq(u.sessions, 3);
	cr_assert_eq(u.groups, 2);
	cr_assert_eq(u.in_group, 2);
	nt_sessions_user_usage(&t, "alice", NULL, &u);
	cr_assert_eq(u.in_group, 0);
	nt_sessions_user_usage(&t, "bob", "r2", &u);
	cr_assert_eq(u.sessions, 1);
	cr_assert_eq(u.groups, 1);
	cr_assert_eq(u.in_group, 0);
	nt_sessions_user_usage(&t, "carol", "r1", &u);
	cr_assert_eq(u.sessions + u.groups + u.in_group, 0);
	nt_sessions_free(&t);
}
