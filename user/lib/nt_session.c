// SPDX-License-Identifier: GPL-2.0
/*
 * Session and group tables. Every lookup goes through a hash index and
 * every free slot comes off a free list (nt_index.h): a relay holds 100k
 * sessions, and a scan per line or per datagram would cost a core.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "nt_session.h"
#include "nt_verify.h"

static uint64_t h_id(const struct nt_sessions *t, uint64_t id)
{
	return nt_index_hash(t->hkey, &id, sizeof(id));
}

static uint64_t h_str(const struct nt_sessions *t, const char *s)
{
	return nt_index_hash(t->hkey, s, strlen(s));
}

/* addr, port and family: what nt_endpoint_eq compares (pad is not) */
static uint64_t h_ep(const struct nt_sessions *t, const struct nt_endpoint *ep)
{
	uint8_t k[sizeof(ep->addr) + sizeof(ep->port) + 1];

	memcpy(k, ep->addr, sizeof(ep->addr));
	memcpy(k + sizeof(ep->addr), &ep->port, sizeof(ep->port));
	k[sizeof(k) - 1] = ep->family;
	return nt_index_hash(t->hkey, k, sizeof(k));
}

static uint32_t sess_idx(const struct nt_sessions *t, const struct nt_session *s)
{
	return (uint32_t)(s - t->sess);
}

static uint32_t group_idx(const struct nt_sessions *t, const struct nt_group *g)
{
	return (uint32_t)(g - t->groups);
}

int nt_sessions_init(struct nt_sessions *t, size_t max_sessions,
		     size_t max_groups)
{
	memset(t, 0, sizeof(*t));
	if (!max_sessions || !max_groups)
		return -EINVAL;
	t->sess = calloc(max_sessions, sizeof(*t->sess));
	t->groups = calloc(max_groups, sizeof(*t->groups));
	t->users = calloc(max_sessions, sizeof(*t->users));
	if (!t->sess || !t->groups || !t->users ||
	    nt_hidx_init(&t->sess_by_id, max_sessions) ||
	    nt_hidx_init(&t->sess_by_mapping, max_sessions) ||
	    nt_hidx_init(&t->user_by_name, max_sessions) ||
	    nt_hidx_init(&t->group_by_name, max_groups) ||
	    nt_hidx_init(&t->group_by_id, max_groups) ||
	    nt_freelist_init(&t->free_sess, max_sessions) ||
	    nt_freelist_init(&t->free_users, max_sessions) ||
	    nt_freelist_init(&t->free_groups, max_groups)) {
		nt_sessions_free(t);
		return -ENOMEM;
	}
	nt_index_key_init(t->hkey);
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
	free(t->users);
	nt_hidx_free(&t->sess_by_id);
	nt_hidx_free(&t->sess_by_mapping);
	nt_hidx_free(&t->user_by_name);
	nt_hidx_free(&t->group_by_name);
	nt_hidx_free(&t->group_by_id);
	nt_freelist_free(&t->free_sess);
	nt_freelist_free(&t->free_users);
	nt_freelist_free(&t->free_groups);
	memset(t, 0, sizeof(*t));
}

static struct nt_user_rec *user_find(const struct nt_sessions *t, const char *name)
{
	for (uint32_t it = nt_hidx_first(&t->user_by_name, h_str(t, name)); it;
	     it = nt_hidx_next(&t->user_by_name, it))
		if (!strcmp(t->users[it - 1].name, name))
			return &t->users[it - 1];
	return NULL;
}

/* The user's entry, made on their first session; NULL when none is free. */
static struct nt_user_rec *user_get(struct nt_sessions *t, const char *name)
{
	struct nt_user_rec *u = user_find(t, name);
	int64_t i;

	if (u)
		return u;
	i = nt_freelist_get(&t->free_users);
	if (i < 0)
		return NULL;
	u = &t->users[i];
	memset(u, 0, sizeof(*u));
	u->used = true;
	snprintf(u->name, sizeof(u->name), "%s", name);
	nt_hidx_add(&t->user_by_name, h_str(t, u->name), (uint32_t)i);
	return u;
}

static void user_put(struct nt_sessions *t, struct nt_user_rec *u)
{
	uint32_t i = (uint32_t)(u - t->users);

	if (--u->sessions)
		return;
	nt_hidx_del(&t->user_by_name, h_str(t, u->name), i);
	memset(u, 0, sizeof(*u));
	nt_freelist_put(&t->free_users, i);
}

int nt_session_new(struct nt_sessions *t, uint64_t id,
		   const uint8_t key[NT_WIRE_KEY_LEN], const char *user,
		   void *owner, struct nt_session **out)
{
	struct nt_session *s;
	struct nt_user_rec *u;
	int64_t i;

	if (!id || nt_session_find(t, id))
		return -EEXIST;
	/* users never outnumber sessions: a free session means a free user entry */
	i = nt_freelist_get(&t->free_sess);
	if (i < 0)
		return -ENOSPC;
	s = &t->sess[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->id = id;
	memcpy(s->key, key, NT_WIRE_KEY_LEN);
	if (user)
		snprintf(s->user, sizeof(s->user), "%s", user);
	u = user_get(t, s->user);
	if (!u) { /* cannot happen (see above); never a session without one */
		memset(s, 0, sizeof(*s));
		nt_freelist_put(&t->free_sess, (uint32_t)i);
		return -ENOSPC;
	}
	u->sessions++;
	s->urec = u;
	s->owner = owner;
	nt_hidx_add(&t->sess_by_id, h_id(t, id), (uint32_t)i);
	t->nsess_used++;
	*out = s;
	return 0;
}

struct nt_session *nt_session_find(const struct nt_sessions *t, uint64_t id)
{
	if (!id)
		return NULL;
	for (uint32_t it = nt_hidx_first(&t->sess_by_id, h_id(t, id)); it;
	     it = nt_hidx_next(&t->sess_by_id, it))
		if (t->sess[it - 1].id == id)
			return &t->sess[it - 1];
	return NULL;
}

void nt_session_del(struct nt_sessions *t, struct nt_session *s)
{
	uint32_t i;

	if (!s || !s->used)
		return;
	i = sess_idx(t, s);
	nt_session_leave(t, s);
	nt_session_clear_mapping(t, s);
	nt_hidx_del(&t->sess_by_id, h_id(t, s->id), i);
	if (s->urec)
		user_put(t, s->urec);
	OPENSSL_cleanse(s, sizeof(*s));
	nt_freelist_put(&t->free_sess, i);
	t->nsess_used--;
}

void nt_session_set_mapping(struct nt_sessions *t, struct nt_session *s,
			    const struct nt_endpoint *ep)
{
	nt_session_clear_mapping(t, s);
	s->mapping = *ep;
	s->verified = true;
	nt_hidx_add(&t->sess_by_mapping, h_ep(t, &s->mapping), sess_idx(t, s));
	s->mapping_indexed = true;
}

void nt_session_clear_mapping(struct nt_sessions *t, struct nt_session *s)
{
	if (s->mapping_indexed)
		nt_hidx_del(&t->sess_by_mapping, h_ep(t, &s->mapping), sess_idx(t, s));
	s->mapping_indexed = false;
	s->verified = false;
}

struct nt_session *nt_session_by_mapping(const struct nt_sessions *t,
					 const struct nt_endpoint *ep)
{
	for (uint32_t it = nt_hidx_first(&t->sess_by_mapping, h_ep(t, ep)); it;
	     it = nt_hidx_next(&t->sess_by_mapping, it)) {
		struct nt_session *s = &t->sess[it - 1];

		if (s->verified && nt_endpoint_eq(&s->mapping, ep))
			return s;
	}
	return NULL;
}

struct nt_group *nt_group_find(const struct nt_sessions *t, const char *name)
{
	for (uint32_t it = nt_hidx_first(&t->group_by_name, h_str(t, name)); it;
	     it = nt_hidx_next(&t->group_by_name, it))
		if (!strcmp(t->groups[it - 1].name, name))
			return &t->groups[it - 1];
	return NULL;
}

struct nt_group *nt_group_by_id(const struct nt_sessions *t, uint32_t id)
{
	for (uint32_t it = nt_hidx_first(&t->group_by_id, h_id(t, id)); it;
	     it = nt_hidx_next(&t->group_by_id, it))
		if (t->groups[it - 1].id == id)
			return &t->groups[it - 1];
	return NULL;
}

static bool id_in_use(const struct nt_sessions *t, uint32_t id)
{
	return nt_group_by_id(t, id) || (t->id_taken && t->id_taken(id, t->id_arg));
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

/* Members of g other than s that belong to s's user (at most NT_GROUP_MEMBERS to look at). */
static uint32_t same_user_members(const struct nt_group *g, const struct nt_session *s)
{
	uint32_t n = 0;

	for (int i = 0; i < NT_GROUP_MEMBERS; i++)
		n += g->members[i] && g->members[i] != s && g->members[i]->urec == s->urec;
	return n;
}

void nt_sessions_user_usage(const struct nt_sessions *t, const char *user,
			    const char *group, struct nt_user_usage *u)
{
	const struct nt_user_rec *r = user_find(t, user);
	const struct nt_group *g = group ? nt_group_find(t, group) : NULL;

	memset(u, 0, sizeof(*u));
	if (!r)
		return;
	u->sessions = r->sessions;
	u->groups = r->groups;
	for (int i = 0; g && i < NT_GROUP_MEMBERS; i++)
		u->in_group += g->members[i] && g->members[i]->urec == r;
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
		int64_t i;

		if (!t->free_groups.n)
			return -ENOSPC;
		id = group_id_alloc(t);
		if (!id)
			return -ENOSPC;
		i = nt_freelist_get(&t->free_groups);
		g = &t->groups[i];
		memset(g, 0, sizeof(*g));
		g->used = true;
		g->id = id;
		snprintf(g->name, sizeof(g->name), "%s", name);
		nt_hidx_add(&t->group_by_name, h_str(t, g->name), (uint32_t)i);
		nt_hidx_add(&t->group_by_id, h_id(t, g->id), (uint32_t)i);
		t->ngroups_used++;
	}
	/* a new group has no member yet and max_members >= 2: never refused here */
	if (g->nmembers >= t->max_members)
		return -EUSERS;
	for (int i = 0; i < NT_GROUP_MEMBERS && slot < 0; i++)
		if (!g->members[i])
			slot = i;
	if (slot < 0)
		return -EUSERS;
	if (s->urec && !same_user_members(g, s))
		s->urec->groups++;
	g->members[slot] = s;
	g->nmembers++;
	s->group = g;
	return 0;
}

void nt_session_leave(struct nt_sessions *t, struct nt_session *s)
{
	struct nt_group *g = s->group;
	bool empty = true;

	if (!g)
		return;
	if (s->urec && !same_user_members(g, s))
		s->urec->groups--;
	for (int i = 0; i < NT_GROUP_MEMBERS; i++) {
		if (g->members[i] == s) {
			g->members[i] = NULL;
			g->nmembers--;
		}
		if (g->members[i])
			empty = false;
	}
	s->group = NULL;
	if (empty) {
		uint32_t i = group_idx(t, g);

		nt_hidx_del(&t->group_by_name, h_str(t, g->name), i);
		nt_hidx_del(&t->group_by_id, h_id(t, g->id), i);
		memset(g, 0, sizeof(*g));
		nt_freelist_put(&t->free_groups, i);
		t->ngroups_used--;
	}
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
	return t->nsess_used;
}

size_t nt_groups_count(const struct nt_sessions *t)
{
	return t->ngroups_used;
}
