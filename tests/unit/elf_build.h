/* Test helper: writes small ELF files byte by byte (either class, either
 * byte order, any header values), so tests can make well-formed cores and
 * every kind of broken one without going through the code under test. */
#ifndef IOMMUTOOL_TEST_ELF_BUILD_H
#define IOMMUTOOL_TEST_ELF_BUILD_H

#include <elf.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tseg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
	uint32_t flags;
	uint64_t align;
};

struct tcore {
	int cls;          /* ELFCLASS32 / ELFCLASS64 */
	int data;         /* ELFDATA2LSB / ELFDATA2MSB */
	uint16_t type;    /* ET_CORE */
	uint16_t machine;
	uint64_t phoff;   /* 0: right after the ELF header */
	const struct tseg *segs;
	size_t nr_segs;
};

static inline void tput(unsigned char *p, int data, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		int shift = data == ELFDATA2LSB ? 8 * i : 8 * (n - 1 - i);
		p[i] = (unsigned char)(v >> shift);
	}
}

static inline size_t tcore_ehdr_size(const struct tcore *c)
{
	return c->cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
}

static inline size_t tcore_phdr_size(const struct tcore *c)
{
	return c->cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
}

/* First byte after the program headers. */
static inline uint64_t tcore_headers_end(const struct tcore *c)
{
	uint64_t phoff = c->phoff ? c->phoff : tcore_ehdr_size(c);

	return phoff + c->nr_segs * tcore_phdr_size(c);
}

/* Writes the ELF header and program headers into a new file @path. */
static inline int tcore_write_headers(const char *path, const struct tcore *c)
{
	unsigned char h[64] = {0}, ph[56];
	uint64_t phoff = c->phoff ? c->phoff : tcore_ehdr_size(c);
	int d = c->data, fd;
	bool is64 = c->cls == ELFCLASS64;

	memcpy(h, ELFMAG, SELFMAG);
	h[EI_CLASS] = (unsigned char)c->cls;
	h[EI_DATA] = (unsigned char)d;
	h[EI_VERSION] = EV_CURRENT;
	tput(h + 16, d, c->type, 2);
	tput(h + 18, d, c->machine, 2);
	tput(h + 20, d, EV_CURRENT, 4);
	if (is64) {
		tput(h + 32, d, phoff, 8);          /* e_phoff */
		tput(h + 52, d, 64, 2);             /* e_ehsize */
		tput(h + 54, d, 56, 2);             /* e_phentsize */
		tput(h + 56, d, c->nr_segs, 2);     /* e_phnum */
		tput(h + 58, d, 64, 2);             /* e_shentsize */
	} else {
		tput(h + 28, d, phoff, 4);
		tput(h + 40, d, 52, 2);
		tput(h + 42, d, 32, 2);
		tput(h + 44, d, c->nr_segs, 2);
		tput(h + 46, d, 40, 2);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (pwrite(fd, h, tcore_ehdr_size(c), 0) != (ssize_t)tcore_ehdr_size(c))
		goto fail;
	for (size_t i = 0; i < c->nr_segs; i++) {
		const struct tseg *s = &c->segs[i];

		memset(ph, 0, sizeof(ph));
		if (is64) {
			tput(ph + 0, d, s->type, 4);
			tput(ph + 4, d, s->flags, 4);
			tput(ph + 8, d, s->offset, 8);
			tput(ph + 16, d, s->vaddr, 8);
			tput(ph + 24, d, s->paddr, 8);
			tput(ph + 32, d, s->filesz, 8);
			tput(ph + 40, d, s->memsz, 8);
			tput(ph + 48, d, s->align, 8);
		} else {
			tput(ph + 0, d, s->type, 4);
			tput(ph + 4, d, s->offset, 4);
			tput(ph + 8, d, s->vaddr, 4);
			tput(ph + 12, d, s->paddr, 4);
			tput(ph + 16, d, s->filesz, 4);
			tput(ph + 20, d, s->memsz, 4);
			tput(ph + 24, d, s->flags, 4);
			tput(ph + 28, d, s->align, 4);
		}
		if (pwrite(fd, ph, tcore_phdr_size(c), (off_t)(phoff + i * tcore_phdr_size(c)))
		    != (ssize_t)tcore_phdr_size(c))
			goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* The byte the test pattern puts at physical address @pa. */
static inline unsigned char tpattern(uint64_t pa)
{
	uint64_t x = pa * UINT64_C(0x9e3779b97f4a7c15);

	return (unsigned char)(x >> 56);
}

/* Fills every PT_LOAD's file bytes with tpattern(pa). */
static inline int tcore_write_pattern(const char *path, const struct tcore *c)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < c->nr_segs; i++) {
		const struct tseg *s = &c->segs[i];
		unsigned char *buf;

		if (s->type != PT_LOAD || s->filesz == 0)
			continue;
		buf = malloc(s->filesz);
		if (!buf)
			goto fail;
		for (uint64_t j = 0; j < s->filesz; j++)
			buf[j] = tpattern(s->paddr + j);
		if (pwrite(fd, buf, s->filesz, (off_t)s->offset) != (ssize_t)s->filesz) {
			free(buf);
			goto fail;
		}
		free(buf);
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static inline int tcore_write(const char *path, const struct tcore *c)
{
	if (tcore_write_headers(path, c) < 0)
		return -1;
	return tcore_write_pattern(path, c);
}

/* Scratch files live in one directory per test process, made by
 * tmp_dir_setup and removed with everything in it by tmp_dir_teardown
 * (group setup/teardown), so a failed test leaves nothing behind. */
static char tmp_dir[200];

static inline void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmp_dir, name);
}

static inline int tmp_dir_setup(void **state)
{
	const char *dir = getenv("TMPDIR");

	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/iommutool-test-XXXXXX",
		 dir && *dir ? dir : "/tmp");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

/* Files and empty directories only: that is all the tests make. */
static inline int tmp_dir_teardown(void **state)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(tmp_dir);

	(void)state;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
		remove(path);
	}
	closedir(d);
	return rmdir(tmp_dir);
}

#endif
