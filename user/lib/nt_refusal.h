/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Datagrams on the media port that got no answer, summed for the log: a
 * flood of forged or replayed messages is one line per interval, not one
 * per packet (an attacker must not be able to fill the relay's disk or
 * hide other lines). Fixed memory: the first NT_REFUSAL_SOURCES source
 * addresses are told apart, the rest only counted. Pure state, no clock.
 */
#ifndef NT_REFUSAL_H
#define NT_REFUSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

#define NT_REFUSAL_SOURCES 64
#define NT_REFUSAL_INTERVAL_S 10	/* one summary line at most this often */

enum nt_refusal_reason {
	NT_REF_MALFORMED,	/* not a well formed control message of ours */
	NT_REF_NOT_REQUEST,	/* a response kind sent to the server */
	NT_REF_UNKNOWN_SESSION,
	NT_REF_BAD_MAC,		/* integrity missing or wrong */
	NT_REF_REPLAY,		/* authentic, but a PROBE or KEEPALIVE seen before */
	NT_REF_STALE,		/* ANSWER to no outstanding challenge, or late */
	NT_REF_ADDRESS,		/* ANSWER from another address than challenged */
	NT_REF_DENIED,		/* source address refused by policy */
	NT_REF_RATE,		/* over a per-session or per-address limit */
	NT_REF_MAX
};

struct nt_refusals {
	uint64_t n[NT_REF_MAX];
	uint64_t total;
	uint64_t untracked;	/* datagrams from sources beyond the table */
	uint32_t nsrc;
	struct {
		uint8_t addr[16];
		uint64_t n;
	} src[NT_REFUSAL_SOURCES];
};

/* The word a reason is shown with ("bad mac", "unknown session", ...). */
const char *nt_refusal_name(enum nt_refusal_reason r);
/* One datagram from addr (16-byte form; port ignored) refused for r. */
void nt_refusal_note(struct nt_refusals *rf, enum nt_refusal_reason r, const uint8_t addr[16]);
/*
 * The summary of what was noted, as one line without a newline, e.g.
 * "udp: refused 120 datagrams from 2 sources in the last 10s (bad mac: 100,
 * unknown session: 20; top source 192.0.2.7: 100)", then start over.
 * Returns the length written (truncated to fit cap), 0 when nothing was
 * noted (nothing to log).
 */
size_t nt_refusal_flush(struct nt_refusals *rf, unsigned int secs, char *buf, size_t cap);

#endif /* NT_REFUSAL_H */
