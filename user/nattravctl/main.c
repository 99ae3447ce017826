// SPDX-License-Identifier: GPL-2.0
/* nattravctl: operator tool for a nattrav relay. Reads the pinned maps directly. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "ctl.h"
#include "nt_ctlproto.h"
#include "nt_log.h"
#include "nt_version.h"

static const char usage[] =
	"usage: nattravctl [--pin-dir DIR] [--ctl-socket PATH] [--json] [-v] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  attach --iface IF [--addr IP]... [--media-port N] [--mode native|skb] [--no-fib]\n"
	"         [--force]   load the XDP forwarder, pin its maps, attach it to IF; a running\n"
	"                     nattrav is replaced in one step, pins of an older layout carried\n"
	"                     over; another's XDP program is replaced only with --force\n"
	"  detach --iface IF [--purge]\n"
	"                     remove nattrav's programs from IF (another's stay);\n"
	"                     --purge also removes the pinned maps\n"
	"  map add SRC PEER [--group N]   forward media from SRC (addr:port) to PEER by hand\n"
	"  map del SRC                    remove the mapping of SRC\n"
	"  group set ID MEMBER...         fan media of each member out to all the others (TC)\n"
	"  group del ID                   remove a group and its members' mappings\n"
	"  status             where the program runs (interface, mode, program ids), the\n"
	"                     daemon's uptime and counts (control socket), the maps' counts\n"
	"  mappings           list verified mappings: group, path (xdp/tc/userspace), age,\n"
	"                     idle time, counters\n"
	"  groups             fan-out groups with per-member delivery counters\n"
	"  stats [--watch [SECONDS]] [--count N]\n"
	"                     packet counters by verdict; --watch redraws every SECONDS (1)\n"
	"                     with per-second rates, --count stops after N rounds\n"
	"  kick ADDR:PORT | kick HEXID\n"
	"                     ask nattravd to drop a mapping (the client re-verifies) or end\n"
	"                     a session (the client is disconnected); needs the daemon\n"
	"  config             the relay address and media port the program uses\n"
	"  fleet [--redis IP:PORT] [--redis-password-file F] [--config FILE]\n"
	"                     the fleet's live relays from Redis: address, heartbeat age,\n"
	"                     groups, load, draining (Redis from nattravd's config unless given)\n"
	"  fleet --place-script  the Lua script relays place groups with (pre-placing)\n"
	"  drain [on|off]     no new groups on this relay (the fleet places them elsewhere);\n"
	"                     members of groups here still accepted, flows untouched; needs\n"
	"                     the daemon; without on/off: show\n"
	"  turn               TURN allocations: relayed and client address, user, lifetime,\n"
	"                     permissions, channels (in XDP/all), packets each way (of\n"
	"                     which by XDP); needs the daemon\n"
	"  token --secret-file F --user NAME --group G [--group G2 ...] [--ttl SECONDS]\n"
	"                     mint an auth token for a client, for the groups named\n"
	"\n"
	"Options:\n"
	"  --pin-dir DIR      where the maps are pinned (default " NT_PIN_DIR_DEFAULT ")\n"
	"  --ctl-socket PATH  nattravd's control socket (default " NT_CTL_SOCKET_DEFAULT ")\n"
	"  --json             machine-readable output, one JSON object per line\n"
	"  -v                 verbose (libbpf messages)\n"
	"  -h, --help         this text\n"
	"  -V, --version      the version\n"
	"\n"
	"Examples:\n"
	"  nattravctl attach --iface eth0 --addr 203.0.113.1 --media-port 3478\n"
	"  nattravctl map add 198.51.100.7:40000 192.0.2.20:50000\n"
	"  nattravctl status\n"
	"  nattravctl mappings --json\n"
	"  nattravctl stats --watch 2\n"
	"  nattravctl kick 198.51.100.7:40000\n"
	"  nattravctl kick session 3f2a9c0d11e4b702\n"
	"  nattravctl fleet --json\n"
	"  nattravctl drain on\n"
	"  nattravctl stats --json\n"
	"  nattravctl token --secret-file /etc/nattrav/secret --user alice --group room9 --ttl 3600\n";

int ctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("nattravctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int ctl_open_maps(const struct ctl *ctl, struct nt_maps *m)
{
	int err = nt_maps_open(m, ctl->pin_dir);

	if (err == -ENOENT)
		return ctl_error(CTL_EXIT_FAIL, "no nattrav maps pinned under %s (run 'nattravctl attach' or nattravd first)",
				 ctl->pin_dir);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot open maps under %s: %s", ctl->pin_dir,
				 strerror(-err));
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
} commands[] = {
	{ "attach", ctl_attach },     { "detach", ctl_detach }, { "map", ctl_map },
	{ "mappings", ctl_mappings }, { "stats", ctl_stats },   { "config", ctl_config },
	{ "token", ctl_token },       { "group", ctl_group },   { "groups", ctl_groups },
	{ "status", ctl_status },     { "kick", ctl_kick },     { "fleet", ctl_fleet },
	{ "drain", ctl_drain },       { "turn", ctl_turn },
};

/*
 * --json and --pin-dir are accepted after the command too ("stats --json"
 * is what people type): take them out of argv wherever they stand.
 */
static int take_global_opts(struct ctl *ctl, int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			ctl->json = true;
		} else if (!strncmp(argv[i], "--pin-dir=", 10)) {
			ctl->pin_dir = argv[i] + 10;
		} else if (!strcmp(argv[i], "--pin-dir") && i + 1 < argc) {
			ctl->pin_dir = argv[++i];
		} else if (!strncmp(argv[i], "--ctl-socket=", 13)) {
			ctl->ctl_socket = argv[i] + 13;
		} else if (!strcmp(argv[i], "--ctl-socket") && i + 1 < argc) {
			ctl->ctl_socket = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .pin_dir = NT_PIN_DIR_DEFAULT, .ctl_socket = NT_CTL_SOCKET_DEFAULT };
	int c;

	nt_log_set_level(NT_LOG_WARN);
	argc = take_global_opts(&ctl, argc, argv);
	/* '+': stop at the command name, its options are its own */
	while ((c = getopt_long(argc, argv, "+hvV", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			nt_log_set_level(NT_LOG_DEBUG);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("nattravctl %s\n", NT_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	nt_log_hook_libbpf();
	if (optind >= argc) {
		fputs(usage, stderr);
		return CTL_EXIT_USAGE;
	}
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			argc -= optind;
			argv += optind;
			optind = 0; /* full getopt re-init, on the command's own arguments */
			return commands[i].fn(&ctl, argc, argv);
		}
	}
	return ctl_error(CTL_EXIT_USAGE, "unknown command '%s' (see nattravctl --help)",
			 argv[optind]);
}
