/* Walker speed per page-table format.  For each workload: build the table
 * tree through the real codec (pt_map_pages / pt_map_range into an arena),
 * then time, in the same rounds,
 *   - pt_walk with the batched `leaves` callback (what the dump layer uses),
 *   - pt_walk with the per-leaf `leaf` callback,
 *   - pt_walk with no callback (validation only),
 *   - a plain read of the same table bytes through the same physmem, summed
 *     (the floor a walk cannot beat),
 * and print entries (PTEs/descriptors) per second and each walk's time as a
 * ratio to the plain read.  The ratios are the numbers to compare between
 * runs and machines; the rates depend on the machine.
 *
 * Times are this thread's CPU time, best of the rounds, and the variants
 * take turns inside each round, so a machine shared with other jobs
 * disturbs them less (and all of them alike).  There are at least ROUNDS
 * rounds (default 20), more until the workload has had a second of CPU
 * time (at most 500); each variant's median is printed beside its best to
 * show how disturbed the run was.
 *
 * Workloads (-n sets the mapping count, default 1,000,000):
 *   vtd-ss    n 4 KiB pages + 256 2 MiB + 4 1 GiB
 *   amd-v1    n mappings of mixed sizes 4 KiB..1 MiB (NextLevel=7 runs above
 *             4 KiB) with the alignment holes they leave, + 256 2 MiB,
 *             16 4 MiB (a NextLevel=7 run of two 2 MiB entries) and 4 1 GiB
 *   lpae-4k   stage 1: n 4 KiB pages + 256 2 MiB + 4 1 GiB blocks
 *   lpae-16k  stage 1: n 16 KiB pages + 256 32 MiB blocks
 *   lpae-64k  stage 1: n 64 KiB pages + 256 512 MiB blocks
 *             (one table tree per granule; "lpae" selects all three)
 * Usage: bench_walk [-n MAPPINGS] [-r ROUNDS] [all | FORMAT...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decoders/amd_defs.h"
#include "decoders/pt.h"
#include "decoders/pt_pgsize.h"

#define RW (PERM_R | PERM_W)

#define MAX_ROUNDS 500
#define MIN_CPU_SECONDS 1.0

enum variant { V_BATCHED, V_PER_LEAF, V_VALIDATE, V_READ, NR_VARIANTS };

struct result {
	const char *name;
	uint64_t entries, leaves;
	double best[NR_VARIANTS]; /* seconds */
};

/* Builds the workload's mappings into @m; *mappings = how many leaves the
 * walk must find. */
typedef int (*build_fn)(struct pt_mapper *m, uint64_t n, uint64_t *mappings,
			struct errbuf *err);

struct workload {
	const char *name;  /* selector, exact match */
	const char *group; /* also selected by this name; may be NULL */
	const struct pt_format *fmt;
	unsigned levels, ias, oas, granule_shift;
	uint64_t flags;
	build_fn build;
};

struct walk_census {
	uint64_t leaves, sum;
	uint64_t by_shift[64];
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *size_name(unsigned shift, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned u = shift < 10 ? 0 : (shift - 10) / 10;

	if (shift < 10)
		snprintf(buf, len, "%u", 1u << shift);
	else
		snprintf(buf, len, "%llu%c",
			 (unsigned long long)1 << (shift - 10 - 10 * u), units[u]);
	return buf;
}

/* ---- leaf callbacks: light work the compiler cannot drop ---- */

static int on_leaf(void *ctx, const struct pt_leaf *l)
{
	struct walk_census *c = ctx;

	c->leaves++;
	c->sum += l->phys ^ l->iova ^ l->perm;
	return 0;
}

static int on_leaves(void *ctx, const struct pt_leaf *l, size_t n)
{
	struct walk_census *c = ctx;
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += l[i].phys ^ l[i].iova ^ l[i].perm;
	c->leaves += n;
	c->sum += sum;
	return 0;
}

static int on_leaf_census(void *ctx, const struct pt_leaf *l)
{
	struct walk_census *c = ctx;

	c->by_shift[__builtin_ctzll(l->size) & 63]++;
	return on_leaf(ctx, l);
}

/* ---- workloads ---- */

/* Output address of @iova: moved into the top half of the output space,
 * which keeps every page's alignment and sets the high address bits. */
static uint64_t pa_of(const struct pt_mapper *m, uint64_t iova)
{
	return iova + (1ull << (m->cfg->oas - 1));
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Maps @count pages of 2^@shift at the first aligned IOVA at or above
 * *cursor (one page of that size left empty before it), and moves the
 * cursor past them. */
static int map_region(struct pt_mapper *m, uint64_t *cursor, unsigned shift,
		      uint64_t count, uint32_t perm, uint64_t *mappings,
		      struct errbuf *err)
{
	uint64_t size = 1ull << shift, iova = align_up(*cursor, size);
	uint64_t mapped;
	int ret;

	if (iova)
		iova += size;
	if (iova >= 1ull << m->cfg->ias || count > ((1ull << m->cfg->ias) - iova) >> shift)
		return err_set(err, -ERANGE, "%llu pages of 2^%u do not fit the %u-bit IOVA space",
			       (unsigned long long)count, shift, m->cfg->ias);
	ret = pt_map_pages(m, iova, pa_of(m, iova), shift, count, perm, &mapped, err);
	if (ret < 0)
		return ret;
	*cursor = iova + (count << shift);
	*mappings += count;
	return 0;
}

/* n pages of the smallest size, then 256 of the next size the cfg can
 * hold and 4 of the one after (VT-d: 2 MiB and 1 GiB). */
static int build_uniform(struct pt_mapper *m, uint64_t n, uint64_t *mappings,
			 struct errbuf *err)
{
	uint64_t sizes = m->cfg->leaf_sizes, cursor = 0;
	static const uint64_t counts[] = { 256, 4 };
	unsigned shift = (unsigned)__builtin_ctzll(sizes);
	int ret;

	*mappings = 0;
	ret = map_region(m, &cursor, shift, n, RW, mappings, err);
	for (unsigned k = 0; k < 2 && ret == 0; k++) {
		sizes &= sizes - 1;
		if (!sizes)
			break;
		shift = (unsigned)__builtin_ctzll(sizes);
		ret = map_region(m, &cursor, shift, counts[k], PERM_R, mappings, err);
	}
	return ret;
}

/* Mixed sizes, in 256ths: mostly 4 KiB, then fewer of each larger size.
 * Every size above 4 KiB is a NextLevel=7 run of bottom-level entries. */
static const struct {
	unsigned shift, weight;
} amd_mix[] = {
	{ 12, 160 }, { 13, 48 }, { 14, 24 }, { 15, 12 },
	{ 16, 8 }, { 17, 2 }, { 19, 1 }, { 20, 1 },
};

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* n mappings drawn from amd_mix, each at the next IOVA aligned to its size
 * (so larger ones leave holes, as an IOVA allocator does), one in 16
 * read-only, through pt_map_range like iommu_map; then 2 MiB pages, 4 MiB
 * pages (NextLevel=7 runs of two 2 MiB entries) and 1 GiB pages. */
static int build_amd_mix(struct pt_mapper *m, uint64_t n, uint64_t *mappings,
			 struct errbuf *err)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull, cursor = 0;
	int ret = 0;

	*mappings = 0;
	for (uint64_t i = 0; i < n; i++) {
		unsigned pick = (unsigned)(xorshift64(&seed) >> 56), k = 0;
		uint64_t size, mapped;

		while (pick >= amd_mix[k].weight) {
			pick -= amd_mix[k].weight;
			k++;
		}
		size = 1ull << amd_mix[k].shift;
		cursor = align_up(cursor, size);
		ret = pt_map_range(m, cursor, pa_of(m, cursor), size,
				   (i & 15) == 15 ? PERM_R : RW, &mapped, err);
		if (ret < 0)
			return ret;
		cursor += size;
	}
	*mappings = n;
	ret = map_region(m, &cursor, 21, 256, RW, mappings, err);
	if (ret == 0)
		ret = map_region(m, &cursor, 22, 16, PERM_R, mappings, err);
	if (ret == 0)
		ret = map_region(m, &cursor, 30, 4, RW, mappings, err);
	return ret;
}

static const struct workload workloads[] = {
	{ "vtd-ss", NULL, &pt_fmt_vtd_ss, 4, 48, 46, 12,
	  PT_VTD_F_SP2M | PT_VTD_F_SP1G, build_uniform },
	/* FC in every leaf, as Linux's io_pgtable.c sets it */
	{ "amd-v1", NULL, &pt_fmt_amd_v1, 4, 48, 52, 12, PT_AMD_V1_F_FC, build_amd_mix },
	/* stage 1, 48-bit input and output, no contiguous hint, as
	 * io-pgtable-arm sets a domain up */
	{ "lpae-4k", "lpae", &pt_fmt_lpae, 4, 48, 48, 12, 0, build_uniform },
	{ "lpae-16k", "lpae", &pt_fmt_lpae, 4, 48, 48, 14, 0, build_uniform },
	{ "lpae-64k", "lpae", &pt_fmt_lpae, 3, 48, 48, 16, 0, build_uniform },
};
#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

/* ---- measurement ---- */

/* Reads every present byte of @pm (the arena holds nothing but the
 * tables) in table-sized pieces, as the walker reads a table, and sums it.
 * Returns the bytes read, 0 on error. */
static uint64_t read_tables(struct physmem *pm, uint64_t unit, uint64_t *buf,
			    uint64_t *sum, struct errbuf *err)
{
	uint64_t bytes = 0, s = 0;

	for (size_t r = 0; r < pm->nr_ranges; r++) {
		const struct physmem_range *rg = &pm->ranges[r];

		for (uint64_t off = 0; off < rg->size; off += unit) {
			if (physmem_read(pm, rg->start + off, buf, unit, err) < 0)
				return 0;
			for (uint64_t b = 0; b < unit / 8; b += 512)
				for (unsigned i = 0; i < 512; i++)
					s += buf[b + i];
			bytes += unit;
		}
	}
	*sum += s;
	return bytes;
}

/* Per-round times of one variant. */
struct timing {
	double t[MAX_ROUNDS];
	unsigned n;
};

static double timing_best(const struct timing *tm)
{
	double best = tm->t[0];

	for (unsigned i = 1; i < tm->n; i++)
		if (tm->t[i] < best)
			best = tm->t[i];
	return best;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double timing_median(const struct timing *tm)
{
	double sorted[MAX_ROUNDS];

	memcpy(sorted, tm->t, tm->n * sizeof(*sorted));
	qsort(sorted, tm->n, sizeof(*sorted), cmp_double);
	return sorted[tm->n / 2];
}

static int timed_walk(struct pt_walk *w, struct timing *tm, struct errbuf *err)
{
	double t0 = cpu_now();
	int ret = pt_walk(w, err);

	tm->t[tm->n++] = cpu_now() - t0;
	return ret;
}

/* A built table tree and what the first walk found in it. */
struct tree {
	struct pt_cfg cfg;
	struct pt_mapper m;
	struct arena *arena;
	struct physmem *pm;
	uint64_t mappings, entries, table_bytes, unit;
};

/* Builds @wl's tree, walks it once to check it holds exactly the mappings
 * built and no findings, and prints what it holds. */
static int tree_build(struct tree *t, const struct workload *wl, uint64_t n,
		      uint64_t *buf, uint64_t *sink, struct errbuf *err)
{
	struct walk_census census = { 0 };
	struct pt_walk w = { 0 };
	double t0, t1;
	char sz[16];

	if (pt_cfg_init(&t->cfg, wl->fmt, wl->levels, wl->ias, wl->oas,
			wl->granule_shift, wl->flags, err) < 0)
		return -1;
	t->unit = 1ull << t->cfg.granule_shift;
	t->arena = arena_new(1ull << 32, 1ull << 36);
	if (!t->arena)
		return err_set(err, -ENOMEM, "out of memory for the arena");
	if (pt_mapper_init(&t->m, &t->cfg, t->arena, err) < 0)
		return -1;
	printf("== %s: %u levels, %u-bit IOVA, %s granule\n", wl->name,
	       t->cfg.levels, t->cfg.ias, size_name(t->cfg.granule_shift, sz, sizeof(sz)));
	t0 = cpu_now();
	if (wl->build(&t->m, n, &t->mappings, err) < 0)
		return err_prefix(err, -EINVAL, "map");
	t1 = cpu_now();
	printf("  built %llu mappings in %.1f ms (%.1f ns each), %llu tables\n",
	       (unsigned long long)t->mappings, (t1 - t0) * 1e3,
	       (t1 - t0) * 1e9 / (double)t->mappings,
	       (unsigned long long)t->m.tables_allocated);
	if (arena_physmem(t->arena, &t->pm, err) < 0)
		return -1;

	w = (struct pt_walk){ .cfg = &t->cfg, .mem = t->pm, .root = t->m.root,
			      .leaf = on_leaf_census, .ctx = &census };
	if (pt_walk(&w, err) < 0)
		return -1;
	if (census.leaves != t->mappings || w.stats.findings)
		return err_set(err, -EPROTO, "the walk found %llu leaves and %llu findings after %llu mappings",
			       (unsigned long long)census.leaves,
			       (unsigned long long)w.stats.findings,
			       (unsigned long long)t->mappings);
	t->entries = w.stats.entries;
	printf("  leaves by size:");
	for (unsigned s = 0; s < 64; s++)
		if (census.by_shift[s])
			printf(" %s x%llu", size_name(s, sz, sizeof(sz)),
			       (unsigned long long)census.by_shift[s]);
	t->table_bytes = read_tables(t->pm, t->unit, buf, sink, err);
	if (!t->table_bytes)
		return -1;
	/* equal but for roots narrower than a granule */
	printf("\n  walk reads %llu tables, %llu entries (%.2f MiB); plain read %.2f MiB\n",
	       (unsigned long long)w.stats.tables, (unsigned long long)w.stats.entries,
	       (double)(w.stats.entries * t->cfg.fmt->entry_size) / (1 << 20),
	       (double)t->table_bytes / (1 << 20));
	return 0;
}

static void tree_release(struct tree *t)
{
	physmem_free(t->pm);
	arena_free(t->arena);
	t->pm = NULL;
	t->arena = NULL;
}

/* Times the variants in turns, at least @rounds rounds and until the
 * workload has had MIN_CPU_SECONDS, at most MAX_ROUNDS. */
static int measure(const struct tree *t, unsigned rounds, struct timing tm[NR_VARIANTS],
		   uint64_t *buf, uint64_t *sink, struct errbuf *err)
{
	double spent = 0;

	for (unsigned r = 0; r < MAX_ROUNDS && (r < rounds || spent < MIN_CPU_SECONDS); r++) {
		struct walk_census c1 = { 0 }, c2 = { 0 };
		struct pt_walk batched = { .cfg = &t->cfg, .mem = t->pm, .root = t->m.root,
					   .leaves = on_leaves, .ctx = &c1 };
		struct pt_walk per_leaf = { .cfg = &t->cfg, .mem = t->pm, .root = t->m.root,
					    .leaf = on_leaf, .ctx = &c2 };
		struct pt_walk validate = { .cfg = &t->cfg, .mem = t->pm, .root = t->m.root };
		double t0;

		if (timed_walk(&batched, &tm[V_BATCHED], err) < 0 ||
		    timed_walk(&per_leaf, &tm[V_PER_LEAF], err) < 0 ||
		    timed_walk(&validate, &tm[V_VALIDATE], err) < 0)
			return -1;
		if (c1.leaves != t->mappings || c2.leaves != t->mappings ||
		    validate.stats.leaves != t->mappings)
			return err_set(err, -EPROTO, "a timed walk lost leaves");
		t0 = cpu_now();
		if (read_tables(t->pm, t->unit, buf, sink, err) != t->table_bytes)
			return -1;
		tm[V_READ].t[tm[V_READ].n++] = cpu_now() - t0;
		*sink += c1.sum + c2.sum;
		for (unsigned v = 0; v < NR_VARIANTS; v++)
			spent += tm[v].t[r];
	}
	return 0;
}

/* Map + unmap one smallest page at a time in an unused IOVA range. */
static int bench_mapper(struct pt_mapper *m, struct errbuf *err)
{
	unsigned shift = (unsigned)__builtin_ctzll(m->cfg->leaf_sizes);
	uint64_t n = 100000, base = 1ull << (m->cfg->ias - 1), mapped;
	double best = 1e9;
	char sz[16];

	for (int r = 0; r < 5; r++) {
		double t0 = cpu_now(), dt;

		for (uint64_t i = 0; i < n; i++) {
			uint64_t iova = base + (i << shift);

			if (pt_map_pages(m, iova, pa_of(m, i << shift), shift, 1, RW,
					 &mapped, err) < 0)
				return -1;
			if (pt_unmap_pages(m, iova, shift, 1, -1, false) != 1ull << shift)
				return err_set(err, -EPROTO, "unmap at 0x%llx did not unmap the page",
					       (unsigned long long)iova);
		}
		dt = cpu_now() - t0;
		if (dt < best)
			best = dt;
	}
	printf("  mapper: %s map+unmap %.1f ns per pair (best of 5 x %llu)\n",
	       size_name(shift, sz, sizeof(sz)), best * 1e9 / (double)n,
	       (unsigned long long)n);
	return 0;
}

static const char *const variant_names[NR_VARIANTS] = {
	[V_BATCHED] = "walk+validate, batched",
	[V_PER_LEAF] = "walk+validate, per leaf",
	[V_VALIDATE] = "validate only",
	[V_READ] = "plain read + sum",
};

static int run_one(const struct workload *wl, uint64_t n, unsigned rounds,
		   struct result *res, uint64_t *sink)
{
	struct errbuf err = { "" };
	struct tree t = { 0 };
	uint64_t *buf = NULL;
	char head[32];
	struct timing *tm = calloc(NR_VARIANTS, sizeof(*tm));
	int ret = -1;

	res->name = wl->name;
	buf = malloc(1u << 16); /* the largest granule */
	if (!tm || !buf) {
		err_set(&err, -ENOMEM, "out of memory");
		goto out;
	}
	if (tree_build(&t, wl, n, buf, sink, &err) < 0 ||
	    measure(&t, rounds, tm, buf, sink, &err) < 0)
		goto out;
	res->leaves = t.mappings;
	res->entries = t.entries;
	snprintf(head, sizeof(head), "best of %u rounds", tm[0].n);
	printf("  %-24s %10s %9s %9s %9s %10s\n", head, "time", "M entr/s",
	       "M leaf/s", "/ read", "median");
	for (unsigned v = 0; v < NR_VARIANTS; v++) {
		uint64_t entries = v == V_READ ? t.table_bytes / t.cfg.fmt->entry_size : t.entries;
		double best = timing_best(&tm[v]);
		char leaves[16] = "";

		res->best[v] = best;
		if (v == V_BATCHED || v == V_PER_LEAF)
			snprintf(leaves, sizeof(leaves), "%9.1f", (double)t.mappings / best / 1e6);
		printf("  %-24s %7.2f ms %9.1f %9s %9.2f %7.2f ms\n", variant_names[v],
		       best * 1e3, (double)entries / best / 1e6, leaves,
		       best / timing_best(&tm[V_READ]), timing_median(&tm[v]) * 1e3);
	}
	ret = bench_mapper(&t.m, &err);
out:
	if (ret < 0)
		fprintf(stderr, "bench_walk: %s: %s\n", wl->name, err.msg);
	tree_release(&t);
	free(buf);
	free(tm);
	return ret;
}

static bool selected(const struct workload *wl, int argc, char **argv, int first)
{
	if (first == argc)
		return true;
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], "all") || !strcmp(argv[i], wl->name) ||
		    (wl->group && !strcmp(argv[i], wl->group)))
			return true;
	return false;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: bench_walk [-n MAPPINGS] [-r ROUNDS] [all | FORMAT...]\nformats:");
	for (size_t i = 0; i < NR_WORKLOADS; i++)
		fprintf(f, " %s", workloads[i].name);
	for (size_t i = 0; i < NR_WORKLOADS; i++)
		if (workloads[i].group &&
		    (i == 0 || !workloads[i - 1].group ||
		     strcmp(workloads[i - 1].group, workloads[i].group)))
			fprintf(f, " %s", workloads[i].group);
	fprintf(f, "\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000000, sink = 0;
	unsigned rounds = 20;
	int opt, nr = 0;
	struct result res[NR_WORKLOADS];

	while ((opt = getopt(argc, argv, "n:r:h")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'h':
			return usage(stdout);
		default:
			return usage(stderr);
		}
	}
	if (n == 0 || rounds < 1 || rounds > MAX_ROUNDS)
		return usage(stderr);
	for (int i = optind; i < argc; i++) {
		bool known = !strcmp(argv[i], "all");

		for (size_t k = 0; k < NR_WORKLOADS && !known; k++)
			known = !strcmp(argv[i], workloads[k].name) ||
				(workloads[k].group && !strcmp(argv[i], workloads[k].group));
		if (!known) {
			fprintf(stderr, "bench_walk: unknown format '%s'\n", argv[i]);
			return usage(stderr);
		}
	}
	for (size_t k = 0; k < NR_WORKLOADS; k++) {
		if (!selected(&workloads[k], argc, argv, optind))
			continue;
		if (run_one(&workloads[k], n, rounds, &res[nr++], &sink) < 0)
			return 1;
	}
	printf("\nsummary: walk time / plain read time of the same table bytes, same run\n");
	printf("  %-10s %9s %9s %9s %9s %9s %11s\n", "workload", "leaves", "entries",
	       "batched", "per leaf", "validate", "M entr/s *");
	for (int i = 0; i < nr; i++)
		printf("  %-10s %9llu %9llu %9.2f %9.2f %9.2f %11.1f\n", res[i].name,
		       (unsigned long long)res[i].leaves, (unsigned long long)res[i].entries,
		       res[i].best[V_BATCHED] / res[i].best[V_READ],
		       res[i].best[V_PER_LEAF] / res[i].best[V_READ],
		       res[i].best[V_VALIDATE] / res[i].best[V_READ],
		       (double)res[i].entries / res[i].best[V_BATCHED] / 1e6);
	printf("  (* walk+validate with batched leaves)\n");
	fflush(stdout);
	fprintf(stderr, "(checksum %llx)\n", (unsigned long long)sink);
	return 0;
}
