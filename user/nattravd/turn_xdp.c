// SPDX-License-Identifier: GPL-2.0
/*
 * TURN channels in the XDP program (bpf/nt_turn.h): nattravd writes both
 * sides of a bound channel into nt_turn_chans / nt_turn_peers once its
 * checks passed and the next hop is back out of the relay's interface, and
 * takes them out when the channel or its permission lapses. A channel
 * whose peer is another allocation of this relay (both clients use this
 * relay: relay candidates on both sides) is a hairpin: one entry, from
 * the client straight to the other allocation's client, while the other
 * allocation has a channel and a permission for this one. Clients over TCP
 * (turn_tcp.c) stay with nattravd.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "nt_endpoint.h"
#include "nt_log.h"
#include "turn_priv.h"

/*
 * The daemon's next hop towards to, as the XDP program copies it into the
 * frame: only back out of the relay's interface (XDP_TX). Elsewhere, not
 * resolved or --next-hop fib: false, and nattravd relays the channel.
 */
static bool xdp_route(struct nd *d, const struct nt_endpoint *to, struct nt_turn_fwd *f)
{
	struct nt_mapping m = { .peer = *to };

	nd_nh_fill_mapping(d, &m);
	if (m.route_ifindex != (__u32)d->ifindex)
		return false;
	memcpy(f->route_dmac, m.route_dmac, 6);
	memcpy(f->route_smac, m.route_smac, 6);
	f->route_ifindex = m.route_ifindex;
	return true;
}

static void chan_keys(const struct nd *d, const struct alloc *a, const struct chan *ch,
		      struct nt_turn_chan_key *ck, struct nt_turn_peer_key *pk)
{
	(void)d;
	memset(ck, 0, sizeof(*ck));
	memset(pk, 0, sizeof(*pk));
	ck->client = a->client;
	ck->channel = ch->num;
	pk->relayed = a->relayed;
	pk->peer = ch->peer;
}

/*
 * What the program counted in ch's entries: the client side into *cs, the
 * peer side into *ps; zero for an entry not there (a hairpin has no peer
 * side). *delivered: the one whose packets reached a client.
 */
static void entry_counts(const struct nd *d, const struct alloc *a, const struct chan *ch,
			 struct nt_turn_fwd *cs, struct nt_turn_fwd *ps,
			 const struct nt_turn_fwd **delivered)
{
	struct nt_turn_chan_key ck;
	struct nt_turn_peer_key pk;

	memset(cs, 0, sizeof(*cs));
	memset(ps, 0, sizeof(*ps));
	*delivered = ch->hairpin ? cs : ps;
	if (!ch->in_xdp)
		return;
	chan_keys(d, a, ch, &ck, &pk);
	if (bpf_map_lookup_elem(d->maps.turn_chans_fd, &ck, cs))
		memset(cs, 0, sizeof(*cs));
	if (ch->hairpin || bpf_map_lookup_elem(d->maps.turn_peers_fd, &pk, ps))
		memset(ps, 0, sizeof(*ps));
}

void nd_turn_xdp_remove(struct nd *d, struct alloc *a, struct chan *ch)
{
	struct nd_turn *t = d->turn;
	struct nt_turn_chan_key ck;
	struct nt_turn_peer_key pk;
	struct nt_turn_fwd cs, ps;
	const struct nt_turn_fwd *dv;
	/* a hairpin's packets reached the other allocation's client */
	struct alloc *to = ch->hairpin ? &t->a[ch->hp_alloc] : a;

	if (!ch->in_xdp)
		return;
	/* what the program counted stays counted */
	entry_counts(d, a, ch, &cs, &ps, &dv);
	t->st.xdp_to_peer_pkts += cs.packets;
	t->st.xdp_to_peer_bytes += cs.bytes;
	t->st.xdp_rate_drops += cs.rate_drops;
	t->st.xdp_to_client_pkts += dv->packets;
	t->st.xdp_to_client_bytes += dv->bytes;
	a->xdp_pkts[0] += cs.packets;
	a->xdp_bytes[0] += cs.bytes;
	a->xdp_rate_drops += cs.rate_drops;
	to->xdp_pkts[1] += dv->packets;
	to->xdp_bytes[1] += dv->bytes;
	chan_keys(d, a, ch, &ck, &pk);
	bpf_map_delete_elem(d->maps.turn_chans_fd, &ck);
	if (!ch->hairpin)
		bpf_map_delete_elem(d->maps.turn_peers_fd, &pk);
	ch->in_xdp = ch->hairpin = false;
}

/*
 * The other allocation b that ch of a leads to, with its channel for a,
 * while b lets a in (its permission for this relay's address): then the
 * XDP program can hand a's ChannelData straight to b's client.
 */
static struct chan *hairpin_target(struct nd *d, struct alloc *a, const struct chan *ch,
				   uint64_t now, struct alloc **bp)
{
	struct alloc *b = nd_turn_local(d, &ch->peer);
	struct chan *bc;

	/* over UDP both: a frame cannot join a TCP stream in XDP */
	if (!b || b == a || b->client.family != a->client.family || b->media->kind != ND_MEDIA)
		return NULL;
	bc = nd_turn_chan_by_peer(b, &a->relayed);
	if (!bc || !nd_turn_perm_find(b, a->relayed.addr, now))
		return NULL;
	*bp = b;
	return bc;
}

static void hairpin_install(struct nd *d, struct alloc *a, struct chan *ch)
{
	struct nd_turn *t = d->turn;
	struct nt_turn_fwd f = { .from = a->relayed, .flags = NT_TURN_F_HAIRPIN };
	struct nt_turn_chan_key ck;
	struct nt_turn_peer_key pk;
	struct alloc *b;
	struct chan *bc = hairpin_target(d, a, ch, nd_now_ns(), &b);
	char p[NT_ENDPOINT_STRLEN];

	if (!bc)
		return;
	/* to b's client, from the media port it talks to */
	f.from.port = d->conf.media_port;
	f.to = b->client;
	f.channel = bc->num;
	if (!xdp_route(d, &b->client, &f))
		return;
	chan_keys(d, a, ch, &ck, &pk);
	if (bpf_map_update_elem(d->maps.turn_chans_fd, &ck, &f, 0)) {
		nt_dbg("TURN channel 0x%04x to %s stays in userspace: %s", ch->num,
		       nt_endpoint_format(&ch->peer, p, sizeof(p)), strerror(errno));
		return;
	}
	ch->in_xdp = ch->hairpin = true;
	ch->hp_num = bc->num;
	ch->hp_alloc = (uint32_t)(b - t->a);
	nt_dbg("TURN channel 0x%04x of user=%s to %s (allocation of user=%s) relayed by XDP",
	       ch->num, a->user, nt_endpoint_format(&ch->peer, p, sizeof(p)), b->user);
}

void nd_turn_xdp_install(struct nd *d, struct alloc *a, struct chan *ch)
{
	struct nt_turn_fwd cf = { .from = a->relayed, .to = ch->peer, .channel = ch->num };
	struct nt_turn_fwd pf = { .from = a->relayed, .to = a->client, .channel = ch->num };
	struct nt_turn_chan_key ck;
	struct nt_turn_peer_key pk;
	char p[NT_ENDPOINT_STRLEN];

	/* the program rewrites a frame within its family: client, relayed and peer alike */
	if (ch->in_xdp || d->mode == NT_XDP_OFF || d->maps.turn_chans_fd < 0 ||
	    d->maps.turn_peers_fd < 0 || a->client.family != a->relayed.family ||
	    ch->peer.family != a->relayed.family || a->media->kind != ND_MEDIA)
		return;
	if (nd_own_addr(d, &ch->peer)) {
		hairpin_install(d, a, ch);
		return;
	}
	/* to the client, from the media port it talks to */
	pf.from.port = d->conf.media_port;
	if (!xdp_route(d, &ch->peer, &cf) || !xdp_route(d, &a->client, &pf))
		return;
	chan_keys(d, a, ch, &ck, &pk);
	if (bpf_map_update_elem(d->maps.turn_chans_fd, &ck, &cf, 0) ||
	    bpf_map_update_elem(d->maps.turn_peers_fd, &pk, &pf, 0)) {
		bpf_map_delete_elem(d->maps.turn_chans_fd, &ck);
		nt_dbg("TURN channel 0x%04x to %s stays in userspace: %s", ch->num,
		       nt_endpoint_format(&ch->peer, p, sizeof(p)), strerror(errno));
		return;
	}
	ch->in_xdp = true;
	nt_dbg("TURN channel 0x%04x of user=%s to %s relayed by XDP", ch->num, a->user,
	       nt_endpoint_format(&ch->peer, p, sizeof(p)));
}

void nd_turn_xdp_check(struct nd *d, struct alloc *a, struct chan *ch, uint64_t now)
{
	struct nd_turn *t = d->turn;
	struct alloc *b;
	struct chan *bc;

	if (!ch->num)
		return;
	if (!nd_turn_perm_find(a, ch->peer.addr, now)) {
		nd_turn_xdp_remove(d, a, ch);
		return;
	}
	if (ch->in_xdp && ch->hairpin) {
		bc = hairpin_target(d, a, ch, now, &b);
		/* the other side's channel lapsed or was bound anew */
		if (!bc || (uint32_t)(b - t->a) != ch->hp_alloc || bc->num != ch->hp_num)
			nd_turn_xdp_remove(d, a, ch);
	}
	if (!ch->in_xdp)
		nd_turn_xdp_install(d, a, ch);
}

void nd_turn_xdp_unlink(struct nd *d, const struct alloc *b)
{
	struct nd_turn *t = d->turn;
	uint32_t bi = (uint32_t)(b - t->a);

	for (uint32_t i = 0; i < t->cap; i++) {
		struct alloc *a = &t->a[i];

		for (int k = 0; a->used && a != b && k < CHANS_MAX; k++)
			if (a->chan[k].in_xdp && a->chan[k].hairpin && a->chan[k].hp_alloc == bi)
				nd_turn_xdp_remove(d, a, &a->chan[k]);
	}
}

static size_t map_clear(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	size_t n = 0;

	if (fd < 0 || key_size > sizeof(key))
		return 0;
	/* always from the start: the key just deleted cannot lead on */
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
		n++;
	}
	return n;
}

void nd_turn_forget_xdp(struct nd *d)
{
	size_t n = map_clear(d->maps.turn_chans_fd, sizeof(struct nt_turn_chan_key)) +
		   map_clear(d->maps.turn_peers_fd, sizeof(struct nt_turn_peer_key));

	if (n)
		nt_info("TURN: %zu channel entries a previous run left in XDP removed (allocations do not outlive nattravd)",
			n);
}

void nd_turn_xdp_counts(const struct nd *d, uint64_t pkts[2], uint64_t bytes[2],
			uint64_t *rate_drops)
{
	const struct nd_turn *t = d->turn;

	pkts[0] = pkts[1] = bytes[0] = bytes[1] = *rate_drops = 0;
	if (!t)
		return;
	*rate_drops = t->st.xdp_rate_drops;
	pkts[0] = t->st.xdp_to_peer_pkts;
	bytes[0] = t->st.xdp_to_peer_bytes;
	pkts[1] = t->st.xdp_to_client_pkts;
	bytes[1] = t->st.xdp_to_client_bytes;
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct alloc *a = &t->a[i];

		for (int k = 0; a->used && k < CHANS_MAX; k++) {
			struct nt_turn_fwd cs, ps;
			const struct nt_turn_fwd *dv;

			entry_counts(d, a, &a->chan[k], &cs, &ps, &dv);
			pkts[0] += cs.packets;
			bytes[0] += cs.bytes;
			*rate_drops += cs.rate_drops;
			pkts[1] += dv->packets;
			bytes[1] += dv->bytes;
		}
	}
}


void nd_turn_xdp_alloc_counts(struct nd *d, struct alloc *a, uint64_t pkts[2], uint64_t bytes[2],
			      uint64_t *rate_drops)
{
	struct nd_turn *t = d->turn;
	uint32_t ai = (uint32_t)(a - t->a);

	memcpy(pkts, a->xdp_pkts, sizeof(a->xdp_pkts));
	memcpy(bytes, a->xdp_bytes, sizeof(a->xdp_bytes));
	*rate_drops = a->xdp_rate_drops;
	for (int k = 0; k < CHANS_MAX; k++) {
		struct chan *ch = &a->chan[k], *bc;
		struct nt_turn_fwd cs, ps;
		const struct nt_turn_fwd *dv;
		struct alloc *b;

		if (!ch->num)
			continue;
		/* to its peers; from them to its client unless a hairpin (that is the other's) */
		entry_counts(d, a, ch, &cs, &ps, &dv);
		pkts[0] += cs.packets;
		bytes[0] += cs.bytes;
		*rate_drops += cs.rate_drops;
		pkts[1] += ps.packets;
		bytes[1] += ps.bytes;
		/* the other allocation's hairpin to this one reached this client */
		b = nd_turn_local(d, &ch->peer);
		bc = b ? nd_turn_chan_by_peer(b, &a->relayed) : NULL;
		if (!bc || !bc->hairpin || bc->hp_alloc != ai)
			continue;
		entry_counts(d, b, bc, &cs, &ps, &dv);
		pkts[1] += dv->packets;
		bytes[1] += dv->bytes;
	}
}
