// SPDX-License-Identifier: GPL-2.0
/* ERR 300's "relay=HOST:PORT" (nt_redirect.h). */
#include <errno.h>
#include <string.h>
#include "nt_fleet.h"
#include "nt_redirect.h"

int nt_redirect_parse(const char *text, char *server, size_t cap)
{
	char addr[NT_REDIRECT_MAX + 1], norm[NT_REDIRECT_MAX + 1];
	size_t n;

	if (!text || strncmp(text, "relay=", 6) || cap < 1)
		return -EINVAL;
	text += 6;
	n = strcspn(text, " ");
	if (!n || n > NT_REDIRECT_MAX)
		return -EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	/* a port is required, and the form must be the one relays write */
	if (nt_fleet_hostport(addr, 0, norm, sizeof(norm)) || strcmp(norm, addr) || n >= cap)
		return -EINVAL;
	memcpy(server, addr, n + 1);
	return 0;
}
