// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: auth tokens as a client presents them, and user/group names to mint. */
#include <stdint.h>
#include <string.h>
#include "nt_token.h"

static const char secret[] = "fuzz-secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[NT_TOKEN_MAX * 2], tok[NT_TOKEN_MAX + 1];
	struct nt_token_claims c;
	const char *groups[1];

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	if (nt_token_verify(secret, sizeof(secret) - 1, text, 1700000000, &c) == 0) {
		/* what verifies names a user and either '*' or valid groups */
		if (!nt_token_user_valid(c.user) || (!c.any_group && !c.ngroups) ||
		    c.ngroups > NT_TOKEN_GROUPS_MAX)
			__builtin_trap();
		for (size_t i = 0; i < c.ngroups; i++)
			if (!nt_line_group_valid(c.groups[i]) || !nt_token_allows(&c, c.groups[i]))
				__builtin_trap();
	}
	/* a minted token for any valid user (and group of the same name) verifies as that */
	groups[0] = text;
	if (nt_token_user_valid(text) && nt_line_group_valid(text) &&
	    nt_token_mint(secret, sizeof(secret) - 1, text, groups, 1, 1800000000, tok,
			  sizeof(tok)) > 0) {
		if (nt_token_verify(secret, sizeof(secret) - 1, tok, 1700000000, &c) ||
		    strcmp(c.user, text) || c.expiry != 1800000000 || c.any_group ||
		    c.ngroups != 1 || !nt_token_allows(&c, text))
			__builtin_trap();
	}
	return 0;
}
