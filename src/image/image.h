/* What a decoder needs besides memory: which IOMMU, its register snapshot,
 * the devices behind it and (POWER) the DMA windows.  It travels in the
 * IOMMUTOOL note of our ELF images, or is built from command-line options
 * (--iommu, --reg) for a dump that has no note.  man 5 iommutool-image. */
#ifndef IOMMUTOOL_IMAGE_H
#define IOMMUTOOL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/physmem.h"
#include "util/err.h"

enum iommu_kind {
	IOMMU_NONE = 0,
	IOMMU_VTD = 1,
	IOMMU_AMD = 2,
	IOMMU_SMMUV3 = 3,
	IOMMU_PAPR = 4,
	IOMMU_KIND_MAX
};

const char *iommu_kind_name(enum iommu_kind k); /* "vtd", ... or NULL */
/* Exact match against the names above; IOMMU_NONE when unknown. */
enum iommu_kind iommu_kind_parse(const char *name);

#define IMAGE_REG_NAME_LEN 24
#define IMAGE_DEV_NAME_LEN 32

struct image_reg {
	char name[IMAGE_REG_NAME_LEN]; /* lowercase hardware name: "rtaddr" */
	uint64_t value;                /* as the hardware holds it */
};

/* A device known to sit behind a unit.  @id is the requester/stream/device
 * id the IOMMU indexes its tables with; @pci says whether it is a PCI
 * function (then id = bus << 8 | devfn within @segment). */
struct image_device {
	uint32_t id;
	uint16_t segment;
	bool pci;
	char name[IMAGE_DEV_NAME_LEN]; /* optional label, e.g. "nvme" */
};

/* POWER DMA window (TCE table) of one PE / LIOBN. */
struct image_window {
	uint32_t liobn;
	uint32_t page_shift;   /* IOMMU page size, e.g. 12, 16, 24 */
	uint64_t bus_start;    /* first DMA address of the window */
	uint64_t size;         /* bytes of DMA address space */
	uint64_t table_addr;   /* physical address of the (top) TCE table */
	uint32_t levels;       /* 1..5 */
	uint32_t table_shift;  /* log2 bytes of one level's table */
	uint32_t flags;
};

struct image_unit {
	enum iommu_kind kind;
	uint32_t index;       /* unit number within the image */
	uint16_t segment;     /* PCI segment (VT-d DRHD, AMD IVHD) */
	uint64_t mmio_base;   /* 0 when unknown */
	struct image_reg *regs;        /* owned */
	size_t nr_regs;
	struct image_device *devices;  /* owned */
	size_t nr_devices;
	struct image_window *windows;  /* owned */
	size_t nr_windows;
};

struct image_info {
	struct image_unit *units; /* owned */
	size_t nr_units;
	bool from_note;           /* the note was present in the file */
};

/* An image describes at most this many units; the units array is
 * allocated once with room for all of them, so a struct image_unit pointer
 * stays valid until image_info_release. */
#define IMAGE_MAX_UNITS 256

void image_info_init(struct image_info *info);
void image_info_release(struct image_info *info);
/* Returns the unit with @index, creating it (kind NONE) when absent. */
struct image_unit *image_info_unit(struct image_info *info, uint32_t index,
				   struct errbuf *err);
/* Sets (or replaces) a register; name must be [a-z0-9_]{1,23}. */
int image_unit_set_reg(struct image_unit *u, const char *name, uint64_t value,
		       struct errbuf *err);
/* Looks a register up; false when the snapshot lacks it. */
bool image_unit_reg(const struct image_unit *u, const char *name, uint64_t *value);
int image_unit_add_device(struct image_unit *u, const struct image_device *d,
			  struct errbuf *err);
int image_unit_add_window(struct image_unit *u, const struct image_window *w,
			  struct errbuf *err);

/* Reads the IOMMUTOOL notes of an ELF core, if any (info->from_note says).
 * @info is initialised here (whatever it held is not freed); on error it
 * is left empty.  Impossible values (unknown IOMMU kind, bad names, too
 * many records) are errors naming the file and the note's offset. */
int image_read_notes(const char *path, struct image_info *info, struct errbuf *err);

/* Writes an ELF core file: one PT_LOAD per present range of @mem (data read
 * through physmem; @mem may be NULL), the IOMMUTOOL notes from @info,
 * e_machine @machine (EM_X86_64, EM_AARCH64, EM_PPC64).  The file is
 * ELF64 little-endian for every machine.  It is written beside @path and
 * renamed over it, so @mem may be a physmem opened on @path itself. */
int image_write(const char *path, struct physmem *mem,
		const struct image_info *info, unsigned machine,
		struct errbuf *err);

#endif
