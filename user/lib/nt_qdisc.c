// SPDX-License-Identifier: GPL-2.0
/*
 * An RTM_GETQDISC dump, to learn whether an interface has an ingress hook
 * before asking the kernel to delete a filter from it: without one the
 * kernel answers EINVAL ("Parent Qdisc doesn't exists"), which cannot be
 * told apart from a real error, and libbpf prints it as a warning.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include "nt_qdisc.h"

static int dump_request(int fd, int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.tc));
	req.nh.nlmsg_type = RTM_GETQDISC;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex; /* newer kernels filter on it; we check anyway */
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* 1 found, 0 not in this batch, 2 end of the dump without it, -errno */
static int scan(const void *buf, size_t len, int ifindex)
{
	const struct nlmsghdr *nh;

	for (nh = buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
		const struct tcmsg *tc;

		if (nh->nlmsg_type == NLMSG_DONE)
			return 2;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error ? e->error : -EPROTO;
		}
		if (nh->nlmsg_type != RTM_NEWQDISC || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*tc)))
			continue;
		tc = NLMSG_DATA(nh);
		/* clsact and ingress share the parent TC_H_INGRESS (== TC_H_CLSACT) */
		if (tc->tcm_ifindex == ifindex && tc->tcm_parent == TC_H_INGRESS)
			return 1;
	}
	return 0;
}

int nt_qdisc_ingress_present(int ifindex)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	err = dump_request(fd, ifindex);
	while (!err) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			err = errno == EINTR ? 0 : -errno;
		else if (n == 0)
			err = -EPROTO;
		else
			err = scan(buf, (size_t)n, ifindex);
	}
	close(fd);
	/* the rest of a dump cut short goes with the socket */
	return err == 2 ? 0 : err;
}
