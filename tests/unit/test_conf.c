// SPDX-License-Identifier: GPL-2.0
/* nt_conf: "key = value" files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nt_conf.h"

static char seen[4096];

static int collect(const char *key, const char *val, void *arg)
{
	(void)arg;
	strcat(seen, key);
	strcat(seen, "=");
	strcat(seen, val);
	strcat(seen, "|");
	return 0;
}

static int parse(const char *text, unsigned int *line)
{
	seen[0] = '\0';
	return nt_conf_parse(text, strlen(text), collect, NULL, line);
}

Test(conf, settings_comments_spaces)
{
	unsigned int line = 99;

	cr_assert_eq(parse("# nattravd\n\n"
			   "iface = eth0\n"
			   "  addr=203.0.113.1  \n"
			   "\tdeny = 10.0.0.0/8   # a comment\n"
			   "cert = /etc/a#b.pem\n"
			   "log-level = debug\r\n"
			   "   # indented comment\n"
			   "keep-on-exit = yes",
			   &line),
		     0);
	cr_assert_eq(line, 0);
	cr_assert_str_eq(seen, "iface=eth0|addr=203.0.113.1|deny=10.0.0.0/8|"
			       "cert=/etc/a#b.pem|log-level=debug|keep-on-exit=yes|");
}

Test(conf, errors_say_where)
{
	static const struct {
		const char *text;
		unsigned int line;
	} bad[] = {
		{ "iface eth0\n", 1 },	     { "a = 1\n= 2\n", 2 },   { "a = 1\nb =\n", 2 },
		{ "a = 1\nb = # c\n", 2 },  { "Iface = eth0\n", 1 }, { "if ace = x\n", 1 },
		{ "a = 1\n\nk_x = 1\n", 3 }, { "a = b\x01\n", 1 },
	};
	unsigned int line;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].text, &line), -EINVAL, "case %zu", i);
		cr_assert_eq(line, bad[i].line, "case %zu", i);
	}
	cr_assert_eq(nt_conf_parse("a = 1\nb = \0x\n", 12, collect, NULL, &line), -EINVAL);
	cr_assert_eq(line, 2);
}

static int refuse_b(const char *key, const char *val, void *arg)
{
	(void)val;
	(void)arg;
	return strcmp(key, "b") ? 0 : -ERANGE;
}

Test(conf, callback_error_and_long_lines)
{
	char big[NT_CONF_LINE_MAX + 16];
	unsigned int line;

	cr_assert_eq(nt_conf_parse("a = 1\nb = 2\nc = 3\n", 18, refuse_b, NULL, &line), -ERANGE);
	cr_assert_eq(line, 2);
	memset(big, 'x', sizeof(big));
	memcpy(big, "k = ", 4);
	cr_assert_eq(nt_conf_parse(big, NT_CONF_LINE_MAX, collect, NULL, &line), 0);
	cr_assert_eq(nt_conf_parse(big, NT_CONF_LINE_MAX + 1, collect, NULL, &line), -EMSGSIZE);
	cr_assert_eq(line, 1);
}

Test(conf, load_file)
{
	char path[] = "/tmp/nt_conf_testXXXXXX";
	int fd = mkstemp(path);
	unsigned int line;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "media-port = 3478\n", 18), 18);
	close(fd);
	seen[0] = '\0';
	cr_assert_eq(nt_conf_load(path, collect, NULL, &line), 0);
	cr_assert_str_eq(seen, "media-port=3478|");
	unlink(path);
	cr_assert_eq(nt_conf_load(path, collect, NULL, &line), -ENOENT);
	cr_assert_eq(line, 0);
	cr_assert_eq(nt_conf_load("/", collect, NULL, &line), -EISDIR);
}
