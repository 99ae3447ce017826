/* SPDX-License-Identifier: GPL-2.0 */
/* Whether an interface has the qdisc that TC ingress programs hang off. */
#ifndef NT_QDISC_H
#define NT_QDISC_H

/*
 * 1 when ifindex has an ingress or clsact qdisc, 0 when it has none,
 * -errno when netlink cannot tell.
 */
int nt_qdisc_ingress_present(int ifindex);

#endif /* NT_QDISC_H */
