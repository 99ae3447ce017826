// SPDX-License-Identifier: GPL-2.0
/*
 * nt_migrate_value: a pinned map's value of an older layout converted to
 * the new one through BTF, as an upgrade does (types built here, no kernel).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>

#include "nt_bpf_migrate.h"

static struct btf *ob, *nb;
static int o_u32, o_u64, n_u32, n_u64;

static void setup(void)
{
	ob = btf__new_empty();
	nb = btf__new_empty();
	cr_assert(ob && nb);
	o_u32 = btf__add_int(ob, "unsigned int", 4, 0);
	o_u64 = btf__add_int(ob, "long long unsigned int", 8, 0);
	n_u32 = btf__add_int(nb, "unsigned int", 4, 0);
	n_u64 = btf__add_int(nb, "long long unsigned int", 8, 0);
	cr_assert(o_u32 > 0 && o_u64 > 0 && n_u32 > 0 && n_u64 > 0);
}

static void teardown(void)
{
	btf__free(ob);
	btf__free(nb);
}

TestSuite(migrate, .init = setup, .fini = teardown);

/* struct { u32 a; u32 b; } -> struct { u32 a; u32 b; u64 c; } */
Test(migrate, appended_member_is_zero)
{
	int o = btf__add_struct(ob, "v", 8), n;
	__u32 old[2] = { 7, 9 };
	struct { __u32 a, b; __u64 c; } out;

	btf__add_field(ob, "a", o_u32, 0, 0);
	btf__add_field(ob, "b", o_u32, 32, 0);
	n = btf__add_struct(nb, "v", 16);
	btf__add_field(nb, "a", n_u32, 0, 0);
	btf__add_field(nb, "b", n_u32, 32, 0);
	btf__add_field(nb, "c", n_u64, 64, 0);
	memset(&out, 0xee, sizeof(out));
	cr_assert_eq(nt_migrate_value(ob, o, old, 8, nb, n, &out, 16), 0);
	cr_assert_eq(out.a, 7);
	cr_assert_eq(out.b, 9);
	cr_assert_eq(out.c, 0);
}

/* members found by name wherever they moved; one that went is dropped */
Test(migrate, moved_and_removed_members)
{
	int o = btf__add_struct(ob, "v", 16), n;
	struct { __u64 x; __u32 gone, y; } old = { 0x1122334455667788ull, 5, 6 };
	struct { __u32 y, pad; __u64 x; } out;

	btf__add_field(ob, "x", o_u64, 0, 0);
	btf__add_field(ob, "gone", o_u32, 64, 0);
	btf__add_field(ob, "y", o_u32, 96, 0);
	n = btf__add_struct(nb, "v", 16);
	btf__add_field(nb, "y", n_u32, 0, 0);
	btf__add_field(nb, "pad", n_u32, 32, 0);
	btf__add_field(nb, "x", n_u64, 64, 0);
	memset(&out, 0xee, sizeof(out));
	cr_assert_eq(nt_migrate_value(ob, o, &old, 16, nb, n, &out, 16), 0);
	cr_assert_eq(out.x, 0x1122334455667788ull);
	cr_assert_eq(out.y, 6);
	cr_assert_eq(out.pad, 0);
}

/*
 * As nt_fanout_group when NT_GROUP_MAX_MEMBERS changes: arrays that follow
 * an array move; each keeps its common elements.
 */
Test(migrate, arrays_shrink_and_grow)
{
	int oa = btf__add_array(ob, o_u32, o_u32, 4), od = btf__add_array(ob, o_u32, o_u64, 4);
	int o = btf__add_struct(ob, "g", 56), na, nd, n;
	struct { __u32 n, m[4]; __u64 d[4]; } old = { 2, { 10, 11, 12, 13 }, { 20, 21, 22, 23 } };
	struct { __u32 n, m[2]; __u64 d[2]; } small;
	struct { __u32 n, m[8]; __u64 d[8]; } big;

	cr_assert_eq(sizeof(old), 56);
	btf__add_field(ob, "n", o_u32, 0, 0);
	btf__add_field(ob, "m", oa, 32, 0);
	btf__add_field(ob, "d", od, 192, 0);
	na = btf__add_array(nb, n_u32, n_u32, 2);
	nd = btf__add_array(nb, n_u32, n_u64, 2);
	n = btf__add_struct(nb, "g", sizeof(small));
	btf__add_field(nb, "n", n_u32, 0, 0);
	btf__add_field(nb, "m", na, 32, 0);
	btf__add_field(nb, "d", nd, 128, 0);
	cr_assert_eq(nt_migrate_value(ob, o, &old, sizeof(old), nb, n, &small, sizeof(small)), 0);
	cr_assert_eq(small.n, 2);
	cr_assert_eq(small.m[0], 10);
	cr_assert_eq(small.m[1], 11);
	cr_assert_eq(small.d[0], 20);
	cr_assert_eq(small.d[1], 21);

	/* and back, into a layout bigger than either */
	na = btf__add_array(nb, n_u32, n_u32, 8);
	nd = btf__add_array(nb, n_u32, n_u64, 8);
	n = btf__add_struct(nb, "g", sizeof(big));
	btf__add_field(nb, "n", n_u32, 0, 0);
	btf__add_field(nb, "m", na, 32, 0);
	btf__add_field(nb, "d", nd, 320, 0);
	memset(&big, 0xee, sizeof(big));
	cr_assert_eq(nt_migrate_value(ob, o, &old, sizeof(old), nb, n, &big, sizeof(big)), 0);
	cr_assert_eq(big.m[3], 13);
	cr_assert_eq(big.m[4], 0);
	cr_assert_eq(big.d[3], 23);
	cr_assert_eq(big.d[7], 0);
}

/* nested structs match by member name too */
Test(migrate, nested_struct)
{
	int oi = btf__add_struct(ob, "ep", 8), o, ni, n;
	__u32 old[3] = { 1, 2, 3 };
	__u32 out[4];

	btf__add_field(ob, "addr", o_u32, 0, 0);
	btf__add_field(ob, "port", o_u32, 32, 0);
	o = btf__add_struct(ob, "m", 12);
	btf__add_field(ob, "peer", oi, 0, 0);
	btf__add_field(ob, "flags", o_u32, 64, 0);
	ni = btf__add_struct(nb, "ep", 12);
	btf__add_field(nb, "family", n_u32, 0, 0);
	btf__add_field(nb, "addr", n_u32, 32, 0);
	btf__add_field(nb, "port", n_u32, 64, 0);
	n = btf__add_struct(nb, "m", 16);
	btf__add_field(nb, "flags", n_u32, 0, 0);
	btf__add_field(nb, "peer", ni, 32, 0);
	cr_assert_eq(nt_migrate_value(ob, o, old, 12, nb, n, out, 16), 0);
	cr_assert_eq(out[0], 3);
	cr_assert_eq(out[1], 0);
	cr_assert_eq(out[2], 1);
	cr_assert_eq(out[3], 2);
}

/* a member whose type changed size is not reinterpreted: zero */
Test(migrate, changed_type_is_zero)
{
	int o = btf__add_struct(ob, "v", 4), n;
	__u32 old = 0xdeadbeef;
	__u64 out = 1;

	btf__add_field(ob, "a", o_u32, 0, 0);
	n = btf__add_struct(nb, "v", 8);
	btf__add_field(nb, "a", n_u64, 0, 0);
	cr_assert_eq(nt_migrate_value(ob, o, &old, 4, nb, n, &out, 8), 0);
	cr_assert_eq(out, 0);
}

/* without BTF only the same size carries over, byte for byte */
Test(migrate, without_btf)
{
	__u8 old[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[16];

	cr_assert_eq(nt_migrate_value(NULL, 0, old, 8, nb, 0, out, 16), -EPROTO);
	cr_assert_eq(nt_migrate_value(NULL, 0, old, 8, NULL, 0, out, 8), 0);
	cr_assert_eq(memcmp(old, out, 8), 0);
}

/* BTF claiming more than the map's value size is refused, not read past */
Test(migrate, btf_larger_than_value)
{
	int o = btf__add_struct(ob, "v", 8), n;
	__u32 old[2] = { 1, 2 }, out[2];

	btf__add_field(ob, "a", o_u32, 0, 0);
	btf__add_field(ob, "b", o_u32, 32, 0);
	n = btf__add_struct(nb, "v", 8);
	btf__add_field(nb, "a", n_u32, 0, 0);
	btf__add_field(nb, "b", n_u32, 32, 0);
	cr_assert_eq(nt_migrate_value(ob, o, old, 4, nb, n, out, 8), -EPROTO);
}

/*
 * A member that kept its name but went from __be16 to __u16 (nt_endpoint's
 * port) changes byte order; one that stayed __be16 is copied as it is.
 */
Test(migrate, be16_to_host_order)
{
	int o_u16 = btf__add_int(ob, "short unsigned int", 2, 0);
	int n_u16 = btf__add_int(nb, "short unsigned int", 2, 0);
	int o_be = btf__add_typedef(ob, "__be16", o_u16), n_be = btf__add_typedef(nb, "__be16", n_u16);
	int n_h = btf__add_typedef(nb, "__u16", n_u16);
	int o = btf__add_struct(ob, "v", 4), n;
	struct { __u16 port, other; } out, old = { htons(3478), htons(80) };

	btf__add_field(ob, "port", o_be, 0, 0);
	btf__add_field(ob, "other", o_be, 16, 0);
	n = btf__add_struct(nb, "v", 4);
	btf__add_field(nb, "port", n_h, 0, 0);
	btf__add_field(nb, "other", n_be, 16, 0);
	cr_assert_eq(nt_migrate_value(ob, o, &old, 4, nb, n, &out, 4), 0);
	cr_assert_eq(out.port, 3478);
	cr_assert_eq(out.other, htons(80));
}
