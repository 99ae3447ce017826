// SPDX-License-Identifier: GPL-2.0
/*
 * Random and mutated frames through the verifier-accepted program. Whatever
 * the bytes, the program must answer with a known verdict, and it may only
 * bounce (XDP_TX) a frame whose headers are consistent: IP and UDP lengths
 * within the frame, no fragment, no options, the source a verified mapping.
 * A bounced frame must leave addressed relay:media -> peer with checksums
 * that still verify when they verified on the way in.
 */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include "xdp_harness.h"

#define ROUNDS 200000

static struct nt_endpoint sender4, sender6, peer4, peer6, relay4, relay6;

static void setup(struct harness *h)
{
	struct nt_config cfg = { .media_port = 3478 };
	struct nt_mapping m = {};

	cr_assert_eq(harness_open(h, true), 0);
	cr_assert_eq(nt_endpoint_parse("192.0.2.10:40000", &sender4), 0);
	cr_assert_eq(nt_endpoint_parse("[2001:db8:1::10]:40000", &sender6), 0);
	cr_assert_eq(nt_endpoint_parse("198.51.100.20:50000", &peer4), 0);
	cr_assert_eq(nt_endpoint_parse("[2001:db8:2::20]:50000", &peer6), 0);
	cr_assert_eq(nt_endpoint_parse("203.0.113.1:3478", &relay4), 0);
	cr_assert_eq(nt_endpoint_parse("[2001:db8::1]:3478", &relay6), 0);
	memcpy(cfg.relay_v4, relay4.addr + 12, 4);
	memcpy(cfg.relay_v6, relay6.addr, 16);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
	m.peer = peer4;
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &sender4, &m), 0);
	m.peer = peer6;
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &sender6, &m), 0);
}

static size_t template(uint8_t *buf, unsigned seed)
{
	return pkt_fuzz_template(buf, seed, &sender4, &sender6, &relay4, &relay6);
}

Test(xdp_fuzz, mutated_frames_never_bounce_when_malformed, .timeout = 120)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	unsigned tx = 0, pass = 0, drop = 0;
	struct harness h;

	setup(&h);
	srand(12345);
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t len = template(in, (unsigned)rand()), out_len = sizeof(out);
		bool sums_in;
		int flips = 1 + rand() % 4, verdict;

		/* a few random bytes anywhere in the headers, sometimes a shorter frame */
		for (int i = 0; i < flips; i++)
			in[(size_t)rand() % (len < 80 ? len : 80)] = (uint8_t)rand();
		if (rand() % 8 == 0)
			len = 14 + (size_t)rand() % (len - 14);
		sums_in = pkt_sums_ok(in, len, false);

		verdict = harness_run(&h, in, len, out, &out_len, 0);
		cr_assert(verdict == XDP_TX || verdict == XDP_PASS || verdict == XDP_DROP,
			  "round %u: verdict %d", r, verdict);
		if (verdict == XDP_PASS) {
			pass++;
			cr_assert_arr_eq(out, in, len, "round %u: passed frame modified", r);
		} else if (verdict == XDP_DROP) {
			drop++;
		} else {
			struct pkt_view v;

			tx++;
			cr_assert(pkt_forwardable(in, len), "round %u: malformed frame bounced", r);
			cr_assert(pkt_parse(out, out_len, &v));
			if (sums_in)
				cr_assert(pkt_sums_ok(out, out_len, false),
					  "round %u: checksums broken by the rewrite", r);
			const struct nt_endpoint *peer = v.family == NT_FAMILY_V4 ? &peer4 : &peer6;
			cr_assert_eq(pkt_get16(out + v.l4 + 2), peer->port, "round %u: wrong port", r);
		}
	}
	cr_log_info("%u rounds: %u tx, %u pass, %u drop", ROUNDS, tx, pass, drop);
	/* the mutations must exercise every verdict, or the test proves little */
	cr_assert_gt(tx, 100);
	cr_assert_gt(pass, 100);
	cr_assert_gt(drop, 100);
	harness_close(&h);
}

Test(xdp_fuzz, random_bytes_never_bounce, .timeout = 120)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct harness h;

	setup(&h);
	srand(777);
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t len = 14 + (size_t)rand() % 200, out_len = sizeof(out);
		int verdict;

		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)rand();
		verdict = harness_run(&h, in, len, out, &out_len, 0);
		cr_assert(verdict == XDP_PASS || verdict == XDP_DROP || pkt_forwardable(in, len),
			  "round %u: verdict %d for random bytes", r, verdict);
	}
	harness_close(&h);
}
