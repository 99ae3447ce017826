// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: any datagram through the STUN parser and the Binding
 * answer; what is answered must parse back with the request's transaction id.
 */
#include <stdint.h>
#include <string.h>
#include "nt_stun.h"
#include "nt_turn_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_stun_msg m, r;
	struct nt_endpoint src = { .family = NT_FAMILY_V6, .port = 0x3412 };
	uint8_t out[NT_STUN_MAX];
	int n;

	memcpy(src.addr, "\x20\x01\x0d\xb8", 4);
	/* a TCP stream cut into messages: each within what is there, none empty */
	for (size_t off = 0; off < size;) {
		long f = nt_stun_stream_frame(data + off, size - off, NT_STUN_MAX);

		if (f <= 0)
			break;
		if ((size_t)f > size - off || f < 4)
			__builtin_trap();
		off += (size_t)f;
	}
	memset(&m, 0, sizeof(m));
	if (nt_stun_parse(data, size, &m) == 0) {
		for (size_t i = 0; i < m.nattrs; i++)
			if (m.attrs[i].val < data || m.attrs[i].val + m.attrs[i].len > data + size)
				__builtin_trap();
		(void)nt_stun_find(&m, NT_STUN_ATTR_XOR_MAPPED_ADDRESS);
	}
	/* what TURN reads out of USERNAME and NONCE attributes */
	{
		static const uint8_t key[32] = { 7 };
		char user[64];

		if (nt_turn_rest_user((const char *)data, size, 1, user) == 0 &&
		    (strlen(user) == 0 || strlen(user) > 63))
			__builtin_trap();
		(void)nt_turn_nonce_check(key, (const char *)data, size, 1000, 600);
		if (m.mi_off && (m.mi_off + 24 > size))
			__builtin_trap();
		(void)nt_stun_check_integrity(data, &m, key, sizeof(key));
	}
	n = nt_stun_binding_answer(data, size, &src, out, sizeof(out));
	if (n > 0) {
		if (nt_stun_parse(out, (size_t)n, &r) || !r.fingerprint ||
		    memcmp(r.tid, m.tid, sizeof(r.tid)))
			__builtin_trap();
	}
	return 0;
}
