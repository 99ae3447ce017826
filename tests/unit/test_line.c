// SPDX-License-Identifier: GPL-2.0
/* nt_line: command parser, formatters, reply parser, incremental reader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nt_line.h"

static int parse(const char *s, struct nt_line_cmd *c, struct nt_line_err *e)
{
	return nt_line_parse_cmd(s, strlen(s), c, e);
}

Test(line, every_command)
{
	static const struct {
		const char *line;
		enum nt_line_cmd_id id;
		const char *arg;
	} ok[] = {
		{ "HELLO nattrav/1", NT_CMD_HELLO, "nattrav/1" },
		{ "hello nattrav/12", NT_CMD_HELLO, "nattrav/12" },
		{ "AUTH 1700000000:alice:abc=", NT_CMD_AUTH, "1700000000:alice:abc=" },
		{ "JOIN room-1.a_B", NT_CMD_JOIN, "room-1.a_B" },
		{ "Join x", NT_CMD_JOIN, "x" },
		{ "LEAVE", NT_CMD_LEAVE, "" },
		{ "STATUS", NT_CMD_STATUS, "" },
		{ "PING", NT_CMD_PING, "" },
		{ "ping\r", NT_CMD_PING, "" },
		{ "QUIT", NT_CMD_QUIT, "" },
	};
	struct nt_line_cmd c;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(parse(ok[i].line, &c, NULL), 0, "%s", ok[i].line);
		cr_assert_eq(c.id, ok[i].id);
		cr_assert_str_eq(c.arg, ok[i].arg);
	}
	cr_assert_str_eq(nt_line_cmd_name(NT_CMD_STATUS), "STATUS");
	cr_assert_null(nt_line_cmd_name(0));
	cr_assert_null(nt_line_cmd_name(99));
}

Test(line, bad_syntax)
{
	static const char *bad[] = {
		"HELLO", "HELLO nattrav/0", "HELLO nattrav/1234", "HELLO nattrav/x",
		"HELLO NATTRAV/1", "HELLO nattrav/1 extra", "AUTH", "AUTH a b",
		"JOIN", "JOIN a b", "JOIN room/1", "JOIN r:1",
		"LEAVE now", "PING 1", "QUIT x", " PING", "PING ", "JOIN  room",
		"AUTH  tok",
	};
	struct nt_line_cmd c;
	struct nt_line_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.code = 0;
		cr_assert_eq(parse(bad[i], &c, &e), -EINVAL, "'%s'", bad[i]);
		cr_assert_eq(e.code, 400);
		cr_assert_not_null(e.reason);
	}
	cr_assert_eq(parse("", &c, &e), -ENODATA);
	cr_assert_eq(e.code, 400);
	cr_assert_eq(parse("\r", &c, &e), -ENODATA);
}

Test(line, argument_limits)
{
	char l[NT_LINE_MAX + 8], g[NT_LINE_GROUP_MAX + 2];
	struct nt_line_cmd c;

	memset(g, 'g', sizeof(g));
	g[NT_LINE_GROUP_MAX] = '\0';
	snprintf(l, sizeof(l), "JOIN %s", g);
	cr_assert_eq(parse(l, &c, NULL), 0);
	cr_assert(nt_line_group_valid(g));
	g[NT_LINE_GROUP_MAX] = 'g';
	g[NT_LINE_GROUP_MAX + 1] = '\0';
	snprintf(l, sizeof(l), "JOIN %s", g);
	cr_assert_eq(parse(l, &c, NULL), -EINVAL);
	cr_assert_not(nt_line_group_valid(g));
	cr_assert_not(nt_line_group_valid(""));

	strcpy(l, "AUTH ");
	memset(l + 5, 't', NT_LINE_ARG_MAX);
	l[5 + NT_LINE_ARG_MAX] = '\0';
	cr_assert_eq(parse(l, &c, NULL), 0);
	cr_assert_eq(strlen(c.arg), NT_LINE_ARG_MAX);
	strcat(l, "t");
	cr_assert_eq(parse(l, &c, NULL), -EINVAL);
}

Test(line, unknown_and_overlong)
{
	char l[NT_LINE_MAX + 2];
	struct nt_line_cmd c;
	struct nt_line_err e;

	cr_assert_eq(parse("FROB", &c, &e), -EOPNOTSUPP);
	cr_assert_eq(e.code, 404);
	cr_assert_eq(parse("PINGX", &c, &e), -EOPNOTSUPP);
	cr_assert_eq(parse("PIN", &c, &e), -EOPNOTSUPP);
	memset(l, 'A', sizeof(l));
	cr_assert_eq(nt_line_parse_cmd(l, NT_LINE_MAX + 1, &c, &e), -EMSGSIZE);
	cr_assert_eq(e.code, 413);
	cr_assert_eq(nt_line_parse_cmd(l, NT_LINE_MAX, &c, &e), -EOPNOTSUPP);
	cr_assert_eq(nt_line_err_code(-EMSGSIZE), 413);
	cr_assert_eq(nt_line_err_code(-EOPNOTSUPP), 404);
	cr_assert_eq(nt_line_err_code(-EINVAL), 400);
	cr_assert_eq(nt_line_err_code(-ENOMEM), 500);
}

Test(line, non_printable)
{
	static const char *bad[] = { "PING\t", "JOIN a\tb", "PI\x7fNG", "JOIN \x80room",
				     "PING\n", "PI\rNG" };
	struct nt_line_cmd c;
	struct nt_line_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], &c, &e), -EINVAL, "case %zu", i);
	cr_assert_eq(nt_line_parse_cmd("PI\0NG", 5, &c, &e), -EINVAL);
	cr_assert_str_eq(e.reason, "non-printable byte");
}

Test(line, formatters_and_reply_round_trip)
{
	char b[NT_LINE_MAX + 2];
	struct nt_line_reply r;
	uint8_t keyb[32];
	uint64_t sid, consent;
	const struct nt_line_kv grant[] = {
		{ "session", "0123456789abcdef" },
		{ "key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" },
		{ "media", "[2001:db8::1]:3478" },
		{ "group", "room1" },
		{ "consent", "30" },
		{ "keepalive", "10" },
	};
	int n = nt_line_fmt_ok(b, sizeof(b), NT_CMD_JOIN, grant, 6);

	cr_assert_eq(n, (int)strlen(b));
	cr_assert_eq(b[n - 1], '\n');
	cr_assert_eq(strncmp(b, "OK JOIN session=0123456789abcdef key=0011", 40), 0);
	cr_assert_eq(nt_line_parse_reply(b, n - 1, &r), 0);
	cr_assert_eq(r.kind, NT_REPLY_OK);
	cr_assert_str_eq(r.word, "JOIN");
	cr_assert_eq(r.nkv, 6);
	cr_assert_str_eq(nt_line_reply_get(&r, "media"), "[2001:db8::1]:3478");
	cr_assert_null(nt_line_reply_get(&r, "nope"));
	cr_assert_eq(nt_line_reply_hex64(&r, "session", &sid), 0);
	cr_assert_eq(sid, 0x0123456789abcdefull);
	cr_assert_eq(nt_line_reply_hexbytes(&r, "key", keyb, 32), 0);
	cr_assert_eq(keyb[1], 0x11);
	cr_assert_eq(keyb[31], 0xff);
	cr_assert_eq(nt_line_reply_u64(&r, "consent", &consent), 0);
	cr_assert_eq(consent, 30);
	cr_assert_eq(nt_line_reply_u64(&r, "media", &consent), -EINVAL);
	cr_assert_eq(nt_line_reply_u64(&r, "missing", &consent), -ENOENT);
	cr_assert_eq(nt_line_reply_hex64(&r, "group", &sid), -EINVAL);
	cr_assert_eq(nt_line_reply_hexbytes(&r, "key", keyb, 16), -EINVAL);

	n = nt_line_fmt_evt(b, sizeof(b), "VERIFIED",
			    (struct nt_line_kv[]){ { "mapping", "203.0.113.7:40000" } }, 1);
	cr_assert_str_eq(b, "EVT VERIFIED mapping=203.0.113.7:40000\n");
	cr_assert_eq(nt_line_parse_reply(b, n - 1, &r), 0);
	cr_assert_eq(r.kind, NT_REPLY_EVT);
	cr_assert_str_eq(r.word, "VERIFIED");

	n = nt_line_fmt_err(b, sizeof(b), 419, "token expired");
	cr_assert_str_eq(b, "ERR 419 token expired\n");
	cr_assert_eq(nt_line_parse_reply(b, n, &r), -EINVAL, "the \\n is not ours");
	cr_assert_eq(nt_line_parse_reply(b, n - 1, &r), 0);
	cr_assert_eq(r.kind, NT_REPLY_ERR);
	cr_assert_eq(r.code, 419);
	cr_assert_str_eq(r.text, "token expired");

	cr_assert_gt(nt_line_fmt_ok(b, sizeof(b), NT_CMD_PING, NULL, 0), 0);
	cr_assert_str_eq(b, "OK PING\n");
	cr_assert_gt(nt_line_fmt_cmd(b, sizeof(b), NT_CMD_HELLO, NT_LINE_PROTO), 0);
	cr_assert_str_eq(b, "HELLO nattrav/1\n");
	cr_assert_gt(nt_line_fmt_cmd(b, sizeof(b), NT_CMD_QUIT, NULL), 0);
	cr_assert_str_eq(b, "QUIT\n");
}

Test(line, formatters_refuse)
{
	char b[NT_LINE_MAX + 2], big[NT_LINE_MAX + 1];
	struct nt_line_kv kv = { "key", "a b" };

	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_JOIN, &kv, 1), -EINVAL);
	kv = (struct nt_line_kv){ "Key", "v" };
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_JOIN, &kv, 1), -EINVAL);
	kv = (struct nt_line_kv){ "k=", "v" };
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_JOIN, &kv, 1), -EINVAL);
	kv = (struct nt_line_kv){ "k", "" };
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_JOIN, &kv, 1), -EINVAL);
	kv = (struct nt_line_kv){ "k", "v\n" };
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_JOIN, &kv, 1), -EINVAL);
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), 0, NULL, 0), -EINVAL);
	cr_assert_eq(nt_line_fmt_evt(b, sizeof(b), "verified", NULL, 0), -EINVAL);
	cr_assert_eq(nt_line_fmt_err(b, sizeof(b), 99, "x"), -EINVAL);
	cr_assert_eq(nt_line_fmt_err(b, sizeof(b), 400, "two  spaces"), -EINVAL);
	cr_assert_eq(nt_line_fmt_err(b, sizeof(b), 400, "line\r\nbreak"), -EINVAL);
	cr_assert_eq(nt_line_fmt_cmd(b, sizeof(b), NT_CMD_JOIN, "a b"), -EINVAL);
	cr_assert_eq(nt_line_fmt_ok(b, 9, NT_CMD_PING, NULL, 0), 8);
	cr_assert_eq(nt_line_fmt_ok(b, 8, NT_CMD_PING, NULL, 0), -ENOSPC);

	/* exactly NT_LINE_MAX fits, one more does not */
	memset(big, 'v', sizeof(big));
	big[NT_LINE_MAX - 9] = '\0'; /* "OK PING k=" is 10, plus 503 = 513 */
	kv = (struct nt_line_kv){ "k", big };
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_PING, &kv, 1), -EMSGSIZE);
	big[NT_LINE_MAX - 10] = '\0';
	cr_assert_eq(nt_line_fmt_ok(b, sizeof(b), NT_CMD_PING, &kv, 1), NT_LINE_MAX + 1);
}

Test(line, reply_parser_rejects)
{
	static const char *bad[] = {
		"", "OK", "OK ", "OK join", "OK JOIN k", "OK JOIN =v", "OK JOIN k=",
		"OK JOIN K=v", "OK JOIN a=1  b=2", "OK JOIN a=1 ", "ERR", "ERR 42",
		"ERR 4000", "ERR 600 x", "ERR 099 x", "ERR abc x", "EVT", "HELLO",
		"ok PING", "OK PING\t",
	};
	struct nt_line_reply r;
	char many[NT_LINE_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(nt_line_parse_reply(bad[i], strlen(bad[i]), &r), 0,
			     "'%s'", bad[i]);
	cr_assert_eq(nt_line_parse_reply("ERR 500", 7, &r), 0);
	cr_assert_str_eq(r.text, "");
	cr_assert_eq(nt_line_parse_reply("OK STATUS a=b=c\r", 16, &r), 0);
	cr_assert_str_eq(nt_line_reply_get(&r, "a"), "b=c");

	strcpy(many, "EVT X");
	for (int i = 0; i <= NT_LINE_KV_MAX; i++)
		strcat(many, " k=v");
	cr_assert_eq(nt_line_parse_reply(many, strlen(many), &r), -E2BIG);
}

/* Feed everything, collect lines joined by '|' and overlong errors as '!'. */
static void drain(struct nt_line_reader *rd, const char *data, size_t len,
		  char *out)
{
	while (len) {
		const char *line;
		size_t used = 0, ll;
		int rc = nt_line_reader_feed(rd, data, len, &used, &line, &ll);

		cr_assert_leq(used, len);
		data += used;
		len -= used;
		if (rc == 1) {
			cr_assert_eq(line[ll], '\0');
			strncat(out, line, ll);
			strcat(out, "|");
		} else if (rc == -EMSGSIZE) {
			strcat(out, "!|");
		} else {
			cr_assert_eq(rc, 0);
			cr_assert_eq(len, 0);
		}
	}
}

Test(line, reader_lines_and_splits)
{
	static const char in[] = "HELLO nattrav/1\r\nAUTH tok\nPING\n\nJOIN r";
	static const char want[] = "HELLO nattrav/1|AUTH tok|PING||";
	struct nt_line_reader rd;
	char out[4096];

	nt_line_reader_init(&rd);
	out[0] = '\0';
	drain(&rd, in, sizeof(in) - 1, out);
	cr_assert_str_eq(out, want);
	cr_assert_eq(nt_line_reader_pending(&rd), 6);
	drain(&rd, "oom\n", 4, out);
	cr_assert_str_eq(out, "HELLO nattrav/1|AUTH tok|PING||JOIN room|");

	/* every split point, and one byte at a time */
	for (size_t cut = 0; cut <= sizeof(in) - 1; cut++) {
		nt_line_reader_init(&rd);
		out[0] = '\0';
		drain(&rd, in, cut, out);
		drain(&rd, in + cut, sizeof(in) - 1 - cut, out);
		cr_assert_str_eq(out, want, "cut %zu", cut);
	}
	nt_line_reader_init(&rd);
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(in) - 1; i++)
		drain(&rd, in + i, 1, out);
	cr_assert_str_eq(out, want);
}

Test(line, reader_overlong)
{
	static char in[4096], out[8192];
	struct nt_line_reader rd;
	size_t n;

	/* 512 bytes + "\n" and 512 + "\r\n" pass; 513 + "\n" does not */
	for (int crlf = 0; crlf < 2; crlf++) {
		memset(in, 'a', NT_LINE_MAX);
		n = NT_LINE_MAX;
		if (crlf)
			in[n++] = '\r';
		in[n++] = '\n';
		memcpy(in + n, "b\n", 2);
		n += 2;
		nt_line_reader_init(&rd);
		out[0] = '\0';
		drain(&rd, in, n, out);
		cr_assert_eq(strlen(out), NT_LINE_MAX + 3);
		cr_assert_str_eq(out + NT_LINE_MAX, "|b|");
	}
	memset(in, 'a', NT_LINE_MAX + 1);
	memcpy(in + NT_LINE_MAX + 1, "\nPING\n", 6);
	nt_line_reader_init(&rd);
	out[0] = '\0';
	drain(&rd, in, NT_LINE_MAX + 7, out);
	cr_assert_str_eq(out, "!|PING|");

	/* a long line is reported once and discarded up to its "\n" */
	memset(in, 'x', 3000);
	memcpy(in + 3000, "\r\nPING\r\n", 8);
	for (size_t step = 1; step <= 3008; step = step * 3 + 1) {
		nt_line_reader_init(&rd);
		out[0] = '\0';
		for (size_t off = 0; off < 3008; off += step)
			drain(&rd, in + off, off + step > 3008 ? 3008 - off : step, out);
		cr_assert_str_eq(out, "!|PING|", "step %zu", step);
	}
	/* the reader keeps bytes but the parser judges them */
	nt_line_reader_init(&rd);
	out[0] = '\0';
	drain(&rd, "PI\0NG\n", 6, out);
	cr_assert_str_eq(out, "PI|");
}
