/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattravd in a fleet (--redis): registration and heartbeat, the groups
 * re-asserted, placement at JOIN, all on hiredis' async API driven by the
 * daemon's epoll loop, so a slow or dead Redis never stalls it. Without
 * --redis every call here is a no-op and JOIN never asks.
 */
#ifndef ND_FLEET_H
#define ND_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include "nt_fleet.h"

struct nd;
struct nd_conn;

/* Placement and Redis events since start, for --metrics. */
struct nd_fleet_stats {
	uint64_t placed_here;		/* new groups homed on this relay */
	uint64_t placed_other;		/* new groups homed on another relay from here */
	uint64_t redirects;		/* ERR 300 sent */
	uint64_t unavailable;		/* ERR 503: Redis down, no answer, no relay with room */
	uint64_t timeouts;		/* of those, no answer within NT_FLEET_REPLY_MS */
	uint64_t redis_connects;	/* connections to Redis that came up */
	uint64_t heartbeats;		/* registrations Redis answered */
	uint64_t split_groups;		/* groups live here that Redis homes elsewhere */
	uint64_t relays_live;		/* in the last view */
	bool redis_up;
};

/* Read the password, resolve the id and advertised address, start connecting. */
int nd_fleet_open(struct nd *d);
void nd_fleet_close(struct nd *d);
bool nd_fleet_on(const struct nd *d);
void nd_fleet_event(struct nd *d, uint32_t events);
void nd_fleet_tick(struct nd *d, uint64_t now);
/*
 * Ask Redis where group lives for c's JOIN; the answer (or a timeout) comes
 * to nd_join_placed. 0, or -ENOTCONN when Redis is not reachable now.
 */
int nd_fleet_place(struct nd *d, struct nd_conn *c, const char *group);
const struct nd_fleet_stats *nd_fleet_stats(const struct nd *d);
const char *nd_fleet_id(const struct nd *d);

/* commands.c: a placement's answer for c (verdict, redirect address). */
void nd_join_placed(struct nd *d, struct nd_conn *c, const char *group,
		    enum nt_fleet_verdict v, const char *addr);

#endif /* ND_FLEET_H */
