// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: UDP messages on the media port (PROBE, CHALLENGE,
 * ANSWER, KEEPALIVE, ERROR). Parse, check integrity, and for what parses,
 * rebuild it and parse it again: the codec must agree with itself.
 */
#include <stdint.h>
#include <string.h>
#include "nt_wire.h"

static const uint8_t key[NT_WIRE_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_wire_msg m, again;
	uint8_t buf[2048];
	int n;

	(void)nt_wire_is_control(data, size);
	if (nt_wire_parse(data, size, &m) < 0)
		return 0;
	(void)nt_wire_verify(data, size, &m, key);
	(void)nt_wire_decode(data, size, &again, key);
	n = nt_wire_build(buf, sizeof(buf), &m, key, size & 1);
	if (n > 0) {
		if (nt_wire_decode(buf, (size_t)n, &again, key) < 0)
			__builtin_trap(); /* what the codec built, it must read back */
		if (again.kind != m.kind || again.session_id != m.session_id)
			__builtin_trap();
		/* the PROBE's sequence is what makes a replay a replay: it must survive */
		if ((m.kind == NT_WIRE_PROBE || m.kind == NT_WIRE_KEEPALIVE) && again.seq != m.seq)
			__builtin_trap();
	}
	return 0;
}
