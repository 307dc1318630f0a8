/* engine_map_pages: a map with the page sizes the kernel's driver was
 * given (a trace's map_pages record) instead of the engine's own choice,
 * and engine_split_matches, which says whether the two agree. */
#include "engine_test_util.h"

#define K4 0x1000ull
#define K8 0x2000ull
#define M2 0x200000ull
#define G1 0x40000000ull

/* The 16 MiB identity map Linux 6.1 gives the ISA bridge: 4096 pages of
 * 4 KiB although the unit offers 2 MiB pages. */
static void test_identity_map_small_pages(void **state)
{
	const struct engine_pgrun runs[] = { { K4, 4096 } };
	const struct engine_pgrun engine_own[] = { { M2, 8 } };
	struct engine_domain_config dc;
	const struct engine_report *r;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_false(engine_split_matches(t.d, 0, 0, runs, 1));
	assert_true(engine_split_matches(t.d, 0, 0, engine_own, 1));
	assert_int_equal(engine_map_pages(t.d, 0, 0, runs, 1, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->pages_mapped[12], 4096);
	assert_int_equal(r->pages_mapped[21], 0);
	assert_int_equal(r->op_counts[ENGINE_OP_MAP], 1);
	assert_int_equal(leaf_size_at(&t, 0), K4);
	assert_int_equal(leaf_size_at(&t, 0xfff000), K4);
	assert_int_equal(leaf_size_at(&t, 0x1000000), 0);
	assert_int_equal(engine_domain_mapped_bytes(t.d), 16ull << 20);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

/* formats.md §5.2's worked example: the kernel's own split is 4K x1,
 * 2M x2, 4K x1; the same pages given as runs agree with it, also when
 * the runs split a size in two. */
static void test_split_matches_worked_example(void **state)
{
	const struct engine_pgrun same[] = { { K4, 1 }, { M2, 2 }, { K4, 1 } };
	const struct engine_pgrun same_cut[] = { { K4, 1 }, { M2, 1 }, { M2, 1 }, { K4, 1 } };
	const struct engine_pgrun small[] = { { K4, 0x402 } };
	const struct engine_pgrun half_small[] = { { K4, 1 }, { M2, 1 }, { K4, 513 } };
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_true(engine_split_matches(t.d, 0x1ff000, 0x1ff000, same, 3));
	assert_true(engine_split_matches(t.d, 0x1ff000, 0x1ff000, same_cut, 4));
	assert_false(engine_split_matches(t.d, 0x1ff000, 0x1ff000, small, 1));
	/* the second 2 MiB as 4 KiB pages: the same range, other pages */
	assert_false(engine_split_matches(t.d, 0x1ff000, 0x1ff000, half_small, 3));
	/* not congruent modulo 2 MiB: 4 KiB pages are the engine's choice too */
	assert_true(engine_split_matches(t.d, 0x1ff000, 0x200000, small, 1));
	assert_int_equal(engine_map_pages(t.d, 0x1ff000, 0x1ff000, same, 3, RW, &t.err), 0);
	assert_int_equal(leaf_size_at(&t, 0x200000), M2);
	assert_int_equal(leaf_size_at(&t, 0x600000), K4);
	tenv_check_all(&t);
	engine_free(t.e);
}

/* Sizes the tables cannot hold, misaligned runs and empty runs are
 * refused before anything is mapped. */
static void test_refused(void **state)
{
	const struct engine_pgrun k8[] = { { K8, 1 } };
	const struct engine_pgrun m2[] = { { M2, 1 } };
	const struct engine_pgrun zero[] = { { K4, 0 } };
	const struct engine_pgrun huge[] = { { G1, 1ull << 40 } };
	struct engine_domain_config dc;
	const struct engine_report *r;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map_pages(t.d, 0x2000, 0x2000, k8, 1, RW, &t.err), -EINVAL);
	assert_non_null(strstr(t.err.msg, "not one the vtd-ss tables hold"));
	assert_int_equal(engine_map_pages(t.d, 0x1000, 0x200000, m2, 1, RW, &t.err), -EINVAL);
	assert_non_null(strstr(t.err.msg, "not aligned"));
	assert_int_equal(engine_map_pages(t.d, 0, 0, zero, 1, RW, &t.err), -EINVAL);
	assert_int_equal(engine_map_pages(t.d, 0, 0, huge, 1, RW, &t.err), -EINVAL);
	r = tenv_report(&t);
	assert_int_equal(r->bytes_mapped, 0);
	assert_int_equal(r->codec_map_calls, 0);
	tenv_check_all(&t);
	engine_free(t.e);
}

/* AMD-like tables hold every power of two: 8 KiB pages where the kernel
 * said so, 4 KiB twice where it mapped two calls. */
static void test_pow2_sizes(void **state)
{
	const struct engine_pgrun one8k[] = { { K8, 1 } };
	const struct engine_pgrun two4k[] = { { K4, 2 } };
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, ((1ull << 48) - 1) & ~0xfffull);
	tenv_domain(&t, &dc);
	assert_true(engine_split_matches(t.d, 0xffffc000, 0x3cfa000, one8k, 1));
	assert_false(engine_split_matches(t.d, 0xffffc000, 0x3cfa000, two4k, 1));
	assert_int_equal(engine_map_pages(t.d, 0xffffc000, 0x3cfa000, two4k, 1, RW, &t.err), 0);
	assert_int_equal(leaf_size_at(&t, 0xffffc000), K4);
	assert_int_equal(leaf_size_at(&t, 0xffffd000), K4);
	assert_int_equal(engine_map_pages(t.d, 0xffff8000, 0x3d1c000, one8k, 1, RW, &t.err), 0);
	assert_int_equal(leaf_size_at(&t, 0xffff9000), K8);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_map_small_pages),
		cmocka_unit_test(test_split_matches_worked_example),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pow2_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
