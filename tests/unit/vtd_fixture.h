/* Test fixture for the VT-d decoder: an arena to build tables in by hand,
 * a register snapshot, and a decode context whose attach callback and
 * sink record everything. */
#ifndef IOMMUTOOL_TEST_VTD_FIXTURE_H
#define IOMMUTOOL_TEST_VTD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decoders/vtd.h"
#include "mem/arena.h"

#define FX_ARENA_BASE 0x100000ull
#define FX_ARENA_SIZE (64ull << 20)
#define FX_OUTSIDE    0x40000000ull /* an address no test makes present */

/* QEMU q35 intel-iommu with aw-bits=48 (see vtd_synth.c). */
#define FX_CAP_QEMU48  0x00d2008c222f0606ull
#define FX_ECAP_QEMU   0x0000000000f00f5eull
/* scalable additions: SMTS, SLTS, FLTS, SRS, PASID, PSS=19, NEST, RPS;
 * CAP.FL1GP */
#define FX_ECAP_SM (FX_ECAP_QEMU | 1ull << 43 | 1ull << 46 | 1ull << 47 | \
		    1ull << 31 | 1ull << 40 | 19ull << 35 | 1ull << 26 | 1ull << 49)
#define FX_CAP_SM  (FX_CAP_QEMU48 | 1ull << 56)

#define FX_MAX_ATT 256
#define FX_MAX_FND 256

struct fx_finding {
	char code[48];
	char path[128];
	uint64_t addr;
	bool has_dev;
	struct dev_ref dev;
	int64_t pasid;
	enum severity severity;
	char message[256];
};

struct fx {
	struct arena *a;
	struct image_unit unit;
	struct image_reg regs[4];
	struct image_device devs[8];
	uint64_t root;                 /* root table page */
	/* results: the first FX_MAX_* are kept, all are counted */
	struct attach att[FX_MAX_ATT];
	size_t nr_att;
	struct fx_finding fnd[FX_MAX_FND];
	size_t nr_fnd;
	size_t code_count[VTD_NR_FINDINGS];
	struct sink sink;
	/* options */
	struct dump_filter filter;
	bool use_filter;
	struct dev_ref filter_devs[4];
	struct pt_limits limits;
	struct errbuf err;
};

/* Arena, root table page, and the given registers (a register is left out
 * of the snapshot when its have_* is false). */
void fx_init(struct fx *f, uint64_t cap, bool have_cap, uint64_t ecap,
	     bool have_ecap, unsigned ttm);
void fx_release(struct fx *f);
void fx_set_reg(struct fx *f, const char *name, uint64_t value);
void fx_del_reg(struct fx *f, const char *name);
uint64_t fx_page(struct fx *f);
void fx_wr(struct fx *f, uint64_t pa, uint64_t val);
uint64_t fx_rd(struct fx *f, uint64_t pa);

/* Legacy: root entry of @bus -> @ctp; context entry from its two QWs. */
void fx_legacy_root(struct fx *f, unsigned bus, uint64_t ctp);
void fx_legacy_ctx(struct fx *f, uint64_t ctp, unsigned devfn, uint64_t lo,
		   uint64_t hi);
uint64_t fx_legacy_lo(unsigned tt, uint64_t slptptr);
uint64_t fx_legacy_hi(unsigned aw, unsigned did);

/* Scalable mode: root halves, context entry, directory and PASID entries. */
void fx_sm_root(struct fx *f, unsigned bus, bool upper, uint64_t ctp);
void fx_sm_ctx(struct fx *f, uint64_t ctp, unsigned devfn, uint64_t qw0,
	       uint64_t qw1);
/* PASID entry @pasid under directory @dir (allocates the table). */
uint64_t fx_pasid_entry(struct fx *f, uint64_t dir, uint32_t pasid,
			uint64_t qw0, uint64_t qw1, uint64_t qw2);
uint64_t fx_pe_sl(unsigned aw, uint64_t slptptr);
uint64_t fx_pe_fl(unsigned flpm, uint64_t flptptr);

void fx_add_device(struct fx *f, uint32_t id);
void fx_filter_device(struct fx *f, unsigned bus, unsigned devfn);
void fx_filter_pasid(struct fx *f, int64_t pasid);

/* Runs vtd_decoder.decode; returns its result. */
int fx_decode(struct fx *f);
size_t fx_count(const struct fx *f, const char *code);
const struct fx_finding *fx_find(const struct fx *f, const char *code);
const struct attach *fx_att(const struct fx *f, unsigned bus, unsigned devfn,
			    int64_t pasid);

#endif
