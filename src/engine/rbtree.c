/* Red-black tree balancing after the textbook algorithm (Cormen et al.,
 * ch. 13), written for nodes whose absent children are NULL: the erase
 * fix-up therefore carries the parent of the possibly-NULL child along. */
#include "engine/rbtree.h"

#include <stdbool.h>

static inline bool is_red(const struct rbt_node *n)
{
	return n && n->red;
}

/* Replaces @old by @new in @old's parent (or as the root). */
static void replace_child(struct rbt_root *root, struct rbt_node *old,
			  struct rbt_node *new)
{
	struct rbt_node *p = old->parent;

	if (!p)
		root->node = new;
	else if (p->left == old)
		p->left = new;
	else
		p->right = new;
	if (new)
		new->parent = p;
}

/* The two sides of a node, so that each mirror-image case of the
 * algorithm is written once with the side as a parameter. */
enum { LEFT = 0, RIGHT = 1 };

static inline struct rbt_node **child(struct rbt_node *n, int side)
{
	return side == LEFT ? &n->left : &n->right;
}

/* Moves @x down to @side: its child on the other side takes its place. */
static void rotate(struct rbt_root *root, struct rbt_node *x, int side)
{
	struct rbt_node *y = *child(x, !side);

	*child(x, !side) = *child(y, side);
	if (*child(y, side))
		(*child(y, side))->parent = x;
	replace_child(root, x, y);
	*child(y, side) = x;
	x->parent = y;
}

void rbt_insert_fixup(struct rbt_root *root, struct rbt_node *z)
{
	struct rbt_node *p, *g, *u;

	while ((p = z->parent) && p->red) {
		/* g exists: a red node is never the root */
		int side;

		g = p->parent;
		side = p == g->left ? LEFT : RIGHT;
		u = *child(g, !side);
		if (is_red(u)) {
			p->red = 0;
			u->red = 0;
			g->red = 1;
			z = g;
			continue;
		}
		if (z == *child(p, !side)) {
			rotate(root, p, side);
			z = p;
			p = z->parent;
		}
		p->red = 0;
		g->red = 1;
		rotate(root, g, !side);
	}
	root->node->red = 0;
}

static void erase_fixup(struct rbt_root *root, struct rbt_node *x,
			struct rbt_node *xp)
{
	struct rbt_node *w;

	while (x != root->node && !is_red(x)) {
		/* x may be NULL: its side is told by its parent */
		int side = x == xp->left ? LEFT : RIGHT;

		w = *child(xp, !side);
		if (is_red(w)) {
			w->red = 0;
			xp->red = 1;
			rotate(root, xp, side);
			w = *child(xp, !side);
		}
		if (!is_red(w->left) && !is_red(w->right)) {
			w->red = 1;
			x = xp;
			xp = x->parent;
			continue;
		}
		if (!is_red(*child(w, !side))) {
			(*child(w, side))->red = 0;
			w->red = 1;
			rotate(root, w, !side);
			w = *child(xp, !side);
		}
		w->red = xp->red;
		xp->red = 0;
		(*child(w, !side))->red = 0;
		rotate(root, xp, side);
		x = root->node;
		break;
	}
	if (x)
		x->red = 0;
}

void rbt_erase(struct rbt_root *root, struct rbt_node *z)
{
	struct rbt_node *x, *xp, *y;
	bool removed_black;

	if (!z->left || !z->right) {
		x = z->left ? z->left : z->right;
		xp = z->parent;
		removed_black = !z->red;
		replace_child(root, z, x);
	} else {
		y = z->right;
		while (y->left)
			y = y->left;
		removed_black = !y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			replace_child(root, y, x);
			y->right = z->right;
			y->right->parent = y;
		}
		replace_child(root, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	if (removed_black)
		erase_fixup(root, x, xp);
}

/* The node furthest to @side below @n (n itself when none). */
static struct rbt_node *outermost(struct rbt_node *n, int side)
{
	while (*child(n, side))
		n = *child(n, side);
	return n;
}

struct rbt_node *rbt_first(const struct rbt_root *root)
{
	return root->node ? outermost(root->node, LEFT) : NULL;
}

struct rbt_node *rbt_last(const struct rbt_root *root)
{
	return root->node ? outermost(root->node, RIGHT) : NULL;
}

/* The in-order neighbour of @n toward @side. */
static struct rbt_node *neighbour(const struct rbt_node *n, int side)
{
	struct rbt_node *m = (struct rbt_node *)n, *p;

	if (*child(m, side))
		return outermost(*child(m, side), !side);
	while ((p = m->parent) && m == *child(p, side))
		m = p;
	return p;
}

struct rbt_node *rbt_next(const struct rbt_node *n)
{
	return neighbour(n, RIGHT);
}

struct rbt_node *rbt_prev(const struct rbt_node *n)
{
	return neighbour(n, LEFT);
}

static int validate(const struct rbt_node *n, const struct rbt_node *parent,
		    unsigned depth)
{
	int l, r;

	if (!n)
		return 1;
	if (n->parent != parent || depth > 128)
		return -1;
	if (n->red && (is_red(n->left) || is_red(n->right)))
		return -1;
	l = validate(n->left, n, depth + 1);
	r = validate(n->right, n, depth + 1);
	if (l < 0 || r < 0 || l != r)
		return -1;
	return l + !n->red;
}

int rbt_validate(const struct rbt_root *root)
{
	if (root->node && root->node->red)
		return -1;
	return validate(root->node, NULL, 0);
}
