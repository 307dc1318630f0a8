/* Open addressing with linear probing and backward-shift deletion, so
 * there are no tombstones and the table never degrades under churn. */
#include "engine/refmodel.h"

#include <errno.h>
#include <stdlib.h>

#define REF_EMPTY UINT64_MAX
#define REF_MIN_CAP 1024

static inline size_t slot_of(const struct refmodel *rm, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (rm->cap - 1);
}

static int alloc_table(struct refmodel *rm, size_t cap)
{
	rm->keys = malloc(cap * sizeof(*rm->keys));
	rm->vals = malloc(cap * sizeof(*rm->vals));
	if (!rm->keys || !rm->vals) {
		free(rm->keys);
		free(rm->vals);
		rm->keys = rm->vals = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		rm->keys[i] = REF_EMPTY;
	rm->cap = cap;
	rm->count = 0;
	return 0;
}

int ref_init(struct refmodel *rm)
{
	return alloc_table(rm, REF_MIN_CAP);
}

void ref_release(struct refmodel *rm)
{
	free(rm->keys);
	free(rm->vals);
	rm->keys = rm->vals = NULL;
	rm->cap = rm->count = 0;
}

static size_t find(const struct refmodel *rm, uint64_t key)
{
	size_t i = slot_of(rm, key);

	while (rm->keys[i] != REF_EMPTY && rm->keys[i] != key)
		i = (i + 1) & (rm->cap - 1);
	return i;
}

static void insert_raw(struct refmodel *rm, uint64_t key, uint64_t val)
{
	size_t i = find(rm, key);

	if (rm->keys[i] == REF_EMPTY)
		rm->count++;
	rm->keys[i] = key;
	rm->vals[i] = val;
}

static int grow(struct refmodel *rm)
{
	struct refmodel old = *rm;

	if (alloc_table(rm, old.cap * 2) < 0) {
		*rm = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i] != REF_EMPTY)
			insert_raw(rm, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
	return 0;
}

static void erase_slot(struct refmodel *rm, size_t i)
{
	size_t j = i;

	/* shift back every later entry of the run that may move into the gap */
	for (;;) {
		size_t home;

		j = (j + 1) & (rm->cap - 1);
		if (rm->keys[j] == REF_EMPTY)
			break;
		home = slot_of(rm, rm->keys[j]);
		/* movable when home is not cyclically within (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			rm->keys[i] = rm->keys[j];
			rm->vals[i] = rm->vals[j];
			i = j;
		}
	}
	rm->keys[i] = REF_EMPTY;
	rm->count--;
}

bool ref_lookup(const struct refmodel *rm, uint64_t iova, uint64_t *pa,
		uint32_t *perm)
{
	size_t i = find(rm, iova >> REF_PAGE_SHIFT);

	if (rm->keys[i] == REF_EMPTY)
		return false;
	if (pa)
		*pa = (rm->vals[i] >> 8) << REF_PAGE_SHIFT;
	if (perm)
		*perm = (uint32_t)(rm->vals[i] & 0xff);
	return true;
}

int ref_map(struct refmodel *rm, uint64_t iova, uint64_t pa, uint64_t size,
	    uint32_t perm)
{
	uint64_t pages = size >> REF_PAGE_SHIFT;

	if (ref_count_range(rm, iova, size))
		return -EEXIST;
	while ((rm->count + pages) * 2 > rm->cap)
		if (grow(rm) < 0)
			return -ENOMEM;
	for (uint64_t k = 0; k < pages; k++)
		insert_raw(rm, (iova >> REF_PAGE_SHIFT) + k,
			   (((pa >> REF_PAGE_SHIFT) + k) << 8) | (perm & 0xff));
	return 0;
}

uint64_t ref_unmap(struct refmodel *rm, uint64_t iova, uint64_t size)
{
	uint64_t removed = 0, pages = size >> REF_PAGE_SHIFT;

	if (pages > rm->cap) {
		uint64_t lo = iova >> REF_PAGE_SHIFT, hi = lo + pages;

		for (size_t i = 0; i < rm->cap; i++)
			while (rm->keys[i] != REF_EMPTY && rm->keys[i] >= lo &&
			       rm->keys[i] < hi) {
				erase_slot(rm, i);
				removed++;
			}
		return removed;
	}
	for (uint64_t k = 0; k < pages; k++) {
		size_t i = find(rm, (iova >> REF_PAGE_SHIFT) + k);

		if (rm->keys[i] != REF_EMPTY) {
			erase_slot(rm, i);
			removed++;
		}
	}
	return removed;
}

uint64_t ref_count_range(const struct refmodel *rm, uint64_t iova, uint64_t size)
{
	uint64_t n = 0, pages = size >> REF_PAGE_SHIFT;

	if (pages > rm->cap) {
		/* a huge range over a small map: scan the table instead */
		uint64_t lo = iova >> REF_PAGE_SHIFT, hi = lo + pages;

		for (size_t i = 0; i < rm->cap; i++)
			if (rm->keys[i] != REF_EMPTY && rm->keys[i] >= lo &&
			    rm->keys[i] < hi)
				n++;
		return n;
	}
	for (uint64_t k = 0; k < pages; k++)
		if (rm->keys[find(rm, (iova >> REF_PAGE_SHIFT) + k)] != REF_EMPTY)
			n++;
	return n;
}

void ref_foreach(const struct refmodel *rm,
		 void (*fn)(void *arg, uint64_t iova, uint64_t pa, uint32_t perm),
		 void *arg)
{
	for (size_t i = 0; i < rm->cap; i++)
		if (rm->keys[i] != REF_EMPTY)
			fn(arg, rm->keys[i] << REF_PAGE_SHIFT,
			   (rm->vals[i] >> 8) << REF_PAGE_SHIFT,
			   (uint32_t)(rm->vals[i] & 0xff));
}
