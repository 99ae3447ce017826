// SPDX-License-Identifier: GPL-2.0
/* Flags and the config file: same keys; flags win over the file. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nattravd.h"
#include "nt_conf.h"
#include "nt_fleet.h"
#include "nt_ctlproto.h"
#include "nt_log.h"
#include "nt_num.h"
#include "nt_version.h"

void nd_usage(FILE *f)
{
	fputs("usage: nattravd --iface IF --cert FILE --key FILE --auth-secret-file FILE [options]\n"
	      "\n"
	      "NAT-traversal media relay: TLS control channel, UDP mapping verification,\n"
	      "media forwarded by XDP on IF (or in userspace with --xdp-mode off).\n"
	      "\n"
	      "Options (each also a 'key = value' line of --config, without the dashes):\n"
	      "  --iface IF              interface to relay on (required)\n"
	      "  --addr IP               relay address, repeatable, one IPv4 and/or one IPv6\n"
	      "                          (default: the interface's first addresses)\n"
	      "  --control-port N        TLS control port (default 4433)\n"
	      "  --media-port N          UDP media port (default 3478)\n"
	      "  --cert FILE             server certificate, then its intermediates, PEM (required)\n"
	      "  --key FILE              its private key, PEM (required)\n"
	      "  --auth-secret-file FILE secret the auth tokens are signed with (required)\n"
	      "  --xdp-mode MODE         native (falls back to skb), skb, or off (default native)\n"
	      "  --next-hop MODE         who finds each peer's next hop: daemon (nattravd asks the\n"
	      "                          kernel's routes and neighbours and writes the MACs into\n"
	      "                          the mapping; works with forwarding off) or fib (the XDP\n"
	      "                          program's bpf_fib_lookup; needs forwarding on the\n"
	      "                          interface) (default daemon)\n"
	      "  --pin-dir DIR           bpffs folder of the maps (default " NT_PIN_DIR_DEFAULT ")\n"
	      "  --deny CIDR             refuse peers in this range, repeatable\n"
	      "  --allow CIDR            accept peers in this range although a built-in range\n"
	      "                          (private, documentation, ...) refuses them, repeatable;\n"
	      "                          never loopback, unspecified, multicast or broadcast\n"
	      "  --client-ca FILE        require client certificates signed by a CA in FILE (mTLS)\n"
	      "  --max-mappings N        verified mappings at most (default 65536)\n"
	      "  --max-groups N          groups at most (default 4096)\n"
	      "  --max-members N         members of one group at most, 2..64 (default 16)\n"
	      "  --max-pps N             media packets per second per sender, TURN clients\n"
	      "                          too, 0: no limit (default 2000; over it dropped and\n"
	      "                          counted)\n"
	      "  --burst N               packets a sender may send back to back (default 200)\n"
	      "  --max-connections N     control connections at most (default 1024)\n"
	      "  --max-unauth N          of those, not yet authenticated at most (default: half\n"
	      "                          of --max-connections; the rest is kept for users)\n"
	      "  --max-unauth-per-source N\n"
	      "                          not yet authenticated connections from one address\n"
	      "                          at most (default 8)\n"
	      "  --auth-timeout S        seconds from accept to finish TLS, HELLO and AUTH\n"
	      "                          (default 10; PING and STATUS do not extend it)\n"
	      "  --max-sessions-per-user N  sessions of one user at most (default 4)\n"
	      "  --max-groups-per-user N    groups one user is in at most (default 4)\n"
	      "  --max-token-ttl S       refuse tokens valid for longer than S seconds from now\n"
	      "                          (default 604800, 7 days; 0: no limit)\n"
	      "  --consent-window S      seconds without traffic before a mapping expires (default 30)\n"
	      "  --log-level LEVEL       error, warn, info or debug (default info)\n"
	      "  --keep-on-exit          on SIGTERM leave XDP attached and mappings in place\n"
	      "  --force                 replace an XDP program (or TC filter at nattrav's\n"
	      "                          handle) that is not nattrav's (default: refuse to start)\n"
	      "  --ctl-socket PATH       local control socket for nattravctl status/kick, or off\n"
	      "                          (default " NT_CTL_SOCKET_DEFAULT ")\n"
	      "  --metrics [ADDR:]PORT   serve Prometheus metrics on GET /metrics (default off;\n"
	      "                          ADDR defaults to 127.0.0.1)\n"
	      "  --turn-secret-file FILE TURN over UDP (RFC 8656) on the media port, for standard\n"
	      "                          clients (browsers' ICE): credentials as coturn's\n"
	      "                          use-auth-secret with the secret in FILE's first line\n"
	      "                          (default off)\n"
	      "  --turn-realm REALM      realm of the TURN credentials (default nattrav)\n"
	      "  --turn-ports MIN-MAX    relayed transport addresses' ports (default 49152-65535)\n"
	      "  --turn-max-allocations N  TURN allocations at most (default 1024)\n"
	      "  --turn-max-per-user N   TURN allocations of one user at most (default 16)\n"
	      "  --turn-max-lifetime S   longest allocation lifetime granted (default 3600)\n"
	      "  --turn-tcp-port PORT    TURN over TCP too, on this port (default: the media\n"
	      "                          port's number); 0: UDP only\n"
	      "  --turn-tls-port PORT    TURN over TLS too, on this port, with --cert and --key\n"
	      "                          (default 5349); 0: off\n"
	      "  --turn-max-tcp N        TURN connections over TCP and TLS at most (default 256)\n"
	      "  --redis IP:PORT         join a fleet of relays sharing group placement in this\n"
	      "                          Redis (default off: a lone relay; PORT defaults to 6379)\n"
	      "  --redis-password-file FILE\n"
	      "                          Redis password (AUTH), first line of FILE\n"
	      "  --relay-id ID           this relay's name in the fleet, [A-Za-z0-9._-]{1,64}\n"
	      "                          (default: the host name)\n"
	      "  --advertise HOST[:PORT] where clients redirected here connect (default: the\n"
	      "                          relay's IPv4 address and --control-port)\n"
	      "  --config FILE           read settings from FILE first (default\n"
	      "                          " ND_CONFIG_DEFAULT " when it exists; none: no file)\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           the version\n"
	      "\n"
	      "Examples:\n"
	      "  nattravd --iface eth0 --cert /etc/nattrav/server.pem --key /etc/nattrav/server.key \\\n"
	      "           --auth-secret-file /etc/nattrav/secret\n"
	      "  nattravd --iface eth0 --addr 203.0.113.1 --addr 2001:db8::1 --xdp-mode off \\\n"
	      "           --deny 10.0.0.0/8 --consent-window 3 --config /etc/nattrav/nattravd.conf\n"
	      "\n"
	      "Config file example:\n"
	      "  iface = eth0\n"
	      "  cert = /etc/nattrav/server.pem\n"
	      "  deny = 192.168.0.0/16   # repeatable\n"
	      "  keep-on-exit = yes\n",
	      f);
}

static const struct option opts[] = {
	{ "iface", required_argument, NULL, 0 },
	{ "addr", required_argument, NULL, 0 },
	{ "control-port", required_argument, NULL, 0 },
	{ "media-port", required_argument, NULL, 0 },
	{ "cert", required_argument, NULL, 0 },
	{ "key", required_argument, NULL, 0 },
	{ "auth-secret-file", required_argument, NULL, 0 },
	{ "xdp-mode", required_argument, NULL, 0 },
	{ "next-hop", required_argument, NULL, 0 },
	{ "pin-dir", required_argument, NULL, 0 },
	{ "deny", required_argument, NULL, 0 },
	{ "allow", required_argument, NULL, 0 },
	{ "client-ca", required_argument, NULL, 0 },
	{ "max-mappings", required_argument, NULL, 0 },
	{ "max-groups", required_argument, NULL, 0 },
	{ "max-members", required_argument, NULL, 0 },
	{ "max-pps", required_argument, NULL, 0 },
	{ "burst", required_argument, NULL, 0 },
	{ "max-connections", required_argument, NULL, 0 },
	{ "max-unauth", required_argument, NULL, 0 },
	{ "max-unauth-per-source", required_argument, NULL, 0 },
	{ "auth-timeout", required_argument, NULL, 0 },
	{ "max-sessions-per-user", required_argument, NULL, 0 },
	{ "max-groups-per-user", required_argument, NULL, 0 },
	{ "max-token-ttl", required_argument, NULL, 0 },
	{ "consent-window", required_argument, NULL, 0 },
	{ "log-level", required_argument, NULL, 0 },
	{ "keep-on-exit", no_argument, NULL, 0 },
	{ "force", no_argument, NULL, 0 },
	{ "ctl-socket", required_argument, NULL, 0 },
	{ "metrics", required_argument, NULL, 0 },
	{ "turn-secret-file", required_argument, NULL, 0 },
	{ "turn-realm", required_argument, NULL, 0 },
	{ "turn-ports", required_argument, NULL, 0 },
	{ "turn-max-allocations", required_argument, NULL, 0 },
	{ "turn-max-per-user", required_argument, NULL, 0 },
	{ "turn-max-lifetime", required_argument, NULL, 0 },
	{ "turn-tcp-port", required_argument, NULL, 0 },
	{ "turn-max-tcp", required_argument, NULL, 0 },
	{ "turn-tls-port", required_argument, NULL, 0 },
	{ "redis", required_argument, NULL, 0 },
	{ "redis-password-file", required_argument, NULL, 0 },
	{ "relay-id", required_argument, NULL, 0 },
	{ "advertise", required_argument, NULL, 0 },
	{ "config", required_argument, NULL, 0 },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Why the last setting was refused; printed with where it came from. */
static char conf_err[320];

static int bad(const char *key, const char *val, const char *what)
{
	snprintf(conf_err, sizeof(conf_err), "%s: '%s' %s", key, val, what);
	return -EINVAL;
}

static int set_u32(const char *key, const char *val, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	char what[64];

	if (!nt_parse_u32(val, min, max, out))
		return 0;
	snprintf(what, sizeof(what), "is not a number in %u..%u", min, max);
	return bad(key, val, what);
}

/* Strings point into argv or into a strdup'd copy kept in the strings list. */
static char **owned;
static size_t nowned;

static const char *keep(const char *s)
{
	char **n = realloc(owned, (nowned + 1) * sizeof(*n));

	if (!n)
		return NULL;
	owned = n;
	owned[nowned] = strdup(s);
	return owned[nowned++];
}

/* One setting, from the file or a flag. */
static int conf_set(struct nd_conf *c, const char *key, const char *val)
{
	uint32_t v;
	int err;

	if (!strcmp(key, "iface")) {
		c->iface = keep(val);
	} else if (!strcmp(key, "addr")) {
		uint8_t a[16];

		if (inet_pton(AF_INET, val, a) == 1) {
			if (c->have_v4)
				return bad(key, val, "is a second IPv4 address (one per family)");
			memcpy(c->addr_v4, a, 4);
			c->have_v4 = true;
		} else if (inet_pton(AF_INET6, val, a) == 1) {
			if (c->have_v6)
				return bad(key, val, "is a second IPv6 address (one per family)");
			memcpy(c->addr_v6, a, 16);
			c->have_v6 = true;
		} else {
			return bad(key, val, "is not an IP address");
		}
	} else if (!strcmp(key, "control-port")) {
		if (set_u32(key, val, 1, 65535, &v))
			return -EINVAL;
		c->control_port = (uint16_t)v;
	} else if (!strcmp(key, "media-port")) {
		if (set_u32(key, val, 1, 65535, &v))
			return -EINVAL;
		c->media_port = (uint16_t)v;
	} else if (!strcmp(key, "cert")) {
		c->cert = keep(val);
	} else if (!strcmp(key, "key")) {
		c->key = keep(val);
	} else if (!strcmp(key, "auth-secret-file")) {
		c->secret_file = keep(val);
	} else if (!strcmp(key, "pin-dir")) {
		c->pin_dir = keep(val);
	} else if (!strcmp(key, "xdp-mode")) {
		if (!strcmp(val, "native"))
			c->xdp_mode = NT_XDP_NATIVE;
		else if (!strcmp(val, "skb"))
			c->xdp_mode = NT_XDP_SKB;
		else if (!strcmp(val, "off"))
			c->xdp_mode = NT_XDP_OFF;
		else
			return bad(key, val, "is not native, skb or off");
	} else if (!strcmp(key, "next-hop")) {
		if (nd_nh_mode_parse(val, &c->next_hop))
			return bad(key, val, "is not daemon or fib");
	} else if (!strcmp(key, "deny")) {
		err = nt_deny_add(&c->deny, val);
		if (err)
			return bad(key, val, "is not a CIDR range (like 10.0.0.0/8 or 2001:db8::/32)");
	} else if (!strcmp(key, "allow")) {
		err = nt_allow_add(&c->deny, val);
		if (err)
			return bad(key, val, "is not a CIDR range (like 203.0.113.0/24 or fd00::/8)");
	} else if (!strcmp(key, "client-ca")) {
		c->client_ca = keep(val);
	} else if (!strcmp(key, "max-mappings")) {
		return set_u32(key, val, 1, NT_MAX_MAPPINGS, &c->max_mappings);
	} else if (!strcmp(key, "max-groups")) {
		return set_u32(key, val, 1, 1u << 20, &c->max_groups);
	} else if (!strcmp(key, "max-members")) {
		return set_u32(key, val, 2, NT_GROUP_MAX_MEMBERS, &c->max_members);
	} else if (!strcmp(key, "max-pps")) {
		return set_u32(key, val, 0, 10000000, &c->max_pps);
	} else if (!strcmp(key, "burst")) {
		return set_u32(key, val, 1, 1000000, &c->burst);
	} else if (!strcmp(key, "max-connections")) {
		return set_u32(key, val, 1, 1u << 20, &c->max_connections);
	} else if (!strcmp(key, "max-unauth")) {
		return set_u32(key, val, 1, 1u << 20, &c->max_unauth);
	} else if (!strcmp(key, "max-unauth-per-source")) {
		return set_u32(key, val, 1, 1u << 20, &c->max_unauth_per_source);
	} else if (!strcmp(key, "auth-timeout")) {
		return set_u32(key, val, 1, 600, &c->auth_timeout_s);
	} else if (!strcmp(key, "max-sessions-per-user")) {
		return set_u32(key, val, 1, 1u << 20, &c->max_sessions_per_user);
	} else if (!strcmp(key, "max-groups-per-user")) {
		return set_u32(key, val, 1, 1u << 20, &c->max_groups_per_user);
	} else if (!strcmp(key, "max-token-ttl")) {
		return set_u32(key, val, 0, 10u * 365 * 86400, &c->max_token_ttl_s);
	} else if (!strcmp(key, "consent-window")) {
		return set_u32(key, val, 1, 86400, &c->consent_s);
	} else if (!strcmp(key, "log-level")) {
		err = nt_log_parse_level(val);
		if (err < 0)
			return bad(key, val, "is not error, warn, info or debug");
		c->log_level = err;
	} else if (!strcmp(key, "ctl-socket")) {
		if (val[0] != '/' && strcmp(val, "off"))
			return bad(key, val, "is not an absolute path or off");
		c->ctl_socket = keep(val);
	} else if (!strcmp(key, "metrics")) {
		if (!strcmp(val, "off"))
			memset(&c->metrics, 0, sizeof(c->metrics));
		else if (nt_listen_addr_parse(val, &c->metrics))
			return bad(key, val, "is not PORT, ADDR:PORT, [V6]:PORT or off");
	} else if (!strcmp(key, "turn-secret-file")) {
		c->turn.secret_file = keep(val);
	} else if (!strcmp(key, "turn-realm")) {
		size_t n = strlen(val);

		if (n == 0 || n > 63 || strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n)
			return bad(key, val, "is not 1..63 letters, digits, '.', '-' or '_'");
		c->turn.realm = keep(val);
	} else if (!strcmp(key, "turn-ports")) {
		unsigned lo, hi;
		char extra;

		if (sscanf(val, "%u-%u%c", &lo, &hi, &extra) != 2 || lo < 1024 || hi > 65535 || lo > hi)
			return bad(key, val, "is not MIN-MAX within 1024-65535");
		c->turn.port_min = lo;
		c->turn.port_max = hi;
	} else if (!strcmp(key, "turn-max-allocations")) {
		return set_u32(key, val, 1, 1u << 16, &c->turn.max_allocations);
	} else if (!strcmp(key, "turn-max-per-user")) {
		return set_u32(key, val, 1, 1u << 16, &c->turn.max_per_user);
	} else if (!strcmp(key, "turn-max-lifetime")) {
		return set_u32(key, val, 600, 86400, &c->turn.max_lifetime_s);
	} else if (!strcmp(key, "turn-tcp-port")) {
		return set_u32(key, val, 0, 65535, &c->turn.tcp_port);
	} else if (!strcmp(key, "turn-tls-port")) {
		return set_u32(key, val, 0, 65535, &c->turn.tls_port);
	} else if (!strcmp(key, "turn-max-tcp")) {
		return set_u32(key, val, 1, 1u << 16, &c->turn.max_tcp);
	} else if (!strcmp(key, "redis")) {
		char hp[NT_FLEET_ADDR_MAX + 1];
		uint8_t a[16];
		size_t hl;

		if (!strcmp(val, "off")) {
			c->redis = NULL;
			return 0;
		}
		/* an address, not a name: a resolver would block the loop at each reconnect */
		if (nt_fleet_hostport(val, NT_FLEET_REDIS_PORT, hp, sizeof(hp)))
			return bad(key, val, "is not IP[:PORT], [IPV6][:PORT] or off");
		hl = (size_t)(strrchr(hp, ':') - hp);
		hp[hl] = '\0';
		if (hp[0] == '[') {
			hp[hl - 1] = '\0';
			if (inet_pton(AF_INET6, hp + 1, a) != 1)
				return bad(key, val, "is not IP[:PORT] (an address, not a name)");
			hp[hl - 1] = ']';
		} else if (inet_pton(AF_INET, hp, a) != 1) {
			return bad(key, val, "is not IP[:PORT] (an address, not a name)");
		}
		hp[hl] = ':';
		c->redis = keep(hp);
	} else if (!strcmp(key, "redis-password-file")) {
		c->redis_password_file = keep(val);
	} else if (!strcmp(key, "relay-id")) {
		if (!nt_fleet_id_valid(val))
			return bad(key, val, "is not 1..64 characters of A-Z a-z 0-9 . _ -");
		c->relay_id = keep(val);
	} else if (!strcmp(key, "advertise")) {
		char hp[NT_FLEET_ADDR_MAX + 1];

		/* the port is filled in once --control-port is known */
		if (nt_fleet_hostport(val, 65535, hp, sizeof(hp)))
			return bad(key, val, "is not HOST[:PORT] or [IPV6][:PORT]");
		c->advertise = keep(val);
	} else if (!strcmp(key, "keep-on-exit")) {
		if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1"))
			c->keep_on_exit = true;
		else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0"))
			c->keep_on_exit = false;
		else
			return bad(key, val, "is not yes or no");
	} else if (!strcmp(key, "force")) {
		if (!strcmp(val, "yes") || !strcmp(val, "true") || !strcmp(val, "1"))
			c->force = true;
		else if (!strcmp(val, "no") || !strcmp(val, "false") || !strcmp(val, "0"))
			c->force = false;
		else
			return bad(key, val, "is not yes or no");
	} else {
		snprintf(conf_err, sizeof(conf_err), "unknown setting '%s'", key);
		return -EINVAL;
	}
	return 0;
}

static int file_set(const char *key, const char *val, void *arg)
{
	if (!strcmp(key, "config") || !strcmp(key, "help") || !strcmp(key, "version")) {
		snprintf(conf_err, sizeof(conf_err), "'%s' cannot be set in a config file", key);
		return -EINVAL;
	}
	return conf_set(arg, key, val);
}

int nd_conf_parse(struct nd_conf *c, int argc, char **argv, bool *help)
{
	struct { const char *key, *val; } *flags;
	size_t nflags = 0;
	bool addr_flag = false, deny_flag = false, allow_flag = false;
	int ch, idx, rc = ND_EXIT_USAGE;

	memset(c, 0, sizeof(*c));
	conf_err[0] = '\0';
	c->control_port = 4433;
	c->media_port = 3478;
	c->pin_dir = NT_PIN_DIR_DEFAULT;
	c->xdp_mode = NT_XDP_NATIVE;
	c->max_mappings = 65536;
	c->max_groups = 4096;
	c->max_members = NT_GROUP_MEMBERS_DEFAULT;
	c->max_pps = 2000;
	c->burst = 200;
	c->max_connections = 1024;
	c->max_unauth_per_source = 8;
	c->auth_timeout_s = 10;
	c->max_sessions_per_user = 4;
	c->max_groups_per_user = 4;
	c->max_token_ttl_s = 7 * 86400;
	c->consent_s = 30;
	c->log_level = NT_LOG_INFO;
	c->ctl_socket = NT_CTL_SOCKET_DEFAULT;
	c->turn.realm = "nattrav";
	c->turn.port_min = 49152;
	c->turn.port_max = 65535;
	c->turn.max_allocations = 1024;
	c->turn.max_per_user = 16;
	c->turn.max_lifetime_s = 3600;
	c->turn.tcp_port = ND_TURN_TCP_MEDIA_PORT;
	c->turn.max_tcp = 256;
	c->turn.tls_port = 5349;
	*help = false;

	flags = calloc((size_t)argc + 1, sizeof(*flags));
	if (!flags)
		return ND_EXIT_FAIL;
	opterr = 0;
	optind = 0; /* full getopt re-init: SIGHUP parses argv again */
	while ((ch = getopt_long(argc, argv, ":hV", opts, &idx)) != -1) {
		if (ch == 'h' || ch == 'V') {
			if (ch == 'h')
				nd_usage(stdout);
			else
				printf("nattravd %s\n", NT_VERSION);
			*help = true;
			rc = 0;
			goto out;
		}
		if (ch == '?') {
			fprintf(stderr, "nattravd: unknown option '%s' (see --help)\n", argv[optind - 1]);
			goto out;
		}
		if (ch == ':') {
			fprintf(stderr, "nattravd: option '%s' needs a value\n", argv[optind - 1]);
			goto out;
		}
		flags[nflags].key = opts[idx].name;
		flags[nflags].val = optarg ? optarg : "yes";
		if (!strcmp(opts[idx].name, "config"))
			c->config = optarg;
		nflags++;
	}
	if (optind != argc) {
		fprintf(stderr, "nattravd: unexpected argument '%s' (see --help)\n", argv[optind]);
		goto out;
	}
	/* the packaged file is read when present; "--config none" skips it */
	if (!c->config && !access(ND_CONFIG_DEFAULT, F_OK))
		c->config = ND_CONFIG_DEFAULT;
	if (c->config && !strcmp(c->config, "none"))
		c->config = NULL;
	if (c->config) {
		unsigned int line = 0;
		int err = nt_conf_load(c->config, file_set, c, &line);

		if (err && line) {
			fprintf(stderr, "nattravd: %s line %u: %s\n", c->config, line,
				conf_err[0] ? conf_err :
				err == -EMSGSIZE ? "line too long" : "not a 'key = value' setting");
			goto out;
		}
		if (err) {
			fprintf(stderr, "nattravd: cannot read config file %s: %s\n", c->config,
				strerror(-err));
			goto out;
		}
	}
	for (size_t i = 0; i < nflags; i++) {
		const char *k = flags[i].key;

		if (!strcmp(k, "config"))
			continue;
		/* a repeatable flag replaces the file's whole list */
		if (!strcmp(k, "addr") && !addr_flag) {
			addr_flag = true;
			c->have_v4 = c->have_v6 = false;
		}
		if (!strcmp(k, "deny") && !deny_flag) {
			deny_flag = true;
			c->deny.n = 0;
		}
		if (!strcmp(k, "allow") && !allow_flag) {
			allow_flag = true;
			c->deny.allow.n = 0;
		}
		if (conf_set(c, k, flags[i].val)) {
			fprintf(stderr, "nattravd: --%s\n", conf_err);
			goto out;
		}
	}
	if (!c->iface || !c->cert || !c->key || !c->secret_file) {
		fprintf(stderr, "nattravd: --iface, --cert, --key and --auth-secret-file are required (see --help)\n");
		goto out;
	}
	if (!c->max_unauth)
		c->max_unauth = c->max_connections > 1 ? c->max_connections / 2 : 1;
	if (c->max_unauth > c->max_connections) {
		fprintf(stderr, "nattravd: --max-unauth %u is more than --max-connections %u\n",
			c->max_unauth, c->max_connections);
		goto out;
	}
	if (c->turn.secret_file &&
	    ((c->media_port >= c->turn.port_min && c->media_port <= c->turn.port_max) ||
	     (c->control_port >= c->turn.port_min && c->control_port <= c->turn.port_max))) {
		fprintf(stderr, "nattravd: --turn-ports %u-%u holds the media or control port\n",
			c->turn.port_min, c->turn.port_max);
		goto out;
	}
	rc = 0;
out:
	free(flags);
	return rc;
}

void nd_conf_free(struct nd_conf *c)
{
	nt_deny_free(&c->deny);
}

/* The strings of every parse, the running one's included: freed at exit only. */
void nd_conf_strings_free(void)
{
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	owned = NULL;
	nowned = 0;
}
