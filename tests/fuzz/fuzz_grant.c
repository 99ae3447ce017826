// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the client's parse of the server's session grant (OK JOIN ...). */
#include <stdint.h>
#include <string.h>
#include "nattrav_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nt_client_grant g;
	char line[1024];

	if (size >= sizeof(line))
		size = sizeof(line) - 1;
	memcpy(line, data, size);
	line[size] = '\0';
	(void)nt_client_grant_parse(line, &g);
	return 0;
}
