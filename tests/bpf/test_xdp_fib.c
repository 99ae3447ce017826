// SPDX-License-Identifier: GPL-2.0
/*
 * The FIB path of the forwarder: with forwarding on and the peer's neighbour
 * known, MACs come from bpf_fib_lookup, and a peer behind another interface
 * means a redirect. Each test builds its routes in a network namespace of
 * its own, so the answer does not depend on the machine's routes.
 */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdlib.h>
#include "xdp_harness.h"

static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x20 };

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

/* veth pair nt0 (ours, 198.51.100.1/24) / nt1; peer 198.51.100.20 known by MAC */
static void make_routes(void)
{
	sh("ip link add nt0 address 02:00:00:00:00:01 type veth peer name nt1 &&"
	   "ip link set nt0 up && ip link set nt1 up && ip link set lo up &&"
	   "ip addr add 198.51.100.1/24 dev nt0 &&"
	   "ip neigh add 198.51.100.20 lladdr 02:00:00:00:00:20 dev nt0 nud permanent &&"
	   "sysctl -qw net.ipv4.conf.all.forwarding=1");
}

static size_t frame(uint8_t *buf, struct harness *h, struct pkt_spec *s)
{
	struct nt_config cfg = { .media_port = 3478 };
	struct nt_mapping m = {};

	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }, 6);
	memcpy(s->dst_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x01 }, 6);
	cr_assert_eq(nt_endpoint_parse("192.0.2.10:40000", &s->src), 0);
	cr_assert_eq(nt_endpoint_parse("203.0.113.1:3478", &s->dst), 0);
	s->payload = (const uint8_t *)"\x80\x60rtp-ish payload";
	s->payload_len = 18;
	cr_assert_eq(nt_endpoint_parse("198.51.100.20:50000", &m.peer), 0);
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &s->src, &m), 0);
	return pkt_build(s, buf, PKT_MAX);
}

/*
 * ingress: the interface the frame arrives on, NULL for the test-run default
 * (lo); egress_ok: nt0 is in the map of validated egress ports.
 */
static void run_case(const char *ingress, bool egress_ok, int want_verdict, enum nt_stat want_stat)
{
	static const uint8_t nt0_mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct nt_counter st[NT_STAT_MAX];
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len = sizeof(out);
	struct harness h;
	struct pkt_spec s;
	int ifindex = 0;

	cr_assert_eq(harness_open(&h, true), 0);
	make_routes();
	if (ingress) {
		ifindex = (int)if_nametoindex(ingress);
		cr_assert_gt(ifindex, 0);
	}
	if (egress_ok)
		cr_assert_eq(nt_maps_put_egress(&h.maps, if_nametoindex("nt0")), 0);
	len = frame(in, &h, &s);
	int verdict = harness_run(&h, in, len, out, &out_len, ifindex);

	cr_assert_eq(verdict, want_verdict, "verdict %d, want %d", verdict, want_verdict);
	if (verdict == XDP_PASS) {
		/* to the stack with the MACs it came with: addressed to us, not to the peer */
		cr_assert_arr_eq(out, in, 12, "passed frame got the next hop's MACs");
	} else {
		cr_assert_arr_eq(out, peer_mac, 6, "destination MAC is not the neighbour's");
		cr_assert_arr_eq(out + 6, nt0_mac, 6, "source MAC is not the egress interface's");
	}
	cr_assert(pkt_sums_ok(out, out_len, false));
	cr_assert_eq(nt_maps_read_stats(&h.maps, st), 0);
	for (int k = 0; k < NT_STAT_MAX; k++)
		cr_assert_eq(st[k].packets, k == (int)want_stat ? 1u : 0u, "counter %d moved", k);
	harness_close(&h);
}

Test(xdp_fib, peer_behind_the_ingress_interface_is_tx_with_fib_macs)
{
	run_case("nt0", false, XDP_TX, NT_STAT_FORWARDED);
}

Test(xdp_fib, peer_behind_another_interface_is_redirected)
{
	run_case(NULL, true, XDP_REDIRECT, NT_STAT_REDIRECTED);
}

/* An egress port nobody validated: the stack gets the frame, and it is counted. */
Test(xdp_fib, egress_not_validated_is_passed_and_counted)
{
	run_case(NULL, false, XDP_PASS, NT_STAT_PASS_NO_EGRESS);
}

/* The FIB answer is cached in the mapping until it expires, then looked up again. */
Test(xdp_fib, route_is_cached_until_it_expires)
{
	static const uint8_t new_mac[6] = { 2, 0, 0, 0, 0, 0x99 };
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len, out_len = sizeof(out);
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	int idx;

	cr_assert_eq(harness_open(&h, true), 0);
	make_routes();
	idx = (int)if_nametoindex("nt0");
	len = frame(in, &h, &s);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, idx), XDP_TX);
	cr_assert_arr_eq(out, peer_mac, 6);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(m.route_ifindex, (__u32)idx);
	cr_assert_arr_eq(m.route_dmac, peer_mac, 6);

	/* the neighbour moves: the cached answer still holds */
	sh("ip neigh replace 198.51.100.20 lladdr 02:00:00:00:00:99 dev nt0 nud permanent");
	out_len = sizeof(out);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, idx), XDP_TX);
	cr_assert_arr_eq(out, peer_mac, 6, "second packet did not use the cache");

	/* once expired, the program asks the FIB again */
	m.route_expires_ns = 0;
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s.src, &m), 0);
	out_len = sizeof(out);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, idx), XDP_TX);
	cr_assert_arr_eq(out, new_mac, 6, "expired cache was not refreshed");
	harness_close(&h);
}
