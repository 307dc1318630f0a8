/* The generic mapper: writes tables into an arena through a codec's
 * make_table/make_leaf, the way a driver's map_pages/unmap_pages would.
 *
 * Entries are reached through arena_page() pointers, and the table last
 * reached at each level is cached, so mapping or unmapping the next page
 * of the same table costs a tag compare instead of a descent. */
#include "decoders/pt.h"

#include <string.h>

#define ARENA_PAGE 4096u

static unsigned top_level(const struct pt_cfg *cfg)
{
	return cfg->levels - 1;
}

static uint64_t table_bytes(const struct pt_cfg *cfg, unsigned level)
{
	uint64_t bytes;

	if (cfg->fmt->table_size)
		return cfg->fmt->table_size(cfg, level);
	bytes = pt_level_entries(cfg, level) * cfg->fmt->entry_size;
	if (bytes < (1ull << cfg->granule_shift))
		bytes = 1ull << cfg->granule_shift;
	return bytes;
}

/* IOVA bits covered by a whole table at @level. */
static unsigned table_cover(const struct pt_cfg *cfg, unsigned level)
{
	return cfg->level_shift[level] + cfg->level_bits[level];
}

static uint64_t table_tag(const struct pt_cfg *cfg, unsigned level, uint64_t iova)
{
	unsigned c = table_cover(cfg, level);

	return c >= 64 ? 0 : iova >> c;
}

static uint64_t level_index(const struct pt_cfg *cfg, unsigned level, uint64_t iova)
{
	return (iova >> cfg->level_shift[level]) & (pt_level_entries(cfg, level) - 1);
}

/* A table in the arena: a direct pointer when it fits one page, else
 * entries are found page by page. */
struct map_table {
	uint64_t pa;
	uint8_t *ptr;
};

static void *table_page_ptr(struct arena *a, uint64_t pa)
{
	uint8_t *p = arena_page(a, pa & ~(uint64_t)(ARENA_PAGE - 1));

	return p ? p + (pa & (ARENA_PAGE - 1)) : NULL;
}

static struct map_table table_at(const struct pt_mapper *m, unsigned level, uint64_t pa)
{
	struct map_table t = { .pa = pa };

	if ((pa & (ARENA_PAGE - 1)) + pt_level_entries(m->cfg, level) * m->cfg->fmt->entry_size
	    <= ARENA_PAGE)
		t.ptr = table_page_ptr(m->arena, pa);
	return t;
}

static inline uint8_t *entry_ptr(const struct pt_mapper *m, const struct map_table *t,
			  uint64_t i)
{
	uint64_t off = i * m->cfg->fmt->entry_size;

	if (t->ptr)
		return t->ptr + off;
	return table_page_ptr(m->arena, t->pa + off);
}

static inline uint64_t entry_get(const struct pt_mapper *m, const struct map_table *t,
			  uint64_t i)
{
	const struct pt_format *f = m->cfg->fmt;
	const uint8_t *p = entry_ptr(m, t, i);

	if (!p)
		return 0;
	if (f->entry_size == 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		return f->big_endian ? __builtin_bswap64(v) : v;
	} else {
		uint32_t v;

		memcpy(&v, p, 4);
		return f->big_endian ? __builtin_bswap32(v) : v;
	}
}

static inline void entry_set(const struct pt_mapper *m, const struct map_table *t,
		      uint64_t i, uint64_t v)
{
	const struct pt_format *f = m->cfg->fmt;
	uint8_t *p = entry_ptr(m, t, i);

	if (!p)
		return;
	if (f->entry_size == 8) {
		if (f->big_endian)
			v = __builtin_bswap64(v);
		memcpy(p, &v, 8);
	} else {
		uint32_t w = (uint32_t)v;

		if (f->big_endian)
			w = __builtin_bswap32(w);
		memcpy(p, &w, 4);
	}
}

/* A table of @bytes: one arena page, or a naturally aligned run of
 * contiguous pages (16/64 KiB granules, v7s level 1).  Pages picked up on
 * the way to an aligned run are given back. */
static uint64_t table_alloc(struct pt_mapper *m, uint64_t bytes)
{
	uint64_t need = (bytes + ARENA_PAGE - 1) / ARENA_PAGE;
	uint64_t got[64], found = 0;
	unsigned n = 0;

	if (need <= 1)
		return arena_alloc_page(m->arena);
	if (need > 16)
		return 0;
	while (n < 64 && !found) {
		uint64_t pa = arena_alloc_page(m->arena);
		uint64_t start = pa & ~(need * ARENA_PAGE - 1);
		unsigned have = 0;

		if (!pa)
			break;
		got[n++] = pa;
		/* is every page of the aligned run holding @pa now ours? */
		for (uint64_t p = start; p < start + need * ARENA_PAGE; p += ARENA_PAGE)
			for (unsigned k = 0; k < n; k++)
				if (got[k] == p) {
					have++;
					break;
				}
		if (have == need)
			found = start;
	}
	for (unsigned k = 0; k < n; k++)
		if (!found || got[k] < found || got[k] >= found + need * ARENA_PAGE)
			arena_free_page(m->arena, got[k]);
	return found;
}

static void table_release(struct pt_mapper *m, uint64_t pa, uint64_t bytes)
{
	for (uint64_t off = 0; off < bytes; off += ARENA_PAGE)
		arena_free_page(m->arena, pa + off);
}

/* 8-byte little-endian entries: the fast paths may use plain u64s. */
static inline bool plain_entries(const struct pt_cfg *cfg)
{
	return cfg->fmt->entry_size == 8 && !cfg->fmt->big_endian;
}

/* Distils cache[0], encoded and decoded[0] into m->fast after any of them
 * changed (slow paths only). */
static void fast_refresh(struct pt_mapper *m)
{
	const struct pt_map_cache *c = &m->cache[0];
	const struct pt_map_encoded *enc = &m->encoded;
	const struct pt_map_decoded *dec = &m->decoded[0];
	struct pt_map_fast *f = &m->fast;
	uint64_t *table;

	f->map_table = f->unmap_table = NULL;
	if (!f->page_shift || !c->valid || !c->ptr)
		return;
	table = c->ptr;
	f->tag = c->tag;
	if (enc->valid && enc->level == 0 && enc->pgshift == f->page_shift) {
		f->map_table = table;
		f->enc_raw = enc->raw & ~f->addr_only;
		f->enc_pa = enc->pa & ~f->addr_only;
		f->enc_perm = enc->perm;
	}
	if (dec->valid && dec->entry.kind == PTE_LEAF) {
		f->unmap_table = table;
		f->dec_raw = dec->raw & ~f->addr_only;
	}
}

static void fast_init(struct pt_mapper *m)
{
	const struct pt_cfg *cfg = m->cfg;
	struct pt_map_fast *f = &m->fast;

	*f = (struct pt_map_fast){ 0 };
	/* a level-0 table below the top that covers less than 64 bits */
	if (!plain_entries(cfg) || cfg->levels < 2 || table_cover(cfg, 0) >= 64 ||
	    cfg->level_shift[0] == 0)
		return;
	f->page_shift = cfg->level_shift[0];
	f->tag_shift = table_cover(cfg, 0);
	f->index_mask = pt_level_entries(cfg, 0) - 1;
	f->addr_only = cfg->addr_only[0];
}

static void cache_clear(struct pt_mapper *m)
{
	for (unsigned l = 0; l < PT_MAX_LEVELS; l++)
		m->cache[l].valid = false;
	fast_refresh(m);
}

int pt_mapper_init(struct pt_mapper *m, const struct pt_cfg *cfg,
		   struct arena *arena, struct errbuf *err)
{
	unsigned top;

	memset(m, 0, sizeof(*m));
	if (!cfg || !cfg->fmt || !arena || cfg->levels == 0)
		return err_set(err, -EINVAL, "mapper without a format or arena");
	m->cfg = cfg;
	m->arena = arena;
	top = top_level(cfg);
	m->root = table_alloc(m, table_bytes(cfg, top));
	if (!m->root)
		return err_set(err, -ENOMEM, "%s: no arena page left for the root table",
			       cfg->fmt->name);
	m->tables_allocated = 1;
	m->root_ptr = table_at(m, top, m->root).ptr;
	fast_init(m);
	return 0;
}

static struct map_table root_table(const struct pt_mapper *m)
{
	return (struct map_table){ .pa = m->root, .ptr = m->root_ptr };
}

/* The lowest cached table on the way to @iova at or above @min_level;
 * the root when none. */
static unsigned cached_start(const struct pt_mapper *m, uint64_t iova,
			     unsigned min_level, struct map_table *t)
{
	unsigned top = top_level(m->cfg);

	for (unsigned l = min_level; l < top; l++) {
		const struct pt_map_cache *c = &m->cache[l];

		if (c->valid && c->tag == table_tag(m->cfg, l, iova)) {
			*t = (struct map_table){ .pa = c->pa, .ptr = c->ptr };
			return l;
		}
	}
	*t = root_table(m);
	return top;
}

static void cache_set(struct pt_mapper *m, unsigned level, uint64_t iova,
		      const struct map_table *t)
{
	if (level >= top_level(m->cfg))
		return;
	m->cache[level] = (struct pt_map_cache){
		.valid = true, .tag = table_tag(m->cfg, level, iova),
		.pa = t->pa, .ptr = t->ptr,
	};
	if (level == 0)
		fast_refresh(m);
}

/* fmt->decode, or the last decode at @level patched through addr_only. */
static void map_decode(struct pt_mapper *m, unsigned level, uint64_t iova,
		       uint64_t raw, struct pt_entry *e)
{
	const struct pt_cfg *cfg = m->cfg;
	const uint64_t ao = cfg->addr_only[level];
	struct pt_map_decoded *d = &m->decoded[level];

	if (d->valid && !((raw ^ d->raw) & ~ao)) {
		*e = d->entry;
		e->addr = (e->addr & ~ao) | (raw & ao);
		return;
	}
	cfg->fmt->decode(cfg, level, iova, raw, e);
	if (ao && (e->kind == PTE_TABLE ||
		   (e->kind == PTE_LEAF && e->size_shift == cfg->level_shift[level]))) {
		d->valid = true;
		d->raw = raw;
		d->entry = *e;
		if (level == 0)
			fast_refresh(m);
	}
}

/* make_leaf for one page of 2^@pgshift at @level; with addr_only, the
 * last encoding of the same kind of leaf with its address replaced. */
static uint64_t map_encode(struct pt_mapper *m, unsigned level, uint64_t iova,
			   uint64_t pa, unsigned pgshift, uint32_t perm)
{
	const struct pt_cfg *cfg = m->cfg;
	const uint64_t ao = cfg->addr_only[level];
	struct pt_map_encoded *c = &m->encoded;

	if (c->valid && c->level == level && c->pgshift == pgshift && c->perm == perm &&
	    !((pa ^ c->pa) & ~ao))
		return (c->raw & ~ao) | (pa & ao);
	return cfg->fmt->make_leaf(cfg, level, iova, pa, pgshift, perm);
}

/* Reaches the table at @target covering @iova.  -ENOENT when a table on
 * the way is missing and !@create, -EEXIST when a leaf (or anything not a
 * plain next-level table) is in the way. */
static int table_for(struct pt_mapper *m, uint64_t iova, unsigned target,
		     bool create, struct map_table *out)
{
	const struct pt_cfg *cfg = m->cfg;
	struct map_table t;
	unsigned level = cached_start(m, iova, target, &t);

	while (level > target) {
		uint64_t i = level_index(cfg, level, iova);
		uint64_t raw = entry_get(m, &t, i);
		uint64_t pa;

		if (raw == 0) {
			if (!create)
				return -ENOENT;
			pa = table_alloc(m, table_bytes(cfg, level - 1));
			if (!pa)
				return -ENOMEM;
			m->tables_allocated++;
			entry_set(m, &t, i, cfg->fmt->make_table(cfg, level, pa));
		} else {
			struct pt_entry e;

			map_decode(m, level, iova, raw, &e);
			if (e.kind != PTE_TABLE || e.next_level != level - 1)
				return -EEXIST;
			pa = e.addr;
		}
		level--;
		t = table_at(m, level, pa);
		cache_set(m, level, iova, &t);
	}
	*out = t;
	return 0;
}

/* The level whose entries hold pages of 2^@pgshift (one entry, or a run). */
static int leaf_level(const struct pt_cfg *cfg, unsigned pgshift)
{
	for (int l = (int)cfg->levels - 1; l >= 0; l--)
		if (cfg->level_shift[l] <= pgshift)
			return pgshift < table_cover(cfg, (unsigned)l) ? l : -1;
	return -1;
}

static bool iova_in_range(const struct pt_cfg *cfg, uint64_t iova, uint64_t size)
{
	unsigned ias = cfg->ias ? cfg->ias : table_cover(cfg, top_level(cfg));

	if (iova + size - 1 < iova)
		return false;
	return ias >= 64 || iova + size - 1 < (1ull << ias);
}

/* True when @raw at @level points to a table tree that maps nothing (left
 * behind by unmaps without free_tables): a larger leaf may replace it, as
 * VT-d and AMD drivers do. */
static bool subtree_empty(const struct pt_mapper *m, unsigned level, uint64_t raw)
{
	const struct pt_cfg *cfg = m->cfg;
	struct pt_entry e;
	struct map_table t;

	if (level == 0)
		return false;
	cfg->fmt->decode(cfg, level, 0, raw, &e);
	if (e.kind != PTE_TABLE || e.next_level != level - 1)
		return false;
	t = table_at(m, level - 1, e.addr);
	for (uint64_t j = 0; j < pt_level_entries(cfg, level - 1); j++) {
		uint64_t r = entry_get(m, &t, j);

		if (r && !subtree_empty(m, level - 1, r))
			return false;
	}
	return true;
}

/* Frees a tree subtree_empty() accepted. */
static void subtree_free(struct pt_mapper *m, unsigned level, uint64_t raw)
{
	const struct pt_cfg *cfg = m->cfg;
	struct pt_entry e;
	struct map_table t;

	cfg->fmt->decode(cfg, level, 0, raw, &e);
	t = table_at(m, level - 1, e.addr);
	for (uint64_t j = 0; j < pt_level_entries(cfg, level - 1); j++) {
		uint64_t r = entry_get(m, &t, j);

		if (r)
			subtree_free(m, level - 1, r);
	}
	table_release(m, e.addr, table_bytes(cfg, level - 1));
	m->tables_freed++;
	cache_clear(m);
}

static __attribute__((noinline)) int map_pages_slow(struct pt_mapper *m, uint64_t iova, uint64_t pa,
			  unsigned pgshift, uint64_t count, uint32_t perm,
			  uint64_t *mapped, struct errbuf *err)
{
	const struct pt_cfg *cfg = m->cfg;
	const struct pt_format *f = cfg->fmt;
	uint64_t pgsize, done = 0;
	unsigned span;
	uint64_t run;
	struct pt_entry e;
	int level, ret = 0;

	if (mapped)
		*mapped = 0;
	if (pgshift >= 64 || !(cfg->leaf_sizes & (1ull << pgshift)))
		return err_set(err, -EINVAL, "%s: page size 2^%u not supported",
			       f->name, pgshift);
	pgsize = 1ull << pgshift;
	if ((iova | pa) & (pgsize - 1))
		return err_set(err, -EINVAL, "%s: iova 0x%llx or pa 0x%llx not aligned to 0x%llx",
			       f->name, (unsigned long long)iova,
			       (unsigned long long)pa, (unsigned long long)pgsize);
	if (count == 0 || count > (UINT64_MAX >> pgshift) ||
	    !iova_in_range(cfg, iova, count << pgshift))
		return err_set(err, -EINVAL, "%s: %llu pages of 0x%llx at iova 0x%llx out of range",
			       f->name, (unsigned long long)count,
			       (unsigned long long)pgsize, (unsigned long long)iova);
	level = leaf_level(cfg, pgshift);
	if (level < 0)
		return err_set(err, -EINVAL, "%s: no level holds 2^%u pages", f->name, pgshift);
	span = cfg->level_shift[level];
	run = 1ull << (pgshift - span);
	/* refuse what the codec cannot express (no R/W, address over oas);
	 * a single-entry leaf like the last one checked needs no check */
	if (!(run == 1 && m->encoded.valid && m->encoded.level == (unsigned)level &&
	      m->encoded.pgshift == pgshift && m->encoded.perm == perm &&
	      !((pa ^ m->encoded.pa) & ~cfg->addr_only[level]))) {
		uint64_t raw = f->make_leaf(cfg, (unsigned)level, iova, pa, pgshift, perm);

		f->decode(cfg, (unsigned)level, iova, raw, &e);
		if (e.kind != PTE_LEAF || e.reserved || e.size_shift != pgshift || e.addr != pa)
			return err_set(err, -EINVAL, "%s: cannot encode a 0x%llx-byte leaf at pa 0x%llx with permissions 0x%x",
				       f->name, (unsigned long long)pgsize,
				       (unsigned long long)pa, perm);
		if (run == 1 && cfg->addr_only[level]) {
			m->encoded = (struct pt_map_encoded){
				.valid = true, .level = (unsigned)level,
				.pgshift = pgshift, .perm = perm, .pa = pa, .raw = raw,
			};
			fast_refresh(m);
		}
	}

	for (uint64_t k = 0; k < count; k++) {
		uint64_t va = iova + done, out = pa + done;
		struct map_table t;
		uint64_t i = 0;

		if (run == 1 && plain_entries(cfg)) {
			/* fast path: an empty entry in the cached table */
			const struct pt_map_cache *c = &m->cache[level];

			if (c->valid && c->ptr && c->tag == table_tag(cfg, (unsigned)level, va)) {
				uint64_t *p = (uint64_t *)c->ptr + level_index(cfg, (unsigned)level, va);

				if (!*p) {
					*p = map_encode(m, (unsigned)level, va, out, pgshift, perm);
					done += pgsize;
					continue;
				}
			}
		}

		ret = table_for(m, va, (unsigned)level, false, &t);
		if (ret == -ENOENT)
			ret = table_for(m, va, (unsigned)level, true, &t);
		if (ret == 0) {
			i = level_index(cfg, (unsigned)level, va);
			for (uint64_t j = 0; j < run; j++) {
				uint64_t raw = entry_get(m, &t, i + j);

				if (raw && !subtree_empty(m, (unsigned)level, raw)) {
					ret = -EEXIST;
					break;
				}
			}
		}
		if (ret == -EEXIST) {
			ret = err_set(err, -EEXIST, "%s: iova 0x%llx is already mapped",
				      f->name, (unsigned long long)va);
			break;
		}
		if (ret < 0) {
			ret = err_set(err, ret, "%s: arena exhausted mapping iova 0x%llx",
				      f->name, (unsigned long long)va);
			break;
		}
		for (uint64_t j = 0; j < run; j++) {
			uint64_t raw = entry_get(m, &t, i + j);

			if (raw) /* an empty table where the leaf goes */
				subtree_free(m, (unsigned)level, raw);
		}
		if (run == 1)
			entry_set(m, &t, i, map_encode(m, (unsigned)level, va, out, pgshift, perm));
		else
			for (uint64_t j = 0; j < run; j++)
				entry_set(m, &t, i + j,
					  f->make_leaf(cfg, (unsigned)level, va + (j << span),
						       out + (j << span), pgshift, perm));
		done += pgsize;
	}
	if (mapped)
		*mapped = done;
	return ret;
}

int pt_map_pages(struct pt_mapper *m, uint64_t iova, uint64_t pa,
		 unsigned pgshift, uint64_t count, uint32_t perm,
		 uint64_t *mapped, struct errbuf *err)
{
	const struct pt_map_fast *f = &m->fast;

	/* fast path: one smallest page into the cached level-0 table,
	 * encoded like the last one (which was checked then) */
	if (count == 1 && pgshift == f->page_shift && f->map_table &&
	    (iova >> f->tag_shift) == f->tag && perm == f->enc_perm &&
	    (pa & ~f->addr_only) == f->enc_pa &&
	    !((iova | pa) & ((1ull << pgshift) - 1))) {
		uint64_t *p = f->map_table + ((iova >> pgshift) & f->index_mask);

		if (!*p) {
			*p = f->enc_raw | (pa & f->addr_only);
			if (mapped)
				*mapped = 1ull << pgshift;
			return 0;
		}
	}
	return map_pages_slow(m, iova, pa, pgshift, count, perm, mapped, err);
}

/* Where a leaf covering an IOVA sits. */
struct found_leaf {
	unsigned level;
	struct map_table table;
	uint64_t index;      /* first entry of the run */
	uint64_t run;        /* entries */
	uint64_t iova, phys; /* start of the whole leaf */
	unsigned size_shift;
	uint32_t perm;       /* the leaf's own */
};

static bool find_leaf(struct pt_mapper *m, uint64_t iova, struct found_leaf *out)
{
	const struct pt_cfg *cfg = m->cfg;
	struct map_table t;
	unsigned level = cached_start(m, iova, 0, &t);

	for (;;) {
		uint64_t i = level_index(cfg, level, iova);
		uint64_t raw = entry_get(m, &t, i);
		unsigned span = cfg->level_shift[level];
		struct pt_entry e;

		if (!raw)
			return false;
		map_decode(m, level, iova & ~((1ull << span) - 1), raw, &e);
		if (e.kind == PTE_TABLE && level > 0 && e.next_level == level - 1) {
			level--;
			t = table_at(m, level, e.addr);
			cache_set(m, level, iova, &t);
			continue;
		}
		if (e.kind != PTE_LEAF || e.size_shift < span || e.size_shift >= 64 ||
		    e.size_shift >= table_cover(cfg, level))
			return false;
		out->level = level;
		out->table = t;
		out->run = 1ull << (e.size_shift - span);
		out->index = i & ~(out->run - 1);
		out->size_shift = e.size_shift;
		out->iova = iova & ~((1ull << e.size_shift) - 1);
		out->phys = e.addr - ((i - out->index) << span);
		out->perm = e.perm;
		return true;
	}
}

static bool table_empty(const struct pt_mapper *m, const struct map_table *t,
			unsigned level)
{
	uint64_t n = pt_level_entries(m->cfg, level);

	if (t->ptr && m->cfg->fmt->entry_size == 8) {
		const uint64_t *p = (const uint64_t *)(const void *)t->ptr;

		for (uint64_t i = 0; i < n; i++)
			if (p[i])
				return false;
		return true;
	}
	for (uint64_t i = 0; i < n; i++)
		if (entry_get(m, t, i))
			return false;
	return true;
}

/* After entries of the table at @level covering @iova were cleared: frees
 * it and every table above it that is left empty (never the root). */
static void free_empty_tables(struct pt_mapper *m, uint64_t iova, unsigned level)
{
	const struct pt_cfg *cfg = m->cfg;
	unsigned top = top_level(cfg);
	struct map_table path[PT_MAX_LEVELS];
	struct map_table t = root_table(m);
	unsigned l;

	if (level >= top)
		return;
	path[top] = t;
	for (l = top; l > level; l--) {
		uint64_t raw = entry_get(m, &t, level_index(cfg, l, iova));
		struct pt_entry e;

		if (!raw)
			return;
		map_decode(m, l, iova, raw, &e);
		if (e.kind != PTE_TABLE || e.next_level != l - 1)
			return;
		t = table_at(m, l - 1, e.addr);
		path[l - 1] = t;
	}
	for (l = level; l < top && table_empty(m, &path[l], l); l++) {
		entry_set(m, &path[l + 1], level_index(cfg, l + 1, iova), 0);
		table_release(m, path[l].pa, table_bytes(cfg, l));
		m->tables_freed++;
		cache_clear(m);
	}
}

static void clear_leaf(struct pt_mapper *m, const struct found_leaf *f, bool free_tables)
{
	for (uint64_t j = 0; j < f->run; j++)
		entry_set(m, &f->table, f->index + j, 0);
	if (free_tables)
		free_empty_tables(m, f->iova, f->level);
}

/* Rewrites a large leaf as smaller ones covering the same range: a run
 * becomes single entries of its level, a single entry a next-level table.
 * Attributes beyond the PERM_* bits are not kept. */
static bool split_leaf(struct pt_mapper *m, const struct found_leaf *f)
{
	const struct pt_cfg *cfg = m->cfg;
	const struct pt_format *fmt = cfg->fmt;
	unsigned span = cfg->level_shift[f->level];

	if (f->run > 1) {
		if (!(cfg->leaf_sizes & (1ull << span)))
			return false;
		for (uint64_t j = 0; j < f->run; j++)
			entry_set(m, &f->table, f->index + j,
				  fmt->make_leaf(cfg, f->level, f->iova + (j << span),
						 f->phys + (j << span), span, f->perm));
		return true;
	}
	if (f->level == 0)
		return false;
	{
		unsigned child = f->level - 1, cspan = cfg->level_shift[child];
		uint64_t n = 1ull << (span - cspan), pa;
		struct map_table t;

		if (!(cfg->leaf_sizes & (1ull << cspan)) || n > pt_level_entries(cfg, child))
			return false;
		pa = table_alloc(m, table_bytes(cfg, child));
		if (!pa)
			return false;
		m->tables_allocated++;
		t = table_at(m, child, pa);
		for (uint64_t j = 0; j < n; j++)
			entry_set(m, &t, level_index(cfg, child, f->iova + (j << cspan)),
				  fmt->make_leaf(cfg, child, f->iova + (j << cspan),
						 f->phys + (j << cspan), cspan, f->perm));
		entry_set(m, &f->table, f->index, fmt->make_table(cfg, f->level, pa));
		cache_set(m, child, f->iova, &t);
	}
	return true;
}

/* Fast path: @cur starts a single-entry leaf like the last one decoded
 * at its level, in a cached table, and the range covers it.  Returns the
 * bytes unmapped, 0 to take the slow path. */
static uint64_t unmap_fast(struct pt_mapper *m, uint64_t cur, uint64_t left,
			   bool free_tables)
{
	const struct pt_cfg *cfg = m->cfg;
	struct map_table t;
	unsigned level;
	const struct pt_map_decoded *d;
	uint64_t *p, size;

	if (!plain_entries(cfg))
		return 0;
	level = cached_start(m, cur, 0, &t);
	d = &m->decoded[level];
	if (!t.ptr || !d->valid || d->entry.kind != PTE_LEAF)
		return 0;
	p = (uint64_t *)(void *)t.ptr + level_index(cfg, level, cur);
	size = 1ull << cfg->level_shift[level];
	if (!*p || ((*p ^ d->raw) & ~cfg->addr_only[level]) ||
	    (cur & (size - 1)) || size > left)
		return 0;
	*p = 0;
	if (free_tables)
		free_empty_tables(m, cur, level);
	return size;
}

static __attribute__((noinline)) uint64_t unmap_pages_slow(struct pt_mapper *m, uint64_t iova, unsigned pgshift,
				 uint64_t count, int override, bool free_tables)
{
	enum pt_partial_unmap policy = override >= 0 ?
		(enum pt_partial_unmap)override : m->cfg->fmt->partial_unmap;
	uint64_t total, done = 0;

	if (pgshift >= 64 || count == 0 || count > (UINT64_MAX >> pgshift))
		return 0;
	total = count << pgshift;
	if ((iova & ((1ull << pgshift) - 1)) || iova + total - 1 < iova)
		return 0;
	while (done < total) {
		uint64_t cur = iova + done;
		struct found_leaf f;
		uint64_t size;

		size = unmap_fast(m, cur, total - done, free_tables);
		if (size) {
			done += size;
			continue;
		}
		if (!find_leaf(m, cur, &f))
			break;
		size = 1ull << f.size_shift;
		if (f.iova == cur && size <= total - done) {
			clear_leaf(m, &f, free_tables);
			done += size;
			continue;
		}
		if (policy == PT_UNMAP_WHOLE_LEAF) {
			/* VT-d/AMD: the whole leaf goes, reported up to its end */
			clear_leaf(m, &f, free_tables);
			done += f.iova + size - cur;
			continue;
		}
		if (policy != PT_UNMAP_SPLIT || !split_leaf(m, &f))
			break;
	}
	return done;
}

uint64_t pt_unmap_pages(struct pt_mapper *m, uint64_t iova, unsigned pgshift,
			uint64_t count, int override, bool free_tables)
{
	const struct pt_map_fast *f = &m->fast;

	/* fast path: a smallest page in the cached level-0 table, like the
	 * last leaf decoded there */
	if (count == 1 && pgshift == f->page_shift && f->unmap_table &&
	    (iova >> f->tag_shift) == f->tag && !(iova & ((1ull << pgshift) - 1))) {
		uint64_t *p = f->unmap_table + ((iova >> pgshift) & f->index_mask);

		if (*p && !((*p & ~f->addr_only) ^ f->dec_raw)) {
			*p = 0;
			if (free_tables)
				free_empty_tables(m, iova, 0);
			return 1ull << pgshift;
		}
	}
	return unmap_pages_slow(m, iova, pgshift, count, override, free_tables);
}

bool pt_lookup(const struct pt_mapper *m, uint64_t iova, struct pt_leaf *out)
{
	const struct pt_cfg *cfg = m->cfg;
	unsigned level = top_level(cfg);
	struct map_table t = root_table(m);
	uint32_t perm = ~0u;

	for (;;) {
		uint64_t i = level_index(cfg, level, iova);
		uint64_t raw = entry_get(m, &t, i);
		unsigned span = cfg->level_shift[level];
		struct pt_entry e;
		uint64_t run, first;

		if (!raw)
			return false;
		cfg->fmt->decode(cfg, level, iova & ~((1ull << span) - 1), raw, &e);
		if (e.kind == PTE_TABLE && level > 0 && e.next_level < level) {
			perm &= e.perm;
			level = e.next_level;
			t = table_at(m, level, e.addr);
			continue;
		}
		if (e.kind != PTE_LEAF || e.size_shift < span || e.size_shift >= 64 ||
		    e.size_shift >= table_cover(cfg, level))
			return false;
		run = 1ull << (e.size_shift - span);
		first = i & ~(run - 1);
		out->iova = iova & ~((1ull << e.size_shift) - 1);
		out->phys = e.addr - ((i - first) << span);
		out->size = 1ull << e.size_shift;
		out->perm = perm & e.perm;
		out->level = level;
		out->entry_addr = t.pa + first * cfg->fmt->entry_size;
		return true;
	}
}
