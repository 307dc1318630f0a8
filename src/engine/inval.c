/* Invalidation commands per IOMMU, computed as the Linux drivers do; see
 * inval.h.  Sources: drivers/iommu/intel/cache.c
 * (calculate_psi_aligned_address, cache_tag_flush_range/_all/_range_np),
 * drivers/iommu/amd/iommu.c (build_inv_address, domain_flush_pages with
 * NpCache), drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c
 * (__arm_smmu_tlb_inv_range). */
#include "engine/inval.h"

#include <stddef.h>

/* VT-d: PSI addresses and AM count 4 KiB pages (formats.md §1.13). */
#define VTD_PAGE_SHIFT 12
/* Linux MAX_AGAW_PFN_WIDTH: the widest mask calculate_psi_* returns. */
#define VTD_MAX_MASK 52
/* AMD: pages are 4 KiB; S=1 addresses above bit 51 mean "all pages"
 * (CMD_INV_IOMMU_ALL_PAGES_ADDRESS, formats.md §2.7). */
#define AMD_PAGE_SHIFT 12
#define AMD_MAX_RANGE_MSB 51
/* SMMUv3 range TLBI: NUM is 5 bits (CMDQ_TLBI_RANGE_NUM_MAX). */
#define SMMU_TLBI_RANGE_NUM_MAX 31

static inline unsigned fls64_idx(uint64_t v) /* index of highest set bit */
{
	return 63 - (unsigned)__builtin_clzll(v);
}

static void cover_range(const struct inv_cover *cv, uint64_t start, uint64_t end)
{
	if (cv && cv->range)
		cv->range(cv->ctx, start, end);
}

static void cover_all(const struct inv_cover *cv)
{
	if (cv && cv->all)
		cv->all(cv->ctx);
}

uint64_t vtd_psi_address(uint64_t start, uint64_t last, unsigned *maskp)
{
	uint64_t size = last - start + 1;
	uint64_t pages, pfn = start >> VTD_PAGE_SHIFT;
	unsigned mask;

	/* pages touched by [start, last] (aligned_nrpages) */
	pages = ((start & ((1ull << VTD_PAGE_SHIFT) - 1)) + size +
		 (1ull << VTD_PAGE_SHIFT) - 1) >> VTD_PAGE_SHIFT;
	if (size == 0 || pages > (1ull << VTD_MAX_MASK)) {
		*maskp = VTD_MAX_MASK;
		return 0;
	}
	mask = pages <= 1 ? 0 : fls64_idx(pages - 1) + 1;
	if (pfn & ((1ull << mask) - 1)) {
		/* the aligned block at @pfn misses the end: widen the mask to
		 * the lowest bit above it where start and end pfn agree */
		uint64_t end_pfn = pfn + pages - 1;
		uint64_t shared = ~(pfn ^ end_pfn) & ~((1ull << mask) - 1);

		mask = shared ? (unsigned)__builtin_ctzll(shared) : VTD_MAX_MASK;
		if (mask > VTD_MAX_MASK)
			mask = VTD_MAX_MASK;
	}
	*maskp = mask;
	if (mask >= VTD_MAX_MASK)
		return 0;
	return start & ~((1ull << (VTD_PAGE_SHIFT + mask)) - 1);
}

/* One IOTLB (second-level) or PASID-based (first-level) invalidation of
 * [start, last]; flush-on-map and unmap share it. */
static void vtd_flush_range(const struct inv_caps *caps, uint64_t start,
			    uint64_t last, struct inv_counts *c,
			    const struct inv_cover *cv)
{
	unsigned mask;
	uint64_t addr = vtd_psi_address(start, last, &mask);

	if (caps->vtd_first_level) {
		if (mask >= VTD_MAX_MASK) {
			c->vtd_pasid_all++;
			cover_all(cv);
		} else {
			c->vtd_piotlb[mask]++;
			cover_range(cv, addr, addr + (1ull << (VTD_PAGE_SHIFT + mask)));
		}
	} else if (!caps->vtd_psi || mask > caps->vtd_mamv ||
		   mask >= VTD_MAX_MASK) {
		c->vtd_dsi++;
		cover_all(cv);
	} else {
		c->vtd_psi[mask]++;
		cover_range(cv, addr, addr + (1ull << (VTD_PAGE_SHIFT + mask)));
	}
	c->syncs++; /* invalidation wait descriptor */
}

uint64_t amd_inv_address(uint64_t start, uint64_t size, bool *s)
{
	uint64_t page_mask = (1ull << AMD_PAGE_SHIFT) - 1;
	uint64_t pages = ((start & page_mask) + size + page_mask) >> AMD_PAGE_SHIFT;
	uint64_t end = start + size - 1;
	unsigned msb;

	if (pages <= 1) {
		*s = false;
		return start & ~page_mask;
	}
	*s = true;
	msb = fls64_idx(end ^ start);
	if (size == 0 || end < start || msb > AMD_MAX_RANGE_MSB)
		return UINT64_MAX & ~page_mask; /* all pages */
	return (start | ((1ull << msb) - 1)) & ~page_mask;
}

bool amd_inv_cover(uint64_t addr, bool s, uint64_t *start, uint64_t *end)
{
	uint64_t p;

	if (!s) {
		*start = addr;
		*end = addr + (1ull << AMD_PAGE_SHIFT);
		return true;
	}
	/* size 2^(p+1), p = lowest clear bit at or above bit 12 */
	p = (uint64_t)__builtin_ctzll(~(addr >> AMD_PAGE_SHIFT)) + AMD_PAGE_SHIFT;
	if (p > AMD_MAX_RANGE_MSB)
		return false;
	*start = addr & ~((2ull << p) - 1);
	*end = *start + (2ull << p);
	return true;
}

static void amd_flush_one(uint64_t start, uint64_t size, struct inv_counts *c,
			  const struct inv_cover *cv)
{
	bool s;
	uint64_t addr = amd_inv_address(start, size, &s), lo, hi;

	if (!amd_inv_cover(addr, s, &lo, &hi)) {
		c->amd_all++;
		cover_all(cv);
		return;
	}
	if (s)
		c->amd_range++;
	else
		c->amd_page++;
	cover_range(cv, lo, hi);
}

static void amd_flush_pages(const struct inv_caps *caps, uint64_t start,
			    uint64_t last, struct inv_counts *c,
			    const struct inv_cover *cv)
{
	uint64_t size = last - start + 1;

	if (size == 0) { /* the whole 64-bit space */
		c->amd_all++;
		cover_all(cv);
	} else if (!caps->amd_np_cache) {
		amd_flush_one(start, size, c, cv);
	} else {
		/* behind a vIOMMU: naturally aligned chunks only, each the
		 * smaller of the address alignment and the largest power of
		 * two that fits the rest */
		while (size) {
			unsigned a = start ? (unsigned)__builtin_ctzll(start) : 64;
			unsigned m = fls64_idx(size);
			uint64_t chunk = 1ull << (a < m ? a : m);

			amd_flush_one(start, chunk, c, cv);
			start += chunk;
			size -= chunk;
		}
	}
	c->syncs++; /* COMPLETION_WAIT */
}

static void smmu_flush_range(const struct inv_caps *caps, uint64_t start,
			     uint64_t last, uint64_t granule, bool leaf,
			     struct inv_counts *c, const struct inv_cover *cv)
{
	uint64_t size = last - start + 1, iova = start, end;
	unsigned tg = caps->smmu_tg_shift;

	if (!granule)
		granule = 1ull << tg;
	if (size == 0 || (!caps->smmu_range_inv && caps->smmu_max_tlbi_ops &&
			  size / granule >= caps->smmu_max_tlbi_ops)) {
		c->smmu_tlbi_asid++;
		cover_all(cv);
		c->syncs++;
		return;
	}
	end = start + size;
	if (!caps->smmu_range_inv) {
		while (iova < end && iova >= start) {
			c->smmu_tlbi_va++;
			iova += granule;
		}
	} else {
		uint64_t num_pages = size >> tg;

		/* SCALE = NUM = TTL = 0 is reserved for non-leaf commands */
		if (!leaf && (num_pages & SMMU_TLBI_RANGE_NUM_MAX) == 1)
			num_pages++;
		while (iova < end && num_pages) {
			unsigned scale = (unsigned)__builtin_ctzll(num_pages);
			uint64_t num = (num_pages >> scale) & SMMU_TLBI_RANGE_NUM_MAX;

			c->smmu_tlbi_va_range++;
			iova += num << (scale + tg);
			num_pages -= num << scale;
		}
	}
	if (iova < start) /* wrapped at the top of the address space */
		cover_all(cv);
	else
		cover_range(cv, start, iova);
	c->syncs++; /* CMD_SYNC */
}

void inv_range(const struct inv_caps *caps, uint64_t start, uint64_t last,
	       uint64_t granule, bool leaf, struct inv_counts *c,
	       const struct inv_cover *cover)
{
	switch (caps->model) {
	case INV_MODEL_VTD:
		vtd_flush_range(caps, start, last, c, cover);
		break;
	case INV_MODEL_AMD:
		amd_flush_pages(caps, start, last, c, cover);
		break;
	case INV_MODEL_SMMU:
		smmu_flush_range(caps, start, last, granule, leaf, c, cover);
		break;
	}
}

void inv_all(const struct inv_caps *caps, bool global, struct inv_counts *c,
	     const struct inv_cover *cover)
{
	switch (caps->model) {
	case INV_MODEL_VTD:
		if (global)
			c->vtd_global++;
		else if (caps->vtd_first_level)
			c->vtd_pasid_all++;
		else
			c->vtd_dsi++;
		break;
	case INV_MODEL_AMD:
		c->amd_all++;
		break;
	case INV_MODEL_SMMU:
		c->smmu_tlbi_asid++;
		break;
	}
	c->syncs++;
	cover_all(cover);
}

uint64_t *inv_page_counter(const struct inv_caps *caps, struct inv_counts *c)
{
	switch (caps->model) {
	case INV_MODEL_VTD:
		/* one page: AM 0 at the page itself, never above MAMV */
		if (caps->vtd_first_level)
			return &c->vtd_piotlb[0];
		return caps->vtd_psi ? &c->vtd_psi[0] : NULL;
	case INV_MODEL_AMD:
		/* one page is S=0, with or without NpCache chunking */
		return &c->amd_page;
	case INV_MODEL_SMMU:
		return NULL;
	}
	return NULL;
}

bool inv_map(const struct inv_caps *caps, uint64_t start, uint64_t last,
	     struct inv_counts *c, const struct inv_cover *cover)
{
	switch (caps->model) {
	case INV_MODEL_VTD:
		/* without caching mode (or for first-level tables) only the
		 * write buffer is flushed */
		if (!caps->vtd_caching_mode || caps->vtd_first_level)
			return false;
		vtd_flush_range(caps, start, last, c, cover);
		return true;
	case INV_MODEL_AMD:
		if (!caps->amd_np_cache)
			return false;
		amd_flush_pages(caps, start, last, c, cover);
		return true;
	case INV_MODEL_SMMU:
		return false;
	}
	return false;
}
