// SPDX-License-Identifier: GPL-2.0
/*
 * TURN channels in XDP (bpf/nt_turn.h), one crafted frame at a time: a
 * client's ChannelData leaves without its header from the relayed address
 * to the peer, a peer's datagram leaves with the header from the media port
 * to the client, each byte for byte as built independently (checksums
 * recomputed from scratch by pkt_build); padded ChannelData, a channel with
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

static void ep(struct nt_endpoint *e, const char *s)
{
	cr_assert_eq(nt_endpoint_parse(s, e), 0, "bad endpoint %s", s);
}

static void setup(struct harness *h, bool turn)
{
	struct nt_config cfg = { .media_port = 3478, .flags = turn ? NT_CONFIG_F_TURN : 0 };

	cr_assert_eq(harness_open(h, true), 0, "load failed (root needed)");
	inet_pton(AF_INET, "203.0.113.1", cfg.relay_v4);
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

static void client_side(bool zero_csum, size_t dlen)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX], cd[1500];
	struct nt_turn_fwd f = fwd("203.0.113.1:50001", "198.51.100.20:7000", 1), got;
	struct nt_turn_chan_key k = { .channel = CHANNEL };
	struct harness h;
	size_t len, wlen, out_len = sizeof(out), n;
	uint8_t data[1200];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memcpy(data, dtls, sizeof(dtls));
	setup(&h, true);
	put_chan(&h, "192.0.2.10:40000", CHANNEL, &f);
	n = channel_data(cd, CHANNEL, data, dlen, 0);
	len = frame(in, "192.0.2.10:40000", "203.0.113.1:3478", mac_client_gw, mac_relay, 50, cd,
		    n, zero_csum);
	wlen = frame(want, "203.0.113.1:50001", "198.51.100.20:7000", mac_relay, mac_next, 49,
		     data, dlen, zero_csum);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(out_len, wlen, "length %zu, want %zu", out_len, wlen);
	cr_assert_arr_eq(out, want, wlen, "the frame to the peer differs");
	ep(&k.client, "192.0.2.10:40000");
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(h.skel->maps.nt_turn_chans), &k, &got), 0);
	cr_assert_eq(got.packets, 1);
	cr_assert_eq(got.bytes, dlen);
	harness_close(&h);
}

Test(xdp_turn, client_channel_data_to_peer)
{
	client_side(false, 100);
}

Test(xdp_turn, client_odd_length_and_large)
{
	client_side(false, 17);
	client_side(false, 1200);
}

Test(xdp_turn, client_zero_udp_checksum_stays_zero)
{
	client_side(true, 64);
}

static void peer_side(size_t dlen)
{
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX], cd[1500], data[1200];
	struct nt_turn_fwd f = fwd("203.0.113.1:3478", "192.0.2.10:40000", 1);
	struct harness h;
	size_t len, wlen, out_len = sizeof(out), n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	setup(&h, true);
	put_peer(&h, "203.0.113.1:50001", "198.51.100.20:7000", &f);
	len = frame(in, "198.51.100.20:7000", "203.0.113.1:50001", mac_client_gw, mac_relay, 50,
		    data, dlen, false);
	n = channel_data(cd, CHANNEL, data, dlen, 0);
	wlen = frame(want, "203.0.113.1:3478", "192.0.2.10:40000", mac_relay, mac_next, 49, cd, n,
		     false);
	cr_assert_eq(harness_run(&h, in, len, out, &out_len, 0), XDP_TX);
	cr_assert_eq(out_len, wlen, "length %zu, want %zu", out_len, wlen);
	cr_assert_arr_eq(out, want, wlen, "the frame to the client differs");
	harness_close(&h);
}

Test(xdp_turn, peer_datagram_to_client_as_channel_data)
{
	peer_side(100);
	peer_side(3);
	peer_side(1200);
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
