/* The replay engine: does to a simulated IOMMU domain what the Linux IOMMU
 * core and dma-iommu do (formats.md §5) and reports what it cost.
 *
 *   engine          clock (trace time + CPU), arena for page tables,
 *                   report, findings
 *   engine_domain   one translation domain: a page-table codec (pt_mapper),
 *                   a pgsize bitmap, a policy (strict / lazy flush queue),
 *                   the IOTLB invalidation model of its IOMMU, an IOVA
 *                   allocator, the stale-IOTLB model and (with check on)
 *                   a reference model of every 4 KiB page
 *   engine_dev      a device attached to a domain, for the DMA API layer
 *
 * Time comes from the records, never from the wall clock: engine_at()
 * sets the time and CPU of the next operations, and timers (flush-queue
 * timeout, depot trimming) that fall due before that time fire first, at
 * their own due time.
 *
 * Nothing here prints.  Errors: negative errno plus a message in @err.
 * Correctness problems found in the replayed sequence (an IOVA reused
 * before the flush that covers it, a device access through a stale
 * translation, a mismatch with the reference model) are findings in the
 * report, not errors. */
#ifndef IOMMUTOOL_ENGINE_H
#define IOMMUTOOL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/pt.h"
#include "engine/engine_report.h"
#include "util/err.h"

/* prot bits of iommu_map (include/linux/iommu.h, formats.md §5.1) */
#define ENGINE_PROT_READ   (1u << 0)
#define ENGINE_PROT_WRITE  (1u << 1)
#define ENGINE_PROT_CACHE  (1u << 2)
#define ENGINE_PROT_NOEXEC (1u << 3)
#define ENGINE_PROT_MMIO   (1u << 4)
#define ENGINE_PROT_PRIV   (1u << 5)

#define ENGINE_MAX_CPUS 4096
#define ENGINE_MAX_DOMAINS 4096
#define ENGINE_MAX_DEVICES 65536

struct engine;
struct engine_domain;
struct engine_dev;

struct engine_config {
	unsigned nr_cpus;      /* CPUs that records may name (default 1) */
	bool check;            /* verify every operation against the
				* reference model (tests keep it on) */
	bool stale;            /* track unmapped-but-not-invalidated ranges
				* (default on; engine_config_default) */
	uint64_t arena_base;   /* physical window for page-table pages */
	uint64_t arena_limit;  /* bytes */
	unsigned max_findings; /* findings kept in the report (the count of
				* all is always exact) */
	uint64_t max_stale_ranges; /* cap on tracked pending ranges */
	uint64_t max_op_pages; /* page-table leaves one map may write
				* (bounds the work a record can cause);
				* over it: -E2BIG */
};
void engine_config_default(struct engine_config *c);

enum engine_policy {
	ENGINE_STRICT,      /* IOMMU_DOMAIN_DMA: sync on every unmap */
	ENGINE_LAZY,        /* DMA-FQ with per-CPU queues (256, 10 ms) */
	ENGINE_LAZY_SINGLE, /* DMA-FQ with one queue (32768, 1 s) */
};

enum engine_inv_kind {
	ENGINE_INV_AUTO,    /* from the codec: vtd-*, x86-64 → VT-d;
			     * amd-* → AMD; lpae/v7s → SMMU */
	ENGINE_INV_VTD,
	ENGINE_INV_AMD,
	ENGINE_INV_SMMU,
};

/* How unmapped pages are added to the IOTLB gather (formats.md §5.5). */
enum engine_gather_mode {
	ENGINE_GATHER_AUTO,  /* VT-d and SMMU: add_page; AMD: add_range
			      * (forced sync on disjoint ranges with NpCache) */
	ENGINE_GATHER_PAGE,  /* iommu_iotlb_gather_add_page */
	ENGINE_GATHER_RANGE, /* iommu_iotlb_gather_add_range */
};

struct engine_domain_config {
	struct pt_cfg pt;          /* codec and geometry (pt_cfg_init) */
	uint64_t pgsize_bitmap;    /* 0: pt.leaf_sizes */
	enum engine_policy policy;
	enum engine_inv_kind inv;
	enum engine_gather_mode gather;
	/* VT-d CAP_REG bits */
	bool vtd_psi;              /* default true */
	unsigned vtd_mamv;         /* CAP_REG.MAMV; default 18, QEMU's
				    * emulated value (hardware varies) */
	bool vtd_caching_mode;     /* CM=1: flush on map, forces strict */
	bool vtd_global_flush_all; /* flush-all as global (old kernels) */
	bool read_always;          /* every leaf readable, whatever prot says:
				    * Linux 5.12 to 6.15 set the VT-d
				    * second-level R bit with "present"
				    * (commit eea53c581688, undone in 6.16) */
	bool amd_np_cache;
	bool smmu_range_inv;
	uint64_t smmu_max_tlbi_ops;
	int partial_unmap;         /* -1: the codec's; else pt_partial_unmap */
	int free_tables;           /* -1: VT-d/SMMU free the tables an
				    * unmap covers whole, AMD keeps them;
				    * else 0/1 */
	/* IOVA space of the DMA layer */
	const char *allocator;     /* "rbtree" (default) or "bitmap" */
	uint64_t aperture_start;   /* default 0 (pfn 0 is never used) */
	uint64_t aperture_end;     /* inclusive; 0: 2^ias - 1 */
	uint64_t bitmap_pages;     /* bitmap allocator window; 0: 4 GiB */
	bool rcache;               /* per-CPU range caches (default true;
				    * the old AMD bitmap allocator had
				    * none) */
	unsigned rcache_mag_size;  /* 0: 127 */
	unsigned rcache_depot_max; /* 0: v6.7+ list with trimming */
	bool reserve_msi;          /* reserve the MSI window of the IOMMU
				    * (x86 0xfee00000-0xfeefffff, Arm
				    * 0x8000000 + 1 MiB); default true */
	unsigned fq_size;          /* 0: 256 per CPU / 32768 single */
	uint64_t fq_timeout_ns;    /* 0: 10 ms / 1 s */
};
/* IOVA allocators by index, NULL past the end ("rbtree", "bitmap"), for
 * option parsing and help texts. */
const char *engine_allocator_name(unsigned i);

/* Defaults for a domain on @pt (copied). */
void engine_domain_config_default(struct engine_domain_config *c,
				  const struct pt_cfg *pt);

struct engine_dev_config {
	bool pci;                  /* PCI: try below 4 GiB first */
	bool forcedac;             /* iommu.forcedac=1 */
	uint64_t dma_mask;         /* default 64 bits */
	uint64_t bus_dma_limit;    /* 0: none */
	uint64_t seg_boundary_mask; /* default 0xffffffff (PCI) */
	uint32_t max_seg_size;     /* default 65536 */
	bool untrusted;            /* strict flushing whatever the policy */
};
void engine_dev_config_default(struct engine_dev_config *c);

/* ---- engine ---- */

int engine_new(const struct engine_config *cfg, struct engine **out,
	       struct errbuf *err);
void engine_free(struct engine *e);

int engine_domain_add(struct engine *e, const struct engine_domain_config *c,
		      struct engine_domain **out, struct errbuf *err);
int engine_dev_add(struct engine *e, struct engine_domain *d,
		   const struct engine_dev_config *c, struct engine_dev **out,
		   struct errbuf *err);

/* Sets the time (ns) and CPU of the following operations; timers due at
 * or before @time_ns fire first.  A time earlier than the current one is
 * counted (report: time_regressions) and treated as the current time. */
int engine_at(struct engine *e, uint64_t time_ns, unsigned cpu,
	      struct errbuf *err);
/* Runs every armed timer to completion (end of a trace). */
void engine_drain(struct engine *e);
uint64_t engine_now(const struct engine *e);

/* The report, with derived fields (percentiles, IOVA fragmentation)
 * brought up to date.  Valid until the next operation. */
const struct engine_report *engine_report(struct engine *e);

/* ---- IOMMU API (drivers/iommu/iommu.c) on a domain ---- */

/* iommu_map: -EINVAL when iova|pa|size is not a multiple of the smallest
 * page, -EEXIST/-ENOMEM from the codec (after undoing what was mapped).
 * Includes iotlb_sync_map. */
int engine_map(struct engine_domain *d, uint64_t iova, uint64_t pa,
	       uint64_t size, uint32_t prot, struct errbuf *err);
/* One run of driver map_pages calls: @count pages of @pgsize bytes. */
struct engine_pgrun {
	uint64_t pgsize;
	uint64_t count;
};

/* iommu_map with the page sizes the kernel's driver was given (a trace's
 * map_pages record) instead of the domain's own choice: @nr runs, from
 * @iova/@pa on, as one map operation with its iotlb_sync_map.  -EINVAL
 * when the runs are empty or overflow, a size is not one the domain's
 * tables hold, or a run is not aligned to its page size. */
int engine_map_pages(struct engine_domain *d, uint64_t iova, uint64_t pa,
		     const struct engine_pgrun *runs, size_t nr, uint32_t prot,
		     struct errbuf *err);
/* Whether iommu_map's own choice (iommu_pgsize over the domain's pgsize
 * bitmap, formats.md §5.2) would map the range of @runs with the same
 * pages, in the same order.  Changes nothing. */
bool engine_split_matches(const struct engine_domain *d, uint64_t iova,
			  uint64_t pa, const struct engine_pgrun *runs,
			  size_t nr);

/* iommu_map_nosync (no iotlb_sync_map) and the sync on its own. */
int engine_map_nosync(struct engine_domain *d, uint64_t iova, uint64_t pa,
		      uint64_t size, uint32_t prot, struct errbuf *err);
void engine_sync_map(struct engine_domain *d, uint64_t iova, uint64_t size);

/* A caller-owned iommu_iotlb_gather (iommu_unmap_fast + iommu_iotlb_sync). */
struct engine_gather {
	uint64_t start, end;  /* inclusive; start > end when empty */
	uint64_t pgsize;
	bool queued;
};
void engine_gather_init(struct engine_gather *g);

/* iommu_unmap: returns bytes unmapped, which may be less (hole) or more
 * (a larger leaf removed whole) than @size; 0 when misaligned. */
uint64_t engine_unmap(struct engine_domain *d, uint64_t iova, uint64_t size);
uint64_t engine_unmap_fast(struct engine_domain *d, uint64_t iova,
			   uint64_t size, struct engine_gather *g);
void engine_iotlb_sync(struct engine_domain *d, struct engine_gather *g);
/* flush_iotlb_all */
void engine_flush_all(struct engine_domain *d);

/* One scatterlist entry.  Input: phys, length (and offset inside the
 * first page is just phys's low bits).  Output of the DMA layer:
 * dma_address, dma_length (0 = unused). */
struct engine_sg {
	uint64_t phys;
	uint32_t length;
	bool p2p_bus;          /* PCI P2P bus address: not mapped */
	uint64_t dma_address;
	uint32_t dma_length;
	bool dma_bus;          /* output segment is a P2P bus address */
};

/* iommu_map_sg: maps @nents entries at @iova, merging physically
 * contiguous ones; returns bytes mapped or a negative error. */
int64_t engine_map_sg(struct engine_domain *d, uint64_t iova,
		      const struct engine_sg *sg, size_t nents, uint32_t prot,
		      struct errbuf *err);

/* ---- IOVA allocator of a domain (alloc_iova_fast / free_iova_fast) ---- */

/* Bytes rounded up to the granule; returns the IOVA or 0. */
uint64_t engine_iova_alloc(struct engine_domain *d, uint64_t size,
			   uint64_t dma_limit);
void engine_iova_free(struct engine_domain *d, uint64_t iova, uint64_t size);
/* Marks [iova, iova+size) as never allocated (reserved regions). */
int engine_iova_reserve(struct engine_domain *d, uint64_t iova, uint64_t size,
			struct errbuf *err);

/* ---- DMA API (drivers/iommu/dma-iommu.c) on a device ---- */

enum engine_dma_dir {
	ENGINE_DMA_BIDIRECTIONAL = 0,
	ENGINE_DMA_TO_DEVICE = 1,
	ENGINE_DMA_FROM_DEVICE = 2,
	ENGINE_DMA_NONE = 3,
};

/* iommu_dma_map_phys/map_page: *dma = IOVA + offset inside the granule.
 * -ENOMEM when no IOVA fits, or the iommu_map error. */
int engine_dma_map_page(struct engine_dev *dev, uint64_t phys, uint64_t size,
			enum engine_dma_dir dir, uint64_t *dma,
			struct errbuf *err);
void engine_dma_unmap_page(struct engine_dev *dev, uint64_t dma, uint64_t size);
/* iommu_dma_map_sg: one IOVA range for the list; fills dma_address /
 * dma_length and returns the number of DMA segments, or a negative
 * error with the list left unmapped. */
int engine_dma_map_sg(struct engine_dev *dev, struct engine_sg *sg,
		      size_t nents, enum engine_dma_dir dir, struct errbuf *err);
void engine_dma_unmap_sg(struct engine_dev *dev, struct engine_sg *sg,
			 size_t nents);

/* Two-step IOVA API (formats.md §5.10). */
struct engine_iova_state {
	uint64_t addr; /* IOVA + sub-granule offset of the first phys */
	uint64_t size; /* as asked */
};
bool engine_dma_iova_try_alloc(struct engine_dev *dev,
			       struct engine_iova_state *st, uint64_t phys,
			       uint64_t size);
int engine_dma_iova_link(struct engine_dev *dev, struct engine_iova_state *st,
			 uint64_t phys, uint64_t offset, uint64_t size,
			 enum engine_dma_dir dir, struct errbuf *err);
int engine_dma_iova_sync(struct engine_dev *dev, struct engine_iova_state *st,
			 uint64_t offset, uint64_t size);
void engine_dma_iova_unlink(struct engine_dev *dev,
			    struct engine_iova_state *st, uint64_t offset,
			    uint64_t size);
void engine_dma_iova_destroy(struct engine_dev *dev,
			     struct engine_iova_state *st, uint64_t mapped_len);
void engine_dma_iova_free(struct engine_dev *dev, struct engine_iova_state *st);

/* ---- device accesses ---- */

enum engine_access_result {
	ENGINE_ACCESS_OK,
	ENGINE_ACCESS_FAULT,      /* not mapped, not stale */
	ENGINE_ACCESS_PERM_FAULT, /* mapped without the needed permission */
	ENGINE_ACCESS_STALE,      /* unmapped but not yet invalidated: the
				   * IOTLB may still translate it (finding) */
};
/* A device access of @size bytes at @iova at the current time. */
enum engine_access_result engine_dma_access(struct engine_domain *d,
					    uint64_t iova, uint64_t size,
					    bool write);

/* ---- introspection (tests, replay) ---- */

struct engine_domain *engine_dev_domain(const struct engine_dev *dev);
/* The physical memory every domain's tables live in (e.g. to write an
 * image of them). */
struct arena *engine_arena(struct engine *e);
uint64_t engine_domain_granule(const struct engine_domain *d);
uint64_t engine_domain_pgsize_bitmap(const struct engine_domain *d);
const struct pt_mapper *engine_domain_mapper(const struct engine_domain *d);
/* Mapped bytes according to the engine's own accounting. */
uint64_t engine_domain_mapped_bytes(const struct engine_domain *d);
/* Compares every page of the reference model with the page table (check
 * mode); returns mismatches found (each also becomes a finding). */
uint64_t engine_domain_check_all(struct engine_domain *d);

#endif
