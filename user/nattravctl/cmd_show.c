// SPDX-License-Identifier: GPL-2.0
/* mappings / stats / config: what the maps hold, for people and for scripts. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ctl.h"
#include "nt_endpoint.h"
#include "nt_json.h"
#include "nt_num.h"

static const char *const stat_names[NT_STAT_MAX] = NT_STAT_NAMES;

static double secs_since(__u64 then_ns)
{
	struct timespec ts;
	__u64 now;

	if (!then_ns)
		return -1;
	clock_gettime(CLOCK_BOOTTIME, &ts); /* the maps' clock */
	now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	return now > then_ns ? (double)(now - then_ns) / 1e9 : 0;
}

static int no_args(int argc, const char *what)
{
	if (argc > 1)
		return ctl_error(CTL_EXIT_USAGE, "%s takes no arguments", what);
	return 0;
}

struct list_state {
	bool json;
	bool xdp;	/* nattrav's XDP program is attached here */
	unsigned n;
};

/* How this mapping's media is relayed: TC copies for fan-out, else XDP if attached. */
static const char *path_of(const struct list_state *st, const struct nt_mapping *v)
{
	if (v->flags & NT_MAPPING_F_FANOUT)
		return "tc";
	return st->xdp ? "xdp" : "userspace";
}

static int print_mapping(const struct nt_endpoint *src, const struct nt_mapping *v, void *arg)
{
	struct list_state *st = arg;
	char s[NT_ENDPOINT_STRLEN], p[NT_ENDPOINT_STRLEN];

	nt_endpoint_format(src, s, sizeof(s));
	nt_endpoint_format(&v->peer, p, sizeof(p));
	if (st->json) {
		struct nt_json j;
		char sid[17];

		snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)v->session_id);
		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "src", s);
		nt_json_kstr(&j, "peer", p);
		nt_json_ku64(&j, "group", v->group_id);
		nt_json_kstr(&j, "session", sid);
		nt_json_kstr(&j, "path", path_of(st, v));
		nt_json_kdouble(&j, "age_s", secs_since(v->created_ns), 1);
		nt_json_kdouble(&j, "idle_s", secs_since(v->last_seen_ns), 1);
		nt_json_ku64(&j, "packets", v->packets);
		nt_json_ku64(&j, "bytes", v->bytes);
		nt_json_kbool(&j, "static", v->flags & NT_MAPPING_F_STATIC);
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else
		printf("%-46s %-46s %6u %-9s %8.1f %8.1f %12llu %14llu%s\n", s, p, v->group_id,
		       path_of(st, v), secs_since(v->created_ns), secs_since(v->last_seen_ns),
		       (unsigned long long)v->packets, (unsigned long long)v->bytes,
		       v->flags & NT_MAPPING_F_STATIC ? " static" : "");
	st->n++;
	return 0;
}

int ctl_mappings(struct ctl *ctl, int argc, char **argv)
{
	struct list_state st = { .json = ctl->json };
	struct ctl_attach a;
	struct nt_maps m;
	int err;

	if (no_args(argc, "mappings"))
		return CTL_EXIT_USAGE;
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	st.xdp = !ctl_find_attach(&m, &a);
	if (!ctl->json)
		printf("%-46s %-46s %6s %-9s %8s %8s %12s %14s\n", "SOURCE", "PEER", "GROUP", "PATH",
		       "AGE_S", "IDLE_S", "PACKETS", "BYTES");
	err = nt_maps_for_each_mapping(&m, print_mapping, &st);
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot read mappings: %s", strerror(-err));
	if (!ctl->json)
		printf("%u mapping%s\n", st.n, st.n == 1 ? "" : "s");
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_stats(const struct ctl *ctl, const struct nt_counter *c,
			const struct nt_counter *prev, double dt, unsigned round)
{
	bool rates = prev && dt > 0;

	if (ctl->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		if (prev) {
			nt_json_ku64(&j, "round", round);
			nt_json_kdouble(&j, "interval_s", dt, 3);
		}
		for (int i = 0; i < NT_STAT_MAX; i++) {
			nt_json_key(&j, stat_names[i]);
			nt_json_obj(&j);
			nt_json_ku64(&j, "packets", c[i].packets);
			nt_json_ku64(&j, "bytes", c[i].bytes);
			if (rates) {
				nt_json_kdouble(&j, "pps", (double)(c[i].packets - prev[i].packets) / dt, 1);
				nt_json_kdouble(&j, "bps", (double)(c[i].bytes - prev[i].bytes) * 8 / dt, 1);
			}
			nt_json_obj_end(&j);
		}
		nt_json_obj_end(&j);
		nt_json_end(&j);
		return;
	}
	if (prev)
		printf("%-18s %14s %16s %12s %14s\n", "COUNTER", "PACKETS", "BYTES", "PKT/S", "BIT/S");
	else
		printf("%-18s %14s %16s\n", "COUNTER", "PACKETS", "BYTES");
	for (int i = 0; i < NT_STAT_MAX; i++) {
		printf("%-18s %14llu %16llu", stat_names[i], (unsigned long long)c[i].packets,
		       (unsigned long long)c[i].bytes);
		if (rates)
			printf(" %12.1f %14.1f", (double)(c[i].packets - prev[i].packets) / dt,
			       (double)(c[i].bytes - prev[i].bytes) * 8 / dt);
		else if (prev)
			printf(" %12s %14s", "-", "-");
		printf("\n");
	}
}

/* stats [--watch [SECONDS]] [--count N] */
int ctl_stats(struct ctl *ctl, int argc, char **argv)
{
	struct nt_counter c[NT_STAT_MAX], prev[NT_STAT_MAX];
	uint32_t interval = 1, count = 0;
	bool watch = false, tty = isatty(STDOUT_FILENO);
	double t, last = 0;
	struct nt_maps m;
	int err = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--watch")) {
			watch = true;
			if (i + 1 < argc && isdigit((unsigned char)argv[i + 1][0]) &&
			    nt_parse_u32(argv[++i], 1, 3600, &interval))
				return ctl_error(CTL_EXIT_USAGE, "--watch: '%s' is not 1..3600 seconds", argv[i]);
		} else if (!strncmp(argv[i], "--watch=", 8)) {
			watch = true;
			if (nt_parse_u32(argv[i] + 8, 1, 3600, &interval))
				return ctl_error(CTL_EXIT_USAGE, "--watch: '%s' is not 1..3600 seconds", argv[i] + 8);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			if (nt_parse_u32(argv[++i], 1, UINT32_MAX, &count))
				return ctl_error(CTL_EXIT_USAGE, "--count: '%s' is not a positive number", argv[i]);
		} else {
			return ctl_error(CTL_EXIT_USAGE, "usage: stats [--watch [SECONDS]] [--count N]");
		}
	}
	if (count && !watch)
		watch = true;
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	for (unsigned round = 1;; round++) {
		err = nt_maps_read_stats(&m, c);
		t = now_s();
		if (err)
			break;
		if (!watch) {
			print_stats(ctl, c, NULL, 0, round);
			break;
		}
		/* a terminal is redrawn in place; a pipe or file gets one block per round */
		if (tty && !ctl->json)
			printf("\033[H\033[2J");
		if (!ctl->json)
			printf("nattrav counters under %s, every %u s (round %u)\n", ctl->pin_dir, interval,
			       round);
		print_stats(ctl, c, round > 1 ? prev : NULL, t - last, round);
		if (!ctl->json && !tty)
			printf("\n");
		fflush(stdout);
		if (count && round >= count)
			break;
		memcpy(prev, c, sizeof(prev));
		last = t;
		sleep(interval);
	}
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot read counters: %s", strerror(-err));
	return 0;
}

int ctl_config(struct ctl *ctl, int argc, char **argv)
{
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	struct nt_config cfg;
	struct nt_maps m;
	int err;

	if (no_args(argc, "config"))
		return CTL_EXIT_USAGE;
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	err = nt_maps_get_config(&m, &cfg);
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot read config: %s", strerror(-err));
	inet_ntop(AF_INET, cfg.relay_v4, v4, sizeof(v4));
	inet_ntop(AF_INET6, cfg.relay_v6, v6, sizeof(v6));
	if (ctl->json) {
		struct nt_json j;

		nt_json_begin(&j, stdout);
		nt_json_obj(&j);
		nt_json_kstr(&j, "relay_v4", v4);
		nt_json_kstr(&j, "relay_v6", v6);
		nt_json_ku64(&j, "media_port", cfg.media_port);
		nt_json_kbool(&j, "fib", !(cfg.flags & NT_CONFIG_F_NO_FIB));
		nt_json_obj_end(&j);
		nt_json_end(&j);
	} else
		printf("relay_v4   %s\nrelay_v6   %s\nmedia_port %u\nfib        %s\n", v4, v6,
		       cfg.media_port, cfg.flags & NT_CONFIG_F_NO_FIB ? "off" : "on");
	return 0;
}
