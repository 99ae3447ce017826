// SPDX-License-Identifier: GPL-2.0
/* "key = value" config files. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nt_conf.h"

#define NT_CONF_FILE_MAX (1u << 20)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int parse_line(char *l, nt_conf_fn fn, void *arg)
{
	char *key, *val, *eq, *end;

	while (is_space(*l))
		l++;
	if (!*l || *l == '#')
		return 0;
	eq = strchr(l, '=');
	if (!eq)
		return -EINVAL;
	key = l;
	end = eq;
	while (end > key && is_space(end[-1]))
		end--;
	*end = '\0';
	if (!*key)
		return -EINVAL;
	for (char *p = key; *p; p++)
		if (!key_char(*p))
			return -EINVAL;
	val = eq + 1;
	while (is_space(*val))
		val++;
	/* a comment after the value needs a space before '#': "a#b" is a value */
	for (char *p = val; *p; p++)
		if (*p == '#' && (p == val || is_space(p[-1]))) {
			*p = '\0';
			break;
		}
	end = val + strlen(val);
	while (end > val && is_space(end[-1]))
		end--;
	*end = '\0';
	if (!*val)
		return -EINVAL;
	for (char *p = val; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -EINVAL;
	return fn(key, val, arg);
}

int nt_conf_parse(const char *text, size_t len, nt_conf_fn fn, void *arg,
		  unsigned int *line)
{
	char buf[NT_CONF_LINE_MAX + 1];
	unsigned int no = 0;
	size_t off = 0;
	int err = 0;

	while (off < len && !err) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;

		no++;
		if (ll > NT_CONF_LINE_MAX) {
			err = -EMSGSIZE;
			break;
		}
		memcpy(buf, text + off, ll);
		buf[ll] = '\0';
		if (strlen(buf) != ll) /* a NUL byte inside the line */
			err = -EINVAL;
		else
			err = parse_line(buf, fn, arg);
		off += ll + (nl ? 1 : 0);
	}
	if (line)
		*line = err ? no : 0;
	return err;
}

int nt_conf_load(const char *path, nt_conf_fn fn, void *arg,
		 unsigned int *line)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd, err = 0;
	ssize_t n;

	if (line)
		*line = 0;
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap >= NT_CONF_FILE_MAX) {
				err = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	err = nt_conf_parse(buf, len, fn, arg, line);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}
