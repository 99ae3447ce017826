// SPDX-License-Identifier: GPL-2.0
/*
 * TURN channels in XDP (bpf/nt_turn.h), IPv4 and IPv6, one
 * crafted frame at a time: a
 * client's ChannelData leaves without its header from the relayed address
 * to the peer, a peer's datagram leaves with the header from the media port
 * to the client, each byte for byte as built independently (checksums
 * recomputed from scratch by pkt_build), a hairpin between two allocations
 * of the relay keeps the header with the other's channel number; padded
 * ChannelData, a channel with
 * no entry, a next hop behind another interface and TURN off all go to
 * nattravd instead, untouched.
 */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include "xdp_harness.h"

static const uint8_t mac_client_gw[6] = { 2, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_relay[6] = { 2, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_next[6] = { 2, 0, 0, 0, 0, 0x77 };

#define CHANNEL 0x4001

/* A client, the relay's media port and a relayed port, a peer, another client: per family. */
struct lab {
	const char *client, *media, *relayed, *peer, *client2;
};
static const struct lab v4 = { "192.0.2.10:40000", "203.0.113.1:3478", "203.0.113.1:50001",
				"198.51.100.20:7000", "198.51.100.30:41000" };
static const struct lab v6 = { "[2001:db8:10::10]:40000", "[2001:db8::1]:3478",
				"[2001:db8::1]:50001", "[2001:db8:20::20]:7000",
				"[2001:db8:30::30]:41000" };

static void ep(struct nt_endpoint *e, const char *s)
{
	cr_assert_eq(nt_endpoint_parse(s, e), 0, "bad endpoint %s", s);
}

static void setup(struct harness *h, bool turn)
{
	struct nt_config cfg = { .media_port = 3478, .flags = turn ? NT_CONFIG_F_TURN : 0 };

	cr_assert_eq(harness_open(h, true), 0, "load failed (root needed)");
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	inet_pton(AF_INET6, "2001:db8::1", cfg.relay_v6);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
}

static struct nt_turn_fwd fwd(const char *from, const char *to, int ifindex)
{
	struct nt_turn_fwd f = { .channel = CHANNEL, .route_ifindex = (__u32)ifindex };

	ep(&f.from, from);
	ep(&f.to, to);
	memcpy(f.route_dmac, mac_next, 6);
	memcpy(f.route_smac, mac_relay, 6);
	return f;
}

static void put_chan(struct harness *h, const char *client, uint16_t channel,
		     const struct nt_turn_fwd *f)
{
	struct nt_turn_chan_key k = { .channel = channel };

	ep(&k.client, client);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(h->skel->maps.nt_turn_chans), &k, f, 0), 0);
}

static void put_peer(struct harness *h, const char *relayed, const char *peer,
		     const struct nt_turn_fwd *f)
{
	struct nt_turn_peer_key k = {};

	ep(&k.relayed, relayed);
	ep(&k.peer, peer);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(h->skel->maps.nt_turn_peers), &k, f, 0), 0);
}

static size_t frame(uint8_t *buf, const char *src, const char *dst, const uint8_t *smac,
		    const uint8_t *dmac, uint8_t ttl, const void *payload, size_t len, bool zero_csum)
{
	struct pkt_spec s = { .ttl = ttl, .payload = payload, .payload_len = len,
			      .zero_udp_csum = zero_csum };
	size_t n;

	memcpy(s.src_mac, smac, 6);
	memcpy(s.dst_mac, dmac, 6);
	ep(&s.src, src);
	ep(&s.dst, dst);
	n = pkt_build(&s, buf, PKT_MAX);
	cr_assert_gt(n, 0);
	return n;
}

/* ChannelData header + data */
static size_t channel_data(uint8_t *buf, uint16_t channel, const uint8_t *data, size_t len,
			   size_t pad)
{
	buf[0] = (uint8_t)(channel >> 8);
	buf[1] = (uint8_t)channel;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memcpy(buf + 4, data, len);
	memset(buf + 4 + len, 0, pad);
	return 4 + len + pad;
}

static const uint8_t dtls[] = { 0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x2d, 1, 2, 3, 4 };

static void client_side(const struct lab *l, bool zero_csum, size_t dlen)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX], cd[1500];
	struct nt_turn_fwd f = fwd(l->relayed, l->peer, 1), got;
	struct nt_turn_chan_key k = { .channel = CHANNEL };
	struct harness h;
	size_t len, wlen, out_len = sizeof(out), n;
	uint8_t data[1200];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memcpy(data, dtls, sizeof(dtls));
	setup(&h, true);
	put_chan(&h, l->client, CHANNEL, &f);
	n = channel_data(cd, CHANNEL, data, dlen, 0);
	len = frame(in, l->client, l->media, mac_client_gw, mac_relay, 50, cd, n, zero_csum);
	wlen = frame(want, l->relayed, l->peer, mac_relay, mac_next, 49, data, dlen, zero_csum);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(out_len, wlen, "length %zu, want %zu", out_len, wlen);
	cr_assert_arr_eq(out, want, wlen, "the frame to the peer differs");
	ep(&k.client, l->client);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(h.skel->maps.nt_turn_chans), &k, &got), 0);
	cr_assert_eq(got.packets, 1);
	cr_assert_eq(got.bytes, dlen);
	harness_close(&h);
}

Test(xdp_turn, client_channel_data_to_peer)
{
	client_side(&v4, false, 100);
	client_side(&v6, false, 100);
}

Test(xdp_turn, client_odd_length_and_large)
{
	client_side(&v4, false, 17);
	client_side(&v4, false, 1200);
	client_side(&v6, false, 17);
	client_side(&v6, false, 1200);
	/* no data at all: the frame leaves with its headers only */
	client_side(&v4, false, 0);
	client_side(&v6, false, 0);
}

Test(xdp_turn, client_zero_udp_checksum_stays_zero)
{
	client_side(&v4, true, 64);
}

static void peer_side(const struct lab *l, size_t dlen)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX], cd[1500], data[1200];
	struct nt_turn_fwd f = fwd(l->media, l->client, 1);
	struct harness h;
	size_t len, wlen, out_len = sizeof(out), n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	setup(&h, true);
	put_peer(&h, l->relayed, l->peer, &f);
	len = frame(in, l->peer, l->relayed, mac_client_gw, mac_relay, 50, data, dlen, false);
	n = channel_data(cd, CHANNEL, data, dlen, 0);
	wlen = frame(want, l->media, l->client, mac_relay, mac_next, 49, cd, n, false);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(out_len, wlen, "length %zu, want %zu", out_len, wlen);
	cr_assert_arr_eq(out, want, wlen, "the frame to the client differs");
	harness_close(&h);
}

/*
 * Two clients of this relay whose allocations are each other's peer: the
 * ChannelData from one reaches the other from the media port, header kept,
 * with the channel number the other bound for the first.
 */
static void hairpin(const struct lab *l, bool zero_csum, size_t dlen)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX], cd[1500], wcd[1500];
	struct nt_turn_fwd f = fwd(l->media, l->client2, 1), got;
	struct nt_turn_chan_key k = { .channel = CHANNEL };
	struct harness h;
	size_t len, wlen, out_len = sizeof(out), n;
	uint8_t data[1200];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	f.flags = NT_TURN_F_HAIRPIN;
	f.channel = 0x7ffe;
	setup(&h, true);
	put_chan(&h, l->client, CHANNEL, &f);
	n = channel_data(cd, CHANNEL, data, dlen, 0);
	len = frame(in, l->client, l->media, mac_client_gw, mac_relay, 50, cd, n, zero_csum);
	n = channel_data(wcd, 0x7ffe, data, dlen, 0);
	wlen = frame(want, l->media, l->client2, mac_relay, mac_next, 49, wcd, n, zero_csum);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(out_len, wlen, "length %zu, want %zu", out_len, wlen);
	cr_assert_arr_eq(out, want, wlen, "the frame to the other client differs");
	ep(&k.client, l->client);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(h.skel->maps.nt_turn_chans), &k, &got), 0);
	cr_assert_eq(got.packets, 1);
	cr_assert_eq(got.bytes, dlen);
	harness_close(&h);
}

Test(xdp_turn, hairpin_to_another_allocation_keeps_the_header)
{
	hairpin(&v4, false, 100);
	hairpin(&v4, false, 17);
	hairpin(&v4, false, 1200);
	hairpin(&v6, false, 100);
	hairpin(&v6, false, 17);
	hairpin(&v6, false, 1200);
}

Test(xdp_turn, hairpin_zero_udp_checksum_stays_zero)
{
	hairpin(&v4, true, 64);
}

Test(xdp_turn, peer_datagram_to_client_as_channel_data)
{
	peer_side(&v4, 100);
	peer_side(&v4, 3);
	peer_side(&v4, 1200);
	peer_side(&v6, 100);
	peer_side(&v6, 3);
	peer_side(&v6, 1200);
}

/* A client over --max-pps: its ChannelData dropped and counted in the channel's entry. */
static void over_rate(const struct lab *l)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], cd[64];
	struct nt_config cfg = { .media_port = 3478, .flags = NT_CONFIG_F_TURN,
				 /* one packet a second, a burst of one */
				 .pkt_cost_ns = 1000000000ull, .burst_ns = 1000000000ull };
	struct nt_turn_fwd f = fwd(l->relayed, l->peer, 1), got;
	struct nt_turn_chan_key k = { .channel = CHANNEL };
	struct harness h;
	size_t len, n;

	cr_assert_eq(harness_open(&h, true), 0, "load failed (root needed)");
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
	inet_pton(AF_INET6, "2001:db8::1", cfg.relay_v6);
	cr_assert_eq(nt_maps_set_config(&h.maps, &cfg), 0);
	put_chan(&h, l->client, CHANNEL, &f);
	n = channel_data(cd, CHANNEL, dtls, sizeof(dtls), 0);
	len = frame(in, l->client, l->media, mac_client_gw, mac_relay, 50, cd, n, false);
	for (int i = 0; i < 3; i++) {
		size_t out_len = sizeof(out);

		cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), i ? XDP_DROP : XDP_TX,
			     "frame %d", i);
	}
	ep(&k.client, l->client);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(h.skel->maps.nt_turn_chans), &k, &got), 0);
	cr_assert_eq(got.packets, 1);
	cr_assert_eq(got.rate_drops, 2);
	harness_close(&h);
}

Test(xdp_turn, client_over_the_rate_dropped_and_counted)
{
	over_rate(&v4);
	over_rate(&v6);
}

/* Frames that must reach nattravd as they came. */
static void passed_untouched(bool turn, bool padded, int route_ifindex, uint16_t channel)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], cd[256];
	struct nt_turn_fwd f = fwd("203.0.113.1:50001", "198.51.100.20:7000", route_ifindex);
	struct harness h;
	size_t len, out_len = sizeof(out), n;

	setup(&h, turn);
	put_chan(&h, "192.0.2.10:40000", CHANNEL, &f);
	n = channel_data(cd, channel, dtls, sizeof(dtls), padded ? 3 : 0);
	len = frame(in, "192.0.2.10:40000", "203.0.113.1:3478", mac_client_gw, mac_relay, 50, cd,
		    n, false);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), turn ? XDP_PASS : XDP_DROP);
	cr_assert_eq(out_len, len);
	cr_assert_arr_eq(out, in, len, "a frame for nattravd was changed");
	harness_close(&h);
}

Test(xdp_turn, padded_channel_data_to_nattravd)
{
	passed_untouched(true, true, 1, CHANNEL);
}

Test(xdp_turn, unknown_channel_to_nattravd)
{
	passed_untouched(true, false, 1, CHANNEL + 1);
}

Test(xdp_turn, next_hop_elsewhere_to_nattravd)
{
	passed_untouched(true, false, 9999, CHANNEL);
}

Test(xdp_turn, turn_off_channel_data_is_unverified_media)
{
	passed_untouched(false, false, 1, CHANNEL);
}

Test(xdp_turn, peer_without_entry_passes)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct harness h;
	size_t len, out_len = sizeof(out);

	setup(&h, true);
	len = frame(in, "198.51.100.20:7000", "203.0.113.1:50001", mac_client_gw, mac_relay, 50,
		    dtls, sizeof(dtls), false);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_PASS);
	cr_assert_arr_eq(out, in, len);
	harness_close(&h);
}

/*
 * Mutated ChannelData and peer datagrams, both families, through a program
 * with channels installed: a known verdict always, a passed frame
 * untouched, and a relayed one well formed (pkt_parse), addressed to the
 * channel's far end, with checksums that verify when they did on the way in.
 */
Test(xdp_turn, mutated_frames_relay_only_when_well_formed, .timeout = 120)
{
	static const struct lab *labs[2] = { &v4, &v6 };
	uint8_t in[PKT_MAX], out[PKT_MAX], cd[300], data[200];
	unsigned tx = 0, pass = 0, drop = 0;
	struct harness h;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 29 + 5);
	setup(&h, true);
	for (int i = 0; i < 2; i++) {
		struct nt_turn_fwd cf = fwd(labs[i]->relayed, labs[i]->peer, 1);
		struct nt_turn_fwd pf = fwd(labs[i]->media, labs[i]->client, 1);

		put_chan(&h, labs[i]->client, CHANNEL, &cf);
		put_peer(&h, labs[i]->relayed, labs[i]->peer, &pf);
	}
	srand(4242);
	for (unsigned r = 0; r < 100000; r++) {
		const struct lab *l = labs[rand() % 2];
		bool from_client = rand() % 2;
		size_t dlen = 1 + (size_t)rand() % sizeof(data), n, len, out_len = sizeof(out);
		struct nt_endpoint to;
		struct pkt_view v;
		bool sums_in;
		int verdict;

		if (from_client) {
			n = channel_data(cd, CHANNEL, data, dlen, 0);
			len = frame(in, l->client, l->media, mac_client_gw, mac_relay, 50, cd, n, false);
		} else {
			len = frame(in, l->peer, l->relayed, mac_client_gw, mac_relay, 50, data, dlen,
				    false);
		}
		for (int i = 0, flips = rand() % 4; i < flips; i++)
			in[(size_t)rand() % (len < 90 ? len : 90)] = (uint8_t)rand();
		if (rand() % 8 == 0)
			len = 14 + (size_t)rand() % (len - 14);
		sums_in = pkt_sums_ok(in, len, false);
		verdict = harness_run(&h, in, len, out, &out_len, 0);
		cr_assert(verdict == XDP_TX || verdict == XDP_PASS || verdict == XDP_DROP,
			  "round %u: verdict %d", r, verdict);
		if (verdict == XDP_PASS) {
			pass++;
			cr_assert_eq(out_len, len, "round %u: passed frame resized", r);
			cr_assert_arr_eq(out, in, len, "round %u: passed frame modified", r);
			continue;
		}
		if (verdict == XDP_DROP) {
			drop++;
			continue;
		}
		tx++;
		cr_assert(pkt_parse(out, out_len, &v), "round %u: relayed frame malformed", r);
		if (sums_in)
			cr_assert(pkt_sums_ok(out, out_len, false),
				  "round %u: checksums broken by the rewrite", r);
		ep(&to, v.family == NT_FAMILY_V4 ? (from_client ? v4.peer : v4.client) :
						   (from_client ? v6.peer : v6.client));
		cr_assert_eq(out[v.l4 + 2] << 8 | out[v.l4 + 3], to.port,
			     "round %u: wrong destination port", r);
	}
	cr_log_info("turn fuzz: %u tx, %u pass, %u drop", tx, pass, drop);
	cr_assert_gt(tx, 1000);
	cr_assert_gt(pass, 1000);
	harness_close(&h);
}
