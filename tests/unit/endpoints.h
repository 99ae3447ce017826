/* SPDX-License-Identifier: GPL-2.0 */
/* Endpoints for unit tests: IPv4-mapped as the maps keep them, or IPv6. */
#ifndef NT_TEST_ENDPOINTS_H
#define NT_TEST_ENDPOINTS_H

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include "nattrav_abi.h"

/* a.b.c.d given as a host-order number: 0xC0000201 is 192.0.2.1 */
static inline struct nt_endpoint ep4n(uint32_t ip, uint16_t port)
{
	struct nt_endpoint ep = { .family = NT_FAMILY_V4, .port = port };
	uint32_t be = htonl(ip);

	ep.addr[10] = ep.addr[11] = 0xff;
	memcpy(ep.addr + 12, &be, 4);
	return ep;
}

static inline struct nt_endpoint ep4(const char *a, uint16_t port)
{
	struct nt_endpoint ep = { .family = NT_FAMILY_V4, .port = port };

	ep.addr[10] = ep.addr[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, a, ep.addr + 12), 1);
	return ep;
}

static inline struct nt_endpoint ep6(const char *a, uint16_t port)
{
	struct nt_endpoint ep = { .family = NT_FAMILY_V6, .port = port };

	cr_assert_eq(inet_pton(AF_INET6, a, ep.addr), 1);
	return ep;
}

#endif /* NT_TEST_ENDPOINTS_H */
