#include "engine/stale.h"

#include <stdlib.h>

#define CHUNK_ITEMS 512

struct stale_rec {
	uint64_t unmap_ns, unmap_op;
	uint64_t iova, size;
	uint64_t pieces;     /* pending pieces, +1 while the unmap runs */
	bool any;            /* a piece was ever added */
	struct stale_rec *next_free;
};

struct stale_piece {
	struct rbt_node rb;
	uint64_t start, end;
	struct stale_rec *rec;
};

struct stale_chunk {
	struct stale_chunk *next;
	struct stale_piece pieces[CHUNK_ITEMS];
	struct stale_rec recs[CHUNK_ITEMS];
};

static inline struct stale_piece *to_piece(struct rbt_node *rb)
{
	return rbt_entry(rb, struct stale_piece, rb);
}

void stale_init(struct stale_model *sm, uint64_t cap, struct hist *win_ns,
		struct hist *win_ops)
{
	*sm = (struct stale_model){ .cap = cap, .win_ns = win_ns,
				    .win_ops = win_ops };
}

void stale_release(struct stale_model *sm)
{
	while (sm->chunks) {
		struct stale_chunk *c = sm->chunks;

		sm->chunks = c->next;
		free(c);
	}
	sm->root.node = NULL;
	sm->free_pieces = NULL;
	sm->free_recs = NULL;
	sm->pieces = 0;
}

static bool refill(struct stale_model *sm)
{
	struct stale_chunk *c = malloc(sizeof(*c));

	if (!c)
		return false;
	c->next = sm->chunks;
	sm->chunks = c;
	for (unsigned i = 0; i < CHUNK_ITEMS; i++) {
		c->pieces[i].rec = (struct stale_rec *)sm->free_pieces;
		sm->free_pieces = &c->pieces[i];
		c->recs[i].next_free = sm->free_recs;
		sm->free_recs = &c->recs[i];
	}
	return true;
}

static struct stale_piece *piece_get(struct stale_model *sm)
{
	struct stale_piece *p;

	if (!sm->free_pieces && !refill(sm))
		return NULL;
	p = sm->free_pieces;
	sm->free_pieces = (struct stale_piece *)p->rec;
	return p;
}

static void piece_put(struct stale_model *sm, struct stale_piece *p)
{
	p->rec = (struct stale_rec *)sm->free_pieces;
	sm->free_pieces = p;
}

static struct stale_rec *rec_get(struct stale_model *sm)
{
	struct stale_rec *r;

	if (!sm->free_recs && !refill(sm))
		return NULL;
	r = sm->free_recs;
	sm->free_recs = r->next_free;
	return r;
}

static void rec_put(struct stale_model *sm, struct stale_rec *r)
{
	r->next_free = sm->free_recs;
	sm->free_recs = r;
}

/* The first piece that ends after @addr (pieces are disjoint, so ends
 * are ordered like starts). */
static struct rbt_node *first_ending_after(const struct stale_model *sm,
					   uint64_t addr)
{
	struct rbt_node *rb = sm->root.node, *best = NULL;

	while (rb) {
		if (to_piece(rb)->end > addr) {
			best = rb;
			rb = rb->left;
		} else {
			rb = rb->right;
		}
	}
	return best;
}

static bool piece_insert(struct stale_model *sm, uint64_t start, uint64_t end,
			 struct stale_rec *rec)
{
	struct rbt_node **link = &sm->root.node, *parent = NULL;
	struct stale_piece *p;

	if (sm->pieces >= sm->cap || !(p = piece_get(sm))) {
		sm->untracked++;
		return false;
	}
	p->start = start;
	p->end = end;
	p->rec = rec;
	while (*link) {
		parent = *link;
		link = start < to_piece(parent)->start ? &parent->left
						       : &parent->right;
	}
	rbt_link(&p->rb, parent, link);
	rbt_insert_fixup(&sm->root, &p->rb);
	sm->pieces++;
	rec->pieces++;
	rec->any = true;
	return true;
}

static void rec_close(struct stale_model *sm, struct stale_rec *r,
		      uint64_t now, uint64_t op)
{
	hist_add(sm->win_ns, now >= r->unmap_ns ? now - r->unmap_ns : 0);
	hist_add(sm->win_ops, op >= r->unmap_op ? op - r->unmap_op : 0);
	sm->closed++;
	sm->open--;
	rec_put(sm, r);
}

static void piece_remove(struct stale_model *sm, struct stale_piece *p,
			 uint64_t now, uint64_t op)
{
	struct stale_rec *r = p->rec;

	rbt_erase(&sm->root, &p->rb);
	piece_put(sm, p);
	sm->pieces--;
	if (--r->pieces == 0)
		rec_close(sm, r, now, op);
}

struct stale_rec *stale_begin(struct stale_model *sm, uint64_t now,
			      uint64_t op, uint64_t iova, uint64_t size)
{
	struct stale_rec *rec = rec_get(sm);

	if (!rec) {
		sm->untracked++;
		return NULL;
	}
	*rec = (struct stale_rec){ .unmap_ns = now, .unmap_op = op,
				   .iova = iova, .size = size, .pieces = 1 };
	sm->open++;
	return rec;
}

void stale_piece(struct stale_model *sm, struct stale_rec *rec,
		 uint64_t start, uint64_t end)
{
	struct rbt_node *rb;
	uint64_t cur = start;

	if (!rec || end <= start)
		return;
	/* fill only the gaps between pieces already pending */
	rb = first_ending_after(sm, start);
	while (cur < end) {
		struct stale_piece *p = rb ? to_piece(rb) : NULL;

		if (!p || p->start >= end) {
			piece_insert(sm, cur, end, rec);
			break;
		}
		rb = rbt_next(rb);
		if (p->start > cur)
			piece_insert(sm, cur, p->start, rec);
		if (p->end > cur)
			cur = p->end;
	}
}

void stale_end(struct stale_model *sm, struct stale_rec *rec, uint64_t now,
	       uint64_t op)
{
	if (!rec || --rec->pieces)
		return;
	if (rec->any) {
		rec_close(sm, rec, now, op);
	} else {
		/* nothing was unmapped, or all of it was pending already */
		sm->open--;
		rec_put(sm, rec);
	}
}

void stale_add(struct stale_model *sm, uint64_t start, uint64_t end,
	       uint64_t now, uint64_t op)
{
	struct stale_rec *rec = stale_begin(sm, now, op, start, end - start);

	stale_piece(sm, rec, start, end);
	stale_end(sm, rec, now, op);
}

void stale_cover(struct stale_model *sm, uint64_t start, uint64_t end,
		 uint64_t now, uint64_t op)
{
	struct rbt_node *rb;

	if (end <= start || !sm->pieces)
		return;
	rb = first_ending_after(sm, start);
	while (rb && to_piece(rb)->start < end) {
		struct stale_piece *p = to_piece(rb);

		rb = rbt_next(rb);
		if (p->start < start && p->end > end) {
			uint64_t tail = p->end;

			/* the middle is invalidated: keep both ends pending */
			p->end = start;
			piece_insert(sm, end, tail, p->rec);
		} else if (p->start < start) {
			p->end = start;
		} else if (p->end > end) {
			p->start = end; /* order is unchanged: pieces disjoint */
		} else {
			piece_remove(sm, p, now, op);
		}
	}
}

void stale_cover_all(struct stale_model *sm, uint64_t now, uint64_t op)
{
	struct rbt_node *rb = rbt_first(&sm->root);

	while (rb) {
		struct stale_piece *p = to_piece(rb);

		rb = rbt_next(rb);
		if (--p->rec->pieces == 0)
			rec_close(sm, p->rec, now, op);
		piece_put(sm, p);
	}
	sm->root.node = NULL;
	sm->pieces = 0;
}

bool stale_find(const struct stale_model *sm, uint64_t start, uint64_t end,
		struct stale_hit *hit)
{
	struct rbt_node *rb;
	struct stale_piece *p;

	if (!sm->pieces || end <= start)
		return false;
	rb = first_ending_after(sm, start);
	if (!rb || to_piece(rb)->start >= end)
		return false;
	p = to_piece(rb);
	if (hit)
		*hit = (struct stale_hit){
			.unmap_ns = p->rec->unmap_ns, .unmap_op = p->rec->unmap_op,
			.iova = p->rec->iova, .size = p->rec->size,
			.start = p->start, .end = p->end,
		};
	return true;
}

uint64_t stale_open(const struct stale_model *sm)
{
	return sm->open;
}
