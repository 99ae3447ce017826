// SPDX-License-Identifier: GPL-2.0
/* nt_http: the request head of nattravd's /metrics responder. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "nt_http.h"

static int parse(const char *s, char *path, int *status)
{
	return nt_http_parse(s, strlen(s), path, status);
}

Test(http, get_metrics)
{
	char path[NT_HTTP_PATH_MAX];
	int st;

	cr_assert_eq(parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", path, &st), 1);
	cr_assert_str_eq(path, "/metrics");
	cr_assert_eq(parse("GET /metrics?x=1 HTTP/1.0\n\n", path, &st), 1);
	cr_assert_str_eq(path, "/metrics");
	cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n", path, &st), 1);
	cr_assert_str_eq(path, "/");
}

Test(http, incomplete_waits)
{
	char path[NT_HTTP_PATH_MAX];
	int st;

	cr_assert_eq(parse("", path, &st), 0);
	cr_assert_eq(parse("GET /metrics HTTP/1.1\r\n", path, &st), 0);
	cr_assert_eq(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r", path, &st), 0);
}

Test(http, refused)
{
	static const struct { const char *req; int status; } cases[] = {
		{ "POST /metrics HTTP/1.1\r\n\r\n", 405 },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", 405 },
		{ "hello\r\n\r\n", 400 },
		{ "GET /metrics\r\n\r\n", 400 },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /metrics HTTP/2.0\r\n\r\n", 505 },
		{ "GET /metrics FTP/1.0\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1 x\r\n\r\n", 400 },
		{ "GET /a\x01 HTTP/1.1\r\n\r\n", 400 },
	};
	char path[NT_HTTP_PATH_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = 0;

		cr_assert_eq(parse(cases[i].req, path, &st), -1, "'%s' accepted", cases[i].req);
		cr_assert_eq(st, cases[i].status, "'%s': %d", cases[i].req, st);
	}
}

Test(http, bounded)
{
	static char big[NT_HTTP_REQ_MAX + 16], longpath[NT_HTTP_PATH_MAX + 64];
	char path[NT_HTTP_PATH_MAX];
	int st;

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	cr_assert_eq(nt_http_parse(big, NT_HTTP_REQ_MAX, path, &st), -1);
	cr_assert_eq(st, 431);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	snprintf(big, sizeof(big), "GET %s HTTP/1.0\r\n\r\n", longpath);
	cr_assert_eq(parse(big, path, &st), -1);
	cr_assert_eq(st, 414);
	cr_assert_eq(nt_http_parse("GET / HTTP/1.0\0\r\n\r\n", 19, path, &st), -1);
	cr_assert_eq(st, 400);
}

Test(http, reasons)
{
	cr_assert_str_eq(nt_http_reason(404), "Not Found");
	cr_assert_str_eq(nt_http_reason(999), "Internal Server Error");
}
