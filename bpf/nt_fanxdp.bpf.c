// SPDX-License-Identifier: GPL-2.0
/*
 * A probe, not the relay's path (tests/bench/bench_fanxdp.c, run by
 * scripts/bench-fanout.sh --paths xdp-probe): what fan-out costs in XDP, for
 * IPv4 to members that all sit behind one interface. See
 * bench/results/2026-12-01-fanout.md for why nattrav does not fan out this way.
 *
 * Fan-out in XDP. The ingress program rewrites what every copy
 * shares (source relay:port, TTL), puts a sequence number in the frame's
 * metadata and one rewrite per member in a per-CPU FIFO, then broadcasts the
 * frame into a devmap with one entry per member (same ifindex). The devmap
 * egress program cannot tell which entry its copy came through (the bulk
 * queue runs one program per device and flush), so it pops the FIFO in
 * enqueue order, checked by the sequence number.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "nt_csum.h"

/* pending copies per CPU: a live-frame batch (at most 64 frames) times 64 members */
#define FIFO 4096
#define MAXM 64
#define MAGIC 0x4e54fa00

struct nfx_meta {
	__u32 magic;
	__u32 seq;
};

struct nfx_ent {
	__u32 seq;
	__be32 daddr;
	__be16 dport;
	__u8 dmac[6];
};

struct nfx_state {
	__u32 head, tail, seq, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FIFO);
	__type(key, __u32);
	__type(value, struct nfx_ent);
} nfx_fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfx_state);
} nfx_st SEC(".maps");

struct nfx_member {
	__be32 daddr;
	__be16 dport;
	__u8 dmac[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAXM);
	__type(key, __u32);
	__type(value, struct nfx_member);
} nfx_members SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, MAXM);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} nfx_fan SEC(".maps");

__u32 nfx_n;
__be32 nfx_relay;
__be16 nfx_port;
__u8 nfx_smac[6];
__u64 nfx_desync; /* FIFO entries skipped: copies a broadcast did not make */

struct push_ctx {
	struct nfx_state *st;
	__u32 seq;
};

static long push_one(__u32 i, void *data)
{
	struct push_ctx *pc = data;
	struct nfx_member *mb;
	struct nfx_ent *e;
	__u32 k = i, slot;

	mb = bpf_map_lookup_elem(&nfx_members, &k);
	if (!mb)
		return 1;
	slot = pc->st->head++ & (FIFO - 1);
	e = bpf_map_lookup_elem(&nfx_fifo, &slot);
	if (!e)
		return 1;
	e->seq = pc->seq;
	e->daddr = mb->daddr;
	e->dport = mb->dport;
	__builtin_memcpy(e->dmac, mb->dmac, 6);
	return 0;
}

SEC("xdp")
int nfx_in(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct push_ctx pc;
	struct nfx_meta *m;
	__u32 zero = 0, d;
	__u16 tw, ntw;

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(0x0800) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || udp->dest != nfx_port)
		return XDP_PASS;
	d = nt_csum_delta32(ip->saddr, nfx_relay);
	__builtin_memcpy(&tw, &ip->ttl, 2);
	ip->ttl--;
	__builtin_memcpy(&ntw, &ip->ttl, 2);
	ip->check = nt_csum_apply(ip->check, d + nt_csum_delta16(tw, ntw));
	ip->saddr = nfx_relay;
	if (udp->check)
		udp->check = nt_csum_apply(udp->check, d + nt_csum_delta16(udp->source, nfx_port));
	udp->source = nfx_port;
	__builtin_memcpy(eth->h_source, nfx_smac, 6);

	pc.st = bpf_map_lookup_elem(&nfx_st, &zero);
	if (!pc.st)
		return XDP_DROP;
	pc.seq = ++pc.st->seq;
	bpf_loop(nfx_n, push_one, &pc, 0);
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return XDP_DROP;
	m->magic = MAGIC;
	m->seq = pc.seq;
	return bpf_redirect_map(&nfx_fan, 0, BPF_F_BROADCAST);
}

SEC("xdp/devmap")
int nfx_out(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct nfx_meta *m = (void *)(long)ctx->data_meta;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct nfx_state *st;
	struct nfx_ent *e;
	__u32 zero = 0, slot, d, seq;

	if ((void *)(m + 1) > data || m->magic != MAGIC)
		return XDP_PASS; /* not a fan-out copy */
	seq = m->seq;
	if ((void *)(udp + 1) > end)
		return XDP_DROP;
	st = bpf_map_lookup_elem(&nfx_st, &zero);
	if (!st)
		return XDP_DROP;
	for (int k = 0; k < 8; k++) { /* skip what a failed broadcast left */
		if (st->tail == st->head)
			return XDP_DROP;
		slot = st->tail++ & (FIFO - 1);
		e = bpf_map_lookup_elem(&nfx_fifo, &slot);
		if (!e)
			return XDP_DROP;
		if (e->seq == seq)
			goto found;
		nfx_desync++;
		if ((__s32)(e->seq - seq) > 0) {
			st->tail--;
			return XDP_DROP;
		}
	}
	return XDP_DROP;
found:
	d = nt_csum_delta32(ip->daddr, e->daddr);
	ip->check = nt_csum_apply(ip->check, d);
	ip->daddr = e->daddr;
	if (udp->check)
		udp->check = nt_csum_apply(udp->check, d + nt_csum_delta16(udp->dest, e->dport));
	udp->dest = e->dport;
	__builtin_memcpy(eth->h_dest, e->dmac, 6);
	bpf_xdp_adjust_meta(ctx, sizeof(*m));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
