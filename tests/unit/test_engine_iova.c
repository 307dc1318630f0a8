/* IOVA allocators and range caches (src/engine/iova*.c): top-down placement
 * of iova.c, size alignment, the cursors, the 32-bit limit fast-fail,
 * magazines and depot, and the next-fit bitmap allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "engine/iova.h"
#include "engine/rbtree.h"

#define SHIFT 12
#define PFN32 (1ull << (32 - SHIFT))

static void domain_up(struct iova_domain *iovad, const struct iova_allocator_ops *ops,
		      bool rcache, unsigned cpus, unsigned depot_max)
{
	struct iova_space sp = {
		.start_pfn = 1, .end_pfn = (1ull << (48 - SHIFT)) - 1,
		.dma_32bit_pfn = PFN32,
	};
	struct iova_rcache_cfg rc = {
		.enabled = rcache, .nr_cpus = cpus, .mag_size = IOVA_MAG_SIZE,
		.depot_max = depot_max,
	};
	struct errbuf err;

	assert_int_equal(iova_domain_init(iovad, ops, &sp, &rc, &err), 0);
}

/* ---- rbtree ---- */

struct item {
	struct rbt_node rb;
	unsigned key;
};

static void insert_item(struct rbt_root *root, struct item *it)
{
	struct rbt_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = it->key < rbt_entry(parent, struct item, rb)->key ?
		       &parent->left : &parent->right;
	}
	rbt_link(&it->rb, parent, link);
	rbt_insert_fixup(root, &it->rb);
}

static void test_rbtree_random(void **state)
{
	enum { N = 2000 };
	struct item *items = calloc(N, sizeof(*items));
	bool *in = calloc(N, sizeof(*in));
	struct rbt_root root = { 0 };
	unsigned seed = 12345, count = 0;

	(void)state;
	for (unsigned i = 0; i < N; i++)
		items[i].key = i * 7919u % N;
	for (unsigned round = 0; round < 20000; round++) {
		unsigned i;

		seed = seed * 1103515245u + 12345u;
		i = (seed >> 8) % N;
		if (in[i]) {
			rbt_erase(&root, &items[i].rb);
			count--;
		} else {
			insert_item(&root, &items[i]);
			count++;
		}
		in[i] = !in[i];
		if (round % 997 == 0)
			assert_true(rbt_validate(&root) >= 0);
	}
	assert_true(rbt_validate(&root) >= 0);
	{
		unsigned n = 0, last = 0;

		for (struct rbt_node *rb = rbt_first(&root); rb; rb = rbt_next(rb)) {
			unsigned k = rbt_entry(rb, struct item, rb)->key;

			if (n)
				assert_true(k > last);
			last = k;
			n++;
		}
		assert_int_equal(n, count);
		n = 0;
		for (struct rbt_node *rb = rbt_last(&root); rb; rb = rbt_prev(rb))
			n++;
		assert_int_equal(n, count);
	}
	free(items);
	free(in);
}

/* ---- rbtree allocator ---- */

static void test_top_down_below_limit(void **state)
{
	struct iova_domain d;
	uint64_t a, b, c;

	(void)state;
	domain_up(&d, &iova_rbtree_ops, false, 1, 0);
	/* a fresh domain hands out the top of the space below the limit */
	a = iova_alloc(&d, 1, PFN32 - 1, true);
	assert_int_equal(a, PFN32 - 1); /* 0xfffff000 */
	b = iova_alloc(&d, 1, PFN32 - 1, true);
	assert_int_equal(b, PFN32 - 2);
	/* size alignment: 4 pages at a multiple of 4 below b */
	c = iova_alloc(&d, 4, PFN32 - 1, true);
	assert_int_equal(c, PFN32 - 8);
	assert_int_equal(c % 4, 0);
	/* 3 pages aligned to 4 */
	assert_int_equal(iova_alloc(&d, 3, PFN32 - 1, true), PFN32 - 12);
	/* unaligned request packs right below */
	assert_int_equal(iova_alloc(&d, 3, PFN32 - 1, false), PFN32 - 15);
	/* 64-bit limit: from the top of the 48-bit space */
	assert_int_equal(iova_alloc(&d, 1, (1ull << 36) - 1, true), (1ull << 36) - 1);
	iova_domain_release(&d);
}

static void test_free_moves_cursor_up(void **state)
{
	struct iova_domain d;
	uint64_t p[4];

	(void)state;
	domain_up(&d, &iova_rbtree_ops, false, 1, 0);
	for (int i = 0; i < 4; i++)
		p[i] = iova_alloc(&d, 1, PFN32 - 1, true);
	assert_int_equal(p[3], PFN32 - 4);
	/* freeing above the cursor moves it up: the hole is found again */
	assert_true(iova_free(&d, p[1], 1));
	assert_int_equal(iova_alloc(&d, 1, PFN32 - 1, true), p[1]);
	/* a free of something not allocated is refused */
	assert_false(iova_free(&d, 12345, 1));
	assert_int_equal(d.stats.bad_frees, 1);
	iova_domain_release(&d);
}

static void test_free_above_cursor_found_again(void **state)
{
	struct iova_domain d;
	struct iova_space sp = { .start_pfn = 1, .end_pfn = 15, .dma_32bit_pfn = 16 };
	struct errbuf err;
	uint64_t pfns[15];

	(void)state;
	assert_int_equal(iova_domain_init(&d, &iova_rbtree_ops, &sp, NULL, &err), 0);
	for (int i = 0; i < 15; i++)
		pfns[i] = iova_alloc(&d, 1, 15, true);
	assert_int_equal(pfns[0], 15);
	assert_int_equal(pfns[14], 1);
	assert_int_equal(iova_alloc(&d, 1, 15, true), 0); /* full */
	/* the free moves the 32-bit cursor to the node above the hole */
	assert_true(iova_free(&d, 14, 1));
	assert_int_equal(iova_alloc(&d, 1, 15, true), 14);
	iova_domain_release(&d);
}

static void test_retry_above_cursor(void **state)
{
	struct iova_domain d;
	struct iova_space sp = { .start_pfn = 1, .end_pfn = 15, .dma_32bit_pfn = 16 };
	struct errbuf err;

	(void)state;
	assert_int_equal(iova_domain_init(&d, &iova_rbtree_ops, &sp, NULL, &err), 0);
	assert_int_equal(iova_alloc(&d, 1, 15, true), 15);
	/* 4 aligned pages go to 8-11, leaving 12-14 free above the cursor */
	assert_int_equal(iova_alloc(&d, 4, 15, true), 8);
	assert_int_equal(iova_alloc(&d, 4, 15, true), 4);
	assert_int_equal(iova_alloc(&d, 2, 15, true), 2);
	/* nothing below the cursor (pfn 2) fits 2 aligned pages: the second
	 * pass over the space above the cursor takes the top of 12-14 */
	assert_int_equal(iova_alloc(&d, 2, 15, true), 12);
	iova_domain_release(&d);
}

static void test_max32_fast_fail(void **state)
{
	struct iova_domain d;
	struct iova_space sp = { .start_pfn = 1, .end_pfn = 63, .dma_32bit_pfn = 64 };
	struct errbuf err;
	uint64_t a;

	(void)state;
	assert_int_equal(iova_domain_init(&d, &iova_rbtree_ops, &sp, NULL, &err), 0);
	a = iova_alloc(&d, 32, 63, true);
	assert_int_equal(a, 32);
	/* 32 aligned pages no longer fit below the limit */
	assert_int_equal(iova_alloc(&d, 32, 63, true), 0);
	/* a failed size S makes later requests >= S fail fast, smaller ones
	 * still work */
	assert_int_equal(iova_alloc(&d, 40, 63, false), 0);
	assert_int_not_equal(iova_alloc(&d, 8, 63, true), 0);
	/* any free below the 32-bit boundary resets the fast-fail size */
	assert_true(iova_free(&d, a, 32));
	assert_int_equal(iova_alloc(&d, 32, 63, true), 32);
	iova_domain_release(&d);
}

static void test_reserve_and_gaps(void **state)
{
	struct iova_domain d;
	struct iova_gap_stats gs;
	struct errbuf err;

	(void)state;
	domain_up(&d, &iova_rbtree_ops, false, 1, 0);
	/* the x86 MSI window 0xfee00000-0xfeefffff */
	assert_int_equal(iova_reserve(&d, 0xfee00, 0xfeeff, &err), 0);
	for (int i = 0; i < 0x1100; i++)
		assert_int_not_equal(iova_alloc(&d, 1, PFN32 - 1, true), 0);
	/* 0x1100 pages above the window, so the next one jumps over it */
	assert_int_equal(iova_alloc(&d, 1, PFN32 - 1, true), 0xfedff);
	d.ops->gaps(d.priv, PFN32 - 1, &gs);
	assert_int_equal(gs.gaps, 1);
	assert_int_equal(gs.largest, 0xfedff - 1);
	/* punch two holes */
	assert_true(iova_free(&d, 0xff000, 1));
	assert_true(iova_free(&d, 0xff010, 1));
	d.ops->gaps(d.priv, PFN32 - 1, &gs);
	assert_int_equal(gs.gaps, 3);
	assert_int_equal(gs.free_pfns, 0xfedff - 1 + 2);
	iova_domain_release(&d);
}

/* ---- range caches ---- */

static void test_fast_rounding_and_cache_hit(void **state)
{
	struct iova_domain d;
	uint64_t a, b;

	(void)state;
	domain_up(&d, &iova_rbtree_ops, true, 2, 0);
	assert_int_equal(iova_fast_rounded(3), 4);
	assert_int_equal(iova_fast_rounded(31), 32);
	assert_int_equal(iova_fast_rounded(33), 33);
	a = iova_alloc_fast(&d, 0, 0, 3, PFN32 - 1, true);
	assert_int_equal(a, PFN32 - 4);      /* rounded to 4, aligned */
	assert_int_equal(d.stats.pfns_in_use, 4);
	assert_true(iova_free_fast(&d, 0, 0, a, 3));
	/* cached: still allocated in the tree */
	assert_int_equal(d.stats.pfns_in_use, 4);
	assert_int_equal(iova_rcache_cached_pfns(&d), 4);
	/* another CPU misses, the same CPU hits */
	b = iova_alloc_fast(&d, 1, 0, 4, PFN32 - 1, true);
	assert_int_equal(b, PFN32 - 8);
	assert_int_equal(iova_alloc_fast(&d, 0, 0, 4, PFN32 - 1, true), a);
	assert_int_equal(d.stats.rcache_hits, 1);
	/* a hit must fit under the limit: cache it again and ask lower */
	assert_true(iova_free_fast(&d, 0, 0, a, 4));
	assert_int_equal(iova_alloc_fast(&d, 0, 0, 4, 0x1000, true) <= 0x1000 - 3, 1);
	/* sizes of 64 pages are not cached */
	a = iova_alloc_fast(&d, 0, 0, 64, PFN32 - 1, true);
	assert_true(iova_free_fast(&d, 0, 0, a, 64));
	assert_false(d.ops->allocated(d.priv, a));
	iova_domain_release(&d);
}

static void test_magazines_and_depot_trim(void **state)
{
	struct iova_domain d;
	uint64_t pfns[3 * IOVA_MAG_SIZE];
	size_t n = sizeof(pfns) / sizeof(pfns[0]);

	(void)state;
	domain_up(&d, &iova_rbtree_ops, true, 1, 0);
	for (size_t i = 0; i < n; i++)
		pfns[i] = iova_alloc_fast(&d, 0, 0, 1, PFN32 - 1, true);
	/* loaded fills (127), becomes prev when the next one fills (127
	 * more), then the full loaded goes to the depot for a fresh one */
	for (size_t i = 0; i < n; i++)
		assert_true(iova_free_fast(&d, 0, 1000, pfns[i], 1));
	assert_int_equal(d.stats.depot_pushes, 1);
	assert_int_equal(iova_rcache_cached_pfns(&d), n);
	/* the depot holds 1 magazine for 1 CPU: nothing to trim */
	assert_int_equal(iova_next_deadline(&d), 1000 + IOVA_DEPOT_DELAY_NS);
	iova_run_timers(&d, 1000 + IOVA_DEPOT_DELAY_NS);
	assert_int_equal(d.stats.depot_trims, 0);
	assert_int_equal(iova_next_deadline(&d), IOVA_NO_DEADLINE);
	/* everything back to the tree */
	iova_rcache_flush_all(&d);
	assert_int_equal(iova_rcache_cached_pfns(&d), 0);
	assert_int_equal(d.stats.pfns_in_use, 0);
	iova_domain_release(&d);
}

static void test_depot_trim_surplus(void **state)
{
	struct iova_domain d;
	enum { N = 4 * IOVA_MAG_SIZE };
	uint64_t *pfns = calloc(N, sizeof(*pfns));

	(void)state;
	domain_up(&d, &iova_rbtree_ops, true, 1, 0);
	for (size_t i = 0; i < N; i++)
		pfns[i] = iova_alloc_fast(&d, 0, 0, 1, PFN32 - 1, true);
	for (size_t i = 0; i < N; i++)
		assert_true(iova_free_fast(&d, 0, 5, pfns[i], 1));
	/* 4 full magazines: loaded, prev and 2 in the depot (>1 CPU's worth) */
	assert_int_equal(d.stats.depot_pushes, 2);
	iova_run_timers(&d, 5 + IOVA_DEPOT_DELAY_NS - 1);
	assert_int_equal(d.stats.depot_trims, 0);
	iova_run_timers(&d, 5 + 10 * IOVA_DEPOT_DELAY_NS);
	/* one magazine per run until the depot holds one per CPU */
	assert_int_equal(d.stats.depot_trims, 1);
	assert_int_equal(iova_rcache_cached_pfns(&d), N - IOVA_MAG_SIZE);
	free(pfns);
	iova_domain_release(&d);
}

static void test_old_fixed_depot_overflow(void **state)
{
	struct iova_domain d;
	enum { N = 5 * IOVA_MAG_SIZE };
	uint64_t *pfns = calloc(N, sizeof(*pfns));

	(void)state;
	domain_up(&d, &iova_rbtree_ops, true, 1, 1);
	for (size_t i = 0; i < N; i++)
		pfns[i] = iova_alloc_fast(&d, 0, 0, 1, PFN32 - 1, true);
	for (size_t i = 0; i < N; i++)
		assert_true(iova_free_fast(&d, 0, 0, pfns[i], 1));
	/* a depot of one: the second full magazine goes back to the tree */
	assert_int_equal(d.stats.depot_pushes, 1);
	assert_true(d.stats.depot_overflows >= 1);
	assert_int_equal(iova_next_deadline(&d), IOVA_NO_DEADLINE);
	free(pfns);
	iova_domain_release(&d);
}

static void test_flush_rcache_on_failure(void **state)
{
	struct iova_domain d;
	struct iova_space sp = { .start_pfn = 1, .end_pfn = 7, .dma_32bit_pfn = 8 };
	struct iova_rcache_cfg rc = { .enabled = true, .nr_cpus = 1 };
	struct errbuf err;
	uint64_t p[7];

	(void)state;
	assert_int_equal(iova_domain_init(&d, &iova_rbtree_ops, &sp, &rc, &err), 0);
	for (int i = 0; i < 7; i++)
		p[i] = iova_alloc_fast(&d, 0, 0, 1, 7, true);
	for (int i = 0; i < 7; i++)
		assert_true(iova_free_fast(&d, 0, 0, p[i], 1));
	/* 2 pages: the cache holds only single pages, the tree is full */
	assert_int_equal(iova_alloc_fast(&d, 0, 0, 2, 7, false), 0);
	assert_int_not_equal(iova_alloc_fast(&d, 0, 0, 2, 7, true), 0);
	assert_int_equal(d.stats.rcache_flushes, 1);
	iova_domain_release(&d);
}

/* ---- bitmap allocator ---- */

static void test_bitmap_next_fit(void **state)
{
	struct iova_domain d;
	struct iova_space sp = { .start_pfn = 1, .end_pfn = 64, .dma_32bit_pfn = 1u << 20,
				 .bitmap_pages = 64 };
	struct iova_gap_stats gs;
	struct errbuf err;
	uint64_t a, b, c;

	(void)state;
	assert_int_equal(iova_domain_init(&d, &iova_bitmap_ops, &sp, NULL, &err), 0);
	a = iova_alloc(&d, 1, 64, true);
	assert_int_equal(a, 1);                /* bottom up */
	b = iova_alloc(&d, 4, 64, true);
	assert_int_equal(b, 4);                /* aligned to 4 */
	assert_true(iova_free(&d, a, 1));
	c = iova_alloc(&d, 1, 64, true);
	assert_int_equal(c, 8);                /* next fit, not first fit */
	d.ops->gaps(d.priv, 64, &gs);
	assert_int_equal(gs.gaps, 2);          /* 1-3 and 9-64 */
	assert_int_equal(gs.largest, 56);
	/* exhaust the top, then it wraps to the bottom */
	assert_int_equal(iova_alloc(&d, 32, 64, true), 32);
	/* only pfn 64 is left above the cursor: 16 pages wrap around */
	assert_int_equal(iova_alloc(&d, 16, 64, true), 16);
	assert_int_equal(iova_alloc(&d, 1, 64, true), 64); /* next fit after 16-31 */
	assert_false(iova_free(&d, 9, 1));     /* never allocated */
	iova_domain_release(&d);
}

static void test_allocator_registry(void **state)
{
	(void)state;
	assert_ptr_equal(iova_allocator_find("rbtree"), &iova_rbtree_ops);
	assert_ptr_equal(iova_allocator_find("bitmap"), &iova_bitmap_ops);
	assert_null(iova_allocator_find("rb"));      /* exact names only */
	assert_null(iova_allocator_find(NULL));
	assert_ptr_equal(iova_allocator_at(0), &iova_rbtree_ops);
	assert_null(iova_allocator_at(2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rbtree_random),
		cmocka_unit_test(test_top_down_below_limit),
		cmocka_unit_test(test_free_moves_cursor_up),
		cmocka_unit_test(test_free_above_cursor_found_again),
		cmocka_unit_test(test_retry_above_cursor),
		cmocka_unit_test(test_max32_fast_fail),
		cmocka_unit_test(test_reserve_and_gaps),
		cmocka_unit_test(test_fast_rounding_and_cache_hit),
		cmocka_unit_test(test_magazines_and_depot_trim),
		cmocka_unit_test(test_depot_trim_surplus),
		cmocka_unit_test(test_old_fixed_depot_overflow),
		cmocka_unit_test(test_flush_rcache_on_failure),
		cmocka_unit_test(test_bitmap_next_fit),
		cmocka_unit_test(test_allocator_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
