/* Where a command's physical memory and register snapshot come from: an
 * ELF core (with or without our IOMMUTOOL note) or a raw file at --base,
 * plus --iommu/--reg/--unit from the command line.  Shared as an argp
 * child by every command that reads a dump; it also takes the SOURCE
 * argument. */
#ifndef IOMMUTOOL_SOURCE_H
#define IOMMUTOOL_SOURCE_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"
#include "mem/physmem.h"

struct source_reg {
	char *name;    /* points into argv */
	uint64_t value;
};

struct source_opts {
	const char *prog;        /* for error messages */
	const char *path;        /* SOURCE argument */
	bool raw;                /* --base given */
	uint64_t base;
	const char *iommu;       /* --iommu */
	struct source_reg *regs; /* owned array of --reg */
	size_t nr_regs;
	bool unit_set;           /* --unit */
	uint32_t unit;
};

extern const struct argp source_argp;

/* Opens the source and builds its image info: the note's units, then
 * --iommu and --reg applied to the selected unit (unit 0 by default).
 * Register names are checked against the decoder's list. */
int source_open(const struct source_opts *o, struct physmem **mem,
		struct image_info *info, struct errbuf *err);
void source_opts_release(struct source_opts *o);

#endif
