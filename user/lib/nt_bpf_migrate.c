// SPDX-License-Identifier: GPL-2.0
/*
 * Pinned maps of another layout, carried over to the layout of the program
 * being loaded instead of refused: an upgrade keeps the relay's mappings.
 *
 * Before load, each pinned map whose pin differs from the object's
 * definition (type, sizes, entries, flags, or the BTF layout of key and
 * value) gets a temporary pin path, so libbpf creates a fresh map there.
 * After load, the old entries are copied into it, converted member by
 * member by name through both maps' BTF (a member that is new is zero, one
 * that went is dropped, an array that grew or shrank keeps its common
 * elements), and the new pin is renamed over the old one. The old program
 * keeps running on the old map until the caller swaps the program; what it
 * writes meanwhile (counters, last_seen, cached routes) is lost, the
 * mappings themselves are not: only nattravd and nattravctl write those.
 *
 * A member keeps its name when only its meaning changed, and its type
 * says how to convert it: one typedef'd __be16 or __be32 before and not
 * after (or after and not before) changes byte order (nt_endpoint.port,
 * nt_config.media_port went from network to host order); one typedef'd
 * nt_boottime_ns after and not before moved from CLOCK_MONOTONIC to
 * CLOCK_BOOTTIME (the maps' times), and gets the difference of the two
 * clocks added (0 and NT_ROUTE_DAEMON, which are no times, stay). Keys
 * convert too, when only such conversions tell old from new. An array map
 * of N values of a struct that became one value holding one member of that
 * struct per former index (nt_stats: a named counter per reason) is folded
 * into it.
 *
 * A map whose layout cannot be read (no BTF on the pinned map, a key
 * changed otherwise, per-CPU changed) is left alone: libbpf then refuses it
 * and the loader's error says how to clear it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "nt_bpf_migrate.h"
#include "nt_log.h"

#define NT_MIGRATE_MAX_VALUE (1u << 20) /* bigger values than any of ours: refuse */

/* What one range of the plan does to the bytes it copies. */
enum nt_op {
	NT_OP_COPY,
	NT_OP_SWAP,       /* network <-> host byte order: 2 or 4 bytes */
	NT_OP_TO_BOOT,    /* a CLOCK_MONOTONIC time becomes CLOCK_BOOTTIME */
	NT_OP_FROM_BOOT,  /* and back (a downgrade) */
};

struct nt_copy {
	__u32 src, dst, len, op;
};

/* How old values become new ones: byte ranges copied (or converted), the rest zero. */
struct nt_plan {
	struct nt_copy *ops;
	size_t n, cap;
	int err;
	__u64 clock_delta; /* CLOCK_BOOTTIME - CLOCK_MONOTONIC when the plan was made */
};

struct nt_mig_map {
	struct bpf_map *map;
	int old_fd;
	char path[PATH_MAX];
	char tmp[PATH_MAX + 16];
	struct nt_plan plan;
	struct nt_plan key_plan; /* n 0: keys copied as they are */
	struct nt_plan *fold;    /* an array folded into entry 0: one plan per old index */
	__u32 nfold;
	__u32 key_size, old_vs, new_vs;
	bool percpu;
};

struct nt_migration {
	struct nt_mig_map *maps;
	size_t n;
};

static void plan_add_op(struct nt_plan *p, __u32 src, __u32 dst, __u32 len, enum nt_op op)
{
	struct nt_copy *last = p->n ? &p->ops[p->n - 1] : NULL;

	if (!len || p->err)
		return;
	/* adjacent copies merge: a struct that did not move is one copy */
	if (op == NT_OP_COPY && last && last->op == NT_OP_COPY && last->src + last->len == src &&
	    last->dst + last->len == dst) {
		last->len += len;
		return;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct nt_copy *ops = realloc(p->ops, cap * sizeof(*ops));

		if (!ops) {
			p->err = -ENOMEM;
			return;
		}
		p->ops = ops;
		p->cap = cap;
	}
	p->ops[p->n++] = (struct nt_copy){ src, dst, len, op };
}

static void plan_add(struct nt_plan *p, __u32 src, __u32 dst, __u32 len)
{
	plan_add_op(p, src, dst, len, NT_OP_COPY);
}

static __u64 ts_ns(const struct timespec *t)
{
	return (__u64)t->tv_sec * 1000000000ull + (__u64)t->tv_nsec;
}

/* The time the machine spent suspended: what CLOCK_BOOTTIME is ahead by. */
static __u64 boot_minus_mono(void)
{
	struct timespec m0, b, m1;
	__u64 m;

	/* the boot clock read between two monotonic readings: off by half their gap */
	clock_gettime(CLOCK_MONOTONIC, &m0);
	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	m = ts_ns(&m0) + (ts_ns(&m1) - ts_ns(&m0)) / 2;
	return ts_ns(&b) > m ? ts_ns(&b) - m : 0;
}

/* The name of the typedef that type id is (through const and volatile), or "". */
static const char *typedef_name(const struct btf *btf, __u32 id)
{
	for (int i = 0; i < 8; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!t)
			break;
		if (btf_is_typedef(t)) {
			name = btf__name_by_offset(btf, t->name_off);
			return name ? name : "";
		}
		if (!btf_is_const(t) && !btf_is_volatile(t))
			break;
		id = t->type;
	}
	return "";
}

static bool is_be(const char *name)
{
	return !strcmp(name, "__be16") || !strcmp(name, "__be32");
}

/* How a scalar of old typedef on and new typedef nn, size bytes, converts. */
static enum nt_op scalar_op(const char *on, const char *nn, __s64 size)
{
	bool ob = !strcmp(on, NT_BOOTTIME_TYPEDEF), nb = !strcmp(nn, NT_BOOTTIME_TYPEDEF);

	if (is_be(on) != is_be(nn) && (size == 2 || size == 4))
		return NT_OP_SWAP;
	if (ob != nb && size == 8)
		return nb ? NT_OP_TO_BOOT : NT_OP_FROM_BOOT;
	return NT_OP_COPY;
}

static const struct btf_type *resolved(const struct btf *btf, __u32 *id)
{
	int r = btf__resolve_type(btf, *id);

	if (r < 0)
		return NULL;
	*id = (__u32)r;
	return btf__type_by_id(btf, *id);
}

static bool has_bitfields(const struct btf_type *t)
{
	for (__u16 i = 0; i < btf_vlen(t); i++)
		if (btf_member_bitfield_size(t, i) || btf_member_bit_offset(t, i) % 8)
			return true;
	return false;
}

/*
 * Plan the copy of old type oid at src into new type nid at dst. Structs
 * match members by name, arrays by index; anything else is copied when kind
 * and size are the same and left zero otherwise (a member whose type changed
 * needs a new name, or a migration of its own).
 */
static void plan_type(struct nt_plan *p, const struct btf *ob, __u32 oid, __u32 src,
		      const struct btf *nb, __u32 nid, __u32 dst, int depth)
{
	const char *on = typedef_name(ob, oid), *nn = typedef_name(nb, nid);
	const struct btf_type *o = resolved(ob, &oid), *n = resolved(nb, &nid);
	__s64 os, ns;

	if (!o || !n || depth > 16) {
		p->err = -EINVAL;
		return;
	}
	if (btf_is_struct(o) && btf_is_struct(n) && !has_bitfields(o) && !has_bitfields(n)) {
		const struct btf_member *nm = btf_members(n);

		for (__u16 i = 0; i < btf_vlen(n); i++) {
			const char *name = btf__name_by_offset(nb, nm[i].name_off);
			const struct btf_member *om = btf_members(o);

			if (!name || !*name)
				continue;
			for (__u16 j = 0; j < btf_vlen(o); j++) {
				const char *oname = btf__name_by_offset(ob, om[j].name_off);

				if (oname && !strcmp(name, oname)) {
					plan_type(p, ob, om[j].type, src + btf_member_bit_offset(o, j) / 8,
						  nb, nm[i].type, dst + btf_member_bit_offset(n, i) / 8,
						  depth + 1);
					break;
				}
			}
		}
		return;
	}
	if (btf_is_array(o) && btf_is_array(n)) {
		const struct btf_array *oa = btf_array(o), *na = btf_array(n);
		__s64 oe = btf__resolve_size(ob, oa->type), ne = btf__resolve_size(nb, na->type);
		__u32 count = oa->nelems < na->nelems ? oa->nelems : na->nelems;

		if (oe <= 0 || ne <= 0) {
			p->err = -EINVAL;
			return;
		}
		for (__u32 i = 0; i < count && !p->err; i++)
			plan_type(p, ob, oa->type, src + i * (__u32)oe, nb, na->type,
				  dst + i * (__u32)ne, depth + 1);
		return;
	}
	os = btf__resolve_size(ob, oid);
	ns = btf__resolve_size(nb, nid);
	if (os > 0 && os == ns && btf_kind(o) == btf_kind(n))
		plan_add_op(p, src, dst, (__u32)os,
			    btf_is_int(o) ? scalar_op(on, nn, os) : NT_OP_COPY);
}


/*
 * Is the old layout the new one? Its plan is then the plan of the new type
 * onto itself (every named byte in place; holes between members, if any,
 * are in both).
 */
static bool plan_is_identity(const struct nt_plan *p, const struct btf *nb, __u32 nid,
			     __u32 old_size, __u32 new_size)
{
	struct nt_plan self = { 0 };
	bool same;

	if (old_size != new_size)
		return false;
	if (nb && nid)
		plan_type(&self, nb, nid, 0, nb, nid, 0, 0);
	else
		plan_add(&self, 0, 0, new_size);
	same = !self.err && self.n == p->n && !memcmp(self.ops, p->ops, p->n * sizeof(*p->ops));
	free(self.ops);
	return same;
}

/* Plan for the value (or key) of a pinned map; false when its layout cannot be read. */
static bool plan_build(struct nt_plan *p, const struct btf *ob, __u32 oid, __u32 os,
		       const struct btf *nb, __u32 nid, __u32 ns)
{
	memset(p, 0, sizeof(*p));
	p->clock_delta = boot_minus_mono();
	if (ob && oid && nb && nid) {
		plan_type(p, ob, oid, 0, nb, nid, 0, 0);
	} else if (os == ns) {
		plan_add(p, 0, 0, os);
	} else {
		/* no BTF on one side: only a value of the same size can be carried */
		return false;
	}
	/* BTF that does not describe the sizes the map has: not to be trusted */
	for (size_t i = 0; i < p->n && !p->err; i++)
		if ((__u64)p->ops[i].src + p->ops[i].len > os ||
		    (__u64)p->ops[i].dst + p->ops[i].len > ns)
			p->err = -EPROTO;
	return !p->err;
}

static void apply_op(const struct nt_plan *p, const struct nt_copy *c, const char *from,
		     char *to)
{
	__u64 t;
	__u32 w;
	__u16 h;

	switch (c->op) {
	case NT_OP_SWAP:
		if (c->len == 2) {
			memcpy(&h, from, 2);
			h = ntohs(h);
			memcpy(to, &h, 2);
		} else {
			memcpy(&w, from, 4);
			w = ntohl(w);
			memcpy(to, &w, 4);
		}
		return;
	case NT_OP_TO_BOOT:
	case NT_OP_FROM_BOOT:
		memcpy(&t, from, 8);
		/* no time yet, or the daemon's never-expiring next hop */
		if (t && t != NT_ROUTE_DAEMON) {
			if (c->op == NT_OP_TO_BOOT)
				t += p->clock_delta;
			else if (t > p->clock_delta)
				t -= p->clock_delta;
		}
		memcpy(to, &t, 8);
		return;
	default:
		memcpy(to, from, c->len);
	}
}

static void plan_apply(const struct nt_plan *p, const void *old, void *out)
{
	for (size_t i = 0; i < p->n; i++)
		apply_op(p, &p->ops[i], (const char *)old + p->ops[i].src,
			 (char *)out + p->ops[i].dst);
}

int nt_migrate_value(const struct btf *ob, __u32 oid, const void *old, __u32 old_size,
		     const struct btf *nb, __u32 nid, void *out, __u32 new_size)
{
	struct nt_plan p;
	int err = 0;

	if (plan_build(&p, ob, oid, old_size, nb, nid, new_size)) {
		memset(out, 0, new_size);
		plan_apply(&p, old, out);
	} else {
		err = p.err ? p.err : -EPROTO;
	}
	free(p.ops);
	return err;
}

static bool is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Entries the new layout cannot hold; the name is that of the map. */
static bool entry_fits(const char *map, const void *val)
{
	if (!strcmp(map, NT_MAP_GROUPS)) {
		const struct nt_fanout_group *g = val;

		return g->n_members <= NT_GROUP_MAX_MEMBERS;
	}
	return true;
}

/*
 * Does plan p put every byte of a key of size bytes where it was? Then the
 * keys differ at most by conversions (a byte order), one old key is one new
 * key, and the map can be carried over.
 */
static bool plan_keeps_places(const struct nt_plan *p, __u32 size)
{
	__u32 covered = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (p->ops[i].src != p->ops[i].dst)
			return false;
		covered += p->ops[i].len;
	}
	/* ranges never overlap (members of one struct): all bytes, each once */
	return covered == size;
}

static const char *struct_name(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = resolved(btf, &id);
	const char *name = t && btf_is_struct(t) ? btf__name_by_offset(btf, t->name_off) : NULL;

	return name ? name : "";
}

/*
 * An array map of struct T values indexed by a number (nt_stats by enum
 * nt_stat) that became one entry of a struct with a T member per former
 * index: mm->fold gets the plan of each old index into its member.
 * false: not such a change.
 */
static bool plan_fold(struct nt_mig_map *mm, const struct bpf_map_info *info,
		      const struct btf *ob, const struct btf *nb, const struct bpf_map *map)
{
	__u32 nid = bpf_map__btf_value_type_id(map), oid = info->btf_value_type_id;
	const char *oname = ob && oid ? struct_name(ob, oid) : "";
	const struct btf_type *n = nid ? resolved(nb, &nid) : NULL;
	const struct btf_member *m;
	__u32 nfold;

	if (!*oname || !n || !btf_is_struct(n) || !strcmp(oname, struct_name(nb, nid)) ||
	    (info->type != BPF_MAP_TYPE_ARRAY && info->type != BPF_MAP_TYPE_PERCPU_ARRAY) ||
	    info->type != bpf_map__type(map) || info->max_entries < 2 ||
	    bpf_map__max_entries(map) != 1 || !btf_vlen(n))
		return false;
	m = btf_members(n);
	for (__u16 i = 0; i < btf_vlen(n); i++)
		if (strcmp(struct_name(nb, m[i].type), oname) || btf_member_bit_offset(n, i) % 8)
			return false;
	nfold = btf_vlen(n) < info->max_entries ? btf_vlen(n) : info->max_entries;
	mm->fold = calloc(nfold, sizeof(*mm->fold));
	if (!mm->fold)
		return false;
	mm->nfold = nfold;
	for (__u32 i = 0; i < nfold; i++) {
		struct nt_plan *p = &mm->fold[i];

		p->clock_delta = boot_minus_mono();
		plan_type(p, ob, oid, 0, nb, m[i].type, btf_member_bit_offset(n, i) / 8, 0);
		for (size_t k = 0; k < p->n && !p->err; k++)
			if ((__u64)p->ops[k].src + p->ops[k].len > info->value_size ||
			    (__u64)p->ops[k].dst + p->ops[k].len > mm->new_vs)
				p->err = -EPROTO;
		if (p->err)
			return false;
	}
	return true;
}

static void fold_free(struct nt_mig_map *mm)
{
	for (__u32 i = 0; i < mm->nfold; i++)
		free(mm->fold[i].ops);
	free(mm->fold);
	mm->fold = NULL;
	mm->nfold = 0;
}

static void mm_free_plans(struct nt_mig_map *mm)
{
	fold_free(mm);
	free(mm->plan.ops);
	free(mm->key_plan.ops);
}

/*
 * Does the pinned map old_fd differ from map's definition, and can it be
 * carried over? 0: the same (libbpf reuses it), 1: to carry over (mm
 * filled), -EPROTO: it cannot be (libbpf refuses it), or another -errno.
 */
static int check_map(struct bpf_map *map, int old_fd, const struct btf *nb, struct nt_mig_map *mm)
{
	__u32 nkid = bpf_map__btf_key_type_id(map), nvid = bpf_map__btf_value_type_id(map);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct btf *ob = NULL;
	bool same, ok, key_ok, key_same;
	const char *why;
	int err = 0;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(old_fd, &info, &len))
		return -errno;
	if (info.btf_id) {
		ob = btf__load_from_kernel_by_id(info.btf_id);
		if (!ob)
			return -errno;
	}
	mm->key_size = bpf_map__key_size(map);
	mm->old_vs = info.value_size;
	mm->new_vs = bpf_map__value_size(map);
	mm->percpu = is_percpu(bpf_map__type(map));
	if (plan_fold(mm, &info, ob, nb, map)) {
		btf__free(ob);
		return info.key_size == mm->key_size && is_percpu(info.type) == mm->percpu ? 1 :
											    -EPROTO;
	}
	fold_free(mm);
	ok = plan_build(&mm->plan, ob, info.btf_value_type_id, info.value_size, nb, nvid,
			mm->new_vs);
	key_ok = info.key_size == mm->key_size &&
		 plan_build(&mm->key_plan, ob, info.btf_key_type_id, info.key_size, nb, nkid,
			    mm->key_size);
	key_same = key_ok && plan_is_identity(&mm->key_plan, nb, nkid, info.key_size, mm->key_size);
	/* a key that only converts (a port's byte order) is one key still */
	key_ok = key_same || (key_ok && plan_keeps_places(&mm->key_plan, mm->key_size));
	same = ok && key_same && info.type == bpf_map__type(map) &&
	       info.max_entries == bpf_map__max_entries(map) &&
	       info.map_flags == bpf_map__map_flags(map) &&
	       plan_is_identity(&mm->plan, nb, nvid, mm->old_vs, mm->new_vs);
	if (key_same) {
		/* keys copied as they are */
		free(mm->key_plan.ops);
		memset(&mm->key_plan, 0, sizeof(mm->key_plan));
	}
	if (!same) {
		why = !ok ? "its value has another size and no BTF that describes it" :
		      !key_ok ? "its key changed" :
		      is_percpu(info.type) != mm->percpu ? "per-CPU or not changed" :
		      mm->old_vs > NT_MIGRATE_MAX_VALUE || mm->new_vs > NT_MIGRATE_MAX_VALUE ?
							      "its value is too big" :
							      NULL;
		if (why) {
			nt_warn("pinned map %s has a layout that cannot be carried over: %s",
				bpf_map__name(map), why);
			err = -EPROTO;
		} else {
			err = 1;
		}
	}
	btf__free(ob);
	return err;
}

static void migration_add(struct nt_migration *mig, struct nt_mig_map *mm)
{
	mig->maps[mig->n++] = *mm;
}

int nt_migrate_prepare(struct bpf_object *obj, struct nt_migration **out)
{
	const struct btf *nb = bpf_object__btf(obj);
	struct nt_migration *mig;
	struct bpf_map *map;
	size_t n = 0;
	int err = 0;

	bpf_object__for_each_map(map, obj)
		n++;
	mig = calloc(1, sizeof(*mig));
	if (!mig || !(mig->maps = calloc(n ? n : 1, sizeof(*mig->maps)))) {
		free(mig);
		return -ENOMEM;
	}
	bpf_object__for_each_map(map, obj) {
		const char *path = bpf_map__pin_path(map);
		struct nt_mig_map mm;
		int fd, r;

		if (!path)
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* not pinned yet: libbpf creates and pins it */
		memset(&mm, 0, sizeof(mm));
		r = check_map(map, fd, nb, &mm);
		if (r <= 0) {
			/* the same layout (reused as is), or one libbpf will refuse */
			mm_free_plans(&mm);
			close(fd);
			continue;
		}
		mm.map = map;
		mm.old_fd = fd;
		snprintf(mm.path, sizeof(mm.path), "%s", path);
		snprintf(mm.tmp, sizeof(mm.tmp), "%s_migrating", path);
		/* a temporary pin a failed upgrade left */
		if (unlink(mm.tmp) < 0 && errno != ENOENT)
			err = -errno;
		if (!err)
			err = bpf_map__set_pin_path(map, mm.tmp);
		migration_add(mig, &mm);
		if (err)
			break;
		nt_info("pinned map %s has another layout: carrying its entries over", mm.path);
	}
	if (err) {
		nt_migrate_free(mig);
		return err;
	}
	*out = mig;
	return 0;
}

static size_t slot_size(__u32 vs)
{
	return ((size_t)vs + 7) & ~(size_t)7;
}

/*
 * Copy every entry of mm's old map into the new one. *dropped counts those
 * the new map refused (an index past a smaller array, a full hash, a group
 * too big, a device gone), *why gets the first reason: one entry must not
 * stop an upgrade that carries all the others.
 */
static int copy_entries(struct nt_mig_map *mm, __u32 *copied, __u32 *dropped, int *why)
{
	int ncpu = mm->percpu ? libbpf_num_possible_cpus() : 1;
	size_t os = mm->percpu ? slot_size(mm->old_vs) : mm->old_vs;
	size_t ns = mm->percpu ? slot_size(mm->new_vs) : mm->new_vs;
	int new_fd = bpf_map__fd(mm->map), err = 0;
	void *key = NULL, *next = NULL, *nkey = NULL, *ov = NULL, *nv = NULL;
	bool first = true;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	key = calloc(1, mm->key_size);
	next = calloc(1, mm->key_size);
	nkey = calloc(1, mm->key_size);
	ov = calloc((size_t)ncpu, os);
	nv = calloc((size_t)ncpu, ns);
	if (!key || !next || !nkey || !ov || !nv) {
		err = -ENOMEM;
		goto out;
	}
	while (!bpf_map_get_next_key(mm->old_fd, first ? NULL : key, next)) {
		bool fits = true;

		first = false;
		memcpy(key, next, mm->key_size);
		if (bpf_map_lookup_elem(mm->old_fd, key, ov))
			continue; /* deleted meanwhile */
		if (mm->fold) {
			__u32 idx;

			/* one old index into its member of the one new entry */
			memcpy(&idx, key, sizeof(idx));
			if (idx >= mm->nfold) {
				(*dropped)++;
				continue;
			}
			for (int c = 0; c < ncpu; c++)
				plan_apply(&mm->fold[idx], (char *)ov + c * os, (char *)nv + c * ns);
			(*copied)++;
			continue;
		}
		memset(nv, 0, (size_t)ncpu * ns);
		for (int c = 0; c < ncpu; c++) {
			char *n = (char *)nv + c * ns;

			plan_apply(&mm->plan, (char *)ov + c * os, n);
			fits = fits && entry_fits(bpf_map__name(mm->map), n);
		}
		memcpy(nkey, key, mm->key_size);
		if (mm->key_plan.n) {
			memset(nkey, 0, mm->key_size);
			plan_apply(&mm->key_plan, key, nkey);
		}
		if (!fits || bpf_map_update_elem(new_fd, nkey, nv, BPF_ANY)) {
			if (!*why)
				*why = fits ? errno : ERANGE;
			(*dropped)++;
			continue;
		}
		(*copied)++;
	}
	if (errno != ENOENT)
		err = -errno;
	if (!err && mm->fold) {
		__u32 zero = 0;

		if (bpf_map_update_elem(new_fd, &zero, nv, BPF_ANY))
			err = -errno;
	}
out:
	free(key);
	free(next);
	free(nkey);
	free(ov);
	free(nv);
	return err;
}

int nt_migrate_finish(struct nt_migration *mig)
{
	for (size_t i = 0; i < mig->n; i++) {
		struct nt_mig_map *mm = &mig->maps[i];
		__u32 copied = 0, dropped = 0;
		int why = 0, err = copy_entries(mm, &copied, &dropped, &why);

		if (err) {
			nt_err("cannot carry the entries of %s over: %s", mm->path, strerror(-err));
			return err;
		}
		/* bpffs renames atomically: the pin never names no map */
		if (rename(mm->tmp, mm->path) < 0) {
			err = -errno;
			nt_err("cannot rename %s to %s: %s", mm->tmp, mm->path, strerror(errno));
			return err;
		}
		mm->tmp[0] = '\0';
		bpf_map__set_pin_path(mm->map, mm->path);
		if (dropped)
			nt_warn("map %s carried over to the new layout: %u entries, %u left out "
				"(the first: %s)", mm->path, copied, dropped,
				why == ERANGE ? "more members than the new layout holds" :
						strerror(why));
		else
			nt_info("map %s carried over to the new layout: %u entries", mm->path, copied);
	}
	return 0;
}

/*
 * The keys first, then the copies: a walk goes on from the key it was
 * given, and a key deleted or moved under it would restart it from the
 * first bucket.
 */
int nt_migrate_mappings4(int v6_fd, int v4_fd, struct nt_endpoint **keys, size_t *n)
{
	struct nt_endpoint key, next, *k = NULL;
	size_t cnt = 0, cap = 0;
	struct nt_mapping val;
	struct nt_key4 k4;
	bool first = true;
	int err = 0;

	*keys = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(v6_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (nt_key4_from_endpoint(&key, &k4))
			continue; /* an IPv6 sender: where it belongs */
		if (cnt == cap) {
			size_t c = cap ? cap * 2 : 256;
			struct nt_endpoint *grown = realloc(k, c * sizeof(*k));

			if (!grown) {
				free(k);
				return -ENOMEM;
			}
			k = grown;
			cap = c;
		}
		k[cnt++] = key;
	}
	if (errno != ENOENT)
		err = -errno;
	for (size_t i = 0; i < cnt && !err; i++) {
		nt_key4_from_endpoint(&k[i], &k4);
		if (bpf_map_lookup_elem(v6_fd, &k[i], &val))
			continue; /* deleted meanwhile */
		if (bpf_map_update_elem(v4_fd, &k4, &val, BPF_NOEXIST) && errno != EEXIST)
			err = -errno;
	}
	if (err) {
		free(k);
		return err;
	}
	*keys = k;
	*n = cnt;
	return 0;
}

int nt_migrate_mappings4_drop(int v6_fd, const struct nt_endpoint *keys, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(v6_fd, &keys[i]) && errno != ENOENT && !err)
			err = -errno;
	return err;
}

void nt_migrate_free(struct nt_migration *mig)
{
	if (!mig)
		return;
	for (size_t i = 0; i < mig->n; i++) {
		struct nt_mig_map *mm = &mig->maps[i];

		/* a map created but not renamed into place: the old pin stays */
		if (mm->tmp[0])
			unlink(mm->tmp);
		close(mm->old_fd);
		mm_free_plans(mm);
	}
	free(mig->maps);
	free(mig);
}
