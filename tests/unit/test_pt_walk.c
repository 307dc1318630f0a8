/* The walker's format-independent behaviour, driven by a toy codec that
 * can express what no single real format does: runs of any length, level
 * skipping, undecodable entries, misaligned outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/pt.h"

/* Toy entry: bit 0 present, bit 1 leaf; leaf: bits 7:2 log2 size; table:
 * bits 4:2 next level; bits 9:8 R/W (a mask for tables); 51:12 address;
 * bit 62 reserved; bit 63 makes the entry undecodable. */
#define TOY_V      (1ull << 0)
#define TOY_LEAF   (1ull << 1)
#define TOY_R      (1ull << 8)
#define TOY_W      (1ull << 9)
#define TOY_RSVD   (1ull << 62)
#define TOY_BAD    (1ull << 63)
#define TOY_ADDR   0x000ffffffffff000ull

static int toy_init(struct pt_cfg *cfg, struct errbuf *err)
{
	for (unsigned l = 0; l < cfg->levels; l++) {
		cfg->level_shift[l] = 12 + 9 * l;
		cfg->level_bits[l] = 9;
	}
	if (cfg->flags & 1) /* a 16 KiB root, like a concatenated LPAE one */
		cfg->level_bits[cfg->levels - 1] = 11;
	cfg->leaf_sizes = (1ull << 12) | (1ull << 14) | (1ull << 21) | (1ull << 23) |
			  (1ull << 30);
	return 0;
}

static void toy_decode(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
		       uint64_t raw, struct pt_entry *out)
{
	*out = (struct pt_entry){ .kind = PTE_EMPTY };
	if (!(raw & TOY_V))
		return;
	if (raw & TOY_BAD) {
		out->kind = PTE_INVALID;
		out->problem = "toy says no";
		return;
	}
	out->addr = raw & TOY_ADDR;
	out->perm = (raw & TOY_R ? PERM_R : 0) | (raw & TOY_W ? PERM_W : 0);
	out->reserved = raw & TOY_RSVD;
	if (raw & TOY_LEAF) {
		out->kind = PTE_LEAF;
		out->size_shift = (raw >> 2) & 0x3f;
	} else {
		out->kind = PTE_TABLE;
		out->next_level = (raw >> 2) & 7;
	}
}

static uint64_t toy_make_table(const struct pt_cfg *cfg, unsigned level, uint64_t pa)
{
	return pa | TOY_V | TOY_R | TOY_W | ((uint64_t)(level - 1) << 2);
}

static uint64_t toy_make_leaf(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
			      uint64_t pa, unsigned size_shift, uint32_t perm)
{
	return pa | TOY_V | TOY_LEAF | ((uint64_t)size_shift << 2) |
	       (perm & PERM_R ? TOY_R : 0) | (perm & PERM_W ? TOY_W : 0);
}

static const struct pt_format toy_fmt = {
	.name = "toy", .code_prefix = "toy.pte", .entry_size = 8,
	.partial_unmap = PT_UNMAP_SPLIT,
	.init = toy_init, .decode = toy_decode,
	.make_table = toy_make_table, .make_leaf = toy_make_leaf,
};

static uint64_t leaf(uint64_t pa, unsigned size_shift)
{
	return toy_make_leaf(NULL, 0, 0, pa, size_shift, PERM_R | PERM_W);
}

static uint64_t table(uint64_t pa, unsigned next_level)
{
	return pa | TOY_V | TOY_R | TOY_W | ((uint64_t)next_level << 2);
}

/* ---- fixture: root (level 2) → l1 table → l0 table, built by hand ---- */

struct toy {
	struct pt_cfg cfg;
	struct arena *arena;
	struct physmem *pm;
	uint64_t root, l1, l0;
	/* collected */
	struct pt_leaf leaves[64];
	size_t nr_leaves;
	struct {
		char code[64], path[128], message[256];
		uint64_t addr;
		enum severity sev;
		bool has_dev;
		struct dev_ref dev;
		int64_t pasid;
	} findings[16];
	size_t nr_findings;
	struct sink sink;
	int stop_after;          /* leaf callback returns -EINTR at this count */
	int64_t xlate_offset;    /* table "IPA" = pa + offset */
	uint64_t xlate_fail;     /* this IPA does not translate */
};

static uint64_t *slot(struct toy *t, uint64_t table_pa, uint64_t i)
{
	return (uint64_t *)arena_page(t->arena, table_pa) + i;
}

static int setup(void **state)
{
	struct toy *t = calloc(1, sizeof(*t));
	struct errbuf err;

	assert_non_null(t);
	assert_int_equal(pt_cfg_init(&t->cfg, &toy_fmt, 3, 39, 52, 12, 0, &err), 0);
	t->arena = arena_new(0x100000, 64ull << 20);
	assert_non_null(t->arena);
	t->root = arena_alloc_page(t->arena);
	t->l1 = arena_alloc_page(t->arena);
	t->l0 = arena_alloc_page(t->arena);
	*slot(t, t->root, 0) = table(t->l1, 1);
	*slot(t, t->l1, 0) = table(t->l0, 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct toy *t = *state;

	if (t->pm)
		physmem_free(t->pm);
	arena_free(t->arena);
	free(t);
	return 0;
}

static int on_leaf(void *ctx, const struct pt_leaf *l)
{
	struct toy *t = ctx;

	if (t->nr_leaves < 64)
		t->leaves[t->nr_leaves] = *l;
	t->nr_leaves++;
	if (t->stop_after && (int)t->nr_leaves == t->stop_after)
		return -EINTR;
	return 0;
}

static int on_finding(struct sink *s, const struct finding *f)
{
	struct toy *t = (struct toy *)(void *)((char *)s - offsetof(struct toy, sink));

	if (t->nr_findings < 16) {
		snprintf(t->findings[t->nr_findings].code, 64, "%s", f->code);
		snprintf(t->findings[t->nr_findings].path, 128, "%s", f->path);
		snprintf(t->findings[t->nr_findings].message, 256, "%s", f->message);
		t->findings[t->nr_findings].addr = f->addr;
		t->findings[t->nr_findings].sev = f->severity;
		t->findings[t->nr_findings].has_dev = f->has_dev;
		t->findings[t->nr_findings].dev = f->dev;
		t->findings[t->nr_findings].pasid = f->pasid;
	}
	t->nr_findings++;
	return 0;
}

static int xlate(void *ctx, uint64_t ipa, uint64_t *pa)
{
	struct toy *t = ctx;

	if (ipa == t->xlate_fail)
		return -EFAULT;
	*pa = ipa - (uint64_t)t->xlate_offset;
	return 0;
}

static const struct dev_ref test_dev = { .id = 0x0318, .segment = 0, .pci = true };

static struct pt_walk toy_walk(struct toy *t)
{
	struct errbuf err;

	t->nr_leaves = 0;
	t->nr_findings = 0;
	t->sink.finding = on_finding;
	if (t->pm)
		physmem_free(t->pm);
	assert_int_equal(arena_physmem(t->arena, &t->pm, &err), 0);
	return (struct pt_walk){
		.cfg = &t->cfg, .mem = t->pm, .root = t->root, .leaf = on_leaf,
		.ctx = t, .findings = &t->sink, .path_prefix = "ctx[0x18]",
		.dev = &test_dev, .pasid = 5,
	};
}

static int run(struct toy *t, struct pt_walk *w)
{
	struct errbuf err;
	int ret = pt_walk(w, &err);

	assert_int_equal(w->stats.leaves, t->nr_leaves);
	assert_int_equal(w->stats.findings, t->nr_findings);
	return ret;
}

static int walk_ok(struct toy *t)
{
	struct pt_walk w = toy_walk(t);

	assert_int_equal(run(t, &w), 0);
	return 0;
}

static int find(struct toy *t, const char *code)
{
	for (size_t i = 0; i < t->nr_findings && i < 16; i++)
		if (strcmp(t->findings[i].code, code) == 0)
			return (int)i;
	return -1;
}

static void release(void **state)
{
	struct toy *t = *state;

	if (t->pm)
		physmem_free(t->pm);
	t->pm = NULL;
}

/* ---- tests ---- */

static void test_run_ok(void **state)
{
	struct toy *t = *state;

	/* a 16 KiB page as 4 entries at index 4..7, then a 4 KiB page */
	for (int k = 0; k < 4; k++)
		*slot(t, t->l0, 4 + k) = leaf(0x800000 + 0x1000 * k, 14);
	*slot(t, t->l0, 8) = leaf(0x900000, 12);
	walk_ok(t);
	assert_int_equal(t->nr_findings, 0);
	assert_int_equal(t->nr_leaves, 2);
	assert_int_equal(t->leaves[0].iova, 0x4000);
	assert_int_equal(t->leaves[0].phys, 0x800000);
	assert_int_equal(t->leaves[0].size, 0x4000);
	assert_int_equal(t->leaves[0].entry_addr, t->l0 + 4 * 8);
	assert_int_equal(t->leaves[1].iova, 0x8000);
	release(state);
}

static void test_run_misaligned_start(void **state)
{
	struct toy *t = *state;
	int f;

	for (int k = 0; k < 4; k++)
		*slot(t, t->l0, 9 + k) = leaf(0x800000 + 0x1000 * k, 14);
	walk_ok(t);
	f = find(t, "toy.pte.run-inconsistent");
	assert_true(f >= 0);
	assert_int_equal(t->findings[f].addr, t->l0 + 9 * 8);
	assert_string_equal(t->findings[f].path, "ctx[0x18]/l2[0x000]/l1[0x000]/l0[0x009]");
	assert_non_null(strstr(t->findings[f].message, "aligned"));
	assert_true(t->findings[f].has_dev);
	assert_int_equal(t->findings[f].dev.id, 0x0318);
	assert_int_equal(t->findings[f].pasid, 5);
	/* every entry is still reported, each as a 4 KiB page */
	assert_int_equal(t->nr_leaves, 4);
	for (int k = 0; k < 4; k++) {
		assert_int_equal(t->leaves[k].iova, 0x9000 + 0x1000 * k);
		assert_int_equal(t->leaves[k].size, 0x1000);
		assert_int_equal(t->leaves[k].phys, 0x800000 + 0x1000 * k);
	}
	release(state);
}

static void test_run_inconsistent(void **state)
{
	struct toy *t = *state;

	for (int k = 0; k < 4; k++)
		*slot(t, t->l0, 4 + k) = leaf(0x800000 + 0x1000 * k, 14);
	*slot(t, t->l0, 6) = leaf(0x700000, 14); /* breaks the address sequence */
	walk_ok(t);
	assert_int_equal(t->nr_findings, 1);
	assert_true(find(t, "toy.pte.run-inconsistent") == 0);
	assert_int_equal(t->findings[0].sev, SEV_ERROR);
	assert_int_equal(t->nr_leaves, 4);
	assert_int_equal(t->leaves[2].phys, 0x700000);
	assert_int_equal(t->leaves[3].size, 0x1000);
	release(state);

	/* a run member of another size */
	*slot(t, t->l0, 6) = leaf(0x802000, 12);
	walk_ok(t);
	assert_int_equal(t->nr_findings, 1);
	assert_int_equal(t->nr_leaves, 4);
	release(state);
}

static void test_window_inside_run(void **state)
{
	struct toy *t = *state;
	struct pt_walk w;

	for (int k = 0; k < 4; k++)
		*slot(t, t->l0, 4 + k) = leaf(0x800000 + 0x1000 * k, 14);
	*slot(t, t->l0, 20) = leaf(0x900000, 12);
	*slot(t, t->l0, 21) = leaf(0x901000, 12);
	w = toy_walk(t);
	w.iova_first = 0x6000;  /* third entry of the run */
	w.iova_last = 0x14fff;  /* entry 20 only */
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->nr_findings, 0);
	assert_int_equal(t->nr_leaves, 2);
	assert_int_equal(t->leaves[0].iova, 0x4000);
	assert_int_equal(t->leaves[0].size, 0x4000);
	assert_int_equal(t->leaves[1].iova, 0x14000);
	/* a window past all mappings */
	w = toy_walk(t);
	w.iova_first = 0x100000;
	w.iova_last = 0x1fffff;
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->nr_leaves, 0);
	/* an inverted window is an error */
	w = toy_walk(t);
	w.iova_first = 0x2000;
	w.iova_last = 0x1000;
	assert_true(pt_walk(&w, NULL) < 0);
	release(state);
}

static void test_level_skip(void **state)
{
	struct toy *t = *state;
	uint64_t skip = arena_alloc_page(t->arena);
	int f;

	/* root entry 1 (1 GiB) points straight at a level-0 table */
	*slot(t, t->root, 1) = table(skip, 0);
	*slot(t, skip, 3) = leaf(0xa00000, 12);
	/* root entry 2 claims a level-2 table: not below level 2 */
	*slot(t, t->root, 2) = table(skip, 2);
	walk_ok(t);
	assert_int_equal(t->nr_leaves, 1);
	assert_int_equal(t->leaves[0].iova, (1ull << 30) + 0x3000);
	assert_int_equal(t->leaves[0].level, 0);
	f = find(t, "toy.pte.invalid");
	assert_true(f >= 0);
	assert_int_equal(t->findings[f].addr, t->root + 2 * 8);
	assert_string_equal(t->findings[f].path, "ctx[0x18]/l2[0x002]");
	assert_int_equal(t->nr_findings, 1);
	release(state);
}

static void test_entry_problems(void **state)
{
	struct toy *t = *state;
	int f;

	*slot(t, t->l1, 1) = leaf(0x201000, 21);             /* misaligned 2 MiB */
	*slot(t, t->l1, 2) = leaf(0x400000, 21) | TOY_RSVD;  /* reserved bit */
	*slot(t, t->l0, 0) = leaf(0x1000, 12) | TOY_BAD;     /* undecodable */
	for (int k = 0; k < 16; k++)                         /* 64 KiB: no such size */
		*slot(t, t->l0, 16 + k) = leaf(0x800000 + 0x1000 * k, 16);
	*slot(t, t->l0, 40) = table(0x300000, 0);            /* table at level 0 */
	walk_ok(t);
	f = find(t, "toy.pte.misaligned");
	assert_true(f >= 0);
	assert_int_equal(t->findings[f].addr, t->l1 + 8);
	assert_int_equal(t->findings[f].sev, SEV_WARNING);
	f = find(t, "toy.pte.reserved");
	assert_true(f >= 0);
	assert_non_null(strstr(t->findings[f].message, "0x4000000000000000"));
	f = find(t, "toy.pte.invalid");
	assert_true(f >= 0);
	assert_non_null(strstr(t->findings[f].message, "toy says no"));
	f = find(t, "toy.pte.leaf-size");
	assert_true(f >= 0);
	assert_int_equal(t->findings[f].addr, t->l0 + 16 * 8);
	assert_int_equal(t->nr_findings, 5);
	/* the reserved and invalid entries are not mapped; the others are */
	assert_int_equal(t->nr_leaves, 2);
	assert_int_equal(t->leaves[0].size, 0x10000);
	assert_int_equal(t->leaves[1].iova, 0x200000);
	release(state);
}

static void test_perm_and(void **state)
{
	struct toy *t = *state;

	*slot(t, t->l1, 0) = (table(t->l0, 0) & ~TOY_W);  /* read-only below */
	*slot(t, t->l0, 1) = leaf(0x5000, 12);
	*slot(t, t->l1, 5) = leaf(0xa00000, 21);
	walk_ok(t);
	assert_int_equal(t->nr_leaves, 2);
	assert_int_equal(t->leaves[0].perm, PERM_R);
	assert_int_equal(t->leaves[1].perm, PERM_R | PERM_W);
	release(state);
}

static void test_iova_base_and_xlate(void **state)
{
	struct toy *t = *state;
	const int64_t off = 0x40000000;
	struct pt_walk w;
	int f;

	/* tables hold "IPAs" that are pa + off */
	*slot(t, t->root, 0) = table(t->l1 + off, 1);
	*slot(t, t->l1, 0) = table(t->l0 + off, 0);
	*slot(t, t->l1, 1) = table(0x7770000 + off, 0);
	*slot(t, t->l0, 2) = leaf(0x5000, 12);
	t->xlate_offset = off;
	t->xlate_fail = 0x7770000 + off;
	w = toy_walk(t);
	w.root = t->root + off;
	w.iova_base = 0xffff800000000000ull;
	w.xlate_table = xlate;
	w.xlate_ctx = t;
	assert_int_equal(run(t, &w), 0);
	assert_int_equal(t->nr_leaves, 1);
	assert_int_equal(t->leaves[0].iova, 0xffff800000002000ull);
	assert_int_equal(t->leaves[0].entry_addr, t->l0 + 2 * 8);
	f = find(t, "toy.pte.table-xlate");
	assert_true(f >= 0);
	assert_int_equal(t->findings[f].addr, t->l1 + 8);
	assert_int_equal(t->nr_findings, 1);
	/* the root itself not translating is an error */
	w = toy_walk(t);
	w.root = 0x7770000 + off;
	w.xlate_table = xlate;
	w.xlate_ctx = t;
	assert_true(pt_walk(&w, NULL) < 0);
	release(state);
}

static void test_stops(void **state)
{
	struct toy *t = *state;
	struct errbuf err;
	struct pt_walk w;

	for (int k = 0; k < 10; k++)
		*slot(t, t->l0, k) = leaf(0x100000 + 0x1000 * k, 12);
	t->stop_after = 3;
	w = toy_walk(t);
	assert_int_equal(pt_walk(&w, &err), -EINTR);
	assert_int_equal(t->nr_leaves, 3);
	assert_non_null(strstr(err.msg, "0x2000"));
	t->stop_after = 0;
	/* a root outside memory is an error, not a finding */
	w = toy_walk(t);
	w.root = 0x7ff00000;
	assert_int_equal(pt_walk(&w, &err), -EFAULT);
	assert_non_null(strstr(err.msg, "0x7ff00000"));
	assert_int_equal(t->nr_findings, 0);
	release(state);
}

static void test_mapper_runs(void **state)
{
	struct toy *t = *state;
	struct pt_mapper m;
	struct pt_leaf l;
	struct errbuf err;
	uint64_t mapped;

	/* the mapper writes runs entry by entry; the walker joins them */
	assert_int_equal(pt_mapper_init(&m, &t->cfg, t->arena, &err), 0);
	assert_int_equal(pt_map_pages(&m, 0x10000, 0x340000, 14, 2, PERM_R, &mapped, &err), 0);
	assert_int_equal(pt_map_pages(&m, 0x800000, 0x1000000, 23, 1, PERM_W, &mapped, &err), 0);
	assert_int_equal(pt_map_pages(&m, 0x14000, 0x1000, 12, 1, PERM_R, &mapped, &err), -EEXIST);
	assert_true(pt_lookup(&m, 0x16000, &l));
	assert_int_equal(l.iova, 0x14000);
	assert_int_equal(l.phys, 0x344000);
	assert_int_equal(l.size, 0x4000);
	t->root = m.root;
	walk_ok(t);
	assert_int_equal(t->nr_findings, 0);
	assert_int_equal(t->nr_leaves, 3);
	assert_int_equal(t->leaves[2].iova, 0x800000);
	assert_int_equal(t->leaves[2].size, 0x800000);
	/* a partial unmap splits the 8 MiB run into 2 MiB leaves (SPLIT) */
	assert_int_equal(pt_unmap_pages(&m, 0xa00000, 21, 1, -1, true), 0x200000);
	walk_ok(t);
	assert_int_equal(t->nr_leaves, 5);
	assert_int_equal(t->leaves[2].size, 0x200000);
	assert_int_equal(t->leaves[3].iova, 0xc00000);
	assert_int_equal(t->leaves[3].phys, 0x1400000);
	/* REFUSE keeps the 16 KiB page; WHOLE_LEAF removes it all */
	assert_int_equal(pt_unmap_pages(&m, 0x10000, 12, 1, PT_UNMAP_REFUSE, true), 0);
	assert_int_equal(pt_unmap_pages(&m, 0x11000, 12, 1, PT_UNMAP_WHOLE_LEAF, true), 0x3000);
	assert_false(pt_lookup(&m, 0x10000, &l));
	release(state);
}

/* Batched leaves arrive in the same order, and findings only after the
 * leaves before them. */
struct batch_log {
	char ev[512][48];
	size_t n;
	struct sink sink;
};

static int log_leaves(void *ctx, const struct pt_leaf *l, size_t n)
{
	struct batch_log *b = ctx;

	for (size_t i = 0; i < n && b->n < 512; i++)
		snprintf(b->ev[b->n++], 48, "leaf %llx %llx %llx", (unsigned long long)l[i].iova,
			 (unsigned long long)l[i].phys, (unsigned long long)l[i].size);
	return 0;
}

static int log_leaf(void *ctx, const struct pt_leaf *l)
{
	return log_leaves(ctx, l, 1);
}

static int log_finding(struct sink *s, const struct finding *f)
{
	struct batch_log *b = (struct batch_log *)(void *)((char *)s - offsetof(struct batch_log, sink));

	if (b->n < 512)
		snprintf(b->ev[b->n++], 48, "finding %s", f->code);
	return 0;
}

static void test_batch_order(void **state)
{
	struct toy *t = *state;
	struct batch_log *one = calloc(1, sizeof(*one)), *many = calloc(1, sizeof(*many));
	struct pt_walk w;

	assert_non_null(one);
	assert_non_null(many);
	for (int k = 0; k < 150; k++)   /* more than one batch before a finding */
		*slot(t, t->l0, k) = leaf(0x100000 + 0x1000 * k, 12);
	*slot(t, t->l0, 150) = leaf(0x1000, 12) | TOY_RSVD;
	for (int k = 151; k < 300; k++)
		*slot(t, t->l0, k) = leaf(0x100000 + 0x1000 * k, 12);
	*slot(t, t->l1, 3) = leaf(0x600000, 21);
	one->sink.finding = log_finding;
	many->sink.finding = log_finding;
	w = toy_walk(t);
	w.leaf = log_leaf;
	w.ctx = one;
	w.findings = &one->sink;
	assert_int_equal(pt_walk(&w, NULL), 0);
	w = toy_walk(t);
	w.leaf = NULL;
	w.leaves = log_leaves;
	w.ctx = many;
	w.findings = &many->sink;
	assert_int_equal(pt_walk(&w, NULL), 0);
	assert_int_equal(one->n, 301);
	assert_int_equal(many->n, one->n);
	assert_string_equal(one->ev[150], "finding toy.pte.reserved");
	for (size_t i = 0; i < one->n; i++)
		assert_string_equal(many->ev[i], one->ev[i]);
	free(one);
	free(many);
	release(state);
}

/* A root bigger than a page: allocated as an aligned run of pages,
 * written page by page, read by the walker in one piece. */
static void test_big_root(void **state)
{
	struct toy *t = *state;
	struct pt_cfg cfg;
	struct pt_mapper m;
	struct pt_leaf l;
	struct errbuf err;
	uint64_t mapped, iova = 1500ull << 30, before = arena_pages_in_use(t->arena);

	assert_int_equal(pt_cfg_init(&cfg, &toy_fmt, 3, 41, 52, 12, 1, &err), 0);
	assert_int_equal(pt_mapper_init(&m, &cfg, t->arena, &err), 0);
	assert_int_equal(m.root & 0x3fff, 0);
	assert_int_equal(arena_pages_in_use(t->arena), before + 4);
	assert_int_equal(pt_map_pages(&m, iova, 0x200000, 21, 1, PERM_R, &mapped, &err), 0);
	assert_int_equal(pt_map_pages(&m, 3ull << 30, 0x400000, 12, 1, PERM_R, &mapped, &err), 0);
	assert_true(pt_lookup(&m, iova + 0x1234, &l));
	assert_int_equal(l.phys, 0x200000);
	t->cfg = cfg;
	t->root = m.root;
	walk_ok(t);
	assert_int_equal(t->nr_findings, 0);
	assert_int_equal(t->nr_leaves, 2);
	assert_int_equal(t->leaves[1].iova, iova);
	assert_int_equal(t->leaves[1].level, 1);
	/* root entry 1500 lives in the root's third page */
	assert_true(*slot(t, m.root + 0x2000, 0xee0 / 8) != 0);
	assert_int_equal(pt_unmap_pages(&m, iova, 21, 1, -1, true), 0x200000);
	assert_int_equal(pt_unmap_pages(&m, 3ull << 30, 12, 1, -1, true), 0x1000);
	assert_int_equal(m.tables_allocated - m.tables_freed, 1);
	release(state);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_run_ok),
		T(test_run_misaligned_start),
		T(test_run_inconsistent),
		T(test_window_inside_run),
		T(test_level_skip),
		T(test_entry_problems),
		T(test_perm_and),
		T(test_iova_base_and_xlate),
		T(test_stops),
		T(test_mapper_runs),
		T(test_batch_order),
		T(test_big_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
