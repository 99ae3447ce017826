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

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct nt_endpoint churn_ep(unsigned k)
{
	struct nt_endpoint e = { .family = NT_FAMILY_V4, .port = (uint16_t)(1000 + k) };

	e.addr[10] = e.addr[11] = 0xff;
	e.addr[15] = (uint8_t)k;
	return e;
}

/*
 * Sessions, groups and mappings come and go at random, a few users and
 * group names shared by many: every lookup through the indexes answers
 * what a scan of the tables answers (the way the tables were read before
 * they had indexes).
 */
Test(session, indexes_under_churn_match_scans)
{
	enum { NS = 48, NG = 12, NU = 5, NID = 96, NEP = 24 };
	static const char *const users[NU] = { "u0", "u1", "u2", "u3", "u4" };
	char names[NG + 4][8];
	struct nt_sessions t;
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < NG + 4; i++)
		snprintf(names[i], sizeof(names[i]), "g%d", i);
	cr_assert_eq(nt_sessions_init(&t, NS, NG), 0);
	cr_assert_eq(nt_sessions_set_max_members(&t, 4), 0);
	for (int round = 0; round < 40000; round++) {
		uint64_t r = rnd(&seed);
		uint64_t id = 1 + (r >> 8) % NID;
		struct nt_session *s = nt_session_find(&t, id);
		int op = (int)(r % 6);

		if (op == 0 && !s) {
			int rc = nt_session_new(&t, id, key, users[(r >> 20) % NU], NULL, &s);

			cr_assert(rc == 0 || (rc == -ENOSPC && nt_sessions_count(&t) == NS));
		} else if (op == 1 && s) {
			nt_session_del(&t, s);
		} else if (op == 2 && s) {
			int rc = nt_session_join(&t, s, names[(r >> 24) % (NG + 4)]);

			cr_assert(rc == 0 || rc == -EALREADY || rc == -EUSERS || rc == -ENOSPC, "%d", rc);
		} else if (op == 3 && s) {
			nt_session_leave(&t, s);
		} else if (op == 4 && s) {
			struct nt_endpoint e = churn_ep((unsigned)(r >> 28) % NEP);
			struct nt_session *h = nt_session_by_mapping(&t, &e);

			/* as the daemon does: the newest verification takes the endpoint */
			if (h && h != s)
				nt_session_clear_mapping(&t, h);
			nt_session_set_mapping(&t, s, &e);
		} else if (op == 5 && s) {
			nt_session_clear_mapping(&t, s);
		}
		if (round % 13)
			continue;
		/* sessions by id */
		for (uint64_t k = 0; k <= NID; k++) {
			struct nt_session *want = NULL;

			for (size_t i = 0; i < t.nsess; i++)
				if (k && t.sess[i].used && t.sess[i].id == k)
					want = &t.sess[i];
			cr_assert_eq(nt_session_find(&t, k), want, "session %llu", (unsigned long long)k);
		}
		/* sessions by mapping */
		for (unsigned k = 0; k < NEP; k++) {
			struct nt_endpoint e = churn_ep(k);
			struct nt_session *want = NULL;

			for (size_t i = 0; i < t.nsess; i++)
				if (t.sess[i].used && t.sess[i].verified &&
				    !memcmp(&t.sess[i].mapping, &e, sizeof(e)))
					want = &t.sess[i];
			cr_assert_eq(nt_session_by_mapping(&t, &e), want, "mapping %u", k);
		}
		/* groups by name and id, counts */
		size_t ns = 0, ng = 0;

		for (size_t i = 0; i < t.nsess; i++)
			ns += t.sess[i].used;
		for (size_t i = 0; i < t.ngroups; i++) {
			ng += t.groups[i].used;
			if (t.groups[i].used)
				cr_assert_eq(nt_group_by_id(&t, t.groups[i].id), &t.groups[i]);
		}
		cr_assert_eq(nt_sessions_count(&t), ns);
		cr_assert_eq(nt_groups_count(&t), ng);
		for (int g = 0; g < NG + 4; g++) {
			struct nt_group *want = NULL;

			for (size_t i = 0; i < t.ngroups; i++)
				if (t.groups[i].used && !strcmp(t.groups[i].name, names[g]))
					want = &t.groups[i];
			cr_assert_eq(nt_group_find(&t, names[g]), want, "group %s", names[g]);
		}
		/* per-user usage: the scan the quotas used to make */
		for (int u = 0; u < NU; u++) {
			for (int g = -1; g < NG + 4; g++) {
				const char *gn = g < 0 ? NULL : names[g];
				struct nt_user_usage got, want = { 0 };

				for (size_t i = 0; i < t.nsess; i++) {
					const struct nt_session *x = &t.sess[i];
					bool seen = false;

					if (!x->used || strcmp(x->user, users[u]))
						continue;
					want.sessions++;
					if (!x->group)
						continue;
					if (gn && !strcmp(x->group->name, gn))
						want.in_group++;
					for (size_t j = 0; j < i && !seen; j++)
						seen = t.sess[j].used && t.sess[j].group == x->group &&
						       !strcmp(t.sess[j].user, users[u]);
					want.groups += !seen;
				}
				nt_sessions_user_usage(&t, users[u], gn, &got);
				cr_assert_eq(got.sessions, want.sessions, "user %s", users[u]);
				cr_assert_eq(got.groups, want.groups, "user %s", users[u]);
				cr_assert_eq(got.in_group, want.in_group, "user %s group %s", users[u], gn);
			}
		}
	}
	nt_sessions_free(&t);
}
