/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the client library: the client's state and what its files share
 * (nt_client.c: the state machine, session and events, and the blocking
 * calls on top of it; nt_client_tls.c: TCP and TLS; nt_client_udp.c: UDP).
 */
#ifndef NT_CLIENT_PRIV_H
#define NT_CLIENT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include "nattrav_client.h"
#include "nt_line.h"
#include "nt_ticket.h"
#include "nt_token.h"

#define TIMEOUT_DEFAULT_MS 5000
#define EVQ_LEN 32		/* events kept between two polls */
#define INBUF_LEN 4096
#define UDP_BURST 64		/* datagrams taken per poll, so TLS is not starved */
#define UDP_HOLD 256		/* media datagrams kept during a blocking call */
#define UDP_HOLD_BYTES (1 << 20)
#define NTC_TID_LEN 12		/* a UDP control message's transaction id */
#define NTC_KA_TIDS 4		/* keepalives whose ERROR we would still take */

/* Where the control connection is. */
enum ntc_state {
	NTC_IDLE,	/* nothing started */
	NTC_TCP,	/* non-blocking connect under way (c->ai_cur) */
	NTC_TLS,	/* TLS handshake under way */
	NTC_UP,		/* TLS up: HELLO, RESUME / AUTH / JOIN, then the session */
	NTC_BACKOFF,	/* dropped: the next attempt at rc_next */
	NTC_DONE,	/* ended for good: fatal_err says why */
};

/* One proof of the mapping in progress (PROBE, CHALLENGE, ANSWER, EVT VERIFIED). */
struct ntc_verify {
	bool active;
	bool quiet;		/* nt_client_verify waits on it and reports it: no events */
	bool announce;		/* after a reconnection: NT_CLIENT_EV_RECONNECTED when done */
	bool answered;		/* ANSWER out, the verdict comes over TLS */
	int64_t deadline, next_probe, verdict_until;
	int rto, wait_ms, timeout_ms;
	uint8_t tid[NTC_TID_LEN];	/* the PROBE's */
	int result;		/* the last one's: 0 or -errno */
	char observed[NT_CLIENT_ADDRSTRLEN];
};

struct nt_client {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO_METHOD *bio_meth;	/* socket BIO writing with MSG_NOSIGNAL */
	SSL_SESSION *tls_sess;	/* the last connection's, offered when reconnecting */
	int tcp, udp;
	int timeout_ms;
	bool tls_up, closed;

	enum ntc_state st;
	int fatal_err;
	int conn_err;		/* the last address's connect error */
	int64_t conn_deadline;	/* TCP + TLS of this attempt */
	struct addrinfo *ai_res, *ai_cur;
	char host[256], port[8];
	short ssl_want;		/* POLLIN / POLLOUT the TLS call waits for */
	bool session_up;	/* this connection carries the session (joined or resumed) */
	bool verify_on_join;	/* nt_client_start: verify after JOIN */
	bool quitting;
	bool ever_joined;
	bool left;		/* LEAVE done: nothing to come back to */

	/* the command in flight (one at a time) and its reply's deadline */
	int cmd;		/* enum nt_line_cmd_id, or -1 */
	int64_t cmd_deadline;
	int cmd_result;
	char out[NT_LINE_MAX + 2];
	size_t out_len, out_off;

	struct nt_line_reader rd;
	char in[INBUF_LEN];
	size_t in_off, in_len;

	struct nt_client_grant grant;
	bool joined, verified, denied, full;
	bool unreachable;	/* denied: the relay cannot send media to our mapping */
	char mapping[NT_CLIENT_ADDRSTRLEN];
	char user[NT_TOKEN_USER_MAX + 1];

	struct ntc_verify vf;
	int64_t vf_retry;	/* next automatic verification after a failed one; 0: none */

	uint64_t ka_seq;
	int64_t ka_next;
	/* our last requests: a UDP ERROR answers one of these or is ignored */
	uint8_t ka_tid[NTC_KA_TIDS][NTC_TID_LEN];
	unsigned int ka_tid_next;
	uint8_t ans_tid[NTC_TID_LEN];
	bool ans_sent;
	uint64_t probe_last;	/* the last PROBE's NT-SEQUENCE */

	struct {
		uint8_t *buf;
		size_t len;
	} held[UDP_HOLD];
	unsigned int held_n;
	size_t held_bytes;

	struct nt_client_event evq[EVQ_LEN];
	unsigned evq_head, evq_n;

	char err[NT_CLIENT_ERRLEN];
	int err_code;
	char redirect[NT_LINE_MAX + 1];	/* the text of the last ERR 300 */
	bool redirected;		/* one was followed: never another */

	/* reconnecting: the options again (copies), the ticket, the backoff */
	struct nt_client_opts opts;
	char *opt_strs[7];
	char ticket[NT_TICKET_MAX + 1];
	bool gone;		/* BYE admin / token-expired: no coming back */
	bool resumed;		/* this connection RESUMEd (else joined anew) */
	int64_t rc_next;	/* next attempt (ms, CLOCK_MONOTONIC) */
	int64_t rc_since;	/* when the connection dropped; 0: not reconnecting */
	int rc_delay_ms;
	int64_t tok_next;	/* next token_refresh call allowed */
};

int64_t ntc_mono_ms(void);
/* Keep the reason for nt_client_error() and return err. */
int ntc_fail(struct nt_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "host[:port]" or "[v6][:port]" into its parts (port 4433 when absent). */
int ntc_split_server(const char *s, char *host, size_t hlen, char *port, size_t plen);
/* Resolve c->host / c->port into c->ai_res (getaddrinfo: may block on DNS). */
int ntc_resolve(struct nt_client *c);
/*
 * Non-blocking steps; each returns 1 when done, 0 to be called again when
 * the socket is ready (c->ssl_want, or POLLOUT for the TCP connect), or -errno
 * with the reason in c->err.
 */
int ntc_tcp_step(struct nt_client *c);
/* TLS 1.2 at least, server certificate and host name or IP verified. */
int ntc_tls_begin(struct nt_client *c);
int ntc_tls_step(struct nt_client *c);
/* Write what is in c->out: 1 all out, 0 part left (retry), -ECONNRESET. */
int ntc_tls_flush(struct nt_client *c);
/* The next control line without waiting: 1 with it, 0 none yet, -ECONNRESET. */
int ntc_tls_read_line(struct nt_client *c, const char **line, size_t *len);
/* Free the TLS connection and its socket (the resumption session stays). */
void ntc_tls_drop(struct nt_client *c);

/* nt_client_udp.c */
/* The next KEEPALIVE on c's socket; its transaction id kept for ntc_our_request. */
int ntc_keepalive(struct nt_client *c);
/*
 * A UDP ERROR counts only as the answer to a request of ours still recent
 * (the last ANSWER, the last NTC_KA_TIDS KEEPALIVEs): a signed one recorded
 * and sent again later is ignored.
 */
bool ntc_our_request(const struct nt_client *c, const uint8_t tid[NTC_TID_LEN]);
/* Send c->vf's PROBE (a new NT-SEQUENCE each time). */
int ntc_probe_send(struct nt_client *c);
/*
 * A control datagram from the relay while c->vf waits for its CHALLENGE:
 * 1 when the ANSWER went out (observed address in c->vf.observed), 0 not
 * for us, -EAGAIN probe again with a new transaction id, or -errno that ends
 * the verification (-EPERM 403, -ENOENT 404, -EDQUOT 486).
 */
int ntc_verify_datagram(struct nt_client *c, const uint8_t *buf, size_t len);

/* nt_client.c: a control message that came on the UDP socket from the relay. */
void ntc_udp_control(struct nt_client *c, const void *buf, size_t len);

/* nt_client_opts.c: the caller's options (of any struct size) into out, checked. */
int ntc_opts_copy(struct nt_client *c, const struct nt_client_opts *in,
		  struct nt_client_opts *out);

/* nt_client_batch.c: true when buf may go as media (non-empty, fits, not control). */
bool ntc_media_ok(const void *buf, size_t len);

#endif /* NT_CLIENT_PRIV_H */
