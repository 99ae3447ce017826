// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP forwarder, one crafted frame at a time through
 * bpf_prog_test_run_opts. Each case: a description, how the frame is built
 * (and then damaged), the expected verdict and the counter that must move.
 * A forwarded frame is checked byte for byte against what the rewrite must
 * produce, with both checksums recomputed from scratch.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <linux/bpf.h>
#include <time.h>
#include <unistd.h>
#include "xdp_harness.h"

#define RELAY4 "203.0.113.1"
#define RELAY6 "2001:db8::1"
#define MEDIA_PORT 3478

static const uint8_t mac_sender[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_relay[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct xdp_case {
	char desc[80]; /* an array: parameters are copied into the test process */
	int family;
	bool vlan;
	bool verified;    /* a mapping for the sender is installed */
	int peer_family;  /* 0: same as family; -1: no peer yet */
	bool control;     /* STUN-framed payload instead of RTP */
	bool channel_data; /* TURN ChannelData payload instead of RTP */
	bool turn;        /* NT_CONFIG_F_TURN set */
	__u32 mapping_flags;
	uint8_t ttl;
	unsigned ip_opts_len;
	uint16_t frag_off;
	bool v6_frag, v6_dstopts, zero_udp_csum;
	bool other_port, other_addr;
	/* damage after building */
	size_t trunc_to;       /* cut the frame to this many bytes */
	int udp_len_delta;     /* added to the UDP length field */
	int ip_len_delta;      /* added to the IP length field */
	uint8_t ihl_override;  /* IPv4 IHL nibble */
	/* expectations */
	int verdict;
	enum nt_stat stat;
	bool rewritten;
};

static struct xdp_case cases[] = {
	{ .desc = "v4 verified media is rewritten and bounced", .family = 4, .verified = true,
	  .verdict = XDP_TX, .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v4 with VLAN tag", .family = 4, .vlan = true, .verified = true,
	  .verdict = XDP_TX, .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v6 verified media", .family = 6, .verified = true,
	  .verdict = XDP_TX, .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v6 with VLAN tag", .family = 6, .vlan = true, .verified = true,
	  .verdict = XDP_TX, .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v4 zero UDP checksum stays zero", .family = 4, .verified = true,
	  .zero_udp_csum = true, .verdict = XDP_TX, .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v4 TTL 2 still forwarded", .family = 4, .verified = true, .ttl = 2,
	  .verdict = XDP_TX, .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v4 unverified source dropped", .family = 4,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_UNVERIFIED },
	{ .desc = "v6 unverified source dropped", .family = 6,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_UNVERIFIED },
	{ .desc = "v4 control message passed up", .family = 4, .control = true,
	  .verdict = XDP_PASS, .stat = NT_STAT_PASS_CONTROL },
	{ .desc = "v6 control message passed up", .family = 6, .control = true, .vlan = true,
	  .verdict = XDP_PASS, .stat = NT_STAT_PASS_CONTROL },
	{ .desc = "control message from a verified source still passed", .family = 4,
	  .verified = true, .control = true, .verdict = XDP_PASS, .stat = NT_STAT_PASS_CONTROL },
	{ .desc = "v4 ChannelData with TURN on: up to nattravd", .family = 4, .turn = true,
	  .channel_data = true, .verdict = XDP_PASS, .stat = NT_STAT_PASS_CONTROL },
	{ .desc = "v6 ChannelData with TURN on: up to nattravd", .family = 6, .turn = true,
	  .channel_data = true, .verdict = XDP_PASS, .stat = NT_STAT_PASS_CONTROL },
	{ .desc = "ChannelData with TURN off: unverified, dropped", .family = 4,
	  .channel_data = true, .verdict = XDP_DROP, .stat = NT_STAT_DROP_UNVERIFIED },
	{ .desc = "RTP from an unverified source with TURN on: still dropped", .family = 4,
	  .turn = true, .verdict = XDP_DROP, .stat = NT_STAT_DROP_UNVERIFIED },
	{ .desc = "ChannelData-looking media of a verified source: relayed", .family = 4,
	  .turn = true, .channel_data = true, .verified = true, .verdict = XDP_TX,
	  .stat = NT_STAT_FORWARDED, .rewritten = true },
	{ .desc = "v4 first fragment dropped", .family = 4, .verified = true, .frag_off = 0x2000,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_FRAGMENT },
	{ .desc = "v4 later fragment left to the kernel", .family = 4, .verified = true,
	  .frag_off = 0x0010, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "v6 first fragment dropped", .family = 6, .verified = true, .v6_frag = true,
	  .frag_off = 0x0001, .verdict = XDP_DROP, .stat = NT_STAT_DROP_FRAGMENT },
	{ .desc = "v6 later fragment left to the kernel", .family = 6, .verified = true,
	  .v6_frag = true, .frag_off = 0x0100, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "v4 options on media dropped", .family = 4, .verified = true, .ip_opts_len = 8,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_IP_OPTIONS },
	{ .desc = "v4 options on control passed", .family = 4, .control = true, .ip_opts_len = 4,
	  .verdict = XDP_PASS, .stat = NT_STAT_PASS_CONTROL },
	{ .desc = "v6 extension header on media dropped", .family = 6, .verified = true,
	  .v6_dstopts = true, .verdict = XDP_DROP, .stat = NT_STAT_DROP_IP_OPTIONS },
	/* test_run refuses frames shorter than an Ethernet header, as drivers do */
	{ .desc = "frame of a bare Ethernet header", .family = 4, .verified = true,
	  .trunc_to = 14, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "frame cut inside the IPv4 header", .family = 4, .verified = true,
	  .trunc_to = 14 + 12, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "frame cut inside the UDP header", .family = 4, .verified = true,
	  .trunc_to = 14 + 20 + 4, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "frame cut inside the IPv6 header", .family = 6, .verified = true,
	  .trunc_to = 14 + 30, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "v6 frame cut inside the UDP header", .family = 6, .verified = true,
	  .trunc_to = 14 + 40 + 4, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "UDP length larger than the packet", .family = 4, .verified = true,
	  .udp_len_delta = 100, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "UDP length below the header size", .family = 4, .verified = true,
	  .udp_len_delta = -36, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "v6 UDP length larger than the packet", .family = 6, .verified = true,
	  .udp_len_delta = 1, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "IPv4 total length larger than the frame", .family = 4, .verified = true,
	  .ip_len_delta = 1, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "IPv6 payload length larger than the frame", .family = 6, .verified = true,
	  .ip_len_delta = 1, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "IPv4 IHL below 5", .family = 4, .verified = true, .ihl_override = 4,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "IPv4 IHL past the frame end", .family = 4, .verified = true,
	  .ihl_override = 15, .trunc_to = 14 + 40, .verdict = XDP_DROP,
	  .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "v6 zero UDP checksum is invalid", .family = 6, .verified = true,
	  .zero_udp_csum = true, .verdict = XDP_DROP, .stat = NT_STAT_DROP_MALFORMED },
	{ .desc = "v4 TTL 1 dropped", .family = 4, .verified = true, .ttl = 1,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_TTL },
	{ .desc = "v6 hop limit 1 dropped", .family = 6, .verified = true, .ttl = 1,
	  .verdict = XDP_DROP, .stat = NT_STAT_DROP_TTL },
	{ .desc = "peer of the other family dropped", .family = 4, .verified = true,
	  .peer_family = 6, .verdict = XDP_DROP, .stat = NT_STAT_DROP_FAMILY },
	{ .desc = "group of three or more: up to the TC fan-out", .family = 4, .verified = true,
	  .mapping_flags = NT_MAPPING_F_FANOUT, .verdict = XDP_PASS, .stat = NT_STAT_PASS_FANOUT },
	{ .desc = "v6 group of three or more", .family = 6, .verified = true,
	  .mapping_flags = NT_MAPPING_F_FANOUT, .verdict = XDP_PASS, .stat = NT_STAT_PASS_FANOUT },
	{ .desc = "verified but alone in its group: dropped", .family = 4, .verified = true,
	  .peer_family = -1, .verdict = XDP_DROP, .stat = NT_STAT_DROP_NO_PEER },
	{ .desc = "other UDP port untouched", .family = 4, .verified = true, .other_port = true,
	  .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "other destination address untouched", .family = 4, .verified = true,
	  .other_addr = true, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
	{ .desc = "v6 other destination address untouched", .family = 6, .verified = true,
	  .other_addr = true, .verdict = XDP_PASS, .stat = NT_STAT_PASS_OTHER },
};

ParameterizedTestParameters(xdp, table)
{
	return cr_make_param_array(struct xdp_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void ep(struct nt_endpoint *e, const char *s)
{
	cr_assert_eq(nt_endpoint_parse(s, e), 0, "bad endpoint %s", s);
}

static void set_config(struct harness *h, bool turn)
{
	struct nt_config cfg = { .media_port = MEDIA_PORT,
				 .flags = turn ? NT_CONFIG_F_TURN : 0 };

	inet_pton(AF_INET, RELAY4, cfg.relay_v4);
	inet_pton(AF_INET6, RELAY6, cfg.relay_v6);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
}

static const uint8_t rtp_payload[32] = { 0x80, 0x60, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef };
/* TURN ChannelData: channel 0x4000, 4 bytes of data */
static const uint8_t channel_payload[8] = { 0x40, 0x00, 0x00, 0x04, 'd', 'a', 't', 'a' };
/* STUN Binding request header: type 0x0001, length 0, cookie, transaction id */
static const uint8_t stun_payload[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
					  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

/* Frame for case c: sender -> relay:media, damaged as c says. */
static size_t build_case(const struct xdp_case *c, uint8_t *buf, struct pkt_spec *s)
{
	bool v4 = c->family == 4;
	struct pkt_view v;
	size_t len;

	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, mac_sender, 6);
	memcpy(s->dst_mac, mac_relay, 6);
	s->vlan = c->vlan;
	s->vlan_tci = 42;
	ep(&s->src, v4 ? "192.0.2.10:40000" : "[2001:db8:1::10]:40000");
	if (c->other_addr)
		ep(&s->dst, v4 ? "203.0.113.99:3478" : "[2001:db8::99]:3478");
	else if (c->other_port)
		ep(&s->dst, v4 ? RELAY4 ":5000" : "[" RELAY6 "]:5000");
	else
		ep(&s->dst, v4 ? RELAY4 ":3478" : "[" RELAY6 "]:3478");
	s->ttl = c->ttl;
	s->payload = c->control ? stun_payload : c->channel_data ? channel_payload : rtp_payload;
	s->payload_len = c->control ? sizeof(stun_payload) :
			 c->channel_data ? sizeof(channel_payload) : sizeof(rtp_payload);
	s->ip_opts_len = c->ip_opts_len;
	s->frag_off = c->frag_off;
	s->v6_frag = c->v6_frag;
	s->v6_dstopts = c->v6_dstopts;
	s->zero_udp_csum = c->zero_udp_csum;
	len = pkt_build(s, buf, PKT_MAX);
	cr_assert_gt(len, 0);
	cr_assert(pkt_parse(buf, len, &v));
	if (c->udp_len_delta)
		put16(buf + v.l4 + 4, (unsigned)((int)v.udp_len + c->udp_len_delta) & 0xffff);
	if (c->ip_len_delta)
		put16(buf + v.l3 + (v4 ? 2 : 4),
		      (unsigned)((int)get16(buf + v.l3 + (v4 ? 2 : 4)) + c->ip_len_delta));
	if (c->ihl_override)
		buf[v.l3] = (uint8_t)(0x40 | c->ihl_override);
	if (c->trunc_to)
		len = c->trunc_to;
	return len;
}

static void install_mapping(struct harness *h, const struct xdp_case *c,
			    const struct pkt_spec *s, struct nt_endpoint *peer)
{
	int pf = c->peer_family ? c->peer_family : c->family;
	struct nt_mapping m = { .group_id = 7, .session_id = 99, .flags = c->mapping_flags };

	ep(peer, pf == 4 ? "198.51.100.20:50000" : "[2001:db8:2::20]:50000");
	m.peer = *peer;
	if (pf < 0)
		memset(&m.peer, 0, sizeof(m.peer));
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &s->src, &m), 0);
}

/* What the rewrite must produce, built independently from the spec. */
static size_t expected_frame(const struct pkt_spec *in, const struct nt_endpoint *peer,
			     uint8_t *buf)
{
	struct pkt_spec out = *in;
	struct nt_endpoint relay = in->dst;

	memcpy(out.src_mac, in->dst_mac, 6);
	memcpy(out.dst_mac, in->src_mac, 6);
	out.src = relay;
	out.dst = *peer;
	out.ttl = (uint8_t)((in->ttl ? in->ttl : 64) - 1);
	return pkt_build(&out, buf, PKT_MAX);
}

ParameterizedTest(struct xdp_case *c, xdp, table)
{
	struct nt_counter before[NT_STAT_MAX], after[NT_STAT_MAX];
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	struct nt_endpoint peer = {};
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	size_t len, out_len = sizeof(out);
	int verdict;

	cr_log_info("case: %s", c->desc);
	cr_assert_eq(harness_open(&h, true), 0, "load failed (root needed)");
	set_config(&h, c->turn);
	len = build_case(c, in, &s);
	if (c->verified)
		install_mapping(&h, c, &s, &peer);
	cr_assert_eq(nt_maps_read_stats(&h.maps, before), 0);

	verdict = harness_run(&h, in, len, out, &out_len, 0);

	cr_assert_eq(verdict, c->verdict, "%s: verdict %d, want %d", c->desc, verdict, c->verdict);
	cr_assert_eq(nt_maps_read_stats(&h.maps, after), 0);
	for (int k = 0; k < NT_STAT_MAX; k++)
		cr_assert_eq(after[k].packets - before[k].packets, k == (int)c->stat ? 1u : 0u,
			     "%s: counter %d moved by %llu", c->desc, k,
			     (unsigned long long)(after[k].packets - before[k].packets));
	cr_assert_eq(out_len, len, "%s: frame length changed", c->desc);

	if (c->rewritten) {
		size_t want_len = expected_frame(&s, &peer, want);

		cr_assert_eq(want_len, len);
		cr_assert(pkt_sums_ok(out, out_len, c->zero_udp_csum),
			  "%s: checksums wrong after rewrite", c->desc);
		cr_assert_arr_eq(out, want, len, "%s: rewritten frame differs", c->desc);
		cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
		cr_assert_eq(m.packets, 1);
		cr_assert_eq(m.bytes, len - 14 - (c->vlan ? 4 : 0));
		cr_assert_gt(m.last_seen_ns, 0);
	} else if (verdict != XDP_DROP) {
		cr_assert_arr_eq(out, in, len, "%s: passed frame was modified", c->desc);
	}
	harness_close(&h);
}

/* Mapping counters accumulate and the payload survives many rewrites of fresh frames. */
Test(xdp, counters_accumulate)
{
	struct nt_counter st[NT_STAT_MAX];
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xdp_case c = { .family = 4, .verified = true };
	struct nt_endpoint peer;
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	size_t len;

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	len = build_case(&c, in, &s);
	install_mapping(&h, &c, &s, &peer);
	for (int i = 0; i < 100; i++) {
		size_t out_len = sizeof(out);

		cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	}
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(m.packets, 100);
	cr_assert_eq(m.bytes, 100 * (len - 14));
	cr_assert_eq(nt_maps_read_stats(&h.maps, st), 0);
	cr_assert_eq(st[NT_STAT_FORWARDED].packets, 100);
	cr_assert_eq(st[NT_STAT_FORWARDED].bytes, 100 * (len - 14));
	harness_close(&h);
}

/* No config yet (media port 0): the program stays out of the way. */
Test(xdp, unconfigured_passes_everything)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xdp_case c = { .family = 4 };
	struct harness h;
	struct pkt_spec s;
	size_t len, out_len = sizeof(out);

	cr_assert_eq(harness_open(&h, true), 0);
	len = build_case(&c, in, &s);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_PASS);
	cr_assert_arr_eq(out, in, len);
	harness_close(&h);
}

/* Non-IP ethertype (ARP) passes untouched. */
Test(xdp, arp_passes)
{
	uint8_t in[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0x0a, 0x08, 0x06 };
	uint8_t out[PKT_MAX];
	size_t out_len = sizeof(out);
	struct harness h;

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	cr_assert_eq(harness_run(&h, in, sizeof(in), out, &out_len, 0), XDP_PASS);
	cr_assert_arr_eq(out, in, sizeof(in));
	harness_close(&h);
}

/* The sender rate in nt_config: cost_ns of credit a packet, burst_ns at most. */
static void set_rate(struct harness *h, uint64_t cost_ns, uint64_t burst_ns)
{
	struct nt_config cfg;

	cr_assert_eq(nt_maps_get_config(&h->maps, &cfg), 0);
	cfg.pkt_cost_ns = cost_ns;
	cfg.burst_ns = burst_ns;
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
}

/* Run frame n times: how many were sent on (XDP_TX); every other verdict is a drop. */
static unsigned runs_sent(struct harness *h, const uint8_t *in, size_t len, int n)
{
	uint8_t out[PKT_MAX];
	unsigned tx = 0;

	for (int i = 0; i < n; i++) {
		size_t out_len = sizeof(out);
		int v = harness_run(h, in, len, out, &out_len, 0);

		cr_assert(v == XDP_TX || v == XDP_DROP);
		tx += v == XDP_TX;
	}
	return tx;
}

/* A sender over its rate: the token bucket lets the burst through, drops the rest. */
Test(xdp, rate_limit_drops_over_burst)
{
	struct nt_counter st[NT_STAT_MAX];
	uint8_t in[PKT_MAX];
	struct xdp_case c = { .family = 4, .verified = true };
	struct nt_endpoint peer;
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	unsigned tx;
	size_t len;

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	set_rate(&h, 1000000000ull, 3 * 1000000000ull);
	len = build_case(&c, in, &s);
	install_mapping(&h, &c, &s, &peer);
	tx = runs_sent(&h, in, len, 10);
	cr_assert_eq(tx, 3, "%u forwarded, want the burst of 3", tx);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(m.rate_drops, 7);
	cr_assert_eq(m.packets, 10, "over-rate packets still count as seen");
	cr_assert_eq(nt_maps_read_stats(&h.maps, st), 0);
	cr_assert_eq(st[NT_STAT_DROP_RATE].packets, 7);
	harness_close(&h);
}

/* A fan-out sender pays for its copies: rate_weight packets of credit per packet. */
Test(xdp, rate_limit_charges_rate_weight)
{
	uint8_t in[PKT_MAX];
	struct xdp_case c = { .family = 4, .verified = true };
	struct nt_endpoint peer;
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	unsigned tx;
	size_t len;

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	set_rate(&h, 1000000000ull, 6 * 1000000000ull);
	len = build_case(&c, in, &s);
	install_mapping(&h, &c, &s, &peer);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	m.rate_weight = 3; /* a group of four: three copies a packet */
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s.src, &m), 0);
	tx = runs_sent(&h, in, len, 10);
	cr_assert_eq(tx, 2, "%u passed, want 6 / 3 = 2", tx);
	harness_close(&h);
}

/* Consent is kept open by media the relay takes on, never by rate-dropped packets. */
Test(xdp, rate_dropped_media_keeps_no_consent)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xdp_case c = { .family = 4, .verified = true };
	struct nt_endpoint peer;
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	uint64_t seen;
	size_t len, out_len = sizeof(out);

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	set_rate(&h, 1000000000ull, 1000000000ull);
	len = build_case(&c, in, &s);
	install_mapping(&h, &c, &s, &peer);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	seen = m.last_seen_ns;
	cr_assert_gt(seen, 0);
	/* past the clock's tick, so a refresh would show */
	usleep(50000);
	out_len = sizeof(out);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_DROP);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(m.rate_drops, 1);
	cr_assert_eq(m.last_seen_ns, seen, "a rate-dropped packet refreshed consent");
	harness_close(&h);
}

static uint64_t boot_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_BOOTTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/*
 * The consent clock is CLOCK_BOOTTIME, as the daemon reads it and bpftool's
 * loaded_at counts, and it moves: the program keeps one reading a jiffy
 * (nt_now), at most a tick behind, never a raw jiffy count nor a reading it
 * failed to refresh.
 */
Test(xdp, consent_clock_is_boottime_and_moves)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xdp_case c = { .family = 4, .verified = true };
	struct nt_endpoint peer;
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	uint64_t seen, t;
	size_t len, out_len = sizeof(out);

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	len = build_case(&c, in, &s);
	install_mapping(&h, &c, &s, &peer);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	t = boot_ns();
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	seen = m.last_seen_ns;
	cr_assert(seen <= t && t - seen < 1000000000ull,
		  "last_seen %llu is not CLOCK_BOOTTIME (now %llu)", (unsigned long long)seen,
		  (unsigned long long)t);
	usleep(50000);
	out_len = sizeof(out);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_geq(m.last_seen_ns, seen + 25000000ull, "the clock did not move in 50 ms");
	harness_close(&h);
}

/* Verified but alone: dropped media keeps no consent either (keepalives do). */
Test(xdp, no_peer_media_keeps_no_consent)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct xdp_case c = { .family = 4, .verified = true };
	struct nt_endpoint peer;
	struct nt_mapping m;
	struct harness h;
	struct pkt_spec s;
	size_t len, out_len = sizeof(out);

	cr_assert_eq(harness_open(&h, true), 0);
	set_config(&h, false);
	len = build_case(&c, in, &s);
	install_mapping(&h, &c, &s, &peer);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	memset(&m.peer, 0, sizeof(m.peer));
	m.last_seen_ns = 0;
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_DROP);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s.src, &m), 0);
	cr_assert_eq(m.packets, 1);
	cr_assert_eq(m.last_seen_ns, 0);
	harness_close(&h);
}
