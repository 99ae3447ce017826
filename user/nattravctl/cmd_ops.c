// SPDX-License-Identifier: GPL-2.0
/*
 * status / kick. status reads the maps and the interfaces itself, and asks
 * nattravd (control socket) for what only the daemon knows: uptime,
 * sessions. kick needs the daemon: it ends a session or drops a mapping
 * and tells the client.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "nt_ctlproto.h"
#include "nt_json.h"
#include "nt_num.h"

struct map_counts {
	unsigned mappings, statics, fanout, groups;
};

static int count_one(const struct nt_endpoint *src, const struct nt_mapping *v, void *arg)
{
	struct map_counts *c = arg;

	(void)src;
	c->mappings++;
	c->statics += !!(v->flags & NT_MAPPING_F_STATIC);
	c->fanout += !!(v->flags & NT_MAPPING_F_FANOUT);
	return 0;
}

static void count_maps(const struct nt_maps *m, struct map_counts *c)
{
	__u32 key, next, *prev = NULL;

	memset(c, 0, sizeof(*c));
	nt_maps_for_each_mapping(m, count_one, c);
	while (bpf_map_get_next_key(m->groups_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		c->groups++;
	}
}

static const char *get(const char *reply, const char *key, char *buf)
{
	const char *v = ctl_reply_get(reply, key, buf, 64);

	return v ? v : "?";
}

/* A field of the daemon's reply: a string, or null when the daemon did not send it. */
static void json_reply_str(struct nt_json *j, const char *reply, const char *key)
{
	char b[64];

	nt_json_kstr(j, key, ctl_reply_get(reply, key, b, sizeof(b)));
}

/* A count of the daemon's reply: a number, or null when missing or not a number. */
static void json_reply_u64(struct nt_json *j, const char *reply, const char *key,
			   const char *name)
{
	char b[64];
	uint64_t v;

	if (ctl_reply_get(reply, key, b, sizeof(b)) && !nt_parse_u64(b, 0, UINT64_MAX, &v))
		nt_json_ku64(j, name, v);
	else
		nt_json_knull(j, name);
}

static void status_json(const struct ctl *ctl, const char *reply, bool up, int derr,
			const struct ctl_attach *a, bool maps, const struct nt_config *cfg,
			const char *v4, const char *v6, const struct map_counts *mc)
{
	struct nt_json j;
	char errb[200];

	nt_json_begin(&j, stdout);
	nt_json_obj(&j);
	nt_json_key(&j, "daemon");
	nt_json_obj(&j);
	nt_json_kbool(&j, "up", up);
	if (up) {
		json_reply_str(&j, reply, "version");
		json_reply_u64(&j, reply, "pid", "pid");
		json_reply_u64(&j, reply, "uptime", "uptime_s");
		json_reply_str(&j, reply, "iface");
		json_reply_str(&j, reply, "xdp");
		json_reply_u64(&j, reply, "sessions", "sessions");
		json_reply_u64(&j, reply, "groups", "groups");
		json_reply_u64(&j, reply, "mappings", "mappings");
		json_reply_u64(&j, reply, "connections", "connections");
		json_reply_str(&j, reply, "metrics");
		{
			char b[64];

			nt_json_kbool(&j, "draining",
				      !strcmp(ctl_reply_get(reply, "draining", b, sizeof(b)) ?: "0", "1"));
		}
		json_reply_str(&j, reply, "relay_id");
	} else {
		nt_json_kstr(&j, "error", ctl_sock_errstr(ctl, derr, errb, sizeof(errb)));
	}
	nt_json_obj_end(&j);
	nt_json_kstr(&j, "iface", a->ifindex ? a->iface : "");
	nt_json_ki64(&j, "ifindex", a->ifindex);
	nt_json_kstr(&j, "xdp_mode", a->ifindex ? a->mode : "none");
	nt_json_ku64(&j, "xdp_prog_id", a->xdp_prog_id);
	nt_json_ku64(&j, "tc_prog_id", a->tc_prog_id);
	nt_json_kstr(&j, "pin_dir", ctl->pin_dir);
	nt_json_kbool(&j, "maps", maps);
	if (maps) {
		nt_json_kstr(&j, "relay_v4", v4);
		nt_json_kstr(&j, "relay_v6", v6);
		nt_json_ku64(&j, "media_port", cfg->media_port);
		nt_json_ku64(&j, "map_mappings", mc->mappings);
		nt_json_ku64(&j, "map_static", mc->statics);
		nt_json_ku64(&j, "map_fanout", mc->fanout);
		nt_json_ku64(&j, "fanout_groups", mc->groups);
	}
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

static void print_uptime(unsigned long long s)
{
	if (s >= 86400)
		printf("%llud%02lluh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		printf("%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		printf("%llum%02llus", s / 60, s % 60);
}

int ctl_status(struct ctl *ctl, int argc, char **argv)
{
	char reply[NT_CTL_REPLY_MAX], b[12][64], errb[200];
	char v4[INET_ADDRSTRLEN] = "-", v6[INET6_ADDRSTRLEN] = "-";
	struct ctl_attach a = { 0 };
	struct map_counts mc = { 0 };
	struct nt_config cfg = { 0 };
	struct nt_maps m;
	bool up, maps;
	int derr;

	if (argc > 1)
		return ctl_error(CTL_EXIT_USAGE, "status takes no arguments");
	derr = ctl_request(ctl, "STATUS", reply, sizeof(reply));
	up = !derr && !strncmp(reply, "OK STATUS ", 10);
	if (!derr && !up)
		derr = -EPROTO;
	maps = !nt_maps_open(&m, ctl->pin_dir);
	if (!up && !maps)
		return ctl_error(CTL_EXIT_FAIL, "%s, and no nattrav maps are pinned under %s",
				 ctl_sock_errstr(ctl, derr, errb, sizeof(errb)), ctl->pin_dir);
	if (maps) {
		ctl_find_attach(&m, &a);
		count_maps(&m, &mc);
		if (!nt_maps_get_config(&m, &cfg)) {
			if (cfg.relay_v4[0] || cfg.relay_v4[3])
				inet_ntop(AF_INET, cfg.relay_v4, v4, sizeof(v4));
			if (memcmp(cfg.relay_v6, (char[16]){ 0 }, 16))
				inet_ntop(AF_INET6, cfg.relay_v6, v6, sizeof(v6));
		}
		nt_maps_close(&m);
	}
	if (ctl->json) {
		status_json(ctl, reply, up, derr, &a, maps, &cfg, v4, v6, &mc);
		return 0;
	}
	if (up) {
		unsigned long long upt = 0;
		bool draining = !strcmp(get(reply, "draining", b[8]), "1");

		sscanf(get(reply, "uptime", b[0]), "%llu", &upt);
		printf("daemon     up ");
		print_uptime(upt);
		printf(", pid %s, nattrav %s: %s sessions, %s groups, %s mappings, %s connections\n",
		       get(reply, "pid", b[1]), get(reply, "version", b[2]),
		       get(reply, "sessions", b[3]), get(reply, "groups", b[4]),
		       get(reply, "mappings", b[5]), get(reply, "connections", b[6]));
		if (strcmp(get(reply, "relay_id", b[7]), "none") || draining)
			printf("fleet      relay %s%s\n", b[7], draining ? ", draining: no new groups" : "");
	} else {
		printf("daemon     down: %s (what follows is read from the maps alone)\n",
		       ctl_sock_errstr(ctl, derr, errb, sizeof(errb)));
	}
	if (a.ifindex)
		printf("interface  %s (ifindex %d): XDP %s, program id %u; TC fan-out %s%u\n", a.iface,
		       a.ifindex, a.mode, a.xdp_prog_id, a.tc_prog_id ? "program id " : "not attached",
		       a.tc_prog_id);
	else if (up && !strcmp(get(reply, "xdp", b[0]), "off"))
		printf("interface  %s: no XDP program, nattravd forwards media in userspace\n",
		       get(reply, "iface", b[1]));
	else
		printf("interface  none: the XDP program is attached to no interface of this namespace\n");
	if (maps) {
		printf("relay      %s%s%s, media port %u, fib %s\n", strcmp(v4, "-") ? v4 : "",
		       strcmp(v4, "-") && strcmp(v6, "-") ? " " : "", strcmp(v6, "-") ? v6 : "",
		       cfg.media_port, cfg.flags & NT_CONFIG_F_NO_FIB ? "off" : "on");
		printf("maps       %s: %u mappings (%u static, %u fan-out), %u fan-out groups\n",
		       ctl->pin_dir, mc.mappings, mc.statics, mc.fanout, mc.groups);
	} else {
		printf("maps       none pinned under %s\n", ctl->pin_dir);
	}
	if (up)
		printf("metrics    %s\n", get(reply, "metrics", b[0]));
	return 0;
}

int ctl_kick(struct ctl *ctl, int argc, char **argv)
{
	char line[NT_CTL_LINE_MAX + 1], reply[NT_CTL_REPLY_MAX], errb[200], b[3][64];
	struct nt_ctl_req r;
	const char *what, *arg, *why = NULL;
	int err;

	if (argc == 3 && (!strcasecmp(argv[1], "mapping") || !strcasecmp(argv[1], "session"))) {
		what = !strcasecmp(argv[1], "mapping") ? "MAPPING" : "SESSION";
		arg = argv[2];
	} else if (argc == 2) {
		arg = argv[1];
		what = strchr(arg, ':') ? "MAPPING" : "SESSION";
	} else {
		return ctl_error(CTL_EXIT_USAGE, "usage: kick [mapping] ADDR:PORT | kick [session] HEXID");
	}
	snprintf(line, sizeof(line), "KICK %s %s", what, arg);
	/* the same parser as the daemon's: a typo is caught here, with the reason */
	if (nt_ctl_parse(line, strlen(line), &r, &why))
		return ctl_error(CTL_EXIT_USAGE, "kick %s: %s", arg, why);
	err = ctl_request(ctl, line, reply, sizeof(reply));
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "%s", ctl_sock_errstr(ctl, err, errb, sizeof(errb)));
	if (strncmp(reply, "OK ", 3))
		return ctl_error(CTL_EXIT_FAIL, "nattravd refused: %s",
				 !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
	if (ctl->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "kicked", r.cmd == NT_CTL_KICK_MAPPING ? "mapping" : "session");
		if (ctl_reply_get(reply, "mapping", b[0], 64))
			nt_json_kstr(&j, "mapping", b[0]);
		json_reply_str(&j, reply, "session");
		nt_json_kstr(&j, "user", ctl_reply_get(reply, "user", b[2], 64) ? b[2] : "");
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else if (r.cmd == NT_CTL_KICK_MAPPING) {
		printf("mapping %s removed (session %s%s%s); the client was told\n",
		       get(reply, "mapping", b[0]), get(reply, "session", b[1]),
		       ctl_reply_get(reply, "user", b[2], 64) ? ", user " : "",
		       ctl_reply_get(reply, "user", b[2], 64) ? b[2] : "");
	} else {
		printf("session %s of user %s ended; the client was told and disconnected\n",
		       get(reply, "session", b[0]), get(reply, "user", b[1]));
	}
	return 0;
}
