/* Private to src/mem and src/image: opening an ELF core file with the
 * checks and one-line messages both the memory reader (physmem_elf.c) and
 * the note reader (image_read.c) need. */
#ifndef IOMMUTOOL_ELFCORE_H
#define IOMMUTOOL_ELFCORE_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct elfcore {
	const char *path;   /* borrowed, for messages */
	int fd;
	uint64_t file_size;
	Elf *elf;
	GElf_Ehdr ehdr;
	size_t phnum;
};

/* Opens @path and checks that it is an ELF core file whose program
 * headers lie inside the file.  On error nothing stays open. */
int elfcore_open(const char *path, struct elfcore *ec, struct errbuf *err);
void elfcore_close(struct elfcore *ec);

/* Program header @i (converted to host order) and its file offset. */
int elfcore_phdr(struct elfcore *ec, size_t i, GElf_Phdr *ph,
		 struct errbuf *err);
uint64_t elfcore_phdr_offset(const struct elfcore *ec, size_t i);

#endif
