/* Recording from a live tracefs: enable the iommu:* and dma:* events,
 * read trace_pipe for a while, import what arrives, restore the event
 * switches as they were. */
#ifndef IOMMUTOOL_TRACE_TRACEFS_H
#define IOMMUTOOL_TRACE_TRACEFS_H

#include "trace/import.h"

#define TRACEFS_DEFAULT "/sys/kernel/tracing"
#define TRACEFS_DEBUGFS "/sys/kernel/debug/tracing"

/* @dir NULL: look for tracefs at the usual places (and require root). */
int tracefs_record(const char *dir, const char *out, unsigned seconds,
		   struct import_stats *stats, struct errbuf *err);

#endif
