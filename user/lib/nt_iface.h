/* SPDX-License-Identifier: GPL-2.0 */
/* The relay interface: its index and its addresses. Return 0 or -errno. */
#ifndef NT_IFACE_H
#define NT_IFACE_H

#include <stdint.h>

/* ifindex of name; -ENODEV when there is no such interface. */
int nt_iface_index(const char *name);

/*
 * First IPv4 and first global IPv6 address of the interface; a family it
 * does not have is left zero. -EADDRNOTAVAIL when it has neither.
 */
int nt_iface_addrs(const char *name, uint8_t v4[4], uint8_t v6[16]);

#endif /* NT_IFACE_H */
