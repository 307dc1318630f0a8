/* SMMUv3 context decoder and synth: tables built by smmuv3_synth from a
 * spec decode back to the attachments the spec asked for (linear and
 * 2-level stream tables, linear and 2-level CD tables, stage 1 with TTB0
 * or TTB1, stage 2, nested, bypass, abort), their page tables walk back
 * to the mappings, every finding code has a scenario that triggers it,
 * filters and limits hold, registers are described by field name, and
 * bad specs are refused with a message naming the element. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/lpae_defs.h"
#include "decoders/smmuv3_defs.h"
#include "decoders/smmuv3_internal.h"

#define FX_ARENA_BASE 0x40000000ull
#define FX_ARENA_SIZE (64ull << 20)
#define FX_OUTSIDE    0x10000000ull /* never present */
#define FX_MAX 512

/* The dump layer provides this; the unit test links without it. */
__attribute__((weak)) bool dump_filter_device(const struct dump_filter *f,
					      const struct dev_ref *d)
{
	if (!f || !f->nr_devices)
		return true;
	for (size_t i = 0; i < f->nr_devices; i++)
		if (f->devices[i].id == d->id && f->devices[i].pci == d->pci &&
		    f->devices[i].segment == d->segment)
			return true;
	return false;
}

struct fx_finding {
	char code[48];
	char path[ATTACH_PATH_LEN];
	char message[256];
	enum severity severity;
	uint64_t addr;
	int64_t pasid;
};

struct fx {
	struct sink sink; /* first: the sink callback finds the fixture */
	struct arena *a;
	struct image_unit unit;
	struct dump_filter filter;
	bool use_filter;
	struct pt_limits limits;
	struct errbuf err;
	struct attach att[FX_MAX];
	size_t nr_att;
	struct fx_finding fnd[FX_MAX];
	size_t nr_fnd;
};

static int fx_on_finding(struct sink *s, const struct finding *fd)
{
	struct fx *f = (struct fx *)s;
	struct fx_finding *r;

	if (f->nr_fnd >= FX_MAX)
		return 0;
	r = &f->fnd[f->nr_fnd++];
	snprintf(r->code, sizeof(r->code), "%s", fd->code);
	snprintf(r->path, sizeof(r->path), "%s", fd->path ? fd->path : "");
	snprintf(r->message, sizeof(r->message), "%s", fd->message);
	r->severity = fd->severity;
	r->addr = fd->addr;
	r->pasid = fd->pasid;
	return 0;
}

static int fx_on_attach(struct decode_ctx *ctx, const struct attach *a)
{
	struct fx *f = ctx->attach_ctx;

	if (f->nr_att < FX_MAX)
		f->att[f->nr_att++] = *a;
	return 0;
}

static void fx_release(struct fx *f)
{
	arena_free(f->a);
	free(f->unit.regs);
	free(f->unit.devices);
	free(f->unit.windows);
	free(f);
}

static int fx_try_synth(struct fx *f, const char *json)
{
	struct json_object *spec = json_tokener_parse(json);
	int rc;

	assert_non_null(spec);
	rc = smmuv3_decoder.synth(spec, f->a, &f->unit, &f->err);
	json_object_put(spec);
	return rc;
}

static struct fx *fx_new(const char *json)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sink.finding = fx_on_finding;
	f->a = arena_new(FX_ARENA_BASE, FX_ARENA_SIZE);
	assert_non_null(f->a);
	if (json && fx_try_synth(f, json) < 0)
		fail_msg("synth: %s", f->err.msg);
	return f;
}

static int fx_decode(struct fx *f)
{
	struct physmem *pm;
	struct decode_ctx ctx = {
		.unit = &f->unit, .sink = &f->sink, .limits = f->limits,
		.attach = fx_on_attach, .attach_ctx = f,
		.filter = f->use_filter ? &f->filter : NULL,
	};
	int rc;

	f->nr_att = f->nr_fnd = 0;
	assert_int_equal(arena_physmem(f->a, &pm, &f->err), 0);
	ctx.mem = pm;
	rc = smmuv3_decoder.decode(&ctx, &f->err);
	physmem_free(pm);
	return rc;
}

static uint64_t fx_reg(struct fx *f, const char *name)
{
	uint64_t v = 0;

	assert_true(image_unit_reg(&f->unit, name, &v));
	return v;
}

static void fx_set_reg(struct fx *f, const char *name, uint64_t v)
{
	assert_int_equal(image_unit_set_reg(&f->unit, name, v, &f->err), 0);
}

static uint64_t fx_rd(struct fx *f, uint64_t pa)
{
	uint8_t *p = arena_page(f->a, pa & ~0xfffull);
	uint64_t v;

	assert_non_null(p);
	memcpy(&v, p + (pa & 0xfff), 8);
	return v;
}

static void fx_wr(struct fx *f, uint64_t pa, uint64_t v)
{
	uint8_t *p = arena_page(f->a, pa & ~0xfffull);

	assert_non_null(p);
	memcpy(p + (pa & 0xfff), &v, 8);
}

/* Sets a field of the 64-bit word at @pa. */
static void fx_field(struct fx *f, uint64_t pa, unsigned w, unsigned hi, unsigned lo,
		     uint64_t val)
{
	uint64_t words[8];

	words[w] = fx_rd(f, pa + w * 8);
	smmu_set(words, w, hi, lo, val);
	fx_wr(f, pa + w * 8, words[w]);
}
#define FX_SET(f, pa, field, val) fx_field(f, pa, field, val)

static uint64_t fx_get_field(struct fx *f, uint64_t pa, unsigned w, unsigned hi, unsigned lo)
{
	uint64_t word = fx_rd(f, pa + w * 8);

	return smmu_get(&word, 0, hi, lo);
}
#define FX_GET(f, pa, field) fx_get_field(f, pa, field)

static uint64_t fx_strtab(struct fx *f)
{
	return fx_reg(f, "strtab_base") & SMMU_MASK(0, 51, 6);
}

static bool fx_two_level(struct fx *f)
{
	uint64_t cfg = fx_reg(f, "strtab_base_cfg");

	return smmu_get(&cfg, STRTAB_BASE_CFG_FMT) == STRTAB_FMT_2LEVEL;
}

static uint64_t fx_l1std(struct fx *f, uint32_t sid)
{
	uint64_t cfg = fx_reg(f, "strtab_base_cfg");

	return fx_strtab(f) + (sid >> smmu_get(&cfg, STRTAB_BASE_CFG_SPLIT)) * 8;
}

static uint64_t fx_ste(struct fx *f, uint32_t sid)
{
	uint64_t cfg = fx_reg(f, "strtab_base_cfg"), desc;
	unsigned split = smmu_get(&cfg, STRTAB_BASE_CFG_SPLIT);

	if (!fx_two_level(f))
		return fx_strtab(f) + sid * SMMU_STE_SIZE;
	desc = fx_rd(f, fx_l1std(f, sid));
	return (smmu_get(&desc, L1STD_L2PTR) << 6) + (sid & ((1u << split) - 1)) * SMMU_STE_SIZE;
}

/* The CD of a linear CD table (or the only CD). */
static uint64_t fx_cd(struct fx *f, uint32_t sid, uint32_t ssid)
{
	uint64_t ste0 = fx_rd(f, fx_ste(f, sid));

	return (smmu_get(&ste0, STE_S1CONTEXTPTR) << 6) + ssid * SMMU_CD_SIZE;
}

static size_t fx_count(struct fx *f, const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nr_fnd; i++)
		if (strcmp(f->fnd[i].code, code) == 0)
			n++;
	return n;
}

static const struct attach *fx_att(struct fx *f, uint32_t id, int64_t pasid, unsigned nth)
{
	for (size_t i = 0; i < f->nr_att; i++)
		if (f->att[i].dev.id == id && f->att[i].pasid == pasid && nth-- == 0)
			return &f->att[i];
	return NULL;
}

/* ---- walking an attachment's tables back to its mappings ---- */

#define FX_LEAVES 512

struct leaves {
	struct pt_leaf v[FX_LEAVES];
	size_t n;
};

static int on_leaf(void *ctx, const struct pt_leaf *l)
{
	struct leaves *lv = ctx;

	if (lv->n < FX_LEAVES)
		lv->v[lv->n] = *l;
	lv->n++;
	return 0;
}

static void fx_walk(struct fx *f, const struct attach *a, const struct pt_cfg *cfg,
		    uint64_t root, uint64_t iova_base, struct leaves *out)
{
	struct physmem *pm;
	struct pt_walk w;

	memset(&w, 0, sizeof(w));
	memset(out, 0, sizeof(*out));
	assert_int_equal(arena_physmem(f->a, &pm, &f->err), 0);
	w.cfg = cfg;
	w.mem = pm;
	w.root = root;
	w.iova_base = iova_base;
	w.leaf = on_leaf;
	w.ctx = out;
	w.findings = &f->sink;
	w.dev = &a->dev;
	w.pasid = a->pasid;
	if (pt_walk(&w, &f->err) < 0)
		fail_msg("walk: %s", f->err.msg);
	physmem_free(pm);
}

/* ---- a rich spec: every kind of attachment ---- */

static const char *const rich_spec =
	"{ \"iommu\": \"smmuv3\", \"sid-bits\": 17, \"oas\": 48,"
	"  \"domains\": ["
	"   { \"id\": 1, \"mappings\": ["
	"       { \"iova\": \"0xfffff000\", \"phys\": \"0x80001000\", \"size\": 4096 },"
	"       { \"iova\": \"0x40000000\", \"phys\": \"0x80000000\", \"size\": \"0x400000\", \"perm\": \"rs\" } ] },"
	"   { \"id\": 2, \"stage\": 2, \"ias\": 40, \"mappings\": ["
	"       { \"iova\": \"0x80000000\", \"phys\": \"0x180000000\", \"size\": \"0x40000000\" } ] },"
	"   { \"id\": 3, \"granule\": \"64K\", \"ias\": 42, \"mappings\": ["
	"       { \"iova\": \"0x10000\", \"phys\": \"0x80010000\", \"size\": \"0x20000\", \"perm\": \"rw\" } ] },"
	"   { \"id\": 4, \"granule\": \"16K\", \"ttb1\": true, \"mappings\": ["
	"       { \"iova\": \"0xffffffffffffc000\", \"phys\": \"0x9000c000\", \"size\": \"0x4000\" } ] },"
	"   { \"id\": 5, \"stage\": 2, \"granule\": \"64K\", \"levels\": 2, \"ias\": 40 }"
	"  ],"
	"  \"devices\": ["
	"   { \"bdf\": \"00:01.0\", \"name\": \"nvme\", \"domain\": 1 },"
	"   { \"bdf\": \"00:02.0\", \"domain\": 2 },"
	"   { \"bdf\": \"00:03.0\", \"translation\": \"bypass\" },"
	"   { \"bdf\": \"00:04.0\", \"translation\": \"abort\" },"
	"   { \"bdf\": \"00:05.0\", \"domain\": 3, \"s2-domain\": 2 },"
	"   { \"bdf\": \"01:00.0\", \"domain\": 1, \"pasids\": ["
	"       { \"pasid\": 1, \"domain\": 4 }, { \"pasid\": 5, \"domain\": 3 } ] },"
	"   { \"bdf\": \"01:00.1\", \"domain\": 3, \"cd-table\": \"2-level-4K\", \"ssid-bits\": 9,"
	"     \"s1dss\": \"bypass\", \"pasids\": [ { \"pasid\": 300, \"domain\": 1 } ] },"
	"   { \"bdf\": \"01:00.2\", \"domain\": 1, \"cd-table\": \"2-level-64K\", \"ssid-bits\": 12,"
	"     \"s1dss\": \"terminate\", \"pasids\": [ { \"pasid\": 4000, \"domain\": 4 } ] },"
	"   { \"sid\": \"0x10000\", \"domain\": 5 },"
	"   { \"bdf\": \"00:07.0\", \"translation\": \"invalid\" }"
	"  ] }";

static void test_rich_attachments(void **state)
{
	struct fx *f = fx_new(rich_spec);
	const struct attach *a;
	struct leaves lv;

	(void)state;
	assert_true(fx_two_level(f));
	assert_int_equal(fx_decode(f), 0);

	/* 00:01.0: stage 1, 4K, 48-bit, ASID 1, no PASIDs */
	a = fx_att(f, 0x08, PASID_NONE, 0);
	assert_non_null(a);
	assert_true(a->dev.pci);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_int_equal(a->domain, 1);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_lpae);
	assert_int_equal(a->cfg.levels, 4);
	assert_int_equal(a->cfg.ias, 48);
	assert_int_equal(a->cfg.oas, 48);
	assert_int_equal(a->iova_base, 0);
	assert_string_equal(a->path, "l1std[0x0]/ste[0x8]/cd[0x0]/ttb0");
	fx_walk(f, a, &a->cfg, a->root, a->iova_base, &lv);
	assert_int_equal(lv.n, 3); /* a 4K page and two 2M blocks */
	assert_int_equal(lv.v[0].iova, 0x40000000);
	assert_int_equal(lv.v[0].size, 0x200000);
	assert_int_equal(lv.v[0].perm, PERM_R | PERM_SNP);
	assert_int_equal(lv.v[2].iova, 0xfffff000);
	assert_int_equal(lv.v[2].phys, 0x80001000);
	assert_int_equal(lv.v[2].perm, PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP);
	assert_null(fx_att(f, 0x08, PASID_NONE, 1));

	/* 00:02.0: stage 2 only, VMID 2, 40-bit IPA concatenated at level 1 */
	a = fx_att(f, 0x10, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_int_equal(a->domain, 2);
	assert_true(a->cfg.flags & PT_LPAE_F_STAGE2);
	assert_int_equal(a->cfg.levels, 3);
	assert_int_equal(a->cfg.level_bits[2], 10);
	/* its mapping comes last, after the table memory 00:05.0 nests
	 * through it (test_nested_identity) */
	fx_walk(f, a, &a->cfg, a->root, 0, &lv);
	assert_true(lv.n > 1 && lv.n <= FX_LEAVES);
	assert_int_equal(lv.v[lv.n - 1].iova, 0x80000000);
	assert_int_equal(lv.v[lv.n - 1].size, 1ull << 30);
	assert_int_equal(lv.v[lv.n - 1].phys, 0x180000000ull);

	/* 00:03.0 bypass (with a warning), 00:04.0 abort (known device) */
	a = fx_att(f, 0x18, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_PASSTHROUGH);
	assert_int_equal(fx_count(f, "smmu.ste.bypass"), 2); /* and 01:00.1's s1dss */
	a = fx_att(f, 0x20, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_BLOCKED);

	/* 00:05.0: nested, stage-1 64K tables behind stage-2 domain 2 */
	a = fx_att(f, 0x28, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_NESTED);
	assert_int_equal(a->domain, (2 << 16) | 3);
	assert_int_equal(a->cfg.granule_shift, 16);
	assert_int_equal(a->cfg.levels, 2);
	assert_true(a->s2cfg.flags & PT_LPAE_F_STAGE2);
	assert_int_equal(a->s2cfg.ias, 40);
	assert_true(a->s2root != 0);

	/* 01:00.0: CD 0 for no-PASID traffic (S1DSS=SSID0), PASIDs 1 and 5 */
	a = fx_att(f, 0x100, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->domain, 1);
	a = fx_att(f, 0x100, 1, 0);
	assert_non_null(a);
	assert_int_equal(a->domain, 4);
	assert_int_equal(a->cfg.granule_shift, 14);
	assert_int_equal(a->iova_base, 0xffff000000000000ull);
	assert_string_equal(a->path, "l1std[0x1]/ste[0x0]/cd[0x1]/ttb1");
	fx_walk(f, a, &a->cfg, a->root, a->iova_base, &lv);
	assert_int_equal(lv.n, 1);
	assert_int_equal(lv.v[0].iova, 0xffffffffffffc000ull);
	assert_int_equal(lv.v[0].phys, 0x9000c000);
	a = fx_att(f, 0x100, 5, 0);
	assert_non_null(a);
	assert_int_equal(a->domain, 3);
	assert_null(fx_att(f, 0x100, 0, 0)); /* SSID 0 is the default one */

	/* 01:00.1: 2-level CD table with 64-entry leaves, S1DSS bypass */
	a = fx_att(f, 0x101, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_PASSTHROUGH);
	a = fx_att(f, 0x101, 300, 0);
	assert_non_null(a);
	assert_int_equal(a->domain, 1);
	assert_string_equal(a->path, "l1std[0x1]/ste[0x1]/l1cd[0x4]/cd[0x2c]/ttb0");

	/* 01:00.2: 1024-entry leaves, S1DSS terminate */
	a = fx_att(f, 0x102, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_BLOCKED);
	a = fx_att(f, 0x102, 4000, 0);
	assert_non_null(a);
	assert_string_equal(a->path, "l1std[0x1]/ste[0x2]/l1cd[0x3]/cd[0x3a0]/ttb1");

	/* stream 0x10000 is not a PCI requester ID: named by the image */
	a = fx_att(f, 0x10000, PASID_NONE, 0);
	assert_non_null(a);
	assert_false(a->dev.pci);
	assert_int_equal(a->cfg.granule_shift, 16);
	assert_int_equal(a->cfg.levels, 2);
	assert_int_equal(a->domain, 5);

	/* 00:07.0 (V=0) is known from the image: blocked, with an info */
	a = fx_att(f, 0x38, PASID_NONE, 0);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_BLOCKED);
	assert_int_equal(fx_count(f, "smmu.ste.not-valid"), 1);

	/* nothing else: the unused abort STEs of the leaf tables stay quiet */
	assert_int_equal(f->nr_att, 14);
	for (size_t i = 0; i < f->nr_fnd; i++)
		if (strcmp(f->fnd[i].code, "smmu.ste.bypass") &&
		    strcmp(f->fnd[i].code, "smmu.ste.not-valid"))
			fail_msg("unexpected finding %s at %s: %s", f->fnd[i].code,
				 f->fnd[i].path, f->fnd[i].message);
	fx_release(f);
}

/* The stage-1 tables of a nested stream are reached by IPA: synth maps
 * the table memory through its stage 2 one to one. */
static void test_nested_identity(void **state)
{
	struct fx *f = fx_new(rich_spec);
	const struct attach *a;
	struct leaves s2, s1;

	(void)state;
	assert_int_equal(fx_decode(f), 0);
	a = fx_att(f, 0x28, PASID_NONE, 0);
	assert_non_null(a);
	fx_walk(f, a, &a->s2cfg, a->s2root, 0, &s2);
	assert_true(s2.n > 1);
	for (size_t i = 0; i < s2.n && i < FX_LEAVES; i++) {
		if (s2.v[i].iova == 0x80000000)
			continue; /* the spec's own mapping */
		assert_int_equal(s2.v[i].iova, s2.v[i].phys);
		assert_true(s2.v[i].iova >= FX_ARENA_BASE);
	}
	/* the stage-1 root is an IPA equal to its PA */
	fx_walk(f, a, &a->cfg, a->root, 0, &s1);
	assert_int_equal(s1.n, 2);
	assert_int_equal(s1.v[0].phys, 0x80010000);
	assert_int_equal(s1.v[0].perm, PERM_R | PERM_W);
	fx_release(f);
}

static void test_linear_strtab(void **state)
{
	struct fx *f = fx_new(
		"{ \"strtab\": \"linear\", \"sid-bits\": 10, \"oas\": 44,"
		"  \"domains\": [ { \"id\": 7, \"mappings\": ["
		"     { \"iova\": 0, \"phys\": \"0x80000000\", \"size\": \"0x1000\" } ] } ],"
		"  \"devices\": [ { \"bdf\": \"03:1f.7\", \"domain\": 7 },"
		"                 { \"sid\": 5, \"translation\": \"bypass\" } ] }");
	const struct attach *a;
	uint64_t cfg = fx_reg(f, "strtab_base_cfg");

	(void)state;
	assert_false(fx_two_level(f));
	assert_int_equal(smmu_get(&cfg, STRTAB_BASE_CFG_LOG2SIZE), 10);
	assert_int_equal(fx_strtab(f) & 0xffff, 0); /* aligned to 64 KiB */
	assert_int_equal(fx_decode(f), 0);
	a = fx_att(f, 0x3ff, PASID_NONE, 0);
	assert_non_null(a);
	assert_string_equal(a->path, "strtab[0x3ff]/cd[0x0]/ttb0");
	assert_int_equal(a->cfg.oas, 44);
	a = fx_att(f, 5, PASID_NONE, 0);
	assert_non_null(a);
	assert_false(a->dev.pci);
	assert_int_equal(a->mode, ATTACH_PASSTHROUGH);
	assert_int_equal(f->nr_att, 2); /* 1022 abort STEs say nothing */
	fx_release(f);
}

static void test_filters(void **state)
{
	struct fx *f = fx_new(rich_spec);
	struct dev_ref dev = { .id = 0x100, .pci = true };

	(void)state;
	f->use_filter = true;
	f->filter.devices = &dev;
	f->filter.nr_devices = 1;
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->nr_att, 3);
	for (size_t i = 0; i < f->nr_att; i++)
		assert_int_equal(f->att[i].dev.id, 0x100);
	f->filter.pasid_set = true;
	f->filter.pasid = 5;
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->nr_att, 1);
	assert_int_equal(f->att[0].pasid, 5);
	/* a device outside the table is no error */
	dev.id = 0x1ffff;
	f->filter.pasid_set = false;
	dev.pci = false;
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->nr_att, 0);
	fx_release(f);
}

static void test_missing_registers(void **state)
{
	struct fx *f = fx_new(NULL);

	(void)state;
	fx_set_reg(f, "strtab_base", 0x1000);
	assert_int_equal(fx_decode(f), -EINVAL);
	assert_non_null(strstr(f->err.msg, "strtab_base_cfg"));
	fx_release(f);
}

/* ---- one scenario per finding code ---- */

static const char *const base_spec =
	"{ \"strtab\": \"linear\", \"sid-bits\": 8,"
	"  \"domains\": ["
	"   { \"id\": 1, \"mappings\": [ { \"iova\": 4096, \"phys\": \"0x80001000\", \"size\": 8192 } ] },"
	"   { \"id\": 2, \"stage\": 2, \"ias\": 40, \"mappings\": ["
	"       { \"iova\": \"0x80000000\", \"phys\": \"0x80000000\", \"size\": \"0x200000\" } ] } ],"
	"  \"devices\": [ { \"bdf\": \"00:01.0\", \"domain\": 1 },"
	"                 { \"bdf\": \"00:02.0\", \"domain\": 2 } ] }";

static const char *const base_2level_spec =
	"{ \"domains\": [ { \"id\": 1, \"mappings\": ["
	"     { \"iova\": 4096, \"phys\": \"0x80001000\", \"size\": 8192 } ] } ],"
	"  \"devices\": [ { \"bdf\": \"00:01.0\", \"domain\": 1 },"
	"     { \"bdf\": \"00:02.0\", \"domain\": 1, \"cd-table\": \"2-level-64K\","
	"       \"pasids\": [ { \"pasid\": 2000, \"domain\": 1 } ] } ] }";

#define DEV1 0x08 /* 00:01.0: stage 1 */
#define DEV2 0x10 /* 00:02.0: stage 2 (base) or 2-level CD table (2-level base) */

struct scenario {
	const char *code;
	const char *spec;
	void (*mutate)(struct fx *f);
};

static void sc_cr0(struct fx *f) { fx_set_reg(f, "cr0", 0); }
static void sc_strtab_fmt(struct fx *f) { fx_set_reg(f, "strtab_base_cfg", 2u << 16 | 8); }
static void sc_strtab_split(struct fx *f)
{
	fx_set_reg(f, "strtab_base_cfg", (fx_reg(f, "strtab_base_cfg") & ~(0x1full << 6)) | 7u << 6);
}
static void sc_strtab_log2size(struct fx *f)
{
	fx_set_reg(f, "idr1", (fx_reg(f, "idr1") & ~0x3full) | 4);
}
static void sc_strtab_align(struct fx *f)
{
	fx_set_reg(f, "strtab_base", fx_reg(f, "strtab_base") + 0x40);
}
static void sc_strtab_addr(struct fx *f)
{
	fx_set_reg(f, "idr5", fx_reg(f, "idr5") & ~7ull); /* OAS 32 bits */
	fx_set_reg(f, "strtab_base", 1ull << 40);
}
static void sc_limit(struct fx *f) { f->limits.max_entries = 3; }
static void sc_l1std_fetch(struct fx *f) { fx_set_reg(f, "strtab_base", FX_OUTSIDE); }
static void sc_l1std_reserved(struct fx *f)
{
	fx_wr(f, fx_l1std(f, DEV1), fx_rd(f, fx_l1std(f, DEV1)) | 1u << 5);
}
static void sc_l1std_span(struct fx *f) { FX_SET(f, fx_l1std(f, DEV1), L1STD_SPAN, 10); }
static void sc_l1std_l2ptr(struct fx *f)
{
	fx_set_reg(f, "idr5", fx_reg(f, "idr5") & ~7ull);
	FX_SET(f, fx_l1std(f, DEV1), L1STD_L2PTR, (1ull << 36) >> 6);
}
static void sc_l1std_align(struct fx *f)
{
	fx_wr(f, fx_l1std(f, DEV1), fx_rd(f, fx_l1std(f, DEV1)) + 0x1000);
}
static void sc_ste_fetch(struct fx *f) { FX_SET(f, fx_l1std(f, DEV1), L1STD_L2PTR, FX_OUTSIDE >> 6); }
static void sc_ste_not_valid(struct fx *f) { FX_SET(f, fx_ste(f, DEV1), STE_V, 0); }
static void sc_ste_reserved(struct fx *f) { fx_wr(f, fx_ste(f, DEV1), fx_rd(f, fx_ste(f, DEV1)) | 1ull << 52); }
static void sc_ste_config(struct fx *f) { FX_SET(f, fx_ste(f, DEV1), STE_CONFIG, 2); }
static void sc_ste_bypass(struct fx *f) { FX_SET(f, fx_ste(f, DEV1), STE_CONFIG, STE_CONFIG_BYPASS); }
static void sc_ste_stage(struct fx *f) { fx_set_reg(f, "idr0", fx_reg(f, "idr0") & ~1ull); }
static void sc_ste_s1cdmax(struct fx *f)
{
	fx_set_reg(f, "idr1", fx_reg(f, "idr1") & ~(0x1full << 6));
	FX_SET(f, fx_ste(f, DEV1), STE_S1CDMAX, 1);
}
/* Substreams allowed by IDR1 (the base has none). */
static void fx_ssids(struct fx *f)
{
	fx_set_reg(f, "idr1", fx_reg(f, "idr1") | 8u << 6);
}
static void sc_ste_s1fmt(struct fx *f)
{
	fx_ssids(f);
	FX_SET(f, fx_ste(f, DEV1), STE_S1CDMAX, 1);
	FX_SET(f, fx_ste(f, DEV1), STE_S1FMT, 3);
}
static void sc_ste_cd2l(struct fx *f) { fx_set_reg(f, "idr0", fx_reg(f, "idr0") & ~(1ull << 19)); }
static void sc_ste_s1dss(struct fx *f)
{
	fx_ssids(f);
	FX_SET(f, fx_ste(f, DEV1), STE_S1CDMAX, 1);
	FX_SET(f, fx_ste(f, DEV1), STE_S1DSS, 3);
}
static void sc_ste_ctxptr(struct fx *f)
{
	fx_set_reg(f, "idr5", fx_reg(f, "idr5") & ~7ull);
	FX_SET(f, fx_ste(f, DEV1), STE_S1CONTEXTPTR, (1ull << 34) >> 6);
}
static void sc_ste_s2aa64(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2AA64, 0); }
static void sc_ste_s2endi(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2ENDI, 1); }
static void sc_ste_s2tg(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2TG, 3); }
static void sc_ste_s2ps(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2PS, 7); }
static void sc_ste_s2t0sz(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2T0SZ, 10); }
static void sc_ste_s2sl0(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2SL0, 0); }
static void sc_ste_s2ttb(struct fx *f) { FX_SET(f, fx_ste(f, DEV2), STE_S2TTB, (1ull << 45) >> 4); }
static void sc_ste_s2ttb_align(struct fx *f)
{
	FX_SET(f, fx_ste(f, DEV2), STE_S2TTB, FX_GET(f, fx_ste(f, DEV2), STE_S2TTB) + 1);
}
static void sc_cd_fetch(struct fx *f) { FX_SET(f, fx_ste(f, DEV1), STE_S1CONTEXTPTR, FX_OUTSIDE >> 6); }
static void sc_cd_l1_reserved(struct fx *f)
{
	uint64_t ste0 = fx_rd(f, fx_ste(f, DEV2));
	uint64_t l1 = (smmu_get(&ste0, STE_S1CONTEXTPTR) << 6) + 8; /* SSIDs 1024.. */

	fx_wr(f, l1, fx_rd(f, l1) | 2);
}
static void sc_cd_not_valid(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_V, 0); }
static void sc_cd_aa32(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_AA64, 0); }
static void sc_cd_endi(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_ENDI, 1); }
static void sc_cd_ips(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_IPS, 7); }
static void sc_cd_tg(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_TG0, 3); }
static void sc_cd_tsz(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_T0SZ, 8); }
static void sc_cd_ttb(struct fx *f) { FX_SET(f, fx_cd(f, DEV1, 0), CD_TTB0, (1ull << 46) >> 4); }
static void sc_cd_ttb_align(struct fx *f)
{
	FX_SET(f, fx_cd(f, DEV1, 0), CD_TTB0, FX_GET(f, fx_cd(f, DEV1, 0), CD_TTB0) + 2);
}

static const struct scenario scenarios[] = {
	{ "smmu.cr0.smmuen", NULL, sc_cr0 },
	{ "smmu.strtab.fmt", NULL, sc_strtab_fmt },
	{ "smmu.strtab.split", "2", sc_strtab_split },
	{ "smmu.strtab.log2size", NULL, sc_strtab_log2size },
	{ "smmu.strtab.align", NULL, sc_strtab_align },
	{ "smmu.strtab.addr", NULL, sc_strtab_addr },
	{ "smmu.limit-entries", NULL, sc_limit },
	{ "smmu.l1std.fetch", "2", sc_l1std_fetch },
	{ "smmu.l1std.reserved", "2", sc_l1std_reserved },
	{ "smmu.l1std.span", "2", sc_l1std_span },
	{ "smmu.l1std.l2ptr", "2", sc_l1std_l2ptr },
	{ "smmu.l1std.align", "2", sc_l1std_align },
	{ "smmu.ste.fetch", "2", sc_ste_fetch },
	{ "smmu.ste.not-valid", NULL, sc_ste_not_valid },
	{ "smmu.ste.reserved", NULL, sc_ste_reserved },
	{ "smmu.ste.config", NULL, sc_ste_config },
	{ "smmu.ste.bypass", NULL, sc_ste_bypass },
	{ "smmu.ste.stage", NULL, sc_ste_stage },
	{ "smmu.ste.s1cdmax", NULL, sc_ste_s1cdmax },
	{ "smmu.ste.s1fmt", NULL, sc_ste_s1fmt },
	{ "smmu.ste.cd2l", "2", sc_ste_cd2l },
	{ "smmu.ste.s1dss", NULL, sc_ste_s1dss },
	{ "smmu.ste.ctxptr", NULL, sc_ste_ctxptr },
	{ "smmu.ste.s2aa64", NULL, sc_ste_s2aa64 },
	{ "smmu.ste.s2endi", NULL, sc_ste_s2endi },
	{ "smmu.ste.s2tg", NULL, sc_ste_s2tg },
	{ "smmu.ste.s2ps", NULL, sc_ste_s2ps },
	{ "smmu.ste.s2t0sz", NULL, sc_ste_s2t0sz },
	{ "smmu.ste.s2sl0", NULL, sc_ste_s2sl0 },
	{ "smmu.ste.s2ttb", NULL, sc_ste_s2ttb },
	{ "smmu.ste.s2ttb-align", NULL, sc_ste_s2ttb_align },
	{ "smmu.cd.fetch", NULL, sc_cd_fetch },
	{ "smmu.cd.l1-reserved", "2", sc_cd_l1_reserved },
	{ "smmu.cd.not-valid", NULL, sc_cd_not_valid },
	{ "smmu.cd.aa32", NULL, sc_cd_aa32 },
	{ "smmu.cd.endi", NULL, sc_cd_endi },
	{ "smmu.cd.ips", NULL, sc_cd_ips },
	{ "smmu.cd.tg", NULL, sc_cd_tg },
	{ "smmu.cd.tsz", NULL, sc_cd_tsz },
	{ "smmu.cd.ttb", NULL, sc_cd_ttb },
	{ "smmu.cd.ttb-align", NULL, sc_cd_ttb_align },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static void test_clean_bases(void **state)
{
	const char *const specs[] = { base_spec, base_2level_spec };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct fx *f = fx_new(specs[i]);

		assert_int_equal(fx_decode(f), 0);
		assert_true(f->nr_att >= 2);
		for (size_t k = 0; k < f->nr_fnd; k++)
			fail_msg("clean base %zu: %s at %s: %s", i, f->fnd[k].code,
				 f->fnd[k].path, f->fnd[k].message);
		fx_release(f);
	}
}

static void test_every_code_triggered(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_SCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];
		struct fx *f = fx_new(sc->spec ? base_2level_spec : base_spec);
		size_t n;
		int rc;

		sc->mutate(f);
		rc = fx_decode(f);
		n = fx_count(f, sc->code);
		if (rc < 0 || n == 0) {
			for (size_t k = 0; k < f->nr_fnd; k++)
				print_message("  %s %s: %s\n", f->fnd[k].code, f->fnd[k].path,
					      f->fnd[k].message);
			fail_msg("scenario %s: rc %d (%s), %zu findings", sc->code, rc,
				 rc < 0 ? f->err.msg : "", n);
		}
		for (size_t k = 0; k < f->nr_fnd; k++) {
			/* the code's severity is the table's */
			for (size_t t = 0; t < smmuv3_nr_findings; t++)
				if (strcmp(smmuv3_findings[t].code, f->fnd[k].code) == 0)
					assert_int_equal(f->fnd[k].severity,
							 smmuv3_findings[t].severity);
			assert_true(f->fnd[k].message[0] != '\0');
		}
		fx_release(f);
	}
}

/* The table and the scenarios cover each other. */
static void test_codes_have_scenarios(void **state)
{
	(void)state;
	for (size_t t = 0; t < smmuv3_nr_findings; t++) {
		bool found = false;

		for (size_t i = 0; i < NR_SCENARIOS; i++)
			if (strcmp(scenarios[i].code, smmuv3_findings[t].code) == 0)
				found = true;
		if (!found)
			fail_msg("finding %s has no scenario", smmuv3_findings[t].code);
	}
	for (size_t i = 0; i < NR_SCENARIOS; i++) {
		bool found = false;

		for (size_t t = 0; t < smmuv3_nr_findings; t++)
			if (strcmp(scenarios[i].code, smmuv3_findings[t].code) == 0)
				found = true;
		assert_true(found);
	}
}

/* Page-table problems come from the walker with the codec's prefix. */
static void test_page_table_findings(void **state)
{
	struct fx *f = fx_new(base_spec);
	const struct attach *a;
	struct leaves lv;
	uint64_t ttb, l2;

	(void)state;
	assert_int_equal(fx_decode(f), 0);
	a = fx_att(f, DEV1, PASID_NONE, 0);
	assert_non_null(a);
	/* follow the 4K domain down to its level-3 table and clear an AF */
	ttb = a->root;
	for (unsigned l = a->cfg.levels - 1; l > 0; l--) {
		struct pt_entry e;

		pt_fmt_lpae.decode(&a->cfg, l, 0, fx_rd(f, ttb), &e);
		assert_int_equal(e.kind, PTE_TABLE);
		ttb = e.addr;
	}
	l2 = ttb + 8; /* iova 0x1000 */
	fx_wr(f, l2, fx_rd(f, l2) & ~LPAE_AF);
	f->nr_fnd = 0;
	fx_walk(f, a, &a->cfg, a->root, 0, &lv);
	assert_int_equal(lv.n, 2);
	assert_int_equal(fx_count(f, "smmu.lpae.af"), 1);
	fx_wr(f, l2, fx_rd(f, l2) | 1ull << 49);
	f->nr_fnd = 0;
	fx_walk(f, a, &a->cfg, a->root, 0, &lv);
	assert_int_equal(fx_count(f, "smmu.lpae.reserved"), 1);
	fx_release(f);
}

/* A linear table far bigger than memory costs one finding, not 2^24
 * reads; a huge LOG2SIZE is capped. */
static void test_hostile_sizes(void **state)
{
	struct fx *f = fx_new(base_spec);
	uint64_t cfg = fx_reg(f, "strtab_base_cfg");

	(void)state;
	fx_set_reg(f, "idr1", fx_reg(f, "idr1") | 0x3f);
	smmu_set(&cfg, STRTAB_BASE_CFG_LOG2SIZE, 40);
	fx_set_reg(f, "strtab_base_cfg", cfg);
	fx_set_reg(f, "strtab_base", 1ull << 40); /* aligned to the 256 GiB */
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(fx_count(f, "smmu.strtab.log2size"), 1);
	assert_int_equal(fx_count(f, "smmu.ste.fetch"), 1);
	assert_int_equal(f->nr_att, 0);
	fx_release(f);
}

static int reg_cb(void *arg, const struct reg_field *rf)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, 4096 - len, "%s.%s=%llx%s%s;", rf->reg, rf->field,
		 (unsigned long long)rf->value, rf->meaning ? ":" : "",
		 rf->meaning ? rf->meaning : "");
	return 0;
}

static void test_describe_regs(void **state)
{
	struct fx *f = fx_new(base_spec);
	char *out = calloc(1, 4096);
	char want[64];

	(void)state;
	assert_non_null(out);
	assert_int_equal(smmuv3_decoder.describe_regs(&f->unit, reg_cb, out), 0);
	assert_non_null(strstr(out, "idr5.OAS=4:44 bits;"));
	assert_non_null(strstr(out, "idr0.ST_LEVEL=1:linear and 2-level;"));
	assert_non_null(strstr(out, "idr0.TTF=2:aarch64;"));
	assert_non_null(strstr(out, "idr1.SIDSIZE=8;"));
	assert_non_null(strstr(out, "strtab_base_cfg.FMT=0:linear;"));
	assert_non_null(strstr(out, "cr0.SMMUEN=1;"));
	snprintf(want, sizeof(want), "strtab_base.ADDR=%llx:0x%llx;",
		 (unsigned long long)(fx_strtab(f) >> 6), (unsigned long long)fx_strtab(f));
	assert_non_null(strstr(out, want));
	assert_null(strstr(out, "gbpa.")); /* not in the snapshot */
	assert_string_equal(smmuv3_decoder.name, "smmuv3");
	assert_ptr_equal(iommu_decoder_get(IOMMU_SMMUV3), &smmuv3_decoder);
	free(out);
	fx_release(f);
}

static void test_synth_errors(void **state)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{ "{ \"strtab\": \"3-level\" }", "strtab: unknown value" },
		{ "{ \"colour\": 1 }", "unknown member \"colour\"" },
		{ "{ \"devices\": [ { \"bdf\": \"00:01.0\" } ] }", "devices[0].domain: a translated device needs a domain" },
		{ "{ \"devices\": [ { \"bdf\": \"00:01.0\", \"domain\": 9 } ] }", "devices[0].domain: no domain 9" },
		{ "{ \"domains\": [ { \"id\": 1, \"stage\": 2 } ], \"devices\": [ { \"bdf\": \"00:01.0\", \"domain\": 1, \"pasids\": [] } ] }",
		  "devices[0].pasids: needs a stage-1 domain" },
		{ "{ \"domains\": [ { \"id\": 1, \"mappings\": [ { \"iova\": 0, \"phys\": 0, \"size\": 4096, \"perm\": \"w\" } ] } ] }",
		  "domains[0].mappings[0].perm: stage-1 tables cannot map write-only" },
		{ "{ \"domains\": [ { \"id\": 1, \"mappings\": [ { \"iova\": 0, \"phys\": 0, \"size\": 4096 }, { \"iova\": 0, \"phys\": 0, \"size\": 4096 } ] } ] }",
		  "domains[0].mappings[1]: overlaps" },
		{ "{ \"domains\": [ { \"id\": 1, \"stage\": 2, \"levels\": 1, \"ias\": 40 } ] }", "domains[0]" },
		{ "{ \"sid-bits\": 8, \"devices\": [ { \"sid\": 256, \"translation\": \"abort\" } ] }",
		  "devices[0]: stream id 0x100 beyond the 8-bit stream table" },
		{ "{ \"devices\": [ { \"sid\": 1, \"translation\": \"abort\" }, { \"sid\": 1, \"translation\": \"abort\" } ] }",
		  "devices[1]: stream id 0x1 placed twice" },
		{ "{ \"split\": 7 }", "split: 7 is not 6, 8 or 10" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fx *f = fx_new(NULL);

		if (fx_try_synth(f, bad[i].spec) >= 0)
			fail_msg("spec %zu accepted", i);
		if (!strstr(f->err.msg, bad[i].msg))
			fail_msg("spec %zu: \"%s\" lacks \"%s\"", i, f->err.msg, bad[i].msg);
		fx_release(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rich_attachments),
		cmocka_unit_test(test_nested_identity),
		cmocka_unit_test(test_linear_strtab),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_missing_registers),
		cmocka_unit_test(test_clean_bases),
		cmocka_unit_test(test_every_code_triggered),
		cmocka_unit_test(test_codes_have_scenarios),
		cmocka_unit_test(test_page_table_findings),
		cmocka_unit_test(test_hostile_sizes),
		cmocka_unit_test(test_describe_regs),
		cmocka_unit_test(test_synth_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
