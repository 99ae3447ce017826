// SPDX-License-Identifier: GPL-2.0
/*
 * The media UDP sockets (one per relay address family). They receive the
 * control messages XDP passes up, and with --xdp-mode off all media too:
 * then this file is the forwarder, batching with recvmmsg/sendmmsg and
 * deciding from the in-memory table (no bpf() call per packet), by the
 * same rules as the XDP and TC programs: the sender's token bucket, a
 * pair's peer, or one copy per other member of a group of three or more.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "nattravd.h"
#include "nt_endpoint.h"
#include "nt_verify.h"
#include "nt_log.h"
#include "nt_wire.h"

/* Batches per wakeup at most, so a flood cannot starve TLS and the tick. */
#define ND_MEDIA_ROUNDS 16

static int media_one(struct nd *d, int family, const void *addr)
{
	struct nd_handle *h = &d->media[d->nmedia];
	struct sockaddr_storage ss;
	struct nt_endpoint ep = { 0 };
	size_t len;
	int one = 1, buf = 16 << 20, fd, err;

	if (family == AF_INET) {
		ep.family = NT_FAMILY_V4;
		ep.addr[10] = ep.addr[11] = 0xff;
		memcpy(ep.addr + 12, addr, 4);
	} else {
		ep.family = NT_FAMILY_V6;
		memcpy(ep.addr, addr, 16);
	}
	ep.port = d->conf.media_port;
	nt_endpoint_to_sockaddr(&ep, &ss, &len);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/*
	 * Media bursts: the default buffer drops under load in off mode. FORCE
	 * (CAP_NET_ADMIN, which loading XDP needs anyway) goes past rmem_max.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0) {
		char a[NT_ENDPOINT_STRLEN];

		err = -errno;
		nt_err("cannot bind the media socket to %s: %s",
		       nt_endpoint_format(&ep, a, sizeof(a)), strerror(errno));
		close(fd);
		return err;
	}
	h->kind = ND_MEDIA;
	h->fd = fd;
	h->family = family;
	d->nmedia++;
	return nd_loop_add(d, h, EPOLLIN);
}

int nd_media_open(struct nd *d)
{
	int err = 0;

	if (d->conf.have_v4)
		err = media_one(d, AF_INET, d->conf.addr_v4);
	if (!err && d->conf.have_v6)
		err = media_one(d, AF_INET6, d->conf.addr_v6);
	return err;
}

int nd_media_send(struct nd *d, struct nd_handle *h, const struct nt_endpoint *to,
		  const void *buf, size_t len)
{
	struct sockaddr_storage ss;
	size_t sl;

	/* a TURN client over TCP: its stream, wherever to says */
	if (h->kind == ND_TURN_TCP)
		return nd_turn_tcp_send(d, h, buf, len);
	if (nt_endpoint_to_sockaddr(to, &ss, &sl))
		return -EAFNOSUPPORT;
	if (sendto(h->fd, buf, len, 0, (struct sockaddr *)&ss, (socklen_t)sl) < 0)
		return -errno;
	return 0;
}

int nd_rate_apply(struct nd *d)
{
	struct nt_config cfg;
	int err;

	nt_fwd_rate_config(d->conf.max_pps, d->conf.burst, &d->pkt_cost_ns, &d->burst_ns);
	err = nt_maps_get_config(&d->maps, &cfg);
	if (!err) {
		cfg.pkt_cost_ns = d->pkt_cost_ns;
		cfg.burst_ns = d->burst_ns;
		err = nt_maps_set_config(&d->maps, &cfg);
	}
	if (err)
		nt_warn("cannot write the sender rate into the config map: %s", strerror(-err));
	return err;
}

/*
 * Copies waiting for sendmmsg. A fan-out packet queues one per receiver,
 * all pointing at the same receive buffer, so the queue is flushed before
 * the buffers are reused (next recvmmsg) and before a control message can
 * change the groups its entries point into.
 */
#define ND_OUT_MAX 512

struct out_queue {
	struct mmsghdr msg[ND_OUT_MAX];
	struct iovec iov[ND_OUT_MAX];
	struct sockaddr_storage dst[ND_OUT_MAX];
	struct nt_fwd_group *g[ND_OUT_MAX];	/* NULL: a pair's copy */
	uint32_t idx[ND_OUT_MAX];		/* the receiver in g */
	uint32_t iplen[ND_OUT_MAX];
	unsigned int n;
};

static void out_flush(struct nd *d, struct nd_handle *h, struct out_queue *q)
{
	for (unsigned int off = 0; off < q->n;) {
		int s = sendmmsg(h->fd, q->msg + off, q->n - off, MSG_DONTWAIT);

		if (s <= 0) {
			/* full socket buffer or unreachable peer: drop, as a router would */
			d->cnt.drop_send++;
			off++; /* skip the one that failed, try the rest */
			if (s < 0 && errno != EAGAIN && errno != ECONNREFUSED)
				nt_dbg("media sendmmsg: %s", strerror(errno));
			continue;
		}
		for (unsigned int k = off; k < off + (unsigned int)s; k++) {
			struct nt_fwd_group *g = q->g[k];

			d->cnt.forwarded++;
			d->cnt.fwd_bytes += q->iov[k].iov_len;
			if (!g)
				continue;
			g->delivered[q->idx[k]]++;
			g->copies_out++;
			g->bytes_out += q->iplen[k];
			d->cnt.fanout_copies++;
		}
		off += (unsigned int)s;
	}
	q->n = 0;
}

static void out_add(struct nd *d, struct nd_handle *h, struct out_queue *q,
		    const struct nt_endpoint *to, void *buf, size_t len,
		    struct nt_fwd_group *g, uint32_t idx, uint32_t iplen)
{
	unsigned int n;
	size_t sl;

	if (q->n == ND_OUT_MAX)
		out_flush(d, h, q);
	n = q->n;
	if (nt_endpoint_to_sockaddr(to, &q->dst[n], &sl))
		return;
	q->iov[n].iov_base = buf;
	q->iov[n].iov_len = len;
	memset(&q->msg[n], 0, sizeof(q->msg[n]));
	q->msg[n].msg_hdr.msg_name = &q->dst[n];
	q->msg[n].msg_hdr.msg_namelen = (socklen_t)sl;
	q->msg[n].msg_hdr.msg_iov = &q->iov[n];
	q->msg[n].msg_hdr.msg_iovlen = 1;
	q->g[n] = g;
	q->idx[n] = idx;
	q->iplen[n] = iplen;
	q->n++;
}

/*
 * One media packet in off mode, by the XDP and TC programs' rules: from a
 * verified mapping, within the sender's rate, to its peer or (fan-out) to
 * every other member of its group of the same family, never back to it.
 */
static void forward(struct nd *d, struct nd_handle *h, struct out_queue *q,
		    const struct nt_endpoint *src, void *buf, size_t len, uint64_t now)
{
	struct nt_fwd_entry *e = nt_fwd_get(&d->fwd, src);
	int fam = h->family == AF_INET ? NT_FAMILY_V4 : NT_FAMILY_V6;
	uint32_t iplen = (uint32_t)len + (fam == NT_FAMILY_V4 ? 28 : 48); /* as XDP counts */
	struct nt_fwd_group *g;

	if (!e) {
		d->cnt.drop_unverified++;
		return;
	}
	e->packets++;
	e->bytes += iplen;
	g = e->flags & NT_MAPPING_F_FANOUT ? nt_fwd_group_get(&d->fwd, e->group_id) : NULL;
	/* as XDP: a fan-out sender pays for every copy (rate_weight) */
	if (nt_fwd_over_rate(e, d->pkt_cost_ns * (g && g->n > 2 ? g->n - 1 : 1), d->burst_ns, now)) {
		d->cnt.drop_rate++;
		return;
	}
	if (e->flags & NT_MAPPING_F_FANOUT) {
		if (!g) {
			d->cnt.drop_no_peer++;
			return;
		}
		/* as XDP: only media the relay takes on keeps the consent window open */
		e->last_seen_ns = now;
		g->packets_in++;
		for (uint32_t i = 0; i < g->n; i++)
			if (g->members[i].family == fam && !nt_endpoint_eq(&g->members[i], src))
				out_add(d, h, q, &g->members[i], buf, len, g, i, iplen);
		return;
	}
	if (!e->peer.family) {
		d->cnt.drop_no_peer++;
		return;
	}
	if (e->peer.family != fam) {
		d->cnt.drop_family++;
		return;
	}
	e->last_seen_ns = now;
	out_add(d, h, q, &e->peer, buf, len, NULL, 0, iplen);
}

void nd_media_event(struct nd *d, struct nd_handle *h)
{
	static uint8_t bufs[ND_MEDIA_BATCH][ND_MEDIA_MAXPKT];
	static struct out_queue q;
	struct mmsghdr in[ND_MEDIA_BATCH];
	struct iovec iin[ND_MEDIA_BATCH];
	struct sockaddr_storage src[ND_MEDIA_BATCH];

	for (int round = 0; round < ND_MEDIA_ROUNDS; round++) {
		uint64_t now;
		int n;

		memset(in, 0, sizeof(in));
		for (int i = 0; i < ND_MEDIA_BATCH; i++) {
			iin[i].iov_base = bufs[i];
			iin[i].iov_len = sizeof(bufs[i]);
			in[i].msg_hdr.msg_iov = &iin[i];
			in[i].msg_hdr.msg_iovlen = 1;
			in[i].msg_hdr.msg_name = &src[i];
			in[i].msg_hdr.msg_namelen = sizeof(src[i]);
		}
		n = recvmmsg(h->fd, in, ND_MEDIA_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				nt_warn("media recvmmsg: %s", strerror(errno));
			return;
		}
		now = nd_now_ns();
		for (int i = 0; i < n; i++) {
			struct nt_endpoint ep;
			size_t len = in[i].msg_len;

			if (nt_endpoint_from_sockaddr((struct sockaddr *)&src[i], &ep))
				continue;
			if (in[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = sizeof(bufs[i]) + 1; /* larger than any message we take */
			if (nt_wire_is_control(bufs[i], len)) {
				d->cnt.control++;
				/* a verification may change the groups queued copies count into */
				out_flush(d, h, &q);
				if (!nd_stun_input(d, h, &ep, bufs[i], len))
					nd_wire_input(d, h, &ep, bufs[i], len);
				continue;
			}
			if (d->turn && nd_turn_channel_data(d, h, &ep, bufs[i], len))
				continue;
			if (d->mode != NT_XDP_OFF) {
				/* XDP judged it already (or its address is not one XDP relays) */
				d->cnt.media_with_xdp++;
				continue;
			}
			if (len <= sizeof(bufs[i]))
				forward(d, h, &q, &ep, bufs[i], len, now);
		}
		out_flush(d, h, &q);
		if (n < ND_MEDIA_BATCH)
			return;
	}
}
