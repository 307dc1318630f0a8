/* What an IOTLB invalidation costs per IOMMU, computed the way the Linux
 * drivers build their commands (formats.md §1.13, §2.7, §3.5):
 *   VT-d   page-selective (PSI) with an address mask, falling back to
 *          domain-selective when PSI is missing or the mask exceeds MAMV;
 *          PASID-based for first-level tables; DSI for flush-all
 *   AMD    INVALIDATE_IOMMU_PAGES for one page, an aligned power-of-two
 *          range, or all pages; NpCache splits ranges into aligned chunks
 *   SMMUv3 TLBI by VA (one per granule, or range commands with RIL), by
 *          ASID for flush-all
 * Each command is counted and its coverage reported, so the stale model
 * knows which unmapped IOVAs it made safe. */
#ifndef IOMMUTOOL_ENGINE_INVAL_H
#define IOMMUTOOL_ENGINE_INVAL_H

#include <stdbool.h>
#include <stdint.h>

enum inv_model {
	INV_MODEL_VTD,
	INV_MODEL_AMD,
	INV_MODEL_SMMU,
};

struct inv_caps {
	enum inv_model model;
	bool vtd_psi;             /* CAP_REG.PSI */
	unsigned vtd_mamv;        /* CAP_REG.MAMV */
	bool vtd_caching_mode;    /* CAP_REG.CM: not-present entries cached */
	bool vtd_first_level;     /* first-stage table: PASID-based IOTLB */
	bool amd_np_cache;        /* EFR/CAP NpCache: not-present cached */
	bool smmu_range_inv;      /* IDR3.RIL */
	unsigned smmu_tg_shift;   /* log2 of the smallest page size */
	uint64_t smmu_max_tlbi_ops; /* >0: that many per-page TLBIs or more
				     * become one by-ASID TLBI (no RIL) */
};

/* Commands issued, by kind.  AM / SCALE-NUM histograms index by value. */
struct inv_counts {
	uint64_t vtd_psi[64];     /* IOTLB PSI, by AM */
	uint64_t vtd_piotlb[64];  /* PASID-based page-selective, by AM */
	uint64_t vtd_dsi;         /* IOTLB domain-selective */
	uint64_t vtd_pasid_all;   /* PASID-based, all of one PASID */
	uint64_t vtd_global;
	uint64_t amd_page;        /* INVALIDATE_IOMMU_PAGES S=0 */
	uint64_t amd_range;       /* S=1, a power-of-two block */
	uint64_t amd_all;         /* S=1, the all-pages address */
	uint64_t smmu_tlbi_va;    /* TLBI_NH_VA without range (TG=0) */
	uint64_t smmu_tlbi_va_range; /* TLBI_NH_VA with TG/SCALE/NUM */
	uint64_t smmu_tlbi_asid;  /* TLBI_NH_ASID */
	uint64_t syncs;           /* wait / COMPLETION_WAIT / CMD_SYNC */
};

/* Receives each invalidated IOVA range [start, end), or everything. */
struct inv_cover {
	void (*range)(void *ctx, uint64_t start, uint64_t end);
	void (*all)(void *ctx);
	void *ctx;
};

/* The driver's iotlb_sync for a gathered range [start, last] (inclusive,
 * as the gather keeps it); @granule is the gather's page size (SMMU uses
 * it as the TLBI stride), @leaf false for table-walk invalidations. */
void inv_range(const struct inv_caps *caps, uint64_t start, uint64_t last,
	       uint64_t granule, bool leaf, struct inv_counts *c,
	       const struct inv_cover *cover);
/* flush_iotlb_all: DSI / all pages / by ASID; @global makes VT-d use a
 * global invalidation (old lazy-flush kernels). */
void inv_all(const struct inv_caps *caps, bool global, struct inv_counts *c,
	     const struct inv_cover *cover);
/* iotlb_sync_map for a new mapping [start, last]: only when not-present
 * entries may be cached (VT-d caching mode, AMD NpCache).  Returns false
 * when nothing was invalidated. */
bool inv_map(const struct inv_caps *caps, uint64_t start, uint64_t last,
	     struct inv_counts *c, const struct inv_cover *cover);

/* The one counter (besides syncs) that inv_range() bumps for a leaf
 * invalidation of a single aligned page of INV_PAGE_SIZE when that command
 * covers exactly the page; NULL when it depends on more than that (SMMU
 * strides, VT-d without PSI).  Lets the strict single-page unmap count
 * its command without building it. */
#define INV_PAGE_SIZE 4096ull
uint64_t *inv_page_counter(const struct inv_caps *caps, struct inv_counts *c);

/* VT-d calculate_psi_aligned_address: the PSI address and mask (AM) that
 * cover [start, last]. */
uint64_t vtd_psi_address(uint64_t start, uint64_t last, unsigned *mask);
/* AMD build_inv_address: fills the command's address field (bits 63:12
 * with the size encoding) and S; false S means one 4 KiB page. */
uint64_t amd_inv_address(uint64_t start, uint64_t size, bool *s);
/* The IOVA range an AMD address/S pair covers; false for all pages. */
bool amd_inv_cover(uint64_t addr, bool s, uint64_t *start, uint64_t *end);

#endif
