/* Physical memory as a decoder sees it: a set of present ranges and a read
 * that fails (with the physical address in the message) outside them.
 * Backends: ELF core files (vmcore, QEMU dump-guest-memory, our synthetic
 * images), a raw flat file at a base address, and an in-memory arena that
 * synth and replay write page tables into. */
#ifndef IOMMUTOOL_PHYSMEM_H
#define IOMMUTOOL_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct physmem_range {
	uint64_t start; /* physical address */
	uint64_t size;  /* bytes */
};

struct physmem;

struct physmem_ops {
	const char *name; /* "elf", "raw", "arena" */
	/* Reads exactly @len bytes at @pa.  The caller has already checked
	 * that [pa, pa+len) lies inside one present range. */
	int (*read)(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		    struct errbuf *err);
	/* Optional: a pointer valid for @len bytes until the next call on @pm
	 * (zero-copy for the arena and mmapped files).  NULL = use read. */
	const void *(*peek)(struct physmem *pm, uint64_t pa, size_t len);
	/* Releases @priv only; physmem_free then frees path, ranges and
	 * the struct itself (all malloc'd). */
	void (*free)(struct physmem *pm);
};

struct physmem {
	const struct physmem_ops *ops;
	char *path;                    /* owned; file name for messages */
	struct physmem_range *ranges;  /* owned; sorted, non-overlapping */
	size_t nr_ranges;
	void *priv;                    /* backend state */
	unsigned machine;              /* ELF e_machine; 0 for raw and arena */
};

/* Opens an ELF core file (ET_CORE, PT_LOAD with p_paddr).  Data is read
 * lazily; only the program headers are kept in memory. */
int physmem_open_elf(const char *path, struct physmem **out, struct errbuf *err);
/* A flat file whose first byte is physical address @base. */
int physmem_open_raw(const char *path, uint64_t base, struct physmem **out,
		     struct errbuf *err);

/* Reads [pa, pa+len): an error naming the file and the address when any
 * byte is outside present memory. */
int physmem_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		 struct errbuf *err);
static inline int physmem_read_u64(struct physmem *pm, uint64_t pa,
				   uint64_t *val, struct errbuf *err)
{
	return physmem_read(pm, pa, val, sizeof(*val), err); /* LE hosts */
}
/* Zero-copy view when the backend has one and the range is present. */
const void *physmem_peek(struct physmem *pm, uint64_t pa, size_t len);
/* True when [pa, pa+len) lies entirely inside one present range. */
bool physmem_present(const struct physmem *pm, uint64_t pa, uint64_t len);
/* Highest present address + 1 (0 for an empty source). */
uint64_t physmem_end(const struct physmem *pm);
void physmem_free(struct physmem *pm);

/* Helper for backends: sorts ranges, merges adjacent ones, and rejects
 * overlaps (a hostile ELF can claim the same address twice) and ranges
 * reaching 2^64.  Takes ownership of @ranges (malloc'd; freed on error)
 * and makes it pm->ranges, freeing the old list; on error pm keeps its
 * old ranges. */
int physmem_set_ranges(struct physmem *pm, struct physmem_range *ranges,
		       size_t nr, struct errbuf *err);

#endif
