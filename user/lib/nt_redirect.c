// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* ERR 300's "relay=HOST:PORT" (nt_redirect.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <stdio.h>
#include "nt_num.h"
#include "nt_redirect.h"

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

static bool v6_char(char ch)
{
	return (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
	       (ch >= '0' && ch <= '9') || ch == ':' || ch == '.';
}

int nt_fleet_hostport(const char *s, uint16_t def, char *out, size_t cap)
{
	const char *host = s, *end, *port = NULL;
	uint32_t p = def;
	size_t hl;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || end == s + 1)
			return -EINVAL;
		for (const char *q = s + 1; q < end; q++)
			if (!v6_char(*q))
				return -EINVAL;
		hl = (size_t)(end - s) + 1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return -EINVAL;
	} else {
		end = strchr(s, ':');
		hl = end ? (size_t)(end - s) : strlen(s);
		if (!hl || hl > 253)
			return -EINVAL;
		for (size_t i = 0; i < hl; i++)
			if (!name_char(s[i]))
				return -EINVAL;
		if (s[0] == '-' || s[0] == '.')
			return -EINVAL;
		if (end)
			port = end + 1;
	}
	if (hl > 255)
		return -EINVAL;
	if (port && nt_parse_u32(port, 1, 65535, &p))
		return -EINVAL;
	if (!p)
		return -EINVAL;
	if (snprintf(out, cap, "%.*s:%u", (int)hl, host, p) >= (int)cap)
		return -EINVAL;
	return 0;
}

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
