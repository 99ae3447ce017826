/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * STUN (RFC 8489) messages as the standards speak them: a bounded parser
 * that lists a message's attributes, a builder, and the Binding method that
 * tells any client (a browser, libnice, coturn's tools) the address and
 * port its NAT gave it. nattrav's own control messages (nt_wire) use the
 * same framing with methods of their own; this is the standard side.
 *
 * Functions return 0 (or a length) on success, a negative errno otherwise.
 */
#ifndef NT_STUN_H
#define NT_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

#define NT_STUN_TID_LEN 12
#define NT_STUN_ATTRS_MAX 32	/* a message with more is refused */
#define NT_STUN_MAX 1500	/* longest message parsed or built */

#define NT_STUN_METHOD_BINDING 0x001

enum nt_stun_class {
	NT_STUN_REQUEST = 0,
	NT_STUN_INDICATION = 1,
	NT_STUN_SUCCESS = 2,
	NT_STUN_ERROR = 3,
};

#define NT_STUN_ATTR_MAPPED_ADDRESS 0x0001
#define NT_STUN_ATTR_USERNAME 0x0006
#define NT_STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define NT_STUN_ATTR_ERROR_CODE 0x0009
#define NT_STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define NT_STUN_ATTR_REALM 0x0014
#define NT_STUN_ATTR_NONCE 0x0015
#define NT_STUN_ATTR_MI_SHA256 0x001C
#define NT_STUN_ATTR_USERHASH 0x001E
#define NT_STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define NT_STUN_ATTR_PRIORITY 0x0024	/* ICE (RFC 8445) */
#define NT_STUN_ATTR_USE_CANDIDATE 0x0025
#define NT_STUN_ATTR_SOFTWARE 0x8022
#define NT_STUN_ATTR_FINGERPRINT 0x8028
#define NT_STUN_ATTR_ICE_CONTROLLED 0x8029
#define NT_STUN_ATTR_ICE_CONTROLLING 0x802A

struct nt_stun_attr {
	uint16_t type;
	uint16_t len;		/* of the value, without padding */
	const uint8_t *val;	/* into the parsed buffer */
};

struct nt_stun_msg {
	uint16_t method;	/* 12 bits */
	enum nt_stun_class cls;
	uint8_t tid[NT_STUN_TID_LEN];
	size_t len;		/* header + attributes */
	bool fingerprint;	/* carried a FINGERPRINT, and it was right */
	size_t mi_off;		/* offset of MESSAGE-INTEGRITY (HMAC-SHA1), 0: none */
	size_t nattrs;
	/* in message order; those after MESSAGE-INTEGRITY(-SHA256) are not listed */
	struct nt_stun_attr attrs[NT_STUN_ATTRS_MAX];
};

/* Method and class as the 14-bit message type of the header (RFC 8489 5). */
uint16_t nt_stun_type(uint16_t method, enum nt_stun_class cls);

/*
 * Parse len bytes of one datagram: -ENOMSG when it is not STUN at all (top
 * bits, magic cookie), -EBADMSG when it claims to be and is not well formed
 * (header length, attribute bounds, FINGERPRINT wrong or not last, too many
 * attributes). Attribute values are not interpreted here.
 */
int nt_stun_parse(const uint8_t *buf, size_t len, struct nt_stun_msg *m);

/*
 * Over TCP and TLS (RFC 8656 12.5) messages follow each other in a stream:
 * the length of the first one in buf[0..len), a STUN message (20-byte
 * header and its length) or ChannelData (4-byte header and its data,
 * padded to 4 bytes). 0 while more bytes are needed; -EPROTO for bytes
 * that start neither, or a message longer than max.
 */
long nt_stun_stream_frame(const uint8_t *buf, size_t len, size_t max);

/* The first attribute of that type, or NULL. */
const struct nt_stun_attr *nt_stun_find(const struct nt_stun_msg *m, uint16_t type);

/*
 * Comprehension-required attributes (below 0x8000) of m not in known[]:
 * up to max of them into out; returns how many there were in all.
 */
size_t nt_stun_unknown(const struct nt_stun_msg *m, const uint16_t *known, size_t nknown,
		       uint16_t *out, size_t max);

/*
 * 0 when m (parsed from buf) carries a MESSAGE-INTEGRITY that HMAC-SHA1
 * under key reproduces; -ENOKEY when it carries none, -EACCES when wrong.
 */
int nt_stun_check_integrity(const uint8_t *buf, const struct nt_stun_msg *m, const uint8_t *key,
			    size_t klen);

/* CRC-32 of n bytes XORed with 0x5354554e: the FINGERPRINT value (RFC 8489 14.7). */
uint32_t nt_stun_fingerprint(const uint8_t *p, size_t n);

/* The value of an XOR-MAPPED-ADDRESS (and kin) for ep under tid; its length (8 or 20). */
size_t nt_stun_xor_addr_encode(uint8_t out[20], const struct nt_endpoint *ep,
			       const uint8_t tid[NT_STUN_TID_LEN]);

/* An address attribute's value, XORed (XOR-MAPPED-ADDRESS and kin) with tid. */
int nt_stun_xor_addr_decode(const struct nt_stun_attr *a, const uint8_t tid[NT_STUN_TID_LEN],
			    struct nt_endpoint *ep);

struct nt_stun_builder {
	uint8_t *buf;
	size_t cap, off;
	int err;		/* the first error; later calls do nothing */
};

void nt_stun_begin(struct nt_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
		   enum nt_stun_class cls, const uint8_t tid[NT_STUN_TID_LEN]);
void nt_stun_put(struct nt_stun_builder *b, uint16_t type, const void *val, size_t len);
void nt_stun_put_xor_addr(struct nt_stun_builder *b, uint16_t type, const struct nt_endpoint *ep);
/* ERROR-CODE: code 300..699 and a reason phrase (at most 127 bytes kept). */
void nt_stun_put_error(struct nt_stun_builder *b, unsigned code, const char *reason);
/* MESSAGE-INTEGRITY (HMAC-SHA1 under key) over everything put so far. */
void nt_stun_put_integrity(struct nt_stun_builder *b, const uint8_t *key, size_t klen);
/* FINGERPRINT last; the message's length, or the first error. */
int nt_stun_finish(struct nt_stun_builder *b);

/*
 * The answer to a Binding request from src: a success response with
 * XOR-MAPPED-ADDRESS, or 420 with UNKNOWN-ATTRIBUTES for comprehension-
 * required attributes a Binding server cannot honour; FINGERPRINT on both.
 * The response's length; -ENOMSG when req is not a Binding request (so the
 * caller's other parsers may take it), -EBADMSG when it is malformed (no
 * answer is owed: RFC 8489 6.3 says to drop it silently).
 */
int nt_stun_binding_answer(const uint8_t *req, size_t len, const struct nt_endpoint *src,
			   uint8_t *out, size_t cap);

#endif /* NT_STUN_H */
