/* The backend-independent half of physmem: range bookkeeping and the
 * presence check every read goes through. */
#include "mem/physmem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Index of the range containing @pa, or -1. */
static ptrdiff_t find_range(const struct physmem *pm, uint64_t pa)
{
	size_t lo = 0, hi = pm->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct physmem_range *r = &pm->ranges[mid];

		if (pa < r->start)
			hi = mid;
		else if (pa - r->start >= r->size)
			lo = mid + 1;
		else
			return (ptrdiff_t)mid;
	}
	return -1;
}

bool physmem_present(const struct physmem *pm, uint64_t pa, uint64_t len)
{
	ptrdiff_t i;

	if (!pm)
		return false;
	if (len == 0)
		return true;
	i = find_range(pm, pa);
	if (i < 0)
		return false;
	/* Ranges never wrap (physmem_set_ranges), so this cannot overflow. */
	return len <= pm->ranges[i].size - (pa - pm->ranges[i].start);
}

int physmem_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		 struct errbuf *err)
{
	if (len == 0)
		return 0;
	if (!physmem_present(pm, pa, len))
		return err_set(err, -EFAULT,
			       "cannot read 0x%zx bytes at 0x%" PRIx64
			       " in %s: outside present memory",
			       len, pa, pm && pm->path ? pm->path : "memory");
	return pm->ops->read(pm, pa, buf, len, err);
}

const void *physmem_peek(struct physmem *pm, uint64_t pa, size_t len)
{
	if (!pm || !pm->ops->peek || len == 0 || !physmem_present(pm, pa, len))
		return NULL;
	return pm->ops->peek(pm, pa, len);
}

uint64_t physmem_end(const struct physmem *pm)
{
	const struct physmem_range *last;

	if (!pm || pm->nr_ranges == 0)
		return 0;
	last = &pm->ranges[pm->nr_ranges - 1];
	return last->start + last->size;
}

void physmem_free(struct physmem *pm)
{
	if (!pm)
		return;
	if (pm->ops && pm->ops->free)
		pm->ops->free(pm);
	free(pm->path);
	free(pm->ranges);
	free(pm);
}

static int range_cmp(const void *a, const void *b)
{
	const struct physmem_range *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	if (ra->size != rb->size)
		return ra->size < rb->size ? -1 : 1;
	return 0;
}

int physmem_set_ranges(struct physmem *pm, struct physmem_range *ranges,
		       size_t nr, struct errbuf *err)
{
	const char *name = pm->path ? pm->path : "memory";
	size_t n = 0;
	int ret = 0;

	if (nr)
		qsort(ranges, nr, sizeof(*ranges), range_cmp);
	/* Merge in place: entry n is written only after entry i >= n is read. */
	for (size_t i = 0; i < nr; i++) {
		const struct physmem_range r = ranges[i];

		if (r.size == 0)
			continue;
		/* The end must be representable: a range may not reach 2^64. */
		if (r.size > UINT64_MAX - r.start) {
			ret = err_set(err, -EINVAL,
				      "%s: memory at 0x%" PRIx64 " of 0x%" PRIx64
				      " bytes wraps past the top of the address space",
				      name, r.start, r.size);
			break;
		}
		if (n) {
			struct physmem_range *prev = &ranges[n - 1];
			uint64_t prev_end = prev->start + prev->size;

			if (r.start < prev_end) {
				ret = err_set(err, -EINVAL,
					      "%s: overlapping memory: 0x%" PRIx64 "-0x%" PRIx64
					      " and 0x%" PRIx64 "-0x%" PRIx64,
					      name, prev->start, prev_end - 1,
					      r.start, r.start + r.size - 1);
				break;
			}
			if (r.start == prev_end) {
				prev->size += r.size;
				continue;
			}
		}
		ranges[n++] = r;
	}
	if (ret < 0) {
		if (ranges == pm->ranges) {
			pm->ranges = NULL;
			pm->nr_ranges = 0;
		}
		free(ranges);
		return ret;
	}
	if (pm->ranges != ranges)
		free(pm->ranges);
	if (n == 0) {
		free(ranges);
		ranges = NULL;
	}
	pm->ranges = ranges;
	pm->nr_ranges = n;
	return 0;
}
