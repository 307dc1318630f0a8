/* The IOMMU-API layer of the engine: page-size choice in the map loop
 * (regression vectors after formats.md §5.2), unmap results per partial-
 * unmap behaviour, rollback, gather syncs per IOMMU, flush on map, stale
 * windows, reuse-before-flush, device accesses, map_sg merging, and random
 * operation sequences checked against the reference model. */
#include "engine_test_util.h"

#include <stdlib.h>

#include "mem/arena.h"

#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull

/* ---- page-size vectors ---- */

static void test_pgsize_worked_example(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	/* §5.2: 4K x1, then 2M x2 (1G not reachable), then 4K x1 */
	assert_int_equal(engine_map(t.d, 0x1ff000, 0x1ff000, 0x402000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->codec_map_calls, 3);
	assert_int_equal(r->pages_mapped[12], 2);
	assert_int_equal(r->pages_mapped[21], 2);
	assert_int_equal(leaf_size_at(&t, 0x1ff000), K4);
	assert_int_equal(leaf_size_at(&t, 0x200000), M2);
	assert_int_equal(leaf_size_at(&t, 0x5fffff), M2);
	assert_int_equal(leaf_size_at(&t, 0x600000), K4);
	assert_int_equal(leaf_size_at(&t, 0x601000), 0);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_pgsize_not_congruent(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	/* iova and pa differ modulo 2M: 4K pages only, in one call */
	assert_int_equal(engine_map(t.d, 0x200000, 0x201000, 0x400000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->codec_map_calls, 1);
	assert_int_equal(r->pages_mapped[12], 1024);
	assert_int_equal(r->pages_mapped[21], 0);
	/* congruent mod 2M but not mod 1G: 2M pages, never 1G */
	assert_int_equal(engine_map(t.d, G1, 3 * G1 + M2, G1, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->pages_mapped[21], 512);
	assert_int_equal(r->pages_mapped[30], 0);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_pgsize_prefix_then_larger(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	/* 1M of 4K pages up to the 2M boundary, then one 2M page */
	assert_int_equal(engine_map(t.d, 0x100000, 0x7100000, 0x300000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->codec_map_calls, 2);
	assert_int_equal(r->pages_mapped[12], 256);
	assert_int_equal(r->pages_mapped[21], 1);
	assert_int_equal(leaf_size_at(&t, 0x200000), M2);
	/* a 1G page, and unmapping it by its first 4K reports 1G */
	assert_int_equal(engine_map(t.d, 4 * G1, 2 * G1, G1, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->pages_mapped[30], 1);
	assert_int_equal(engine_unmap(t.d, 4 * G1, K4), G1);
	assert_int_equal(tenv_report(&t)->long_unmaps, 1);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_pgsize_odd_bitmap(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	/* 4K, 64K, 2M (Arm contiguous-hint style) */
	tenv_pow2(&t, &dc, K4 | 0x10000 | M2);
	tenv_domain(&t, &dc);
	/* 4K x1 to reach 64K alignment; then 2M is out of reach, so 64K x33 */
	assert_int_equal(engine_map(t.d, 0xf000, 0x40f000, 0x211000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->codec_map_calls, 2);
	assert_int_equal(r->pages_mapped[12], 1);
	assert_int_equal(r->pages_mapped[16], 33);
	assert_int_equal(leaf_size_at(&t, 0x10000), 0x10000);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);

	/* smallest page 16K: a 4K-aligned request is refused */
	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, 0x4000 | 0x10000 | M2);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, 0x10000000, 0, 0x1000, RW, &t.err), -EINVAL);
	assert_int_equal(engine_map(t.d, 0x10004000, 0x4000, 0x1c000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->pages_mapped[14], 3);
	assert_int_equal(r->pages_mapped[16], 1);
	assert_int_equal(r->err_einval, 1);
	tenv_check_all(&t);
	engine_free(t.e);
}

static void test_pgsize_amd_all_powers(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	/* AMD v1: every power of two from 4K (AMD_IOMMU_PGSIZES) */
	tenv_pow2(&t, &dc, ((1ull << 48) - 1) & ~0xfffull);
	dc.inv = ENGINE_INV_AMD;
	tenv_domain(&t, &dc);
	/* 0x5000+0xb000: 4K, 8K, 32K */
	assert_int_equal(engine_map(t.d, 0x5000, 0x105000, 0xb000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->codec_map_calls, 3);
	assert_int_equal(r->pages_mapped[12], 1);
	assert_int_equal(r->pages_mapped[13], 1);
	assert_int_equal(r->pages_mapped[15], 1);
	assert_int_equal(leaf_size_at(&t, 0x6000), 0x2000);
	assert_int_equal(leaf_size_at(&t, 0xf000), 0x8000);
	/* 3 MiB aligned: 2M then 1M */
	assert_int_equal(engine_map(t.d, 0x800000, 0x800000, 0x300000, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->pages_mapped[21], 1);
	assert_int_equal(r->pages_mapped[20], 1);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

/* ---- unmap behaviour ---- */

static void test_partial_unmap_whole_leaf(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, M2, M2, M2, RW, &t.err), 0);
	/* VT-d removes the whole 2M leaf and says so */
	assert_int_equal(engine_unmap(t.d, M2, K4), M2);
	assert_int_equal(leaf_size_at(&t, M2 + K4), 0);
	/* inside the leaf: the part before the IOVA goes too, unreported */
	assert_int_equal(engine_map(t.d, M2, M2, M2, RW, &t.err), 0);
	assert_int_equal(engine_unmap(t.d, M2 + K4, K4), M2 - K4);
	assert_int_equal(leaf_size_at(&t, M2), 0);
	assert_int_equal(tenv_findings(&t, "engine.unmap.outside-range"), 1);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_partial_unmap_split_and_refuse(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, K4 | M2 | G1);
	dc.partial_unmap = PT_UNMAP_SPLIT; /* io-pgtable-arm before ~6.13 */
	dc.inv = ENGINE_INV_SMMU;
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, M2, 0x10000000, M2, RW, &t.err), 0);
	assert_int_equal(engine_unmap(t.d, M2 + K4, K4), K4);
	assert_int_equal(leaf_size_at(&t, M2), K4);        /* split into 4K */
	assert_int_equal(leaf_size_at(&t, M2 + K4), 0);
	assert_int_equal(leaf_size_at(&t, M2 + 2 * K4), K4);
	tenv_check_all(&t);
	engine_free(t.e);

	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, K4 | M2 | G1);
	dc.partial_unmap = PT_UNMAP_REFUSE; /* io-pgtable-arm since ~6.13 */
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, M2, 0x10000000, M2, RW, &t.err), 0);
	assert_int_equal(engine_unmap(t.d, M2 + K4, K4), 0);
	assert_int_equal(leaf_size_at(&t, M2), M2);
	assert_int_equal(tenv_report(&t)->short_unmaps, 1);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_unmap_hole_is_short(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, 0, 0x80000, 2 * K4, RW, &t.err), 0);
	assert_int_equal(engine_map(t.d, 3 * K4, 0x90000, K4, RW, &t.err), 0);
	assert_int_equal(engine_unmap(t.d, 0, 4 * K4), 2 * K4);
	assert_int_equal(leaf_size_at(&t, 3 * K4), K4);
	assert_int_equal(engine_unmap(t.d, K4 + 1, K4), 0); /* unaligned */
	assert_int_equal(tenv_report(&t)->short_unmaps, 1);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_map_eexist_rolls_back(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, 3 * K4, 0x77000, K4, RW, &t.err), 0);
	assert_int_equal(engine_map(t.d, K4, 0x50000, 4 * K4, RW, &t.err), -EEXIST);
	assert_int_equal(leaf_size_at(&t, K4), 0);
	assert_int_equal(leaf_size_at(&t, 2 * K4), 0);
	assert_int_equal(leaf_size_at(&t, 3 * K4), K4);
	r = tenv_report(&t);
	assert_int_equal(r->rollbacks, 1);
	assert_int_equal(r->err_eexist, 1);
	assert_int_equal(r->flushes[ENGINE_FLUSH_STRICT], 1); /* the undo syncs */
	assert_int_equal(engine_map(t.d, K4, 0x50001, K4, RW, &t.err), -EINVAL);
	/* a record cannot make the engine write an unbounded table: 2^36
	 * pages of 4K (iova and pa not congruent) are refused after the cap */
	assert_int_equal(engine_map(t.d, 1ull << 40, (1ull << 40) + K4, 1ull << 46,
				    RW, &t.err), -E2BIG);
	assert_int_equal(leaf_size_at(&t, 1ull << 40), 0);
	assert_int_equal(engine_domain_mapped_bytes(t.d), K4);
	tenv_check_all(&t);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

/* ---- gathers and invalidations ---- */

static void map4(struct tenv *t)
{
	assert_int_equal(engine_map(t->d, K4, 0x100000, 2 * K4, RW, &t->err), 0);
	assert_int_equal(engine_map(t->d, 0x10000, 0x110000, K4, RW, &t->err), 0);
	assert_int_equal(engine_map(t->d, M2, 0x400000, M2, RW, &t->err), 0);
}

static void unmap4(struct tenv *t, struct engine_gather *g)
{
	engine_gather_init(g);
	assert_int_equal(engine_unmap_fast(t->d, K4, K4, g), K4);
	assert_int_equal(engine_unmap_fast(t->d, 2 * K4, K4, g), K4);
	assert_int_equal(engine_unmap_fast(t->d, 0x10000, K4, g), K4);
	assert_int_equal(engine_unmap_fast(t->d, M2, M2, g), M2);
	engine_iotlb_sync(t->d, g);
}

static void test_gather_vtd_add_page(void **state)
{
	struct engine_domain_config dc;
	struct engine_gather g;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	map4(&t);
	unmap4(&t, &g);
	r = tenv_report(&t);
	/* 0x1000-0x2fff as one PSI (AM 2) forced by the disjoint 0x10000,
	 * that one (AM 0) forced by the 2M page size, then 2M (AM 9) */
	assert_int_equal(r->gather_forced_disjoint, 1);
	assert_int_equal(r->gather_forced_pgsize, 1);
	assert_int_equal(r->flushes[ENGINE_FLUSH_GATHER], 2);
	assert_int_equal(r->flushes[ENGINE_FLUSH_STRICT], 1);
	assert_int_equal(r->inv.vtd_psi[2], 1);
	assert_int_equal(r->inv.vtd_psi[0], 1);
	assert_int_equal(r->inv.vtd_psi[9], 1);
	assert_int_equal(r->inv.vtd_dsi, 0);
	/* all invalidated inside the operations that unmapped them except
	 * the first two ranges, which waited for a later operation */
	assert_int_equal(r->stale_closed, 4);
	assert_int_equal(r->stale_open, 0);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_gather_amd_range(void **state)
{
	struct engine_domain_config dc;
	struct engine_gather g;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, ((1ull << 48) - 1) & ~0xfffull);
	dc.inv = ENGINE_INV_AMD;
	tenv_domain(&t, &dc);
	map4(&t);
	unmap4(&t, &g);
	r = tenv_report(&t);
	/* one range from 0x1000 to 0x3fffff: one command for 4 MiB */
	assert_int_equal(r->flushes[ENGINE_FLUSH_GATHER], 0);
	assert_int_equal(r->inv.amd_range, 1);
	assert_int_equal(r->inv.amd_page, 0);
	engine_free(t.e);

	/* NpCache: disjoint ranges force a sync, chunks are aligned */
	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, ((1ull << 48) - 1) & ~0xfffull);
	dc.inv = ENGINE_INV_AMD;
	dc.amd_np_cache = true;
	tenv_domain(&t, &dc);
	map4(&t);
	unmap4(&t, &g);
	r = tenv_report(&t);
	assert_int_equal(r->gather_forced_disjoint, 2);
	/* 0x1000-0x2fff: 4K + 4K (0x2000 is only 8K aligned... 4K left);
	 * 0x10000: 4K; 0x200000-0x3fffff: one 2M range; plus the three map
	 * flushes NpCache needs */
	assert_int_equal(r->flushes[ENGINE_FLUSH_CACHING_MODE], 3);
	assert_int_equal(r->flushes[ENGINE_FLUSH_GATHER], 2);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_gather_smmu_per_leaf(void **state)
{
	struct engine_domain_config dc;
	struct engine_gather g;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_pow2(&t, &dc, K4 | M2 | G1);
	dc.inv = ENGINE_INV_SMMU;
	tenv_domain(&t, &dc);
	map4(&t);
	unmap4(&t, &g);
	r = tenv_report(&t);
	/* 2 TLBI for 0x1000-0x2fff, 1 for 0x10000, 1 for the 2M block */
	assert_int_equal(r->inv.smmu_tlbi_va, 4);
	assert_int_equal(r->flushes[ENGINE_FLUSH_GATHER], 2);
	/* an unmap that covers a whole table frees it, and the walk cache
	 * is flushed at once */
	assert_int_equal(engine_map(t.d, 5 * G1, 0, K4, RW, &t.err), 0);
	assert_int_equal(engine_unmap(t.d, 5 * G1, M2), K4);
	r = tenv_report(&t);
	assert_true(r->flushes[ENGINE_FLUSH_WALK] >= 1);
	assert_int_equal(engine_map(t.d, 5 * G1, 0, K4, RW, &t.err), 0);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_caching_mode_flush_on_map(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	dc.vtd_caching_mode = true;
	dc.vtd_mamv = 9;
	dc.policy = ENGINE_LAZY; /* the driver forces strict anyway */
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, 0x3000, 0x3000, 2 * K4, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->flushes[ENGINE_FLUSH_CACHING_MODE], 1);
	assert_int_equal(r->inv.vtd_psi[3], 1); /* pfn 3-4 need AM 3 */
	assert_int_equal(engine_map_nosync(t.d, 0x10000, 0x3000, K4, RW, &t.err), 0);
	assert_int_equal(tenv_report(&t)->flushes[ENGINE_FLUSH_CACHING_MODE], 1);
	engine_sync_map(t.d, 0x10000, K4);
	assert_int_equal(tenv_report(&t)->flushes[ENGINE_FLUSH_CACHING_MODE], 2);
	/* too big for MAMV: domain-selective */
	assert_int_equal(engine_map(t.d, G1, G1, 4 * M2, RW, &t.err), 0);
	assert_int_equal(tenv_report(&t)->inv.vtd_dsi, 1);
	engine_free(t.e);
}

/* ---- stale model through the domain ---- */

static void test_stale_windows_and_reuse(void **state)
{
	struct engine_domain_config dc;
	struct engine_gather g;
	struct tenv t;
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_at(t.e, 1000, 0, &t.err), 0);
	assert_int_equal(engine_map(t.d, 0x10000, 0x10000, 4 * K4, RW, &t.err), 0);
	/* strict unmap: invalidated in the same operation */
	assert_int_equal(engine_unmap(t.d, 0x10000, K4), K4);
	r = tenv_report(&t);
	assert_int_equal(r->stale_closed, 1);
	assert_int_equal(r->stale_ns_max, 0);
	/* unmap_fast now, sync 5 us and 3 operations later */
	engine_gather_init(&g);
	assert_int_equal(engine_unmap_fast(t.d, 0x11000, K4, &g), K4);
	assert_int_equal(engine_at(t.e, 6000, 0, &t.err), 0);
	assert_int_equal(engine_dma_access(t.d, 0x11000, 8, false), ENGINE_ACCESS_STALE);
	assert_int_equal(engine_dma_access(t.d, 0x12000, 8, true), ENGINE_ACCESS_OK);
	/* mapping it again before the flush is the bug the model looks for */
	assert_int_equal(engine_map(t.d, 0x11000, 0x99000, K4, RW, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->reuse_before_flush, 1);
	assert_int_equal(tenv_findings(&t, "engine.iova.reuse-before-flush"), 1);
	engine_iotlb_sync(t.d, &g);
	r = tenv_report(&t);
	assert_int_equal(r->stale_closed, 2);
	assert_int_equal(r->stale_ns_max, 5000);
	assert_int_equal(r->stale_ops_max, 4);
	assert_int_equal(r->stale_hits, 1);
	/* after the flush nothing is stale */
	assert_int_equal(engine_dma_access(t.d, 0x11000, 8, false), ENGINE_ACCESS_OK);
	assert_int_equal(engine_dma_access(t.d, 0x40000, 8, false), ENGINE_ACCESS_FAULT);
	assert_int_equal(engine_map(t.d, 0x40000, 0x40000, K4, ENGINE_PROT_READ, &t.err), 0);
	assert_int_equal(engine_dma_access(t.d, 0x40000, 8, true), ENGINE_ACCESS_PERM_FAULT);
	r = tenv_report(&t);
	assert_int_equal(r->dma_faults, 1);
	assert_int_equal(r->dma_perm_faults, 1);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

/* ---- map_sg ---- */

static void test_map_sg_merges(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	const struct engine_report *r;
	struct engine_sg sg[4] = {
		{ .phys = 0x100000000ull, .length = 0x80000000u },
		{ .phys = 0x180000000ull, .length = 0x80000000u }, /* contiguous */
		{ .phys = 0x300000000ull, .length = 0x1000 },
		{ .phys = 0x900000000ull, .length = 0x1000, .p2p_bus = true },
	};

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	/* the first two merge into one 4 GiB run: four 1G pages, one call */
	assert_int_equal(engine_map_sg(t.d, 0x1000000000ull, sg, 4, RW, &t.err),
			 0x100001000ll);
	r = tenv_report(&t);
	assert_int_equal(r->pages_mapped[30], 4);
	assert_int_equal(r->pages_mapped[12], 1);
	assert_int_equal(r->codec_map_calls, 2);
	assert_int_equal(leaf_size_at(&t, 0x1000000000ull + 3 * G1), G1);
	/* a failing entry undoes the whole list */
	sg[2].phys = 0x300000800ull;
	assert_true(engine_map_sg(t.d, 0x2000000000ull, sg, 3, RW, &t.err) < 0);
	assert_int_equal(leaf_size_at(&t, 0x2000000000ull), 0);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

/* ---- report as name/value pairs ---- */

struct kv {
	char names[256][64];
	uint64_t values[256];
	unsigned n, stop_after;
};

static int collect(void *arg, const char *name, uint64_t value)
{
	struct kv *kv = arg;

	if (kv->n >= 256)
		return -1;
	snprintf(kv->names[kv->n], sizeof(kv->names[0]), "%s", name);
	kv->values[kv->n++] = value;
	return kv->stop_after && kv->n == kv->stop_after ? 7 : 0;
}

static uint64_t kv_get(const struct kv *kv, const char *name)
{
	for (unsigned i = 0; i < kv->n; i++)
		if (!strcmp(kv->names[i], name))
			return kv->values[i];
	fail_msg("no report field %s", name);
	return 0;
}

static void test_report_pairs(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	static struct kv kv;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	dc.vtd_mamv = 9;
	tenv_domain(&t, &dc);
	assert_int_equal(engine_at(t.e, 500, 0, &t.err), 0);
	assert_int_equal(engine_map(t.d, 0x1ff000, 0x1ff000, 0x402000, RW, &t.err), 0);
	assert_int_equal(engine_unmap(t.d, 0x1ff000, 0x402000), 0x402000);
	memset(&kv, 0, sizeof(kv));
	assert_int_equal(engine_report_foreach(engine_report(t.e), collect, &kv), 0);
	for (unsigned i = 0; i < kv.n; i++)
		for (unsigned j = i + 1; j < kv.n; j++)
			assert_string_not_equal(kv.names[i], kv.names[j]);
	assert_int_equal(kv_get(&kv, "ops.total"), 2);
	assert_int_equal(kv_get(&kv, "ops.map"), 1);
	assert_int_equal(kv_get(&kv, "map.pages_mapped.4k"), 2);
	assert_int_equal(kv_get(&kv, "map.pages_mapped.2m"), 2);
	assert_int_equal(kv_get(&kv, "map.bytes_unmapped"), 0x402000);
	/* VT-d add_page: 4K, then 4M of 2M pages (page size change), then 4K */
	assert_int_equal(kv_get(&kv, "flush.gather"), 2);
	assert_int_equal(kv_get(&kv, "flush.strict"), 1);
	assert_int_equal(kv_get(&kv, "inval.vtd_psi.am0"), 2);
	assert_int_equal(kv_get(&kv, "inval.vtd_dsi"), 1); /* 4M: AM 10 > 9 */
	assert_int_equal(kv_get(&kv, "time.first_ns"), 500);
	assert_int_equal(kv_get(&kv, "stale.closed"), 1);
	/* indexed counters appear only when non-zero */
	for (unsigned i = 0; i < kv.n; i++)
		assert_false(!strcmp(kv.names[i], "map.pages_mapped.1g"));
	/* a non-zero return stops the walk and is passed back */
	memset(&kv, 0, sizeof(kv));
	kv.stop_after = 3;
	assert_int_equal(engine_report_foreach(engine_report(t.e), collect, &kv), 7);
	assert_int_equal(kv.n, 3);
	engine_free(t.e);
}

/* The checker itself: a page-table entry changed behind the engine's back
 * must show up as a mismatch. */
static void test_checker_catches_corruption(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;
	struct pt_leaf leaf;
	uint64_t *pte;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	assert_int_equal(engine_map(t.d, 0x5000, 0x8000, K4, RW, &t.err), 0);
	tenv_check_all(&t);
	assert_true(pt_lookup(engine_domain_mapper(t.d), 0x5000, &leaf));
	pte = (uint64_t *)((char *)arena_page(engine_arena(t.e), leaf.entry_addr) +
			   (leaf.entry_addr & 0xfff));
	*pte += 0x1000; /* now points at 0x9000 */
	assert_int_equal(engine_domain_check_all(t.d), 1);
	assert_int_equal(tenv_report(&t)->check_mismatches, 1);
	assert_int_equal(tenv_findings(&t, "engine.check.mismatch"), 1);
	engine_free(t.e);
}

/* ---- random sequences against the reference model ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static void random_ops(struct tenv *t, uint64_t seed, unsigned rounds,
		       uint64_t bitmap)
{
	struct rng r = { seed };
	struct engine_gather g;
	bool fast_open = false;

	engine_gather_init(&g);
	for (unsigned i = 0; i < rounds; i++) {
		uint64_t op = rnd(&r) % 10, iova, pa, size, sh;

		/* sizes up to 4M around a small window so ranges collide */
		do
			sh = 12 + rnd(&r) % 11;
		while (!(bitmap & ~((1ull << sh) - 1) & ((2ull << 22) - 1)));
		iova = (rnd(&r) % 64) << 18;
		pa = (rnd(&r) % 4096) << 18;
		if (rnd(&r) % 2) {
			iova += (rnd(&r) % 64) << 12;
			pa += (rnd(&r) % 64) << 12;
		}
		size = ((rnd(&r) % 8) + 1) << sh;
		if (rnd(&r) % 3 == 0)
			size = ((rnd(&r) % 1024) + 1) << 12;
		if (rnd(&r) % 3 == 0)
			size = engine_domain_granule(t->d); /* the single-page paths */
		assert_int_equal(engine_at(t->e, (uint64_t)i * 1000, 0, &t->err), 0);
		if (op < 5) {
			int ret = engine_map(t->d, iova, pa, size, RW, &t->err);

			assert_true(ret == 0 || ret == -EEXIST || ret == -EINVAL);
		} else if (op < 8) {
			engine_unmap(t->d, iova, size);
		} else if (op < 9) {
			engine_unmap_fast(t->d, iova, size, &g);
			fast_open = true;
		} else if (fast_open) {
			engine_iotlb_sync(t->d, &g);
			fast_open = false;
		}
		if (i % 500 == 499)
			tenv_check_all(t);
	}
	if (fast_open)
		engine_iotlb_sync(t->d, &g);
	tenv_check_all(t);
	tenv_no_mismatch(t);
}

static void test_random_vtd(void **state)
{
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		tenv_engine(&t, 1);
		tenv_vtd(&t, &dc);
		tenv_domain(&t, &dc);
		random_ops(&t, seed * 0x9e3779b97f4a7c15ull, 3000,
			   engine_domain_pgsize_bitmap(t.d));
		assert_true(tenv_report(&t)->checks > 2000);
		engine_free(t.e);
	}
}

static void test_random_pow2_behaviours(void **state)
{
	static const int behaviours[] = { PT_UNMAP_WHOLE_LEAF, PT_UNMAP_SPLIT,
					  PT_UNMAP_REFUSE };
	static const uint64_t bitmaps[] = {
		((1ull << 48) - 1) & ~0xfffull,  /* AMD v1 */
		K4 | 0x10000 | M2 | 0x2000000,   /* LPAE 4K with contiguous */
	};
	struct engine_domain_config dc;
	struct tenv t;

	(void)state;
	for (unsigned b = 0; b < 3; b++)
		for (unsigned m = 0; m < 2; m++) {
			tenv_engine(&t, 1);
			tenv_pow2(&t, &dc, bitmaps[m]);
			dc.partial_unmap = behaviours[b];
			dc.inv = m ? ENGINE_INV_SMMU : ENGINE_INV_AMD;
			tenv_domain(&t, &dc);
			random_ops(&t, 77 + b * 10 + m, 2500, bitmaps[m]);
			engine_free(t.e);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgsize_worked_example),
		cmocka_unit_test(test_pgsize_not_congruent),
		cmocka_unit_test(test_pgsize_prefix_then_larger),
		cmocka_unit_test(test_pgsize_odd_bitmap),
		cmocka_unit_test(test_pgsize_amd_all_powers),
		cmocka_unit_test(test_partial_unmap_whole_leaf),
		cmocka_unit_test(test_partial_unmap_split_and_refuse),
		cmocka_unit_test(test_unmap_hole_is_short),
		cmocka_unit_test(test_map_eexist_rolls_back),
		cmocka_unit_test(test_gather_vtd_add_page),
		cmocka_unit_test(test_gather_amd_range),
		cmocka_unit_test(test_gather_smmu_per_leaf),
		cmocka_unit_test(test_caching_mode_flush_on_map),
		cmocka_unit_test(test_stale_windows_and_reuse),
		cmocka_unit_test(test_map_sg_merges),
		cmocka_unit_test(test_report_pairs),
		cmocka_unit_test(test_checker_catches_corruption),
		cmocka_unit_test(test_random_vtd),
		cmocka_unit_test(test_random_pow2_behaviours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
