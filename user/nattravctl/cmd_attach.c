// SPDX-License-Identifier: GPL-2.0
/* attach / detach: put the forwarder on an interface by hand, or take it off. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"
#include "nt_json.h"
#include "nt_iface.h"
#include "nt_num.h"

static int parse_addr(const char *s, struct nt_config *cfg)
{
	if (inet_pton(AF_INET, s, cfg->relay_v4) == 1)
		return 0;
	if (inet_pton(AF_INET6, s, cfg->relay_v6) == 1)
		return 0;
	return -EINVAL;
}

int ctl_attach(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "addr", required_argument, NULL, 'a' },
		{ "media-port", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "no-fib", no_argument, NULL, 'F' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	enum nt_xdp_mode mode = NT_XDP_NATIVE, used;
	struct nt_prog_desc f;
	bool force = false;
	struct nt_config cfg = { .media_port = 3478 };
	const char *iface = NULL;
	bool have_addr = false;
	struct nt_xdp *x = NULL;
	struct nt_maps m;
	uint32_t port;
	int c, ifindex, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'a':
			if (parse_addr(optarg, &cfg))
				return ctl_error(CTL_EXIT_USAGE, "--addr: '%s' is not an IP address", optarg);
			have_addr = true;
			break;
		case 'm':
			if (nt_parse_u32(optarg, 1, 65535, &port))
				return ctl_error(CTL_EXIT_USAGE, "--media-port: '%s' is not a port (1-65535)", optarg);
			cfg.media_port = (uint16_t)port;
			break;
		case 'M':
			if (!strcmp(optarg, "native"))
				mode = NT_XDP_NATIVE;
			else if (!strcmp(optarg, "skb"))
				mode = NT_XDP_SKB;
			else
				return ctl_error(CTL_EXIT_USAGE, "--mode: '%s' is not native or skb", optarg);
			break;
		case 'F':
			cfg.flags |= NT_CONFIG_F_NO_FIB;
			break;
		case 'f':
			force = true;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!iface || optind != argc)
		return ctl_error(CTL_EXIT_USAGE, "usage: attach --iface IF [--addr IP]... [--media-port N] [--mode native|skb] [--no-fib] [--force]");
	ifindex = nt_iface_index(iface);
	if (ifindex < 0)
		return ctl_error(CTL_EXIT_USAGE, "no interface named '%s'", iface);
	if (!have_addr) {
		err = nt_iface_addrs(iface, cfg.relay_v4, cfg.relay_v6);
		if (err)
			return ctl_error(CTL_EXIT_FAIL, "%s has no address to relay on; give --addr", iface);
	}

	/* before load: a refusal must not carry pinned maps over to a new layout */
	if (!force && nt_xdp_find_foreign(ifindex, &f) == -EBUSY)
		return ctl_error(CTL_EXIT_FAIL, "%s runs %s program %u (%s), not nattrav's: not "
				 "replacing it (--force replaces it)", iface, f.hook, f.id, f.name);
	err = nt_xdp_load(&x, ctl->pin_dir);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot load the XDP program: %s", strerror(-err));
	nt_xdp_maps(x, &m);
	err = nt_maps_set_config(&m, &cfg);
	if (!err)
		err = nt_xdp_attach(x, ifindex, mode, force, &used);
	/* The attachment outlives this process; the maps stay pinned. */
	nt_xdp_close(x);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot attach to %s: %s", iface, strerror(-err));
	if (ctl->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "event", "attached");
		nt_json_kstr(&j, "iface", iface);
		nt_json_kstr(&j, "mode", used == NT_XDP_NATIVE ? "native" : "skb");
		nt_json_kstr(&j, "pin_dir", ctl->pin_dir);
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else
		printf("attached to %s in %s mode, maps pinned under %s\n", iface,
		       used == NT_XDP_NATIVE ? "native" : "skb", ctl->pin_dir);
	return 0;
}

static const char *const pinned_maps[] = { NT_MAP_MAPPINGS, NT_MAP_MAPPINGS4, NT_MAP_CONFIG,
					   NT_MAP_STATS,    NT_MAP_GROUPS,    NT_MAP_EGRESS,
					   NT_MAP_GROUP_STATS, NT_MAP_TURN_CHANS, NT_MAP_TURN_PEERS };

static int purge_pins(const char *pin_dir)
{
	char path[PATH_MAX];
	int err = 0;

	for (unsigned i = 0; i < sizeof(pinned_maps) / sizeof(pinned_maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, pinned_maps[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			err = -errno;
		/* the new map of an upgrade that stopped before renaming it */
		snprintf(path, sizeof(path), "%s/%s_migrating", pin_dir, pinned_maps[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			err = -errno;
	}
	/* only if empty: an operator may keep other things there */
	if (rmdir(pin_dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		err = -errno;
	return err;
}

int ctl_detach(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "purge", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *iface = NULL;
	struct nt_prog_desc left;
	bool purge = false;
	int c, ifindex, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'P':
			purge = true;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (!iface || optind != argc)
		return ctl_error(CTL_EXIT_USAGE, "usage: detach --iface IF [--purge]");
	ifindex = nt_iface_index(iface);
	if (ifindex < 0)
		return ctl_error(CTL_EXIT_USAGE, "no interface named '%s'", iface);
	err = nt_xdp_detach_ifindex(ifindex, &left);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot detach from %s: %s", iface, strerror(-err));
	/* only nattrav's own: another's program is not ours to remove */
	if (left.id)
		printf("%s program %u (%s) on %s is not nattrav's: left in place\n", left.hook,
		       left.id, left.name, iface);
	if (purge) {
		err = purge_pins(ctl->pin_dir);
		if (err)
			return ctl_error(CTL_EXIT_FAIL, "detached, but cannot remove pins under %s: %s",
					 ctl->pin_dir, strerror(-err));
	}
	printf("detached from %s%s\n", iface, purge ? ", pinned maps removed" : "");
	return 0;
}
