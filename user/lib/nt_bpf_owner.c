// SPDX-License-Identifier: GPL-2.0
/*
 * Whose programs sit on an interface's XDP and TC hooks. nattrav's are the
 * programs named as ours (nt_xdp, nt_tc_fanout) that use a map named
 * nt_mappings; anything else belongs to someone else, and nattrav neither
 * replaces nor detaches it unless told to (--force).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nt_bpf_owner.h"

#define NT_OWNER_MAX_MAPS 64

static bool uses_map_named(const __u32 *ids, __u32 n, const char *want)
{
	bool found = false;

	for (__u32 i = 0; i < n && !found; i++) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		found = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, want);
		close(fd);
	}
	return found;
}

int nt_prog_describe(__u32 id, const char *ours, struct nt_prog_desc *d)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[NT_OWNER_MAX_MAPS];
	int fd = bpf_prog_get_fd_by_id(id), err = 0;

	memset(d, 0, sizeof(*d));
	d->id = id;
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = NT_OWNER_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
	} else {
		snprintf(d->name, sizeof(d->name), "%s", info.name);
		d->ours = !strcmp(info.name, ours) &&
			  uses_map_named(ids, info.nr_map_ids < NT_OWNER_MAX_MAPS ?
						      info.nr_map_ids : NT_OWNER_MAX_MAPS,
					 NT_MAP_MAPPINGS);
	}
	close(fd);
	return err;
}

int nt_tc_prog_id(int ifindex, __u32 *id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NT_TC_HANDLE, .priority = NT_TC_PRIO);
	int err = bpf_tc_query(&hook, &opts);

	*id = 0;
	/* no clsact qdisc (EINVAL) or no filter at our handle (ENOENT): nothing there */
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (!err)
		*id = opts.prog_id;
	return err;
}

int nt_xdp_find_foreign(int ifindex, struct nt_prog_desc *f)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct nt_prog_desc d;
	__u32 ids[2], tc = 0;
	int err = bpf_xdp_query(ifindex, 0, &q);

	memset(f, 0, sizeof(*f));
	if (err)
		return err;
	ids[0] = q.drv_prog_id;
	ids[1] = q.skb_prog_id;
	for (int i = 0; i < 2; i++) {
		if (!ids[i] || nt_prog_describe(ids[i], NT_PROG_XDP, &d))
			continue; /* unloaded meanwhile */
		if (!d.ours) {
			*f = d;
			f->hook = "XDP";
			return -EBUSY;
		}
	}
	if (!nt_tc_prog_id(ifindex, &tc) && tc && !nt_prog_describe(tc, NT_PROG_TC, &d) &&
	    !d.ours) {
		*f = d;
		f->hook = "TC";
		return -EBUSY;
	}
	return 0;
}
