/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pieces of the Prometheus text format (0.0.4) that need care: label values
 * escaped as the format says, and the process_* metrics every exporter is
 * expected to publish, read from /proc/self.
 */
#ifndef NT_PROM_H
#define NT_PROM_H

#include <stdint.h>
#include <stdio.h>

/* Write s as a label value's body: \ " and newline escaped, nothing else changed. */
void nt_prom_escape(FILE *f, const char *s);

struct nt_proc_stats {
	double cpu_seconds;	/* user + system */
	uint64_t rss_bytes, vsize_bytes;
	uint64_t open_fds, max_fds;
	double start_time_s;	/* Unix time the process started */
};

/* Read the calling process' figures; 0 or -errno (fields read so far stay set). */
int nt_proc_stats_read(struct nt_proc_stats *ps);

/* HELP/TYPE lines and samples of the process_* family from ps. */
void nt_prom_process(FILE *f, const struct nt_proc_stats *ps);

#endif /* NT_PROM_H */
