// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include "nt_iface.h"

int nt_iface_index(const char *name)
{
	unsigned idx;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	idx = if_nametoindex(name);
	return idx ? (int)idx : -ENODEV;
}

int nt_iface_addrs(const char *name, uint8_t v4[4], uint8_t v6[16])
{
	struct ifaddrs *ifa, *i;
	bool have4 = false, have6 = false;

	memset(v4, 0, 4);
	memset(v6, 0, 16);
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, name))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !have4) {
			memcpy(v4, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			have4 = true;
		} else if (i->ifa_addr->sa_family == AF_INET6 && !have6) {
			const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			/* link-local addresses cannot be a relay's public face */
			if (IN6_IS_ADDR_LINKLOCAL(a))
				continue;
			memcpy(v6, a, 16);
			have6 = true;
		}
	}
	freeifaddrs(ifa);
	return have4 || have6 ? 0 : -EADDRNOTAVAIL;
}
