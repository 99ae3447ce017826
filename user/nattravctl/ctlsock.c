// SPDX-License-Identifier: GPL-2.0
/* The client side of nattravd's control socket: one request, one reply line. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ctl.h"

#define CTL_REPLY_TIMEOUT_MS 3000

int ctl_request(const struct ctl *ctl, const char *line, char *reply, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0;
	int fd, err;

	if (strlen(ctl->ctl_socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, ctl->ctl_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	/* a refusal (ERR 403) may come and the socket close before we sent: read it anyway */
	if ((send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
	     send(fd, "\n", 1, MSG_NOSIGNAL) < 0) && errno != EPIPE) {
		err = -errno;
		close(fd);
		return err;
	}
	while (len + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, CTL_REPLY_TIMEOUT_MS) <= 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		n = recv(fd, reply + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(reply, '\n', len))
			break;
	}
	close(fd);
	reply[len] = '\0';
	reply[strcspn(reply, "\r\n")] = '\0';
	return len ? 0 : -ECONNRESET;
}

const char *ctl_reply_get(const char *reply, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);

	for (const char *p = strchr(reply, ' '); p; p = strchr(p + 1, ' ')) {
		if (!strncmp(p + 1, key, kl) && p[1 + kl] == '=') {
			size_t n = strcspn(p + 2 + kl, " ");

			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + 2 + kl, n);
			out[n] = '\0';
			return out;
		}
	}
	return NULL;
}

const char *ctl_sock_errstr(const struct ctl *ctl, int err, char *buf, size_t cap)
{
	if (err == -ENOENT || err == -ECONNREFUSED)
		snprintf(buf, cap, "nattravd is not running (nothing answers on %s)", ctl->ctl_socket);
	else if (err == -EACCES || err == -EPERM)
		snprintf(buf, cap, "no permission to use %s (root or nattravd's user)", ctl->ctl_socket);
	else
		snprintf(buf, cap, "%s: %s", ctl->ctl_socket, strerror(-err));
	return buf;
}
