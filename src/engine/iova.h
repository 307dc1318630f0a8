/* The IOVA allocator of a DMA domain, after Linux drivers/iommu/iova.c
 * (formats.md §5.9): an allocator behind a small ops table (the rbtree
 * allocator of iova.c, or a next-fit bitmap like the old AMD dma_ops
 * allocator) under per-CPU range caches (magazines + depot).  Units are
 * pfns of the domain's granule. */
#ifndef IOMMUTOOL_ENGINE_IOVA_H
#define IOMMUTOOL_ENGINE_IOVA_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* iova.c: one range cache per order 0..5 (1..32 pages); larger sizes go
 * straight to the allocator. */
#define IOVA_RANGE_CACHE_MAX_SIZE 6
/* Magazine capacity: 127 pfns since v6.0 (was 128). */
#define IOVA_MAG_SIZE 127
#define IOVA_MAG_SIZE_OLD 128
/* Pre-v6.7 depot: a fixed array of 32 full magazines per order. */
#define IOVA_OLD_DEPOT_MAGS 32
/* v6.7+ depot: trimmed by one magazine every 100 ms while it holds more
 * than one magazine per CPU. */
#define IOVA_DEPOT_DELAY_NS 100000000ull

#define IOVA_NO_DEADLINE UINT64_MAX

struct iova_gap_stats {
	uint64_t gaps;      /* maximal free runs below the limit */
	uint64_t largest;   /* pfns in the largest one */
	uint64_t free_pfns; /* total free pfns below the limit */
	uint64_t ranges;    /* allocated (or reserved) ranges */
};

struct iova_space {
	uint64_t start_pfn;     /* lowest allocatable pfn (>= 1) */
	uint64_t end_pfn;       /* highest allocatable pfn, inclusive */
	uint64_t dma_32bit_pfn; /* 1 << (32 - shift) */
	uint64_t bitmap_pages;  /* bitmap allocator: window size in pfns */
};

/* One allocator.  alloc returns the first pfn of @pages pfns at or below
 * @limit_pfn (inclusive), aligned to roundup_pow_of_two(@pages) when
 * @size_aligned, or 0 when nothing fits. */
struct iova_allocator_ops {
	const char *name;
	int (*init)(void **priv, const struct iova_space *sp, struct errbuf *err);
	void (*release)(void *priv);
	uint64_t (*alloc)(void *priv, uint64_t pages, uint64_t limit_pfn,
			  bool size_aligned);
	/* Frees the range that starts at @pfn; false when there is none. */
	bool (*free)(void *priv, uint64_t pfn, uint64_t pages);
	/* Marks [lo, hi] as never allocatable. */
	int (*reserve)(void *priv, uint64_t pfn_lo, uint64_t pfn_hi,
		       struct errbuf *err);
	void (*gaps)(void *priv, uint64_t limit_pfn, struct iova_gap_stats *out);
	/* True when @pfn lies in an allocated or reserved range. */
	bool (*allocated)(void *priv, uint64_t pfn);
};

extern const struct iova_allocator_ops iova_rbtree_ops;
extern const struct iova_allocator_ops iova_bitmap_ops;
/* By exact name: "rbtree", "bitmap"; NULL when unknown. */
const struct iova_allocator_ops *iova_allocator_find(const char *name);
/* The @i-th allocator, NULL past the end. */
const struct iova_allocator_ops *iova_allocator_at(unsigned i);

struct iova_rcache_cfg {
	bool enabled;
	unsigned nr_cpus;
	unsigned mag_size;   /* IOVA_MAG_SIZE or IOVA_MAG_SIZE_OLD */
	unsigned depot_max;  /* 0: unbounded list trimmed on a timer (v6.7+);
			      * else a fixed depot of that many magazines */
	uint64_t depot_delay_ns;
};

struct iova_stats {
	uint64_t allocs, alloc_failures, frees, bad_frees;
	uint64_t rcache_hits, rcache_misses, rcache_inserts, rcache_flushes;
	uint64_t depot_pushes, depot_trims, depot_overflows;
	uint64_t pfns_in_use, pfns_in_use_max; /* excludes reserved ranges */
};

struct iova_rcache;

struct iova_domain {
	const struct iova_allocator_ops *ops;
	void *priv;
	struct iova_space space;
	struct iova_rcache *rcache; /* NULL: no range caches */
	struct iova_stats stats;
};

int iova_domain_init(struct iova_domain *iovad,
		     const struct iova_allocator_ops *ops,
		     const struct iova_space *space,
		     const struct iova_rcache_cfg *rc, struct errbuf *err);
void iova_domain_release(struct iova_domain *iovad);

/* alloc_iova_fast: rounds sizes below 32 pages up to a power of two, tries
 * @cpu's range cache, then the allocator, then (when @flush_rcache) empties
 * every cache back into the allocator and tries once more.  Returns the
 * pfn or 0.  @now drives the depot timer. */
uint64_t iova_alloc_fast(struct iova_domain *iovad, unsigned cpu, uint64_t now,
			 uint64_t pages, uint64_t limit_pfn, bool flush_rcache);
/* free_iova_fast: into @cpu's range cache when the size is cacheable,
 * else back to the allocator.  False when @pfn was not allocated. */
bool iova_free_fast(struct iova_domain *iovad, unsigned cpu, uint64_t now,
		    uint64_t pfn, uint64_t pages);
/* Plain alloc_iova/free_iova (no cache, no rounding). */
uint64_t iova_alloc(struct iova_domain *iovad, uint64_t pages,
		    uint64_t limit_pfn, bool size_aligned);
bool iova_free(struct iova_domain *iovad, uint64_t pfn, uint64_t pages);
int iova_reserve(struct iova_domain *iovad, uint64_t pfn_lo, uint64_t pfn_hi,
		 struct errbuf *err);
/* Returns every cached pfn to the allocator. */
void iova_rcache_flush_all(struct iova_domain *iovad);
/* Pfns sitting in range caches (allocated in the allocator's view). */
uint64_t iova_rcache_cached_pfns(const struct iova_domain *iovad);

/* Depot trimming is a delayed work item: the earliest time it is due,
 * and running what is due at @now. */
uint64_t iova_next_deadline(const struct iova_domain *iovad);
void iova_run_timers(struct iova_domain *iovad, uint64_t now);

/* Size actually taken by alloc_iova_fast for a request of @pages. */
uint64_t iova_fast_rounded(uint64_t pages);

#endif
