/* iommu_pgsize and the __iommu_map/__iommu_unmap loops (formats.md §5.2-5.4). */
#include "decoders/pt_pgsize.h"

/* GENMASK(h, 0) for h in 0..63 */
static uint64_t mask_upto(unsigned h)
{
	return h >= 63 ? UINT64_MAX : (2ull << h) - 1;
}

uint64_t pt_pgsize(uint64_t pgsize_bitmap, uint64_t iova, uint64_t paddr,
		   uint64_t size, uint64_t *count)
{
	uint64_t addr_merge = iova | paddr;
	uint64_t cand, pgsize, larger;
	unsigned idx, next;

	if (count)
		*count = 0;
	if (size == 0)
		return 0;
	/* 2: not larger than the largest power of two <= size */
	cand = pgsize_bitmap & mask_upto(63 - (unsigned)__builtin_clzll(size));
	/* 3: not larger than the common alignment of iova and paddr */
	if (addr_merge)
		cand &= mask_upto((unsigned)__builtin_ctzll(addr_merge));
	if (!cand)
		return 0;
	/* 5: the biggest survivor */
	idx = 63 - (unsigned)__builtin_clzll(cand);
	pgsize = 1ull << idx;
	if (!count)
		return pgsize;
	/* 7: stop early where the next larger size becomes usable */
	*count = size >> idx;
	larger = idx >= 63 ? 0 : pgsize_bitmap & ~mask_upto(idx);
	if (!larger)
		return pgsize;
	next = (unsigned)__builtin_ctzll(larger);
	{
		uint64_t next_size = 1ull << next;
		uint64_t offset;

		if ((iova ^ paddr) & (next_size - 1))
			return pgsize;
		offset = next_size - (addr_merge & (next_size - 1));
		/* offset + next_size must not overflow and must fit in size */
		if (offset <= UINT64_MAX - next_size && offset + next_size <= size)
			*count = offset >> idx;
	}
	return pgsize;
}

int pt_map_range(struct pt_mapper *m, uint64_t iova, uint64_t pa, uint64_t size,
		 uint32_t perm, uint64_t *mapped, struct errbuf *err)
{
	uint64_t bitmap = m->cfg->leaf_sizes;
	uint64_t min_pagesz = bitmap & -bitmap;
	uint64_t left = size, done = 0;
	int ret = 0;

	if (mapped)
		*mapped = 0;
	if (!min_pagesz || ((iova | pa | size) & (min_pagesz - 1)))
		return err_set(err, -EINVAL,
			       "unaligned: iova 0x%llx pa 0x%llx size 0x%llx min_pagesz 0x%llx",
			       (unsigned long long)iova, (unsigned long long)pa,
			       (unsigned long long)size, (unsigned long long)min_pagesz);
	while (left) {
		uint64_t count, got = 0;
		uint64_t pgsize = pt_pgsize(bitmap, iova + done, pa + done, left, &count);

		if (!pgsize)
			return err_set(err, -EINVAL, "no page size fits iova 0x%llx",
				       (unsigned long long)(iova + done));
		ret = pt_map_pages(m, iova + done, pa + done,
				   (unsigned)__builtin_ctzll(pgsize), count, perm, &got, err);
		/* partial progress counts even when the call failed */
		left -= got;
		done += got;
		if (ret < 0)
			break;
	}
	if (mapped)
		*mapped = done;
	if (ret < 0 && done)
		pt_unmap_range(m, iova, done, -1, false);
	return ret;
}

uint64_t pt_unmap_range(struct pt_mapper *m, uint64_t iova, uint64_t size,
			int override, bool free_tables)
{
	uint64_t bitmap = m->cfg->leaf_sizes;
	uint64_t min_pagesz = bitmap & -bitmap;
	uint64_t unmapped = 0;

	if (!min_pagesz || ((iova | size) & (min_pagesz - 1)))
		return 0;
	while (unmapped < size) {
		uint64_t count, n;
		uint64_t pgsize = pt_pgsize(bitmap, iova, iova, size - unmapped, &count);

		if (!pgsize)
			break;
		n = pt_unmap_pages(m, iova, (unsigned)__builtin_ctzll(pgsize), count,
				   override, free_tables);
		if (!n)
			break;
		iova += n;
		unmapped += n;
	}
	return unmapped;
}
