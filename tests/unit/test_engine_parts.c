/* Engine building blocks: quantile histogram, invalidation commands per
 * IOMMU, the reference model, the stale-range model, the flush queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/fq.h"
#include "engine/hist.h"
#include "engine/inval.h"
#include "engine/refmodel.h"
#include "engine/stale.h"

/* ---- histogram ---- */

static void test_hist_quantiles(void **state)
{
	static struct hist h;

	(void)state;
	hist_init(&h);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_add(&h, v);
	assert_int_equal(h.count, 1000);
	assert_int_equal(h.max, 1000);
	/* within 1/16 of the true quantile, never above the maximum */
	assert_in_range(hist_quantile(&h, 0.5), 500, 500 + 500 / 16);
	assert_in_range(hist_quantile(&h, 0.99), 990, 990 + 990 / 16);
	assert_int_equal(hist_quantile(&h, 1.0), 1000);
	hist_init(&h);
	hist_add(&h, 0);
	hist_add(&h, 10000000);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	assert_int_equal(hist_quantile(&h, 0.99), 10000000);
}

/* ---- invalidations ---- */

struct cov {
	unsigned ranges, alls;
	uint64_t start[16], end[16];
};

static void cov_range(void *ctx, uint64_t s, uint64_t e)
{
	struct cov *c = ctx;

	if (c->ranges < 16) {
		c->start[c->ranges] = s;
		c->end[c->ranges] = e;
	}
	c->ranges++;
}

static void cov_all(void *ctx)
{
	((struct cov *)ctx)->alls++;
}

#define COVER(c) (&(struct inv_cover){ .range = cov_range, .all = cov_all, .ctx = (c) })

static void test_vtd_psi_mask(void **state)
{
	unsigned mask;

	(void)state;
	assert_int_equal(vtd_psi_address(0x1000, 0x1fff, &mask), 0x1000);
	assert_int_equal(mask, 0);
	/* two pages at an odd pfn: a 4-page block is the smallest aligned
	 * one holding both */
	assert_int_equal(vtd_psi_address(0x1000, 0x2fff, &mask), 0);
	assert_int_equal(mask, 2);
	/* pfn 3..4 straddles an 8-page boundary */
	assert_int_equal(vtd_psi_address(0x3000, 0x4fff, &mask), 0);
	assert_int_equal(mask, 3);
	/* aligned 2 MiB */
	assert_int_equal(vtd_psi_address(0x200000, 0x3fffff, &mask), 0x200000);
	assert_int_equal(mask, 9);
	/* sub-page range inside one page */
	assert_int_equal(vtd_psi_address(0x5010, 0x5020, &mask), 0x5000);
	assert_int_equal(mask, 0);
}

static void test_vtd_psi_and_fallbacks(void **state)
{
	struct inv_caps caps = { .model = INV_MODEL_VTD, .vtd_psi = true, .vtd_mamv = 9 };
	struct inv_counts c = { 0 };
	struct cov cv = { 0 };

	(void)state;
	inv_range(&caps, 0x1000, 0x2fff, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.vtd_psi[2], 1);
	assert_int_equal(cv.ranges, 1);
	assert_int_equal(cv.start[0], 0);
	assert_int_equal(cv.end[0], 0x4000);
	/* AM 10 > MAMV 9: domain-selective */
	inv_range(&caps, 0, (4ull << 20) - 1, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.vtd_dsi, 1);
	assert_int_equal(cv.alls, 1);
	/* no PSI at all */
	caps.vtd_psi = false;
	inv_range(&caps, 0x1000, 0x1fff, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.vtd_dsi, 2);
	assert_int_equal(c.syncs, 3);
	/* first-level tables: PASID-based, no MAMV limit */
	caps = (struct inv_caps){ .model = INV_MODEL_VTD, .vtd_first_level = true };
	inv_range(&caps, 0, (4ull << 20) - 1, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.vtd_piotlb[10], 1);
	/* flush-all */
	caps = (struct inv_caps){ .model = INV_MODEL_VTD, .vtd_psi = true, .vtd_mamv = 9 };
	inv_all(&caps, false, &c, COVER(&cv));
	assert_int_equal(c.vtd_dsi, 3);
	inv_all(&caps, true, &c, COVER(&cv));
	assert_int_equal(c.vtd_global, 1);
	/* flush on map only in caching mode */
	assert_false(inv_map(&caps, 0, 0xfff, &c, COVER(&cv)));
	caps.vtd_caching_mode = true;
	assert_true(inv_map(&caps, 0, 0xfff, &c, COVER(&cv)));
	assert_int_equal(c.vtd_psi[0], 1);
}

static void test_amd_inv_address(void **state)
{
	uint64_t lo, hi;
	bool s;

	(void)state;
	assert_int_equal(amd_inv_address(0x1000, 0x1000, &s), 0x1000);
	assert_false(s);
	/* 0x1000-0x2fff: highest differing bit 13, so a 16 KiB block */
	assert_int_equal(amd_inv_address(0x1000, 0x2000, &s), 0x1000);
	assert_true(s);
	assert_true(amd_inv_cover(0x1000, true, &lo, &hi));
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 0x4000);
	/* 2 MiB at 2 MiB: bits 19:12 set, bit 20 clear encodes 2 MiB */
	assert_int_equal(amd_inv_address(0x200000, 0x200000, &s), 0x2ff000);
	assert_true(amd_inv_cover(0x2ff000, true, &lo, &hi));
	assert_int_equal(lo, 0x200000);
	assert_int_equal(hi, 0x400000);
	/* differing above bit 51: all pages */
	amd_inv_address(0, 1ull << 60, &s);
	assert_false(amd_inv_cover(amd_inv_address(0, 1ull << 60, &s), s, &lo, &hi));
}

static void test_amd_np_cache_chunks(void **state)
{
	struct inv_caps caps = { .model = INV_MODEL_AMD };
	struct inv_counts c = { 0 };
	struct cov cv = { 0 };

	(void)state;
	inv_range(&caps, 0x1000, 0x4fff, 0, true, &c, COVER(&cv));
	assert_int_equal(c.amd_range, 1);
	assert_int_equal(cv.start[0], 0);
	assert_int_equal(cv.end[0], 0x8000);
	memset(&c, 0, sizeof(c));
	memset(&cv, 0, sizeof(cv));
	/* behind a vIOMMU: 0x1000 (4K), 0x2000 (8K), 0x4000 (4K) */
	caps.amd_np_cache = true;
	inv_range(&caps, 0x1000, 0x4fff, 0, true, &c, COVER(&cv));
	assert_int_equal(c.amd_page, 2);
	assert_int_equal(c.amd_range, 1);
	assert_int_equal(c.syncs, 1);
	assert_int_equal(cv.ranges, 3);
	assert_int_equal(cv.start[1], 0x2000);
	assert_int_equal(cv.end[1], 0x4000);
	inv_all(&caps, false, &c, COVER(&cv));
	assert_int_equal(c.amd_all, 1);
	assert_true(inv_map(&caps, 0x1000, 0x1fff, &c, COVER(&cv)));
	caps.amd_np_cache = false;
	assert_false(inv_map(&caps, 0x1000, 0x1fff, &c, COVER(&cv)));
}

static void test_smmu_tlbi(void **state)
{
	struct inv_caps caps = { .model = INV_MODEL_SMMU, .smmu_tg_shift = 12 };
	struct inv_counts c = { 0 };
	struct cov cv = { 0 };

	(void)state;
	/* one TLBI per granule without range invalidation */
	inv_range(&caps, 0, 0x3fff, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.smmu_tlbi_va, 4);
	inv_range(&caps, 0x200000, 0x5fffff, 0x200000, true, &c, COVER(&cv));
	assert_int_equal(c.smmu_tlbi_va, 6);
	assert_int_equal(c.syncs, 2);
	/* RIL: 35 pages = NUM 3 at SCALE 0, then NUM 1 at SCALE 5 */
	caps.smmu_range_inv = true;
	inv_range(&caps, 0, 35 * 0x1000 - 1, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.smmu_tlbi_va_range, 2);
	assert_int_equal(cv.end[2], 35 * 0x1000);
	/* the per-page threshold turns into one by-ASID TLBI */
	caps.smmu_range_inv = false;
	caps.smmu_max_tlbi_ops = 512;
	inv_range(&caps, 0, 512 * 0x1000 - 1, 0x1000, true, &c, COVER(&cv));
	assert_int_equal(c.smmu_tlbi_asid, 1);
	assert_int_equal(cv.alls, 1);
	assert_false(inv_map(&caps, 0, 0xfff, &c, COVER(&cv)));
}

/* inv_page_counter() names exactly what inv_range() does for one page:
 * that counter and a sync, nothing else, and a cover of the page. */
static void test_inv_page_counter(void **state)
{
	static const struct inv_caps variants[] = {
		{ .model = INV_MODEL_VTD, .vtd_psi = true, .vtd_mamv = 9 },
		{ .model = INV_MODEL_VTD, .vtd_psi = true, .vtd_mamv = 0 },
		{ .model = INV_MODEL_VTD, .vtd_psi = false },
		{ .model = INV_MODEL_VTD, .vtd_first_level = true },
		{ .model = INV_MODEL_AMD },
		{ .model = INV_MODEL_AMD, .amd_np_cache = true },
		{ .model = INV_MODEL_SMMU, .smmu_tg_shift = 12 },
		{ .model = INV_MODEL_SMMU, .smmu_tg_shift = 12, .smmu_range_inv = true },
	};
	static const uint64_t pages[] = { 0, 0x1000, 0x7000, 0x200000,
					  0xfffffffff000ull };
	unsigned counted = 0;

	(void)state;
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
			struct inv_counts got = { 0 }, want = { 0 };
			struct cov cv = { 0 };
			uint64_t *ctr = inv_page_counter(&variants[v], &want);

			inv_range(&variants[v], pages[p], pages[p] + INV_PAGE_SIZE - 1,
				  INV_PAGE_SIZE, true, &got, COVER(&cv));
			if (!ctr)
				continue;
			counted++;
			(*ctr)++;
			want.syncs++;
			assert_memory_equal(&got, &want, sizeof(got));
			assert_int_equal(cv.ranges, 1);
			assert_int_equal(cv.alls, 0);
			assert_int_equal(cv.start[0], pages[p]);
			assert_int_equal(cv.end[0], pages[p] + INV_PAGE_SIZE);
		}
	}
	/* VT-d with PSI (2), first-level, AMD (2) */
	assert_int_equal(counted, 5 * sizeof(pages) / sizeof(pages[0]));
}

/* ---- reference model ---- */

static void test_refmodel(void **state)
{
	struct refmodel rm;
	uint64_t pa;
	uint32_t perm;

	(void)state;
	assert_int_equal(ref_init(&rm), 0);
	assert_int_equal(ref_map(&rm, 0x10000, 0x500000, 0x3000, 3), 0);
	assert_true(ref_lookup(&rm, 0x11000, &pa, &perm));
	assert_int_equal(pa, 0x501000);
	assert_int_equal(perm, 3);
	assert_false(ref_lookup(&rm, 0x13000, NULL, NULL));
	assert_int_equal(ref_map(&rm, 0x12000, 0x900000, 0x2000, 1), -EEXIST);
	assert_false(ref_lookup(&rm, 0x13000, NULL, NULL)); /* unchanged */
	assert_int_equal(ref_count_range(&rm, 0, 1ull << 40), 3);
	assert_int_equal(ref_unmap(&rm, 0x11000, 0x10000), 2);
	assert_int_equal(rm.count, 1);
	ref_release(&rm);
}

static void test_refmodel_churn(void **state)
{
	enum { N = 5000 };
	struct refmodel rm;
	uint64_t *truth = calloc(N, sizeof(*truth)); /* 0 = unmapped, else pa+1 */
	unsigned seed = 7;

	(void)state;
	assert_int_equal(ref_init(&rm), 0);
	for (int round = 0; round < 200000; round++) {
		unsigned i;
		uint64_t pa;

		seed = seed * 1664525u + 1013904223u;
		i = (seed >> 10) % N;
		if (truth[i]) {
			assert_int_equal(ref_unmap(&rm, (uint64_t)i << 12, 0x1000), 1);
			truth[i] = 0;
		} else {
			pa = (uint64_t)(seed & 0xffff) << 12;
			assert_int_equal(ref_map(&rm, (uint64_t)i << 12, pa, 0x1000, 1), 0);
			truth[i] = pa + 1;
		}
	}
	for (unsigned i = 0; i < N; i++) {
		uint64_t pa;
		bool on = ref_lookup(&rm, (uint64_t)i << 12, &pa, NULL);

		assert_int_equal(on, truth[i] != 0);
		if (on)
			assert_int_equal(pa + 1, truth[i]);
	}
	/* the table-scan path of a huge unmap */
	ref_unmap(&rm, 0, 1ull << 40);
	assert_int_equal(rm.count, 0);
	ref_release(&rm);
	free(truth);
}

/* ---- stale model ---- */

static void test_stale_windows(void **state)
{
	static struct hist ns, ops;
	struct stale_model sm;
	struct stale_hit hit;

	(void)state;
	hist_init(&ns);
	hist_init(&ops);
	stale_init(&sm, 1000, &ns, &ops);
	stale_add(&sm, 0, 0x3000, 100, 1);
	assert_true(stale_find(&sm, 0x2000, 0x2001, &hit));
	assert_int_equal(hit.unmap_ns, 100);
	/* a partial invalidation leaves it open */
	stale_cover(&sm, 0, 0x1000, 200, 2);
	assert_int_equal(sm.closed, 0);
	assert_false(stale_find(&sm, 0, 0x1000, NULL));
	stale_cover(&sm, 0x1000, 0x3000, 500, 5);
	assert_int_equal(sm.closed, 1);
	assert_int_equal(ns.max, 400);
	assert_int_equal(ops.max, 4);
	assert_true(stale_empty(&sm));
	/* invalidating the middle keeps both ends pending */
	stale_add(&sm, 0x10000, 0x13000, 1000, 10);
	stale_cover(&sm, 0x11000, 0x12000, 1100, 11);
	assert_true(stale_find(&sm, 0x10000, 0x11000, NULL));
	assert_false(stale_find(&sm, 0x11000, 0x12000, NULL));
	assert_true(stale_find(&sm, 0x12000, 0x13000, NULL));
	assert_int_equal(stale_open(&sm), 1);
	/* a second unmap over a pending range keeps the older time */
	stale_add(&sm, 0x10000, 0x14000, 1200, 12);
	assert_true(stale_find(&sm, 0x10000, 0x10001, &hit));
	assert_int_equal(hit.unmap_ns, 1000);
	assert_int_equal(stale_open(&sm), 2);
	stale_cover_all(&sm, 3000, 30);
	assert_int_equal(stale_open(&sm), 0);
	assert_int_equal(sm.closed, 3);
	assert_int_equal(ns.max, 2000);
	stale_add_closed(&sm);
	assert_int_equal(ns.count, 4);
	stale_release(&sm);
}

static void test_stale_cap(void **state)
{
	static struct hist ns, ops;
	struct stale_model sm;

	(void)state;
	hist_init(&ns);
	hist_init(&ops);
	stale_init(&sm, 2, &ns, &ops);
	stale_add(&sm, 0x0000, 0x1000, 0, 0);
	stale_add(&sm, 0x2000, 0x3000, 0, 0);
	stale_add(&sm, 0x4000, 0x5000, 0, 0);
	assert_int_equal(sm.untracked, 1);
	assert_int_equal(sm.pieces, 2);
	stale_release(&sm);
}

/* ---- flush queue ---- */

struct fq_log {
	unsigned flushes[ENGINE_FLUSH_CAUSES];
	unsigned released;
	uint64_t last_pfn;
};

static void log_flush(void *ctx, enum engine_flush_cause cause)
{
	((struct fq_log *)ctx)->flushes[cause]++;
}

static void log_release(void *ctx, unsigned cpu, const struct fq_entry *e)
{
	struct fq_log *l = ctx;

	(void)cpu;
	l->released++;
	l->last_pfn = e->pfn;
}

static void test_fq_full_and_timeout(void **state)
{
	struct flush_queue fq;
	struct fq_log log = { 0 };
	struct fq_hooks h = { log_flush, log_release, &log };
	struct errbuf err;

	(void)state;
	assert_int_equal(fq_init(&fq, 2, false, 4, 1000, &err), 0);
	/* capacity is size - 1 */
	for (uint64_t i = 1; i <= 3; i++)
		fq_queue(&fq, &h, 0, 10 * i, i, 1, 0);
	assert_int_equal(log.flushes[ENGINE_FLUSH_FQ_FULL], 0);
	assert_true(fq.timer_on);
	assert_int_equal(fq.timer_due, 10 + 1000);
	fq_queue(&fq, &h, 0, 40, 4, 1, 0);
	assert_int_equal(log.flushes[ENGINE_FLUSH_FQ_FULL], 1);
	assert_int_equal(log.released, 3);       /* freed only after the flush */
	assert_int_equal(fq_pending(&fq), 1);
	/* the other CPU's ring is separate */
	fq_queue(&fq, &h, 1, 50, 5, 1, 0);
	assert_int_equal(fq_pending(&fq), 2);
	fq_timeout(&fq, &h);
	assert_int_equal(log.flushes[ENGINE_FLUSH_FQ_TIMEOUT], 1);
	assert_int_equal(log.released, 5);
	assert_false(fq.timer_on);
	assert_int_equal(fq.max_depth, 3);
	fq_release(&fq);
	assert_int_equal(fq_init(&fq, 2, false, 6, 1000, &err), -EINVAL);
}

static void test_fq_entry_needs_later_flush(void **state)
{
	struct flush_queue fq;
	struct fq_log log = { 0 };
	struct fq_hooks h = { log_flush, log_release, &log };
	struct errbuf err;

	(void)state;
	assert_int_equal(fq_init(&fq, 1, true, 8, 1000, &err), 0);
	fq_queue(&fq, &h, 0, 0, 1, 1, 0);
	/* an entry's counter is the start count when it was queued; it is
	 * released once a flush that started later has finished */
	fq.start_cnt++;
	fq.finish_cnt++;
	fq_queue(&fq, &h, 0, 1, 2, 1, 0);
	assert_int_equal(log.released, 1);
	assert_int_equal(log.last_pfn, 1);
	fq_release(&fq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_quantiles),
		cmocka_unit_test(test_vtd_psi_mask),
		cmocka_unit_test(test_vtd_psi_and_fallbacks),
		cmocka_unit_test(test_amd_inv_address),
		cmocka_unit_test(test_amd_np_cache_chunks),
		cmocka_unit_test(test_smmu_tlbi),
		cmocka_unit_test(test_inv_page_counter),
		cmocka_unit_test(test_refmodel),
		cmocka_unit_test(test_refmodel_churn),
		cmocka_unit_test(test_stale_windows),
		cmocka_unit_test(test_stale_cap),
		cmocka_unit_test(test_fq_full_and_timeout),
		cmocka_unit_test(test_fq_entry_needs_later_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
