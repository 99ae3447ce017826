/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The XDP program's maps. BTF-typed so `bpftool map dump` names every
 * field, and pinned by name under the loader's pin root so that a restarted
 * daemon, and nattravctl, reach the same state.
 */
#ifndef NT_MAPS_H
#define NT_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "nattrav_abi.h"

/*
 * Verified mappings: NAT external endpoint -> where its media goes. A plain
 * hash, not LRU: an attacker must not be able to evict verified entries.
 * IPv6 senders here, IPv4 ones in nt_mappings4 (a shorter key).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_MAPPINGS);
	__type(key, struct nt_endpoint);
	__type(value, struct nt_mapping);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_mappings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_MAPPINGS);
	__type(key, struct nt_key4);
	__type(value, struct nt_mapping);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_mappings4 SEC(".maps");

/* Relay address and media port; written by userspace, read per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_config SEC(".maps");

/* Verdict counters, one named per enum nt_stat; per-CPU, so softirq needs no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_stats SEC(".maps");

/*
 * The fast path's clock, one per CPU: CLOCK_BOOTTIME read at the jiffy it
 * was read (nt_now). Not pinned: a cache, every program keeps its own.
 */
struct nt_clock {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nt_clock);
} nt_clock SEC(".maps");

/* Members of groups of three or more, for the TC fan-out; key: group id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct nt_fanout_group);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_groups SEC(".maps");

/* Fan-out counters per group and CPU (struct nt_group_stats); key: group id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NT_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct nt_group_stats);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_group_stats SEC(".maps");

/*
 * Interfaces the XDP program may redirect to, key and value their ifindex,
 * written by the daemon once it has seen a next hop there. A frame whose
 * egress is missing goes to the stack instead (pass_no_egress): a redirect
 * the kernel then drops would be counted as forwarded and lost unseen.
 * Pinned by the loader itself (nt_bpf_load.c): libbpf before 1.6 cannot
 * reuse a pinned devmap.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, NT_MAX_EGRESS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_egress SEC(".maps");

/* TURN channels relayed in XDP, client side and peer side (nt_turn.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_TURN_CHANNELS);
	__type(key, struct nt_turn_chan_key);
	__type(value, struct nt_turn_fwd);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_turn_chans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NT_MAX_TURN_CHANNELS);
	__type(key, struct nt_turn_peer_key);
	__type(value, struct nt_turn_fwd);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} nt_turn_peers SEC(".maps");

#endif /* NT_MAPS_H */
