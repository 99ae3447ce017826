// SPDX-License-Identifier: GPL-2.0
/*
 * The maps as nattrav pinned them before they were laid out for `bpftool
 * map dump`: ports in network byte order (__be16), times on
 * CLOCK_MONOTONIC (plain __u64), the verdict counters an array indexed by
 * enum nt_stat. Only for tests/bpf/test_upgrade_layout.c, which pins these,
 * fills them as an older nattravd would have, and checks that loading the
 * current program converts every entry. Struct names and member names are
 * those of that layout: the upgrade matches members by name through BTF.
 * Deliberately not including nattrav_abi.h: this is a frozen copy.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct nt_endpoint {
	__u8 addr[16];
	__be16 port;
	__u8 family;
	__u8 pad;
};

struct nt_key4 {
	__u8 addr[4];
	__u16 port;
	__u16 pad;
};

struct nt_mapping {
	struct nt_endpoint peer;
	__u32 group_id;
	__u64 session_id;
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u32 flags;
	__u32 rate_weight;
	__u64 tb_credit_ns;
	__u64 tb_last_ns;
	__u64 rate_drops;
	__u8 route_dmac[6];
	__u8 route_smac[6];
	__u32 route_ifindex;
	__u64 route_expires_ns;
};

struct nt_config {
	__u8 relay_v4[4];
	__u8 relay_v6[16];
	__be16 media_port;
	__u16 flags;
	__u32 pad;
	__u64 pkt_cost_ns;
	__u64 burst_ns;
};

struct nt_counter {
	__u64 packets;
	__u64 bytes;
};

#define L1_GROUP_MAX_MEMBERS 64

struct nt_fan_route {
	__u8 dmac[6];
	__u8 smac[6];
	__u32 ifindex;
	__u64 expires_ns;
};

struct nt_fanout_group {
	__u32 n_members;
	__u32 pad;
	__u64 packets_in;
	__u64 copies_out;
	__u64 bytes_out;
	struct nt_endpoint members[L1_GROUP_MAX_MEMBERS];
	__u64 delivered[L1_GROUP_MAX_MEMBERS];
	struct nt_fan_route routes[L1_GROUP_MAX_MEMBERS];
};

struct nt_turn_chan_key {
	struct nt_endpoint client;
	__u16 channel;
	__u16 pad;
};

struct nt_turn_peer_key {
	struct nt_endpoint relayed;
	struct nt_endpoint peer;
};

struct nt_turn_fwd {
	struct nt_endpoint from;
	struct nt_endpoint to;
	__u16 channel;
	__u8 route_dmac[6];
	__u8 route_smac[6];
	__u16 pad;
	__u32 route_ifindex;
	__u32 pad2;
	__u64 packets;
	__u64 bytes;
};

#define L1_STAT_MAX 17

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct nt_endpoint);
	__type(value, struct nt_mapping);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_mappings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct nt_key4);
	__type(value, struct nt_mapping);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_mappings4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_config);
} nt_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, L1_STAT_MAX);
	__type(key, __u32);
	__type(value, struct nt_counter);
} nt_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct nt_fanout_group);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct nt_turn_chan_key);
	__type(value, struct nt_turn_fwd);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_turn_chans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct nt_turn_peer_key);
	__type(value, struct nt_turn_fwd);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} nt_turn_peers SEC(".maps");

/* a program for the object to load with; it is never attached */
SEC("xdp")
int nt_layout1(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
