// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: ERR 300 texts (nt_redirect_parse) and fleet ids / addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nt_fleet.h"
#include "nt_redirect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[1024], out[NT_REDIRECT_MAX + 1], hp[NT_FLEET_ADDR_MAX + 1];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!nt_redirect_parse(text, out, sizeof(out))) {
		/* what is followed is a clean HOST:PORT that parses to itself */
		if (nt_fleet_hostport(out, 0, hp, sizeof(hp)) || strcmp(hp, out))
			abort();
		if (strchr(out, ' ') || strchr(out, '\r') || strchr(out, '\n'))
			abort();
	}
	nt_fleet_id_valid(text);
	nt_fleet_verdict("self", text, text);
	return 0;
}
