/* Builds VT-d tables from a synth spec's unit object: root table, legacy or
 * scalable-mode context entries, PASID directories and tables, and the
 * page tables of every domain (through the shared codecs and
 * pt_map_range), into an arena; the registers and device list go into the
 * image unit.  The spec format is documented in iommutool-dump(1), section
 * INTEL VT-D.  Every error names the spec element it is about. */
#include "decoders/vtd.h"

#include <json-c/json.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/pt_pgsize.h"
#include "decoders/synth_json.h"

/* QEMU's emulated registers (qemu/qemu:hw/i386/intel_iommu.c vtd_cap_init,
 * intel_iommu_internal.h; a q35 guest prints cap 12008c22260286 ecap f00f5e
 * for aw-bits=39 with caching mode and device-iotlb):
 * CAP: FRO 0x220, NFR 0, ND 6, MAMV 18, PSI, SLLPS 2M+1G, DRD+DWD;
 * ECAP: QI, DT, IR, EIM, PT, IRO 0xf0, MHMV 15. */
#define QEMU_CAP  (0x22ull << 24 | 6ull | 18ull << 48 | 1ull << 39 | \
		   3ull << 34 | 3ull << 54)
#define QEMU_ECAP 0xf00f5eull
/* x-scalable-mode: SMTS, SLTS, SRS; x-flts: FLTS and CAP.FS1GP;
 * x-pasid-mode: PASID with PSS 19 (20-bit PASIDs). */
#define QEMU_ECAP_SCALABLE (1ull << 43 | 1ull << 46 | 1ull << 31 | \
			    1ull << 47 | 1ull << 40 | 19ull << 35)
#define QEMU_CAP_SCALABLE  (1ull << 56)
#define CAP_MGAW_SHIFT 16
#define CAP_SAGAW_SHIFT 8
#define CAP_FL5LP (1ull << 60)

#define SPEC_PATH_LEN 96

struct synth_domain {
	uint32_t id;
	bool first_level;
	unsigned levels;
	struct pt_cfg cfg;
	struct pt_mapper mapper;
};

enum synth_translation {
	TR_TRANSLATED,
	TR_DEVICE_TLB,
	TR_PASSTHROUGH,
	TR_BLOCKED,
};

struct synth {
	struct arena *arena;
	struct errbuf *err;
	bool scalable;
	uint64_t cap, ecap;
	unsigned haw;
	uint16_t segment;
	uint64_t root;
	uint64_t ctx_table[VTD_ROOT_ENTRIES][2]; /* legacy: [0]; SM: halves */
	struct synth_domain *domains;
	size_t nr_domains;
	struct dev_ref *devs;      /* devices already placed */
	size_t nr_devs;
};

/* ---- spec helpers ---- */

static int spec_u64_max(struct synth *s, const struct json_object *v,
			const char *path, uint64_t max, uint64_t *out)
{
	int rc = spec_u64(s->err, v, path, out);

	if (rc < 0)
		return rc;
	if (*out > max)
		return err_set(s->err, -EINVAL, "%s: %" PRIu64 " is larger than %" PRIu64,
			       path, *out, max);
	return 0;
}

/* ---- arena helpers ---- */

static int alloc_page(struct synth *s, const char *what, uint64_t *pa)
{
	*pa = arena_alloc_page(s->arena);
	if (!*pa)
		return err_set(s->err, -ENOMEM,
			       "out of table memory for the %s (arena exhausted)",
			       what);
	return 0;
}

static uint64_t *qword(struct synth *s, uint64_t pa)
{
	uint8_t *page = arena_page(s->arena, pa & VTD_PAGE_MASK);

	return page ? (uint64_t *)(page + (pa & ~VTD_PAGE_MASK)) : NULL;
}

static int put(struct synth *s, uint64_t pa, uint64_t val)
{
	uint64_t *q = qword(s, pa);

	if (!q)
		return err_set(s->err, -EFAULT,
			       "table address 0x%" PRIx64 " is not in the arena", pa);
	*q = val;
	return 0;
}

static uint64_t get(struct synth *s, uint64_t pa)
{
	uint64_t *q = qword(s, pa);

	return q ? *q : 0;
}

/* ---- registers ---- */

static int synth_regs(struct synth *s, const struct json_object *spec)
{
	static const char *const regs_members[] = { "cap", "ecap", NULL };
	struct json_object *v, *regs = spec_member(spec, "regs");
	uint64_t aw = 48;
	int rc;

	if ((v = spec_member(spec, "aw-bits"))) {
		if ((rc = spec_u64(s->err, v, "aw-bits", &aw)) < 0)
			return rc;
		if (aw != 39 && aw != 48 && aw != 57)
			return err_set(s->err, -EINVAL,
				       "aw-bits: %" PRIu64 " is not 39, 48 or 57", aw);
	}
	s->cap = QEMU_CAP | (aw - 1) << CAP_MGAW_SHIFT | 0x2ull << CAP_SAGAW_SHIFT;
	if (aw >= 48)
		s->cap |= 0x4ull << CAP_SAGAW_SHIFT;
	if (aw >= 57)
		s->cap |= 0x8ull << CAP_SAGAW_SHIFT;
	s->ecap = QEMU_ECAP;
	if (s->scalable) {
		s->cap |= QEMU_CAP_SCALABLE | (aw >= 57 ? CAP_FL5LP : 0);
		s->ecap |= QEMU_ECAP_SCALABLE;
	}
	if (regs) {
		if ((rc = spec_need_type(s->err, regs, json_type_object, "regs", "an object")) < 0 ||
		    (rc = spec_check_members(s->err, regs, "regs", regs_members)) < 0)
			return rc;
		if ((v = spec_member(regs, "cap")) && (rc = spec_u64(s->err, v, "regs.cap", &s->cap)) < 0)
			return rc;
		if ((v = spec_member(regs, "ecap")) && (rc = spec_u64(s->err, v, "regs.ecap", &s->ecap)) < 0)
			return rc;
	}
	s->haw = (unsigned)vtd_cap_MGAW(s->cap) + 1;
	if (s->haw < 32 || s->haw > 64)
		return err_set(s->err, -EINVAL,
			       "regs.cap: MGAW gives a %u-bit address width", s->haw);
	if (s->scalable && !vtd_ecap_SMTS(s->ecap))
		return err_set(s->err, -EINVAL,
			       "mode: scalable needs ECAP.SMTS (regs.ecap)");
	return 0;
}

/* ---- domains ---- */

static const char *const format_names[] = { "second-level", "first-level", NULL };
static const char *const perm_names[] = { "r", "w", "rw", NULL };
static const char *const pgsize_names[] = { "4K", "2M", "1G", NULL };

static struct synth_domain *find_domain(struct synth *s, uint64_t id)
{
	for (size_t i = 0; i < s->nr_domains; i++)
		if (s->domains[i].id == id)
			return &s->domains[i];
	return NULL;
}

static int check_did(struct synth *s, uint64_t did, const char *path)
{
	unsigned nd = (unsigned)vtd_cap_ND(s->cap);

	if (nd <= 6 && did >= vtd_nd_domains(nd))
		return err_set(s->err, -EINVAL,
			       "%s: domain %" PRIu64 " but CAP.ND allows %" PRIu64,
			       path, did, vtd_nd_domains(nd));
	if (did == 0 && vtd_cap_CM(s->cap))
		return err_set(s->err, -EINVAL,
			       "%s: domain 0 is reserved under caching mode", path);
	return 0;
}

/* Largest second-level AGAW the unit supports (Linux msagaw), -1 if none. */
static int max_sagaw(const struct synth *s)
{
	unsigned sagaw = (unsigned)vtd_cap_SAGAW(s->cap);

	for (int aw = 3; aw >= 1; aw--)
		if (sagaw & (1u << aw))
			return aw;
	return -1;
}

static int synth_mapping(struct synth *s, struct synth_domain *d,
			 const struct json_object *m, const char *path)
{
	static const char *const members[] = { "iova", "phys", "size", "perm", NULL };
	char p[SPEC_PATH_LEN + 8];
	uint64_t iova, phys, size, mapped = 0;
	uint32_t perm = PERM_R | PERM_W;
	struct errbuf perr;
	int rc, which;

	if ((rc = spec_need_type(s->err, m, json_type_object, path, "an object")) < 0 ||
	    (rc = spec_check_members(s->err, m, path, members)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.iova", path);
	if ((rc = spec_u64(s->err, spec_member(m, "iova"), p, &iova)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.phys", path);
	if ((rc = spec_u64(s->err, spec_member(m, "phys"), p, &phys)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.size", path);
	if ((rc = spec_u64(s->err, spec_member(m, "size"), p, &size)) < 0)
		return rc;
	if (spec_member(m, "perm")) {
		spec_path_fmt(p, sizeof(p), "%s.perm", path);
		if ((which = spec_enum(s->err, spec_member(m, "perm"), p, perm_names)) < 0)
			return which;
		perm = which == 0 ? PERM_R : which == 1 ? PERM_W : PERM_R | PERM_W;
		if (d->first_level && !(perm & PERM_R))
			return err_set(s->err, -EINVAL,
				       "%s: first-level tables cannot map write-only", p);
	}
	if (!size || (iova | phys | size) & ~VTD_PAGE_MASK)
		return err_set(s->err, -EINVAL,
			       "%s: iova, phys and size must be non-zero multiples of 4 KiB",
			       path);
	if (iova + size - 1 < iova || (d->cfg.ias < 64 && (iova + size - 1) >> d->cfg.ias))
		return err_set(s->err, -EINVAL,
			       "%s: iova range 0x%" PRIx64 "+0x%" PRIx64
			       " exceeds the domain's %u-bit input width",
			       path, iova, size, d->cfg.ias);
	if (phys + size - 1 < phys || (d->cfg.oas < 64 && (phys + size - 1) >> d->cfg.oas))
		return err_set(s->err, -EINVAL,
			       "%s: phys range 0x%" PRIx64 "+0x%" PRIx64
			       " exceeds the %u-bit host address width",
			       path, phys, size, d->cfg.oas);
	rc = pt_map_range(&d->mapper, iova, phys, size, perm, &mapped, &perr);
	if (rc == -EEXIST)
		return err_set(s->err, rc, "%s: overlaps an earlier mapping of domain %u",
			       path, d->id);
	if (rc < 0)
		return err_set(s->err, rc, "%s: %s", path, perr.msg);
	return 0;
}

static int synth_domain(struct synth *s, const struct json_object *obj,
			struct synth_domain *d, const char *path)
{
	static const char *const members[] = {
		"id", "format", "levels", "page-sizes", "mappings", NULL,
	};
	struct json_object *v;
	char p[SPEC_PATH_LEN + 24];
	uint64_t id, levels, flags;
	unsigned sizes = 0;
	struct errbuf perr;
	int rc;

	if ((rc = spec_need_type(s->err, obj, json_type_object, path, "an object")) < 0 ||
	    (rc = spec_check_members(s->err, obj, path, members)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.id", path);
	if ((rc = spec_u64_max(s, spec_member(obj, "id"), p, 0xffff, &id)) < 0 ||
	    (rc = check_did(s, id, p)) < 0)
		return rc;
	if (find_domain(s, id))
		return err_set(s->err, -EINVAL, "%s: domain %" PRIu64 " defined twice",
			       p, id);
	d->id = (uint32_t)id;
	if ((v = spec_member(obj, "format"))) {
		spec_path_fmt(p, sizeof(p), "%s.format", path);
		if ((rc = spec_enum(s->err, v, p, format_names)) < 0)
			return rc;
		d->first_level = rc == 1;
	}
	spec_path_fmt(p, sizeof(p), "%s.format", path);
	if (d->first_level && !s->scalable)
		return err_set(s->err, -EINVAL, "%s: first-level needs scalable mode", p);
	if (d->first_level && !vtd_ecap_FLTS(s->ecap))
		return err_set(s->err, -EINVAL, "%s: first-level needs ECAP.FLTS", p);
	if (!d->first_level && s->scalable && !vtd_ecap_SLTS(s->ecap))
		return err_set(s->err, -EINVAL, "%s: second-level needs ECAP.SLTS", p);

	levels = d->first_level ? 4 : (uint64_t)(max_sagaw(s) + 2);
	spec_path_fmt(p, sizeof(p), "%s.levels", path);
	if ((v = spec_member(obj, "levels")) && (rc = spec_u64(s->err, v, p, &levels)) < 0)
		return rc;
	if (d->first_level) {
		if (levels != 4 && levels != 5)
			return err_set(s->err, -EINVAL,
				       "%s: first-level tables have 4 or 5 levels", p);
		if (levels == 5 && !vtd_cap_FL5LP(s->cap))
			return err_set(s->err, -EINVAL,
				       "%s: 5-level first-level tables need CAP.FL5LP", p);
	} else if (levels < 3 || levels > 5 ||
		   !(vtd_cap_SAGAW(s->cap) & (1u << (levels - 2)))) {
		return err_set(s->err, -EINVAL,
			       "%s: %" PRIu64 "-level second-level tables are not in CAP.SAGAW 0x%x",
			       p, levels, (unsigned)vtd_cap_SAGAW(s->cap));
	}
	d->levels = (unsigned)levels;

	/* page sizes: what the unit supports, optionally narrowed */
	flags = d->first_level ? vtd_fl_flags(s->cap, false)
			       : vtd_sl_flags(s->cap, s->ecap, false);
	if ((v = spec_member(obj, "page-sizes"))) {
		spec_path_fmt(p, sizeof(p), "%s.page-sizes", path);
		if ((rc = spec_need_type(s->err, v, json_type_array, p, "an array")) < 0)
			return rc;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			spec_path_fmt(p, sizeof(p), "%s.page-sizes[%zu]", path, i);
			if ((rc = spec_enum(s->err, json_object_array_get_idx(v, i), p,
					    pgsize_names)) < 0)
				return rc;
			sizes |= 1u << rc;
		}
		spec_path_fmt(p, sizeof(p), "%s.page-sizes", path);
		if (!(sizes & 1))
			return err_set(s->err, -EINVAL, "%s: 4K is required", p);
		if (d->first_level) {
			if ((sizes & 4) && !(flags & PT_X86_F_1G))
				return err_set(s->err, -EINVAL, "%s: 1G needs CAP.FL1GP", p);
			if (!(sizes & 4))
				flags &= ~PT_X86_F_1G;
			if (!(sizes & 2))
				return err_set(s->err, -EINVAL,
					       "%s: first-level tables always allow 2M", p);
		} else {
			if (((sizes & 2) && !(flags & PT_VTD_F_SP2M)) ||
			    ((sizes & 4) && !(flags & PT_VTD_F_SP1G)))
				return err_set(s->err, -EINVAL,
					       "%s: not in CAP.SLLPS", p);
			if (!(sizes & 2))
				flags &= ~PT_VTD_F_SP2M;
			if (!(sizes & 4))
				flags &= ~PT_VTD_F_SP1G;
		}
	}
	if (d->first_level)
		rc = pt_cfg_init(&d->cfg, &pt_fmt_x86_64, d->levels,
				 48 + 9 * (d->levels - 4), vtd_oas(s->haw),
				 VTD_PAGE_SHIFT, flags, &perr);
	else
		rc = pt_cfg_init(&d->cfg, &pt_fmt_vtd_ss, d->levels,
				 vtd_agaw_width(d->levels - 2), vtd_oas(s->haw),
				 VTD_PAGE_SHIFT, flags, &perr);
	if (rc < 0)
		return err_set(s->err, rc, "%s: %s", path, perr.msg);
	if ((rc = pt_mapper_init(&d->mapper, &d->cfg, s->arena, &perr)) < 0)
		return err_set(s->err, rc, "%s: %s", path, perr.msg);

	if ((v = spec_member(obj, "mappings"))) {
		spec_path_fmt(p, sizeof(p), "%s.mappings", path);
		if ((rc = spec_need_type(s->err, v, json_type_array, p, "an array")) < 0)
			return rc;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			spec_path_fmt(p, sizeof(p), "%s.mappings[%zu]", path, i);
			if ((rc = synth_mapping(s, d, json_object_array_get_idx(v, i),
						p)) < 0)
				return rc;
		}
	}
	return 0;
}

static int synth_domains(struct synth *s, const struct json_object *spec)
{
	struct json_object *arr;
	char p[SPEC_PATH_LEN];
	size_t n;
	int rc;

	if ((rc = spec_top_array(s->err, spec, "domains", &arr, &n)) < 0 || !arr)
		return rc;
	s->domains = calloc(n ? n : 1, sizeof(*s->domains));
	if (!s->domains)
		return err_set(s->err, -ENOMEM, "domains: out of memory");
	for (size_t i = 0; i < n; i++) {
		spec_path_fmt(p, sizeof(p), "domains[%zu]", i);
		if ((rc = synth_domain(s, json_object_array_get_idx(arr, i),
				       &s->domains[i], p)) < 0)
			return rc;
		s->nr_domains++;
	}
	return 0;
}

/* ---- context and PASID structures ---- */

/* The context table holding @devfn of @bus, allocated on first use. */
static int context_table(struct synth *s, unsigned bus, unsigned devfn,
			 uint64_t *out)
{
	unsigned half = s->scalable && devfn >= VTD_SM_DEVFN_UPPER;
	uint64_t *t = &s->ctx_table[bus][half];
	int rc;

	if (!*t) {
		if ((rc = alloc_page(s, "context table", t)) < 0)
			return rc;
		/* legacy P / scalable LP at QW0, scalable UP at QW1 */
		rc = put(s, s->root + bus * VTD_ROOT_ENTRY_SIZE + half * 8,
			 *t | VTD_ROOT_LO_P);
		if (rc < 0)
			return rc;
	}
	*out = *t;
	return 0;
}

struct synth_pasid {
	uint32_t pasid;
	enum vtd_pgtt pgtt;
	struct synth_domain *dom;  /* NULL for pass-through */
	uint32_t did;
};

static int write_pasid_entry(struct synth *s, uint64_t dir, const struct synth_pasid *sp,
			     const char *path)
{
	uint64_t pde_pa = dir + (uint64_t)(sp->pasid >> VTD_PASID_PDE_SHIFT) *
			  VTD_PASID_DIR_ENTRY_SIZE;
	uint64_t pde = get(s, pde_pa), table, pe, qw[3] = { 0, 0, 0 };
	int rc, aw = max_sagaw(s);

	if (!(pde & VTD_PDE_P)) {
		if ((rc = alloc_page(s, "PASID table", &table)) < 0 ||
		    (rc = put(s, pde_pa, table | VTD_PDE_P)) < 0)
			return rc;
	} else {
		table = pde & VTD_PDE_SMPTBLPTR;
	}
	pe = table + (uint64_t)(sp->pasid & (VTD_PASID_TBL_ENTRIES - 1)) *
	     VTD_PASID_ENTRY_SIZE;
	if (get(s, pe) & VTD_PE0_P)
		return err_set(s->err, -EINVAL, "%s: PASID %u set twice", path, sp->pasid);
	qw[0] = VTD_PE0_P | (uint64_t)sp->pgtt << VTD_PE0_PGTT_SHIFT;
	qw[1] = sp->did;
	switch (sp->pgtt) {
	case VTD_PGTT_SL_ONLY:
		qw[0] |= (uint64_t)(sp->dom->levels - 2) << VTD_PE0_AW_SHIFT |
			 sp->dom->mapper.root;
		break;
	case VTD_PGTT_FL_ONLY:
		qw[2] = sp->dom->mapper.root |
			(uint64_t)(sp->dom->levels - 4) << VTD_PE2_FLPM_SHIFT;
		break;
	case VTD_PGTT_PT:
		/* Linux programs the unit's largest AGAW for pass-through */
		qw[0] |= (uint64_t)(aw < 0 ? 0 : aw) << VTD_PE0_AW_SHIFT;
		break;
	case VTD_PGTT_NESTED:
		return err_set(s->err, -EINVAL, "%s: nested is not supported by synth",
			       path);
	}
	for (unsigned i = 0; i < 3; i++)
		if ((rc = put(s, pe + i * 8, qw[i])) < 0)
			return rc;
	return 0;
}

static const char *const translation_names[] = {
	"translated", "device-tlb", "passthrough", "blocked", NULL,
};
static const char *const pgtt_names[] = {
	"first-level", "second-level", "nested", "pass-through", NULL,
};

/* One entry of a device's "pasids" array. */
static int parse_pasid(struct synth *s, const struct json_object *obj,
		       const char *path, struct synth_pasid *sp)
{
	static const char *const members[] = { "pasid", "domain", "pgtt", NULL };
	char p[SPEC_PATH_LEN + 16];
	uint64_t pasid, did = VTD_FLPT_DEFAULT_DID;
	uint64_t max = vtd_ecap_PSS(s->ecap) >= 19 ? VTD_PASID_MAX - 1
			: (1ull << (vtd_ecap_PSS(s->ecap) + 1)) - 1;
	struct json_object *v;
	int rc;

	if ((rc = spec_need_type(s->err, obj, json_type_object, path, "an object")) < 0 ||
	    (rc = spec_check_members(s->err, obj, path, members)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.pasid", path);
	if ((rc = spec_u64_max(s, spec_member(obj, "pasid"), p, max, &pasid)) < 0)
		return rc;
	sp->pasid = (uint32_t)pasid;
	sp->dom = NULL;
	if ((v = spec_member(obj, "domain"))) {
		spec_path_fmt(p, sizeof(p), "%s.domain", path);
		if ((rc = spec_u64_max(s, v, p, 0xffff, &did)) < 0)
			return rc;
		sp->dom = find_domain(s, did);
	}
	sp->did = (uint32_t)did;
	if ((v = spec_member(obj, "pgtt"))) {
		spec_path_fmt(p, sizeof(p), "%s.pgtt", path);
		if ((rc = spec_enum(s->err, v, p, pgtt_names)) < 0)
			return rc;
		sp->pgtt = (enum vtd_pgtt)(rc + 1);
	} else {
		sp->pgtt = sp->dom && sp->dom->first_level ? VTD_PGTT_FL_ONLY
							   : VTD_PGTT_SL_ONLY;
	}
	spec_path_fmt(p, sizeof(p), "%s.domain", path);
	if (sp->pgtt == VTD_PGTT_PT) {
		if (!vtd_ecap_PT(s->ecap))
			return err_set(s->err, -EINVAL,
				       "%s.pgtt: pass-through needs ECAP.PT", path);
		sp->dom = NULL;
		return check_did(s, did, p);
	}
	if (sp->pgtt == VTD_PGTT_NESTED)
		return err_set(s->err, -EINVAL,
			       "%s.pgtt: nested is not supported by synth", path);
	if (!spec_member(obj, "domain"))
		return err_set(s->err, -EINVAL, "%s: missing", p);
	if (!sp->dom)
		return err_set(s->err, -EINVAL, "%s: no domain %" PRIu64, p, did);
	if (sp->dom->first_level != (sp->pgtt == VTD_PGTT_FL_ONLY))
		return err_set(s->err, -EINVAL, "%s: domain %" PRIu64 " is %s, pgtt says %s",
			       p, did, sp->dom->first_level ? "first-level" : "second-level",
			       pgtt_names[sp->pgtt - 1]);
	return 0;
}

/* The PASID directory for PASIDs up to @max_pasid: 2^(PDTS+7) entries,
 * contiguous pages. */
static int pasid_dir(struct synth *s, uint32_t max_pasid, const char *path,
		     uint64_t *dir, unsigned *pdts)
{
	uint64_t need = ((uint64_t)max_pasid >> VTD_PASID_PDE_SHIFT) + 1, pages;
	int rc;

	*pdts = 0;
	while (vtd_pdts_entries(*pdts) < need)
		(*pdts)++;
	pages = vtd_pdts_entries(*pdts) * VTD_PASID_DIR_ENTRY_SIZE / VTD_PAGE_SIZE;
	if (!pages)
		pages = 1;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pa;

		if ((rc = alloc_page(s, "PASID directory", &pa)) < 0)
			return rc;
		if (i == 0)
			*dir = pa;
		else if (pa != *dir + i * VTD_PAGE_SIZE)
			return err_set(s->err, -ENOMEM,
				       "%s: cannot place a contiguous %" PRIu64
				       "-page PASID directory in the arena",
				       path, pages);
	}
	return 0;
}

static int synth_device(struct synth *s, const struct json_object *obj,
			const char *path, struct image_unit *unit)
{
	static const char *const members[] = {
		"bdf", "name", "domain", "translation", "rid-pasid", "pasids", NULL,
	};
	char p[SPEC_PATH_LEN + 24];
	struct json_object *v, *pasids;
	struct image_device idev;
	struct dev_ref dev;
	struct synth_domain *dom = NULL;
	uint64_t did = VTD_FLPT_DEFAULT_DID, rid_pasid = 0, ctp, ce;
	enum synth_translation tr = TR_TRANSLATED;
	struct synth_pasid *sps = NULL;
	size_t nr_sps = 0;
	unsigned bus, devfn;
	int rc;

	if ((rc = spec_need_type(s->err, obj, json_type_object, path, "an object")) < 0 ||
	    (rc = spec_check_members(s->err, obj, path, members)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.bdf", path);
	v = spec_member(obj, "bdf");
	if ((rc = spec_need_type(s->err, v, json_type_string, p, "a BDF string")) < 0)
		return rc;
	if (!dev_ref_parse_bdf(json_object_get_string(v), &dev))
		return err_set(s->err, -EINVAL, "%s: bad BDF \"%s\"", p,
			       json_object_get_string(v));
	if (strchr(json_object_get_string(v), ':') !=
	    strrchr(json_object_get_string(v), ':') && dev.segment != s->segment)
		return err_set(s->err, -EINVAL, "%s: segment %04x but the unit is segment %04x",
			       p, dev.segment, s->segment);
	dev.segment = s->segment;
	for (size_t i = 0; i < s->nr_devs; i++)
		if (s->devs[i].id == dev.id)
			return err_set(s->err, -EINVAL, "%s: \"%s\" listed twice", p,
				       json_object_get_string(v));
	bus = dev.id >> 8;
	devfn = dev.id & 0xff;

	memset(&idev, 0, sizeof(idev));
	idev.id = dev.id;
	idev.segment = dev.segment;
	idev.pci = true;
	if ((v = spec_member(obj, "name"))) {
		spec_path_fmt(p, sizeof(p), "%s.name", path);
		if ((rc = spec_need_type(s->err, v, json_type_string, p, "a string")) < 0)
			return rc;
		if (strlen(json_object_get_string(v)) >= sizeof(idev.name))
			return err_set(s->err, -EINVAL, "%s: longer than %zu characters",
				       p, sizeof(idev.name) - 1);
		snprintf(idev.name, sizeof(idev.name), "%s", json_object_get_string(v));
	}
	if ((v = spec_member(obj, "translation"))) {
		spec_path_fmt(p, sizeof(p), "%s.translation", path);
		if ((rc = spec_enum(s->err, v, p, translation_names)) < 0)
			return rc;
		tr = (enum synth_translation)rc;
	}
	spec_path_fmt(p, sizeof(p), "%s.translation", path);
	if (tr == TR_DEVICE_TLB && !vtd_ecap_DT(s->ecap))
		return err_set(s->err, -EINVAL, "%s: device-tlb needs ECAP.DT", p);
	if (tr == TR_PASSTHROUGH && !vtd_ecap_PT(s->ecap))
		return err_set(s->err, -EINVAL, "%s: passthrough needs ECAP.PT", p);
	spec_path_fmt(p, sizeof(p), "%s.domain", path);
	if ((v = spec_member(obj, "domain"))) {
		if ((rc = spec_u64_max(s, v, p, 0xffff, &did)) < 0 ||
		    (rc = check_did(s, did, p)) < 0)
			return rc;
		dom = find_domain(s, did);
	}
	if ((tr == TR_TRANSLATED || tr == TR_DEVICE_TLB) && !dom)
		return v ? err_set(s->err, -EINVAL, "%s: no domain %" PRIu64, p, did)
			 : err_set(s->err, -EINVAL, "%s: missing (needed for %s)", p,
				   translation_names[tr]);
	if (!s->scalable && dom && dom->first_level)
		return err_set(s->err, -EINVAL, "%s: first-level domain in legacy mode", p);
	if ((v = spec_member(obj, "rid-pasid"))) {
		spec_path_fmt(p, sizeof(p), "%s.rid-pasid", path);
		if (!s->scalable)
			return err_set(s->err, -EINVAL, "%s: scalable mode only", p);
		if ((rc = spec_u64_max(s, v, p, VTD_PASID_MAX - 1, &rid_pasid)) < 0)
			return rc;
		if (rid_pasid && !vtd_ecap_RPS(s->ecap))
			return err_set(s->err, -EINVAL, "%s: non-zero needs ECAP.RPS", p);
	}
	if ((pasids = spec_member(obj, "pasids"))) {
		spec_path_fmt(p, sizeof(p), "%s.pasids", path);
		if (!s->scalable)
			return err_set(s->err, -EINVAL, "%s: scalable mode only", p);
		if (!vtd_ecap_PASID(s->ecap))
			return err_set(s->err, -EINVAL, "%s: needs ECAP.PASID", p);
		if ((rc = spec_need_type(s->err, pasids, json_type_array, p, "an array")) < 0)
			return rc;
		nr_sps = json_object_array_length(pasids);
		if (nr_sps > VTD_PASID_MAX)
			return err_set(s->err, -EINVAL, "%s: too many PASIDs", p);
	}
	sps = calloc(nr_sps + 1, sizeof(*sps));
	if (!sps)
		return err_set(s->err, -ENOMEM, "%s: out of memory", path);
	/* sps[0] serves requests without PASID (RID_PASID in scalable mode) */
	sps[0].pasid = (uint32_t)rid_pasid;
	sps[0].dom = dom;
	sps[0].did = (uint32_t)did;
	sps[0].pgtt = tr == TR_PASSTHROUGH ? VTD_PGTT_PT
		      : dom && dom->first_level ? VTD_PGTT_FL_ONLY : VTD_PGTT_SL_ONLY;
	for (size_t i = 0; i < nr_sps; i++) {
		spec_path_fmt(p, sizeof(p), "%s.pasids[%zu]", path, i);
		if ((rc = parse_pasid(s, json_object_array_get_idx(pasids, i), p,
				      &sps[i + 1])) < 0)
			goto out;
		if (sps[i + 1].pasid == rid_pasid) {
			rc = err_set(s->err, -EINVAL, "%s.pasid: %" PRIu64 " is the RID_PASID",
				     p, rid_pasid);
			goto out;
		}
	}

	/* the tables */
	if ((rc = context_table(s, bus, devfn, &ctp)) < 0)
		goto out;
	if (!s->scalable) {
		int aw = dom ? (int)dom->levels - 2 : max_sagaw(s);

		ce = ctp + (uint64_t)devfn * VTD_CTX_ENTRY_SIZE;
		if (tr != TR_BLOCKED) {
			unsigned tt = tr == TR_PASSTHROUGH ? VTD_TT_PASS_THROUGH
				      : tr == TR_DEVICE_TLB ? VTD_TT_DEV_IOTLB
				      : VTD_TT_MULTI_LEVEL;

			if ((rc = put(s, ce, VTD_CTX_LO_P | (uint64_t)tt << VTD_CTX_LO_TT_SHIFT |
				      (tr == TR_PASSTHROUGH ? 0 : dom->mapper.root))) < 0 ||
			    (rc = put(s, ce + 8, (uint64_t)(aw < 0 ? 0 : aw) |
				      did << VTD_CTX_HI_DID_SHIFT)) < 0)
				goto out;
		}
	} else {
		uint32_t max_pasid = (uint32_t)rid_pasid;
		uint64_t dir;
		unsigned pdts;

		for (size_t i = 1; i <= nr_sps; i++)
			if (sps[i].pasid > max_pasid)
				max_pasid = sps[i].pasid;
		if ((rc = pasid_dir(s, max_pasid, path, &dir, &pdts)) < 0)
			goto out;
		ce = ctp + (uint64_t)(devfn & (VTD_SM_CTX_ENTRIES - 1)) * VTD_SM_CTX_ENTRY_SIZE;
		if ((rc = put(s, ce, VTD_SM_CTX_LO_P | dir |
			      (uint64_t)pdts << VTD_SM_CTX_LO_PDTS_SHIFT |
			      (tr == TR_DEVICE_TLB ? VTD_SM_CTX_LO_DTE : 0) |
			      (nr_sps ? VTD_SM_CTX_LO_PASIDE : 0))) < 0 ||
		    (rc = put(s, ce + 8, rid_pasid)) < 0)
			goto out;
		for (size_t i = tr == TR_BLOCKED ? 1 : 0; i <= nr_sps; i++) {
			if (i)
				spec_path_fmt(p, sizeof(p), "%s.pasids[%zu]", path, i - 1);
			else
				spec_path_fmt(p, sizeof(p), "%s", path);
			if ((rc = write_pasid_entry(s, dir, &sps[i], p)) < 0)
				goto out;
		}
	}
	if ((rc = image_unit_add_device(unit, &idev, s->err)) < 0)
		goto out;
	s->devs[s->nr_devs++] = dev;
out:
	free(sps);
	return rc;
}

static int synth_devices(struct synth *s, const struct json_object *spec,
			 struct image_unit *unit)
{
	struct json_object *arr;
	char p[SPEC_PATH_LEN];
	size_t n;
	int rc;

	if ((rc = spec_top_array(s->err, spec, "devices", &arr, &n)) < 0 || !arr)
		return rc;
	s->devs = calloc(n ? n : 1, sizeof(*s->devs));
	if (!s->devs)
		return err_set(s->err, -ENOMEM, "devices: out of memory");
	for (size_t i = 0; i < n; i++) {
		spec_path_fmt(p, sizeof(p), "devices[%zu]", i);
		if ((rc = synth_device(s, json_object_array_get_idx(arr, i), p,
				       unit)) < 0)
			return rc;
	}
	return 0;
}

static const char *const mode_names[] = { "legacy", "scalable", "abort-dma", NULL };
static const char *const unit_members[] = {
	"iommu", "mode", "aw-bits", "segment", "regs", "domains", "devices",
	"comment", NULL,
};

int vtd_synth(const struct json_object *spec, struct arena *arena,
	      struct image_unit *unit, struct errbuf *err)
{
	struct synth s;
	struct json_object *v;
	uint64_t seg = 0;
	int rc, mode = 0;

	memset(&s, 0, sizeof(s));
	s.arena = arena;
	s.err = err;
	if ((rc = spec_need_type(err, spec, json_type_object, "unit", "an object")) < 0 ||
	    (rc = spec_check_members(err, spec, "", unit_members)) < 0)
		return rc;
	if ((v = spec_member(spec, "mode")) && (mode = spec_enum(err, v, "mode", mode_names)) < 0)
		return mode;
	s.scalable = mode == 1;
	if ((v = spec_member(spec, "segment")) &&
	    (rc = spec_u64_max(&s, v, "segment", 0xffff, &seg)) < 0)
		return rc;
	s.segment = (uint16_t)seg;
	if ((rc = synth_regs(&s, spec)) < 0)
		return rc;
	if (mode == 2 && !vtd_ecap_ADMS(s.ecap))
		return err_set(err, -EINVAL, "mode: abort-dma needs ECAP.ADMS (regs.ecap)");
	/* the root table comes first, so RTADDR is the arena's first page */
	if ((rc = alloc_page(&s, "root table", &s.root)) < 0)
		goto out;
	if ((rc = synth_domains(&s, spec)) < 0 ||
	    (rc = synth_devices(&s, spec, unit)) < 0)
		goto out;
	unit->kind = IOMMU_VTD;
	unit->segment = s.segment;
	if ((rc = image_unit_set_reg(unit, "rtaddr",
				     s.root | (uint64_t)(mode == 2 ? VTD_TTM_ABORT_DMA : mode) << 10,
				     err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "cap", s.cap, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "ecap", s.ecap, err)) < 0)
		goto out;
out:
	free(s.domains);
	free(s.devs);
	return rc;
}
