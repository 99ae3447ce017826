/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which peer addresses the relay refuses to send media to (no open relay,
 * no path into the relay's own or anyone's private networks). Built from the
 * IANA IPv4 and IPv6 special-purpose address registries; builtin[] in
 * nt_deny.c is the list. Every address is first put in one canonical form
 * (an IPv4-mapped IPv6 address is IPv4), and the IPv4 addresses an IPv6
 * address carries (IPv4-compatible, NAT64 64:ff9b::/96, 6to4, Teredo server
 * and obfuscated client) are checked as well.
 *
 * Order: operator --deny ranges refuse; then operator --allow ranges accept
 * what a built-in "soft" range (private, CGNAT, link-local, documentation,
 * benchmarking, reserved, ULA, ...) would refuse; "hard" ranges (unspecified,
 * loopback, multicast, broadcast, IPv4-compatible) can never be allowed.
 * docs/security.md explains the choice.
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

struct nt_cidrs {
	struct nt_cidr *v;
	size_t n, cap;
};

struct nt_deny {
	struct nt_cidr *v;	/* --deny */
	size_t n, cap;
	struct nt_cidrs allow;	/* --allow */
};

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). -EINVAL. */
int nt_cidr_parse(const char *s, struct nt_cidr *out);
/* Add a refused range; -EINVAL for bad syntax, -ENOMEM. */
int nt_deny_add(struct nt_deny *d, const char *cidr);
/* Add an allowed range (overrides soft built-in refusals only). */
int nt_allow_add(struct nt_deny *d, const char *cidr);
void nt_deny_free(struct nt_deny *d);

/*
 * The canonical form of ep: an IPv4 address (family V4, or V6 with the
 * ::ffff:0:0/96 prefix) becomes family V4 with the mapped prefix. Returns
 * false for a family that is neither.
 */
bool nt_addr_canon(const struct nt_endpoint *ep, struct nt_endpoint *out);

/*
 * The IPv4 addresses an IPv6 address embeds (NAT64 well-known prefix,
 * 6to4, Teredo server and client, IPv4-compatible), at most 2; returns
 * how many were written to out (4 bytes each).
 */
size_t nt_addr_embedded_v4(const struct nt_endpoint *ep, uint8_t out[2][4]);

/*
 * True when media must not go to (or come from) ep. why (may be NULL) gets
 * a static word for the log: "unspecified", "loopback", "multicast",
 * "broadcast", "private", "link-local", "cgnat", "documentation", ...,
 * "denied" (operator range), with "embedded-" in front when it was an IPv4
 * address inside an IPv6 one. d may be NULL (built-in ranges only).
 */
bool nt_addr_denied(const struct nt_deny *d, const struct nt_endpoint *ep,
		    const char **why);

#endif /* NT_DENY_H */
