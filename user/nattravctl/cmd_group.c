// SPDX-License-Identifier: GPL-2.0
/* group set / group del / groups: fan-out groups written by hand, and their counters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "nt_json.h"
#include "nt_endpoint.h"
#include "nt_num.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts); /* the maps' clock */
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* group set ID EP EP [EP...]: every member's media goes to all the others. */
static int group_set(struct ctl *ctl, int argc, char **argv)
{
	static struct nt_fanout_group g;
	struct nt_mapping val;
	struct nt_maps m;
	__u32 id;
	int err;

	if (argc < 4)
		return ctl_error(CTL_EXIT_USAGE, "usage: group set ID MEMBER MEMBER [MEMBER...]   (addr:port)");
	if (nt_parse_u32(argv[1], 1, UINT32_MAX, &id))
		return ctl_error(CTL_EXIT_USAGE, "group id '%s' is not a number (1-4294967295)", argv[1]);
	if (argc - 2 > NT_GROUP_MAX_MEMBERS)
		return ctl_error(CTL_EXIT_USAGE, "at most %d members", NT_GROUP_MAX_MEMBERS);
	memset(&g, 0, sizeof(g));
	for (int i = 2; i < argc; i++) {
		if (nt_endpoint_parse(argv[i], &g.members[g.n_members]))
			return ctl_error(CTL_EXIT_USAGE, "member '%s' is not addr:port", argv[i]);
		g.n_members++;
	}
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	err = nt_maps_put_group(&m, id, &g);
	for (__u32 i = 0; !err && i < g.n_members; i++) {
		memset(&val, 0, sizeof(val));
		val.group_id = id;
		val.flags = NT_MAPPING_F_STATIC | NT_MAPPING_F_FANOUT;
		val.created_ns = val.last_seen_ns = now_ns();
		err = nt_maps_put_mapping(&m, &g.members[i], &val);
	}
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot write group %u: %s", id, strerror(-err));
	printf("group %u: %u members, fanned out by TC\n", id, g.n_members);
	return 0;
}

static int group_del(struct ctl *ctl, int argc, char **argv)
{
	static struct nt_fanout_group g;
	struct nt_maps m;
	__u32 id;
	int err;

	if (argc != 2 || nt_parse_u32(argv[1], 1, UINT32_MAX, &id))
		return ctl_error(CTL_EXIT_USAGE, "usage: group del ID");
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	err = nt_maps_get_group(&m, id, &g);
	for (__u32 i = 0; !err && i < g.n_members && i < NT_GROUP_MAX_MEMBERS; i++)
		nt_maps_del_mapping(&m, &g.members[i]);
	if (!err)
		err = nt_maps_del_group(&m, id);
	nt_maps_close(&m);
	if (err == -ENOENT)
		return ctl_error(CTL_EXIT_FAIL, "no group %u", id);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot delete group %u: %s", id, strerror(-err));
	printf("group %u and its mappings removed\n", id);
	return 0;
}

int ctl_group(struct ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "set"))
		return group_set(ctl, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "del"))
		return group_del(ctl, argc - 1, argv + 1);
	return ctl_error(CTL_EXIT_USAGE, "usage: group set ID MEMBER... | group del ID");
}

static void print_group(__u32 id, const struct nt_fanout_group *g, bool json)
{
	char ep[NT_ENDPOINT_STRLEN];
	__u32 n = g->n_members < NT_GROUP_MAX_MEMBERS ? g->n_members : NT_GROUP_MAX_MEMBERS;

	if (json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_ku64(&j, "group", id);
		nt_json_key(&j, "members");
		nt_json_arr(&j);
		for (__u32 i = 0; i < n; i++) {
			nt_json_obj(&j);
			nt_json_kstr(&j, "endpoint", nt_endpoint_format(&g->members[i], ep, sizeof(ep)));
			nt_json_ku64(&j, "delivered", g->delivered[i]);
			nt_json_obj_end(&j);
		}
		nt_json_arr_end(&j);
		nt_json_ku64(&j, "packets_in", g->packets_in);
		nt_json_ku64(&j, "copies_out", g->copies_out);
		nt_json_ku64(&j, "bytes_out", g->bytes_out);
		nt_json_obj_end(&j);
		nt_json_end(&j);
		return;
	}
	printf("group %u: %u members, %llu packets in, %llu copies out (%llu bytes)\n", id, n,
	       (unsigned long long)g->packets_in, (unsigned long long)g->copies_out,
	       (unsigned long long)g->bytes_out);
	for (__u32 i = 0; i < n; i++)
		printf("  %-46s delivered %llu\n", nt_endpoint_format(&g->members[i], ep, sizeof(ep)),
		       (unsigned long long)g->delivered[i]);
}

int ctl_groups(struct ctl *ctl, int argc, char **argv)
{
	static struct nt_fanout_group g;
	__u32 key, next, *prev = NULL;
	struct nt_maps m;

	if (argc > 1)
		return ctl_error(CTL_EXIT_USAGE, "groups takes no arguments");
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	while (bpf_map_get_next_key(m.groups_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (nt_maps_get_group(&m, key, &g) == 0)
			print_group(key, &g, ctl->json);
	}
	nt_maps_close(&m);
	return 0;
}
