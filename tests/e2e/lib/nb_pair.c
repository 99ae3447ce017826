// SPDX-License-Identifier: GPL-2.0
/*
 * Two clients of the non-blocking API in ONE epoll loop (tests/e2e/client_nb.sh):
 * each joins the group, verifies its mapping, then sends media at --rate to
 * the other; the relay may restart meanwhile and both must resume. No
 * blocking call of the library is used. Prints one JSON line per event and
 * a summary per client at the end (after_reverify: media received after an
 * EVT VERIFIED with another mapping than the first, as after a NAT
 * rebinding); exits 1 when a client ended.
 *
 *	nb_pair --server IP --ca FILE --group G --token T1 --token T2 [--rate PPS]
 *		[--run SECONDS after both verified]
 *
 * SIGPIPE keeps its default disposition: a write to a reset connection
 * would kill this program.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include "nattrav_client.h"

struct peer {
	int id;
	struct nt_client *c;
	uint32_t ssrc;
	bool joined, verified, ended;
	bool rebound;		/* verified with another mapping than the first */
	char first_mapping[NT_CLIENT_ADDRSTRLEN];
	uint64_t sent, received, after_resume, after_reverify, own;
	int resumed, rejoined, verifies;
	int64_t next_send_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *kind_name(enum nt_client_event_kind k)
{
	switch (k) {
	case NT_CLIENT_EV_VERIFIED: return "verified";
	case NT_CLIENT_EV_EXPIRED: return "expired";
	case NT_CLIENT_EV_DENIED: return "denied";
	case NT_CLIENT_EV_BYE: return "bye";
	case NT_CLIENT_EV_CLOSED: return "closed";
	case NT_CLIENT_EV_UDP_ERROR: return "udp_error";
	case NT_CLIENT_EV_RECONNECTED: return "reconnected";
	case NT_CLIENT_EV_JOINED: return "joined";
	case NT_CLIENT_EV_VERIFY_FAILED: return "verify_failed";
	case NT_CLIENT_EV_LEFT: return "left";
	case NT_CLIENT_EV_TOKEN_REFRESHED: return "token_refreshed";
	default: return "other";
	}
}

static void on_event(void *arg, const struct nt_client_event *ev)
{
	struct peer *p = arg;

	printf("{\"client\":%d,\"event\":\"%s\",\"mapping\":\"%s\",\"reason\":\"%s\"}\n", p->id,
	       kind_name(ev->kind), ev->mapping, ev->kind == NT_CLIENT_EV_OTHER ? ev->name : ev->reason);
	fflush(stdout);
	switch (ev->kind) {
	case NT_CLIENT_EV_JOINED:
		p->joined = true;
		break;
	case NT_CLIENT_EV_VERIFIED:
		p->verified = true;
		p->verifies++;
		if (!p->first_mapping[0])
			snprintf(p->first_mapping, sizeof(p->first_mapping), "%s", ev->mapping);
		else if (strcmp(p->first_mapping, ev->mapping))
			p->rebound = true;
		break;
	case NT_CLIENT_EV_RECONNECTED:
		if (!strcmp(ev->reason, "resumed"))
			p->resumed++;
		else
			p->rejoined++;
		p->verified = ev->mapping[0] != '\0';
		break;
	case NT_CLIENT_EV_CLOSED:
		p->ended = true;
		break;
	default:
		break;
	}
}

static void on_media(void *arg, const void *buf, size_t len)
{
	struct peer *p = arg;
	struct nt_client_media m;

	if (nt_client_media_decode(buf, len, &m))
		return;
	if (m.ssrc == p->ssrc) {
		p->own++;
		return;
	}
	p->received++;
	if (p->resumed)
		p->after_resume++;
	if (p->rebound)
		p->after_reverify++;
}

/* Register what each client wants now: ADD, or MOD when the fd is there already. */
static void sync_fds(int ep, struct peer *peers, int n)
{
	for (int i = 0; i < n; i++) {
		struct pollfd pfd[2];
		int k = nt_client_fds(peers[i].c, pfd, 2);

		for (int j = 0; j < k; j++) {
			struct epoll_event e = { .data.u32 = (uint32_t)i };

			if (pfd[j].events & POLLIN)
				e.events |= EPOLLIN;
			if (pfd[j].events & POLLOUT)
				e.events |= EPOLLOUT;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd[j].fd, &e) && errno == EEXIST)
				epoll_ctl(ep, EPOLL_CTL_MOD, pfd[j].fd, &e);
		}
	}
}

static void send_due(struct peer *p, int rate, int64_t now)
{
	uint8_t buf[200];

	if (!p->verified && !p->resumed)
		return;
	if (!p->next_send_ms)
		p->next_send_ms = now;
	for (int burst = 0; now >= p->next_send_ms && burst < 32; burst++) {
		struct nt_client_media m = { .pt = NT_CLIENT_MEDIA_PT, .ssrc = p->ssrc,
					     .seq = p->sent + 1, .send_ns = nt_client_now_ns() };
		int len = nt_client_media_encode(buf, sizeof(buf), 160, &m);

		if (len > 0 && !nt_client_send_media(p->c, buf, (size_t)len))
			p->sent++;
		p->next_send_ms += 1000 / rate;
	}
}

int main(int argc, char **argv)
{
	NT_CLIENT_OPTS(o, .timeout_ms = 3000);
	const char *tokens[2] = { NULL, NULL };
	struct peer peers[2] = { { .id = 1, .ssrc = 0x1111 }, { .id = 2, .ssrc = 0x2222 } };
	struct nt_client_callbacks cb = { .media = on_media, .event = on_event };
	int rate = 100, run_s = 12, nt = 0, ep, rc = 0;
	int64_t stop_at = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--server"))
			o.server = argv[i + 1];
		else if (!strcmp(argv[i], "--ca"))
			o.ca_file = argv[i + 1];
		else if (!strcmp(argv[i], "--group"))
			o.group = argv[i + 1];
		else if (!strcmp(argv[i], "--token") && nt < 2)
			tokens[nt++] = argv[i + 1];
		else if (!strcmp(argv[i], "--rate"))
			rate = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--run"))
			run_s = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "nb_pair: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (nt != 2 || !o.server || !o.ca_file || !o.group || rate < 1 || rate > 1000) {
		fprintf(stderr, "usage: nb_pair --server IP --ca FILE --group G --token T1 --token T2 [--rate PPS] [--run S]\n");
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return perror("epoll_create1"), 1;
	for (int i = 0; i < 2; i++) {
		o.token = tokens[i];
		if (nt_client_start(&o, &peers[i].c)) {
			fprintf(stderr, "nb_pair: client %d: %s\n", i + 1,
				peers[i].c ? nt_client_error(peers[i].c) : "out of memory");
			return 1;
		}
	}
	for (;;) {
		struct epoll_event evs[8];
		int64_t now = now_ms();
		int wait = 1000 / rate, n;

		if (!stop_at && peers[0].verified && peers[1].verified)
			stop_at = now + (int64_t)run_s * 1000;
		if (stop_at && now >= stop_at)
			break;
		if (peers[0].ended || peers[1].ended) {
			rc = 1;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int t = nt_client_next_timeout(peers[i].c);

			if (t >= 0 && t < wait)
				wait = t;
		}
		sync_fds(ep, peers, 2);
		n = epoll_wait(ep, evs, 8, wait);
		if (n < 0 && errno != EINTR)
			return perror("epoll_wait"), 1;
		/* not only the ready ones: timers (keepalives, probes, backoff) too */
		for (int i = 0; i < 2; i++) {
			if (nt_client_process(peers[i].c, &cb, &peers[i]))
				peers[i].ended = true;
			if (stop_at)
				send_due(&peers[i], rate, now_ms());
		}
	}
	for (int i = 0; i < 2; i++) {
		struct peer *p = &peers[i];

		printf("{\"client\":%d,\"event\":\"summary\",\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		       ",\"after_resume\":%" PRIu64 ",\"after_reverify\":%" PRIu64 ",\"own\":%" PRIu64
		       ",\"resumed\":%d,\"rejoined\":%d,\"verifies\":%d,\"error\":\"%s\"}\n",
		       p->id, p->sent, p->received, p->after_resume, p->after_reverify, p->own,
		       p->resumed, p->rejoined, p->verifies,
		       p->ended ? nt_client_error(p->c) : "");
		nt_client_quit_start(p->c);
	}
	/* the QUIT replies, from the same loop: nt_client_close then does not wait */
	for (int64_t until = now_ms() + 1000; now_ms() < until;) {
		struct epoll_event evs[8];

		if (nt_client_next_timeout(peers[0].c) < 0 && nt_client_next_timeout(peers[1].c) < 0)
			break;
		sync_fds(ep, peers, 2);
		epoll_wait(ep, evs, 8, 50);
		for (int i = 0; i < 2; i++)
			nt_client_process(peers[i].c, &(struct nt_client_callbacks){ 0 }, NULL);
	}
	for (int i = 0; i < 2; i++)
		nt_client_close(peers[i].c);
	return rc;
}
