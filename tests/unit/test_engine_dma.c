/* The DMA-API layer of the engine (dma-iommu): IOVA placement with the PCI
 * 32-bit-first workaround, granule rounding, scatterlists (offsets,
 * segment boundaries, maximum segment size, 4 GiB), the flush queue
 * (timeout vs full, IOVAs released only after their flush), the two-step
 * IOVA API, and random sequences checked against the reference model. */
#include "engine_test_util.h"

#include <stdlib.h>

#define K4 0x1000ull
#define MS 1000000ull

struct denv {
	struct tenv t;
	struct engine_dev *dev;
};

static void denv_up(struct denv *x, unsigned cpus, enum engine_policy policy,
		    unsigned fq_size)
{
	struct engine_domain_config dc;
	struct engine_dev_config devc;

	tenv_engine(&x->t, cpus);
	tenv_vtd(&x->t, &dc);
	dc.policy = policy;
	dc.fq_size = fq_size;
	tenv_domain(&x->t, &dc);
	engine_dev_config_default(&devc);
	assert_int_equal(engine_dev_add(x->t.e, x->t.d, &devc, &x->dev, &x->t.err), 0);
}

static uint64_t map_page(struct denv *x, uint64_t phys, uint64_t size)
{
	uint64_t dma;

	assert_int_equal(engine_dma_map_page(x->dev, phys, size,
					     ENGINE_DMA_BIDIRECTIONAL, &dma,
					     &x->t.err), 0);
	return dma;
}

/* ---- placement ---- */

static void test_first_page_at_4g_minus_4k(void **state)
{
	struct denv x;
	struct engine_dev_config devc;
	struct engine_dev *plat, *dac;
	uint64_t dma;

	(void)state;
	denv_up(&x, 1, ENGINE_STRICT, 0);
	assert_int_equal(map_page(&x, 0x12345000, K4), 0xfffff000);
	assert_int_equal(map_page(&x, 0x22345000, K4), 0xffffe000);
	/* a platform device with a 64-bit mask starts at the top of 48 bits */
	engine_dev_config_default(&devc);
	devc.pci = false;
	assert_int_equal(engine_dev_add(x.t.e, x.t.d, &devc, &plat, &x.t.err), 0);
	assert_int_equal(engine_dma_map_page(plat, 0x5000, K4, ENGINE_DMA_TO_DEVICE,
					     &dma, &x.t.err), 0);
	assert_int_equal(dma, 0xfffffffff000ull);
	/* iommu.forcedac=1 skips the 32-bit try */
	devc.pci = true;
	devc.forcedac = true;
	assert_int_equal(engine_dev_add(x.t.e, x.t.d, &devc, &dac, &x.t.err), 0);
	assert_int_equal(engine_dma_map_page(dac, 0x5000, K4, ENGINE_DMA_TO_DEVICE,
					     &dma, &x.t.err), 0);
	assert_int_equal(dma, 0xffffffffe000ull);
	/* a 32-bit mask keeps the device below 4 GiB */
	devc.forcedac = false;
	devc.pci = false;
	devc.dma_mask = 0xffffffffull;
	assert_int_equal(engine_dev_add(x.t.e, x.t.d, &devc, &plat, &x.t.err), 0);
	assert_int_equal(engine_dma_map_page(plat, 0x5000, K4, ENGINE_DMA_TO_DEVICE,
					     &dma, &x.t.err), 0);
	assert_int_equal(dma, 0xffffd000);
	tenv_no_mismatch(&x.t);
	engine_free(x.t.e);
}

static void test_offset_rounding(void **state)
{
	struct denv x;
	uint64_t a, b;
	const struct engine_report *r;

	(void)state;
	denv_up(&x, 1, ENGINE_STRICT, 0);
	a = map_page(&x, 0x1234567, 0x100);
	assert_int_equal(a, 0xfffff567);
	assert_int_equal(leaf_size_at(&x.t, 0xfffff000), K4);
	/* 0x200 bytes across a page boundary take two pages, aligned to 2 */
	b = map_page(&x, 0x1234f00, 0x200);
	assert_int_equal(b, 0xffffcf00);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 3 * K4);
	engine_dma_unmap_page(x.dev, b, 0x200);
	engine_dma_unmap_page(x.dev, a, 0x100);
	r = tenv_report(&x.t);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 0);
	assert_int_equal(r->flushes[ENGINE_FLUSH_STRICT], 2);
	assert_int_equal(r->iova_pages_in_use, r->iova_pages_cached);
	tenv_no_mismatch(&x.t);
	engine_free(x.t.e);
}

static void test_32bit_fallback(void **state)
{
	struct denv x;
	const struct engine_report *r;

	(void)state;
	denv_up(&x, 1, ENGINE_STRICT, 0);
	/* leave one page below 4 GiB */
	assert_int_equal(engine_iova_reserve(x.t.d, K4, 0xfffff000 - K4, &x.t.err), 0);
	assert_int_equal(map_page(&x, 0x5000, K4), 0xfffff000);
	assert_int_equal(map_page(&x, 0x6000, K4), 0xfffffffff000ull);
	r = tenv_report(&x.t);
	assert_int_equal(r->iova_32bit_fallbacks, 1);
	/* the device no longer tries below 4 GiB (which would fail again) */
	assert_int_equal(map_page(&x, 0x7000, K4), 0xffffffffe000ull);
	assert_int_equal(tenv_report(&x.t)->iova_32bit_fallbacks, 1);
	engine_free(x.t.e);
}

static void test_bitmap_allocator_domain(void **state)
{
	struct engine_domain_config dc;
	struct engine_dev_config devc;
	struct engine_domain *d2;
	struct engine_dev *dev;
	struct tenv t;
	uint64_t a, b, c;

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	dc.allocator = "bitmap";
	dc.rcache = false; /* the old AMD allocator had no range caches */
	tenv_domain(&t, &dc);
	engine_dev_config_default(&devc);
	assert_int_equal(engine_dev_add(t.e, t.d, &devc, &dev, &t.err), 0);
	/* bottom-up next fit from the first usable pfn */
	assert_int_equal(engine_dma_map_page(dev, 0x5000, K4, ENGINE_DMA_TO_DEVICE, &a, &t.err), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(engine_dma_map_page(dev, 0x6000, 2 * K4, ENGINE_DMA_TO_DEVICE, &b, &t.err), 0);
	assert_int_equal(b, 0x2000);
	engine_dma_unmap_page(dev, a, K4);
	/* next fit: the freed page is not reused until the window wraps */
	assert_int_equal(engine_dma_map_page(dev, 0x7000, K4, ENGINE_DMA_TO_DEVICE, &c, &t.err), 0);
	assert_int_not_equal(c, a);
	tenv_no_mismatch(&t);
	dc.allocator = "buddy";
	assert_int_equal(engine_domain_add(t.e, &dc, &d2, &t.err), -EINVAL);
	assert_non_null(strstr(t.err.msg, "buddy"));
	engine_free(t.e);
}

/* ---- scatterlists ---- */

static void test_sg_first_not_aligned(void **state)
{
	struct denv x;
	struct engine_sg sg[2] = {
		{ .phys = 0x10200, .length = 0xe00 },
		{ .phys = 0x20000, .length = 0x1000 },
	};

	(void)state;
	denv_up(&x, 1, ENGINE_STRICT, 0);
	/* the second starts on a granule and the first ends on one: joined */
	assert_int_equal(engine_dma_map_sg(x.dev, sg, 2, ENGINE_DMA_TO_DEVICE,
					   &x.t.err), 1);
	assert_int_equal(sg[0].dma_address, 0xffffe200);
	assert_int_equal(sg[0].dma_length, 0x1e00);
	assert_int_equal(sg[1].dma_length, 0);
	assert_int_equal(leaf_size_at(&x.t, 0xffffe000), K4);
	assert_int_equal(leaf_size_at(&x.t, 0xfffff000), K4);
	assert_int_equal(engine_dma_access(x.t.d, 0xffffe200, 0x1e00, false),
			 ENGINE_ACCESS_OK);
	/* read-only for the device */
	assert_int_equal(engine_dma_access(x.t.d, 0xfffff000, 4, true),
			 ENGINE_ACCESS_PERM_FAULT);
	engine_dma_unmap_sg(x.dev, sg, 2);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 0);
	/* a segment ending inside a granule closes the DMA segment */
	sg[0] = (struct engine_sg){ .phys = 0x30000, .length = 0x800 };
	sg[1] = (struct engine_sg){ .phys = 0x40000, .length = 0x1000 };
	assert_int_equal(engine_dma_map_sg(x.dev, sg, 2, ENGINE_DMA_TO_DEVICE,
					   &x.t.err), 2);
	assert_int_equal(sg[1].dma_address, sg[0].dma_address + K4);
	assert_int_equal(sg[0].dma_length, 0x800);
	engine_dma_unmap_sg(x.dev, sg, 2);
	tenv_no_mismatch(&x.t);
	engine_free(x.t.e);
}

static void test_sg_boundary_smaller_than_segment(void **state)
{
	struct engine_domain_config dc;
	struct engine_dev_config devc;
	struct engine_dev *dev;
	struct tenv t;
	struct engine_sg sg[2] = {
		{ .phys = 0x100000, .length = 0x3000 },
		{ .phys = 0x200000, .length = 0x3000 },
	};

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	engine_dev_config_default(&devc);
	devc.seg_boundary_mask = 0x1fff; /* 8K boundary, 12K segments */
	assert_int_equal(engine_dev_add(t.e, t.d, &devc, &dev, &t.err), 0);
	assert_int_equal(engine_dma_map_sg(dev, sg, 2, ENGINE_DMA_FROM_DEVICE,
					   &t.err), 2);
	/* 4K of padding after the first puts the second on a boundary; the
	 * padding maps the memory that follows the first buffer */
	assert_int_equal(sg[1].dma_address, sg[0].dma_address + 0x4000);
	assert_int_equal(sg[0].dma_length, 0x3000);
	assert_int_equal(sg[1].dma_length, 0x3000);
	assert_int_equal(engine_domain_mapped_bytes(t.d), 0x7000);
	assert_int_equal(engine_dma_access(t.d, sg[0].dma_address + 0x3000, 4, true),
			 ENGINE_ACCESS_OK);
	engine_dma_unmap_sg(dev, sg, 2);
	assert_int_equal(engine_domain_mapped_bytes(t.d), 0);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

static void test_sg_max_segment_and_4g(void **state)
{
	struct engine_domain_config dc;
	struct engine_dev_config devc;
	struct engine_dev *dev;
	struct tenv t;
	struct engine_sg sg[3] = {
		{ .phys = 0x100000, .length = 0x8000 },
		{ .phys = 0x300000, .length = 0x8000 },
		{ .phys = 0x500000, .length = 0x8000 },
	};

	(void)state;
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	engine_dev_config_default(&devc);
	assert_int_equal(engine_dev_add(t.e, t.d, &devc, &dev, &t.err), 0);
	/* 64K maximum: two 32K segments join, the third starts anew */
	assert_int_equal(engine_dma_map_sg(dev, sg, 3, ENGINE_DMA_BIDIRECTIONAL,
					   &t.err), 2);
	assert_int_equal(sg[0].dma_length, 0x10000);
	assert_int_equal(sg[1].dma_address, sg[0].dma_address + 0x10000);
	assert_int_equal(sg[1].dma_length, 0x8000);
	assert_int_equal(sg[2].dma_length, 0);
	engine_dma_unmap_sg(dev, sg, 3);
	engine_free(t.e);

	/* a join that would reach 4 GiB is not made; a segment that rounds
	 * past 32 bits is refused */
	tenv_engine(&t, 1);
	tenv_vtd(&t, &dc);
	tenv_domain(&t, &dc);
	engine_dev_config_default(&devc);
	devc.pci = false;
	devc.max_seg_size = UINT32_MAX;
	devc.seg_boundary_mask = UINT64_MAX;
	assert_int_equal(engine_dev_add(t.e, t.d, &devc, &dev, &t.err), 0);
	sg[0] = (struct engine_sg){ .phys = 0x100000000ull, .length = 0x80000000u };
	sg[1] = (struct engine_sg){ .phys = 0x200000000ull, .length = 0x80000000u };
	assert_int_equal(engine_dma_map_sg(dev, sg, 2, ENGINE_DMA_BIDIRECTIONAL,
					   &t.err), 2);
	assert_int_equal(sg[1].dma_address, sg[0].dma_address + 0x80000000u);
	/* one 4 GiB-aligned IOVA range: 1G pages */
	assert_int_equal(tenv_report(&t)->pages_mapped[30], 4);
	engine_dma_unmap_sg(dev, sg, 2);
	sg[0] = (struct engine_sg){ .phys = 0x100000001ull, .length = 0xffffffffu };
	assert_int_equal(engine_dma_map_sg(dev, sg, 1, ENGINE_DMA_BIDIRECTIONAL,
					   &t.err), -EINVAL);
	assert_int_equal(sg[0].dma_length, 0);
	assert_int_equal(engine_domain_mapped_bytes(t.d), 0);
	tenv_no_mismatch(&t);
	engine_free(t.e);
}

/* ---- flush queue ---- */

static void test_fq_timeout_vs_full(void **state)
{
	struct denv x;
	const struct engine_report *r;
	uint64_t dma[8];

	(void)state;
	denv_up(&x, 1, ENGINE_LAZY, 4);
	assert_int_equal(engine_at(x.t.e, 1000, 0, &x.t.err), 0);
	for (int i = 0; i < 3; i++)
		dma[i] = map_page(&x, 0x100000 + i * K4, K4);
	for (int i = 0; i < 3; i++)
		engine_dma_unmap_page(x.dev, dma[i], K4);
	r = tenv_report(&x.t);
	assert_int_equal(r->fq_pending, 3);
	assert_int_equal(r->stale_open, 3);
	/* the timer runs 10 ms after the first queued entry */
	assert_int_equal(engine_at(x.t.e, 1000 + 10 * MS - 1, 0, &x.t.err), 0);
	assert_int_equal(tenv_report(&x.t)->flushes[ENGINE_FLUSH_FQ_TIMEOUT], 0);
	assert_int_equal(engine_at(x.t.e, 1000 + 20 * MS, 0, &x.t.err), 0);
	r = tenv_report(&x.t);
	assert_int_equal(r->flushes[ENGINE_FLUSH_FQ_TIMEOUT], 1);
	assert_int_equal(r->inv.vtd_dsi, 1);
	assert_int_equal(r->fq_released, 3);
	assert_int_equal(r->fq_pending, 0);
	assert_int_equal(r->stale_open, 0);
	/* windows end at the timer, not at the next record */
	assert_int_equal(r->stale_ns_max, 10 * MS);
	assert_int_equal(r->flushes[ENGINE_FLUSH_STRICT], 0);
	/* four unmaps in a row fill the 3-entry ring */
	for (int i = 0; i < 4; i++)
		dma[i] = map_page(&x, 0x200000 + i * K4, K4);
	for (int i = 0; i < 4; i++)
		engine_dma_unmap_page(x.dev, dma[i], K4);
	r = tenv_report(&x.t);
	assert_int_equal(r->flushes[ENGINE_FLUSH_FQ_FULL], 1);
	assert_int_equal(r->fq_pending, 1);
	assert_int_equal(r->fq_max_depth, 3);
	engine_drain(x.t.e);
	r = tenv_report(&x.t);
	assert_int_equal(r->flushes[ENGINE_FLUSH_FQ_TIMEOUT], 2);
	assert_int_equal(r->fq_pending, 0);
	assert_int_equal(r->reuse_before_flush, 0);
	tenv_no_mismatch(&x.t);
	engine_free(x.t.e);
}

static void test_fq_iova_released_after_flush(void **state)
{
	struct denv x;
	uint64_t a, b, c;

	(void)state;
	denv_up(&x, 2, ENGINE_LAZY, 0);
	assert_int_equal(engine_at(x.t.e, 0, 1, &x.t.err), 0);
	a = map_page(&x, 0x100000, K4);
	engine_dma_unmap_page(x.dev, a, K4);
	/* not free yet: the next allocation goes elsewhere */
	b = map_page(&x, 0x200000, K4);
	assert_int_not_equal(a, b);
	/* the per-CPU timer frees it into CPU 1's range cache (it armed the
	 * timer), so CPU 1 gets it back and CPU 0 does not */
	assert_int_equal(engine_at(x.t.e, 11 * MS, 0, &x.t.err), 0);
	c = map_page(&x, 0x300000, K4);
	assert_int_not_equal(c, a);
	assert_int_equal(engine_at(x.t.e, 12 * MS, 1, &x.t.err), 0);
	assert_int_equal(map_page(&x, 0x400000, K4), a);
	assert_int_equal(tenv_report(&x.t)->reuse_before_flush, 0);
	engine_free(x.t.e);
}

static void test_fq_single_queue(void **state)
{
	struct engine_domain_config dc;
	struct engine_dev_config devc;
	struct engine_dev *dev;
	struct tenv t;
	uint64_t dma[3];
	const struct engine_report *r;

	(void)state;
	tenv_engine(&t, 4);
	tenv_vtd(&t, &dc);
	dc.policy = ENGINE_LAZY_SINGLE;
	tenv_domain(&t, &dc);
	engine_dev_config_default(&devc);
	assert_int_equal(engine_dev_add(t.e, t.d, &devc, &dev, &t.err), 0);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(engine_at(t.e, i * MS, i, &t.err), 0);
		assert_int_equal(engine_dma_map_page(dev, 0x100000 + i * K4, K4,
						     ENGINE_DMA_TO_DEVICE, &dma[i],
						     &t.err), 0);
		engine_dma_unmap_page(dev, dma[i], K4);
	}
	r = tenv_report(&t);
	assert_int_equal(r->fq_pending, 3);
	assert_int_equal(r->fq_max_depth, 3); /* one ring for all CPUs */
	assert_int_equal(engine_at(t.e, 999 * MS, 0, &t.err), 0);
	assert_int_equal(tenv_report(&t)->flushes[ENGINE_FLUSH_FQ_TIMEOUT], 0);
	assert_int_equal(engine_at(t.e, 1000 * MS, 0, &t.err), 0);
	r = tenv_report(&t);
	assert_int_equal(r->flushes[ENGINE_FLUSH_FQ_TIMEOUT], 1);
	assert_int_equal(r->stale_ns_max, 1000 * MS);
	assert_int_equal(r->stale_ns.min, 998 * MS);
	engine_free(t.e);
}

static void test_reuse_and_stale_access_in_lazy_domain(void **state)
{
	struct denv x;
	uint64_t a;
	const struct engine_report *r;

	(void)state;
	denv_up(&x, 1, ENGINE_LAZY, 0);
	a = map_page(&x, 0x100000, K4);
	engine_dma_unmap_page(x.dev, a, K4);
	/* the device may still reach the old page through the IOTLB */
	assert_int_equal(engine_dma_access(x.t.d, a, 64, true), ENGINE_ACCESS_STALE);
	/* someone maps that IOVA through the IOMMU API before the flush */
	assert_int_equal(engine_map(x.t.d, a, 0x900000, K4, RW, &x.t.err), 0);
	assert_int_equal(engine_dma_access(x.t.d, a, 64, false), ENGINE_ACCESS_STALE);
	r = tenv_report(&x.t);
	assert_int_equal(r->reuse_before_flush, 1);
	assert_int_equal(r->stale_hits, 2);
	assert_int_equal(tenv_findings(&x.t, "engine.dma.stale-hit"), 2);
	assert_int_equal(r->findings_by_severity[SEV_ERROR], 2);
	engine_free(x.t.e);
}

static void test_untrusted_device_is_strict(void **state)
{
	struct denv x;
	struct engine_dev_config devc;
	struct engine_dev *ext;
	uint64_t dma;
	const struct engine_report *r;

	(void)state;
	denv_up(&x, 1, ENGINE_LAZY, 0);
	engine_dev_config_default(&devc);
	devc.untrusted = true;
	assert_int_equal(engine_dev_add(x.t.e, x.t.d, &devc, &ext, &x.t.err), 0);
	assert_int_equal(engine_dma_map_page(ext, 0x100000, K4, ENGINE_DMA_TO_DEVICE,
					     &dma, &x.t.err), 0);
	engine_dma_unmap_page(ext, dma, K4);
	r = tenv_report(&x.t);
	assert_int_equal(r->fq_queued, 0);
	assert_int_equal(r->flushes[ENGINE_FLUSH_STRICT], 1);
	assert_int_equal(r->stale_open, 0);
	engine_free(x.t.e);
}

/* ---- two-step IOVA API ---- */

static void test_two_step(void **state)
{
	struct denv x;
	struct engine_iova_state st;
	const struct engine_report *r;

	(void)state;
	denv_up(&x, 1, ENGINE_STRICT, 0);
	assert_true(engine_dma_iova_try_alloc(x.dev, &st, 0x10100, 0x2f00));
	/* 0x3000 with the sub-granule offset 0x100 kept in the address */
	assert_int_equal(st.addr, 0xffffc100);
	assert_int_equal(engine_dma_iova_link(x.dev, &st, 0x10100, 0, 0xf00,
					      ENGINE_DMA_TO_DEVICE, &x.t.err), 0);
	/* a later link must start on a granule */
	assert_int_equal(engine_dma_iova_link(x.dev, &st, 0x30100, 0xf00, 0x1000,
					      ENGINE_DMA_TO_DEVICE, &x.t.err), -EIO);
	assert_int_equal(engine_dma_iova_link(x.dev, &st, 0x30000, 0xf00, 0x2000,
					      ENGINE_DMA_TO_DEVICE, &x.t.err), 0);
	assert_int_equal(engine_dma_iova_sync(x.dev, &st, 0, 0x2f00), 0);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 0x3000);
	assert_int_equal(engine_dma_access(x.t.d, 0xffffd000, 0x2000, false),
			 ENGINE_ACCESS_OK);
	/* unlink the second part, keep the IOVA */
	engine_dma_iova_unlink(x.dev, &st, 0xf00, 0x2000);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 0x1000);
	assert_int_equal(tenv_report(&x.t)->iova_pages_in_use, 4);
	/* destroy unlinks the rest and frees the range */
	engine_dma_iova_destroy(x.dev, &st, 0xf00);
	r = tenv_report(&x.t);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 0);
	assert_int_equal(r->flushes[ENGINE_FLUSH_STRICT], 2);
	assert_int_equal(r->iova_bad_frees, 0);
	/* nothing linked: free only */
	assert_true(engine_dma_iova_try_alloc(x.dev, &st, 0x50000, 0x1000));
	engine_dma_iova_free(x.dev, &st);
	assert_int_equal(tenv_report(&x.t)->iova_bad_frees, 0);
	tenv_no_mismatch(&x.t);
	engine_free(x.t.e);
}

/* ---- random DMA traffic ---- */

struct live {
	bool sg;
	uint64_t dma, size;
	struct engine_sg ents[4];
	size_t n;
};

static void random_dma(enum engine_policy policy, unsigned cpus, uint64_t seed)
{
	enum { SLOTS = 64 };
	struct denv x;
	struct live live[SLOTS] = { 0 };
	bool used[SLOTS] = { 0 };
	uint64_t s = seed, now = 0;
	const struct engine_report *r;

	denv_up(&x, cpus, policy, 0);
	for (unsigned i = 0; i < 4000; i++) {
		unsigned k;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		k = s % SLOTS;
		now += s % (3 * MS / 2);
		assert_int_equal(engine_at(x.t.e, now, (unsigned)(s >> 20) % cpus,
					   &x.t.err), 0);
		if (used[k]) {
			if (live[k].sg)
				engine_dma_unmap_sg(x.dev, live[k].ents, live[k].n);
			else
				engine_dma_unmap_page(x.dev, live[k].dma, live[k].size);
			used[k] = false;
		} else if ((s >> 30) % 3 == 0) {
			live[k].sg = true;
			live[k].n = 1 + (s >> 33) % 4;
			for (size_t j = 0; j < live[k].n; j++)
				live[k].ents[j] = (struct engine_sg){
					.phys = ((s >> (8 + j)) % 4096) * 0x1000 +
						(j ? 0 : (s >> 40) % 0x1000),
					.length = (uint32_t)(0x200 + (s >> (12 + j)) % 0x6000),
				};
			assert_true(engine_dma_map_sg(x.dev, live[k].ents, live[k].n,
						      ENGINE_DMA_BIDIRECTIONAL,
						      &x.t.err) > 0);
			used[k] = true;
		} else {
			live[k].sg = false;
			live[k].size = 1 + (s >> 35) % 0x9000;
			assert_int_equal(engine_dma_map_page(x.dev, (s >> 16) % (1ull << 36),
							     live[k].size,
							     ENGINE_DMA_BIDIRECTIONAL,
							     &live[k].dma, &x.t.err), 0);
			used[k] = true;
		}
		if (i % 1000 == 999)
			tenv_check_all(&x.t);
	}
	for (unsigned k = 0; k < SLOTS; k++)
		if (used[k]) {
			if (live[k].sg)
				engine_dma_unmap_sg(x.dev, live[k].ents, live[k].n);
			else
				engine_dma_unmap_page(x.dev, live[k].dma, live[k].size);
		}
	engine_drain(x.t.e);
	r = tenv_report(&x.t);
	tenv_check_all(&x.t);
	tenv_no_mismatch(&x.t);
	assert_int_equal(engine_domain_mapped_bytes(x.t.d), 0);
	assert_int_equal(r->reuse_before_flush, 0);
	assert_int_equal(r->iova_bad_frees, 0);
	assert_int_equal(r->findings_total, 0);
	assert_int_equal(r->fq_pending, 0);
	assert_int_equal(r->stale_open, 0);
	/* every IOVA still allocated sits in a range cache */
	assert_int_equal(r->iova_pages_in_use, r->iova_pages_cached);
	if (policy != ENGINE_STRICT)
		assert_true(r->flushes[ENGINE_FLUSH_FQ_TIMEOUT] > 0);
	engine_free(x.t.e);
}

static void test_random_dma_strict(void **state)
{
	(void)state;
	random_dma(ENGINE_STRICT, 1, 0x1234567);
	random_dma(ENGINE_STRICT, 4, 0x7654321);
}

static void test_random_dma_lazy(void **state)
{
	(void)state;
	random_dma(ENGINE_LAZY, 4, 0xabcdef1);
	random_dma(ENGINE_LAZY_SINGLE, 2, 0x1feedbee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_page_at_4g_minus_4k),
		cmocka_unit_test(test_offset_rounding),
		cmocka_unit_test(test_32bit_fallback),
		cmocka_unit_test(test_bitmap_allocator_domain),
		cmocka_unit_test(test_sg_first_not_aligned),
		cmocka_unit_test(test_sg_boundary_smaller_than_segment),
		cmocka_unit_test(test_sg_max_segment_and_4g),
		cmocka_unit_test(test_fq_timeout_vs_full),
		cmocka_unit_test(test_fq_iova_released_after_flush),
		cmocka_unit_test(test_fq_single_queue),
		cmocka_unit_test(test_reuse_and_stale_access_in_lazy_domain),
		cmocka_unit_test(test_untrusted_device_is_strict),
		cmocka_unit_test(test_two_step),
		cmocka_unit_test(test_random_dma_strict),
		cmocka_unit_test(test_random_dma_lazy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
