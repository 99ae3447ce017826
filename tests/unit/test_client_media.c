// SPDX-License-Identifier: GPL-2.0
/*
 * The client library's media calls and options struct, without a relay: a
 * client whose grant points at a UDP socket on 127.0.0.1 that plays the
 * relay. Media is any datagram but nattrav's control framing; the batch
 * calls carry it unchanged and in order; the options struct's size is checked.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nattrav_client.h"
#include "nt_client_priv.h"
#include "nt_wire.h"

static const uint8_t key[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdef";

/* A DTLS 1.2 ClientHello record's first bytes: content type 22, version, epoch 0. */
static const uint8_t dtls_hello[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30,
				      1, 0, 0, 0x24, 0, 0, 0, 0, 0, 0, 0, 0x24, 0xfe, 0xfd };
/* A QUIC long header (Initial) and an application's own framing starting with 0. */
static const uint8_t quic_initial[] = { 0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t own_framing[] = { 0, 1, 0, 4, 'n', 'o', 'p', 'e', 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0, 0, 0x55 };

static int udp_socket(struct sockaddr_in *sin)
{
	socklen_t sl = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)sin, &sl), 0);
	return fd;
}

struct rig {
	struct nt_client c;
	int relay;
	struct sockaddr_in relay_sin, client_sin;
};

/* A client that was granted "media=" our fake relay's address. */
static void rig_up(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->relay = udp_socket(&r->relay_sin);
	r->c.udp = udp_socket(&r->client_sin);
	r->c.tcp = -1;
	memcpy(&r->c.grant.media, &r->relay_sin, sizeof(r->relay_sin));
	r->c.grant.media_len = sizeof(r->relay_sin);
	r->c.grant.session = 0x1122334455667788ull;
	memcpy(r->c.grant.key, key, sizeof(key));
}

static void rig_down(struct rig *r)
{
	close(r->relay);
	close(r->c.udp);
}

static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	cr_assert_eq(poll(&p, 1, 2000), 1, "nothing arrived");
}

/* What the fake relay received next: its length, the bytes into buf. */
static ssize_t relay_recv(struct rig *r, void *buf, size_t cap)
{
	wait_readable(r->relay);
	return recv(r->relay, buf, cap, 0);
}

static void relay_send(struct rig *r, int from, const void *buf, size_t len)
{
	cr_assert_eq(sendto(from, buf, len, 0, (struct sockaddr *)&r->client_sin,
			    sizeof(r->client_sin)),
		     (ssize_t)len);
}

Test(client_media, any_datagram_but_control_is_media)
{
	uint8_t ctl[NT_WIRE_MAX], buf[2048];
	struct nt_wire_msg m = { .kind = NT_WIRE_KEEPALIVE, .session_id = 1, .seq = 1 };
	const struct { const void *p; size_t n; } ok[] = {
		{ dtls_hello, sizeof(dtls_hello) }, { quic_initial, sizeof(quic_initial) },
		{ own_framing, sizeof(own_framing) }, { "\x80", 1 }, { "x", 1 },
	};
	struct rig r;
	int n;

	rig_up(&r);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(nt_client_send_media(&r.c, ok[i].p, ok[i].n), 0, "datagram %zu", i);
		cr_assert_eq(relay_recv(&r, buf, sizeof(buf)), (ssize_t)ok[i].n);
		cr_assert_arr_eq(buf, ok[i].p, ok[i].n, "datagram %zu changed on the way", i);
	}
	n = nt_wire_build(ctl, sizeof(ctl), &m, key, true);
	cr_assert_gt(n, 0);
	cr_assert_eq(nt_client_send_media(&r.c, ctl, (size_t)n), -EINVAL,
		     "a control-framed datagram is not media");
	cr_assert_eq(nt_client_send_media(&r.c, buf, 0), -EINVAL);
	cr_assert_eq(nt_client_send_media(&r.c, buf, 65508), -EINVAL);
	rig_down(&r);
}

Test(client_media, batch_send_in_order_unchanged)
{
	uint8_t data[100][300], buf[400];
	struct nt_client_msg msgs[100];
	struct rig r;

	rig_up(&r);
	for (int i = 0; i < 100; i++) {
		for (int k = 0; k < 300; k++)
			data[i][k] = (uint8_t)(i * 7 + k);
		data[i][0] = 20 + i % 44; /* DTLS-looking first bytes */
		msgs[i] = (struct nt_client_msg){ .buf = data[i], .len = 100 + (size_t)i };
	}
	/* more than one system call's worth */
	cr_assert_eq(nt_client_send_media_batch(&r.c, msgs, 100), 100);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(relay_recv(&r, buf, sizeof(buf)), 100 + i);
		cr_assert_arr_eq(buf, data[i], 100 + (size_t)i);
	}
	/* one bad datagram: nothing goes */
	msgs[5].len = 0;
	cr_assert_eq(nt_client_send_media_batch(&r.c, msgs, 10), -EINVAL);
	cr_assert_eq(recv(r.relay, buf, sizeof(buf), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	rig_down(&r);
}

Test(client_media, batch_recv_skips_control_and_strangers)
{
	uint8_t ctl[NT_WIRE_MAX], bufs[8][NT_WIRE_MAX];
	struct nt_client_msg msgs[8];
	struct nt_wire_msg e = { .kind = NT_WIRE_ERROR, .session_id = 0x1122334455667788ull,
				 .error_method = NT_WIRE_METHOD_KEEPALIVE,
				 .error_code = NT_WIRE_ERR_FORBIDDEN };
	struct sockaddr_in other_sin;
	int other = udp_socket(&other_sin), n;
	uint8_t big[NT_WIRE_MAX + 100];
	struct rig r;

	rig_up(&r);
	memset(big, 0xab, sizeof(big));
	/* the ERROR answers a keepalive of ours: it becomes an event */
	memset(e.tid, 7, sizeof(e.tid));
	memcpy(r.c.ka_tid[0], e.tid, sizeof(e.tid));
	r.c.ka_seq = 1;
	strcpy(e.reason, "no");
	n = nt_wire_build(ctl, sizeof(ctl), &e, key, true);
	cr_assert_gt(n, 0);

	relay_send(&r, r.relay, dtls_hello, sizeof(dtls_hello));
	relay_send(&r, r.relay, ctl, (size_t)n);
	relay_send(&r, other, own_framing, sizeof(own_framing)); /* not from the relay */
	relay_send(&r, r.relay, quic_initial, sizeof(quic_initial));
	relay_send(&r, r.relay, big, sizeof(big));
	wait_readable(r.c.udp);
	usleep(20000); /* loopback delivers at once; a margin all the same */

	for (int i = 0; i < 8; i++)
		msgs[i] = (struct nt_client_msg){ .buf = bufs[i], .len = sizeof(bufs[i]) };
	n = nt_client_recv_media_batch(&r.c, msgs, 8);
	cr_assert_eq(n, 3, "got %d", n);
	cr_assert_eq(msgs[0].len, sizeof(dtls_hello));
	cr_assert_arr_eq(bufs[0], dtls_hello, sizeof(dtls_hello));
	cr_assert_eq(msgs[0].flags, 0);
	cr_assert_eq(msgs[1].len, sizeof(quic_initial));
	cr_assert_arr_eq(bufs[1], quic_initial, sizeof(quic_initial));
	cr_assert_eq(msgs[2].len, sizeof(bufs[2]));
	cr_assert_eq(msgs[2].flags, NT_CLIENT_MSG_TRUNC);
	cr_assert_arr_eq(bufs[2], big, sizeof(bufs[2]));
	cr_assert_eq(r.c.evq_n, 1, "the relay's ERROR became an event");
	cr_assert_eq(r.c.evq[r.c.evq_head].kind, NT_CLIENT_EV_UDP_ERROR);

	for (int i = 0; i < 8; i++)
		msgs[i].len = sizeof(bufs[i]);
	cr_assert_eq(nt_client_recv_media_batch(&r.c, msgs, 8), 0, "nothing waiting: 0");
	close(other);
	rig_down(&r);
}

Test(client_media, options_carry_their_size)
{
	struct {
		struct nt_client_opts o;
		uint8_t newer[16];
	} big = { .o = { .sz = sizeof(big) } };
	struct nt_client_opts old = { 0 };
	struct nt_client *c;

	/* sz unset: refused before anything else */
	old.server = "127.0.0.1";
	cr_assert_eq(nt_client_open(&old, &c), -EINVAL);
	cr_assert(strstr(nt_client_error(c), "NT_CLIENT_OPTS"), "%s", nt_client_error(c));
	nt_client_close(c);

	/* a newer caller's struct, its extra fields unset: read as far as known */
	cr_assert_eq(nt_client_open(&big.o, &c), -EINVAL);
	cr_assert(strstr(nt_client_error(c), "required"), "%s", nt_client_error(c));
	nt_client_close(c);

	/* ... and with one of them set: refused, not ignored */
	big.newer[3] = 1;
	cr_assert_eq(nt_client_open(&big.o, &c), -EINVAL);
	cr_assert(strstr(nt_client_error(c), "newer"), "%s", nt_client_error(c));
	nt_client_close(c);

	{
		NT_CLIENT_OPTS(o, .server = "127.0.0.1", .group = "g");

		cr_assert_eq(o.sz, sizeof(struct nt_client_opts));
		cr_assert_eq(nt_client_open(&o, &c), -EINVAL);
		cr_assert(strstr(nt_client_error(c), "required"), "%s", nt_client_error(c));
		nt_client_close(c);
	}
}
