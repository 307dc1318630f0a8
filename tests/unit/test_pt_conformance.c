/* One conformance suite for every page-table codec: each row of
 * conf_formats[] runs every test below.  Adding a format is one row (and,
 * for the reserved-bit test, a list of its reserved masks).
 *
 * The mapper is checked against a flat reference (a list of leaves), the
 * walker against the mapper, pt_pgsize against a brute-force search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/lpae_defs.h"
#include "decoders/pt.h"
#include "decoders/pt_pgsize.h"
#include "decoders/amd_defs.h"

/* An expected reserved mask: the bits of an entry at @level (a leaf of the
 * level's own size, or a table entry) that the format reserves. */
struct conf_rsvd {
	unsigned level;
	bool leaf;
	uint64_t mask;
};

struct conf_format {
	const char *name;
	unsigned levels, ias, oas, granule_shift;
	uint64_t flags;
	/* walked permission = (asked & perm_kept) | perm_forced */
	uint32_t perm_kept, perm_forced;
	const struct conf_rsvd *rsvd; /* ends with mask 0; NULL = none listed */
};

#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))
#define BIT(n) (1ull << (n))

/* vtd-ss, 4 levels, HAW 46, 2 MiB and 1 GiB, no SC/DT (formats.md §1.7):
 * every entry: bit 62 and address bits 51:46; 4 KiB PTE and PDE/PDPE
 * tables: bit 11; PML4E: bits 11 and 7; superpages: bits 29/20..11. */
static const struct conf_rsvd vtd_ss_4l_rsvd[] = {
	{ 0, true, BIT(62) | BITS(51, 46) | BIT(11) },
	{ 1, true, BIT(62) | BITS(51, 46) | BITS(20, 11) },
	{ 2, true, BIT(62) | BITS(51, 46) | BITS(29, 11) },
	{ 1, false, BIT(62) | BITS(51, 46) | BIT(11) },
	{ 2, false, BIT(62) | BITS(51, 46) | BIT(11) },
	{ 3, false, BIT(62) | BITS(51, 46) | BIT(11) | BIT(7) },
	{ 0, false, 0 },
};

/* vtd-ss, 3 levels, HAW 39, 2 MiB only, SC and DT: SNP and TM are leaf
 * bits now; PS in the PDPE (1 GiB not supported) is reserved. */
static const struct conf_rsvd vtd_ss_3l_sc_rsvd[] = {
	{ 0, true, BITS(51, 39) },
	{ 1, true, BITS(51, 39) | BITS(20, 12) },
	{ 1, false, BIT(62) | BITS(51, 39) | BIT(11) },
	{ 2, false, BIT(62) | BITS(51, 39) | BIT(11) | BIT(7) },
	{ 0, false, 0 },
};

/* x86-64, 4 levels, 46-bit PA, 1 GiB, no NXE: XD and bits 51:46 always;
 * large leaves: bits 29/20..13 (12 is PAT); PML4E: PS. */
static const struct conf_rsvd x86_64_4l_rsvd[] = {
	{ 0, true, BIT(63) | BITS(51, 46) },
	{ 1, true, BIT(63) | BITS(51, 46) | BITS(20, 13) },
	{ 2, true, BIT(63) | BITS(51, 46) | BITS(29, 13) },
	{ 1, false, BIT(63) | BITS(51, 46) },
	{ 2, false, BIT(63) | BITS(51, 46) },
	{ 3, false, BIT(63) | BITS(51, 46) | BIT(7) },
	{ 0, false, 0 },
};

/* x86-64, 5 levels, 52-bit PA, NXE, no 1 GiB: PS in the PDPTE reserved. */
static const struct conf_rsvd x86_64_5l_rsvd[] = {
	{ 1, true, BITS(20, 13) },
	{ 2, false, BIT(7) },
	{ 3, false, BIT(7) },
	{ 4, false, BIT(7) },
	{ 0, false, 0 },
};

/* lpae stage 1, 4K, 40-bit OA: bits 49:48 and OA bits 47:40 of leaves;
 * block bits below the block size except nT (16); table bits 51:48. */
static const struct conf_rsvd lpae_4k_rsvd[] = {
	{ 0, true, BITS(49, 48) | BITS(47, 40) },
	{ 1, true, BITS(49, 48) | BITS(47, 40) | BITS(20, 17) | BITS(15, 12) },
	{ 2, true, BITS(49, 48) | BITS(47, 40) | BITS(29, 17) | BITS(15, 12) },
	{ 1, false, BITS(51, 40) },
	{ 2, false, BITS(51, 40) },
	{ 3, false, BITS(51, 40) },
	{ 0, false, 0 },
};

/* lpae stage 2, 64K, 48-bit OA: bits 15:12 would be OA[51:48]. */
static const struct conf_rsvd lpae_64k_s2_rsvd[] = {
	{ 0, true, BITS(49, 48) | BITS(15, 12) },
	{ 1, true, BITS(49, 48) | BITS(28, 17) | BITS(15, 12) },
	{ 1, false, BITS(51, 48) | BITS(15, 12) },
	{ 2, false, BITS(51, 48) | BITS(15, 12) },
	{ 0, false, 0 },
};

/* lpae stage 1, 16K: bits 13:12 of pages and tables. */
static const struct conf_rsvd lpae_16k_rsvd[] = {
	{ 0, true, BITS(49, 48) | BITS(13, 12) },
	{ 1, true, BITS(49, 48) | BITS(24, 17) | BITS(15, 12) },
	{ 1, false, BITS(51, 48) | BITS(13, 12) },
	{ 2, false, BITS(51, 48) | BITS(13, 12) },
	{ 0, false, 0 },
};

/* lpae 64K, 52-bit OA: 4T blocks at Arm level 1. */
static const struct conf_rsvd lpae_52_rsvd[] = {
	{ 0, true, BITS(49, 48) },
	{ 2, true, BITS(49, 48) | BITS(41, 17) | BIT(52) }, /* no hint at L1 */
	{ 1, false, BITS(51, 48) },
	{ 0, false, 0 },
};

/* v7s: the SBZ bit of a page-table descriptor. */
static const struct conf_rsvd v7s_rsvd[] = {
	{ 1, false, BIT(4) },
	{ 0, false, 0 },
};

/* amd-v1, 3 levels, 52-bit PA: PTE bits 58:52, PDE bits 60:52 (U and FC
 * are PTE-only); a natural large page's address bits below its size. */
static const struct conf_rsvd amd_v1_3l_rsvd[] = {
	{ 0, true, BITS(58, 52) },
	{ 1, true, BITS(58, 52) | BITS(20, 12) },
	{ 2, true, BITS(58, 52) | BITS(29, 12) },
	{ 1, false, BITS(60, 52) },
	{ 2, false, BITS(60, 52) },
	{ 0, false, 0 },
};

/* amd-v1, 5 levels, 46-bit PA: address bits 51:46 as well. */
static const struct conf_rsvd amd_v1_5l_rsvd[] = {
	{ 0, true, BITS(58, 46) },
	{ 1, true, BITS(58, 46) | BITS(20, 12) },
	{ 2, true, BITS(58, 46) | BITS(29, 12) },
	{ 1, false, BITS(60, 46) },
	{ 4, false, BITS(60, 46) },
	{ 0, false, 0 },
};

static const struct conf_format conf_formats[] = {
	{ "vtd-ss", 4, 48, 46, 12, PT_VTD_F_SP2M | PT_VTD_F_SP1G,
	  PERM_R | PERM_W, 0, vtd_ss_4l_rsvd },
	{ "vtd-ss", 3, 39, 39, 12, PT_VTD_F_SP2M | PT_VTD_F_SNOOP_CTL |
	  PT_VTD_F_DEVTLB | PT_VTD_F_SLEE,
	  PERM_R | PERM_W | PERM_X | PERM_SNP, 0, vtd_ss_3l_sc_rsvd },
	{ "x86-64", 4, 48, 46, 12, PT_X86_F_1G,
	  PERM_W, PERM_R | PERM_U | PERM_X, x86_64_4l_rsvd },
	{ "x86-64", 5, 57, 52, 12, PT_X86_F_NXE,
	  PERM_W, PERM_R | PERM_U | PERM_X, x86_64_5l_rsvd },
	{ "lpae", 4, 48, 40, 12, 0,
	  PERM_W | PERM_X | PERM_U | PERM_SNP, PERM_R, lpae_4k_rsvd },
	{ "lpae", 3, 48, 48, 16, PT_LPAE_F_STAGE2,
	  PERM_R | PERM_W | PERM_X | PERM_SNP, 0, lpae_64k_s2_rsvd },
	{ "lpae", 4, 48, 48, 14, PT_LPAE_F_CONTIG,
	  PERM_W | PERM_X | PERM_U | PERM_SNP, PERM_R, lpae_16k_rsvd },
	{ "lpae", 3, 52, 52, 16, 0,
	  PERM_W | PERM_X | PERM_U | PERM_SNP, PERM_R, lpae_52_rsvd },
	{ "lpae", 3, 40, 40, 12, PT_LPAE_F_STAGE2 | PT_LPAE_F_CONTIG,
	  PERM_R | PERM_W | PERM_X | PERM_SNP, 0, NULL },
	{ "v7s", 2, 32, 32, 12, 0,
	  PERM_W | PERM_X | PERM_U | PERM_SNP, PERM_R, v7s_rsvd },
	{ "amd-v1", 3, 39, 52, 12, 0, PERM_R | PERM_W | PERM_SNP, 0, amd_v1_3l_rsvd },
	{ "amd-v1", 5, 57, 46, 12, PT_AMD_V1_F_FC, PERM_R | PERM_W, PERM_SNP, amd_v1_5l_rsvd },
};
#define NR_CONF_FORMATS (sizeof(conf_formats) / sizeof(conf_formats[0]))

/* ---- fixture: a cfg, an arena and a mapper per test ---- */

#define ARENA_BASE  0x100000ull
#define ARENA_LIMIT (512ull << 20)
/* present nowhere: above the arena, below every row's oas */
#define OUTSIDE_PA  0x40000000ull

struct conf {
	const struct conf_format *row;
	struct pt_cfg cfg;
	struct arena *arena;
	struct pt_mapper m;
	uint64_t rng;
};

static uint64_t rnd(struct conf *c)
{
	/* xorshift64*: deterministic per test, no global state */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(struct conf *c, uint64_t n)
{
	return n ? rnd(c) % n : 0;
}

/* Arena pages of the root table (16/64 KiB granules and v7s level 1
 * take several). */
static uint64_t root_pages(const struct conf *c)
{
	const struct pt_cfg *cfg = &c->cfg;
	unsigned top = cfg->levels - 1;
	uint64_t bytes = cfg->fmt->table_size ? cfg->fmt->table_size(cfg, top)
		: pt_level_entries(cfg, top) * cfg->fmt->entry_size;

	if (!cfg->fmt->table_size && bytes < (1ull << cfg->granule_shift))
		bytes = 1ull << cfg->granule_shift;
	return (bytes + 4095) / 4096;
}

static int conf_setup(void **state)
{
	const struct conf_format *row = *state;
	struct conf *c = calloc(1, sizeof(*c));
	struct errbuf err;
	const struct pt_format *fmt = pt_format_find(row->name);

	assert_non_null(c);
	assert_non_null(fmt);
	c->row = row;
	c->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(row - conf_formats);
	assert_int_equal(pt_cfg_init(&c->cfg, fmt, row->levels, row->ias, row->oas,
				     row->granule_shift, row->flags, &err), 0);
	c->arena = arena_new(ARENA_BASE, ARENA_LIMIT);
	assert_non_null(c->arena);
	assert_int_equal(pt_mapper_init(&c->m, &c->cfg, c->arena, &err), 0);
	*state = c;
	return 0;
}

static int conf_teardown(void **state)
{
	struct conf *c = *state;

	arena_free(c->arena);
	free(c);
	return 0;
}

static uint32_t walked_perm(const struct conf *c, uint32_t asked)
{
	return (asked & c->row->perm_kept) | c->row->perm_forced;
}

/* ---- walking into a list ---- */

#define MAX_LEAVES 65536
#define MAX_FINDINGS 64

struct collected {
	struct pt_leaf leaf[MAX_LEAVES];
	size_t nr_leaves;
	struct {
		char code[64];
		char message[256];
		uint64_t addr;
		enum severity sev;
	} finding[MAX_FINDINGS];
	size_t nr_findings;
	struct sink sink;
};

static int collect_leaf(void *ctx, const struct pt_leaf *l)
{
	struct collected *col = ctx;

	if (col->nr_leaves < MAX_LEAVES)
		col->leaf[col->nr_leaves] = *l;
	col->nr_leaves++;
	return 0;
}

static int collect_finding(struct sink *s, const struct finding *f)
{
	struct collected *col = (struct collected *)(void *)((char *)s - offsetof(struct collected, sink));

	if (col->nr_findings < MAX_FINDINGS) {
		snprintf(col->finding[col->nr_findings].code, 64, "%s", f->code);
		snprintf(col->finding[col->nr_findings].message, 256, "%s", f->message);
		col->finding[col->nr_findings].addr = f->addr;
		col->finding[col->nr_findings].sev = f->severity;
	}
	col->nr_findings++;
	return 0;
}

static int collect_leaves(void *ctx, const struct pt_leaf *l, size_t n)
{
	assert_true(n >= 1 && n <= PT_WALK_BATCH);
	for (size_t i = 0; i < n; i++)
		collect_leaf(ctx, &l[i]);
	return 0;
}

static struct collected *walk_all_how(struct conf *c, const struct pt_limits *limits,
				      struct pt_walk_stats *stats, bool batch)
{
	struct collected *col = calloc(1, sizeof(*col));
	struct physmem *pm;
	struct errbuf err;
	struct pt_walk w = {
		.cfg = &c->cfg, .root = c->m.root, .leaf = collect_leaf,
		.pasid = PASID_NONE, .path_prefix = "t",
	};

	assert_non_null(col);
	col->sink.finding = collect_finding;
	assert_int_equal(arena_physmem(c->arena, &pm, &err), 0);
	w.mem = pm;
	w.ctx = col;
	w.findings = &col->sink;
	if (limits)
		w.limits = *limits;
	if (batch)
		w.leaves = collect_leaves;
	assert_int_equal(pt_walk(&w, &err), 0);
	if (stats)
		*stats = w.stats;
	assert_int_equal(w.stats.leaves, col->nr_leaves);
	assert_int_equal(w.stats.findings, col->nr_findings);
	physmem_free(pm);
	return col;
}

static struct collected *walk_all(struct conf *c, const struct pt_limits *limits,
				  struct pt_walk_stats *stats)
{
	return walk_all_how(c, limits, stats, false);
}

static bool has_finding(const struct collected *col, const char *suffix,
			uint64_t addr, const char *needle)
{
	for (size_t i = 0; i < col->nr_findings && i < MAX_FINDINGS; i++) {
		const char *code = col->finding[i].code;
		size_t cl = strlen(code), sl = strlen(suffix);

		if (cl < sl || strcmp(code + cl - sl, suffix) != 0)
			continue;
		if (col->finding[i].addr != addr)
			continue;
		if (needle && !strstr(col->finding[i].message, needle))
			continue;
		return true;
	}
	return false;
}

/* ---- raw entry access for tests that damage tables ---- */

/* Entries of 8 or 4 bytes (v7s), little-endian like every row here. */
static uint64_t entry_get(struct conf *c, uint64_t pa)
{
	uint8_t *page = arena_page(c->arena, pa & ~0xfffull);
	uint64_t v = 0;

	assert_non_null(page);
	memcpy(&v, page + (pa & 0xfff), c->cfg.fmt->entry_size);
	return v;
}

static void entry_set(struct conf *c, uint64_t pa, uint64_t v)
{
	uint8_t *page = arena_page(c->arena, pa & ~0xfffull);

	assert_non_null(page);
	memcpy(page + (pa & 0xfff), &v, c->cfg.fmt->entry_size);
}

/* Physical address of the entry at @level on the way to @iova. */
static uint64_t entry_pa_at(struct conf *c, uint64_t iova, unsigned level)
{
	const struct pt_cfg *cfg = &c->cfg;
	uint64_t table = c->m.root;

	for (unsigned l = cfg->levels - 1;; l--) {
		uint64_t i = (iova >> cfg->level_shift[l]) & (pt_level_entries(cfg, l) - 1);
		uint64_t pa = table + i * cfg->fmt->entry_size;
		struct pt_entry e;

		if (l == level)
			return pa;
		cfg->fmt->decode(cfg, l, iova, entry_get(c, pa), &e);
		assert_int_equal(e.kind, PTE_TABLE);
		table = e.addr;
	}
}

static int leaf_level_of(const struct pt_cfg *cfg, unsigned shift)
{
	for (int l = (int)cfg->levels - 1; l >= 0; l--)
		if (cfg->level_shift[l] <= shift)
			return l;
	return -1;
}

/* ---- 1. encode → walk round trip of every leaf size ---- */

static const uint32_t test_perms[] = {
	PERM_R, PERM_W, PERM_R | PERM_W, PERM_R | PERM_X,
	PERM_R | PERM_W | PERM_SNP, PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP,
};

static bool perm_mappable(const struct conf *c, uint32_t perm)
{
	return walked_perm(c, perm) & (PERM_R | PERM_W);
}

static void test_roundtrip(void **state)
{
	struct conf *c = *state;
	const struct pt_cfg *cfg = &c->cfg;
	unsigned sizes = 0;

	for (unsigned s = 0; s < 64; s++) {
		uint64_t size = 1ull << s;
		uint64_t span_all = 1ull << (cfg->ias < 40 ? cfg->ias : 40);

		if (!(cfg->leaf_sizes & size) || size > span_all / 4)
			continue;
		for (size_t p = 0; p < sizeof(test_perms) / sizeof(test_perms[0]); p++) {
			uint32_t perm = test_perms[p];
			uint64_t iova = size * (1 + p), pa = size * (7 + 2 * p);
			struct collected *col;
			struct pt_leaf l;
			struct errbuf err;
			uint64_t mapped;

			/* formats with huge pages (amd-v1) may not fit
			 * 7 of them below the top of the IOVA space */
			if (!perm_mappable(c, perm) || pa + size > (1ull << cfg->oas) ||
			    (cfg->ias < 64 && ((iova + size - 1) >> cfg->ias)))
				continue;
			assert_int_equal(pt_map_pages(&c->m, iova, pa, s, 1, perm, &mapped, &err), 0);
			assert_int_equal(mapped, size);
			col = walk_all(c, NULL, NULL);
			assert_int_equal(col->nr_findings, 0);
			assert_int_equal(col->nr_leaves, 1);
			assert_int_equal(col->leaf[0].iova, iova);
			assert_int_equal(col->leaf[0].phys, pa);
			assert_int_equal(col->leaf[0].size, size);
			assert_int_equal(col->leaf[0].perm, walked_perm(c, perm));
			assert_int_equal(col->leaf[0].level, leaf_level_of(cfg, s));
			assert_true(pt_lookup(&c->m, iova + size / 2, &l));
			assert_int_equal(l.iova, iova);
			assert_int_equal(l.phys, pa);
			assert_int_equal(l.size, size);
			assert_int_equal(l.perm, col->leaf[0].perm);
			assert_int_equal(l.entry_addr, col->leaf[0].entry_addr);
			free(col);
			assert_int_equal(pt_unmap_pages(&c->m, iova, s, 1, -1, true), size);
			assert_false(pt_lookup(&c->m, iova, &l));
			sizes++;
		}
	}
	assert_true(sizes > 0);
	/* everything was freed again: only the root is left */
	assert_int_equal(c->m.tables_allocated - c->m.tables_freed, 1);
	assert_int_equal(arena_pages_in_use(c->arena), root_pages(c));
	/* make_table → decode points at the table, one level down (an
	 * address inside the output size, aligned to a granule) */
	for (unsigned l = 1; l < cfg->levels; l++) {
		uint64_t t = 0x123456000ull & ((1ull << cfg->oas) - 1) &
			     ~((1ull << cfg->granule_shift) - 1);
		struct pt_entry e;

		cfg->fmt->decode(cfg, l, 0, cfg->fmt->make_table(cfg, l, t), &e);
		assert_int_equal(e.kind, PTE_TABLE);
		assert_int_equal(e.addr, t);
		assert_int_equal(e.next_level, l - 1);
		assert_int_equal(e.reserved, 0);
	}
}

/* ---- 2. random map/unmap against a flat reference ---- */

struct ref_leaf {
	uint64_t iova, size, pa;
	uint32_t perm;
};

struct ref_map {
	struct ref_leaf *leaf;
	size_t nr, cap;
};

static struct ref_leaf *ref_find(struct ref_map *r, uint64_t iova)
{
	for (size_t i = 0; i < r->nr; i++)
		if (iova >= r->leaf[i].iova && iova - r->leaf[i].iova < r->leaf[i].size)
			return &r->leaf[i];
	return NULL;
}

static bool ref_overlaps(const struct ref_map *r, uint64_t iova, uint64_t size)
{
	for (size_t i = 0; i < r->nr; i++)
		if (iova < r->leaf[i].iova + r->leaf[i].size && r->leaf[i].iova < iova + size)
			return true;
	return false;
}

static void ref_add(struct ref_map *r, uint64_t iova, uint64_t size, uint64_t pa,
		    uint32_t perm)
{
	if (r->nr == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->leaf = realloc(r->leaf, r->cap * sizeof(*r->leaf));
		assert_non_null(r->leaf);
	}
	r->leaf[r->nr++] = (struct ref_leaf){ iova, size, pa, perm };
}

static void ref_remove(struct ref_map *r, struct ref_leaf *l)
{
	*l = r->leaf[--r->nr];
}

/* What the reference expects a split to produce: the size of the pieces,
 * 0 when the format cannot split this leaf. */
static uint64_t ref_split_size(const struct pt_cfg *cfg, uint64_t size)
{
	unsigned shift = (unsigned)__builtin_ctzll(size);
	int level = leaf_level_of(cfg, shift);
	unsigned piece;

	if (level < 0)
		return 0;
	if (shift > cfg->level_shift[level])
		piece = cfg->level_shift[level];           /* a run */
	else if (level > 0)
		piece = cfg->level_shift[level - 1];
	else
		return 0;
	return (cfg->leaf_sizes & (1ull << piece)) ? 1ull << piece : 0;
}

static uint64_t ref_unmap(const struct pt_cfg *cfg, struct ref_map *r, uint64_t iova,
			  uint64_t total, enum pt_partial_unmap policy)
{
	uint64_t done = 0;

	while (done < total) {
		uint64_t cur = iova + done, piece;
		struct ref_leaf *l = ref_find(r, cur), old;

		if (!l)
			break;
		old = *l;
		if (old.iova == cur && old.size <= total - done) {
			ref_remove(r, l);
			done += old.size;
		} else if (policy == PT_UNMAP_WHOLE_LEAF) {
			ref_remove(r, l);
			done += old.iova + old.size - cur;
		} else if (policy == PT_UNMAP_SPLIT && (piece = ref_split_size(cfg, old.size))) {
			ref_remove(r, l);
			for (uint64_t off = 0; off < old.size; off += piece)
				ref_add(r, old.iova + off, piece, old.pa + off, old.perm);
		} else {
			break;
		}
	}
	return done;
}

static int cmp_leaf_iova(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check_against_ref(struct conf *c, struct ref_map *r, bool batch)
{
	struct collected *col = walk_all_how(c, NULL, NULL, batch);

	assert_int_equal(col->nr_findings, 0);
	assert_int_equal(col->nr_leaves, r->nr);
	assert_true(r->nr <= MAX_LEAVES);
	qsort(r->leaf, r->nr, sizeof(r->leaf[0]), cmp_leaf_iova);
	for (size_t i = 0; i < r->nr; i++) {
		/* the walk is in IOVA order */
		assert_int_equal(col->leaf[i].iova, r->leaf[i].iova);
		assert_int_equal(col->leaf[i].size, r->leaf[i].size);
		assert_int_equal(col->leaf[i].phys, r->leaf[i].pa);
		assert_int_equal(col->leaf[i].perm, r->leaf[i].perm);
	}
	free(col);
}

static unsigned pick_pgshift(struct conf *c, uint64_t max_size)
{
	uint64_t sizes = c->cfg.leaf_sizes & (max_size | (max_size - 1));
	unsigned smallest = (unsigned)__builtin_ctzll(sizes), n = 0, pick;

	if (rnd_below(c, 10) < 6)
		return smallest;
	for (uint64_t s = sizes; s; s &= s - 1)
		n++;
	pick = (unsigned)rnd_below(c, n);
	for (uint64_t s = sizes;; s &= s - 1)
		if (pick-- == 0)
			return (unsigned)__builtin_ctzll(s);
}

static void test_random_vs_reference(void **state)
{
	struct conf *c = *state;
	const struct pt_cfg *cfg = &c->cfg;
	unsigned ias = cfg->ias < 32 ? cfg->ias : 32;
	uint64_t window = 1ull << ias, max_size = window / 4;
	unsigned opa = cfg->oas < 40 ? cfg->oas : 40;
	struct ref_map ref = { 0 };
	unsigned maps = 0, eexist = 0, unmapped_some = 0;

	for (int op = 0; op < 3000; op++) {
		unsigned pgshift = pick_pgshift(c, max_size);
		uint64_t pgsize = 1ull << pgshift;
		uint64_t count = 1 + rnd_below(c, pgshift <= 16 ? 16 : 3);
		uint64_t iova = rnd_below(c, window / pgsize - count) * pgsize;

		if (rnd_below(c, 10) < 6) {
			uint64_t pa = rnd_below(c, (1ull << opa) / pgsize - count) * pgsize;
			uint32_t perm = test_perms[rnd_below(c, sizeof(test_perms) / sizeof(test_perms[0]))];
			uint64_t mapped, want = 0;
			struct errbuf err;
			int ret, want_ret = 0;

			if (!perm_mappable(c, perm))
				perm |= PERM_R;
			for (uint64_t k = 0; k < count; k++) {
				if (ref_overlaps(&ref, iova + k * pgsize, pgsize)) {
					want_ret = -EEXIST;
					break;
				}
				ref_add(&ref, iova + k * pgsize, pgsize, pa + k * pgsize,
					walked_perm(c, perm));
				want += pgsize;
			}
			ret = pt_map_pages(&c->m, iova, pa, pgshift, count, perm, &mapped, &err);
			assert_int_equal(ret, want_ret);
			assert_int_equal(mapped, want);
			maps += ret == 0;
			eexist += ret == -EEXIST;
		} else {
			int override = (int)rnd_below(c, 4) - 1;
			enum pt_partial_unmap policy = override < 0 ? cfg->fmt->partial_unmap
				: (enum pt_partial_unmap)override;
			bool free_tables = rnd_below(c, 2);
			uint64_t want, got;

			if (rnd_below(c, 2) && ref.nr) {
				/* often start at a mapped page, possibly inside a leaf */
				struct ref_leaf *l = &ref.leaf[rnd_below(c, ref.nr)];

				iova = l->iova + (rnd_below(c, l->size / pgsize + 1) * pgsize) % l->size;
				iova &= ~(pgsize - 1);
			}
			want = ref_unmap(cfg, &ref, iova, count * pgsize, policy);
			got = pt_unmap_pages(&c->m, iova, pgshift, count, override, free_tables);
			assert_int_equal(got, want);
			unmapped_some += got != 0;
		}
		for (int k = 0; k < 4; k++) {
			uint64_t probe = rnd_below(c, window);
			struct ref_leaf *l = ref_find(&ref, probe);
			struct pt_leaf pl;
			bool found = pt_lookup(&c->m, probe, &pl);

			assert_int_equal(found, l != NULL);
			if (l) {
				assert_int_equal(pl.iova, l->iova);
				assert_int_equal(pl.size, l->size);
				assert_int_equal(pl.phys, l->pa);
				assert_int_equal(pl.perm, l->perm);
			}
		}
		if (op % 250 == 249)
			check_against_ref(c, &ref, op % 500 == 499);
	}
	check_against_ref(c, &ref, false);
	check_against_ref(c, &ref, true);
	/* the run exercised all three outcomes */
	assert_true(maps > 100);
	assert_true(eexist > 0);
	assert_true(unmapped_some > 100);
	free(ref.leaf);
}

/* Unmapping everything with free_tables gives every table back. */
static void test_free_tables(void **state)
{
	struct conf *c = *state;
	uint64_t small = c->cfg.leaf_sizes & -c->cfg.leaf_sizes;
	unsigned shift = (unsigned)__builtin_ctzll(small);
	struct errbuf err;
	uint64_t iovas[200];

	for (int i = 0; i < 200; i++) {
		uint64_t mapped;

		/* spread over many tables: a page every 2^(shift+13) bytes */
		iovas[i] = ((uint64_t)i * 37 % 200) << (shift + 13);
		if (iovas[i] >> c->cfg.ias)
			iovas[i] = (uint64_t)i << shift;
		assert_int_equal(pt_map_pages(&c->m, iovas[i], 0x1000000 + ((uint64_t)i << shift),
					      shift, 1, PERM_R | PERM_W, &mapped, &err), 0);
	}
	assert_true(c->m.tables_allocated > c->cfg.levels);
	for (int i = 0; i < 200; i++)
		assert_int_equal(pt_unmap_pages(&c->m, iovas[i], shift, 1, -1, true), small);
	assert_int_equal(c->m.tables_allocated - c->m.tables_freed, 1);
	assert_int_equal(arena_pages_in_use(c->arena), root_pages(c));
}

/* ---- 3. pt_pgsize against brute force ---- */

static uint64_t brute_pgsize(uint64_t bitmap, uint64_t iova, uint64_t pa,
			     uint64_t size, uint64_t *count)
{
	uint64_t merge = iova | pa, best = 0, next = 0;

	for (unsigned s = 0; s < 64; s++) {
		uint64_t p = 1ull << s;

		if ((bitmap & p) && p <= size && (merge == 0 || merge % p == 0))
			best = p;
	}
	if (!best)
		return *count = 0;
	for (unsigned s = 63; s > 0 && (1ull << s) > best; s--)
		if (bitmap & (1ull << s))
			next = 1ull << s;
	*count = size / best;
	if (next && (iova % next) == (pa % next)) {
		/* the first point where both are aligned to @next */
		for (unsigned __int128 k = 1; k <= size / best; k++) {
			unsigned __int128 at = (unsigned __int128)merge + k * best;

			if (at % next == 0) {
				if (k * best + next <= size)
					*count = (uint64_t)k;
				break;
			}
		}
	}
	return best;
}

static void test_pgsize(void **state)
{
	struct conf *c = *state;
	uint64_t bitmaps[] = {
		c->cfg.leaf_sizes,
		BIT(12) | BIT(21) | BIT(30),
		BIT(12) | BIT(16) | BIT(20) | BIT(24),      /* v7s */
		BITS(51, 12) ^ BIT(39),                       /* AMD v1 */
	};
	uint64_t count, got;
	int checked = 0;

	/* the worked example of formats.md §5.2 */
	got = pt_pgsize(BIT(12) | BIT(21) | BIT(30), 0x1ff000, 0x1ff000, 0x402000, &count);
	assert_int_equal(got, 0x1000);
	assert_int_equal(count, 1);
	got = pt_pgsize(BIT(12) | BIT(21) | BIT(30), 0x200000, 0x200000, 0x401000, &count);
	assert_int_equal(got, 0x200000);
	assert_int_equal(count, 2);
	got = pt_pgsize(BIT(12) | BIT(21) | BIT(30), 0x600000, 0x600000, 0x1000, &count);
	assert_int_equal(got, 0x1000);
	assert_int_equal(count, 1);
	assert_int_equal(pt_pgsize(BIT(12) | BIT(21), 0x1ff000, 0x1ff000, 0x402000, NULL), 0x1000);

	for (int i = 0; i < 20000; i++) {
		uint64_t bitmap = bitmaps[rnd_below(c, sizeof(bitmaps) / sizeof(bitmaps[0]))];
		unsigned align = 12 + (unsigned)rnd_below(c, 20);
		uint64_t iova = rnd_below(c, 1ull << 34) & ~((1ull << align) - 1);
		uint64_t pa = rnd_below(c, 2) ? iova + (rnd_below(c, 64) << 30)
			: rnd_below(c, 1ull << 34) & ~((1ull << (12 + rnd_below(c, 20))) - 1);
		uint64_t size = (1 + rnd_below(c, 1ull << (1 + rnd_below(c, 22)))) << 12;
		uint64_t bcount;
		uint64_t want = brute_pgsize(bitmap, iova, pa, size, &bcount);

		got = pt_pgsize(bitmap, iova, pa, size, &count);
		assert_int_equal(got, want);
		assert_int_equal(count, bcount);
		checked += want != 0;
	}
	assert_true(checked > 10000);
	/* overflow guard: at iova = pa = 0 the offset to the next size is
	 * 2^63 and offset + 2^63 wraps to 0; all pages must be counted */
	got = pt_pgsize(BIT(12) | BIT(63), 0, 0, 0x10000, &count);
	assert_int_equal(got, 0x1000);
	assert_int_equal(count, 16);
	/* no alignment limit when iova and pa are both 0 */
	assert_int_equal(pt_pgsize(BIT(12) | BIT(21), 0, 0, 0x400000, &count), 0x200000);
	assert_int_equal(count, 2);
	assert_int_equal(pt_pgsize(BIT(21), 0x1000, 0x1000, 0x400000, &count), 0);
}

/* pt_map_range splits like __iommu_map: the walk shows the pieces. */
static void test_map_range(void **state)
{
	struct conf *c = *state;
	const struct pt_cfg *cfg = &c->cfg;
	uint64_t small = cfg->leaf_sizes & -cfg->leaf_sizes;
	/* 0x1ff000 + 0x402000 in units of the smallest page */
	uint64_t iova = 0x1ff * small, size = 0x402 * small, mapped = 0;
	uint64_t at, left, count;
	struct collected *col;
	struct errbuf err;
	size_t n = 0;

	assert_int_equal(pt_map_range(&c->m, iova, iova, size, PERM_R | PERM_W, &mapped, &err), 0);
	assert_int_equal(mapped, size);
	col = walk_all(c, NULL, NULL);
	assert_int_equal(col->nr_findings, 0);
	for (at = iova, left = size; left;) {
		uint64_t pg = pt_pgsize(cfg->leaf_sizes, at, at, left, &count);

		assert_true(pg != 0 && count != 0);
		for (uint64_t k = 0; k < count; k++, n++) {
			assert_true(n < col->nr_leaves);
			assert_int_equal(col->leaf[n].iova, at + k * pg);
			assert_int_equal(col->leaf[n].size, pg);
		}
		at += count * pg;
		left -= count * pg;
	}
	assert_int_equal(n, col->nr_leaves);
	free(col);
	/* a conflict: the part mapped before it is unmapped again (phys
	 * aligned to the smallest page only, so formats with larger pages
	 * in between map small ones too) */
	assert_int_equal(pt_map_range(&c->m, iova - 3 * small, 0x9000000 + small, 4 * small,
				      PERM_R, &mapped, &err), -EEXIST);
	assert_int_equal(mapped, 3 * small);
	assert_false(pt_lookup(&c->m, iova - 3 * small, &(struct pt_leaf){ 0 }));
	assert_int_equal(pt_map_range(&c->m, 0x800, 0x800, 0x1000, PERM_R, &mapped, &err),
			 -EINVAL);
	assert_int_equal(pt_unmap_range(&c->m, iova, size, -1, true), size);
	assert_int_equal(c->m.tables_allocated - c->m.tables_freed, 1);
}

/* ---- 4. reserved bits: each one set in turn is a finding ---- */

/* Maps what makes an entry of the wanted kind at @level; returns its
 * physical address. */
static uint64_t make_entry(struct conf *c, unsigned level, bool leaf, uint64_t iova)
{
	const struct pt_cfg *cfg = &c->cfg;
	unsigned shift = leaf ? cfg->level_shift[level] : cfg->level_shift[0];
	uint64_t mapped;
	struct errbuf err;

	assert_true(cfg->leaf_sizes & (1ull << shift));
	assert_int_equal(pt_map_pages(&c->m, iova, 5ull << shift, shift, 1, PERM_R | PERM_W,
				      &mapped, &err), 0);
	return entry_pa_at(c, iova, level);
}

static void test_reserved(void **state)
{
	struct conf *c = *state;
	const struct pt_cfg *cfg = &c->cfg;
	unsigned rows = 0;

	if (!c->row->rsvd)
		skip();
	for (const struct conf_rsvd *r = c->row->rsvd; r->mask; r++, rows++) {
		uint64_t iova = (uint64_t)(rows + 1) << cfg->level_shift[cfg->levels - 1];
		uint64_t pa, orig;
		struct pt_entry e0;

		if (iova >> cfg->ias)
			iova = (uint64_t)(rows + 1) << (cfg->level_shift[r->level] + 1);
		pa = make_entry(c, r->level, r->leaf, iova);
		orig = entry_get(c, pa);
		cfg->fmt->decode(cfg, r->level, iova, orig, &e0);
		assert_int_equal(e0.kind, r->leaf ? PTE_LEAF : PTE_TABLE);
		assert_int_equal(e0.reserved, 0);
		for (unsigned b = 0; b < 64; b++) {
			uint64_t bit = 1ull << b, raw = orig ^ bit;
			struct pt_entry e;

			cfg->fmt->decode(cfg, r->level, iova, raw, &e);
			if (r->mask & bit) {
				char needle[40];
				struct collected *col;

				/* only set bits are reserved; the entry has it clear */
				assert_int_equal(orig & bit, 0);
				assert_true(e.reserved & bit);
				entry_set(c, pa, raw);
				col = walk_all(c, NULL, NULL);
				snprintf(needle, sizeof(needle), "reserved bits 0x%llx",
					 (unsigned long long)(e.reserved));
				if (!has_finding(col, ".reserved", pa, needle))
					fail_msg("%s level %u %s: bit %u not reported",
						 c->row->name, r->level, r->leaf ? "leaf" : "table", b);
				free(col);
				entry_set(c, pa, orig);
			} else if (e.kind == e0.kind &&
				   (e.kind != PTE_LEAF || e.size_shift == e0.size_shift)) {
				/* a bit that is not reserved must not be reported */
				if (e.reserved)
					fail_msg("%s level %u %s: bit %u reported as reserved (0x%llx)",
						 c->row->name, r->level, r->leaf ? "leaf" : "table", b,
						 (unsigned long long)e.reserved);
			}
		}
		assert_int_equal(pt_unmap_pages(&c->m, iova & ~((1ull << cfg->level_shift[r->level]) - 1),
						cfg->level_shift[r->leaf ? r->level : 0], 1, -1, true) != 0, 1);
	}
	assert_true(rows > 0);
}

/* ---- 5. structure: shared tables, loops, pointers outside memory ---- */

static void test_shared_and_loop(void **state)
{
	struct conf *c = *state;
	const struct pt_cfg *cfg = &c->cfg;
	const struct pt_format *fmt = cfg->fmt;
	unsigned top = cfg->levels - 1;
	uint64_t small = cfg->leaf_sizes & -cfg->leaf_sizes;
	uint64_t mapped, root_e0, root_e1, table1, l1e, l1e_orig;
	struct pt_entry e;
	struct collected *col;
	struct errbuf err;

	assert_int_equal(pt_map_pages(&c->m, 0, 0x5000000, __builtin_ctzll(small), 1,
				      PERM_R | PERM_W, &mapped, &err), 0);
	/* root entry 1 points at the same table as root entry 0 */
	root_e0 = entry_pa_at(c, 0, top);
	root_e1 = root_e0 + fmt->entry_size;
	fmt->decode(cfg, top, 0, entry_get(c, root_e0), &e);
	table1 = e.addr;
	entry_set(c, root_e1, fmt->make_table(cfg, top, table1));
	col = walk_all(c, NULL, NULL);
	assert_int_equal(col->nr_leaves, 1);
	assert_true(has_finding(col, ".table-shared", root_e1, "second time"));
	assert_int_equal(col->nr_findings, 1);
	assert_int_equal(col->finding[0].sev, SEV_WARNING);
	free(col);
	entry_set(c, root_e1, 0);

	/* an entry of the level-1 table points back to the root: a loop */
	l1e = entry_pa_at(c, 0, 1) + 3 * fmt->entry_size;
	l1e_orig = entry_get(c, l1e);
	entry_set(c, l1e, fmt->make_table(cfg, 1, c->m.root));
	col = walk_all(c, NULL, NULL);
	assert_int_equal(col->nr_leaves, 1);
	assert_true(has_finding(col, ".table-shared", l1e, "loop"));
	assert_int_equal(col->finding[0].sev, SEV_ERROR);
	free(col);
	/* and to its own table */
	entry_set(c, l1e, fmt->make_table(cfg, 1, entry_pa_at(c, 0, 1)));
	col = walk_all(c, NULL, NULL);
	assert_true(has_finding(col, ".table-shared", l1e, "loop"));
	free(col);
	entry_set(c, l1e, l1e_orig);

	/* a table pointer outside memory */
	entry_set(c, root_e1, fmt->make_table(cfg, top, OUTSIDE_PA));
	col = walk_all(c, NULL, NULL);
	assert_int_equal(col->nr_leaves, 1);
	assert_true(has_finding(col, ".table-outside", root_e1, "0x40000000"));
	assert_int_equal(col->nr_findings, 1);
	free(col);
}

/* ---- 6. caps on entries and tables end the walk with a finding ---- */

static void test_limits(void **state)
{
	struct conf *c = *state;
	uint64_t small = c->cfg.leaf_sizes & -c->cfg.leaf_sizes;
	unsigned shift = (unsigned)__builtin_ctzll(small);
	struct pt_limits lim = { 0 };
	struct pt_walk_stats stats;
	struct collected *col;
	struct errbuf err;
	uint64_t mapped;

	/* 100 pages in one table, 3 more tables far apart */
	assert_int_equal(pt_map_pages(&c->m, 0, 0x5000000, shift, 100, PERM_R, &mapped, &err), 0);
	for (uint64_t k = 1; k <= 3; k++)
		assert_int_equal(pt_map_pages(&c->m, k << (c->cfg.level_shift[1] + 2), 0x5000000,
					      shift, 1, PERM_R, &mapped, &err), 0);
	col = walk_all(c, NULL, &stats);
	assert_int_equal(col->nr_leaves, 103);
	assert_int_equal(col->nr_findings, 0);
	free(col);

	lim.max_entries = 10;
	col = walk_all(c, &lim, &stats);
	assert_true(col->nr_leaves < 10);
	assert_int_equal(col->nr_findings, 1);
	assert_non_null(strstr(col->finding[0].code, ".limit-entries"));
	free(col);

	lim.max_entries = 0;
	lim.max_tables = c->cfg.levels; /* root + one path */
	col = walk_all(c, &lim, &stats);
	assert_int_equal(stats.tables, c->cfg.levels);
	assert_int_equal(col->nr_leaves, 100);
	assert_int_equal(col->nr_findings, 1);
	assert_non_null(strstr(col->finding[0].code, ".limit-tables"));
	free(col);
}

/* ---- 7. cfg->addr_only keeps its promise (the fast paths rely on it) ---- */

static bool same_entry(const struct pt_entry *a, const struct pt_entry *b)
{
	return a->kind == b->kind && a->addr == b->addr && a->next_level == b->next_level &&
	       a->size_shift == b->size_shift && a->perm == b->perm &&
	       a->reserved == b->reserved;
}

static void test_addr_only(void **state)
{
	struct conf *c = *state;
	const struct pt_cfg *cfg = &c->cfg;
	const struct pt_format *f = cfg->fmt;
	unsigned checked = 0;

	for (unsigned l = 0; l < cfg->levels; l++) {
		uint64_t ao = cfg->addr_only[l];
		uint64_t raws[2];
		unsigned n = 0;

		if (!ao)
			continue;
		if (cfg->leaf_sizes & (1ull << cfg->level_shift[l]))
			raws[n++] = f->make_leaf(cfg, l, 0, 0, cfg->level_shift[l], PERM_R | PERM_W);
		if (l > 0)
			raws[n++] = f->make_table(cfg, l, 0);
		for (unsigned k = 0; k < n; k++) {
			struct pt_entry base, other;

			f->decode(cfg, l, 0, raws[k], &base);
			assert_int_equal(base.reserved, 0);
			/* the same at another IOVA */
			f->decode(cfg, l, 5ull << cfg->level_shift[l], raws[k], &other);
			assert_true(same_entry(&base, &other));
			for (unsigned b = 0; b < 64; b++) {
				uint64_t bit = 1ull << b;

				if (!(ao & bit))
					continue;
				f->decode(cfg, l, 0, raws[k] | bit, &other);
				base.addr |= bit;
				assert_true(same_entry(&base, &other));
				base.addr &= ~bit;
				/* encoders put the bit where decode takes it */
				if (k == 0 && base.kind == PTE_LEAF)
					assert_int_equal(f->make_leaf(cfg, l, 0, bit, cfg->level_shift[l],
								      PERM_R | PERM_W), raws[k] | bit);
				else
					assert_int_equal(f->make_table(cfg, l, bit), raws[k] | bit);
				checked++;
			}
		}
	}
	if (!checked)
		skip();
}

/* ---- registration: every test for every row ---- */

struct conf_test {
	const char *name;
	CMUnitTestFunction fn;
};

static const struct conf_test conf_tests[] = {
	{ "roundtrip", test_roundtrip },
	{ "random-vs-reference", test_random_vs_reference },
	{ "free-tables", test_free_tables },
	{ "pgsize", test_pgsize },
	{ "map-range", test_map_range },
	{ "reserved", test_reserved },
	{ "shared-and-loop", test_shared_and_loop },
	{ "limits", test_limits },
	{ "addr-only", test_addr_only },
};
#define NR_CONF_TESTS (sizeof(conf_tests) / sizeof(conf_tests[0]))

int main(void)
{
	struct CMUnitTest tests[NR_CONF_FORMATS * NR_CONF_TESTS];
	char names[NR_CONF_FORMATS * NR_CONF_TESTS][96];
	size_t n = 0;

	for (size_t f = 0; f < NR_CONF_FORMATS; f++)
		for (size_t t = 0; t < NR_CONF_TESTS; t++, n++) {
			const struct conf_format *row = &conf_formats[f];

			snprintf(names[n], sizeof(names[n]), "%s/%ulevels/%s",
				 row->name, row->levels, conf_tests[t].name);
			tests[n] = (struct CMUnitTest){
				.name = names[n], .test_func = conf_tests[t].fn,
				.setup_func = conf_setup, .teardown_func = conf_teardown,
				.initial_state = (void *)row,
			};
		}
	return _cmocka_run_group_tests("pt_conformance", tests, n, NULL, NULL);
}
