/* Builds SMMUv3 tables from a synth spec's unit object: the stream table
 * (linear or 2-level), STEs, context-descriptor tables (linear or
 * 2-level), CDs and the LPAE tables of every domain (through the shared
 * codec and pt_map_range), into an arena; registers and devices go into
 * the image unit.  Values are what Linux's arm-smmu-v3 writes.  The spec
 * format is documented in iommutool-dump(1), section ARM SMMUV3.  Every
 * error names the spec element it is about. */
#include "decoders/lpae_defs.h"
#include "decoders/pt_pgsize.h"
#include "decoders/synth_json.h"
#include "decoders/smmuv3_defs.h"
#include "decoders/smmuv3_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull
#define SPEC_PATH_LEN 96

/* QEMU 7.2's SMMUv3 as a virt guest reads it (hw/arm/smmuv3.c
 * smmuv3_init_regs; tests/qemu/test-smmuv3.sh captures): IDR0 S1P, TTF
 * AArch64, COHACC, ASID16, TTENDIAN LE, STALL_MODEL 1, TERM_MODEL,
 * ST_LEVEL 2-level; IDR1 SIDSIZE 16, EVENTQS/CMDQS 19; IDR3 HAD, RIL,
 * BBML 2; IDR5 GRAN4K, GRAN16K, GRAN64K, OAS 44 bits. */
#define QEMU_IDR0   0x0d40101aull
#define QEMU_IDR1   0x02730010ull
#define QEMU_IDR3   0x00001404ull
#define QEMU_IDR5   0x00000074ull
#define IDR0_S2P    (1ull << 0)
#define IDR0_VMID16 (1ull << 18)
#define IDR0_CD2L   (1ull << 19)
#define IDR1_SSIDSIZE_SHIFT 6
#define IDR5_GRAN16K (1ull << 5)
#define IDR5_VAX_52  (1ull << 10) /* VAX = 1: 52-bit stage-1 input */
/* Linux arm_smmu_device_reset: SMMUEN | EVTQEN | CMDQEN */
#define LINUX_CR0   0xdull
/* Linux writes STRTAB_BASE with RA (read-allocate hint) */
#define STRTAB_BASE_RA_BIT (1ull << 62)
/* CD / STE cacheability and shareability Linux programs */
#define CACHE_WBWA  1 /* IR/OR: write-back read/write-allocate */
#define SH_ISH      3
#define STE_SHCFG_INCOMING 1

struct synth_domain {
	uint32_t id;
	unsigned stage;
	bool ttb1;
	uint64_t iova_base;   /* ttb1: 2^64 - 2^ias */
	bool nest_identity;   /* a nested STE uses it as stage 2 */
	struct pt_cfg cfg;
	struct pt_mapper mapper;
};

struct synth {
	struct arena *arena;
	struct errbuf *err;
	uint16_t segment;
	bool two_level;
	unsigned log2size, split, oas;
	uint64_t idr0, idr1, idr3, idr5, cr0;
	bool user_idr0, user_idr1, user_idr5;
	uint64_t strtab;
	struct synth_domain *domains;
	size_t nr_domains;
	uint32_t *sids;       /* streams already placed */
	size_t nr_sids;
};

/* ---- spec helpers (same conventions as the other units' synth) ---- */

static int spec_range(struct synth *s, const struct json_object *v, const char *path,
		      uint64_t min, uint64_t max, uint64_t *out)
{
	int rc = spec_u64(s->err, v, path, out);

	if (rc < 0)
		return rc;
	if (*out < min || *out > max)
		return err_set(s->err, -EINVAL, "%s: %" PRIu64 " outside %" PRIu64 "..%" PRIu64,
			       path, *out, min, max);
	return 0;
}

static int spec_bool(struct synth *s, const struct json_object *v, const char *path,
		     bool *out)
{
	if (!v || !json_object_is_type(v, json_type_boolean))
		return err_set(s->err, -EINVAL, "%s: expected true or false", path);
	*out = json_object_get_boolean(v);
	return 0;
}

/* ---- arena helpers ---- */

/* A naturally aligned run of zeroed pages of @bytes (a power of two).
 * The arena hands out pages in address order, so the run is found a few
 * pages after the next aligned one; pages taken on the way are given back
 * afterwards and reused by later tables. */
static int alloc_table(struct synth *s, uint64_t bytes, const char *what, uint64_t *out)
{
	uint64_t need = bytes <= PAGE ? 1 : bytes / PAGE, *got, start = 0, have = 0;
	size_t n = 0, cap = need * 2 + 64;
	int rc = 0;

	got = calloc(cap, sizeof(*got));
	if (!got)
		return err_set(s->err, -ENOMEM, "out of memory for the %s", what);
	*out = 0;
	while (!*out) {
		uint64_t pa;

		if (n == cap) {
			rc = err_set(s->err, -ENOMEM,
				     "no aligned 0x%" PRIx64 "-byte run for the %s in the arena",
				     bytes, what);
			break;
		}
		pa = arena_alloc_page(s->arena);
		if (!pa) {
			rc = err_set(s->err, -ENOMEM,
				     "out of table memory for the %s (arena exhausted)", what);
			break;
		}
		got[n++] = pa;
		if (start && pa == start + have * PAGE) {
			have++;
		} else if ((pa & (need * PAGE - 1)) == 0) {
			start = pa;
			have = 1;
		} else {
			start = 0;
		}
		if (start && have == need)
			*out = start;
	}
	for (size_t k = 0; k < n; k++)
		if (!*out || got[k] < *out || got[k] >= *out + need * PAGE)
			arena_free_page(s->arena, got[k]);
	free(got);
	return rc;
}

static uint64_t *word_at(struct synth *s, uint64_t pa)
{
	uint8_t *page = arena_page(s->arena, pa & ~(PAGE - 1));

	return page ? (uint64_t *)(page + (pa & (PAGE - 1))) : NULL;
}

/* Writes @n 64-bit words at @pa (never crossing a page: descriptors are
 * 8 or 64 bytes, naturally aligned). */
static int put_words(struct synth *s, uint64_t pa, const uint64_t *w, unsigned n)
{
	uint64_t *q = word_at(s, pa);

	if (!q)
		return err_set(s->err, -EFAULT, "table address 0x%" PRIx64 " is not in the arena", pa);
	memcpy(q, w, n * sizeof(*w));
	return 0;
}

static uint64_t get_word(struct synth *s, uint64_t pa)
{
	uint64_t *q = word_at(s, pa);

	return q ? *q : 0;
}

/* ---- registers ---- */

static unsigned ps_encode(unsigned bits)
{
	for (unsigned ps = 0; ps < 7; ps++)
		if (lpae_ps_bits(ps) >= bits)
			return ps;
	return 6;
}

static int synth_regs(struct synth *s, const struct json_object *spec)
{
	static const char *const members[] = { "idr0", "idr1", "idr3", "idr5", "cr0", NULL };
	struct json_object *regs = spec_member(spec, "regs"), *v;
	uint64_t oas = 44;
	int rc;

	if ((v = spec_member(spec, "oas")) && (rc = spec_u64(s->err, v, "oas", &oas)) < 0)
		return rc;
	if (oas != 32 && oas != 36 && oas != 40 && oas != 42 && oas != 44 && oas != 48 &&
	    oas != 52)
		return err_set(s->err, -EINVAL, "oas: %" PRIu64 " is not 32, 36, 40, 42, 44, 48 or 52",
			       oas);
	s->oas = (unsigned)oas;
	s->idr0 = QEMU_IDR0;
	s->idr1 = QEMU_IDR1;
	s->idr3 = QEMU_IDR3;
	s->idr5 = (QEMU_IDR5 & ~7ull) | ps_encode(s->oas);
	s->cr0 = LINUX_CR0;
	if (!regs)
		return 0;
	if ((rc = spec_need_type(s->err, regs, json_type_object, "regs", "an object")) < 0 ||
	    (rc = spec_check_members(s->err, regs, "regs", members)) < 0)
		return rc;
	if ((v = spec_member(regs, "idr0"))) {
		if ((rc = spec_range(s, v, "regs.idr0", 0, UINT32_MAX, &s->idr0)) < 0)
			return rc;
		s->user_idr0 = true;
	}
	if ((v = spec_member(regs, "idr1"))) {
		if ((rc = spec_range(s, v, "regs.idr1", 0, UINT32_MAX, &s->idr1)) < 0)
			return rc;
		s->user_idr1 = true;
	}
	if ((v = spec_member(regs, "idr3")) &&
	    (rc = spec_range(s, v, "regs.idr3", 0, UINT32_MAX, &s->idr3)) < 0)
		return rc;
	if ((v = spec_member(regs, "idr5"))) {
		if ((rc = spec_range(s, v, "regs.idr5", 0, UINT32_MAX, &s->idr5)) < 0)
			return rc;
		s->user_idr5 = true;
	}
	if ((v = spec_member(regs, "cr0")) &&
	    (rc = spec_range(s, v, "regs.cr0", 0, UINT32_MAX, &s->cr0)) < 0)
		return rc;
	return 0;
}

/* ---- domains ---- */

static const char *const granule_names[] = { "4K", "16K", "64K", NULL };

static struct synth_domain *find_domain(struct synth *s, uint64_t id)
{
	for (size_t i = 0; i < s->nr_domains; i++)
		if (s->domains[i].id == id)
			return &s->domains[i];
	return NULL;
}

/* "r", "w", "x", "u" (unprivileged), "s" (cacheable, IOMMU_CACHE) in any
 * order; a missing letter clears that permission. */
static int spec_perm(struct synth *s, const struct json_object *v, const char *path,
		     uint32_t *perm)
{
	const char *p;

	if (!v || !json_object_is_type(v, json_type_string))
		return err_set(s->err, -EINVAL, "%s: expected a string of r, w, x, u, s", path);
	*perm = 0;
	for (p = json_object_get_string((struct json_object *)v); *p; p++) {
		uint32_t bit = *p == 'r' ? PERM_R : *p == 'w' ? PERM_W : *p == 'x' ? PERM_X :
			       *p == 'u' ? PERM_U : *p == 's' ? PERM_SNP : 0;

		if (!bit || (*perm & bit))
			return err_set(s->err, -EINVAL, "%s: \"%s\" is not a set of r, w, x, u, s",
				       path, json_object_get_string((struct json_object *)v));
		*perm |= bit;
	}
	return 0;
}

static int synth_mapping(struct synth *s, struct synth_domain *d,
			 const struct json_object *m, const char *path)
{
	static const char *const members[] = { "iova", "phys", "size", "perm", NULL };
	char p[SPEC_PATH_LEN + 8];
	uint64_t iova, phys, size, mapped = 0, gran = 1ull << d->cfg.granule_shift;
	uint32_t perm = PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP;
	struct errbuf perr;
	int rc;

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
		if ((rc = spec_perm(s, spec_member(m, "perm"), p, &perm)) < 0)
			return rc;
		if (!(perm & (PERM_R | PERM_W)))
			return err_set(s->err, -EINVAL, "%s: neither r nor w: nothing to map", p);
		if (d->stage == 1 && !(perm & PERM_R))
			return err_set(s->err, -EINVAL, "%s: stage-1 tables cannot map write-only", p);
	}
	if (!size || (iova | phys | size) & (gran - 1))
		return err_set(s->err, -EINVAL,
			       "%s: iova, phys and size must be non-zero multiples of the 0x%" PRIx64
			       "-byte granule", path, gran);
	if (iova < d->iova_base)
		return err_set(s->err, -EINVAL, "%s: iova 0x%" PRIx64 " is below the ttb1 range at 0x%"
			       PRIx64, path, iova, d->iova_base);
	iova -= d->iova_base;
	if (iova + size - 1 < iova || ((iova + size - 1) >> d->cfg.ias))
		return err_set(s->err, -EINVAL,
			       "%s: iova range exceeds the domain's %u-bit input size", path, d->cfg.ias);
	if (phys + size - 1 < phys || ((phys + size - 1) >> d->cfg.oas))
		return err_set(s->err, -EINVAL,
			       "%s: phys range exceeds the domain's %u-bit output size", path,
			       d->cfg.oas);
	rc = pt_map_range(&d->mapper, iova, phys, size, perm, &mapped, &perr);
	if (rc == -EEXIST)
		return err_set(s->err, rc, "%s: overlaps an earlier mapping of domain %u", path, d->id);
	if (rc < 0)
		return err_set(s->err, rc, "%s: %s", path, perr.msg);
	return 0;
}

static int synth_domain(struct synth *s, const struct json_object *obj,
			struct synth_domain *d, const char *path)
{
	static const char *const members[] = {
		"id", "stage", "granule", "ias", "oas", "levels", "ttb1", "contiguous",
		"mappings", NULL,
	};
	static const unsigned granule_shift[] = { 12, 14, 16 };
	struct json_object *v;
	char p[SPEC_PATH_LEN + 24];
	uint64_t id, stage = 1, ias, oas = s->oas, levels = 0, flags = 0;
	unsigned g = 12;
	bool contiguous = false;
	struct errbuf perr;
	int rc;

	if ((rc = spec_need_type(s->err, obj, json_type_object, path, "an object")) < 0 ||
	    (rc = spec_check_members(s->err, obj, path, members)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.id", path);
	if ((rc = spec_range(s, spec_member(obj, "id"), p, 0, 0xffff, &id)) < 0)
		return rc;
	if (find_domain(s, id))
		return err_set(s->err, -EINVAL, "%s: domain %" PRIu64 " defined twice", p, id);
	d->id = (uint32_t)id;
	spec_path_fmt(p, sizeof(p), "%s.stage", path);
	if ((v = spec_member(obj, "stage")) && (rc = spec_range(s, v, p, 1, 2, &stage)) < 0)
		return rc;
	d->stage = (unsigned)stage;
	if ((v = spec_member(obj, "granule"))) {
		spec_path_fmt(p, sizeof(p), "%s.granule", path);
		if ((rc = spec_enum(s->err, v, p, granule_names)) < 0)
			return rc;
		g = granule_shift[rc];
	}
	spec_path_fmt(p, sizeof(p), "%s.oas", path);
	if ((v = spec_member(obj, "oas")) && (rc = spec_range(s, v, p, 32, s->oas, &oas)) < 0)
		return rc;
	if (g != 16 && oas > 48)
		oas = 48;
	ias = d->stage == 1 ? 48 : oas;
	if (g == 16 && d->stage == 1 && s->oas > 48)
		ias = 52;
	spec_path_fmt(p, sizeof(p), "%s.ias", path);
	if ((v = spec_member(obj, "ias")) && (rc = spec_range(s, v, p, 16, 52, &ias)) < 0)
		return rc;
	spec_path_fmt(p, sizeof(p), "%s.levels", path);
	if ((v = spec_member(obj, "levels"))) {
		if (d->stage == 1)
			return err_set(s->err, -EINVAL,
				       "%s: stage-1 levels follow from ias and granule", p);
		if ((rc = spec_range(s, v, p, 1, 4, &levels)) < 0)
			return rc;
	}
	spec_path_fmt(p, sizeof(p), "%s.ttb1", path);
	if ((v = spec_member(obj, "ttb1")) && (rc = spec_bool(s, v, p, &d->ttb1)) < 0)
		return rc;
	if (d->ttb1 && d->stage != 1)
		return err_set(s->err, -EINVAL, "%s: only stage-1 domains have a ttb1", p);
	spec_path_fmt(p, sizeof(p), "%s.contiguous", path);
	if ((v = spec_member(obj, "contiguous")) && (rc = spec_bool(s, v, p, &contiguous)) < 0)
		return rc;

	if (d->stage == 2) {
		flags |= PT_LPAE_F_STAGE2;
		if (!levels)
			levels = lpae_s2_linux_levels((unsigned)ias, g);
		if (!smmu_s2sl0_levels(smmu_s2sl0_encode((unsigned)levels, g), g) ||
		    (g == 12 && levels < 2))
			return err_set(s->err, -EINVAL, "%s.levels: %" PRIu64
				       " levels cannot be expressed in s2sl0 with a %u KiB granule",
				       path, levels, 1u << (g - 10));
	} else {
		levels = lpae_s1_levels((unsigned)ias, g);
	}
	if (contiguous)
		flags |= PT_LPAE_F_CONTIG;
	if (pt_cfg_init(&d->cfg, &pt_fmt_lpae, (unsigned)levels, (unsigned)ias,
			(unsigned)oas, g, flags, &perr) < 0)
		return err_set(s->err, -EINVAL, "%s: %s", path, perr.msg);
	if (d->ttb1)
		d->iova_base = 0 - (1ull << ias);
	if (g == 14 && !s->user_idr5)
		s->idr5 |= IDR5_GRAN16K;
	if (d->stage == 1 && ias > 48 && !s->user_idr5)
		s->idr5 |= IDR5_VAX_52;
	if ((rc = pt_mapper_init(&d->mapper, &d->cfg, s->arena, &perr)) < 0)
		return err_set(s->err, rc, "%s: %s", path, perr.msg);
	if ((v = spec_member(obj, "mappings"))) {
		spec_path_fmt(p, sizeof(p), "%s.mappings", path);
		if ((rc = spec_need_type(s->err, v, json_type_array, p, "an array")) < 0)
			return rc;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			spec_path_fmt(p, sizeof(p), "%s.mappings[%zu]", path, i);
			if ((rc = synth_mapping(s, d, json_object_array_get_idx(v, i), p)) < 0)
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
				       &s->domains[s->nr_domains], p)) < 0)
			return rc;
		s->nr_domains++;
	}
	return 0;
}

/* ---- context descriptors ---- */

/* The CD Linux's arm_smmu_write_ctx_desc writes for a stage-1 domain. */
static void make_cd(const struct synth_domain *d, uint64_t cd[SMMU_CD_DWORDS])
{
	unsigned g = d->cfg.granule_shift, tsz = 64 - d->cfg.ias;
	uint64_t root = d->mapper.root;

	memset(cd, 0, SMMU_CD_DWORDS * sizeof(*cd));
	if (d->ttb1) {
		smmu_set(cd, CD_T1SZ, tsz);
		smmu_set(cd, CD_TG1, smmu_tg1_encode(g));
		smmu_set(cd, CD_IR1, CACHE_WBWA);
		smmu_set(cd, CD_OR1, CACHE_WBWA);
		smmu_set(cd, CD_SH1, SH_ISH);
		smmu_set(cd, CD_EPD0, 1);
		smmu_set(cd, CD_TTB1, root >> 4);
	} else {
		smmu_set(cd, CD_T0SZ, tsz);
		smmu_set(cd, CD_TG0, smmu_tg0_encode(g));
		smmu_set(cd, CD_IR0, CACHE_WBWA);
		smmu_set(cd, CD_OR0, CACHE_WBWA);
		smmu_set(cd, CD_SH0, SH_ISH);
		smmu_set(cd, CD_EPD1, 1);
		smmu_set(cd, CD_TTB0, root >> 4);
	}
	smmu_set(cd, CD_V, 1);
	smmu_set(cd, CD_IPS, ps_encode(d->cfg.oas));
	smmu_set(cd, CD_AA64, 1);
	smmu_set(cd, CD_R, 1);
	smmu_set(cd, CD_A, 1);
	smmu_set(cd, CD_ASET, 1);
	smmu_set(cd, CD_ASID, d->id);
	smmu_set(cd, CD_MAIR, LPAE_MAIR_LINUX);
}

struct synth_cdtab {
	unsigned fmt;          /* STE.S1Fmt */
	unsigned ssid_bits;    /* STE.S1CDMax */
	uint64_t base;         /* linear table or L1 table */
};

/* Address of the CD for @ssid, allocating a 2-level leaf table. */
static int cd_slot(struct synth *s, const struct synth_cdtab *t, uint64_t ssid,
		   const char *path, uint64_t *pa)
{
	unsigned l2_bits;
	uint64_t l1, desc, l2;
	int rc;

	if (t->fmt == STE_S1FMT_LINEAR) {
		*pa = t->base + ssid * SMMU_CD_SIZE;
		return 0;
	}
	l2_bits = STE_S1FMT_L2_BITS(t->fmt);
	l1 = t->base + (ssid >> l2_bits) * SMMU_L1CD_SIZE;
	desc = get_word(s, l1);
	if (!smmu_get(&desc, L1CD_V)) {
		uint64_t entries = 1ull << (t->ssid_bits < l2_bits ? t->ssid_bits : l2_bits);

		if ((rc = alloc_table(s, entries * SMMU_CD_SIZE, "cd leaf table", &l2)) < 0)
			return err_prefix(s->err, rc, "%s", path);
		desc = 0;
		smmu_set(&desc, L1CD_V, 1);
		smmu_set(&desc, L1CD_L2PTR, l2 >> 12);
		if ((rc = put_words(s, l1, &desc, 1)) < 0)
			return rc;
	}
	*pa = (smmu_get(&desc, L1CD_L2PTR) << 12) +
	      (ssid & ((1ull << l2_bits) - 1)) * SMMU_CD_SIZE;
	return 0;
}

static int cdtab_alloc(struct synth *s, struct synth_cdtab *t, const char *path)
{
	uint64_t bytes;

	if (t->fmt == STE_S1FMT_LINEAR) {
		bytes = SMMU_CD_SIZE << t->ssid_bits;
	} else {
		unsigned l2_bits = STE_S1FMT_L2_BITS(t->fmt);

		bytes = SMMU_L1CD_SIZE << (t->ssid_bits > l2_bits ? t->ssid_bits - l2_bits : 0);
		if (!(s->idr0 & IDR0_CD2L) && !s->user_idr0)
			s->idr0 |= IDR0_CD2L;
	}
	return alloc_table(s, bytes < SMMU_CD_SIZE ? SMMU_CD_SIZE : bytes, path, &t->base);
}

/* ---- stream table ---- */

/* The stream table; a linear one starts with every STE aborting, as
 * Linux's arm_smmu_init_strtab_linear leaves it. */
static int strtab_alloc(struct synth *s)
{
	uint64_t bytes = s->two_level
		? SMMU_L1STD_SIZE << (s->log2size > s->split ? s->log2size - s->split : 0)
		: (uint64_t)SMMU_STE_SIZE << s->log2size;
	uint64_t abort_ste[SMMU_STE_DWORDS] = { 0 };
	int rc;

	if ((rc = alloc_table(s, bytes < 64 ? 64 : bytes, "stream table", &s->strtab)) < 0 ||
	    s->two_level)
		return rc;
	smmu_set(abort_ste, STE_V, 1);
	smmu_set(abort_ste, STE_CONFIG, STE_CONFIG_ABORT);
	for (uint64_t i = 0; i < (1ull << s->log2size) && rc == 0; i++)
		rc = put_words(s, s->strtab + i * SMMU_STE_SIZE, abort_ste, SMMU_STE_DWORDS);
	return rc;
}

/* Address of the STE for @sid, allocating its L2 table (every STE of a
 * new leaf aborts, as arm_smmu_init_l2_strtab writes it). */
static int ste_slot(struct synth *s, uint32_t sid, const char *path, uint64_t *pa)
{
	uint64_t l1, desc, l2, count = 1ull << s->split;
	int rc;

	if (!s->two_level) {
		*pa = s->strtab + (uint64_t)sid * SMMU_STE_SIZE;
		return 0;
	}
	l1 = s->strtab + ((uint64_t)sid >> s->split) * SMMU_L1STD_SIZE;
	desc = get_word(s, l1);
	if (!smmu_get(&desc, L1STD_SPAN)) {
		uint64_t abort_ste[SMMU_STE_DWORDS] = { 0 };

		if ((rc = alloc_table(s, count * SMMU_STE_SIZE, "stream table leaf", &l2)) < 0)
			return err_prefix(s->err, rc, "%s", path);
		smmu_set(abort_ste, STE_V, 1);
		smmu_set(abort_ste, STE_CONFIG, STE_CONFIG_ABORT);
		for (uint64_t i = 0; i < count; i++)
			if ((rc = put_words(s, l2 + i * SMMU_STE_SIZE, abort_ste,
					    SMMU_STE_DWORDS)) < 0)
				return rc;
		desc = 0;
		smmu_set(&desc, L1STD_SPAN, s->split + 1);
		smmu_set(&desc, L1STD_L2PTR, l2 >> 6);
		if ((rc = put_words(s, l1, &desc, 1)) < 0)
			return rc;
	}
	*pa = (smmu_get(&desc, L1STD_L2PTR) << 6) +
	      ((uint64_t)sid & (count - 1)) * SMMU_STE_SIZE;
	return 0;
}

static void ste_s2(const struct synth_domain *d, uint64_t ste[SMMU_STE_DWORDS])
{
	smmu_set(ste, STE_S2VMID, d->id);
	smmu_set(ste, STE_S2T0SZ, 64 - d->cfg.ias);
	smmu_set(ste, STE_S2SL0, smmu_s2sl0_encode(d->cfg.levels, d->cfg.granule_shift));
	smmu_set(ste, STE_S2IR0, CACHE_WBWA);
	smmu_set(ste, STE_S2OR0, CACHE_WBWA);
	smmu_set(ste, STE_S2SH0, SH_ISH);
	smmu_set(ste, STE_S2TG, smmu_tg0_encode(d->cfg.granule_shift));
	smmu_set(ste, STE_S2PS, ps_encode(d->cfg.oas));
	smmu_set(ste, STE_S2AA64, 1);
	smmu_set(ste, STE_S2R, 1);
	smmu_set(ste, STE_S2TTB, d->mapper.root >> 4);
}

/* ---- devices ---- */

static const char *const translation_names[] = {
	"translated", "bypass", "abort", "invalid", NULL,
};
enum { TR_TRANSLATED, TR_BYPASS, TR_ABORT, TR_INVALID };
static const char *const cdtab_names[] = { "linear", "2-level-4K", "2-level-64K", NULL };
static const char *const s1dss_names[] = { "terminate", "bypass", "ssid0", NULL };

static int domain_ref(struct synth *s, const struct json_object *v, const char *path,
		      unsigned stage, struct synth_domain **out)
{
	uint64_t id;
	int rc;

	if ((rc = spec_u64(s->err, v, path, &id)) < 0)
		return rc;
	*out = find_domain(s, id);
	if (!*out)
		return err_set(s->err, -EINVAL, "%s: no domain %" PRIu64, path, id);
	if (stage && (*out)->stage != stage)
		return err_set(s->err, -EINVAL, "%s: domain %" PRIu64 " is not a stage-%u domain",
			       path, id, stage);
	return 0;
}

static int device_sid(struct synth *s, const struct json_object *obj, const char *path,
		      struct image_device *dev)
{
	struct json_object *v;
	char p[SPEC_PATH_LEN + 8];
	struct dev_ref ref;
	uint64_t sid;
	int rc;

	memset(dev, 0, sizeof(*dev));
	dev->segment = s->segment;
	if ((v = spec_member(obj, "bdf"))) {
		spec_path_fmt(p, sizeof(p), "%s.bdf", path);
		if (spec_member(obj, "sid"))
			return err_set(s->err, -EINVAL, "%s: give bdf or sid, not both", path);
		if (!json_object_is_type(v, json_type_string) ||
		    !dev_ref_parse_bdf(json_object_get_string(v), &ref))
			return err_set(s->err, -EINVAL, "%s: expected \"bb:dd.f\" or \"dddd:bb:dd.f\"", p);
		if (ref.segment != s->segment)
			return err_set(s->err, -EINVAL, "%s: segment %04x is not the unit's %04x",
				       p, ref.segment, s->segment);
		dev->id = ref.id;
		dev->pci = true;
	} else {
		spec_path_fmt(p, sizeof(p), "%s.sid", path);
		if ((rc = spec_range(s, spec_member(obj, "sid"), p, 0, UINT32_MAX, &sid)) < 0)
			return rc;
		dev->id = (uint32_t)sid;
		dev->pci = false;
	}
	if (s->log2size < 32 && (dev->id >> s->log2size))
		return err_set(s->err, -EINVAL, "%s: stream id 0x%x beyond the %u-bit stream table",
			       path, dev->id, s->log2size);
	for (size_t i = 0; i < s->nr_sids; i++)
		if (s->sids[i] == dev->id)
			return err_set(s->err, -EINVAL, "%s: stream id 0x%x placed twice", path, dev->id);
	s->sids[s->nr_sids++] = dev->id;
	if ((v = spec_member(obj, "name"))) {
		if (!json_object_is_type(v, json_type_string))
			return err_set(s->err, -EINVAL, "%s.name: expected a string", path);
		snprintf(dev->name, sizeof(dev->name), "%s", json_object_get_string(v));
	}
	return 0;
}

static int write_cd(struct synth *s, const struct synth_cdtab *t, uint64_t ssid,
		    const struct synth_domain *d, const char *path)
{
	uint64_t cd[SMMU_CD_DWORDS], pa = 0;
	int rc;

	if ((rc = cd_slot(s, t, ssid, path, &pa)) < 0)
		return rc;
	if (smmu_get(&(uint64_t){ get_word(s, pa) }, CD_V))
		return err_set(s->err, -EINVAL, "%s: substream %" PRIu64 " given twice", path, ssid);
	make_cd(d, cd);
	return put_words(s, pa, cd, SMMU_CD_DWORDS);
}

/* Stage-1 part of a translated STE: CD table, CDs for the default
 * substream and every listed PASID. */
static int synth_s1(struct synth *s, const struct json_object *obj, const char *path,
		    struct synth_domain *d, uint64_t ste[SMMU_STE_DWORDS])
{
	struct json_object *v, *pasids = spec_member(obj, "pasids");
	struct synth_cdtab t = { .fmt = STE_S1FMT_LINEAR };
	char p[SPEC_PATH_LEN + 24];
	uint64_t bits = 0, s1dss = STE_S1DSS_SSID0, max = 0;
	int rc;

	if (pasids) {
		spec_path_fmt(p, sizeof(p), "%s.pasids", path);
		if ((rc = spec_need_type(s->err, pasids, json_type_array, p, "an array")) < 0)
			return rc;
		for (size_t i = 0; i < json_object_array_length(pasids); i++) {
			struct json_object *e = json_object_array_get_idx(pasids, i), *pv;
			uint64_t pasid;

			spec_path_fmt(p, sizeof(p), "%s.pasids[%zu]", path, i);
			if ((rc = spec_need_type(s->err, e, json_type_object, p, "an object")) < 0)
				return rc;
			pv = spec_member(e, "pasid");
			spec_path_fmt(p, sizeof(p), "%s.pasids[%zu].pasid", path, i);
			if ((rc = spec_range(s, pv, p, 0, (1u << SMMU_SSID_BITS_MAX) - 1, &pasid)) < 0)
				return rc;
			if (pasid > max)
				max = pasid;
		}
		while ((1ull << bits) <= max)
			bits++;
	}
	spec_path_fmt(p, sizeof(p), "%s.ssid-bits", path);
	if ((v = spec_member(obj, "ssid-bits"))) {
		uint64_t want;

		if ((rc = spec_range(s, v, p, 0, SMMU_SSID_BITS_MAX, &want)) < 0)
			return rc;
		if (pasids && want < bits)
			return err_set(s->err, -EINVAL, "%s: %" PRIu64 " bits cannot hold pasid %" PRIu64,
				       p, want, max);
		bits = want;
	}
	t.ssid_bits = (unsigned)bits;
	if ((v = spec_member(obj, "cd-table"))) {
		spec_path_fmt(p, sizeof(p), "%s.cd-table", path);
		if ((rc = spec_enum(s->err, v, p, cdtab_names)) < 0)
			return rc;
		t.fmt = (unsigned)rc;
		if (t.fmt != STE_S1FMT_LINEAR && !bits)
			return err_set(s->err, -EINVAL, "%s: a 2-level cd table needs ssid-bits", p);
	}
	if ((v = spec_member(obj, "s1dss"))) {
		spec_path_fmt(p, sizeof(p), "%s.s1dss", path);
		if ((rc = spec_enum(s->err, v, p, s1dss_names)) < 0)
			return rc;
		s1dss = (uint64_t)rc;
	}
	if (bits && !s->user_idr1 &&
	    ((s->idr1 >> IDR1_SSIDSIZE_SHIFT) & 0x1f) < bits)
		s->idr1 = (s->idr1 & ~(0x1full << IDR1_SSIDSIZE_SHIFT)) | bits << IDR1_SSIDSIZE_SHIFT;
	spec_path_fmt(p, sizeof(p), "%s cd table", path);
	if ((rc = cdtab_alloc(s, &t, p)) < 0)
		return rc;
	/* the default substream: CD 0 unless S1DSS says otherwise */
	if (!bits || s1dss == STE_S1DSS_SSID0) {
		if ((rc = write_cd(s, &t, 0, d, path)) < 0)
			return rc;
	}
	for (size_t i = 0; pasids && i < json_object_array_length(pasids); i++) {
		static const char *const members[] = { "pasid", "domain", NULL };
		struct json_object *e = json_object_array_get_idx(pasids, i);
		struct synth_domain *pd;
		uint64_t pasid;

		spec_path_fmt(p, sizeof(p), "%s.pasids[%zu]", path, i);
		if ((rc = spec_check_members(s->err, e, p, members)) < 0)
			return rc;
		spec_u64(s->err, spec_member(e, "pasid"), p, &pasid);
		if (pasid == 0 && s1dss == STE_S1DSS_SSID0)
			return err_set(s->err, -EINVAL, "%s: pasid 0 is the default substream with s1dss ssid0",
				       p);
		spec_path_fmt(p, sizeof(p), "%s.pasids[%zu].domain", path, i);
		if ((rc = domain_ref(s, spec_member(e, "domain"), p, 1, &pd)) < 0)
			return rc;
		spec_path_fmt(p, sizeof(p), "%s.pasids[%zu]", path, i);
		if ((rc = write_cd(s, &t, pasid, pd, p)) < 0)
			return rc;
	}
	smmu_set(ste, STE_S1FMT, bits ? t.fmt : STE_S1FMT_LINEAR);
	smmu_set(ste, STE_S1CONTEXTPTR, t.base >> 6);
	smmu_set(ste, STE_S1CDMAX, bits);
	smmu_set(ste, STE_S1DSS, bits ? s1dss : 0);
	smmu_set(ste, STE_S1CIR, CACHE_WBWA);
	smmu_set(ste, STE_S1COR, CACHE_WBWA);
	smmu_set(ste, STE_S1CSH, SH_ISH);
	return 0;
}

static int synth_device(struct synth *s, const struct json_object *obj, const char *path,
			struct image_unit *unit)
{
	static const char *const members[] = {
		"bdf", "sid", "name", "translation", "domain", "s2-domain", "cd-table",
		"ssid-bits", "s1dss", "pasids", NULL,
	};
	uint64_t ste[SMMU_STE_DWORDS] = { 0 }, pa = 0;
	struct synth_domain *d = NULL, *s2 = NULL;
	struct image_device dev;
	struct json_object *v;
	char p[SPEC_PATH_LEN + 24];
	int rc, tr = TR_TRANSLATED;

	if ((rc = spec_need_type(s->err, obj, json_type_object, path, "an object")) < 0 ||
	    (rc = spec_check_members(s->err, obj, path, members)) < 0 ||
	    (rc = device_sid(s, obj, path, &dev)) < 0)
		return rc;
	if ((v = spec_member(obj, "translation"))) {
		spec_path_fmt(p, sizeof(p), "%s.translation", path);
		if ((tr = spec_enum(s->err, v, p, translation_names)) < 0)
			return tr;
	}
	if (tr == TR_TRANSLATED) {
		spec_path_fmt(p, sizeof(p), "%s.domain", path);
		if (!spec_member(obj, "domain"))
			return err_set(s->err, -EINVAL, "%s: a translated device needs a domain", p);
		if ((rc = domain_ref(s, spec_member(obj, "domain"), p, 0, &d)) < 0)
			return rc;
		if ((v = spec_member(obj, "s2-domain"))) {
			spec_path_fmt(p, sizeof(p), "%s.s2-domain", path);
			if (d->stage != 1)
				return err_set(s->err, -EINVAL,
					       "%s: nesting needs a stage-1 domain in domain", p);
			if ((rc = domain_ref(s, v, p, 2, &s2)) < 0)
				return rc;
		}
	} else {
		static const char *const only_translated[] = {
			"domain", "s2-domain", "cd-table", "ssid-bits", "s1dss", "pasids", NULL,
		};
		for (int i = 0; only_translated[i]; i++)
			if (spec_member(obj, only_translated[i]))
				return err_set(s->err, -EINVAL, "%s.%s: only for translated devices",
					       path, only_translated[i]);
	}
	if (d && d->stage == 2) {
		static const char *const s1_only[] = {
			"cd-table", "ssid-bits", "s1dss", "pasids", NULL,
		};
		for (int i = 0; s1_only[i]; i++)
			if (spec_member(obj, s1_only[i]))
				return err_set(s->err, -EINVAL,
					       "%s.%s: needs a stage-1 domain", path, s1_only[i]);
	}

	switch (tr) {
	case TR_INVALID:
		break;
	case TR_ABORT:
		smmu_set(ste, STE_V, 1);
		smmu_set(ste, STE_CONFIG, STE_CONFIG_ABORT);
		break;
	case TR_BYPASS:
		smmu_set(ste, STE_V, 1);
		smmu_set(ste, STE_CONFIG, STE_CONFIG_BYPASS);
		smmu_set(ste, STE_SHCFG, STE_SHCFG_INCOMING);
		break;
	default:
		smmu_set(ste, STE_V, 1);
		if (d->stage == 2) {
			smmu_set(ste, STE_CONFIG, STE_CONFIG_S2);
			ste_s2(d, ste);
		} else {
			smmu_set(ste, STE_CONFIG, s2 ? STE_CONFIG_NESTED : STE_CONFIG_S1);
			smmu_set(ste, STE_SHCFG, STE_SHCFG_INCOMING);
			if ((rc = synth_s1(s, obj, path, d, ste)) < 0)
				return rc;
			if (s2) {
				ste_s2(s2, ste);
				s2->nest_identity = true;
			}
		}
		if ((d->stage == 2 || s2) && !s->user_idr0)
			s->idr0 |= IDR0_S2P | IDR0_VMID16;
		break;
	}
	if ((rc = ste_slot(s, dev.id, path, &pa)) < 0 ||
	    (rc = put_words(s, pa, ste, SMMU_STE_DWORDS)) < 0)
		return rc;
	return image_unit_add_device(unit, &dev, s->err);
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
	s->sids = calloc(n ? n : 1, sizeof(*s->sids));
	if (!s->sids)
		return err_set(s->err, -ENOMEM, "devices: out of memory");
	for (size_t i = 0; i < n; i++) {
		spec_path_fmt(p, sizeof(p), "devices[%zu]", i);
		if ((rc = synth_device(s, json_object_array_get_idx(arr, i), p, unit)) < 0)
			return rc;
	}
	return 0;
}

/* Nested streams fetch CDs and stage-1 tables by IPA: every stage-2
 * domain used for nesting maps the table arena onto itself, one granule
 * at a time, around what the spec mapped. */
static int nest_identity(struct synth *s, struct synth_domain *d)
{
	uint64_t g = 1ull << d->cfg.granule_shift;
	struct physmem *pm;
	struct physmem_range *r;
	size_t nr;
	int rc;

	if ((rc = arena_physmem(s->arena, &pm, s->err)) < 0)
		return rc;
	nr = pm->nr_ranges;
	r = malloc((nr ? nr : 1) * sizeof(*r));
	if (!r) {
		physmem_free(pm);
		return err_set(s->err, -ENOMEM, "out of memory");
	}
	memcpy(r, pm->ranges, nr * sizeof(*r));
	physmem_free(pm);
	rc = 0;
	for (size_t i = 0; i < nr && rc == 0; i++) {
		uint64_t first = r[i].start & ~(g - 1);
		uint64_t end = (r[i].start + r[i].size + g - 1) & ~(g - 1);

		for (uint64_t pa = first; pa < end && rc == 0; pa += g) {
			struct pt_leaf leaf;
			struct errbuf perr;

			if (d->cfg.ias < 64 && (pa >> d->cfg.ias)) {
				rc = err_set(s->err, -EINVAL,
					     "domain %u: table memory at 0x%" PRIx64
					     " is beyond its %u-bit input size, so nested streams cannot reach it",
					     d->id, pa, d->cfg.ias);
				break;
			}
			if (pt_lookup(&d->mapper, pa, &leaf)) {
				if (leaf.phys + (pa - leaf.iova) != pa)
					rc = err_set(s->err, -EINVAL,
						     "domain %u: ipa 0x%" PRIx64
						     " holds stage-1 tables but is mapped elsewhere",
						     d->id, pa);
				continue;
			}
			rc = pt_map_range(&d->mapper, pa, pa, g, PERM_R | PERM_W | PERM_SNP, NULL, &perr);
			if (rc < 0)
				rc = err_set(s->err, rc, "domain %u: %s", d->id, perr.msg);
		}
	}
	free(r);
	return rc;
}

static const char *const strtab_names[] = { "linear", "2-level", NULL };
static const char *const unit_members[] = {
	"iommu", "comment", "segment", "strtab", "sid-bits", "split", "oas", "regs",
	"domains", "devices", NULL,
};

int smmuv3_synth(const struct json_object *spec, struct arena *arena,
		 struct image_unit *unit, struct errbuf *err)
{
	struct synth s;
	struct json_object *v;
	uint64_t seg = 0, bits = 16, split = 8, cfg;
	int rc;

	memset(&s, 0, sizeof(s));
	s.arena = arena;
	s.err = err;
	s.two_level = true;
	if ((rc = spec_need_type(err, spec, json_type_object, "unit", "an object")) < 0 ||
	    (rc = spec_check_members(err, spec, "", unit_members)) < 0)
		return rc;
	if ((v = spec_member(spec, "segment")) && (rc = spec_range(&s, v, "segment", 0, 0xffff, &seg)) < 0)
		return rc;
	s.segment = (uint16_t)seg;
	if ((v = spec_member(spec, "strtab"))) {
		if ((rc = spec_enum(err, v, "strtab", strtab_names)) < 0)
			return rc;
		s.two_level = rc == 1;
	}
	if ((v = spec_member(spec, "sid-bits")) &&
	    (rc = spec_range(&s, v, "sid-bits", 1, s.two_level ? 32 : 24, &bits)) < 0)
		return rc;
	if ((v = spec_member(spec, "split"))) {
		if (!s.two_level)
			return err_set(err, -EINVAL, "split: only for a 2-level stream table");
		if ((rc = spec_u64(err, v, "split", &split)) < 0)
			return rc;
		if (!SMMU_SPLIT_VALID(split))
			return err_set(err, -EINVAL, "split: %" PRIu64 " is not 6, 8 or 10", split);
	}
	s.log2size = (unsigned)bits;
	s.split = (unsigned)split;
	if ((rc = synth_regs(&s, spec)) < 0)
		return rc;
	if (!s.user_idr1)
		s.idr1 = (s.idr1 & ~0x3full) | s.log2size;
	/* the stream table comes first, so its alignment wastes no pages */
	if ((rc = strtab_alloc(&s)) < 0)
		goto out;
	if ((rc = synth_domains(&s, spec)) < 0 || (rc = synth_devices(&s, spec, unit)) < 0)
		goto out;
	for (size_t i = 0; i < s.nr_domains; i++)
		if (s.domains[i].nest_identity && (rc = nest_identity(&s, &s.domains[i])) < 0)
			goto out;
	unit->kind = IOMMU_SMMUV3;
	unit->segment = s.segment;
	cfg = 0;
	smmu_set(&cfg, STRTAB_BASE_CFG_LOG2SIZE, s.log2size);
	if (s.two_level) {
		smmu_set(&cfg, STRTAB_BASE_CFG_SPLIT, s.split);
		smmu_set(&cfg, STRTAB_BASE_CFG_FMT, STRTAB_FMT_2LEVEL);
	}
	if ((rc = image_unit_set_reg(unit, "strtab_base", s.strtab | STRTAB_BASE_RA_BIT, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "strtab_base_cfg", cfg, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "idr0", s.idr0, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "idr1", s.idr1, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "idr3", s.idr3, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "idr5", s.idr5, err)) < 0 ||
	    (rc = image_unit_set_reg(unit, "cr0", s.cr0, err)) < 0)
		goto out;
out:
	free(s.domains);
	free(s.sids);
	return rc;
}
