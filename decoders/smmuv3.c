/* Arm SMMUv3 context decoder: from STRTAB_BASE(_CFG) through the stream
 * table (linear or 2-level), each Stream Table Entry, the context-
 * descriptor tables (linear or 2-level) and each Context Descriptor to
 * one attachment per (stream, substream, TTB half).  Stage-2 and nested
 * configurations carry the STE's stage-2 table.  Facts in smmuv3_defs.h
 * and lpae_defs.h; finding codes in iommutool-dump(1).
 *
 * Stream IDs are PCI requester IDs in the unit's segment (as on QEMU virt
 * and most Arm servers with an identity RC mapping) unless the image's
 * device list says a stream is something else. */
#include "decoders/lpae_defs.h"
#include "decoders/smmuv3_defs.h"
#include "decoders/smmuv3_internal.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SMMU_PATH_LEN ATTACH_PATH_LEN

struct smmu_decode {
	struct decode_ctx *ctx;
	struct physmem *mem;
	const struct image_unit *unit;
	bool has_idr0, has_idr1, has_idr3, has_idr5;
	uint64_t idr0, idr1, idr3, idr5;
	unsigned oas;          /* IDR5.OAS in bits, 0 when unknown */
	uint64_t reads, max_reads;
	int stop;              /* <0: a sink or attach callback said stop */
	/* stream table */
	bool two_level;
	uint64_t strtab;       /* effective base */
	unsigned log2size, split;
};

/* One STE being decoded, and its stage-2 configuration when enabled. */
struct smmu_stream {
	uint32_t sid;
	struct dev_ref dev;
	uint64_t addr;
	uint64_t ste[SMMU_STE_DWORDS];
	char path[SMMU_PATH_LEN];
	unsigned config;
	bool s2;               /* stage 2 enabled and decodable */
	struct pt_cfg s2cfg;
	uint64_t s2root;
	uint16_t vmid;
};

/* The finding table (smmuv3_findings.def) as an enum and an array. */
enum smmu_finding_id {
#define SMMU_FINDING(id, code, sev, what) F_##id,
#include "decoders/smmuv3_findings.def"
#undef SMMU_FINDING
	F_COUNT
};

const struct smmuv3_finding smmuv3_findings[] = {
#define SMMU_FINDING(id, code, sev, what) { code, sev, what },
#include "decoders/smmuv3_findings.def"
#undef SMMU_FINDING
};
const size_t smmuv3_nr_findings = F_COUNT;

__attribute__((format(printf, 7, 8)))
static void finding(struct smmu_decode *d, enum smmu_finding_id id, uint64_t addr,
		    const char *path, const struct dev_ref *dev, int64_t pasid,
		    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!d->ctx->sink || d->stop)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (emit_finding(d->ctx->sink, smmuv3_findings[id].severity, smmuv3_findings[id].code,
			 addr, path, dev, pasid, "%s", msg))
		d->stop = -ECANCELED;
}

/* snprintf for paths: truncation at ATTACH_PATH_LEN is acceptable. */
__attribute__((format(printf, 3, 4)))
static void path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* An IDR field, or @dflt when the snapshot lacks the register (then the
 * decoder assumes the feature is there and checks nothing against it). */
static uint64_t idr_get(bool has, uint64_t reg, unsigned hi, unsigned lo, uint64_t dflt)
{
	return has ? smmu_get(&reg, 0, hi, lo) : dflt;
}

/* IDR fields by position (smmuv3_regs.def names them for --regs). */
#define IDR0(d, hi, lo, dflt) idr_get((d)->has_idr0, (d)->idr0, hi, lo, dflt)
#define IDR1(d, hi, lo, dflt) idr_get((d)->has_idr1, (d)->idr1, hi, lo, dflt)
#define IDR3(d, hi, lo, dflt) idr_get((d)->has_idr3, (d)->idr3, hi, lo, dflt)
#define IDR5(d, hi, lo, dflt) idr_get((d)->has_idr5, (d)->idr5, hi, lo, dflt)
#define IDR0_S2P(d)      IDR0(d, 0, 0, 1)
#define IDR0_S1P(d)      IDR0(d, 1, 1, 1)
#define IDR0_HTTU(d)     IDR0(d, 7, 6, 2)
#define IDR0_ASID16(d)   IDR0(d, 12, 12, 1)
#define IDR0_VMID16(d)   IDR0(d, 18, 18, 1)
#define IDR0_CD2L(d)     IDR0(d, 19, 19, 1)
#define IDR0_ST_LEVEL(d) IDR0(d, 28, 27, 1)
#define IDR1_SIDSIZE(d)  IDR1(d, 5, 0, 32)
#define IDR1_SSIDSIZE(d) IDR1(d, 10, 6, SMMU_SSID_BITS_MAX)
#define IDR3_HAD(d)      IDR3(d, 2, 2, 1)
#define IDR3_STT(d)      IDR3(d, 9, 9, 0)
#define IDR5_VAX(d)      IDR5(d, 11, 10, 0)

static bool granule_supported(const struct smmu_decode *d, unsigned shift)
{
	unsigned bit = shift == 12 ? 4 : shift == 14 ? 5 : 6;

	return !d->has_idr5 || ((d->idr5 >> bit) & 1);
}

static struct dev_ref sid_dev(const struct smmu_decode *d, uint32_t sid)
{
	struct dev_ref dev = { .id = sid, .segment = d->unit->segment, .pci = sid <= 0xffff };

	for (size_t i = 0; i < d->unit->nr_devices; i++) {
		const struct image_device *id = &d->unit->devices[i];

		if (id->id == sid) {
			dev.pci = id->pci;
			dev.segment = id->segment;
			break;
		}
	}
	return dev;
}

static bool same_dev(const struct dev_ref *a, const struct dev_ref *b)
{
	return a->id == b->id && a->pci == b->pci && (!a->pci || a->segment == b->segment);
}

/* A device the image or the user named: worth reporting even when its
 * STE only aborts. */
static bool dev_known(const struct smmu_decode *d, const struct dev_ref *dev)
{
	const struct dump_filter *f = d->ctx->filter;

	for (size_t i = 0; i < d->unit->nr_devices; i++) {
		struct dev_ref o = {
			.id = d->unit->devices[i].id,
			.segment = d->unit->devices[i].segment,
			.pci = d->unit->devices[i].pci,
		};
		if (same_dev(&o, dev))
			return true;
	}
	for (size_t i = 0; f && i < f->nr_devices; i++)
		if (same_dev(&f->devices[i], dev))
			return true;
	return false;
}

static bool want_pasid(const struct smmu_decode *d, int64_t pasid)
{
	const struct dump_filter *f = d->ctx->filter;

	return !f || !f->pasid_set || f->pasid == pasid;
}

static void attach(struct smmu_decode *d, const struct smmu_stream *st,
		   int64_t pasid, int64_t domain, enum attach_mode mode,
		   const struct pt_cfg *cfg, uint64_t root, uint64_t iova_base,
		   const char *path)
{
	struct attach a;
	int rc;

	if (d->stop || !d->ctx->attach || !want_pasid(d, pasid))
		return;
	memset(&a, 0, sizeof(a));
	a.dev = st->dev;
	a.pasid = pasid;
	a.domain = domain;
	a.mode = mode;
	if (cfg)
		a.cfg = *cfg;
	a.root = root;
	a.iova_base = iova_base;
	if (mode == ATTACH_NESTED) {
		a.s2cfg = st->s2cfg;
		a.s2root = st->s2root;
	}
	path_fmt(a.path, sizeof(a.path), "%s", path);
	rc = d->ctx->attach(d->ctx, &a);
	if (rc)
		d->stop = rc < 0 ? rc : -ECANCELED;
}

static void attach_simple(struct smmu_decode *d, const struct smmu_stream *st,
			  int64_t pasid, enum attach_mode mode, const char *path)
{
	attach(d, st, pasid, DOMAIN_NONE, mode, NULL, 0, 0, path);
}

/* ---- reading descriptors, through stage 2 when the stream nests ---- */

/* IPA → PA through the stream's stage-2 tables (CD tables of a nested
 * stream live in IPA space).  One lookup, bounded by the level count. */
static int s2_translate(struct smmu_decode *d, const struct smmu_stream *st,
			uint64_t ipa, uint64_t *pa)
{
	const struct pt_cfg *c = &st->s2cfg;
	unsigned level = c->levels - 1;
	uint64_t table = st->s2root;
	struct errbuf err;

	if (c->ias < 64 && (ipa >> c->ias))
		return -EFAULT;
	for (;;) {
		unsigned shift = c->level_shift[level];
		uint64_t idx = (ipa >> shift) & ((1ull << c->level_bits[level]) - 1);
		uint64_t raw;
		struct pt_entry e;

		if (physmem_read_u64(d->mem, table + idx * 8, &raw, &err) < 0)
			return -EFAULT;
		c->fmt->decode(c, level, ipa & ~((1ull << shift) - 1), raw, &e);
		if (e.kind == PTE_TABLE && e.next_level < level) {
			table = e.addr;
			level = e.next_level;
			continue;
		}
		if (e.kind != PTE_LEAF || e.reserved)
			return -EFAULT;
		*pa = e.addr + (ipa & ((1ull << shift) - 1));
		return 0;
	}
}

/* Reads @len (8 or 64) bytes of a descriptor at @addr; @s2 set when the
 * address is an IPA.  *pa is where it was found. */
static int read_desc(struct smmu_decode *d, const struct smmu_stream *s2,
		     uint64_t addr, uint64_t *words, size_t len, uint64_t *pa)
{
	struct errbuf err;

	*pa = addr;
	if (s2 && s2_translate(d, s2, addr, pa) < 0)
		return -EFAULT;
	if (physmem_read(d->mem, *pa, words, len, &err) < 0)
		return -EFAULT;
	return 0;
}

/* Lowest present address >= @pa, UINT64_MAX when none. */
static uint64_t next_present(const struct physmem *mem, uint64_t pa)
{
	for (size_t i = 0; i < mem->nr_ranges; i++) {
		const struct physmem_range *r = &mem->ranges[i];

		if (pa < r->start)
			return r->start;
		if (pa - r->start < r->size)
			return pa;
	}
	return UINT64_MAX;
}

static bool budget(struct smmu_decode *d, const char *path, uint64_t addr)
{
	if (++d->reads <= d->max_reads)
		return true;
	if (d->reads == d->max_reads + 1)
		finding(d, F_LIMIT_ENTRIES, addr, path, NULL, PASID_NONE,
			"decode stopped after %llu descriptors (limit)",
			(unsigned long long)d->max_reads);
	if (!d->stop)
		d->stop = 1;
	return false;
}

typedef void (*visit_fn)(struct smmu_decode *d, void *arg, uint64_t index,
			 uint64_t pa, const uint64_t *words);

struct array_desc {
	const struct smmu_stream *s2; /* addresses are IPAs of this stream */
	uint64_t base;
	uint64_t count;
	unsigned size;                /* bytes per entry: 8 or 64 */
	enum smmu_finding_id code;    /* finding for entries outside memory */
	const char *what;             /* "stream table entries" */
	const char *path;             /* path of the table: "strtab" */
	const struct dev_ref *dev;
	int64_t pasid;
};

static void report_gap(struct smmu_decode *d, const struct array_desc *a,
		       uint64_t first, uint64_t n)
{
	char path[SMMU_PATH_LEN];

	if (!n)
		return;
	path_fmt(path, sizeof(path), "%s[0x%llx]", a->path, (unsigned long long)first);
	finding(d, a->code, a->base + first * a->size, path, a->dev, a->pasid,
		"%llu %s from index 0x%llx at %s0x%llx cannot be read",
		(unsigned long long)n, a->what, (unsigned long long)first,
		a->s2 ? "ipa " : "", (unsigned long long)(a->base + first * a->size));
}

/* Calls @fn for every readable entry of an array; each run of unreadable
 * entries becomes one finding.  Physical arrays skip absent memory at
 * once, so a huge linear table costs only what is present. */
static void walk_array(struct smmu_decode *d, const struct array_desc *a,
		       visit_fn fn, void *arg)
{
	uint64_t words[SMMU_STE_DWORDS];
	uint64_t i = 0, bad_first = 0, bad = 0;

	while (i < a->count && !d->stop) {
		uint64_t addr = a->base + i * a->size, pa;

		if (!a->s2 && !physmem_present(d->mem, addr, a->size)) {
			uint64_t np = next_present(d->mem, addr + 1), n;

			if (np == UINT64_MAX || np <= addr)
				n = a->count - i;
			else
				n = (np - addr + a->size - 1) / a->size;
			if (n > a->count - i)
				n = a->count - i;
			if (!bad)
				bad_first = i;
			bad += n;
			i += n;
			continue;
		}
		if (!budget(d, a->path, addr))
			break;
		if (read_desc(d, a->s2, addr, words, a->size, &pa) < 0) {
			if (!bad)
				bad_first = i;
			bad++;
			i++;
			continue;
		}
		report_gap(d, a, bad_first, bad);
		bad = 0;
		fn(d, arg, i, pa, words);
		i++;
	}
	report_gap(d, a, bad_first, bad);
}

/* ---- context descriptors ---- */

static uint8_t mair_wb_mask(uint64_t mair)
{
	uint8_t mask = 0;

	for (unsigned i = 0; i < 8; i++)
		if (lpae_mair_attr_is_wb((uint8_t)(mair >> (8 * i))))
			mask |= 1u << i;
	return mask;
}

static unsigned effective_oas(const struct smmu_decode *d, unsigned bits,
			      unsigned granule_shift)
{
	if (d->oas && d->oas < bits)
		bits = d->oas;
	if (granule_shift != 16 && bits > 48)
		bits = 48; /* 52-bit output only with 64 KiB (no FEAT_LPA2) */
	return bits;
}

/* One TTB half of a valid AArch64 CD; true when it got an attachment. */
static bool cd_half(struct smmu_decode *d, const struct smmu_stream *st,
		    const uint64_t *cd, uint64_t cd_pa, unsigned half,
		    int64_t pasid, unsigned ips_bits, const char *path)
{
	unsigned tsz = half ? smmu_get(cd, CD_T1SZ) : smmu_get(cd, CD_T0SZ);
	unsigned tg = half ? smmu_get(cd, CD_TG1) : smmu_get(cd, CD_TG0);
	unsigned g = half ? smmu_tg1_shift(tg) : smmu_tg0_shift(tg);
	uint64_t ttb = (half ? smmu_get(cd, CD_TTB1) : smmu_get(cd, CD_TTB0)) << 4;
	bool had = half ? smmu_get(cd, CD_HAD1) : smmu_get(cd, CD_HAD0);
	unsigned tsz_min = SMMU_TSZ_MIN, tsz_max = SMMU_TSZ_MAX, oas, ias, levels;
	uint64_t flags = PT_LPAE_F_MAIR_WB(mair_wb_mask(smmu_get(cd, CD_MAIR))) |
			 PT_LPAE_F_CONTIG;
	uint64_t bytes, asid = smmu_get(cd, CD_ASID);
	char hpath[SMMU_PATH_LEN];
	struct pt_cfg cfg;
	struct errbuf err;
	int64_t domain;

	path_fmt(hpath, sizeof(hpath), "%s/ttb%u", path, half);
	if (!g || !granule_supported(d, g)) {
		finding(d, F_CD_TG, cd_pa, hpath, &st->dev, pasid,
			"tg%u=%u is %s", half, tg, g ? "a granule smmu_idr5 does not offer"
						   : "reserved");
		return false;
	}
	if (g == 16 && IDR5_VAX(d) == 1)
		tsz_min = SMMU_TSZ_MIN_52;
	if (IDR3_STT(d))
		tsz_max = SMMU_TSZ_MAX_STT;
	if (tsz < tsz_min || tsz > tsz_max) {
		finding(d, F_CD_TSZ, cd_pa, hpath, &st->dev, pasid,
			"t%usz=%u outside %u..%u", half, tsz, tsz_min, tsz_max);
		return false;
	}
	oas = effective_oas(d, ips_bits, g);
	ias = 64 - tsz;
	levels = lpae_s1_levels(ias, g);
	if (smmu_get(cd, CD_AFFD) ||
	    (smmu_get(cd, CD_HA) && IDR0_HTTU(d)))
		flags |= PT_LPAE_F_AF_NO_FAULT;
	if (had && IDR3_HAD(d))
		flags |= PT_LPAE_F_HAD;
	if (pt_cfg_init(&cfg, &pt_fmt_lpae, levels, ias, oas, g, flags, &err) < 0) {
		finding(d, F_CD_TSZ, cd_pa, hpath, &st->dev, pasid,
			"t%usz=%u with a %u KiB granule: %s", half, tsz, 1u << (g - 10), err.msg);
		return false;
	}
	if (oas < 64 && (ttb >> oas)) {
		finding(d, F_CD_TTB, cd_pa, hpath, &st->dev, pasid,
			"ttb%u 0x%llx is beyond the %u-bit output size", half,
			(unsigned long long)ttb, oas);
		return false;
	}
	bytes = 8ull << cfg.level_bits[cfg.levels - 1];
	if (bytes < 64)
		bytes = 64;
	if (ttb & (bytes - 1)) {
		finding(d, F_CD_TTB_ALIGN, cd_pa, hpath, &st->dev, pasid,
			"ttb%u 0x%llx is not aligned to its 0x%llx-byte table; walked at 0x%llx",
			half, (unsigned long long)ttb, (unsigned long long)bytes,
			(unsigned long long)(ttb & ~(bytes - 1)));
		ttb &= ~(bytes - 1);
	}
	if (!IDR0_ASID16(d))
		asid &= 0xff;
	domain = st->config == STE_CONFIG_NESTED ? ((int64_t)st->vmid << 16) | (int64_t)asid
						 : (int64_t)asid;
	attach(d, st, pasid, domain,
	       st->config == STE_CONFIG_NESTED ? ATTACH_NESTED : ATTACH_TRANSLATE,
	       &cfg, ttb, half ? 0 - (1ull << ias) : 0, hpath);
	return true;
}

/* A CD reached for @pasid.  @required: traffic without a SubstreamID
 * uses it, so an invalid CD is worth a finding. */
static void decode_cd(struct smmu_decode *d, const struct smmu_stream *st,
		      const uint64_t *cd, uint64_t cd_pa, int64_t pasid,
		      bool required, const char *path)
{
	unsigned ips = smmu_get(cd, CD_IPS), ips_bits = lpae_ps_bits(ips);
	bool any = false;

	if (!smmu_get(cd, CD_V)) {
		if (required) {
			finding(d, F_CD_NOT_VALID, cd_pa, path, &st->dev, pasid,
				"context descriptor for requests without a substream id is not valid (v=0): they abort");
			attach_simple(d, st, pasid, ATTACH_BLOCKED, path);
		}
		return;
	}
	if (!smmu_get(cd, CD_AA64)) {
		finding(d, F_CD_AA32, cd_pa, path, &st->dev, pasid,
			"aarch32 (aa64=0) translation tables are not decoded");
		return;
	}
	if (smmu_get(cd, CD_ENDI)) {
		finding(d, F_CD_ENDI, cd_pa, path, &st->dev, pasid,
			"big-endian (endi=1) translation tables are not decoded");
		return;
	}
	if (!ips_bits) {
		finding(d, F_CD_IPS, cd_pa, path, &st->dev, pasid,
			"ips=%u is reserved; taken as the smmu's output size", ips);
		ips_bits = d->oas ? d->oas : 48;
	}
	for (unsigned half = 0; half < 2 && !d->stop; half++) {
		if (half ? smmu_get(cd, CD_EPD1) : smmu_get(cd, CD_EPD0))
			continue;
		if (cd_half(d, st, cd, cd_pa, half, pasid, ips_bits, path))
			any = true;
	}
	if (!any && smmu_get(cd, CD_EPD0) && smmu_get(cd, CD_EPD1))
		attach_simple(d, st, pasid, ATTACH_BLOCKED, path);
}

struct cd_walk {
	const struct smmu_stream *st;
	unsigned s1dss;
	uint64_t ssid_base;    /* SSID of entry 0 of this (L2) table */
	const char *path;      /* table path */
};

static void visit_cd(struct smmu_decode *d, void *arg, uint64_t index,
		     uint64_t pa, const uint64_t *cd)
{
	const struct cd_walk *w = arg;
	uint64_t ssid = w->ssid_base + index;
	bool as_default = ssid == 0 && w->s1dss == STE_S1DSS_SSID0;
	char path[SMMU_PATH_LEN];

	path_fmt(path, sizeof(path), "%s[0x%llx]", w->path, (unsigned long long)index);
	/* With S1DSS=SSID0, CD 0 serves requests without a SubstreamID and
	 * SubstreamID 0 itself is illegal. */
	decode_cd(d, w->st, cd, pa, as_default ? PASID_NONE : (int64_t)ssid, as_default, path);
}

struct l1cd_walk {
	const struct smmu_stream *st;
	unsigned s1dss;
	unsigned l2_bits;
	uint64_t l2_count;
};

static void visit_l1cd(struct smmu_decode *d, void *arg, uint64_t index,
		       uint64_t pa, const uint64_t *desc)
{
	const struct l1cd_walk *w = arg;
	const struct smmu_stream *st = w->st;
	char l1path[SMMU_PATH_LEN], path[SMMU_PATH_LEN];
	uint64_t l2 = smmu_get(desc, L1CD_L2PTR) << 12;

	if (!smmu_get(desc, L1CD_V))
		return;
	path_fmt(l1path, sizeof(l1path), "%s/l1cd[0x%llx]", st->path, (unsigned long long)index);
	if (desc[0] & L1CD_RES0)
		finding(d, F_CD_L1_RESERVED, pa, l1path, &st->dev, PASID_NONE,
			"l1 cd descriptor 0x%016llx has reserved bits 0x%llx set",
			(unsigned long long)desc[0], (unsigned long long)(desc[0] & L1CD_RES0));
	path_fmt(path, sizeof(path), "%s/cd", l1path);
	{
		struct cd_walk cw = {
			.st = st, .s1dss = w->s1dss, .ssid_base = index << w->l2_bits,
			.path = path,
		};
		struct array_desc a = {
			.s2 = st->s2 && st->config == STE_CONFIG_NESTED ? st : NULL,
			.base = l2, .count = w->l2_count, .size = SMMU_CD_SIZE,
			.code = F_CD_FETCH, .what = "context descriptors",
			.path = path, .dev = &st->dev, .pasid = PASID_NONE,
		};
		walk_array(d, &a, visit_cd, &cw);
	}
}

static void decode_s1(struct smmu_decode *d, struct smmu_stream *st)
{
	const uint64_t *ste = st->ste;
	uint64_t ctx = smmu_get(ste, STE_S1CONTEXTPTR) << 6;
	unsigned fmt = smmu_get(ste, STE_S1FMT);
	unsigned cdmax = smmu_get(ste, STE_S1CDMAX);
	unsigned s1dss = smmu_get(ste, STE_S1DSS);
	unsigned ssid_max = (unsigned)IDR1_SSIDSIZE(d);
	const struct smmu_stream *s2 = st->config == STE_CONFIG_NESTED ? st : NULL;
	char path[SMMU_PATH_LEN];

	if (ssid_max > SMMU_SSID_BITS_MAX)
		ssid_max = SMMU_SSID_BITS_MAX;
	if (cdmax > ssid_max) {
		finding(d, F_STE_S1CDMAX, st->addr, st->path, &st->dev, PASID_NONE,
			"s1cdmax=%u exceeds the %u substream id bits supported", cdmax, ssid_max);
		return;
	}
	if (!s2 && d->oas && (ctx >> d->oas)) {
		finding(d, F_STE_CTXPTR, st->addr, st->path, &st->dev, PASID_NONE,
			"s1contextptr 0x%llx is beyond the %u-bit output size",
			(unsigned long long)ctx, d->oas);
		return;
	}
	if (cdmax == 0) {
		/* one CD; SubstreamIDs are illegal */
		struct cd_walk cw = { .st = st, .s1dss = STE_S1DSS_SSID0, .path = path };
		struct array_desc a = {
			.s2 = s2, .base = ctx, .count = 1, .size = SMMU_CD_SIZE,
			.code = F_CD_FETCH, .what = "context descriptors",
			.path = path, .dev = &st->dev, .pasid = PASID_NONE,
		};
		path_fmt(path, sizeof(path), "%s/cd", st->path);
		walk_array(d, &a, visit_cd, &cw);
		return;
	}
	if (fmt > STE_S1FMT_1024_L2) {
		finding(d, F_STE_S1FMT, st->addr, st->path, &st->dev, PASID_NONE,
			"s1fmt=%u is reserved", fmt);
		return;
	}
	if (fmt != STE_S1FMT_LINEAR && !IDR0_CD2L(d))
		finding(d, F_STE_CD2L, st->addr, st->path, &st->dev, PASID_NONE,
			"s1fmt=%u asks for 2-level cd tables but smmu_idr0.cd2l=0", fmt);
	if (s1dss > STE_S1DSS_SSID0) {
		finding(d, F_STE_S1DSS, st->addr, st->path, &st->dev, PASID_NONE,
			"s1dss=%u is reserved", s1dss);
		return;
	}
	if (s1dss == STE_S1DSS_TERMINATE) {
		attach_simple(d, st, PASID_NONE, ATTACH_BLOCKED, st->path);
	} else if (s1dss == STE_S1DSS_BYPASS) {
		if (st->s2) {
			attach(d, st, PASID_NONE, st->vmid, ATTACH_TRANSLATE, &st->s2cfg,
			       st->s2root, 0, st->path);
		} else {
			finding(d, F_STE_BYPASS, st->addr, st->path, &st->dev,
				PASID_NONE, "s1dss=bypass: requests without a substream id are not translated");
			attach_simple(d, st, PASID_NONE, ATTACH_PASSTHROUGH, st->path);
		}
	}
	if (fmt == STE_S1FMT_LINEAR) {
		struct cd_walk cw = { .st = st, .s1dss = s1dss, .path = path };
		struct array_desc a = {
			.s2 = s2, .base = ctx, .count = 1ull << cdmax, .size = SMMU_CD_SIZE,
			.code = F_CD_FETCH, .what = "context descriptors",
			.path = path, .dev = &st->dev, .pasid = PASID_NONE,
		};
		path_fmt(path, sizeof(path), "%s/cd", st->path);
		walk_array(d, &a, visit_cd, &cw);
	} else {
		unsigned l2_bits = STE_S1FMT_L2_BITS(fmt);
		struct l1cd_walk lw = {
			.st = st, .s1dss = s1dss,
			.l2_bits = l2_bits,
			.l2_count = 1ull << (cdmax < l2_bits ? cdmax : l2_bits),
		};
		struct array_desc a = {
			.s2 = s2, .base = ctx,
			.count = 1ull << (cdmax > l2_bits ? cdmax - l2_bits : 0),
			.size = SMMU_L1CD_SIZE,
			.code = F_CD_FETCH, .what = "l1 cd descriptors",
			.path = path, .dev = &st->dev, .pasid = PASID_NONE,
		};
		path_fmt(path, sizeof(path), "%s/l1cd", st->path);
		walk_array(d, &a, visit_l1cd, &lw);
	}
}

/* ---- stream table entries ---- */

/* Fills st->s2cfg/s2root from the STE; false (with a finding) when the
 * stage-2 configuration cannot be walked. */
static bool decode_s2(struct smmu_decode *d, struct smmu_stream *st)
{
	const uint64_t *ste = st->ste;
	unsigned tg = smmu_get(ste, STE_S2TG), g = smmu_tg0_shift(tg);
	unsigned t0sz = smmu_get(ste, STE_S2T0SZ), sl0 = smmu_get(ste, STE_S2SL0);
	unsigned ps = smmu_get(ste, STE_S2PS), oas = lpae_ps_bits(ps);
	unsigned tsz_min, tsz_max = SMMU_TSZ_MAX, levels, ias;
	uint64_t ttb = smmu_get(ste, STE_S2TTB) << 4, bytes;
	uint64_t flags = PT_LPAE_F_STAGE2 | PT_LPAE_F_CONTIG;
	struct errbuf err;

	if (!smmu_get(ste, STE_S2AA64)) {
		finding(d, F_STE_S2AA64, st->addr, st->path, &st->dev, PASID_NONE,
			"aarch32 (s2aa64=0) stage-2 tables are not decoded");
		return false;
	}
	if (smmu_get(ste, STE_S2ENDI)) {
		finding(d, F_STE_S2ENDI, st->addr, st->path, &st->dev, PASID_NONE,
			"big-endian (s2endi=1) stage-2 tables are not decoded");
		return false;
	}
	if (!g || !granule_supported(d, g)) {
		finding(d, F_STE_S2TG, st->addr, st->path, &st->dev, PASID_NONE,
			"s2tg=%u is %s", tg, g ? "a granule smmu_idr5 does not offer" : "reserved");
		return false;
	}
	if (!oas) {
		finding(d, F_STE_S2PS, st->addr, st->path, &st->dev, PASID_NONE,
			"s2ps=%u is reserved; taken as the smmu's output size", ps);
		oas = d->oas ? d->oas : 48;
	}
	oas = effective_oas(d, oas, g);
	tsz_min = (g == 16 && d->oas > 48) ? SMMU_TSZ_MIN_52 : SMMU_TSZ_MIN;
	if (IDR3_STT(d))
		tsz_max = SMMU_TSZ_MAX_STT;
	if (t0sz < tsz_min || t0sz > tsz_max) {
		finding(d, F_STE_S2T0SZ, st->addr, st->path, &st->dev, PASID_NONE,
			"s2t0sz=%u outside %u..%u", t0sz, tsz_min, tsz_max);
		return false;
	}
	ias = 64 - t0sz;
	levels = smmu_s2sl0_levels(sl0, g);
	if (!levels) {
		finding(d, F_STE_S2SL0, st->addr, st->path, &st->dev, PASID_NONE,
			"s2sl0=%u is reserved", sl0);
		return false;
	}
	if (smmu_get(ste, STE_S2AFFD) ||
	    (smmu_get(ste, STE_S2HA) && IDR0_HTTU(d)))
		flags |= PT_LPAE_F_AF_NO_FAULT;
	if (pt_cfg_init(&st->s2cfg, &pt_fmt_lpae, levels, ias, oas, g, flags, &err) < 0) {
		finding(d, F_STE_S2SL0, st->addr, st->path, &st->dev, PASID_NONE,
			"s2sl0=%u with s2t0sz=%u and a %u KiB granule: %s", sl0, t0sz,
			1u << (g - 10), err.msg);
		return false;
	}
	if (oas < 64 && (ttb >> oas)) {
		finding(d, F_STE_S2TTB, st->addr, st->path, &st->dev, PASID_NONE,
			"s2ttb 0x%llx is beyond the %u-bit output size",
			(unsigned long long)ttb, oas);
		return false;
	}
	bytes = 8ull << st->s2cfg.level_bits[st->s2cfg.levels - 1];
	if (bytes < 64)
		bytes = 64;
	if (ttb & (bytes - 1)) {
		finding(d, F_STE_S2TTB_ALIGN, st->addr, st->path, &st->dev,
			PASID_NONE, "s2ttb 0x%llx is not aligned to its 0x%llx-byte table; walked at 0x%llx",
			(unsigned long long)ttb, (unsigned long long)bytes,
			(unsigned long long)(ttb & ~(bytes - 1)));
		ttb &= ~(bytes - 1);
	}
	st->s2root = ttb;
	st->vmid = (uint16_t)smmu_get(ste, STE_S2VMID);
	if (!IDR0_VMID16(d))
		st->vmid &= 0xff;
	st->s2 = true;
	return true;
}

static const char *config_name(unsigned c)
{
	static const char *const names[] = {
		"abort", "reserved", "reserved", "reserved",
		"bypass", "stage 1", "stage 2", "nested",
	};
	return names[c & 7];
}

static void decode_ste(struct smmu_decode *d, uint32_t sid, uint64_t pa,
		       const uint64_t *words, const char *path)
{
	const struct dump_filter *f = d->ctx->filter;
	struct smmu_stream st;
	uint64_t res;
	bool known;

	memset(&st, 0, sizeof(st));
	st.sid = sid;
	st.dev = sid_dev(d, sid);
	st.addr = pa;
	memcpy(st.ste, words, sizeof(st.ste));
	path_fmt(st.path, sizeof(st.path), "%s", path);
	if (f && !dump_filter_device(f, &st.dev))
		return;
	known = dev_known(d, &st.dev);

	if (!smmu_get(st.ste, STE_V)) {
		if (known) {
			finding(d, F_STE_NOT_VALID, pa, path, &st.dev, PASID_NONE,
				"stream table entry is not valid (v=0): requests abort");
			attach_simple(d, &st, PASID_NONE, ATTACH_BLOCKED, path);
		}
		return;
	}
	res = (st.ste[0] & STE_0_RES0) | (st.ste[3] & STE_3_RES0);
	if (res)
		finding(d, F_STE_RESERVED, pa, path, &st.dev, PASID_NONE,
			"reserved bits set: word 0 0x%llx, word 3 0x%llx",
			(unsigned long long)(st.ste[0] & STE_0_RES0),
			(unsigned long long)(st.ste[3] & STE_3_RES0));
	st.config = smmu_get(st.ste, STE_CONFIG);
	switch (st.config) {
	case STE_CONFIG_ABORT:
		if (known)
			attach_simple(d, &st, PASID_NONE, ATTACH_BLOCKED, path);
		return;
	case STE_CONFIG_BYPASS:
		finding(d, F_STE_BYPASS, pa, path, &st.dev, PASID_NONE,
			"valid stream table entry bypasses translation (config=bypass)");
		attach_simple(d, &st, PASID_NONE, ATTACH_PASSTHROUGH, path);
		return;
	case STE_CONFIG_S1:
	case STE_CONFIG_S2:
	case STE_CONFIG_NESTED:
		break;
	default:
		finding(d, F_STE_CONFIG, pa, path, &st.dev, PASID_NONE,
			"config=%u is reserved: requests abort (c_bad_ste)", st.config);
		if (known)
			attach_simple(d, &st, PASID_NONE, ATTACH_BLOCKED, path);
		return;
	}
	if ((STE_CONFIG_S1_EN(st.config) && !IDR0_S1P(d)) ||
	    (STE_CONFIG_S2_EN(st.config) && !IDR0_S2P(d))) {
		finding(d, F_STE_STAGE, pa, path, &st.dev, PASID_NONE,
			"config=%s uses a stage smmu_idr0 does not implement",
			config_name(st.config));
		return;
	}
	if (STE_CONFIG_S2_EN(st.config) && !decode_s2(d, &st))
		return;
	if (st.config == STE_CONFIG_S2) {
		attach(d, &st, PASID_NONE, st.vmid, ATTACH_TRANSLATE, &st.s2cfg, st.s2root, 0, path);
		return;
	}
	decode_s1(d, &st);
}

static void visit_ste(struct smmu_decode *d, void *arg, uint64_t index,
		      uint64_t pa, const uint64_t *words)
{
	const uint64_t *sid_base = arg;
	uint64_t sid = *sid_base + index;
	char path[SMMU_PATH_LEN];

	if (d->two_level)
		path_fmt(path, sizeof(path), "l1std[0x%llx]/ste[0x%llx]",
			 (unsigned long long)(sid >> d->split),
			 (unsigned long long)(sid & ((1ull << d->split) - 1)));
	else
		path_fmt(path, sizeof(path), "strtab[0x%llx]", (unsigned long long)sid);
	decode_ste(d, (uint32_t)sid, pa, words, path);
}

/* Checks an L1 stream-table descriptor; *l2 and *count describe its L2
 * table (count 0: no L2). */
static void check_l1std(struct smmu_decode *d, uint64_t index, uint64_t pa,
			uint64_t desc, uint64_t *l2, uint64_t *count)
{
	unsigned span = smmu_get(&desc, L1STD_SPAN);
	char path[SMMU_PATH_LEN];
	uint64_t bytes;

	*count = 0;
	*l2 = smmu_get(&desc, L1STD_L2PTR) << 6;
	if (span == 0)
		return;
	path_fmt(path, sizeof(path), "l1std[0x%llx]", (unsigned long long)index);
	if (desc & L1STD_RES0)
		finding(d, F_L1STD_RESERVED, pa, path, NULL, PASID_NONE,
			"l1 descriptor 0x%016llx has reserved bits 0x%llx set",
			(unsigned long long)desc, (unsigned long long)(desc & L1STD_RES0));
	if (span > d->split + 1) {
		finding(d, F_L1STD_SPAN, pa, path, NULL, PASID_NONE,
			"span=%u is larger than split+1=%u", span, d->split + 1);
		return;
	}
	if (d->oas && (*l2 >> d->oas)) {
		finding(d, F_L1STD_L2PTR, pa, path, NULL, PASID_NONE,
			"l2ptr 0x%llx is beyond the %u-bit output size",
			(unsigned long long)*l2, d->oas);
		return;
	}
	*count = 1ull << (span - 1);
	bytes = *count * SMMU_STE_SIZE;
	if (*l2 & (bytes - 1)) {
		finding(d, F_L1STD_ALIGN, pa, path, NULL, PASID_NONE,
			"l2ptr 0x%llx is not aligned to its 0x%llx-byte table; walked at 0x%llx",
			(unsigned long long)*l2, (unsigned long long)bytes,
			(unsigned long long)(*l2 & ~(bytes - 1)));
		*l2 &= ~(bytes - 1);
	}
}

static void visit_l1std(struct smmu_decode *d, void *arg, uint64_t index,
			uint64_t pa, const uint64_t *words)
{
	uint64_t l2, count, sid_base = index << d->split;
	char path[SMMU_PATH_LEN];

	(void)arg;
	check_l1std(d, index, pa, words[0], &l2, &count);
	if (!count)
		return;
	path_fmt(path, sizeof(path), "l1std[0x%llx]/ste", (unsigned long long)index);
	{
		struct array_desc a = {
			.base = l2, .count = count, .size = SMMU_STE_SIZE,
			.code = F_STE_FETCH, .what = "stream table entries",
			.path = path, .pasid = PASID_NONE,
		};
		walk_array(d, &a, visit_ste, &sid_base);
	}
}

/* Looks up one stream ID (a device named on the command line). */
static void decode_sid(struct smmu_decode *d, uint64_t sid)
{
	uint64_t words[SMMU_STE_DWORDS], table = d->strtab, index = sid, pa;
	struct array_desc a = {
		.count = 1, .size = SMMU_STE_SIZE, .code = F_STE_FETCH,
		.what = "stream table entries", .path = "strtab", .pasid = PASID_NONE,
	};
	char path[SMMU_PATH_LEN];

	if (sid >> d->log2size)
		return; /* beyond the table: C_BAD_STREAMID, nothing to show */
	if (!budget(d, "strtab", d->strtab))
		return;
	if (d->two_level) {
		uint64_t l1 = sid >> d->split, addr = d->strtab + l1 * SMMU_L1STD_SIZE;
		uint64_t desc, count;
		struct errbuf err;

		path_fmt(path, sizeof(path), "l1std[0x%llx]", (unsigned long long)l1);
		if (physmem_read_u64(d->mem, addr, &desc, &err) < 0) {
			finding(d, F_L1STD_FETCH, addr, path, NULL, PASID_NONE,
				"%s", err.msg);
			return;
		}
		check_l1std(d, l1, addr, desc, &table, &count);
		index = sid & ((1ull << d->split) - 1);
		if (index >= count)
			return;
		path_fmt(path, sizeof(path), "l1std[0x%llx]/ste", (unsigned long long)l1);
		a.path = path;
	}
	a.base = table + index * SMMU_STE_SIZE;
	if (read_desc(d, NULL, a.base, words, SMMU_STE_SIZE, &pa) < 0) {
		a.base = table;
		report_gap(d, &a, index, 1);
		return;
	}
	visit_ste(d, &sid, 0, pa, words);
}

static int read_regs(struct smmu_decode *d, uint64_t *base, uint64_t *cfg,
		     struct errbuf *err)
{
	const struct image_unit *u = d->unit;

	if (!image_unit_reg(u, "strtab_base", base))
		return err_set(err, -EINVAL,
			       "smmuv3: register strtab_base missing from the snapshot (give --reg strtab_base=VALUE)");
	if (!image_unit_reg(u, "strtab_base_cfg", cfg))
		return err_set(err, -EINVAL,
			       "smmuv3: register strtab_base_cfg missing from the snapshot (give --reg strtab_base_cfg=VALUE)");
	d->has_idr0 = image_unit_reg(u, "idr0", &d->idr0);
	d->has_idr1 = image_unit_reg(u, "idr1", &d->idr1);
	d->has_idr3 = image_unit_reg(u, "idr3", &d->idr3);
	d->has_idr5 = image_unit_reg(u, "idr5", &d->idr5);
	if (d->has_idr5)
		d->oas = lpae_ps_bits((unsigned)IDR5(d, 2, 0, 0));
	return 0;
}

static int smmuv3_decode(struct decode_ctx *ctx, struct errbuf *err)
{
	struct smmu_decode d = { .ctx = ctx, .mem = ctx->mem, .unit = ctx->unit };
	const struct dump_filter *f = ctx->filter;
	uint64_t base, cfg, v, cr0, gbpa, bytes;
	unsigned fmt;
	int ret;

	if (!ctx->mem || !ctx->unit)
		return err_set(err, -EINVAL, "smmuv3: no memory or unit to decode");
	ret = read_regs(&d, &base, &cfg, err);
	if (ret < 0)
		return ret;
	d.max_reads = ctx->limits.max_entries ? ctx->limits.max_entries : PT_DEFAULT_MAX_ENTRIES;
	d.strtab = smmu_get(&base, STRTAB_BASE_ADDR) << 6;

	if (image_unit_reg(ctx->unit, "cr0", &cr0) && !smmu_get(&cr0, CR0_SMMUEN)) {
		bool abort = image_unit_reg(ctx->unit, "gbpa", &gbpa) && smmu_get(&gbpa, GBPA_ABORT);

		finding(&d, F_CR0_SMMUEN, d.strtab, "cr0", NULL, PASID_NONE,
			"smmu disabled (cr0.smmuen=0): the stream table is not in use, transactions %s",
			abort ? "abort (gbpa.abort=1)" : "bypass unless gbpa.abort is set");
	}
	fmt = smmu_get(&cfg, STRTAB_BASE_CFG_FMT);
	if (fmt > STRTAB_FMT_2LEVEL ||
	    (fmt == STRTAB_FMT_2LEVEL && !IDR0_ST_LEVEL(&d))) {
		finding(&d, F_STRTAB_FMT, d.strtab, "strtab_base_cfg", NULL,
			PASID_NONE, "strtab_base_cfg.fmt=%u is %s", fmt,
			fmt > STRTAB_FMT_2LEVEL ? "reserved" : "2-level, which smmu_idr0.st_level lacks");
		return d.stop < 0 && d.stop != -ECANCELED ? d.stop : 0;
	}
	d.two_level = fmt == STRTAB_FMT_2LEVEL;
	d.log2size = smmu_get(&cfg, STRTAB_BASE_CFG_LOG2SIZE);
	v = IDR1_SIDSIZE(&d);
	if (d.log2size > v) {
		finding(&d, F_STRTAB_LOG2SIZE, d.strtab, "strtab_base_cfg", NULL,
			PASID_NONE, "log2size=%u exceeds smmu_idr1.sidsize=%u; %u used",
			d.log2size, (unsigned)v, (unsigned)v);
		d.log2size = (unsigned)v;
	}
	if (d.log2size > 32) {
		finding(&d, F_STRTAB_LOG2SIZE, d.strtab, "strtab_base_cfg", NULL,
			PASID_NONE, "log2size=%u exceeds 32 stream id bits; 32 used", d.log2size);
		d.log2size = 32;
	}
	if (d.two_level) {
		d.split = smmu_get(&cfg, STRTAB_BASE_CFG_SPLIT);
		if (!SMMU_SPLIT_VALID(d.split)) {
			finding(&d, F_STRTAB_SPLIT, d.strtab, "strtab_base_cfg", NULL,
				PASID_NONE, "split=%u is reserved (6, 8 or 10)", d.split);
			return 0;
		}
		bytes = SMMU_L1STD_SIZE << (d.log2size > d.split ? d.log2size - d.split : 0);
	} else {
		bytes = (uint64_t)SMMU_STE_SIZE << d.log2size;
	}
	if (bytes < 64)
		bytes = 64;
	if (d.strtab & (bytes - 1)) {
		finding(&d, F_STRTAB_ALIGN, d.strtab, "strtab_base", NULL,
			PASID_NONE, "stream table base 0x%llx is not aligned to its 0x%llx bytes; walked at 0x%llx",
			(unsigned long long)d.strtab, (unsigned long long)bytes,
			(unsigned long long)(d.strtab & ~(bytes - 1)));
		d.strtab &= ~(bytes - 1);
	}
	if (d.oas && (d.strtab >> d.oas))
		finding(&d, F_STRTAB_ADDR, d.strtab, "strtab_base", NULL,
			PASID_NONE, "stream table base 0x%llx is beyond the %u-bit output size",
			(unsigned long long)d.strtab, d.oas);

	if (f && f->nr_devices) {
		for (size_t i = 0; i < f->nr_devices && !d.stop; i++)
			if (!f->devices[i].pci || f->devices[i].segment == ctx->unit->segment)
				decode_sid(&d, f->devices[i].id);
	} else if (d.two_level) {
		struct array_desc a = {
			.base = d.strtab, .size = SMMU_L1STD_SIZE,
			.count = 1ull << (d.log2size > d.split ? d.log2size - d.split : 0),
			.code = F_L1STD_FETCH, .what = "l1 stream table descriptors",
			.path = "l1std", .pasid = PASID_NONE,
		};
		walk_array(&d, &a, visit_l1std, NULL);
	} else {
		uint64_t sid_base = 0;
		struct array_desc a = {
			.base = d.strtab, .count = 1ull << d.log2size, .size = SMMU_STE_SIZE,
			.code = F_STE_FETCH, .what = "stream table entries",
			.path = "strtab", .pasid = PASID_NONE,
		};
		walk_array(&d, &a, visit_ste, &sid_base);
	}
	if (d.stop < 0 && d.stop != -ECANCELED)
		return err_set(err, d.stop, "smmuv3: decode stopped");
	if (d.stop == -ECANCELED)
		return err_set(err, -ECANCELED, "smmuv3: decode stopped by the output");
	return 0;
}

static const char *const smmuv3_reg_names[] = {
	"strtab_base", "strtab_base_cfg", "idr0", "idr1", "idr2", "idr3", "idr4",
	"idr5", "cr0", "gbpa", NULL,
};

const struct iommu_decoder smmuv3_decoder = {
	.kind = IOMMU_SMMUV3,
	.name = "smmuv3",
	.title = "Arm SMMUv3",
	.elf_machine = EM_AARCH64,
	.reg_names = smmuv3_reg_names,
	.decode = smmuv3_decode,
	.describe_regs = smmuv3_describe_regs,
	.synth = smmuv3_synth,
};
