// SPDX-License-Identifier: GPL-2.0
/*
 * Control-plane load generator (issue 8, item 3), run by scripts/bench-ctl.sh
 * inside a client namespace of a topo.sh topology, against a running
 * nattravd.
 *
 * Phase 1 opens --clients TLS sessions (TCP, TLS handshake with the
 * certificate checked, HELLO, AUTH, JOIN; the three lines pipelined), at
 * most --inflight at a time, and keeps them all open: sessions per second.
 * Phase 2 proves each session's UDP mapping (PROBE, CHALLENGE, ANSWER, then
 * EVT VERIFIED on TLS), again --inflight at a time: verifications per
 * second. With every session open and verified it reads the daemon's RSS
 * (/proc/PID/status) and the mapping map's memory (fdinfo memlock of the
 * pinned map) and compares them with the same figures before phase 1.
 * Phases 3 and 4 (--reconnect) drop every connection (no close_notify, as
 * a lost link) and reconnect with HELLO and RESUME: phase 3 with a full TLS
 * handshake, phase 4 offering the TLS 1.3 ticket of the last connection
 * (a resumed handshake: no certificate, no signature). The same lines
 * both times, so the difference is the handshake's.
 * The daemon's CPU (/proc/PID/stat) and this process's are read around each
 * phase. One event loop (epoll), non-blocking OpenSSL; prints key=value lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <bpf/bpf.h>
#include "nattrav_client.h"
#include "nt_token.h"
#include "nt_wire.h"
#include "bench/bench_util.h"

enum st { ST_IDLE, ST_CONNECT, ST_HANDSHAKE, ST_JOINING, ST_JOINED, ST_PROBING, ST_VERIFIED,
	  ST_DROPPED, ST_RESUMING, ST_RESUMED, ST_FAILED };

struct cl {
	enum st st;
	int tcp, udp;
	SSL *ssl;
	char rbuf[1024];
	size_t rlen;
	struct nt_client_grant g;
	uint8_t tid[NT_WIRE_TID_LEN];
	uint64_t probe_seq;	/* NT-SEQUENCE: higher for every PROBE, or it is a replay */
	double t_probe;
	bool answered;
	SSL_SESSION *tls_sess;	/* the relay's last TLS 1.3 ticket */
	char *ticket;		/* EVT TICKET's, for RESUME */
};

struct opts {
	const char *server, *ca, *secret, *map;
	unsigned clients, inflight, src_count;
	uint32_t src_base; /* host order; 0: any */
	int pid;
	double timeout;
	bool reconnect;
};

static struct cl *cls;
static int ep;
static SSL_CTX *ctx;
static struct opts o;
static struct sockaddr_in srv;
static uint8_t secret[NT_TOKEN_SECRET_MAX];
static size_t secret_len;
static unsigned n_done, n_failed, n_inflight, n_reused;
/* the phase reconnecting: RESUME instead of AUTH and JOIN; offer the TLS session */
static bool resuming, offer_tls;
static unsigned fail_code[600];

static long long rss_kib(int pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static long long map_memlock(const char *pin)
{
	char path[64], line[256];
	long long v = -1;
	int fd = bpf_obj_get(pin);
	FILE *f;

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((f = fopen(path, "r"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %lld", &v) == 1)
				break;
		fclose(f);
	}
	close(fd);
	return v;
}

static void ev_set(int fd, uint64_t tag, uint32_t events, int op)
{
	struct epoll_event e = { .events = events, .data.u64 = tag };

	epoll_ctl(ep, op, fd, &e);
}

static void fail(struct cl *c, unsigned i, int code)
{
	if (c->st == ST_FAILED)
		return;
	if (c->st == ST_CONNECT || c->st == ST_HANDSHAKE || c->st == ST_JOINING ||
	    c->st == ST_PROBING || c->st == ST_RESUMING)
		n_inflight--;
	c->st = ST_FAILED;
	n_failed++;
	fail_code[code >= 0 && code < 600 ? code : 0]++;
	(void)i;
}

/*
 * Keep the TLS session for a resumed handshake later (it holds the ticket
 * once one came). A copy: freeing a connection that did not shut down marks
 * its own session not resumable, as the client library knows too.
 */
static void keep_tls(struct cl *c)
{
	SSL_SESSION *s = SSL_get0_session(c->ssl);

	if (!s || !SSL_SESSION_is_resumable(s) || !(s = SSL_SESSION_dup(s)))
		return;
	SSL_SESSION_free(c->tls_sess);
	c->tls_sess = s;
}

static void done(struct cl *c, enum st st)
{
	c->st = st;
	n_done++;
	n_inflight--;
}

static int start_connect(unsigned i)
{
	struct cl *c = &cls[i];
	int one = 1;

	c->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->tcp < 0)
		return -errno;
	setsockopt(c->tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o.src_base) {
		/*
		 * nattravd admits a few unauthenticated connections per source
		 * address (--max-unauth-per-source), and one address has ~28k
		 * ephemeral ports: TCP comes from the same addresses as UDP,
		 * the port picked at connect (the 4-tuple may share it).
		 */
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(o.src_base + i % o.src_count) };

		setsockopt(c->tcp, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c->tcp, (struct sockaddr *)&a, sizeof(a)) < 0)
			return -errno;
	}
	if (connect(c->tcp, (struct sockaddr *)&srv, sizeof(srv)) < 0 && errno != EINPROGRESS)
		return -errno;
	c->st = ST_CONNECT;
	n_inflight++;
	ev_set(c->tcp, (uint64_t)i << 1, EPOLLOUT | EPOLLIN, EPOLL_CTL_ADD);
	return 0;
}

static void send_lines(struct cl *c, unsigned i)
{
	char tok[NT_TOKEN_MAX + 1], user[32], buf[1024];
	int n;

	snprintf(user, sizeof(user), "u%u", i);
	if (nt_token_mint_ttl(secret, secret_len, user, (const char *const[]){ "*" }, 1,
			      (uint64_t)time(NULL), 3600, tok, sizeof(tok)) < 0) {
		fail(c, i, 0);
		return;
	}
	n = snprintf(buf, sizeof(buf), "HELLO nattrav/1\nAUTH %s\nJOIN b%u\n", tok, i / 2);
	if (SSL_write(c->ssl, buf, n) != n)
		fail(c, i, 0);
	else
		c->st = ST_JOINING;
}

static void send_resume(struct cl *c, unsigned i)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "HELLO nattrav/1\nRESUME %s\n", c->ticket);

	n_reused += SSL_session_reused(c->ssl) == 1;
	if (SSL_write(c->ssl, buf, n) != n)
		fail(c, i, 0);
	else
		c->st = ST_RESUMING;
}

static void handshake(struct cl *c, unsigned i)
{
	int r = SSL_connect(c->ssl), e;

	if (r == 1) {
		ev_set(c->tcp, (uint64_t)i << 1, EPOLLIN, EPOLL_CTL_MOD);
		if (resuming)
			send_resume(c, i);
		else
			send_lines(c, i);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		ev_set(c->tcp, (uint64_t)i << 1, EPOLLIN, EPOLL_CTL_MOD);
	else if (e == SSL_ERROR_WANT_WRITE)
		ev_set(c->tcp, (uint64_t)i << 1, EPOLLOUT, EPOLL_CTL_MOD);
	else
		fail(c, i, 0);
}

static void on_line(struct cl *c, unsigned i, const char *line)
{
	if (getenv("BENCH_CTL_DEBUG"))
		fprintf(stderr, "client %u: %s\n", i, line);
	if (!strncmp(line, "ERR ", 4)) {
		fail(c, i, atoi(line + 4));
	} else if (!strncmp(line, "OK JOIN ", 8)) {
		if (nt_client_grant_parse(line, &c->g)) {
			fail(c, i, 0);
		} else {
			keep_tls(c);
			done(c, ST_JOINED);
		}
	} else if (!strncmp(line, "EVT TICKET ", 11)) {
		const char *t = strstr(line, " ticket=");
		size_t n = t ? strcspn(t + 8, " ") : 0;

		free(c->ticket);
		c->ticket = n ? strndup(t + 8, n) : NULL;
	} else if (!strncmp(line, "OK RESUME ", 10) && c->st == ST_RESUMING) {
		keep_tls(c);
		done(c, ST_RESUMED);
	} else if (!strncmp(line, "EVT VERIFIED", 12) && c->st == ST_PROBING) {
		done(c, ST_VERIFIED);
		/* the mapping stays until the consent window; the fd is not needed */
		close(c->udp);
		c->udp = -1;
	}
}

static void on_tls(struct cl *c, unsigned i, uint32_t events)
{
	if (c->st == ST_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(c->tcp, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			fail(c, i, 0);
			return;
		}
		c->ssl = SSL_new(ctx);
		SSL_set_fd(c->ssl, c->tcp);
		if (offer_tls && c->tls_sess)
			SSL_set_session(c->ssl, c->tls_sess);
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), o.server);
		c->st = ST_HANDSHAKE;
	}
	if (c->st == ST_HANDSHAKE) {
		handshake(c, i);
		return;
	}
	for (;;) {
		int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof(c->rbuf) - 1 - c->rlen));
		char *nl;

		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				if (getenv("BENCH_CTL_DEBUG"))
					fprintf(stderr, "client %u: TLS read error %d in state %d\n", i, e, c->st);
				fail(c, i, 0);
			}
			return;
		}
		c->rlen += (size_t)n;
		c->rbuf[c->rlen] = '\0';
		while ((nl = strchr(c->rbuf, '\n'))) {
			*nl = '\0';
			if (nl > c->rbuf && nl[-1] == '\r')
				nl[-1] = '\0';
			on_line(c, i, c->rbuf);
			c->rlen -= (size_t)(nl + 1 - c->rbuf);
			memmove(c->rbuf, nl + 1, c->rlen + 1);
		}
		if (c->st == ST_FAILED)
			return;
	}
}

static void send_wire(struct cl *c, const struct nt_wire_msg *m)
{
	uint8_t buf[NT_WIRE_MAX];
	int n = nt_wire_build(buf, sizeof(buf), m, c->g.key, true);

	if (n > 0)
		sendto(c->udp, buf, (size_t)n, 0, (struct sockaddr *)&c->g.media, c->g.media_len);
}

static void probe(struct cl *c)
{
	struct nt_wire_msg m = { .kind = NT_WIRE_PROBE, .session_id = c->g.session,
				 .seq = ++c->probe_seq, .pad_to = NT_WIRE_PROBE_MIN };

	memcpy(m.tid, c->tid, sizeof(m.tid));
	send_wire(c, &m);
	c->t_probe = now_s();
}

static int start_probe(unsigned i)
{
	struct cl *c = &cls[i];

	c->udp = socket(c->g.media.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->udp < 0)
		return -errno;
	if (o.src_base) {
		/* nattravd answers one address at most 50 times a second (amplification) */
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(o.src_base + i % o.src_count) };

		if (bind(c->udp, (struct sockaddr *)&a, sizeof(a)) < 0)
			return -errno;
	}
	ev_set(c->udp, (uint64_t)i << 1 | 1, EPOLLIN, EPOLL_CTL_ADD);
	nt_wire_random(c->tid, sizeof(c->tid));
	c->st = ST_PROBING;
	n_inflight++;
	probe(c);
	return 0;
}

static void on_udp(struct cl *c, unsigned i)
{
	uint8_t buf[NT_WIRE_MAX + 1];
	struct nt_wire_msg m, ans = { .kind = NT_WIRE_ANSWER };
	ssize_t n;

	while ((n = recv(c->udp, buf, sizeof(buf), 0)) > 0) {
		if (nt_wire_parse(buf, (size_t)n, &m) || m.session_id != c->g.session ||
		    nt_wire_verify(buf, (size_t)n, &m, c->g.key))
			continue;
		if (m.kind == NT_WIRE_ERROR) {
			if (m.error_code == NT_WIRE_ERR_STALE_CHALLENGE) {
				nt_wire_random(c->tid, sizeof(c->tid));
				probe(c);
			} else {
				fail(c, i, m.error_code);
			}
			continue;
		}
		if (m.kind != NT_WIRE_CHALLENGE || memcmp(m.tid, c->tid, sizeof(c->tid)))
			continue;
		ans.session_id = c->g.session;
		memcpy(ans.challenge, m.challenge, m.challenge_len);
		ans.challenge_len = m.challenge_len;
		ans.mapped = m.mapped;
		nt_wire_random(ans.tid, sizeof(ans.tid));
		send_wire(c, &ans);
		c->answered = true;
	}
}

/* Run the loop until every client of this phase is done or failed. */
static double run_phase(int (*start)(unsigned), enum st want_prev)
{
	struct epoll_event evs[256];
	double t0 = now_s(), last = t0, deadline = t0 + o.timeout, last_resend = t0;
	unsigned next = 0, target = 0, base_done = n_done, base_failed = n_failed;

	for (unsigned i = 0; i < o.clients; i++)
		target += cls[i].st == want_prev;
	while (n_done - base_done + n_failed - base_failed < target && now_s() < deadline) {
		while (n_inflight < o.inflight && next < o.clients) {
			if (cls[next].st == want_prev && start(next))
				fail(&cls[next], next, 0);
			next++;
		}
		int n = epoll_wait(ep, evs, 256, 100);

		for (int k = 0; k < n; k++) {
			unsigned i = (unsigned)(evs[k].data.u64 >> 1);
			struct cl *c = &cls[i];

			if (c->st == ST_FAILED)
				continue;
			if (evs[k].data.u64 & 1)
				on_udp(c, i);
			else
				on_tls(c, i, evs[k].events);
			if (c->st == ST_JOINED || c->st == ST_VERIFIED || c->st == ST_RESUMED)
				last = now_s();
		}
		/*
		 * Probes lost (the daemon's socket buffer under a burst): again
		 * after 1 s. Looked for every 100 ms, not after every wakeup: a
		 * walk over 100k clients per wakeup would be the bench's own cost.
		 */
		if (want_prev == ST_JOINED && now_s() - last_resend >= 0.1) {
			last_resend = now_s();
			for (unsigned i = 0; i < next; i++)
				if (cls[i].st == ST_PROBING && !cls[i].answered &&
				    last_resend - cls[i].t_probe > 1)
					probe(&cls[i]);
		}
	}
	for (unsigned i = 0; i < o.clients; i++)
		if (cls[i].st != ST_FAILED && cls[i].st != ST_JOINED && cls[i].st != ST_VERIFIED &&
		    cls[i].st != ST_IDLE && cls[i].st != ST_DROPPED && cls[i].st != ST_RESUMED)
			fail(&cls[i], i, 1);
	return last - t0;
}

/*
 * Every open connection goes as a lost link would (no close_notify): its
 * session waits for a RESUME. Then a pause, so the daemon's closing is not
 * counted in the next phase's CPU.
 */
static unsigned drop_all(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < o.clients; i++) {
		struct cl *c = &cls[i];

		if (c->st != ST_JOINED && c->st != ST_VERIFIED && c->st != ST_RESUMED)
			continue;
		if (!c->ticket) {
			fail(c, i, 2); /* no EVT TICKET came: nothing to resume with */
			continue;
		}
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(c->tcp);
		c->tcp = -1;
		c->rlen = 0;
		c->st = ST_DROPPED;
		n++;
	}
	usleep(1500000);
	return n;
}

struct phase_cost {
	double t;
	unsigned n;
	long long daemon_jiffies;
	double self_cpu_s;
};

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* One phase with its costs: wall time, how many got done, the daemon's and our CPU. */
static struct phase_cost measure(int (*start)(unsigned), enum st want_prev)
{
	struct phase_cost pc;
	/* CLOCK_MONOTONIC, for a profile of one phase (perf record -k CLOCK_MONOTONIC) */
	double t0 = now_s();
	long long cpu0 = o.pid ? proc_cpu_jiffies(o.pid) : -1;
	double self0 = self_cpu_s();
	unsigned done0 = n_done;

	pc.t = run_phase(start, want_prev);
	pc.n = n_done - done0;
	pc.daemon_jiffies = cpu0 >= 0 ? proc_cpu_jiffies(o.pid) - cpu0 : -1;
	pc.self_cpu_s = self_cpu_s() - self0;
	fprintf(stderr, "bench_ctl: phase from %.3f to %.3f (CLOCK_MONOTONIC)\n", t0, now_s());
	return pc;
}

/* prefix_per_s, daemon_cpu_ms_per_PREFIX, PREFIX_per_daemon_cpu_s, client_cpu_ms_per_PREFIX */
static void print_cost(const char *name, const struct phase_cost *pc)
{
	double ms = pc->n && pc->daemon_jiffies >= 0 ? (double)pc->daemon_jiffies * 10.0 / pc->n : -1;

	printf("%s_n=%u %s_s=%.3f %s_per_s=%.1f daemon_cpu_ms_per_%s=%.3f %s_per_daemon_cpu_s=%.0f "
	       "client_cpu_ms_per_%s=%.3f\n",
	       name, pc->n, name, pc->t, name, pc->t > 0 ? pc->n / pc->t : 0, name, ms, name,
	       ms > 0 ? 1000.0 / ms : -1, name, pc->n ? pc->self_cpu_s * 1000.0 / pc->n : -1);
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: bench_ctl --server IP --ca FILE --secret FILE --clients N [--inflight N]\n"
		"                 [--pid DAEMON_PID] [--map PINNED_MAP] [--timeout S]\n"
		"                 [--src-base IP --src-count N]  (TCP, UDP from N addresses from IP on)\n"
		"                 [--reconnect]\n"
		"Opens N TLS sessions to nattravd (port 4433), then verifies their UDP mappings;\n"
		"prints sessions/s, verifications/s, daemon RSS and map memory per session.\n"
		"--reconnect: then drops every connection and reconnects with RESUME, first with\n"
		"full TLS handshakes, then resuming with the relay's TLS 1.3 tickets.\n"
		"EXAMPLES\n"
		"  bench_ctl --server 203.0.113.1 --ca ca.pem --secret secret --clients 1000 \\\n"
		"      --pid $(pgrep -x nattravd) --map /sys/fs/bpf/nattrav/nt_mappings4\n");
	return rc;
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' }, { "ca", required_argument, NULL, 'a' },
		{ "secret", required_argument, NULL, 'k' }, { "clients", required_argument, NULL, 'n' },
		{ "inflight", required_argument, NULL, 'i' }, { "pid", required_argument, NULL, 'p' },
		{ "map", required_argument, NULL, 'm' },    { "timeout", required_argument, NULL, 't' },
		{ "src-base", required_argument, NULL, 'b' },
		{ "src-count", required_argument, NULL, 'c' },
		{ "reconnect", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	struct in_addr ia;
	char *end;
	long v = 0;
	int c;

	o = (struct opts){ .clients = 1000, .inflight = 64, .timeout = 120, .src_count = 1 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (strchr("nipct", c)) {
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 1000000)
				return usage(2);
		}
		switch (c) {
		case 's': o.server = optarg; break;
		case 'a': o.ca = optarg; break;
		case 'k': o.secret = optarg; break;
		case 'm': o.map = optarg; break;
		case 'n': o.clients = (unsigned)v; break;
		case 'i': o.inflight = (unsigned)v; break;
		case 'p': o.pid = (int)v; break;
		case 't': o.timeout = (double)v; break;
		case 'c': o.src_count = (unsigned)v; break;
		case 'r': o.reconnect = true; break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &ia) != 1)
				return usage(2);
			o.src_base = ntohl(ia.s_addr);
			break;
		case 'h': exit(usage(0));
		default: return usage(2);
		}
	}
	if (optind < argc || !o.server || !o.ca || !o.secret)
		return usage(2);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	struct phase_cost sess, ver, full = { 0 }, resumed = { 0 };
	long long rss0, rss1, mem0, mem1;
	int err;

	if ((err = parse(argc, argv)))
		return err;
	/* a session the daemon closed fails alone, it does not end the run */
	signal(SIGPIPE, SIG_IGN);
	/* one TLS fd per client, UDP fds only while verifying */
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < o.clients + o.inflight + 64) {
		fprintf(stderr, "bench_ctl: open files hard limit %llu < %u clients\n",
			(unsigned long long)rl.rlim_max, o.clients);
		return 1;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((err = nt_token_read_secret(o.secret, secret, &secret_len))) {
		fprintf(stderr, "bench_ctl: secret: %s\n", strerror(-err));
		return 1;
	}
	srv = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(NT_CLIENT_PORT_DEFAULT) };
	if (inet_pton(AF_INET, o.server, &srv.sin_addr) != 1)
		return usage(2);
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_load_verify_locations(ctx, o.ca, NULL)) {
		fprintf(stderr, "bench_ctl: cannot load %s\n", o.ca);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* 100k idle sessions: this side must not be what runs out of memory */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	cls = calloc(o.clients, sizeof(*cls));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cls || ep < 0)
		return 1;

	rss0 = o.pid ? rss_kib(o.pid) : -1;
	mem0 = o.map ? map_memlock(o.map) : -1;
	fprintf(stderr, "bench_ctl: %u sessions, %u in flight\n", o.clients, o.inflight);
	sess = measure(start_connect, ST_IDLE);
	fprintf(stderr, "bench_ctl: %u joined in %.2f s (%u failed); verifying\n", sess.n, sess.t,
		n_failed);
	ver = measure(start_probe, ST_JOINED);
	usleep(200000); /* the daemon's last map writes */
	rss1 = o.pid ? rss_kib(o.pid) : -1;
	mem1 = o.map ? map_memlock(o.map) : -1;
	if (o.reconnect) {
		resuming = true;
		fprintf(stderr, "bench_ctl: %u dropped; reconnecting, full handshakes\n", drop_all());
		full = measure(start_connect, ST_DROPPED);
		fprintf(stderr, "bench_ctl: %u dropped; reconnecting, resumed handshakes\n", drop_all());
		offer_tls = true;
		n_reused = 0;
		resumed = measure(start_connect, ST_DROPPED);
	}
	printf("clients=%u joined=%u verified=%u failed=%u\n", o.clients, sess.n, ver.n, n_failed);
	printf("sessions_s=%.3f sessions_per_s=%.1f verify_s=%.3f verifications_per_s=%.1f\n",
	       sess.t, sess.t > 0 ? sess.n / sess.t : 0, ver.t, ver.t > 0 ? ver.n / ver.t : 0);
	print_cost("session", &sess);
	print_cost("verification", &ver);
	if (o.reconnect) {
		print_cost("reconnect_full", &full);
		print_cost("reconnect_resumed", &resumed);
		printf("reconnect_resumed_tls_reused=%u\n", n_reused);
	}
	printf("daemon_rss_kib_before=%lld daemon_rss_kib_after=%lld rss_bytes_per_session=%.0f\n",
	       rss0, rss1, sess.n && rss0 >= 0 ? (double)(rss1 - rss0) * 1024.0 / sess.n : -1);
	printf("map_memlock_before=%lld map_memlock_after=%lld map_bytes_per_mapping=%.0f\n", mem0,
	       mem1, ver.n && mem0 >= 0 ? (double)(mem1 - mem0) / ver.n : -1);
	for (unsigned k = 0; k < 600; k++)
		if (fail_code[k])
			printf("failures_code_%u=%u\n", k, fail_code[k]);
	fflush(stdout);
	for (unsigned i = 0; i < o.clients; i++) {
		if (cls[i].ssl) {
			SSL_shutdown(cls[i].ssl);
			SSL_free(cls[i].ssl);
		}
		SSL_SESSION_free(cls[i].tls_sess);
		free(cls[i].ticket);
		if (cls[i].tcp > 0)
			close(cls[i].tcp);
		if (cls[i].udp > 0 && cls[i].st != ST_VERIFIED)
			close(cls[i].udp);
	}
	SSL_CTX_free(ctx);
	free(cls);
	return 0;
}
