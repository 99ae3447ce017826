// SPDX-License-Identifier: GPL-2.0
/*
 * nattrav-client UDP exchange against a fake server on 127.0.0.1: a thread
 * plays nattravd with nt_wire (PROBE in, CHALLENGE out, ANSWER checked).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nattrav_client.h"
#include "nt_client_priv.h"
#include "nt_endpoint.h"
#include "nt_wire.h"

enum fake_mode {
	FAKE_OK,		/* answer the first PROBE */
	FAKE_DROP_FIRST,	/* ignore the first PROBE: the client must retransmit */
	FAKE_FORGED,		/* CHALLENGE signed with another key */
	FAKE_WRONG_TID,		/* CHALLENGE for another transaction */
	FAKE_DENY,		/* signed ERROR 403 */
	FAKE_DENY_OTHER_TID,	/* signed ERROR 403 for a request the client never sent */
	FAKE_UNSIGNED_DENY,	/* unsigned ERROR 403: a hint, not proof */
	FAKE_STALE_THEN_OK,	/* ERROR 438 on the first ANSWER, then a fresh round */
};

struct fake {
	int fd;
	enum fake_mode mode;
	uint8_t key[NT_WIRE_KEY_LEN];
	uint64_t session;
	/* results */
	int probes, answers, good_answers;
	bool same_tid;		/* retransmitted PROBEs kept their transaction id */
	bool seq_up;		/* every PROBE had a higher sequence than the one before */
	uint64_t last_seq;
	struct nt_endpoint client;
};

static const uint8_t key[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const uint8_t other_key[NT_WIRE_KEY_LEN] = "0123456789abcdef0123456789abcdeX";

static int udp_socket(struct sockaddr_in *sin)
{
	socklen_t sl = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)sin, &sl), 0);
	return fd;
}

static void reply(struct fake *f, const struct nt_wire_msg *m, const uint8_t *k,
		  const struct sockaddr_storage *to, socklen_t tl)
{
	uint8_t buf[NT_WIRE_MAX];
	int n = nt_wire_build(buf, sizeof(buf), m, k, true);

	if (n > 0)
		sendto(f->fd, buf, (size_t)n, 0, (const struct sockaddr *)to, tl);
}

static void *fake_server(void *arg)
{
	struct fake *f = arg;
	uint8_t chal[32], first_tid[NT_WIRE_TID_LEN];
	bool stale_sent = false;

	nt_wire_random(chal, sizeof(chal));
	f->same_tid = true;
	f->seq_up = true;
	for (;;) {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
		uint8_t buf[NT_WIRE_MAX];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct nt_wire_msg m, out = { 0 };
		struct nt_endpoint src;
		ssize_t n;

		if (poll(&pfd, 1, 3000) <= 0)
			return NULL;
		n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (n <= 0 || nt_wire_decode(buf, (size_t)n, &m, f->key) || m.session_id != f->session)
			continue;
		nt_endpoint_from_sockaddr((struct sockaddr *)&ss, &src);
		if (m.kind == NT_WIRE_PROBE) {
			if (m.seq <= f->last_seq)
				f->seq_up = false;
			f->last_seq = m.seq;
			if (f->probes++ == 0)
				memcpy(first_tid, m.tid, sizeof(first_tid));
			else if (memcmp(first_tid, m.tid, sizeof(first_tid)) && !stale_sent)
				f->same_tid = false;
			if (f->mode == FAKE_DROP_FIRST && f->probes == 1)
				continue;
			out.session_id = f->session;
			memcpy(out.tid, m.tid, sizeof(out.tid));
			if (f->mode == FAKE_DENY || f->mode == FAKE_UNSIGNED_DENY ||
			    f->mode == FAKE_DENY_OTHER_TID) {
				bool sign = f->mode != FAKE_UNSIGNED_DENY;

				out.kind = NT_WIRE_ERROR;
				out.error_method = NT_WIRE_METHOD_PROBE;
				out.error_code = NT_WIRE_ERR_FORBIDDEN;
				strcpy(out.reason, "address denied");
				if (!sign)
					out.session_id = 0;
				if (f->mode == FAKE_DENY_OTHER_TID)
					out.tid[11] ^= 1;
				reply(f, &out, sign ? f->key : NULL, &ss, sl);
				continue;
			}
			out.kind = NT_WIRE_CHALLENGE;
			memcpy(out.challenge, chal, sizeof(chal));
			out.challenge_len = sizeof(chal);
			out.mapped = src;
			out.lifetime_ms = 5000;
			if (f->mode == FAKE_WRONG_TID)
				out.tid[0] ^= 1;
			reply(f, &out, f->mode == FAKE_FORGED ? other_key : f->key, &ss, sl);
		} else if (m.kind == NT_WIRE_ANSWER) {
			f->answers++;
			if (f->mode == FAKE_STALE_THEN_OK && !stale_sent) {
				stale_sent = true;
				nt_wire_random(chal, sizeof(chal)); /* the old one is dead */
				out.kind = NT_WIRE_ERROR;
				out.session_id = f->session;
				memcpy(out.tid, m.tid, sizeof(out.tid));
				out.error_method = NT_WIRE_METHOD_ANSWER;
				out.error_code = NT_WIRE_ERR_STALE_CHALLENGE;
				strcpy(out.reason, "stale challenge");
				reply(f, &out, f->key, &ss, sl);
				continue;
			}
			if (m.challenge_len == sizeof(chal) && !memcmp(m.challenge, chal, sizeof(chal)) &&
			    !memcmp(&m.mapped, &src, sizeof(src))) {
				f->good_answers++;
				f->client = src;
				return NULL;
			}
		}
	}
}

struct setup {
	struct fake f;
	struct nt_client_grant g;
	int cfd;
	pthread_t th;
	struct sockaddr_in csin;
};

static void start(struct setup *s, enum fake_mode mode)
{
	struct sockaddr_in ssin;

	memset(s, 0, sizeof(*s));
	s->f.fd = udp_socket(&ssin);
	s->f.mode = mode;
	s->f.session = 0x0123456789abcdefull;
	memcpy(s->f.key, key, sizeof(key));
	s->cfd = udp_socket(&s->csin);
	s->g.session = s->f.session;
	memcpy(s->g.key, key, sizeof(key));
	memcpy(&s->g.media, &ssin, sizeof(ssin));
	s->g.media_len = sizeof(ssin);
	cr_assert_eq(pthread_create(&s->th, NULL, fake_server, &s->f), 0);
}

static void finish(struct setup *s)
{
	pthread_join(s->th, NULL);
	close(s->f.fd);
	close(s->cfd);
}

static void expect_mapping(const struct setup *s, const char *mapping)
{
	char want[64];

	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(s->csin.sin_port));
	cr_assert_str_eq(mapping, want);
}

Test(client_udp, exchange)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_OK);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 2000, mapping, sizeof(mapping)), 0);
	finish(&s);
	expect_mapping(&s, mapping);
	cr_assert_eq(s.f.probes, 1);
	cr_assert_eq(s.f.good_answers, 1, "the ANSWER echoes the challenge and the observed address");
}

Test(client_udp, retransmits_the_probe)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_DROP_FIRST);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 3000, mapping, sizeof(mapping)), 0);
	finish(&s);
	expect_mapping(&s, mapping);
	cr_assert_eq(s.f.probes, 2);
	cr_assert(s.f.same_tid, "a retransmitted PROBE keeps its transaction id");
	cr_assert(s.f.seq_up, "and has a new, higher sequence: not a replay to the server");
	cr_assert_gt(s.f.last_seq, 0);
	cr_assert_eq(s.f.good_answers, 1);
}

Test(client_udp, ignores_a_forged_challenge)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_FORGED);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 1200, mapping, sizeof(mapping)), -ETIMEDOUT);
	finish(&s);
	cr_assert_geq(s.f.probes, 2, "kept probing");
	cr_assert_eq(s.f.answers, 0, "never answered a challenge it could not check");
}

Test(client_udp, ignores_a_challenge_for_another_probe)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_WRONG_TID);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 800, mapping, sizeof(mapping)), -ETIMEDOUT);
	finish(&s);
	cr_assert_eq(s.f.answers, 0);
}

Test(client_udp, signed_403_is_denied)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_DENY);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 2000, mapping, sizeof(mapping)), -EPERM);
	finish(&s);
}

/* Signed, but not the answer to anything we sent (an old one, recorded and replayed). */
Test(client_udp, signed_403_for_another_request_is_ignored)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_DENY_OTHER_TID);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 800, mapping, sizeof(mapping)), -ETIMEDOUT);
	finish(&s);
	cr_assert_geq(s.f.probes, 2, "kept probing");
}

Test(client_udp, unsigned_403_is_only_a_hint)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];

	start(&s, FAKE_UNSIGNED_DENY);
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 800, mapping, sizeof(mapping)), -ETIMEDOUT);
	finish(&s);
}

Test(client_udp, stale_challenge_probes_again)
{
	struct setup s;
	char mapping[NT_CLIENT_ADDRSTRLEN];
	int rc;

	start(&s, FAKE_STALE_THEN_OK);
	/* first round: ANSWER sent (exchange returns), the server calls it stale */
	cr_assert_eq(nt_client_exchange(s.cfd, &s.g, 2000, mapping, sizeof(mapping)), 0);
	/* second round, as nt_client_verify does when no EVT VERIFIED comes */
	rc = nt_client_exchange(s.cfd, &s.g, 2000, mapping, sizeof(mapping));
	finish(&s);
	cr_assert_eq(rc, 0);
	expect_mapping(&s, mapping);
	cr_assert_eq(s.f.answers, 2);
	cr_assert_eq(s.f.good_answers, 1);
}

Test(client_udp, keepalive_is_signed_with_sequence)
{
	struct sockaddr_in ssin, csin;
	int sfd = udp_socket(&ssin), cfd = udp_socket(&csin);
	struct nt_client_grant g = { .session = 77, .media_len = sizeof(ssin) };
	uint8_t buf[NT_WIRE_MAX];
	struct nt_wire_msg m;
	ssize_t n;

	memcpy(g.key, key, sizeof(key));
	memcpy(&g.media, &ssin, sizeof(ssin));
	cr_assert_eq(nt_client_send_keepalive(cfd, &g, 5), 0);
	n = recv(sfd, buf, sizeof(buf), 0);
	cr_assert_gt(n, 0);
	cr_assert_eq(nt_wire_decode(buf, (size_t)n, &m, key), 0);
	cr_assert_eq(m.kind, NT_WIRE_KEEPALIVE);
	cr_assert_eq(m.session_id, 77);
	cr_assert_eq(m.seq, 5);
	cr_assert_eq(nt_wire_decode(buf, (size_t)n, &m, other_key), -EACCES);
	close(sfd);
	close(cfd);
}

/* After verification, a UDP ERROR counts only for one of our last few KEEPALIVEs. */
Test(client_udp, errors_only_for_our_keepalives)
{
	struct sockaddr_in ssin, csin;
	static struct nt_client c;
	uint8_t buf[NT_WIRE_MAX], tids[NTC_KA_TIDS + 1][NTC_TID_LEN];
	struct nt_wire_msg m;
	int sfd = udp_socket(&ssin);

	c.udp = udp_socket(&csin);
	c.grant.session = 77;
	c.grant.media_len = sizeof(ssin);
	memcpy(c.grant.key, key, sizeof(key));
	memcpy(&c.grant.media, &ssin, sizeof(ssin));
	cr_assert_not(ntc_our_request(&c, (const uint8_t[NTC_TID_LEN]){ 0 }), "nothing sent yet");
	for (int i = 0; i <= NTC_KA_TIDS; i++) {
		ssize_t n;

		cr_assert_eq(ntc_keepalive(&c), 0);
		n = recv(sfd, buf, sizeof(buf), 0);
		cr_assert_gt(n, 0);
		cr_assert_eq(nt_wire_decode(buf, (size_t)n, &m, key), 0);
		cr_assert_eq(m.seq, (uint64_t)i + 1);
		memcpy(tids[i], m.tid, NTC_TID_LEN);
	}
	for (int i = 1; i <= NTC_KA_TIDS; i++)
		cr_assert(ntc_our_request(&c, tids[i]), "keepalive %d", i);
	cr_assert_not(ntc_our_request(&c, tids[0]), "too old: rotated out");
	tids[1][0] ^= 1;
	cr_assert_not(ntc_our_request(&c, tids[1]), "a transaction of nobody");
	memcpy(c.ans_tid, tids[0], NTC_TID_LEN);
	c.ans_sent = true;
	cr_assert(ntc_our_request(&c, tids[0]), "the last ANSWER");
	close(sfd);
	close(c.udp);
}

Test(client_udp, bad_arguments)
{
	struct nt_client_grant g = { 0 };
	char mapping[NT_CLIENT_ADDRSTRLEN];

	cr_assert_eq(nt_client_exchange(-1, &g, 100, mapping, sizeof(mapping)), -EINVAL);
	cr_assert_eq(nt_client_exchange(0, &g, 100, mapping, sizeof(mapping)), -EINVAL, "no grant");
}
