/* Importing ftrace text into trace.bin.
 *
 * iommu:map/unmap carry no domain.  The importer keeps a window of recent
 * events and attributes each of them, in this order of preference:
 *  1. kprobe events on the driver's map/unmap (dom iova paddr pgsize
 *     pgcount [prot] / dom iova pgsize pgcount) of the same task that start
 *     at the same iova and add up to the same range: they are merged into
 *     the iommu record, which takes their domain and prot;
 *  2. dma:* events of the same task whose DMA addresses overlap it: the
 *     record takes the device, and the device's domain (from a kprobe on
 *     the driver's attach, dom dev, or else one domain per device);
 *  3. with neither kind of event anywhere in the trace, every record goes
 *     into one domain (TRACE_DOMAIN_ORIGIN_SINGLE).
 * Kprobe events nothing claimed become driver-level records of their own. */
#ifndef IOMMUTOOL_TRACE_IMPORT_H
#define IOMMUTOOL_TRACE_IMPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/ftrace.h"
#include "trace/trace.h"

#define IMPORT_WINDOW 1024               /* events held back for attribution */
#define IMPORT_WINDOW_BYTES (16u << 20)  /* and their arrays, at most */

enum import_attribution {
	IMPORT_ATTR_DYNAMIC,  /* not known in advance (a pipe): decide as we go */
	IMPORT_ATTR_SOURCES,  /* the input has kprobe or dma:* events */
	IMPORT_ATTR_NONE,     /* it has neither: one domain */
};

struct import_stats {
	uint64_t lines;
	uint64_t unknown;       /* lines we did not recognise */
	uint64_t records;       /* records written, definitions included */
	uint64_t unattributed;  /* iommu records left without a domain */
	uint64_t lost;          /* events the tracer reported lost */
	uint32_t device_domains; /* domains inferred one per device */
	bool single_domain;     /* rule 3 was used */
};

struct import_slot;
struct import_dev;
struct import_dom;

struct importer {
	struct trace_writer *w;
	enum import_attribution attribution;
	bool seen_sources;
	/* the window: a ring of slots */
	struct import_slot *win;
	size_t head, len, bytes;
	/* interned devices and domains (internal ids = index + 1) */
	struct import_dev *devs;
	uint32_t nr_devs, devs_cap;
	uint32_t *dev_hash;
	uint32_t dev_hash_size;
	struct import_dom *doms;
	uint32_t nr_doms, doms_cap;
	uint32_t single_dom;     /* internal id of the single domain, 0 until used */
	uint32_t next_file_dev, next_file_dom;
	uint64_t last_time;      /* of the latest event: lost-event lines have none */
	struct import_stats stats;
};

int importer_init(struct importer *imp, struct trace_writer *w,
		  enum import_attribution attribution, struct errbuf *err);
/* Feeds one line (modified).  Errors name neither file nor line: the
 * caller prefixes them. */
int importer_line(struct importer *imp, char *line, struct errbuf *err);
/* Writes what the window still holds; the stats are final after. */
int importer_flush(struct importer *imp, struct errbuf *err);
void importer_release(struct importer *imp);

/* Scans a whole file: does it hold any kprobe or dma:* event that can
 * attribute a domain?  Rewinds the file. */
int import_prescan(FILE *f, bool *has_sources, struct errbuf *err);

/* `trace import`: @in ("-" = stdin) to @out ("-" = stdout).  On error the
 * output file is removed. */
int import_ftrace_file(const char *in, const char *out, struct import_stats *stats,
		       struct errbuf *err);

#endif
