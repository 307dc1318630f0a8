/* Walker and mapper speed on a vtd-ss table of 1,000,000 4 KiB pages plus
 * some 2 MiB and 1 GiB superpages.  Prints entries/s for pt_walk, the same
 * table bytes read and summed plainly (the floor a walk cannot beat), their
 * ratio, and the cost of a 4 KiB map+unmap through the mapper.
 * Times are this thread's CPU time (best of the rounds), so a machine
 * shared with other jobs disturbs them less than wall-clock time would.
 * Usage: bench_walk [pages] [rounds] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decoders/pt.h"

struct leaf_sum {
	uint64_t leaves, sum;
	uint64_t *pages;       /* distinct table pages holding leaves */
	size_t nr_pages, cap;
	uint64_t last_page;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int on_leaf(void *ctx, const struct pt_leaf *l)
{
	struct leaf_sum *s = ctx;

	s->leaves++;
	s->sum += l->phys ^ l->iova ^ l->perm;
	return 0;
}

static int on_leaves(void *ctx, const struct pt_leaf *l, size_t n)
{
	struct leaf_sum *s = ctx;
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += l[i].phys ^ l[i].iova ^ l[i].perm;
	s->leaves += n;
	s->sum += sum;
	return 0;
}

static int on_leaf_pages(void *ctx, const struct pt_leaf *l)
{
	struct leaf_sum *s = ctx;
	uint64_t page = l->entry_addr & ~0xfffull;

	if (page != s->last_page) {
		if (s->nr_pages == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 1024;
			s->pages = realloc(s->pages, s->cap * sizeof(*s->pages));
			if (!s->pages)
				return -1;
		}
		s->pages[s->nr_pages++] = page;
		s->last_page = page;
	}
	return on_leaf(ctx, l);
}

static int die(const char *what, const struct errbuf *err)
{
	fprintf(stderr, "bench_walk: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t pages = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 50;
	struct errbuf err;
	struct pt_cfg cfg;
	struct pt_mapper m;
	struct arena *arena;
	struct physmem *pm;
	struct leaf_sum first = { .last_page = 1 };
	double best_walk = 1e9, best_batch = 1e9, best_validate = 1e9, best_read = 1e9, t0, t1;
	uint64_t mapped, entries = 0, tables = 0, sink = 0, findings = 0;
	uint64_t *buf;

	if (pt_cfg_init(&cfg, &pt_fmt_vtd_ss, 4, 48, 46, 12,
			PT_VTD_F_SP2M | PT_VTD_F_SP1G, &err) < 0)
		return die("cfg", &err);
	arena = arena_new(1ull << 32, 1ull << 32);
	if (!arena || pt_mapper_init(&m, &cfg, arena, &err) < 0)
		return die("arena", &err);

	t0 = now();
	if (pt_map_pages(&m, 0, 1ull << 40, 12, pages, PERM_R | PERM_W, &mapped, &err) < 0 ||
	    pt_map_pages(&m, 1ull << 33, 1ull << 41, 21, 256, PERM_R, &mapped, &err) < 0 ||
	    pt_map_pages(&m, 1ull << 35, 1ull << 42, 30, 4, PERM_R | PERM_W, &mapped, &err) < 0)
		return die("map", &err);
	t1 = now();
	printf("built %llu 4 KiB + 256 2 MiB + 4 1 GiB leaves in %.1f ms (%.1f ns/page), %llu tables\n",
	       (unsigned long long)pages, (t1 - t0) * 1e3, (t1 - t0) * 1e9 / (double)pages,
	       (unsigned long long)m.tables_allocated);
	if (arena_physmem(arena, &pm, &err) < 0)
		return die("physmem", &err);

	/* one walk to learn which table pages hold leaves */
	{
		struct pt_walk w = { .cfg = &cfg, .mem = pm, .root = m.root,
				     .leaf = on_leaf_pages, .ctx = &first };

		if (pt_walk(&w, &err) < 0)
			return die("walk", &err);
		findings = w.stats.findings;
	}
	for (int r = 0; r < rounds; r++) {
		struct leaf_sum s = { 0 };
		struct pt_walk w = { .cfg = &cfg, .mem = pm, .root = m.root,
				     .leaf = on_leaf, .ctx = &s };

		t0 = now();
		if (pt_walk(&w, &err) < 0)
			return die("walk", &err);
		t1 = now();
		if (t1 - t0 < best_walk)
			best_walk = t1 - t0;
		entries = w.stats.entries;
		tables = w.stats.tables;
		sink += s.sum;
		findings += w.stats.findings;
	}
	/* the same with leaves handed over in batches */
	for (int r = 0; r < rounds; r++) {
		struct leaf_sum s = { 0 };
		struct pt_walk w = { .cfg = &cfg, .mem = pm, .root = m.root,
				     .leaves = on_leaves, .ctx = &s };

		t0 = now();
		if (pt_walk(&w, &err) < 0)
			return die("walk", &err);
		t1 = now();
		if (t1 - t0 < best_batch)
			best_batch = t1 - t0;
		if (s.leaves != first.leaves)
			return die("batched walk", &err);
		sink += s.sum;
	}
	/* validation only: no leaf callback, findings counted */
	for (int r = 0; r < rounds; r++) {
		struct pt_walk w = { .cfg = &cfg, .mem = pm, .root = m.root };

		t0 = now();
		if (pt_walk(&w, &err) < 0)
			return die("walk", &err);
		t1 = now();
		if (t1 - t0 < best_validate)
			best_validate = t1 - t0;
		findings += w.stats.findings;
	}
	/* the floor: read the same leaf-table pages and sum them */
	buf = malloc(4096);
	for (int r = 0; r < rounds && buf; r++) {
		uint64_t sum = 0;

		t0 = now();
		for (size_t p = 0; p < first.nr_pages; p++) {
			if (physmem_read(pm, first.pages[p], buf, 4096, &err) < 0)
				return die("read", &err);
			for (int i = 0; i < 512; i++)
				sum += buf[i];
		}
		t1 = now();
		if (t1 - t0 < best_read)
			best_read = t1 - t0;
		sink += sum;
	}
	printf("walk: %llu leaves, %llu entries read, %llu tables, %llu findings\n",
	       (unsigned long long)first.leaves, (unsigned long long)entries,
	       (unsigned long long)tables, (unsigned long long)findings);
	printf("walk, leaf callback: best of %d %.2f ms = %.1f M leaves/s, %.1f M entries/s\n",
	       rounds, best_walk * 1e3, (double)first.leaves / best_walk / 1e6,
	       (double)entries / best_walk / 1e6);
	printf("walk, batched leaves: best of %d %.2f ms = %.1f M leaves/s, %.1f M entries/s\n",
	       rounds, best_batch * 1e3, (double)first.leaves / best_batch / 1e6,
	       (double)entries / best_batch / 1e6);
	printf("walk, validate only: best of %d %.2f ms = %.1f M entries/s\n",
	       rounds, best_validate * 1e3, (double)entries / best_validate / 1e6);
	printf("plain read+sum of the %zu leaf tables: %.2f ms = %.1f M entries/s\n",
	       first.nr_pages, best_read * 1e3,
	       (double)first.nr_pages * 512 / best_read / 1e6);
	printf("time ratio to the plain read: walk %.2f, batched %.2f, validate %.2f\n",
	       best_walk / best_read, best_batch / best_read, best_validate / best_read);

	/* mapper: map + unmap one 4 KiB page, sequential IOVAs */
	{
		uint64_t n = 200000, base = 1ull << 38;
		double best = 1e9;

		for (int r = 0; r < 10; r++) {
			t0 = now();
			for (uint64_t i = 0; i < n; i++) {
				if (pt_map_pages(&m, base + (i << 12), i << 12, 12, 1,
						 PERM_R | PERM_W, &mapped, &err) < 0)
					return die("map", &err);
				if (pt_unmap_pages(&m, base + (i << 12), 12, 1, -1, false) != 4096)
					return die("unmap", &err);
			}
			t1 = now();
			if (t1 - t0 < best)
				best = t1 - t0;
		}
		printf("mapper: 4 KiB map+unmap %.1f ns per pair (best of 10 x %llu)\n",
		       best * 1e9 / (double)n, (unsigned long long)n);
	}
	fprintf(stderr, "(checksum %llx)\n", (unsigned long long)sink);
	free(buf);
	free(first.pages);
	physmem_free(pm);
	arena_free(arena);
	return 0;
}
