/* SPDX-License-Identifier: GPL-2.0 */
/* nattravctl: shared options and the subcommands. */
#ifndef NT_CTL_H
#define NT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include "nt_bpf.h"

/* Exit codes: 0 ok, 1 the operation failed, 2 bad usage. */
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

struct ctl {
	const char *pin_dir;
	const char *ctl_socket;	/* nattravd's control socket */
	bool json;
};

/* Where nattrav's XDP program runs, found from the interfaces (attached.c). */
struct ctl_attach {
	int ifindex;		/* 0: attached nowhere in this namespace */
	char iface[16];
	const char *mode;	/* native, skb, hw, multi */
	__u32 xdp_prog_id, tc_prog_id;
};

int ctl_attach(struct ctl *ctl, int argc, char **argv);
int ctl_detach(struct ctl *ctl, int argc, char **argv);
int ctl_map(struct ctl *ctl, int argc, char **argv);
int ctl_mappings(struct ctl *ctl, int argc, char **argv);
int ctl_stats(struct ctl *ctl, int argc, char **argv);
int ctl_config(struct ctl *ctl, int argc, char **argv);
int ctl_token(struct ctl *ctl, int argc, char **argv);
int ctl_group(struct ctl *ctl, int argc, char **argv);
int ctl_groups(struct ctl *ctl, int argc, char **argv);
int ctl_status(struct ctl *ctl, int argc, char **argv);
int ctl_kick(struct ctl *ctl, int argc, char **argv);
int ctl_fleet(struct ctl *ctl, int argc, char **argv);
int ctl_drain(struct ctl *ctl, int argc, char **argv);
int ctl_turn(struct ctl *ctl, int argc, char **argv);

/* -ENOENT when no interface runs the program that uses m's maps. */
int ctl_find_attach(const struct nt_maps *m, struct ctl_attach *a);

/* ctlsock.c: send line, read the one reply line (without "\n"). 0 or -errno. */
int ctl_request(const struct ctl *ctl, const char *line, char *reply, size_t cap);
/* The value of key=... in a reply line, or NULL. */
const char *ctl_reply_get(const char *reply, const char *key, char *out, size_t cap);
/* A sentence for a ctl_request error. */
const char *ctl_sock_errstr(const struct ctl *ctl, int err, char *buf, size_t cap);

/* Open the pinned maps or say clearly why not; CTL_EXIT_FAIL on failure. */
int ctl_open_maps(const struct ctl *ctl, struct nt_maps *m);
/* Print "nattravctl: <msg>" to stderr and return code. */
int ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NT_CTL_H */
