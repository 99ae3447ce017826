// SPDX-License-Identifier: GPL-2.0
/* Reading and writing the pinned maps by path, with or without a program loaded. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nt_bpf.h"

static int open_pinned(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int nt_maps_open(struct nt_maps *m, const char *pin_dir)
{
	m->mappings_fd = m->mappings4_fd = m->config_fd = m->stats_fd = m->groups_fd =
		m->egress_fd = -1;
	m->turn_chans_fd = m->turn_peers_fd = -1;
	m->group_stats_fd = -1;
	m->mappings_fd = open_pinned(pin_dir, NT_MAP_MAPPINGS);
	if (m->mappings_fd < 0)
		goto fail;
	/* optional: pins of a version that kept IPv4 senders in nt_mappings */
	m->mappings4_fd = open_pinned(pin_dir, NT_MAP_MAPPINGS4);
	if (m->mappings4_fd < 0)
		m->mappings4_fd = -1;
	m->config_fd = open_pinned(pin_dir, NT_MAP_CONFIG);
	if (m->config_fd < 0)
		goto fail;
	m->stats_fd = open_pinned(pin_dir, NT_MAP_STATS);
	if (m->stats_fd < 0)
		goto fail;
	m->groups_fd = open_pinned(pin_dir, NT_MAP_GROUPS);
	if (m->groups_fd < 0)
		goto fail;
	/* optional: only the daemon writes it, and tools must work with older pins */
	m->egress_fd = open_pinned(pin_dir, NT_MAP_EGRESS);
	if (m->egress_fd < 0)
		m->egress_fd = -1;
	m->turn_chans_fd = open_pinned(pin_dir, NT_MAP_TURN_CHANS);
	if (m->turn_chans_fd < 0)
		m->turn_chans_fd = -1;
	m->turn_peers_fd = open_pinned(pin_dir, NT_MAP_TURN_PEERS);
	if (m->turn_peers_fd < 0)
		m->turn_peers_fd = -1;
	/* optional too: pinned by versions that count fan-out per CPU */
	m->group_stats_fd = open_pinned(pin_dir, NT_MAP_GROUP_STATS);
	if (m->group_stats_fd < 0)
		m->group_stats_fd = -1;
	return 0;
fail: {
	int err = m->mappings_fd < 0 ? m->mappings_fd :
		  m->config_fd < 0   ? m->config_fd :
		  m->stats_fd < 0    ? m->stats_fd :
				       m->groups_fd;
	nt_maps_close(m);
	return err;
}
}

void nt_maps_close(struct nt_maps *m)
{
	int *fds[] = { &m->mappings_fd, &m->mappings4_fd, &m->config_fd, &m->stats_fd, &m->groups_fd,
		       &m->egress_fd, &m->turn_chans_fd, &m->turn_peers_fd, &m->group_stats_fd };

	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int ret_errno(int rc)
{
	return rc < 0 ? -errno : 0;
}

static const __u8 v4_prefix[12] = { [10] = 0xff, [11] = 0xff };

int nt_key4_from_endpoint(const struct nt_endpoint *src, struct nt_key4 *k)
{
	if (src->family != NT_FAMILY_V4 || memcmp(src->addr, v4_prefix, sizeof(v4_prefix)))
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, &src->addr[12], 4);
	k->port = src->port;
	return 0;
}

void nt_key4_to_endpoint(const struct nt_key4 *k, struct nt_endpoint *src)
{
	memset(src, 0, sizeof(*src));
	memcpy(src->addr, v4_prefix, sizeof(v4_prefix));
	memcpy(&src->addr[12], k->addr, 4);
	src->port = k->port;
	src->family = NT_FAMILY_V4;
}

/* The map and key of src: NT_MAP_MAPPINGS4 for IPv4 senders when it is there. */
static int key_of(const struct nt_maps *m, const struct nt_endpoint *src, struct nt_key4 *k4,
		  const void **key)
{
	int err;

	if (src->family != NT_FAMILY_V4 || m->mappings4_fd < 0) {
		*key = src;
		return m->mappings_fd;
	}
	err = nt_key4_from_endpoint(src, k4);
	if (err)
		return err;
	*key = k4;
	return m->mappings4_fd;
}

int nt_maps_put_mapping(const struct nt_maps *m, const struct nt_endpoint *src,
			const struct nt_mapping *val)
{
	struct nt_key4 k4;
	const void *key;
	int fd;

	if (src->pad || (src->family != NT_FAMILY_V4 && src->family != NT_FAMILY_V6))
		return -EINVAL;
	fd = key_of(m, src, &k4, &key);
	if (fd < 0)
		return fd;
	return ret_errno(bpf_map_update_elem(fd, key, val, BPF_ANY));
}

int nt_maps_get_mapping(const struct nt_maps *m, const struct nt_endpoint *src,
			struct nt_mapping *val)
{
	struct nt_key4 k4;
	const void *key;
	int fd = key_of(m, src, &k4, &key);

	/* not an endpoint any map could hold: none */
	if (fd < 0)
		return -ENOENT;
	return ret_errno(bpf_map_lookup_elem(fd, key, val));
}

int nt_maps_del_mapping(const struct nt_maps *m, const struct nt_endpoint *src)
{
	struct nt_key4 k4;
	const void *key;
	int fd = key_of(m, src, &k4, &key);

	if (fd < 0)
		return -ENOENT;
	return ret_errno(bpf_map_delete_elem(fd, key));
}

static int for_each_v4(const struct nt_maps *m, nt_mapping_fn fn, void *arg)
{
	struct nt_key4 key, next;
	struct nt_endpoint src;
	struct nt_mapping val;
	void *prev = NULL;
	int rc;

	while (bpf_map_get_next_key(m->mappings4_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->mappings4_fd, &key, &val) < 0)
			continue; /* deleted meanwhile */
		nt_key4_to_endpoint(&key, &src);
		rc = fn(&src, &val, arg);
		if (rc)
			return rc;
	}
	return errno == ENOENT ? 0 : -errno;
}

int nt_maps_for_each_mapping(const struct nt_maps *m, nt_mapping_fn fn, void *arg)
{
	struct nt_endpoint key, next;
	struct nt_mapping val;
	void *prev = NULL;
	int rc;

	if (m->mappings4_fd >= 0) {
		rc = for_each_v4(m, fn, arg);
		if (rc)
			return rc;
	}
	while (bpf_map_get_next_key(m->mappings_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		/* an older version's copy, left until the upgrade's swap: not the mapping */
		if (m->mappings4_fd >= 0 && key.family == NT_FAMILY_V4)
			continue;
		if (bpf_map_lookup_elem(m->mappings_fd, &key, &val) < 0)
			continue; /* deleted meanwhile */
		rc = fn(&key, &val, arg);
		if (rc)
			return rc;
	}
	return errno == ENOENT ? 0 : -errno;
}

int nt_maps_set_config(const struct nt_maps *m, const struct nt_config *cfg)
{
	__u32 zero = 0;

	return ret_errno(bpf_map_update_elem(m->config_fd, &zero, cfg, BPF_ANY));
}

int nt_maps_get_config(const struct nt_maps *m, struct nt_config *cfg)
{
	__u32 zero = 0;

	return ret_errno(bpf_map_lookup_elem(m->config_fd, &zero, cfg));
}

/* The per-CPU counters are folded into g: they must not count twice. */
static void del_group_stats(const struct nt_maps *m, __u32 group_id)
{
	if (m->group_stats_fd >= 0)
		bpf_map_delete_elem(m->group_stats_fd, &group_id);
}

int nt_maps_put_group(const struct nt_maps *m, __u32 group_id, const struct nt_fanout_group *g)
{
	if (g->n_members > NT_GROUP_MAX_MEMBERS)
		return -E2BIG;
	if (bpf_map_update_elem(m->groups_fd, &group_id, g, BPF_ANY) < 0)
		return -errno;
	del_group_stats(m, group_id);
	return 0;
}

int nt_maps_add_group_stats(const struct nt_maps *m, __u32 group_id, struct nt_fanout_group *g)
{
	struct nt_group_stats *v;
	int ncpu, err = 0;

	if (m->group_stats_fd < 0)
		return 0;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	/* a per-CPU value is one slot per possible CPU, each padded to 8 bytes: this one is */
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->group_stats_fd, &group_id, v) < 0) {
		err = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	for (int c = 0; c < ncpu; c++) {
		g->packets_in += v[c].packets_in;
		g->copies_out += v[c].copies_out;
		g->bytes_out += v[c].bytes_out;
		for (int i = 0; i < NT_GROUP_MAX_MEMBERS; i++)
			g->delivered[i] += v[c].delivered[i];
	}
out:
	free(v);
	return err;
}

int nt_maps_get_group(const struct nt_maps *m, __u32 group_id, struct nt_fanout_group *g)
{
	if (bpf_map_lookup_elem(m->groups_fd, &group_id, g) < 0)
		return -errno;
	return nt_maps_add_group_stats(m, group_id, g);
}

int nt_maps_del_group(const struct nt_maps *m, __u32 group_id)
{
	if (bpf_map_delete_elem(m->groups_fd, &group_id) < 0)
		return -errno;
	del_group_stats(m, group_id);
	return 0;
}

int nt_maps_put_egress(const struct nt_maps *m, __u32 ifindex)
{
	if (m->egress_fd < 0)
		return -EOPNOTSUPP;
	return ret_errno(bpf_map_update_elem(m->egress_fd, &ifindex, &ifindex, BPF_ANY));
}

int nt_maps_del_egress(const struct nt_maps *m, __u32 ifindex)
{
	if (m->egress_fd < 0)
		return -EOPNOTSUPP;
	return ret_errno(bpf_map_delete_elem(m->egress_fd, &ifindex));
}

int nt_maps_read_stats(const struct nt_maps *m, struct nt_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nt_stats *percpu;
	__u32 zero = 0;

	if (ncpu < 0)
		return ncpu;
	/* per-CPU values are 8-byte aligned: struct nt_stats is a multiple of 8 */
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->stats_fd, &zero, percpu) < 0) {
		int err = -errno;

		free(percpu);
		return err;
	}
	for (__u32 k = 0; k < NT_STAT_MAX; k++) {
		out[k].packets = out[k].bytes = 0;
		for (int c = 0; c < ncpu; c++) {
			/* struct nt_stats is an array of counters in enum nt_stat's order */
			const struct nt_counter *cpu = (const struct nt_counter *)&percpu[c];

			out[k].packets += cpu[k].packets;
			out[k].bytes += cpu[k].bytes;
		}
	}
	free(percpu);
	return 0;
}
