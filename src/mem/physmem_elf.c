/* ELF core files as physical memory: QEMU dump-guest-memory, kdump's
 * /proc/vmcore (and makedumpfile -E), virsh dump, and our own images.
 * Every PT_LOAD is placed at its p_paddr.  The file is mapped read-only
 * and served in place, so a large or sparse dump costs no memory until a
 * page is read; when mapping fails (e.g. /proc files) reads use pread. */
#include "mem/physmem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mem/backend.h"
#include "mem/elfcore.h"

struct elf_segment {
	uint64_t pa;
	uint64_t va;     /* only to tell aliases from duplicates */
	uint64_t memsz;
	uint64_t filesz; /* <= memsz; the rest reads as zeros */
	uint64_t offset; /* file offset of the data */
	size_t phdr;     /* program header index, for messages */
	uint64_t phdr_offset;
};

struct elf_mem {
	struct mem_file file;
	struct elf_segment *segs;   /* sorted by pa, non-overlapping */
	size_t nr_segs;
	struct peek_copy copy;      /* peeks at zero tails and seams */
};

static const struct elf_segment *find_segment(const struct elf_mem *em, uint64_t pa)
{
	size_t lo = 0, hi = em->nr_segs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct elf_segment *s = &em->segs[mid];

		if (pa < s->pa)
			hi = mid;
		else if (pa - s->pa >= s->memsz)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

static int elf_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		    struct errbuf *err)
{
	struct elf_mem *em = pm->priv;
	unsigned char *out = buf;

	while (len) {
		const struct elf_segment *s = find_segment(em, pa);
		uint64_t in_seg, n, from_file;
		int ret;

		if (!s)
			return err_set(err, -EFAULT, "cannot read 0x%zx bytes at 0x%" PRIx64
				       " in %s: outside present memory", len, pa, pm->path);
		in_seg = pa - s->pa;
		n = s->memsz - in_seg < len ? s->memsz - in_seg : len;
		from_file = 0;
		if (in_seg < s->filesz) {
			from_file = s->filesz - in_seg < n ? s->filesz - in_seg : n;
			ret = mem_file_read(&em->file, pm->path, s->offset + in_seg,
					    out, (size_t)from_file, pa, err);
			if (ret < 0)
				return ret;
		}
		memset(out + from_file, 0, (size_t)(n - from_file));
		out += n;
		pa += n;
		len -= (size_t)n;
	}
	return 0;
}

static const void *elf_peek(struct physmem *pm, uint64_t pa, size_t len)
{
	struct elf_mem *em = pm->priv;
	const struct elf_segment *s = find_segment(em, pa);

	if (s && em->file.map) {
		uint64_t in_seg = pa - s->pa;

		if (in_seg <= s->filesz && len <= s->filesz - in_seg)
			return em->file.map + s->offset + in_seg;
	}
	return peek_copy_read(&em->copy, pm, pa, len);
}

static void elf_free(struct physmem *pm)
{
	struct elf_mem *em = pm->priv;

	if (!em)
		return;
	mem_file_release(&em->file);
	free(em->segs);
	peek_copy_release(&em->copy);
	free(em);
	pm->priv = NULL;
}

static const struct physmem_ops elf_ops = {
	.name = "elf",
	.read = elf_read,
	.peek = elf_peek,
	.free = elf_free,
};

/* Segments sorted by address, and for equal starts the larger first, so
 * that a segment nested in the one before it is an alias (see below). */
static int segment_cmp(const void *a, const void *b)
{
	const struct elf_segment *sa = a, *sb = b;

	if (sa->pa != sb->pa)
		return sa->pa < sb->pa ? -1 : 1;
	if (sa->memsz != sb->memsz)
		return sa->memsz > sb->memsz ? -1 : 1;
	return sa->phdr < sb->phdr ? -1 : sa->phdr > sb->phdr;
}

/* Collects the PT_LOAD segments and checks each against the file. */
static int collect_segments(struct elfcore *ec, struct elf_mem *em, struct errbuf *err)
{
	uint64_t no_paddr = ec->ehdr.e_ident[EI_CLASS] == ELFCLASS64 ?
			    UINT64_MAX : UINT32_MAX;
	bool all_paddr_zero = true, some_vaddr = false;
	size_t nr_loads = 0;

	em->segs = calloc(ec->phnum ? ec->phnum : 1, sizeof(*em->segs));
	if (!em->segs)
		return err_set(err, -ENOMEM, "%s: out of memory for %zu program headers",
			       ec->path, ec->phnum);
	for (size_t i = 0; i < ec->phnum; i++) {
		uint64_t off = elfcore_phdr_offset(ec, i);
		struct elf_segment *s;
		GElf_Phdr ph;
		int ret = elfcore_phdr(ec, i, &ph, err);

		if (ret < 0)
			return ret;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		nr_loads++;
		if (ph.p_paddr != 0)
			all_paddr_zero = false;
		if (ph.p_vaddr != 0)
			some_vaddr = true;
		/* /proc/kcore marks segments without a physical address so. */
		if (ph.p_paddr == no_paddr)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return err_set(err, -EINVAL, "%s: PT_LOAD at offset 0x%" PRIx64
				       ": p_filesz 0x%" PRIx64 " is larger than p_memsz 0x%" PRIx64,
				       ec->path, off, (uint64_t)ph.p_filesz, (uint64_t)ph.p_memsz);
		if (ph.p_memsz > UINT64_MAX - ph.p_paddr)
			return err_set(err, -EINVAL, "%s: PT_LOAD at offset 0x%" PRIx64
				       ": 0x%" PRIx64 " bytes at 0x%" PRIx64 " wrap past the top of the address space",
				       ec->path, off, (uint64_t)ph.p_memsz, (uint64_t)ph.p_paddr);
		if (ph.p_offset > ec->file_size || ph.p_filesz > ec->file_size - ph.p_offset)
			return err_set(err, -EINVAL, "%s: PT_LOAD at offset 0x%" PRIx64
				       ": data at file offset 0x%" PRIx64 " + 0x%" PRIx64
				       " runs past the end of the file (0x%" PRIx64 " bytes): truncated dump",
				       ec->path, off, (uint64_t)ph.p_offset, (uint64_t)ph.p_filesz,
				       ec->file_size);
		s = &em->segs[em->nr_segs++];
		s->pa = ph.p_paddr;
		s->va = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->filesz = ph.p_filesz;
		s->offset = ph.p_offset;
		s->phdr = i;
		s->phdr_offset = off;
	}
	if (nr_loads && all_paddr_zero && some_vaddr)
		return err_set(err, -EINVAL, "%s: every PT_LOAD has p_paddr 0 but p_vaddr set: "
			       "a kernel-virtual vmcore, which has no physical addresses", ec->path);
	return 0;
}

/* kdump's vmcore describes the kernel text twice: once in its own PT_LOAD
 * (p_vaddr = _text) and once inside the RAM segment holding it (p_vaddr in
 * the direct map); see crash_prepare_elf64_headers in the kernel.  A
 * segment nested entirely in another one that maps it at a different
 * virtual address is such an alias and is dropped (reads use the outer
 * one).  The same virtual and physical address claimed twice, or a
 * partial overlap, has no sensible reading and is an error. */
static int drop_aliases(const char *path, struct elf_mem *em, struct errbuf *err)
{
	size_t n = 0;

	qsort(em->segs, em->nr_segs, sizeof(*em->segs), segment_cmp);
	for (size_t i = 0; i < em->nr_segs; i++) {
		const struct elf_segment *s = &em->segs[i];

		if (n) {
			const struct elf_segment *outer = &em->segs[n - 1];
			uint64_t outer_end = outer->pa + outer->memsz;

			if (s->pa < outer_end) {
				if (s->pa + s->memsz <= outer_end &&
				    s->va - s->pa != outer->va - outer->pa)
					continue;
				return err_set(err, -EINVAL, "%s: PT_LOAD at offset 0x%" PRIx64
					       " (0x%" PRIx64 "-0x%" PRIx64 ") overlaps PT_LOAD at offset 0x%"
					       PRIx64 " (0x%" PRIx64 "-0x%" PRIx64 ")",
					       path, s->phdr_offset, s->pa, s->pa + s->memsz - 1,
					       outer->phdr_offset, outer->pa, outer_end - 1);
			}
		}
		em->segs[n++] = *s;
	}
	em->nr_segs = n;
	return 0;
}

static int set_ranges_from_segments(struct physmem *pm, struct elf_mem *em,
				    struct errbuf *err)
{
	struct physmem_range *r = calloc(em->nr_segs ? em->nr_segs : 1, sizeof(*r));

	if (!r)
		return err_set(err, -ENOMEM, "%s: out of memory", pm->path);
	for (size_t i = 0; i < em->nr_segs; i++) {
		r[i].start = em->segs[i].pa;
		r[i].size = em->segs[i].memsz;
	}
	return physmem_set_ranges(pm, r, em->nr_segs, err);
}

int physmem_open_elf(const char *path, struct physmem **out, struct errbuf *err)
{
	struct elfcore ec;
	struct physmem *pm;
	struct elf_mem *em;
	int ret;

	*out = NULL;
	ret = elfcore_open(path, &ec, err);
	if (ret < 0)
		return ret;
	pm = calloc(1, sizeof(*pm));
	em = calloc(1, sizeof(*em));
	if (pm)
		pm->path = strdup(path);
	if (!pm || !em || !pm->path) {
		elfcore_close(&ec);
		free(em);
		if (pm)
			free(pm->path);
		free(pm);
		return err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	pm->ops = &elf_ops;
	pm->machine = ec.ehdr.e_machine;
	pm->priv = em;
	em->file.fd = -1;

	ret = collect_segments(&ec, em, err);
	if (ret == 0)
		ret = drop_aliases(path, em, err);
	if (ret == 0)
		ret = set_ranges_from_segments(pm, em, err);
	if (ret < 0) {
		elfcore_close(&ec);
		physmem_free(pm);
		return ret;
	}
	mem_file_init(&em->file, ec.fd, ec.file_size); /* takes the fd */
	ec.fd = -1;
	elfcore_close(&ec);
	*out = pm;
	return 0;
}
