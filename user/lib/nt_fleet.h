/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fleet of relays sharing group placement through Redis (README "Fleet").
 * This part is pure: the key layout, the Lua scripts every relay (and an
 * application server pre-placing a group) runs, and the placement
 * decisions, testable without Redis. The daemon's I/O is in
 * user/nattravd/fleet.c.
 *
 * Keys:
 *   nattrav:relays          set of relay ids that registered
 *   nattrav:relay:<id>      hash: addr, load, groups, max_groups, draining,
 *                           ts (Redis time, ms); expires NT_FLEET_TTL_MS
 *                           after the last heartbeat: no key, relay dead
 *   nattrav:group:<name>    string: the id of the group's home relay;
 *                           expires NT_FLEET_TTL_MS after the last assert
 */
#ifndef NT_FLEET_H
#define NT_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nt_redirect.h"

#define NT_FLEET_ID_MAX 64		/* characters of [A-Za-z0-9._-] */
#define NT_FLEET_ADDR_MAX 262		/* "host:port", host a DNS name or [v6] */
#define NT_FLEET_HEARTBEAT_MS 2000
#define NT_FLEET_TTL_MS (3 * NT_FLEET_HEARTBEAT_MS)
#define NT_FLEET_REPLY_MS 2000		/* a placement not answered by then: ERR 503 */
#define NT_FLEET_REDIS_PORT 6379

/* KEYS none; ARGV: group, self id, self draining ("1"/"0"), chosen id or "", ttl ms. */
extern const char nt_fleet_place_lua[];
/* ARGV: id, addr, load, groups, max_groups, draining, ttl ms. */
extern const char nt_fleet_register_lua[];
/* ARGV: self id, ttl ms, group names...; returns the names homed on another live relay. */
extern const char nt_fleet_assert_lua[];
/* ARGV: id; a relay leaving on a clean exit: its groups are re-placed at once. */
extern const char nt_fleet_leave_lua[];
/* No ARGV; returns per live relay {id, addr, load, groups, max_groups, draining, age ms}. */
extern const char nt_fleet_view_lua[];

/* One relay as the view script reports it. */
struct nt_fleet_relay {
	char id[NT_FLEET_ID_MAX + 1];
	char addr[NT_FLEET_ADDR_MAX + 1];
	uint32_t load, groups, max_groups;
	bool draining;
	uint64_t age_ms;		/* since its last heartbeat */
};

/* True when s is 1..NT_FLEET_ID_MAX characters of [A-Za-z0-9._-]. */
bool nt_fleet_id_valid(const char *s);


/*
 * Where a new group goes: self when it can take one, else the live relay
 * other than self, not draining and under its max_groups, with the fewest
 * groups (then the least load, then the smaller id). *out points into
 * self or relays. 0, or -ENOENT when none can.
 */
int nt_fleet_choose(const char *self, bool self_can_take,
		    const struct nt_fleet_relay *relays, size_t n, const char **out);

enum nt_fleet_verdict {
	NT_FLEET_LOCAL,		/* homed here: join */
	NT_FLEET_REDIRECT,	/* homed elsewhere: ERR 300 relay=<addr> */
	NT_FLEET_NONE,		/* nowhere: ERR 503 */
};

/*
 * The place script's answer (home and its address, NULL for an empty
 * reply) judged for self. A redirect to an address that is not a valid
 * HOST:PORT is NONE: Redis is not trusted to steer clients anywhere.
 */
enum nt_fleet_verdict nt_fleet_verdict(const char *self, const char *home, const char *addr);

#endif /* NT_FLEET_H */
