/* Writing an image: an ELF64 little-endian ET_CORE file with one PT_NOTE
 * (the IOMMUTOOL notes) and one PT_LOAD per present range of the source,
 * at page-aligned file offsets.  Written by hand rather than with libelf
 * so the layout is exactly what man 5 iommutool-image says.  Data is
 * copied in bounded chunks, and all-zero pages become holes, so a sparse
 * 4 GiB source makes a sparse file. */
#include "image/image.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_note.h"

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define SHDR_SIZE 64
#define NHDR_SIZE 12
#define DATA_ALIGN UINT64_C(4096)
#define COPY_CHUNK (UINT64_C(1) << 20)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same rules the reader enforces, so whatever we write reads back. */
static int check_info(const struct image_info *info, size_t totals[IMAGE_NT_MAX],
		      struct errbuf *err)
{
	memset(totals, 0, sizeof(size_t) * IMAGE_NT_MAX);
	if (info->nr_units > IMAGE_MAX_UNITS)
		return err_set(err, -E2BIG, "%zu units, more than %d", info->nr_units,
			       IMAGE_MAX_UNITS);
	totals[IMAGE_NT_UNIT] = info->nr_units;
	for (size_t i = 0; i < info->nr_units; i++) {
		const struct image_unit *u = &info->units[i];
		const char **names;
		const char *problem;

		if (u->kind == IOMMU_NONE || (unsigned)u->kind >= IOMMU_KIND_MAX)
			return err_set(err, -EINVAL, "unit %" PRIu32 " has no known IOMMU kind (%d)",
				       u->index, (int)u->kind);
		for (size_t j = 0; j < i; j++)
			if (info->units[j].index == u->index)
				return err_set(err, -EINVAL, "unit %" PRIu32 " appears twice", u->index);
		if (u->nr_regs > IMAGE_MAX_RECORDS - totals[IMAGE_NT_REG] ||
		    u->nr_devices > IMAGE_MAX_RECORDS - totals[IMAGE_NT_DEVICE] ||
		    u->nr_windows > IMAGE_MAX_RECORDS - totals[IMAGE_NT_WINDOW])
			return err_set(err, -E2BIG, "more than %u records of one type",
				       IMAGE_MAX_RECORDS);
		totals[IMAGE_NT_REG] += u->nr_regs;
		totals[IMAGE_NT_DEVICE] += u->nr_devices;
		totals[IMAGE_NT_WINDOW] += u->nr_windows;

		names = malloc((u->nr_regs ? u->nr_regs : 1) * sizeof(*names));
		if (!names)
			return err_set(err, -ENOMEM, "out of memory");
		for (size_t j = 0; j < u->nr_regs; j++) {
			problem = image_reg_name_problem(u->regs[j].name, IMAGE_REG_NAME_LEN);
			if (problem) {
				free(names);
				return err_set(err, -EINVAL, "unit %" PRIu32 ": register %zu: name %s",
					       u->index, j, problem);
			}
			names[j] = u->regs[j].name;
		}
		if (u->nr_regs)
			qsort(names, u->nr_regs, sizeof(*names), name_cmp);
		for (size_t j = 1; j < u->nr_regs; j++) {
			if (strcmp(names[j - 1], names[j]) == 0) {
				int ret = err_set(err, -EINVAL, "unit %" PRIu32 ": register %s appears twice",
						  u->index, names[j]);
				free(names);
				return ret;
			}
		}
		free(names);
		for (size_t j = 0; j < u->nr_devices; j++) {
			const struct image_device *d = &u->devices[j];

			problem = image_dev_name_problem(d->name, IMAGE_DEV_NAME_LEN);
			if (problem)
				return err_set(err, -EINVAL, "unit %" PRIu32 ": device %zu: name %s",
					       u->index, j, problem);
			if (d->pci && d->id > 0xffff)
				return err_set(err, -EINVAL, "unit %" PRIu32 ": device %zu: PCI id 0x%"
					       PRIx32 " is wider than 16 bits", u->index, j, d->id);
		}
		for (size_t j = 0; j < u->nr_windows; j++) {
			problem = image_window_problem(&u->windows[j]);
			if (problem)
				return err_set(err, -EINVAL, "unit %" PRIu32 ": window %zu: %s",
					       u->index, j, problem);
		}
	}
	return 0;
}

static const uint32_t record_sizes[IMAGE_NT_MAX] = {
	[IMAGE_NT_UNIT] = UNIT_SIZE,
	[IMAGE_NT_REG] = REG_SIZE,
	[IMAGE_NT_DEVICE] = DEVICE_SIZE,
	[IMAGE_NT_WINDOW] = WINDOW_SIZE,
};

static size_t note_size(unsigned type, size_t count)
{
	return NHDR_SIZE + align_up(IMAGE_NOTE_OWNER_SIZE, 4) + NOTE_HDR_SIZE +
	       count * record_sizes[type];
}

/* Note header and descriptor header; returns where the records go. */
static unsigned char *note_start(unsigned char *p, unsigned type, size_t count)
{
	uint32_t desc = (uint32_t)(NOTE_HDR_SIZE + count * record_sizes[type]);

	le32_put(p, IMAGE_NOTE_OWNER_SIZE);
	le32_put(p + 4, desc);
	le32_put(p + 8, IMAGE_NT_BASE | type);
	memcpy(p + NHDR_SIZE, IMAGE_NOTE_OWNER, IMAGE_NOTE_OWNER_SIZE);
	p += NHDR_SIZE + align_up(IMAGE_NOTE_OWNER_SIZE, 4);
	le32_put(p + NOTE_HDR_VERSION, IMAGE_NOTE_VERSION);
	le32_put(p + NOTE_HDR_RECORD_SIZE, record_sizes[type]);
	le32_put(p + NOTE_HDR_COUNT, (uint32_t)count);
	return p + NOTE_HDR_SIZE;
}

/* All four notes, always (a note with no records says "none"). */
static int build_notes(const struct image_info *info, unsigned char **out,
		       size_t *out_len, struct errbuf *err)
{
	size_t totals[IMAGE_NT_MAX], len = 0;
	unsigned char *buf, *p;
	int ret = check_info(info, totals, err);

	if (ret < 0)
		return ret;
	for (unsigned t = 1; t < IMAGE_NT_MAX; t++)
		len += note_size(t, totals[t]);
	buf = calloc(1, len);
	if (!buf)
		return err_set(err, -ENOMEM, "out of memory for 0x%zx bytes of notes", len);

	p = note_start(buf, IMAGE_NT_UNIT, totals[IMAGE_NT_UNIT]);
	for (size_t i = 0; i < info->nr_units; i++, p += UNIT_SIZE) {
		const struct image_unit *u = &info->units[i];

		le32_put(p + UNIT_INDEX, u->index);
		le32_put(p + UNIT_KIND, (uint32_t)u->kind);
		le16_put(p + UNIT_SEGMENT, u->segment);
		le64_put(p + UNIT_MMIO, u->mmio_base);
	}
	p = note_start(p, IMAGE_NT_REG, totals[IMAGE_NT_REG]);
	for (size_t i = 0; i < info->nr_units; i++) {
		const struct image_unit *u = &info->units[i];

		for (size_t j = 0; j < u->nr_regs; j++, p += REG_SIZE) {
			le32_put(p + REG_UNIT, u->index);
			memcpy(p + REG_NAME, u->regs[j].name, strlen(u->regs[j].name));
			le64_put(p + REG_VALUE, u->regs[j].value);
		}
	}
	p = note_start(p, IMAGE_NT_DEVICE, totals[IMAGE_NT_DEVICE]);
	for (size_t i = 0; i < info->nr_units; i++) {
		const struct image_unit *u = &info->units[i];

		for (size_t j = 0; j < u->nr_devices; j++, p += DEVICE_SIZE) {
			const struct image_device *d = &u->devices[j];

			le32_put(p + DEVICE_UNIT, u->index);
			le32_put(p + DEVICE_ID, d->id);
			le16_put(p + DEVICE_SEGMENT, d->segment);
			p[DEVICE_FLAGS] = d->pci ? DEVICE_FLAG_PCI : 0;
			memcpy(p + DEVICE_NAME, d->name, strlen(d->name));
		}
	}
	p = note_start(p, IMAGE_NT_WINDOW, totals[IMAGE_NT_WINDOW]);
	for (size_t i = 0; i < info->nr_units; i++) {
		const struct image_unit *u = &info->units[i];

		for (size_t j = 0; j < u->nr_windows; j++, p += WINDOW_SIZE) {
			const struct image_window *w = &u->windows[j];

			le32_put(p + WINDOW_UNIT, u->index);
			le32_put(p + WINDOW_LIOBN, w->liobn);
			le32_put(p + WINDOW_PAGE_SHIFT, w->page_shift);
			le32_put(p + WINDOW_LEVELS, w->levels);
			le32_put(p + WINDOW_TABLE_SHIFT, w->table_shift);
			le32_put(p + WINDOW_FLAGS, w->flags);
			le64_put(p + WINDOW_BUS_START, w->bus_start);
			le64_put(p + WINDOW_BYTES, w->size);
			le64_put(p + WINDOW_TABLE_ADDR, w->table_addr);
		}
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static void put_phdr(unsigned char *p, uint32_t type, uint32_t flags, uint64_t offset,
		     uint64_t addr, uint64_t size, uint64_t align)
{
	le32_put(p + 0, type);
	le32_put(p + 4, flags);
	le64_put(p + 8, offset);
	le64_put(p + 16, addr);  /* p_vaddr */
	le64_put(p + 24, addr);  /* p_paddr */
	le64_put(p + 32, size);  /* p_filesz */
	le64_put(p + 40, size);  /* p_memsz */
	le64_put(p + 48, align);
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off,
		    const char *path, struct errbuf *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(err, n < 0 ? -errno : -EIO, "cannot write %s at offset 0x%"
				       PRIx64 ": %s", path, off + done,
				       n < 0 ? strerror(errno) : "no progress");
		done += (size_t)n;
	}
	return 0;
}

static bool page_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Writes @len bytes at @off, leaving all-zero 4 KiB blocks as holes. */
static int write_sparse(int fd, const unsigned char *buf, size_t len, uint64_t off,
			const char *path, struct errbuf *err)
{
	size_t run = 0, pos = 0;

	while (pos < len) {
		size_t n = len - pos < DATA_ALIGN ? len - pos : DATA_ALIGN;

		if (page_zero(buf + pos, n)) {
			if (pos > run) {
				int ret = write_at(fd, buf + run, pos - run, off + run, path, err);
				if (ret < 0)
					return ret;
			}
			run = pos + n;
		}
		pos += n;
	}
	if (pos > run)
		return write_at(fd, buf + run, pos - run, off + run, path, err);
	return 0;
}

static int copy_range(int fd, struct physmem *mem, const struct physmem_range *r,
		      uint64_t file_off, unsigned char **chunk, const char *path,
		      struct errbuf *err)
{
	for (uint64_t done = 0; done < r->size;) {
		size_t n = (size_t)(r->size - done < COPY_CHUNK ? r->size - done : COPY_CHUNK);
		const unsigned char *p = physmem_peek(mem, r->start + done, n);
		int ret;

		if (!p) {
			if (!*chunk) {
				*chunk = malloc(COPY_CHUNK);
				if (!*chunk)
					return err_set(err, -ENOMEM, "cannot write %s: out of memory", path);
			}
			ret = physmem_read(mem, r->start + done, *chunk, n, err);
			if (ret < 0)
				return err_prefix(err, ret, "cannot write %s", path);
			p = *chunk;
		}
		ret = write_sparse(fd, p, n, file_off + done, path, err);
		if (ret < 0)
			return ret;
		done += n;
	}
	return 0;
}

static int write_file(int fd, const char *path, struct physmem *mem,
		      const struct image_info *info, unsigned machine,
		      struct errbuf *err)
{
	size_t nr_ranges = mem ? mem->nr_ranges : 0;
	uint64_t phnum = 1 + (uint64_t)nr_ranges, off, shoff = 0, notes_off, end;
	unsigned char *notes = NULL, *headers = NULL, *chunk = NULL, *e;
	size_t notes_len = 0, headers_len;
	int ret;

	if (phnum > UINT32_MAX)
		return err_set(err, -E2BIG, "cannot write %s: %zu memory ranges are too many",
			       path, nr_ranges);
	ret = build_notes(info, &notes, &notes_len, err);
	if (ret < 0)
		return err_prefix(err, ret, "cannot write %s", path);

	/* Layout: headers, [section header 0], notes, then page-aligned data. */
	off = EHDR_SIZE + phnum * PHDR_SIZE;
	if (phnum >= PN_XNUM) {
		shoff = off;
		off += SHDR_SIZE;
	}
	notes_off = align_up(off, 8);
	headers_len = (size_t)notes_off;
	headers = calloc(1, headers_len);
	if (!headers) {
		free(notes);
		return err_set(err, -ENOMEM, "cannot write %s: out of memory", path);
	}
	e = headers;
	memcpy(e, ELFMAG, SELFMAG);
	e[EI_CLASS] = ELFCLASS64;
	e[EI_DATA] = ELFDATA2LSB;
	e[EI_VERSION] = EV_CURRENT;
	e[EI_OSABI] = ELFOSABI_NONE;
	le16_put(e + 16, ET_CORE);
	le16_put(e + 18, (uint16_t)machine);
	le32_put(e + 20, EV_CURRENT);
	le64_put(e + 32, EHDR_SIZE);                  /* e_phoff */
	le64_put(e + 40, shoff);                      /* e_shoff */
	le16_put(e + 52, EHDR_SIZE);                  /* e_ehsize */
	le16_put(e + 54, PHDR_SIZE);                  /* e_phentsize */
	le16_put(e + 56, (uint16_t)(phnum >= PN_XNUM ? PN_XNUM : phnum));
	if (shoff) {
		/* More than 65534 program headers: the count moves to sh_info
		 * of section header 0, as Linux core dumps do. */
		unsigned char *sh = headers + shoff;

		le16_put(e + 58, SHDR_SIZE);          /* e_shentsize */
		le16_put(e + 60, 1);                  /* e_shnum */
		le32_put(sh + 44, (uint32_t)phnum);   /* sh_info */
	}
	put_phdr(headers + EHDR_SIZE, PT_NOTE, 0, notes_off, 0, notes_len, 4);
	/* The note's p_vaddr/p_paddr are 0; put_phdr wrote 0 for both. */
	end = notes_off + notes_len;
	for (size_t i = 0; i < nr_ranges; i++) {
		const struct physmem_range *r = &mem->ranges[i];

		end = align_up(end, DATA_ALIGN);
		put_phdr(headers + EHDR_SIZE + (1 + i) * PHDR_SIZE, PT_LOAD,
			 PF_R | PF_W | PF_X, end, r->start, r->size, 0);
		end += r->size;
	}

	ret = write_at(fd, headers, headers_len, 0, path, err);
	if (ret == 0)
		ret = write_at(fd, notes, notes_len, notes_off, path, err);
	for (size_t i = 0; ret == 0 && i < nr_ranges; i++)
		ret = copy_range(fd, mem, &mem->ranges[i],
				 le64_get(headers + EHDR_SIZE + (1 + i) * PHDR_SIZE + 8),
				 &chunk, path, err);
	if (ret == 0 && ftruncate(fd, (off_t)end) != 0)
		ret = err_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
	free(chunk);
	free(headers);
	free(notes);
	return ret;
}

int image_write(const char *path, struct physmem *mem,
		const struct image_info *info, unsigned machine,
		struct errbuf *err)
{
	char *tmp;
	size_t len;
	int fd, ret;

	if (machine != EM_X86_64 && machine != EM_AARCH64 && machine != EM_PPC64)
		return err_set(err, -EINVAL, "cannot write %s: unsupported machine %u "
			       "(expected x86_64, aarch64 or ppc64)", path, machine);
	len = strlen(path);
	tmp = malloc(len + sizeof(".XXXXXX"));
	if (!tmp)
		return err_set(err, -ENOMEM, "cannot write %s: out of memory", path);
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".XXXXXX", sizeof(".XXXXXX"));
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = err_set(err, -errno, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return ret;
	}
	ret = write_file(fd, path, mem, info, machine, err);
	if (ret == 0 && fchmod(fd, 0644) != 0)
		ret = err_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
	if (close(fd) != 0 && ret == 0)
		ret = err_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
	if (ret == 0 && rename(tmp, path) != 0)
		ret = err_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}
