/* Dump-path speed on one image, in one run:
 *   plain  every present byte read in order through physmem_read (64 KiB
 *          at a time) and summed as 8-byte words: the floor for anything
 *          that reads the same tables
 *   dump   what `iommutool dump IMAGE` does (the ELF reader and the
 *          image note, dump_unit on every unit into a printer writing to
 *          /dev/null), once per output mode
 * For each: entries (PTEs) read and validated per second, leaves per
 * second, and the ratio of its time to the plain read.
 * Times are this process's CPU time (user and system), best of the rounds,
 * so a machine shared with other jobs disturbs them less than wall-clock
 * time would.
 * Usage: bench_dump IMAGE [rounds] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump/dump.h"
#include "image/image.h"
#include "out/print.h"

#define PLAIN_CHUNK (64u * 1024)

struct mode {
	const char *name;
	bool json, pages;
};

static const struct mode modes[] = {
	{ "text, coalesced", false, false },
	{ "text, --pages", false, true },
	{ "json, coalesced", true, false },
	{ "json, --pages", true, true },
};

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads every present range in order; returns the bytes read. */
static int plain_read(struct physmem *mem, uint8_t *buf, uint64_t *bytes,
		      uint64_t *sum, struct errbuf *err)
{
	uint64_t s = 0, total = 0;

	for (size_t r = 0; r < mem->nr_ranges; r++) {
		const struct physmem_range *range = &mem->ranges[r];

		for (uint64_t off = 0; off < range->size; off += PLAIN_CHUNK) {
			size_t len = range->size - off < PLAIN_CHUNK ?
				     (size_t)(range->size - off) : PLAIN_CHUNK;

			if (physmem_read(mem, range->start + off, buf, len, err) < 0)
				return -1;
			for (size_t i = 0; i + 8 <= len; i += 8) {
				uint64_t v;

				memcpy(&v, buf + i, 8);
				s += v;
			}
			total += len;
		}
	}
	*bytes = total;
	*sum = s;
	return 0;
}

static int dump_all(struct physmem *mem, const struct image_info *info,
		    FILE *out, const struct mode *m, struct dump_stats *stats,
		    uint64_t *findings, struct errbuf *err)
{
	struct printer pr;
	int rc = 0;

	*stats = (struct dump_stats){ 0 };
	printer_init(&pr, out, m->json, m->pages);
	for (size_t i = 0; i < info->nr_units && rc == 0; i++) {
		struct dump_params p = {
			.mem = mem, .unit = &info->units[i],
			.limits = { PT_DEFAULT_MAX_TABLES, PT_DEFAULT_MAX_ENTRIES },
			.out = &pr.sink,
		};

		rc = dump_unit(&p, stats, err);
	}
	if (rc == 0 && printer_finish(&pr) < 0)
		rc = err_set(err, -EIO, "cannot write /dev/null");
	*findings = pr.findings[0] + pr.findings[1] + pr.findings[2];
	printer_release(&pr);
	return rc;
}

int main(int argc, char **argv)
{
	struct physmem *mem = NULL;
	struct image_info info;
	struct errbuf err = { "" };
	int rounds = argc > 2 ? atoi(argv[2]) : 10;
	uint8_t *buf = malloc(PLAIN_CHUNK);
	FILE *devnull = fopen("/dev/null", "w");
	double best_plain = 1e30;
	uint64_t bytes = 0, sum = 0;

	if (argc < 2 || rounds < 1) {
		fprintf(stderr, "usage: bench_dump IMAGE [rounds]\n");
		return 2;
	}
	if (!buf || !devnull) {
		perror("bench_dump");
		return 1;
	}
	image_info_init(&info);
	if (physmem_open_elf(argv[1], &mem, &err) < 0 ||
	    image_read_notes(argv[1], &info, &err) < 0) {
		fprintf(stderr, "bench_dump: %s\n", err.msg);
		return 1;
	}
	for (int k = 0; k < rounds; k++) {
		double t0 = cpu_now(), t;

		if (plain_read(mem, buf, &bytes, &sum, &err) < 0) {
			fprintf(stderr, "bench_dump: %s\n", err.msg);
			return 1;
		}
		t = cpu_now() - t0;
		if (t < best_plain)
			best_plain = t;
	}
	printf("%s: %llu bytes present (checksum %llx)\n", argv[1],
	       (unsigned long long)bytes, (unsigned long long)sum);
	printf("  %-16s %8.2f ms  %7.1f M entries/s  (best of %d)\n", "plain read",
	       best_plain * 1e3, (double)bytes / 8 / best_plain * 1e-6, rounds);
	for (size_t mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++) {
		struct dump_stats stats;
		uint64_t findings = 0;
		double best = 1e30;

		for (int k = 0; k < rounds; k++) {
			double t0 = cpu_now(), t;

			if (dump_all(mem, &info, devnull, &modes[mi], &stats,
				     &findings, &err) < 0) {
				fprintf(stderr, "bench_dump: %s\n", err.msg);
				return 1;
			}
			t = cpu_now() - t0;
			if (t < best)
				best = t;
		}
		printf("  %-16s %8.2f ms  %7.1f M entries/s  %7.1f M leaves/s  %5.2fx plain"
		       "  (%llu entries, %llu leaves, %llu tables, %llu findings)\n",
		       modes[mi].name, best * 1e3,
		       (double)stats.entries / best * 1e-6,
		       (double)stats.leaves / best * 1e-6, best / best_plain,
		       (unsigned long long)stats.entries,
		       (unsigned long long)stats.leaves,
		       (unsigned long long)stats.tables,
		       (unsigned long long)findings);
	}
	fclose(devnull);
	free(buf);
	physmem_free(mem);
	image_info_release(&info);
	return 0;
}
