/* Private to src/mem: what the physmem backends share.  Opening a dump
 * file with the checks and messages every file source gives, reading it
 * from a read-only mapping or with pread, and the copy a peek falls back
 * to when the bytes are not in place. */
#ifndef IOMMUTOOL_MEM_BACKEND_H
#define IOMMUTOOL_MEM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "mem/physmem.h"
#include "util/err.h"

/* Opens @path read-only and checks that it is a non-empty regular file.
 * Returns the descriptor and sets *@size, or returns a negative
 * errno-style code with the message in @err. */
int mem_file_open(const char *path, uint64_t *size, struct errbuf *err);

/* pread until all @len bytes at @off are in.  0; -errno on a read error;
 * MEM_FILE_SHORT when the file ends first.  *@done (may be NULL) is how
 * many bytes were read. */
#define MEM_FILE_SHORT 1
int mem_file_pread(int fd, void *buf, size_t len, uint64_t off, size_t *done);

/* A file's bytes: mapped read-only when possible, else read with pread. */
struct mem_file {
	int fd;                     /* for pread when map is NULL; else -1 */
	const unsigned char *map;   /* the whole file */
	size_t map_len;
};

/* Takes @fd: maps the @size-byte file, or keeps @fd when it cannot be
 * mapped (e.g. /proc files). */
void mem_file_init(struct mem_file *f, int fd, uint64_t size);
/* Reads @len bytes at file offset @off, which hold physical address @pa;
 * the message names both and @path. */
int mem_file_read(const struct mem_file *f, const char *path, uint64_t off,
		  void *buf, size_t len, uint64_t pa, struct errbuf *err);
void mem_file_release(struct mem_file *f);

/* A peek buffer: for bytes a backend cannot show in place (a seam between
 * pages or segments, a zero tail, no mapping). */
struct peek_copy {
	unsigned char *buf;
	size_t len;
};

/* @len bytes at @pa read through @pm's own read into @pc; valid until the
 * next call.  NULL when they cannot be read or no memory is left. */
const void *peek_copy_read(struct peek_copy *pc, struct physmem *pm,
			   uint64_t pa, size_t len);
void peek_copy_release(struct peek_copy *pc);

#endif
