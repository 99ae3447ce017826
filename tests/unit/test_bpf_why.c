// SPDX-License-Identifier: GPL-2.0
/* nt_bpf_why: the verifier's reason out of its log, the capabilities missing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <linux/capability.h>

#include "nt_bpf_why.h"

#define BIT(c) (1ull << (c))
#define CAP_PERFMON_ 38
#define CAP_BPF_ 39

/* The tail of a real log: nattrav.bpf.c loaded with CAP_BPF but no CAP_PERFMON. */
static const char refused[] =
	"0: R1=ctx() R10=fp0\n"
	"; int nt_xdp(struct xdp_md *ctx) @ nattrav.bpf.c:329\n"
	"1069: (57) r2 &= 60                   ; R2=scalar(smin=smin32=0,smax=umax=60)\n"
	"; if (c->pos + len > c->end) @ nt_parse.h:75\n"
	"1070: (bf) r5 = r9                    ; R5=pkt(off=18,r=38) R9=pkt(off=18,r=38)\n"
	"1071: (0f) r5 += r2\n"
	"R5 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root\n"
	"processed 107 insns (limit 1000000) max_states_per_insn 0 total_states 10 peak_states 10 mark_read 0\n";

Test(bpf_why, reason_is_the_last_line_not_an_instruction_or_statistics)
{
	char out[256];

	cr_assert_eq(nt_bpf_verifier_reason(refused, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "R5 has pointer with unsupported alu operation, pointer arithmetic "
			      "with it prohibited for !root");
}

Test(bpf_why, reason_with_stack_and_time_lines_and_no_final_newline)
{
	char out[64];

	cr_assert_eq(nt_bpf_verifier_reason("5: (85) call bpf_foo#999\n"
					    "invalid func unknown#999\n"
					    "verification time 12 usec\n"
					    "stack depth 0\n"
					    "processed 6 insns",
					    out, sizeof(out)),
		     0);
	cr_assert_str_eq(out, "invalid func unknown#999");
}

Test(bpf_why, reason_cut_to_the_buffer)
{
	char out[8];

	cr_assert_eq(nt_bpf_verifier_reason(refused, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "R5 has ");
}

Test(bpf_why, no_reason_in_an_empty_or_instruction_only_log)
{
	char out[64] = "x";

	cr_assert_eq(nt_bpf_verifier_reason("", out, sizeof(out)), -ENOENT);
	cr_assert_str_eq(out, "");
	cr_assert_eq(nt_bpf_verifier_reason("0: (b7) r0 = 2\n1: (95) exit\n\n", out, sizeof(out)),
		     -ENOENT);
	cr_assert_eq(nt_bpf_verifier_reason("x", out, 0), -EINVAL);
}

Test(bpf_why, the_unit_set_lacks_nothing)
{
	char out[64];

	cr_assert_eq(nt_bpf_caps_missing(BIT(CAP_BPF_) | BIT(CAP_PERFMON_) | BIT(CAP_NET_ADMIN),
					 out, sizeof(out)),
		     0);
	cr_assert_str_eq(out, "");
}

Test(bpf_why, each_missing_capability_is_named)
{
	char out[64];

	cr_assert_eq(nt_bpf_caps_missing(BIT(CAP_BPF_) | BIT(CAP_NET_ADMIN), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "CAP_PERFMON");
	cr_assert_eq(nt_bpf_caps_missing(BIT(CAP_PERFMON_) | BIT(CAP_NET_ADMIN), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "CAP_BPF");
	cr_assert_eq(nt_bpf_caps_missing(BIT(CAP_NET_BIND_SERVICE), out, sizeof(out)), 3);
	cr_assert_str_eq(out, "CAP_BPF CAP_PERFMON CAP_NET_ADMIN");
}

Test(bpf_why, sys_admin_stands_in_for_bpf_and_perfmon_not_net_admin)
{
	char out[64];

	cr_assert_eq(nt_bpf_caps_missing(BIT(CAP_SYS_ADMIN), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "CAP_NET_ADMIN");
	cr_assert_eq(nt_bpf_caps_missing(BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_ADMIN), out, sizeof(out)),
		     0);
}

Test(bpf_why, short_buffer_is_cut_not_overrun)
{
	char out[6];

	cr_assert_eq(nt_bpf_caps_missing(0, out, sizeof(out)), 3);
	cr_assert_str_eq(out, "CAP_B");
}
