/* Replaying a trace through the engine (src/engine/engine.h): records of
 * the IOMMU API (map, unmap, iotlb_sync) act on their domain with the
 * kernel's IOVAs; records of the DMA API (dma_map, map_sg, dma_alloc, the
 * two-step IOVA calls) go through the engine's own DMA layer, which
 * allocates IOVAs and flushes by the chosen policy.  Map/unmap records
 * flagged dma_api are what the kernel's DMA layer did for those calls, so
 * they are not replayed a second time. */
#ifndef IOMMUTOOL_TRACE_REPLAY_H
#define IOMMUTOOL_TRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "image/image.h"
#include "trace/trace.h"

enum replay_policy {
	REPLAY_STRICT,
	REPLAY_LAZY,
	REPLAY_LAZY_SINGLE,
	REPLAY_CACHING_MODE, /* VT-d caching mode: flush on map, strict */
	REPLAY_NR_POLICIES
};
const char *replay_policy_name(enum replay_policy p);
/* Exact match; -1 when unknown. */
int replay_policy_parse(const char *name);

struct replay_config {
	enum iommu_kind iommu;
	enum replay_policy policy;
	uint64_t pgsize_bitmap;   /* 0: the codec's; set: also used instead of
				   * the page sizes a trace recorded */
	const char *allocator;    /* NULL: the engine's default */
	struct image_unit regs;   /* --reg NAME=VALUE (regs only) */
	unsigned max_findings;
	bool check;               /* the engine's reference model checks every op */
	const char *image;        /* -o: write the final tables here */
};

/* What the replay saw besides the engine's own report. */
struct replay_stats {
	uint64_t records;
	uint64_t replayed;
	uint64_t map_pages;            /* maps with the driver's page sizes */
	uint64_t map_pages_replayed;   /* of them, made with exactly those */
	uint64_t map_pages_differ;     /* of them, the engine's own choice
					* would take other pages */
	uint64_t skipped_dma_api;      /* map/unmap made by a replayed DMA call */
	uint64_t skipped_no_domain;    /* map/unmap the trace could not attribute */
	uint64_t skipped_failed;       /* calls that failed in the kernel */
	uint64_t skipped_truncated;    /* map_sg whose entries were cut */
	uint64_t sg_lengths_estimated; /* map_sg without input lengths */
	uint64_t engine_errors;        /* operations the engine refused */
	uint64_t unmapped_differs;     /* unmap size differs from the kernel's */
	uint64_t dma_addr_differs;     /* another IOVA than the kernel chose */
	uint64_t dma_unmatched;        /* unmap/free of nothing mapped */
	uint64_t faults_not_reproduced; /* kernel fault, engine translation */
	uint64_t lost_events;
	uint32_t domains, devices;
	unsigned cpus;
	unsigned image_devices_skipped; /* -o: devices without a PCI name */
};

/* Calls @fn for every counter of @s, with stable dotted names. */
int replay_stats_foreach(const struct replay_stats *s,
			 int (*fn)(void *arg, const char *name, uint64_t value),
			 void *arg);

/* A device's final domain, for the -o image. */
struct replay_attachment {
	const char *dev;           /* device name */
	uint32_t domain;           /* trace domain id (the image's DID) */
	struct engine_domain *d;
};

/* Writes an ELF image (iommutool-image(5)) whose tables map what the
 * model left mapped in the domains of @at, rebuilt by the IOMMU decoder's
 * synth encoder (VT-d and AMD for now).  Devices without a PCI name are
 * counted in *@skipped and left out. */
bool replay_image_supported(enum iommu_kind kind);
/* Whether a replay for @kind reads register @name (--reg). */
bool replay_reg_known(enum iommu_kind kind, const char *name);
int replay_image_write(const char *path, const struct replay_config *cfg,
		       const struct replay_attachment *at, size_t n, unsigned *skipped,
		       struct errbuf *err);

/* Replays @path; on success *@engine holds the final state (the caller
 * reads engine_report and frees it). */
int replay_trace(const char *path, const struct replay_config *cfg,
		 struct engine **engine, struct replay_stats *stats,
		 struct errbuf *err);

#endif
