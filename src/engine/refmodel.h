/* The reference model: a flat map from each mapped 4 KiB IOVA page to its
 * physical page and permissions, with none of the page-table machinery.
 * The engine checks its codec-backed domain against it. */
#ifndef IOMMUTOOL_ENGINE_REFMODEL_H
#define IOMMUTOOL_ENGINE_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REF_PAGE_SHIFT 12
#define REF_PAGE_SIZE (1ull << REF_PAGE_SHIFT)

struct refmodel {
	uint64_t *keys;  /* iova pfn, REF_EMPTY when free */
	uint64_t *vals;  /* phys pfn << 8 | perm */
	size_t cap;      /* power of two */
	size_t count;
};

int ref_init(struct refmodel *rm);
void ref_release(struct refmodel *rm);

/* One page: true, and its physical address and perm, when mapped. */
bool ref_lookup(const struct refmodel *rm, uint64_t iova, uint64_t *pa,
		uint32_t *perm);
/* Maps [iova, iova+size) → pa (4 KiB aligned).  -EEXIST (and no change)
 * when any page is mapped already, -ENOMEM. */
int ref_map(struct refmodel *rm, uint64_t iova, uint64_t pa, uint64_t size,
	    uint32_t perm);
/* Unmaps every mapped page in the range; returns pages removed. */
uint64_t ref_unmap(struct refmodel *rm, uint64_t iova, uint64_t size);
/* Pages mapped anywhere in the range. */
uint64_t ref_count_range(const struct refmodel *rm, uint64_t iova, uint64_t size);
/* Calls @fn for every mapped page (order unspecified). */
void ref_foreach(const struct refmodel *rm,
		 void (*fn)(void *arg, uint64_t iova, uint64_t pa, uint32_t perm),
		 void *arg);

#endif
