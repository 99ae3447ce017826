// SPDX-License-Identifier: GPL-2.0
/*
 * An upgrade from the maps an older nattravd pinned (bpf/nt_layout1.bpf.c:
 * ports in network byte order, times on CLOCK_MONOTONIC, counters an array
 * by reason) to today's (ports as their numbers, times on CLOCK_BOOTTIME,
 * counters by name): nt_xdp_load over those pins converts every entry, keys
 * included, so that the mappings still match the packets and bpftool shows
 * the truth. Pins go to a folder of this test's own under /sys/fs/bpf.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nt_layout1.skel.h"
#include "nt_bpf.h"
#include "nt_endpoint.h"

static char pins[64];

static __u64 clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (__u64)t.tv_sec * 1000000000ull + (__u64)t.tv_nsec;
}

/* a converted time: old + the clocks' difference, read apart by a few microseconds */
#define assert_time(got, want, ...) \
	cr_assert((got) + 1000000ull > (want) && (got) < (want) + 1000000ull, __VA_ARGS__)

static void rm_pins(void)
{
	DIR *d = opendir(pins);
	struct dirent *e;
	char p[sizeof(pins) + 260];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", pins, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(pins);
}

/* The old layout's endpoint: the port in network byte order. */
static struct nt_endpoint old_ep(const char *s)
{
	struct nt_endpoint ep;

	cr_assert_eq(nt_endpoint_parse(s, &ep), 0, "%s", s);
	ep.port = htons(ep.port);
	return ep;
}

static struct nt_endpoint ep(const char *s)
{
	struct nt_endpoint e;

	cr_assert_eq(nt_endpoint_parse(s, &e), 0, "%s", s);
	return e;
}

static void setup(void)
{
	snprintf(pins, sizeof(pins), "/sys/fs/bpf/nttest_layout%d", (int)getpid());
	rm_pins();
	cr_assert_eq(mkdir(pins, 0700), 0, "mkdir %s: %s", pins, strerror(errno));
}

TestSuite(upgrade_layout, .init = setup, .fini = rm_pins);

/* Pin the old layout's maps and fill them as an older nattravd would have. */
static void pin_old(__u64 mono)
{
	struct nt_layout1_bpf *o = nt_layout1_bpf__open();
	struct bpf_map *map;
	struct nt_mapping v = { 0 };
	struct nt_endpoint k6 = old_ep("[2001:db8::5]:40000");
	struct nt_key4 k4 = { .addr = { 203, 0, 113, 11 }, .port = 49468 };
	struct nt_config cfg = { .relay_v4 = { 203, 0, 113, 1 }, .media_port = htons(3478) };
	struct nt_fanout_group *g = calloc(1, sizeof(*g));
	struct nt_turn_chan_key ck = { .client = old_ep("198.51.100.7:50123"), .channel = 0x4001 };
	struct nt_turn_peer_key pk = { .relayed = old_ep("203.0.113.1:49200"),
				       .peer = old_ep("192.0.2.9:6000") };
	struct nt_turn_fwd f = { .from = old_ep("203.0.113.1:49200"), .to = old_ep("192.0.2.9:6000"),
				 .channel = 0x4001 };
	int ncpu = libbpf_num_possible_cpus();
	struct nt_counter *pc = calloc((size_t)ncpu, sizeof(*pc));
	char path[160];
	__u32 zero = 0, gid = 7;

	cr_assert(o && g && pc);
	bpf_object__for_each_map(map, o->obj) {
		snprintf(path, sizeof(path), "%s/%s", pins, bpf_map__name(map));
		cr_assert_eq(bpf_map__set_pin_path(map, path), 0);
	}
	cr_assert_eq(nt_layout1_bpf__load(o), 0, "the old layout loads");
	v.peer = old_ep("198.51.100.20:50000");
	v.created_ns = mono - 5000000000ull;
	v.last_seen_ns = mono;
	v.tb_last_ns = mono;
	v.route_expires_ns = NT_ROUTE_DAEMON;
	v.packets = 12;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_mappings4), &k4, &v, 0), 0);
	v.route_expires_ns = mono + 1000000000ull;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_mappings), &k6, &v, 0), 0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_config), &zero, &cfg, 0), 0);
	for (__u32 i = 0; i < NT_STAT_MAX; i++) {
		for (int c = 0; c < ncpu; c++)
			pc[c] = (struct nt_counter){ .packets = i + 1, .bytes = 100 * (i + 1) };
		cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_stats), &i, pc, 0), 0);
	}
	g->n_members = 3;
	g->members[0] = old_ep("10.9.0.1:1001");
	g->members[1] = old_ep("10.9.0.2:1002");
	g->members[2] = old_ep("[2001:db8::3]:1003");
	g->routes[1].ifindex = 1;
	g->routes[1].expires_ns = mono + 2000000000ull;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_groups), &gid, g, 0), 0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_turn_chans), &ck, &f, 0), 0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(o->maps.nt_turn_peers), &pk, &f, 0), 0);
	nt_layout1_bpf__destroy(o); /* the pins stay, as an older nattravd leaves them */
	free(g);
	free(pc);
}

Test(upgrade_layout, old_pins_become_the_new_layout)
{
	__u64 mono = clock_ns(CLOCK_MONOTONIC);
	__u64 delta = clock_ns(CLOCK_BOOTTIME) - mono; /* time spent suspended */
	struct nt_fanout_group *g = calloc(1, sizeof(*g));
	struct nt_counter st[NT_STAT_MAX];
	struct nt_turn_chan_key ck = { .client = ep("198.51.100.7:50123"), .channel = 0x4001 };
	struct nt_turn_peer_key pk = { .relayed = ep("203.0.113.1:49200"),
				       .peer = ep("192.0.2.9:6000") };
	struct nt_endpoint k;
	struct nt_turn_fwd f;
	struct nt_config cfg;
	struct nt_mapping v;
	struct nt_maps m;
	struct nt_xdp *x;
	int ncpu = libbpf_num_possible_cpus();

	cr_assert(g);
	pin_old(mono);
	cr_assert_eq(nt_xdp_load(&x, pins), 0, "nattrav loads over the old pins");
	nt_xdp_maps(x, &m);

	/* the IPv4 sender's mapping: its key did not change, its peer's port did */
	k = ep("203.0.113.11:49468");
	cr_assert_eq(nt_maps_get_mapping(&m, &k, &v), 0, "the IPv4 mapping is there");
	cr_assert_eq(v.peer.port, 50000, "peer port %u, not its number", v.peer.port);
	cr_assert_eq(v.packets, 12);
	assert_time(v.created_ns, mono - 5000000000ull + delta, "created_ns on CLOCK_BOOTTIME");
	assert_time(v.last_seen_ns, mono + delta, "last_seen_ns on CLOCK_BOOTTIME");
	assert_time(v.tb_last_ns, mono + delta, "tb_last_ns on CLOCK_BOOTTIME");
	cr_assert_eq(v.route_expires_ns, NT_ROUTE_DAEMON, "the daemon's next hop never expires");

	/* the IPv6 sender's: the key's port converted, so the packet's sender finds it */
	k = ep("[2001:db8::5]:40000");
	cr_assert_eq(nt_maps_get_mapping(&m, &k, &v), 0, "the IPv6 key has its port's number");
	cr_assert_eq(v.peer.port, 50000);
	assert_time(v.route_expires_ns, mono + 1000000000ull + delta, "route_expires_ns");

	cr_assert_eq(nt_maps_get_config(&m, &cfg), 0);
	cr_assert_eq(cfg.media_port, 3478, "media_port %u", cfg.media_port);

	cr_assert_eq(nt_maps_read_stats(&m, st), 0);
	for (int i = 0; i < NT_STAT_MAX; i++) {
		cr_assert_eq(st[i].packets, (__u64)(i + 1) * (__u64)ncpu, "counter %d folded", i);
		cr_assert_eq(st[i].bytes, (__u64)(100 * (i + 1)) * (__u64)ncpu);
	}

	cr_assert_eq(bpf_map_lookup_elem(m.groups_fd, &(__u32){ 7 }, g), 0);
	cr_assert_eq(g->n_members, 3);
	cr_assert_eq(g->members[0].port, 1001);
	cr_assert_eq(g->members[1].port, 1002);
	cr_assert_eq(g->members[2].port, 1003);
	cr_assert_eq(g->members[2].family, NT_FAMILY_V6);
	assert_time(g->routes[1].expires_ns, mono + 2000000000ull + delta, "expires_ns");
	cr_assert_eq(g->routes[0].expires_ns, 0, "no time stays no time");

	cr_assert_eq(bpf_map_lookup_elem(m.turn_chans_fd, &ck, &f), 0, "TURN channel key converted");
	cr_assert_eq(f.from.port, 49200);
	cr_assert_eq(f.to.port, 6000);
	cr_assert_eq(f.channel, 0x4001);
	cr_assert_eq(bpf_map_lookup_elem(m.turn_peers_fd, &pk, &f), 0, "TURN peer key converted");
	cr_assert_eq(f.to.port, 6000);
	nt_xdp_close(x);
	free(g);
}
