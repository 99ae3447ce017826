/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading the XDP program and reaching its pinned maps. Used by nattravd,
 * nattravctl and the tests. Functions return 0 or a negative errno.
 */
#ifndef NT_BPF_H
#define NT_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include "nattrav_abi.h"

enum nt_xdp_mode {
	NT_XDP_NATIVE, /* driver mode, falls back to skb when refused */
	NT_XDP_SKB,    /* generic mode */
	NT_XDP_OFF,    /* no program: userspace forwards */
};

/* nattrav's TC filter: a fixed handle and priority, so a restart replaces it. */
#define NT_TC_HANDLE 0x4e54
#define NT_TC_PRIO 0x4e54

/* The pinned maps, opened by path; works whether or not a program is attached. */
struct nt_maps {
	int mappings_fd;  /* IPv6 senders; IPv4 ones too when mappings4_fd is -1 */
	int mappings4_fd; /* IPv4 senders; -1 when pinned by a version without it */
	int config_fd;
	int stats_fd;
	int groups_fd;
	int egress_fd; /* -1 when pinned by a version without it */
	int turn_chans_fd, turn_peers_fd; /* TURN channels in XDP; -1 likewise */
	int group_stats_fd; /* per-CPU group counters; -1 when pinned by a version without it */
};

/* Open the maps pinned under pin_dir. -ENOENT when nothing is pinned there. */
int nt_maps_open(struct nt_maps *m, const char *pin_dir);
void nt_maps_close(struct nt_maps *m);

/*
 * The mapping for src (its NAT's external address); src->pad must be zero.
 * IPv4 senders live in NT_MAP_MAPPINGS4 under a struct nt_key4: these
 * functions take and give struct nt_endpoint for both families.
 */
int nt_maps_put_mapping(const struct nt_maps *m, const struct nt_endpoint *src,
			const struct nt_mapping *val);
int nt_maps_get_mapping(const struct nt_maps *m, const struct nt_endpoint *src,
			struct nt_mapping *val);
int nt_maps_del_mapping(const struct nt_maps *m, const struct nt_endpoint *src);

/* src as a key of NT_MAP_MAPPINGS4: -EINVAL unless an IPv4(-mapped) endpoint. */
int nt_key4_from_endpoint(const struct nt_endpoint *src, struct nt_key4 *k);
void nt_key4_to_endpoint(const struct nt_key4 *k, struct nt_endpoint *src);

/*
 * Call fn for each mapping (IPv4 ones first); stops early and returns fn's value when it is
 * non-zero. Entries deleted meanwhile are skipped.
 */
typedef int (*nt_mapping_fn)(const struct nt_endpoint *src,
			     const struct nt_mapping *val, void *arg);
int nt_maps_for_each_mapping(const struct nt_maps *m, nt_mapping_fn fn, void *arg);

int nt_maps_set_config(const struct nt_maps *m, const struct nt_config *cfg);
int nt_maps_get_config(const struct nt_maps *m, struct nt_config *cfg);

/*
 * Members of a group of three or more (NT_MAPPING_F_FANOUT mappings).
 * get: the entry, its counters plus the TC program's per-CPU ones
 * (NT_MAP_GROUP_STATS). put: writes g, whose counters are then the whole
 * count, and deletes the per-CPU ones; so g should come from get (or start
 * from zero). Copies counted between the two are lost, as when two writers
 * race on one entry. del: both.
 */
int nt_maps_put_group(const struct nt_maps *m, __u32 group_id, const struct nt_fanout_group *g);
int nt_maps_get_group(const struct nt_maps *m, __u32 group_id, struct nt_fanout_group *g);
int nt_maps_del_group(const struct nt_maps *m, __u32 group_id);
/* Adds the per-CPU counters of group_id to g's; 0 also when there are none. */
int nt_maps_add_group_stats(const struct nt_maps *m, __u32 group_id, struct nt_fanout_group *g);

/*
 * Egress ports the XDP program may redirect to (NT_MAP_EGRESS): the kernel
 * refuses an ifindex with no such device (-ENODEV). -EOPNOTSUPP without the map.
 */
int nt_maps_put_egress(const struct nt_maps *m, __u32 ifindex);
int nt_maps_del_egress(const struct nt_maps *m, __u32 ifindex);

/* Per-CPU counters summed: out[NT_STAT_MAX]. */
int nt_maps_read_stats(const struct nt_maps *m, struct nt_counter *out);

/* A loaded program with its maps pinned (and reused when already pinned). */
struct nt_xdp;

/*
 * Open and load the XDP program, reusing maps already pinned under pin_dir
 * (so a restart keeps verified flows) and pinning the ones that are not.
 */
int nt_xdp_load(struct nt_xdp **out, const char *pin_dir);
/*
 * Attach to ifindex: the XDP program (NT_XDP_NATIVE falls back to skb mode;
 * *used gets the mode) and the TC ingress fan-out program. nattrav's
 * programs already there are replaced atomically (XDP_FLAGS_REPLACE, TC
 * replace at the same handle): no packet meets an empty hook. Another's
 * program there: -EBUSY, unless force.
 */
int nt_xdp_attach(struct nt_xdp *x, int ifindex, enum nt_xdp_mode mode, bool force,
		  enum nt_xdp_mode *used);
/* Detach from the interface it was attached to, if still ours (no-op when not attached). */
int nt_xdp_detach(struct nt_xdp *x);
int nt_xdp_prog_fd(const struct nt_xdp *x);
/* The loaded program's maps, as nt_maps (fds stay owned by x). */
void nt_xdp_maps(const struct nt_xdp *x, struct nt_maps *m);
void nt_xdp_close(struct nt_xdp *x);

/* A program on an interface's XDP hook, or on TC at nattrav's handle. */
struct nt_prog_desc {
	const char *hook; /* "XDP" or "TC" */
	__u32 id;
	char name[16];
	bool ours;
};

/*
 * -EBUSY with *f filled when ifindex runs an XDP program, or a TC program
 * at nattrav's handle, that is not nattrav's; 0 when free or nattrav's.
 */
int nt_xdp_find_foreign(int ifindex, struct nt_prog_desc *f);

/*
 * Detach nattrav's XDP program (any mode) and TC program from ifindex.
 * Another's program stays; *left describes it (left->id 0: none).
 */
int nt_xdp_detach_ifindex(int ifindex, struct nt_prog_desc *left);

#endif /* NT_BPF_H */
