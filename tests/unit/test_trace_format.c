/* trace.bin writer/reader: round trip of every record type, and the
 * reader's answers to damaged and hostile files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace.h"

static const struct trace_seg sg_in[] = {
	{ 0x1234000, 0x1000, 0 }, { 0x2000200, 0x800, 0x200 }, { 0x3000000, 0, 0 },
};
static const struct trace_seg sg_out[] = { { 0xffffe000, 0x1800, 0 } };
static const uint64_t alloc_phys[] = { 0x5000000, 0x6000000 };
static const struct trace_pgrun pg_runs[] = { { 0x1000, 1 }, { 0x200000, 2 }, { 0x1000, 3 } };

/* One record of every type, in an order the format accepts. */
static size_t sample_records(struct trace_record *r, size_t cap)
{
	size_t n = 0;

	assert_true(cap >= 24);
	trace_record_init(&r[n], TRACE_REC_DEVICE);
	r[n].device = 1;
	r[n].u.device.name = "0000:00:03.0";
	r[n].u.device.len = 12;
	n++;
	trace_record_init(&r[n], TRACE_REC_DOMAIN);
	r[n].domain = 1;
	r[n].u.domain.handle = 0xffff888003a1c000ull;
	r[n].u.domain.origin = TRACE_DOMAIN_ORIGIN_HANDLE;
	n++;
	trace_record_init(&r[n], TRACE_REC_DOMAIN);
	r[n].domain = 2;
	r[n].device = 1;
	r[n].u.domain.origin = TRACE_DOMAIN_ORIGIN_DEVICE;
	n++;
	trace_record_init(&r[n], TRACE_REC_ATTACH);
	r[n].time_ns = 1000;
	r[n].cpu = 1;
	r[n].pid = 42;
	r[n].domain = 1;
	r[n].device = 1;
	n++;
	trace_record_init(&r[n], TRACE_REC_MAP_PAGES);
	r[n].time_ns = 523123000;
	r[n].domain = 1;
	r[n].u.map_pages.iova = 0x1ff000;
	r[n].u.map_pages.paddr = 0x41ff000;
	r[n].u.map_pages.nr = 3;
	r[n].u.map_pages.runs = pg_runs;
	n++;
	trace_record_init(&r[n], TRACE_REC_MAP);
	r[n].time_ns = 523123000;
	r[n].cpu = 0;
	r[n].domain = 1;
	r[n].prot = TRACE_PROT_READ | TRACE_PROT_WRITE;
	r[n].u.map.iova = 0xfffff000;
	r[n].u.map.paddr = 0x1234000;
	r[n].u.map.size = 0x1000;
	n++;
	trace_record_init(&r[n], TRACE_REC_UNMAP);
	r[n].domain = 1;
	r[n].flags = TRACE_UNMAP_F_DRIVER;
	r[n].u.unmap.iova = 0xfffff000;
	r[n].u.unmap.size = 0x1000;
	r[n].u.unmap.unmapped = TRACE_UNKNOWN64;
	n++;
	trace_record_init(&r[n], TRACE_REC_MAP_SG);
	r[n].device = 1;
	r[n].dir = TRACE_DIR_FROM_DEVICE;
	r[n].flags = TRACE_MAP_SG_F_TRUNCATED;
	r[n].u.map_sg.full_nents = 200;
	r[n].u.map_sg.full_ents = 1;
	r[n].u.map_sg.attrs = 0x20;
	r[n].u.map_sg.nr_in = 3;
	r[n].u.map_sg.in = sg_in;
	r[n].u.map_sg.nr_out = 1;
	r[n].u.map_sg.out = sg_out;
	n++;
	trace_record_init(&r[n], TRACE_REC_UNMAP_SG);
	r[n].device = 1;
	r[n].dir = TRACE_DIR_TO_DEVICE;
	r[n].flags = TRACE_UNMAP_SG_F_PHYS | TRACE_UNMAP_SG_F_NO_LENGTHS;
	r[n].u.unmap_sg.nr = 2;
	r[n].u.unmap_sg.ents = sg_in;
	n++;
	trace_record_init(&r[n], TRACE_REC_DMA_MAP);
	r[n].device = 1;
	r[n].domain = 2;
	r[n].dir = TRACE_DIR_BIDIRECTIONAL;
	r[n].u.dma_map.phys = 0x1234010;
	r[n].u.dma_map.dma_addr = 0xfffff010;
	r[n].u.dma_map.size = 64;
	r[n].u.dma_map.attrs = 0x200;
	n++;
	trace_record_init(&r[n], TRACE_REC_DMA_UNMAP);
	r[n].device = 1;
	r[n].flags = TRACE_DMA_F_RESOURCE;
	r[n].u.dma_unmap.dma_addr = 0xfffff010;
	r[n].u.dma_unmap.size = 64;
	n++;
	trace_record_init(&r[n], TRACE_REC_DMA_ALLOC);
	r[n].device = 1;
	r[n].flags = TRACE_DMA_ALLOC_F_SGT;
	r[n].u.dma_alloc.dma_addr = 0xffe00000;
	r[n].u.dma_alloc.size = 0x2000;
	r[n].u.dma_alloc.nr_phys = 2;
	r[n].u.dma_alloc.phys = alloc_phys;
	n++;
	trace_record_init(&r[n], TRACE_REC_DMA_FREE);
	r[n].device = 1;
	r[n].u.dma_alloc.dma_addr = 0xffe00000;
	r[n].u.dma_alloc.size = 0x2000;
	n++;
	trace_record_init(&r[n], TRACE_REC_DMA_SYNC);
	r[n].device = 1;
	r[n].flags = TRACE_DMA_SYNC_F_SG | TRACE_DMA_SYNC_F_FOR_DEVICE;
	r[n].u.dma_sync.nr = 1;
	r[n].u.dma_sync.ents = sg_out;
	n++;
	for (uint16_t t = TRACE_REC_IOVA_ALLOC; t <= TRACE_REC_IOVA_FREE; t++) {
		trace_record_init(&r[n], t);
		r[n].device = 1;
		r[n].u.iova.state = 7;
		r[n].u.iova.iova = 0xfff00000;
		r[n].u.iova.phys = 0x7000000 + t;
		r[n].u.iova.offset = 0x1000 * t;
		r[n].u.iova.size = 0x4000;
		r[n].u.iova.attrs = t;
		n++;
	}
	trace_record_init(&r[n], TRACE_REC_DETACH);
	r[n].device = 1;
	r[n].domain = 1;
	n++;
	trace_record_init(&r[n], TRACE_REC_IOTLB_SYNC);
	r[n].domain = 1;
	r[n].u.iotlb.iova = 0xfff00000;
	r[n].u.iotlb.size = 0x100000;
	n++;
	trace_record_init(&r[n], TRACE_REC_ACCESS);
	r[n].device = 1;
	r[n].flags = TRACE_ACCESS_F_WRITE | TRACE_ACCESS_F_FAULT | TRACE_ACCESS_F_PASID;
	r[n].u.access.iova = 0x12345000;
	r[n].u.access.size = 4;
	r[n].u.access.pasid = 3;
	n++;
	trace_record_init(&r[n], TRACE_REC_GROUP);
	r[n].device = 1;
	r[n].u.group.group = 9;
	n++;
	trace_record_init(&r[n], TRACE_REC_DOMAIN_FREE);
	r[n].domain = 2;
	n++;
	trace_record_init(&r[n], TRACE_REC_LOST);
	r[n].cpu = 1;
	r[n].u.lost.count = 12;
	n++;
	return n;
}

static char *tmp_path(void)
{
	char *p = strdup("/tmp/test_trace_XXXXXX");
	int fd;

	assert_non_null(p);
	fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static void write_samples(const char *path, struct trace_record *recs, size_t n)
{
	struct trace_writer w;
	struct errbuf err;

	assert_int_equal(trace_writer_open(&w, path, TRACE_SOURCE_GENERATED, &err), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(trace_writer_put(&w, &recs[i], &err), 0);
	trace_writer_set_flags(&w, TRACE_FILE_LOST_EVENTS);
	assert_int_equal(trace_writer_finish(&w, &err), 0);
}

static void assert_same_encoding(const struct trace_record *a, const struct trace_record *b)
{
	size_t na = trace_record_size(a), nb = trace_record_size(b);
	unsigned char *ba, *bb;

	assert_int_equal(na, nb);
	assert_true(na > 0);
	ba = malloc(na);
	bb = malloc(nb);
	trace_record_encode(a, ba);
	trace_record_encode(b, bb);
	assert_memory_equal(ba, bb, na);
	free(ba);
	free(bb);
}

static void test_round_trip(void **state)
{
	struct trace_record recs[32], got;
	size_t n = sample_records(recs, 32), i = 0;
	struct trace_reader r;
	struct errbuf err;
	char *path = tmp_path();
	int rc;

	(void)state;
	write_samples(path, recs, n);
	assert_int_equal(trace_reader_open(&r, path, &err), 0);
	assert_int_equal(r.count, n);
	assert_int_equal(r.source, TRACE_SOURCE_GENERATED);
	assert_int_equal(r.file_flags, TRACE_FILE_LOST_EVENTS);
	while ((rc = trace_reader_next(&r, &got, &err)) == 1) {
		assert_true(i < n);
		assert_int_equal(got.type, recs[i].type);
		assert_same_encoding(&got, &recs[i]);
		i++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, n);
	assert_string_equal(trace_reader_device(&r, 1), "0000:00:03.0");
	assert_null(trace_reader_device(&r, 2));
	trace_reader_release(&r);
	unlink(path);
	free(path);
}

/* Reads a whole file and returns the reader's verdict and message. */
static int read_all(const char *path, struct errbuf *err, size_t *nr)
{
	struct trace_reader r;
	struct trace_record rec;
	int rc;

	*nr = 0;
	err->msg[0] = '\0';
	rc = trace_reader_open(&r, path, err);
	if (rc)
		return rc;
	while ((rc = trace_reader_next(&r, &rec, err)) == 1)
		(*nr)++;
	trace_reader_release(&r);
	return rc;
}

static int read_mem(unsigned char *buf, size_t len, struct errbuf *err, size_t *nr)
{
	FILE *f = fmemopen(buf, len, "rb");
	struct trace_reader r;
	struct trace_record rec;
	int rc;

	assert_non_null(f);
	*nr = 0;
	rc = trace_reader_open_stream(&r, f, "<mutant>", err);
	if (rc == 0) {
		while ((rc = trace_reader_next(&r, &rec, err)) == 1)
			(*nr)++;
		trace_reader_release(&r);
	}
	fclose(f);
	return rc;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Every proper prefix of a valid file is rejected with a message that
 * names the file. */
static void test_every_truncation(void **state)
{
	struct trace_record recs[32];
	size_t n = sample_records(recs, 32), len, nr;
	char *path = tmp_path(), *cut = tmp_path();
	unsigned char *buf;
	struct errbuf err;

	(void)state;
	write_samples(path, recs, n);
	buf = slurp(path, &len);
	assert_int_equal(read_all(path, &err, &nr), 0);
	assert_int_equal(nr, n);
	for (size_t l = 0; l < len; l++) {
		assert_true(read_mem(buf, l, &err, &nr) < 0);
		assert_non_null(strstr(err.msg, "<mutant>"));
	}
	spit(cut, buf, 17);
	assert_true(read_all(cut, &err, &nr) < 0);
	assert_non_null(strstr(err.msg, cut));
	unlink(path);
	unlink(cut);
	free(path);
	free(cut);
	free(buf);
}

static void expect_error(const unsigned char *buf, size_t len, const char *what)
{
	char *path = tmp_path();
	struct errbuf err;
	size_t nr;

	spit(path, buf, len);
	assert_true(read_all(path, &err, &nr) < 0);
	if (!strstr(err.msg, what))
		fail_msg("expected \"%s\" in \"%s\"", what, err.msg);
	unlink(path);
	free(path);
}

static void test_damaged_headers(void **state)
{
	struct trace_record recs[32];
	size_t n = sample_records(recs, 32), len;
	char *path = tmp_path();
	unsigned char *buf, *copy;

	(void)state;
	write_samples(path, recs, n);
	buf = slurp(path, &len);
	copy = malloc(len + 16);

	memcpy(copy, buf, len);
	copy[0] = 'X';
	expect_error(copy, len, "bad magic");

	memcpy(copy, buf, len);
	trace_put16(copy + TRACE_HDR_OFF_VERSION, 2);
	expect_error(copy, len, "unsupported trace version 2");

	memcpy(copy, buf, len);
	trace_put64(copy + TRACE_HDR_OFF_COUNT, UINT64_MAX);
	expect_error(copy, len, "trace ends after");

	memcpy(copy, buf, len);
	trace_put64(copy + TRACE_HDR_OFF_COUNT, n - 1);
	expect_error(copy, len, "data after the last");

	/* a huge record size is refused before anything is allocated */
	memcpy(copy, buf, len);
	trace_put32(copy + TRACE_HDR_SIZE + TRACE_REC_OFF_SIZE, 0xfffffff8u);
	expect_error(copy, len, "bad record size 4294967288 at offset 0x20");

	/* an array count that does not match the record size */
	{
		size_t off = TRACE_HDR_SIZE;

		memcpy(copy, buf, len);
		for (size_t i = 0; i < n; i++) {
			if (recs[i].type == TRACE_REC_MAP_SG) {
				trace_put32(copy + off + TRACE_MAP_SG_OFF_NR_IN, 0x7fffffff);
				break;
			}
			off += trace_record_size(&recs[i]);
		}
		expect_error(copy, len, "does not match its contents");
	}

	/* a record naming a device that was never defined */
	memcpy(copy, buf, len);
	{
		size_t off = TRACE_HDR_SIZE + trace_record_size(&recs[0]) +
			     trace_record_size(&recs[1]) + trace_record_size(&recs[2]);

		trace_put32(copy + off + TRACE_REC_OFF_DEVICE, 5);
		expect_error(copy, len, "undefined device 5");
	}

	/* an unknown mandatory type, and an unknown optional one skipped */
	memcpy(copy, buf, len);
	trace_put16(copy + TRACE_HDR_SIZE + TRACE_REC_OFF_TYPE, 0x7777);
	expect_error(copy, len, "unknown record type 0x7777");
	{
		char *p = tmp_path();
		struct errbuf err;
		size_t nr;
		size_t first = trace_record_size(&recs[n - 1]);

		/* last record (LOST) becomes an optional type */
		memcpy(copy, buf, len);
		trace_put16(copy + len - first + TRACE_REC_OFF_TYPE, 0x8fff);
		spit(p, copy, len);
		assert_int_equal(read_all(p, &err, &nr), 0);
		assert_int_equal(nr, n - 1);
		unlink(p);
		free(p);
	}
	unlink(path);
	free(path);
	free(buf);
	free(copy);
}

/* map_pages: the rules a writer enforces, and the size its runs give. */
static void test_map_pages(void **state)
{
	static const struct {
		struct trace_pgrun runs[2];
		uint32_t nr;
		const char *what;   /* NULL: accepted */
	} cases[] = {
		{ { { 0x1000, 0x1000 } }, 1, NULL },
		{ { { 0x1000, 1 }, { 0x200000, 1 } }, 2, NULL },
		{ { { 0x1000, 1 } }, 0, "0 runs" },
		{ { { 0x3000, 1 } }, 1, "power of two" },
		{ { { 0, 1 } }, 1, "power of two" },
		{ { { 0x1000, 0 } }, 1, "at least one page" },
		{ { { 1ull << 63, 2 } }, 1, "overflowing" },
		{ { { 1ull << 62, 2 }, { 1ull << 62, 2 } }, 2, "overflowing" },
		{ { { 1ull << 40, 1ull << 24 } }, 1, "wrapping" },
	};
	struct trace_record rec;
	struct trace_ids ids = { 0, 1 };
	struct errbuf err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		trace_record_init(&rec, TRACE_REC_MAP_PAGES);
		rec.domain = 1;
		rec.u.map_pages.iova = 0xfff00000;
		rec.u.map_pages.paddr = 0x100000;
		rec.u.map_pages.runs = cases[i].runs;
		rec.u.map_pages.nr = cases[i].nr;
		err.msg[0] = '\0';
		rc = trace_record_check(&rec, &ids, &err);
		if (!cases[i].what) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_true(rc < 0);
		if (!strstr(err.msg, cases[i].what))
			fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].what, err.msg);
	}
	trace_record_init(&rec, TRACE_REC_MAP_PAGES);
	rec.u.map_pages.runs = pg_runs;
	rec.u.map_pages.nr = 3;
	assert_int_equal(trace_map_pages_size(&rec), 0x1000 + 0x400000 + 0x3000);
	assert_int_equal(trace_record_size(&rec), TRACE_MAP_PAGES_FIXED + 3 * TRACE_PGRUN_SIZE);
	assert_string_equal(trace_type_name(TRACE_REC_MAP_PAGES), "map_pages");
	assert_int_equal(trace_type_parse("map_pages"), TRACE_REC_MAP_PAGES);
	assert_true(TRACE_REC_MAP_PAGES >= TRACE_REC_OPTIONAL);
}

/* A map_pages record claiming more runs than its size holds, or more than
 * the format allows, is damage. */
static void test_map_pages_damage(void **state)
{
	struct trace_record rec, back;
	struct trace_scratch scratch = { 0 };
	unsigned char buf[TRACE_MAP_PAGES_FIXED + 3 * TRACE_PGRUN_SIZE];
	struct errbuf err;

	(void)state;
	trace_record_init(&rec, TRACE_REC_MAP_PAGES);
	rec.u.map_pages.iova = 0x1ff000;
	rec.u.map_pages.paddr = 0x41ff000;
	rec.u.map_pages.runs = pg_runs;
	rec.u.map_pages.nr = 3;
	trace_record_encode(&rec, buf);
	assert_int_equal(trace_record_decode(buf, sizeof(buf), &back, &scratch, &err), 0);
	assert_int_equal(back.u.map_pages.nr, 3);
	assert_int_equal(back.u.map_pages.runs[1].pgsize, 0x200000);
	assert_int_equal(back.u.map_pages.runs[2].count, 3);
	trace_put32(buf + TRACE_MAP_PAGES_OFF_NR, 4);
	assert_true(trace_record_decode(buf, sizeof(buf), &back, &scratch, &err) < 0);
	assert_non_null(strstr(err.msg, "does not match its contents"));
	trace_put32(buf + TRACE_MAP_PAGES_OFF_NR, TRACE_MAP_PAGES_MAX + 1);
	assert_true(trace_record_decode(buf, sizeof(buf), &back, &scratch, &err) < 0);
	assert_non_null(strstr(err.msg, "runs (at most"));
	trace_scratch_release(&scratch);
}

static void test_writer_rejects(void **state)
{
	struct trace_writer w;
	struct trace_record rec;
	struct errbuf err;
	char *path = tmp_path();

	(void)state;
	assert_int_equal(trace_writer_open(&w, path, TRACE_SOURCE_GENERATED, &err), 0);
	trace_record_init(&rec, TRACE_REC_MAP);
	rec.device = 1; /* not defined */
	rec.u.map.size = 0x1000;
	assert_true(trace_writer_put(&w, &rec, &err) < 0);
	assert_non_null(strstr(err.msg, "undefined device 1"));
	trace_record_init(&rec, TRACE_REC_DEVICE);
	rec.device = 1;
	rec.u.device.name = "bad name";
	rec.u.device.len = 8;
	assert_true(trace_writer_put(&w, &rec, &err) < 0);
	trace_record_init(&rec, TRACE_REC_MAP);
	rec.u.map.iova = UINT64_MAX - 0xfff;
	rec.u.map.size = 0x2000;
	assert_true(trace_writer_put(&w, &rec, &err) < 0);
	assert_non_null(strstr(err.msg, "wrapping"));
	assert_int_equal(trace_writer_finish(&w, &err), 0);
	unlink(path);
	free(path);
}

static void test_streaming(void **state)
{
	struct trace_record recs[32];
	size_t n = sample_records(recs, 32), len, nr;
	char *path = tmp_path();
	unsigned char *buf;
	struct errbuf err;

	(void)state;
	write_samples(path, recs, n);
	buf = slurp(path, &len);
	/* the same records as a stream: flag set, count 0 */
	trace_put32(buf + TRACE_HDR_OFF_FLAGS, TRACE_FILE_STREAMING);
	trace_put64(buf + TRACE_HDR_OFF_COUNT, 0);
	spit(path, buf, len);
	assert_int_equal(read_all(path, &err, &nr), 0);
	assert_int_equal(nr, n);
	/* streaming with a count is contradictory */
	trace_put64(buf + TRACE_HDR_OFF_COUNT, 3);
	spit(path, buf, len);
	assert_true(read_all(path, &err, &nr) < 0);
	unlink(path);
	free(path);
	free(buf);
}

/* Random damage never crashes the reader (run under ASan by make check):
 * every damaged file reads to its end or fails naming the file. */
static void test_mutations(void **state)
{
	struct trace_record recs[32];
	size_t n = sample_records(recs, 32), len, nr;
	char *path = tmp_path(), *bad = tmp_path();
	unsigned char *buf, *copy;
	uint32_t seed = 1;
	struct errbuf err;
	int failed = 0;

	(void)state;
	write_samples(path, recs, n);
	buf = slurp(path, &len);
	copy = malloc(len);
	for (int i = 0; i < 20000; i++) {
		int flips;

		memcpy(copy, buf, len);
		seed = seed * 1103515245u + 12345u;
		flips = 1 + (int)((seed >> 16) % 8);
		while (flips--) {
			seed = seed * 1103515245u + 12345u;
			copy[(seed >> 8) % len] ^= (unsigned char)(1u << ((seed >> 4) % 8));
		}
		if (read_mem(copy, len, &err, &nr) < 0) {
			assert_non_null(strstr(err.msg, "<mutant>"));
			failed++;
		}
	}
	/* most damage is caught; a flip in a time stamp is not damage */
	assert_true(failed > 5000);
	unlink(path);
	unlink(bad);
	free(path);
	free(bad);
	free(buf);
	free(copy);
}

/* The example of man 5 iommutool-trace, byte for byte. */
static void test_man_page_example(void **state)
{
	static const unsigned char want[64] = {
		0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
		0x00, 0xe9, 0xa4, 0x35, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x03, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0xf0, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0x00, 0xf0, 0xa3, 0x02, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	unsigned char got[64];
	struct trace_record rec, back;
	struct trace_scratch scratch = { 0 };
	struct errbuf err;

	(void)state;
	trace_record_init(&rec, TRACE_REC_MAP);
	rec.time_ns = 900000000;
	rec.cpu = 0;
	rec.pid = 1;
	rec.domain = 1;
	rec.prot = TRACE_PROT_READ | TRACE_PROT_WRITE;
	rec.u.map.iova = 0xfffff000;
	rec.u.map.paddr = 0x2a3f000;
	rec.u.map.size = 0x1000;
	assert_int_equal(trace_record_size(&rec), sizeof(got));
	trace_record_encode(&rec, got);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(trace_record_decode(want, sizeof(want), &back, &scratch, &err), 0);
	assert_int_equal(back.u.map.paddr, 0x2a3f000);
	assert_int_equal(back.time_ns, 900000000);
	assert_int_equal(back.dir, TRACE_DIR_NONE);
	trace_scratch_release(&scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_damaged_headers),
		cmocka_unit_test(test_writer_rejects),
		cmocka_unit_test(test_map_pages),
		cmocka_unit_test(test_map_pages_damage),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_man_page_example),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
