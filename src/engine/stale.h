/* The stale-IOTLB model of one domain: IOVA ranges that were unmapped from
 * the page table but not yet covered by a completed invalidation, so the
 * IOTLB may still translate them.  Each unmapped range's window (trace ns
 * and operations from the unmap until the last of it is invalidated) goes
 * into two histograms; overlaps answer "is this IOVA being reused, or
 * accessed, before its flush?". */
#ifndef IOMMUTOOL_ENGINE_STALE_H
#define IOMMUTOOL_ENGINE_STALE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/hist.h"
#include "engine/rbtree.h"

struct stale_rec;
struct stale_piece;
struct stale_chunk;

struct stale_model {
	struct rbt_root root;       /* pending pieces, disjoint, by start */
	uint64_t pieces, cap;
	struct stale_piece *free_pieces;
	struct stale_rec *free_recs;
	struct stale_chunk *chunks;
	struct hist *win_ns, *win_ops;
	uint64_t closed, untracked;
	uint64_t open;              /* records with a pending piece */
};

/* What an overlap found: the oldest-listed pending range it touches. */
struct stale_hit {
	uint64_t unmap_ns, unmap_op;
	uint64_t iova, size;        /* the unmap that left it pending */
	uint64_t start, end;        /* the pending piece */
};

void stale_init(struct stale_model *sm, uint64_t cap, struct hist *win_ns,
		struct hist *win_ops);
void stale_release(struct stale_model *sm);

/* One unmap (iommu_unmap, or one DMA unmap): begin, the pieces its
 * driver calls removed, end.  The record's window runs until the last of
 * its pieces is invalidated, and not before the unmap has ended, so a
 * sync forced halfway through does not close it.  Parts already pending
 * from an earlier unmap keep their earlier time.  begin returns NULL when
 * the model is at its cap (then nothing is tracked). */
struct stale_rec *stale_begin(struct stale_model *sm, uint64_t now,
			      uint64_t op, uint64_t iova, uint64_t size);
void stale_piece(struct stale_model *sm, struct stale_rec *rec,
		 uint64_t start, uint64_t end);
void stale_end(struct stale_model *sm, struct stale_rec *rec, uint64_t now,
	       uint64_t op);
/* begin + one piece + end */
void stale_add(struct stale_model *sm, uint64_t start, uint64_t end,
	       uint64_t now, uint64_t op);
/* An unmap whose invalidation completes in the same operation: a window
 * of 0 (hist_add(h, 0), inline as every strict unmap does it). */
static inline void stale_add_closed(struct stale_model *sm)
{
	sm->win_ns->buckets[0]++;
	sm->win_ns->count++;
	sm->win_ns->min = 0;
	sm->win_ops->buckets[0]++;
	sm->win_ops->count++;
	sm->win_ops->min = 0;
	sm->closed++;
}
/* An invalidation of [start, end) completed at (@now, @op). */
void stale_cover(struct stale_model *sm, uint64_t start, uint64_t end,
		 uint64_t now, uint64_t op);
void stale_cover_all(struct stale_model *sm, uint64_t now, uint64_t op);
/* First pending piece overlapping [start, end). */
bool stale_find(const struct stale_model *sm, uint64_t start, uint64_t end,
		struct stale_hit *hit);
static inline bool stale_empty(const struct stale_model *sm)
{
	return sm->pieces == 0;
}
/* Unmapped ranges still waiting for an invalidation. */
uint64_t stale_open(const struct stale_model *sm);

#endif
