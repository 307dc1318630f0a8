/* AMD-Vi context decoder: attachments per DTE kind, GCR3 walks (plain and
 * nested), and one scenario per finding code of amd_findings.def. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decoders/amd.h"
#include "decoders/pt_pgsize.h"

#include <json-c/json.h>

#define ARENA_BASE  0x100000ull
#define ARENA_LIMIT (64ull << 20)

struct fixture {
	struct arena *arena;
	struct physmem *pm;
	struct image_unit unit;
	struct sink sink;
	struct attach atts[64];
	size_t nr_atts;
	char codes[64][48];
	int64_t code_pasid[64];
	size_t nr_codes;
	uint64_t devtab;
};

static int collect_finding(struct sink *s, const struct finding *f)
{
	struct fixture *fx = (struct fixture *)((char *)s - offsetof(struct fixture, sink));

	if (fx->nr_codes < 64) {
		snprintf(fx->codes[fx->nr_codes], sizeof(fx->codes[0]), "%s", f->code);
		fx->code_pasid[fx->nr_codes] = f->pasid;
		fx->nr_codes++;
	}
	return 0;
}

static int collect_attach(struct decode_ctx *ctx, const struct attach *a)
{
	struct fixture *fx = ctx->attach_ctx;

	if (fx->nr_atts < 64)
		fx->atts[fx->nr_atts++] = *a;
	return 0;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct errbuf err;

	assert_non_null(fx);
	fx->arena = arena_new(ARENA_BASE, ARENA_LIMIT);
	assert_non_null(fx->arena);
	fx->sink.finding = collect_finding;
	fx->unit.kind = IOMMU_AMD;
	/* a one-page device table (128 entries) first, so it is contiguous */
	fx->devtab = arena_alloc_page(fx->arena);
	assert_int_equal(image_unit_set_reg(&fx->unit, "dtbase", fx->devtab, &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->pm)
		physmem_free(fx->pm);
	arena_free(fx->arena);
	free(fx->unit.regs);
	free(fx->unit.devices);
	free(fx);
	return 0;
}

static void put64(struct fixture *fx, uint64_t pa, uint64_t v)
{
	uint8_t *page = arena_page(fx->arena, pa);

	assert_non_null(page);
	memcpy(page + (pa & 0xfff), &v, 8);
}

static uint64_t get64(struct fixture *fx, uint64_t pa)
{
	uint8_t *page = arena_page(fx->arena, pa);
	uint64_t v;

	assert_non_null(page);
	memcpy(&v, page + (pa & 0xfff), 8);
	return v;
}

static void put_dte(struct fixture *fx, uint32_t devid, const uint64_t dte[4])
{
	for (unsigned q = 0; q < 4; q++)
		put64(fx, fx->devtab + devid * 32 + q * 8, dte[q]);
}

static void set_reg(struct fixture *fx, const char *name, uint64_t v)
{
	struct errbuf err;

	assert_int_equal(image_unit_set_reg(&fx->unit, name, v, &err), 0);
}

static void add_device(struct fixture *fx, uint32_t id)
{
	struct image_device d = { .id = id, .pci = true };
	struct errbuf err;

	assert_int_equal(image_unit_add_device(&fx->unit, &d, &err), 0);
}

static int decode(struct fixture *fx)
{
	struct errbuf err;
	struct decode_ctx ctx = {
		.unit = &fx->unit, .sink = &fx->sink,
		.attach = collect_attach, .attach_ctx = fx,
	};

	if (fx->pm)
		physmem_free(fx->pm);
	assert_int_equal(arena_physmem(fx->arena, &fx->pm, &err), 0);
	ctx.mem = fx->pm;
	fx->nr_atts = 0;
	fx->nr_codes = 0;
	return amd_decoder.decode(&ctx, &err);
}

static bool has_code(const struct fixture *fx, const char *code)
{
	for (size_t i = 0; i < fx->nr_codes; i++)
		if (strcmp(fx->codes[i], code) == 0)
			return true;
	return false;
}

/* V=1 TV=1, and optionally Mode/root/IR/IW */
static void dte_host(uint64_t dte[4], unsigned mode, uint64_t root, bool ir,
		     bool iw, uint16_t domain)
{
	memset(dte, 0, 32);
	amd_dte_set(dte, 0, 0, 1);
	amd_dte_set(dte, 1, 1, 1);
	amd_dte_set(dte, 11, 9, mode);
	amd_dte_set(dte, 51, 12, root >> 12);
	amd_dte_set(dte, 61, 61, ir);
	amd_dte_set(dte, 62, 62, iw);
	amd_dte_set(dte, 79, 64, domain);
}

static const struct attach *att_for(const struct fixture *fx, uint32_t devid,
				    int64_t pasid)
{
	for (size_t i = 0; i < fx->nr_atts; i++)
		if (fx->atts[i].dev.id == devid && fx->atts[i].pasid == pasid)
			return &fx->atts[i];
	return NULL;
}

static void test_modes(void **state)
{
	struct fixture *fx = *state;
	uint64_t dte[4], root = arena_alloc_page(fx->arena);
	const struct attach *a;

	dte_host(dte, 3, root, true, true, 7);
	put_dte(fx, 0x18, dte);              /* 00:03.0 translated */
	dte_host(dte, 0, 0, true, true, 1);
	put_dte(fx, 0x20, dte);              /* 00:04.0 pass-through */
	dte_host(dte, 0, 0, false, false, 0);
	put_dte(fx, 0x28, dte);              /* 00:05.0 blocked (Linux unused) */
	add_device(fx, 0x30);                /* 00:06.0 listed, V=0 */
	dte_host(dte, 7, root, true, true, 3);
	put_dte(fx, 0x38, dte);              /* Mode 7 */
	dte_host(dte, 3, root, true, true, 3);
	amd_dte_set(dte, 1, 1, 0);
	put_dte(fx, 0x40, dte);              /* TV=0 with a table */
	dte_host(dte, 0, 0, true, false, 0);
	put_dte(fx, 0x48, dte);              /* read-only pass-through */

	assert_int_equal(decode(fx), 0);
	assert_int_equal(fx->nr_atts, 7);
	a = att_for(fx, 0x18, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_true(a->root == root);
	assert_int_equal(a->domain, 7);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_amd_v1);
	assert_int_equal(a->cfg.levels, 3);
	assert_true(a->dev.pci);
	assert_string_equal(a->path, "dte[0x0018]");
	assert_int_equal(att_for(fx, 0x20, PASID_NONE)->mode, ATTACH_PASSTHROUGH);
	assert_int_equal(att_for(fx, 0x28, PASID_NONE)->mode, ATTACH_BLOCKED);
	assert_int_equal(att_for(fx, 0x30, PASID_NONE)->mode, ATTACH_PASSTHROUGH);
	assert_int_equal(att_for(fx, 0x38, PASID_NONE)->mode, ATTACH_BLOCKED);
	assert_int_equal(att_for(fx, 0x40, PASID_NONE)->mode, ATTACH_BLOCKED);
	assert_int_equal(att_for(fx, 0x48, PASID_NONE)->mode, ATTACH_PASSTHROUGH);
	assert_true(has_code(fx, "amd.regs.efr-missing"));
	assert_true(has_code(fx, "amd.dte.not-valid"));
	assert_true(has_code(fx, "amd.dte.mode-reserved"));
	assert_true(has_code(fx, "amd.dte.tv-disabled"));
	assert_true(has_code(fx, "amd.dte.passthrough-partial"));
	assert_false(has_code(fx, "amd.dte.reserved"));
	/* all-zero entries of unlisted devices say nothing */
	assert_null(att_for(fx, 0x50, PASID_NONE));
}

/* Builds a GCR3 tree of GLX+1 levels with the given PASIDs → CR3s. */
static uint64_t gcr3_build(struct fixture *fx, unsigned glx, const uint64_t *pasids,
			   const uint64_t *cr3s, size_t n)
{
	uint64_t root = arena_alloc_page(fx->arena);

	for (size_t i = 0; i < n; i++) {
		uint64_t table = root;

		for (unsigned l = glx; l > 0; l--) {
			uint64_t slot = table + ((pasids[i] >> (9 * l)) & 0x1ff) * 8;
			uint64_t e = get64(fx, slot);

			if (!(e & 1)) {
				e = arena_alloc_page(fx->arena) | 1;
				put64(fx, slot, e);
			}
			table = e & AMD_GCR3_ADDR;
		}
		put64(fx, table + (pasids[i] & 0x1ff) * 8, cr3s[i] | 1);
	}
	return root;
}

static void test_gcr3(void **state)
{
	struct fixture *fx = *state;
	uint64_t cr3[3] = {
		arena_alloc_page(fx->arena), arena_alloc_page(fx->arena),
		arena_alloc_page(fx->arena),
	};
	uint64_t pasids[3] = { 0, 0x1, 0x201 };
	uint64_t dte[4];
	uint64_t root = gcr3_build(fx, 1, pasids, cr3, 3);
	const struct attach *a;

	/* Linux v2 page-table mode: Mode 0, IR=IW=1, GV, GIoV, GLX=1 */
	dte_host(dte, 0, 0, true, true, 9);
	amd_dte_set(dte, 55, 55, 1);
	amd_dte_set(dte, 54, 54, 1);
	amd_dte_set(dte, 57, 56, 1);
	amd_dte_set_gcr3_root(dte, root);
	assert_true(amd_dte_gcr3_root(dte) == root);
	put_dte(fx, 0x18, dte);
	set_reg(fx, "efr", AMD_EFR_GTSUP | AMD_EFR_GIOSUP | (2ull << AMD_EFR_HATS_SHIFT) |
		(1ull << AMD_EFR_GLXSUP_SHIFT) | (15ull << AMD_EFR_PASMAX_SHIFT));

	assert_int_equal(decode(fx), 0);
	assert_int_equal(fx->nr_codes, 0);
	assert_int_equal(fx->nr_atts, 4);
	for (size_t i = 0; i < 3; i++) {
		a = att_for(fx, 0x18, (int64_t)pasids[i]);
		assert_non_null(a);
		assert_int_equal(a->mode, ATTACH_TRANSLATE);
		assert_true(a->root == cr3[i]);
		assert_ptr_equal(a->cfg.fmt, &pt_fmt_x86_64);
		assert_int_equal(a->cfg.levels, 4);
		assert_int_equal(a->domain, 9);
	}
	a = att_for(fx, 0x18, PASID_NONE); /* GIoV: untagged → PASID 0 */
	assert_non_null(a);
	assert_true(a->root == cr3[0]);
	assert_string_equal(att_for(fx, 0x18, 0x201)->path, "dte[0x0018]/gcr3[0x00201]");

	/* without GIoV untagged DMA follows Mode 0: pass-through */
	amd_dte_set(dte, 54, 54, 0);
	put_dte(fx, 0x18, dte);
	assert_int_equal(decode(fx), 0);
	assert_int_equal(att_for(fx, 0x18, PASID_NONE)->mode, ATTACH_PASSTHROUGH);

	/* 5-level guest tables need EFR.GATS = 1 */
	amd_dte_set(dte, 183, 182, 1);
	put_dte(fx, 0x18, dte);
	assert_int_equal(decode(fx), 0);
	assert_true(has_code(fx, "amd.gcr3.level-unsupported"));
	assert_null(att_for(fx, 0x18, 1));
	set_reg(fx, "efr", AMD_EFR_GTSUP | AMD_EFR_GIOSUP | (1ull << AMD_EFR_GATS_SHIFT) |
		(1ull << AMD_EFR_GLXSUP_SHIFT) | (15ull << AMD_EFR_PASMAX_SHIFT));
	assert_int_equal(decode(fx), 0);
	assert_int_equal(fx->nr_codes, 0);
	assert_int_equal(att_for(fx, 0x18, 1)->cfg.levels, 5);
}

/* Mode 3 with GV: the GCR3 table and the CR3s are guest-physical. */
static void test_gcr3_nested(void **state)
{
	struct fixture *fx = *state;
	struct pt_cfg host;
	struct pt_mapper m;
	struct errbuf err;
	uint64_t gcr3_spa = arena_alloc_page(fx->arena);
	uint64_t cr3_spa = arena_alloc_page(fx->arena);
	const uint64_t gcr3_gpa = 0x40000000, cr3_gpa = 0x40001000;
	uint64_t dte[4];
	const struct attach *a;

	assert_int_equal(pt_cfg_init(&host, &pt_fmt_amd_v1, 3, 0, 52, 12, 0, &err), 0);
	assert_int_equal(pt_mapper_init(&m, &host, fx->arena, &err), 0);
	assert_int_equal(pt_map_range(&m, gcr3_gpa, gcr3_spa, 4096, PERM_R | PERM_W,
				      NULL, &err), 0);
	assert_int_equal(pt_map_range(&m, cr3_gpa, cr3_spa, 4096, PERM_R | PERM_W,
				      NULL, &err), 0);
	put64(fx, gcr3_spa + 5 * 8, cr3_gpa | 1);   /* PASID 5 */

	dte_host(dte, 3, m.root, true, true, 4);
	amd_dte_set(dte, 55, 55, 1);
	amd_dte_set_gcr3_root(dte, gcr3_gpa);
	put_dte(fx, 0x10, dte);
	assert_int_equal(decode(fx), 0);
	assert_int_equal(fx->nr_codes, 1); /* efr-missing */
	a = att_for(fx, 0x10, 5);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_NESTED);
	assert_true(a->root == cr3_gpa);
	assert_true(a->s2root == m.root);
	assert_ptr_equal(a->s2cfg.fmt, &pt_fmt_amd_v1);
	/* untagged DMA (GIoV=0) uses the host table */
	a = att_for(fx, 0x10, PASID_NONE);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_true(a->root == m.root);

	/* a GCR3 root GPA the host table does not map */
	amd_dte_set_gcr3_root(dte, 0x50000000);
	put_dte(fx, 0x10, dte);
	assert_int_equal(decode(fx), 0);
	assert_true(has_code(fx, "amd.gcr3.xlate"));
	assert_null(att_for(fx, 0x10, 5));
}

/* One scenario per decoder finding code. */
static void test_every_finding(void **state)
{
	struct fixture *fx = *state;
	uint64_t dte[4], root = arena_alloc_page(fx->arena);
	uint64_t gcr3 = arena_alloc_page(fx->arena);
	const uint64_t efr_all = AMD_EFR_GTSUP | AMD_EFR_GIOSUP | AMD_EFR_PPRSUP |
		AMD_EFR_HASUP | AMD_EFR_HDSUP | (1ull << AMD_EFR_GLXSUP_SHIFT) |
		(7ull << AMD_EFR_PASMAX_SHIFT);  /* 8-bit PASIDs, 4 levels */
	bool seen[AMD_NR_FINDINGS] = { false };

	set_reg(fx, "efr", efr_all);
	/* dte.reserved, dte.mode-hats, dte.perm-mask */
	dte_host(dte, 5, root, true, false, 1);
	dte[0] |= AMD_BIT(3);
	put_dte(fx, 1, dte);
	/* dte.root-outside */
	dte_host(dte, 3, 0x7ff0000000ull, true, true, 2);
	put_dte(fx, 2, dte);
	/* dte.inttablen-reserved; a table outside the dump is not checked */
	dte_host(dte, 0, 0, false, false, 0);
	amd_dte_set(dte, 128, 128, 1);
	amd_dte_set(dte, 132, 129, 12);
	put_dte(fx, 3, dte);
	amd_dte_set(dte, 132, 129, 9);
	amd_dte_set(dte, 179, 134, 0x7ff0000000ull >> 6);
	put_dte(fx, 4, dte);
	/* gcr3.glx-reserved */
	dte_host(dte, 0, 0, true, true, 0);
	amd_dte_set(dte, 55, 55, 1);
	amd_dte_set(dte, 57, 56, 3);
	put_dte(fx, 5, dte);
	/* gcr3.root-outside */
	amd_dte_set(dte, 57, 56, 0);
	amd_dte_set_gcr3_root(dte, 0x7ff0000000ull);
	put_dte(fx, 6, dte);
	/* gcr3.reserved, gcr3.cr3-outside, gcr3.pasid-range via a 2-level tree */
	amd_dte_set(dte, 57, 56, 1);
	amd_dte_set_gcr3_root(dte, gcr3);
	put_dte(fx, 7, dte);
	{
		uint64_t l0 = arena_alloc_page(fx->arena);

		put64(fx, gcr3 + 0 * 8, l0 | 1);
		put64(fx, gcr3 + 1 * 8, 0x7ff0000000ull | 1);     /* table-outside */
		put64(fx, l0 + 1 * 8, 0x7ff0001000ull | 1);       /* cr3-outside */
		put64(fx, l0 + 2 * 8, root | 1 | AMD_BIT(60));    /* reserved */
		put64(fx, l0 + 0x100 * 8, root | 1);              /* PASID 0x100 */
	}
	/* dte.unsupported: GV when EFR lacks GTSup is checked with a second
	 * EFR below; here HAD needs HASup/HDSup, which efr_all has */
	add_device(fx, 0x200);                                 /* devtab.no-entry */

	assert_int_equal(decode(fx), 0);
	for (size_t i = 0; i < fx->nr_codes; i++)
		for (unsigned id = 0; id < AMD_NR_FINDINGS; id++)
			if (strcmp(fx->codes[i], amd_findings[id].code) == 0)
				seen[id] = true;

	/* the rest need other registers or tables */
	set_reg(fx, "efr", 3ull << AMD_EFR_HATS_SHIFT);       /* efr.hats-reserved */
	set_reg(fx, "dtbase", fx->devtab | AMD_BIT(10) | 0x1ff); /* dtbase.reserved,
								  * devtab.truncated */
	dte_host(dte, 0, 0, true, true, 0);
	amd_dte_set(dte, 52, 52, 1);                           /* dte.unsupported */
	put_dte(fx, 8, dte);
	assert_int_equal(decode(fx), 0);
	for (size_t i = 0; i < fx->nr_codes; i++)
		for (unsigned id = 0; id < AMD_NR_FINDINGS; id++)
			if (strcmp(fx->codes[i], amd_findings[id].code) == 0)
				seen[id] = true;

	/* a device table outside the dump is an input error */
	set_reg(fx, "dtbase", 0x7ff0000000ull);
	assert_int_equal(decode(fx), -EFAULT);

	for (unsigned id = 0; id < AMD_NR_FINDINGS; id++) {
		/* covered by test_modes / test_gcr3 / test_gcr3_nested, or
		 * unreachable with a working codec */
		if (id == AMD_F_PT_CONFIG || id == AMD_F_EFR_MISSING ||
		    id == AMD_F_DTE_NOT_VALID || id == AMD_F_DTE_TV_DISABLED ||
		    id == AMD_F_DTE_MODE_RESERVED || id == AMD_F_DTE_PASSTHROUGH_PARTIAL ||
		    id == AMD_F_GCR3_LEVEL || id == AMD_F_GCR3_XLATE)
			continue;
		if (!seen[id])
			fail_msg("finding %s was not produced", amd_findings[id].code);
	}
}

static void test_missing_dtbase(void **state)
{
	struct fixture *fx = *state;
	struct errbuf err;
	struct decode_ctx ctx = {
		.unit = &fx->unit, .sink = &fx->sink,
		.attach = collect_attach, .attach_ctx = fx,
	};
	struct image_unit empty = { .kind = IOMMU_AMD };

	assert_int_equal(arena_physmem(fx->arena, &fx->pm, &err), 0);
	ctx.mem = fx->pm;
	ctx.unit = &empty;
	assert_int_equal(amd_decoder.decode(&ctx, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "dtbase"));
}

/* Leaves of a walk, for the synth round trip. */
struct leaves {
	struct pt_leaf v[64];
	size_t n;
};

static int push_leaf(void *ctx, const struct pt_leaf *l)
{
	struct leaves *lv = ctx;

	if (lv->n < 64)
		lv->v[lv->n++] = *l;
	return 0;
}

/* synth → image unit + arena → decode → walk: the spec's mappings come
 * back, split into the page sizes Linux would use. */
static void test_synth_round_trip(void **state)
{
	struct fixture *fx = *state;
	const char *spec_text =
		"{ \"iommu\": \"amd\", \"unused\": \"zero\","
		"  \"domains\": [ { \"id\": 3, \"mappings\": ["
		"    { \"iova\": \"0xfffe0000\", \"phys\": \"0x12340000\", \"size\": \"0x8000\", \"perm\": \"rw\" },"
		"    { \"iova\": \"0x200000\", \"phys\": \"0x40200000\", \"size\": \"0x600000\", \"perm\": \"r\" } ] },"
		"    { \"id\": 4, \"format\": \"v2\", \"mappings\": ["
		"    { \"iova\": \"0x1000\", \"phys\": \"0x5000\", \"size\": \"0x1000\" } ] } ],"
		"  \"devices\": [ { \"bdf\": \"00:03.0\", \"domain\": 3, \"intremap\": true },"
		"                 { \"bdf\": \"00:04.0\", \"domain\": 4 },"
		"                 { \"bdf\": \"00:05.0\", \"translation\": \"passthrough\" } ] }";
	struct json_object *spec = json_tokener_parse(spec_text);
	struct image_unit unit = { 0 };
	struct arena *arena = arena_new(0x10000000ull, 64ull << 20);
	struct physmem *pm;
	struct errbuf err;
	struct decode_ctx ctx = {
		.unit = &unit, .sink = &fx->sink,
		.attach = collect_attach, .attach_ctx = fx,
	};
	const struct attach *a;
	struct leaves lv = { .n = 0 };
	struct pt_walk w;
	uint64_t dtbase;

	assert_non_null(spec);
	assert_int_equal(amd_synth(spec, arena, &unit, &err), 0);
	assert_int_equal(unit.nr_devices, 3);
	assert_true(image_unit_reg(&unit, "dtbase", &dtbase));
	assert_int_equal(dtbase & AMD_DTBASE_SIZE, 0);   /* 128 entries: 1 page */
	assert_int_equal(arena_physmem(arena, &pm, &err), 0);
	ctx.mem = pm;
	fx->nr_atts = fx->nr_codes = 0;
	assert_int_equal(amd_decoder.decode(&ctx, &err), 0);
	assert_int_equal(fx->nr_codes, 0);
	assert_int_equal(fx->nr_atts, 4); /* v1, v2 PASID 0 + untagged, pass-through */

	a = att_for(fx, 0x18, PASID_NONE);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_int_equal(a->cfg.levels, 3); /* Linux's starting mode fits */
	memset(&w, 0, sizeof(w));
	w.cfg = &a->cfg;
	w.mem = pm;
	w.root = a->root;
	w.leaf = push_leaf;
	w.ctx = &lv;
	assert_int_equal(pt_walk(&w, &err), 0);
	assert_int_equal(w.stats.findings, 0);
	/* 2 MiB-aligned 6 MiB → 2 MiB + 4 MiB (NextLevel 7, 2 replicas);
	 * 32 KiB → one page (8 replicas) */
	assert_int_equal(lv.n, 3);
	assert_true(lv.v[0].iova == 0x200000 && lv.v[0].size == 0x200000 &&
		    lv.v[0].phys == 0x40200000);
	assert_true(lv.v[1].iova == 0x400000 && lv.v[1].size == 0x400000 &&
		    lv.v[1].phys == 0x40400000);
	assert_int_equal(lv.v[1].perm, PERM_R | PERM_SNP);
	assert_true(lv.v[2].iova == 0xfffe0000 && lv.v[2].size == 0x8000 &&
		    lv.v[2].phys == 0x12340000);
	assert_int_equal(lv.v[2].perm, PERM_R | PERM_W | PERM_SNP);
	{
		/* the 8 replicas are identical and carry the size code */
		uint64_t first = 0;

		for (unsigned i = 0; i < 8; i++) {
			uint64_t raw;

			assert_int_equal(physmem_read_u64(pm, lv.v[2].entry_addr + i * 8,
							  &raw, &err), 0);
			if (i == 0)
				first = raw;
			assert_true(raw == first);
		}
		assert_true((first & AMD_PTE_ADDR) == 0x12343000ull);
		assert_int_equal((first >> 9) & 7, 7);
	}

	a = att_for(fx, 0x20, PASID_NONE);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_x86_64);
	assert_true(a->root == att_for(fx, 0x20, 0)->root);
	assert_int_equal(att_for(fx, 0x28, PASID_NONE)->mode, ATTACH_PASSTHROUGH);

	physmem_free(pm);
	arena_free(arena);
	free(unit.regs);
	free(unit.devices);
	json_object_put(spec);
}

/* Level skipping: a PDE whose NextLevel is below level-1.  The walker
 * maps the skipped levels' IOVA bits as zero; the decoder's own GPA
 * translation (nested GCR3) refuses GPAs with those bits set. */
static void test_level_skip(void **state)
{
	struct fixture *fx = *state;
	struct pt_cfg host;
	struct errbuf err;
	uint64_t root = arena_alloc_page(fx->arena), t0 = arena_alloc_page(fx->arena);
	uint64_t gcr3_spa = arena_alloc_page(fx->arena), cr3_spa = arena_alloc_page(fx->arena);
	uint64_t dte[4];
	struct leaves lv = { .n = 0 };
	struct pt_walk w;
	const struct attach *a;

	assert_int_equal(pt_cfg_init(&host, &pt_fmt_amd_v1, 4, 0, 52, 12, 0, &err), 0);
	/* root (spec level 4) entries 0 and 1 skip to a spec level-1 table */
	put64(fx, root + 0 * 8, t0 | (1ull << 9) | AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW);
	put64(fx, root + 1 * 8, t0 | (1ull << 9) | AMD_PTE_PR | AMD_PTE_IR);
	put64(fx, t0 + 0x40 * 8, gcr3_spa | AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW);
	put64(fx, t0 + 0x41 * 8, cr3_spa | AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW);
	put64(fx, gcr3_spa + 3 * 8, 0x41000 | 1);

	assert_int_equal(arena_physmem(fx->arena, &fx->pm, &err), 0);
	memset(&w, 0, sizeof(w));
	w.cfg = &host;
	w.mem = fx->pm;
	w.root = root;
	w.leaf = push_leaf;
	w.ctx = &lv;
	assert_int_equal(pt_walk(&w, &err), 0);
	/* entry 0 reached t0 first; entry 1 reaching it again is a finding */
	assert_int_equal(lv.n, 2);
	assert_true(lv.v[0].iova == 0x40000 && lv.v[0].phys == gcr3_spa);
	assert_true(lv.v[1].iova == 0x41000 && lv.v[1].phys == cr3_spa);
	assert_int_equal(lv.v[0].size, 4096);
	assert_int_equal(w.stats.findings, 1);

	dte_host(dte, 4, root, true, true, 2);
	amd_dte_set(dte, 55, 55, 1);
	amd_dte_set_gcr3_root(dte, 0x40000);
	put_dte(fx, 0x08, dte);
	assert_int_equal(decode(fx), 0);
	a = att_for(fx, 0x08, 3);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_NESTED);
	assert_true(a->root == 0x41000);

	/* bit 21 lies in a skipped level's index: no translation */
	amd_dte_set_gcr3_root(dte, 0x40000 | (1ull << 21));
	put_dte(fx, 0x08, dte);
	assert_int_equal(decode(fx), 0);
	assert_true(has_code(fx, "amd.gcr3.xlate"));
	assert_null(att_for(fx, 0x08, 3));
}

static void test_synth_errors(void **state)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "{\"iommu\":\"amd\",\"devices\":[{\"bdf\":\"zz\"}]}", "devices[0].bdf: bad BDF" },
		{ "{\"iommu\":\"amd\",\"devices\":[{\"bdf\":\"00:01.0\",\"domain\":5}]}",
		  "devices[0].domain: no domain 5" },
		{ "{\"iommu\":\"amd\",\"domains\":[{\"id\":1,\"mode\":7}]}", "domains[0].mode: not in 1..6" },
		{ "{\"iommu\":\"amd\",\"domains\":[{\"id\":1,\"mappings\":[{\"iova\":0,\"phys\":0,\"size\":4096,\"perm\":\"\"}]}]}",
		  "domains[0].mappings[0].perm: no permission" },
		{ "{\"iommu\":\"amd\",\"bogus\":1}", "bogus: unknown member" },
		{ "{\"iommu\":\"amd\",\"domains\":[{\"id\":1},{\"id\":2,\"format\":\"v2\"}],"
		  "\"devices\":[{\"bdf\":\"00:01.0\",\"domain\":1,\"pasids\":[{\"pasid\":1,\"domain\":2}]}]}",
		  "devices[0].pasids: PASIDs need a v2 domain or none" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *spec = json_tokener_parse(bad[i].spec);
		struct arena *arena = arena_new(0x10000000ull, 16ull << 20);
		struct image_unit unit = { 0 };
		struct errbuf err = { "" };

		assert_non_null(spec);
		assert_true(amd_synth(spec, arena, &unit, &err) < 0);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("spec %zu: got \"%s\", want \"%s\"", i, err.msg, bad[i].msg);
		arena_free(arena);
		free(unit.regs);
		free(unit.devices);
		json_object_put(spec);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gcr3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gcr3_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_finding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dtbase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synth_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_skip, setup, teardown),
		cmocka_unit_test(test_synth_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
