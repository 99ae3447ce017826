// SPDX-License-Identifier: GPL-2.0
/* mappings / stats / config: what the maps hold, for people and for scripts. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "ctl.h"
#include "nt_endpoint.h"

static const char *const stat_names[NT_STAT_MAX] = NT_STAT_NAMES;

static double secs_since(__u64 then_ns)
{
	struct timespec ts;
	__u64 now;

	if (!then_ns)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
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
	unsigned n;
};

static int print_mapping(const struct nt_endpoint *src, const struct nt_mapping *v, void *arg)
{
	struct list_state *st = arg;
	char s[NT_ENDPOINT_STRLEN], p[NT_ENDPOINT_STRLEN];

	nt_endpoint_format(src, s, sizeof(s));
	nt_endpoint_format(&v->peer, p, sizeof(p));
	if (st->json)
		printf("{\"src\":\"%s\",\"peer\":\"%s\",\"group\":%u,\"session\":\"%016llx\","
		       "\"age_s\":%.1f,\"idle_s\":%.1f,\"packets\":%llu,\"bytes\":%llu,\"static\":%s}\n",
		       s, p, v->group_id, (unsigned long long)v->session_id,
		       secs_since(v->created_ns), secs_since(v->last_seen_ns),
		       (unsigned long long)v->packets, (unsigned long long)v->bytes,
		       v->flags & NT_MAPPING_F_STATIC ? "true" : "false");
	else
		printf("%-46s %-46s %6u %8.1f %8.1f %12llu %14llu%s\n", s, p, v->group_id,
		       secs_since(v->created_ns), secs_since(v->last_seen_ns),
		       (unsigned long long)v->packets, (unsigned long long)v->bytes,
		       v->flags & NT_MAPPING_F_STATIC ? " static" : "");
	st->n++;
	return 0;
}

int ctl_mappings(struct ctl *ctl, int argc, char **argv)
{
	struct list_state st = { .json = ctl->json };
	struct nt_maps m;
	int err;

	if (no_args(argc, "mappings"))
		return CTL_EXIT_USAGE;
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	if (!ctl->json)
		printf("%-46s %-46s %6s %8s %8s %12s %14s\n", "SOURCE", "PEER", "GROUP", "AGE_S",
		       "IDLE_S", "PACKETS", "BYTES");
	err = nt_maps_for_each_mapping(&m, print_mapping, &st);
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot read mappings: %s", strerror(-err));
	if (!ctl->json)
		printf("%u mapping%s\n", st.n, st.n == 1 ? "" : "s");
	return 0;
}

int ctl_stats(struct ctl *ctl, int argc, char **argv)
{
	struct nt_counter c[NT_STAT_MAX];
	struct nt_maps m;
	int err;

	if (no_args(argc, "stats"))
		return CTL_EXIT_USAGE;
	if (ctl_open_maps(ctl, &m))
		return CTL_EXIT_FAIL;
	err = nt_maps_read_stats(&m, c);
	nt_maps_close(&m);
	if (err)
		return ctl_error(CTL_EXIT_FAIL, "cannot read counters: %s", strerror(-err));
	if (ctl->json) {
		printf("{");
		for (int i = 0; i < NT_STAT_MAX; i++)
			printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}", i ? "," : "",
			       stat_names[i], (unsigned long long)c[i].packets,
			       (unsigned long long)c[i].bytes);
		printf("}\n");
		return 0;
	}
	printf("%-18s %14s %16s\n", "COUNTER", "PACKETS", "BYTES");
	for (int i = 0; i < NT_STAT_MAX; i++)
		printf("%-18s %14llu %16llu\n", stat_names[i], (unsigned long long)c[i].packets,
		       (unsigned long long)c[i].bytes);
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
	if (ctl->json)
		printf("{\"relay_v4\":\"%s\",\"relay_v6\":\"%s\",\"media_port\":%u,\"fib\":%s}\n", v4,
		       v6, ntohs(cfg.media_port), cfg.flags & NT_CONFIG_F_NO_FIB ? "false" : "true");
	else
		printf("relay_v4   %s\nrelay_v6   %s\nmedia_port %u\nfib        %s\n", v4, v6,
		       ntohs(cfg.media_port), cfg.flags & NT_CONFIG_F_NO_FIB ? "off" : "on");
	return 0;
}
