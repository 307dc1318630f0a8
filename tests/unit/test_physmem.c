/* physmem: the generic presence checks, the ELF core backend (every class
 * and byte order libelf reads, every malformed file we reject) and the raw
 * backend, plus a 4 GiB sparse core read with bounded resident memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <sys/stat.h>

#include "image/image.h"
#include "mem/physmem.h"
#include "elf_build.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void assert_pattern(const unsigned char *buf, uint64_t pa, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != tpattern(pa + i))
			fail_msg("byte at 0x%" PRIx64 " is 0x%02x, expected 0x%02x",
				 pa + i, buf[i], tpattern(pa + i));
}

static void assert_zero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			fail_msg("byte %zu is 0x%02x, expected 0", i, buf[i]);
}

/* Opens @path expecting failure; checks the code and message text. */
static void expect_open_error(const char *path, const char *needle)
{
	struct errbuf err = {{0}};
	struct physmem *pm = (struct physmem *)1;
	int ret = physmem_open_elf(path, &pm, &err);

	assert_true(ret < 0);
	assert_null(pm);
	assert_contains(err.msg, needle);
	assert_contains(err.msg, path);
}

/* --- a well-formed core in each class and byte order --- */

/* Segments: a note (ignored), two loads that touch (one with a zero tail),
 * and one further up. */
static void check_basic_core(int cls, int data, uint16_t machine)
{
	char path[256];
	const uint64_t base = cls == ELFCLASS64 ? UINT64_C(0x100000000) : 0;
	const struct tseg segs[] = {
		{ .type = PT_NOTE, .offset = 0x200, .filesz = 0x10 },
		{ .type = PT_LOAD, .offset = 0x1000, .paddr = base + 0x1000,
		  .filesz = 0x2000, .memsz = 0x2000 },
		{ .type = PT_LOAD, .offset = 0x3000, .paddr = base + 0x3000,
		  .filesz = 0x800, .memsz = 0x1000 },
		{ .type = PT_LOAD, .offset = 0x4000, .paddr = base + 0x10000,
		  .filesz = 0x1000, .memsz = 0x1000 },
	};
	struct tcore c = { cls, data, ET_CORE, machine, 0, segs, 4 };
	struct errbuf err = {{0}};
	struct physmem *pm = NULL;
	unsigned char buf[0x1000];
	const unsigned char *p;
	char want[400];

	tmp_path(path, sizeof(path), "basic.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_non_null(pm);
	assert_string_equal(pm->ops->name, "elf");
	assert_string_equal(pm->path, path);
	assert_int_equal(pm->machine, machine);

	/* Touching loads merge into one range. */
	assert_int_equal(pm->nr_ranges, 2);
	assert_int_equal(pm->ranges[0].start, base + 0x1000);
	assert_int_equal(pm->ranges[0].size, 0x3000);
	assert_int_equal(pm->ranges[1].start, base + 0x10000);
	assert_int_equal(pm->ranges[1].size, 0x1000);
	assert_int_equal(physmem_end(pm), base + 0x11000);

	/* Across the seam between two segments. */
	assert_int_equal(physmem_read(pm, base + 0x2ff0, buf, 0x20, &err), 0);
	assert_pattern(buf, base + 0x2ff0, 0x20);
	/* File bytes then the zero tail in one read. */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(physmem_read(pm, base + 0x37f0, buf, 0x810, &err), 0);
	assert_pattern(buf, base + 0x37f0, 0x10);
	assert_zero(buf + 0x10, 0x800);
	assert_int_equal(physmem_read(pm, base + 0x10000, buf, 0x1000, &err), 0);
	assert_pattern(buf, base + 0x10000, 0x1000);

	/* peek: in place, across the seam, and in the zero tail. */
	p = physmem_peek(pm, base + 0x1008, 8);
	assert_non_null(p);
	assert_pattern(p, base + 0x1008, 8);
	p = physmem_peek(pm, base + 0x2ff8, 0x10);
	assert_non_null(p);
	assert_pattern(p, base + 0x2ff8, 0x10);
	p = physmem_peek(pm, base + 0x3ff8, 8);
	assert_non_null(p);
	assert_zero(p, 8);
	assert_null(physmem_peek(pm, base + 0x3ff8, 0x10));

	/* Outside: before, in the gap, straddling the end, past the end. */
	assert_false(physmem_present(pm, base + 0xfff, 2));
	assert_true(physmem_present(pm, base + 0x1000, 0x3000));
	assert_false(physmem_present(pm, base + 0x1000, 0x3001));
	assert_false(physmem_present(pm, UINT64_MAX, 2));
	assert_int_equal(physmem_read(pm, base + 0x3ff8, buf, 0x10, &err), -EFAULT);
	snprintf(want, sizeof(want), "cannot read 0x10 bytes at 0x%" PRIx64
		 " in %s: outside present memory", base + 0x3ff8, path);
	assert_string_equal(err.msg, want);
	assert_int_equal(physmem_read(pm, base + 0x8000, buf, 8, &err), -EFAULT);
	assert_int_equal(physmem_read(pm, base + 0x11000, buf, 1, &err), -EFAULT);
	/* A zero-length read is a no-op. */
	assert_int_equal(physmem_read(pm, 0xdead0000, buf, 0, &err), 0);

	physmem_free(pm);
	unlink(path);
}

static void test_elf64_le(void **state)
{
	check_basic_core(ELFCLASS64, ELFDATA2LSB, EM_X86_64);
	check_basic_core(ELFCLASS64, ELFDATA2LSB, EM_AARCH64);
	check_basic_core(ELFCLASS64, ELFDATA2LSB, EM_386); /* QEMU, guest in 32-bit mode */
}

static void test_elf64_be(void **state)
{
	check_basic_core(ELFCLASS64, ELFDATA2MSB, EM_PPC64);
}

static void test_elf32(void **state)
{
	check_basic_core(ELFCLASS32, ELFDATA2LSB, EM_386);
	check_basic_core(ELFCLASS32, ELFDATA2MSB, EM_PPC);
	check_basic_core(ELFCLASS32, ELFDATA2LSB, EM_ARM);
}

static void test_read_u64(void **state)
{
	char path[256];
	const struct tseg segs[] = {
		{ .type = PT_LOAD, .offset = 0x1000, .paddr = 0x7f3a000,
		  .filesz = 0x1000, .memsz = 0x1000 },
	};
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, segs, 1 };
	struct errbuf err = {{0}};
	struct physmem *pm;
	uint64_t v, want = 0;

	tmp_path(path, sizeof(path), "u64.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(physmem_read_u64(pm, 0x7f3a010, &v, &err), 0);
	for (int i = 7; i >= 0; i--)
		want = want << 8 | tpattern(0x7f3a010 + (uint64_t)i);
	assert_int_equal(v, want);
	assert_int_equal(physmem_read_u64(pm, 0x7f3aff9, &v, &err), -EFAULT);
	physmem_free(pm);
	unlink(path);
}

/* --- files that are not usable cores --- */

static void write_bytes(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_open_not_a_file(void **state)
{
	char path[256], dir[256];
	struct errbuf err;
	struct physmem *pm;

	tmp_path(path, sizeof(path), "missing.elf");
	unlink(path);
	expect_open_error(path, "No such file or directory");
	assert_int_equal(physmem_open_elf(path, &pm, &err), -ENOENT);
	assert_string_equal(err.msg + strlen(err.msg) - strlen("No such file or directory"),
			    "No such file or directory");

	tmp_path(dir, sizeof(dir), "dir.elf");
	assert_int_equal(mkdir(dir, 0755), 0);
	expect_open_error(dir, "is a directory");
	assert_int_equal(physmem_open_elf(dir, &pm, &err), -EISDIR);
	rmdir(dir);

	expect_open_error("/dev/null", "not a regular file");
}

static void test_open_garbage(void **state)
{
	char path[256];
	unsigned char junk[300];

	tmp_path(path, sizeof(path), "junk.elf");
	write_bytes(path, "", 0);
	expect_open_error(path, "empty file");
	write_bytes(path, "\177EL", 3);
	expect_open_error(path, "not an ELF file");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	write_bytes(path, junk, sizeof(junk));
	expect_open_error(path, "not an ELF file");
	write_bytes(path, "#!/bin/sh\necho hello\n", 21);
	expect_open_error(path, "not an ELF file");
	unlink(path);
}

static void test_open_bad_ident(void **state)
{
	char path[256];
	unsigned char h[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };

	tmp_path(path, sizeof(path), "ident.elf");
	write_bytes(path, h, 10);
	expect_open_error(path, "truncated ELF header");
	write_bytes(path, h, 40);
	expect_open_error(path, "truncated ELF header");
	h[EI_CLASS] = 3;
	write_bytes(path, h, sizeof(h));
	expect_open_error(path, "unsupported ELF class 3");
	h[EI_CLASS] = ELFCLASS64;
	h[EI_DATA] = 7;
	write_bytes(path, h, sizeof(h));
	expect_open_error(path, "unsupported ELF data encoding 7");
	h[EI_DATA] = ELFDATA2LSB;
	h[EI_VERSION] = 2;
	write_bytes(path, h, sizeof(h));
	expect_open_error(path, "unsupported ELF version 2");
	unlink(path);
}

static const struct tseg one_load[] = {
	{ .type = PT_LOAD, .offset = 0x1000, .paddr = 0x200000,
	  .filesz = 0x2000, .memsz = 0x2000 },
};

static void test_open_wrong_type(void **state)
{
	char path[256];
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_EXEC, EM_X86_64, 0, one_load, 1 };

	tmp_path(path, sizeof(path), "exec.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "not an ELF core file (e_type 2, an executable)");
	c.type = ET_DYN;
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "not an ELF core file (e_type 3");
	c.type = ET_REL;
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "not an ELF core file (e_type 1");
	c.type = ET_CORE;
	c.machine = EM_SPARCV9;
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "unsupported machine 43 (e_machine at offset 0x12); "
			  "iommutool reads x86, Arm and POWER cores");
	c.machine = EM_RISCV;
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "unsupported machine 243");
	unlink(path);
}

/* Cuts a good core at several places: each cut gets a message. */
static void test_open_truncated(void **state)
{
	char path[256];
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, one_load, 1 };
	struct errbuf err;
	struct physmem *pm;

	tmp_path(path, sizeof(path), "trunc.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	physmem_free(pm);

	assert_int_equal(truncate(path, 0x2800), 0);
	expect_open_error(path, "PT_LOAD at offset 0x40: data at file offset 0x1000 + 0x2000 "
			  "runs past the end of the file (0x2800 bytes): truncated dump");
	assert_int_equal(truncate(path, 0x60), 0);
	expect_open_error(path, "1 program headers at offset 0x40 run past the end of the file "
			  "(0x60 bytes): truncated file");
	assert_int_equal(truncate(path, 0x30), 0);
	expect_open_error(path, "truncated ELF header (48 bytes, the header needs 64)");
	unlink(path);
}

static void patch(const char *path, uint64_t off, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void test_open_bad_phdr_table(void **state)
{
	char path[256];
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, one_load, 1 };
	const unsigned char far_phoff[8] = { 0, 0, 0x10, 0 };     /* 0x100000 */
	const unsigned char phentsize[2] = { 32, 0 };
	const unsigned char many[2] = { 0x00, 0x10 };             /* 0x1000 */
	const unsigned char xnum[2] = { 0xff, 0xff };             /* PN_XNUM */

	tmp_path(path, sizeof(path), "phoff.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	patch(path, 32, far_phoff, sizeof(far_phoff));
	expect_open_error(path, "1 program headers at offset 0x100000 run past the end");

	assert_int_equal(tcore_write(path, &c), 0);
	patch(path, 54, phentsize, sizeof(phentsize));
	expect_open_error(path, "program header size 32, expected 56");

	assert_int_equal(tcore_write(path, &c), 0);
	patch(path, 56, many, sizeof(many));
	expect_open_error(path, "4096 program headers at offset 0x40 run past the end");

	/* PN_XNUM without a section header 0 to hold the real count. */
	assert_int_equal(tcore_write(path, &c), 0);
	patch(path, 56, xnum, sizeof(xnum));
	expect_open_error(path, "e_phnum is PN_XNUM but section header 0");
	unlink(path);
}

static void test_open_overlap(void **state)
{
	char path[256];
	const struct tseg segs[] = {
		{ .type = PT_LOAD, .offset = 0x1000, .paddr = 0x100000,
		  .filesz = 0x2000, .memsz = 0x2000 },
		{ .type = PT_LOAD, .offset = 0x3000, .paddr = 0x101000,
		  .filesz = 0x2000, .memsz = 0x2000 },
	};
	/* The same page twice, at the same virtual address too: not an alias. */
	const struct tseg same[] = {
		{ .type = PT_LOAD, .offset = 0x1000, .vaddr = 0x1000, .paddr = 0x1000,
		  .filesz = 0x2000, .memsz = 0x2000 },
		{ .type = PT_LOAD, .offset = 0x3000, .vaddr = 0x2000, .paddr = 0x2000,
		  .filesz = 0x1000, .memsz = 0x1000 },
	};
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, segs, 2 };

	tmp_path(path, sizeof(path), "overlap.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "PT_LOAD at offset 0x78 (0x101000-0x102fff) overlaps "
			  "PT_LOAD at offset 0x40 (0x100000-0x101fff)");
	c.segs = same;
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "PT_LOAD at offset 0x78 (0x2000-0x2fff) overlaps "
			  "PT_LOAD at offset 0x40 (0x1000-0x2fff)");
	unlink(path);
}

/* kdump's kernel-text segment lies inside a RAM segment, mapped at another
 * virtual address: it is an alias, read through the RAM segment. */
static void test_open_nested_alias(void **state)
{
	char path[256];
	const struct tseg segs[] = {
		{ .type = PT_LOAD, .offset = 0x1000, .vaddr = UINT64_C(0xffffffff81000000),
		  .paddr = 0x101000, .filesz = 0x1000, .memsz = 0x1000 },
		{ .type = PT_LOAD, .offset = 0x2000, .vaddr = UINT64_C(0xffff888000100000),
		  .paddr = 0x100000, .filesz = 0x4000, .memsz = 0x4000 },
	};
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, segs, 2 };
	unsigned char junk[0x1000], buf[0x1000];
	struct errbuf err;
	struct physmem *pm;
	int fd;

	tmp_path(path, sizeof(path), "alias.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	memset(junk, 0xee, sizeof(junk));
	fd = open(path, O_WRONLY);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0x1000), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 1);
	assert_int_equal(pm->ranges[0].start, 0x100000);
	assert_int_equal(pm->ranges[0].size, 0x4000);
	assert_int_equal(physmem_read(pm, 0x101000, buf, sizeof(buf), &err), 0);
	assert_pattern(buf, 0x101000, sizeof(buf));
	physmem_free(pm);
	unlink(path);
}

static void test_open_virtual_vmcore(void **state)
{
	char path[256];
	const struct tseg segs[] = {
		{ .type = PT_LOAD, .offset = 0x1000, .vaddr = UINT64_C(0xffffffff81000000),
		  .filesz = 0x1000, .memsz = 0x1000 },
		{ .type = PT_LOAD, .offset = 0x2000, .vaddr = UINT64_C(0xffff888000000000),
		  .filesz = 0x1000, .memsz = 0x1000 },
	};
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, segs, 2 };

	tmp_path(path, sizeof(path), "virt.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "kernel-virtual vmcore");
	unlink(path);
}

static void test_open_bad_segment(void **state)
{
	char path[256];
	struct tseg seg = { .type = PT_LOAD, .offset = 0x1000, .paddr = 0x1000,
			    .filesz = 0x2000, .memsz = 0x1000 };
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, &seg, 1 };

	tmp_path(path, sizeof(path), "badseg.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "PT_LOAD at offset 0x40: p_filesz 0x2000 is larger than p_memsz 0x1000");
	seg.filesz = 0x1000;
	seg.paddr = UINT64_C(0xfffffffffffff000);
	assert_int_equal(tcore_write(path, &c), 0);
	expect_open_error(path, "wrap past the top of the address space");
	seg.offset = UINT64_C(0xfffffffffffff000);
	seg.paddr = 0x1000;
	assert_int_equal(tcore_write_headers(path, &c), 0);
	expect_open_error(path, "runs past the end of the file");
	unlink(path);
}

/* /proc/kcore gives segments without a physical address p_paddr = -1;
 * they are not physical memory and are left out. */
static void test_open_no_paddr_segments(void **state)
{
	char path[256];
	const struct tseg segs[] = {
		{ .type = PT_LOAD, .offset = 0x1000, .vaddr = UINT64_C(0xffffc90000000000),
		  .paddr = UINT64_MAX, .filesz = 0x1000, .memsz = 0x1000 },
		{ .type = PT_LOAD, .offset = 0x2000, .vaddr = UINT64_C(0xffff888000100000),
		  .paddr = 0x100000, .filesz = 0x1000, .memsz = 0x1000 },
	};
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, segs, 2 };
	struct errbuf err;
	struct physmem *pm;

	tmp_path(path, sizeof(path), "kcore.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 1);
	assert_int_equal(pm->ranges[0].start, 0x100000);
	physmem_free(pm);
	unlink(path);
}

/* A core with no PT_LOAD is empty memory, not an error. */
static void test_open_no_loads(void **state)
{
	char path[256];
	const struct tseg seg = { .type = PT_NOTE, .offset = 0x100, .filesz = 0 };
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, &seg, 1 };
	struct errbuf err;
	struct physmem *pm;
	unsigned char b;

	tmp_path(path, sizeof(path), "noload.elf");
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 0);
	assert_int_equal(physmem_end(pm), 0);
	assert_int_equal(physmem_read(pm, 0, &b, 1, &err), -EFAULT);
	physmem_free(pm);
	unlink(path);
}

/* The headers of a real QEMU 7.2 dump (tests/fixtures/qemu-dump), its
 * data left as holes: touching low segments merge, notes are not ours. */
static void test_qemu_dump_headers(void **state)
{
	const char *srcdir = getenv("SRCDIR");
	char fixture[512], path[256];
	static unsigned char head[0x480];
	struct image_info info;
	struct errbuf err;
	struct physmem *pm;
	uint64_t v = 1;
	FILE *f;
	int fd;

	snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/qemu-dump/x86-q35-64m-unbooted.head",
		 srcdir && *srcdir ? srcdir : ".");
	f = fopen(fixture, "rb");
	if (!f)
		fail_msg("cannot open %s (set SRCDIR)", fixture);
	assert_int_equal(fread(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	tmp_path(path, sizeof(path), "qemu.elf");
	write_bytes(path, head, sizeof(head));
	fd = open(path, O_WRONLY);
	assert_int_equal(ftruncate(fd, 0x4040480), 0);
	close(fd);

	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 2);
	assert_int_equal(pm->ranges[0].start, 0);
	assert_int_equal(pm->ranges[0].size, 0x4000000);
	assert_int_equal(pm->ranges[1].start, 0xfffc0000);
	assert_int_equal(pm->ranges[1].size, 0x40000);
	assert_int_equal(physmem_read_u64(pm, 0xffff0, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(physmem_read_u64(pm, 0x4000000, &v, &err), -EFAULT);
	physmem_free(pm);

	assert_int_equal(image_read_notes(path, &info, &err), 0);
	assert_false(info.from_note);
	assert_int_equal(info.nr_units, 0);
	image_info_release(&info);
	/* Cut inside the last segment: a truncated dump. */
	assert_int_equal(truncate(path, 0x4000480 + 0x1000), 0);
	expect_open_error(path, "PT_LOAD at offset 0x1d8: data at file offset 0x4000480 + 0x40000 "
			  "runs past the end of the file (0x4001480 bytes): truncated dump");
	unlink(path);
}

/* --- raw backend --- */

static void test_raw(void **state)
{
	char path[256], want[400];
	const uint64_t base = 0x80000000;
	unsigned char data[0x3000], buf[0x100];
	struct errbuf err;
	struct physmem *pm;
	const unsigned char *p;

	tmp_path(path, sizeof(path), "mem.raw");
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = tpattern(base + i);
	write_bytes(path, data, sizeof(data));
	assert_int_equal(physmem_open_raw(path, base, &pm, &err), 0);
	assert_string_equal(pm->ops->name, "raw");
	assert_int_equal(pm->machine, 0);
	assert_int_equal(pm->nr_ranges, 1);
	assert_int_equal(pm->ranges[0].start, base);
	assert_int_equal(physmem_end(pm), base + sizeof(data));
	assert_int_equal(physmem_read(pm, base + 0x1ff0, buf, sizeof(buf), &err), 0);
	assert_pattern(buf, base + 0x1ff0, sizeof(buf));
	p = physmem_peek(pm, base + 0x2ff8, 8);
	assert_non_null(p);
	assert_pattern(p, base + 0x2ff8, 8);
	assert_null(physmem_peek(pm, base + 0x2ff8, 9));
	assert_int_equal(physmem_read(pm, base - 8, buf, 16, &err), -EFAULT);
	snprintf(want, sizeof(want), "cannot read 0x10 bytes at 0x7ffffff8 in %s: "
		 "outside present memory", path);
	assert_string_equal(err.msg, want);
	physmem_free(pm);

	assert_int_equal(physmem_open_raw(path, UINT64_MAX - 0x1000, &pm, &err), -EINVAL);
	assert_null(pm);
	assert_contains(err.msg, "wraps past the top of the address space");

	write_bytes(path, "", 0);
	assert_int_equal(physmem_open_raw(path, 0, &pm, &err), -EINVAL);
	assert_contains(err.msg, "empty file");
	unlink(path);
	assert_int_equal(physmem_open_raw(path, 0, &pm, &err), -ENOENT);
	assert_contains(err.msg, "cannot open");
	assert_int_equal(physmem_open_raw("/", 0, &pm, &err), -EISDIR);
	assert_contains(err.msg, "is a directory");
}

/* --- range bookkeeping --- */

static const struct physmem_ops no_ops = { .name = "test" };

/* physmem_set_ranges takes a malloc'd list. */
static struct physmem_range *dup_ranges(const struct physmem_range *r, size_t n)
{
	struct physmem_range *p = malloc(n * sizeof(*p));

	assert_non_null(p);
	memcpy(p, r, n * sizeof(*p));
	return p;
}

static void test_set_ranges(void **state)
{
	struct physmem pm = { .ops = &no_ops, .path = (char *)"t.elf" };
	const struct physmem_range r[] = {
		{ 0x4000, 0x2000 }, { 0x1000, 0x1000 }, { 0x3000, 0 },
		{ 0x2000, 0x2000 }, { 0x9000, 0x1000 },
	};
	const struct physmem_range bad[] = { { 0x1000, 0x2000 }, { 0x2fff, 0x10 } };
	const struct physmem_range wrap[] = { { UINT64_MAX - 0xfff, 0x1000 } };
	const struct physmem_range top[] = { { UINT64_MAX - 0xfff, 0xfff } };
	const struct physmem_range *before;
	struct errbuf err;

	assert_int_equal(physmem_set_ranges(&pm, dup_ranges(r, 5), 5, &err), 0);
	assert_int_equal(pm.nr_ranges, 2);
	assert_int_equal(pm.ranges[0].start, 0x1000);
	assert_int_equal(pm.ranges[0].size, 0x5000);
	assert_int_equal(pm.ranges[1].start, 0x9000);
	assert_int_equal(physmem_end(&pm), 0xa000);
	assert_true(physmem_present(&pm, 0x1000, 0x5000));
	assert_true(physmem_present(&pm, 0x4fff, 0));
	assert_false(physmem_present(&pm, 0x6000, 1));
	assert_false(physmem_present(&pm, 0x5fff, 0x3002));

	/* A failed call leaves the old ranges (and frees the new list). */
	before = pm.ranges;
	assert_int_equal(physmem_set_ranges(&pm, dup_ranges(bad, 2), 2, &err), -EINVAL);
	assert_string_equal(err.msg, "t.elf: overlapping memory: 0x1000-0x2fff and 0x2fff-0x300e");
	assert_ptr_equal(pm.ranges, before);
	assert_int_equal(pm.nr_ranges, 2);
	assert_int_equal(physmem_set_ranges(&pm, dup_ranges(wrap, 1), 1, &err), -EINVAL);
	assert_contains(err.msg, "wraps past the top of the address space");
	assert_int_equal(pm.nr_ranges, 2);

	assert_int_equal(physmem_set_ranges(&pm, dup_ranges(top, 1), 1, &err), 0);
	assert_int_equal(physmem_end(&pm), UINT64_MAX);
	assert_true(physmem_present(&pm, UINT64_MAX - 1, 1));
	assert_false(physmem_present(&pm, UINT64_MAX - 1, 2));

	/* Renormalising the current list in place. */
	assert_int_equal(physmem_set_ranges(&pm, pm.ranges, pm.nr_ranges, &err), 0);
	assert_int_equal(pm.nr_ranges, 1);

	assert_int_equal(physmem_set_ranges(&pm, NULL, 0, &err), 0);
	assert_int_equal(pm.nr_ranges, 0);
	assert_null(pm.ranges);
	assert_int_equal(physmem_end(&pm), 0);
	assert_false(physmem_present(&pm, 0, 1));
}

/* --- a 4 GiB sparse core costs no memory --- */

static uint64_t vm_hwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %" SCNu64, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void test_sparse_4g(void **state)
{
	char path[256];
	struct tseg segs[4];
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, segs, 4 };
	const uint64_t probes[] = { 0, 0x1234, GiB - 8, GiB, 2 * GiB + 0x777,
				    3 * GiB + 0x10000, 4 * GiB - 0x1000 };
	unsigned char page[0x1000], buf[0x1000];
	struct errbuf err;
	struct physmem *pm;
	uint64_t before, after;
	FILE *f;
	int fd;

	for (int i = 0; i < 4; i++)
		segs[i] = (struct tseg){ .type = PT_LOAD, .offset = 0x1000 + i * GiB,
					 .paddr = i * GiB, .filesz = GiB, .memsz = GiB };
	tmp_path(path, sizeof(path), "sparse4g.elf");
	assert_int_equal(tcore_write_headers(path, &c), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	if (ftruncate(fd, (off_t)(0x1000 + 4 * GiB)) != 0) {
		close(fd);
		unlink(path);
		skip(); /* no sparse files of this size here */
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		uint64_t pa = probes[i] & ~UINT64_C(0xfff);

		for (size_t j = 0; j < sizeof(page); j++)
			page[j] = tpattern(pa + j);
		assert_int_equal(pwrite(fd, page, sizeof(page), (off_t)(0x1000 + pa)),
				 (ssize_t)sizeof(page));
	}
	close(fd);

	/* Start the peak count here when the kernel lets us (Linux >= 4.0). */
	f = fopen("/proc/self/clear_refs", "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
	before = vm_hwm_kib();
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 1);
	assert_int_equal(physmem_end(pm), 4 * GiB);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		uint64_t pa = probes[i];
		size_t len = (size_t)(0x1000 - (pa & 0xfff));
		const unsigned char *p;

		assert_int_equal(physmem_read(pm, pa, buf, len, &err), 0);
		assert_pattern(buf, pa, len);
		p = physmem_peek(pm, pa, 8);
		assert_non_null(p);
		assert_pattern(p, pa, 8);
	}
	/* A hole reads as zeros. */
	assert_int_equal(physmem_read(pm, 2 * GiB + 64 * MiB, buf, sizeof(buf), &err), 0);
	assert_zero(buf, sizeof(buf));
	after = vm_hwm_kib();
	physmem_free(pm);
	unlink(path);
	print_message("VmHWM %" PRIu64 " KiB before, %" PRIu64 " KiB after\n", before, after);
	assert_true(after > 0);
	assert_true(after < 64 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf64_le),
		cmocka_unit_test(test_elf64_be),
		cmocka_unit_test(test_elf32),
		cmocka_unit_test(test_read_u64),
		cmocka_unit_test(test_open_not_a_file),
		cmocka_unit_test(test_open_garbage),
		cmocka_unit_test(test_open_bad_ident),
		cmocka_unit_test(test_open_wrong_type),
		cmocka_unit_test(test_open_truncated),
		cmocka_unit_test(test_open_bad_phdr_table),
		cmocka_unit_test(test_open_overlap),
		cmocka_unit_test(test_open_nested_alias),
		cmocka_unit_test(test_open_virtual_vmcore),
		cmocka_unit_test(test_open_bad_segment),
		cmocka_unit_test(test_open_no_paddr_segments),
		cmocka_unit_test(test_open_no_loads),
		cmocka_unit_test(test_qemu_dump_headers),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_set_ranges),
		cmocka_unit_test(test_sparse_4g),
	};

	return cmocka_run_group_tests(tests, tmp_dir_setup, tmp_dir_teardown);
}
