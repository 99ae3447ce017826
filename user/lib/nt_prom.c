// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include "nt_prom.h"

void nt_prom_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static int count_fds(uint64_t *n)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	if (!dir)
		return -errno;
	*n = 0;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			(*n)++;
	closedir(dir);
	(*n)--; /* the directory's own descriptor */
	return 0;
}

/* Seconds since boot of the process' start, from field 22 of /proc/self/stat. */
static int start_since_boot(double *out)
{
	char buf[1024], *p;
	unsigned long long ticks;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "re");

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: count after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* after ")": state is field 3, starttime field 22 */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ticks) != 1)
		return -EINVAL;
	*out = (double)ticks / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

int nt_proc_stats_read(struct nt_proc_stats *ps)
{
	struct rusage ru;
	struct rlimit rl;
	struct timespec real, boot;
	unsigned long long pages_v, pages_rss;
	long page = sysconf(_SC_PAGESIZE);
	double since_boot = 0;
	FILE *f;
	int err;

	memset(ps, 0, sizeof(*ps));
	if (getrusage(RUSAGE_SELF, &ru))
		return -errno;
	ps->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		ps->max_fds = rl.rlim_cur;
	err = count_fds(&ps->open_fds);
	if (err)
		return err;
	f = fopen("/proc/self/statm", "re");
	if (!f)
		return -errno;
	err = fscanf(f, "%llu %llu", &pages_v, &pages_rss) == 2 ? 0 : -EINVAL;
	fclose(f);
	if (err)
		return err;
	ps->vsize_bytes = pages_v * (uint64_t)page;
	ps->rss_bytes = pages_rss * (uint64_t)page;
	err = start_since_boot(&since_boot);
	if (err)
		return err;
	/* boot time in Unix seconds: now (real) - now (since boot) */
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	ps->start_time_s = (double)real.tv_sec - (double)boot.tv_sec +
			   ((double)real.tv_nsec - (double)boot.tv_nsec) / 1e9 + since_boot;
	return 0;
}

void nt_prom_process(FILE *f, const struct nt_proc_stats *ps)
{
	fprintf(f, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
		   "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n",
		ps->cpu_seconds);
	fprintf(f, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		   "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
		(unsigned long long)ps->rss_bytes);
	fprintf(f, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
		   "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n",
		(unsigned long long)ps->vsize_bytes);
	fprintf(f, "# HELP process_open_fds Number of open file descriptors.\n"
		   "# TYPE process_open_fds gauge\nprocess_open_fds %llu\n",
		(unsigned long long)ps->open_fds);
	fprintf(f, "# HELP process_max_fds Maximum number of open file descriptors.\n"
		   "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
		(unsigned long long)ps->max_fds);
	fprintf(f, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
		   "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
		ps->start_time_s);
}
