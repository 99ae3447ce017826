/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the XDP program and userspace share: map names, keys, values, counter
 * reasons and the marker of control messages. One definition, included by
 * both sides; every struct has explicit padding and a size check, because a
 * hole the compiler fills differently on each side would corrupt map keys.
 */
#ifndef NATTRAV_ABI_H
#define NATTRAV_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Pin root and map names: the kernel keeps 15 characters of a map name. */
#define NT_PIN_DIR_DEFAULT "/sys/fs/bpf/nattrav"
#define NT_MAP_MAPPINGS "nt_mappings"   /* IPv6 senders (struct nt_endpoint keys) */
#define NT_MAP_MAPPINGS4 "nt_mappings4" /* IPv4 senders (struct nt_key4 keys) */
#define NT_MAP_CONFIG "nt_config"
#define NT_MAP_STATS "nt_stats"
#define NT_MAP_GROUPS "nt_groups"
#define NT_MAP_EGRESS "nt_egress"
#define NT_MAP_TURN_CHANS "nt_turn_chans"
#define NT_MAP_TURN_PEERS "nt_turn_peers"
#define NT_MAP_GROUP_STATS "nt_group_stats"

/* How long the XDP program trusts a cached FIB answer. */
#define NT_ROUTE_CACHE_NS 1000000000ull
/*
 * route_expires_ns (and nt_fan_route.expires_ns) of a next hop the daemon
 * resolved itself (next hop mode "daemon"): never expires, the daemon
 * rewrites it when the neighbour or the route changes.
 */
#define NT_ROUTE_DAEMON 0xffffffffffffffffull

/* Limits; override at build time with -D. */
#ifndef NT_MAX_MAPPINGS
#define NT_MAX_MAPPINGS 1048576
#endif
#ifndef NT_MAX_TURN_CHANNELS
#define NT_MAX_TURN_CHANNELS 65536	/* each side of a TURN channel in XDP */
#endif
#ifndef NT_MAX_GROUPS
#define NT_MAX_GROUPS 65536
#endif
/* Members of one group that the kernel fans out to (the sender included). */
/* Interfaces media may be redirected to (NT_MAP_EGRESS). */
#ifndef NT_MAX_EGRESS
#define NT_MAX_EGRESS 64
#endif
#ifndef NT_GROUP_MAX_MEMBERS
#define NT_GROUP_MAX_MEMBERS 64
#endif

#define NT_FAMILY_V4 4
#define NT_FAMILY_V6 6

/*
 * One UDP endpoint, IPv4 or IPv6. IPv4 is stored as an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) so there is one canonical form for every address
 * and one key layout for both families. The address in network byte order
 * (its bytes as written: `bpftool map dump` shows 203.0.113.11 as ten 0s,
 * 255,255,203,0,113,11), the port in host byte order (its number); the
 * programs convert at the packet.
 */
struct nt_endpoint {
	__u8 addr[16];
	__u16 port;  /* host byte order */
	__u8 family; /* NT_FAMILY_V4 or NT_FAMILY_V6 */
	__u8 pad;    /* must be zero: part of hash keys */
};

/*
 * Key of NT_MAP_MAPPINGS4, the IPv4 senders' mappings: 8 bytes hash and
 * compare in a fraction of the time of a 20-byte nt_endpoint, and make a
 * smaller entry. Laid out for `bpftool map dump`: the address as its four
 * bytes in network order (the dotted quad), the port in host byte order
 * (its number).
 */
struct nt_key4 {
	__u8 addr[4]; /* network byte order */
	__u16 port;   /* host byte order */
	__u16 pad;    /* must be zero: part of the hash key */
};

/*
 * A time in a map: CLOCK_BOOTTIME in nanoseconds, the clock of /proc/uptime
 * (its first number, in seconds) and of `bpftool prog show`'s loaded_at: a
 * value minus the uptime's nanoseconds is how long ago it was (a future
 * expiry: how long to go). The programs read it with bpf_ktime_get_boot_ns,
 * userspace with clock_gettime(CLOCK_BOOTTIME). The typedef names the clock
 * in BTF: an upgrade converts a member that was a plain __u64 on
 * CLOCK_MONOTONIC, as older layouts had, by the two clocks' difference.
 */
typedef __u64 nt_boottime_ns;
#define NT_BOOTTIME_TYPEDEF "nt_boottime_ns"

/* A verified mapping: media from key (the NAT's external addr:port) goes to peer. */
struct nt_mapping {
	struct nt_endpoint peer; /* family 0: no peer yet, media dropped (drop_no_peer) */
	__u32 group_id;
	__u64 session_id;
	nt_boottime_ns created_ns;   /* set by userspace */
	nt_boottime_ns last_seen_ns; /* of the last packet (or keepalive, the daemon's) */
	__u64 packets;      /* media packets received from this endpoint */
	__u64 bytes;        /* their IP lengths */
	__u32 flags;        /* NT_MAPPING_F_* */
	/*
	 * Packets the relay sends for one received (a fan-out to N members:
	 * N - 1), charged to the sender's token bucket so a sender cannot make
	 * the relay emit more than its rate; 0 is read as 1.
	 */
	__u32 rate_weight;
	/* token bucket of the sender's packet rate (see nt_config.pkt_cost_ns) */
	__u64 tb_credit_ns;
	nt_boottime_ns tb_last_ns;
	__u64 rate_drops;   /* media dropped for going over the rate */
	/*
	 * The next hop towards peer. Either the FIB's answer, cached by the
	 * XDP program until route_expires_ns (a lookup costs more than the
	 * rest of the fast path; userspace writes zeros for a new peer), or
	 * the daemon's own answer with route_expires_ns NT_ROUTE_DAEMON.
	 */
	__u8 route_dmac[6];
	__u8 route_smac[6];
	__u32 route_ifindex;
	nt_boottime_ns route_expires_ns;
};

/* installed by hand (nattravctl map add), not by a verification */
#define NT_MAPPING_F_STATIC 0x1
/* media goes to every other member of group_id (TC fan-out), not to peer */
#define NT_MAPPING_F_FANOUT 0x2

/* Relay settings: one entry at index 0 of NT_MAP_CONFIG. */
struct nt_config {
	__u8 relay_v4[4];   /* zero: IPv4 media not relayed */
	__u8 relay_v6[16];  /* zero: IPv6 media not relayed */
	__u16 media_port;   /* host byte order; zero: program passes everything */
	__u16 flags;        /* NT_CONFIG_F_* */
	__u32 pad;
	/*
	 * Per-sender rate limit, as a token bucket in nanoseconds of credit:
	 * each packet costs pkt_cost_ns (1e9 / packets per second), credit
	 * grows with time up to burst_ns. pkt_cost_ns 0: no limit.
	 */
	__u64 pkt_cost_ns;
	__u64 burst_ns;
};

/*
 * A group of more than two members: media from one member is copied to all
 * the others by the TC program. members[0..n_members) are the verified
 * external endpoints; delivered[i] counts copies sent to members[i].
 */
/*
 * The FIB's answer for one member of a fan-out group, cached by the TC
 * program until expires_ns as nt_mapping's route_* are by XDP: the lookup
 * was the largest part of a copy's cost.
 */
struct nt_fan_route {
	__u8 dmac[6];
	__u8 smac[6];
	__u32 ifindex;
	nt_boottime_ns expires_ns;
};

/*
 * The counters (packets_in .. bytes_out, delivered) hold what the daemon
 * folded in: its userspace path's, and NT_MAP_GROUP_STATS's each time it
 * rewrites the entry. The TC program counts in NT_MAP_GROUP_STATS only;
 * nt_maps_get_group() returns the sum of both.
 */
struct nt_fanout_group {
	__u32 n_members;
	__u32 pad;
	__u64 packets_in;  /* media packets from members */
	__u64 copies_out;  /* copies sent, all members */
	__u64 bytes_out;
	struct nt_endpoint members[NT_GROUP_MAX_MEMBERS];
	__u64 delivered[NT_GROUP_MAX_MEMBERS];
	/* written by the TC program; userspace writes zeros (members move) */
	struct nt_fan_route routes[NT_GROUP_MAX_MEMBERS];
};

/*
 * One CPU's fan-out counters of one group (NT_MAP_GROUP_STATS, per-CPU hash
 * keyed by group id), as in nt_fanout_group: per CPU so that no cache line
 * is written by every CPU per packet, and added without locked operations.
 * The TC program makes the entry at a group's first packet; the daemon
 * folds it into the group entry (and deletes it) when it rewrites that.
 */
struct nt_group_stats {
	__u64 packets_in;
	__u64 copies_out;
	__u64 bytes_out;
	__u64 delivered[NT_GROUP_MAX_MEMBERS];
};

/* fib lookup off: swap MACs and XDP_TX (single-homed relays, tests) */
#define NT_CONFIG_F_NO_FIB 0x1
/* TURN on the media port: ChannelData from a source with no mapping goes to nattravd */
#define NT_CONFIG_F_TURN 0x2

/* Why a packet got its verdict: a counter of NT_MAP_STATS (struct nt_stats). */
enum nt_stat {
	NT_STAT_FORWARDED = 0,   /* media rewritten, XDP_TX */
	NT_STAT_REDIRECTED,      /* media rewritten, redirected to another interface */
	NT_STAT_PASS_CONTROL,    /* control message to the media port, to the daemon */
	NT_STAT_PASS_OTHER,      /* not aimed at the media port */
	NT_STAT_DROP_UNVERIFIED, /* media from a source with no verified mapping */
	NT_STAT_DROP_MALFORMED,  /* truncated or inconsistent headers */
	NT_STAT_DROP_FRAGMENT,   /* IP fragment to the media port */
	NT_STAT_DROP_IP_OPTIONS, /* IPv4 options or IPv6 extension headers on media */
	NT_STAT_DROP_TTL,        /* TTL / hop limit would reach zero */
	NT_STAT_DROP_FAMILY,     /* peer of another address family than the packet */
	NT_STAT_DROP_NO_ROUTE,   /* the FIB has no route to the peer or MTU too small */
	NT_STAT_DROP_NO_PEER,    /* verified, but no other member to send to yet */
	NT_STAT_DROP_RATE,       /* sender over its packet rate */
	NT_STAT_PASS_FANOUT,     /* XDP: media of a group of 3+, up to the TC program */
	NT_STAT_FANOUT_COPIES,   /* TC: copies sent (packets, bytes of all copies) */
	NT_STAT_DROP_NO_GROUP,   /* TC: fan-out mapping whose group is missing */
	NT_STAT_PASS_NO_EGRESS,  /* rewritten, but its egress is not in NT_MAP_EGRESS: to the stack */
	NT_STAT_MAX,
};

/*
 * TURN channels relayed by the XDP program (IPv4). A channel's client side:
 * ChannelData from client on channel loses its 4-byte header and goes from
 * the relayed address to the peer. Its peer side: a datagram from peer to
 * the relayed address gains the header and goes from the media port to the
 * client. nattravd writes both once ChannelBind passed its checks (and the
 * peer's permission holds), and removes them when either lapses.
 */
struct nt_turn_chan_key {
	struct nt_endpoint client;
	__u16 channel; /* host order: bpftool prints the number */
	__u16 pad;     /* must be zero: part of the key */
};

struct nt_turn_peer_key {
	struct nt_endpoint relayed;
	struct nt_endpoint peer;
};

struct nt_turn_fwd {
	struct nt_endpoint from; /* the frame's new source */
	struct nt_endpoint to;   /* and destination */
	__u16 channel;           /* host order; the peer side prepends it */
	__u8 route_dmac[6];      /* the next hop towards to, as nattravd resolved it */
	__u8 route_smac[6];
	__u16 flags;             /* NT_TURN_F_* */
	__u32 route_ifindex;     /* must be the ingress: XDP_TX; else nattravd relays */
	__u32 pad2;
	__u64 packets;           /* relayed by XDP (plain adds, as nt_touch) */
	__u64 bytes;             /* their application bytes */
	/* client side: the sender's rate (--max-pps), as nt_mapping's */
	__u64 tb_credit_ns;
	__u64 tb_last_ns;
	__u64 rate_drops;        /* ChannelData dropped for going over it */
};

/*
 * Client side of a channel whose peer is another allocation on this relay
 * (two clients that both use this relay: WebRTC with relay candidates
 * only). The ChannelData keeps its header, gets channel (the other
 * allocation's number for this one) and goes from the media port to the
 * other allocation's client, to. No peer side: nothing crosses the wire
 * between the two relayed addresses.
 */
#define NT_TURN_F_HAIRPIN 0x1

/* Names of enum nt_stat, for tools; index with the enum. */
#define NT_STAT_NAMES                                                        \
	{                                                                    \
		"forwarded", "redirected", "pass_control", "pass_other",     \
		"drop_unverified", "drop_malformed", "drop_fragment",        \
		"drop_ip_options", "drop_ttl", "drop_family", "drop_no_route", \
			"drop_no_peer", "drop_rate", "pass_fanout", "fanout_copies", \
			"drop_no_group", "pass_no_egress"                    \
	}

struct nt_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * The verdict counters, the one entry of NT_MAP_STATS (per-CPU): one named
 * member per enum nt_stat, in its order, so that `bpftool map dump` shows
 * each by name. The programs index it as an array of nt_counter by the enum.
 */
struct nt_stats {
	struct nt_counter forwarded;
	struct nt_counter redirected;
	struct nt_counter pass_control;
	struct nt_counter pass_other;
	struct nt_counter drop_unverified;
	struct nt_counter drop_malformed;
	struct nt_counter drop_fragment;
	struct nt_counter drop_ip_options;
	struct nt_counter drop_ttl;
	struct nt_counter drop_family;
	struct nt_counter drop_no_route;
	struct nt_counter drop_no_peer;
	struct nt_counter drop_rate;
	struct nt_counter pass_fanout;
	struct nt_counter fanout_copies;
	struct nt_counter drop_no_group;
	struct nt_counter pass_no_egress;
};

/*
 * Control messages share the media port and use STUN's header (RFC 8489):
 * first two bits zero, the magic cookie at byte 4. RTP always has version
 * bits 10, so one byte and one word tell control from media.
 */
#define NT_STUN_MAGIC 0x2112A442u
#define NT_STUN_HDR_LEN 20

#if !defined(__cplusplus)
_Static_assert(sizeof(struct nt_endpoint) == 20, "nt_endpoint layout");
_Static_assert(sizeof(struct nt_key4) == 8, "nt_key4 layout");
_Static_assert(sizeof(struct nt_mapping) == 120, "nt_mapping layout");
_Static_assert(sizeof(struct nt_config) == 48, "nt_config layout");
_Static_assert((NT_GROUP_MAX_MEMBERS & (NT_GROUP_MAX_MEMBERS - 1)) == 0,
	       "the TC program masks member indexes: a power of two");
_Static_assert(sizeof(struct nt_fan_route) == 24, "nt_fan_route layout");
_Static_assert(sizeof(struct nt_fanout_group) == 32 + NT_GROUP_MAX_MEMBERS * 52, "nt_fanout_group layout");
_Static_assert(sizeof(struct nt_group_stats) == 24 + NT_GROUP_MAX_MEMBERS * 8, "nt_group_stats layout");
_Static_assert(sizeof(struct nt_counter) == 16, "nt_counter layout");
_Static_assert(sizeof(struct nt_stats) == NT_STAT_MAX * sizeof(struct nt_counter),
	       "nt_stats: one counter per enum nt_stat");
#define NT_STAT_AT(member, stat)                                                         \
	_Static_assert(__builtin_offsetof(struct nt_stats, member) ==                    \
			       stat * sizeof(struct nt_counter),                         \
		       "nt_stats." #member " in the place of " #stat)
NT_STAT_AT(forwarded, NT_STAT_FORWARDED);
NT_STAT_AT(redirected, NT_STAT_REDIRECTED);
NT_STAT_AT(pass_control, NT_STAT_PASS_CONTROL);
NT_STAT_AT(pass_other, NT_STAT_PASS_OTHER);
NT_STAT_AT(drop_unverified, NT_STAT_DROP_UNVERIFIED);
NT_STAT_AT(drop_malformed, NT_STAT_DROP_MALFORMED);
NT_STAT_AT(drop_fragment, NT_STAT_DROP_FRAGMENT);
NT_STAT_AT(drop_ip_options, NT_STAT_DROP_IP_OPTIONS);
NT_STAT_AT(drop_ttl, NT_STAT_DROP_TTL);
NT_STAT_AT(drop_family, NT_STAT_DROP_FAMILY);
NT_STAT_AT(drop_no_route, NT_STAT_DROP_NO_ROUTE);
NT_STAT_AT(drop_no_peer, NT_STAT_DROP_NO_PEER);
NT_STAT_AT(drop_rate, NT_STAT_DROP_RATE);
NT_STAT_AT(pass_fanout, NT_STAT_PASS_FANOUT);
NT_STAT_AT(fanout_copies, NT_STAT_FANOUT_COPIES);
NT_STAT_AT(drop_no_group, NT_STAT_DROP_NO_GROUP);
NT_STAT_AT(pass_no_egress, NT_STAT_PASS_NO_EGRESS);
#undef NT_STAT_AT
_Static_assert(sizeof(struct nt_turn_chan_key) == 24, "nt_turn_chan_key layout");
_Static_assert(sizeof(struct nt_turn_peer_key) == 40, "nt_turn_peer_key layout");
_Static_assert(sizeof(struct nt_turn_fwd) == 104, "nt_turn_fwd layout");
#endif

#endif /* NATTRAV_ABI_H */
