/* Reading the kernel's ftrace text (/sys/kernel/tracing/trace, trace_pipe
 * and `trace-cmd report`): splitting a line into its common prefix and
 * the event, and parsing the iommu:*, dma:* and kprobe events we import.
 * Event formats: include/trace/events/iommu.h and dma.h (see
 * shared/reference/formats.md section 6). */
#ifndef IOMMUTOOL_TRACE_FTRACE_H
#define IOMMUTOOL_TRACE_FTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace.h"

#define FTRACE_LINE_MAX 65536 /* an event never spans more than a page */

enum ftrace_line_kind {
	FTRACE_LINE_BLANK,    /* empty, '#' comment, trace-cmd header */
	FTRACE_LINE_EVENT,    /* TASK-PID [CPU] FLAGS TIME: EVENT: BODY */
	FTRACE_LINE_LOST,     /* CPU:N [LOST M EVENTS] */
	FTRACE_LINE_OTHER,    /* anything else */
};

struct ftrace_line {
	enum ftrace_line_kind kind;
	uint32_t pid;
	uint32_t cpu;
	uint64_t time_ns;     /* seconds.fraction scaled to ns; a bare integer as is */
	const char *event;    /* not NUL-terminated */
	size_t event_len;
	const char *body;     /* NUL-terminated, no trailing newline */
	uint64_t lost;        /* FTRACE_LINE_LOST: count (0 unknown); BLANK:
			       * entries lost per an entries-in-buffer header */
};

/* Splits @line (modified: trailing newline and spaces removed). */
void ftrace_split_line(char *line, struct ftrace_line *out);

/* Reads one line into @buf (at most @cap - 1 bytes, NUL-terminated,
 * newline dropped): 1 = a line, 0 = end of file, -E2BIG = longer than
 * that, -EILSEQ = it holds a NUL byte (binary data), -errno on error. */
int ftrace_read_line(FILE *f, char *buf, size_t cap);

/* What an event means for domain attribution. */
enum ftrace_kind {
	FT_IOMMU_MAP,     /* iommu:map: no domain */
	FT_IOMMU_UNMAP,   /* iommu:unmap: no domain */
	FT_IOMMU_ATTACH,  /* iommu:attach_device_to_domain / detach_device_from_domain */
	FT_KPROBE_MAP,    /* dom iova paddr pgsize pgcount prot */
	FT_KPROBE_UNMAP,  /* dom iova pgsize pgcount */
	FT_KPROBE_ATTACH, /* dom dev */
	FT_KPROBE_FREE,   /* dom alone, in an event whose name has "free" */
	FT_DMA_MAP,       /* dma:* creating mappings (claims earlier iommu:map) */
	FT_DMA_UNMAP,     /* dma:* removing mappings */
	FT_OTHER,         /* faults, groups, syncs */
};

struct ftrace_event {
	enum ftrace_kind kind;
	struct trace_record rec;  /* header device/domain left 0 */
	char dev[TRACE_DEVICE_NAME_MAX + 1];  /* "" when none */
	uint64_t handle;          /* kprobe domain pointer */
	uint64_t pgsize, pgcount; /* kprobe map: the driver's pages (0 when
				   * the probe gave a size instead) */
	struct trace_seg *segs;   /* owned; rec arrays point here */
	uint64_t *phys;           /* owned */
	size_t bytes;             /* memory held by the arrays */
};

/* Parses the event of an FTRACE_LINE_EVENT line.  1 = one of ours,
 * 0 = not an event we import (an unknown line), < 0 = one of ours but
 * malformed (the message says what was expected). */
int ftrace_parse_event(const struct ftrace_line *line, struct ftrace_event *ev,
		       struct errbuf *err);
void ftrace_event_release(struct ftrace_event *ev);

#endif
