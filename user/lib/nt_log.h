/* SPDX-License-Identifier: GPL-2.0 */
/* Leveled logging to stderr, one line per event; libbpf's output goes through it. */
#ifndef NT_LOG_H
#define NT_LOG_H

#include <stddef.h>

enum nt_log_level { NT_LOG_ERROR, NT_LOG_WARN, NT_LOG_INFO, NT_LOG_DEBUG };

void nt_log_set_level(enum nt_log_level level);
enum nt_log_level nt_log_get_level(void);
/* "error", "warn", "info", "debug" -> level; -EINVAL for anything else. */
int nt_log_parse_level(const char *s);
/* Route libbpf's messages here; its debug chatter only at NT_LOG_DEBUG. */
void nt_log_hook_libbpf(void);
/*
 * Also copy libbpf's warnings into buf (NUL-terminated, as many as fit) from
 * now on, for a caller that must say what went wrong; (NULL, 0) stops it.
 */
void nt_log_libbpf_keep(char *buf, size_t len);

/*
 * Look again at where stderr goes (journald or not) at the next line;
 * for a process that has just redirected stderr.
 */
void nt_log_redetect(void);

void nt_log(enum nt_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define nt_err(...) nt_log(NT_LOG_ERROR, __VA_ARGS__)
#define nt_warn(...) nt_log(NT_LOG_WARN, __VA_ARGS__)
#define nt_info(...) nt_log(NT_LOG_INFO, __VA_ARGS__)
#define nt_dbg(...) nt_log(NT_LOG_DEBUG, __VA_ARGS__)

#endif /* NT_LOG_H */
