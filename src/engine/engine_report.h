/* What a replay measured, as plain data: counters, distributions and the
 * first findings.  Printers (text, JSON) sit on top; engine_report_foreach
 * gives every scalar as a stable dotted name and a value so a printer
 * needs no knowledge of the struct. */
#ifndef IOMMUTOOL_ENGINE_REPORT_H
#define IOMMUTOOL_ENGINE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/hist.h"
#include "engine/inval.h"
#include "out/record.h"

enum engine_op_kind {
	ENGINE_OP_MAP,
	ENGINE_OP_MAP_NOSYNC,
	ENGINE_OP_SYNC_MAP,
	ENGINE_OP_UNMAP,
	ENGINE_OP_UNMAP_FAST,
	ENGINE_OP_IOTLB_SYNC,
	ENGINE_OP_FLUSH_ALL,
	ENGINE_OP_MAP_SG,
	ENGINE_OP_IOVA_ALLOC,
	ENGINE_OP_IOVA_FREE,
	ENGINE_OP_DMA_MAP_PAGE,
	ENGINE_OP_DMA_UNMAP_PAGE,
	ENGINE_OP_DMA_MAP_SG,
	ENGINE_OP_DMA_UNMAP_SG,
	ENGINE_OP_IOVA_TRY_ALLOC,
	ENGINE_OP_IOVA_LINK,
	ENGINE_OP_IOVA_SYNC,
	ENGINE_OP_IOVA_UNLINK,
	ENGINE_OP_IOVA_DESTROY,
	ENGINE_OP_IOVA_STATE_FREE,
	ENGINE_OP_DMA_ACCESS,
	ENGINE_OP_KINDS
};
const char *engine_op_name(enum engine_op_kind k);

/* Why an IOTLB flush happened. */
enum engine_flush_cause {
	ENGINE_FLUSH_STRICT,       /* iotlb_sync after an unmap */
	ENGINE_FLUSH_GATHER,       /* add_page forced a sync (page size
				    * change or disjoint range) */
	ENGINE_FLUSH_FQ_TIMEOUT,   /* flush-queue timer */
	ENGINE_FLUSH_FQ_FULL,      /* a flush-queue ring was full */
	ENGINE_FLUSH_CACHING_MODE, /* iotlb_sync_map: not-present caching */
	ENGINE_FLUSH_EXPLICIT,     /* flush_iotlb_all asked for */
	ENGINE_FLUSH_WALK,         /* table pages freed (SMMU walk flush) */
	ENGINE_FLUSH_CAUSES
};
const char *engine_flush_cause_name(enum engine_flush_cause c);

#define ENGINE_FINDING_MSG_LEN 160

struct engine_finding {
	enum severity severity;
	const char *code;      /* "engine.iova.reuse-before-flush" ... */
	uint64_t time_ns;
	uint64_t op;           /* index of the operation, from 1 */
	unsigned domain;
	uint64_t iova, size;
	char message[ENGINE_FINDING_MSG_LEN];
};

struct engine_report {
	/* operations and time */
	uint64_t ops;
	uint64_t op_counts[ENGINE_OP_KINDS];
	uint64_t time_first_ns, time_last_ns;
	uint64_t time_regressions;

	/* mapping through the codec */
	uint64_t bytes_mapped, bytes_unmapped;
	uint64_t pages_mapped[64];   /* leaf pages created, by log2 size */
	uint64_t pages_unmapped[64]; /* unmap_pages calls' page size */
	uint64_t codec_map_calls, codec_unmap_calls;
	uint64_t short_unmaps;       /* fewer bytes than asked (hole) */
	uint64_t long_unmaps;        /* more (a larger leaf went whole) */
	uint64_t rollbacks;          /* failed maps undone */
	uint64_t tables_allocated, tables_freed, table_pages_max;

	/* invalidation */
	struct inv_counts inv;
	uint64_t flushes[ENGINE_FLUSH_CAUSES];
	uint64_t gather_forced_pgsize, gather_forced_disjoint;

	/* flush queue */
	uint64_t fq_queued, fq_released, fq_max_depth, fq_pending;

	/* stale IOTLB model: unmap → covering invalidation complete */
	struct hist stale_ns, stale_ops;
	uint64_t stale_ns_p50, stale_ns_p99, stale_ns_max;
	uint64_t stale_ops_p50, stale_ops_p99, stale_ops_max;
	uint64_t stale_closed;      /* ranges whose window ended */
	uint64_t stale_open;        /* still pending at report time */
	uint64_t stale_untracked;   /* dropped at the tracking cap */
	uint64_t reuse_before_flush;
	uint64_t dma_accesses, dma_faults, dma_perm_faults, stale_hits;

	/* IOVA allocation (all DMA domains) */
	uint64_t iova_allocs, iova_alloc_failures, iova_frees, iova_bad_frees;
	uint64_t iova_rcache_hits, iova_rcache_misses, iova_rcache_flushes;
	uint64_t iova_depot_trims, iova_32bit_fallbacks;
	uint64_t iova_pages_in_use, iova_pages_max, iova_pages_cached;
	uint64_t iova_ranges;
	uint64_t iova_free_gaps, iova_largest_gap;       /* below the limit */
	uint64_t iova_free_gaps_32, iova_largest_gap_32; /* below 4 GiB */

	/* errors returned to the caller */
	uint64_t err_einval, err_eexist, err_enomem, err_other;
	uint64_t dma_map_failures;

	/* reference-model checks */
	uint64_t checks, check_mismatches;

	/* findings: the first max_findings, and the exact total */
	uint64_t findings_total;
	uint64_t findings_by_severity[3];
	const struct engine_finding *findings;
	size_t nr_findings;
};

/* Calls @fn for each scalar of @r in a fixed order; indexed counters
 * (pages by size, PSI by AM) only where non-zero.  Stops and returns the
 * first non-zero value @fn returns. */
int engine_report_foreach(const struct engine_report *r,
			  int (*fn)(void *arg, const char *name, uint64_t value),
			  void *arg);

#endif
