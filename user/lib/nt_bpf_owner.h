/* SPDX-License-Identifier: GPL-2.0 */
/* Telling nattrav's programs on an interface from those of someone else. */
#ifndef NT_BPF_OWNER_H
#define NT_BPF_OWNER_H

#include "nt_bpf.h"

/* Program names (the kernel keeps 15 characters) of bpf/nattrav.bpf.c. */
#define NT_PROG_XDP "nt_xdp"
#define NT_PROG_TC "nt_tc_fanout"

/* Describe program id; ours when named ours and using a map named nt_mappings. */
int nt_prog_describe(__u32 id, const char *ours, struct nt_prog_desc *d);
/* The program id of the TC filter at nattrav's handle and priority; 0 when none. */
int nt_tc_prog_id(int ifindex, __u32 *id);

#endif /* NT_BPF_OWNER_H */
