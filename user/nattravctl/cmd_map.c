// SPDX-License-Identifier: GPL-2.0
/* map add / map del: static mappings written by hand, for tests and emergencies. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "ctl.h"
#include "nt_endpoint.h"
#include "nt_num.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts); /* the maps' clock */
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int map_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct nt_mapping val = { .flags = NT_MAPPING_F_STATIC };
	char buf[2][NT_ENDPOINT_STRLEN];
	struct nt_endpoint src;
	struct nt_maps m;
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'g' || nt_parse_u32(optarg, 0, UINT32_MAX, &val.group_id))
			return ctl_error(CTL_EXIT_USAGE, "--group takes a number");
	}
	if (argc - optind != 2)
		return ctl_error(CTL_EXIT_USAGE, "usage: map add SRC PEER [--group N]   (addr:port or [v6]:port)");
	if (nt_endpoint_parse(argv[optind], &src))
		return ctl_error(CTL_EXIT_USAGE, "SRC '%s' is not addr:port", argv[optind]);
	if (nt_endpoint_parse(argv[optind + 1], &val.peer))
		return ctl_error(CTL_EXIT_USAGE, "PEER '%s' is not addr:port", argv[optind + 1]);
	if (src.family != val.peer.family)
		return ctl_error(CTL_EXIT_USAGE, "SRC and PEER must be of the same address family");
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	val.created_ns = val.last_seen_ns = now_ns();
	err = nt_maps_put_mapping(&m, &src, &val);
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot add mapping: %s%s", strerror(-err),
				 err == -E2BIG ? " (mappings map is full)" : "");
	printf("mapping %s -> %s added\n", nt_endpoint_format(&src, buf[0], sizeof(buf[0])),
	       nt_endpoint_format(&val.peer, buf[1], sizeof(buf[1])));
	return 0;
}

static int map_del(struct ctl *ctl, int argc, char **argv)
{
	struct nt_endpoint src;
	struct nt_maps m;
	int err;

	if (argc != 2)
		return ctl_error(CTL_EXIT_USAGE, "usage: map del SRC");
	if (nt_endpoint_parse(argv[1], &src))
		return ctl_error(CTL_EXIT_USAGE, "SRC '%s' is not addr:port", argv[1]);
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	err = nt_maps_del_mapping(&m, &src);
	nt_maps_close(&m);
	if (err == -ENOENT)
		return ctl_error(CTL_EXIT_FAIL, "no mapping for %s", argv[1]);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot delete mapping: %s", strerror(-err));
	printf("mapping %s removed\n", argv[1]);
	return 0;
}

int ctl_map(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return ctl_error(CTL_EXIT_USAGE, "usage: map add SRC PEER | map del SRC");
	if (!strcmp(argv[1], "add"))
		return map_add(ctl, argc - 1, argv + 1);
	if (!strcmp(argv[1], "del"))
		return map_del(ctl, argc - 1, argv + 1);
	return ctl_error(CTL_EXIT_USAGE, "unknown map command '%s' (add, del)", argv[1]);
}
