// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: auth tokens as a client presents them, and user names to mint. */
#include <stdint.h>
#include <string.h>
#include "nt_token.h"

static const char secret[] = "fuzz-secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[NT_TOKEN_MAX * 2], user[NT_TOKEN_USER_MAX + 1], tok[NT_TOKEN_MAX + 1];
	uint64_t expiry;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)nt_token_verify(secret, sizeof(secret) - 1, text, 1700000000, user, &expiry);
	/* a minted token for any valid user must verify as that user */
	if (nt_token_user_valid(text) &&
	    nt_token_mint(secret, sizeof(secret) - 1, text, 1800000000, tok, sizeof(tok)) > 0) {
		if (nt_token_verify(secret, sizeof(secret) - 1, tok, 1700000000, user, &expiry) ||
		    strcmp(user, text) || expiry != 1800000000)
			__builtin_trap();
	}
	return 0;
}
