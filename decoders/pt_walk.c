/* The generic page-table walker: every format's tables are walked here, in
 * IOVA order, with the codec deciding what each entry is.
 *
 * Cost model: one physmem_read per table (per 64 KiB chunk of a larger
 * table) into a per-level buffer, one visited-set lookup per table, and
 * per entry only a load, the codec's decode and the leaf callback.
 * Copying the table keeps the walker correct whatever the leaf callback
 * does with the same physmem (a peek pointer would not survive it). */
#include "decoders/pt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tables bigger than this (v7s level 1, TCE levels, concatenated LPAE
 * roots are at most 64 KiB) are read in aligned chunks of this size.
 * Runs never cross a chunk: they are naturally aligned and shorter. */
#define WALK_CHUNK_BYTES (64u * 1024)

/* Runs of up to 2^(WALK_RUN_MEMOS - 1) entries are remembered, one per
 * length, so mixed sizes in one table each find their last decode. */
#define WALK_RUN_MEMOS 16

/* Open-addressing set of table addresses; 0 is a valid address, so its
 * membership is kept aside. */
struct table_set {
	uint64_t *slots;
	size_t mask;   /* capacity - 1, capacity a power of two */
	size_t count;
	bool has_zero;
};

static int table_set_init(struct table_set *s)
{
	*s = (struct table_set){ 0 };
	s->slots = calloc(1024, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->mask = 1023;
	return 0;
}

static void table_set_release(struct table_set *s)
{
	free(s->slots);
	s->slots = NULL;
}

static size_t table_set_hash(uint64_t pa, size_t mask)
{
	return (size_t)(((pa >> 10) * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static bool table_set_contains(const struct table_set *s, uint64_t pa)
{
	if (pa == 0)
		return s->has_zero;
	for (size_t h = table_set_hash(pa, s->mask);; h = (h + 1) & s->mask) {
		if (s->slots[h] == pa)
			return true;
		if (s->slots[h] == 0)
			return false;
	}
}

static int table_set_grow(struct table_set *s)
{
	size_t ncap = (s->mask + 1) * 2;
	uint64_t *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i <= s->mask; i++) {
		uint64_t pa = s->slots[i];
		size_t h;

		if (!pa)
			continue;
		for (h = table_set_hash(pa, ncap - 1); n[h]; h = (h + 1) & (ncap - 1))
			;
		n[h] = pa;
	}
	free(s->slots);
	s->slots = n;
	s->mask = ncap - 1;
	return 0;
}

/* Caller has checked the address is not yet in the set. */
static int table_set_add(struct table_set *s, uint64_t pa)
{
	size_t h;

	if (pa == 0) {
		s->has_zero = true;
		return 0;
	}
	if ((s->count + 1) * 2 > s->mask + 1) {
		int ret = table_set_grow(s);

		if (ret < 0)
			return ret;
	}
	for (h = table_set_hash(pa, s->mask); s->slots[h]; h = (h + 1) & s->mask)
		;
	s->slots[h] = pa;
	s->count++;
	return 0;
}

struct walk_run_memo {
	uint64_t raw;
	uint64_t mask;      /* leaf_addr bits at or above the size */
	struct pt_entry e;
};

/* One step of the path from the root: the entry taken at a level. */
struct walk_step {
	unsigned level;
	uint64_t index;
	uint64_t table_pa;  /* table holding the entry */
};

struct walk_state {
	struct pt_walk *w;
	const struct pt_cfg *cfg;
	const struct pt_format *fmt;
	struct errbuf *err;
	struct table_set seen;
	uint64_t first, last;       /* inclusive IOVA window */
	uint64_t max_tables, max_entries;
	uint64_t nonempty;
	int stop;                   /* 0 go on, 1 ended by a limit, <0 error */
	unsigned depth;
	struct walk_step path[PT_MAX_LEVELS + 1];
	uint8_t *buf[PT_MAX_LEVELS];
	size_t buf_len[PT_MAX_LEVELS];
	size_t nr_batch;            /* leaves held for w->leaves */
	struct pt_leaf batch[PT_WALK_BATCH];
	/* one level's table is walked at a time: its run memos live here */
	struct walk_run_memo run_memo[PT_MAX_LEVELS][WALK_RUN_MEMOS];
};

static void flush_leaves(struct walk_state *st)
{
	struct pt_walk *w = st->w;
	size_t n = st->nr_batch;
	int rc;

	if (!n)
		return;
	st->nr_batch = 0;
	if (st->stop < 0)
		return;
	rc = w->leaves(w->ctx, st->batch, n);
	if (rc)
		st->stop = err_set(st->err, rc < 0 ? rc : -ECANCELED,
				   "walk stopped by the leaf callback in the %zu leaves from iova 0x%llx",
				   n, (unsigned long long)st->batch[0].iova);
}

/* The table being walked: its chunk in memory and what it inherits. */
struct walk_table {
	unsigned level;
	unsigned shift;             /* span of one entry */
	uint64_t pa;
	uint64_t iova;              /* IOVA of entry 0 */
	uint64_t entries;
	uint32_t perm;              /* AND of the table entries above */
	const uint8_t *chunk;
	uint64_t chunk_first;       /* index of chunk[0] */
	uint64_t chunk_end;         /* one past the last index in chunk */
	/* the last clean single-entry leaf decoded here: a following entry
	 * that differs only in cfg->addr_only bits is that leaf moved */
	bool memo_ok;
	uint64_t memo_raw;
	struct pt_entry memo;
	uint64_t memo_mask;         /* bits a moved single leaf may change */
	/* the last clean run of 2^k entries checked here, for each k set in
	 * run_valid: a run start differing only in cfg->leaf_addr bits at or
	 * above its size is that run moved (needs fmt->run_identical) */
	uint32_t run_valid;
	struct walk_run_memo *run_memo; /* st->run_memo[level], unset
					 * slots not cleared per table */
};

static uint64_t entry_load(const struct walk_state *st, const struct walk_table *t,
			   uint64_t i)
{
	const uint8_t *p = t->chunk + (i - t->chunk_first) * st->fmt->entry_size;

	if (st->fmt->entry_size == 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		return st->fmt->big_endian ? __builtin_bswap64(v) : v;
	} else {
		uint32_t v;

		memcpy(&v, p, 4);
		return st->fmt->big_endian ? __builtin_bswap32(v) : v;
	}
}

static int path_format(const struct walk_state *st, const struct walk_table *t,
		       uint64_t index, char *buf, size_t len)
{
	const char *prefix = st->w->path_prefix ? st->w->path_prefix : "";
	size_t n = (size_t)snprintf(buf, len, "%s", prefix);

	for (unsigned d = 0; d <= st->depth && n < len; d++) {
		unsigned level = d < st->depth ? st->path[d].level : t->level;
		uint64_t idx = d < st->depth ? st->path[d].index : index;
		int width = (int)(st->cfg->level_bits[level] + 3) / 4;

		n += (size_t)snprintf(buf + n, len - n, "%sl%u[0x%0*llx]",
				      n ? "/" : "", level, width,
				      (unsigned long long)idx);
	}
	return 0;
}

__attribute__((format(printf, 7, 8)))
static void walk_finding(struct walk_state *st, const struct walk_table *t,
			 uint64_t index, enum severity sev, const char *what,
			 uint64_t addr, const char *fmt, ...)
{
	char code[96], path[256], msg[256];
	va_list ap;
	int rc;

	st->w->stats.findings++;
	if (!st->w->findings)
		return;
	flush_leaves(st); /* leaves before it go out first */
	snprintf(code, sizeof(code), "%s.%s", st->fmt->code_prefix, what);
	if (t)
		path_format(st, t, index, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", st->w->path_prefix ? st->w->path_prefix : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = emit_finding(st->w->findings, sev, code, addr, path, st->w->dev,
			  st->w->pasid, "%s", msg);
	if (rc && st->stop == 0)
		st->stop = err_set(st->err, -ECANCELED, "walk stopped by the findings sink");
}

static uint64_t entry_addr(const struct walk_state *st, const struct walk_table *t,
			   uint64_t i)
{
	return t->pa + i * st->fmt->entry_size;
}

/* Counts one more non-empty entry; false (and the walk ends) past the cap. */
static inline bool count_entry(struct walk_state *st, const struct walk_table *t,
			uint64_t i, uint64_t n)
{
	st->nonempty += n;
	if (st->nonempty <= st->max_entries)
		return true;
	walk_finding(st, t, i, SEV_ERROR, "limit-entries", entry_addr(st, t, i),
		     "walk stopped after %llu entries (limit)",
		     (unsigned long long)st->max_entries);
	if (st->stop == 0)
		st->stop = 1;
	return false;
}

static inline __attribute__((always_inline))
void emit_leaf(struct walk_state *st, const struct walk_table *t,
		      uint64_t i, const struct pt_entry *e, uint64_t iova,
		      unsigned size_shift)
{
	struct pt_walk *w = st->w;
	uint64_t size = 1ull << size_shift;
	struct pt_leaf leaf;
	int rc;

	if (!(st->cfg->leaf_sizes & size))
		walk_finding(st, t, i, SEV_ERROR, "leaf-size", entry_addr(st, t, i),
			     "leaf of 0x%llx bytes at iova 0x%llx is not a page size of this table",
			     (unsigned long long)size, (unsigned long long)iova);
	if (e->addr & (size - 1))
		walk_finding(st, t, i, SEV_WARNING, "misaligned", entry_addr(st, t, i),
			     "output address 0x%llx is not aligned to the 0x%llx-byte leaf",
			     (unsigned long long)e->addr, (unsigned long long)size);
	w->stats.leaves++;
	if (st->stop)
		return;
	if (w->leaves) {
		st->batch[st->nr_batch++] = (struct pt_leaf){
			.iova = iova, .phys = e->addr, .size = size,
			.perm = t->perm & e->perm, .level = t->level,
			.entry_addr = entry_addr(st, t, i),
		};
		if (st->nr_batch == PT_WALK_BATCH)
			flush_leaves(st);
		return;
	}
	if (!w->leaf)
		return;
	leaf.iova = iova;
	leaf.phys = e->addr;
	leaf.size = size;
	leaf.perm = t->perm & e->perm;
	leaf.level = t->level;
	leaf.entry_addr = entry_addr(st, t, i);
	rc = w->leaf(w->ctx, &leaf);
	if (rc)
		st->stop = err_set(st->err, rc < 0 ? rc : -ECANCELED,
				   "walk stopped by the leaf callback at iova 0x%llx",
				   (unsigned long long)iova);
}

static void walk_table(struct walk_state *st, unsigned level, uint64_t pa,
		       uint64_t iova, uint32_t perm);

static bool table_on_path(const struct walk_state *st, uint64_t pa)
{
	for (unsigned d = 0; d < st->depth; d++)
		if (st->path[d].table_pa == pa)
			return true;
	return false;
}

static void descend(struct walk_state *st, const struct walk_table *t,
		    uint64_t i, const struct pt_entry *e, uint64_t iova)
{
	struct pt_walk *w = st->w;
	uint64_t pa = e->addr;
	uint64_t bytes = pt_level_entries(st->cfg, e->next_level) * st->fmt->entry_size;

	if (w->xlate_table && w->xlate_table(w->xlate_ctx, e->addr, &pa) < 0) {
		walk_finding(st, t, i, SEV_ERROR, "table-xlate", entry_addr(st, t, i),
			     "table address 0x%llx does not translate through stage 2",
			     (unsigned long long)e->addr);
		return;
	}
	if (table_set_contains(&st->seen, pa)) {
		if (pa == t->pa || table_on_path(st, pa))
			walk_finding(st, t, i, SEV_ERROR, "table-shared", entry_addr(st, t, i),
				     "table at 0x%llx points back to a table above it (loop)",
				     (unsigned long long)pa);
		else
			walk_finding(st, t, i, SEV_WARNING, "table-shared", entry_addr(st, t, i),
				     "table at 0x%llx is reached a second time; not walked again",
				     (unsigned long long)pa);
		return;
	}
	if (w->stats.tables >= st->max_tables) {
		walk_finding(st, t, i, SEV_ERROR, "limit-tables", entry_addr(st, t, i),
			     "walk stopped after %llu tables (limit)",
			     (unsigned long long)st->max_tables);
		if (st->stop == 0)
			st->stop = 1;
		return;
	}
	if (!physmem_present(w->mem, pa, bytes)) {
		walk_finding(st, t, i, SEV_ERROR, "table-outside", entry_addr(st, t, i),
			     "level-%u table at 0x%llx is outside memory",
			     e->next_level, (unsigned long long)pa);
		return;
	}
	if (table_set_add(&st->seen, pa) < 0) {
		st->stop = err_set(st->err, -ENOMEM, "out of memory for the visited set");
		return;
	}
	st->path[st->depth] = (struct walk_step){
		.level = t->level, .index = i, .table_pa = t->pa,
	};
	st->depth++;
	walk_table(st, e->next_level, pa, iova, t->perm & e->perm);
	st->depth--;
}

static uint64_t walk_entry(struct walk_state *st, struct walk_table *t,
			   uint64_t i, bool force_single);

/* A leaf longer than its entry's span: a run of 2^k identical-looking
 * entries (AMD NextLevel=7 replicas, LPAE contiguous hint).  Returns the
 * index after the run. */
static uint64_t walk_run(struct walk_state *st, struct walk_table *t, uint64_t i,
			 const struct pt_entry *e)
{
	unsigned k = e->size_shift - t->shift;
	uint64_t n = k < 32 ? 1ull << k : 0;
	uint64_t start = n ? i & ~(n - 1) : i;
	uint64_t end = start + n, j;
	const char *why = NULL;

	if (n == 0 || n > t->entries) {
		why = "is longer than its table";
		end = i + 1;
	} else if (i != start) {
		why = "does not start at an aligned index";
	} else if (end > t->chunk_end) {
		why = "runs past the end of its table";
	} else {
		uint64_t first = entry_load(st, t, i);

		for (j = i + 1; j < end; j++) {
			struct pt_entry o;
			uint64_t raw = entry_load(st, t, j);

			if (raw == first && st->fmt->run_identical)
				continue; /* the same entry decodes the same way */
			st->fmt->decode(st->cfg, t->level,
					t->iova + (j << t->shift), raw, &o);
			if (o.kind != PTE_LEAF || o.reserved ||
			    o.size_shift != e->size_shift || o.perm != e->perm ||
			    o.addr != e->addr + ((j - i) << t->shift)) {
				why = "has an entry that differs from the first";
				break;
			}
		}
	}
	if (!why) {
		uint64_t leaf_addr = st->cfg->leaf_addr[t->level];

		if (leaf_addr && st->fmt->run_identical && k < WALK_RUN_MEMOS &&
		    !e->warn && !e->reserved) {
			struct walk_run_memo *m = &t->run_memo[k];

			m->raw = entry_load(st, t, i);
			m->mask = leaf_addr & ~((1ull << e->size_shift) - 1);
			m->e = *e;
			t->run_valid |= 1u << k;
		}
		if (!count_entry(st, t, i, n - 1))
			return end;
		emit_leaf(st, t, i, e, t->iova + (i << t->shift), e->size_shift);
		return end;
	}
	walk_finding(st, t, i, SEV_ERROR, "run-inconsistent", entry_addr(st, t, i),
		     "run of %llu entries for a 0x%llx-byte leaf %s; entries taken one by one",
		     (unsigned long long)n, (unsigned long long)1 << (e->size_shift & 63), why);
	if (end > t->chunk_end)
		end = t->chunk_end;
	/* this entry is already counted; the rest go through walk_entry */
	emit_leaf(st, t, i, e, t->iova + (i << t->shift), t->shift);
	for (j = i + 1; j < end && !st->stop;)
		j = walk_entry(st, t, j, true);
	return end;
}

/* Handles entry @i; returns the next index to look at. */
static uint64_t walk_entry(struct walk_state *st, struct walk_table *t,
			   uint64_t i, bool force_single)
{
	uint64_t raw = entry_load(st, t, i);
	uint64_t iova = t->iova + (i << t->shift);
	struct pt_entry e;

	if (!raw)
		return i + 1;
	if (!count_entry(st, t, i, 1))
		return i + 1;
	st->fmt->decode(st->cfg, t->level, iova, raw, &e);
	if (e.kind == PTE_EMPTY)
		return i + 1;
	if (e.kind == PTE_INVALID) {
		walk_finding(st, t, i, SEV_ERROR, "invalid", entry_addr(st, t, i),
			     "entry 0x%016llx: %s", (unsigned long long)raw,
			     e.problem ? e.problem : "undecodable");
		return i + 1;
	}
	if (e.reserved) {
		walk_finding(st, t, i, SEV_ERROR, "reserved", entry_addr(st, t, i),
			     "entry 0x%016llx has reserved bits 0x%llx set",
			     (unsigned long long)raw, (unsigned long long)e.reserved);
		return i + 1;
	}
	if (e.warn) /* a condition worth a warning: the entry still counts */
		walk_finding(st, t, i, SEV_WARNING, e.warn, entry_addr(st, t, i),
			     "entry 0x%016llx: %s", (unsigned long long)raw,
			     e.problem ? e.problem : e.warn);
	if (e.kind == PTE_TABLE) {
		if (t->level == 0 || e.next_level >= t->level)
			walk_finding(st, t, i, SEV_ERROR, "invalid", entry_addr(st, t, i),
				     "entry 0x%016llx: level-%u entry points to a level-%u table",
				     (unsigned long long)raw, t->level, e.next_level);
		else
			descend(st, t, i, &e, iova);
		return i + 1;
	}
	/* PTE_LEAF */
	if (e.size_shift < t->shift || e.size_shift >= 64) {
		walk_finding(st, t, i, SEV_ERROR, "invalid", entry_addr(st, t, i),
			     "entry 0x%016llx: leaf size 2^%u does not fit a level-%u entry",
			     (unsigned long long)raw, e.size_shift, t->level);
		return i + 1;
	}
	if (e.size_shift == t->shift) {
		/* a leaf with a warning is not a template: each such leaf
		 * must be decoded, and warned about, on its own */
		t->memo_ok = !e.warn;
		t->memo_raw = raw;
		t->memo = e;
		emit_leaf(st, t, i, &e, iova, e.size_shift);
		return i + 1;
	}
	if (force_single) {
		emit_leaf(st, t, i, &e, iova, t->shift);
		return i + 1;
	}
	return walk_run(st, t, i, &e);
}

/* The common case: from entry @i on, leaves that differ from the last
 * decoded one (t->memo) only in cfg->addr_only bits, and empty entries.
 * Everything lives in locals so the loop is loads, compares and the leaf
 * callback.  Returns the first entry it did not take. */
static uint64_t walk_same_leaves(struct walk_state *st, struct walk_table *t,
				 uint64_t i, uint64_t end)
{
	struct pt_walk *w = st->w;
	const uint64_t addr_only = t->memo_mask;
	const uint64_t match = t->memo_raw & ~addr_only;
	const uint64_t base_addr = t->memo.addr & ~addr_only;
	const uint8_t *chunk = t->chunk - t->chunk_first * 8;
	int (*cb)(void *ctx, const struct pt_leaf *leaf) = w->leaf;
	void *ctx = w->ctx;
	const uint64_t iova0 = t->iova, pa0 = t->pa;
	const unsigned shift = t->shift;
	uint64_t room = st->max_entries > st->nonempty ? st->max_entries - st->nonempty : 0;
	uint64_t taken = 0;
	struct pt_leaf leaf = {
		.size = 1ull << t->shift, .perm = t->perm & t->memo.perm,
		.level = t->level,
	};

	if (!(st->cfg->leaf_sizes & leaf.size))
		return i; /* the slow path reports it */
	if (w->leaves) {
		/* batched: everything in locals, the batch filled in place */
		struct pt_leaf *batch = st->batch;
		size_t nb = st->nr_batch;
		uint64_t iova = iova0 + (i << shift), entry = pa0 + i * 8;

		for (; i < end; i++, iova += leaf.size, entry += 8) {
			uint64_t raw, phys;

			memcpy(&raw, chunk + i * 8, 8);
			if (!raw)
				continue;
			if ((raw & ~addr_only) != match || taken == room)
				break;
			phys = base_addr | (raw & addr_only);
			if (phys & (leaf.size - 1))
				break;
			taken++;
			batch[nb] = leaf;
			batch[nb].iova = iova;
			batch[nb].phys = phys;
			batch[nb].entry_addr = entry;
			if (++nb == PT_WALK_BATCH) {
				st->nr_batch = nb;
				flush_leaves(st);
				nb = st->nr_batch;
				if (st->stop) {
					i++;
					break;
				}
			}
		}
		st->nr_batch = nb;
		st->nonempty += taken;
		w->stats.leaves += taken;
		return i;
	}
	for (; i < end; i++) {
		uint64_t raw;
		int rc;

		memcpy(&raw, chunk + i * 8, 8);
		if (!raw)
			continue;
		if ((raw & ~addr_only) != match || taken == room)
			break;
		leaf.phys = base_addr | (raw & addr_only);
		if (leaf.phys & (leaf.size - 1))
			break;
		taken++;
		if (!cb)
			continue;
		leaf.iova = iova0 + (i << shift);
		leaf.entry_addr = pa0 + i * 8;
		rc = cb(ctx, &leaf);

		if (rc) {
			st->nonempty += taken;
			w->stats.leaves += taken;
			st->stop = err_set(st->err, rc < 0 ? rc : -ECANCELED,
					   "walk stopped by the leaf callback at iova 0x%llx",
					   (unsigned long long)leaf.iova);
			return i + 1;
		}
	}
	st->nonempty += taken;
	w->stats.leaves += taken;
	return i;
}

/* Entry @i (raw value @raw, little-endian 8-byte entries) as a run that
 * t->run_memo says is a remembered run moved: checks its copies are
 * identical, counts and emits it without decoding.  Returns the index
 * after it, or @i when no memo fits (the caller decodes). */
static uint64_t walk_memo_run(struct walk_state *st, struct walk_table *t,
			      uint64_t i, uint64_t raw)
{
	const uint8_t *chunk = t->chunk - t->chunk_first * 8;

	for (uint32_t v = t->run_valid; v; v &= v - 1) {
		unsigned k = (unsigned)__builtin_ctz(v);
		const struct walk_run_memo *m = &t->run_memo[k];
		uint64_t n = 1ull << k, end = i + n;
		struct pt_entry e;

		if ((raw ^ m->raw) & ~m->mask)
			continue;
		if ((i & (n - 1)) || end > t->chunk_end)
			return i;
		for (uint64_t j = i + 1; j < end; j++) {
			uint64_t o;

			memcpy(&o, chunk + j * 8, 8);
			if (o != raw)
				return i;
		}
		if (!count_entry(st, t, i, 1))
			return i + 1;
		if (!count_entry(st, t, i, n - 1))
			return end;
		e = m->e;
		e.addr = (e.addr & ~m->mask) | (raw & m->mask);
		emit_leaf(st, t, i, &e, t->iova + (i << t->shift), e.size_shift);
		return end;
	}
	return i;
}

/* Entries [i, end) of the current chunk. */
static uint64_t walk_range(struct walk_state *st, struct walk_table *t,
			   uint64_t i, uint64_t end)
{
	const bool plain = st->fmt->entry_size == 8 && !st->fmt->big_endian;

	while (i < end && !st->stop) {
		uint64_t raw = entry_load(st, t, i), next;

		if (!raw) {
			i++;
			continue;
		}
		if (plain && t->memo_ok && !((raw ^ t->memo_raw) & ~t->memo_mask)) {
			next = walk_same_leaves(st, t, i, end);
			if (next != i) {
				i = next;
				continue;
			}
		} else if (plain && t->run_valid) {
			next = walk_memo_run(st, t, i, raw);
			if (next != i) {
				i = next;
				continue;
			}
		}
		i = walk_entry(st, t, i, false);
	}
	return i;
}

static const uint8_t *read_chunk(struct walk_state *st, unsigned level,
				 uint64_t pa, size_t len)
{
	if (st->buf_len[level] < len) {
		uint8_t *n = realloc(st->buf[level], len);

		if (!n) {
			st->stop = err_set(st->err, -ENOMEM, "out of memory for a table buffer");
			return NULL;
		}
		st->buf[level] = n;
		st->buf_len[level] = len;
	}
	if (physmem_read(st->w->mem, pa, st->buf[level], len, st->err) < 0)
		return NULL;
	return st->buf[level];
}

static void walk_table(struct walk_state *st, unsigned level, uint64_t pa,
		       uint64_t iova, uint32_t perm)
{
	const struct pt_cfg *cfg = st->cfg;
	struct walk_table t = {
		.level = level, .shift = cfg->level_shift[level], .pa = pa,
		.iova = iova, .entries = pt_level_entries(cfg, level), .perm = perm,
		.run_memo = st->run_memo[level],
		.memo_mask = cfg->addr_only[level] |
			     (cfg->leaf_addr[level] & ~((1ull << cfg->level_shift[level]) - 1)),
	};
	unsigned esz = st->fmt->entry_size;
	uint64_t chunk_entries = WALK_CHUNK_BYTES / esz;
	uint64_t first = 0, last = t.entries - 1, i;

	/* entries of this table inside the window */
	if (st->first > iova) {
		uint64_t off = (st->first - iova) >> t.shift;

		if (off > last)
			return;
		first = off;
	}
	if (st->last < iova)
		return;
	if (((st->last - iova) >> t.shift) < last)
		last = (st->last - iova) >> t.shift;
	st->w->stats.tables++;

	for (i = first; i <= last && !st->stop;) {
		uint64_t cfirst = i & ~(chunk_entries - 1);
		uint64_t cend = cfirst + chunk_entries;

		if (cend > t.entries)
			cend = t.entries;
		t.chunk = read_chunk(st, level, pa + cfirst * esz, (cend - cfirst) * esz);
		if (!t.chunk) {
			/* the root itself unreadable stops everything */
			if (!st->stop && st->depth == 0)
				st->stop = err_prefix(st->err, -EIO, "page-table root");
			else if (!st->stop)
				walk_finding(st, &t, i, SEV_ERROR, "table-unreadable",
					     entry_addr(st, &t, i), "%s", st->err->msg);
			return;
		}
		t.chunk_first = cfirst;
		t.chunk_end = cend;
		if (i == first && i != cfirst) {
			/* the window may start inside a run: begin at it */
			uint64_t raw = entry_load(st, &t, i);
			struct pt_entry e;

			if (raw) {
				st->fmt->decode(cfg, level, iova + (i << t.shift), raw, &e);
				if (e.kind == PTE_LEAF && !e.reserved &&
				    e.size_shift > t.shift && e.size_shift - t.shift < 32) {
					uint64_t s = i & ~((1ull << (e.size_shift - t.shift)) - 1);

					if (s >= cfirst)
						i = s;
				}
			}
		}
		if (cend > last + 1)
			cend = last + 1;
		st->w->stats.entries += cend - i;
		i = walk_range(st, &t, i, cend);
	}
}

int pt_walk(struct pt_walk *w, struct errbuf *err)
{
	struct errbuf local_err;
	struct walk_state st = { 0 };
	const struct pt_cfg *cfg = w->cfg;
	uint64_t root = w->root, bytes;
	unsigned top;
	int ret;

	if (!err)
		err = &local_err;
	w->stats = (struct pt_walk_stats){ 0 };
	if (!cfg || !cfg->fmt || !w->mem || cfg->levels == 0 ||
	    cfg->levels > PT_MAX_LEVELS)
		return err_set(err, -EINVAL, "page-table walk without a format or memory");
	if (w->iova_last < w->iova_first)
		return err_set(err, -EINVAL, "empty iova window 0x%llx-0x%llx",
			       (unsigned long long)w->iova_first,
			       (unsigned long long)w->iova_last);
	top = cfg->levels - 1;
	if (w->xlate_table && w->xlate_table(w->xlate_ctx, w->root, &root) < 0)
		return err_set(err, -EFAULT, "page-table root 0x%llx does not translate through stage 2",
			       (unsigned long long)w->root);
	bytes = pt_level_entries(cfg, top) * cfg->fmt->entry_size;
	if (!physmem_present(w->mem, root, bytes))
		return err_set(err, -EFAULT, "page-table root at 0x%llx is outside memory",
			       (unsigned long long)root);

	st.w = w;
	st.cfg = cfg;
	st.fmt = cfg->fmt;
	st.err = err;
	st.first = w->iova_first;
	st.last = (w->iova_first == 0 && w->iova_last == 0) ? UINT64_MAX : w->iova_last;
	st.max_tables = w->limits.max_tables ? w->limits.max_tables : PT_DEFAULT_MAX_TABLES;
	st.max_entries = w->limits.max_entries ? w->limits.max_entries : PT_DEFAULT_MAX_ENTRIES;
	ret = table_set_init(&st.seen);
	if (ret < 0)
		return err_set(err, ret, "out of memory for the visited set");
	ret = table_set_add(&st.seen, root);
	if (ret == 0) {
		walk_table(&st, top, root, w->iova_base, ~0u);
		flush_leaves(&st);
	}
	table_set_release(&st.seen);
	for (unsigned l = 0; l < PT_MAX_LEVELS; l++)
		free(st.buf[l]);
	if (ret < 0)
		return err_set(err, ret, "out of memory for the visited set");
	return st.stop < 0 ? st.stop : 0;
}
