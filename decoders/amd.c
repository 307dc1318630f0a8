/* AMD-Vi context decoder: from the Device Table Base Address register to
 * one attachment per device (and per PASID under guest translation).
 *
 * Per valid DTE (spec "Device Table Entry Format", Table 8 for V/TV/GV):
 *   V=0                 DMA passes untranslated; reported only for devices
 *                       the snapshot lists (unused IDs are all zero)
 *   V=1 TV=0            no translation information: DMA faults (blocked)
 *   Mode 1..6           v1 host table of that many levels (amd-v1 codec)
 *   Mode 0              untranslated: IR/IW decide (both: pass-through,
 *                       neither: blocked, the way Linux parks unused IDs)
 *   Mode 7              reserved: blocked
 *   GV=1                GCR3 table: one x86-64 (v2) table per PASID; with
 *                       GIoV=1 requests without PASID use PASID 0's.  With
 *                       Mode != 0 the guest tables and the GCR3 table are
 *                       in guest-physical space, nested under the v1 table.
 * Interrupt remapping tables are not walked; only IntTabLen is checked. */
#include "decoders/amd.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Device table entries are read in chunks of this many bytes. */
#define AMD_DEVTAB_CHUNK (64u * 1024)

struct amd_decode {
	struct decode_ctx *ctx;
	struct errbuf *err;
	uint16_t segment;
	uint64_t efr;
	bool have_efr;
	unsigned max_mode;      /* host levels allowed (EFR.HATS) */
	unsigned oas;           /* output address bits */
	uint8_t *known;         /* bitmap of DeviceIDs the snapshot lists */
	uint64_t gcr3_reads;    /* GCR3 entries read, against limits */
	int stop;               /* non-zero: the sink asked to stop */
};

/* Context of the DTE being decoded. */
struct amd_dte_ctx {
	uint32_t devid;
	uint64_t addr;          /* physical address of the DTE */
	uint64_t dte[AMD_DTE_QWORDS];
	struct dev_ref dev;
	char path[ATTACH_PATH_LEN];
	bool nested;            /* Mode != 0: guest structures are GPAs */
	struct pt_cfg host;     /* valid when nested */
	uint64_t host_root;
};

__attribute__((format(printf, 6, 7)))
static void report(struct amd_decode *d, enum amd_finding_id id,
		   const struct amd_dte_ctx *c, int64_t pasid, uint64_t addr,
		   const char *fmt, ...)
{
	const struct amd_finding_info *info = &amd_findings[id];
	char msg[256];
	va_list ap;

	if (d->stop || !d->ctx->sink)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (emit_finding(d->ctx->sink, info->severity, info->code, addr,
			 c ? c->path : "", c ? &c->dev : NULL, pasid, "%s", msg))
		d->stop = 1;
}

static bool wants_pasid(const struct amd_decode *d, int64_t pasid)
{
	const struct dump_filter *f = d->ctx->filter;

	return !f || !f->pasid_set || f->pasid == pasid;
}

static int attach(struct amd_decode *d, const struct amd_dte_ctx *c,
		  enum attach_mode mode, int64_t pasid, const struct pt_cfg *cfg,
		  uint64_t root, const char *path)
{
	struct attach a;
	int rc;

	if (d->stop || !wants_pasid(d, pasid))
		return 0;
	memset(&a, 0, sizeof(a));
	a.dev = c->dev;
	a.pasid = pasid;
	a.domain = (int64_t)amd_dte_get(c->dte, 79, 64);
	a.mode = mode;
	if (cfg)
		a.cfg = *cfg;
	a.root = root;
	a.iova_base = 0;
	if (mode == ATTACH_NESTED) {
		a.s2cfg = c->host;
		a.s2root = c->host_root;
	}
	/* with a host table (Mode 1-6) the DTE's IR/IW limit every mapping */
	if ((mode == ATTACH_TRANSLATE || mode == ATTACH_NESTED) &&
	    amd_dte_get(c->dte, 11, 9) != AMD_DTE_MODE_NONE)
		a.perm_deny = (amd_dte_get(c->dte, 61, 61) ? 0 : PERM_R) |
			      (amd_dte_get(c->dte, 62, 62) ? 0 : PERM_W);
	snprintf(a.path, sizeof(a.path), "%s", path ? path : c->path);
	rc = d->ctx->attach(d->ctx, &a);
	if (rc < 0)
		return err_set(d->err, rc, "amd: attaching %s failed", a.path);
	if (rc > 0)
		d->stop = 1;
	return 0;
}

static bool dev_known(const struct amd_decode *d, uint32_t devid)
{
	return d->known && (d->known[devid / 8] & (1u << (devid % 8)));
}

/* ---- nested: guest-physical addresses through the v1 host table ---- */

/* Translates @gpa through the v1 table at @root; false when unmapped or
 * the walk meets anything it cannot follow.  Bounded by the level count
 * (every step goes strictly down). */
static bool v1_translate(struct amd_decode *d, const struct pt_cfg *cfg,
			 uint64_t root, uint64_t gpa, uint64_t *spa)
{
	unsigned level = cfg->levels - 1;
	uint64_t table = root;
	struct errbuf err;

	if (cfg->ias < 64 && (gpa >> cfg->ias))
		return false;
	for (;;) {
		unsigned shift = cfg->level_shift[level];
		uint64_t idx = (gpa >> shift) & (pt_level_entries(cfg, level) - 1);
		uint64_t span_mask = (shift < 64 ? (1ull << shift) : 0) - 1;
		struct pt_entry e;
		uint64_t raw;

		if (physmem_read_u64(d->ctx->mem, table + idx * 8, &raw, &err) < 0)
			return false;
		cfg->fmt->decode(cfg, level, gpa & ~span_mask, raw, &e);
		if (e.kind == PTE_LEAF && !e.reserved) {
			*spa = e.addr + (gpa & span_mask);
			return true;
		}
		if (e.kind != PTE_TABLE || e.reserved || e.next_level >= level)
			return false;
		/* skipped levels: their IOVA bits must be zero */
		unsigned top = cfg->level_shift[e.next_level] +
			       cfg->level_bits[e.next_level];
		if (top < shift && ((gpa >> top) & ((1ull << (shift - top)) - 1)))
			return false;
		level = e.next_level;
		table = e.addr;
	}
}

/* Makes a guest-structure address physical: itself when not nested. */
static bool guest_to_phys(struct amd_decode *d, const struct amd_dte_ctx *c,
			  uint64_t gpa, uint64_t *pa)
{
	if (!c->nested) {
		*pa = gpa;
		return true;
	}
	return v1_translate(d, &c->host, c->host_root, gpa, pa);
}

/* ---- guest translation: GCR3 tables ---- */

struct gcr3_walk {
	struct amd_dte_ctx *c;
	struct pt_cfg guest;       /* x86-64 cfg for every PASID */
	unsigned pasid_limit_bits; /* EFR.PASMax + 1, or 20 */
	bool untagged;             /* GIoV: PASID 0 also serves requests
				    * without PASID */
	bool pasid0_valid;         /* the GCR3 entry of PASID 0 is valid */
};

/* What decode_guest learnt about requests without PASID. */
enum guest_walk {
	GUEST_NOT_WALKED,  /* GCR3 table unusable; findings say why */
	GUEST_WALKED,
};

static int gcr3_leaf(struct amd_decode *d, struct gcr3_walk *g,
		     uint64_t entry_pa, uint64_t pasid, uint64_t raw)
{
	struct amd_dte_ctx *c = g->c;
	uint64_t cr3 = raw & AMD_GCR3_ADDR, pa;
	char path[ATTACH_PATH_LEN];
	enum attach_mode mode = c->nested ? ATTACH_NESTED : ATTACH_TRANSLATE;
	int rc;

	snprintf(path, sizeof(path), "%.60s/gcr3[0x%05llx]", c->path,
		 (unsigned long long)pasid);
	if (pasid == 0)
		g->pasid0_valid = true;
	if (pasid >> g->pasid_limit_bits)
		report(d, AMD_F_GCR3_PASID_RANGE, c, (int64_t)pasid, entry_pa,
		       "valid GCR3 entry for PASID 0x%llx, EFR.PASMax allows %u bits",
		       (unsigned long long)pasid, g->pasid_limit_bits);
	if (!guest_to_phys(d, c, cr3, &pa)) {
		report(d, AMD_F_GCR3_XLATE, c, (int64_t)pasid, entry_pa,
		       "guest CR3 0x%llx of PASID 0x%llx does not translate through the host table",
		       (unsigned long long)cr3, (unsigned long long)pasid);
		return 0;
	}
	if (!physmem_present(d->ctx->mem, pa, 4096)) {
		report(d, AMD_F_GCR3_CR3_OUTSIDE, c, (int64_t)pasid, entry_pa,
		       "guest CR3 0x%llx of PASID 0x%llx is outside the dump",
		       (unsigned long long)pa, (unsigned long long)pasid);
		return 0;
	}
	rc = attach(d, c, mode, (int64_t)pasid, &g->guest, cr3, path);
	if (rc == 0 && pasid == 0 && g->untagged)
		rc = attach(d, c, mode, PASID_NONE, &g->guest, cr3, path);
	return rc;
}

/* Walks the GCR3 table at @table_pa (physical) of level @level (0 = the
 * entries are guest CR3s), for PASIDs @base + index << (9 * level). */
static int gcr3_table(struct amd_decode *d, struct gcr3_walk *g,
		      uint64_t table_pa, unsigned level, uint64_t base)
{
	struct amd_dte_ctx *c = g->c;
	unsigned shift = AMD_GCR3_INDEX_BITS * level;
	uint64_t entries = 512;
	uint64_t table[512];
	uint64_t limit = d->ctx->limits.max_entries;
	uint64_t above_oas = AMD_GCR3_ADDR & ~((1ull << d->oas) - 1);

	/* PASIDs are at most 20 bits: the top table may be partly used */
	if (shift + AMD_GCR3_INDEX_BITS > AMD_PASID_BITS_MAX)
		entries = 1ull << (AMD_PASID_BITS_MAX - shift);
	if (physmem_read(d->ctx->mem, table_pa, table, entries * 8, d->err) < 0) {
		report(d, AMD_F_GCR3_TABLE_OUTSIDE, c, PASID_NONE, table_pa,
		       "level-%u GCR3 table: %s", level, d->err->msg);
		return 0;
	}

	for (uint64_t i = 0; i < entries && !d->stop; i++) {
		uint64_t raw = table[i], pasid = base | (i << shift);
		uint64_t entry_pa = table_pa + i * 8, next;
		int rc;

		if (limit && ++d->gcr3_reads > limit)
			return 0;
		if (!(raw & AMD_GCR3_VALID))
			continue;
		if (raw & (AMD_GCR3_RESERVED | above_oas)) {
			report(d, AMD_F_GCR3_RESERVED, c, level ? PASID_NONE : (int64_t)pasid,
			       entry_pa, "GCR3 entry 0x%016llx has reserved bits 0x%llx set",
			       (unsigned long long)raw,
			       (unsigned long long)(raw & (AMD_GCR3_RESERVED | above_oas)));
			continue;
		}
		if (level == 0) {
			rc = gcr3_leaf(d, g, entry_pa, pasid, raw);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!guest_to_phys(d, c, raw & AMD_GCR3_ADDR, &next)) {
			report(d, AMD_F_GCR3_XLATE, c, PASID_NONE, entry_pa,
			       "GCR3 table 0x%llx does not translate through the host table",
			       (unsigned long long)(raw & AMD_GCR3_ADDR));
			continue;
		}
		if (!physmem_present(d->ctx->mem, next, 4096)) {
			report(d, AMD_F_GCR3_TABLE_OUTSIDE, c, PASID_NONE, entry_pa,
			       "level-%u GCR3 table at 0x%llx is outside the dump",
			       level, (unsigned long long)next);
			continue;
		}
		rc = gcr3_table(d, g, next, level - 1, pasid);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* GV=1: checks GLX and the guest paging level, then walks the GCR3 table.
 * *@pasid0_valid tells whether PASID 0 has a valid entry. */
static int decode_guest(struct amd_decode *d, struct amd_dte_ctx *c,
			enum guest_walk *walked, bool *pasid0_valid)
{
	const uint64_t *dte = c->dte;
	unsigned glx = (unsigned)amd_dte_get(dte, 57, 56);
	unsigned gpt = (unsigned)amd_dte_get(dte, 183, 182);
	uint64_t root = amd_dte_gcr3_root(dte), root_pa;
	struct gcr3_walk g = { .c = c, .pasid_limit_bits = AMD_PASID_BITS_MAX };
	unsigned levels = 4;
	struct errbuf err;
	int rc;

	*walked = GUEST_NOT_WALKED;
	*pasid0_valid = false;
	if (glx == 3 || (d->have_efr &&
			 glx > ((d->efr >> AMD_EFR_GLXSUP_SHIFT) & AMD_EFR_GLXSUP_MASK))) {
		report(d, AMD_F_GCR3_GLX, c, PASID_NONE, c->addr,
		       "GLX %u: %s", glx, glx == 3 ? "reserved" :
		       "more GCR3 levels than EFR.GLXSup allows");
		return 0;
	}
	if (gpt > 1 || (gpt == 1 && d->have_efr &&
			((d->efr >> AMD_EFR_GATS_SHIFT) & AMD_EFR_GATS_MASK) != 1)) {
		report(d, AMD_F_GCR3_LEVEL, c, PASID_NONE, c->addr,
		       "GPTLevel %u: %s", gpt, gpt > 1 ? "reserved" :
		       "5-level guest tables without EFR.GATS = 01b");
		return 0;
	}
	levels += gpt;
	if (d->have_efr)
		g.pasid_limit_bits = 1 + (unsigned)((d->efr >> AMD_EFR_PASMAX_SHIFT) &
						    AMD_EFR_PASMAX_MASK);
	g.untagged = amd_dte_get(dte, 54, 54) != 0;
	/* v2 tables: 1 GiB pages always (Linux AMD_IOMMU_PGSIZES_V2); the
	 * NX bit is defined when EFR.NXSup says so */
	rc = pt_cfg_init(&g.guest, &pt_fmt_x86_64, levels, 12 + 9 * levels, d->oas, 12,
			 PT_X86_F_1G | (!d->have_efr || (d->efr & AMD_EFR_NXSUP) ?
					PT_X86_F_NXE : 0), &err);
	if (rc < 0) {
		report(d, AMD_F_PT_CONFIG, c, PASID_NONE, c->addr,
		       "x86-64 tables of %u levels: %s", levels, err.msg);
		return 0;
	}
	if (!guest_to_phys(d, c, root, &root_pa)) {
		report(d, AMD_F_GCR3_XLATE, c, PASID_NONE, c->addr,
		       "GCR3 table root 0x%llx does not translate through the host table",
		       (unsigned long long)root);
		return 0;
	}
	if (!physmem_present(d->ctx->mem, root_pa, 4096)) {
		report(d, AMD_F_GCR3_ROOT_OUTSIDE, c, PASID_NONE, c->addr,
		       "GCR3 table root at 0x%llx is outside the dump",
		       (unsigned long long)root_pa);
		return 0;
	}
	rc = gcr3_table(d, &g, root_pa, glx, 0);
	*walked = GUEST_WALKED;
	*pasid0_valid = g.pasid0_valid;
	return rc;
}

/* ---- one DTE ---- */

static void check_dte_fields(struct amd_decode *d, struct amd_dte_ctx *c)
{
	const uint64_t *dte = c->dte;
	uint64_t rsv[AMD_DTE_QWORDS] = {
		dte[0] & AMD_DTE_QW0_RESERVED, dte[1] & AMD_DTE_QW1_RESERVED,
		dte[2] & AMD_DTE_QW2_RESERVED, dte[3] & AMD_DTE_QW3_RESERVED,
	};

	if (rsv[0] | rsv[1] | rsv[2] | rsv[3])
		report(d, AMD_F_DTE_RESERVED, c, PASID_NONE, c->addr,
		       "reserved bits set: QW0 0x%llx QW1 0x%llx QW2 0x%llx QW3 0x%llx",
		       (unsigned long long)rsv[0], (unsigned long long)rsv[1],
		       (unsigned long long)rsv[2], (unsigned long long)rsv[3]);

	if (d->have_efr) {
		const char *what = NULL;

		if (amd_dte_get(dte, 55, 55) && !(d->efr & AMD_EFR_GTSUP))
			what = "GV without EFR.GTSup";
		else if (amd_dte_get(dte, 54, 54) && !(d->efr & AMD_EFR_GIOSUP))
			what = "GIoV without EFR.GIoSup";
		else if (amd_dte_get(dte, 52, 52) && !(d->efr & AMD_EFR_PPRSUP))
			what = "PPR without EFR.PPRSup";
		else if ((amd_dte_get(dte, 8, 7) & 1) && !(d->efr & AMD_EFR_HASUP))
			what = "HAD access updates without EFR.HASup";
		else if ((amd_dte_get(dte, 8, 7) & 2) && !(d->efr & AMD_EFR_HDSUP))
			what = "HAD dirty updates without EFR.HDSup";
		if (what)
			report(d, AMD_F_DTE_UNSUPPORTED, c, PASID_NONE, c->addr,
			       "%s", what);
	}

	/* Interrupt remapping tables are not walked (Linux sets IV with an
	 * empty table for every DeviceID), only the length is checked. */
	if (amd_dte_get(dte, 128, 128)) { /* IV */
		unsigned len = (unsigned)amd_dte_get(dte, 132, 129);

		if (len > AMD_INTTABLEN_MAX)
			report(d, AMD_F_DTE_INTTABLEN, c, PASID_NONE, c->addr,
			       "IntTabLen %u is reserved", len);
	}
}

/* Mode 0 without guest translation of untagged requests. */
static int decode_untranslated(struct amd_decode *d, struct amd_dte_ctx *c)
{
	bool ir = amd_dte_get(c->dte, 61, 61), iw = amd_dte_get(c->dte, 62, 62);

	if (!ir && !iw)
		return attach(d, c, ATTACH_BLOCKED, PASID_NONE, NULL, 0, NULL);
	if (ir != iw)
		report(d, AMD_F_DTE_PASSTHROUGH_PARTIAL, c, PASID_NONE, c->addr,
		       "Mode 0 with IR=%d IW=%d: untranslated DMA may only %s",
		       ir, iw, ir ? "read" : "write");
	return attach(d, c, ATTACH_PASSTHROUGH, PASID_NONE, NULL, 0, NULL);
}

/* Mode 1..6: sets up c->host; false when the table cannot be walked. */
static bool setup_host(struct amd_decode *d, struct amd_dte_ctx *c,
		       unsigned mode)
{
	uint64_t root = amd_dte_get(c->dte, 51, 12) << 12;
	struct errbuf err;

	if (d->max_mode && mode > d->max_mode)
		report(d, AMD_F_DTE_MODE_HATS, c, PASID_NONE, c->addr,
		       "Mode %u but EFR.HATS allows %u levels", mode, d->max_mode);
	if (pt_cfg_init(&c->host, &pt_fmt_amd_v1, mode, 0, d->oas, 12, 0, &err) < 0) {
		report(d, AMD_F_PT_CONFIG, c, PASID_NONE, c->addr, "%s", err.msg);
		return false;
	}
	if (!physmem_present(d->ctx->mem, root, 4096)) {
		report(d, AMD_F_DTE_ROOT_OUTSIDE, c, PASID_NONE, c->addr,
		       "level-%u page table at 0x%llx is outside the dump",
		       mode, (unsigned long long)root);
		return false;
	}
	c->host_root = root;
	return true;
}

static int decode_dte(struct amd_decode *d, struct amd_dte_ctx *c)
{
	const uint64_t *dte = c->dte;
	unsigned mode = (unsigned)amd_dte_get(dte, 11, 9);
	int rc = 0;
	bool gv = amd_dte_get(dte, 55, 55) != 0;
	bool giov = amd_dte_get(dte, 54, 54) != 0;
	bool host_ok = false;

	if (!amd_dte_get(dte, 0, 0)) { /* V */
		if (!dev_known(d, c->devid))
			return 0;
		report(d, AMD_F_DTE_NOT_VALID, c, PASID_NONE, c->addr,
		       "DTE not valid: DMA from this device is not translated");
		return attach(d, c, ATTACH_PASSTHROUGH, PASID_NONE, NULL, 0, NULL);
	}
	check_dte_fields(d, c);

	if (!amd_dte_get(dte, 1, 1)) { /* TV */
		if (mode || amd_dte_get(dte, 51, 12) || gv)
			report(d, AMD_F_DTE_TV_DISABLED, c, PASID_NONE, c->addr,
			       "TV=0 with Mode %u, root 0x%llx%s: DMA needing a walk faults",
			       mode, (unsigned long long)(amd_dte_get(dte, 51, 12) << 12),
			       gv ? ", GV=1" : "");
		return attach(d, c, ATTACH_BLOCKED, PASID_NONE, NULL, 0, NULL);
	}
	if (mode == AMD_DTE_MODE_RESERVED) {
		report(d, AMD_F_DTE_MODE_RESERVED, c, PASID_NONE, c->addr,
		       "Mode 7 is reserved");
		return attach(d, c, ATTACH_BLOCKED, PASID_NONE, NULL, 0, NULL);
	}
	if (mode != AMD_DTE_MODE_NONE) {
		host_ok = setup_host(d, c, mode);
		c->nested = true;
		if (host_ok && !(amd_dte_get(dte, 61, 61) && amd_dte_get(dte, 62, 62)))
			report(d, AMD_F_DTE_PERM_MASK, c, PASID_NONE, c->addr,
			       "IR=%d IW=%d limit every mapping of the table",
			       (int)amd_dte_get(dte, 61, 61), (int)amd_dte_get(dte, 62, 62));
	}
	if (gv && (mode == AMD_DTE_MODE_NONE || host_ok)) {
		enum guest_walk walked;
		bool pasid0;

		rc = decode_guest(d, c, &walked, &pasid0);
		if (rc < 0 || !giov)
			goto untagged;
		/* GIoV: requests without PASID use PASID 0's table, attached
		 * by the GCR3 walk; without one they fault */
		if (walked == GUEST_WALKED && !pasid0)
			return attach(d, c, ATTACH_BLOCKED, PASID_NONE, NULL, 0, NULL);
		return 0;
	}
untagged:
	if (rc < 0)
		return rc;
	if (mode == AMD_DTE_MODE_NONE)
		return decode_untranslated(d, c);
	if (!host_ok)
		return 0;
	return attach(d, c, ATTACH_TRANSLATE, PASID_NONE, &c->host, c->host_root, NULL);
}

/* ---- the device table ---- */

static int build_known(struct amd_decode *d, const struct image_unit *u)
{
	if (!u->nr_devices)
		return 0;
	d->known = calloc((AMD_DEVID_MAX + 1) / 8, 1);
	if (!d->known)
		return err_set(d->err, -ENOMEM, "amd: out of memory");
	for (size_t i = 0; i < u->nr_devices; i++) {
		const struct image_device *dev = &u->devices[i];

		if (dev->segment != u->segment || dev->id > AMD_DEVID_MAX)
			continue;
		d->known[dev->id / 8] |= (uint8_t)(1u << (dev->id % 8));
	}
	return 0;
}

/* Bytes of the table at @base present in memory, up to @bytes, in whole
 * pages from the start. */
static uint64_t present_prefix(struct physmem *mem, uint64_t base, uint64_t bytes)
{
	uint64_t n = 0;

	while (n < bytes && physmem_present(mem, base + n, 4096))
		n += 4096;
	return n;
}

static int decode_table(struct amd_decode *d, uint64_t base, uint64_t bytes)
{
	const struct image_unit *u = d->ctx->unit;
	uint64_t entries = bytes / AMD_DTE_SIZE;
	uint8_t *chunk = malloc(AMD_DEVTAB_CHUNK);
	int rc = 0;

	if (!chunk)
		return err_set(d->err, -ENOMEM, "amd: out of memory");
	for (uint64_t first = 0; first < entries && !d->stop && rc == 0;
	     first += AMD_DEVTAB_CHUNK / AMD_DTE_SIZE) {
		uint64_t n = entries - first;

		if (n > AMD_DEVTAB_CHUNK / AMD_DTE_SIZE)
			n = AMD_DEVTAB_CHUNK / AMD_DTE_SIZE;
		rc = physmem_read(d->ctx->mem, base + first * AMD_DTE_SIZE, chunk,
				  n * AMD_DTE_SIZE, d->err);
		if (rc < 0)
			break;
		for (uint64_t i = 0; i < n && !d->stop && rc == 0; i++) {
			struct amd_dte_ctx c;

			memset(&c, 0, sizeof(c));
			c.devid = (uint32_t)(first + i);
			c.addr = base + c.devid * AMD_DTE_SIZE;
			memcpy(c.dte, chunk + i * AMD_DTE_SIZE, AMD_DTE_SIZE);
			c.dev = (struct dev_ref){ .id = c.devid, .segment = u->segment,
						  .pci = true };
			if (d->ctx->filter && !dump_filter_device(d->ctx->filter, &c.dev))
				continue;
			if (!(c.dte[0] | c.dte[1] | c.dte[2] | c.dte[3]) &&
			    !dev_known(d, c.devid))
				continue;
			snprintf(c.path, sizeof(c.path), "dte[0x%04x]", c.devid);
			rc = decode_dte(d, &c);
		}
	}
	free(chunk);
	return rc;
}

static int amd_decode(struct decode_ctx *ctx, struct errbuf *err)
{
	const struct image_unit *u = ctx->unit;
	struct amd_decode d = { .ctx = ctx, .err = err, .oas = AMD_V1_OAS_MAX };
	uint64_t dtbase, base, bytes, present;
	int rc;

	if (!image_unit_reg(u, "dtbase", &dtbase))
		return err_set(err, -EINVAL,
			       "amd: the snapshot has no dtbase register (Device Table Base Address, MMIO 0x0)");
	d.segment = u->segment;
	base = dtbase & AMD_DTBASE_ADDR;
	bytes = amd_dtbase_bytes(dtbase);
	present = present_prefix(ctx->mem, base, bytes);
	/* like a root table outside the dump: nothing can be decoded, and
	 * that is said before any finding */
	if (present == 0)
		return err_set(err, -EFAULT,
			       "amd: device table at 0x%llx (dtbase 0x%llx) is outside the dump",
			       (unsigned long long)base, (unsigned long long)dtbase);

	d.have_efr = image_unit_reg(u, "efr", &d.efr);
	d.max_mode = AMD_V1_MAX_LEVELS;
	if (!d.have_efr) {
		report(&d, AMD_F_EFR_MISSING, NULL, PASID_NONE, 0,
		       "no efr register in the snapshot: EFR checks skipped");
	} else if (amd_efr_max_mode(d.efr) == 0) {
		report(&d, AMD_F_EFR_HATS_RESERVED, NULL, PASID_NONE, 0,
		       "EFR 0x%016llx: HATS is 11b", (unsigned long long)d.efr);
	} else {
		d.max_mode = amd_efr_max_mode(d.efr);
	}
	if (dtbase & AMD_DTBASE_RESERVED)
		report(&d, AMD_F_DTBASE_RESERVED, NULL, PASID_NONE, 0,
		       "dtbase 0x%016llx has reserved bits 0x%llx set",
		       (unsigned long long)dtbase,
		       (unsigned long long)(dtbase & AMD_DTBASE_RESERVED));
	if (present < bytes)
		report(&d, AMD_F_DEVTAB_TRUNCATED, NULL, PASID_NONE, base + present,
		       "device table at 0x%llx is %llu KiB but only %llu KiB are in the dump",
		       (unsigned long long)base, (unsigned long long)(bytes / 1024),
		       (unsigned long long)(present / 1024));

	rc = build_known(&d, u);
	if (rc == 0) {
		for (size_t i = 0; i < u->nr_devices && !d.stop; i++) {
			const struct image_device *dev = &u->devices[i];
			struct amd_dte_ctx c = { .devid = dev->id };

			if (dev->segment != u->segment ||
			    (uint64_t)dev->id * AMD_DTE_SIZE < bytes)
				continue;
			c.dev = (struct dev_ref){ .id = dev->id, .segment = dev->segment,
						  .pci = true };
			snprintf(c.path, sizeof(c.path), "dte[0x%04x]", dev->id);
			if (ctx->filter && !dump_filter_device(ctx->filter, &c.dev))
				continue;
			report(&d, AMD_F_DEVTAB_NO_ENTRY, &c, PASID_NONE, 0,
			       "DeviceID 0x%04x is beyond the %llu entries of the device table",
			       dev->id, (unsigned long long)(bytes / AMD_DTE_SIZE));
		}
		rc = decode_table(&d, base, present);
	}
	free(d.known);
	return rc;
}

static const char *const amd_reg_names[] = { "dtbase", "efr", NULL };

const struct iommu_decoder amd_decoder = {
	.kind = IOMMU_AMD,
	.name = "amd",
	.title = "AMD-Vi",
	.elf_machine = EM_X86_64,
	.reg_names = amd_reg_names,
	.decode = amd_decode,
	.describe_regs = amd_describe_regs,
	.synth = amd_synth,
};
