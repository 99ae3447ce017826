/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pinned maps of another layout carried over to the layout being loaded
 * (nt_bpf_migrate.c says how). Used by the loader around bpf_object__load.
 */
#ifndef NT_BPF_MIGRATE_H
#define NT_BPF_MIGRATE_H

#include <bpf/libbpf.h>
#include "nt_bpf.h"

struct nt_migration;

/*
 * Before load: give each pinned map of obj whose pin has another layout a
 * temporary pin path, so load creates a new map beside the old one.
 */
int nt_migrate_prepare(struct bpf_object *obj, struct nt_migration **out);
/* After load: copy the old entries into the new maps, rename their pins over the old. */
int nt_migrate_finish(struct nt_migration *mig);
/*
 * Convert one value of BTF type oid of ob (old_size bytes) into type nid of
 * nb (new_size bytes): members matched by name, arrays by index, the rest
 * zero. Without BTF (ob or nb NULL) only a value of the same size converts.
 * -EPROTO when the layout cannot be read.
 */
int nt_migrate_value(const struct btf *ob, __u32 oid, const void *old, __u32 old_size,
		     const struct btf *nb, __u32 nid, void *out, __u32 new_size);
/*
 * After nt_migrate_finish: copy the IPv4 senders' mappings that a version
 * without NT_MAP_MAPPINGS4 kept in NT_MAP_MAPPINGS (fd v6_fd) into it
 * (v4_fd); an entry already in v4_fd is newer and stays. *keys (*n of them,
 * the caller frees) gets the keys copied, for nt_migrate_mappings4_drop once
 * the old program, which may still read them there, is replaced.
 */
int nt_migrate_mappings4(int v6_fd, int v4_fd, struct nt_endpoint **keys, size_t *n);
/* Delete the n copied keys from v6_fd. */
int nt_migrate_mappings4_drop(int v6_fd, const struct nt_endpoint *keys, size_t n);
/* Drop the old maps' fds and any temporary pin not yet renamed into place. */
void nt_migrate_free(struct nt_migration *mig);

#endif /* NT_BPF_MIGRATE_H */
