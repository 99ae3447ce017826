/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The XDP program loaded for tests: unpinned maps (tests run in parallel
 * and must not touch an operator's pins), run on a frame with
 * bpf_prog_test_run_opts, counters read back.
 */
#ifndef NT_TEST_XDP_HARNESS_H
#define NT_TEST_XDP_HARNESS_H

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nattrav.skel.h"
#include "nt_bpf.h"
#include "nt_endpoint.h"
#include "pkt.h"

struct harness {
	struct nattrav_bpf *skel;
	struct nt_maps maps;
	int prog_fd;
};

/*
 * Load without pinning. With own_netns, the caller first moves into a new,
 * empty network namespace so that FIB lookups (which see the test process's
 * namespace) give the same answer on every machine.
 */
static inline int harness_open(struct harness *h, bool own_netns)
{
	struct bpf_map *map;
	int err;

	if (own_netns && unshare(CLONE_NEWNET) < 0)
		return -errno;
	h->skel = nattrav_bpf__open();
	if (!h->skel)
		return -errno;
	bpf_object__for_each_map(map, h->skel->obj)
		bpf_map__set_pin_path(map, NULL);
	err = nattrav_bpf__load(h->skel);
	if (err) {
		nattrav_bpf__destroy(h->skel);
		h->skel = NULL;
		return err;
	}
	h->maps.mappings_fd = bpf_map__fd(h->skel->maps.nt_mappings);
	h->maps.mappings4_fd = bpf_map__fd(h->skel->maps.nt_mappings4);
	h->maps.config_fd = bpf_map__fd(h->skel->maps.nt_config);
	h->maps.stats_fd = bpf_map__fd(h->skel->maps.nt_stats);
	h->maps.groups_fd = bpf_map__fd(h->skel->maps.nt_groups);
	h->maps.egress_fd = bpf_map__fd(h->skel->maps.nt_egress);
	h->maps.group_stats_fd = bpf_map__fd(h->skel->maps.nt_group_stats);
	h->prog_fd = bpf_program__fd(h->skel->progs.nt_xdp);
	return 0;
}

static inline void harness_close(struct harness *h)
{
	if (h->skel)
		nattrav_bpf__destroy(h->skel);
	h->skel = NULL;
}

/* Run once on in; out gets the frame as the program left it. Returns the verdict or -errno. */
static inline int harness_run(struct harness *h, const void *in, size_t in_len, void *out,
			      size_t *out_len, int ifindex)
{
	struct xdp_md ctx = { .data_end = (__u32)in_len, .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len,
		    .data_out = out, .data_size_out = (__u32)*out_len, .repeat = 1);

	if (ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(h->prog_fd, &opts) < 0)
		return -errno;
	*out_len = opts.data_size_out;
	return (int)opts.retval;
}

#endif /* NT_TEST_XDP_HARNESS_H */
