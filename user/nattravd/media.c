// SPDX-License-Identifier: GPL-2.0
/*
 * The media UDP sockets (one per relay address family). They receive the
 * control messages XDP passes up, and with --xdp-mode off all media too:
 * then this file is the forwarder, batching with recvmmsg/sendmmsg and
 * deciding from the in-memory table (no bpf() call per packet), by the
 * same rules as the XDP program.
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
	int one = 1, buf = 4 << 20, fd, err;

	if (family == AF_INET) {
		ep.family = NT_FAMILY_V4;
		ep.addr[10] = ep.addr[11] = 0xff;
		memcpy(ep.addr + 12, addr, 4);
	} else {
		ep.family = NT_FAMILY_V6;
		memcpy(ep.addr, addr, 16);
	}
	ep.port = htons(d->conf.media_port);
	nt_endpoint_to_sockaddr(&ep, &ss, &len);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* media bursts: the default buffer drops under load in off mode */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
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

	(void)d;
	if (nt_endpoint_to_sockaddr(to, &ss, &sl))
		return -EAFNOSUPPORT;
	if (sendto(h->fd, buf, len, 0, (struct sockaddr *)&ss, (socklen_t)sl) < 0)
		return -errno;
	return 0;
}

/* One media packet in off mode: 1 when queued for sending to *to. */
static int forward_verdict(struct nd *d, struct nd_handle *h,
			   const struct nt_endpoint *src, size_t len, uint64_t now,
			   struct nt_endpoint *to)
{
	struct nt_fwd_entry *e = nt_fwd_get(&d->fwd, src);
	int fam = h->family == AF_INET ? NT_FAMILY_V4 : NT_FAMILY_V6;

	if (!e) {
		d->cnt.drop_unverified++;
		return 0;
	}
	/* as XDP: media refreshes the consent window even without a peer */
	e->packets++;
	e->bytes += len + (fam == NT_FAMILY_V4 ? 28 : 48); /* IP length, as XDP counts */
	e->last_seen_ns = now;
	if (!e->peer.family) {
		d->cnt.drop_no_peer++;
		return 0;
	}
	if (e->peer.family != fam) {
		d->cnt.drop_family++;
		return 0;
	}
	*to = e->peer;
	return 1;
}

void nd_media_event(struct nd *d, struct nd_handle *h)
{
	static uint8_t bufs[ND_MEDIA_BATCH][ND_MEDIA_MAXPKT];
	struct mmsghdr in[ND_MEDIA_BATCH], out[ND_MEDIA_BATCH];
	struct iovec iin[ND_MEDIA_BATCH], iout[ND_MEDIA_BATCH];
	struct sockaddr_storage src[ND_MEDIA_BATCH], dst[ND_MEDIA_BATCH];

	for (int round = 0; round < ND_MEDIA_ROUNDS; round++) {
		uint64_t now;
		int n, nout = 0;

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
			struct nt_endpoint ep, to;
			size_t len = in[i].msg_len, sl;

			if (nt_endpoint_from_sockaddr((struct sockaddr *)&src[i], &ep))
				continue;
			if (in[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = sizeof(bufs[i]) + 1; /* larger than any message we take */
			if (nt_wire_is_control(bufs[i], len)) {
				d->cnt.control++;
				nd_wire_input(d, h, &ep, bufs[i], len);
				continue;
			}
			if (d->mode != NT_XDP_OFF) {
				/* XDP judged it already (or its address is not one XDP relays) */
				d->cnt.media_with_xdp++;
				continue;
			}
			if (len > sizeof(bufs[i]) || !forward_verdict(d, h, &ep, len, now, &to))
				continue;
			iout[nout].iov_base = bufs[i];
			iout[nout].iov_len = len;
			memset(&out[nout], 0, sizeof(out[nout]));
			nt_endpoint_to_sockaddr(&to, &dst[nout], &sl);
			out[nout].msg_hdr.msg_name = &dst[nout];
			out[nout].msg_hdr.msg_namelen = (socklen_t)sl;
			out[nout].msg_hdr.msg_iov = &iout[nout];
			out[nout].msg_hdr.msg_iovlen = 1;
			d->cnt.fwd_bytes += len;
			nout++;
		}
		for (int off = 0; off < nout;) {
			int s = sendmmsg(h->fd, out + off, (unsigned int)(nout - off), MSG_DONTWAIT);

			if (s <= 0) {
				/* full socket buffer or unreachable peer: drop, as a router would */
				d->cnt.drop_send++;
				off++; /* skip the one that failed, try the rest */
				if (s < 0 && errno != EAGAIN && errno != ECONNREFUSED)
					nt_dbg("media sendmmsg: %s", strerror(errno));
				continue;
			}
			d->cnt.forwarded += (uint64_t)s;
			off += s;
		}
		if (n < ND_MEDIA_BATCH)
			return;
	}
}
