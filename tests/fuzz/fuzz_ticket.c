// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: resume tickets as a client presents them (RESUME <ticket>). */
#include <stdint.h>
#include <string.h>
#include "nt_ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t key[NT_TICKET_KEY_LEN];
	static int ready;
	char text[NT_TICKET_MAX * 2];
	struct nt_ticket t, back;
	char sealed[NT_TICKET_MAX + 1];

	if (!ready)
		ready = !nt_ticket_key("fuzz-secret", 11, key);
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	/* what opens is well formed, and seals again to something that opens the same */
	if (nt_ticket_open(key, text, 1700000000, &t) == 0) {
		if (!t.session_id || !nt_token_user_valid(t.user) || !nt_line_group_valid(t.group))
			__builtin_trap();
		if (nt_ticket_seal(key, &t, sealed, sizeof(sealed)) <= 0 ||
		    nt_ticket_open(key, sealed, 1700000000, &back) ||
		    back.session_id != t.session_id || strcmp(back.user, t.user) ||
		    strcmp(back.group, t.group) || memcmp(back.key, t.key, sizeof(t.key)))
			__builtin_trap();
	}
	return 0;
}
