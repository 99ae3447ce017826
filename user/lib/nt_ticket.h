/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Resume tickets: what a client needs to get its session back after its
 * TLS connection dropped or the relay restarted, sealed by the relay so
 * the client can neither read nor change it. AES-256-GCM under a key
 * derived from the auth secret, so a restarted relay (same secret) opens
 * what the previous one sealed, and rotating the secret retires them all.
 *
 *   ticket = base64(version 1 | nonce 12 | ciphertext | tag 16)
 *   plaintext = session id (8, BE) | session key (32) | expiry (8, BE, unix s)
 *               | user length (1) | user | group length (1) | group
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_TICKET_H
#define NT_TICKET_H

#include <stddef.h>
#include <stdint.h>
#include "nt_line.h"
#include "nt_token.h"
#include "nt_wire.h"

#define NT_TICKET_KEY_LEN 32
/* 1 + 12 + 8 + 32 + 8 + 1 + 64 + 1 + 64 + 16 = 207 bytes, base64 */
#define NT_TICKET_MAX 276

struct nt_ticket {
	uint64_t session_id;
	uint8_t key[NT_WIRE_KEY_LEN];
	uint64_t expiry;			/* the token's: the ticket dies with it */
	char user[NT_TOKEN_USER_MAX + 1];
	char group[NT_LINE_GROUP_MAX + 1];
};

/* The sealing key for secret (HMAC-SHA256 of a fixed label). */
int nt_ticket_key(const void *secret, size_t secret_len, uint8_t out[NT_TICKET_KEY_LEN]);
/* Seal t into out (NUL terminated, NT_TICKET_MAX + 1 is enough). -EINVAL for a bad user or group. */
int nt_ticket_seal(const uint8_t key[NT_TICKET_KEY_LEN], const struct nt_ticket *t, char *out,
		   size_t cap);
/*
 * Open s at time now into t: -EINVAL malformed, -EACCES not sealed with key
 * (or changed), -ETIMEDOUT expired (t filled in, for the log).
 */
int nt_ticket_open(const uint8_t key[NT_TICKET_KEY_LEN], const char *s, uint64_t now,
		   struct nt_ticket *t);

#endif /* NT_TICKET_H */
