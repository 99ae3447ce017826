// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "nt_http.h"

static int refuse(int *status, int code)
{
	*status = code;
	return -1;
}

int nt_http_parse(const char *buf, size_t len, char path[NT_HTTP_PATH_MAX], int *status)
{
	const char *eol, *sp1, *sp2, *end = NULL;
	size_t mlen, tlen, vlen;

	*status = 0;
	for (size_t i = 0; i + 1 < len && !end; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			end = buf + i;
		else if (i + 3 < len && !memcmp(buf + i, "\r\n\r\n", 4))
			end = buf + i;
	}
	if (memchr(buf, '\0', len))
		return refuse(status, 400);
	if (!end)
		return len >= NT_HTTP_REQ_MAX ? refuse(status, 431) : 0;
	if (end - buf >= NT_HTTP_REQ_MAX)
		return refuse(status, 431);
	eol = memchr(buf, '\n', len);
	if (eol > buf && eol[-1] == '\r')
		eol--;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1)
		return refuse(status, 400);
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return refuse(status, 400);
	mlen = (size_t)(sp1 - buf);
	tlen = (size_t)(sp2 - sp1 - 1);
	vlen = (size_t)(eol - sp2 - 1);
	if (!mlen || !tlen || memchr(sp2 + 1, ' ', vlen))
		return refuse(status, 400);
	if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) || (sp2[8] != '0' && sp2[8] != '1'))
		return refuse(status, vlen >= 5 && !memcmp(sp2 + 1, "HTTP/", 5) ? 505 : 400);
	if (sp1[1] != '/')
		return refuse(status, 400);
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)sp1[1 + i] <= 0x20 || (unsigned char)sp1[1 + i] >= 0x7f)
			return refuse(status, 400);
	if (mlen != 3 || memcmp(buf, "GET", 3))
		return refuse(status, 405);
	{
		const char *q = memchr(sp1 + 1, '?', tlen);

		if (q)
			tlen = (size_t)(q - sp1 - 1);
	}
	if (tlen >= NT_HTTP_PATH_MAX)
		return refuse(status, 414);
	memcpy(path, sp1 + 1, tlen);
	path[tlen] = '\0';
	return 1;
}

const char *nt_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}
