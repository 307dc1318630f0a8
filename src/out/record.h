/* The two outputs of every walk: mappings and findings.  Decoders emit them
 * into a sink; only the printers (text, JSON Lines) write them out. */
#ifndef IOMMUTOOL_RECORD_H
#define IOMMUTOOL_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"

/* Permission bits of a mapping (the effective permission after the walk). */
#define PERM_R    (1u << 0)
#define PERM_W    (1u << 1)
#define PERM_X    (1u << 2)
#define PERM_U    (1u << 3)  /* user / unprivileged (first-level U/S, LPAE AP[1]) */
#define PERM_SNP  (1u << 4)  /* snoop / cacheable forced */

enum severity {
	SEV_INFO = 0,
	SEV_WARNING = 1,
	SEV_ERROR = 2,
};
const char *severity_name(enum severity s);
/* "info", "warning", "error"; -1 when unknown. */
int severity_parse(const char *s);

/* Who a translation belongs to.  PCI devices print as dddd:bb:dd.f; others
 * (SMMU stream ids without an RC mapping) as "sid:0x..". */
struct dev_ref {
	uint32_t id;       /* requester id (bus<<8|devfn) or stream/device id */
	uint16_t segment;
	bool pci;
};
#define DEV_NAME_LEN 24
void dev_ref_format(const struct dev_ref *d, char buf[DEV_NAME_LEN]);
/* Parses dddd:bb:dd.f or bb:dd.f; false on bad syntax. */
bool dev_ref_parse_bdf(const char *s, struct dev_ref *out);

#define PASID_NONE (-1LL)
#define DOMAIN_NONE (-1LL)

struct mapping {
	enum iommu_kind iommu;
	struct dev_ref dev;
	int64_t pasid;       /* PASID / SSID, PASID_NONE for requests without */
	int64_t domain;      /* DID / domain id / VMID.ASID; DOMAIN_NONE */
	uint64_t iova;
	uint64_t phys;
	uint64_t size;       /* bytes (page_size for a single leaf) */
	uint64_t page_size;  /* leaf size */
	uint32_t perm;       /* PERM_* */
	unsigned level;      /* walker level of the leaf, 0 = smallest */
	uint64_t entry_addr; /* physical address of the (first) leaf entry */
	uint64_t leaves;     /* leaves it stands for: more than 1 only for a
			      * run joined for a sink that takes runs; 0 is 1 */
};

struct finding {
	enum severity severity;
	const char *code;    /* stable dotted name: "vtd.context.reserved" */
	uint64_t addr;       /* physical address of the offending entry */
	const char *path;    /* from the root: "root[0x00]/ctx[0x18]/l3[0x1ff]" */
	const char *message; /* lowercase, no final period */
	bool has_dev;
	struct dev_ref dev;
	int64_t pasid;
};

/* A sink receives records; returning non-zero stops the walk. */
struct sink {
	int (*mapping)(struct sink *s, const struct mapping *m);
	int (*finding)(struct sink *s, const struct finding *f);
	/* The sink coalesces mappings that continue each other (same iommu,
	 * device, PASID, domain, permissions and page size; IOVA and physical
	 * address both contiguous, not wrapping) itself, so a producer may
	 * hand it such a run already joined: one mapping, .leaves > 1. */
	bool takes_runs;
};

static inline int sink_mapping(struct sink *s, const struct mapping *m)
{
	return s->mapping ? s->mapping(s, m) : 0;
}
static inline int sink_finding(struct sink *s, const struct finding *f)
{
	return s->finding ? s->finding(s, f) : 0;
}

/* Convenience: formats the message and emits a finding. */
int emit_finding(struct sink *s, enum severity sev, const char *code,
		 uint64_t addr, const char *path, const struct dev_ref *dev,
		 int64_t pasid, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

#endif
