/* Page-size selection and range mapping the way the Linux IOMMU core does
 * it (drivers/iommu/iommu.c: iommu_pgsize, __iommu_map, __iommu_unmap;
 * formats.md §5.2-5.4), on top of the generic mapper. */
#ifndef IOMMUTOOL_PT_PGSIZE_H
#define IOMMUTOOL_PT_PGSIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "decoders/pt.h"

/* The kernel's iommu_pgsize(): the largest page size of @pgsize_bitmap
 * that is not larger than @size and to which both @iova and @paddr are
 * aligned (no alignment limit when both are 0).  *@count (may be NULL) is
 * how many such pages to map in one map_pages call: all that fit in @size,
 * except that it stops early where iova and paddr both reach the alignment
 * of the next larger supported size, when they are congruent modulo that
 * size and at least one page of it still fits — so that the caller's next
 * iteration maps the larger page.  Returns 0 (the kernel BUGs) when no
 * size fits, count 0 then. */
uint64_t pt_pgsize(uint64_t pgsize_bitmap, uint64_t iova, uint64_t paddr,
		   uint64_t size, uint64_t *count);

/* __iommu_map: -EINVAL when iova, pa or size is not a multiple of the
 * smallest page size (nothing mapped); else pt_pgsize + pt_map_pages until
 * done.  On an error the bytes already mapped are unmapped again, as the
 * kernel does, and *mapped (may be NULL) tells how many bytes had been
 * mapped before the failing call (0 on success means nothing to map). */
int pt_map_range(struct pt_mapper *m, uint64_t iova, uint64_t pa, uint64_t size,
		 uint32_t perm, uint64_t *mapped, struct errbuf *err);

/* __iommu_unmap: 0 when iova or size is not a multiple of the smallest
 * page size; else pt_pgsize(iova, iova) + pt_unmap_pages until done or a
 * call returns 0 (a hole, or a refused partial unmap).  Returns the bytes
 * unmapped, which may exceed @size when a larger leaf was removed whole. */
uint64_t pt_unmap_range(struct pt_mapper *m, uint64_t iova, uint64_t size,
			int override, bool free_tables);

#endif
