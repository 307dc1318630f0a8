/* Reading the IOMMUTOOL notes of an ELF core.  Notes of other owners
 * (CORE, QEMU, VMCOREINFO, ...) are skipped.  Every value is checked before
 * it lands in struct image_info; errors name the file and the note's
 * offset (and the record number within the note). */
#include "image/image.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_note.h"
#include "mem/elfcore.h"

/* Note segments beyond this are not ours to trust (the largest valid
 * IOMMUTOOL note is 16 + 2^20 * 48 bytes; QEMU's notes are a few KiB). */
#define NOTE_SEGMENT_MAX (UINT64_C(256) << 20)

struct found_note {
	const unsigned char *desc;
	uint64_t desc_size;
	uint64_t offset; /* of the note header in the file */
};

struct note_reader {
	const char *path;
	struct image_info *info;
	struct found_note notes[IMAGE_NT_MAX]; /* desc NULL when absent */
	struct errbuf *err;
};

static const char *const note_names[IMAGE_NT_MAX] = {
	[IMAGE_NT_UNIT] = "UNIT",
	[IMAGE_NT_REG] = "REG",
	[IMAGE_NT_DEVICE] = "DEVICE",
	[IMAGE_NT_WINDOW] = "WINDOW",
};

static const uint32_t record_sizes[IMAGE_NT_MAX] = {
	[IMAGE_NT_UNIT] = UNIT_SIZE,
	[IMAGE_NT_REG] = REG_SIZE,
	[IMAGE_NT_DEVICE] = DEVICE_SIZE,
	[IMAGE_NT_WINDOW] = WINDOW_SIZE,
};

/* "FILE: IOMMUTOOL REG note at offset 0x...[, record N]: " + message. */
static int note_error(struct note_reader *r, unsigned type, long record,
		      int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int note_error(struct note_reader *r, unsigned type, long record,
		      int code, const char *fmt, ...)
{
	char where[64] = "";
	char what[ERRBUF_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (record >= 0)
		snprintf(where, sizeof(where), ", record %ld", record);
	return err_set(r->err, code, "%s: IOMMUTOOL %s note at offset 0x%" PRIx64 "%s: %s",
		       r->path, note_names[type], r->notes[type].offset, where, what);
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Checks a name field (see image_note.h) including the NUL padding. */
static const char *name_problem(const unsigned char *field, size_t len, bool reg)
{
	const char *problem = reg ? image_reg_name_problem((const char *)field, len)
				  : image_dev_name_problem((const char *)field, len);
	size_t n;

	if (problem)
		return problem;
	n = strnlen((const char *)field, len);
	if (!all_zero(field + n, len - n))
		return "is not NUL-padded";
	return NULL;
}

/* Checks the descriptor header; returns the record count or an error. */
static long note_records(struct note_reader *r, unsigned type)
{
	const struct found_note *n = &r->notes[type];
	uint32_t version, size, count;

	if (n->desc_size < NOTE_HDR_SIZE)
		return note_error(r, type, -1, -EINVAL, "descriptor of %" PRIu64
				  " bytes is shorter than its %d-byte header",
				  n->desc_size, NOTE_HDR_SIZE);
	version = le32_get(n->desc + NOTE_HDR_VERSION);
	size = le32_get(n->desc + NOTE_HDR_RECORD_SIZE);
	count = le32_get(n->desc + NOTE_HDR_COUNT);
	if (version != IMAGE_NOTE_VERSION)
		return note_error(r, type, -1, -EINVAL, "unsupported version %" PRIu32
				  " (this reader knows %d)", version, IMAGE_NOTE_VERSION);
	if (size != record_sizes[type])
		return note_error(r, type, -1, -EINVAL, "record size %" PRIu32
				  ", expected %" PRIu32, size, record_sizes[type]);
	if (le32_get(n->desc + NOTE_HDR_RESERVED) != 0)
		return note_error(r, type, -1, -EINVAL, "reserved header field is not 0");
	if (count > IMAGE_MAX_RECORDS)
		return note_error(r, type, -1, -E2BIG, "%" PRIu32 " records, more than %u",
				  count, IMAGE_MAX_RECORDS);
	if (n->desc_size != NOTE_HDR_SIZE + (uint64_t)count * size)
		return note_error(r, type, -1, -EINVAL, "descriptor of %" PRIu64
				  " bytes does not hold %" PRIu32 " records of %" PRIu32 " bytes",
				  n->desc_size, count, size);
	return count;
}

static int read_units(struct note_reader *r)
{
	const struct found_note *n = &r->notes[IMAGE_NT_UNIT];
	long count = note_records(r, IMAGE_NT_UNIT);

	if (count < 0)
		return (int)count;
	if (count > IMAGE_MAX_UNITS)
		return note_error(r, IMAGE_NT_UNIT, -1, -E2BIG, "%ld units, more than %d",
				  count, IMAGE_MAX_UNITS);
	for (long i = 0; i < count; i++) {
		const unsigned char *rec = n->desc + NOTE_HDR_SIZE + (size_t)i * UNIT_SIZE;
		uint32_t index = le32_get(rec + UNIT_INDEX);
		uint32_t kind = le32_get(rec + UNIT_KIND);
		struct image_unit *u;

		if (kind == IOMMU_NONE || kind >= IOMMU_KIND_MAX)
			return note_error(r, IMAGE_NT_UNIT, i, -EINVAL,
					  "unknown IOMMU kind %" PRIu32, kind);
		if (!all_zero(rec + UNIT_RESERVED, UNIT_MMIO - UNIT_RESERVED))
			return note_error(r, IMAGE_NT_UNIT, i, -EINVAL, "reserved bytes are not 0");
		if (image_info_find_unit(r->info, index))
			return note_error(r, IMAGE_NT_UNIT, i, -EINVAL,
					  "unit %" PRIu32 " appears twice", index);
		u = image_info_unit(r->info, index, r->err);
		if (!u)
			return -ENOMEM;
		u->kind = (enum iommu_kind)kind;
		u->segment = le16_get(rec + UNIT_SEGMENT);
		u->mmio_base = le64_get(rec + UNIT_MMIO);
	}
	return 0;
}

static struct image_unit *record_unit(struct note_reader *r, unsigned type,
				      long i, const unsigned char *rec)
{
	uint32_t index = le32_get(rec); /* every record starts with its unit */
	struct image_unit *u = image_info_find_unit(r->info, index);

	if (!u)
		note_error(r, type, i, -EINVAL, "unit %" PRIu32 " has no UNIT record", index);
	return u;
}

struct reg_key {
	uint32_t unit;
	const char *name;
	long record;
};

static int reg_key_cmp(const void *x, const void *y)
{
	const struct reg_key *a = x, *b = y;
	int c;

	if (a->unit != b->unit)
		return a->unit < b->unit ? -1 : 1;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	return a->record < b->record ? -1 : a->record > b->record;
}

/* Checks every record, finds duplicates by sorting (a hostile file can
 * hold 2^20 registers; a lookup per record would be quadratic), then
 * appends in file order. */
static int read_regs(struct note_reader *r)
{
	const struct found_note *n = &r->notes[IMAGE_NT_REG];
	long count = note_records(r, IMAGE_NT_REG);
	struct reg_key *keys;
	int ret = 0;

	if (count < 0)
		return (int)count;
	keys = malloc((size_t)(count ? count : 1) * sizeof(*keys));
	if (!keys)
		return note_error(r, IMAGE_NT_REG, -1, -ENOMEM, "out of memory");
	for (long i = 0; i < count; i++) {
		const unsigned char *rec = n->desc + NOTE_HDR_SIZE + (size_t)i * REG_SIZE;
		struct image_unit *u = record_unit(r, IMAGE_NT_REG, i, rec);
		const char *problem;

		if (!u) {
			ret = -EINVAL;
			goto out;
		}
		if (!all_zero(rec + REG_RESERVED, REG_NAME - REG_RESERVED)) {
			ret = note_error(r, IMAGE_NT_REG, i, -EINVAL, "reserved bytes are not 0");
			goto out;
		}
		problem = name_problem(rec + REG_NAME, IMAGE_REG_NAME_LEN, true);
		if (problem) {
			ret = note_error(r, IMAGE_NT_REG, i, -EINVAL, "register name %s", problem);
			goto out;
		}
		keys[i].unit = u->index;
		keys[i].name = (const char *)rec + REG_NAME;
		keys[i].record = i;
	}
	if (count)
		qsort(keys, (size_t)count, sizeof(*keys), reg_key_cmp);
	for (long j = 1; j < count; j++) {
		if (keys[j].unit == keys[j - 1].unit &&
		    strcmp(keys[j].name, keys[j - 1].name) == 0) {
			ret = note_error(r, IMAGE_NT_REG, keys[j].record, -EINVAL,
					 "register %s of unit %" PRIu32 " appears twice "
					 "(first in record %ld)", keys[j].name, keys[j].unit,
					 keys[j - 1].record);
			goto out;
		}
	}
	for (long i = 0; i < count; i++) {
		const unsigned char *rec = n->desc + NOTE_HDR_SIZE + (size_t)i * REG_SIZE;
		struct image_unit *u = image_info_find_unit(r->info, le32_get(rec + REG_UNIT));

		ret = image_unit_append_reg(u, (const char *)rec + REG_NAME,
					    le64_get(rec + REG_VALUE), r->err);
		if (ret < 0) {
			ret = note_error(r, IMAGE_NT_REG, i, ret, "%s", r->err->msg);
			goto out;
		}
	}
out:
	free(keys);
	return ret;
}

static int read_devices(struct note_reader *r)
{
	const struct found_note *n = &r->notes[IMAGE_NT_DEVICE];
	long count = note_records(r, IMAGE_NT_DEVICE);

	for (long i = 0; i < count; i++) {
		const unsigned char *rec = n->desc + NOTE_HDR_SIZE + (size_t)i * DEVICE_SIZE;
		struct image_unit *u = record_unit(r, IMAGE_NT_DEVICE, i, rec);
		struct image_device d;
		const char *problem;
		unsigned flags;
		int ret;

		if (!u)
			return -EINVAL;
		flags = rec[DEVICE_FLAGS];
		if (flags & ~DEVICE_FLAG_PCI)
			return note_error(r, IMAGE_NT_DEVICE, i, -EINVAL,
					  "unknown flags 0x%x", flags & ~DEVICE_FLAG_PCI);
		if (!all_zero(rec + DEVICE_RESERVED, DEVICE_NAME - DEVICE_RESERVED))
			return note_error(r, IMAGE_NT_DEVICE, i, -EINVAL, "reserved bytes are not 0");
		problem = name_problem(rec + DEVICE_NAME, IMAGE_DEV_NAME_LEN, false);
		if (problem)
			return note_error(r, IMAGE_NT_DEVICE, i, -EINVAL, "device name %s", problem);
		memset(&d, 0, sizeof(d));
		d.id = le32_get(rec + DEVICE_ID);
		d.segment = le16_get(rec + DEVICE_SEGMENT);
		d.pci = flags & DEVICE_FLAG_PCI;
		memcpy(d.name, rec + DEVICE_NAME, IMAGE_DEV_NAME_LEN);
		ret = image_unit_add_device(u, &d, r->err);
		if (ret < 0)
			return note_error(r, IMAGE_NT_DEVICE, i, ret, "%s", r->err->msg);
	}
	return count < 0 ? (int)count : 0;
}

static int read_windows(struct note_reader *r)
{
	const struct found_note *n = &r->notes[IMAGE_NT_WINDOW];
	long count = note_records(r, IMAGE_NT_WINDOW);

	for (long i = 0; i < count; i++) {
		const unsigned char *rec = n->desc + NOTE_HDR_SIZE + (size_t)i * WINDOW_SIZE;
		struct image_unit *u = record_unit(r, IMAGE_NT_WINDOW, i, rec);
		struct image_window w;
		int ret;

		if (!u)
			return -EINVAL;
		memset(&w, 0, sizeof(w));
		w.liobn = le32_get(rec + WINDOW_LIOBN);
		w.page_shift = le32_get(rec + WINDOW_PAGE_SHIFT);
		w.levels = le32_get(rec + WINDOW_LEVELS);
		w.table_shift = le32_get(rec + WINDOW_TABLE_SHIFT);
		w.flags = le32_get(rec + WINDOW_FLAGS);
		w.bus_start = le64_get(rec + WINDOW_BUS_START);
		w.size = le64_get(rec + WINDOW_BYTES);
		w.table_addr = le64_get(rec + WINDOW_TABLE_ADDR);
		ret = image_unit_add_window(u, &w, r->err);
		if (ret < 0)
			return note_error(r, IMAGE_NT_WINDOW, i, ret, "%s", r->err->msg);
	}
	return count < 0 ? (int)count : 0;
}

/* Finds our notes in one PT_NOTE segment. */
static int scan_segment(struct note_reader *r, struct elfcore *ec, size_t phdr,
			const GElf_Phdr *ph)
{
	uint64_t phoff = elfcore_phdr_offset(ec, phdr);
	Elf_Data *data;
	size_t pos = 0;

	if (ph->p_filesz == 0)
		return 0;
	if (ph->p_offset > ec->file_size || ph->p_filesz > ec->file_size - ph->p_offset)
		return err_set(r->err, -EINVAL, "%s: PT_NOTE at offset 0x%" PRIx64
			       ": notes at file offset 0x%" PRIx64 " + 0x%" PRIx64
			       " run past the end of the file (0x%" PRIx64 " bytes): truncated file",
			       r->path, phoff, (uint64_t)ph->p_offset, (uint64_t)ph->p_filesz,
			       ec->file_size);
	if (ph->p_filesz > NOTE_SEGMENT_MAX)
		return err_set(r->err, -E2BIG, "%s: PT_NOTE at offset 0x%" PRIx64
			       ": 0x%" PRIx64 " bytes of notes, more than 0x%" PRIx64,
			       r->path, phoff, (uint64_t)ph->p_filesz, NOTE_SEGMENT_MAX);
	data = elf_getdata_rawchunk(ec->elf, (int64_t)ph->p_offset, (size_t)ph->p_filesz,
				    ph->p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
	if (!data)
		return err_set(r->err, -EINVAL, "%s: cannot read notes at offset 0x%" PRIx64 ": %s",
			       r->path, (uint64_t)ph->p_offset, elf_errmsg(-1));
	while (pos < data->d_size) {
		uint64_t note_off = ph->p_offset + pos;
		size_t name_off, desc_off, next;
		struct found_note *found;
		uint32_t type;
		GElf_Nhdr nh;

		next = gelf_getnote(data, pos, &nh, &name_off, &desc_off);
		if (next == 0)
			return err_set(r->err, -EINVAL, "%s: malformed note at offset 0x%" PRIx64
				       ": sizes run past the end of its PT_NOTE segment",
				       r->path, note_off);
		pos = next;
		if (nh.n_namesz != IMAGE_NOTE_OWNER_SIZE ||
		    memcmp((const char *)data->d_buf + name_off, IMAGE_NOTE_OWNER,
			   IMAGE_NOTE_OWNER_SIZE) != 0)
			continue;
		type = nh.n_type & ~IMAGE_NT_BASE;
		if ((nh.n_type & IMAGE_NT_BASE) != IMAGE_NT_BASE || type == 0 ||
		    type >= IMAGE_NT_MAX)
			return err_set(r->err, -EINVAL, "%s: IOMMUTOOL note at offset 0x%" PRIx64
				       ": unknown note type 0x%" PRIx32, r->path, note_off,
				       (uint32_t)nh.n_type);
		found = &r->notes[type];
		if (found->desc)
			return err_set(r->err, -EINVAL, "%s: IOMMUTOOL %s note at offset 0x%" PRIx64
				       ": a second one (the first is at offset 0x%" PRIx64 ")",
				       r->path, note_names[type], note_off, found->offset);
		found->desc = (const unsigned char *)data->d_buf + desc_off;
		found->desc_size = nh.n_descsz;
		found->offset = note_off;
	}
	return 0;
}

int image_read_notes(const char *path, struct image_info *info, struct errbuf *err)
{
	struct note_reader r = { .path = path, .info = info, .err = err };
	struct errbuf scratch;
	struct elfcore ec;
	bool any = false;
	int ret;

	image_info_init(info);
	if (!err)
		r.err = &scratch; /* record errors are rephrased through it */
	ret = elfcore_open(path, &ec, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < ec.phnum && ret == 0; i++) {
		GElf_Phdr ph;

		ret = elfcore_phdr(&ec, i, &ph, err);
		if (ret == 0 && ph.p_type == PT_NOTE)
			ret = scan_segment(&r, &ec, i, &ph);
	}
	for (unsigned t = 1; t < IMAGE_NT_MAX; t++)
		any |= r.notes[t].desc != NULL;
	if (ret == 0 && any) {
		/* Units first: the other records refer to them. */
		if (r.notes[IMAGE_NT_UNIT].desc)
			ret = read_units(&r);
		if (ret == 0 && r.notes[IMAGE_NT_REG].desc)
			ret = read_regs(&r);
		if (ret == 0 && r.notes[IMAGE_NT_DEVICE].desc)
			ret = read_devices(&r);
		if (ret == 0 && r.notes[IMAGE_NT_WINDOW].desc)
			ret = read_windows(&r);
		info->from_note = ret == 0;
	}
	elfcore_close(&ec);
	if (ret < 0)
		image_info_release(info);
	return ret;
}
