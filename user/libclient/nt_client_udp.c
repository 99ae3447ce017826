// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The UDP half of the client: the session grant, the probe / challenge /
 * answer exchange that proves our NAT mapping, keepalives. No TLS here, so
 * tests can play the server on loopback.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include "nattrav_client.h"
#include "nt_client_priv.h"
#include "nt_endpoint.h"
#include "nt_line.h"
#include "nt_wire.h"

#define PROBE_RTO_MS 500	/* first retransmission, doubling (RFC 8489 style) */
#define PROBE_RTO_MAX_MS 4000

_Static_assert(NT_CLIENT_KEY_LEN == NT_WIRE_KEY_LEN, "session key length");
_Static_assert(NT_CLIENT_ADDRSTRLEN >= NT_ENDPOINT_STRLEN, "address text length");

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nt_client_grant_parse(const char *line, struct nt_client_grant *g)
{
	struct nt_line_reply r;
	struct nt_endpoint ep;
	const char *s;
	uint64_t v;
	size_t len;
	int err;

	memset(g, 0, sizeof(*g));
	err = nt_line_parse_reply(line, strlen(line), &r);
	if (err)
		return err;
	if (r.kind != NT_REPLY_OK || strcmp(r.word, "JOIN"))
		return -EPROTO;
	if (nt_line_reply_hex64(&r, "session", &g->session) || !g->session)
		return -EINVAL;
	if (nt_line_reply_hexbytes(&r, "key", g->key, sizeof(g->key)))
		return -EINVAL;
	s = nt_line_reply_get(&r, "media");
	if (!s || nt_endpoint_parse(s, &ep))
		return -EINVAL;
	len = sizeof(g->media);
	err = nt_endpoint_to_sockaddr(&ep, &g->media, &len);
	if (err)
		return err;
	g->media_len = (socklen_t)len;
	nt_endpoint_format(&ep, g->media_str, sizeof(g->media_str));
	s = nt_line_reply_get(&r, "group");
	if (s && strlen(s) < sizeof(g->group))
		strcpy(g->group, s);
	g->consent_s = 30;
	g->keepalive_s = 10;
	err = nt_line_reply_u64(&r, "consent", &v);
	if (err == 0 && v >= 1 && v <= 86400)
		g->consent_s = (uint32_t)v;
	else if (err != -ENOENT)
		return -EINVAL;
	err = nt_line_reply_u64(&r, "keepalive", &v);
	if (err == 0 && v >= 1 && v <= 86400)
		g->keepalive_s = (uint32_t)v;
	else if (err != -ENOENT)
		return -EINVAL;
	return 0;
}

static int send_msg(int fd, const struct nt_client_grant *g, const struct nt_wire_msg *m)
{
	uint8_t buf[NT_WIRE_MAX];
	int n = nt_wire_build(buf, sizeof(buf), m, g->key, true);

	if (n < 0)
		return n;
	if (sendto(fd, buf, (size_t)n, MSG_NOSIGNAL, (const struct sockaddr *)&g->media,
		   g->media_len) < 0) {
		/* an ICMP error from an earlier datagram: the next one may pass */
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
			return 0;
		return -errno;
	}
	return 0;
}

static int send_keepalive(int fd, const struct nt_client_grant *g, uint64_t seq,
			  uint8_t tid[NTC_TID_LEN])
{
	struct nt_wire_msg m = { .kind = NT_WIRE_KEEPALIVE, .session_id = g->session, .seq = seq };
	int err = nt_wire_random(m.tid, sizeof(m.tid));

	if (!err && tid)
		memcpy(tid, m.tid, sizeof(m.tid));
	return err ? err : send_msg(fd, g, &m);
}

int nt_client_send_keepalive(int fd, const struct nt_client_grant *g, uint64_t seq)
{
	return send_keepalive(fd, g, seq, NULL);
}

int ntc_keepalive(struct nt_client *c)
{
	int err = send_keepalive(c->udp, &c->grant, ++c->ka_seq, c->ka_tid[c->ka_tid_next]);

	c->ka_tid_next = (c->ka_tid_next + 1) % NTC_KA_TIDS;
	return err;
}

bool ntc_our_request(const struct nt_client *c, const uint8_t tid[NTC_TID_LEN])
{
	if (c->ans_sent && !memcmp(c->ans_tid, tid, NTC_TID_LEN))
		return true;
	for (unsigned int i = 0; i < NTC_KA_TIDS; i++)
		if (c->ka_seq > i && !memcmp(c->ka_tid[i], tid, NTC_TID_LEN))
			return true;
	return false;
}

/*
 * The NT-SEQUENCE of a PROBE: above every earlier one of the session, which
 * the server requires so a recorded PROBE is worth nothing. CLOCK_MONOTONIC
 * nanoseconds never go back while the session (and so this process) lives;
 * *last (the caller's, no global state) guards two PROBEs in one tick.
 */
static uint64_t probe_seq(uint64_t *last)
{
	struct timespec ts;
	uint64_t v;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (v <= *last)
		v = *last + 1;
	*last = v;
	return v;
}

static bool from_media(const struct nt_client_grant *g, const struct sockaddr_storage *ss)
{
	struct nt_endpoint a, b;

	if (nt_endpoint_from_sockaddr((const struct sockaddr *)ss, &a) ||
	    nt_endpoint_from_sockaddr((const struct sockaddr *)&g->media, &b))
		return false;
	return !memcmp(&a, &b, sizeof(a));
}

/*
 * One datagram while waiting for the CHALLENGE: 1 when it was ours and the
 * ANSWER went out, 0 to keep waiting, -EAGAIN to probe again at once, or
 * an error that ends the exchange.
 */
static int on_datagram(int fd, const struct nt_client_grant *g, const uint8_t *probe_tid,
		       const uint8_t *buf, size_t len, char *mapping, size_t mapping_len,
		       uint8_t *ans_tid)
{
	struct nt_wire_msg m, ans = { .kind = NT_WIRE_ANSWER };
	int err;

	if (nt_wire_parse(buf, len, &m) || m.session_id != g->session)
		return 0;
	/* unsigned errors are hints from anyone: never act on them */
	if (nt_wire_verify(buf, len, &m, g->key))
		return 0;
	/*
	 * A response to a request of ours, or nothing: a signed ERROR of this
	 * session recorded earlier (an old 403, a 438 of a finished exchange)
	 * and sent again must not end this one.
	 */
	if (memcmp(m.tid, probe_tid, sizeof(m.tid)))
		return 0;
	if (m.kind == NT_WIRE_ERROR) {
		if (m.error_code == NT_WIRE_ERR_FORBIDDEN)
			return -EPERM;
		if (m.error_code == NT_WIRE_ERR_UNKNOWN_SESSION)
			return -ENOENT;
		if (m.error_code == NT_WIRE_ERR_QUOTA)
			return -EDQUOT;
		return m.error_code == NT_WIRE_ERR_STALE_CHALLENGE ? -EAGAIN : 0;
	}
	if (m.kind != NT_WIRE_CHALLENGE)
		return 0;
	ans.session_id = g->session;
	memcpy(ans.challenge, m.challenge, m.challenge_len);
	ans.challenge_len = m.challenge_len;
	ans.mapped = m.mapped;
	err = nt_wire_random(ans.tid, sizeof(ans.tid));
	if (!err)
		err = send_msg(fd, g, &ans);
	if (err)
		return err;
	if (ans_tid)
		memcpy(ans_tid, ans.tid, sizeof(ans.tid));
	nt_endpoint_format(&m.mapped, mapping, mapping_len);
	return 1;
}

int nt_client_exchange(int fd, const struct nt_client_grant *g, int timeout_ms, char *mapping,
		       size_t mapping_len)
{
	uint64_t last = 0;
	struct nt_wire_msg probe = { .kind = NT_WIRE_PROBE, .session_id = g->session,
				     .pad_to = NT_WIRE_PROBE_MIN };
	int64_t now = mono_ms(), deadline = now + timeout_ms, next = now;
	int rto = PROBE_RTO_MS, err;

	if (fd < 0 || !g->session || !g->media_len || mapping_len < NT_ENDPOINT_STRLEN)
		return -EINVAL;
	err = nt_wire_random(probe.tid, sizeof(probe.tid));
	if (err)
		return err;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t buf[NT_WIRE_MAX + 1];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n;
		int wait;

		now = mono_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= next) {
			/*
			 * Same transaction id, so any CHALLENGE for this exchange
			 * matches; a new sequence every time, so a copy of an
			 * earlier one that won a race to the server does not make
			 * this one a replay there.
			 */
			probe.seq = probe_seq(&last);
			err = send_msg(fd, g, &probe);
			if (err)
				return err;
			next = now + rto;
			rto = rto * 2 > PROBE_RTO_MAX_MS ? PROBE_RTO_MAX_MS : rto * 2;
		}
		wait = (int)((next < deadline ? next : deadline) - now);
		if (poll(&pfd, 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!(pfd.revents & (POLLIN | POLLERR)))
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED ||
			    errno == EHOSTUNREACH || errno == ENETUNREACH)
				continue;
			return -errno;
		}
		if (!from_media(g, &ss))
			continue;
		err = on_datagram(fd, g, probe.tid, buf, (size_t)n, mapping, mapping_len, NULL);
		if (err == 1)
			return 0;
		if (err == -EAGAIN) {
			err = nt_wire_random(probe.tid, sizeof(probe.tid));
			if (err)
				return err;
			next = mono_ms();
			continue;
		}
		if (err)
			return err;
	}
}

int ntc_probe_send(struct nt_client *c)
{
	struct nt_wire_msg probe = { .kind = NT_WIRE_PROBE, .session_id = c->grant.session,
				     .pad_to = NT_WIRE_PROBE_MIN };

	memcpy(probe.tid, c->vf.tid, sizeof(probe.tid));
	probe.seq = probe_seq(&c->probe_last);
	return send_msg(c->udp, &c->grant, &probe);
}

int ntc_verify_datagram(struct nt_client *c, const uint8_t *buf, size_t len)
{
	int err = on_datagram(c->udp, &c->grant, c->vf.tid, buf, len, c->vf.observed,
			      sizeof(c->vf.observed), c->ans_tid);

	if (err == 1)
		c->ans_sent = true;
	return err;
}
