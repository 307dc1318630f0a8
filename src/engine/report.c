/* Derived report fields and the name/value view of the report. */
#include "engine/engine_int.h"

#include <stdio.h>

static const char *const op_names[ENGINE_OP_KINDS] = {
	[ENGINE_OP_MAP] = "map",
	[ENGINE_OP_MAP_NOSYNC] = "map_nosync",
	[ENGINE_OP_SYNC_MAP] = "sync_map",
	[ENGINE_OP_UNMAP] = "unmap",
	[ENGINE_OP_UNMAP_FAST] = "unmap_fast",
	[ENGINE_OP_IOTLB_SYNC] = "iotlb_sync",
	[ENGINE_OP_FLUSH_ALL] = "flush_all",
	[ENGINE_OP_MAP_SG] = "map_sg",
	[ENGINE_OP_IOVA_ALLOC] = "iova_alloc",
	[ENGINE_OP_IOVA_FREE] = "iova_free",
	[ENGINE_OP_DMA_MAP_PAGE] = "dma_map_page",
	[ENGINE_OP_DMA_UNMAP_PAGE] = "dma_unmap_page",
	[ENGINE_OP_DMA_MAP_SG] = "dma_map_sg",
	[ENGINE_OP_DMA_UNMAP_SG] = "dma_unmap_sg",
	[ENGINE_OP_IOVA_TRY_ALLOC] = "dma_iova_try_alloc",
	[ENGINE_OP_IOVA_LINK] = "dma_iova_link",
	[ENGINE_OP_IOVA_SYNC] = "dma_iova_sync",
	[ENGINE_OP_IOVA_UNLINK] = "dma_iova_unlink",
	[ENGINE_OP_IOVA_DESTROY] = "dma_iova_destroy",
	[ENGINE_OP_IOVA_STATE_FREE] = "dma_iova_free",
	[ENGINE_OP_DMA_ACCESS] = "dma_access",
};

static const char *const flush_names[ENGINE_FLUSH_CAUSES] = {
	[ENGINE_FLUSH_STRICT] = "strict",
	[ENGINE_FLUSH_GATHER] = "gather",
	[ENGINE_FLUSH_FQ_TIMEOUT] = "fq_timeout",
	[ENGINE_FLUSH_FQ_FULL] = "fq_full",
	[ENGINE_FLUSH_CACHING_MODE] = "caching_mode",
	[ENGINE_FLUSH_EXPLICIT] = "explicit",
	[ENGINE_FLUSH_WALK] = "walk",
};

const char *engine_op_name(enum engine_op_kind k)
{
	return (unsigned)k < ENGINE_OP_KINDS ? op_names[k] : "unknown";
}

const char *engine_flush_cause_name(enum engine_flush_cause c)
{
	return (unsigned)c < ENGINE_FLUSH_CAUSES ? flush_names[c] : "unknown";
}

const struct engine_report *engine_report(struct engine *e)
{
	struct engine_report *r = &e->rep;

	r->stale_ns_p50 = hist_quantile(&r->stale_ns, 0.5);
	r->stale_ns_p99 = hist_quantile(&r->stale_ns, 0.99);
	r->stale_ns_max = r->stale_ns.max;
	r->stale_ops_p50 = hist_quantile(&r->stale_ops, 0.5);
	r->stale_ops_p99 = hist_quantile(&r->stale_ops, 0.99);
	r->stale_ops_max = r->stale_ops.max;
	r->stale_closed = r->stale_open = r->stale_untracked = 0;
	r->fq_queued = r->fq_released = r->fq_max_depth = r->fq_pending = 0;
	r->iova_allocs = r->iova_alloc_failures = r->iova_frees = 0;
	r->iova_bad_frees = r->iova_rcache_hits = r->iova_rcache_misses = 0;
	r->iova_rcache_flushes = r->iova_depot_trims = 0;
	r->iova_pages_in_use = r->iova_pages_max = r->iova_pages_cached = 0;
	r->iova_ranges = r->iova_free_gaps = r->iova_largest_gap = 0;
	r->iova_free_gaps_32 = r->iova_largest_gap_32 = 0;
	for (unsigned i = 0; i < e->nr_domains; i++) {
		struct engine_domain *d = e->domains[i];
		const struct iova_stats *s = &d->iovad.stats;
		struct iova_gap_stats gs;
		unsigned sh = d->min_shift;

		r->stale_closed += d->stale.closed;
		r->stale_open += stale_open(&d->stale);
		r->stale_untracked += d->stale.untracked;
		if (d->has_fq) {
			r->fq_queued += d->fq.queued;
			r->fq_released += d->fq.released;
			r->fq_pending += fq_pending(&d->fq);
			if (d->fq.max_depth > r->fq_max_depth)
				r->fq_max_depth = d->fq.max_depth;
		}
		r->iova_allocs += s->allocs;
		r->iova_alloc_failures += s->alloc_failures;
		r->iova_frees += s->frees;
		r->iova_bad_frees += s->bad_frees;
		r->iova_rcache_hits += s->rcache_hits;
		r->iova_rcache_misses += s->rcache_misses;
		r->iova_rcache_flushes += s->rcache_flushes;
		r->iova_depot_trims += s->depot_trims;
		r->iova_pages_in_use += s->pfns_in_use << (sh - REF_PAGE_SHIFT);
		r->iova_pages_max += s->pfns_in_use_max << (sh - REF_PAGE_SHIFT);
		r->iova_pages_cached += iova_rcache_cached_pfns(&d->iovad)
					<< (sh - REF_PAGE_SHIFT);
		d->iovad.ops->gaps(d->iovad.priv, d->iovad.space.end_pfn, &gs);
		r->iova_ranges += gs.ranges;
		r->iova_free_gaps += gs.gaps;
		if (gs.largest << sh > r->iova_largest_gap)
			r->iova_largest_gap = gs.largest << sh;
		d->iovad.ops->gaps(d->iovad.priv, d->iovad.space.dma_32bit_pfn - 1, &gs);
		r->iova_free_gaps_32 += gs.gaps;
		if (gs.largest << sh > r->iova_largest_gap_32)
			r->iova_largest_gap_32 = gs.largest << sh;
	}
	r->findings = e->findings;
	return r;
}

static void size_name(char *buf, size_t len, const char *prefix, unsigned shift)
{
	static const char units[] = "kmgtpe";

	if (shift < 10)
		snprintf(buf, len, "%s.%llu", prefix, 1ull << shift);
	else
		snprintf(buf, len, "%s.%llu%c", prefix, 1ull << (shift % 10),
			 units[shift / 10 - 1]);
}

#define EMIT(name, val)                                         \
	do {                                                    \
		int rc_ = fn(arg, (name), (uint64_t)(val));     \
		if (rc_)                                        \
			return rc_;                             \
	} while (0)

/* The non-zero entries of a count array indexed by log2 page size
 * ("map.pages_mapped.4k") or by address mask ("inval.vtd_psi.am9"). */
static int emit_counts(int (*fn)(void *arg, const char *name, uint64_t value),
		       void *arg, const char *prefix, const uint64_t counts[64],
		       bool page_sizes)
{
	char name[64];

	for (unsigned i = 0; i < 64; i++) {
		if (!counts[i])
			continue;
		if (page_sizes)
			size_name(name, sizeof(name), prefix, i);
		else
			snprintf(name, sizeof(name), "%s.am%u", prefix, i);
		EMIT(name, counts[i]);
	}
	return 0;
}

#define EMIT_COUNTS(prefix, counts, page_sizes)                          \
	do {                                                             \
		int rc_ = emit_counts(fn, arg, (prefix), (counts), (page_sizes)); \
		if (rc_)                                                 \
			return rc_;                                      \
	} while (0)

int engine_report_foreach(const struct engine_report *r,
			  int (*fn)(void *arg, const char *name, uint64_t value),
			  void *arg)
{
	char name[64];

	EMIT("ops.total", r->ops);
	for (unsigned k = 0; k < ENGINE_OP_KINDS; k++) {
		snprintf(name, sizeof(name), "ops.%s", op_names[k]);
		EMIT(name, r->op_counts[k]);
	}
	EMIT("time.first_ns", r->time_first_ns);
	EMIT("time.last_ns", r->time_last_ns);
	EMIT("time.regressions", r->time_regressions);

	EMIT("map.bytes_mapped", r->bytes_mapped);
	EMIT("map.bytes_unmapped", r->bytes_unmapped);
	EMIT_COUNTS("map.pages_mapped", r->pages_mapped, true);
	EMIT_COUNTS("map.pages_unmapped", r->pages_unmapped, true);
	EMIT("map.codec_map_calls", r->codec_map_calls);
	EMIT("map.codec_unmap_calls", r->codec_unmap_calls);
	EMIT("map.short_unmaps", r->short_unmaps);
	EMIT("map.long_unmaps", r->long_unmaps);
	EMIT("map.rollbacks", r->rollbacks);
	EMIT("tables.allocated", r->tables_allocated);
	EMIT("tables.freed", r->tables_freed);
	EMIT("tables.pages_max", r->table_pages_max);

	EMIT_COUNTS("inval.vtd_psi", r->inv.vtd_psi, false);
	EMIT_COUNTS("inval.vtd_piotlb", r->inv.vtd_piotlb, false);
	EMIT("inval.vtd_dsi", r->inv.vtd_dsi);
	EMIT("inval.vtd_pasid_all", r->inv.vtd_pasid_all);
	EMIT("inval.vtd_global", r->inv.vtd_global);
	EMIT("inval.amd_page", r->inv.amd_page);
	EMIT("inval.amd_range", r->inv.amd_range);
	EMIT("inval.amd_all", r->inv.amd_all);
	EMIT("inval.smmu_tlbi_va", r->inv.smmu_tlbi_va);
	EMIT("inval.smmu_tlbi_va_range", r->inv.smmu_tlbi_va_range);
	EMIT("inval.smmu_tlbi_asid", r->inv.smmu_tlbi_asid);
	EMIT("inval.syncs", r->inv.syncs);
	for (unsigned c = 0; c < ENGINE_FLUSH_CAUSES; c++) {
		snprintf(name, sizeof(name), "flush.%s", flush_names[c]);
		EMIT(name, r->flushes[c]);
	}
	EMIT("gather.forced_pgsize", r->gather_forced_pgsize);
	EMIT("gather.forced_disjoint", r->gather_forced_disjoint);

	EMIT("fq.queued", r->fq_queued);
	EMIT("fq.released", r->fq_released);
	EMIT("fq.max_depth", r->fq_max_depth);
	EMIT("fq.pending", r->fq_pending);

	EMIT("stale.closed", r->stale_closed);
	EMIT("stale.open", r->stale_open);
	EMIT("stale.untracked", r->stale_untracked);
	EMIT("stale.window_ns.p50", r->stale_ns_p50);
	EMIT("stale.window_ns.p99", r->stale_ns_p99);
	EMIT("stale.window_ns.max", r->stale_ns_max);
	EMIT("stale.window_ops.p50", r->stale_ops_p50);
	EMIT("stale.window_ops.p99", r->stale_ops_p99);
	EMIT("stale.window_ops.max", r->stale_ops_max);
	EMIT("stale.reuse_before_flush", r->reuse_before_flush);
	EMIT("dma.accesses", r->dma_accesses);
	EMIT("dma.faults", r->dma_faults);
	EMIT("dma.perm_faults", r->dma_perm_faults);
	EMIT("dma.stale_hits", r->stale_hits);
	EMIT("dma.map_failures", r->dma_map_failures);

	EMIT("iova.allocs", r->iova_allocs);
	EMIT("iova.alloc_failures", r->iova_alloc_failures);
	EMIT("iova.frees", r->iova_frees);
	EMIT("iova.bad_frees", r->iova_bad_frees);
	EMIT("iova.rcache_hits", r->iova_rcache_hits);
	EMIT("iova.rcache_misses", r->iova_rcache_misses);
	EMIT("iova.rcache_flushes", r->iova_rcache_flushes);
	EMIT("iova.depot_trims", r->iova_depot_trims);
	EMIT("iova.32bit_fallbacks", r->iova_32bit_fallbacks);
	EMIT("iova.pages_in_use", r->iova_pages_in_use);
	EMIT("iova.pages_max", r->iova_pages_max);
	EMIT("iova.pages_cached", r->iova_pages_cached);
	EMIT("iova.ranges", r->iova_ranges);
	EMIT("iova.free_gaps", r->iova_free_gaps);
	EMIT("iova.largest_gap", r->iova_largest_gap);
	EMIT("iova.free_gaps_32bit", r->iova_free_gaps_32);
	EMIT("iova.largest_gap_32bit", r->iova_largest_gap_32);

	EMIT("errors.einval", r->err_einval);
	EMIT("errors.eexist", r->err_eexist);
	EMIT("errors.enomem", r->err_enomem);
	EMIT("errors.other", r->err_other);
	EMIT("check.checks", r->checks);
	EMIT("check.mismatches", r->check_mismatches);
	EMIT("findings.total", r->findings_total);
	EMIT("findings.info", r->findings_by_severity[SEV_INFO]);
	EMIT("findings.warning", r->findings_by_severity[SEV_WARNING]);
	EMIT("findings.error", r->findings_by_severity[SEV_ERROR]);
	return 0;
}
