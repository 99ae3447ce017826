// SPDX-License-Identifier: GPL-2.0
/* Why loading the BPF object failed: verifier reason, capabilities, pins. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "nt_bpf_why.h"
#include "nt_log.h"

/* older uapi headers lack the 5.8 split of CAP_SYS_ADMIN */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Verifier lines that are not the reason: "12: (bf) r1 = r6", "; src", stats. */
static bool is_noise(const char *s, size_t n)
{
	static const char *const stats[] = { "processed ", "verification time", "stack depth",
					     "-- END PROG LOAD LOG", "-- BEGIN PROG LOAD LOG" };
	size_t i = 0;

	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n || s[0] == ';')
		return true;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	if (i && i < n && s[i] == ':')
		return true;
	for (size_t k = 0; k < sizeof(stats) / sizeof(stats[0]); k++)
		if (n >= strlen(stats[k]) && !strncmp(s, stats[k], strlen(stats[k])))
			return true;
	return false;
}

int nt_bpf_verifier_reason(const char *log, char *out, size_t len)
{
	const char *best = NULL, *p = log;
	size_t best_n = 0;

	if (!len)
		return -EINVAL;
	out[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (!is_noise(p, n)) {
			best = p;
			best_n = n;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!best)
		return -ENOENT;
	while (best_n && isspace((unsigned char)best[best_n - 1]))
		best_n--;
	snprintf(out, len, "%.*s", (int)best_n, best);
	return 0;
}

int nt_bpf_caps_missing(uint64_t eff, char *out, size_t len)
{
	static const struct {
		int cap;
		const char *name;
		bool sys_admin_will_do;
	} need[] = {
		{ CAP_BPF, "CAP_BPF", true },
		{ CAP_PERFMON, "CAP_PERFMON", true },
		/* attaching XDP and TC over netlink takes CAP_NET_ADMIN itself */
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN", false },
	};
	bool sys_admin = eff & (1ull << CAP_SYS_ADMIN);
	size_t used = 0;
	int missing = 0;

	if (len)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (eff & (1ull << need[i].cap) || (sys_admin && need[i].sys_admin_will_do))
			continue;
		missing++;
		if (used < len) {
			int n = snprintf(out + used, len - used, "%s%s", used ? " " : "", need[i].name);

			used += n > 0 ? (size_t)n : 0;
		}
	}
	return missing;
}

int nt_bpf_caps_effective(uint64_t *eff)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	*eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	return 0;
}

int nt_bpf_load_explain(int err, const char *verifier_log, const char *libbpf_log,
			const char *pin_dir)
{
	char reason[512], missing[64];
	uint64_t eff = 0;
	int nmissing = 0;

	if (!nt_bpf_caps_effective(&eff))
		nmissing = nt_bpf_caps_missing(eff, missing, sizeof(missing));
	if (verifier_log && !nt_bpf_verifier_reason(verifier_log, reason, sizeof(reason)))
		nt_err("cannot load the XDP program: the verifier refused it: %s", reason);
	else
		nt_err("cannot load the XDP program: %s", strerror(-err));
	if (nmissing) {
		nt_err("the process lacks %s; loading and attaching need %s (the systemd unit grants them)",
		       missing, NT_BPF_CAPS_NEEDED);
		return -EPERM;
	}
	if (!libbpf_log)
		return err;
	/* libbpf refused to reuse a pin whose type, sizes or flags differ */
	if (strstr(libbpf_log, "couldn't reuse pinned map"))
		nt_err("maps of another layout pinned under %s, by another version: "
		       "'nattravctl --pin-dir %s detach --iface IF --purge' removes them",
		       pin_dir, pin_dir);
	else if (strstr(libbpf_log, "couldn't retrieve pinned map") && (err == -EACCES || err == -EPERM))
		nt_err("the maps pinned under %s are not open to uid %d: they belong to another user "
		       "(chown -R the folder to the daemon's user)",
		       pin_dir, (int)geteuid());
	return err;
}
