// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "nt_readfile.h"

int nt_read_small_file(const char *path, void *buf, size_t cap, size_t *len)
{
	unsigned char *b = buf;
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < cap) {
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!err && n == cap)
		err = -EFBIG;
	*len = n;
	return err;
}
