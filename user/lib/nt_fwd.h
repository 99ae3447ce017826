/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattravd's in-memory copy of the forwarding decisions, for forwarding in
 * userspace (--xdp-mode off) without a bpf() syscall per packet: source
 * endpoint -> peer, plus counters accumulated since they were last written
 * back to the pinned map. Chained hash table, entries allocated one by one.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef NT_FWD_H
#define NT_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

struct nt_fwd_entry {
	struct nt_endpoint src;
	struct nt_endpoint peer;	/* family 0: no peer, media dropped */
	uint64_t packets, bytes;	/* since the last sync to the map */
	uint64_t last_seen_ns;		/* CLOCK_BOOTTIME of the last packet */
	uint32_t group_id;
	uint32_t flags;			/* NT_MAPPING_F_FANOUT: copy to group_id's members */
	uint64_t tb_credit_ns, tb_last_ns;	/* token bucket, as nt_mapping's */
	uint64_t rate_drops;		/* since the last sync */
	struct nt_fwd_entry *next;
};

/* A fan-out group as userspace copies to it; counters since the last sync. */
struct nt_fwd_group {
	uint32_t id;
	uint32_t n;
	struct nt_endpoint members[NT_GROUP_MAX_MEMBERS];
	uint64_t delivered[NT_GROUP_MAX_MEMBERS];
	uint64_t packets_in, copies_out, bytes_out;
	struct nt_fwd_group *next;
};

struct nt_fwd {
	struct nt_fwd_entry **b;
	size_t mask;
	size_t n;
	struct nt_fwd_group *groups[64];	/* by id % 64: few groups fan out */
};

/* buckets is rounded up to a power of two. */
int nt_fwd_init(struct nt_fwd *f, size_t buckets);
void nt_fwd_free(struct nt_fwd *f);

struct nt_fwd_entry *nt_fwd_get(const struct nt_fwd *f,
				const struct nt_endpoint *src);
/* Insert src or change its peer (counters kept). peer NULL: no peer. */
int nt_fwd_put(struct nt_fwd *f, const struct nt_endpoint *src,
	       const struct nt_endpoint *peer);
/* -ENOENT when absent. */
int nt_fwd_del(struct nt_fwd *f, const struct nt_endpoint *src);

/* Call fn on every entry (it must not insert or delete). */
void nt_fwd_for_each(struct nt_fwd *f,
		     void (*fn)(struct nt_fwd_entry *e, void *arg), void *arg);

/* Set src's group and flags (NT_MAPPING_F_FANOUT). -ENOENT when absent. */
int nt_fwd_set_group(struct nt_fwd *f, const struct nt_endpoint *src, uint32_t group_id,
		     uint32_t flags);

/*
 * Create or replace group id's members (n <= NT_GROUP_MAX_MEMBERS); pending
 * counters of members that stay are kept, those of members that go are lost.
 */
int nt_fwd_group_put(struct nt_fwd *f, uint32_t id, const struct nt_endpoint *members,
		     uint32_t n);
struct nt_fwd_group *nt_fwd_group_get(const struct nt_fwd *f, uint32_t id);
int nt_fwd_group_del(struct nt_fwd *f, uint32_t id);
void nt_fwd_group_for_each(struct nt_fwd *f,
			   void (*fn)(struct nt_fwd_group *g, void *arg), void *arg);

/*
 * The XDP program's token bucket (nt_over_rate in bpf/nt_common.h), for
 * userspace: true when the packet at now is over the rate (counted in
 * e->rate_drops). cost_ns 0: no limit.
 */
bool nt_fwd_over_rate(struct nt_fwd_entry *e, uint64_t cost_ns, uint64_t burst_ns, uint64_t now);
/* The token bucket under it (bpf/nt_common.h has the program's): true when cost does not fit. */
bool nt_bucket_over(uint64_t *credit_ns, uint64_t *last_ns, uint64_t cost_ns, uint64_t burst_ns,
		    uint64_t now);

/* nt_config's pkt_cost_ns and burst_ns for pps packets per second (0: no limit), burst packets. */
void nt_fwd_rate_config(uint32_t pps, uint32_t burst, uint64_t *cost_ns, uint64_t *burst_ns);

#endif /* NT_FWD_H */
