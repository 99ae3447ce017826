/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Why loading the BPF object failed, in words an operator can act on: the
 * verifier's reason, the capabilities the process lacks, or maps of another
 * layout pinned by another version, only when that really is the cause.
 */
#ifndef NT_BPF_WHY_H
#define NT_BPF_WHY_H

#include <stddef.h>
#include <stdint.h>

/* What loading and attaching need, as systemd's CapabilityBoundingSet= spells them. */
#define NT_BPF_CAPS_NEEDED "CAP_BPF CAP_PERFMON CAP_NET_ADMIN"

/*
 * The verifier's reason for refusing a program: the last line of its log
 * that is neither an instruction, a source line nor a statistics line.
 * 0, or -ENOENT when the log holds no reason (empty, or no verifier run).
 */
int nt_bpf_verifier_reason(const char *log, char *out, size_t len);

/*
 * The needed capabilities missing from the effective set eff (bit n is
 * capability n), space separated into out; CAP_SYS_ADMIN stands in for
 * CAP_BPF and CAP_PERFMON as the kernel lets it. Returns how many are missing.
 */
int nt_bpf_caps_missing(uint64_t eff, char *out, size_t len);

/* This process's effective capability set; 0 or -errno. */
int nt_bpf_caps_effective(uint64_t *eff);

/*
 * Log why nt_xdp_load failed with err: verifier_log is the kernel's log of
 * the program load, libbpf_log libbpf's warnings (either may be empty).
 * Returns -EPERM when capabilities are missing (a restart cannot help), else err.
 */
int nt_bpf_load_explain(int err, const char *verifier_log, const char *libbpf_log,
			const char *pin_dir);

#endif /* NT_BPF_WHY_H */
