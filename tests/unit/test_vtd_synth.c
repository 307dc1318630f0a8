/* VT-d synth: random specs (legacy and scalable, second- and first-level,
 * 3/4/5 levels, 4 KiB / 2 MiB / 1 GiB pages) are built into an arena,
 * decoded and walked; the walk must give back exactly the spec's mappings,
 * split into pages the way iommu_pgsize does.  Hostile specs must fail
 * with a message naming the spec element. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/pt_pgsize.h"
#include "decoders/vtd.h"
#include "mem/arena.h"

#define ARENA_BASE 0x10000000ull
#define ARENA_SIZE (1ull << 30)
#define SZ_4K  0x1000ull
#define SZ_2M  0x200000ull
#define SZ_1G  0x40000000ull

/* ---- a small deterministic PRNG (xorshift64*) ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* ---- what the generator promised ---- */

struct exp_map {
	uint64_t iova, phys, size;
	uint32_t perm;
};

struct exp_domain {
	uint32_t id;
	bool first_level;
	unsigned levels;
	uint64_t pgsizes;      /* leaf sizes the domain may use */
	struct exp_map maps[16];
	size_t nr_maps;
};

struct exp_user {             /* one (device, PASID) translation */
	uint32_t rid;
	int64_t pasid;         /* PASID_NONE: requests without PASID */
	int domain;            /* index into domains, -1 = pass-through */
	bool seen;
};

struct exp {
	bool scalable;
	unsigned aw_bits;
	struct exp_domain dom[4];
	size_t nr_dom;
	struct exp_user users[32];
	size_t nr_users;
};

static struct json_object *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

/* Mappings in increasing IOVA order with gaps; sizes and alignments chosen
 * so that 2 MiB and 1 GiB leaves happen when the domain allows them. */
static void gen_mappings(uint64_t *s, struct exp_domain *d, unsigned ias,
			 unsigned oas, struct json_object *arr)
{
	uint64_t cursor = rnd_below(s, 1ull << (ias - 4)) & ~(SZ_4K - 1);
	size_t n = 1 + rnd_below(s, 6);

	for (size_t i = 0; i < n; i++) {
		unsigned kind = (unsigned)rnd_below(s, 3);
		uint64_t align = kind == 0 ? SZ_4K : kind == 1 ? SZ_2M : SZ_1G;
		uint64_t size, phys, iova;
		struct exp_map *m = &d->maps[d->nr_maps];
		struct json_object *o = json_object_new_object();
		static const char *const perms[] = { "r", "w", "rw" };
		unsigned p = (unsigned)rnd_below(s, d->first_level ? 2 : 3);

		if (d->first_level && p == 1)
			p = 2; /* first level cannot be write-only */
		size = kind == 0 ? SZ_4K * (1 + rnd_below(s, 40))
		     : kind == 1 ? SZ_2M * (1 + rnd_below(s, 3)) + SZ_4K * rnd_below(s, 3)
		     : SZ_1G + SZ_2M * rnd_below(s, 2);
		iova = (cursor + align - 1) & ~(align - 1);
		/* sometimes misalign phys against iova: forces small pages
		 * (not for 1 GiB ones: 262144 leaves) */
		phys = (rnd_below(s, 1ull << (oas - 1)) & ~(align - 1)) +
		       (kind < 2 && rnd_below(s, 4) == 0 ? SZ_4K : 0);
		if ((iova + size) >> (ias - 1) || (phys + size) >> oas)
			break;
		m->iova = iova;
		m->phys = phys;
		m->size = size;
		m->perm = p == 0 ? PERM_R : p == 1 ? PERM_W : PERM_R | PERM_W;
		d->nr_maps++;
		json_object_object_add(o, "iova", hex(iova));
		json_object_object_add(o, "phys", hex(phys));
		json_object_object_add(o, "size", hex(size));
		json_object_object_add(o, "perm", json_object_new_string(perms[p]));
		json_object_array_add(arr, o);
		cursor = iova + size + SZ_4K * rnd_below(s, 600);
	}
}

static struct json_object *gen_spec(uint64_t *s, struct exp *e)
{
	static const unsigned aws[] = { 39, 48, 57 };
	struct json_object *spec = json_object_new_object();
	struct json_object *domains = json_object_new_array();
	struct json_object *devices = json_object_new_array();
	unsigned sagaw_levels;

	memset(e, 0, sizeof(*e));
	e->scalable = rnd_below(s, 2);
	e->aw_bits = aws[rnd_below(s, 3)];
	sagaw_levels = e->aw_bits == 39 ? 3 : e->aw_bits == 48 ? 4 : 5;
	json_object_object_add(spec, "iommu", json_object_new_string("vtd"));
	json_object_object_add(spec, "mode",
			       json_object_new_string(e->scalable ? "scalable" : "legacy"));
	json_object_object_add(spec, "aw-bits", json_object_new_int(e->aw_bits));

	e->nr_dom = 1 + rnd_below(s, 3);
	for (size_t i = 0; i < e->nr_dom; i++) {
		struct exp_domain *d = &e->dom[i];
		struct json_object *o = json_object_new_object(), *maps = json_object_new_array();
		unsigned ias;

		d->id = (uint32_t)(2 + i * 7 + rnd_below(s, 5));
		d->first_level = e->scalable && rnd_below(s, 2);
		if (d->first_level)
			d->levels = e->aw_bits == 57 && rnd_below(s, 2) ? 5 : 4;
		else
			d->levels = 3 + (unsigned)rnd_below(s, sagaw_levels - 2);
		ias = d->first_level ? 48 + 9 * (d->levels - 4) : 30 + 9 * (d->levels - 2);
		d->pgsizes = SZ_4K | SZ_2M | SZ_1G;
		json_object_object_add(o, "id", json_object_new_int((int)d->id));
		json_object_object_add(o, "format", json_object_new_string(
			d->first_level ? "first-level" : "second-level"));
		json_object_object_add(o, "levels", json_object_new_int((int)d->levels));
		if (rnd_below(s, 4) == 0) {
			struct json_object *ps = json_object_new_array();

			json_object_array_add(ps, json_object_new_string("4K"));
			json_object_array_add(ps, json_object_new_string("2M"));
			d->pgsizes = SZ_4K | SZ_2M;
			json_object_object_add(o, "page-sizes", ps);
		}
		gen_mappings(s, d, ias, e->aw_bits > 52 ? 52 : e->aw_bits, maps);
		json_object_object_add(o, "mappings", maps);
		json_object_array_add(domains, o);
	}

	for (size_t i = 0, n = 1 + rnd_below(s, 4); i < n; i++) {
		struct json_object *o = json_object_new_object();
		uint32_t rid = (uint32_t)(rnd_below(s, 4) << 8 | (i * 0x41 + rnd_below(s, 8)));
		char bdf[16];
		size_t di = rnd_below(s, e->nr_dom);
		bool pt = rnd_below(s, 6) == 0;
		struct exp_user *u = &e->users[e->nr_users++];

		snprintf(bdf, sizeof(bdf), "%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
		json_object_object_add(o, "bdf", json_object_new_string(bdf));
		u->rid = rid;
		u->pasid = PASID_NONE;
		u->domain = pt ? -1 : (int)di;
		if (pt)
			json_object_object_add(o, "translation", json_object_new_string("passthrough"));
		else
			json_object_object_add(o, "domain", json_object_new_int((int)e->dom[di].id));
		if (e->scalable && rnd_below(s, 2)) {
			struct json_object *pasids = json_object_new_array();
			uint32_t pasid = 0;

			for (size_t k = 0, np = 1 + rnd_below(s, 3); k < np; k++) {
				struct json_object *po;
				struct exp_user *pu;
				size_t pd = rnd_below(s, e->nr_dom);

				pasid += 1 + (uint32_t)(rnd_below(s, 2) ? rnd_below(s, 0x3ffff) : rnd_below(s, 100));
				if (pasid >= VTD_PASID_MAX)
					break;
				po = json_object_new_object();
				pu = &e->users[e->nr_users++];
				pu->rid = rid;
				pu->pasid = pasid;
				pu->domain = (int)pd;
				json_object_object_add(po, "pasid", json_object_new_int((int)pasid));
				json_object_object_add(po, "domain", json_object_new_int((int)e->dom[pd].id));
				json_object_array_add(pasids, po);
			}
			json_object_object_add(o, "pasids", pasids);
		}
		json_object_array_add(devices, o);
	}
	json_object_object_add(spec, "domains", domains);
	json_object_object_add(spec, "devices", devices);
	return spec;
}

/* ---- decode and walk ---- */

struct leaves {
	struct pt_leaf v[16384];
	size_t n;
};

static int on_leaf(void *ctx, const struct pt_leaf *l)
{
	struct leaves *lv = ctx;

	assert_true(lv->n < sizeof(lv->v) / sizeof(lv->v[0]));
	lv->v[lv->n++] = *l;
	return 0;
}

struct decoded {
	struct attach att[64];
	size_t n;
};

static int on_attach(struct decode_ctx *ctx, const struct attach *a)
{
	struct decoded *d = ctx->attach_ctx;

	assert_true(d->n < sizeof(d->att) / sizeof(d->att[0]));
	d->att[d->n++] = *a;
	return 0;
}

static int on_finding(struct sink *s, const struct finding *f)
{
	(void)s;
	fail_msg("unexpected finding %s at %s: %s", f->code, f->path, f->message);
	return 1;
}

/* The leaves of one mapping, as iommu_pgsize splits it. */
static void expect_pages(const struct exp_map *m, uint64_t pgsizes,
			 const struct leaves *lv, size_t *at)
{
	uint64_t iova = m->iova, phys = m->phys, left = m->size;

	while (left) {
		uint64_t count, pg = pt_pgsize(pgsizes, iova, phys, left, &count);

		assert_true(pg != 0 && count != 0);
		for (uint64_t k = 0; k < count; k++) {
			const struct pt_leaf *l;

			assert_true(*at < lv->n);
			l = &lv->v[(*at)++];
			if (l->iova != iova || l->phys != phys || l->size != pg)
				fail_msg("leaf %zu: iova 0x%" PRIx64 " phys 0x%" PRIx64
					 " size 0x%" PRIx64 ", expected 0x%" PRIx64
					 " 0x%" PRIx64 " 0x%" PRIx64, *at - 1, l->iova,
					 l->phys, l->size, iova, phys, pg);
			assert_int_equal(l->perm & (PERM_R | PERM_W), m->perm);
			iova += pg;
			phys += pg;
			left -= pg;
		}
	}
}

static void check_walk(struct physmem *pm, const struct attach *a,
		       const struct exp_domain *d)
{
	static struct leaves lv;
	struct sink sink = { .finding = on_finding };
	struct errbuf err;
	struct pt_walk w;
	size_t at = 0;

	memset(&w, 0, sizeof(w));
	lv.n = 0;
	w.cfg = &a->cfg;
	w.mem = pm;
	w.root = a->root;
	w.iova_base = a->iova_base;
	w.limits.max_tables = PT_DEFAULT_MAX_TABLES;
	w.limits.max_entries = PT_DEFAULT_MAX_ENTRIES;
	w.leaf = on_leaf;
	w.ctx = &lv;
	w.findings = &sink;
	w.path_prefix = a->path;
	assert_int_equal(pt_walk(&w, &err), 0);
	for (size_t i = 0; i < d->nr_maps; i++)
		expect_pages(&d->maps[i], d->pgsizes, &lv, &at);
	assert_int_equal(at, lv.n);
}

static void round_trip(uint64_t seed)
{
	uint64_t s = seed;
	struct exp e;
	struct json_object *spec = gen_spec(&s, &e);
	struct arena *arena = arena_new(ARENA_BASE, ARENA_SIZE);
	struct image_info info;
	struct image_unit *unit;
	struct physmem *pm;
	struct errbuf err;
	struct sink sink = { .finding = on_finding };
	struct decode_ctx ctx;
	static struct decoded dec;
	int rc;

	image_info_init(&info);
	unit = image_info_unit(&info, 0, &err);
	assert_non_null(unit);
	rc = vtd_synth(spec, arena, unit, &err);
	if (rc < 0)
		fail_msg("seed 0x%" PRIx64 ": synth: %s\n%s", seed, err.msg,
			 json_object_to_json_string(spec));
	assert_int_equal(unit->kind, IOMMU_VTD);
	assert_int_equal(arena_physmem(arena, &pm, &err), 0);

	memset(&ctx, 0, sizeof(ctx));
	dec.n = 0;
	ctx.mem = pm;
	ctx.unit = unit;
	ctx.sink = &sink;
	ctx.attach = on_attach;
	ctx.attach_ctx = &dec;
	assert_int_equal(vtd_decoder.decode(&ctx, &err), 0);

	assert_int_equal(dec.n, e.nr_users);
	for (size_t i = 0; i < dec.n; i++) {
		const struct attach *a = &dec.att[i];
		struct exp_user *u = NULL;

		for (size_t k = 0; k < e.nr_users && !u; k++)
			if (e.users[k].rid == a->dev.id && e.users[k].pasid == a->pasid &&
			    !e.users[k].seen)
				u = &e.users[k];
		if (!u)
			fail_msg("seed 0x%" PRIx64 ": unexpected attachment %s", seed, a->path);
		u->seen = true;
		if (u->domain < 0) {
			assert_int_equal(a->mode, ATTACH_PASSTHROUGH);
			continue;
		}
		assert_int_equal(a->mode, ATTACH_TRANSLATE);
		assert_int_equal(a->domain, e.dom[u->domain].id);
		assert_int_equal(a->cfg.levels, e.dom[u->domain].levels);
		assert_ptr_equal(a->cfg.fmt, e.dom[u->domain].first_level ? &pt_fmt_x86_64
								      : &pt_fmt_vtd_ss);
		check_walk(pm, a, &e.dom[u->domain]);
	}
	physmem_free(pm);
	image_info_release(&info);
	arena_free(arena);
	json_object_put(spec);
}

static void test_random_round_trips(void **state)
{
	for (uint64_t i = 1; i <= 300; i++)
		round_trip(0x9e3779b97f4a7c15ull * i);
}

/* ---- specific specs ---- */

static int synth_str(const char *json, struct arena *arena, struct image_info *info,
		     struct errbuf *err)
{
	struct json_object *spec = json_tokener_parse(json);
	struct image_unit *unit;
	int rc;

	assert_non_null(spec);
	unit = image_info_unit(info, 0, err);
	assert_non_null(unit);
	rc = vtd_synth(spec, arena, unit, err);
	json_object_put(spec);
	return rc;
}

static void test_registers_and_devices(void **state)
{
	struct arena *arena = arena_new(ARENA_BASE, ARENA_SIZE);
	struct image_info info;
	struct errbuf err;
	uint64_t v;

	image_info_init(&info);
	assert_int_equal(synth_str(
		"{\"iommu\":\"vtd\",\"mode\":\"scalable\",\"segment\":3,"
		"\"domains\":[{\"id\":2}],"
		"\"devices\":[{\"bdf\":\"0003:00:02.0\",\"domain\":2,\"name\":\"gpu\","
		"\"translation\":\"device-tlb\"},{\"bdf\":\"01:00.0\",\"translation\":\"blocked\"}]}",
		arena, &info, &err), 0);
	assert_true(image_unit_reg(&info.units[0], "rtaddr", &v));
	/* the root table is the arena's first page, TTM 01b */
	assert_int_equal(v, ARENA_BASE | 1ull << 10);
	assert_true(image_unit_reg(&info.units[0], "cap", &v));
	assert_int_equal(v, 0x00d2008c222f0606ull | 1ull << 56);
	assert_true(image_unit_reg(&info.units[0], "ecap", &v));
	assert_int_equal(vtd_ecap_SMTS(v), 1);
	assert_int_equal(vtd_ecap_PASID(v), 1);
	assert_int_equal(info.units[0].segment, 3);
	assert_int_equal(info.units[0].nr_devices, 2);
	assert_int_equal(info.units[0].devices[0].id, 0x10);
	assert_int_equal(info.units[0].devices[0].segment, 3);
	assert_string_equal(info.units[0].devices[0].name, "gpu");
	/* context entry of 00:02.0: P, DTE, no PASIDE */
	{
		uint64_t root = ARENA_BASE, ctp, ce;

		memcpy(&ctp, (uint8_t *)arena_page(arena, root), 8);
		assert_int_equal(ctp & 1, 1);
		ctp &= ~0xfffull;
		memcpy(&ce, (uint8_t *)arena_page(arena, ctp) + 0x10 * 32, 8);
		assert_int_equal(ce & 0xf, VTD_SM_CTX_LO_P | VTD_SM_CTX_LO_DTE);
	}
	image_info_release(&info);
	arena_free(arena);
}

static void test_legacy_defaults(void **state)
{
	struct arena *arena = arena_new(ARENA_BASE, ARENA_SIZE);
	struct image_info info;
	struct errbuf err;
	uint64_t v;

	image_info_init(&info);
	assert_int_equal(synth_str("{\"iommu\":\"vtd\",\"aw-bits\":39,"
				   "\"regs\":{\"ecap\":\"0xf00f5a\"}}", arena, &info, &err), 0);
	assert_true(image_unit_reg(&info.units[0], "rtaddr", &v));
	assert_int_equal(v, ARENA_BASE);
	assert_true(image_unit_reg(&info.units[0], "cap", &v));
	/* QEMU aw-bits=39 without caching mode: 12008c22260206 plus drain */
	assert_int_equal(v, 0x00d2008c22260206ull);
	assert_true(image_unit_reg(&info.units[0], "ecap", &v));
	assert_int_equal(v, 0xf00f5a);
	image_info_release(&info);
	arena_free(arena);
}

struct bad_spec {
	const char *json;
	const char *error;
};

static const struct bad_spec bad_specs[] = {
	{ "[]", "expected an object" },
	{ "{\"iommu\":\"vtd\",\"mdoe\":\"legacy\"}", "unknown member \"mdoe\"" },
	{ "{\"mode\":\"extended\"}", "mode: unknown value \"extended\"" },
	{ "{\"aw-bits\":40}", "aw-bits: 40 is not 39, 48 or 57" },
	{ "{\"segment\":\"0x10000\"}", "segment: 65536 is larger than 65535" },
	{ "{\"regs\":{\"cap\":\"12z\"}}", "regs.cap: bad number \"12z\"" },
	{ "{\"regs\":{\"cap\":-1}}", "regs.cap: negative number" },
	{ "{\"regs\":{\"cap\":\"0x10000000000000000\"}}", "does not fit in 64 bits" },
	{ "{\"regs\":{\"rtaddr\":1}}", "regs: unknown member \"rtaddr\"" },
	{ "{\"mode\":\"scalable\",\"regs\":{\"ecap\":0}}", "mode: scalable needs ECAP.SMTS" },
	{ "{\"mode\":\"abort-dma\"}", "mode: abort-dma needs ECAP.ADMS" },
	{ "{\"domains\":{}}", "domains: expected an array" },
	{ "{\"domains\":[{\"id\":2},{\"id\":2}]}", "domains[1].id: domain 2 defined twice" },
	{ "{\"domains\":[{\"id\":65536}]}", "domains[0].id: 65536 is larger than 65535" },
	{ "{\"regs\":{\"cap\":\"0x8c222f0680\"},\"domains\":[{\"id\":0}]}",
	  "domains[0].id: domain 0 is reserved under caching mode" },
	{ "{\"regs\":{\"cap\":\"0x8c222f0600\"},\"domains\":[{\"id\":16}]}",
	  "domains[0].id: domain 16 but CAP.ND allows 16" },
	{ "{\"domains\":[{\"id\":2,\"format\":\"first-level\"}]}",
	  "domains[0].format: first-level needs scalable mode" },
	{ "{\"domains\":[{\"id\":2,\"levels\":5}]}",
	  "domains[0].levels: 5-level second-level tables are not in CAP.SAGAW 0x6" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2,\"format\":\"first-level\",\"levels\":5}]}",
	  "domains[0].levels: 5-level first-level tables need CAP.FL5LP" },
	{ "{\"domains\":[{\"id\":2,\"page-sizes\":[\"2M\"]}]}",
	  "domains[0].page-sizes: 4K is required" },
	{ "{\"domains\":[{\"id\":2,\"page-sizes\":[\"4K\",\"512G\"]}]}",
	  "domains[0].page-sizes[1]: unknown value \"512G\"" },
	{ "{\"domains\":[{\"id\":2,\"mappings\":[{\"iova\":0,\"phys\":4096,\"size\":100}]}]}",
	  "domains[0].mappings[0]: iova, phys and size must be non-zero multiples of 4 KiB" },
	{ "{\"domains\":[{\"id\":2,\"mappings\":[{\"iova\":0,\"phys\":0,\"size\":4096,\"perm\":\"x\"}]}]}",
	  "domains[0].mappings[0].perm: unknown value \"x\"" },
	{ "{\"domains\":[{\"id\":2,\"mappings\":[{\"iova\":0,\"phys\":0,\"size\":8192},"
	  "{\"iova\":4096,\"phys\":0,\"size\":4096}]}]}",
	  "domains[0].mappings[1]: overlaps an earlier mapping of domain 2" },
	{ "{\"domains\":[{\"id\":2,\"levels\":3,\"mappings\":[{\"iova\":\"0x8000000000\","
	  "\"phys\":0,\"size\":4096}]}]}",
	  "domains[0].mappings[0]: iova range 0x8000000000+0x1000 exceeds the domain's 39-bit input width" },
	{ "{\"domains\":[{\"id\":2,\"mappings\":[{\"iova\":0,\"phys\":\"0x1000000000000\","
	  "\"size\":4096}]}]}",
	  "exceeds the 48-bit host address width" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2,\"format\":\"first-level\","
	  "\"mappings\":[{\"iova\":0,\"phys\":0,\"size\":4096,\"perm\":\"w\"}]}]}",
	  "domains[0].mappings[0].perm: first-level tables cannot map write-only" },
	{ "{\"devices\":[{\"bdf\":\"zz\"}]}", "devices[0].bdf: bad BDF \"zz\"" },
	{ "{\"devices\":[{\"bdf\":7}]}", "devices[0].bdf: expected a BDF string" },
	{ "{\"segment\":1,\"devices\":[{\"bdf\":\"0002:00:01.0\",\"translation\":\"blocked\"}]}",
	  "devices[0].bdf: segment 0002 but the unit is segment 0001" },
	{ "{\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\",\"domain\":2},"
	  "{\"bdf\":\"00:01.0\",\"domain\":2}]}", "devices[1].bdf: \"00:01.0\" listed twice" },
	{ "{\"devices\":[{\"bdf\":\"00:01.0\"}]}",
	  "devices[0].domain: missing (needed for translated)" },
	{ "{\"devices\":[{\"bdf\":\"00:01.0\",\"domain\":9}]}", "devices[0].domain: no domain 9" },
	{ "{\"devices\":[{\"bdf\":\"00:01.0\",\"translation\":\"identity\"}]}",
	  "devices[0].translation: unknown value \"identity\"" },
	{ "{\"regs\":{\"ecap\":0},\"devices\":[{\"bdf\":\"00:01.0\",\"translation\":\"passthrough\"}]}",
	  "devices[0].translation: passthrough needs ECAP.PT" },
	{ "{\"regs\":{\"ecap\":0},\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"translation\":\"device-tlb\"}]}",
	  "devices[0].translation: device-tlb needs ECAP.DT" },
	{ "{\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\",\"domain\":2,"
	  "\"pasids\":[]}]}", "devices[0].pasids: scalable mode only" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"rid-pasid\":5}]}", "devices[0].rid-pasid: non-zero needs ECAP.RPS" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"pasids\":[{\"pasid\":1048576,\"domain\":2}]}]}",
	  "devices[0].pasids[0].pasid: 1048576 is larger than 1048575" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"pasids\":[{\"pasid\":0,\"domain\":2}]}]}",
	  "devices[0].pasids[0].pasid: 0 is the RID_PASID" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"pasids\":[{\"pasid\":3,\"domain\":2},{\"pasid\":3,\"domain\":2}]}]}",
	  "devices[0].pasids[1]: PASID 3 set twice" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"pasids\":[{\"pasid\":3,\"domain\":2,\"pgtt\":\"first-level\"}]}]}",
	  "devices[0].pasids[0].domain: domain 2 is second-level, pgtt says first-level" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"pasids\":[{\"pasid\":3,\"domain\":2,\"pgtt\":\"nested\"}]}]}",
	  "devices[0].pasids[0].pgtt: nested is not supported by synth" },
	{ "{\"mode\":\"scalable\",\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\","
	  "\"domain\":2,\"pasids\":[{\"pasid\":3}]}]}", "devices[0].pasids[0].domain: missing" },
	{ "{\"domains\":[{\"id\":2}],\"devices\":[{\"bdf\":\"00:01.0\",\"domain\":2,"
	  "\"name\":\"a-name-that-is-much-too-long-to-fit\"}]}",
	  "devices[0].name: longer than 31 characters" },
};

static void test_bad_specs(void **state)
{
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		struct arena *arena = arena_new(ARENA_BASE, ARENA_SIZE);
		struct image_info info;
		struct errbuf err;

		image_info_init(&info);
		err.msg[0] = '\0';
		if (synth_str(bad_specs[i].json, arena, &info, &err) >= 0)
			fail_msg("accepted: %s", bad_specs[i].json);
		if (!strstr(err.msg, bad_specs[i].error))
			fail_msg("%s\n  said:     %s\n  expected: %s", bad_specs[i].json,
				 err.msg, bad_specs[i].error);
		image_info_release(&info);
		arena_free(arena);
	}
}

/* A full arena is an error, not a crash. */
static void test_arena_exhausted(void **state)
{
	struct arena *arena = arena_new(ARENA_BASE, 8 * SZ_4K);
	struct image_info info;
	struct errbuf err;

	image_info_init(&info);
	assert_true(synth_str("{\"domains\":[{\"id\":2,\"mappings\":["
			      "{\"iova\":0,\"phys\":0,\"size\":4096},"
			      "{\"iova\":\"0x8000000000\",\"phys\":0,\"size\":4096},"
			      "{\"iova\":\"0x10000000000\",\"phys\":0,\"size\":4096}]}]}",
			      arena, &info, &err) < 0);
	assert_non_null(strstr(err.msg, "domains[0].mappings[2]"));
	image_info_release(&info);
	arena_free(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers_and_devices),
		cmocka_unit_test(test_legacy_defaults),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_arena_exhausted),
		cmocka_unit_test(test_random_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
