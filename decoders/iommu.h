/* Context decoders: one const struct iommu_decoder per IOMMU (VT-d, AMD-Vi,
 * SMMUv3, PAPR).  A decoder walks from the register snapshot to the
 * translation contexts — (device, PASID/SSID, domain, page-table root,
 * format) — and reports each as an attachment.  The generic dump layer
 * (src/dump/) walks every distinct root once with pt_walk and emits
 * mappings per device. */
#ifndef IOMMUTOOL_IOMMU_H
#define IOMMUTOOL_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "decoders/pt.h"
#include "image/image.h"
#include "out/record.h"

struct json_object;

enum attach_mode {
	ATTACH_TRANSLATE,   /* walk cfg/root */
	ATTACH_NESTED,      /* walk cfg/root, table and output addresses
			     * through s2cfg/s2root */
	ATTACH_PASSTHROUGH, /* untranslated: the device reaches all memory */
	ATTACH_BLOCKED,     /* DMA aborts */
};

#define ATTACH_PATH_LEN 96

struct attach {
	struct dev_ref dev;
	int64_t pasid;        /* PASID_NONE for requests without PASID */
	int64_t domain;       /* DOMAIN_NONE when the format has none */
	enum attach_mode mode;
	struct pt_cfg cfg;
	uint64_t root;
	uint64_t iova_base;   /* IOVA of root entry 0 */
	uint32_t perm_deny;   /* PERM_* the context takes away from every
			       * mapping (AMD DTE IR/IW); 0 = none */
	struct pt_cfg s2cfg;  /* ATTACH_NESTED only */
	uint64_t s2root;
	char path[ATTACH_PATH_LEN]; /* context path: "root[0x00]/ctx[0x18]" */
};

/* Which devices/PASIDs the user asked for. */
struct dump_filter {
	const struct dev_ref *devices; /* NULL/0 = all */
	size_t nr_devices;
	int64_t pasid;                 /* PASID_NONE = all */
	bool pasid_set;
};
bool dump_filter_device(const struct dump_filter *f, const struct dev_ref *d);

struct decode_ctx {
	struct physmem *mem;
	const struct image_unit *unit;
	const struct dump_filter *filter;
	struct sink *sink;          /* findings of the context layer */
	struct pt_limits limits;
	/* where attachments go; copies what it needs */
	int (*attach)(struct decode_ctx *ctx, const struct attach *a);
	void *attach_ctx;
};

/* One decoded register field, for `dump --regs`. */
struct reg_field {
	const char *reg;     /* "cap" */
	const char *field;   /* "SAGAW" (the spec's name) */
	unsigned hi, lo;     /* bit range */
	uint64_t value;
	const char *meaning; /* short decoded meaning or NULL */
};

struct iommu_decoder {
	enum iommu_kind kind;
	const char *name;        /* "vtd" */
	const char *title;       /* "Intel VT-d" */
	unsigned elf_machine;    /* default e_machine for synthetic images */
	const char *const *reg_names; /* NULL-terminated registers it reads */

	/* Walks context structures; attachments via ctx->attach, problems
	 * as findings.  Returns <0 with @err for input errors that stop the
	 * decode (e.g. a required register missing). */
	int (*decode)(struct decode_ctx *ctx, struct errbuf *err);
	/* Optional: calls @fn for every field of the known registers. */
	int (*describe_regs)(const struct image_unit *unit,
			     int (*fn)(void *arg, const struct reg_field *f),
			     void *arg);
	/* Optional: builds tables for a synth spec's unit object into
	 * @arena and records registers/devices in @unit. */
	int (*synth)(const struct json_object *spec, struct arena *arena,
		     struct image_unit *unit, struct errbuf *err);
};

const struct iommu_decoder *iommu_decoder_get(enum iommu_kind kind);
extern const struct iommu_decoder vtd_decoder;
extern const struct iommu_decoder smmuv3_decoder;
extern const struct iommu_decoder amd_decoder;

#endif
