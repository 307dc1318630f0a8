/* Intel VT-d context decoder: from RTADDR through the root table, legacy or
 * scalable-mode context entries, PASID directories and PASID entries to one
 * attachment per (device, PASID) with its domain, page-table format and
 * root.  Problems become findings (vtd_findings.def); page tables are
 * walked by the dump layer.
 *
 * Requests without PASID in scalable mode use the PASID entry at RID_PASID;
 * that attachment carries pasid = PASID_NONE (its path names the slot), so
 * a PASID filter of N selects the PASID-N entry and a filter of PASID_NONE
 * the entries for requests without PASID (legacy contexts, RID_PASID). */
#include "decoders/vtd.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct vtd_finding_info vtd_findings[VTD_NR_FINDINGS] = {
#define VTD_FINDING(id, code, sev, text) [VTD_F_##id] = { code, sev, text },
#include "decoders/vtd_findings.def"
#undef VTD_FINDING
};

/* Everything a decode needs; one per decode() call, on the heap. */
struct vtd_walk {
	struct decode_ctx *ctx;
	uint16_t segment;
	uint64_t cap, ecap;
	bool have_cap;
	unsigned haw;         /* host address width: MGAW + 1 */
	uint64_t haw_rsvd;    /* address bits at and above HAW */
	unsigned oas;         /* output width handed to the codecs */
	uint64_t pages_left;  /* table pages the context layer may still read */
	int stop;             /* <0 error from a callback, >0 stop quietly */
	/* context-table pages seen (plus the root table), for ctp-shared */
	uint64_t seen_tables[2 * VTD_ROOT_ENTRIES + 1];
	size_t nr_seen_tables;
	uint64_t root[VTD_PAGE_SIZE / 8];
	uint64_t ctx_table[VTD_PAGE_SIZE / 8];
	uint64_t dir_page[VTD_PAGE_SIZE / 8];
	uint64_t pasid_table[VTD_PAGE_SIZE / 8];
};

/* A scalable-mode context entry while its PASID structures are walked. */
struct vtd_sm_ctx {
	struct dev_ref dev;
	char path[32];              /* root[0xbb]/sm-ctx[0xdf] */
	uint64_t entry_pa;          /* of the context entry */
	uint64_t dirptr;
	uint64_t dir_entries;
	uint32_t rid_pasid;
	bool paside;
	bool rid_seen;              /* the RID_PASID entry was present */
};

static void vtd_report(struct vtd_walk *w, enum vtd_finding_id id,
		       uint64_t addr, const char *path,
		       const struct dev_ref *dev, int64_t pasid,
		       const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void vtd_report(struct vtd_walk *w, enum vtd_finding_id id,
		       uint64_t addr, const char *path,
		       const struct dev_ref *dev, int64_t pasid,
		       const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = emit_finding(w->ctx->sink, vtd_findings[id].severity,
			  vtd_findings[id].code, addr, path, dev, pasid,
			  "%s", msg);
	if (rc && !w->stop)
		w->stop = rc;
}

/* One finding listing the quadwords of an entry with reserved bits set. */
static void vtd_report_rsvd(struct vtd_walk *w, enum vtd_finding_id id,
			    const uint64_t *rsvd, unsigned nr, uint64_t addr,
			    const char *path, const struct dev_ref *dev,
			    int64_t pasid)
{
	char list[160];
	size_t used = 0;

	list[0] = '\0';
	for (unsigned i = 0; i < nr && used < sizeof(list); i++)
		if (rsvd[i])
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%sQW%u 0x%" PRIx64,
						 used ? ", " : "", i, rsvd[i]);
	if (used)
		vtd_report(w, id, addr, path, dev, pasid,
			   "reserved bits set: %s", list);
}

static void vtd_attach(struct vtd_walk *w, const struct attach *a)
{
	int rc;

	if (w->stop)
		return;
	rc = w->ctx->attach(w->ctx, a);
	if (rc)
		w->stop = rc;
}

static bool want_dev(const struct vtd_walk *w, const struct dev_ref *d)
{
	return dump_filter_device(w->ctx->filter, d);
}

static bool want_bus(const struct vtd_walk *w, unsigned bus)
{
	const struct dump_filter *f = w->ctx->filter;

	if (!f || !f->nr_devices)
		return true;
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		struct dev_ref d = {
			.id = bus << 8 | devfn, .segment = w->segment, .pci = true,
		};

		if (dump_filter_device(f, &d))
			return true;
	}
	return false;
}

/* @slot: the PASID table slot, or PASID_NONE for legacy contexts.
 * @without: the slot serves requests without PASID (legacy, RID_PASID),
 * reported with pasid PASID_NONE, so only a PASID_NONE filter selects it. */
static bool want_pasid(const struct vtd_walk *w, int64_t slot, bool without)
{
	const struct dump_filter *f = w->ctx->filter;

	if (!f || !f->pasid_set)
		return true;
	return without ? f->pasid == PASID_NONE : slot == f->pasid;
}

static struct dev_ref vtd_dev(const struct vtd_walk *w, unsigned bus,
			      unsigned devfn)
{
	struct dev_ref d = {
		.id = bus << 8 | devfn, .segment = w->segment, .pci = true,
	};

	return d;
}

/* Reads one table (or a page of one) that the entry at @entry_pa points
 * to.  Returns 0, or -1 after reporting @outside (or the exhausted
 * budget) against that entry. */
static int vtd_read(struct vtd_walk *w, uint64_t pa, void *buf, size_t len,
		    uint64_t entry_pa, enum vtd_finding_id outside, const char *path,
		    const struct dev_ref *dev, int64_t pasid, const char *what)
{
	struct errbuf err;

	if (w->stop)
		return -1;
	if (w->pages_left == 0) {
		vtd_report(w, VTD_F_LIMIT_TABLES, entry_pa, path, dev, pasid,
			   "table page limit reached before the %s at 0x%" PRIx64,
			   what, pa);
		if (!w->stop)
			w->stop = 1;
		return -1;
	}
	w->pages_left--;
	if (!physmem_present(w->ctx->mem, pa, len)) {
		vtd_report(w, outside, entry_pa, path, dev, pasid,
			   "%s at 0x%" PRIx64 " is outside the dump", what, pa);
		return -1;
	}
	if (physmem_read(w->ctx->mem, pa, buf, len, &err) < 0) {
		vtd_report(w, outside, entry_pa, path, dev, pasid,
			   "cannot read the %s: %s", what, err.msg);
		return -1;
	}
	return 0;
}

static bool vtd_domain_ok(struct vtd_walk *w, enum vtd_finding_id range,
			  enum vtd_finding_id reserved, uint64_t did, uint64_t addr, const char *path,
			  const struct dev_ref *dev, int64_t pasid)
{
	unsigned nd = (unsigned)vtd_cap_ND(w->cap);

	if (!w->have_cap)
		return true;
	if (nd <= 6 && did >= vtd_nd_domains(nd)) {
		vtd_report(w, range, addr, path, dev, pasid,
			   "DID %" PRIu64 " but CAP.ND %u allows %" PRIu64
			   " domains", did, nd, vtd_nd_domains(nd));
		return false;
	}
	if (vtd_cap_CM(w->cap) && did == 0)
		vtd_report(w, reserved, addr, path, dev, pasid,
			   "DID 0 under caching mode");
	return true;
}

uint64_t vtd_sl_flags(uint64_t cap, uint64_t ecap, bool slee)
{
	unsigned sllps = (unsigned)vtd_cap_SLLPS(cap);
	uint64_t flags = 0;

	if (sllps & VTD_SLLPS_2M)
		flags |= PT_VTD_F_SP2M;
	if (sllps & VTD_SLLPS_1G)
		flags |= PT_VTD_F_SP1G;
	if (vtd_ecap_SC(ecap))
		flags |= PT_VTD_F_SNOOP_CTL;
	if (vtd_ecap_DT(ecap))
		flags |= PT_VTD_F_DEVTLB;
	if (slee)
		flags |= PT_VTD_F_SLEE;
	return flags;
}

uint64_t vtd_fl_flags(uint64_t cap, bool nxe)
{
	return (vtd_cap_FL1GP(cap) ? PT_X86_F_1G : 0) | (nxe ? PT_X86_F_NXE : 0);
}

/* Second-level (second-stage) table geometry for AGAW @aw. */
static bool vtd_sl_cfg(struct vtd_walk *w, unsigned aw, bool slee,
		       struct pt_cfg *cfg, uint64_t addr, const char *path,
		       const struct dev_ref *dev, int64_t pasid)
{
	struct errbuf err;

	if (pt_cfg_init(cfg, &pt_fmt_vtd_ss, vtd_agaw_levels(aw),
			vtd_agaw_width(aw), w->oas, VTD_PAGE_SHIFT,
			vtd_sl_flags(w->cap, w->ecap, slee), &err) < 0) {
		vtd_report(w, VTD_F_WALK_CONFIG, addr, path, dev, pasid,
			   "second-level table with AW %u: %s", aw, err.msg);
		return false;
	}
	return true;
}

/* First-level (x86-64 paging) geometry from PASID entry QW2. */
static bool vtd_fl_cfg(struct vtd_walk *w, uint64_t qw2, struct pt_cfg *cfg,
		       uint64_t addr, const char *path,
		       const struct dev_ref *dev, int64_t pasid)
{
	unsigned flpm = (unsigned)((qw2 & VTD_PE2_FLPM_MASK) >> VTD_PE2_FLPM_SHIFT);
	struct errbuf err;

	if (flpm > VTD_FLPM_5LEVEL) {
		vtd_report(w, VTD_F_PE_FLPM_UNSUPPORTED, addr, path, dev, pasid,
			   "FLPM %u is reserved", flpm);
		return false;
	}
	if (flpm == VTD_FLPM_5LEVEL && !vtd_cap_FL5LP(w->cap)) {
		vtd_report(w, VTD_F_PE_FLPM_UNSUPPORTED, addr, path, dev, pasid,
			   "FLPM selects 5-level paging but CAP.FL5LP is 0");
		return false;
	}
	if (pt_cfg_init(cfg, &pt_fmt_x86_64, 4 + flpm, 48 + 9 * flpm, w->oas,
			VTD_PAGE_SHIFT, vtd_fl_flags(w->cap, qw2 & VTD_PE2_NXE),
			&err) < 0) {
		vtd_report(w, VTD_F_WALK_CONFIG, addr, path, dev, pasid,
			   "first-level table with FLPM %u: %s", flpm, err.msg);
		return false;
	}
	return true;
}

static bool vtd_sagaw_ok(struct vtd_walk *w, enum vtd_finding_id id,
			 unsigned aw, uint64_t addr, const char *path,
			 const struct dev_ref *dev, int64_t pasid)
{
	unsigned sagaw = (unsigned)vtd_cap_SAGAW(w->cap);

	if (aw < 5 && (sagaw & (1u << aw)))
		return true;
	vtd_report(w, id, addr, path, dev, pasid,
		   "AW %u (%u-bit, %u-level) is not in CAP.SAGAW 0x%x", aw,
		   vtd_agaw_width(aw), vtd_agaw_levels(aw), sagaw);
	return false;
}

/* True when the page-table root is in the dump; otherwise reports it. */
static bool vtd_root_present(struct vtd_walk *w, enum vtd_finding_id id,
			     uint64_t root, uint64_t addr, const char *path,
			     const struct dev_ref *dev, int64_t pasid,
			     const char *what)
{
	if (physmem_present(w->ctx->mem, root, VTD_PAGE_SIZE))
		return true;
	vtd_report(w, id, addr, path, dev, pasid,
		   "%s 0x%" PRIx64 " is outside the dump", what, root);
	return false;
}

/* ---- legacy mode ---- */

static void vtd_legacy_context(struct vtd_walk *w, unsigned bus,
			       unsigned devfn, const uint64_t *e, uint64_t pa)
{
	uint64_t lo = e[0], hi = e[1];
	struct dev_ref dev = vtd_dev(w, bus, devfn);
	unsigned tt = (unsigned)((lo & VTD_CTX_LO_TT_MASK) >> VTD_CTX_LO_TT_SHIFT);
	unsigned aw = (unsigned)(hi & VTD_CTX_HI_AW_MASK);
	uint64_t did = (hi & VTD_CTX_HI_DID_MASK) >> VTD_CTX_HI_DID_SHIFT;
	uint64_t rsvd[2];
	struct attach a;

	if (!(lo & VTD_CTX_LO_P) || !want_dev(w, &dev) ||
	    !want_pasid(w, PASID_NONE, true))
		return;
	memset(&a, 0, sizeof(a));
	a.dev = dev;
	a.pasid = PASID_NONE;
	a.domain = (int64_t)did;
	snprintf(a.path, sizeof(a.path), "root[0x%02x]/ctx[0x%02x]", bus, devfn);

	/* SLPTPTR is ignored under pass-through, so its high bits are too */
	rsvd[0] = lo & (VTD_CTX_LO_RSVD |
			(tt == VTD_TT_PASS_THROUGH ? 0 : w->haw_rsvd & VTD_CTX_LO_SLPTPTR));
	rsvd[1] = hi & VTD_CTX_HI_RSVD;
	vtd_report_rsvd(w, VTD_F_CTX_RESERVED, rsvd, 2, pa, a.path, &dev,
			PASID_NONE);
	vtd_domain_ok(w, VTD_F_CTX_DID_RANGE, VTD_F_CTX_DID_RESERVED, did, pa,
		      a.path, &dev, PASID_NONE);

	a.mode = ATTACH_BLOCKED;
	switch (tt) {
	case VTD_TT_RESERVED:
		vtd_report(w, VTD_F_CTX_TT_RESERVED, pa, a.path, &dev, PASID_NONE,
			   "translation type 11b is reserved");
		break;
	case VTD_TT_PASS_THROUGH:
		if (!vtd_ecap_PT(w->ecap)) {
			vtd_report(w, VTD_F_CTX_PT_UNSUPPORTED, pa, a.path, &dev,
				   PASID_NONE,
				   "translation type pass-through but ECAP.PT is 0");
			break;
		}
		a.mode = ATTACH_PASSTHROUGH;
		break;
	case VTD_TT_DEV_IOTLB:
		if (!vtd_ecap_DT(w->ecap)) {
			vtd_report(w, VTD_F_CTX_DT_UNSUPPORTED, pa, a.path, &dev,
				   PASID_NONE,
				   "translation type device-TLB but ECAP.DT is 0");
			break;
		}
		/* fall through */
	case VTD_TT_MULTI_LEVEL:
		if (!vtd_sagaw_ok(w, VTD_F_CTX_AW_UNSUPPORTED, aw, pa, a.path,
				  &dev, PASID_NONE))
			break;
		if (!vtd_sl_cfg(w, aw, false, &a.cfg, pa, a.path, &dev, PASID_NONE))
			return;
		a.root = lo & VTD_CTX_LO_SLPTPTR;
		if (!vtd_root_present(w, VTD_F_CTX_SLPTPTR_OUTSIDE, a.root, pa,
				      a.path, &dev, PASID_NONE,
				      "second-level page table"))
			return;
		a.mode = ATTACH_TRANSLATE;
		break;
	}
	vtd_attach(w, &a);
}

/* ---- scalable mode ---- */

static void vtd_pasid_entry(struct vtd_walk *w, struct vtd_sm_ctx *c,
			    uint32_t pasid, const uint64_t *e, uint64_t pa)
{
	bool rid = pasid == c->rid_pasid;
	int64_t rep = rid ? PASID_NONE : (int64_t)pasid;
	unsigned pgtt = (unsigned)((e[0] & VTD_PE0_PGTT_MASK) >> VTD_PE0_PGTT_SHIFT);
	unsigned aw = (unsigned)((e[0] & VTD_PE0_AW_MASK) >> VTD_PE0_AW_SHIFT);
	bool uses_sl = pgtt == VTD_PGTT_SL_ONLY || pgtt == VTD_PGTT_NESTED;
	uint64_t did = e[1] & VTD_PE1_DID_MASK;
	uint64_t rsvd[VTD_PASID_ENTRY_QWORDS];
	char missing[64] = "";
	const char *dev_path = c->path;
	struct attach a;

	if (!(e[0] & VTD_PE0_P))
		return;
	if (rid)
		c->rid_seen = true;
	memset(&a, 0, sizeof(a));
	a.dev = c->dev;
	a.pasid = rep;
	a.domain = (int64_t)did;
	snprintf(a.path, sizeof(a.path), "%s/pasid[0x%x]", dev_path, pasid);

	rsvd[0] = e[0] & (VTD_PE0_RSVD | (uses_sl ? w->haw_rsvd & VTD_PE0_SLPTPTR : 0));
	rsvd[1] = e[1] & VTD_PE1_RSVD;
	rsvd[2] = e[2] & (VTD_PE2_RSVD |
			  (pgtt == VTD_PGTT_FL_ONLY ? w->haw_rsvd & VTD_PE2_FLPTPTR : 0));
	for (unsigned i = 3; i < VTD_PASID_ENTRY_QWORDS; i++)
		rsvd[i] = e[i];
	vtd_report_rsvd(w, VTD_F_PE_RESERVED, rsvd, VTD_PASID_ENTRY_QWORDS, pa,
			a.path, &c->dev, rep);
	vtd_domain_ok(w, VTD_F_PE_DID_RANGE, VTD_F_PE_DID_RESERVED, did, pa,
		      a.path, &c->dev, rep);

	if ((e[2] & VTD_PE2_SRE) && !vtd_ecap_SRS(w->ecap))
		strcat(missing, " SRE");
	if ((e[2] & VTD_PE2_ERE) && !vtd_ecap_ERS(w->ecap))
		strcat(missing, " ERE");
	if ((e[0] & VTD_PE0_SLADE) && !vtd_ecap_SLADS(w->ecap))
		strcat(missing, " SLADE");
	if ((e[2] & VTD_PE2_EAFE) && !vtd_ecap_EAFS(w->ecap))
		strcat(missing, " EAFE");
	if ((e[1] & VTD_PE1_PGSNP) && !vtd_ecap_SC(w->ecap))
		strcat(missing, " PGSNP");
	if (missing[0])
		vtd_report(w, VTD_F_PE_FEATURE_UNSUPPORTED, pa, a.path, &c->dev,
			   rep, "set without ECAP support:%s", missing);

	a.mode = ATTACH_BLOCKED;
	switch (pgtt) {
	case VTD_PGTT_FL_ONLY:
		if (!vtd_ecap_FLTS(w->ecap)) {
			vtd_report(w, VTD_F_PE_PGTT_UNSUPPORTED, pa, a.path,
				   &c->dev, rep,
				   "PGTT first-level but ECAP.FLTS is 0");
			break;
		}
		if (!vtd_fl_cfg(w, e[2], &a.cfg, pa, a.path, &c->dev, rep))
			break;
		a.root = e[2] & VTD_PE2_FLPTPTR;
		if (!vtd_root_present(w, VTD_F_PE_FLPTPTR_OUTSIDE, a.root, pa,
				      a.path, &c->dev, rep,
				      "first-level page table"))
			return;
		a.mode = ATTACH_TRANSLATE;
		break;
	case VTD_PGTT_SL_ONLY:
		if (!vtd_ecap_SLTS(w->ecap)) {
			vtd_report(w, VTD_F_PE_PGTT_UNSUPPORTED, pa, a.path,
				   &c->dev, rep,
				   "PGTT second-level but ECAP.SLTS is 0");
			break;
		}
		if (!vtd_sagaw_ok(w, VTD_F_PE_AW_UNSUPPORTED, aw, pa, a.path,
				  &c->dev, rep) ||
		    !vtd_sl_cfg(w, aw, e[0] & VTD_PE0_SLEE, &a.cfg, pa, a.path,
				&c->dev, rep))
			break;
		a.root = e[0] & VTD_PE0_SLPTPTR;
		if (!vtd_root_present(w, VTD_F_PE_SLPTPTR_OUTSIDE, a.root, pa,
				      a.path, &c->dev, rep,
				      "second-level page table"))
			return;
		a.mode = ATTACH_TRANSLATE;
		break;
	case VTD_PGTT_NESTED:
		if (!vtd_ecap_NEST(w->ecap)) {
			vtd_report(w, VTD_F_PE_PGTT_UNSUPPORTED, pa, a.path,
				   &c->dev, rep, "PGTT nested but ECAP.NEST is 0");
			break;
		}
		if (!vtd_sagaw_ok(w, VTD_F_PE_AW_UNSUPPORTED, aw, pa, a.path,
				  &c->dev, rep) ||
		    !vtd_sl_cfg(w, aw, e[0] & VTD_PE0_SLEE, &a.s2cfg, pa, a.path,
				&c->dev, rep) ||
		    !vtd_fl_cfg(w, e[2], &a.cfg, pa, a.path, &c->dev, rep))
			break;
		/* FLPTPTR is a guest-physical address: the dump layer
		 * translates it through the second level */
		a.root = e[2] & VTD_PE2_FLPTPTR;
		a.s2root = e[0] & VTD_PE0_SLPTPTR;
		if (!vtd_root_present(w, VTD_F_PE_SLPTPTR_OUTSIDE, a.s2root, pa,
				      a.path, &c->dev, rep,
				      "second-level page table"))
			return;
		a.mode = ATTACH_NESTED;
		break;
	case VTD_PGTT_PT:
		if (!vtd_ecap_PT(w->ecap)) {
			vtd_report(w, VTD_F_PE_PGTT_UNSUPPORTED, pa, a.path,
				   &c->dev, rep, "PGTT pass-through but ECAP.PT is 0");
			break;
		}
		a.mode = ATTACH_PASSTHROUGH;
		break;
	default:
		vtd_report(w, VTD_F_PE_PGTT_RESERVED, pa, a.path, &c->dev, rep,
			   "PGTT %u is reserved", pgtt);
		break;
	}
	vtd_attach(w, &a);
}

/* PASIDs of one PASID table the walk must decode for context @c. */
static bool vtd_want_slot(const struct vtd_walk *w, const struct vtd_sm_ctx *c,
			  uint32_t pasid)
{
	bool rid = pasid == c->rid_pasid;

	if (!c->paside && !rid)
		return false;
	return want_pasid(w, pasid, rid);
}

static void vtd_pasid_table(struct vtd_walk *w, struct vtd_sm_ctx *c,
			    uint64_t dir_index, uint64_t table_pa)
{
	char path[ATTACH_PATH_LEN + 24];
	uint32_t first = (uint32_t)(dir_index << VTD_PASID_PDE_SHIFT);
	bool any = false;

	for (unsigned i = 0; i < VTD_PASID_TBL_ENTRIES && !any; i++)
		any = vtd_want_slot(w, c, first + i);
	if (!any)
		return;
	snprintf(path, sizeof(path), "%s/pasid-dir[0x%" PRIx64 "]", c->path,
		 dir_index);
	if (vtd_read(w, table_pa, w->pasid_table, VTD_PAGE_SIZE,
		     c->dirptr + dir_index * VTD_PASID_DIR_ENTRY_SIZE,
		     VTD_F_PDE_TABLE_OUTSIDE, path, &c->dev, PASID_NONE,
		     "PASID table") < 0)
		return;
	for (unsigned i = 0; i < VTD_PASID_TBL_ENTRIES && !w->stop; i++) {
		const uint64_t *e = &w->pasid_table[i * VTD_PASID_ENTRY_QWORDS];

		if (!vtd_want_slot(w, c, first + i))
			continue;
		vtd_pasid_entry(w, c, first + i, e,
				table_pa + (uint64_t)i * VTD_PASID_ENTRY_SIZE);
	}
}

struct vtd_pde_ref {
	uint64_t table;
	uint64_t index;
};

static int pde_ref_cmp(const void *a, const void *b)
{
	const struct vtd_pde_ref *x = a, *y = b;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Walks directory entries [first, last] of context @c. */
static void vtd_pasid_dir(struct vtd_walk *w, struct vtd_sm_ctx *c,
			  uint64_t first, uint64_t last)
{
	const uint64_t per_page = VTD_PAGE_SIZE / VTD_PASID_DIR_ENTRY_SIZE;
	struct vtd_pde_ref *refs;
	size_t nr = 0, aliases = 0, first_alias = 0;
	char path[ATTACH_PATH_LEN + 24];

	refs = calloc((size_t)(last - first + 1), sizeof(*refs));
	if (!refs) {
		w->stop = -ENOMEM;
		return;
	}
	for (uint64_t page = first / per_page; page <= last / per_page && !w->stop;
	     page++) {
		uint64_t page_pa = c->dirptr + page * VTD_PAGE_SIZE;

		if (vtd_read(w, page_pa, w->dir_page, VTD_PAGE_SIZE, c->entry_pa,
			     VTD_F_CTX_PASIDDIR_OUTSIDE, c->path, &c->dev,
			     PASID_NONE, "PASID directory page") < 0)
			continue;
		for (uint64_t i = 0; i < per_page; i++) {
			uint64_t idx = page * per_page + i;
			uint64_t pde = w->dir_page[i], rsvd;

			if (idx < first || idx > last || !(pde & VTD_PDE_P))
				continue;
			snprintf(path, sizeof(path), "%s/pasid-dir[0x%" PRIx64 "]",
				 c->path, idx);
			rsvd = pde & (VTD_PDE_RSVD | (w->haw_rsvd & VTD_PDE_SMPTBLPTR));
			if (rsvd)
				vtd_report(w, VTD_F_PDE_RESERVED,
					   page_pa + i * VTD_PASID_DIR_ENTRY_SIZE,
					   path, &c->dev, PASID_NONE,
					   "reserved bits set: 0x%" PRIx64, rsvd);
			refs[nr].table = pde & VTD_PDE_SMPTBLPTR;
			refs[nr].index = idx;
			nr++;
		}
	}
	/* aliases: the same PASID table under two directory indices; one
	 * finding per directory, so a hostile one cannot flood the output */
	qsort(refs, nr, sizeof(*refs), pde_ref_cmp);
	for (size_t i = 1; i < nr; i++) {
		if (refs[i].table != refs[i - 1].table)
			continue;
		if (!aliases++)
			first_alias = i;
	}
	if (aliases) {
		const struct vtd_pde_ref *r = &refs[first_alias];

		snprintf(path, sizeof(path), "%s/pasid-dir[0x%" PRIx64 "]",
			 c->path, r->index);
		vtd_report(w, VTD_F_PDE_ALIAS,
			   c->dirptr + r->index * VTD_PASID_DIR_ENTRY_SIZE,
			   path, &c->dev, PASID_NONE,
			   "PASID table 0x%" PRIx64 " is also used by directory entry 0x%"
			   PRIx64 " (entries repeating a table in this directory: %zu)",
			   r->table, r[-1].index, aliases);
	}
	/* back to directory order so attachments come out by PASID */
	for (size_t i = 0; i < nr; i++) {
		uint64_t t = refs[i].table;

		refs[i].table = refs[i].index;
		refs[i].index = t;
	}
	qsort(refs, nr, sizeof(*refs), pde_ref_cmp);
	for (size_t i = 0; i < nr && !w->stop; i++)
		vtd_pasid_table(w, c, refs[i].table, refs[i].index);
	free(refs);
}

static void vtd_sm_context(struct vtd_walk *w, unsigned bus, unsigned devfn,
			   const uint64_t *e, uint64_t pa)
{
	struct vtd_sm_ctx c;
	uint64_t rsvd[4];
	char missing[64] = "";
	unsigned pdts;
	const struct dump_filter *f = w->ctx->filter;
	uint64_t first, last;

	memset(&c, 0, sizeof(c));
	c.dev = vtd_dev(w, bus, devfn);
	c.entry_pa = pa;
	if (!(e[0] & VTD_SM_CTX_LO_P) || !want_dev(w, &c.dev))
		return;
	snprintf(c.path, sizeof(c.path), "root[0x%02x]/sm-ctx[0x%02x]", bus, devfn);

	rsvd[0] = e[0] & (VTD_SM_CTX_LO_RSVD | (w->haw_rsvd & VTD_SM_CTX_LO_PASIDDIRPTR));
	rsvd[1] = e[1] & VTD_SM_CTX_HI_RSVD;
	rsvd[2] = e[2];
	rsvd[3] = e[3];
	vtd_report_rsvd(w, VTD_F_CTX_RESERVED, rsvd, 4, pa, c.path, &c.dev,
			PASID_NONE);

	c.paside = e[0] & VTD_SM_CTX_LO_PASIDE;
	c.rid_pasid = (uint32_t)(e[1] & VTD_SM_CTX_HI_RID_PASID);
	if ((e[0] & VTD_SM_CTX_LO_DTE) && !vtd_ecap_DT(w->ecap))
		strcat(missing, " DTE");
	if (c.paside && !vtd_ecap_PASID(w->ecap))
		strcat(missing, " PASIDE");
	if ((e[0] & VTD_SM_CTX_LO_PRE) && !vtd_ecap_PRS(w->ecap))
		strcat(missing, " PRE");
	if ((e[1] & VTD_SM_CTX_HI_RID_PRIV) && !vtd_ecap_RPRIVS(w->ecap))
		strcat(missing, " RID_PRIV");
	if (c.rid_pasid && !vtd_ecap_RPS(w->ecap))
		strcat(missing, " RID_PASID");
	if (missing[0])
		vtd_report(w, VTD_F_CTX_FEATURE_UNSUPPORTED, pa, c.path, &c.dev,
			   PASID_NONE, "set without ECAP support:%s", missing);

	pdts = (unsigned)((e[0] & VTD_SM_CTX_LO_PDTS_MASK) >> VTD_SM_CTX_LO_PDTS_SHIFT);
	c.dir_entries = vtd_pdts_entries(pdts);
	c.dirptr = e[0] & VTD_SM_CTX_LO_PASIDDIRPTR;
	if ((c.rid_pasid >> VTD_PASID_PDE_SHIFT) >= c.dir_entries)
		vtd_report(w, VTD_F_CTX_RID_PASID_RANGE, pa, c.path, &c.dev,
			   PASID_NONE,
			   "RID_PASID 0x%x needs directory entry 0x%x but PDTS %u gives %" PRIu64,
			   c.rid_pasid, c.rid_pasid >> VTD_PASID_PDE_SHIFT, pdts,
			   c.dir_entries);

	/* the directory entries this context needs, given the filter */
	first = 0;
	last = c.dir_entries - 1;
	if (!c.paside || (f && f->pasid_set && f->pasid == PASID_NONE)) {
		first = last = c.rid_pasid >> VTD_PASID_PDE_SHIFT;
	} else if (f && f->pasid_set) {
		if (f->pasid < 0 || f->pasid >= VTD_PASID_MAX)
			return;
		first = last = (uint64_t)f->pasid >> VTD_PASID_PDE_SHIFT;
	}
	if (!c.paside && !vtd_want_slot(w, &c, c.rid_pasid))
		return;
	if (first < c.dir_entries)
		vtd_pasid_dir(w, &c, first, last < c.dir_entries ? last : c.dir_entries - 1);

	/* requests without PASID whose entry is absent are blocked */
	if (!c.rid_seen && !w->stop && vtd_want_slot(w, &c, c.rid_pasid)) {
		struct attach a;

		memset(&a, 0, sizeof(a));
		a.dev = c.dev;
		a.pasid = PASID_NONE;
		a.domain = DOMAIN_NONE;
		a.mode = ATTACH_BLOCKED;
		snprintf(a.path, sizeof(a.path), "%s/pasid[0x%x]", c.path,
			 c.rid_pasid);
		vtd_attach(w, &a);
	}
}

/* ---- root table ---- */

/* Decodes the context table at @ctp holding @nr entries from @devfn0. */
static void vtd_context_table(struct vtd_walk *w, unsigned bus, uint64_t ctp,
			      unsigned devfn0, bool scalable, uint64_t entry_pa,
			      const char *path)
{
	unsigned nr = scalable ? VTD_SM_CTX_ENTRIES : VTD_CTX_ENTRIES;
	unsigned size = scalable ? VTD_SM_CTX_ENTRY_SIZE : VTD_CTX_ENTRY_SIZE;
	bool any = false;

	for (unsigned i = 0; i < nr && !any; i++) {
		struct dev_ref d = vtd_dev(w, bus, devfn0 + i);

		any = want_dev(w, &d);
	}
	if (!any)
		return;
	for (size_t i = 0; i < w->nr_seen_tables; i++) {
		if (w->seen_tables[i] != ctp)
			continue;
		vtd_report(w, VTD_F_ROOT_CTP_SHARED, entry_pa, path, NULL,
			   PASID_NONE,
			   "context table 0x%" PRIx64 " is reached a second time%s",
			   ctp, i == 0 ? " (it is the root table)" : "");
		break;
	}
	if (w->nr_seen_tables < sizeof(w->seen_tables) / sizeof(w->seen_tables[0]))
		w->seen_tables[w->nr_seen_tables++] = ctp;
	if (vtd_read(w, ctp, w->ctx_table, VTD_PAGE_SIZE, entry_pa,
		     VTD_F_ROOT_CTP_OUTSIDE,
		     path, NULL, PASID_NONE, "context table") < 0)
		return;
	for (unsigned i = 0; i < nr && !w->stop; i++) {
		const uint64_t *e = &w->ctx_table[i * size / 8];
		uint64_t pa = ctp + (uint64_t)i * size;

		if (scalable)
			vtd_sm_context(w, bus, devfn0 + i, e, pa);
		else
			vtd_legacy_context(w, bus, devfn0 + i, e, pa);
	}
}

static void vtd_root_entry(struct vtd_walk *w, unsigned bus, bool scalable)
{
	uint64_t lo = w->root[bus * 2], hi = w->root[bus * 2 + 1];
	uint64_t pa = w->seen_tables[0] + (uint64_t)bus * VTD_ROOT_ENTRY_SIZE;
	uint64_t addr_rsvd = w->haw_rsvd & VTD_PAGE_MASK;
	uint64_t rsvd[2] = { 0, 0 };
	char path[24];

	if (!scalable && !(lo & VTD_ROOT_LO_P))
		return;
	if (scalable && !(lo & VTD_SM_ROOT_LO_LP) && !(hi & VTD_SM_ROOT_HI_UP))
		return;
	if (!want_bus(w, bus))
		return;
	snprintf(path, sizeof(path), "root[0x%02x]", bus);
	if (!scalable) {
		rsvd[0] = lo & (VTD_ROOT_LO_RSVD | addr_rsvd);
		rsvd[1] = hi & VTD_ROOT_HI_RSVD;
	} else {
		if (lo & VTD_SM_ROOT_LO_LP)
			rsvd[0] = lo & (VTD_SM_ROOT_LO_RSVD | addr_rsvd);
		if (hi & VTD_SM_ROOT_HI_UP)
			rsvd[1] = hi & (VTD_SM_ROOT_HI_RSVD | addr_rsvd);
	}
	vtd_report_rsvd(w, VTD_F_ROOT_RESERVED, rsvd, 2, pa, path, NULL,
			PASID_NONE);
	if (!scalable) {
		vtd_context_table(w, bus, lo & VTD_ROOT_LO_CTP, 0, false, pa, path);
		return;
	}
	if (lo & VTD_SM_ROOT_LO_LP)
		vtd_context_table(w, bus, lo & VTD_SM_ROOT_LO_LCTP, 0, true, pa,
				  path);
	if ((hi & VTD_SM_ROOT_HI_UP) && !w->stop)
		vtd_context_table(w, bus, hi & VTD_SM_ROOT_HI_UCTP,
				  VTD_SM_DEVFN_UPPER, true, pa, path);
}

/* Abort-DMA mode: every device the snapshot lists is blocked. */
static void vtd_abort_all(struct vtd_walk *w)
{
	const struct image_unit *u = w->ctx->unit;

	for (size_t i = 0; i < u->nr_devices && !w->stop; i++) {
		struct attach a;

		memset(&a, 0, sizeof(a));
		a.dev.id = u->devices[i].id;
		a.dev.segment = u->devices[i].segment;
		a.dev.pci = u->devices[i].pci;
		if (!want_dev(w, &a.dev) || !want_pasid(w, PASID_NONE, true))
			continue;
		a.pasid = PASID_NONE;
		a.domain = DOMAIN_NONE;
		a.mode = ATTACH_BLOCKED;
		snprintf(a.path, sizeof(a.path), "rtaddr");
		vtd_attach(w, &a);
	}
}

/* Registers: missing CAP/ECAP become "everything supported". */
static void vtd_load_regs(struct vtd_walk *w)
{
	const struct image_unit *u = w->ctx->unit;
	bool have_ecap;

	w->have_cap = image_unit_reg(u, "cap", &w->cap);
	have_ecap = image_unit_reg(u, "ecap", &w->ecap);
	if (!w->have_cap) {
		/* ND 65536 domains, SAGAW 39/48/57-bit, 2 MiB + 1 GiB second-level
		 * pages, first-level 1 GiB and 5-level */
		w->cap = 6 | 0xeull << 8 | 0x3ull << 34 | 1ull << 56 | 1ull << 60;
		w->haw = VTD_PERMISSIVE_HAW;
	} else {
		w->haw = (unsigned)vtd_cap_MGAW(w->cap) + 1;
	}
	if (!have_ecap)
		w->ecap = ~0ull;
	w->haw_rsvd = vtd_haw_rsvd(w->haw);
	w->oas = vtd_oas(w->haw);
	if (!w->have_cap && !have_ecap)
		vtd_report(w, VTD_F_REGS_ASSUMED, 0, "", NULL, PASID_NONE,
			   "no cap and ecap in the snapshot: assuming every capability; skipped: address-width (HAW), SAGAW, domain-id, superpage and ECAP feature checks");
	else if (!w->have_cap)
		vtd_report(w, VTD_F_REGS_ASSUMED, 0, "", NULL, PASID_NONE,
			   "no cap in the snapshot: assuming every capability; skipped: address-width (HAW), SAGAW, domain-id and superpage checks");
	else if (!have_ecap)
		vtd_report(w, VTD_F_REGS_ASSUMED, 0, "", NULL, PASID_NONE,
			   "no ecap in the snapshot: assuming every capability; skipped: ECAP feature checks");
}

static int vtd_decode(struct decode_ctx *ctx, struct errbuf *err)
{
	struct vtd_walk *w;
	uint64_t rtaddr, rta, rsvd;
	unsigned ttm;
	int rc = 0;

	if (!image_unit_reg(ctx->unit, "rtaddr", &rtaddr))
		return err_set(err, -EINVAL,
			       "vtd unit %u: no rtaddr register in the snapshot (the root-table address is required)",
			       ctx->unit->index);
	w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(err, -ENOMEM, "vtd unit %u: out of memory",
			       ctx->unit->index);
	w->ctx = ctx;
	w->segment = ctx->unit->segment;
	w->pages_left = ctx->limits.max_tables ? ctx->limits.max_tables
					       : PT_DEFAULT_MAX_TABLES;
	rta = rtaddr & VTD_PAGE_MASK;
	ttm = (unsigned)vtd_rtaddr_TTM(rtaddr);
	/* without the root table nothing can be decoded: an input error,
	 * reported before any finding */
	w->seen_tables[w->nr_seen_tables++] = rta;
	w->pages_left--;
	if (ttm == VTD_TTM_LEGACY || ttm == VTD_TTM_SCALABLE) {
		if (!physmem_present(ctx->mem, rta, VTD_PAGE_SIZE)) {
			rc = err_set(err, -ENOENT,
				     "vtd unit %u: root table at 0x%" PRIx64 " (rtaddr 0x%" PRIx64
				     ") is outside the dump", ctx->unit->index, rta, rtaddr);
			goto out;
		}
		if ((rc = physmem_read(ctx->mem, rta, w->root, VTD_PAGE_SIZE, err)) < 0) {
			err_prefix(err, rc, "vtd unit %u: root table", ctx->unit->index);
			goto out;
		}
	}
	vtd_load_regs(w);
	rsvd = rtaddr & (VTD_RTADDR_RSVD | (w->haw_rsvd & VTD_PAGE_MASK));
	if (rsvd)
		vtd_report(w, VTD_F_RTADDR_RESERVED, 0, "rtaddr", NULL, PASID_NONE,
			   "RTADDR 0x%" PRIx64 " has reserved bits 0x%" PRIx64 " set",
			   rtaddr, rsvd);
	switch (ttm) {
	case VTD_TTM_RESERVED:
		vtd_report(w, VTD_F_TTM_RESERVED, 0, "rtaddr", NULL, PASID_NONE,
			   "RTADDR.TTM 10b is reserved");
		goto out;
	case VTD_TTM_ABORT_DMA:
		vtd_report(w, VTD_F_TTM_ABORT, 0, "rtaddr", NULL, PASID_NONE,
			   "abort-DMA mode: every DMA request is blocked");
		if (!vtd_ecap_ADMS(w->ecap))
			vtd_report(w, VTD_F_TTM_UNSUPPORTED, 0, "rtaddr", NULL,
				   PASID_NONE,
				   "abort-DMA mode but ECAP.ADMS is 0");
		vtd_abort_all(w);
		goto out;
	case VTD_TTM_SCALABLE:
		if (!vtd_ecap_SMTS(w->ecap))
			vtd_report(w, VTD_F_TTM_UNSUPPORTED, 0, "rtaddr", NULL,
				   PASID_NONE,
				   "scalable mode but ECAP.SMTS is 0");
		break;
	}
	for (unsigned bus = 0; bus < VTD_ROOT_ENTRIES && !w->stop; bus++)
		vtd_root_entry(w, bus, ttm == VTD_TTM_SCALABLE);
out:
	if (!rc && w->stop < 0)
		rc = err_set(err, w->stop, "vtd unit %u: decoding stopped: %s",
			     ctx->unit->index, strerror(-w->stop));
	free(w);
	return rc;
}

static const char *const vtd_reg_names[] = { "rtaddr", "cap", "ecap", NULL };

const struct iommu_decoder vtd_decoder = {
	.kind = IOMMU_VTD,
	.name = "vtd",
	.title = "Intel VT-d",
	.elf_machine = EM_X86_64,
	.reg_names = vtd_reg_names,
	.decode = vtd_decode,
	.describe_regs = vtd_describe_regs,
	.synth = vtd_synth,
};
