// SPDX-License-Identifier: GPL-2.0
/* nt_stun: RFC 5769's test vectors parse; Binding answers any client's request. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "nt_stun.h"
#include "endpoints.h"

/* RFC 5769 2.1: a Binding request with ICE attributes, integrity and FINGERPRINT */
static const uint8_t rfc5769_req[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
	0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
	0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
	0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
	0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
	0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: its IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853 */
static const uint8_t rfc5769_resp4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
	0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
	0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
	0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

Test(stun, rfc5769_request_parses)
{
	struct nt_stun_msg m;

	cr_assert_eq(nt_stun_parse(rfc5769_req, sizeof(rfc5769_req), &m), 0);
	cr_assert_eq(m.method, NT_STUN_METHOD_BINDING);
	cr_assert_eq(m.cls, NT_STUN_REQUEST);
	cr_assert(m.fingerprint);
	cr_assert_eq(m.nattrs, 5, "SOFTWARE PRIORITY ICE-CONTROLLED USERNAME MI: %zu", m.nattrs);
	cr_assert_eq(nt_stun_find(&m, NT_STUN_ATTR_USERNAME)->len, 9);
}

Test(stun, rfc5769_response_address)
{
	struct nt_stun_msg m;
	struct nt_endpoint ep, want = ep4("192.0.2.1", 32853);

	cr_assert_eq(nt_stun_parse(rfc5769_resp4, sizeof(rfc5769_resp4), &m), 0);
	cr_assert_eq(m.cls, NT_STUN_SUCCESS);
	cr_assert_eq(nt_stun_xor_addr_decode(nt_stun_find(&m, NT_STUN_ATTR_XOR_MAPPED_ADDRESS),
					     m.tid, &ep), 0);
	cr_assert_eq(memcmp(&ep, &want, sizeof(ep)), 0);
}

Test(stun, broken_fingerprint_or_length_refused)
{
	uint8_t b[sizeof(rfc5769_req)];
	struct nt_stun_msg m;

	memcpy(b, rfc5769_req, sizeof(b));
	b[sizeof(b) - 1] ^= 1;
	cr_assert_eq(nt_stun_parse(b, sizeof(b), &m), -EBADMSG);
	memcpy(b, rfc5769_req, sizeof(b));
	b[3] += 4; /* header claims more than the datagram */
	cr_assert_eq(nt_stun_parse(b, sizeof(b), &m), -EBADMSG);
	cr_assert_eq(nt_stun_parse(b, 19, &m), -ENOMSG);
	memcpy(b, rfc5769_req, sizeof(b));
	b[4] = 0; /* no magic cookie: not STUN */
	cr_assert_eq(nt_stun_parse(b, sizeof(b), &m), -ENOMSG);
	memcpy(b, rfc5769_req, sizeof(b));
	b[23] = 0xf0; /* SOFTWARE longer than the message */
	cr_assert_eq(nt_stun_parse(b, sizeof(b), &m), -EBADMSG);
}

static void answer_is(const uint8_t *req, size_t len, const struct nt_endpoint *src)
{
	uint8_t out[NT_STUN_MAX];
	struct nt_stun_msg q, m;
	struct nt_endpoint ep;
	int n = nt_stun_binding_answer(req, len, src, out, sizeof(out));

	cr_assert_gt(n, 0, "%d", n);
	cr_assert_eq(nt_stun_parse(out, (size_t)n, &m), 0);
	cr_assert_eq(nt_stun_parse(req, len, &q), 0);
	cr_assert_eq(m.method, NT_STUN_METHOD_BINDING);
	cr_assert_eq(m.cls, NT_STUN_SUCCESS);
	cr_assert(m.fingerprint);
	cr_assert_eq(memcmp(m.tid, q.tid, sizeof(m.tid)), 0);
	cr_assert_eq(nt_stun_xor_addr_decode(nt_stun_find(&m, NT_STUN_ATTR_XOR_MAPPED_ADDRESS),
					     m.tid, &ep), 0);
	cr_assert_eq(memcmp(&ep, src, sizeof(ep)), 0);
}

Test(stun, binding_answers_v4_and_v6)
{
	/* a bare request, as browsers send to a STUN server */
	uint8_t bare[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6,
			     7, 8, 9, 10, 11, 12 };
	struct nt_endpoint a = ep4("203.0.113.11", 49468), b = ep6("2001:db8::7", 3478);

	answer_is(bare, sizeof(bare), &a);
	answer_is(bare, sizeof(bare), &b);
	answer_is(rfc5769_req, sizeof(rfc5769_req), &a);
}

Test(stun, binding_unknown_required_attribute_gets_420)
{
	uint8_t req[NT_STUN_MAX], out[NT_STUN_MAX];
	uint8_t tid[NT_STUN_TID_LEN] = { 9 };
	struct nt_stun_builder b;
	struct nt_stun_msg m;
	struct nt_endpoint a = ep4("203.0.113.11", 1);
	const struct nt_stun_attr *u, *e;
	int n;

	nt_stun_begin(&b, req, sizeof(req), NT_STUN_METHOD_BINDING, NT_STUN_REQUEST, tid);
	nt_stun_put(&b, 0x7777, "x", 1);
	n = nt_stun_finish(&b);
	cr_assert_gt(n, 0);
	n = nt_stun_binding_answer(req, (size_t)n, &a, out, sizeof(out));
	cr_assert_gt(n, 0);
	cr_assert_eq(nt_stun_parse(out, (size_t)n, &m), 0);
	cr_assert_eq(m.cls, NT_STUN_ERROR);
	e = nt_stun_find(&m, NT_STUN_ATTR_ERROR_CODE);
	cr_assert(e && e->val[2] == 4 && e->val[3] == 20);
	u = nt_stun_find(&m, NT_STUN_ATTR_UNKNOWN_ATTRIBUTES);
	cr_assert(u && u->len == 2 && u->val[0] == 0x77 && u->val[1] == 0x77);
}

Test(stun, not_binding_left_to_others)
{
	uint8_t req[64], out[NT_STUN_MAX];
	uint8_t tid[NT_STUN_TID_LEN] = { 1 };
	struct nt_stun_builder b;
	struct nt_endpoint a = ep4("203.0.113.11", 1);
	int n;

	/* a Binding indication (keepalive) and another method: not answered here */
	nt_stun_begin(&b, req, sizeof(req), NT_STUN_METHOD_BINDING, NT_STUN_INDICATION, tid);
	n = nt_stun_finish(&b);
	cr_assert_eq(nt_stun_binding_answer(req, (size_t)n, &a, out, sizeof(out)), -ENOMSG);
	nt_stun_begin(&b, req, sizeof(req), 0x0E1, NT_STUN_REQUEST, tid);
	n = nt_stun_finish(&b);
	cr_assert_eq(nt_stun_binding_answer(req, (size_t)n, &a, out, sizeof(out)), -ENOMSG);
	/* no room: an error, not a short message */
	cr_assert_lt(nt_stun_binding_answer(rfc5769_req, sizeof(rfc5769_req), &a, out, 30), 0);
}

Test(stun, type_bits_interleave)
{
	cr_assert_eq(nt_stun_type(0x001, NT_STUN_REQUEST), 0x0001);
	cr_assert_eq(nt_stun_type(0x001, NT_STUN_SUCCESS), 0x0101);
	cr_assert_eq(nt_stun_type(0x001, NT_STUN_ERROR), 0x0111);
	cr_assert_eq(nt_stun_type(0x0E1, NT_STUN_REQUEST), 0x02C1); /* nattrav's PROBE */
	cr_assert_eq(nt_stun_type(0x003, NT_STUN_REQUEST), 0x0003); /* TURN Allocate */
	cr_assert_eq(nt_stun_type(0x007, NT_STUN_INDICATION), 0x0017); /* TURN Data */
}

Test(stun, rfc5769_integrity)
{
	static const char pw[] = "VOkJxbRl1RmTxUk/WvJxBt";
	uint8_t b[sizeof(rfc5769_resp4)], out[NT_STUN_MAX], tid[NT_STUN_TID_LEN] = { 3 };
	struct nt_stun_builder sb;
	struct nt_stun_msg m;
	int n;

	cr_assert_eq(nt_stun_parse(rfc5769_req, sizeof(rfc5769_req), &m), 0);
	cr_assert_eq(nt_stun_check_integrity(rfc5769_req, &m, (const uint8_t *)pw, strlen(pw)), 0);
	cr_assert_eq(nt_stun_check_integrity(rfc5769_req, &m, (const uint8_t *)"x", 1), -EACCES);
	cr_assert_eq(nt_stun_parse(rfc5769_resp4, sizeof(rfc5769_resp4), &m), 0);
	cr_assert_eq(nt_stun_check_integrity(rfc5769_resp4, &m, (const uint8_t *)pw, strlen(pw)), 0);
	/* a byte changed under the integrity (and the FINGERPRINT fixed up by no one): refused */
	memcpy(b, rfc5769_resp4, sizeof(b));
	b[30] ^= 1;
	cr_assert_neq(nt_stun_parse(b, sizeof(b), &m), 0);
	/* what we sign, we verify */
	nt_stun_begin(&sb, out, sizeof(out), 0x003, NT_STUN_REQUEST, tid);
	nt_stun_put(&sb, NT_STUN_ATTR_USERNAME, "u", 1);
	nt_stun_put_integrity(&sb, (const uint8_t *)"k", 1);
	n = nt_stun_finish(&sb);
	cr_assert_gt(n, 0);
	cr_assert_eq(nt_stun_parse(out, (size_t)n, &m), 0);
	cr_assert_eq(nt_stun_check_integrity(out, &m, (const uint8_t *)"k", 1), 0);
	nt_stun_begin(&sb, out, sizeof(out), 0x003, NT_STUN_REQUEST, tid);
	n = nt_stun_finish(&sb);
	cr_assert_eq(nt_stun_parse(out, (size_t)n, &m), 0);
	cr_assert_eq(nt_stun_check_integrity(out, &m, (const uint8_t *)"k", 1), -ENOKEY);
}

Test(stun, stream_frames_over_tcp)
{
	/* a Binding request header (no attributes), ChannelData of 5 bytes padded to 8 */
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3 };
	static const uint8_t cd[12] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	uint8_t b[64], bad[20];

	cr_assert_eq(nt_stun_stream_frame(stun, 3, 1500), 0, "a header in part: more needed");
	cr_assert_eq(nt_stun_stream_frame(stun, 19, 1500), 0);
	cr_assert_eq(nt_stun_stream_frame(stun, 20, 1500), 20);
	memcpy(b, cd, sizeof(cd));
	memcpy(b + sizeof(cd), stun, sizeof(stun));
	cr_assert_eq(nt_stun_stream_frame(b, 9, 1500), 0, "ChannelData without its padding");
	cr_assert_eq(nt_stun_stream_frame(b, sizeof(b), 1500), 12, "padded to 4 bytes");
	cr_assert_eq(nt_stun_stream_frame(b + 12, 20, 1500), 20, "then the STUN message");
	memcpy(bad, stun, sizeof(bad));
	bad[4] = 0; /* not the magic cookie */
	cr_assert_eq(nt_stun_stream_frame(bad, 20, 1500), -EPROTO);
	memcpy(bad, stun, sizeof(bad));
	bad[3] = 2; /* a length no attribute list has */
	cr_assert_eq(nt_stun_stream_frame(bad, 20, 1500), -EPROTO);
	bad[0] = 0x80; /* neither STUN nor ChannelData */
	cr_assert_eq(nt_stun_stream_frame(bad, 4, 1500), -EPROTO);
	bad[0] = 0x40, bad[2] = 0x10, bad[3] = 0x00; /* 4096 bytes of data */
	cr_assert_eq(nt_stun_stream_frame(bad, 4, 1500), -EPROTO, "longer than max");
	cr_assert_eq(nt_stun_stream_frame(bad, 4, 5000), 0);
}
