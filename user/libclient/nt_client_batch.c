// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Media in batches, one system call for many datagrams (sendmmsg, recvmmsg),
 * for senders at rates where a call per packet costs more than the packet.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "nt_client_priv.h"
#include "nt_endpoint.h"
#include "nt_wire.h"

#define MEDIA_MAX 65507	/* largest UDP payload over IPv4 */
#define BATCH_MAX 64	/* per system call; more is sent or taken in several */

bool ntc_media_ok(const void *buf, size_t len)
{
	return buf && len && len <= MEDIA_MAX && !nt_wire_is_control(buf, len);
}

int nt_client_send_media_batch(struct nt_client *c, const struct nt_client_msg *msgs,
			       unsigned int n)
{
	struct mmsghdr h[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	unsigned int done = 0;

	for (unsigned int i = 0; i < n; i++)
		if (!ntc_media_ok(msgs[i].buf, msgs[i].len))
			return -EINVAL;
	while (done < n) {
		unsigned int k = n - done < BATCH_MAX ? n - done : BATCH_MAX;
		int r;

		memset(h, 0, sizeof(h[0]) * k);
		for (unsigned int i = 0; i < k; i++) {
			iov[i].iov_base = msgs[done + i].buf;
			iov[i].iov_len = msgs[done + i].len;
			h[i].msg_hdr.msg_iov = &iov[i];
			h[i].msg_hdr.msg_iovlen = 1;
			h[i].msg_hdr.msg_name = &c->grant.media;
			h[i].msg_hdr.msg_namelen = c->grant.media_len;
		}
		r = sendmmsg(c->udp, h, k, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done ? (int)done : -errno;
		}
		done += (unsigned int)r;
		if ((unsigned int)r < k)
			break;
	}
	return (int)done;
}

static bool from_relay(const struct nt_client *c, const struct sockaddr_storage *ss)
{
	struct nt_endpoint a, b;

	return !nt_endpoint_from_sockaddr((const struct sockaddr *)ss, &a) &&
	       !nt_endpoint_from_sockaddr((const struct sockaddr *)&c->grant.media, &b) &&
	       !memcmp(&a, &b, sizeof(a));
}

int nt_client_recv_media_batch(struct nt_client *c, struct nt_client_msg *msgs, unsigned int n)
{
	struct sockaddr_storage src[BATCH_MAX];
	struct mmsghdr h[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	unsigned int got = 0;

	if (!n)
		return 0;
	if (n > BATCH_MAX)
		n = BATCH_MAX;
	memset(h, 0, sizeof(h[0]) * n);
	for (unsigned int i = 0; i < n; i++) {
		if (!msgs[i].buf || !msgs[i].len)
			return -EINVAL;
		iov[i].iov_base = msgs[i].buf;
		iov[i].iov_len = msgs[i].len;
		h[i].msg_hdr.msg_iov = &iov[i];
		h[i].msg_hdr.msg_iovlen = 1;
		h[i].msg_hdr.msg_name = &src[i];
		h[i].msg_hdr.msg_namelen = sizeof(src[i]);
	}
	for (;;) {
		int r = recvmmsg(c->udp, h, n, MSG_DONTWAIT, NULL);

		if (r >= 0) {
			n = (unsigned int)r;
			break;
		}
		/* an ICMP error for an earlier send, as nt_client_poll skips it */
		if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
		    errno == ENETUNREACH)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
	for (unsigned int i = 0; i < n; i++) {
		size_t len = h[i].msg_len;
		bool trunc = h[i].msg_hdr.msg_flags & MSG_TRUNC;

		if (!from_relay(c, &src[i]))
			continue; /* only the relay speaks to us */
		if (nt_wire_is_control(msgs[i].buf, len)) {
			/* cut short it cannot be checked: lost as on a lossy path */
			if (!trunc)
				ntc_udp_control(c, msgs[i].buf, len);
			continue;
		}
		if (got != i) {
			/* close the gap a control message or a stranger left */
			if (len > iov[got].iov_len) {
				len = iov[got].iov_len;
				trunc = true;
			}
			memmove(msgs[got].buf, msgs[i].buf, len);
		}
		msgs[got].len = len;
		msgs[got].flags = trunc ? NT_CLIENT_MSG_TRUNC : 0;
		got++;
	}
	return (int)got;
}
