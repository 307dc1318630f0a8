/* arena: allocation window, reuse of freed pages, fixed reservations, the
 * memory cap, and the physmem view of it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mem/arena.h"

#define PAGE 0x1000u

static bool page_is_zero(const unsigned char *p)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i])
			return false;
	return true;
}

static void test_alloc_window(void **state)
{
	struct arena *a = arena_new(0x100000, 4 * PAGE);
	uint64_t pa[4];

	assert_non_null(a);
	for (int i = 0; i < 4; i++) {
		pa[i] = arena_alloc_page(a);
		assert_int_equal(pa[i], 0x100000 + (uint64_t)i * PAGE);
		assert_true(page_is_zero(arena_page(a, pa[i])));
		memset(arena_page(a, pa[i]), 0x11 * (i + 1), PAGE);
	}
	assert_int_equal(arena_alloc_page(a), 0); /* exhausted */
	assert_int_equal(arena_pages_in_use(a), 4);
	/* Every address in a page finds the page's start. */
	assert_ptr_equal(arena_page(a, pa[2] + 0xfff), arena_page(a, pa[2]));
	assert_ptr_not_equal(arena_page(a, pa[2]), arena_page(a, pa[3]));
	assert_null(arena_page(a, 0x100000 + 4 * PAGE));
	assert_null(arena_page(a, 0));
	assert_int_equal(((unsigned char *)arena_page(a, pa[1]))[5], 0x22);

	/* Freed pages come back zeroed, last freed first. */
	arena_free_page(a, pa[1] + 0x10);
	arena_free_page(a, pa[3]);
	arena_free_page(a, pa[3]);             /* double free: ignored */
	arena_free_page(a, 0x900000);          /* never present: ignored */
	assert_int_equal(arena_pages_in_use(a), 2);
	assert_null(arena_page(a, pa[1]));
	assert_int_equal(arena_alloc_page(a), pa[3]);
	assert_true(page_is_zero(arena_page(a, pa[3])));
	assert_int_equal(arena_alloc_page(a), pa[1]);
	assert_true(page_is_zero(arena_page(a, pa[1])));
	assert_int_equal(arena_alloc_page(a), 0);
	assert_int_equal(arena_pages_in_use(a), 4);
	arena_free(a);
}

/* Page 0 cannot be handed out: 0 means "exhausted". */
static void test_alloc_base_zero(void **state)
{
	struct arena *a = arena_new(0, 2 * PAGE);
	struct errbuf err;

	assert_int_equal(arena_alloc_page(a), PAGE);
	assert_int_equal(arena_alloc_page(a), 0);
	assert_int_equal(arena_reserve(a, 0, 8, &err), 0);
	assert_non_null(arena_page(a, 0));
	arena_free(a);

	/* An unaligned window starts at the next page. */
	a = arena_new(0x1001, 0x3000);
	assert_int_equal(arena_alloc_page(a), 0x2000);
	assert_int_equal(arena_alloc_page(a), 0x3000);
	assert_int_equal(arena_alloc_page(a), 0);
	arena_free(a);

	/* A window at the very top of the address space. */
	a = arena_new(UINT64_MAX - 0xffe, 0x10000);
	assert_int_equal(arena_alloc_page(a), 0);
	arena_free(a);
	a = arena_new(UINT64_C(0xffffffffffffe000), UINT64_MAX);
	assert_int_equal(arena_alloc_page(a), UINT64_C(0xffffffffffffe000));
	assert_int_equal(arena_alloc_page(a), 0);
	arena_free(a);
}

static void test_reserve(void **state)
{
	struct arena *a = arena_new(0x10000, 8 * PAGE);
	struct errbuf err;
	unsigned char *p;

	/* Reserve inside the window: the allocator steps over it. */
	assert_int_equal(arena_reserve(a, 0x10ff0, 0x20, &err), 0);
	assert_int_equal(arena_pages_in_use(a), 2);
	p = arena_page(a, 0x11000);
	assert_non_null(p);
	assert_true(page_is_zero(p));
	p[0] = 0x5a;
	assert_int_equal(arena_alloc_page(a), 0x12000);
	/* Reserving again keeps the contents. */
	assert_int_equal(arena_reserve(a, 0x11000, PAGE, &err), 0);
	assert_int_equal(((unsigned char *)arena_page(a, 0x11000))[0], 0x5a);
	assert_int_equal(arena_pages_in_use(a), 3);

	/* Far away, outside the window, across a 2 MiB leaf boundary. */
	assert_int_equal(arena_reserve(a, UINT64_C(0xfed001ff000), 2 * PAGE, &err), 0);
	assert_non_null(arena_page(a, UINT64_C(0xfed001ff000)));
	assert_non_null(arena_page(a, UINT64_C(0xfed00200000)));
	assert_null(arena_page(a, UINT64_C(0xfed00201000)));
	assert_int_equal(arena_pages_in_use(a), 5);
	/* A freed page outside the window is not handed out by alloc. */
	arena_free_page(a, UINT64_C(0xfed00200000));
	assert_int_equal(arena_alloc_page(a), 0x13000);

	/* Bounds. */
	assert_int_equal(arena_reserve(a, 0, 0, &err), 0);
	assert_int_equal(arena_reserve(a, UINT64_MAX - 0xff, 0x200, &err), -EINVAL);
	assert_string_equal(err.msg, "cannot reserve 0x200 bytes at 0xffffffffffffff00: "
			    "wraps past the top of the address space");
	assert_int_equal(arena_reserve(a, 0x100000000, UINT64_C(1) << 40, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "limit of 1048576 pages"));
	assert_null(arena_page(a, 0x100000000));
	/* The last byte of the address space can be reserved. */
	assert_int_equal(arena_reserve(a, UINT64_MAX, 1, &err), 0);
	assert_non_null(arena_page(a, UINT64_MAX));
	arena_free(a);
}

/* A freed-then-reserved window page is not handed out twice. */
static void test_reserve_after_free(void **state)
{
	struct arena *a = arena_new(0x10000, 2 * PAGE);
	struct errbuf err;
	uint64_t pa = arena_alloc_page(a);

	arena_free_page(a, pa);
	assert_int_equal(arena_reserve(a, pa, PAGE, &err), 0);
	assert_int_equal(arena_alloc_page(a), 0x11000);
	assert_int_equal(arena_alloc_page(a), 0);
	arena_free(a);
}

/* Many scattered pages: lookups stay right while the hash table grows. */
static void test_many_pages(void **state)
{
	struct arena *a = arena_new(0x1000, 0);
	struct errbuf err;
	const int n = 5000;

	for (int i = 0; i < n; i++) {
		uint64_t pa = (uint64_t)i * 0x3f5000 + 0x40000000;

		assert_int_equal(arena_reserve(a, pa, 1, &err), 0);
		*(uint32_t *)arena_page(a, pa) = (uint32_t)i;
	}
	assert_int_equal(arena_pages_in_use(a), n);
	for (int i = n - 1; i >= 0; i--) {
		uint64_t pa = (uint64_t)i * 0x3f5000 + 0x40000000;

		assert_int_equal(*(uint32_t *)arena_page(a, pa), i);
		assert_null(arena_page(a, pa + PAGE));
	}
	arena_free(a);
}

static void test_physmem_view(void **state)
{
	struct arena *a = arena_new(0x200000, 16 * PAGE);
	struct physmem *pm;
	struct errbuf err;
	unsigned char buf[0x20];
	const unsigned char *p;
	uint64_t pages[3];

	for (int i = 0; i < 3; i++) {
		pages[i] = arena_alloc_page(a);
		memset(arena_page(a, pages[i]), 0xa0 + i, PAGE);
	}
	assert_int_equal(arena_reserve(a, 0x1000, PAGE, &err), 0);
	arena_free_page(a, pages[1]);
	pages[1] = 0;

	assert_int_equal(arena_physmem(a, &pm, &err), 0);
	assert_string_equal(pm->ops->name, "arena");
	assert_int_equal(pm->machine, 0);
	assert_int_equal(pm->nr_ranges, 3);
	assert_int_equal(pm->ranges[0].start, 0x1000);
	assert_int_equal(pm->ranges[1].start, 0x200000);
	assert_int_equal(pm->ranges[1].size, PAGE);
	assert_int_equal(pm->ranges[2].start, 0x202000);
	assert_int_equal(physmem_end(pm), 0x203000);

	/* Zero-copy inside a page: the very same memory. */
	p = physmem_peek(pm, 0x200010, 8);
	assert_ptr_equal(p, (unsigned char *)arena_page(a, 0x200000) + 0x10);
	assert_int_equal(physmem_read(pm, 0x202ff0, buf, 0x10, &err), 0);
	assert_int_equal(buf[0], 0xa2);
	assert_int_equal(physmem_read(pm, 0x201000, buf, 8, &err), -EFAULT);
	assert_string_equal(err.msg, "cannot read 0x8 bytes at 0x201000 in arena: outside present memory");
	physmem_free(pm);

	/* Across pages. */
	pages[1] = arena_alloc_page(a);
	assert_int_equal(pages[1], 0x201000);
	memset(arena_page(a, pages[1]), 0xb1, PAGE);
	assert_int_equal(arena_physmem(a, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 2);
	p = physmem_peek(pm, 0x201ff0, 0x20);
	assert_non_null(p);
	assert_int_equal(p[0xf], 0xb1);
	assert_int_equal(p[0x10], 0xa2);
	assert_int_equal(physmem_read(pm, 0x200ff0, buf, 0x20, &err), 0);
	assert_int_equal(buf[0xf], 0xa0);
	assert_int_equal(buf[0x10], 0xb1);

	/* A stale view: the page went away after the view was made. */
	arena_free_page(a, 0x201000);
	assert_int_equal(physmem_read(pm, 0x201000, buf, 8, &err), -EFAULT);
	assert_non_null(strstr(err.msg, "freed after the view was made"));
	assert_null(physmem_peek(pm, 0x201000, 8));
	physmem_free(pm);
	arena_free(a);
}

static void test_empty_view(void **state)
{
	struct arena *a = arena_new(0x1000, 0x1000);
	struct physmem *pm;
	struct errbuf err;

	assert_int_equal(arena_physmem(a, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 0);
	assert_int_equal(physmem_end(pm), 0);
	physmem_free(pm);
	arena_free(a);
	arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_window),
		cmocka_unit_test(test_alloc_base_zero),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_reserve_after_free),
		cmocka_unit_test(test_many_pages),
		cmocka_unit_test(test_physmem_view),
		cmocka_unit_test(test_empty_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
