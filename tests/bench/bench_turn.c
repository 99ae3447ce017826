// SPDX-License-Identifier: GPL-2.0
/*
 * TURN side of the end-to-end relay benchmark (scripts/bench-relay.sh).
 *
 *   bench_turn client --bind IP:PORT --server IP:PORT --peer IP:PORT
 *                     [--channel N] [--send N --rate PPS --size B] [--hold S]
 *                     [--secret S --user U]
 *     Allocate (no auth, as coturn runs with --no-auth; or with --secret the
 *     long-term credentials of coturn's use-auth-secret, as nattravd's TURN
 *     wants them: username "<expiry>:U"), CreatePermission and
 *     ChannelBind towards the peer, print "ready", optionally send N test
 *     packets (nt_client_media format, so latency can be read at the other
 *     end) as ChannelData at PPS, then keep the socket (and so the
 *     allocation's 5-tuple) until --hold seconds have passed or SIGTERM. The
 *     load itself is injected by bench_relay as ChannelData from this
 *     socket's address.
 *   bench_turn recv --bind IP:PORT [--count N] [--timeout S]
 *     Receive test packets (relayed by anything) until N arrived or S
 *     seconds of silence; print received, lost and one-way latency
 *     percentiles (both ends share this machine's clock) as key=value.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "nattrav_client.h"
#include "nt_endpoint.h"
#include "nt_stun.h"
#include "nt_turn_auth.h"

#define STUN_COOKIE 0x2112A442u
#define STUN_ALLOCATE 0x0003
#define STUN_CREATE_PERMISSION 0x0008
#define STUN_CHANNEL_BIND 0x0009
#define STUN_SUCCESS 0x0100
#define ATTR_CHANNEL_NUMBER 0x000C
#define ATTR_XOR_PEER 0x0012
#define ATTR_REQ_TRANSPORT 0x0019

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	bool recv;
	struct sockaddr_in bind, server, peer;
	unsigned channel, size;
	unsigned long send, rate, count;
	double hold, timeout;
	const char *secret, *user;
};

/* The long-term credential state, once the server's 401 gave realm and nonce. */
static struct {
	char username[NT_TURN_USERNAME_MAX];
	char realm[NT_TURN_REALM_MAX + 1];
	char nonce[128];
	uint8_t key[NT_TURN_KEY_LEN];
	bool have;
} cred;

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	struct nt_endpoint ep;
	struct sockaddr_storage ss;
	size_t len = sizeof(ss);

	if (nt_endpoint_parse(s, &ep) || ep.family != NT_FAMILY_V4 ||
	    nt_endpoint_to_sockaddr(&ep, &ss, &len))
		return -EINVAL;
	memcpy(sa, &ss, sizeof(*sa));
	return 0;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end || *out < min || *out > max ? -EINVAL : 0;
}

/* The request, signed when credentials are known; its length. */
static int build(const struct opts *o, uint16_t method, uint8_t *m, size_t cap)
{
	struct nt_stun_builder b;
	uint8_t tid[NT_STUN_TID_LEN];
	struct nt_endpoint peer;

	for (int i = 0; i < NT_STUN_TID_LEN; i++)
		tid[i] = (uint8_t)rand();
	nt_stun_begin(&b, m, cap, method, NT_STUN_REQUEST, tid);
	if (method == STUN_ALLOCATE) {
		nt_stun_put(&b, ATTR_REQ_TRANSPORT, (uint8_t[]){ 17, 0, 0, 0 }, 4);
	} else {
		if (method == STUN_CHANNEL_BIND)
			nt_stun_put(&b, ATTR_CHANNEL_NUMBER,
				    (uint8_t[]){ (uint8_t)(o->channel >> 8), (uint8_t)o->channel, 0, 0 }, 4);
		if (nt_endpoint_from_sockaddr((const struct sockaddr *)&o->peer, &peer))
			return -EINVAL;
		nt_stun_put_xor_addr(&b, ATTR_XOR_PEER, &peer);
	}
	if (cred.have) {
		nt_stun_put(&b, NT_STUN_ATTR_USERNAME, cred.username, strlen(cred.username));
		nt_stun_put(&b, NT_STUN_ATTR_REALM, cred.realm, strlen(cred.realm));
		nt_stun_put(&b, NT_STUN_ATTR_NONCE, cred.nonce, strlen(cred.nonce));
		nt_stun_put_integrity(&b, cred.key, NT_TURN_KEY_LEN);
	}
	return nt_stun_finish(&b);
}

/* A 401 or 438 with REALM and NONCE: the key for them. 0, or -EACCES without --secret. */
static int learn(const struct opts *o, const struct nt_stun_msg *r)
{
	const struct nt_stun_attr *realm = nt_stun_find(r, NT_STUN_ATTR_REALM);
	const struct nt_stun_attr *nonce = nt_stun_find(r, NT_STUN_ATTR_NONCE);
	char pw[NT_TURN_PASSWORD_LEN + 1];

	if (!o->secret || !realm || !nonce || realm->len > NT_TURN_REALM_MAX ||
	    nonce->len >= sizeof(cred.nonce))
		return -EACCES;
	snprintf(cred.username, sizeof(cred.username), "%lld:%s", (long long)time(NULL) + 3600,
		 o->user);
	memcpy(cred.realm, realm->val, realm->len);
	cred.realm[realm->len] = '\0';
	memcpy(cred.nonce, nonce->val, nonce->len);
	cred.nonce[nonce->len] = '\0';
	if (nt_turn_rest_password((const uint8_t *)o->secret, strlen(o->secret), cred.username, pw) ||
	    nt_turn_lt_key(cred.username, cred.realm, pw, cred.key))
		return -EIO;
	cred.have = true;
	return 0;
}

/* One request, retransmitted every 500 ms; 0 on a success response. */
static int transact(int fd, const struct opts *o, uint16_t method)
{
	uint8_t m[512], r[1500];
	int len = build(o, method, m, sizeof(m)), auth_tries = 0;

	if (len < 0)
		return len;
	for (int tries = 0; tries < 10 && !stop; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (sendto(fd, m, (size_t)len, 0, (const struct sockaddr *)&o->server,
			   sizeof(o->server)) < 0)
			return -errno;
		while (poll(&p, 1, 500) > 0) {
			ssize_t n = recv(fd, r, sizeof(r), 0);
			struct nt_stun_msg rm;
			const struct nt_stun_attr *e;
			unsigned code;

			if (n < 20 || memcmp(r + 8, m + 8, 12) || nt_stun_parse(r, (size_t)n, &rm))
				continue;
			if (rm.cls == NT_STUN_SUCCESS)
				return 0;
			e = nt_stun_find(&rm, NT_STUN_ATTR_ERROR_CODE);
			code = e && e->len >= 4 ? e->val[2] * 100u + e->val[3] : 0;
			/* unauthenticated, or a stale nonce: sign with what the answer gave */
			if ((code == 401 || code == 438) && auth_tries++ < 2 && !learn(o, &rm)) {
				len = build(o, method, m, sizeof(m));
				if (len < 0)
					return len;
				tries = -1;
				break;
			}
			fprintf(stderr, "bench_turn: method 0x%03x refused (error %u)\n", method, code);
			return -EACCES;
		}
	}
	return -ETIMEDOUT;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int run_client(const struct opts *o)
{
	uint8_t buf[1500];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err;
	uint64_t t0;

	if (fd < 0 || bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) < 0) {
		perror("bench_turn: bind");
		return 1;
	}
	if ((err = transact(fd, o, STUN_ALLOCATE)) ||
	    (err = transact(fd, o, STUN_CREATE_PERMISSION)) ||
	    (err = transact(fd, o, STUN_CHANNEL_BIND))) {
		fprintf(stderr, "bench_turn: TURN setup failed: %s\n", strerror(-err));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	t0 = mono_ns();
	for (unsigned long i = 0; i < o->send && !stop; i++) {
		struct nt_client_media md = { .pt = NT_CLIENT_MEDIA_PT, .ssrc = 7, .seq = i };
		uint64_t due = t0 + i * 1000000000ull / o->rate;
		int n;

		while (mono_ns() < due)
			usleep(50);
		md.send_ns = nt_client_now_ns();
		n = nt_client_media_encode(buf + 4, sizeof(buf) - 4, o->size, &md);
		if (n < 0)
			return 1;
		buf[0] = (uint8_t)(o->channel >> 8);
		buf[1] = (uint8_t)o->channel;
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		sendto(fd, buf, (size_t)n + 4, 0, (const struct sockaddr *)&o->server,
		       sizeof(o->server));
	}
	/* keep the 5-tuple; drain what comes back so the socket never backs up */
	while (!stop && (o->hold <= 0 || (double)(mono_ns() - t0) / 1e9 < o->hold)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 200) > 0)
			(void)recv(fd, buf, sizeof(buf), 0);
	}
	close(fd);
	return 0;
}

static int run_recv(const struct opts *o)
{
	struct nt_client_stats *st = nt_client_stats_new();
	struct nt_client_stats_summary s;
	uint8_t buf[2048];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned long got = 0;

	if (!st || fd < 0 || bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) < 0) {
		perror("bench_turn: recv");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (!stop && (!o->count || got < o->count)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct nt_client_media md;
		ssize_t n;

		if (poll(&p, 1, (int)(o->timeout * 1000)) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || nt_client_media_decode(buf, (size_t)n, &md))
			continue;
		got++;
		nt_client_stats_add(st, md.ssrc, md.seq,
				    (int64_t)(nt_client_now_ns() - md.send_ns) / 1000);
	}
	nt_client_stats_summary(st, &s);
	printf("received=%llu lost=%llu p50_us=%llu p90_us=%llu p99_us=%llu max_us=%llu\n",
	       (unsigned long long)s.received, (unsigned long long)s.lost,
	       (unsigned long long)s.lat_p50_us, (unsigned long long)s.lat_p90_us,
	       (unsigned long long)s.lat_p99_us, (unsigned long long)s.lat_max_us);
	nt_client_stats_free(st);
	close(fd);
	return 0;
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: bench_turn client --bind IP:PORT --server IP:PORT --peer IP:PORT\n"
		"                  [--channel N] [--send N --rate PPS --size B] [--hold S]\n"
		"                  [--secret S --user U]   (long-term credentials, coturn's REST form)\n"
		"       bench_turn recv --bind IP:PORT [--count N] [--timeout S]\n"
		"EXAMPLES\n"
		"  bench_turn client --bind 203.0.113.101:40000 --server 203.0.113.1:3478 \\\n"
		"      --peer 203.0.113.102:50000 --send 2000 --rate 1000 --size 200 --hold 60\n"
		"  bench_turn recv --bind 203.0.113.102:50000 --count 2000 --timeout 3\n");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bind", required_argument, NULL, 'b' },   { "server", required_argument, NULL, 's' },
		{ "peer", required_argument, NULL, 'p' },   { "channel", required_argument, NULL, 'c' },
		{ "send", required_argument, NULL, 'n' },   { "rate", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'z' },   { "hold", required_argument, NULL, 'H' },
		{ "count", required_argument, NULL, 'N' },  { "timeout", required_argument, NULL, 't' },
		{ "secret", required_argument, NULL, 'S' }, { "user", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	struct opts o = { .channel = 0x4000, .size = 200, .rate = 1000, .timeout = 3 };
	struct sigaction sa = { .sa_handler = on_signal };
	bool have_bind = false, have_server = false, have_peer = false;
	double v;
	int c;

	if (argc < 2)
		return usage(2);
	if (!strcmp(argv[1], "recv"))
		o.recv = true;
	else if (strcmp(argv[1], "client"))
		return usage(strcmp(argv[1], "--help") ? 2 : 0);
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': if (parse_addr(optarg, &o.bind)) return usage(2); have_bind = true; break;
		case 's': if (parse_addr(optarg, &o.server)) return usage(2); have_server = true; break;
		case 'p': if (parse_addr(optarg, &o.peer)) return usage(2); have_peer = true; break;
		case 'c': if (parse_num(optarg, 0x4000, 0x4fff, &v)) return usage(2); o.channel = (unsigned)v; break;
		case 'n': if (parse_num(optarg, 0, 1e9, &v)) return usage(2); o.send = (unsigned long)v; break;
		case 'r': if (parse_num(optarg, 1, 1e7, &v)) return usage(2); o.rate = (unsigned long)v; break;
		case 'z': if (parse_num(optarg, NT_CLIENT_MEDIA_HDR_LEN, 1400, &v)) return usage(2); o.size = (unsigned)v; break;
		case 'H': if (parse_num(optarg, 0, 86400, &o.hold)) return usage(2); break;
		case 'N': if (parse_num(optarg, 0, 1e9, &v)) return usage(2); o.count = (unsigned long)v; break;
		case 't': if (parse_num(optarg, 0.1, 600, &o.timeout)) return usage(2); break;
		case 'S': o.secret = optarg; break;
		case 'U': o.user = optarg; break;
		case 'h': return usage(0);
		default: return usage(2);
		}
	}
	if (optind < argc || !have_bind || (!o.recv && (!have_server || !have_peer)) ||
	    (o.secret && !o.user))
		return usage(2);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	srand((unsigned)mono_ns());
	return o.recv ? run_recv(&o) : run_client(&o);
}
