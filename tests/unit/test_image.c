/* image: the image_info API, the IOMMUTOOL notes (every rejected value),
 * and the writer: arena -> image_write -> physmem_open_elf +
 * image_read_notes gives the same bytes and the same info. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <sys/stat.h>

#include "image/image.h"
#include "mem/arena.h"
#include "elf_build.h"

#define GiB (UINT64_C(1) << 30)
/* IOMMUTOOL note types (man 5 iommutool-image). */
#define NT(t) (0x494f0000u | (t))

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* --- kinds --- */

static void test_kind_names(void **state)
{
	const char *names[] = { "vtd", "amd", "smmuv3", "papr" };

	for (int k = IOMMU_VTD; k <= IOMMU_PAPR; k++) {
		assert_string_equal(iommu_kind_name((enum iommu_kind)k), names[k - 1]);
		assert_int_equal(iommu_kind_parse(names[k - 1]), k);
	}
	assert_null(iommu_kind_name(IOMMU_NONE));
	assert_null(iommu_kind_name(IOMMU_KIND_MAX));
	assert_null(iommu_kind_name((enum iommu_kind)-1));
	/* Exact matches only. */
	assert_int_equal(iommu_kind_parse("VTD"), IOMMU_NONE);
	assert_int_equal(iommu_kind_parse("vt"), IOMMU_NONE);
	assert_int_equal(iommu_kind_parse("vtd "), IOMMU_NONE);
	assert_int_equal(iommu_kind_parse("smmu"), IOMMU_NONE);
	assert_int_equal(iommu_kind_parse(""), IOMMU_NONE);
	assert_int_equal(iommu_kind_parse("none"), IOMMU_NONE);
	assert_int_equal(iommu_kind_parse(NULL), IOMMU_NONE);
}

/* --- the image_info API --- */

static void test_units(void **state)
{
	struct image_info info;
	struct image_unit *first, *u;
	struct errbuf err;

	image_info_init(&info);
	assert_int_equal(info.nr_units, 0);
	assert_false(info.from_note);
	first = image_info_unit(&info, 7, &err);
	assert_non_null(first);
	assert_int_equal(first->index, 7);
	assert_int_equal(first->kind, IOMMU_NONE);
	assert_ptr_equal(image_info_unit(&info, 7, &err), first);
	assert_int_equal(info.nr_units, 1);
	/* Pointers stay valid while units are added. */
	for (uint32_t i = 100; i < 100 + IMAGE_MAX_UNITS - 1; i++) {
		u = image_info_unit(&info, i, &err);
		assert_non_null(u);
		assert_int_equal(u->index, i);
	}
	assert_int_equal(info.nr_units, IMAGE_MAX_UNITS);
	assert_ptr_equal(image_info_unit(&info, 7, &err), first);
	assert_null(image_info_unit(&info, 5000, &err));
	assert_string_equal(err.msg, "cannot add unit 5000: more than 256 units");
	image_info_release(&info);
	assert_int_equal(info.nr_units, 0);
	assert_null(info.units);
	image_info_release(&info); /* twice is fine */
}

static void test_regs(void **state)
{
	struct image_info info;
	struct image_unit *u;
	struct errbuf err;
	uint64_t v = 0;

	image_info_init(&info);
	u = image_info_unit(&info, 0, &err);
	assert_int_equal(image_unit_set_reg(u, "rtaddr", 0x1234000, &err), 0);
	assert_int_equal(image_unit_set_reg(u, "cap", 0xd2008c40660462, &err), 0);
	assert_int_equal(image_unit_set_reg(u, "a_23_chars_long_name_ok", 1, &err), 0);
	assert_true(image_unit_reg(u, "rtaddr", &v));
	assert_int_equal(v, 0x1234000);
	assert_true(image_unit_reg(u, "cap", NULL));
	assert_false(image_unit_reg(u, "ca", &v));
	assert_false(image_unit_reg(u, "capx", &v));
	assert_false(image_unit_reg(u, "ecap", &v));
	/* Replacing keeps one entry. */
	assert_int_equal(image_unit_set_reg(u, "rtaddr", 0x5000, &err), 0);
	assert_int_equal(u->nr_regs, 3);
	assert_true(image_unit_reg(u, "rtaddr", &v));
	assert_int_equal(v, 0x5000);
	/* Growth past the first allocations. */
	for (int i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(image_unit_set_reg(u, name, (uint64_t)i * 3, &err), 0);
	}
	assert_int_equal(u->nr_regs, 103);
	assert_true(image_unit_reg(u, "r77", &v));
	assert_int_equal(v, 231);
	assert_true(image_unit_reg(u, "rtaddr", &v));
	assert_int_equal(v, 0x5000);

	assert_int_equal(image_unit_set_reg(u, "", 1, &err), -EINVAL);
	assert_string_equal(err.msg, "register name \"\" is empty");
	assert_int_equal(image_unit_set_reg(u, "RTADDR", 1, &err), -EINVAL);
	assert_string_equal(err.msg, "register name \"RTADDR\" has a character outside [a-z0-9_]");
	assert_int_equal(image_unit_set_reg(u, "rt-addr", 1, &err), -EINVAL);
	assert_int_equal(image_unit_set_reg(u, "rt addr", 1, &err), -EINVAL);
	assert_int_equal(image_unit_set_reg(u, "a_24_chars_long_name_bad", 1, &err), -EINVAL);
	assert_contains(err.msg, "is not NUL-terminated");
	assert_int_equal(u->nr_regs, 103);
	image_info_release(&info);
}

static void test_devices_windows(void **state)
{
	struct image_info info;
	struct image_unit *u;
	struct errbuf err;
	struct image_device d = { .id = 0x18, .segment = 1, .pci = true, .name = "nvme" };
	struct image_window w = { .liobn = 0x80000000, .page_shift = 16, .bus_start = 0,
				  .size = 1u << 30, .table_addr = 0x7000000, .levels = 2,
				  .table_shift = 16, .flags = 3 };
	struct image_window bad;

	image_info_init(&info);
	u = image_info_unit(&info, 2, &err);
	assert_int_equal(image_unit_add_device(u, &d, &err), 0);
	d.pci = false;
	d.id = 0x12345678;
	memset(d.name, 0, sizeof(d.name));
	assert_int_equal(image_unit_add_device(u, &d, &err), 0); /* no name */
	assert_int_equal(u->nr_devices, 2);
	assert_string_equal(u->devices[0].name, "nvme");
	assert_true(u->devices[0].pci);
	assert_int_equal(u->devices[1].id, 0x12345678);

	d.pci = true;
	assert_int_equal(image_unit_add_device(u, &d, &err), -EINVAL);
	assert_string_equal(err.msg, "device 0x12345678 of unit 2: a PCI requester id is 16 bits "
			    "(bus << 8 | devfn)");
	d.pci = false;
	strcpy(d.name, "bad\nname");
	assert_int_equal(image_unit_add_device(u, &d, &err), -EINVAL);
	assert_contains(err.msg, "name has a character outside printable ASCII");
	memset(d.name, 'x', sizeof(d.name));
	assert_int_equal(image_unit_add_device(u, &d, &err), -EINVAL);
	assert_contains(err.msg, "name is not NUL-terminated");
	d.name[31] = 0;
	assert_int_equal(image_unit_add_device(u, &d, &err), 0);
	assert_int_equal(u->nr_devices, 3);

	assert_int_equal(image_unit_add_window(u, &w, &err), 0);
	assert_int_equal(u->nr_windows, 1);
	assert_int_equal(u->windows[0].table_addr, 0x7000000);
	bad = w;
	bad.levels = 0;
	assert_int_equal(image_unit_add_window(u, &bad, &err), -EINVAL);
	assert_string_equal(err.msg, "window of LIOBN 0x80000000 of unit 2: levels is not 1..5");
	bad.levels = 6;
	assert_int_equal(image_unit_add_window(u, &bad, &err), -EINVAL);
	bad = w;
	bad.page_shift = 11;
	assert_int_equal(image_unit_add_window(u, &bad, &err), -EINVAL);
	bad = w;
	bad.table_shift = 64;
	assert_int_equal(image_unit_add_window(u, &bad, &err), -EINVAL);
	bad = w;
	bad.size = 0;
	assert_int_equal(image_unit_add_window(u, &bad, &err), -EINVAL);
	bad = w;
	bad.bus_start = UINT64_MAX - 0xfff;
	bad.size = 0x2000;
	assert_int_equal(image_unit_add_window(u, &bad, &err), -EINVAL);
	assert_contains(err.msg, "wraps");
	bad.size = 0x1000; /* ends exactly at 2^64 */
	assert_int_equal(image_unit_add_window(u, &bad, &err), 0);
	assert_int_equal(u->nr_windows, 2);
	image_info_release(&info);
}

/* --- round trip through a file --- */

/* Two units: VT-d with registers and devices, PAPR with windows. */
static void make_info(struct image_info *info)
{
	struct errbuf err;
	struct image_unit *u;
	struct image_device d = { .id = 0x0010, .segment = 0, .pci = true, .name = "virtio-blk" };
	struct image_window w = { .liobn = 0x80000001, .page_shift = 12, .bus_start = 0,
				  .size = UINT64_C(1) << 31, .table_addr = 0x3000000,
				  .levels = 1, .table_shift = 20, .flags = 0 };

	image_info_init(info);
	u = image_info_unit(info, 0, &err);
	u->kind = IOMMU_VTD;
	u->segment = 0;
	u->mmio_base = 0xfed90000;
	assert_int_equal(image_unit_set_reg(u, "cap", UINT64_C(0x00d2008c40660462), &err), 0);
	assert_int_equal(image_unit_set_reg(u, "ecap", UINT64_C(0xf0101a), &err), 0);
	assert_int_equal(image_unit_set_reg(u, "rtaddr", 0x1000, &err), 0);
	assert_int_equal(image_unit_add_device(u, &d, &err), 0);
	d.id = 0xf8;
	memset(d.name, 0, sizeof(d.name));
	assert_int_equal(image_unit_add_device(u, &d, &err), 0);

	u = image_info_unit(info, 3, &err);
	u->kind = IOMMU_PAPR;
	u->segment = 0xffff;
	u->mmio_base = UINT64_C(0x600c3c0000000);
	assert_int_equal(image_unit_add_window(u, &w, &err), 0);
	w.liobn = 0x80000002;
	w.page_shift = 16;
	w.bus_start = UINT64_C(0x800000000000000);
	w.size = UINT64_C(1) << 40;
	w.levels = 3;
	w.flags = 0x5;
	assert_int_equal(image_unit_add_window(u, &w, &err), 0);
	assert_int_equal(image_unit_add_device(u, &(struct image_device){ .id = 0x100, .pci = true },
					       &err), 0);
}

static void assert_same_info(const struct image_info *a, const struct image_info *b)
{
	assert_int_equal(a->nr_units, b->nr_units);
	for (size_t i = 0; i < a->nr_units; i++) {
		const struct image_unit *ua = &a->units[i], *ub = &b->units[i];

		assert_int_equal(ua->kind, ub->kind);
		assert_int_equal(ua->index, ub->index);
		assert_int_equal(ua->segment, ub->segment);
		assert_int_equal(ua->mmio_base, ub->mmio_base);
		assert_int_equal(ua->nr_regs, ub->nr_regs);
		for (size_t j = 0; j < ua->nr_regs; j++) {
			assert_string_equal(ua->regs[j].name, ub->regs[j].name);
			assert_int_equal(ua->regs[j].value, ub->regs[j].value);
		}
		assert_int_equal(ua->nr_devices, ub->nr_devices);
		for (size_t j = 0; j < ua->nr_devices; j++) {
			assert_int_equal(ua->devices[j].id, ub->devices[j].id);
			assert_int_equal(ua->devices[j].segment, ub->devices[j].segment);
			assert_int_equal(ua->devices[j].pci, ub->devices[j].pci);
			assert_string_equal(ua->devices[j].name, ub->devices[j].name);
		}
		assert_int_equal(ua->nr_windows, ub->nr_windows);
		for (size_t j = 0; j < ua->nr_windows; j++) {
			const struct image_window *wa = &ua->windows[j], *wb = &ub->windows[j];

			assert_int_equal(wa->liobn, wb->liobn);
			assert_int_equal(wa->page_shift, wb->page_shift);
			assert_int_equal(wa->bus_start, wb->bus_start);
			assert_int_equal(wa->size, wb->size);
			assert_int_equal(wa->table_addr, wb->table_addr);
			assert_int_equal(wa->levels, wb->levels);
			assert_int_equal(wa->table_shift, wb->table_shift);
			assert_int_equal(wa->flags, wb->flags);
		}
	}
}

static void assert_same_memory(struct physmem *a, struct physmem *b)
{
	static unsigned char ba[0x10000], bb[0x10000];
	struct errbuf err;

	assert_int_equal(a->nr_ranges, b->nr_ranges);
	for (size_t i = 0; i < a->nr_ranges; i++) {
		assert_int_equal(a->ranges[i].start, b->ranges[i].start);
		assert_int_equal(a->ranges[i].size, b->ranges[i].size);
		for (uint64_t off = 0; off < a->ranges[i].size; off += sizeof(ba)) {
			uint64_t n = a->ranges[i].size - off;

			if (n > sizeof(ba))
				n = sizeof(ba);
			assert_int_equal(physmem_read(a, a->ranges[i].start + off, ba, n, &err), 0);
			assert_int_equal(physmem_read(b, a->ranges[i].start + off, bb, n, &err), 0);
			assert_memory_equal(ba, bb, n);
		}
	}
}

static uint64_t run_count(const char *cmd, const char *needle)
{
	FILE *p = popen(cmd, "r");
	char line[512];
	uint64_t n = 0;

	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p))
		if (strstr(line, needle))
			n++;
	pclose(p);
	return n;
}

static void round_trip(unsigned machine)
{
	char path[256], cmd[600];
	struct arena *a = arena_new(0x100000, 64 * 4096);
	struct image_info info, back;
	struct physmem *view, *file;
	struct errbuf err;
	struct stat st;
	uint64_t pa;

	/* Some allocated pages (one left all-zero), a far reserved page,
	 * and one above 4 GiB. */
	for (int i = 0; i < 5; i++) {
		unsigned char *p;

		pa = arena_alloc_page(a);
		p = arena_page(a, pa);
		if (i != 2)
			for (int j = 0; j < 4096; j++)
				p[j] = tpattern(pa + (uint64_t)j);
	}
	assert_int_equal(arena_reserve(a, 0xfed90000, 0x1000, &err), 0);
	((unsigned char *)arena_page(a, 0xfed90000))[0x20] = 0x42;
	assert_int_equal(arena_reserve(a, 4 * GiB + 0x3000, 0x1000, &err), 0);
	memset(arena_page(a, 4 * GiB + 0x3000), 0x99, 4096);
	assert_int_equal(arena_physmem(a, &view, &err), 0);
	assert_int_equal(view->nr_ranges, 3);
	make_info(&info);

	tmp_path(path, sizeof(path), "round.elf");
	assert_int_equal(image_write(path, view, &info, machine, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	assert_int_equal(physmem_open_elf(path, &file, &err), 0);
	assert_same_memory(view, file);
	assert_int_equal(image_read_notes(path, &back, &err), 0);
	assert_true(back.from_note);
	assert_same_info(&info, &back);

	/* binutils sees the notes and the loads. */
	if (access("/usr/bin/readelf", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>&1", path);
		assert_int_equal(run_count(cmd, "IOMMUTOOL"), 4);
		snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>&1", path);
		assert_int_equal(run_count(cmd, "  LOAD "), 3);
		assert_int_equal(run_count(cmd, "  NOTE "), 1);
		assert_int_equal(run_count(cmd, "0x0000000100003000 0x0000000100003000 0x001000"), 1);
		snprintf(cmd, sizeof(cmd), "readelf -h '%s' 2>&1", path);
		assert_int_equal(run_count(cmd, "little endian"), 1);
		assert_int_equal(run_count(cmd, "CORE (Core file)"), 1);
	}

	/* Rewriting an image from itself works (the data is mapped). */
	assert_int_equal(image_write(path, file, &back, machine, &err), 0);
	physmem_free(file);
	assert_int_equal(physmem_open_elf(path, &file, &err), 0);
	assert_same_memory(view, file);

	physmem_free(file);
	physmem_free(view);
	image_info_release(&back);
	image_info_release(&info);
	arena_free(a);
	unlink(path);
}

static void test_round_trip(void **state)
{
	round_trip(EM_X86_64);
	round_trip(EM_AARCH64);
	round_trip(EM_PPC64);
}

/* An empty info writes four empty notes: from_note, no units. */
static void test_round_trip_empty(void **state)
{
	char path[256];
	struct image_info info, back;
	struct errbuf err;
	struct physmem *pm;

	image_info_init(&info);
	tmp_path(path, sizeof(path), "empty.elf");
	assert_int_equal(image_write(path, NULL, &info, EM_X86_64, &err), 0);
	assert_int_equal(image_read_notes(path, &back, &err), 0);
	assert_true(back.from_note);
	assert_int_equal(back.nr_units, 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), 0);
	assert_int_equal(pm->nr_ranges, 0);
	physmem_free(pm);
	unlink(path);
}

/* A physmem of many tiny ranges, mostly zero: exercises PN_XNUM. */
struct many_ranges {
	struct physmem pm;
};

static int zero_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		     struct errbuf *err)
{
	memset(buf, 0, len);
	if (pa == 0x1000 || pa == 0x2000ull * 69999 + 0x1000)
		for (size_t i = 0; i < len; i++)
			((unsigned char *)buf)[i] = tpattern(pa + i);
	return 0;
}

static const struct physmem_ops zero_ops = { .name = "test", .read = zero_read };

static void test_many_loads(void **state)
{
	const size_t n = 70000;
	char path[256], cmd[600];
	struct physmem src = { .ops = &zero_ops, .path = (char *)"test" }, *file;
	struct physmem_range *r = calloc(n, sizeof(*r));
	struct image_info info;
	struct errbuf err;

	for (size_t i = 0; i < n; i++) {
		r[i].start = 0x2000 * (uint64_t)i + 0x1000;
		r[i].size = 0x10;
	}
	assert_int_equal(physmem_set_ranges(&src, r, n, &err), 0); /* takes r */
	image_info_init(&info);
	tmp_path(path, sizeof(path), "xnum.elf");
	assert_int_equal(image_write(path, &src, &info, EM_X86_64, &err), 0);
	assert_int_equal(physmem_open_elf(path, &file, &err), 0);
	assert_same_memory(&src, file);
	if (access("/usr/bin/readelf", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>&1", path);
		assert_int_equal(run_count(cmd, "  LOAD "), n);
	}
	physmem_free(file);
	free(src.ranges);
	unlink(path);
}

static int failing_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
			struct errbuf *err)
{
	return err_set(err, -EIO, "cannot read 0x%zx bytes at 0x%" PRIx64 " in %s: "
		       "device gone", len, pa, pm->path);
}

static const struct physmem_ops failing_ops = { .name = "test", .read = failing_read };

/* A source that fails to read: the error says where, no file is left. */
static void test_write_read_error(void **state)
{
	char path[256];
	struct physmem src = { .ops = &failing_ops, .path = (char *)"src.elf" };
	struct physmem_range *r = malloc(sizeof(*r));
	struct image_info info;
	struct errbuf err;
	struct stat st;

	r->start = 0x5000;
	r->size = 0x3000;
	assert_int_equal(physmem_set_ranges(&src, r, 1, &err), 0);
	image_info_init(&info);
	tmp_path(path, sizeof(path), "rerr.elf");
	unlink(path);
	assert_int_equal(image_write(path, &src, &info, EM_AARCH64, &err), -EIO);
	assert_contains(err.msg, "cannot write ");
	assert_contains(err.msg, ": cannot read 0x3000 bytes at 0x5000 in src.elf: device gone");
	assert_int_equal(stat(path, &st), -1);
	free(src.ranges);
}

static void test_write_errors(void **state)
{
	char path[256];
	struct image_info info;
	struct image_unit *u;
	struct errbuf err;
	struct stat st;

	tmp_path(path, sizeof(path), "werr.elf");
	unlink(path);
	image_info_init(&info);
	assert_int_equal(image_write(path, NULL, &info, EM_386, &err), -EINVAL);
	assert_contains(err.msg, "unsupported machine 3");
	u = image_info_unit(&info, 1, &err);
	assert_int_equal(image_write(path, NULL, &info, EM_X86_64, &err), -EINVAL);
	assert_contains(err.msg, "unit 1 has no known IOMMU kind (0)");
	u->kind = IOMMU_AMD;
	assert_int_equal(image_unit_set_reg(u, "dev_table", 1, &err), 0);
	assert_int_equal(image_unit_set_reg(u, "efr", 1, &err), 0);
	strcpy(u->regs[1].name, "dev_table");
	assert_int_equal(image_write(path, NULL, &info, EM_X86_64, &err), -EINVAL);
	assert_contains(err.msg, "register dev_table appears twice");
	strcpy(u->regs[1].name, "Efr");
	assert_int_equal(image_write(path, NULL, &info, EM_X86_64, &err), -EINVAL);
	assert_contains(err.msg, "outside [a-z0-9_]");
	strcpy(u->regs[1].name, "efr");
	info.units[info.nr_units++] = *u; /* a second unit 1 sharing the lists */
	assert_int_equal(image_write(path, NULL, &info, EM_X86_64, &err), -EINVAL);
	assert_contains(err.msg, "unit 1 appears twice");
	info.nr_units--;
	/* Nothing is left behind by a failed write. */
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(image_write("/nonexistent-dir/x.elf", NULL, &info, EM_X86_64, &err),
			 -ENOENT);
	assert_contains(err.msg, "cannot create /nonexistent-dir/x.elf.");
	image_info_release(&info);
}

/* --- reading notes --- */

struct tnote {
	const char *owner; /* NULL: no name */
	uint32_t type;
	const unsigned char *desc;
	size_t desc_len;
	uint32_t bad_descsz; /* nonzero: claimed n_descsz instead of desc_len */
};

/* Notes in @data byte order (headers) with 4-byte padding. */
static size_t tnotes(unsigned char *buf, int data, const struct tnote *n, size_t nr)
{
	size_t pos = 0;

	for (size_t i = 0; i < nr; i++) {
		size_t namesz = n[i].owner ? strlen(n[i].owner) + 1 : 0;

		tput(buf + pos, data, namesz, 4);
		tput(buf + pos + 4, data, n[i].bad_descsz ? n[i].bad_descsz : n[i].desc_len, 4);
		tput(buf + pos + 8, data, n[i].type, 4);
		pos += 12;
		if (namesz)
			memcpy(buf + pos, n[i].owner, namesz);
		pos += (namesz + 3) & ~(size_t)3;
		if (n[i].desc_len)
			memcpy(buf + pos, n[i].desc, n[i].desc_len);
		pos += (n[i].desc_len + 3) & ~(size_t)3;
	}
	return pos;
}

/* A core with one PT_NOTE holding @n and one PT_LOAD after it. */
static void write_noted_core(const char *path, int data, const struct tnote *n, size_t nr)
{
	size_t cap = 0, len;
	unsigned char *blob;
	int fd;

	for (size_t i = 0; i < nr; i++)
		cap += 12 + 12 + n[i].desc_len + 4;
	blob = calloc(1, cap + 1);
	assert_non_null(blob);
	len = tnotes(blob, data, n, nr);
	{
		uint64_t data_off = (0x400 + len + 0xfff) & ~(uint64_t)0xfff;
		struct tseg segs[] = {
			{ .type = PT_NOTE, .offset = 0x400, .filesz = len },
			{ .type = PT_LOAD, .offset = data_off, .paddr = 0x100000,
			  .filesz = 0x1000, .memsz = 0x1000 },
		};
		struct tcore c = { ELFCLASS64, data, ET_CORE, EM_X86_64, 0, segs, 2 };

		assert_int_equal(tcore_write(path, &c), 0);
	}
	fd = open(path, O_WRONLY);
	assert_int_equal(pwrite(fd, blob, len, 0x400), (ssize_t)len);
	close(fd);
	free(blob);
}

/* Record builders (little-endian, as the format says). */
static size_t desc_hdr(unsigned char *d, uint32_t version, uint32_t size, uint32_t count)
{
	memset(d, 0, 16);
	tput(d, ELFDATA2LSB, version, 4);
	tput(d + 4, ELFDATA2LSB, size, 4);
	tput(d + 8, ELFDATA2LSB, count, 4);
	return 16;
}

static void unit_rec(unsigned char *r, uint32_t index, uint32_t kind, uint16_t seg, uint64_t mmio)
{
	memset(r, 0, 24);
	tput(r, ELFDATA2LSB, index, 4);
	tput(r + 4, ELFDATA2LSB, kind, 4);
	tput(r + 8, ELFDATA2LSB, seg, 2);
	tput(r + 16, ELFDATA2LSB, mmio, 8);
}

static void reg_rec(unsigned char *r, uint32_t unit, const char *name, uint64_t v)
{
	memset(r, 0, 40);
	tput(r, ELFDATA2LSB, unit, 4);
	memcpy(r + 8, name, strlen(name) < 24 ? strlen(name) : 24);
	tput(r + 32, ELFDATA2LSB, v, 8);
}

static void dev_rec(unsigned char *r, uint32_t unit, uint32_t id, uint8_t flags, const char *name)
{
	memset(r, 0, 48);
	tput(r, ELFDATA2LSB, unit, 4);
	tput(r + 4, ELFDATA2LSB, id, 4);
	r[10] = flags;
	memcpy(r + 16, name, strlen(name) < 32 ? strlen(name) : 32);
}

static void win_rec(unsigned char *r, uint32_t unit, uint32_t levels)
{
	memset(r, 0, 48);
	tput(r, ELFDATA2LSB, unit, 4);
	tput(r + 4, ELFDATA2LSB, 0x80000000, 4);
	tput(r + 8, ELFDATA2LSB, 12, 4);
	tput(r + 12, ELFDATA2LSB, levels, 4);
	tput(r + 16, ELFDATA2LSB, 12, 4);
	tput(r + 32, ELFDATA2LSB, 1u << 30, 8);
	tput(r + 40, ELFDATA2LSB, 0x2000000, 8);
}

static unsigned char core_desc[336]; /* a CORE prstatus-sized blob */
static const char vmcoreinfo[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";

/* A good UNIT note + a good REG note. */
static unsigned char good_units[16 + 2 * 24], good_regs[16 + 40];

static void make_good(void)
{
	desc_hdr(good_units, 1, 24, 2);
	unit_rec(good_units + 16, 0, IOMMU_VTD, 0, 0xfed90000);
	unit_rec(good_units + 40, 1, IOMMU_SMMUV3, 2, 0x9050000);
	desc_hdr(good_regs, 1, 40, 1);
	reg_rec(good_regs + 16, 1, "strtab_base", 0x40000000);
}

static void test_read_no_note(void **state)
{
	char path[256];
	const struct tnote qemu[] = {
		{ "CORE", NT_PRSTATUS, core_desc, sizeof(core_desc), 0 },
		{ "QEMU", 0, core_desc, 64, 0 },
		{ "VMCOREINFO", 0, (const unsigned char *)vmcoreinfo, sizeof(vmcoreinfo) - 1, 0 },
	};
	struct image_info info;
	struct errbuf err;

	tmp_path(path, sizeof(path), "qemu.elf");
	write_noted_core(path, ELFDATA2LSB, qemu, 3);
	assert_int_equal(image_read_notes(path, &info, &err), 0);
	assert_false(info.from_note);
	assert_int_equal(info.nr_units, 0);
	image_info_release(&info);

	/* No PT_NOTE at all. */
	{
		const struct tseg seg = { .type = PT_LOAD, .offset = 0x1000, .paddr = 0,
					  .filesz = 0x1000, .memsz = 0x1000 };
		struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, &seg, 1 };

		assert_int_equal(tcore_write(path, &c), 0);
		assert_int_equal(image_read_notes(path, &info, &err), 0);
		assert_false(info.from_note);
		image_info_release(&info);
	}
	unlink(path);
}

/* Our notes among QEMU's, in a big-endian file too (headers follow the
 * file, the descriptors stay little-endian). */
static void test_read_mixed(void **state)
{
	char path[256];
	const struct tnote notes[] = {
		{ "CORE", NT_PRSTATUS, core_desc, sizeof(core_desc), 0 },
		{ "IOMMUTOOL", NT(2), good_regs, sizeof(good_regs), 0 },
		{ "VMCOREINFO", 0, (const unsigned char *)vmcoreinfo, sizeof(vmcoreinfo) - 1, 0 },
		{ "IOMMUTOOL", NT(1), good_units, sizeof(good_units), 0 },
		{ NULL, 0, NULL, 0, 0 },
	};
	const int datas[] = { ELFDATA2LSB, ELFDATA2MSB };
	struct image_info info;
	struct errbuf err;
	uint64_t v;

	make_good();
	tmp_path(path, sizeof(path), "mixed.elf");
	for (int i = 0; i < 2; i++) {
		write_noted_core(path, datas[i], notes, 5);
		assert_int_equal(image_read_notes(path, &info, &err), 0);
		assert_true(info.from_note);
		assert_int_equal(info.nr_units, 2);
		assert_int_equal(info.units[0].kind, IOMMU_VTD);
		assert_int_equal(info.units[0].mmio_base, 0xfed90000);
		assert_int_equal(info.units[1].kind, IOMMU_SMMUV3);
		assert_int_equal(info.units[1].segment, 2);
		assert_int_equal(info.units[0].nr_regs, 0);
		assert_true(image_unit_reg(&info.units[1], "strtab_base", &v));
		assert_int_equal(v, 0x40000000);
		image_info_release(&info);
	}
	unlink(path);
}

/* Writes @notes, expects image_read_notes to fail with @needle, and the
 * info to come back empty. */
static void expect_note_error(const struct tnote *notes, size_t nr, const char *needle)
{
	char path[256];
	struct image_info info;
	struct errbuf err = {{0}};

	tmp_path(path, sizeof(path), "badnote.elf");
	write_noted_core(path, ELFDATA2LSB, notes, nr);
	if (image_read_notes(path, &info, &err) == 0)
		fail_msg("no error, expected \"%s\"", needle);
	assert_contains(err.msg, needle);
	assert_contains(err.msg, path);
	assert_int_equal(info.nr_units, 0);
	assert_null(info.units);
	assert_false(info.from_note);
	unlink(path);
}

static void test_read_bad_headers(void **state)
{
	unsigned char d[16 + 2 * 48];
	struct tnote n[2] = { { "IOMMUTOOL", NT(1), good_units, sizeof(good_units), 0 },
			      { "IOMMUTOOL", NT(1), d, 0, 0 } };
	char want[400], path[256];

	make_good();
	/* The exact message: file, note type, offset (0x400 + 12 + 12 + ...). */
	memcpy(d, good_units, sizeof(good_units));
	tput(d + 16 + 4, ELFDATA2LSB, 7, 4);
	n[0].desc = d;
	tmp_path(path, sizeof(path), "badnote.elf");
	snprintf(want, sizeof(want), "%s: IOMMUTOOL UNIT note at offset 0x400, record 0: "
		 "unknown IOMMU kind 7", path);
	expect_note_error(n, 1, want);
	tput(d + 16 + 4, ELFDATA2LSB, 0, 4);
	expect_note_error(n, 1, "record 0: unknown IOMMU kind 0");

	n[0].desc = good_units;
	n[0].type = NT(9);
	expect_note_error(n, 1, "IOMMUTOOL note at offset 0x400: unknown note type 0x494f0009");
	n[0].type = NT(0);
	expect_note_error(n, 1, "unknown note type 0x494f0000");
	n[0].type = 1;
	expect_note_error(n, 1, "unknown note type 0x1");
	n[0].type = 0x12340001;
	expect_note_error(n, 1, "unknown note type 0x12340001");
	n[0].type = NT(1);

	n[0].desc = d;
	desc_hdr(d, 2, 24, 0);
	n[0].desc_len = 16;
	expect_note_error(n, 1, "unsupported version 2 (this reader knows 1)");
	desc_hdr(d, 1, 20, 0);
	expect_note_error(n, 1, "record size 20, expected 24");
	desc_hdr(d, 1, 24, 0);
	d[12] = 1;
	expect_note_error(n, 1, "reserved header field is not 0");
	desc_hdr(d, 1, 24, (1u << 20) + 1);
	expect_note_error(n, 1, "1048577 records, more than 1048576");
	desc_hdr(d, 1, 24, 257);
	n[0].desc_len = 16;
	expect_note_error(n, 1, "does not hold 257 records of 24 bytes");
	desc_hdr(d, 1, 24, 1);
	n[0].desc_len = 16 + 24 + 4;
	expect_note_error(n, 1, "does not hold 1 records");
	n[0].desc_len = 12;
	expect_note_error(n, 1, "descriptor of 12 bytes is shorter than its 16-byte header");

	/* Two UNIT notes. */
	n[0].desc = good_units;
	n[0].desc_len = sizeof(good_units);
	n[1] = n[0];
	expect_note_error(n, 2, "IOMMUTOOL UNIT note at offset 0x458: a second one "
			  "(the first is at offset 0x400)");

	/* n_descsz past the end of the segment. */
	n[0].bad_descsz = 0x1000;
	expect_note_error(n, 1, "malformed note at offset 0x400");
}

static void test_read_bad_units(void **state)
{
	unsigned char d[16 + 300 * 24];
	struct tnote n = { "IOMMUTOOL", NT(1), d, 16 + 2 * 24, 0 };

	desc_hdr(d, 1, 24, 2);
	unit_rec(d + 16, 4, IOMMU_AMD, 0, 0);
	unit_rec(d + 40, 4, IOMMU_VTD, 0, 0);
	expect_note_error(&n, 1, "record 1: unit 4 appears twice");
	unit_rec(d + 40, 5, IOMMU_VTD, 0, 0);
	d[40 + 12] = 1;
	expect_note_error(&n, 1, "record 1: reserved bytes are not 0");

	desc_hdr(d, 1, 24, 300);
	for (int i = 0; i < 300; i++)
		unit_rec(d + 16 + i * 24, (uint32_t)i, IOMMU_VTD, 0, 0);
	n.desc_len = sizeof(d);
	/* Too big for the 64 KiB test blob?  16 + 7200 bytes: fine. */
	expect_note_error(&n, 1, "300 units, more than 256");
}

static void test_read_bad_regs(void **state)
{
	unsigned char d[16 + 2 * 40];
	struct tnote n[2] = { { "IOMMUTOOL", NT(2), d, sizeof(d), 0 },
			      { "IOMMUTOOL", NT(1), good_units, sizeof(good_units), 0 } };

	make_good();
	desc_hdr(d, 1, 40, 2);
	reg_rec(d + 16, 0, "cap", 1);
	reg_rec(d + 56, 5, "cap", 1);
	expect_note_error(n, 2, "IOMMUTOOL REG note at offset 0x400, record 1: "
			  "unit 5 has no UNIT record");
	/* No UNIT note at all. */
	expect_note_error(n, 1, "record 0: unit 0 has no UNIT record");

	reg_rec(d + 56, 0, "cap", 2);
	expect_note_error(n, 2, "record 1: register cap of unit 0 appears twice (first in record 0)");
	reg_rec(d + 56, 0, "Cap", 2);
	expect_note_error(n, 2, "record 1: register name has a character outside [a-z0-9_]");
	reg_rec(d + 56, 0, "", 2);
	expect_note_error(n, 2, "record 1: register name is empty");
	reg_rec(d + 56, 0, "abcdefghijklmnopqrstuvwxyz", 2);
	expect_note_error(n, 2, "record 1: register name is not NUL-terminated");
	reg_rec(d + 56, 0, "ecap", 2);
	d[56 + 8 + 10] = 'x';
	expect_note_error(n, 2, "record 1: register name is not NUL-padded");
	reg_rec(d + 56, 0, "ecap", 2);
	d[56 + 4] = 1;
	expect_note_error(n, 2, "record 1: reserved bytes are not 0");
}

/* Many registers: duplicates are found without a quadratic search. */
static void test_read_many_regs(void **state)
{
	const long count = 100000;
	size_t size = 16 + (size_t)count * 40;
	unsigned char *d = malloc(size);
	struct tnote n[2] = { { "IOMMUTOOL", NT(1), good_units, sizeof(good_units), 0 },
			      { "IOMMUTOOL", NT(2), d, size, 0 } };
	struct image_info info;
	struct errbuf err;
	char path[256], name[24];
	uint64_t v;

	make_good();
	desc_hdr(d, 1, 40, (uint32_t)count);
	for (long i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "r%ld", i);
		reg_rec(d + 16 + i * 40, (uint32_t)(i & 1), name, (uint64_t)i * 7);
	}
	tmp_path(path, sizeof(path), "manyregs.elf");
	write_noted_core(path, ELFDATA2LSB, n, 2);
	assert_int_equal(image_read_notes(path, &info, &err), 0);
	assert_int_equal(info.units[0].nr_regs, count / 2);
	assert_int_equal(info.units[1].nr_regs, count / 2);
	assert_true(image_unit_reg(&info.units[1], "r99999", &v));
	assert_int_equal(v, 99999 * 7);
	assert_string_equal(info.units[0].regs[0].name, "r0"); /* file order kept */
	image_info_release(&info);
	unlink(path);

	/* The same name for the same unit far apart. */
	reg_rec(d + 16 + (count - 1) * 40, 0, "r4", 1);
	expect_note_error(n, 2, "record 99999: register r4 of unit 0 appears twice "
			  "(first in record 4)");
	free(d);
}

static void test_read_bad_devices(void **state)
{
	unsigned char d[16 + 48];
	struct tnote n[2] = { { "IOMMUTOOL", NT(3), d, sizeof(d), 0 },
			      { "IOMMUTOOL", NT(1), good_units, sizeof(good_units), 0 } };
	struct image_info info;
	struct errbuf err;
	char path[256];

	make_good();
	desc_hdr(d, 1, 48, 1);
	dev_rec(d + 16, 1, 0x10000, 1, "x");
	expect_note_error(n, 2, "IOMMUTOOL DEVICE note at offset 0x400, record 0: "
			  "device 0x10000 of unit 1: a PCI requester id is 16 bits");
	dev_rec(d + 16, 1, 0x10, 3, "x");
	expect_note_error(n, 2, "record 0: unknown flags 0x2");
	dev_rec(d + 16, 1, 0x10, 1, "tab\there");
	expect_note_error(n, 2, "record 0: device name has a character outside printable ASCII");
	dev_rec(d + 16, 1, 0x10, 1, "0123456789abcdef0123456789abcdef");
	expect_note_error(n, 2, "record 0: device name is not NUL-terminated");
	dev_rec(d + 16, 1, 0x10, 1, "ok");
	d[16 + 12] = 9;
	expect_note_error(n, 2, "record 0: reserved bytes are not 0");

	/* And a good one reads back. */
	dev_rec(d + 16, 1, 0x12345, 0, "smmu stream 0x12345");
	tmp_path(path, sizeof(path), "dev.elf");
	write_noted_core(path, ELFDATA2LSB, n, 2);
	assert_int_equal(image_read_notes(path, &info, &err), 0);
	assert_int_equal(info.units[1].nr_devices, 1);
	assert_int_equal(info.units[1].devices[0].id, 0x12345);
	assert_false(info.units[1].devices[0].pci);
	assert_string_equal(info.units[1].devices[0].name, "smmu stream 0x12345");
	image_info_release(&info);
	unlink(path);
}

static void test_read_bad_windows(void **state)
{
	unsigned char d[16 + 48];
	struct tnote n[2] = { { "IOMMUTOOL", NT(4), d, sizeof(d), 0 },
			      { "IOMMUTOOL", NT(1), good_units, sizeof(good_units), 0 } };

	make_good();
	desc_hdr(d, 1, 48, 1);
	win_rec(d + 16, 0, 0);
	expect_note_error(n, 2, "IOMMUTOOL WINDOW note at offset 0x400, record 0: "
			  "window of LIOBN 0x80000000 of unit 0: levels is not 1..5");
	win_rec(d + 16, 9, 1);
	expect_note_error(n, 2, "record 0: unit 9 has no UNIT record");
}

static void test_read_bad_files(void **state)
{
	char path[256];
	struct image_info info;
	struct errbuf err;
	const struct tseg seg = { .type = PT_NOTE, .offset = 0x400, .filesz = 0x100 };
	struct tcore c = { ELFCLASS64, ELFDATA2LSB, ET_CORE, EM_X86_64, 0, &seg, 1 };

	tmp_path(path, sizeof(path), "nofile.elf");
	unlink(path);
	assert_int_equal(image_read_notes(path, &info, &err), -ENOENT);
	assert_contains(err.msg, "cannot open");
	assert_int_equal(info.nr_units, 0);
	/* A PT_NOTE past the end of the file. */
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(image_read_notes(path, &info, &err), -EINVAL);
	assert_contains(err.msg, "PT_NOTE at offset 0x40: notes at file offset 0x400 + 0x100 "
			"run past the end of the file (0x78 bytes): truncated file");
	/* Not a core. */
	c.type = ET_EXEC;
	assert_int_equal(tcore_write(path, &c), 0);
	assert_int_equal(image_read_notes(path, &info, &err), -EINVAL);
	assert_contains(err.msg, "not an ELF core file");
	unlink(path);
}

/* A good image cut short: both readers say so. */
static void test_truncated_image(void **state)
{
	char path[256];
	struct arena *a = arena_new(0x100000, 16 * 4096);
	struct image_info info, back;
	struct physmem *view, *pm;
	struct errbuf err;
	struct stat st;

	for (int i = 0; i < 4; i++)
		memset(arena_page(a, arena_alloc_page(a)), 0x5a, 4096);
	assert_int_equal(arena_physmem(a, &view, &err), 0);
	make_info(&info);
	tmp_path(path, sizeof(path), "cut.elf");
	assert_int_equal(image_write(path, view, &info, EM_X86_64, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 100), 0);
	assert_int_equal(physmem_open_elf(path, &pm, &err), -EINVAL);
	assert_contains(err.msg, "truncated dump");
	/* The notes are before the data and still read. */
	assert_int_equal(image_read_notes(path, &back, &err), 0);
	assert_same_info(&info, &back);
	image_info_release(&back);
	assert_int_equal(truncate(path, 0x100), 0);
	assert_int_equal(image_read_notes(path, &back, &err), -EINVAL);
	assert_contains(err.msg, "truncated file");
	physmem_free(view);
	image_info_release(&info);
	arena_free(a);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_devices_windows),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_empty),
		cmocka_unit_test(test_many_loads),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_write_read_error),
		cmocka_unit_test(test_read_no_note),
		cmocka_unit_test(test_read_mixed),
		cmocka_unit_test(test_read_bad_headers),
		cmocka_unit_test(test_read_bad_units),
		cmocka_unit_test(test_read_bad_regs),
		cmocka_unit_test(test_read_many_regs),
		cmocka_unit_test(test_read_bad_devices),
		cmocka_unit_test(test_read_bad_windows),
		cmocka_unit_test(test_read_bad_files),
		cmocka_unit_test(test_truncated_image),
	};

	return cmocka_run_group_tests(tests, tmp_dir_setup, tmp_dir_teardown);
}
