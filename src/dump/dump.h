/* The generic dump layer: runs a unit's context decoder, collects its
 * attachments, walks every distinct page-table root once and emits mapping
 * records per device (so shared domains still answer per-device questions),
 * plus the checks that apply to mappings of any format. */
#ifndef IOMMUTOOL_DUMP_H
#define IOMMUTOOL_DUMP_H

#include <stdbool.h>

#include "decoders/iommu.h"
#include "mem/physmem.h"
#include "out/record.h"

struct dump_stats {
	uint64_t attachments;  /* translation contexts found */
	uint64_t translated;
	uint64_t passthrough;
	uint64_t blocked;
	uint64_t roots;        /* distinct page-table roots walked */
	uint64_t tables;       /* table pages read by the walks */
	uint64_t entries;
	uint64_t leaves;
};

struct dump_params {
	struct physmem *mem;
	const struct image_unit *unit;
	const struct dump_filter *filter;
	struct pt_limits limits;
	bool by_domain;        /* one set of records per domain, not device */
	struct sink *out;      /* mappings and findings */
};

/* Decodes one unit.  Returns <0 with @err when the unit cannot be decoded
 * at all (no decoder for its kind, a required register missing, the root
 * table outside the dump); everything else becomes findings. */
int dump_unit(const struct dump_params *p, struct dump_stats *stats,
	      struct errbuf *err);

#endif
