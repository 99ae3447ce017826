// SPDX-License-Identifier: GPL-2.0
/*
 * The TC fan-out program through bpf_prog_test_run_opts. Its clones really
 * leave through bpf_clone_redirect: out of veth nt0 in a namespace of the
 * test's own, caught on the peer nt1 with a packet socket. The last member's
 * copy is the packet itself, redirected (TC_ACT_REDIRECT, which a test run
 * reports but does not carry out): it is the run's output. Each copy is
 * compared byte for byte with the frame the rewrite must produce (checksums
 * recomputed from scratch).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "xdp_harness.h"

#define GROUP_ID 9
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

struct fan_case {
	int family;
	int receivers;
	bool zero_csum;
	bool fib; /* forwarding on and neighbours known: MACs from the FIB */
	bool daemon; /* forwarding off, MACs from the daemon's next hops (NT_ROUTE_DAEMON) */
};

static struct fan_case cases[] = {
	{ 4, 1, false, true, false },  { 4, 2, false, true, false },  { 4, 5, false, true, false },
	{ 6, 1, false, true, false },  { 6, 2, false, true, false },  { 6, 5, false, true, false },
	{ 4, 5, true, true, false },   { 4, 2, false, false, false }, { 6, 2, false, false, false },
	{ 4, 3, false, false, true },  { 6, 2, false, false, true },
};

/* what the daemon resolved for member i, and the egress port's MAC */
static void daemon_mac(int i, uint8_t mac[6])
{
	memcpy(mac, (uint8_t[]){ 2, 0, 0, 0, 0, (uint8_t)(0x60 + i) }, 6);
}

static const uint8_t daemon_smac[6] = { 2, 0, 0, 0, 0, 0x55 };

ParameterizedTestParameters(fanout, copies)
{
	return cr_make_param_array(struct fan_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static void member(int family, int i, struct nt_endpoint *ep)
{
	char s[64];

	if (family == 4)
		snprintf(s, sizeof(s), "198.51.100.%d:%d", 20 + i, 50000 + i);
	else
		snprintf(s, sizeof(s), "[2001:db8:2::%d]:%d", 20 + i, 50000 + i);
	cr_assert_eq(nt_endpoint_parse(s, ep), 0);
}

static void member_mac(int i, uint8_t mac[6])
{
	memcpy(mac, (uint8_t[]){ 2, 0, 0, 0, 0, (uint8_t)(0x20 + i) }, 6);
}

static void make_net(const struct fan_case *c)
{
	char cmd[256];

	sh("ip link add nt0 address 02:00:00:00:00:01 type veth peer name nt1 address 02:00:00:00:00:02 &&"
	   "sysctl -qw net.ipv6.conf.all.disable_ipv6=0 &&"
	   "ip link set nt0 up && ip link set nt1 up && ip link set lo up &&"
	   "ip addr add 198.51.100.1/24 dev nt0 && ip addr add 2001:db8:2::1/64 dev nt0 nodad");
	if (!c->fib)
		return;
	sh("sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1");
	for (int i = 0; i <= c->receivers; i++) {
		snprintf(cmd, sizeof(cmd),
			 "ip neigh add %s%d lladdr 02:00:00:00:00:%02x dev nt0 nud permanent",
			 c->family == 4 ? "198.51.100." : "2001:db8:2::", 20 + i, 0x20 + i);
		sh(cmd);
	}
}

static int capture_socket(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));

	cr_assert_geq(fd, 0);
	sll.sll_ifindex = (int)if_nametoindex("nt1");
	cr_assert_eq(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* UDP frames to a member port that arrive on nt1 within a short while. */
static int collect(int fd, uint8_t frames[][PKT_MAX], size_t *lens, int max)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = 0;

	while (n < max && poll(&p, 1, 300) > 0) {
		ssize_t r = recv(fd, frames[n], PKT_MAX, 0);
		struct pkt_view v;

		if (r <= 0)
			break;
		/* keep UDP from relay:3478 only: neighbour discovery and such is noise */
		if (!pkt_parse(frames[n], (size_t)r, &v) ||
		    frames[n][v.l3 + (v.family == NT_FAMILY_V4 ? 9 : 6)] != 17 ||
		    ((frames[n][v.l4] << 8) | frames[n][v.l4 + 1]) != 3478)
			continue;
		lens[n++] = (size_t)r;
	}
	return n;
}

ParameterizedTest(struct fan_case *c, fanout, copies)
{
	static uint8_t frames[8][PKT_MAX], out[PKT_MAX];
	static const uint8_t payload[40] = { 0x80, 0x60, 0, 1, 'f', 'a', 'n' };
	uint8_t in[PKT_MAX], want[PKT_MAX], relay_mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct __sk_buff ctx = {};
	struct nt_fanout_group g = {};
	struct nt_config cfg = { .media_port = 3478 };
	struct nt_counter st[NT_STAT_MAX];
	struct nt_mapping m = { .group_id = GROUP_ID, .flags = NT_MAPPING_F_FANOUT };
	struct nt_fanout_group after;
	struct nt_endpoint relay;
	struct pkt_spec s = { .payload = payload, .payload_len = sizeof(payload) };
	struct harness h;
	size_t lens[8], len;
	int fd, n, key = GROUP_ID;

	cr_assert_eq(harness_open(&h, true), 0);
	make_net(c);
	fd = capture_socket();

	cr_assert_eq(nt_endpoint_parse(c->family == 4 ? "203.0.113.1:3478" : "[2001:db8::1]:3478",
				       &relay), 0);
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	inet_pton(AF_INET6, "2001:db8::1", cfg.relay_v6);
	/* the daemon's next hops win over NO_FIB's bounce, as in XDP */
	if (c->daemon)
		cfg.flags = NT_CONFIG_F_NO_FIB;
	cr_assert_eq(nt_maps_set_config(&h.maps, &cfg), 0);
	/* member 0 is the sender: it must get nothing back */
	g.n_members = (__u32)c->receivers + 1;
	for (int i = 0; i <= c->receivers; i++) {
		member(c->family, i, &g.members[i]);
		if (c->daemon) {
			daemon_mac(i, g.routes[i].dmac);
			memcpy(g.routes[i].smac, daemon_smac, 6);
			g.routes[i].ifindex = if_nametoindex("nt0");
			g.routes[i].expires_ns = NT_ROUTE_DAEMON;
		}
	}
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(h.skel->maps.nt_groups), &key, &g, 0), 0);
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &g.members[0], &m), 0);

	s.src = g.members[0];
	s.dst = relay;
	s.zero_udp_csum = c->zero_csum;
	memcpy(s.src_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x20 }, 6);
	memcpy(s.dst_mac, relay_mac, 6);
	len = pkt_build(&s, in, sizeof(in));

	ctx.ifindex = ctx.ingress_ifindex = if_nametoindex("nt0");
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(h.skel->progs.nt_tc_fanout), &opts), 0);
	cr_assert_eq(opts.retval, TC_ACT_REDIRECT, "the last copy is the packet, redirected");
	cr_assert_eq(opts.data_size_out, len);

	n = collect(fd, frames, lens, 8);
	cr_assert_eq(n, c->receivers - 1, "%d clones arrived, want %d", n, c->receivers - 1);
	memcpy(frames[n], out, len);
	lens[n++] = len;
	for (int i = 0; i < n; i++) {
		struct pkt_spec w = s;

		w.src = relay;
		member(c->family, i + 1, &w.dst);
		w.ttl = 63;
		memcpy(w.src_mac, relay_mac, 6);
		if (c->daemon) {
			daemon_mac(i + 1, w.dst_mac);
			memcpy(w.src_mac, daemon_smac, 6);
		} else if (c->fib)
			member_mac(i + 1, w.dst_mac);
		else /* no FIB answer: back to the sender's next hop */
			memcpy(w.dst_mac, s.src_mac, 6);
		cr_assert_eq(pkt_build(&w, want, sizeof(want)), lens[i]);
		cr_assert(pkt_sums_ok(frames[i], lens[i], c->zero_csum), "copy %d: checksums", i);
		cr_assert_arr_eq(frames[i], want, lens[i], "copy %d differs", i);
	}
	cr_assert_eq(nt_maps_get_group(&h.maps, GROUP_ID, &after), 0);
	cr_assert_eq(after.packets_in, 1);
	cr_assert_eq(after.copies_out, (__u64)c->receivers);
	cr_assert_eq(after.delivered[0], 0, "the sender got its own packet");
	for (int i = 1; i <= c->receivers; i++)
		cr_assert_eq(after.delivered[i], 1);
	cr_assert_eq(nt_maps_read_stats(&h.maps, st), 0);
	cr_assert_eq(st[NT_STAT_FANOUT_COPIES].packets, (__u64)c->receivers);
	close(fd);
	harness_close(&h);
}

/* Media of a plain two-member mapping is none of the TC program's business. */
Test(fanout, ignores_non_fanout_mappings)
{
	uint8_t in[PKT_MAX];
	struct nt_config cfg = { .media_port = 3478 };
	struct nt_mapping m = {};
	struct pkt_spec s = { .payload = (const uint8_t *)"\x80\x60xx", .payload_len = 4 };
	struct harness h;
	size_t len;

	cr_assert_eq(harness_open(&h, true), 0);
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	cr_assert_eq(nt_maps_set_config(&h.maps, &cfg), 0);
	cr_assert_eq(nt_endpoint_parse("198.51.100.20:50000", &s.src), 0);
	cr_assert_eq(nt_endpoint_parse("203.0.113.1:3478", &s.dst), 0);
	m.peer = s.src;
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s.src, &m), 0);
	len = pkt_build(&s, in, sizeof(in));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len, .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(h.skel->progs.nt_tc_fanout), &opts), 0);
	cr_assert_eq(opts.retval, 0 /* TC_ACT_OK */);
	harness_close(&h);
}

/*
 * The test network, the relay's config and group GROUP_ID of g's members,
 * member 0 the sender; returns the capture socket on nt1.
 */
static int group_setup(struct harness *h, const struct fan_case *c,
		       const struct nt_fanout_group *g, int *gfd)
{
	struct nt_config cfg = { .media_port = 3478 };
	struct nt_mapping m = { .group_id = GROUP_ID, .flags = NT_MAPPING_F_FANOUT };
	int key = GROUP_ID;

	cr_assert_eq(harness_open(h, true), 0);
	make_net(c);
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
	*gfd = bpf_map__fd(h->skel->maps.nt_groups);
	cr_assert_eq(bpf_map_update_elem(*gfd, &key, g, 0), 0);
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &g->members[0], &m), 0);
	return capture_socket();
}

/* One media packet from member 0 through the TC program; the clones caught on nt1. */
static int send_one(struct harness *h, const struct nt_fanout_group *g, int fd,
		    uint8_t frames[][PKT_MAX], size_t *lens, int want)
{
	static const uint8_t payload[8] = { 0x80, 0x60, 0, 2 };
	struct pkt_spec s = { .payload = payload, .payload_len = sizeof(payload) };
	struct __sk_buff ctx = {};
	uint8_t in[PKT_MAX];
	size_t len;

	s.src = g->members[0];
	cr_assert_eq(nt_endpoint_parse("203.0.113.1:3478", &s.dst), 0);
	memcpy(s.src_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x20 }, 6);
	memcpy(s.dst_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 6);
	len = pkt_build(&s, in, sizeof(in));
	ctx.ifindex = ctx.ingress_ifindex = if_nametoindex("nt0");
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(h->skel->progs.nt_tc_fanout), &opts), 0);
	cr_assert_eq(opts.retval, want);
	return collect(fd, frames, lens, 8);
}

/*
 * The FIB's answer is kept per member: a neighbour that changes is seen
 * once the cache is rewritten (userspace writes zeros), not per copy.
 */
Test(fanout, caches_routes_per_member)
{
	static uint8_t frames[8][PKT_MAX];
	static const struct fan_case c = { 4, 3, false, true, false };
	struct nt_fanout_group g = { .n_members = 4 }, after;
	uint8_t mac[6];
	struct harness h;
	size_t lens[8];
	int fd, gfd, key = GROUP_ID;

	for (int i = 0; i < 4; i++)
		member(4, i, &g.members[i]);
	fd = group_setup(&h, &c, &g, &gfd);

	cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_REDIRECT), 2);
	cr_assert_eq(bpf_map_lookup_elem(gfd, &key, &after), 0);
	cr_assert_eq(after.routes[0].ifindex, 0, "no route is looked up for the sender");
	for (int i = 1; i < 4; i++) {
		member_mac(i, mac);
		cr_assert_eq(after.routes[i].ifindex, if_nametoindex("nt0"));
		cr_assert_arr_eq(after.routes[i].dmac, mac, 6);
		cr_assert_arr_eq(after.routes[i].smac, ((uint8_t[]){ 2, 0, 0, 0, 0, 1 }), 6);
		cr_assert_gt(after.routes[i].expires_ns, 0);
	}

	/* fresh for as long as the test needs, however slow the machine */
	for (int i = 1; i < 4; i++)
		after.routes[i].expires_ns = UINT64_MAX;
	cr_assert_eq(bpf_map_update_elem(gfd, &key, &after, 0), 0);
	sh("ip neigh replace 198.51.100.21 lladdr 02:00:00:00:00:99 dev nt0 nud permanent");
	cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_REDIRECT), 2);
	member_mac(1, mac);
	cr_assert_arr_eq(frames[0], mac, 6, "the cached answer is used while fresh");

	cr_assert_eq(bpf_map_update_elem(gfd, &key, &g, 0), 0); /* routes zeroed */
	cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_REDIRECT), 2);
	cr_assert_arr_eq(frames[0], ((uint8_t[]){ 2, 0, 0, 0, 0, 0x99 }), 6,
			 "a rewritten group looks the route up again");
	close(fd);
	harness_close(&h);
}

/* Nobody else to send to (the others are of the other family): the packet is consumed. */
Test(fanout, nobody_to_send_to)
{
	static uint8_t frames[8][PKT_MAX];
	static const struct fan_case c = { 4, 1, false, true, false };
	struct nt_fanout_group g = { .n_members = 3 }, after;
	struct harness h;
	size_t lens[8];
	int fd, gfd;

	member(4, 0, &g.members[0]);
	member(6, 1, &g.members[1]);
	member(6, 2, &g.members[2]);
	fd = group_setup(&h, &c, &g, &gfd);
	cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_SHOT), 0);
	cr_assert_eq(nt_maps_get_group(&h.maps, GROUP_ID, &after), 0);
	cr_assert_eq(after.packets_in, 1);
	cr_assert_eq(after.copies_out, 0);
	close(fd);
	harness_close(&h);
}

/*
 * Members behind one next hop share MACs, which are written only when they
 * change from one copy to the next: each copy still has its own.
 */
Test(fanout, shared_next_hops)
{
	static uint8_t frames[8][PKT_MAX];
	static const struct fan_case c = { 4, 5, false, false, false };
	/* members 1..5: next hops X X Y X Z; 1..4 get clones, 5 the packet itself */
	static const uint8_t hop[6] = { 0, 0x71, 0x71, 0x72, 0x71, 0x73 };
	struct nt_fanout_group g = { .n_members = 6 };
	struct harness h;
	size_t lens[8];
	int fd, gfd;

	for (int i = 0; i < 6; i++) {
		member(4, i, &g.members[i]);
		if (!i)
			continue;
		memcpy(g.routes[i].dmac, (uint8_t[]){ 2, 0, 0, 0, 0, hop[i] }, 6);
		memcpy(g.routes[i].smac, daemon_smac, 6);
		g.routes[i].ifindex = 0; /* set below: nt0 exists once the net is made */
		g.routes[i].expires_ns = NT_ROUTE_DAEMON;
	}
	fd = group_setup(&h, &c, &g, &gfd);
	for (int i = 1; i < 6; i++)
		g.routes[i].ifindex = if_nametoindex("nt0");
	cr_assert_eq(nt_maps_put_group(&h.maps, GROUP_ID, &g), 0);
	cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_REDIRECT), 4);
	for (int k = 0; k < 4; k++) {
		struct pkt_view v;
		struct nt_endpoint want = g.members[k + 1];

		cr_assert_arr_eq(frames[k], ((uint8_t[]){ 2, 0, 0, 0, 0, hop[k + 1] }), 6,
				 "copy %d: destination MAC", k);
		cr_assert_arr_eq(frames[k] + 6, daemon_smac, 6, "copy %d: source MAC", k);
		cr_assert(pkt_parse(frames[k], lens[k], &v));
		cr_assert_arr_eq(frames[k] + v.l3 + 16, want.addr + 12, 4, "copy %d: address", k);
		cr_assert_eq(pkt_get16(frames[k] + v.l4 + 2), want.port, "copy %d: port", k);
		cr_assert(pkt_sums_ok(frames[k], lens[k], false), "copy %d: checksums", k);
	}
	close(fd);
	harness_close(&h);
}

/*
 * The TC program counts per CPU (nt_group_stats), never in the shared group
 * entry; nt_maps_get_group() adds them up over CPUs and to the entry's own
 * counters, and nt_maps_put_group() folds them into the entry, once.
 */
Test(fanout, counters_per_cpu)
{
	static uint8_t frames[8][PKT_MAX];
	static const struct fan_case c = { 4, 2, false, true, false };
	struct nt_fanout_group g = { .n_members = 3 }, raw, sum;
	struct nt_group_stats *pc;
	int ncpu = libbpf_num_possible_cpus(), fd, gfd, sfd, key = GROUP_ID, cpus[2], n = 0;
	struct harness h;
	cpu_set_t all, one;
	size_t lens[8];
	__u64 flen;

	cr_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &all))
			cpus[n++] = i;
	cr_assert_eq(n, 2, "the test needs two CPUs to run on");
	cr_assert_gt(ncpu, cpus[1]);
	for (int i = 0; i < 3; i++)
		member(4, i, &g.members[i]);
	/* what the daemon folded in before */
	g.packets_in = 10;
	g.copies_out = 20;
	g.bytes_out = 1000;
	g.delivered[1] = g.delivered[2] = 10;
	fd = group_setup(&h, &c, &g, &gfd);
	sfd = bpf_map__fd(h.skel->maps.nt_group_stats);

	/* one packet on the first CPU, two on the second: two copies each */
	for (int k = 0; k < 3; k++) {
		CPU_ZERO(&one);
		CPU_SET(cpus[k ? 1 : 0], &one);
		cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
		cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_REDIRECT), 1);
	}
	cr_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	flen = lens[0];

	cr_assert_eq(bpf_map_lookup_elem(gfd, &key, &raw), 0);
	cr_assert_eq(raw.packets_in, 10, "the shared entry is not written per packet");
	cr_assert_eq(raw.delivered[1], 10);
	pc = calloc((size_t)ncpu, sizeof(*pc));
	cr_assert_not_null(pc);
	cr_assert_eq(bpf_map_lookup_elem(sfd, &key, pc), 0);
	cr_assert_eq(pc[cpus[0]].packets_in, 1);
	cr_assert_eq(pc[cpus[1]].packets_in, 2);
	cr_assert_eq(pc[cpus[1]].copies_out, 4);
	cr_assert_eq(pc[cpus[1]].delivered[2], 2);

	cr_assert_eq(nt_maps_get_group(&h.maps, GROUP_ID, &sum), 0);
	cr_assert_eq(sum.packets_in, 13);
	cr_assert_eq(sum.copies_out, 26);
	cr_assert_eq(sum.bytes_out, 1000 + 6 * flen);
	cr_assert_eq(sum.delivered[0], 0, "the sender got nothing");
	cr_assert_eq(sum.delivered[1], 13);
	cr_assert_eq(sum.delivered[2], 13);

	/* a rewrite (the daemon's, members or routes changed) folds them in */
	cr_assert_eq(nt_maps_put_group(&h.maps, GROUP_ID, &sum), 0);
	cr_assert_lt(bpf_map_lookup_elem(sfd, &key, pc), 0);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(nt_maps_get_group(&h.maps, GROUP_ID, &sum), 0);
	cr_assert_eq(sum.packets_in, 13, "not counted twice");
	cr_assert_eq(sum.delivered[2], 13);

	/* and the next packet starts a new per-CPU entry */
	cr_assert_eq(send_one(&h, &g, fd, frames, lens, TC_ACT_REDIRECT), 1);
	cr_assert_eq(nt_maps_get_group(&h.maps, GROUP_ID, &sum), 0);
	cr_assert_eq(sum.packets_in, 14);
	cr_assert_eq(sum.copies_out, 28);

	cr_assert_eq(nt_maps_del_group(&h.maps, GROUP_ID), 0);
	cr_assert_lt(bpf_map_lookup_elem(sfd, &key, pc), 0, "deleted with the group");
	free(pc);
	close(fd);
	harness_close(&h);
}
