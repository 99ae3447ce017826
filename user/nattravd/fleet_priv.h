/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the fleet module: its state, shared by fleet.c and fleet_redis.c. */
#ifndef ND_FLEET_PRIV_H
#define ND_FLEET_PRIV_H

#include <hiredis/async.h>
#include "nattravd.h"
#include "fleet.h"

#define FLEET_CONNECT_MS 2000		/* connect (and AUTH) done by then, or retry */
#define FLEET_BACKOFF_MIN_MS 250
#define FLEET_BACKOFF_MAX_MS 4000
#define FLEET_HB_STUCK_MS 3000		/* a heartbeat unanswered this long: Redis is stuck */
#define FLEET_ASSERT_CHUNK 128		/* groups per assert script call */
#define FLEET_RELAYS_MAX 256		/* relays kept from the view */
#define FLEET_PASSWORD_MAX 512
#define FLEET_LEAVE_MS 500		/* a clean exit waits this long for Redis to forget us */

/* A JOIN waiting for the place script: found again by slot and generation. */
struct place_req {
	struct place_req *next, *prev;
	size_t slot;
	uint64_t gen;
	uint64_t deadline_ns;
	bool done;		/* answered (or timed out): the reply is only freed */
	char group[NT_LINE_GROUP_MAX + 1];
};

struct nd_fleet {
	struct nd_handle h;		/* fd of the Redis socket, -1 without one */
	redisAsyncContext *ac;
	bool want_read, want_write, in_epoll;
	bool connected;			/* TCP up (AUTH may still be on its way) */
	bool closing;			/* daemon exits: callbacks only free */
	bool drop;			/* free the context at the next tick (bad password) */
	bool left;			/* the leave script answered (or was dropped) */
	char ip[NT_FLEET_ADDR_MAX + 1];	/* an address (conf.c checked) */
	int port;
	char password[FLEET_PASSWORD_MAX + 1];
	char id[NT_FLEET_ID_MAX + 1];
	char addr[NT_FLEET_ADDR_MAX + 1];
	uint32_t backoff_ms;
	uint64_t connect_at_ns;		/* next attempt */
	uint64_t connect_started_ns;	/* 0: not connecting */
	uint64_t next_hb_ns;
	uint64_t hb_sent_ns;		/* 0: no heartbeat waiting */
	struct nt_fleet_relay relays[FLEET_RELAYS_MAX];
	size_t nrelays;
	struct place_req *reqs;
	struct nd_fleet_stats st;
};

static inline uint64_t ms_ns(uint64_t ms)
{
	return ms * 1000000ull;
}

/* fleet_redis.c: the connection */
/* Reconnect when due, drop a stuck or refused one; true while one is up (or coming). */
bool nd_fleet_redis_tick(struct nd *d, uint64_t now);
/* A clean exit: tell Redis this relay left, waiting FLEET_LEAVE_MS at most. */
void nd_fleet_redis_leave(struct nd *d);
/* The first line of path into out. 0, -ENODATA (empty), -errno. */
int nd_fleet_read_password(const char *path, char *out, size_t cap);

/* fleet.c: answer a waiting JOIN once (a connection gone meanwhile is skipped). */
void nd_fleet_req_resolve(struct nd *d, struct place_req *r, enum nt_fleet_verdict v,
			  const char *addr);

#endif /* ND_FLEET_PRIV_H */
