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

static void rotate_left(struct rbt_root *root, struct rbt_node *x)
{
	struct rbt_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	replace_child(root, x, y);
	y->left = x;
	x->parent = y;
}

static void rotate_right(struct rbt_root *root, struct rbt_node *x)
{
	struct rbt_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	replace_child(root, x, y);
	y->right = x;
	x->parent = y;
}

void rbt_insert_fixup(struct rbt_root *root, struct rbt_node *z)
{
	struct rbt_node *p, *g, *u;

	while ((p = z->parent) && p->red) {
		g = p->parent; /* exists: a red node is never the root */
		if (p == g->left) {
			u = g->right;
			if (is_red(u)) {
				p->red = 0;
				u->red = 0;
				g->red = 1;
				z = g;
				continue;
			}
			if (z == p->right) {
				rotate_left(root, p);
				z = p;
				p = z->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_right(root, g);
		} else {
			u = g->left;
			if (is_red(u)) {
				p->red = 0;
				u->red = 0;
				g->red = 1;
				z = g;
				continue;
			}
			if (z == p->left) {
				rotate_right(root, p);
				z = p;
				p = z->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_left(root, g);
		}
	}
	root->node->red = 0;
}

static void erase_fixup(struct rbt_root *root, struct rbt_node *x,
			struct rbt_node *xp)
{
	struct rbt_node *w;

	while (x != root->node && !is_red(x)) {
		if (x == xp->left) {
			w = xp->right;
			if (is_red(w)) {
				w->red = 0;
				xp->red = 1;
				rotate_left(root, xp);
				w = xp->right;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = 1;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!is_red(w->right)) {
				w->left->red = 0;
				w->red = 1;
				rotate_right(root, w);
				w = xp->right;
			}
			w->red = xp->red;
			xp->red = 0;
			w->right->red = 0;
			rotate_left(root, xp);
		} else {
			w = xp->left;
			if (is_red(w)) {
				w->red = 0;
				xp->red = 1;
				rotate_right(root, xp);
				w = xp->left;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = 1;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!is_red(w->left)) {
				w->right->red = 0;
				w->red = 1;
				rotate_left(root, w);
				w = xp->left;
			}
			w->red = xp->red;
			xp->red = 0;
			w->left->red = 0;
			rotate_right(root, xp);
		}
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

struct rbt_node *rbt_first(const struct rbt_root *root)
{
	struct rbt_node *n = root->node;

	if (n)
		while (n->left)
			n = n->left;
	return n;
}

struct rbt_node *rbt_last(const struct rbt_root *root)
{
	struct rbt_node *n = root->node;

	if (n)
		while (n->right)
			n = n->right;
	return n;
}

struct rbt_node *rbt_next(const struct rbt_node *n)
{
	const struct rbt_node *p;

	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct rbt_node *)n;
	}
	while ((p = n->parent) && n == p->right)
		n = p;
	return (struct rbt_node *)p;
}

struct rbt_node *rbt_prev(const struct rbt_node *n)
{
	const struct rbt_node *p;

	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct rbt_node *)n;
	}
	while ((p = n->parent) && n == p->left)
		n = p;
	return (struct rbt_node *)p;
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
