// SPDX-License-Identifier: GPL-2.0
/* Loading the XDP program with pinned maps, attaching and detaching it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nattrav.skel.h"
#include "nt_bpf.h"
#include "nt_bpf_why.h"
#include "nt_log.h"

struct nt_xdp {
	struct nattrav_bpf *skel;
	int ifindex;    /* 0 while not attached */
	__u32 xdp_flags; /* the mode it was attached with */
};

static int tc_attach(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NT_TC_HANDLE, .priority = NT_TC_PRIO,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

static int tc_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NT_TC_HANDLE, .priority = NT_TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	return err == -ENOENT ? 0 : err;
}

/* the verifier's log of a refused program; a longer one keeps its last part (the reason) */
#define NT_VERIFIER_LOG_SIZE (1u << 20)

/* Say why, from the verifier's log and libbpf's warnings; frees vlog. */
static int load_failed(int err, char *vlog, const char *blog, const char *pin_dir)
{
	if (vlog && vlog[0])
		nt_dbg("the verifier's log:\n%s", vlog);
	err = nt_bpf_load_explain(err, vlog, blog, pin_dir);
	free(vlog);
	return err;
}

int nt_xdp_load(struct nt_xdp **out, const char *pin_dir)
{
	char *vlog = calloc(1, NT_VERIFIER_LOG_SIZE), blog[4096];
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir, .kernel_log_buf = vlog,
		    .kernel_log_size = vlog ? NT_VERIFIER_LOG_SIZE : 0);
	struct nt_xdp *x;
	int err;

	/* libbpf creates missing pins but not the folder that holds them */
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		nt_err("cannot create pin dir %s: %s (is bpffs mounted on /sys/fs/bpf?)",
		       pin_dir, strerror(errno));
		free(vlog);
		return err;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		free(vlog);
		return -ENOMEM;
	}
	x->skel = nattrav_bpf__open_opts(&opts);
	if (!x->skel) {
		err = -errno;
		nt_err("cannot open the XDP program: %s", strerror(-err));
		free(vlog);
		free(x);
		return err;
	}
	nt_log_libbpf_keep(blog, sizeof(blog));
	err = nattrav_bpf__load(x->skel);
	nt_log_libbpf_keep(NULL, 0);
	if (err) {
		err = load_failed(err, vlog, blog, pin_dir);
		nattrav_bpf__destroy(x->skel);
		free(x);
		return err;
	}
	free(vlog);
	*out = x;
	return 0;
}

static int attach_flags(struct nt_xdp *x, int ifindex, __u32 flags)
{
	int err = bpf_xdp_attach(ifindex, bpf_program__fd(x->skel->progs.nt_xdp), flags, NULL);

	if (!err) {
		x->ifindex = ifindex;
		x->xdp_flags = flags;
	}
	return err;
}

int nt_xdp_attach(struct nt_xdp *x, int ifindex, enum nt_xdp_mode mode,
		  enum nt_xdp_mode *used)
{
	int err = 0;

	if (mode == NT_XDP_OFF)
		return -EINVAL;
	if (mode == NT_XDP_NATIVE) {
		err = attach_flags(x, ifindex, XDP_FLAGS_DRV_MODE);
		if (err)
			nt_warn("native XDP refused on ifindex %d (%s); trying generic mode",
				ifindex, strerror(-err));
	}
	if (mode == NT_XDP_SKB || err) {
		err = attach_flags(x, ifindex, XDP_FLAGS_SKB_MODE);
		if (err) {
			nt_err("cannot attach XDP to ifindex %d: %s", ifindex, strerror(-err));
			return err;
		}
		*used = NT_XDP_SKB;
	} else {
		*used = NT_XDP_NATIVE;
	}
	/* groups of three or more are copied by TC: without it they get nothing */
	err = tc_attach(ifindex, bpf_program__fd(x->skel->progs.nt_tc_fanout));
	if (err) {
		nt_err("cannot attach the TC fan-out program to ifindex %d: %s", ifindex,
		       strerror(-err));
		nt_xdp_detach(x);
		return err;
	}
	return 0;
}

int nt_xdp_detach(struct nt_xdp *x)
{
	int err;

	if (!x->ifindex)
		return 0;
	tc_detach(x->ifindex);
	err = bpf_xdp_detach(x->ifindex, x->xdp_flags, NULL);
	if (!err)
		x->ifindex = 0;
	return err;
}

int nt_xdp_detach_ifindex(int ifindex)
{
	/* One of these holds the program; detaching an empty mode is a no-op. */
	int e1 = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	int e2 = bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	int e3 = tc_detach(ifindex);

	return e1 ? e1 : e2 ? e2 : e3;
}

int nt_xdp_prog_fd(const struct nt_xdp *x)
{
	return bpf_program__fd(x->skel->progs.nt_xdp);
}

void nt_xdp_maps(const struct nt_xdp *x, struct nt_maps *m)
{
	m->mappings_fd = bpf_map__fd(x->skel->maps.nt_mappings);
	m->config_fd = bpf_map__fd(x->skel->maps.nt_config);
	m->stats_fd = bpf_map__fd(x->skel->maps.nt_stats);
	m->groups_fd = bpf_map__fd(x->skel->maps.nt_groups);
}

void nt_xdp_close(struct nt_xdp *x)
{
	if (!x)
		return;
	nattrav_bpf__destroy(x->skel);
	free(x);
}
