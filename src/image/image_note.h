/* Private to src/image: the byte layout of the IOMMUTOOL ELF notes and the
 * value checks shared by the reader, the writer and the image_info API.
 * The format is ours; man 5 iommutool-image documents it byte by byte.
 *
 * Each note has owner name "IOMMUTOOL" (n_namesz 10 with the NUL) and
 * carries one record type (n_type).  Its descriptor is a 16-byte header
 * followed by `count` fixed-size records.  Every field is little-endian,
 * whatever the ELF file's own byte order. */
#ifndef IOMMUTOOL_IMAGE_NOTE_H
#define IOMMUTOOL_IMAGE_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

#define IMAGE_NOTE_OWNER "IOMMUTOOL"
#define IMAGE_NOTE_OWNER_SIZE 10 /* with the NUL, as n_namesz counts it */
#define IMAGE_NOTE_VERSION 1

/* n_type = IMAGE_NT_BASE | record type.  The "IO" prefix keeps our types
 * clear of the small numbers core-file tools take for NT_PRSTATUS and
 * friends without looking at the owner name. */
#define IMAGE_NT_BASE 0x494f0000u

enum image_note_type {
	IMAGE_NT_UNIT = 1,
	IMAGE_NT_REG = 2,
	IMAGE_NT_DEVICE = 3,
	IMAGE_NT_WINDOW = 4,
	IMAGE_NT_MAX
};

/* Descriptor header. */
#define NOTE_HDR_VERSION     0  /* u32: IMAGE_NOTE_VERSION */
#define NOTE_HDR_RECORD_SIZE 4  /* u32: bytes per record */
#define NOTE_HDR_COUNT       8  /* u32: number of records */
#define NOTE_HDR_RESERVED    12 /* u32: 0 */
#define NOTE_HDR_SIZE        16

/* UNIT record: one IOMMU instance. */
#define UNIT_INDEX    0  /* u32 */
#define UNIT_KIND     4  /* u32: enum iommu_kind, 1..4 */
#define UNIT_SEGMENT  8  /* u16 */
#define UNIT_RESERVED 10 /* u16 + u32: 0 */
#define UNIT_MMIO     16 /* u64 */
#define UNIT_SIZE     24

/* REG record: one register of a unit's snapshot. */
#define REG_UNIT     0  /* u32: a UNIT index */
#define REG_RESERVED 4  /* u32: 0 */
#define REG_NAME     8  /* char[24]: [a-z0-9_]{1,23}, NUL-padded */
#define REG_VALUE    32 /* u64 */
#define REG_SIZE     40

/* DEVICE record: a device behind a unit. */
#define DEVICE_UNIT     0  /* u32 */
#define DEVICE_ID       4  /* u32: requester / stream / device id */
#define DEVICE_SEGMENT  8  /* u16 */
#define DEVICE_FLAGS    10 /* u8: DEVICE_FLAG_* */
#define DEVICE_RESERVED 11 /* u8 + u32: 0 */
#define DEVICE_NAME     16 /* char[32]: printable ASCII, NUL-padded, may be empty */
#define DEVICE_SIZE     48
#define DEVICE_FLAG_PCI 0x01

/* WINDOW record: a POWER DMA window (struct image_window). */
#define WINDOW_UNIT        0  /* u32 */
#define WINDOW_LIOBN       4  /* u32 */
#define WINDOW_PAGE_SHIFT  8  /* u32 */
#define WINDOW_LEVELS      12 /* u32 */
#define WINDOW_TABLE_SHIFT 16 /* u32 */
#define WINDOW_FLAGS       20 /* u32 */
#define WINDOW_BUS_START   24 /* u64 */
#define WINDOW_BYTES       32 /* u64: window size */
#define WINDOW_TABLE_ADDR  40 /* u64 */
#define WINDOW_SIZE        48

/* Bounds on what a file (or a caller) can make us hold. */
#define IMAGE_MAX_RECORDS (1u << 20) /* per note, and per list in a unit */

static inline uint16_t le16_get(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32_get(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t le64_get(const unsigned char *p)
{
	return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

static inline void le16_put(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void le32_put(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void le64_put(unsigned char *p, uint64_t v)
{
	le32_put(p, (uint32_t)v);
	le32_put(p + 4, (uint32_t)(v >> 32));
}

/* What is wrong with a name field of @len bytes (NULL when nothing):
 * register names are [a-z0-9_]{1,len-1}, device names printable ASCII
 * (possibly empty); both NUL-terminated inside the field.  (The reader
 * also insists on NUL padding after the name; see image_read.c.) */
const char *image_reg_name_problem(const char *field, size_t len);
const char *image_dev_name_problem(const char *field, size_t len);
/* What is impossible about a DMA window, or NULL. */
const char *image_window_problem(const struct image_window *w);
/* Appends a register without looking for an existing one (the caller
 * has checked the name and that it is new). */
int image_unit_append_reg(struct image_unit *u, const char *name, uint64_t value,
			  struct errbuf *err);
/* Unit lookup without creating. */
struct image_unit *image_info_find_unit(const struct image_info *info,
					uint32_t index);

#endif
