/* The rbtree IOVA allocator of Linux iova.c (formats.md §5.9): allocated
 * ranges in a tree keyed by pfn_lo, an anchor node at pfn ~0 so the tree is
 * never empty, and two cursors (cached_node for the whole space,
 * cached32_node below 4 GiB) where top-down searches start.  Allocation
 * takes the top of the highest gap below the cursor that fits; only when
 * that fails does it retry once over the space above the cursor. */
#include "engine/iova.h"

#include <stdlib.h>

#include "engine/rbtree.h"

#define ANCHOR_PFN UINT64_MAX
#define NODES_PER_CHUNK 1024

struct iova_node {
	struct rbt_node rb;
	uint64_t pfn_lo, pfn_hi;
	bool reserved;
};

struct node_chunk {
	struct node_chunk *next;
	struct iova_node nodes[NODES_PER_CHUNK];
};

struct iova_tree {
	struct rbt_root root;
	struct iova_node anchor;
	struct rbt_node *cached_node, *cached32_node;
	uint64_t start_pfn, end_pfn, dma_32bit_pfn;
	uint64_t max32_alloc_size; /* below-4G requests this big fail fast */
	struct node_chunk *chunks;
	struct iova_node *free_nodes; /* linked through rb.parent */
	uint64_t ranges;
};

static inline struct iova_node *to_node(struct rbt_node *rb)
{
	return rbt_entry(rb, struct iova_node, rb);
}

static struct iova_node *node_get(struct iova_tree *t)
{
	struct iova_node *n;

	if (!t->free_nodes) {
		struct node_chunk *c = malloc(sizeof(*c));

		if (!c)
			return NULL;
		c->next = t->chunks;
		t->chunks = c;
		for (unsigned i = 0; i < NODES_PER_CHUNK; i++) {
			c->nodes[i].rb.parent = (struct rbt_node *)t->free_nodes;
			t->free_nodes = &c->nodes[i];
		}
	}
	n = t->free_nodes;
	t->free_nodes = (struct iova_node *)n->rb.parent;
	n->reserved = false;
	return n;
}

static void node_put(struct iova_tree *t, struct iova_node *n)
{
	n->rb.parent = (struct rbt_node *)t->free_nodes;
	t->free_nodes = n;
}

static void tree_insert(struct iova_tree *t, struct iova_node *n)
{
	struct rbt_node **link = &t->root.node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = n->pfn_lo < to_node(parent)->pfn_lo ? &parent->left
							   : &parent->right;
	}
	rbt_link(&n->rb, parent, link);
	rbt_insert_fixup(&t->root, &n->rb);
	t->ranges++;
}

/* The node whose range holds @pfn. */
static struct iova_node *tree_find(const struct iova_tree *t, uint64_t pfn)
{
	struct rbt_node *rb = t->root.node;

	while (rb) {
		struct iova_node *n = to_node(rb);

		if (pfn < n->pfn_lo)
			rb = rb->left;
		else if (pfn > n->pfn_hi)
			rb = rb->right;
		else
			return n;
	}
	return NULL;
}

/* The lowest node that is not entirely below @limit (exclusive): where a
 * search bounded by @limit starts.  The anchor guarantees one exists. */
static struct rbt_node *first_at_or_above(const struct iova_tree *t,
					  uint64_t limit)
{
	struct rbt_node *rb = t->root.node, *best = NULL;

	while (rb) {
		if (to_node(rb)->pfn_hi >= limit) {
			best = rb;
			rb = rb->left;
		} else {
			rb = rb->right;
		}
	}
	return best;
}

static void cursor_after_insert(struct iova_tree *t, struct iova_node *n)
{
	if (n->pfn_hi < t->dma_32bit_pfn)
		t->cached32_node = &n->rb;
	else
		t->cached_node = &n->rb;
}

/* Freed space at or above a cursor must be found again, so the cursor
 * moves up past the freed node. */
static void cursor_before_erase(struct iova_tree *t, struct iova_node *n)
{
	struct iova_node *c32 = to_node(t->cached32_node);

	if (n == c32 ||
	    (n->pfn_hi < t->dma_32bit_pfn && n->pfn_lo >= c32->pfn_lo))
		t->cached32_node = rbt_next(&n->rb);
	if (n->pfn_lo < t->dma_32bit_pfn)
		t->max32_alloc_size = t->dma_32bit_pfn;
	if (n->pfn_lo >= to_node(t->cached_node)->pfn_lo)
		t->cached_node = rbt_next(&n->rb);
}

static void tree_erase(struct iova_tree *t, struct iova_node *n)
{
	cursor_before_erase(t, n);
	rbt_erase(&t->root, &n->rb);
	t->ranges--;
}

/* Walks down from @curr with the candidate at the top of each gap; returns
 * the candidate pfn or UINT64_MAX when no gap in [low, high) fits. */
static uint64_t search_down(struct rbt_node *curr, uint64_t high, uint64_t low,
			    uint64_t size, uint64_t align_mask)
{
	uint64_t cand;

	for (;;) {
		uint64_t lo = to_node(curr)->pfn_lo;

		if (lo < high)
			high = lo;
		if (high < size)
			return UINT64_MAX;
		cand = (high - size) & align_mask;
		if (cand < low)
			return UINT64_MAX;
		curr = rbt_prev(curr);
		if (!curr || cand > to_node(curr)->pfn_hi)
			return cand;
	}
}

static uint64_t rbtree_alloc(void *priv, uint64_t size, uint64_t limit_pfn,
			     bool size_aligned)
{
	struct iova_tree *t = priv;
	uint64_t limit = limit_pfn + 1; /* exclusive, as iova.c uses it */
	uint64_t align_mask = UINT64_MAX, cand, retry_pfn;
	struct rbt_node *curr;
	struct iova_node *n;

	if (!size || limit_pfn == UINT64_MAX)
		return 0;
	if (limit > t->end_pfn + 1)
		limit = t->end_pfn + 1;
	if (size_aligned && size > 1)
		align_mask <<= 64 - __builtin_clzll(size - 1);
	if (limit <= t->dma_32bit_pfn && size >= t->max32_alloc_size)
		return 0;

	curr = limit <= t->dma_32bit_pfn ? t->cached32_node : t->cached_node;
	retry_pfn = to_node(curr)->pfn_hi;
	cand = search_down(curr, limit, t->start_pfn, size, align_mask);
	if (cand == UINT64_MAX && retry_pfn < limit) {
		/* nothing below the cursor: try the space above it once */
		curr = first_at_or_above(t, limit);
		cand = search_down(curr, limit, retry_pfn + 1, size, align_mask);
	}
	if (cand == UINT64_MAX) {
		t->max32_alloc_size = size;
		return 0;
	}
	n = node_get(t);
	if (!n)
		return 0;
	n->pfn_lo = cand;
	n->pfn_hi = cand + size - 1;
	tree_insert(t, n);
	cursor_after_insert(t, n);
	return cand;
}

static bool rbtree_free(void *priv, uint64_t pfn, uint64_t pages)
{
	struct iova_tree *t = priv;
	struct iova_node *n = tree_find(t, pfn);

	(void)pages;
	if (!n || n == &t->anchor || n->reserved || n->pfn_lo != pfn)
		return false;
	tree_erase(t, n);
	node_put(t, n);
	return true;
}

/* Reserved ranges absorb whatever they overlap, like reserve_iova. */
static int rbtree_reserve(void *priv, uint64_t lo, uint64_t hi,
			  struct errbuf *err)
{
	struct iova_tree *t = priv;
	struct rbt_node *rb = first_at_or_above(t, lo);
	struct iova_node *n;

	if (hi < lo || hi >= ANCHOR_PFN)
		return err_set(err, -EINVAL, "bad reserved pfn range 0x%llx-0x%llx",
			       (unsigned long long)lo, (unsigned long long)hi);
	while (rb && to_node(rb)->pfn_lo <= hi && to_node(rb) != &t->anchor) {
		struct rbt_node *next = rbt_next(rb);

		n = to_node(rb);
		if (n->pfn_lo < lo)
			lo = n->pfn_lo;
		if (n->pfn_hi > hi)
			hi = n->pfn_hi;
		tree_erase(t, n);
		node_put(t, n);
		rb = next;
	}
	n = node_get(t);
	if (!n)
		return err_set(err, -ENOMEM, "out of memory reserving iova range");
	n->pfn_lo = lo;
	n->pfn_hi = hi;
	n->reserved = true;
	tree_insert(t, n);
	return 0;
}

static void rbtree_gaps(void *priv, uint64_t limit_pfn, struct iova_gap_stats *out)
{
	struct iova_tree *t = priv;
	uint64_t next_free = t->start_pfn, end = limit_pfn;

	*out = (struct iova_gap_stats){ .ranges = t->ranges - 1 };
	if (end > t->end_pfn)
		end = t->end_pfn;
	for (struct rbt_node *rb = rbt_first(&t->root); rb; rb = rbt_next(rb)) {
		struct iova_node *n = to_node(rb);
		uint64_t gap_end = n->pfn_lo; /* exclusive */

		if (next_free > end)
			break;
		if (gap_end > end + 1)
			gap_end = end + 1;
		if (gap_end > next_free) {
			uint64_t len = gap_end - next_free;

			out->gaps++;
			out->free_pfns += len;
			if (len > out->largest)
				out->largest = len;
		}
		if (n == &t->anchor)
			break;
		if (n->pfn_hi + 1 > next_free)
			next_free = n->pfn_hi + 1;
	}
}

static bool rbtree_allocated(void *priv, uint64_t pfn)
{
	struct iova_tree *t = priv;
	struct iova_node *n = tree_find(t, pfn);

	return n && n != &t->anchor;
}

static int rbtree_init(void **priv, const struct iova_space *sp,
		       struct errbuf *err)
{
	struct iova_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return err_set(err, -ENOMEM, "out of memory for the iova tree");
	t->start_pfn = sp->start_pfn;
	t->end_pfn = sp->end_pfn;
	t->dma_32bit_pfn = sp->dma_32bit_pfn;
	t->max32_alloc_size = sp->dma_32bit_pfn;
	t->anchor.pfn_lo = t->anchor.pfn_hi = ANCHOR_PFN;
	rbt_link(&t->anchor.rb, NULL, &t->root.node);
	rbt_insert_fixup(&t->root, &t->anchor.rb);
	t->ranges = 1;
	t->cached_node = t->cached32_node = &t->anchor.rb;
	*priv = t;
	return 0;
}

static void rbtree_release(void *priv)
{
	struct iova_tree *t = priv;

	if (!t)
		return;
	while (t->chunks) {
		struct node_chunk *c = t->chunks;

		t->chunks = c->next;
		free(c);
	}
	free(t);
}

const struct iova_allocator_ops iova_rbtree_ops = {
	.name = "rbtree",
	.init = rbtree_init,
	.release = rbtree_release,
	.alloc = rbtree_alloc,
	.free = rbtree_free,
	.reserve = rbtree_reserve,
	.gaps = rbtree_gaps,
	.allocated = rbtree_allocated,
};
