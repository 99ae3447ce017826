/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TURN over UDP (RFC 8656) in nattravd: allocations for clients that speak
 * the standard (browsers, libnice, coturn's tools), with the credentials
 * application servers mint for coturn (nt_turn_auth). Data between client
 * and peer takes the userspace path here.
 */
#ifndef ND_TURN_H
#define ND_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"
#include "nt_stun.h"

struct nd;
struct nd_handle;

#define ND_TURN_METHOD_ALLOCATE 0x003
#define ND_TURN_METHOD_REFRESH 0x004
#define ND_TURN_METHOD_SEND 0x006
#define ND_TURN_METHOD_DATA 0x007
#define ND_TURN_METHOD_CREATE_PERMISSION 0x008
#define ND_TURN_METHOD_CHANNEL_BIND 0x009

/* Requests and indications by method, for metrics: index with nd_turn_method_index(). */
enum nd_turn_req { ND_TREQ_ALLOCATE, ND_TREQ_REFRESH, ND_TREQ_PERMISSION, ND_TREQ_CHANNEL_BIND,
		   ND_TREQ_SEND, ND_TREQ_MAX };
enum nd_turn_res { ND_TRES_OK, ND_TRES_UNAUTHORIZED, ND_TRES_REFUSED, ND_TRES_MAX };

struct nd_turn_stats {
	uint64_t req[ND_TREQ_MAX][ND_TRES_MAX];
	uint64_t to_peer_pkts, to_peer_bytes, to_client_pkts, to_client_bytes;
	uint64_t drop_no_permission, drop_no_allocation, drop_rate;
	/* relayed by the XDP program on channels since removed (live ones: nd_turn_xdp_counts) */
	uint64_t xdp_to_peer_pkts, xdp_to_peer_bytes, xdp_to_client_pkts, xdp_to_client_bytes;
	uint64_t xdp_rate_drops;
	/* over TCP: connections refused (limits), messages neither STUN nor ChannelData,
	 * messages dropped for a reader too slow */
	uint64_t tcp_refused, tcp_malformed, tcp_out_dropped;
};

/* Settings; secret_file NULL: TURN off. */
struct nd_turn_conf {
	const char *realm;
	const char *secret_file;
	uint32_t port_min, port_max;
	uint32_t max_allocations, max_per_user;
	uint32_t max_lifetime_s;
	uint32_t tcp_port;	/* TURN over TCP on this port, 0: off */
#define ND_TURN_TCP_MEDIA_PORT UINT32_MAX	/* tcp_port: the media port's number */
	uint32_t max_tcp;	/* its connections at most (TLS's included) */
	uint32_t tls_port;	/* TURN over TLS on this port, 0: off */
};

/* One allocation as nattravctl turn and the metrics show it. */
struct nd_turn_alloc_info {
	struct nt_endpoint relayed, client;
	char user[64];
	bool tcp;		/* the client talks over TCP */
	uint32_t lifetime_s, permissions, channels, xdp_channels;
	/* [0] to the peers, [1] to the client; relayed by nattravd, by XDP */
	uint64_t pkts[2], bytes[2], xdp_pkts[2], xdp_bytes[2];
	uint64_t rate_drops;	/* sent over --max-pps, both paths */
};

int nd_turn_open(struct nd *d);
void nd_turn_close(struct nd *d);
/*
 * Empty the pinned TURN channel maps: allocations live in this process
 * only, so channels a previous run (killed, or upgraded) left there have
 * no allocation behind them and must not go on relaying.
 */
void nd_turn_forget_xdp(struct nd *d);
bool nd_turn_enabled(const struct nd *d);
/* A TURN request or indication (parsed m of method TURN's) from src on media socket h. */
void nd_turn_input(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
		   const uint8_t *buf, size_t len, const struct nt_stun_msg *m);
/* True for a ChannelData message (RFC 8656 12.4), handled; false for anything else. */
bool nd_turn_channel_data(struct nd *d, struct nd_handle *h, const struct nt_endpoint *src,
			  const uint8_t *buf, size_t len);
/* TURN over TCP (turn_tcp.c): its listeners, connections and their streams. */
int nd_turn_tcp_open(struct nd *d);
void nd_turn_tcp_close(struct nd *d);
void nd_turn_tcp_accept(struct nd *d, struct nd_handle *h);
void nd_turn_tcp_event(struct nd *d, struct nd_handle *h, uint32_t events);
/* A message (STUN or ChannelData, padded here) onto the connection's stream. */
int nd_turn_tcp_send(struct nd *d, struct nd_handle *h, const void *buf, size_t len);
size_t nd_turn_tcp_connections(const struct nd *d);
/* SIGHUP: TURN over TLS takes the certificate and key of d->conf from now on. */
void nd_turn_tls_reload(struct nd *d);
/* A relayed socket is readable. */
void nd_turn_relay_event(struct nd *d, struct nd_handle *h);
void nd_turn_tick(struct nd *d, uint64_t now);
size_t nd_turn_allocations(const struct nd *d);
/*
 * What the XDP program relayed on TURN channels, removed ones included:
 * pkts[2], bytes[2] to peer, to client; what it dropped for the rate.
 */
void nd_turn_xdp_counts(const struct nd *d, uint64_t pkts[2], uint64_t bytes[2],
			uint64_t *rate_drops);
const struct nd_turn_stats *nd_turn_stats(const struct nd *d);
/* The first allocation in a slot at or after *slot into out, *slot set to it; -ENOENT if none. */
int nd_turn_alloc_info(struct nd *d, uint32_t *slot, struct nd_turn_alloc_info *out);

#endif /* ND_TURN_H */
