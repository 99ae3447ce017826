/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattravd's sessions and groups: who joined which group, with which key,
 * and which mapping each member has verified. Fixed-size tables allocated
 * once, so pointers to entries stay valid for the entry's life, with hash
 * indexes (nt_index.h) so that no lookup scans them: sessions by id and by
 * verified mapping, groups by name and by id, users by name. Pure state:
 * the daemon writes the BPF maps from it.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef NT_SESSION_H
#define NT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"
#include "nt_index.h"
#include "nt_line.h"
#include "nt_token.h"
#include "nt_wire.h"

/*
 * Members of one group: the table holds up to the kernel's limit; how many
 * may join is the daemon's setting (nt_sessions_set_max_members).
 */
#define NT_GROUP_MEMBERS NT_GROUP_MAX_MEMBERS
#define NT_GROUP_MEMBERS_DEFAULT 16

struct nt_group;

/* What one user holds, kept as sessions come and go: the per-user quotas. */
struct nt_user_rec {
	bool used;
	char name[NT_TOKEN_USER_MAX + 1];
	uint32_t sessions;	/* sessions of the user */
	uint32_t groups;	/* distinct groups they are in */
};

struct nt_session {
	bool used;
	uint64_t id;			/* never 0 */
	uint8_t key[NT_WIRE_KEY_LEN];	/* never logged */
	char user[NT_TOKEN_USER_MAX + 1];
	struct nt_group *group;
	/*
	 * mapping below is in the maps: both set only through
	 * nt_session_set_mapping / nt_session_clear_mapping (indexed)
	 */
	bool verified;
	struct nt_endpoint mapping;
	bool mapping_indexed;		/* in the by-mapping index */
	struct nt_user_rec *urec;	/* user's entry in the user table */
	uint64_t verified_ns;		/* CLOCK_BOOTTIME of the verification */
	uint64_t keepalive_ns;		/* last authentic keepalive from mapping */
	uint64_t keepalive_seq;		/* highest sequence seen */
	uint64_t probe_seq;		/* highest probe sequence challenged */
	uint64_t probe_window_ns;	/* start of the current rate-limit second */
	uint32_t probes;		/* probes in that second */
	uint64_t reply_window_ns;	/* the same for UDP ERRORs to the session */
	uint32_t replies;
	void *owner;			/* the daemon's connection; NULL while detached */
	uint64_t detached_ns;		/* its connection dropped then: it may resume */
};

struct nt_group {
	bool used;
	uint32_t id;			/* group_id in the maps; never 0 */
	char name[NT_LINE_GROUP_MAX + 1];
	struct nt_session *members[NT_GROUP_MEMBERS];
	uint32_t nmembers;		/* joined, verified or not */
	int mode;			/* enum nt_group_mode the maps hold now */
};

struct nt_sessions {
	struct nt_session *sess;
	size_t nsess;
	struct nt_group *groups;
	size_t ngroups;
	uint32_t next_group_id;
	uint32_t max_members;		/* per group, 2..NT_GROUP_MEMBERS */
	/*
	 * Ids used outside this table (the operator's groups, adopted
	 * mappings): a new group never gets one. NULL: none.
	 */
	bool (*id_taken)(uint32_t id, void *arg);
	void *id_arg;
	/* indexes over the arrays above, and of users */
	uint64_t hkey[2];
	struct nt_hidx sess_by_id, sess_by_mapping, group_by_name, group_by_id, user_by_name;
	struct nt_freelist free_sess, free_groups, free_users;
	struct nt_user_rec *users;	/* nsess entries: a user has a session */
	size_t nsess_used, ngroups_used;
};

/* What one user holds: for the per-user quotas. */
struct nt_user_usage {
	size_t sessions;	/* sessions of the user */
	size_t groups;		/* distinct groups they are in */
	size_t in_group;	/* of them, in the group asked about */
};

int nt_sessions_init(struct nt_sessions *t, size_t max_sessions,
		     size_t max_groups);
/* Members per group from now on (2..NT_GROUP_MEMBERS); groups already larger keep theirs. */
int nt_sessions_set_max_members(struct nt_sessions *t, uint32_t n);
/* Frees the tables; keys are wiped. */
void nt_sessions_free(struct nt_sessions *t);

/*
 * A new session with the given id and key. -EEXIST when id is taken or 0,
 * -ENOSPC when the table is full.
 */
int nt_session_new(struct nt_sessions *t, uint64_t id,
		   const uint8_t key[NT_WIRE_KEY_LEN], const char *user,
		   void *owner, struct nt_session **out);
struct nt_session *nt_session_find(const struct nt_sessions *t, uint64_t id);
/* Leave its group (if any) and wipe it. */
void nt_session_del(struct nt_sessions *t, struct nt_session *s);

/*
 * Join group name (created on first join). -EALREADY when s is in a group,
 * -EINVAL for a bad name, -EUSERS when the group is full, -ENOSPC when a new
 * group would exceed the group quota or no group id is free.
 */
int nt_session_join(struct nt_sessions *t, struct nt_session *s,
		    const char *name);
/* Leave the group; the group goes away with its last member. */
void nt_session_leave(struct nt_sessions *t, struct nt_session *s);
/*
 * s's mapping is ep (verified, in the maps) or none: the by-mapping index
 * follows.
 */
void nt_session_set_mapping(struct nt_sessions *t, struct nt_session *s,
			    const struct nt_endpoint *ep);
void nt_session_clear_mapping(struct nt_sessions *t, struct nt_session *s);
/* The session whose verified mapping is ep, or NULL. */
struct nt_session *nt_session_by_mapping(const struct nt_sessions *t,
					 const struct nt_endpoint *ep);
/* Another member of s's group (a verified one if any), or NULL. */
struct nt_session *nt_session_peer(const struct nt_session *s);
/* Keep group ids already used in the maps (adopted mappings) apart. */
void nt_sessions_reserve_group_id(struct nt_sessions *t, uint32_t id);

/* What user holds now, with in_group counted for group (may be NULL). */
void nt_sessions_user_usage(const struct nt_sessions *t, const char *user,
			    const char *group, struct nt_user_usage *u);
/* The group called name, or NULL. */
struct nt_group *nt_group_find(const struct nt_sessions *t, const char *name);
/* The group with id, or NULL. */
struct nt_group *nt_group_by_id(const struct nt_sessions *t, uint32_t id);

size_t nt_sessions_count(const struct nt_sessions *t);
size_t nt_groups_count(const struct nt_sessions *t);

#endif /* NT_SESSION_H */
