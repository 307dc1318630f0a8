/* ftrace text: line splitting, event parsing, and the importer's
 * robustness against damaged lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/ftrace.h"
#include "trace/import.h"

static void split(const char *text, struct ftrace_line *out, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", text);
	ftrace_split_line(buf, out);
}

static void test_split_shapes(void **state)
{
	char buf[512];
	struct ftrace_line l;

	(void)state;
	/* kernel trace file with irq flags */
	split("  systemd-udevd-201     [001] d..1.     1.204017: map: IOMMU: iova=0x1\n",
	      &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_EVENT);
	assert_int_equal(l.pid, 201);
	assert_int_equal(l.cpu, 1);
	assert_int_equal(l.time_ns, 1204017000);
	assert_int_equal(l.event_len, 3);
	assert_memory_equal(l.event, "map", 3);
	assert_string_equal(l.body, "IOMMU: iova=0x1");

	/* record-tgid column, task name with spaces and dashes */
	split("  my task-name-7 (    7) [003] .....  12.5: dma_map_page: x", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_EVENT);
	assert_int_equal(l.pid, 7);
	assert_int_equal(l.cpu, 3);
	assert_int_equal(l.time_ns, 12500000000ull);

	/* trace-cmd report: no flags, padded event name, 9 fraction digits */
	split("  <idle>-0  [002]   412.004211123: map:     IOMMU: x", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_EVENT);
	assert_int_equal(l.pid, 0);
	assert_int_equal(l.time_ns, 412004211123ull);
	assert_string_equal(l.body, "IOMMU: x");

	/* counter clock: a bare integer */
	split("bash-1 [000] ..... 123456: map: IOMMU: x", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_EVENT);
	assert_int_equal(l.time_ns, 123456);

	/* headers and markers */
	split("# tracer: nop", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_BLANK);
	split("# entries-in-buffer/entries-written: 5/12   #P:2", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_BLANK);
	assert_int_equal(l.lost, 7);
	split("cpus=4", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_BLANK);
	split("CPU:3 [LOST 42 EVENTS]", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_LOST);
	assert_int_equal(l.cpu, 3);
	assert_int_equal(l.lost, 42);
	split("CPU:1 [9 EVENTS DROPPED]", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_LOST);
	assert_int_equal(l.lost, 9);

	/* not ftrace */
	split("hello [world] 1.0: x: y", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_OTHER);
	split("bash-1 [000] ..... 1.0000000001: map: x", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_OTHER); /* 10 fraction digits */
	split("bash-x [000] ..... 1.0: map: x", &l, buf, sizeof(buf));
	assert_int_equal(l.kind, FTRACE_LINE_OTHER);
}

static int parse(const char *text, struct ftrace_event *ev, struct errbuf *err)
{
	static char buf[8192];
	struct ftrace_line l;

	snprintf(buf, sizeof(buf), "%s", text);
	ftrace_split_line(buf, &l);
	assert_int_equal(l.kind, FTRACE_LINE_EVENT);
	return ftrace_parse_event(&l, ev, err);
}

static void test_iommu_events(void **state)
{
	struct ftrace_event ev;
	struct errbuf err;

	(void)state;
	assert_int_equal(parse("a-1 [000] 1.0: map: IOMMU: iova=0x00000000fffff000 - "
			       "0x0000000100000000 paddr=0x0000000002a3f000 size=4096", &ev, &err), 1);
	assert_int_equal(ev.kind, FT_IOMMU_MAP);
	assert_int_equal(ev.rec.u.map.iova, 0xfffff000);
	assert_int_equal(ev.rec.u.map.size, 4096);
	assert_true(ev.rec.flags & TRACE_F_NO_PROT);

	assert_int_equal(parse("a-1 [000] 1.0: unmap: IOMMU: iova=0x00000000ffe00000 "
			       "size=4096 unmapped_size=2097152", &ev, &err), 1);
	assert_int_equal(ev.rec.u.unmap.unmapped, 2097152);

	/* another subsystem's "map" event is not ours */
	assert_int_equal(parse("a-1 [000] 1.0: map: region=1", &ev, &err), 0);
	/* ours, damaged: one message saying what was expected */
	assert_true(parse("a-1 [000] 1.0: map: IOMMU: iova=0x1000 paddr=0x2000", &ev, &err) < 0);
	assert_non_null(strstr(err.msg, "size=N"));
	assert_true(parse("a-1 [000] 1.0: map: IOMMU: iova=0x1000 paddr=0x2000 size=0", &ev, &err) < 0);
	assert_true(parse("a-1 [000] 1.0: map: IOMMU: iova=0xfffffffffffff000 paddr=0x2000 size=8192",
			  &ev, &err) < 0);
	assert_true(parse("a-1 [000] 1.0: unmap: IOMMU: iova=0x1000 size=4096 unmapped_size=4096 x",
			  &ev, &err) < 0);
	assert_non_null(strstr(err.msg, "end of line"));
}

static void test_dma_events(void **state)
{
	struct ftrace_event ev;
	struct errbuf err;

	(void)state;
	assert_int_equal(parse("a-1 [000] 1.0: dma_map_phys: 0000:00:04.0 dir=FROM_DEVICE "
			       "dma_addr=fffff200 size=1536 phys_addr=4a12200 attrs=", &ev, &err), 1);
	assert_int_equal(ev.rec.type, TRACE_REC_DMA_MAP);
	assert_string_equal(ev.dev, "0000:00:04.0");
	assert_int_equal(ev.rec.dir, TRACE_DIR_FROM_DEVICE);
	assert_int_equal(ev.rec.u.dma_map.dma_addr, 0xfffff200);
	assert_int_equal(ev.rec.u.dma_map.attrs, 0);

	assert_int_equal(parse("a-1 [000] 1.0: dma_unmap_page: d dir=NONE dma_addr=1 size=2 "
			       "attrs=SKIP_CPU_SYNC|NEW_FANCY_FLAG|0x1000", &ev, &err), 1);
	assert_int_equal(ev.rec.u.dma_unmap.attrs,
			 TRACE_ATTR_SKIP_CPU_SYNC | TRACE_ATTR_UNKNOWN | 0x1000);

	assert_int_equal(parse("a-1 [000] 1.0: dma_map_sg: d dir=TO_DEVICE nents=2/200 ents=1/1 "
			       "[TRUNCATED] dma_addrs={0xf000} sizes={0x2000} phys_addrs={0x1000,0x2000} "
			       "attrs=", &ev, &err), 1);
	assert_int_equal(ev.rec.u.map_sg.full_nents, 200);
	assert_int_equal(ev.rec.u.map_sg.nr_in, 2);
	assert_true(ev.rec.flags & TRACE_MAP_SG_F_TRUNCATED);
	assert_true(ev.rec.flags & TRACE_MAP_SG_F_NO_IN_LENGTHS);
	assert_int_equal(ev.rec.u.map_sg.out[0].length, 0x2000);
	ftrace_event_release(&ev);

	/* arrays that disagree with the counts */
	assert_true(parse("a-1 [000] 1.0: dma_map_sg: d dir=TO_DEVICE nents=3/3 ents=1/1 "
			  "dma_addrs={0xf000} sizes={0x2000} phys_addrs={0x1000,0x2000} attrs=",
			  &ev, &err) < 0);
	assert_true(parse("a-1 [000] 1.0: dma_map_sg: d dir=TO_DEVICE dma_addrs={0xf000,0x1} "
			  "sizes={0x2000} phys_addrs={0x1000} attrs=", &ev, &err) < 0);
	assert_true(parse("a-1 [000] 1.0: dma_sync_sg_for_cpu: d dir=TO_DEVICE dma_addrs={0xf000 "
			  "sizes={0x2000}", &ev, &err) < 0);
	assert_true(parse("a-1 [000] 1.0: dma_sync_single_for_cpu: d dir=TO_DEVICE dma_addr=1 "
			  "size=99999999999", &ev, &err) < 0);
}

static void test_kprobe_shapes(void **state)
{
	struct ftrace_event ev;
	struct errbuf err;

	(void)state;
	assert_int_equal(parse("a-1 [000] 1.0: whatever_name: (f+0x9/0x10) dom=0xffff1 iova=0x1000 "
			       "paddr=0x2000 pgsize=0x1000 pgcount=3 prot=0x3", &ev, &err), 1);
	assert_int_equal(ev.kind, FT_KPROBE_MAP);
	assert_int_equal(ev.handle, 0xffff1);
	assert_int_equal(ev.rec.u.map.size, 0x3000);
	assert_int_equal(ev.rec.prot, 3);

	assert_int_equal(parse("a-1 [000] 1.0: r_unmap: (caller+0x1/0x2 <- f) dom=0x1 iova=0x1000 "
			       "pgsize=4096 pgcount=1", &ev, &err), 1);
	assert_int_equal(ev.kind, FT_KPROBE_UNMAP);
	assert_int_equal(ev.rec.u.unmap.unmapped, TRACE_UNKNOWN64);

	assert_int_equal(parse("a-1 [000] 1.0: att: (f) dom=0x1 dev=\"0000:00:03.0\"", &ev, &err), 1);
	assert_int_equal(ev.kind, FT_KPROBE_ATTACH);
	assert_string_equal(ev.dev, "0000:00:03.0");

	/* dom alone frees a domain, only in an event named for it */
	assert_int_equal(parse("a-1 [000] 1.0: iommutool_free: (f) dom=0xffff2", &ev, &err), 1);
	assert_int_equal(ev.kind, FT_KPROBE_FREE);
	assert_int_equal(ev.handle, 0xffff2);
	assert_int_equal(parse("a-1 [000] 1.0: p_flush: (f) dom=0xffff2", &ev, &err), 0);

	/* other field sets are not ours */
	assert_int_equal(parse("a-1 [000] 1.0: p: (f) dom=0x1 flags=3", &ev, &err), 0);
	assert_int_equal(parse("a-1 [000] 1.0: p: (f) iova=0x1 size=3", &ev, &err), 0);
	/* ours but unreadable */
	assert_true(parse("a-1 [000] 1.0: p: (f) dom=0x1 iova=-4 size=3", &ev, &err) < 0);
	assert_true(parse("a-1 [000] 1.0: p: (f) dom=0x1 iova=0x1 pgsize=0x8000000000000000 "
			  "pgcount=4", &ev, &err) < 0);
}

/* Damaged lines never crash the importer: each is imported, skipped or
 * refused with a message. */
static void test_importer_mutations(void **state)
{
	static const char *const lines[] = {
		"  bash-12 [001] d..1.  5.000001: map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000002a3f000 size=4096",
		"  bash-12 [001] .....  5.000002: unmap: IOMMU: iova=0x00000000fffff000 size=4096 unmapped_size=4096",
		"  bash-12 [001] .....  5.000003: dma_map_sg: 0000:00:05.0 dir=TO_DEVICE nents=3/3 ents=1/1 dma_addrs={0xffffc000} sizes={0x2800} phys_addrs={0x5000000,0x5001000,0x7000000} attrs=SKIP_CPU_SYNC",
		"  bash-12 [001] .....  5.000004: p_map: (f+0x9/0x170) dom=0xffff888004d1a000 iova=0xfffff000 paddr=0x2a3f000 pgsize=0x1000 pgcount=0x1 prot=0x3",
		"  bash-12 [001] .....  5.000005: dma_alloc_sgt: 0000:00:05.0 dir=FROM_DEVICE dma_addr=ffe00000 size=8192 phys_addrs={0x3500000,0x3700000} flags=GFP_KERNEL attrs=",
		"  bash-12 [001] .....  5.000006: io_page_fault: IOMMU:e1000e 0000:00:03.0 iova=0x00000000fffff000 flags=0x0001",
		"CPU:1 [LOST 17 EVENTS]",
	};
	static const char alphabet[] = " -=:{},.[]x0123456789abcdefIOMMU\"()|";
	char path[] = "/tmp/test_trace_ftrace_XXXXXX";
	uint32_t seed = 12345;
	struct trace_writer w;
	struct importer imp;
	struct errbuf err;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(trace_writer_open(&w, path, TRACE_SOURCE_GENERATED, &err), 0);
	assert_int_equal(importer_init(&imp, &w, IMPORT_ATTR_DYNAMIC, &err), 0);
	for (int i = 0; i < 20000; i++) {
		char buf[512];
		const char *src = lines[i % (sizeof(lines) / sizeof(lines[0]))];
		size_t len = strlen(src);
		int edits;

		memcpy(buf, src, len + 1);
		seed = seed * 1103515245u + 12345u;
		edits = 1 + (int)((seed >> 16) % 4);
		while (edits--) {
			size_t at;

			seed = seed * 1103515245u + 12345u;
			at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 3) {
			case 0: /* replace */
				buf[at] = alphabet[(seed >> 4) % (sizeof(alphabet) - 1)];
				break;
			case 1: /* cut */
				buf[at] = '\0';
				len = at ? at : 1;
				break;
			default: /* delete */
				memmove(buf + at, buf + at + 1, len - at);
				len = len > 1 ? len - 1 : 1;
				break;
			}
			if (buf[0] == '\0')
				break;
		}
		err.msg[0] = '\0';
		if (importer_line(&imp, buf, &err) < 0)
			assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(importer_flush(&imp, &err), 0);
	importer_release(&imp);
	assert_int_equal(trace_writer_finish(&w, &err), 0);

	/* and what was written reads back */
	{
		struct trace_reader r;
		struct trace_record rec;
		int rc;

		assert_int_equal(trace_reader_open(&r, path, &err), 0);
		while ((rc = trace_reader_next(&r, &rec, &err)) == 1)
			;
		assert_int_equal(rc, 0);
		assert_true(r.nr_read > 100);
		trace_reader_release(&r);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_shapes),
		cmocka_unit_test(test_iommu_events),
		cmocka_unit_test(test_dma_events),
		cmocka_unit_test(test_kprobe_shapes),
		cmocka_unit_test(test_importer_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
