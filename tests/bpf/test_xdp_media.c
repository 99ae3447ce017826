// SPDX-License-Identifier: GPL-2.0
/*
 * Media is any datagram: the XDP forwarder relays DTLS records, QUIC, an
 * application's own framing, any first byte, any length, with the payload
 * untouched; only a datagram of 20 bytes or more with the STUN magic cookie
 * at bytes 4..7 (and first two bits 00) goes to the daemon as control. Each
 * frame is compared byte for byte with one rebuilt from scratch.
 */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include "xdp_harness.h"

#define RELAY4 "203.0.113.1"
#define RELAY6 "2001:db8::1"
#define MEDIA_PORT 3478

static const uint8_t mac_sender[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_relay[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* DTLS 1.2 record with the start of a ClientHello (RFC 6347 4.2.2) */
static const uint8_t dtls_hello[] = { 22,   0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2c,
				      1,    0,    0,    0x20, 0, 0, 0, 0, 0, 0, 0, 0x20,
				      0xfe, 0xfd, 1,    2,    3, 4, 5, 6, 7, 8, 9, 10, 11,
				      12,   13,   14,   15,   16 };
/* first byte 0, but the cookie one byte off: not control */
static const uint8_t near_cookie[] = { 0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x43, 9, 9, 9, 9,
				       9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };
/* cookie in place but 19 bytes: shorter than a STUN header, so media */
static const uint8_t short_cookie[] = { 0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2,
					3, 4, 5, 6, 7, 8, 9, 10, 11 };
/* cookie in place but first bits 01: RFC 7983's 64..127, not control */
static const uint8_t bits01_cookie[] = { 0x40, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2,
					 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t stun_binding[] = { 0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2,
					3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t one_byte[] = { 0xff };

static void ep(struct nt_endpoint *e, const char *s)
{
	cr_assert_eq(nt_endpoint_parse(s, e), 0, "bad endpoint %s", s);
}

/* Loaded in a namespace of its own, config set, a verified mapping for the sender. */
static void setup(struct harness *h, int family, struct pkt_spec *s, struct nt_endpoint *peer)
{
	struct nt_config cfg = { .media_port = MEDIA_PORT };
	struct nt_mapping m = { .group_id = 7, .session_id = 99 };
	bool v4 = family == 4;

	cr_assert_eq(harness_open(h, true), 0, "load failed (root needed)");
	inet_pton(AF_INET, RELAY4, cfg.relay_v4);
	inet_pton(AF_INET6, RELAY6, cfg.relay_v6);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, mac_sender, 6);
	memcpy(s->dst_mac, mac_relay, 6);
	ep(&s->src, v4 ? "192.0.2.10:40000" : "[2001:db8:1::10]:40000");
	ep(&s->dst, v4 ? RELAY4 ":3478" : "[" RELAY6 "]:3478");
	ep(peer, v4 ? "198.51.100.20:50000" : "[2001:db8:2::20]:50000");
	m.peer = *peer;
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &s->src, &m), 0);
}

/*
 * Run payload p through the program; it must be relayed to the peer, the
 * frame exactly the rebuilt one (payload unchanged), or with control passed
 * up untouched. One counter moves.
 */
static void run_one(struct harness *h, struct pkt_spec *s, const struct nt_endpoint *peer,
		    const uint8_t *p, size_t n, bool control, const char *what)
{
	struct nt_counter before[NT_STAT_MAX], after[NT_STAT_MAX];
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	enum nt_stat stat = control ? NT_STAT_PASS_CONTROL : NT_STAT_FORWARDED;
	struct pkt_spec o;
	size_t len, out_len = sizeof(out), want_len;
	int verdict;

	s->payload = p;
	s->payload_len = n;
	len = pkt_build(s, in, sizeof(in));
	cr_assert_gt(len, 0);
	cr_assert_eq(nt_maps_read_stats(&h->maps, before), 0);
	verdict = harness_run(h, in, len, out, &out_len, 0);
	cr_assert_eq(verdict, control ? XDP_PASS : XDP_TX, "%s: verdict %d", what, verdict);
	cr_assert_eq(nt_maps_read_stats(&h->maps, after), 0);
	for (int k = 0; k < NT_STAT_MAX; k++)
		cr_assert_eq(after[k].packets - before[k].packets, k == (int)stat ? 1u : 0u,
			     "%s: counter %d moved", what, k);
	cr_assert_eq(out_len, len, "%s: length changed", what);
	if (control) {
		cr_assert_arr_eq(out, in, len, "%s: control frame modified", what);
		return;
	}
	o = *s;
	memcpy(o.src_mac, s->dst_mac, 6);
	memcpy(o.dst_mac, s->src_mac, 6);
	o.src = s->dst;
	o.dst = *peer;
	o.ttl = 63;
	want_len = pkt_build(&o, want, sizeof(want));
	cr_assert_eq(want_len, len);
	cr_assert(pkt_sums_ok(out, out_len, false), "%s: checksums wrong", what);
	cr_assert_arr_eq(out, want, len, "%s: relayed frame differs", what);
	cr_assert_arr_eq(out + len - n, p, n, "%s: payload changed", what);
}

static void kinds(int family)
{
	static uint8_t quic[1200], big[1400];
	const struct {
		const char *what;
		const uint8_t *p;
		size_t n;
		bool control;
	} t[] = {
		{ "DTLS ClientHello record", dtls_hello, sizeof(dtls_hello), false },
		{ "QUIC Initial, 1200 bytes", quic, sizeof(quic), false },
		{ "1400 bytes of anything", big, sizeof(big), false },
		{ "first byte 0, cookie one byte off", near_cookie, sizeof(near_cookie), false },
		{ "cookie but 19 bytes", short_cookie, sizeof(short_cookie), false },
		{ "cookie but first bits 01", bits01_cookie, sizeof(bits01_cookie), false },
		{ "one byte", one_byte, sizeof(one_byte), false },
		{ "STUN Binding with the cookie: control", stun_binding, sizeof(stun_binding), true },
	};
	struct nt_endpoint peer;
	struct harness h;
	struct pkt_spec s;

	srand(7);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)rand();
	memcpy(quic, big, sizeof(quic));
	quic[0] = 0xc3; /* long header, Initial */
	quic[1] = quic[2] = quic[3] = 0;
	quic[4] = 1;
	big[4] = 0; /* no cookie by chance */
	setup(&h, family, &s, &peer);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		run_one(&h, &s, &peer, t[i].p, t[i].n, t[i].control, t[i].what);
	harness_close(&h);
}

Test(xdp_media, kinds_v4)
{
	kinds(4);
}

Test(xdp_media, kinds_v6)
{
	kinds(6);
}

/* Every first byte is media as long as the cookie is not at bytes 4..7. */
Test(xdp_media, every_first_byte)
{
	struct nt_endpoint peer;
	uint8_t p[64];
	struct harness h;
	struct pkt_spec s;
	char what[32];

	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 37 + 5);
	setup(&h, 4, &s, &peer);
	for (int b = 0; b < 256; b++) {
		p[0] = (uint8_t)b;
		snprintf(what, sizeof(what), "first byte %d", b);
		run_one(&h, &s, &peer, p, sizeof(p), false, what);
	}
	harness_close(&h);
}
