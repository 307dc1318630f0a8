/* A next-fit bitmap IOVA allocator in the style of the old AMD dma_ops
 * aperture: one bit per pfn over a bounded window starting at start_pfn,
 * and a cursor that moves up after each allocation and wraps around to the
 * bottom when the top is reached (where the old driver flushed the IOTLB,
 * so a wrap is counted).  Alignment as requested. */
#include "engine/iova.h"

#include <stdlib.h>
#include <string.h>

/* Default and maximum window: 4 GiB and 256 GiB of 4 KiB pfns. */
#define BITMAP_DEFAULT_PAGES (1ull << 20)
#define BITMAP_MAX_PAGES (1ull << 26)

struct iova_bitmap {
	uint64_t base_pfn;  /* pfn of bit 0 */
	uint64_t nbits;
	uint64_t *words;
	uint8_t *reserved;  /* same layout: reserved pfns (never freed) */
	uint64_t next;      /* next-fit cursor, a bit index */
	uint64_t wraps;
	uint64_t ranges;
};

static inline bool bit_test(const uint64_t *w, uint64_t i)
{
	return w[i / 64] >> (i % 64) & 1;
}

static void bits_set(uint64_t *w, uint64_t i, uint64_t n, bool on)
{
	while (n) {
		uint64_t off = i % 64, take = 64 - off, mask;

		if (take > n)
			take = n;
		mask = (take == 64 ? UINT64_MAX : ((1ull << take) - 1)) << off;
		if (on)
			w[i / 64] |= mask;
		else
			w[i / 64] &= ~mask;
		i += take;
		n -= take;
	}
}

/* First set bit in [i, end), or end. */
static uint64_t next_set(const uint64_t *w, uint64_t i, uint64_t end)
{
	while (i < end) {
		uint64_t word = w[i / 64] >> (i % 64);

		if (word)
			return i + __builtin_ctzll(word) < end ?
			       i + __builtin_ctzll(word) : end;
		i = (i / 64 + 1) * 64;
	}
	return end;
}

/* First clear bit in [i, end), or end. */
static uint64_t next_clear(const uint64_t *w, uint64_t i, uint64_t end)
{
	while (i < end) {
		uint64_t word = ~w[i / 64] >> (i % 64);

		if (word)
			return i + __builtin_ctzll(word) < end ?
			       i + __builtin_ctzll(word) : end;
		i = (i / 64 + 1) * 64;
	}
	return end;
}

/* Lowest aligned free run of @n bits in [from, to); UINT64_MAX if none.
 * Alignment is of the pfn, not the bit index. */
static uint64_t find_run(const struct iova_bitmap *b, uint64_t from, uint64_t to,
			 uint64_t n, uint64_t align)
{
	uint64_t i = from;

	while (i < to) {
		uint64_t pfn = b->base_pfn + i, end;

		if (pfn & (align - 1))
			i += align - (pfn & (align - 1));
		if (i >= to || to - i < n)
			return UINT64_MAX;
		end = next_set(b->words, i, i + n);
		if (end == i + n)
			return i;
		i = next_clear(b->words, end, to);
	}
	return UINT64_MAX;
}

static uint64_t bitmap_alloc(void *priv, uint64_t pages, uint64_t limit_pfn,
			     bool size_aligned)
{
	struct iova_bitmap *b = priv;
	uint64_t align = 1, top, i;

	if (!pages || limit_pfn < b->base_pfn)
		return 0;
	if (size_aligned && pages > 1)
		align = 1ull << (64 - __builtin_clzll(pages - 1));
	top = limit_pfn - b->base_pfn + 1;
	if (top > b->nbits)
		top = b->nbits;
	i = b->next < top ? find_run(b, b->next, top, pages, align) : UINT64_MAX;
	if (i == UINT64_MAX) {
		i = find_run(b, 0, top, pages, align);
		if (i == UINT64_MAX)
			return 0;
		b->wraps++;
	}
	bits_set(b->words, i, pages, true);
	b->next = i + pages;
	b->ranges++;
	return b->base_pfn + i;
}

static bool bitmap_free(void *priv, uint64_t pfn, uint64_t pages)
{
	struct iova_bitmap *b = priv;
	uint64_t i = pfn - b->base_pfn;

	if (pfn < b->base_pfn || i >= b->nbits || pages > b->nbits - i)
		return false;
	if (next_clear(b->words, i, i + pages) != i + pages)
		return false; /* part of it was not allocated */
	for (uint64_t k = i; k < i + pages; k++)
		if (b->reserved[k / 8] >> (k % 8) & 1)
			return false;
	bits_set(b->words, i, pages, false);
	b->ranges--;
	return true;
}

static int bitmap_reserve(void *priv, uint64_t lo, uint64_t hi,
			  struct errbuf *err)
{
	struct iova_bitmap *b = priv;
	uint64_t end = b->base_pfn + b->nbits;

	if (hi < lo)
		return err_set(err, -EINVAL, "bad reserved pfn range 0x%llx-0x%llx",
			       (unsigned long long)lo, (unsigned long long)hi);
	if (hi < b->base_pfn || lo >= end)
		return 0; /* outside the window: nothing to do */
	if (lo < b->base_pfn)
		lo = b->base_pfn;
	if (hi >= end)
		hi = end - 1;
	for (uint64_t k = lo - b->base_pfn; k <= hi - b->base_pfn; k++)
		b->reserved[k / 8] |= (uint8_t)(1u << (k % 8));
	bits_set(b->words, lo - b->base_pfn, hi - lo + 1, true);
	b->ranges++;
	return 0;
}

static void bitmap_gaps(void *priv, uint64_t limit_pfn, struct iova_gap_stats *out)
{
	struct iova_bitmap *b = priv;
	uint64_t top, i = 0;

	*out = (struct iova_gap_stats){ .ranges = b->ranges };
	if (limit_pfn < b->base_pfn)
		return;
	top = limit_pfn - b->base_pfn + 1;
	if (top > b->nbits)
		top = b->nbits;
	while (i < top) {
		uint64_t start = next_clear(b->words, i, top), end;

		if (start >= top)
			break;
		end = next_set(b->words, start, top);
		out->gaps++;
		out->free_pfns += end - start;
		if (end - start > out->largest)
			out->largest = end - start;
		i = end;
	}
}

static bool bitmap_allocated(void *priv, uint64_t pfn)
{
	struct iova_bitmap *b = priv;

	return pfn >= b->base_pfn && pfn - b->base_pfn < b->nbits &&
	       bit_test(b->words, pfn - b->base_pfn);
}

static int bitmap_init(void **priv, const struct iova_space *sp,
		       struct errbuf *err)
{
	struct iova_bitmap *b;
	uint64_t n = sp->bitmap_pages ? sp->bitmap_pages : BITMAP_DEFAULT_PAGES;

	if (n > BITMAP_MAX_PAGES)
		return err_set(err, -EINVAL,
			       "bitmap allocator window of %llu pages is over the %llu limit",
			       (unsigned long long)n,
			       (unsigned long long)BITMAP_MAX_PAGES);
	if (sp->end_pfn < sp->start_pfn)
		return err_set(err, -EINVAL, "empty iova space");
	if (n > sp->end_pfn - sp->start_pfn + 1)
		n = sp->end_pfn - sp->start_pfn + 1;
	b = calloc(1, sizeof(*b));
	if (!b)
		return err_set(err, -ENOMEM, "out of memory for the iova bitmap");
	b->base_pfn = sp->start_pfn;
	b->nbits = n;
	b->words = calloc((n + 63) / 64, sizeof(uint64_t));
	b->reserved = calloc((n + 7) / 8, 1);
	if (!b->words || !b->reserved) {
		free(b->words);
		free(b->reserved);
		free(b);
		return err_set(err, -ENOMEM, "out of memory for the iova bitmap");
	}
	*priv = b;
	return 0;
}

static void bitmap_release(void *priv)
{
	struct iova_bitmap *b = priv;

	if (!b)
		return;
	free(b->words);
	free(b->reserved);
	free(b);
}

const struct iova_allocator_ops iova_bitmap_ops = {
	.name = "bitmap",
	.init = bitmap_init,
	.release = bitmap_release,
	.alloc = bitmap_alloc,
	.free = bitmap_free,
	.reserve = bitmap_reserve,
	.gaps = bitmap_gaps,
	.allocated = bitmap_allocated,
};

static const struct iova_allocator_ops *const allocators[] = {
	&iova_rbtree_ops, &iova_bitmap_ops,
};

const struct iova_allocator_ops *iova_allocator_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(allocators) / sizeof(allocators[0]); i++)
		if (!strcmp(allocators[i]->name, name))
			return allocators[i];
	return NULL;
}

const struct iova_allocator_ops *iova_allocator_at(unsigned i)
{
	return i < sizeof(allocators) / sizeof(allocators[0]) ? allocators[i] : NULL;
}
