// SPDX-License-Identifier: GPL-2.0
/*
 * XDP_PASS and nothing else. A veth delivers XDP_TX / redirected frames only
 * when its peer has an XDP program too: the test topologies attach this one
 * to the far end of the relay's links.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int nt_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
