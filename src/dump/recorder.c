#include "dump/recorder.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 12

/* Open-addressing set of page frame numbers; pfn + 1 is stored so that 0
 * marks a free slot. */
struct pfn_set {
	uint64_t *slots; /* owned */
	size_t cap, n;
};

struct recorder {
	struct physmem *inner;
	struct pfn_set pages;
};

static uint64_t hash_pfn(uint64_t pfn)
{
	pfn ^= pfn >> 33;
	pfn *= 0xff51afd7ed558ccdull;
	pfn ^= pfn >> 33;
	return pfn;
}

static int pfn_set_add(struct pfn_set *s, uint64_t pfn)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (size_t j = 0; j < s->cap; j++) {
			if (!s->slots[j])
				continue;
			i = hash_pfn(s->slots[j] - 1) & (cap - 1);
			while (slots[i])
				i = (i + 1) & (cap - 1);
			slots[i] = s->slots[j];
		}
		free(s->slots);
		s->slots = slots;
		s->cap = cap;
	}
	i = hash_pfn(pfn) & (s->cap - 1);
	while (s->slots[i]) {
		if (s->slots[i] == pfn + 1)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = pfn + 1;
	s->n++;
	return 0;
}

static int record_range(struct recorder *r, uint64_t pa, size_t len)
{
	for (uint64_t pfn = pa >> PAGE_SHIFT; len && pfn <= (pa + len - 1) >> PAGE_SHIFT; pfn++) {
		int rc = pfn_set_add(&r->pages, pfn);

		if (rc)
			return rc;
	}
	return 0;
}

static int recorder_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
			 struct errbuf *err)
{
	struct recorder *r = pm->priv;
	int rc = physmem_read(r->inner, pa, buf, len, err);

	if (rc == 0 && record_range(r, pa, len) < 0)
		return err_set(err, -ENOMEM, "out of memory recording pages");
	return rc;
}

static const void *recorder_peek(struct physmem *pm, uint64_t pa, size_t len)
{
	struct recorder *r = pm->priv;
	const void *p = physmem_peek(r->inner, pa, len);

	if (p && record_range(r, pa, len) < 0)
		return NULL;
	return p;
}

static void recorder_free(struct physmem *pm)
{
	struct recorder *r = pm->priv;

	if (r)
		free(r->pages.slots);
	free(r);
	pm->priv = NULL;
}

static const struct physmem_ops recorder_ops = {
	.name = "recorder",
	.read = recorder_read,
	.peek = recorder_peek,
	.free = recorder_free,
};

static int copy_identity(struct physmem *pm, const struct physmem *inner,
			 struct physmem_range *ranges, size_t nr, struct errbuf *err)
{
	pm->path = strdup(inner->path ? inner->path : "");
	if (!pm->path)
		return err_set(err, -ENOMEM, "out of memory");
	return physmem_set_ranges(pm, ranges, nr, err);
}

int recorder_new(struct physmem *inner, struct physmem **out, struct errbuf *err)
{
	struct physmem *pm = calloc(1, sizeof(*pm));
	struct recorder *r = calloc(1, sizeof(*r));
	struct physmem_range *ranges = NULL;
	int rc;

	if (!pm || !r)
		goto nomem;
	if (inner->nr_ranges) {
		ranges = malloc(inner->nr_ranges * sizeof(*ranges));
		if (!ranges)
			goto nomem;
		memcpy(ranges, inner->ranges, inner->nr_ranges * sizeof(*ranges));
	}
	r->inner = inner;
	pm->ops = &recorder_ops;
	pm->priv = r;
	rc = copy_identity(pm, inner, ranges, inner->nr_ranges, err);
	if (rc < 0) {
		physmem_free(pm);
		return rc;
	}
	*out = pm;
	return 0;
nomem:
	free(pm);
	free(r);
	return err_set(err, -ENOMEM, "out of memory");
}

uint64_t recorder_pages(const struct physmem *recorder)
{
	const struct recorder *r = recorder->priv;

	return r->pages.n;
}

/* ---- the subset view ---- */

static int subset_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		       struct errbuf *err)
{
	return physmem_read(pm->priv, pa, buf, len, err);
}

static void subset_free(struct physmem *pm)
{
	pm->priv = NULL; /* the inner physmem is not ours */
}

static const struct physmem_ops subset_ops = {
	.name = "subset",
	.read = subset_read,
	.free = subset_free,
};

static int cmp_pfn(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int recorder_subset(struct physmem *recorder, struct physmem **out,
		    struct errbuf *err)
{
	struct recorder *r = recorder->priv;
	struct physmem *pm = calloc(1, sizeof(*pm));
	struct physmem_range *ranges = NULL;
	uint64_t *pfns = NULL;
	size_t n = 0;
	int rc;

	if (!pm)
		return err_set(err, -ENOMEM, "out of memory");
	pfns = malloc((r->pages.n ? r->pages.n : 1) * sizeof(*pfns));
	ranges = malloc((r->pages.n ? r->pages.n : 1) * sizeof(*ranges));
	if (!pfns || !ranges) {
		free(pfns);
		free(ranges);
		free(pm);
		return err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < r->pages.cap; i++)
		if (r->pages.slots[i])
			pfns[n++] = r->pages.slots[i] - 1;
	qsort(pfns, n, sizeof(*pfns), cmp_pfn);
	for (size_t i = 0; i < n; i++) {
		ranges[i].start = pfns[i] << PAGE_SHIFT;
		ranges[i].size = 1ull << PAGE_SHIFT;
	}
	free(pfns);
	pm->ops = &subset_ops;
	pm->priv = r->inner;
	rc = copy_identity(pm, r->inner, ranges, n, err);
	if (rc < 0) {
		physmem_free(pm);
		return rc;
	}
	*out = pm;
	return 0;
}
