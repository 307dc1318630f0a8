#include "engine/fq.h"

#include <stdlib.h>

static inline bool ring_full(const struct fq_ring *r)
{
	return ((r->tail + 1) & r->mask) == r->head;
}

static inline uint64_t ring_depth(const struct fq_ring *r)
{
	return (r->tail - r->head) & r->mask;
}

/* fq_ring_free: releases entries from the head while their counter shows
 * that a flush started after them has finished. */
static void ring_free(struct flush_queue *fq, struct fq_ring *r,
		      const struct fq_hooks *h, unsigned cpu)
{
	while (r->head != r->tail && r->entries[r->head].counter < fq->finish_cnt) {
		h->release(h->ctx, cpu, &r->entries[r->head]);
		fq->released++;
		r->head = (r->head + 1) & r->mask;
	}
}

static void flush(struct flush_queue *fq, const struct fq_hooks *h,
		  enum engine_flush_cause cause)
{
	fq->start_cnt++;
	h->flush_all(h->ctx, cause);
	fq->finish_cnt++;
}

bool fq_queue(struct flush_queue *fq, const struct fq_hooks *h, unsigned cpu,
	      uint64_t now, uint64_t pfn, uint64_t pages, uint64_t tables)
{
	struct fq_ring *r = &fq->rings[fq->nr_rings == 1 ? 0 : cpu];
	unsigned idx;

	/* rings get their entries on first use: many CPUs, few active */
	if (!r->entries &&
	    !(r->entries = malloc((r->mask + 1) * sizeof(struct fq_entry))))
		return false;

	ring_free(fq, r, h, cpu);
	if (ring_full(r)) {
		flush(fq, h, ENGINE_FLUSH_FQ_FULL);
		ring_free(fq, r, h, cpu);
	}
	idx = r->tail;
	r->tail = (idx + 1) & r->mask;
	r->entries[idx] = (struct fq_entry){ .pfn = pfn, .pages = pages,
					     .counter = fq->start_cnt,
					     .tables = tables };
	fq->queued++;
	if (ring_depth(r) > fq->max_depth)
		fq->max_depth = ring_depth(r);
	if (!fq->timer_on) {
		fq->timer_on = true;
		fq->timer_due = now + fq->timeout_ns;
		fq->timer_cpu = cpu;
	}
	return true;
}

void fq_timeout(struct flush_queue *fq, const struct fq_hooks *h)
{
	fq->timer_on = false;
	flush(fq, h, ENGINE_FLUSH_FQ_TIMEOUT);
	for (unsigned i = 0; i < fq->nr_rings; i++)
		ring_free(fq, &fq->rings[i], h, fq->timer_cpu);
}

uint64_t fq_pending(const struct flush_queue *fq)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < fq->nr_rings; i++)
		n += ring_depth(&fq->rings[i]);
	return n;
}

int fq_init(struct flush_queue *fq, unsigned nr_cpus, bool single,
	    unsigned size, uint64_t timeout_ns, struct errbuf *err)
{
	*fq = (struct flush_queue){ .timeout_ns = timeout_ns };
	if (size < 2 || size > FQ_MAX_SIZE || (size & (size - 1)))
		return err_set(err, -EINVAL,
			       "flush queue size %u is not a power of two in 2..%u",
			       size, FQ_MAX_SIZE);
	fq->nr_rings = single ? 1 : nr_cpus;
	fq->rings = calloc(fq->nr_rings, sizeof(*fq->rings));
	if (!fq->rings)
		goto nomem;
	for (unsigned i = 0; i < fq->nr_rings; i++)
		fq->rings[i].mask = size - 1;
	return 0;
nomem:
	fq_release(fq);
	return err_set(err, -ENOMEM, "out of memory for the flush queue");
}

void fq_release(struct flush_queue *fq)
{
	if (fq->rings)
		for (unsigned i = 0; i < fq->nr_rings; i++)
			free(fq->rings[i].entries);
	free(fq->rings);
	fq->rings = NULL;
	fq->nr_rings = 0;
}
