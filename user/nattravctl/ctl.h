/* SPDX-License-Identifier: GPL-2.0 */
/* nattravctl: shared options and the subcommands. */
#ifndef NT_CTL_H
#define NT_CTL_H

#include <stdbool.h>
#include "nt_bpf.h"

/* Exit codes: 0 ok, 1 the operation failed, 2 bad usage. */
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

struct ctl {
	const char *pin_dir;
	bool json;
};

int ctl_attach(struct ctl *ctl, int argc, char **argv);
int ctl_detach(struct ctl *ctl, int argc, char **argv);
int ctl_map(struct ctl *ctl, int argc, char **argv);
int ctl_mappings(struct ctl *ctl, int argc, char **argv);
int ctl_stats(struct ctl *ctl, int argc, char **argv);
int ctl_config(struct ctl *ctl, int argc, char **argv);
int ctl_token(struct ctl *ctl, int argc, char **argv);
int ctl_group(struct ctl *ctl, int argc, char **argv);
int ctl_groups(struct ctl *ctl, int argc, char **argv);

/* Open the pinned maps or say clearly why not; CTL_EXIT_FAIL on failure. */
int ctl_open_maps(const struct ctl *ctl, struct nt_maps *m);
/* Print "nattravctl: <msg>" to stderr and return code. */
int ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NT_CTL_H */
