// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * STUN codec (RFC 8489). Every read is bounded by the length the caller
 * passed; the header's length field is trusted only once it matched it.
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>
#include "nt_be.h"
#include "nt_stun.h"

#define ATTR_HDR 4
#define FP_XOR 0x5354554eu
#define FP_LEN 8	/* attribute header + CRC */
#define MI_LEN 20	/* HMAC-SHA1 */

uint32_t nt_stun_fingerprint(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n) ^ FP_XOR;
}

uint16_t nt_stun_type(uint16_t method, enum nt_stun_class cls)
{
	/* M11..M7 C1 M6..M4 C0 M3..M0 */
	return (uint16_t)(((method & 0xf80) << 2) | ((method & 0x070) << 1) | (method & 0x00f) |
			  ((cls & 2) << 7) | ((cls & 1) << 4));
}

int nt_stun_parse(const uint8_t *buf, size_t len, struct nt_stun_msg *m)
{
	uint16_t type;
	size_t off = NT_STUN_HDR_LEN;
	bool integrity = false;

	memset(m, 0, sizeof(*m));
	if (len < NT_STUN_HDR_LEN || (buf[0] & 0xc0) || nt_get32(buf + 4) != NT_STUN_MAGIC)
		return -ENOMSG;
	if (len > NT_STUN_MAX || nt_get16(buf + 2) != len - NT_STUN_HDR_LEN || (len & 3))
		return -EBADMSG;
	type = nt_get16(buf);
	m->method = (uint16_t)(((type >> 2) & 0xf80) | ((type >> 1) & 0x070) | (type & 0x00f));
	m->cls = (enum nt_stun_class)(((type >> 7) & 2) | ((type >> 4) & 1));
	memcpy(m->tid, buf + 8, NT_STUN_TID_LEN);
	m->len = len;
	while (off < len) {
		uint16_t at, alen;
		size_t padded;

		if (len - off < ATTR_HDR)
			return -EBADMSG;
		at = nt_get16(buf + off);
		alen = nt_get16(buf + off + 2);
		padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > len - off - ATTR_HDR)
			return -EBADMSG;
		if (at == NT_STUN_ATTR_FINGERPRINT) {
			/* last, and over everything before it */
			if (alen != 4 || off + FP_LEN != len ||
			    nt_get32(buf + off + ATTR_HDR) != nt_stun_fingerprint(buf, off))
				return -EBADMSG;
			m->fingerprint = true;
		} else if (!integrity) {
			if (m->nattrs == NT_STUN_ATTRS_MAX)
				return -EBADMSG;
			m->attrs[m->nattrs++] = (struct nt_stun_attr){
				.type = at, .len = alen, .val = buf + off + ATTR_HDR
			};
		}
		/* what follows the integrity is not covered by it: ignored (RFC 8489 14.5) */
		if (at == NT_STUN_ATTR_MESSAGE_INTEGRITY && !integrity) {
			if (alen != MI_LEN)
				return -EBADMSG;
			m->mi_off = off;
		}
		if (at == NT_STUN_ATTR_MESSAGE_INTEGRITY || at == NT_STUN_ATTR_MI_SHA256)
			integrity = true;
		off += ATTR_HDR + padded;
	}
	return 0;
}

const struct nt_stun_attr *nt_stun_find(const struct nt_stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->nattrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}

size_t nt_stun_unknown(const struct nt_stun_msg *m, const uint16_t *known, size_t nknown,
		       uint16_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nattrs; i++) {
		bool ok = m->attrs[i].type >= 0x8000;

		for (size_t k = 0; k < nknown && !ok; k++)
			ok = m->attrs[i].type == known[k];
		if (ok)
			continue;
		if (n < max)
			out[n] = m->attrs[i].type;
		n++;
	}
	return n;
}

/* the XOR pad: the cookie, then the transaction id (RFC 8489 14.2) */
static void xor_pad(uint8_t pad[16], const uint8_t tid[NT_STUN_TID_LEN])
{
	nt_put32(pad, NT_STUN_MAGIC);
	memcpy(pad + 4, tid, NT_STUN_TID_LEN);
}

int nt_stun_xor_addr_decode(const struct nt_stun_attr *a, const uint8_t tid[NT_STUN_TID_LEN],
			    struct nt_endpoint *ep)
{
	static const uint8_t v4_prefix[12] = { [10] = 0xff, [11] = 0xff };
	uint8_t pad[16];
	size_t alen;

	if (a->len == 8 && !a->val[0] && a->val[1] == 0x01)
		alen = 4;
	else if (a->len == 20 && !a->val[0] && a->val[1] == 0x02)
		alen = 16;
	else
		return -EBADMSG;
	xor_pad(pad, tid);
	memset(ep, 0, sizeof(*ep));
	ep->family = alen == 4 ? NT_FAMILY_V4 : NT_FAMILY_V6;
	if (alen == 4)
		memcpy(ep->addr, v4_prefix, sizeof(v4_prefix));
	ep->port = (uint16_t)((a->val[2] ^ pad[0]) << 8 | (a->val[3] ^ pad[1]));
	for (size_t i = 0; i < alen; i++)
		ep->addr[(alen == 4 ? 12 : 0) + i] = a->val[4 + i] ^ pad[i];
	return 0;
}

void nt_stun_begin(struct nt_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
		   enum nt_stun_class cls, const uint8_t tid[NT_STUN_TID_LEN])
{
	*b = (struct nt_stun_builder){ .buf = buf, .cap = cap < NT_STUN_MAX ? cap : NT_STUN_MAX };
	if (b->cap < NT_STUN_HDR_LEN) {
		b->err = -ENOSPC;
		return;
	}
	nt_put16(buf, nt_stun_type(method, cls));
	nt_put16(buf + 2, 0);
	nt_put32(buf + 4, NT_STUN_MAGIC);
	memcpy(buf + 8, tid, NT_STUN_TID_LEN);
	b->off = NT_STUN_HDR_LEN;
}

void nt_stun_put(struct nt_stun_builder *b, uint16_t type, const void *val, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;

	if (b->err)
		return;
	if (len > 0xffff || b->off + ATTR_HDR + padded > b->cap) {
		b->err = -ENOSPC;
		return;
	}
	nt_put16(b->buf + b->off, type);
	nt_put16(b->buf + b->off + 2, (uint16_t)len);
	if (len)
		memcpy(b->buf + b->off + ATTR_HDR, val, len);
	memset(b->buf + b->off + ATTR_HDR + len, 0, padded - len);
	b->off += ATTR_HDR + padded;
	nt_put16(b->buf + 2, (uint16_t)(b->off - NT_STUN_HDR_LEN));
}

size_t nt_stun_xor_addr_encode(uint8_t out[20], const struct nt_endpoint *ep,
			       const uint8_t tid[NT_STUN_TID_LEN])
{
	bool v4 = ep->family == NT_FAMILY_V4;
	size_t alen = v4 ? 4 : 16;
	uint8_t pad[16];

	xor_pad(pad, tid);
	out[0] = 0;
	out[1] = v4 ? 0x01 : 0x02;
	out[2] = (uint8_t)(ep->port >> 8) ^ pad[0];
	out[3] = (uint8_t)ep->port ^ pad[1];
	for (size_t i = 0; i < alen; i++)
		out[4 + i] = ep->addr[(v4 ? 12 : 0) + i] ^ pad[i];
	return 4 + alen;
}

void nt_stun_put_xor_addr(struct nt_stun_builder *b, uint16_t type, const struct nt_endpoint *ep)
{
	uint8_t v[20];

	if (b->err)
		return;
	if (ep->family != NT_FAMILY_V4 && ep->family != NT_FAMILY_V6) {
		b->err = -EAFNOSUPPORT;
		return;
	}
	nt_stun_put(b, type, v, nt_stun_xor_addr_encode(v, ep, b->buf + 8));
}

void nt_stun_put_error(struct nt_stun_builder *b, unsigned code, const char *reason)
{
	uint8_t v[4 + 127];
	size_t rlen = strnlen(reason, 127);

	if (code < 300 || code > 699) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	v[0] = v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rlen);
	nt_stun_put(b, NT_STUN_ATTR_ERROR_CODE, v, 4 + rlen);
}

/*
 * HMAC-SHA1 of the message up to off, its header length field counting the
 * message up to the end of the MESSAGE-INTEGRITY attribute (RFC 8489 14.5).
 */
static int integrity(const uint8_t *buf, size_t off, const uint8_t *key, size_t klen,
		     uint8_t mac[MI_LEN])
{
	uint8_t tmp[NT_STUN_MAX];
	unsigned int n = MI_LEN;

	if (off > sizeof(tmp))
		return -EMSGSIZE;
	memcpy(tmp, buf, off);
	nt_put16(tmp + 2, (uint16_t)(off + ATTR_HDR + MI_LEN - NT_STUN_HDR_LEN));
	return HMAC(EVP_sha1(), key, (int)klen, tmp, off, mac, &n) ? 0 : -EIO;
}

int nt_stun_check_integrity(const uint8_t *buf, const struct nt_stun_msg *m, const uint8_t *key,
			    size_t klen)
{
	uint8_t mac[MI_LEN];
	int err;

	if (!m->mi_off)
		return -ENOKEY;
	err = integrity(buf, m->mi_off, key, klen, mac);
	if (err)
		return err;
	return CRYPTO_memcmp(mac, buf + m->mi_off + ATTR_HDR, MI_LEN) ? -EACCES : 0;
}

void nt_stun_put_integrity(struct nt_stun_builder *b, const uint8_t *key, size_t klen)
{
	uint8_t mac[MI_LEN];

	if (b->err)
		return;
	if (b->off + ATTR_HDR + MI_LEN > b->cap) {
		b->err = -ENOSPC;
		return;
	}
	b->err = integrity(b->buf, b->off, key, klen, mac);
	nt_stun_put(b, NT_STUN_ATTR_MESSAGE_INTEGRITY, mac, MI_LEN);
}

int nt_stun_finish(struct nt_stun_builder *b)
{
	uint8_t crc[4];

	if (b->err)
		return b->err;
	if (b->off + FP_LEN > b->cap)
		return -ENOSPC;
	/* the CRC covers the header with the length that counts FINGERPRINT */
	nt_put16(b->buf + 2, (uint16_t)(b->off + FP_LEN - NT_STUN_HDR_LEN));
	nt_put32(crc, nt_stun_fingerprint(b->buf, b->off));
	nt_stun_put(b, NT_STUN_ATTR_FINGERPRINT, crc, 4);
	return b->err ? b->err : (int)b->off;
}

/*
 * What a Binding server may meet in a request and ignore: credentials and
 * ICE attributes of a connectivity check meant for a peer, SOFTWARE, padding.
 */
static const uint16_t binding_known[] = {
	NT_STUN_ATTR_USERNAME, NT_STUN_ATTR_MESSAGE_INTEGRITY, NT_STUN_ATTR_MI_SHA256,
	NT_STUN_ATTR_REALM, NT_STUN_ATTR_NONCE, NT_STUN_ATTR_USERHASH,
	NT_STUN_ATTR_PRIORITY, NT_STUN_ATTR_USE_CANDIDATE,
};

int nt_stun_binding_answer(const uint8_t *req, size_t len, const struct nt_endpoint *src,
			   uint8_t *out, size_t cap)
{
	struct nt_stun_msg m;
	struct nt_stun_builder b;
	uint16_t unknown[8], wire[8];
	size_t nu;
	int err = nt_stun_parse(req, len, &m);

	if (err)
		return err;
	if (m.method != NT_STUN_METHOD_BINDING || m.cls != NT_STUN_REQUEST)
		return -ENOMSG;
	nu = nt_stun_unknown(&m, binding_known, sizeof(binding_known) / sizeof(binding_known[0]),
			     unknown, 8);
	if (nu) {
		nu = nu < 8 ? nu : 8;
		for (size_t i = 0; i < nu; i++)
			nt_put16((uint8_t *)&wire[i], unknown[i]);
		nt_stun_begin(&b, out, cap, NT_STUN_METHOD_BINDING, NT_STUN_ERROR, m.tid);
		nt_stun_put_error(&b, 420, "Unknown Attribute");
		nt_stun_put(&b, NT_STUN_ATTR_UNKNOWN_ATTRIBUTES, wire, nu * 2);
		return nt_stun_finish(&b);
	}
	nt_stun_begin(&b, out, cap, NT_STUN_METHOD_BINDING, NT_STUN_SUCCESS, m.tid);
	nt_stun_put_xor_addr(&b, NT_STUN_ATTR_XOR_MAPPED_ADDRESS, src);
	return nt_stun_finish(&b);
}

long nt_stun_stream_frame(const uint8_t *buf, size_t len, size_t max)
{
	size_t n;

	if (len < 4)
		return 0;
	if ((buf[0] & 0xc0) == 0x00) {
		/* a STUN length counts whole attributes; the cookie says it is STUN */
		if (buf[3] & 3 || (len >= 8 && (buf[4] != 0x21 || buf[5] != 0x12 ||
						buf[6] != 0xa4 || buf[7] != 0x42)))
			return -EPROTO;
		n = 20 + (size_t)(buf[2] << 8 | buf[3]);
	} else if ((buf[0] & 0xc0) == 0x40) {
		n = 4 + (((size_t)(buf[2] << 8 | buf[3]) + 3) & ~(size_t)3);
	} else {
		return -EPROTO;
	}
	if (n > max)
		return -EPROTO;
	return len >= n ? (long)n : 0;
}
