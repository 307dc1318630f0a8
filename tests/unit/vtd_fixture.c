#include "vtd_fixture.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fx *fx_of_sink(struct sink *s)
{
	return (struct fx *)((char *)s - offsetof(struct fx, sink));
}

static int fx_on_finding(struct sink *s, const struct finding *fd)
{
	struct fx *f = fx_of_sink(s);
	struct fx_finding *r;

	for (size_t i = 0; i < VTD_NR_FINDINGS; i++)
		if (strcmp(vtd_findings[i].code, fd->code) == 0)
			f->code_count[i]++;
	if (f->nr_fnd++ >= FX_MAX_FND)
		return 0;
	r = &f->fnd[f->nr_fnd - 1];
	snprintf(r->code, sizeof(r->code), "%s", fd->code);
	snprintf(r->path, sizeof(r->path), "%s", fd->path);
	snprintf(r->message, sizeof(r->message), "%s", fd->message);
	r->addr = fd->addr;
	r->has_dev = fd->has_dev;
	r->dev = fd->dev;
	r->pasid = fd->pasid;
	r->severity = fd->severity;
	return 0;
}

static int fx_on_attach(struct decode_ctx *ctx, const struct attach *a)
{
	struct fx *f = ctx->attach_ctx;

	if (f->nr_att < FX_MAX_ATT)
		f->att[f->nr_att] = *a;
	f->nr_att++;
	return 0;
}

void fx_set_reg(struct fx *f, const char *name, uint64_t value)
{
	for (size_t i = 0; i < f->unit.nr_regs; i++) {
		if (strcmp(f->regs[i].name, name) == 0) {
			f->regs[i].value = value;
			return;
		}
	}
	assert_true(f->unit.nr_regs < sizeof(f->regs) / sizeof(f->regs[0]));
	snprintf(f->regs[f->unit.nr_regs].name, sizeof(f->regs[0].name), "%s", name);
	f->regs[f->unit.nr_regs++].value = value;
}

void fx_del_reg(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->unit.nr_regs; i++) {
		if (strcmp(f->regs[i].name, name) != 0)
			continue;
		f->regs[i] = f->regs[--f->unit.nr_regs];
		return;
	}
}

void fx_init(struct fx *f, uint64_t cap, bool have_cap, uint64_t ecap,
	     bool have_ecap, unsigned ttm)
{
	memset(f, 0, sizeof(*f));
	f->a = arena_new(FX_ARENA_BASE, FX_ARENA_SIZE);
	assert_non_null(f->a);
	f->unit.kind = IOMMU_VTD;
	f->unit.regs = f->regs;
	f->unit.devices = f->devs;
	f->root = fx_page(f);
	fx_set_reg(f, "rtaddr", f->root | (uint64_t)ttm << 10);
	if (have_cap)
		fx_set_reg(f, "cap", cap);
	if (have_ecap)
		fx_set_reg(f, "ecap", ecap);
}

void fx_release(struct fx *f)
{
	arena_free(f->a);
	f->a = NULL;
}

uint64_t fx_page(struct fx *f)
{
	uint64_t pa = arena_alloc_page(f->a);

	assert_true(pa != 0);
	return pa;
}

void fx_wr(struct fx *f, uint64_t pa, uint64_t val)
{
	uint8_t *p = arena_page(f->a, pa & ~0xfffull);

	assert_non_null(p);
	memcpy(p + (pa & 0xfff), &val, sizeof(val));
}

uint64_t fx_rd(struct fx *f, uint64_t pa)
{
	uint8_t *p = arena_page(f->a, pa & ~0xfffull);
	uint64_t val;

	assert_non_null(p);
	memcpy(&val, p + (pa & 0xfff), sizeof(val));
	return val;
}

void fx_legacy_root(struct fx *f, unsigned bus, uint64_t ctp)
{
	fx_wr(f, f->root + bus * 16, ctp | VTD_ROOT_LO_P);
}

void fx_legacy_ctx(struct fx *f, uint64_t ctp, unsigned devfn, uint64_t lo,
		   uint64_t hi)
{
	fx_wr(f, ctp + devfn * 16, lo);
	fx_wr(f, ctp + devfn * 16 + 8, hi);
}

uint64_t fx_legacy_lo(unsigned tt, uint64_t slptptr)
{
	return VTD_CTX_LO_P | (uint64_t)tt << VTD_CTX_LO_TT_SHIFT | slptptr;
}

uint64_t fx_legacy_hi(unsigned aw, unsigned did)
{
	return aw | (uint64_t)did << VTD_CTX_HI_DID_SHIFT;
}

void fx_sm_root(struct fx *f, unsigned bus, bool upper, uint64_t ctp)
{
	fx_wr(f, f->root + bus * 16 + (upper ? 8 : 0), ctp | 1);
}

void fx_sm_ctx(struct fx *f, uint64_t ctp, unsigned devfn, uint64_t qw0,
	       uint64_t qw1)
{
	uint64_t e = ctp + (devfn & 0x7f) * 32;

	fx_wr(f, e, qw0);
	fx_wr(f, e + 8, qw1);
}

uint64_t fx_pasid_entry(struct fx *f, uint64_t dir, uint32_t pasid,
			uint64_t qw0, uint64_t qw1, uint64_t qw2)
{
	uint64_t pde_pa = dir + (pasid >> 6) * 8, pde = fx_rd(f, pde_pa), table, e;

	if (!(pde & 1)) {
		table = fx_page(f);
		fx_wr(f, pde_pa, table | 1);
	} else {
		table = pde & ~0xfffull;
	}
	e = table + (pasid & 63) * 64;
	fx_wr(f, e, qw0);
	fx_wr(f, e + 8, qw1);
	fx_wr(f, e + 16, qw2);
	return e;
}

uint64_t fx_pe_sl(unsigned aw, uint64_t slptptr)
{
	return VTD_PE0_P | (uint64_t)aw << VTD_PE0_AW_SHIFT |
	       (uint64_t)VTD_PGTT_SL_ONLY << VTD_PE0_PGTT_SHIFT | slptptr;
}

uint64_t fx_pe_fl(unsigned flpm, uint64_t flptptr)
{
	return (uint64_t)flpm << VTD_PE2_FLPM_SHIFT | flptptr;
}

void fx_add_device(struct fx *f, uint32_t id)
{
	assert_true(f->unit.nr_devices < sizeof(f->devs) / sizeof(f->devs[0]));
	f->devs[f->unit.nr_devices].id = id;
	f->devs[f->unit.nr_devices].pci = true;
	f->unit.nr_devices++;
}

void fx_filter_device(struct fx *f, unsigned bus, unsigned devfn)
{
	size_t n = f->filter.nr_devices;

	assert_true(n < sizeof(f->filter_devs) / sizeof(f->filter_devs[0]));
	f->filter_devs[n].id = bus << 8 | devfn;
	f->filter_devs[n].pci = true;
	f->filter.devices = f->filter_devs;
	f->filter.nr_devices = n + 1;
	f->use_filter = true;
}

void fx_filter_pasid(struct fx *f, int64_t pasid)
{
	f->filter.pasid = pasid;
	f->filter.pasid_set = true;
	f->use_filter = true;
}

int fx_decode(struct fx *f)
{
	struct physmem *pm;
	struct decode_ctx ctx;
	int rc;

	f->nr_att = 0;
	f->nr_fnd = 0;
	memset(f->code_count, 0, sizeof(f->code_count));
	f->err.msg[0] = '\0';
	f->sink.finding = fx_on_finding;
	f->sink.mapping = NULL;
	assert_int_equal(arena_physmem(f->a, &pm, &f->err), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.mem = pm;
	ctx.unit = &f->unit;
	ctx.filter = f->use_filter ? &f->filter : NULL;
	ctx.sink = &f->sink;
	ctx.limits = f->limits;
	ctx.attach = fx_on_attach;
	ctx.attach_ctx = f;
	rc = vtd_decoder.decode(&ctx, &f->err);
	physmem_free(pm);
	return rc;
}

size_t fx_count(const struct fx *f, const char *code)
{
	for (size_t i = 0; i < VTD_NR_FINDINGS; i++)
		if (strcmp(vtd_findings[i].code, code) == 0)
			return f->code_count[i];
	fail_msg("%s is not a vtd finding code", code);
	return 0;
}

const struct fx_finding *fx_find(const struct fx *f, const char *code)
{
	for (size_t i = 0; i < f->nr_fnd && i < FX_MAX_FND; i++)
		if (strcmp(f->fnd[i].code, code) == 0)
			return &f->fnd[i];
	return NULL;
}

const struct attach *fx_att(const struct fx *f, unsigned bus, unsigned devfn,
			    int64_t pasid)
{
	for (size_t i = 0; i < f->nr_att && i < FX_MAX_ATT; i++)
		if (f->att[i].dev.id == (bus << 8 | devfn) && f->att[i].pasid == pasid)
			return &f->att[i];
	return NULL;
}
