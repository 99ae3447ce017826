// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "nt_ctlproto.h"
#include "nt_endpoint.h"
#include "nt_num.h"

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

/* 1..16 hex digits, not all zero. */
static int parse_hex64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (!n || n > 16)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = v << 4 | (uint64_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	if (!v)
		return -EINVAL;
	*out = v;
	return 0;
}

int nt_ctl_parse(const char *line, size_t len, struct nt_ctl_req *r, const char **why)
{
	char buf[NT_CTL_LINE_MAX + 1], *w[4], *save = NULL, *t;
	int n = 0;

	memset(r, 0, sizeof(*r));
	if (len && line[len - 1] == '\r')
		len--;
	if (len > NT_CTL_LINE_MAX)
		return fail(why, "line too long");
	for (size_t i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e)
			return fail(why, "not printable ASCII");
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == 4)
			return fail(why, "too many words");
		w[n++] = t;
	}
	if (!n)
		return fail(why, "empty line");
	if (!strcasecmp(w[0], "STATUS")) {
		if (n != 1)
			return fail(why, "STATUS takes no argument");
		r->cmd = NT_CTL_STATUS;
		return 0;
	}
	if (!strcasecmp(w[0], "DRAIN")) {
		r->cmd = NT_CTL_DRAIN;
		if (n == 1)
			return 0;
		if (n == 2 && !strcasecmp(w[1], "ON"))
			r->drain = NT_CTL_DRAIN_ON;
		else if (n == 2 && !strcasecmp(w[1], "OFF"))
			r->drain = NT_CTL_DRAIN_OFF;
		else
			return fail(why, "usage: DRAIN [ON|OFF]");
		return 0;
	}
	if (!strcasecmp(w[0], "TURN")) {
		r->cmd = NT_CTL_TURN;
		if (n == 1)
			return 0;
		if (n != 3 || strcasecmp(w[1], "FROM") || nt_parse_u32(w[2], 0, UINT32_MAX - 1, &r->from))
			return fail(why, "usage: TURN [FROM slot]");
		return 0;
	}
	if (strcasecmp(w[0], "KICK"))
		return fail(why, "unknown command (STATUS, KICK, DRAIN, TURN)");
	if (n != 3)
		return fail(why, "usage: KICK MAPPING addr:port | KICK SESSION hexid");
	if (!strcasecmp(w[1], "MAPPING")) {
		if (nt_endpoint_parse(w[2], &r->ep))
			return fail(why, "mapping is not addr:port or [v6]:port");
		r->cmd = NT_CTL_KICK_MAPPING;
		return 0;
	}
	if (!strcasecmp(w[1], "SESSION")) {
		if (parse_hex64(w[2], &r->session))
			return fail(why, "session is not a non-zero hex id of up to 16 digits");
		r->cmd = NT_CTL_KICK_SESSION;
		return 0;
	}
	return fail(why, "KICK what? (MAPPING, SESSION)");
}

int nt_listen_addr_parse(const char *s, struct nt_endpoint *ep)
{
	uint32_t port;

	if (s && *s && !strchr(s, ':')) {
		char b[32];

		if (nt_parse_u32(s, 1, 65535, &port))
			return -EINVAL;
		snprintf(b, sizeof(b), "127.0.0.1:%u", port);
		return nt_endpoint_parse(b, ep);
	}
	return nt_endpoint_parse(s, ep);
}
