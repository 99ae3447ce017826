/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counts per IP address (port ignored: many clients share a NAT's address),
 * for budgets such as "connections not yet authenticated from one source".
 * An open-addressing table sized once for the most addresses it must hold,
 * so counting never allocates and costs O(1) under a flood.
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef NT_ADDRCOUNT_H
#define NT_ADDRCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include "nattrav_abi.h"

struct nt_addrcount_slot {
	uint8_t addr[16];
	uint32_t count;		/* 0: free */
};

struct nt_addrcount {
	struct nt_addrcount_slot *slots;
	size_t mask;		/* slots - 1, a power of two minus one */
	size_t max;		/* distinct addresses it was sized for */
	size_t used;
};

/* Room for max distinct addresses at once. */
int nt_addrcount_init(struct nt_addrcount *t, size_t max);
void nt_addrcount_free(struct nt_addrcount *t);
/* The count of ep's address (0 when absent). */
uint32_t nt_addrcount_get(const struct nt_addrcount *t, const struct nt_endpoint *ep);
/* One more for ep's address: the new count, or -ENOSPC when max addresses are held. */
int nt_addrcount_inc(struct nt_addrcount *t, const struct nt_endpoint *ep);
/* One less; the address is forgotten at zero. No-op when absent. */
void nt_addrcount_dec(struct nt_addrcount *t, const struct nt_endpoint *ep);

#endif /* NT_ADDRCOUNT_H */
