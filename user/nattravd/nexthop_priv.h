/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What nexthop.c (resolution) and nexthop_watch.c (following changes)
 * share: the per-address cache of answers and the resolver.
 */
#ifndef ND_NEXTHOP_PRIV_H
#define ND_NEXTHOP_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/neighbour.h>
#include "nattravd.h"

#define NH_BUCKETS 4096
#define NH_RECV_MAX 16384
/* a neighbour being resolved: how long one check waits for its answer */
#define NH_WAIT_STEP_MS 10
#define NH_WAIT_STEPS 30
#define NH_REFRESH_MIN_NS 1000000000ull	/* after a change, at most once a second */
#define NH_REFRESH_MAX_NS 60000000000ull	/* and every minute: a lost notification */

/* neighbour states whose link-layer address may be used */
#define NH_NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

struct nh_entry {
	struct nh_entry *next;
	struct nt_endpoint addr; /* port 0 */
	int err;		 /* the last resolution: 0 or -errno */
	bool have;		 /* dmac..ifindex hold an answer (maybe the last good one) */
	uint8_t dmac[6], smac[6];
	uint32_t ifindex;
	uint8_t hop[16];	 /* the neighbour the answer came from, for the monitor */
	uint32_t hop_ifindex;
};

struct nh_table {
	struct nh_entry *b[NH_BUCKETS];
	size_t n;
};

struct nd_nexthop {
	struct nd_handle mon; /* first: what epoll hands back */
	int fd;		      /* requests */
	int ioc;	      /* interface ioctls */
	uint32_t seq;
	struct nh_table t;
	bool dirty;
	uint64_t last_refresh_ns;
	uint8_t buf[NH_RECV_MAX];
};

int nh_af(const struct nt_endpoint *e);
/* A datagram from the kernel (others are skipped): its length, or -errno. */
ssize_t nh_recv(int fd, uint8_t *buf, size_t cap, int flags);
struct nh_entry *nh_tab_find(struct nh_table *t, const struct nt_endpoint *e);
struct nh_entry *nh_tab_add(struct nh_table *t, const struct nt_endpoint *e);
void nh_tab_clear(struct nh_table *t);
/*
 * Route and neighbour towards x->addr into x (x keeps its last good answer
 * on failure); wait: give a neighbour being resolved a moment.
 */
int nh_resolve(struct nd *d, struct nh_entry *x, bool wait);
/* x's answer into a mapping's or a member's route fields; NULL: zeros. */
void nh_route_set(const struct nh_entry *x, __u8 dmac[6], __u8 smac[6], __u32 *ifindex,
		  __u64 *expires);
/* nexthop_watch.c: every address in use resolved again, what moved rewritten. */
void nh_refresh(struct nd *d);

#endif /* ND_NEXTHOP_PRIV_H */
