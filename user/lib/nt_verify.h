/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The challenges nattravd has sent and not yet seen answered
 * (docs/protocol.md section 4). Each is bound to the address its probe came
 * from and to the probe's sequence number, alive a few seconds; the answer
 * that verifies one consumes all of its session's. A session has at most
 * NT_VERIFY_PER_SESSION at once, so a CHALLENGE delayed past the client's
 * next probe still verifies. Probe sequence numbers only go up: a probe
 * replayed, from any source, neither gets a challenge nor displaces one.
 * A failed answer changes nothing. Pure state, no I/O, no clock: callers
 * pass the daemon's clock (CLOCK_BOOTTIME) in nanoseconds.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef NT_VERIFY_H
#define NT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"
#include "nt_index.h"

#define NT_VERIFY_NONCE_LEN 32
#define NT_VERIFY_LIFETIME_MS 5000
/* A retransmitting client has about this many probes in flight in 5 s. */
#define NT_VERIFY_PER_SESSION 4

struct nt_challenge {
	bool used;
	uint64_t session_id;
	struct nt_endpoint observed; /* where the probe came from */
	uint64_t probe_seq;	     /* the probe's NT-SEQUENCE */
	uint8_t nonce[NT_VERIFY_NONCE_LEN];
	uint64_t expires_ns;
};

/*
 * Indexed so that nothing scans the table: by session (a hash chain), and
 * in order of expiry (a list, head first to expire: with one lifetime for
 * all, insertion order) for expiry and for the entry a full table gives up.
 */
struct nt_verify {
	struct nt_challenge *c;
	size_t cap, n;
	uint64_t hkey[2];
	struct nt_hidx by_session;
	struct nt_freelist free;
	uint32_t *prev, *next;	/* expiry order, entry + 1; 0 ends */
	uint32_t head, tail;
};

int nt_verify_init(struct nt_verify *v, size_t cap);
void nt_verify_free(struct nt_verify *v);

/*
 * An authentic probe of session_id with sequence seq came from observed;
 * *last_seq is the highest probe sequence the session has had a challenge
 * for (0 at first), raised here.
 *   0          a new probe: a new challenge with nonce (from a CSPRNG,
 *              chosen by the caller) in *out; the session's oldest is
 *              replaced when it has NT_VERIFY_PER_SESSION already
 *   -EALREADY  seq is not above *last_seq: a copy (replayed, or duplicated
 *              by the network) of a probe that already had its challenge.
 *              Nothing changes
 * When the table is full the entry closest to expiry is replaced: a flood
 * costs challenges, never a crash.
 */
int nt_verify_probe(struct nt_verify *v, uint64_t session_id, uint64_t *last_seq,
		    const struct nt_endpoint *observed, uint64_t seq,
		    const uint8_t nonce[NT_VERIFY_NONCE_LEN], uint64_t now_ns,
		    uint64_t lifetime_ns, const struct nt_challenge **out);

/*
 * Check an authentic answer of session_id, received from src, carrying
 * nonce and the mapped address the client says it was shown.
 *   0              verified: src is the observed mapping; every challenge
 *                  of the session consumed
 *   -ENOENT        not an outstanding challenge of the session (wrong,
 *                  replayed, used); nothing changes
 *   -ETIMEDOUT     the challenge had expired; it is dropped
 *   -EADDRNOTAVAIL answer from another address, or naming another mapping;
 *                  nothing changes (the real client may still answer)
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

/*
 * Answers per source address (port ignored) before anything is verified:
 * a fixed table of NT_RATELIMIT_SLOTS counters, indexed by a keyed hash of
 * the address, each counting in a 1 s window. No allocation per source: a
 * flood of sources shares the slots (an address that collides with a busy
 * one is limited with it, never let through more). The key is random, so a
 * sender cannot aim at another address's slot.
 */
#define NT_RATELIMIT_SLOTS 4096

struct nt_ratelimit {
	uint64_t key[2];
	uint32_t per_sec;
	uint64_t limited;	/* answers refused, for counters */
	struct {
		uint8_t addr[16];
		uint64_t window_ns;
		uint32_t n;
	} slot[NT_RATELIMIT_SLOTS];
};

/* key: 16 random bytes (NULL: zeros, for tests). */
void nt_ratelimit_init(struct nt_ratelimit *r, uint32_t per_sec, const uint8_t key[16]);
/* True when one more answer to addr (16-byte form) may go out now; counts it. */
bool nt_ratelimit_allow(struct nt_ratelimit *r, const uint8_t addr[16], uint64_t now_ns);

/* Same family, address and port (pad ignored). */
bool nt_endpoint_eq(const struct nt_endpoint *a, const struct nt_endpoint *b);

#endif /* NT_VERIFY_H */
