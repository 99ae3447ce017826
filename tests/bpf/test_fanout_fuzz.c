// SPDX-License-Identifier: GPL-2.0
/*
 * Mutated frames through the TC fan-out program, as the XDP fuzz test does
 * for the XDP program. Whatever the bytes, the program must answer with a
 * known verdict, leave alone what it passes, and send on (redirect the
 * packet itself to the last member) only a frame whose headers are
 * consistent; that frame must leave addressed relay:media -> the last member
 * of its family, one hop older, with checksums that still verify when they
 * verified on the way in. The clones go out of lo (no FIB: back where the
 * packet came from), where the stack of this test's own namespace drops them.
 */
#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <errno.h>
#include <stdlib.h>
#include "xdp_harness.h"

#define ROUNDS 50000
#define GROUP_ID 7
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

/* members: the two senders, then two receivers of each family */
static struct nt_endpoint ep[6], relay4, relay6;
static const char *const names[6] = {
	"192.0.2.10:40000",	  "[2001:db8:1::10]:40000", "198.51.100.20:50000",
	"[2001:db8:2::20]:50000", "198.51.100.21:50001",    "[2001:db8:2::21]:50001",
};

static void setup(struct harness *h)
{
	struct nt_config cfg = { .media_port = 3478, .flags = NT_CONFIG_F_NO_FIB };
	struct nt_mapping m = { .group_id = GROUP_ID, .flags = NT_MAPPING_F_FANOUT };
	struct nt_fanout_group g = { .n_members = 6 };
	int key = GROUP_ID;

	cr_assert_eq(harness_open(h, true), 0);
	cr_assert_eq(system("ip link set lo up"), 0);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(nt_endpoint_parse(names[i], &ep[i]), 0);
		g.members[i] = ep[i];
	}
	cr_assert_eq(nt_endpoint_parse("203.0.113.1:3478", &relay4), 0);
	cr_assert_eq(nt_endpoint_parse("[2001:db8::1]:3478", &relay6), 0);
	memcpy(cfg.relay_v4, relay4.addr + 12, 4);
	memcpy(cfg.relay_v6, relay6.addr, 16);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(h->skel->maps.nt_groups), &key, &g, 0), 0);
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &ep[0], &m), 0);
	cr_assert_eq(nt_maps_put_mapping(&h->maps, &ep[1], &m), 0);
}

static size_t template(uint8_t *buf, unsigned seed)
{
	return pkt_fuzz_template(buf, seed, &ep[0], &ep[1], &relay4, &relay6);
}

Test(fanout_fuzz, mutated_frames_never_sent_when_malformed, .timeout = 120)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	unsigned sent = 0, pass = 0, drop = 0;
	struct __sk_buff ctx = { .ifindex = 1, .ingress_ifindex = 1 };
	int fd;
	struct harness h;

	setup(&h);
	fd = bpf_program__fd(h.skel->progs.nt_tc_fanout);
	srand(4242);
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t len = template(in, (unsigned)rand());
		int flips = 1 + rand() % 4;
		bool sums_in;

		for (int i = 0; i < flips; i++)
			in[(size_t)rand() % (len < 80 ? len : 80)] = (uint8_t)rand();
		if (rand() % 8 == 0)
			len = 14 + (size_t)rand() % (len - 14);
		sums_in = pkt_sums_ok(in, len, false);

		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);
		if (bpf_prog_test_run_opts(fd, &o)) {
			/* the test runner takes no skb shorter than Ethernet + IPv6 headers */
			cr_assert(errno == EINVAL && len < 54, "round %u (len %zu): %s", r, len,
				  strerror(errno));
			continue;
		}
		if (o.retval == TC_ACT_OK) {
			pass++;
			cr_assert_eq(o.data_size_out, len);
			cr_assert_arr_eq(out, in, len, "round %u: passed frame modified", r);
		} else if (o.retval == TC_ACT_SHOT) {
			drop++;
		} else {
			struct pkt_view v, vi;

			cr_assert_eq(o.retval, TC_ACT_REDIRECT, "round %u: verdict %u", r, o.retval);
			sent++;
			cr_assert(pkt_forwardable(in, len), "round %u: malformed frame sent", r);
			cr_assert(pkt_parse(in, len, &vi) && pkt_parse(out, o.data_size_out, &v));
			const struct nt_endpoint *last = &ep[v.family == NT_FAMILY_V4 ? 4 : 5];
			const struct nt_endpoint *relay = v.family == NT_FAMILY_V4 ? &relay4 : &relay6;

			if (sums_in)
				cr_assert(pkt_sums_ok(out, o.data_size_out, false),
					  "round %u: checksums broken by the rewrite", r);
			cr_assert_eq(pkt_get16(out + v.l4), relay->port, "round %u: source port", r);
			cr_assert_eq(pkt_get16(out + v.l4 + 2), last->port, "round %u: port", r);
			if (v.family == NT_FAMILY_V4) {
				cr_assert_arr_eq(out + v.l3 + 12, relay->addr + 12, 4, "round %u", r);
				cr_assert_arr_eq(out + v.l3 + 16, last->addr + 12, 4, "round %u", r);
				cr_assert_eq(out[v.l3 + 8], in[vi.l3 + 8] - 1, "round %u: TTL", r);
			} else {
				cr_assert_arr_eq(out + v.l3 + 8, relay->addr, 16, "round %u", r);
				cr_assert_arr_eq(out + v.l3 + 24, last->addr, 16, "round %u", r);
				cr_assert_eq(out[v.l3 + 7], in[vi.l3 + 7] - 1, "round %u: hops", r);
			}
		}
	}
	cr_log_info("%u rounds: %u sent, %u pass, %u drop", ROUNDS, sent, pass, drop);
	/* the mutations must exercise every verdict, or the test proves little */
	cr_assert_gt(sent, 100);
	cr_assert_gt(pass, 100);
	cr_assert_gt(drop, 100);
	harness_close(&h);
}
