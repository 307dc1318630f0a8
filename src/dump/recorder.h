/* A physmem that passes reads through to another one and remembers which
 * 4 KiB pages were read, so `extract` can keep exactly the pages a decoder
 * needed (a 256 MiB dump shrinks to its IOMMU tables). */
#ifndef IOMMUTOOL_RECORDER_H
#define IOMMUTOOL_RECORDER_H

#include "mem/physmem.h"

/* @inner stays owned by the caller and must outlive the recorder. */
int recorder_new(struct physmem *inner, struct physmem **out, struct errbuf *err);
/* A physmem presenting only the recorded pages (reads go to @inner);
 * valid while the recorder and inner live. */
int recorder_subset(struct physmem *recorder, struct physmem **out,
		    struct errbuf *err);
uint64_t recorder_pages(const struct physmem *recorder);

#endif
