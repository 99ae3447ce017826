/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The challenges nattravd has sent and not yet seen answered. A challenge
 * is bound to one session and to the address the probe came from, lives a
 * few seconds, and is consumed by the first answer that names it, right or
 * wrong: a replayed answer finds nothing. Pure state, no I/O, no clock:
 * callers pass CLOCK_MONOTONIC nanoseconds.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef NT_VERIFY_H
#define NT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

#define NT_VERIFY_NONCE_LEN 32
#define NT_VERIFY_LIFETIME_MS 5000

struct nt_challenge {
	bool used;
	uint64_t session_id;
	struct nt_endpoint observed; /* where the probe came from */
	uint8_t nonce[NT_VERIFY_NONCE_LEN];
	uint64_t expires_ns;
};

struct nt_verify {
	struct nt_challenge *c;
	size_t cap;
};

int nt_verify_init(struct nt_verify *v, size_t cap);
void nt_verify_free(struct nt_verify *v);

/*
 * Remember a challenge (nonce from a CSPRNG, chosen by the caller). When the
 * table is full the one closest to expiry is dropped: a flood of probes
 * costs the flooder its own challenges first, never a crash.
 */
int nt_verify_issue(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *observed,
		    const uint8_t nonce[NT_VERIFY_NONCE_LEN], uint64_t now_ns,
		    uint64_t lifetime_ns);

/*
 * Check an authentic answer of session_id, received from src, carrying
 * nonce and the mapped address the client says it was shown.
 *   0              verified: src is the observed mapping
 *   -ENOENT        no such challenge for this session (forged, replayed, used)
 *   -ETIMEDOUT     the challenge had expired
 *   -EADDRNOTAVAIL answer from another address, or naming another mapping
 * The challenge is consumed in every case but -ENOENT.
 */
int nt_verify_check(struct nt_verify *v, uint64_t session_id,
		    const struct nt_endpoint *src, const uint8_t *nonce,
		    size_t nonce_len, const struct nt_endpoint *mapped,
		    uint64_t now_ns);

/* Drop every challenge of a session (it left). */
void nt_verify_forget(struct nt_verify *v, uint64_t session_id);
/* Drop expired challenges; returns how many. */
size_t nt_verify_expire(struct nt_verify *v, uint64_t now_ns);
/* Challenges outstanding. */
size_t nt_verify_count(const struct nt_verify *v);

/* Same family, address and port (pad ignored). */
bool nt_endpoint_eq(const struct nt_endpoint *a, const struct nt_endpoint *b);

#endif /* NT_VERIFY_H */
