/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The control messages on the media port, framed as STUN (RFC 8489) so the
 * XDP program tells them from media by two bits and the magic cookie, and
 * so packet tools decode them. Build and parse helpers only: the daemon and
 * the client keep all state (challenges issued, sequence numbers seen).
 * docs/protocol.md has the byte layouts and the verification rules.
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_WIRE_H
#define NT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

#define NT_WIRE_MAX 1500	/* largest datagram built or accepted */
#define NT_WIRE_TID_LEN 12
#define NT_WIRE_KEY_LEN 32	/* session key, HMAC-SHA256 */
#define NT_WIRE_CHALLENGE_MIN 16
#define NT_WIRE_CHALLENGE_MAX 32
#define NT_WIRE_REASON_MAX 127	/* ERROR-CODE reason phrase, bytes */

/*
 * STUN methods, unassigned by IANA. Below 0x100 so the first byte of every
 * message stays 0..3: RFC 7983 demultiplexers (a client's DTLS-SRTP stack,
 * Wireshark) only take those bytes as STUN. The type on the wire interleaves
 * method and class bits (RFC 8489 section 5).
 */
#define NT_WIRE_METHOD_PROBE 0x0E1	/* PROBE request / CHALLENGE response */
#define NT_WIRE_METHOD_ANSWER 0x0E2
#define NT_WIRE_METHOD_KEEPALIVE 0x0E3

#define NT_WIRE_TYPE_PROBE 0x02C1	  /* request */
#define NT_WIRE_TYPE_CHALLENGE 0x03C1	  /* success response to PROBE */
#define NT_WIRE_TYPE_PROBE_ERROR 0x03D1	  /* error response to PROBE */
#define NT_WIRE_TYPE_ANSWER 0x02C2	  /* request */
#define NT_WIRE_TYPE_ANSWER_ERROR 0x03D2  /* error response to ANSWER */
#define NT_WIRE_TYPE_KEEPALIVE 0x02D3	  /* indication */
#define NT_WIRE_TYPE_KEEPALIVE_ERROR 0x03D3

/*
 * Attributes. Ours sit in the comprehension-required range (0x4000-0x7FFF,
 * unassigned): a receiver that does not know them must not act on the message.
 */
#define NT_WIRE_ATTR_ERROR_CODE 0x0009
#define NT_WIRE_ATTR_MI_SHA256 0x001C	/* MESSAGE-INTEGRITY-SHA256 */
#define NT_WIRE_ATTR_XOR_MAPPED 0x0020	/* XOR-MAPPED-ADDRESS */
#define NT_WIRE_ATTR_FINGERPRINT 0x8028
#define NT_WIRE_ATTR_SESSION_ID 0x4E01	/* 8 bytes, big endian */
#define NT_WIRE_ATTR_CHALLENGE 0x4E02	/* 16..32 random bytes */
#define NT_WIRE_ATTR_LIFETIME 0x4E03	/* 4 bytes, ms the challenge stays valid */
#define NT_WIRE_ATTR_SEQUENCE 0x4E04	/* 8 bytes, big endian: PROBE, KEEPALIVE */
/*
 * Zero bytes a PROBE carries so it is at least as long as the CHALLENGE
 * it asks for (no amplification). Comprehension-optional: parse skips it.
 */
#define NT_WIRE_ATTR_PADDING 0x8E05
/* The longest CHALLENGE (32-byte challenge, IPv6, FINGERPRINT); nattravd
 * answers no PROBE shorter than the CHALLENGE it would send. */
#define NT_WIRE_PROBE_MIN 144

enum nt_wire_kind {
	NT_WIRE_PROBE = 1,	/* client -> server: session id, sequence
				 * (new for every PROBE sent); signed */
	NT_WIRE_CHALLENGE,	/* server -> client: session id, challenge,
				 * observed address, lifetime; signed */
	NT_WIRE_ANSWER,		/* client -> server: session id, challenge,
				 * observed address; signed */
	NT_WIRE_KEEPALIVE,	/* client -> server: session id, sequence; signed */
	NT_WIRE_ERROR,		/* server -> client: error code, reason; signed
				 * when the session (and so its key) is known */
};

/* Which attributes a parsed message carried (nt_wire_msg.present). */
#define NT_WIRE_HAS_SESSION_ID (1u << 0)
#define NT_WIRE_HAS_CHALLENGE (1u << 1)
#define NT_WIRE_HAS_MAPPED (1u << 2)
#define NT_WIRE_HAS_LIFETIME (1u << 3)
#define NT_WIRE_HAS_SEQUENCE (1u << 4)
#define NT_WIRE_HAS_ERROR_CODE (1u << 5)
#define NT_WIRE_HAS_MI (1u << 6)
#define NT_WIRE_HAS_FINGERPRINT (1u << 7)

/* ERROR-CODE values nattrav uses (STUN's where one fits). */
#define NT_WIRE_ERR_BAD_REQUEST 400	/* malformed, unknown attribute */
#define NT_WIRE_ERR_UNAUTHORIZED 401	/* integrity check failed */
#define NT_WIRE_ERR_FORBIDDEN 403	/* observed address denied by policy */
#define NT_WIRE_ERR_UNKNOWN_SESSION 404
#define NT_WIRE_ERR_STALE_CHALLENGE 438 /* unknown, used or late: probe again */
#define NT_WIRE_ERR_QUOTA 486
#define NT_WIRE_ERR_SERVER 500

/*
 * One message, decoded or to be encoded. For encoding, fill kind, tid and
 * the fields the kind needs (see enum nt_wire_kind); present is ignored.
 */
struct nt_wire_msg {
	enum nt_wire_kind kind;
	uint16_t type;		/* wire type; set by parse */
	uint8_t tid[NT_WIRE_TID_LEN];
	uint32_t present;	/* NT_WIRE_HAS_*; set by parse */
	uint64_t session_id;
	uint8_t challenge[NT_WIRE_CHALLENGE_MAX];
	size_t challenge_len;
	struct nt_endpoint mapped;	/* observed address (XOR-MAPPED-ADDRESS) */
	uint32_t lifetime_ms;
	uint64_t seq;
	uint16_t error_method;	/* ERROR: which method failed (NT_WIRE_METHOD_*) */
	uint16_t error_code;	/* ERROR: 300..699 */
	char reason[NT_WIRE_REASON_MAX + 1];
	size_t mi_off;		/* set by parse: offset of MI-SHA256 header */
	uint16_t pad_to;	/* build, PROBE: NT-PADDING up to this length */
};

/* True when buf starts like a control message: 2 zero bits + magic cookie. */
bool nt_wire_is_control(const void *buf, size_t len);

/* Random transaction id / challenge from the OpenSSL CSPRNG. -EIO on failure. */
int nt_wire_random(void *out, size_t len);

/*
 * Encode m into buf. key (NT_WIRE_KEY_LEN bytes) signs the message with
 * MESSAGE-INTEGRITY-SHA256; it is required for every kind but ERROR, where
 * NULL sends an unsigned error. fingerprint appends FINGERPRINT.
 * Returns the message length, -EINVAL when a field is missing or out of
 * range, -ENOSPC when cap is too small.
 */
int nt_wire_build(void *buf, size_t cap, const struct nt_wire_msg *m,
		  const uint8_t *key, bool fingerprint);

/*
 * Decode a datagram without a key (the session id inside says which key to
 * check it with). Returns:
 *   0          a well formed message of a known kind, with its attributes
 *   -ENOMSG    not a control message (media, or junk)
 *   -EMSGSIZE  longer than NT_WIRE_MAX
 *   -EBADMSG   malformed: length field, attribute bounds or value sizes,
 *              duplicates, attributes after MI-SHA256 other than FINGERPRINT,
 *              bad FINGERPRINT, a required attribute missing
 *   -EOPNOTSUPP  a STUN type nattrav does not use
 *   -ENOPROTOOPT an unknown comprehension-required attribute
 */
int nt_wire_parse(const void *buf, size_t len, struct nt_wire_msg *m);

/*
 * Check the MESSAGE-INTEGRITY-SHA256 of a message nt_wire_parse accepted,
 * in constant time. 0 when authentic, -EACCES when not, -ENOKEY when the
 * message carries none.
 */
int nt_wire_verify(const void *buf, size_t len, const struct nt_wire_msg *m,
		   const uint8_t key[NT_WIRE_KEY_LEN]);

/* Parse then verify, for callers that already know the key. */
int nt_wire_decode(const void *buf, size_t len, struct nt_wire_msg *m,
		   const uint8_t key[NT_WIRE_KEY_LEN]);

#endif /* NT_WIRE_H */
