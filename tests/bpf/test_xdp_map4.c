// SPDX-License-Identifier: GPL-2.0
/*
 * IPv4 senders' mappings in nt_mappings4 (struct nt_key4: address, port in
 * host byte order): the program finds them there and only there, userspace
 * reaches them as struct nt_endpoint like IPv6 ones, and pins of a version
 * that kept them in nt_mappings are moved over on load.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include "xdp_harness.h"
#include "nt_bpf_migrate.h"

#define RELAY4 "203.0.113.1"
#define RELAY6 "2001:db8::1"
#define SENDER4 "192.0.2.10:40000"
#define SENDER6 "[2001:db8:1::10]:40000"
#define PEER4 "198.51.100.20:50000"
#define PEER6 "[2001:db8:2::20]:50000"

static const uint8_t rtp[32] = { 0x80, 0x60, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef };

static void ep(struct nt_endpoint *e, const char *s)
{
	cr_assert_eq(nt_endpoint_parse(s, e), 0, "bad endpoint %s", s);
}

static void setup(struct harness *h)
{
	struct nt_config cfg = { .media_port = 3478 };

	cr_assert_eq(harness_open(h, true), 0, "load failed (root needed)");
	inet_pton(AF_INET, RELAY4, cfg.relay_v4);
	inet_pton(AF_INET6, RELAY6, cfg.relay_v6);
	cr_assert_eq(nt_maps_set_config(&h->maps, &cfg), 0);
}

/* Media from src to the relay's media port. */
static size_t frame(const char *src, uint8_t *buf)
{
	struct pkt_spec s = { .payload = rtp, .payload_len = sizeof(rtp) };
	size_t len;

	memcpy(s.src_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x0a }, 6);
	memcpy(s.dst_mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x01 }, 6);
	ep(&s.src, src);
	ep(&s.dst, src[0] == '[' ? "[" RELAY6 "]:3478" : RELAY4 ":3478");
	len = pkt_build(&s, buf, PKT_MAX);
	cr_assert_gt(len, 0);
	return len;
}

static int run(struct harness *h, const char *src)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len = frame(src, in), out_len = sizeof(out);

	return harness_run(h, in, len, out, &out_len, 0);
}

static struct nt_mapping to_peer(const char *peer)
{
	struct nt_mapping m = { .group_id = 7, .session_id = 99 };

	ep(&m.peer, peer);
	return m;
}

static __u64 stat_of(struct harness *h, enum nt_stat k)
{
	struct nt_counter st[NT_STAT_MAX];

	cr_assert_eq(nt_maps_read_stats(&h->maps, st), 0);
	return st[k].packets;
}

/* The key as the program builds it: address in network order, port as its number. */
Test(xdp_map4, key_is_address_and_host_order_port)
{
	struct nt_key4 k = { .port = 40000 };
	struct nt_mapping m = to_peer(PEER4), got;
	struct harness h;

	setup(&h);
	inet_pton(AF_INET, "192.0.2.10", k.addr);
	cr_assert_eq(bpf_map_update_elem(h.maps.mappings4_fd, &k, &m, BPF_ANY), 0);
	cr_assert_eq(run(&h, SENDER4), XDP_TX);
	cr_assert_eq(stat_of(&h, NT_STAT_FORWARDED), 1);
	cr_assert_eq(bpf_map_lookup_elem(h.maps.mappings4_fd, &k, &got), 0);
	cr_assert_eq(got.packets, 1, "the program counted into another entry");
	harness_close(&h);
}

/* The port in network order is another key: not found. */
Test(xdp_map4, network_order_port_misses)
{
	struct nt_key4 k = { .port = htons(40000) };
	struct nt_mapping m = to_peer(PEER4);
	struct harness h;

	setup(&h);
	inet_pton(AF_INET, "192.0.2.10", k.addr);
	cr_assert_eq(bpf_map_update_elem(h.maps.mappings4_fd, &k, &m, BPF_ANY), 0);
	cr_assert_eq(run(&h, SENDER4), XDP_DROP);
	cr_assert_eq(stat_of(&h, NT_STAT_DROP_UNVERIFIED), 1);
	harness_close(&h);
}

/* Another port or address of the same sender: unverified. */
Test(xdp_map4, other_port_or_address_misses)
{
	struct nt_endpoint src;
	struct nt_mapping m = to_peer(PEER4);
	struct harness h;

	setup(&h);
	ep(&src, "192.0.2.10:40001");
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &src, &m), 0);
	ep(&src, "192.0.2.11:40000");
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &src, &m), 0);
	cr_assert_eq(run(&h, SENDER4), XDP_DROP);
	cr_assert_eq(stat_of(&h, NT_STAT_DROP_UNVERIFIED), 1);
	harness_close(&h);
}

/* An IPv4 sender under its 20-byte key in nt_mappings is not looked up there. */
Test(xdp_map4, v4_key_in_the_v6_map_is_not_used)
{
	struct nt_endpoint src;
	struct nt_mapping m = to_peer(PEER4);
	struct harness h;

	setup(&h);
	ep(&src, SENDER4);
	cr_assert_eq(bpf_map_update_elem(h.maps.mappings_fd, &src, &m, BPF_ANY), 0);
	cr_assert_eq(run(&h, SENDER4), XDP_DROP);
	cr_assert_eq(stat_of(&h, NT_STAT_DROP_UNVERIFIED), 1);
	harness_close(&h);
}

/* An IPv4 sender with an IPv6 peer, and the other way round: no translation. */
Test(xdp_map4, peer_of_the_other_family_dropped)
{
	struct nt_endpoint src;
	struct nt_mapping m4 = to_peer(PEER6), m6 = to_peer(PEER4);
	struct harness h;

	setup(&h);
	ep(&src, SENDER4);
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &src, &m4), 0);
	ep(&src, SENDER6);
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &src, &m6), 0);
	cr_assert_eq(run(&h, SENDER4), XDP_DROP);
	cr_assert_eq(run(&h, SENDER6), XDP_DROP);
	cr_assert_eq(stat_of(&h, NT_STAT_DROP_FAMILY), 2);
	harness_close(&h);
}

struct seen {
	struct nt_endpoint ep[4];
	int n;
};

static int collect(const struct nt_endpoint *src, const struct nt_mapping *v, void *arg)
{
	struct seen *s = arg;

	(void)v;
	cr_assert_lt(s->n, 4);
	s->ep[s->n++] = *src;
	return 0;
}

static bool has(const struct seen *s, const char *str)
{
	struct nt_endpoint e;

	ep(&e, str);
	for (int i = 0; i < s->n; i++)
		if (!memcmp(&s->ep[i], &e, sizeof(e)))
			return true;
	return false;
}

/* Userspace sees both maps as one, with struct nt_endpoint keys. */
Test(xdp_map4, userspace_sees_both_families)
{
	struct nt_mapping m4 = to_peer(PEER4), m6 = to_peer(PEER6), got;
	struct nt_endpoint s4, s6;
	struct seen seen = { 0 };
	struct nt_key4 k;
	struct harness h;

	setup(&h);
	ep(&s4, SENDER4);
	ep(&s6, SENDER6);
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s4, &m4), 0);
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &s6, &m6), 0);
	cr_assert_eq(bpf_map_get_next_key(h.maps.mappings4_fd, NULL, &k), 0);
	cr_assert_eq(k.port, 40000);
	cr_assert_eq(k.pad, 0);
	cr_assert_eq(nt_maps_for_each_mapping(&h.maps, collect, &seen), 0);
	cr_assert_eq(seen.n, 2);
	cr_assert(has(&seen, SENDER4));
	cr_assert(has(&seen, SENDER6));
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s4, &got), 0);
	cr_assert_eq(got.peer.family, NT_FAMILY_V4);
	cr_assert_eq(nt_maps_del_mapping(&h.maps, &s4), 0);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s4, &got), -ENOENT);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &s6, &got), 0);
	harness_close(&h);
}

Test(xdp_map4, key_conversion)
{
	struct nt_endpoint e, back;
	struct nt_key4 k;

	ep(&e, "10.1.2.3:65535");
	cr_assert_eq(nt_key4_from_endpoint(&e, &k), 0);
	cr_assert_eq(k.port, 65535);
	cr_assert_eq(k.pad, 0);
	cr_assert_arr_eq(k.addr, ((uint8_t[]){ 10, 1, 2, 3 }), 4);
	nt_key4_to_endpoint(&k, &back);
	cr_assert_arr_eq(&back, &e, sizeof(e));
	ep(&e, SENDER6);
	cr_assert_eq(nt_key4_from_endpoint(&e, &k), -EINVAL);
	/* family 4 with an address that is not IPv4-mapped: no key */
	ep(&e, "10.1.2.3:1");
	e.addr[10] = 0;
	cr_assert_eq(nt_key4_from_endpoint(&e, &k), -EINVAL);
}

/*
 * Pins of a version before nt_mappings4: IPv4 senders in nt_mappings are
 * copied over (an entry already in nt_mappings4 is newer and stays), listed
 * once while the old program may still read them there, then dropped there;
 * IPv6 ones stay.
 */
Test(xdp_map4, old_v4_entries_move_into_their_map)
{
	struct nt_mapping m4 = to_peer(PEER4), m6 = to_peer(PEER6), newer = to_peer(PEER4), got;
	struct nt_endpoint a, b, c, s6, *keys;
	struct seen seen = { 0 };
	struct harness h;
	size_t n = 0;

	setup(&h);
	ep(&a, SENDER4);
	ep(&b, "192.0.2.11:1000");
	ep(&c, "192.0.2.12:2000");
	ep(&s6, SENDER6);
	for (const struct nt_endpoint *e = &a; e; e = e == &a ? &b : e == &b ? &c : NULL)
		cr_assert_eq(bpf_map_update_elem(h.maps.mappings_fd, e, &m4, BPF_ANY), 0);
	cr_assert_eq(bpf_map_update_elem(h.maps.mappings_fd, &s6, &m6, BPF_ANY), 0);
	newer.session_id = 1234;
	cr_assert_eq(nt_maps_put_mapping(&h.maps, &c, &newer), 0);

	cr_assert_eq(nt_migrate_mappings4(h.maps.mappings_fd, h.maps.mappings4_fd, &keys, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(bpf_map_lookup_elem(h.maps.mappings_fd, &a, &got), 0,
		     "gone from nt_mappings before the swap");
	cr_assert_eq(nt_maps_for_each_mapping(&h.maps, collect, &seen), 0);
	cr_assert_eq(seen.n, 4, "each mapping once, got %d", seen.n);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &c, &got), 0);
	cr_assert_eq(got.session_id, 1234, "the newer entry was overwritten");
	cr_assert_eq(run(&h, SENDER4), XDP_TX);
	cr_assert_eq(run(&h, SENDER6), XDP_TX);

	cr_assert_eq(nt_migrate_mappings4_drop(h.maps.mappings_fd, keys, n), 0);
	free(keys);
	cr_assert_neq(bpf_map_lookup_elem(h.maps.mappings_fd, &a, &got), 0, "left in nt_mappings");
	cr_assert_eq(bpf_map_lookup_elem(h.maps.mappings_fd, &s6, &got), 0);
	cr_assert_eq(nt_maps_get_mapping(&h.maps, &a, &got), 0);
	harness_close(&h);
}
