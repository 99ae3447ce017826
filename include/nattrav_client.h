/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nattrav client library: what an application links to reach a nattrav
 * relay (docs/protocol.md). TLS control channel, token auth, group join,
 * mapping verification over UDP, keepalives, media on one UDP socket.
 *
 *	struct nt_client_opts o = { .server = "relay.example.org", .ca_file = ...,
 *				    .token = tok, .group = "room1" };
 *	struct nt_client *c;
 *	if (nt_client_open(&o, &c) || nt_client_verify(c, 5000)) {
 *		fprintf(stderr, "%s\n", c ? nt_client_error(c) : "out of memory");
 *		...
 *	}
 *	while (running)
 *		nt_client_poll(c, 100, &callbacks, app);	// media in, keepalives, events
 *	nt_client_close(c);
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise;
 * nt_client_error() then says what went wrong in one line. One client is
 * used by one thread at a time.
 */
#ifndef NATTRAV_CLIENT_H
#define NATTRAV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NT_CLIENT_PORT_DEFAULT 4433	/* TLS control port */
#define NT_CLIENT_KEY_LEN 32		/* session key bytes */
#define NT_CLIENT_ADDRSTRLEN 56		/* "[v6]:port" + NUL */
#define NT_CLIENT_ERRLEN 256

struct nt_client;

struct nt_client_opts {
	const char *server;	/* "host", "host:port", "[v6]" or "[v6]:port" */
	const char *ca_file;	/* PEM CA the server certificate must chain to */
	const char *cert_file;	/* optional client certificate (mutual TLS) */
	const char *key_file;	/* its key; required with cert_file */
	const char *token;	/* "<expiry>:<user>:<mac>" */
	const char *group;	/* group to join */
	const char *bind;	/* optional local UDP "ip:port" */
	int timeout_ms;		/* connect + handshake + each reply; 0: 5000 */
	/*
	 * By default, when the TLS connection drops or the relay restarts,
	 * nt_client_poll reconnects (backoff with jitter) and resumes the
	 * session with its ticket, or joins again with the token; media keeps
	 * its UDP socket. true: a drop ends the client (NT_CLIENT_EV_CLOSED).
	 */
	bool no_reconnect;
};

/* What the server granted with OK JOIN. */
struct nt_client_grant {
	uint64_t session;
	uint8_t key[NT_CLIENT_KEY_LEN];
	struct sockaddr_storage media;	/* where probes and media go */
	socklen_t media_len;
	char media_str[NT_CLIENT_ADDRSTRLEN];
	char group[65];
	uint32_t consent_s;	/* consent window; 30 when not given */
	uint32_t keepalive_s;	/* longest keepalive gap; 10 when not given */
};

enum nt_client_event_kind {
	NT_CLIENT_EV_VERIFIED = 1,	/* mapping is relayed (also after a rebind) */
	NT_CLIENT_EV_EXPIRED,		/* mapping removed; nt_client_verify again */
	NT_CLIENT_EV_DENIED,		/* the relay refuses our observed address */
	NT_CLIENT_EV_BYE,		/* the server is closing the connection */
	NT_CLIENT_EV_CLOSED,		/* TLS connection ended */
	NT_CLIENT_EV_UDP_ERROR,		/* a signed UDP ERROR for our session */
	NT_CLIENT_EV_OTHER,		/* an EVT this library does not know */
	NT_CLIENT_EV_RECONNECTED,	/* back after a drop: reason "resumed" (same session)
					 * or "rejoined" (a new one); mapping if verified */
	NT_CLIENT_EV_REDIRECTED,	/* at open: the group lives on another relay of the
					 * fleet, joined there; reason: its HOST:PORT, line:
					 * the ERR 300 text, nt_client_server() the relay now */
};

struct nt_client_event {
	enum nt_client_event_kind kind;
	char name[16];				/* EVT name ("EXPIRED"), "" if none */
	char mapping[NT_CLIENT_ADDRSTRLEN];	/* mapping= field, "" if none */
	char reason[128];			/* reason= field, UDP error reason */
	int code;				/* UDP_ERROR: STUN error code */
	char line[520];				/* the EVT line as received */
};

struct nt_client_callbacks {
	/* A datagram that is not a control message (media from the relay). */
	void (*media)(void *arg, const void *buf, size_t len);
	void (*event)(void *arg, const struct nt_client_event *ev);
};

/*
 * Connect (TLS 1.2+, server certificate checked against ca_file and the
 * host name or IP of opts->server), HELLO, AUTH, JOIN, and open the UDP
 * socket. *out is set even on failure (unless -ENOMEM) so nt_client_error()
 * can tell why; close it either way. -EACCES: the server refused (its ERR
 * code is nt_client_err_code()), -EPROTO: TLS or protocol failure.
 */
int nt_client_open(const struct nt_client_opts *opts, struct nt_client **out);
/*
 * Prove the UDP mapping: probe / challenge / answer, then wait for
 * EVT VERIFIED on TLS, re-probing with backoff. -ETIMEDOUT when nothing
 * verified within timeout_ms, -EPERM when the server denied the address.
 */
int nt_client_verify(struct nt_client *c, int timeout_ms);
/*
 * One round of work, waiting at most timeout_ms: keepalives that are due,
 * datagrams received (media to cb->media), TLS events (to cb->event), and
 * after a drop the reconnection (it may block up to the timeout of opts).
 * Returns 0, or -ECONNRESET once the TLS connection is gone for good (a
 * drop with no_reconnect, BYE reason=admin or token-expired, or a relay
 * that stayed away longer than it could resume).
 */
int nt_client_poll(struct nt_client *c, int timeout_ms, const struct nt_client_callbacks *cb,
		   void *arg);
/* Send one media datagram to the relay; it must start with RTP version bits 10. */
int nt_client_send_media(struct nt_client *c, const void *buf, size_t len);
/* LEAVE the group (session ends, mappings removed); the UDP socket stays open. */
int nt_client_leave(struct nt_client *c);
/* QUIT if still connected, close everything, free c. NULL is fine. */
void nt_client_close(struct nt_client *c);

int nt_client_udp_fd(const struct nt_client *c);
int nt_client_tls_fd(const struct nt_client *c);
const struct nt_client_grant *nt_client_grant(const struct nt_client *c);
/* Verified mapping "addr:port", or "" while unverified. */
const char *nt_client_mapping(const struct nt_client *c);
/* The relay connected to: the server of the options, or the one a redirect named. */
const char *nt_client_server(const struct nt_client *c);
/* The user name the server confirmed in OK AUTH. */
const char *nt_client_user(const struct nt_client *c);
/* Last error text, and the server's ERR code behind it (0 if none). */
const char *nt_client_error(const struct nt_client *c);
int nt_client_err_code(const struct nt_client *c);

/* ---- lower level: usable without TLS (tests, other control planes) ---- */

/* Parse an "OK JOIN session=.. key=.. media=.. ..." line into g. -EINVAL, -EPROTO. */
int nt_client_grant_parse(const char *line, struct nt_client_grant *g);
/*
 * On fd (a UDP socket), send PROBE to g->media, retransmit after 500 ms,
 * doubling, until a CHALLENGE for it arrives whose MAC checks with g->key;
 * then send the ANSWER from the same fd and return 0 with the observed
 * address (our NAT mapping) in mapping. Every PROBE sent carries a higher
 * NT-SEQUENCE than the last (CLOCK_MONOTONIC ns): the server ignores copies.
 * Other datagrams are ignored, and so is a signed ERROR whose transaction id
 * is not the PROBE's. -ETIMEDOUT after timeout_ms; -EPERM after a signed
 * ERROR 403 for our PROBE (nattravd reports refusals over TLS instead).
 */
int nt_client_exchange(int fd, const struct nt_client_grant *g, int timeout_ms, char *mapping,
		       size_t mapping_len);
/* Send one signed KEEPALIVE with sequence seq to g->media on fd. */
int nt_client_send_keepalive(int fd, const struct nt_client_grant *g, uint64_t seq);

/* ---- test media: RTP-like packets carrying a sequence and a send time ---- */

/*
 * 12-byte RTP header (0x80, payload type, 16-bit seq, 32-bit timestamp,
 * SSRC), then the send time in ns (CLOCK_REALTIME) and the full 64-bit
 * sequence, all big-endian, then zeros up to the packet size.
 */
#define NT_CLIENT_MEDIA_HDR_LEN 28
#define NT_CLIENT_MEDIA_PT 96		/* dynamic payload type */

struct nt_client_media {
	uint8_t pt;
	uint32_t ssrc;
	uint64_t seq;
	uint64_t send_ns;
};

/* Build a size-byte packet into buf; returns size, -EINVAL / -ENOSPC. */
int nt_client_media_encode(void *buf, size_t cap, size_t size, const struct nt_client_media *m);
/* 0, or -EINVAL when buf is not such a packet. */
int nt_client_media_decode(const void *buf, size_t len, struct nt_client_media *m);
/* CLOCK_REALTIME in ns. */
uint64_t nt_client_now_ns(void);

/* Receive statistics over all senders (told apart by SSRC). */
struct nt_client_stats;

struct nt_client_stats_summary {
	uint64_t received;	/* every packet, duplicates included */
	uint64_t lost;		/* sum over senders of gaps in [lowest, highest] seq */
	uint64_t out_of_order;	/* arrived after a higher sequence of its sender */
	uint64_t duplicates;
	uint64_t senders;
	uint64_t lat_p50_us, lat_p90_us, lat_p99_us, lat_max_us;
	uint64_t lat_samples;
};

struct nt_client_stats *nt_client_stats_new(void);
void nt_client_stats_free(struct nt_client_stats *s);
/* Account one packet; latency_us < 0: unknown. -ENOMEM. */
int nt_client_stats_add(struct nt_client_stats *s, uint32_t ssrc, uint64_t seq,
			int64_t latency_us);
void nt_client_stats_summary(struct nt_client_stats *s, struct nt_client_stats_summary *out);
/* Nearest-rank percentile (0 < pct <= 100) of n values, sorted in place. */
uint64_t nt_client_percentile(uint64_t *v, size_t n, double pct);

#endif /* NATTRAV_CLIENT_H */
