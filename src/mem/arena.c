/* A sparse physical memory of 4 KiB pages.
 *
 * Lookup is a two-level radix: a hash table maps a 2 MiB chunk number
 * (pa >> 21) to a leaf of 512 page pointers, and a one-entry cache in front
 * of it catches the common case of consecutive accesses to the same chunk,
 * so arena_page is a compare and two loads.  Page memory comes from
 * page-aligned slabs and is recycled through a spare list; physical
 * addresses freed inside the allocation window are handed out again. */
#include "mem/arena.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mem/backend.h"

#define ARENA_PAGE_SHIFT 12
#define ARENA_PAGE_SIZE (UINT64_C(1) << ARENA_PAGE_SHIFT)
#define ARENA_PAGE_MASK (ARENA_PAGE_SIZE - 1)
#define LEAF_BITS 9
#define LEAF_SLOTS (1u << LEAF_BITS)
#define CHUNK_SHIFT (ARENA_PAGE_SHIFT + LEAF_BITS)
#define SLAB_PAGES 64
/* At most 4 GiB of pages: a spec or trace asking for more is refused
 * rather than exhausting the host. */
#define ARENA_MAX_PAGES (UINT64_C(1) << 20)

struct arena_leaf {
	unsigned char *page[LEAF_SLOTS];
};

struct arena_slot {
	uint64_t key; /* chunk number + 1; 0 = empty */
	struct arena_leaf *leaf;
};

struct arena {
	uint64_t base, end;   /* allocation window [base, end), page-aligned */
	uint64_t next;        /* next never-used page of the window */
	uint64_t pages;       /* present pages */

	uint64_t *free_pa;    /* freed window pages, reused first (LIFO) */
	size_t nr_free_pa, cap_free_pa;
	unsigned char **spare; /* page memory of freed pages */
	size_t nr_spare, cap_spare;
	unsigned char **slabs;
	size_t nr_slabs, cap_slabs;
	size_t slab_used;     /* pages taken from the newest slab */

	struct arena_slot *slots; /* power-of-two sized, linear probing */
	size_t nr_slots, nr_leaves;
	uint64_t cached_key;
	struct arena_leaf *cached_leaf;
};

static size_t slot_hash(uint64_t key, size_t nr_slots)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (nr_slots - 1);
}

static struct arena_leaf *leaf_lookup(struct arena *a, uint64_t chunk)
{
	uint64_t key = chunk + 1;
	size_t i;

	if (a->cached_leaf && a->cached_key == key)
		return a->cached_leaf;
	if (!a->nr_slots)
		return NULL;
	for (i = slot_hash(key, a->nr_slots);; i = (i + 1) & (a->nr_slots - 1)) {
		if (a->slots[i].key == key) {
			a->cached_key = key;
			a->cached_leaf = a->slots[i].leaf;
			return a->slots[i].leaf;
		}
		if (a->slots[i].key == 0)
			return NULL;
	}
}

static void slot_insert(struct arena_slot *slots, size_t nr_slots,
			uint64_t key, struct arena_leaf *leaf)
{
	size_t i = slot_hash(key, nr_slots);

	while (slots[i].key)
		i = (i + 1) & (nr_slots - 1);
	slots[i].key = key;
	slots[i].leaf = leaf;
}

static struct arena_leaf *leaf_get(struct arena *a, uint64_t chunk)
{
	struct arena_leaf *leaf = leaf_lookup(a, chunk);

	if (leaf)
		return leaf;
	if ((a->nr_leaves + 1) * 2 > a->nr_slots) {
		size_t n = a->nr_slots ? a->nr_slots * 2 : 64;
		struct arena_slot *s = calloc(n, sizeof(*s));

		if (!s)
			return NULL;
		for (size_t i = 0; i < a->nr_slots; i++)
			if (a->slots[i].key)
				slot_insert(s, n, a->slots[i].key, a->slots[i].leaf);
		free(a->slots);
		a->slots = s;
		a->nr_slots = n;
	}
	leaf = calloc(1, sizeof(*leaf));
	if (!leaf)
		return NULL;
	slot_insert(a->slots, a->nr_slots, chunk + 1, leaf);
	a->nr_leaves++;
	return leaf;
}

static bool grow(void **array, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return true;
	n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	p = realloc(*array, n * elem);
	if (!p)
		return false;
	*array = p;
	*cap = n;
	return true;
}

static unsigned char *page_memory(struct arena *a)
{
	void *slab;

	if (a->nr_spare)
		return a->spare[--a->nr_spare];
	if (a->nr_slabs && a->slab_used < SLAB_PAGES)
		return a->slabs[a->nr_slabs - 1] + ARENA_PAGE_SIZE * a->slab_used++;
	if (!grow((void **)&a->slabs, &a->cap_slabs, a->nr_slabs + 1, sizeof(*a->slabs)))
		return NULL;
	if (posix_memalign(&slab, ARENA_PAGE_SIZE, ARENA_PAGE_SIZE * SLAB_PAGES) != 0)
		return NULL;
	a->slabs[a->nr_slabs++] = slab;
	a->slab_used = 1;
	return slab;
}

/* Makes the (absent) page at @pa present and zeroed. */
static bool page_install(struct arena *a, uint64_t pa)
{
	struct arena_leaf *leaf;
	unsigned char *mem;

	if (a->pages >= ARENA_MAX_PAGES)
		return false;
	leaf = leaf_get(a, pa >> CHUNK_SHIFT);
	if (!leaf)
		return false;
	mem = page_memory(a);
	if (!mem)
		return false;
	memset(mem, 0, ARENA_PAGE_SIZE);
	leaf->page[(pa >> ARENA_PAGE_SHIFT) & (LEAF_SLOTS - 1)] = mem;
	a->pages++;
	return true;
}

struct arena *arena_new(uint64_t base, uint64_t limit)
{
	struct arena *a = calloc(1, sizeof(*a));
	uint64_t end;

	if (!a)
		return NULL;
	end = limit > UINT64_MAX - base ? UINT64_MAX : base + limit;
	if (base & ARENA_PAGE_MASK) /* round up; past the last page: no window */
		base = base > ~ARENA_PAGE_MASK ? end : (base | ARENA_PAGE_MASK) + 1;
	a->base = base;
	a->end = end & ~ARENA_PAGE_MASK;
	if (a->end < base)
		a->end = base;
	/* 0 means "exhausted" to arena_alloc_page, so page 0 is never handed
	 * out (it can still be reserved). */
	a->next = base ? base : ARENA_PAGE_SIZE;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nr_slots; i++)
		free(a->slots[i].leaf);
	for (size_t i = 0; i < a->nr_slabs; i++)
		free(a->slabs[i]);
	free(a->slots);
	free(a->slabs);
	free(a->spare);
	free(a->free_pa);
	free(a);
}

void *arena_page(struct arena *a, uint64_t pa)
{
	struct arena_leaf *leaf = leaf_lookup(a, pa >> CHUNK_SHIFT);

	return leaf ? leaf->page[(pa >> ARENA_PAGE_SHIFT) & (LEAF_SLOTS - 1)] : NULL;
}

uint64_t arena_alloc_page(struct arena *a)
{
	while (a->nr_free_pa) {
		uint64_t pa = a->free_pa[--a->nr_free_pa];

		if (arena_page(a, pa))
			continue; /* reserved again since it was freed */
		if (!page_install(a, pa)) {
			a->nr_free_pa++;
			return 0;
		}
		return pa;
	}
	while (a->next < a->end) {
		uint64_t pa = a->next;

		if (arena_page(a, pa)) {
			a->next += ARENA_PAGE_SIZE;
			continue; /* reserved at a fixed address */
		}
		if (!page_install(a, pa))
			return 0;
		a->next += ARENA_PAGE_SIZE;
		return pa;
	}
	return 0;
}

void arena_free_page(struct arena *a, uint64_t pa)
{
	struct arena_leaf *leaf;
	unsigned char **slot;

	pa &= ~ARENA_PAGE_MASK;
	leaf = leaf_lookup(a, pa >> CHUNK_SHIFT);
	if (!leaf)
		return;
	slot = &leaf->page[(pa >> ARENA_PAGE_SHIFT) & (LEAF_SLOTS - 1)];
	if (!*slot)
		return;
	/* The spare list cannot outgrow the slabs, so this only fails when
	 * its first allocation does; the page memory then stays with the slab. */
	if (grow((void **)&a->spare, &a->cap_spare, a->nr_spare + 1, sizeof(*a->spare)))
		a->spare[a->nr_spare++] = *slot;
	*slot = NULL;
	a->pages--;
	if (pa >= a->base && pa < a->end && pa != 0 &&
	    grow((void **)&a->free_pa, &a->cap_free_pa, a->nr_free_pa + 1, sizeof(*a->free_pa)))
		a->free_pa[a->nr_free_pa++] = pa;
}

int arena_reserve(struct arena *a, uint64_t pa, uint64_t len, struct errbuf *err)
{
	uint64_t first, last, missing = 0;

	if (len == 0)
		return 0;
	if (len - 1 > UINT64_MAX - pa)
		return err_set(err, -EINVAL, "cannot reserve 0x%" PRIx64 " bytes at 0x%" PRIx64
			       ": wraps past the top of the address space", len, pa);
	first = pa & ~ARENA_PAGE_MASK;
	last = (pa + (len - 1)) & ~ARENA_PAGE_MASK;
	if ((last - first) / ARENA_PAGE_SIZE >= ARENA_MAX_PAGES)
		return err_set(err, -E2BIG, "cannot reserve 0x%" PRIx64 " bytes at 0x%" PRIx64
			       ": more than the arena's limit of %" PRIu64 " pages",
			       len, pa, ARENA_MAX_PAGES);
	for (uint64_t p = first;; p += ARENA_PAGE_SIZE) {
		if (!arena_page(a, p))
			missing++;
		if (p == last)
			break;
	}
	if (a->pages + missing > ARENA_MAX_PAGES)
		return err_set(err, -E2BIG, "cannot reserve 0x%" PRIx64 " bytes at 0x%" PRIx64
			       ": the arena would exceed its limit of %" PRIu64 " pages",
			       len, pa, ARENA_MAX_PAGES);
	for (uint64_t p = first;; p += ARENA_PAGE_SIZE) {
		if (!arena_page(a, p) && !page_install(a, p))
			return err_set(err, -ENOMEM, "cannot reserve the page at 0x%" PRIx64
				       ": out of memory", p);
		if (p == last)
			break;
	}
	return 0;
}

uint64_t arena_pages_in_use(const struct arena *a)
{
	return a->pages;
}

/* --- the physmem view --- */

struct arena_view {
	struct arena *arena;
	struct peek_copy copy; /* peeks across a page boundary */
};

static int view_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		     struct errbuf *err)
{
	struct arena_view *v = pm->priv;
	unsigned char *out = buf;

	while (len) {
		uint64_t in_page = pa & ARENA_PAGE_MASK;
		size_t n = ARENA_PAGE_SIZE - in_page < len ? (size_t)(ARENA_PAGE_SIZE - in_page) : len;
		const unsigned char *page = arena_page(v->arena, pa);

		if (!page)
			return err_set(err, -EFAULT, "cannot read 0x%zx bytes at 0x%" PRIx64
				       " in %s: the page was freed after the view was made",
				       len, pa, pm->path);
		memcpy(out, page + in_page, n);
		out += n;
		pa += n;
		len -= n;
	}
	return 0;
}

static const void *view_peek(struct physmem *pm, uint64_t pa, size_t len)
{
	struct arena_view *v = pm->priv;
	uint64_t in_page = pa & ARENA_PAGE_MASK;

	if (len <= ARENA_PAGE_SIZE - in_page) {
		const unsigned char *page = arena_page(v->arena, pa);

		return page ? page + in_page : NULL;
	}
	return peek_copy_read(&v->copy, pm, pa, len);
}

static void view_free(struct physmem *pm)
{
	struct arena_view *v = pm->priv;

	if (v)
		peek_copy_release(&v->copy);
	free(v);
	pm->priv = NULL;
}

static const struct physmem_ops arena_view_ops = {
	.name = "arena",
	.read = view_read,
	.peek = view_peek,
	.free = view_free,
};

static int leaf_key_cmp(const void *x, const void *y)
{
	const struct arena_slot *a = x, *b = y;

	return a->key < b->key ? -1 : a->key > b->key;
}

/* Present pages as ranges, in address order, adjacent pages merged. */
static int view_ranges(struct arena *a, struct physmem *pm, struct errbuf *err)
{
	struct arena_slot *leaves = NULL;
	struct physmem_range *r = NULL;
	size_t nr_leaves = 0, nr = 0, cap = 0;

	if (a->nr_leaves) {
		leaves = malloc(a->nr_leaves * sizeof(*leaves));
		if (!leaves)
			return err_set(err, -ENOMEM, "arena: out of memory");
	}
	for (size_t i = 0; i < a->nr_slots; i++)
		if (a->slots[i].key)
			leaves[nr_leaves++] = a->slots[i];
	if (nr_leaves)
		qsort(leaves, nr_leaves, sizeof(*leaves), leaf_key_cmp);
	for (size_t i = 0; i < nr_leaves; i++) {
		uint64_t chunk_pa = (leaves[i].key - 1) << CHUNK_SHIFT;

		for (size_t j = 0; j < LEAF_SLOTS; j++) {
			uint64_t pa = chunk_pa + j * ARENA_PAGE_SIZE;

			if (!leaves[i].leaf->page[j])
				continue;
			if (nr && r[nr - 1].start + r[nr - 1].size == pa) {
				r[nr - 1].size += ARENA_PAGE_SIZE;
				continue;
			}
			if (!grow((void **)&r, &cap, nr + 1, sizeof(*r))) {
				free(leaves);
				free(r);
				return err_set(err, -ENOMEM, "arena: out of memory");
			}
			r[nr].start = pa;
			r[nr].size = ARENA_PAGE_SIZE;
			nr++;
		}
	}
	free(leaves);
	return physmem_set_ranges(pm, r, nr, err);
}

int arena_physmem(struct arena *a, struct physmem **out, struct errbuf *err)
{
	struct physmem *pm = calloc(1, sizeof(*pm));
	struct arena_view *v = calloc(1, sizeof(*v));
	int ret;

	*out = NULL;
	if (pm)
		pm->path = strdup("arena");
	if (!pm || !v || !pm->path) {
		if (pm)
			free(pm->path);
		free(pm);
		free(v);
		return err_set(err, -ENOMEM, "arena: out of memory");
	}
	v->arena = a;
	pm->ops = &arena_view_ops;
	pm->priv = v;
	ret = view_ranges(a, pm, err);
	if (ret < 0) {
		physmem_free(pm);
		return ret;
	}
	*out = pm;
	return 0;
}
