/* Replay-engine speed.
 *   1. iommu_map + iommu_unmap of single 4 KiB pages on a strict VT-d
 *      domain (4 levels, 4K|2M|1G): page-size choice, the codec, the
 *      gather and its PSI, stale-window bookkeeping, a clock tick per op;
 *      ns per operation, and the same sequence on the flat reference model
 *      in the same run, with the ratio.
 *   2. A long DMA-API run (dma_map_page/dma_unmap_page, lazy flush queue,
 *      4 CPUs, 1024 mappings outstanding) to show memory stays bounded:
 *      maximum RSS after the first tenth and at the end.
 * Times are this thread's CPU time, best of the rounds.
 * Usage: bench_engine [pages-per-round] [rounds] [long-run-ops] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "decoders/pt.h"
#include "engine/engine.h"
#include "engine/refmodel.h"

#define BASE_IOVA 0x100000000ull
#define BASE_PA   0x200000000ull
#define RW (ENGINE_PROT_READ | ENGINE_PROT_WRITE)

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int die(const char *what, const struct errbuf *err)
{
	fprintf(stderr, "bench_engine: %s: %s\n", what, err->msg);
	return 1;
}

static int make_engine(struct engine **e, struct engine_domain **d,
		       enum engine_policy policy, unsigned cpus,
		       struct errbuf *err)
{
	struct engine_config ec;
	struct engine_domain_config dc;
	struct pt_cfg pt;
	int ret;

	engine_config_default(&ec);
	ec.nr_cpus = cpus;
	ret = pt_cfg_init(&pt, &pt_fmt_vtd_ss, 4, 48, 46, 12,
			  PT_VTD_F_SP2M | PT_VTD_F_SP1G, err);
	if (ret < 0)
		return ret;
	ret = engine_new(&ec, e, err);
	if (ret < 0)
		return ret;
	engine_domain_config_default(&dc, &pt);
	dc.policy = policy;
	return engine_domain_add(*e, &dc, d, err);
}

/* Map @pages consecutive 4K pages, then unmap them: 2 * pages ops. */
static int engine_round(struct engine *e, struct engine_domain *d,
			uint64_t pages, uint64_t *clock, struct errbuf *err)
{
	for (uint64_t i = 0; i < pages; i++) {
		engine_at(e, (*clock += 100), 0, err);
		if (engine_map(d, BASE_IOVA + (i << 12), BASE_PA + (i << 12),
			       0x1000, RW, err))
			return -1;
	}
	for (uint64_t i = 0; i < pages; i++) {
		engine_at(e, (*clock += 100), 0, err);
		if (engine_unmap(d, BASE_IOVA + (i << 12), 0x1000) != 0x1000)
			return -1;
	}
	return 0;
}

static int ref_round(struct refmodel *rm, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++)
		if (ref_map(rm, BASE_IOVA + (i << 12), BASE_PA + (i << 12),
			    0x1000, RW))
			return -1;
	for (uint64_t i = 0; i < pages; i++)
		if (ref_unmap(rm, BASE_IOVA + (i << 12), 0x1000) != 1)
			return -1;
	return 0;
}

static int bench_map_unmap(uint64_t pages, int rounds)
{
	struct errbuf err;
	struct engine *e;
	struct engine_domain *d;
	struct refmodel rm;
	double best_e = 1e30, best_r = 1e30;
	uint64_t clock = 0;
	const struct engine_report *r;

	if (make_engine(&e, &d, ENGINE_STRICT, 1, &err) < 0)
		return die("engine", &err);
	if (ref_init(&rm) < 0)
		return die("reference model", &err);
	/* warm up: tables and arena pages exist from here on */
	if (engine_round(e, d, pages, &clock, &err) || ref_round(&rm, pages))
		return die("warm-up", &err);
	for (int k = 0; k < rounds; k++) {
		double t0 = cpu_now(), t1, t2;

		if (engine_round(e, d, pages, &clock, &err))
			return die("map/unmap", &err);
		t1 = cpu_now();
		if (ref_round(&rm, pages))
			return die("reference", &err);
		t2 = cpu_now();
		if (t1 - t0 < best_e)
			best_e = t1 - t0;
		if (t2 - t1 < best_r)
			best_r = t2 - t1;
	}
	r = engine_report(e);
	printf("map+unmap 4K, strict vtd-ss: %.1f ns/op (%llu pages per round, best of %d)\n",
	       best_e * 1e9 / (2.0 * (double)pages), (unsigned long long)pages, rounds);
	printf("reference model, same ops:   %.1f ns/op\n",
	       best_r * 1e9 / (2.0 * (double)pages));
	printf("engine / reference:          %.2f\n", best_e / best_r);
	printf("  invalidations: %llu PSI (AM 0), windows closed %llu, max %llu ns\n",
	       (unsigned long long)r->inv.vtd_psi[0],
	       (unsigned long long)r->stale_closed,
	       (unsigned long long)r->stale_ns_max);
	ref_release(&rm);
	engine_free(e);
	return 0;
}

static int bench_long_run(uint64_t ops)
{
	enum { OUTSTANDING = 1024, CPUS = 4 };
	struct errbuf err;
	struct engine *e;
	struct engine_domain *d;
	struct engine_dev *dev;
	struct engine_dev_config devc;
	uint64_t *dma = calloc(OUTSTANDING, sizeof(*dma));
	uint64_t *len = calloc(OUTSTANDING, sizeof(*len));
	uint64_t s = 88172645463325252ull, clock = 0;
	long rss_tenth = 0;
	double t0, t1;
	const struct engine_report *r;

	if (!dma || !len)
		return 1;
	if (make_engine(&e, &d, ENGINE_LAZY, CPUS, &err) < 0)
		return die("engine", &err);
	engine_dev_config_default(&devc);
	if (engine_dev_add(e, d, &devc, &dev, &err) < 0)
		return die("device", &err);
	t0 = cpu_now();
	for (uint64_t i = 0; i < ops; i++) {
		unsigned slot = (unsigned)(i / 2 % OUTSTANDING);

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		engine_at(e, (clock += 150 + s % 200), (unsigned)(s >> 40) % CPUS, &err);
		if (i % 2 == 0) {
			if (dma[slot]) {
				engine_dma_unmap_page(dev, dma[slot], len[slot]);
				dma[slot] = 0;
			}
		} else {
			len[slot] = 1 + (s >> 20) % 0x4000;
			if (engine_dma_map_page(dev, (s >> 8) % (1ull << 38), len[slot],
						ENGINE_DMA_BIDIRECTIONAL, &dma[slot], &err))
				return die("dma map", &err);
		}
		if (i + 1 == ops / 10)
			rss_tenth = maxrss_kib();
	}
	t1 = cpu_now();
	engine_drain(e);
	r = engine_report(e);
	printf("long run: %llu DMA-API ops in %.2f s CPU (%.1f ns/op), lazy, %d CPUs\n",
	       (unsigned long long)ops, t1 - t0, (t1 - t0) * 1e9 / (double)ops, CPUS);
	printf("  max RSS after %llu ops: %ld KiB, after %llu: %ld KiB\n",
	       (unsigned long long)(ops / 10), rss_tenth,
	       (unsigned long long)ops, maxrss_kib());
	printf("  flushes: %llu timeout, %llu full; stale windows p50 %llu ns, p99 %llu ns, max %llu ns\n",
	       (unsigned long long)r->flushes[ENGINE_FLUSH_FQ_TIMEOUT],
	       (unsigned long long)r->flushes[ENGINE_FLUSH_FQ_FULL],
	       (unsigned long long)r->stale_ns_p50,
	       (unsigned long long)r->stale_ns_p99,
	       (unsigned long long)r->stale_ns_max);
	printf("  iova: %llu rcache hits, %llu misses, %llu free gaps below the limit; table pages max %llu; findings %llu\n",
	       (unsigned long long)r->iova_rcache_hits,
	       (unsigned long long)r->iova_rcache_misses,
	       (unsigned long long)r->iova_free_gaps,
	       (unsigned long long)r->table_pages_max,
	       (unsigned long long)r->findings_total);
	engine_free(e);
	free(dma);
	free(len);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t pages = argc > 1 ? strtoull(argv[1], NULL, 0) : 65536;
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	uint64_t ops = argc > 3 ? strtoull(argv[3], NULL, 0) : 10000000;

	if (!pages || rounds < 1)
		return 2;
	if (bench_map_unmap(pages, rounds))
		return 1;
	return ops ? bench_long_run(ops) : 0;
}
