/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which peer addresses the relay refuses to send media to. Always refused:
 * unspecified, loopback, multicast, IPv4 broadcast (no open relay into the
 * relay host itself, no amplification into groups). The operator adds
 * ranges with --deny CIDR. New built-in ranges go into builtin[] in
 * nt_deny.c.
 */
#ifndef NT_DENY_H
#define NT_DENY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

/* A prefix on the 128-bit form: IPv4 ranges are stored v4-mapped, plen + 96. */
struct nt_cidr {
	uint8_t addr[16];
	uint8_t plen;
};

struct nt_deny {
	struct nt_cidr *v;
	size_t n, cap;
};

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). -EINVAL. */
int nt_cidr_parse(const char *s, struct nt_cidr *out);
/* Add a range; -EINVAL for bad syntax, -ENOMEM. */
int nt_deny_add(struct nt_deny *d, const char *cidr);
void nt_deny_free(struct nt_deny *d);

/*
 * True when media must not go to (or come from) ep. why (may be NULL) gets
 * a static word for the log: "unspecified", "loopback", "multicast",
 * "broadcast", "denied". d may be NULL (built-in ranges only).
 */
bool nt_addr_denied(const struct nt_deny *d, const struct nt_endpoint *ep,
		    const char **why);

#endif /* NT_DENY_H */
