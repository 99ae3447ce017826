/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What turn.c (the protocol) and turn_xdp.c (channels in the XDP program)
 * share: allocations, their permissions and channels.
 */
#ifndef ND_TURN_PRIV_H
#define ND_TURN_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "nattravd.h"
#include "nt_index.h"
#include "nt_turn_auth.h"
#include "turn.h"

#define PERMS_MAX 32		/* peers' addresses per allocation */
#define CHANS_MAX 32		/* channels per allocation */
#define PERM_NS (300 * 1000000000ull)
#define CHAN_NS (600 * 1000000000ull)
#define SECRET_MAX 256

struct perm {
	uint8_t addr[16];
	uint64_t expires_ns;
};

struct chan {
	uint16_t num;		/* 0: free */
	bool in_xdp;		/* in nt_turn_chans (and nt_turn_peers unless hairpin) */
	bool hairpin;		/* in XDP to another allocation of this relay: */
	uint16_t hp_num;	/* its channel number for this one */
	uint32_t hp_alloc;	/* and its index in nd_turn.a */
	struct nt_endpoint peer;
	uint64_t expires_ns;
};

struct alloc {
	struct nd_handle h;	/* the relayed socket: first, epoll hands this back */
	bool used;
	struct nt_endpoint client;	/* on the media port */
	struct nd_handle *media;	/* the media socket the client uses */
	struct nt_endpoint relayed;
	char user[64];
	char username[NT_TURN_USERNAME_MAX];
	uint8_t key[NT_TURN_KEY_LEN];
	uint8_t alloc_tid[NT_STUN_TID_LEN];	/* a retransmitted Allocate is answered again */
	uint64_t expires_ns;
	/* relayed by nattravd [0] to the peer, [1] to the client; by XDP on removed channels */
	uint64_t pkts[2], bytes[2], xdp_pkts[2], xdp_bytes[2];
	/* what the client sends, held to --max-pps (XDP: per channel, in its entry) */
	uint64_t tb_credit_ns, tb_last_ns, rate_drops, xdp_rate_drops;
	struct perm perm[PERMS_MAX];
	struct chan chan[CHANS_MAX];
};

struct nd_turn {
	struct alloc *a;
	uint32_t cap, n;
	struct nt_freelist free;
	struct nt_hidx by_client;
	uint32_t *by_port;	/* relayed port - port_min -> index + 1 (0: none) */
	uint64_t hkey[2];
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	uint8_t nonce_key[32];
	uint32_t next_port;
	struct nd_turn_tcp *tcp;	/* TURN over TCP (turn_tcp.c), NULL: off */
	struct nd_turn_stats st;
};

struct perm *nd_turn_perm_find(struct alloc *a, const uint8_t addr[16], uint64_t now);
struct chan *nd_turn_chan_by_peer(struct alloc *a, const struct nt_endpoint *peer);
/* The allocation of this relay whose relayed address is ep, or NULL. */
struct alloc *nd_turn_local(struct nd *d, const struct nt_endpoint *ep);

/* Release the allocations whose client talks through h (a TCP connection that ends). */
void nd_turn_release_media(struct nd *d, const struct nd_handle *h, const char *why);
/* An allocation more (+1) or less (-1) on h, when h is a TCP or TLS connection. */
void nd_turn_tcp_carries(struct nd_handle *h, int delta);
void nd_turn_tcp_tick(struct nd *d, uint64_t now);

/* Both sides of ch into the XDP maps when the program can relay it. */
void nd_turn_xdp_install(struct nd *d, struct alloc *a, struct chan *ch);
/* Out of the XDP maps, what the program counted kept in the totals. */
void nd_turn_xdp_remove(struct nd *d, struct alloc *a, struct chan *ch);
/* ch in XDP exactly while what it was installed for holds (tick). */
void nd_turn_xdp_check(struct nd *d, struct alloc *a, struct chan *ch, uint64_t now);
/* Hairpin channels of other allocations that lead to a leave XDP (a goes away). */
void nd_turn_xdp_unlink(struct nd *d, const struct alloc *a);
/* What XDP relayed for a, removed channels included: [0] to its peers, [1] to its client. */
void nd_turn_xdp_alloc_counts(struct nd *d, struct alloc *a, uint64_t pkts[2], uint64_t bytes[2],
			      uint64_t *rate_drops);

#endif /* ND_TURN_PRIV_H */
