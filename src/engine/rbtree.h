/* An intrusive red-black tree with parent pointers: the caller embeds a
 * struct rbt_node, walks to the insertion point itself (so keys and
 * comparisons stay with the caller) and then links and rebalances.  Used
 * by the IOVA allocator and the stale-range model. */
#ifndef IOMMUTOOL_ENGINE_RBTREE_H
#define IOMMUTOOL_ENGINE_RBTREE_H

#include <stddef.h>

struct rbt_node {
	struct rbt_node *parent, *left, *right;
	unsigned char red;
};

struct rbt_root {
	struct rbt_node *node;
};

#define rbt_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Places @n as the child of @parent at *@link (NULL parent: the root). */
static inline void rbt_link(struct rbt_node *n, struct rbt_node *parent,
			    struct rbt_node **link)
{
	n->parent = parent;
	n->left = n->right = NULL;
	n->red = 1;
	*link = n;
}

/* Restores the red-black invariants after rbt_link. */
void rbt_insert_fixup(struct rbt_root *root, struct rbt_node *n);
void rbt_erase(struct rbt_root *root, struct rbt_node *n);

struct rbt_node *rbt_first(const struct rbt_root *root);
struct rbt_node *rbt_last(const struct rbt_root *root);
struct rbt_node *rbt_next(const struct rbt_node *n);
struct rbt_node *rbt_prev(const struct rbt_node *n);

/* Checks the invariants (tests): returns the black height, -1 if broken. */
int rbt_validate(const struct rbt_root *root);

#endif
