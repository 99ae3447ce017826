// SPDX-License-Identifier: GPL-2.0
/* Session and group tables. Linear scans: a relay holds thousands, not millions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "nt_session.h"

int nt_sessions_init(struct nt_sessions *t, size_t max_sessions,
		     size_t max_groups)
{
	memset(t, 0, sizeof(*t));
	if (!max_sessions || !max_groups)
		return -EINVAL;
	t->sess = calloc(max_sessions, sizeof(*t->sess));
	t->groups = calloc(max_groups, sizeof(*t->groups));
	if (!t->sess || !t->groups) {
		nt_sessions_free(t);
		return -ENOMEM;
	}
	t->nsess = max_sessions;
	t->ngroups = max_groups;
	t->next_group_id = 1;
	t->max_members = NT_GROUP_MEMBERS_DEFAULT;
	return 0;
}

int nt_sessions_set_max_members(struct nt_sessions *t, uint32_t n)
{
	if (n < 2 || n > NT_GROUP_MEMBERS)
		return -EINVAL;
	t->max_members = n;
	return 0;
}

void nt_sessions_free(struct nt_sessions *t)
{
	if (t->sess)
		OPENSSL_cleanse(t->sess, t->nsess * sizeof(*t->sess));
	free(t->sess);
	free(t->groups);
	memset(t, 0, sizeof(*t));
}

int nt_session_new(struct nt_sessions *t, uint64_t id,
		   const uint8_t key[NT_WIRE_KEY_LEN], const char *user,
		   void *owner, struct nt_session **out)
{
	struct nt_session *free_slot = NULL;

	if (!id || nt_session_find(t, id))
		return -EEXIST;
	for (size_t i = 0; i < t->nsess && !free_slot; i++)
		if (!t->sess[i].used)
			free_slot = &t->sess[i];
	if (!free_slot)
		return -ENOSPC;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->id = id;
	memcpy(free_slot->key, key, NT_WIRE_KEY_LEN);
	if (user)
		snprintf(free_slot->user, sizeof(free_slot->user), "%s", user);
	free_slot->owner = owner;
	*out = free_slot;
	return 0;
}

struct nt_session *nt_session_find(const struct nt_sessions *t, uint64_t id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < t->nsess; i++)
		if (t->sess[i].used && t->sess[i].id == id)
			return &t->sess[i];
	return NULL;
}

void nt_session_del(struct nt_sessions *t, struct nt_session *s)
{
	if (!s || !s->used)
		return;
	nt_session_leave(t, s);
	OPENSSL_cleanse(s, sizeof(*s));
}

struct nt_group *nt_group_find(const struct nt_sessions *t, const char *name)
{
	for (size_t i = 0; i < t->ngroups; i++)
		if (t->groups[i].used && !strcmp(t->groups[i].name, name))
			return &t->groups[i];
	return NULL;
}

static bool id_in_use(const struct nt_sessions *t, uint32_t id)
{
	for (size_t i = 0; i < t->ngroups; i++)
		if (t->groups[i].used && t->groups[i].id == id)
			return true;
	return t->id_taken && t->id_taken(id, t->id_arg);
}

/* The next id no group here or elsewhere holds; 0 when none is found. */
static uint32_t group_id_alloc(struct nt_sessions *t)
{
	/* ids are dense: a few live ones at most stand in the way */
	for (uint32_t tries = 0; tries < 1u << 16; tries++) {
		uint32_t id = t->next_group_id++;

		if (!t->next_group_id) /* wrapped: 0 is never an id */
			t->next_group_id = 1;
		if (id && !id_in_use(t, id))
			return id;
	}
	return 0;
}

void nt_sessions_user_usage(const struct nt_sessions *t, const char *user,
			    const char *group, struct nt_user_usage *u)
{
	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < t->nsess; i++) {
		const struct nt_session *s = &t->sess[i];
		bool seen = false;

		if (!s->used || strcmp(s->user, user))
			continue;
		u->sessions++;
		if (!s->group)
			continue;
		if (group && !strcmp(s->group->name, group))
			u->in_group++;
		/* distinct groups: a user holds a handful of sessions at most */
		for (size_t j = 0; j < i && !seen; j++)
			seen = t->sess[j].used && t->sess[j].group == s->group &&
			       !strcmp(t->sess[j].user, user);
		u->groups += !seen;
	}
}

int nt_session_join(struct nt_sessions *t, struct nt_session *s,
		    const char *name)
{
	struct nt_group *g;
	int slot = -1;

	if (s->group)
		return -EALREADY;
	if (!nt_line_group_valid(name))
		return -EINVAL;
	g = nt_group_find(t, name);
	if (!g) {
		uint32_t id;

		for (size_t i = 0; i < t->ngroups && !g; i++)
			if (!t->groups[i].used)
				g = &t->groups[i];
		if (!g)
			return -ENOSPC;
		id = group_id_alloc(t);
		if (!id)
			return -ENOSPC;
		memset(g, 0, sizeof(*g));
		g->used = true;
		g->id = id;
		snprintf(g->name, sizeof(g->name), "%s", name);
	}
	/* a new group has no member yet and max_members >= 2: never refused here */
	if (g->nmembers >= t->max_members)
		return -EUSERS;
	for (int i = 0; i < NT_GROUP_MEMBERS && slot < 0; i++)
		if (!g->members[i])
			slot = i;
	if (slot < 0)
		return -EUSERS;
	g->members[slot] = s;
	g->nmembers++;
	s->group = g;
	return 0;
}

void nt_session_leave(struct nt_sessions *t, struct nt_session *s)
{
	struct nt_group *g = s->group;
	bool empty = true;

	(void)t;
	if (!g)
		return;
	for (int i = 0; i < NT_GROUP_MEMBERS; i++) {
		if (g->members[i] == s) {
			g->members[i] = NULL;
			g->nmembers--;
		}
		if (g->members[i])
			empty = false;
	}
	s->group = NULL;
	if (empty)
		memset(g, 0, sizeof(*g));
}

struct nt_session *nt_session_peer(const struct nt_session *s)
{
	struct nt_session *any = NULL;

	if (!s->group)
		return NULL;
	for (int i = 0; i < NT_GROUP_MEMBERS; i++) {
		struct nt_session *m = s->group->members[i];

		if (!m || m == s)
			continue;
		if (m->verified)
			return m;
		if (!any)
			any = m;
	}
	return any;
}

void nt_sessions_reserve_group_id(struct nt_sessions *t, uint32_t id)
{
	if (id >= t->next_group_id && id != UINT32_MAX)
		t->next_group_id = id + 1;
}

size_t nt_sessions_count(const struct nt_sessions *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nsess; i++)
		n += t->sess[i].used;
	return n;
}

size_t nt_groups_count(const struct nt_sessions *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->ngroups; i++)
		n += t->groups[i].used;
	return n;
}
