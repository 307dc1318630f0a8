/* Engine internals shared by engine.c, domain.c, dma.c and report.c. */
#ifndef IOMMUTOOL_ENGINE_INT_H
#define IOMMUTOOL_ENGINE_INT_H

#include "engine/engine.h"
#include "engine/fq.h"
#include "engine/inval.h"
#include "engine/iova.h"
#include "engine/refmodel.h"
#include "engine/stale.h"
#include "mem/arena.h"
#include "mem/physmem.h"

struct engine_domain {
	struct engine *e;
	unsigned id;
	struct engine_domain_config cfg;
	struct pt_mapper mapper;
	uint64_t pgsize_bitmap;
	unsigned min_shift;           /* granule = 1 << min_shift */
	uint64_t max_pgsize;
	uint64_t table_span;          /* IOVA bytes one level-0 table covers */
	struct inv_caps caps;
	struct inv_cover cover;       /* feeds invalidations to the models */
	uint64_t *page_inv;           /* inv_page_counter() in the report */
	bool map_flushes;             /* iotlb_sync_map invalidates */
	enum engine_gather_mode gather_mode;
	int partial_override;
	bool free_tables;
	enum engine_policy policy;    /* after caching-mode forcing */
	bool has_fq;
	struct flush_queue fq;
	struct iova_domain iovad;
	uint64_t aperture_end;
	struct stale_model stale;
	struct refmodel ref;
	uint64_t mapped_bytes;
	uint64_t tables_alloc_seen, tables_freed_seen;
	uint64_t gather_tables;       /* table pages freed since the last sync */
	uint64_t deadline;            /* earliest timer of this domain */
	bool timers_touched;          /* deadline may have moved this op */
};

struct engine_dev {
	struct engine *e;
	struct engine_domain *d;
	unsigned id;
	struct engine_dev_config cfg;
	bool pci_32bit_workaround;
};

struct engine {
	struct engine_config cfg;
	struct arena *arena;
	uint64_t now;
	unsigned cpu;
	bool started;
	uint64_t op;                  /* operations so far */
	uint64_t next_deadline;       /* min over domains */
	struct engine_report rep;
	struct engine_finding *findings;
	struct engine_domain **domains;
	unsigned nr_domains;
	struct engine_dev **devs;
	unsigned nr_devs;
};

/* engine.c */
static inline void engine_op_begin(struct engine *e, enum engine_op_kind k)
{
	e->op++;
	e->rep.ops++;
	e->rep.op_counts[k]++;
}
void engine_op_end(struct engine *e);
void engine_finding(struct engine *e, enum severity sev, const char *code,
		    const struct engine_domain *d, uint64_t iova, uint64_t size,
		    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void engine_count_error(struct engine *e, int code);
void engine_domain_deadline_changed(struct engine_domain *d);

/* domain.c */
int domain_init(struct engine_domain *d, struct engine *e,
		const struct engine_domain_config *c, struct errbuf *err);
void domain_release(struct engine_domain *d);
#define DOMAIN_MAP_SYNC           (1u << 0) /* iotlb_sync_map afterwards */
#define DOMAIN_MAP_REUSE_CHECKED  (1u << 1) /* the IOVA allocation checked */
int domain_map(struct engine_domain *d, uint64_t iova, uint64_t pa,
	       uint64_t size, uint32_t prot, unsigned flags, struct errbuf *err);
/* domain_map with the page sizes of @runs instead of the pgsize bitmap's */
int domain_map_runs(struct engine_domain *d, uint64_t iova, uint64_t pa,
		    uint64_t size, const struct engine_pgrun *runs, size_t nr,
		    uint32_t prot, unsigned flags, struct errbuf *err);
/* iommu_unmap_fast into @g; with check on, verified against the model */
uint64_t domain_unmap(struct engine_domain *d, uint64_t iova, uint64_t size,
		      struct engine_gather *g);
int domain_map_one(struct engine_domain *d, uint64_t iova, uint64_t pa,
		   uint32_t prot, unsigned flags, struct errbuf *err);
uint64_t domain_unmap_one_sync(struct engine_domain *d, uint64_t iova);
uint64_t domain_unmap_nocheck(struct engine_domain *d, uint64_t iova,
			      uint64_t size, struct engine_gather *g);
void domain_iotlb_sync(struct engine_domain *d, struct engine_gather *g,
		       enum engine_flush_cause cause);
void domain_sync_map(struct engine_domain *d, uint64_t iova, uint64_t size);
void domain_flush_all(struct engine_domain *d, enum engine_flush_cause cause);
int64_t domain_map_sg(struct engine_domain *d, uint64_t iova,
		      const struct engine_sg *sg, size_t nents, uint32_t prot,
		      unsigned flags, struct errbuf *err);
/* An IOVA range is (re)used: a finding when part of it still waits for
 * an invalidation. */
void domain_reuse_check_slow(struct engine_domain *d, uint64_t iova,
			     uint64_t size, const char *what);
static inline void domain_reuse_check(struct engine_domain *d, uint64_t iova,
				      uint64_t size, const char *what)
{
	if (!stale_empty(&d->stale))
		domain_reuse_check_slow(d, iova, size, what);
}
/* End of an operation: a timer armed during it becomes the engine's next
 * deadline. */
void domain_op_end_slow(struct engine_domain *d);
static inline void domain_op_end(struct engine_domain *d)
{
	if (d->timers_touched)
		domain_op_end_slow(d);
}
void domain_run_timers(struct engine_domain *d, uint64_t now);
void domain_update_deadline(struct engine_domain *d);
uint64_t domain_iova_alloc(struct engine_domain *d, uint64_t pages,
			   uint64_t limit_pfn, bool flush_rcache);
void domain_iova_free(struct engine_domain *d, uint64_t pfn, uint64_t pages);
/* queue_iova or free_iova_fast after an unmap (dma layer) */
void domain_free_iova_after_unmap(struct engine_domain *d, uint64_t iova,
				  uint64_t size, const struct engine_gather *g);

#endif
