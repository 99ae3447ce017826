// SPDX-License-Identifier: GPL-2.0
/*
 * Where the forwarder is attached: every interface of this network
 * namespace is asked (netlink, bpf_xdp_query / bpf_tc_query) which XDP and
 * TC programs it runs; nattrav's are the ones using the pinned mappings map.
 * No daemon needed.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctl.h"

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Does program id use the map map_id? */
static bool prog_uses(__u32 id, __u32 map_id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[64];
	int fd = bpf_prog_get_fd_by_id(id);
	bool found = false;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (__u32 i = 0; i < info.nr_map_ids && i < 64 && !found; i++)
			found = ids[i] == map_id;
	close(fd);
	return found;
}

static const char *mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "skb";
	case XDP_ATTACHED_HW: return "hw";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

static __u32 tc_prog(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NT_TC_HANDLE, .priority = NT_TC_PRIO);

	return bpf_tc_query(&hook, &opts) ? 0 : opts.prog_id;
}

int ctl_find_attach(const struct nt_maps *m, struct ctl_attach *a)
{
	struct if_nameindex *ifs, *i;
	__u32 map_id = map_id_of(m->mappings_fd);

	memset(a, 0, sizeof(a[0]));
	if (!map_id)
		return -ENOENT;
	ifs = if_nameindex();
	if (!ifs)
		return -errno;
	/* libbpf warns about interfaces without a clsact qdisc: not ours to report */
	for (i = ifs; i->if_index && !a->ifindex; i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		__u32 ids[3];

		if (bpf_xdp_query((int)i->if_index, 0, &q))
			continue;
		ids[0] = q.prog_id;
		ids[1] = q.drv_prog_id;
		ids[2] = q.skb_prog_id;
		for (int k = 0; k < 3 && !a->ifindex; k++) {
			if (!ids[k] || !prog_uses(ids[k], map_id))
				continue;
			a->ifindex = (int)i->if_index;
			snprintf(a->iface, sizeof(a->iface), "%s", i->if_name);
			a->xdp_prog_id = ids[k];
			a->mode = q.attach_mode == XDP_ATTACHED_MULTI ?
					  (k == 1 ? "native" : k == 2 ? "skb" : "multi") :
					  mode_name(q.attach_mode);
			a->tc_prog_id = tc_prog(a->ifindex);
		}
	}
	if_freenameindex(ifs);
	return a->ifindex ? 0 : -ENOENT;
}
