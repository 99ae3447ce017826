// SPDX-License-Identifier: GPL-2.0
/* nattrav-client library, pure logic: test media packets, receive stats, session grant. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "nattrav_client.h"
#include "nt_wire.h"

Test(client_media, round_trip_and_layout)
{
	struct nt_client_media m = { .pt = 96, .ssrc = 0xdeadbeef, .seq = 0x1234567890abull,
				     .send_ns = 0x0102030405060708ull }, d;
	uint8_t buf[200];

	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(nt_client_media_encode(buf, sizeof(buf), 100, &m), 100);
	cr_assert_eq(buf[0], 0x80, "RTP version 2, no padding/extension/CSRC");
	cr_assert_eq(buf[1], 96);
	cr_assert_eq(buf[2], 0x90);
	cr_assert_eq(buf[3], 0xab, "low 16 bits of the sequence");
	cr_assert_eq(buf[8], 0xde);
	cr_assert_eq(buf[11], 0xef);
	cr_assert_eq(buf[12], 0x01);
	cr_assert_eq(buf[19], 0x08);
	cr_assert_eq(buf[22], 0x12);
	cr_assert_eq(buf[27], 0xab);
	for (int i = NT_CLIENT_MEDIA_HDR_LEN; i < 100; i++)
		cr_assert_eq(buf[i], 0, "padding at %d", i);
	cr_assert_eq(buf[100], 0xee, "nothing written past size");
	cr_assert_not(nt_wire_is_control(buf, 100), "media never looks like a control message");
	cr_assert_eq(nt_client_media_decode(buf, 100, &d), 0);
	cr_assert_eq(d.pt, 96);
	cr_assert_eq(d.ssrc, 0xdeadbeef);
	cr_assert_eq(d.seq, m.seq);
	cr_assert_eq(d.send_ns, m.send_ns);
}

Test(client_media, rejects)
{
	struct nt_client_media m = { .pt = 96, .seq = 1 }, d;
	uint8_t buf[64];

	cr_assert_eq(nt_client_media_encode(buf, sizeof(buf), NT_CLIENT_MEDIA_HDR_LEN - 1, &m), -EINVAL);
	cr_assert_eq(nt_client_media_encode(buf, sizeof(buf), 65, &m), -ENOSPC);
	m.pt = 128;
	cr_assert_eq(nt_client_media_encode(buf, sizeof(buf), 40, &m), -EINVAL);
	m.pt = 0;
	cr_assert_eq(nt_client_media_encode(buf, sizeof(buf), NT_CLIENT_MEDIA_HDR_LEN, &m),
		     NT_CLIENT_MEDIA_HDR_LEN);
	cr_assert_eq(nt_client_media_decode(buf, NT_CLIENT_MEDIA_HDR_LEN - 1, &d), -EINVAL);
	buf[3] ^= 1; /* RTP sequence disagrees with the 64-bit one */
	cr_assert_eq(nt_client_media_decode(buf, NT_CLIENT_MEDIA_HDR_LEN, &d), -EINVAL);
	buf[3] ^= 1;
	buf[0] = 0x02; /* a control message's first byte */
	cr_assert_eq(nt_client_media_decode(buf, NT_CLIENT_MEDIA_HDR_LEN, &d), -EINVAL);
}

static struct nt_client_stats_summary feed(const uint64_t *seq, size_t n, uint32_t ssrc,
					   struct nt_client_stats *s)
{
	struct nt_client_stats_summary sum;

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(nt_client_stats_add(s, ssrc, seq[i], 10), 0);
	nt_client_stats_summary(s, &sum);
	return sum;
}

#define FEED(s, ssrc, ...)                                                                  \
	feed((const uint64_t[]){ __VA_ARGS__ }, sizeof((const uint64_t[]){ __VA_ARGS__ }) / 8, \
	     ssrc, s)

Test(client_stats, in_order)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

	cr_assert_eq(r.received, 10);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.out_of_order, 0);
	cr_assert_eq(r.duplicates, 0);
	cr_assert_eq(r.senders, 1);
	cr_assert_eq(r.lat_samples, 10);
	nt_client_stats_free(s);
}

Test(client_stats, gaps_are_lost)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 1, 2, 4, 7);

	cr_assert_eq(r.received, 4);
	cr_assert_eq(r.lost, 3, "3, 5 and 6");
	cr_assert_eq(r.out_of_order, 0);
	nt_client_stats_free(s);
}

Test(client_stats, late_start_is_not_loss)
{
	/* RFC 3550: expected counts from the first sequence received */
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 50, 51, 52);

	cr_assert_eq(r.lost, 0);
	nt_client_stats_free(s);
}

Test(client_stats, reordering_fills_the_gap)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 1, 3, 2, 5, 4, 6);

	cr_assert_eq(r.received, 6);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.out_of_order, 2, "2 after 3, 4 after 5");
	nt_client_stats_free(s);
}

Test(client_stats, reordered_below_first)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 5, 3, 6);

	cr_assert_eq(r.lost, 1, "4 between the lowest (3) and the highest (6)");
	cr_assert_eq(r.out_of_order, 1);
	nt_client_stats_free(s);
}

Test(client_stats, duplicates)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 1, 2, 2, 3, 1, 3);

	cr_assert_eq(r.received, 6, "duplicates are received too");
	cr_assert_eq(r.duplicates, 3);
	cr_assert_eq(r.out_of_order, 0, "a duplicate is not also reordered");
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.lat_samples, 3, "one latency sample per distinct packet");
	nt_client_stats_free(s);
}

Test(client_stats, senders_are_separate)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r;

	FEED(s, 0xaaaa, 1, 2, 3);
	r = FEED(s, 0xbbbb, 1, 3);
	cr_assert_eq(r.senders, 2);
	cr_assert_eq(r.received, 5);
	cr_assert_eq(r.duplicates, 0, "same sequence from another sender is no duplicate");
	cr_assert_eq(r.lost, 1);
	cr_assert_eq(r.out_of_order, 0);
	nt_client_stats_free(s);
}

Test(client_stats, huge_sequence_does_not_allocate)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r = FEED(s, 1, 1ull << 60, (1ull << 60) + 1);

	cr_assert_eq(r.received, 2);
	cr_assert_eq(r.lost, 0);
	nt_client_stats_free(s);
}

Test(client_stats, percentiles)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r;
	uint64_t v[10] = { 7, 1, 3, 9, 5, 2, 10, 4, 8, 6 }, one = 42;

	/* latencies 100..1 us, given in reverse */
	for (uint64_t i = 1; i <= 100; i++)
		cr_assert_eq(nt_client_stats_add(s, 9, i, (int64_t)(101 - i)), 0);
	cr_assert_eq(nt_client_stats_add(s, 9, 101, -1), 0, "unknown latency: no sample");
	nt_client_stats_summary(s, &r);
	cr_assert_eq(r.lat_samples, 100);
	cr_assert_eq(r.lat_p50_us, 50);
	cr_assert_eq(r.lat_p90_us, 90);
	cr_assert_eq(r.lat_p99_us, 99);
	cr_assert_eq(r.lat_max_us, 100);
	nt_client_stats_free(s);

	cr_assert_eq(nt_client_percentile(v, 10, 50), 5);
	cr_assert_eq(nt_client_percentile(v, 10, 90), 9);
	cr_assert_eq(nt_client_percentile(v, 10, 99), 10, "nearest rank rounds up");
	cr_assert_eq(nt_client_percentile(v, 10, 100), 10);
	cr_assert_eq(nt_client_percentile(v, 10, 1), 1);
	cr_assert_eq(nt_client_percentile(&one, 1, 50), 42);
	cr_assert_eq(nt_client_percentile(NULL, 0, 50), 0);
}

Test(client_stats, empty)
{
	struct nt_client_stats *s = nt_client_stats_new();
	struct nt_client_stats_summary r;

	nt_client_stats_summary(s, &r);
	cr_assert_eq(r.received + r.lost + r.lat_p50_us + r.lat_max_us + r.senders, 0);
	nt_client_stats_free(s);
	nt_client_stats_free(NULL);
}

#define KEYHEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

Test(client_grant, parses_the_join_reply)
{
	struct nt_client_grant g;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&g.media;

	cr_assert_eq(nt_client_grant_parse("OK JOIN session=9f2c44d0a1b2c3d4 key=" KEYHEX
					   " media=203.0.113.1:3478 group=room1 consent=30 keepalive=10",
					   &g), 0);
	cr_assert_eq(g.session, 0x9f2c44d0a1b2c3d4ull);
	for (int i = 0; i < 32; i++)
		cr_assert_eq(g.key[i], i);
	cr_assert_eq(sin->sin_family, AF_INET);
	cr_assert_eq(ntohs(sin->sin_port), 3478);
	cr_assert_eq(ntohl(sin->sin_addr.s_addr), 0xcb007101);
	cr_assert_eq(g.media_len, sizeof(struct sockaddr_in));
	cr_assert_str_eq(g.media_str, "203.0.113.1:3478");
	cr_assert_str_eq(g.group, "room1");
	cr_assert_eq(g.consent_s, 30);
	cr_assert_eq(g.keepalive_s, 10);
}

Test(client_grant, defaults_unknown_fields_v6)
{
	struct nt_client_grant g;

	cr_assert_eq(nt_client_grant_parse("OK JOIN media=[2001:db8::1]:4000 future=x session=0000000000000001 key=" KEYHEX,
					   &g), 0);
	cr_assert_eq(g.session, 1);
	cr_assert_eq(g.media.ss_family, AF_INET6);
	cr_assert_str_eq(g.media_str, "[2001:db8::1]:4000");
	cr_assert_eq(g.consent_s, 30, "default consent window");
	cr_assert_eq(g.keepalive_s, 10, "default keepalive");
	cr_assert_eq(nt_client_grant_parse("OK JOIN session=0000000000000001 key=" KEYHEX
					   " media=10.0.0.1:1 consent=3 keepalive=1", &g), 0);
	cr_assert_eq(g.consent_s, 3);
	cr_assert_eq(g.keepalive_s, 1);
}

Test(client_grant, rejects)
{
	static const char *const bad[] = {
		"ERR 403 group denied",
		"OK AUTH user=alice expires=1",
		"EVT VERIFIED session=0000000000000001 mapping=1.2.3.4:5",
		"OK JOIN key=" KEYHEX " media=203.0.113.1:3478",
		"OK JOIN session=0000000000000000 key=" KEYHEX " media=203.0.113.1:3478",
		"OK JOIN session=9f2c44d0a1b2c3d4 media=203.0.113.1:3478",
		"OK JOIN session=9f2c44d0a1b2c3d4 key=0001 media=203.0.113.1:3478",
		"OK JOIN session=9f2c44d0a1b2c3d4 key=" KEYHEX,
		"OK JOIN session=9f2c44d0a1b2c3d4 key=" KEYHEX " media=203.0.113.1",
		"OK JOIN session=9f2c44d0a1b2c3d4 key=" KEYHEX " media=relay:3478",
		"OK JOIN session=9f2c44d0a1b2c3d4 key=" KEYHEX " media=203.0.113.1:3478 consent=x",
		"OK JOIN session=9f2c44d0a1b2c3d4 key=" KEYHEX " media=203.0.113.1:3478 keepalive=0",
		"OK JOIN  session=9f2c44d0a1b2c3d4",
		"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nt_client_grant g;

		cr_assert_lt(nt_client_grant_parse(bad[i], &g), 0, "accepted: %s", bad[i]);
	}
}
