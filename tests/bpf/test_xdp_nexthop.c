// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's next hop (NT_ROUTE_DAEMON in the mapping): the program sends
 * with the MACs the daemon wrote, with no FIB lookup, so forwarding may be
 * off; XDP_TX when the egress is the ingress interface, a redirect through
 * the egress map when it is another, and to the stack (counted) when that
 * interface was never validated. Each case runs in a network namespace of
 * its own with forwarding off and no neighbour entries: a FIB lookup there
 * could not produce these MACs.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include "xdp_harness.h"

static const uint8_t mac_sender[6] = { 2, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_relay[6] = { 2, 0, 0, 0, 0, 0x01 };
/* what the daemon resolved: the peer's NAT, and the egress port's own MAC */
static const uint8_t mac_next[6] = { 2, 0, 0, 0, 0, 0x77 };
static const uint8_t mac_egress[6] = { 2, 0, 0, 0, 0, 0x55 };
static const uint8_t rtp[24] = { 0x80, 0x60, 0, 1, 0xde, 0xad, 0xbe, 0xef };

enum nh_route { NH_ON_INGRESS, NH_ON_OTHER };

struct nh_case {
	char desc[80];
	int family;
	enum nh_route route;
	bool validated; /* the other interface is in nt_egress */
	bool no_fib;    /* NT_CONFIG_F_NO_FIB set as well */
	int verdict;
	enum nt_stat stat;
};

static struct nh_case cases[] = {
	{ "v4 peer behind the ingress port: XDP_TX with the daemon's MACs", 4, NH_ON_INGRESS,
	  false, false, XDP_TX, NT_STAT_FORWARDED },
	{ "v6 peer behind the ingress port: XDP_TX with the daemon's MACs", 6, NH_ON_INGRESS,
	  false, false, XDP_TX, NT_STAT_FORWARDED },
	{ "daemon's next hop wins over NO_FIB's bounce", 4, NH_ON_INGRESS, false, true, XDP_TX,
	  NT_STAT_FORWARDED },
	{ "v4 peer behind a validated port: redirected", 4, NH_ON_OTHER, true, false,
	  XDP_REDIRECT, NT_STAT_REDIRECTED },
	{ "v6 peer behind a validated port: redirected", 6, NH_ON_OTHER, true, false,
	  XDP_REDIRECT, NT_STAT_REDIRECTED },
	{ "v4 peer behind a port not validated: to the stack, counted", 4, NH_ON_OTHER, false,
	  false, XDP_PASS, NT_STAT_PASS_NO_EGRESS },
	{ "v6 peer behind a port not validated: to the stack, counted", 6, NH_ON_OTHER, false,
	  false, XDP_PASS, NT_STAT_PASS_NO_EGRESS },
};

ParameterizedTestParameters(xdp_nexthop, table)
{
	return cr_make_param_array(struct nh_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static void ep(struct nt_endpoint *e, const char *s)
{
	cr_assert_eq(nt_endpoint_parse(s, e), 0, "bad endpoint %s", s);
}

/* The frame as the rewrite must leave it, built from scratch. */
static size_t expected(const struct pkt_spec *in, const struct nt_endpoint *peer,
		       bool new_macs, uint8_t *buf)
{
	struct pkt_spec out = *in;

	if (new_macs) {
		memcpy(out.dst_mac, mac_next, 6);
		memcpy(out.src_mac, mac_egress, 6);
	}
	out.src = in->dst;
	out.dst = *peer;
	out.ttl = 63;
	return pkt_build(&out, buf, PKT_MAX);
}

ParameterizedTest(struct nh_case *c, xdp_nexthop, table)
{
	struct nt_counter st[NT_STAT_MAX];
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	struct nt_config cfg = { .media_port = 3478 };
	struct nt_mapping m = { 0 }, after;
	size_t len, want_len, out_len = sizeof(out);
	int nt0, verdict, ingress;
	struct harness h;
	struct pkt_spec s = { 0 };
	bool v4 = c->family == 4;

	cr_log_info("case: %s", c->desc);
	cr_assert_eq(harness_open(&h, true), 0, "load failed (root needed)");
	sh("ip link add nt0 type veth peer name nt1 && ip link set nt0 up && ip link set nt1 up &&"
	   "ip link set lo up && sysctl -qw net.ipv4.conf.all.forwarding=0");
	nt0 = (int)if_nametoindex("nt0");
	cr_assert_gt(nt0, 0);
	/* the test run's default ingress is lo (ifindex 1): "other" is nt0 */
	ingress = c->route == NH_ON_INGRESS ? nt0 : 0;
	if (c->validated)
		cr_assert_eq(nt_maps_put_egress(&h.maps, (__u32)nt0), 0);

	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	inet_pton(AF_INET6, "2001:db8::1", cfg.relay_v6);
	cfg.flags = c->no_fib ? NT_CONFIG_F_NO_FIB : 0;
	cr_assert_eq(nt_maps_set_config(&h.maps, &cfg), 0);

	memcpy(s.src_mac, mac_sender, 6);
	memcpy(s.dst_mac, mac_relay, 6);
	ep(&s.src, v4 ? "192.0.2.10:40000" : "[2001:db8:1::10]:40000");
	ep(&s.dst, v4 ? "203.0.113.1:3478" : "[2001:db8::1]:3478");
	s.payload = rtp;
	s.payload_len = sizeof(rtp);
	len = pkt_build(&s, in, PKT_MAX);
	cr_assert_gt(len, 0);

	ep(&m.peer, v4 ? "198.51.100.20:50000" : "[2001:db8:2::20]:50000");
	memcpy(m.route_dmac, mac_next, 6);
	memcpy(m.route_smac, mac_egress, 6);
	m.route_ifindex = (__u32)nt0;
	m.route_expires_ns = NT_ROUTE_DAEMON;
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s.src, &m), 0);

	verdict = harness_run(&h, in, len, out, &out_len, ingress);
	cr_assert_eq(verdict, c->verdict, "%s: verdict %d, want %d", c->desc, verdict, c->verdict);
	cr_assert_eq(out_len, len);
	/* passed: rewritten, but with the MACs it came with, for the stack to judge */
	want_len = expected(&s, &m.peer, verdict != XDP_PASS, want);
	cr_assert_eq(want_len, len);
	cr_assert_arr_eq(out, want, len, "%s: frame differs", c->desc);
	cr_assert_eq(nt_maps_read_stats(&h.maps, st), 0);
	for (int k = 0; k < NT_STAT_MAX; k++)
		cr_assert_eq(st[k].packets, k == (int)c->stat ? 1u : 0u, "%s: counter %d moved",
			     c->desc, k);
	/* the program never replaces the daemon's answer */
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &after), 0);
	cr_assert_eq(after.route_expires_ns, NT_ROUTE_DAEMON);
	cr_assert_arr_eq(after.route_dmac, mac_next, 6);
	harness_close(&h);
}

/* Without the daemon's marker the same MACs are a cache that expired: the FIB is asked. */
Test(xdp_nexthop, expired_cache_is_not_the_daemons_answer)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct nt_config cfg = { .media_port = 3478, .flags = NT_CONFIG_F_NO_FIB };
	struct nt_mapping m = { 0 };
	size_t len, out_len = sizeof(out);
	struct harness h;
	struct pkt_spec s = { 0 };

	cr_assert_eq(harness_open(&h, true), 0);
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	cr_assert_eq(nt_maps_set_config(&h.maps, &cfg), 0);
	memcpy(s.src_mac, mac_sender, 6);
	memcpy(s.dst_mac, mac_relay, 6);
	ep(&s.src, "192.0.2.10:40000");
	ep(&s.dst, "203.0.113.1:3478");
	s.payload = rtp;
	s.payload_len = sizeof(rtp);
	len = pkt_build(&s, in, PKT_MAX);
	ep(&m.peer, "198.51.100.20:50000");
	memcpy(m.route_dmac, mac_next, 6);
	m.route_ifindex = 1;
	m.route_expires_ns = 1; /* long past */
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	/* NO_FIB's bounce: back to the sender's MAC */
	cr_assert_arr_eq(out, mac_sender, 6);
	cr_assert_arr_eq(out + 6, mac_relay, 6);
	harness_close(&h);
}
