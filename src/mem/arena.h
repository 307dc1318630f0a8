/* A sparse, writable physical memory of 4 KiB pages that synth and replay
 * build page tables in.  It is also a physmem, so the decoders read what
 * the encoders wrote through the same path as a dump. */
#ifndef IOMMUTOOL_ARENA_H
#define IOMMUTOOL_ARENA_H

#include <stdint.h>

#include "mem/physmem.h"

struct arena;

/* Page frames are handed out from [base, base + limit). */
struct arena *arena_new(uint64_t base, uint64_t limit);
void arena_free(struct arena *a);

/* A zeroed 4 KiB page; returns its physical address, 0 when exhausted
 * (so page 0 is never handed out, though it can be reserved). */
uint64_t arena_alloc_page(struct arena *a);
/* Returns a page to the allocator (contents are cleared on reuse). */
void arena_free_page(struct arena *a, uint64_t pa);
/* Makes [pa, pa+len) present (zero-filled) at a fixed address, e.g. a
 * root table a spec places explicitly. */
int arena_reserve(struct arena *a, uint64_t pa, uint64_t len, struct errbuf *err);
/* Writable pointer to the start of the page holding @pa (add pa & 0xfff
 * for the byte), NULL if not present. */
void *arena_page(struct arena *a, uint64_t pa);
uint64_t arena_pages_in_use(const struct arena *a);

/* A physmem view of the arena (valid while the arena lives; the view
 * owns nothing of the arena).  Its ranges are recomputed on each call. */
int arena_physmem(struct arena *a, struct physmem **out, struct errbuf *err);

#endif
