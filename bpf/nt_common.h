/* SPDX-License-Identifier: GPL-2.0 */
/* What the XDP and the TC programs share: counting, control-message test, accounting. */
#ifndef NT_COMMON_H
#define NT_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "nattrav_abi.h"
#include "nt_maps.h"

#define NT_AF_INET 2
#define NT_AF_INET6 10

static __always_inline void nt_count_n(enum nt_stat reason, __u64 packets, __u64 bytes)
{
	struct nt_counter *c;
	__u32 zero = 0;

	if (!packets || (__u32)reason >= NT_STAT_MAX)
		return;
	c = bpf_map_lookup_elem(&nt_stats, &zero);
	if (c) {
		/* struct nt_stats is an array of counters in enum order */
		c += reason;
		c->packets += packets;
		c->bytes += bytes;
	}
}

static __always_inline void nt_count(enum nt_stat reason, __u64 bytes)
{
	nt_count_n(reason, 1, bytes);
}

static __always_inline int nt_verdict(enum nt_stat reason, __u64 bytes, int action)
{
	nt_count(reason, bytes);
	return action;
}

/*
 * STUN-framed control message: two zero bits, magic cookie at byte 4.
 * udp_len bounds it semantically, end for the verifier.
 */
static __always_inline bool nt_is_control(struct udphdr *udp, __u32 udp_len, void *end)
{
	__u8 *p = (void *)(udp + 1);

	if (udp_len < sizeof(*udp) + NT_STUN_HDR_LEN)
		return false;
	if ((void *)(p + NT_STUN_HDR_LEN) > end)
		return false;
	if (p[0] & 0xc0)
		return false;
	return *(__be32 *)(p + 4) == bpf_htonl(NT_STUN_MAGIC);
}

/* TURN ChannelData (RFC 8656 12.4): first two bits 01, four header bytes. */
static __always_inline bool nt_is_channel_data(struct udphdr *udp, void *end)
{
	__u8 *p = (void *)(udp + 1);

	if ((void *)(p + 4) > end)
		return false;
	return (p[0] & 0xc0) == 0x40;
}

/*
 * Account the packet to its mapping. Plain adds, not locked ones: a locked
 * add costs more than the rest of the accounting, and one sender's packets
 * hash to one RX queue, so one CPU writes these at a time. Two CPUs adding
 * at once (RSS moved the flow, or the userspace forwarder merges its count)
 * may lose one update: a packet missing from a statistic, never a routing
 * decision.
 */
static __always_inline void nt_touch(struct nt_mapping *m, __u64 bytes)
{
	m->packets++;
	m->bytes += bytes;
}

/*
 * The consent window stays open only for media the relay takes on: a sender
 * over its rate, or with nobody to send to, keeps no mapping alive.
 */
static __always_inline void nt_consent(struct nt_mapping *m, __u64 now)
{
	m->last_seen_ns = now;
}

/*
 * The fast path's clock: CLOCK_BOOTTIME (the maps' clock, nt_boottime_ns)
 * at tick resolution. Reading a clock costs a third of the per-packet
 * budget on some hosts, and a helper call is dear where returns go through
 * a mitigation thunk; a consent window of seconds and a token bucket
 * averaged over its burst need no better than a tick. So the clock is read
 * once a jiffy per CPU and kept in nt_clock; bpf_jiffies64 is inlined by
 * the verifier into one load. A reading is at most a jiffy old, and never
 * goes backwards on one CPU.
 */
static __always_inline __u64 nt_now(void)
{
	struct nt_clock *c;
	__u32 zero = 0;
	__u64 j;

	c = bpf_map_lookup_elem(&nt_clock, &zero);
	if (!c)
		return bpf_ktime_get_boot_ns();
	j = bpf_jiffies64();
	if (c->jiffies != j) {
		c->jiffies = j;
		c->ns = bpf_ktime_get_boot_ns();
	}
	return c->ns;
}

/*
 * Token bucket of the sender's rate, in nanoseconds of credit. Racy across
 * CPUs by design: one sender's packets hash to one RX queue, and an
 * occasional lost update only errs by a packet.
 */
/* A token bucket of nanoseconds of credit: true when a packet of cost does not fit. */
static __always_inline bool nt_bucket_over(__u64 *credit_ns, __u64 *last_ns, __u64 cost,
					   __u64 burst_ns, __u64 now)
{
	__u64 credit = *credit_ns + (now - *last_ns);

	if (credit > burst_ns || now < *last_ns)
		credit = burst_ns;
	*last_ns = now;
	if (credit < cost) {
		*credit_ns = credit;
		return true;
	}
	*credit_ns = credit - cost;
	return false;
}

static __always_inline bool nt_over_rate(struct nt_mapping *m, const struct nt_config *cfg,
					 __u64 now)
{
	__u64 cost = cfg->pkt_cost_ns;

	if (!cost)
		return false;
	/* a fan-out sender pays for every copy (rate_weight, set by the daemon) */
	if (m->rate_weight > 1)
		cost *= m->rate_weight;
	if (!nt_bucket_over(&m->tb_credit_ns, &m->tb_last_ns, cost, cfg->burst_ns, now))
		return false;
	m->rate_drops++; /* plain add, as nt_touch's */
	return true;
}

static __always_inline bool nt_addr6_eq(const struct in6_addr *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline bool nt_addr6_zero(const __u8 *a)
{
	const __u32 *x = (const __u32 *)a;

	return !(x[0] | x[1] | x[2] | x[3]);
}

#endif /* NT_COMMON_H */
