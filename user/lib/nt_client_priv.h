/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the client library: the client's state and what its files share
 * (nt_client.c: session and events; nt_client_tls.c: TCP and TLS).
 */
#ifndef NT_CLIENT_PRIV_H
#define NT_CLIENT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "nattrav_client.h"
#include "nt_line.h"
#include "nt_ticket.h"
#include "nt_token.h"

#define TIMEOUT_DEFAULT_MS 5000
#define EVQ_LEN 32		/* events kept between two polls */
#define INBUF_LEN 4096
#define UDP_BURST 64		/* datagrams taken per poll, so TLS is not starved */
#define NTC_TID_LEN 12		/* a UDP control message's transaction id */
#define NTC_KA_TIDS 4		/* keepalives whose ERROR we would still take */

struct nt_client {
	SSL_CTX *ctx;
	SSL *ssl;
	SSL_SESSION *tls_sess;	/* the last connection's, offered when reconnecting */
	int tcp, udp;
	int timeout_ms;
	bool tls_up, closed;

	struct nt_line_reader rd;
	char in[INBUF_LEN];
	size_t in_off, in_len;

	struct nt_client_grant grant;
	bool joined, verified, in_verify, denied, full;
	bool unreachable;	/* denied: the relay cannot send media to our mapping */
	char mapping[NT_CLIENT_ADDRSTRLEN];
	char user[NT_TOKEN_USER_MAX + 1];

	uint64_t ka_seq;
	int64_t ka_next;
	/* our last requests: a UDP ERROR answers one of these or is ignored */
	uint8_t ka_tid[NTC_KA_TIDS][NTC_TID_LEN];
	unsigned int ka_tid_next;
	uint8_t ans_tid[NTC_TID_LEN];
	bool ans_sent;

	struct nt_client_event evq[EVQ_LEN];
	unsigned evq_head, evq_n;

	char err[NT_CLIENT_ERRLEN];
	int err_code;
	char redirect[NT_LINE_MAX + 1];	/* the text of the last ERR 300 */

	/* reconnecting: the options again (copies), the ticket, the backoff */
	struct nt_client_opts opts;
	char *opt_strs[7];
	char ticket[NT_TICKET_MAX + 1];
	bool gone;		/* BYE admin / token-expired: no coming back */
	int64_t rc_next;	/* next attempt (ms, CLOCK_MONOTONIC); 0: connected */
	int64_t rc_since;	/* when the connection dropped */
	int rc_delay_ms;
};

int64_t ntc_mono_ms(void);
/* Keep the reason for nt_client_error() and return err. */
int ntc_fail(struct nt_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "host[:port]" or "[v6][:port]" into its parts (port 4433 when absent). */
int ntc_split_server(const char *s, char *host, size_t hlen, char *port, size_t plen);
int ntc_tcp_connect(struct nt_client *c, const char *host, const char *port, int64_t deadline);
/* TLS 1.2 at least, server certificate and host name or IP verified. */
int ntc_tls_setup(struct nt_client *c, const struct nt_client_opts *o, const char *host,
		  int64_t deadline);
int ntc_tls_write(struct nt_client *c, const char *buf, size_t len);
/* The next control line, waiting until deadline (ms, CLOCK_MONOTONIC). */
int ntc_tls_read_line(struct nt_client *c, int64_t deadline, const char **line, size_t *len);

/* nt_client_udp.c */
/* During the UDP exchange: fn(arg) when fd is readable, or at least once per datagram or
 * retransmission; true ends the exchange with -ECANCELED. */
struct ntc_wake {
	int fd;
	bool (*fn)(void *arg);
	void *arg;
};
/* nt_client_exchange, watching wake too, and the sent ANSWER's transaction id in ans_tid. */
int ntc_exchange(int fd, const struct nt_client_grant *g, int timeout_ms,
		 const struct ntc_wake *wake, char *mapping, size_t mapping_len,
		 uint8_t ans_tid[NTC_TID_LEN]);
/* The next KEEPALIVE on c's socket; its transaction id kept for ntc_our_request. */
int ntc_keepalive(struct nt_client *c);
/*
 * A UDP ERROR counts only as the answer to a request of ours still recent
 * (the last ANSWER, the last NTC_KA_TIDS KEEPALIVEs): a signed one recorded
 * and sent again later is ignored.
 */
bool ntc_our_request(const struct nt_client *c, const uint8_t tid[NTC_TID_LEN]);

#endif /* NT_CLIENT_PRIV_H */
