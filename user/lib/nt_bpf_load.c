// SPDX-License-Identifier: GPL-2.0
/* Loading the XDP program with pinned maps, attaching and detaching it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nattrav.skel.h"
#include "nt_bpf.h"
#include "nt_bpf_migrate.h"
#include "nt_bpf_owner.h"
#include "nt_bpf_why.h"
#include "nt_log.h"
#include "nt_qdisc.h"

struct nt_xdp {
	struct nattrav_bpf *skel;
	/* IPv4 keys copied from an older version's nt_mappings: dropped there once attached */
	struct nt_endpoint *stale4;
	size_t n_stale4;
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

/* Detach the TC filter at nattrav's handle if it is ours; *left gets it if not. */
static int tc_detach(int ifindex, struct nt_prog_desc *left)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NT_TC_HANDLE, .priority = NT_TC_PRIO);
	struct nt_prog_desc d;
	__u32 id;
	int err = nt_qdisc_ingress_present(ifindex);

	/* no hook, no program on it: nothing to detach (the kernel would say EINVAL) */
	if (err <= 0)
		return err;
	err = nt_tc_prog_id(ifindex, &id);
	if (err || !id)
		return err;
	if (!nt_prog_describe(id, NT_PROG_TC, &d) && !d.ours) {
		if (left && !left->id) {
			*left = d;
			left->hook = "TC";
		}
		return 0;
	}
	err = bpf_tc_detach(&hook, &opts);
	return err == -ENOENT ? 0 : err;
}

/*
 * nt_egress is pinned by hand: the kernel sets BPF_F_RDONLY_PROG on every
 * devmap, and libbpf before 1.6 then finds the pinned map's flags differ
 * from the definition's and refuses to reuse it. Reused here when its
 * shape is right; otherwise a fresh one is created and pinned after load.
 */
static int egress_reuse(struct bpf_map *map, const char *pin_dir, bool *reused)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, err;

	*reused = false;
	bpf_map__set_pin_path(map, NULL);
	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, NT_MAP_EGRESS) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err && (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) ||
		     info.max_entries != bpf_map__max_entries(map)))
		err = -EINVAL;
	if (!err)
		err = bpf_map__reuse_fd(map, fd);
	close(fd);
	*reused = !err;
	return err;
}

static int egress_pin(struct bpf_map *map, const char *pin_dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, NT_MAP_EGRESS);
	return bpf_obj_pin(bpf_map__fd(map), path) < 0 ? -errno : 0;
}

/*
 * Pins of a version that kept IPv4 senders in nt_mappings: copied into
 * nt_mappings4 now, deleted from nt_mappings once this program replaced the
 * old one (nt_xdp_attach), which reads them there until then when the map
 * is the same (same value layout). Userspace no longer sees them there.
 */
static int mappings4_copy(struct nt_xdp *x, const char *pin_dir)
{
	int err = nt_migrate_mappings4(bpf_map__fd(x->skel->maps.nt_mappings),
				       bpf_map__fd(x->skel->maps.nt_mappings4), &x->stale4,
				       &x->n_stale4);

	if (err)
		nt_err("cannot copy the IPv4 mappings under %s into %s: %s", pin_dir,
		       NT_MAP_MAPPINGS4, strerror(-err));
	else if (x->n_stale4)
		nt_info("%zu IPv4 mappings copied from %s/%s into %s", x->n_stale4, pin_dir,
			NT_MAP_MAPPINGS, NT_MAP_MAPPINGS4);
	return err;
}

/* After the swap: the old program no longer reads the IPv4 keys in nt_mappings. */
static void mappings4_drop_stale(struct nt_xdp *x)
{
	int err;

	if (!x->n_stale4)
		return;
	err = nt_migrate_mappings4_drop(bpf_map__fd(x->skel->maps.nt_mappings), x->stale4,
					x->n_stale4);
	if (err)
		nt_warn("cannot delete the IPv4 mappings copied out of %s: %s", NT_MAP_MAPPINGS,
			strerror(-err));
	free(x->stale4);
	x->stale4 = NULL;
	x->n_stale4 = 0;
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
	struct nt_migration *mig = NULL;
	struct nt_xdp *x;
	bool egress_reused;
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
	/* nt_egress by hand (libbpf cannot reuse a pinned devmap), the others by libbpf */
	err = egress_reuse(x->skel->maps.nt_egress, pin_dir, &egress_reused);
	if (err == -EACCES || err == -EPERM) {
		/* what libbpf says of the other pins in this case: explained the same way */
		err = nt_bpf_load_explain(err, NULL, "couldn't retrieve pinned map", pin_dir);
		goto fail;
	}
	if (err) {
		nt_err("cannot reuse %s/%s: %s", pin_dir, NT_MAP_EGRESS, strerror(-err));
		goto fail;
	}
	/* pins of another layout: new maps beside them, entries carried over after load */
	err = nt_migrate_prepare(x->skel->obj, &mig);
	if (err) {
		nt_err("cannot prepare the pinned maps under %s for the new layout: %s", pin_dir,
		       strerror(-err));
		goto fail;
	}
	nt_log_libbpf_keep(blog, sizeof(blog));
	err = nattrav_bpf__load(x->skel);
	nt_log_libbpf_keep(NULL, 0);
	if (err) {
		nt_migrate_free(mig);
		err = load_failed(err, vlog, blog, pin_dir);
		vlog = NULL;
		goto fail;
	}
	err = nt_migrate_finish(mig);
	nt_migrate_free(mig);
	if (err)
		nt_err("cannot carry the pinned maps under %s over to the new layout: %s", pin_dir,
		       strerror(-err));
	if (!err)
		err = mappings4_copy(x, pin_dir);
	if (!err && !egress_reused) {
		err = egress_pin(x->skel->maps.nt_egress, pin_dir);
		if (err)
			nt_err("cannot pin %s/%s: %s", pin_dir, NT_MAP_EGRESS, strerror(-err));
	}
	if (err)
		goto fail;
	free(vlog);
	*out = x;
	return 0;
fail:
	free(vlog);
	nattrav_bpf__destroy(x->skel);
	free(x);
	return err;
}

/*
 * Attach in mode flags, over old_id when a program is there: REPLACE swaps
 * it in one step, and fails rather than replace a program attached since
 * old_id was read. With none there, NOEXIST: nor one attached meanwhile.
 */
static int attach_flags(struct nt_xdp *x, int ifindex, __u32 flags, __u32 old_id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int err, old_fd = -1;

	if (old_id) {
		old_fd = bpf_prog_get_fd_by_id(old_id);
		if (old_fd < 0)
			return -errno;
		opts.old_prog_fd = old_fd;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(x->skel->progs.nt_xdp),
			     flags | (old_id ? XDP_FLAGS_REPLACE : XDP_FLAGS_UPDATE_IF_NOEXIST),
			     &opts);
	if (old_fd >= 0)
		close(old_fd);
	if (!err) {
		x->ifindex = ifindex;
		x->xdp_flags = flags;
	}
	return err;
}

int nt_xdp_attach(struct nt_xdp *x, int ifindex, enum nt_xdp_mode mode, bool force,
		  enum nt_xdp_mode *used)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct nt_prog_desc f;
	int err = 0;

	if (mode == NT_XDP_OFF)
		return -EINVAL;
	if (nt_xdp_find_foreign(ifindex, &f) == -EBUSY) {
		if (!force) {
			nt_err("ifindex %d runs %s program %u (%s), not nattrav's: not replacing it "
			       "(--force replaces it)", ifindex, f.hook, f.id, f.name);
			return -EBUSY;
		}
		nt_warn("replacing %s program %u (%s) on ifindex %d (--force)", f.hook, f.id,
			f.name, ifindex);
	}
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	/* the kernel has one mode at a time: a swap in place keeps the running one */
	if (mode == NT_XDP_NATIVE && q.skb_prog_id) {
		nt_info("ifindex %d runs XDP in skb mode: replacing it in skb mode (detach first "
			"to change mode)", ifindex);
		mode = NT_XDP_SKB;
	} else if (mode == NT_XDP_SKB && q.drv_prog_id) {
		nt_info("ifindex %d runs XDP in native mode: replacing it in native mode (detach "
			"first to change mode)", ifindex);
		mode = NT_XDP_NATIVE;
	}
	if (mode == NT_XDP_NATIVE) {
		err = attach_flags(x, ifindex, XDP_FLAGS_DRV_MODE, q.drv_prog_id);
		if (err)
			nt_warn("native XDP refused on ifindex %d (%s); trying generic mode",
				ifindex, strerror(-err));
	}
	if (mode == NT_XDP_SKB || err) {
		err = attach_flags(x, ifindex, XDP_FLAGS_SKB_MODE, q.skb_prog_id);
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
	mappings4_drop_stale(x);
	return 0;
}

int nt_xdp_detach(struct nt_xdp *x)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = nt_xdp_prog_fd(x));
	int err;

	if (!x->ifindex)
		return 0;
	tc_detach(x->ifindex, NULL);
	/* only while it is still ours: a program attached over it since stays */
	err = bpf_xdp_detach(x->ifindex, x->xdp_flags | XDP_FLAGS_REPLACE, &opts);
	if (!err || err == -EEXIST)
		x->ifindex = 0;
	return err == -EEXIST ? 0 : err;
}

/* Detach program id from mode flags of ifindex if it is ours; *left gets it if not. */
static int xdp_detach_ours(int ifindex, __u32 flags, __u32 id, struct nt_prog_desc *left)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct nt_prog_desc d;
	int err;

	if (!id || nt_prog_describe(id, NT_PROG_XDP, &d))
		return 0; /* nothing there, or gone meanwhile */
	if (!d.ours) {
		if (!left->id) {
			*left = d;
			left->hook = "XDP";
		}
		return 0;
	}
	opts.old_prog_fd = bpf_prog_get_fd_by_id(id);
	if (opts.old_prog_fd < 0)
		return 0;
	err = bpf_xdp_detach(ifindex, flags | XDP_FLAGS_REPLACE, &opts);
	close(opts.old_prog_fd);
	return err == -EEXIST ? 0 : err; /* replaced meanwhile: not ours to remove */
}

int nt_xdp_detach_ifindex(int ifindex, struct nt_prog_desc *left)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q), e2;

	memset(left, 0, sizeof(*left));
	if (err)
		return err;
	err = xdp_detach_ours(ifindex, XDP_FLAGS_DRV_MODE, q.drv_prog_id, left);
	e2 = xdp_detach_ours(ifindex, XDP_FLAGS_SKB_MODE, q.skb_prog_id, left);
	if (!err)
		err = e2;
	e2 = tc_detach(ifindex, left);
	return err ? err : e2;
}

int nt_xdp_prog_fd(const struct nt_xdp *x)
{
	return bpf_program__fd(x->skel->progs.nt_xdp);
}

void nt_xdp_maps(const struct nt_xdp *x, struct nt_maps *m)
{
	m->mappings_fd = bpf_map__fd(x->skel->maps.nt_mappings);
	m->mappings4_fd = bpf_map__fd(x->skel->maps.nt_mappings4);
	m->config_fd = bpf_map__fd(x->skel->maps.nt_config);
	m->stats_fd = bpf_map__fd(x->skel->maps.nt_stats);
	m->groups_fd = bpf_map__fd(x->skel->maps.nt_groups);
	m->egress_fd = bpf_map__fd(x->skel->maps.nt_egress);
	m->turn_chans_fd = bpf_map__fd(x->skel->maps.nt_turn_chans);
	m->turn_peers_fd = bpf_map__fd(x->skel->maps.nt_turn_peers);
	m->group_stats_fd = bpf_map__fd(x->skel->maps.nt_group_stats);
}

void nt_xdp_close(struct nt_xdp *x)
{
	if (!x)
		return;
	nattrav_bpf__destroy(x->skel);
	free(x->stale4);
	free(x);
}
