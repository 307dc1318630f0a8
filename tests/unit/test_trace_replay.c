/* Replay: the DMA layer's bookkeeping between the kernel's addresses and
 * the model's (many live mappings, unmaps in another order, lists keyed by
 * DMA or physical address, two-step IOVA states). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/replay.h"

#define NR_MAPS 3000

struct gen {
	struct trace_writer w;
	struct errbuf err;
	uint64_t t;
};

static void put(struct gen *g, struct trace_record *r)
{
	r->time_ns = g->t += 1000;
	r->cpu = (uint32_t)(g->t / 1000 % 2);
	assert_int_equal(trace_writer_put(&g->w, r, &g->err), 0);
}

static char *make_trace(void)
{
	static const struct trace_seg sg_in[] = {
		{ 0x50000000, 0x1000, 0 }, { 0x50001000, 0x1000, 0 }, { 0x60000000, 0x800, 0 },
	};
	static const struct trace_seg sg_out[] = { { 0xffffc000, 0x2800, 0 } };
	char *path = strdup("/tmp/test_trace_replay_XXXXXX");
	struct trace_record r;
	struct gen g = { .t = 0 };
	uint32_t order[NR_MAPS], seed = 7;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(trace_writer_open(&g.w, path, TRACE_SOURCE_GENERATED, &g.err), 0);
	trace_record_init(&r, TRACE_REC_DEVICE);
	r.device = 1;
	r.u.device.name = "0000:00:04.0";
	r.u.device.len = 12;
	put(&g, &r);
	trace_record_init(&r, TRACE_REC_DOMAIN);
	r.domain = 1;
	r.u.domain.origin = TRACE_DOMAIN_ORIGIN_GENERATED;
	put(&g, &r);
	trace_record_init(&r, TRACE_REC_ATTACH);
	r.device = 1;
	r.domain = 1;
	put(&g, &r);

	/* many single mappings at kernel addresses of our choosing */
	for (uint32_t i = 0; i < NR_MAPS; i++) {
		trace_record_init(&r, TRACE_REC_DMA_MAP);
		r.device = 1;
		r.domain = 1;
		r.dir = TRACE_DIR_TO_DEVICE;
		r.u.dma_map.phys = 0x10000000ull + 0x1000ull * i + (i % 7) * 0x40;
		r.u.dma_map.dma_addr = 0xa0000000ull + 0x1000ull * i + (i % 7) * 0x40;
		r.u.dma_map.size = 0x100 + i % 3 * 0x1000;
		put(&g, &r);
		order[i] = i;
	}
	/* a list mapped, unmapped by its physical addresses (newer kernels) */
	trace_record_init(&r, TRACE_REC_MAP_SG);
	r.device = 1;
	r.domain = 1;
	r.dir = TRACE_DIR_TO_DEVICE;
	r.flags = TRACE_MAP_SG_F_NO_IN_LENGTHS;
	r.u.map_sg.full_nents = r.u.map_sg.nr_in = 3;
	r.u.map_sg.full_ents = r.u.map_sg.nr_out = 1;
	r.u.map_sg.in = sg_in;
	r.u.map_sg.out = sg_out;
	put(&g, &r);
	trace_record_init(&r, TRACE_REC_UNMAP_SG);
	r.device = 1;
	r.domain = 1;
	r.dir = TRACE_DIR_TO_DEVICE;
	r.flags = TRACE_UNMAP_SG_F_PHYS | TRACE_UNMAP_SG_F_NO_LENGTHS;
	r.u.unmap_sg.nr = 3;
	r.u.unmap_sg.ents = sg_in;
	put(&g, &r);
	/* the singles unmapped in a shuffled order */
	for (uint32_t i = NR_MAPS - 1; i > 0; i--) {
		uint32_t j, tmp;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (uint32_t k = 0; k < NR_MAPS; k++) {
		uint32_t i = order[k];

		trace_record_init(&r, TRACE_REC_DMA_UNMAP);
		r.device = 1;
		r.domain = 1;
		r.dir = TRACE_DIR_TO_DEVICE;
		r.u.dma_unmap.dma_addr = 0xa0000000ull + 0x1000ull * i + (i % 7) * 0x40;
		r.u.dma_unmap.size = 0x100 + i % 3 * 0x1000;
		put(&g, &r);
	}
	/* an unmap of something never mapped */
	trace_record_init(&r, TRACE_REC_DMA_UNMAP);
	r.device = 1;
	r.domain = 1;
	r.u.dma_unmap.dma_addr = 0xdead0000;
	r.u.dma_unmap.size = 0x1000;
	put(&g, &r);
	/* the two-step API */
	trace_record_init(&r, TRACE_REC_IOVA_ALLOC);
	r.device = 1;
	r.domain = 1;
	r.u.iova.state = 9;
	r.u.iova.phys = 0x70000000;
	r.u.iova.size = 0x4000;
	put(&g, &r);
	trace_record_init(&r, TRACE_REC_IOVA_LINK);
	r.device = 1;
	r.domain = 1;
	r.dir = TRACE_DIR_FROM_DEVICE;
	r.u.iova.state = 9;
	r.u.iova.phys = 0x70000000;
	r.u.iova.size = 0x4000;
	put(&g, &r);
	trace_record_init(&r, TRACE_REC_IOVA_SYNC);
	r.device = 1;
	r.domain = 1;
	r.u.iova.state = 9;
	r.u.iova.size = 0x4000;
	put(&g, &r);
	trace_record_init(&r, TRACE_REC_IOVA_FREE);
	r.device = 1;
	r.domain = 1;
	r.u.iova.state = 9;
	r.u.iova.size = 0x4000; /* dma_iova_destroy of what was linked */
	put(&g, &r);
	assert_int_equal(trace_writer_finish(&g.w, &g.err), 0);
	return path;
}

static void test_dma_bookkeeping(void **state)
{
	char *path = make_trace();
	struct replay_config cfg;
	struct replay_stats st;
	struct engine *e;
	const struct engine_report *rep;
	struct errbuf err;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.iommu = IOMMU_VTD;
	for (int p = 0; p < REPLAY_NR_POLICIES; p++) {
		cfg.policy = (enum replay_policy)p;
		if (replay_trace(path, &cfg, &e, &st, &err))
			fail_msg("%s", err.msg);
		rep = engine_report(e);
		assert_int_equal(st.engine_errors, 0);
		assert_int_equal(st.dma_unmatched, 1);       /* the 0xdead0000 one */
		assert_int_equal(st.sg_lengths_estimated, 1);
		assert_int_equal(st.cpus, 2);
		assert_int_equal(rep->op_counts[ENGINE_OP_DMA_MAP_PAGE], NR_MAPS);
		assert_int_equal(rep->op_counts[ENGINE_OP_DMA_UNMAP_PAGE], NR_MAPS);
		assert_int_equal(rep->op_counts[ENGINE_OP_DMA_UNMAP_SG], 1);
		assert_int_equal(rep->op_counts[ENGINE_OP_IOVA_DESTROY], 1);
		/* everything mapped was unmapped again */
		assert_int_equal(rep->bytes_mapped, rep->bytes_unmapped);
		assert_true(rep->bytes_mapped > 0);
		engine_free(e);
	}
	unlink(path);
	free(path);
}

/* map_pages records speak for the map record right after them only, and
 * only when it is the same range: a record in between, or another range,
 * leaves the map to the engine's own page sizes. */
static void test_map_pages_pairing(void **state)
{
	static const struct trace_pgrun small[] = { { 0x1000, 512 } };
	static const struct {
		uint64_t pages_iova, map_iova;
		bool record_between;
		uint64_t want_4k, want_2m, want_replayed;
	} cases[] = {
		{ 0x200000, 0x200000, false, 512, 0, 1 },  /* used */
		{ 0x200000, 0x200000, true, 0, 1, 0 },     /* not right before */
		{ 0x400000, 0x200000, false, 0, 1, 0 },    /* another range */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = strdup("/tmp/test_trace_replay_XXXXXX");
		struct replay_config cfg;
		struct replay_stats st;
		struct trace_record r;
		struct gen g = { .t = 0 };
		struct engine *e;
		const struct engine_report *rep;
		struct errbuf err;
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(trace_writer_open(&g.w, path, TRACE_SOURCE_GENERATED, &g.err), 0);
		trace_record_init(&r, TRACE_REC_DOMAIN);
		r.domain = 1;
		r.u.domain.origin = TRACE_DOMAIN_ORIGIN_GENERATED;
		put(&g, &r);
		trace_record_init(&r, TRACE_REC_MAP_PAGES);
		r.domain = 1;
		r.u.map_pages.iova = r.u.map_pages.paddr = cases[i].pages_iova;
		r.u.map_pages.nr = 1;
		r.u.map_pages.runs = small;
		put(&g, &r);
		if (cases[i].record_between) {
			trace_record_init(&r, TRACE_REC_IOTLB_SYNC);
			r.domain = 1;
			r.flags = TRACE_IOTLB_F_ALL;
			put(&g, &r);
		}
		trace_record_init(&r, TRACE_REC_MAP);
		r.domain = 1;
		r.prot = TRACE_PROT_READ | TRACE_PROT_WRITE;
		r.u.map.iova = r.u.map.paddr = cases[i].map_iova;
		r.u.map.size = 0x200000;
		put(&g, &r);
		assert_int_equal(trace_writer_finish(&g.w, &g.err), 0);

		memset(&cfg, 0, sizeof(cfg));
		cfg.iommu = IOMMU_VTD;
		if (replay_trace(path, &cfg, &e, &st, &err))
			fail_msg("%s", err.msg);
		rep = engine_report(e);
		assert_int_equal(st.map_pages, 1);
		assert_int_equal(st.map_pages_replayed, cases[i].want_replayed);
		assert_int_equal(st.map_pages_differ, cases[i].want_replayed);
		assert_int_equal(st.engine_errors, 0);
		assert_int_equal(rep->pages_mapped[12], cases[i].want_4k);
		assert_int_equal(rep->pages_mapped[21], cases[i].want_2m);
		engine_free(e);
		unlink(path);
		free(path);
	}
}

static void test_policy_names(void **state)
{
	(void)state;
	for (int p = 0; p < REPLAY_NR_POLICIES; p++)
		assert_int_equal(replay_policy_parse(replay_policy_name((enum replay_policy)p)), p);
	assert_int_equal(replay_policy_parse("Strict"), -1);
	assert_int_equal(replay_policy_parse("lazy-"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dma_bookkeeping),
		cmocka_unit_test(test_map_pages_pairing),
		cmocka_unit_test(test_policy_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
