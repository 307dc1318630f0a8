/* The DMA-FQ flush queue of dma-iommu.c (formats.md §5.7): freed IOVAs
 * wait in a ring (one per CPU, or one for the domain) until a flush-all
 * that started after they were queued has finished; only then do they go
 * back to the allocator.  A ring holds size-1 entries; a full ring forces
 * a flush, and a timer armed by the first queued entry flushes after the
 * timeout. */
#ifndef IOMMUTOOL_ENGINE_FQ_H
#define IOMMUTOOL_ENGINE_FQ_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine_report.h"
#include "util/err.h"

#define FQ_DEFAULT_SIZE 256                 /* IOVA_DEFAULT_FQ_SIZE */
#define FQ_DEFAULT_TIMEOUT_NS 10000000ull   /* IOVA_DEFAULT_FQ_TIMEOUT 10 ms */
#define FQ_SINGLE_SIZE 32768                /* IOVA_SINGLE_FQ_SIZE */
#define FQ_SINGLE_TIMEOUT_NS 1000000000ull  /* IOVA_SINGLE_FQ_TIMEOUT 1 s */
#define FQ_MAX_SIZE (1u << 24)

struct fq_entry {
	uint64_t pfn, pages;
	uint64_t counter; /* fq_flush_start_cnt when queued */
	uint64_t tables;  /* page-table pages freed with it */
};

struct fq_ring {
	unsigned head, tail, mask;
	struct fq_entry *entries;
};

struct flush_queue {
	struct fq_ring *rings;
	unsigned nr_rings;
	uint64_t start_cnt, finish_cnt;
	bool timer_on;
	uint64_t timer_due;
	unsigned timer_cpu;   /* the timer runs where it was armed */
	uint64_t timeout_ns;
	uint64_t queued, released, max_depth;
};

struct fq_hooks {
	/* flush_iotlb_all, between the start and finish counters */
	void (*flush_all)(void *ctx, enum engine_flush_cause cause);
	/* an entry whose flush has finished: free its IOVA on @cpu */
	void (*release)(void *ctx, unsigned cpu, const struct fq_entry *e);
	void *ctx;
};

/* @single: one ring for all CPUs.  @size must be a power of two. */
int fq_init(struct flush_queue *fq, unsigned nr_cpus, bool single,
	    unsigned size, uint64_t timeout_ns, struct errbuf *err);
void fq_release(struct flush_queue *fq);

/* queue_iova on @cpu at @now; false (nothing queued) when out of
 * memory for the ring. */
bool fq_queue(struct flush_queue *fq, const struct fq_hooks *h, unsigned cpu,
	      uint64_t now, uint64_t pfn, uint64_t pages, uint64_t tables);
/* fq_flush_timeout; the caller runs it when fq->timer_due has come. */
void fq_timeout(struct flush_queue *fq, const struct fq_hooks *h);
/* Entries still queued in all rings. */
uint64_t fq_pending(const struct flush_queue *fq);

#endif
