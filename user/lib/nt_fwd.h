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

#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

struct nt_fwd_entry {
	struct nt_endpoint src;
	struct nt_endpoint peer;	/* family 0: no peer, media dropped */
	uint64_t packets, bytes;	/* since the last sync to the map */
	uint64_t last_seen_ns;		/* CLOCK_MONOTONIC of the last packet */
	struct nt_fwd_entry *next;
};

struct nt_fwd {
	struct nt_fwd_entry **b;
	size_t mask;
	size_t n;
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

#endif /* NT_FWD_H */
