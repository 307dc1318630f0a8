/* VT-d context decoder on hand-built structures: the attachments of legacy
 * and scalable-mode tables, filters, every finding code (each one triggered
 * by a scenario below, and a test that no code lacks one), hostile tables,
 * and the register descriptions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vtd_fixture.h"

/* ---- bases the scenarios start from ---- */

struct legacy_base {
	uint64_t ctp, slpt;
};

/* 00:03.0: multi-level, AW 2 (48-bit), DID 5. */
static struct legacy_base base_legacy(struct fx *f, uint64_t cap, uint64_t ecap)
{
	struct legacy_base b;

	fx_init(f, cap, true, ecap, true, VTD_TTM_LEGACY);
	b.ctp = fx_page(f);
	b.slpt = fx_page(f);
	fx_legacy_root(f, 0, b.ctp);
	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(VTD_TT_MULTI_LEVEL, b.slpt),
		      fx_legacy_hi(2, 5));
	return b;
}

struct sm_base {
	uint64_t lctp, dir, slpt, flpt;
	uint64_t rid_entry, pasid1_entry;
};

/* 00:03.0 with PASIDE: RID_PASID 0 -> second level AW 2 DID 2, PASID 1 ->
 * first level 4-level DID 3.  PDTS 0 (128 directory entries). */
static struct sm_base base_sm(struct fx *f, uint64_t cap, uint64_t ecap)
{
	struct sm_base b;

	fx_init(f, cap, true, ecap, true, VTD_TTM_SCALABLE);
	b.lctp = fx_page(f);
	b.dir = fx_page(f);
	b.slpt = fx_page(f);
	b.flpt = fx_page(f);
	fx_sm_root(f, 0, false, b.lctp);
	fx_sm_ctx(f, b.lctp, 0x18, VTD_SM_CTX_LO_P | VTD_SM_CTX_LO_PASIDE | b.dir, 0);
	b.rid_entry = fx_pasid_entry(f, b.dir, 0, fx_pe_sl(2, b.slpt), 2, 0);
	b.pasid1_entry = fx_pasid_entry(f, b.dir, 1,
					VTD_PE0_P | (uint64_t)VTD_PGTT_FL_ONLY << VTD_PE0_PGTT_SHIFT,
					3, fx_pe_fl(0, b.flpt));
	return b;
}

/* ---- one scenario per finding code ---- */

struct scenario {
	const char *code;
	const char *name;
	void (*build)(struct fx *f);
};

static void sc_regs_assumed(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_del_reg(f, "cap");
	fx_del_reg(f, "ecap");
}
static void sc_rtaddr_reserved(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_set_reg(f, "rtaddr", f->root | 0x4);
}
static void sc_ttm_reserved(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_set_reg(f, "rtaddr", f->root | 2ull << 10);
}
static void sc_ttm_abort(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU | 1ull << 52);
	fx_set_reg(f, "rtaddr", f->root | 3ull << 10);
}
static void sc_ttm_unsupported(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_set_reg(f, "rtaddr", f->root | 3ull << 10);
}
static void sc_root_reserved(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_wr(f, f->root + 8, 1);
}
static void sc_root_ctp_outside(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_legacy_root(f, 1, FX_OUTSIDE);
}
static void sc_root_ctp_shared(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);

	fx_legacy_root(f, 1, b.ctp);
}
static void sc_ctx_reserved(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(0, b.slpt) | 0x10,
		      fx_legacy_hi(2, 5) | 1ull << 7);
}
static void sc_ctx_tt_reserved(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(3, b.slpt), fx_legacy_hi(2, 5));
}
static void sc_ctx_dt_unsupported(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU & ~4ull);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(1, b.slpt), fx_legacy_hi(2, 5));
}
static void sc_ctx_pt_unsupported(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU & ~0x40ull);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(2, 0), fx_legacy_hi(2, 1));
}
static void sc_ctx_aw_unsupported(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(0, b.slpt), fx_legacy_hi(3, 5));
}
static void sc_ctx_did_range(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48 & ~7ull, FX_ECAP_QEMU);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(0, b.slpt), fx_legacy_hi(2, 16));
}
static void sc_ctx_did_reserved(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48 | 0x80, FX_ECAP_QEMU);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(0, b.slpt), fx_legacy_hi(2, 0));
}
static void sc_ctx_slptptr_outside(struct fx *f)
{
	struct legacy_base b = base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);

	fx_legacy_ctx(f, b.ctp, 0x18, fx_legacy_lo(0, FX_OUTSIDE), fx_legacy_hi(2, 5));
}
static void sc_ctx_feature_unsupported(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_sm_ctx(f, b.lctp, 0x18, VTD_SM_CTX_LO_P | VTD_SM_CTX_LO_PRE | b.dir, 0);
}
static void sc_ctx_pasiddir_outside(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_sm_ctx(f, b.lctp, 0x18, VTD_SM_CTX_LO_P | FX_OUTSIDE, 0);
}
static void sc_ctx_rid_pasid_range(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	/* PDTS 0: 128 entries cover PASIDs below 0x2000 */
	fx_sm_ctx(f, b.lctp, 0x18, VTD_SM_CTX_LO_P | b.dir, 0x2000);
}
static void sc_pde_reserved(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.dir, fx_rd(f, b.dir) | 0x4);
}
static void sc_pde_table_outside(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.dir + 8, FX_OUTSIDE | 1);
}
static void sc_pde_alias(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.dir + 5 * 8, fx_rd(f, b.dir));
}
static void sc_pe_reserved(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.pasid1_entry + 3 * 8, 0x100);
}
static void sc_pe_pgtt_reserved(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.pasid1_entry, VTD_PE0_P | 5ull << VTD_PE0_PGTT_SHIFT);
}
static void sc_pe_pgtt_unsupported(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM & ~(1ull << 26));

	fx_wr(f, b.pasid1_entry, fx_pe_sl(2, b.slpt) ^
	      (uint64_t)(VTD_PGTT_SL_ONLY ^ VTD_PGTT_NESTED) << VTD_PE0_PGTT_SHIFT);
}
static void sc_pe_aw_unsupported(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.rid_entry, fx_pe_sl(3, b.slpt));
}
static void sc_pe_flpm_unsupported(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.pasid1_entry + 16, fx_pe_fl(1, b.flpt));
}
static void sc_pe_did_range(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM & ~7ull, FX_ECAP_SM);

	fx_wr(f, b.pasid1_entry + 8, 300);
}
static void sc_pe_did_reserved(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM | 0x80, FX_ECAP_SM);

	fx_wr(f, b.pasid1_entry + 8, 0);
}
static void sc_pe_feature_unsupported(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	/* ERE without ECAP.ERS */
	fx_wr(f, b.pasid1_entry + 16, fx_pe_fl(0, b.flpt) | VTD_PE2_ERE);
}
static void sc_pe_slptptr_outside(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.rid_entry, fx_pe_sl(2, FX_OUTSIDE));
}
static void sc_pe_flptptr_outside(struct fx *f)
{
	struct sm_base b = base_sm(f, FX_CAP_SM, FX_ECAP_SM);

	fx_wr(f, b.pasid1_entry + 16, fx_pe_fl(0, FX_OUTSIDE));
}
static void sc_pt_config(struct fx *f)
{
	/* CAP.MGAW 11: a 12-bit host address width no codec accepts */
	base_legacy(f, (FX_CAP_QEMU48 & ~(0x3full << 16)) | 11ull << 16, FX_ECAP_QEMU);
}
static void sc_limit_tables(struct fx *f)
{
	base_legacy(f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	f->limits.max_tables = 1;
}

static const struct scenario scenarios[] = {
	{ "vtd.regs.assumed", "no cap/ecap", sc_regs_assumed },
	{ "vtd.rtaddr.reserved", "rtaddr bit 2", sc_rtaddr_reserved },
	{ "vtd.rtaddr.ttm-reserved", "ttm 10b", sc_ttm_reserved },
	{ "vtd.rtaddr.ttm-abort", "ttm 11b", sc_ttm_abort },
	{ "vtd.rtaddr.ttm-unsupported", "ttm 11b without ADMS", sc_ttm_unsupported },
	{ "vtd.root.reserved", "root QW1", sc_root_reserved },
	{ "vtd.root.ctp-outside", "ctp outside", sc_root_ctp_outside },
	{ "vtd.root.ctp-shared", "two buses, one table", sc_root_ctp_shared },
	{ "vtd.context.reserved", "context bits 4, 71", sc_ctx_reserved },
	{ "vtd.context.tt-reserved", "tt 11b", sc_ctx_tt_reserved },
	{ "vtd.context.dt-unsupported", "tt 01b without DT", sc_ctx_dt_unsupported },
	{ "vtd.context.pt-unsupported", "tt 10b without PT", sc_ctx_pt_unsupported },
	{ "vtd.context.aw-unsupported", "aw 3 vs sagaw 0x6", sc_ctx_aw_unsupported },
	{ "vtd.context.did-range", "did 16 with nd 0", sc_ctx_did_range },
	{ "vtd.context.did-reserved", "did 0 with cm", sc_ctx_did_reserved },
	{ "vtd.context.slptptr-outside", "slptptr outside", sc_ctx_slptptr_outside },
	{ "vtd.context.feature-unsupported", "pre without prs", sc_ctx_feature_unsupported },
	{ "vtd.context.pasiddir-outside", "dir outside", sc_ctx_pasiddir_outside },
	{ "vtd.context.rid-pasid-range", "rid_pasid beyond pdts", sc_ctx_rid_pasid_range },
	{ "vtd.pasid-dir.reserved", "pde bit 2", sc_pde_reserved },
	{ "vtd.pasid-dir.table-outside", "pasid table outside", sc_pde_table_outside },
	{ "vtd.pasid-dir.alias", "two pdes, one table", sc_pde_alias },
	{ "vtd.pasid.reserved", "qw3", sc_pe_reserved },
	{ "vtd.pasid.pgtt-reserved", "pgtt 5", sc_pe_pgtt_reserved },
	{ "vtd.pasid.pgtt-unsupported", "nested without nest", sc_pe_pgtt_unsupported },
	{ "vtd.pasid.aw-unsupported", "aw 3", sc_pe_aw_unsupported },
	{ "vtd.pasid.flpm-unsupported", "5-level without fl5lp", sc_pe_flpm_unsupported },
	{ "vtd.pasid.did-range", "did 300 with nd 0", sc_pe_did_range },
	{ "vtd.pasid.did-reserved", "did 0 with cm", sc_pe_did_reserved },
	{ "vtd.pasid.feature-unsupported", "ere without ers", sc_pe_feature_unsupported },
	{ "vtd.pasid.slptptr-outside", "slptptr outside", sc_pe_slptptr_outside },
	{ "vtd.pasid.flptptr-outside", "flptptr outside", sc_pe_flptptr_outside },
	{ "vtd.walk.config", "12-bit haw", sc_pt_config },
	{ "vtd.limit.tables", "max_tables 1", sc_limit_tables },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* Every code in vtd_findings.def has a scenario. */
static void test_every_code_has_scenario(void **state)
{
	for (size_t i = 0; i < VTD_NR_FINDINGS; i++) {
		bool found = false;

		for (size_t j = 0; j < NR_SCENARIOS && !found; j++)
			found = strcmp(scenarios[j].code, vtd_findings[i].code) == 0;
		if (!found)
			fail_msg("no scenario triggers %s", vtd_findings[i].code);
	}
}

/* Each scenario produces its code; the base tables produce none. */
static void test_scenarios(void **state)
{
	struct fx f;

	for (size_t i = 0; i < NR_SCENARIOS; i++) {
		scenarios[i].build(&f);
		assert_int_equal(fx_decode(&f), 0);
		if (fx_count(&f, scenarios[i].code) == 0) {
			for (size_t k = 0; k < f.nr_fnd; k++)
				print_message("  got %s: %s\n", f.fnd[k].code, f.fnd[k].message);
			fail_msg("scenario '%s' did not report %s", scenarios[i].name,
				 scenarios[i].code);
		}
		/* the severity is the table's */
		for (size_t k = 0; k < VTD_NR_FINDINGS; k++)
			if (strcmp(vtd_findings[k].code, scenarios[i].code) == 0)
				assert_int_equal(fx_find(&f, scenarios[i].code)->severity,
						 vtd_findings[k].severity);
		fx_release(&f);
	}
}

static void test_bases_are_clean(void **state)
{
	struct fx f;

	base_legacy(&f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_fnd, 0);
	assert_int_equal(f.nr_att, 1);
	fx_release(&f);

	base_sm(&f, FX_CAP_SM, FX_ECAP_SM);
	assert_int_equal(fx_decode(&f), 0);
	for (size_t k = 0; k < f.nr_fnd; k++)
		print_message("  got %s: %s\n", f.fnd[k].code, f.fnd[k].message);
	assert_int_equal(f.nr_fnd, 0);
	assert_int_equal(f.nr_att, 2);
	fx_release(&f);
}

/* ---- attachments ---- */

static void test_legacy_attachments(void **state)
{
	struct fx f;
	struct legacy_base b = base_legacy(&f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	uint64_t ctp1 = fx_page(&f), slpt3 = fx_page(&f);
	const struct attach *a;

	f.unit.segment = 2;
	/* 00:04.0 device-TLB, 3-level; 00:1f.0 pass-through; 01:00.0 on
	 * another bus, 3-level; 00:05.0 not present */
	fx_legacy_ctx(&f, b.ctp, 0x20, fx_legacy_lo(1, slpt3), fx_legacy_hi(1, 6));
	fx_legacy_ctx(&f, b.ctp, 0xf8, fx_legacy_lo(2, 0), fx_legacy_hi(2, 1));
	fx_legacy_ctx(&f, b.ctp, 0x28, 0x2 | (fx_legacy_lo(0, slpt3) & ~1ull),
		      fx_legacy_hi(1, 9));
	fx_legacy_root(&f, 1, ctp1);
	fx_legacy_ctx(&f, ctp1, 0x00, fx_legacy_lo(0, slpt3), fx_legacy_hi(1, 6));
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_fnd, 0);
	assert_int_equal(f.nr_att, 4);

	a = fx_att(&f, 0, 0x18, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_true(a->dev.pci);
	assert_int_equal(a->dev.segment, 2);
	assert_int_equal(a->domain, 5);
	assert_int_equal(a->root, b.slpt);
	assert_int_equal(a->iova_base, 0);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_vtd_ss);
	assert_int_equal(a->cfg.levels, 4);
	assert_int_equal(a->cfg.ias, 48);
	assert_int_equal(a->cfg.oas, 48);
	/* QEMU: SLLPS 2M+1G, DT, no SC */
	assert_int_equal(a->cfg.flags, PT_VTD_F_SP2M | PT_VTD_F_SP1G | PT_VTD_F_DEVTLB);
	assert_string_equal(a->path, "root[0x00]/ctx[0x18]");

	a = fx_att(&f, 0, 0x20, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_int_equal(a->cfg.levels, 3);
	assert_int_equal(a->cfg.ias, 39);
	assert_int_equal(a->domain, 6);

	a = fx_att(&f, 0, 0xf8, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_PASSTHROUGH);
	assert_int_equal(a->domain, 1);
	assert_string_equal(a->path, "root[0x00]/ctx[0xf8]");

	a = fx_att(&f, 1, 0x00, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->root, slpt3);
	assert_string_equal(a->path, "root[0x01]/ctx[0x00]");
	assert_null(fx_att(&f, 0, 0x28, PASID_NONE));
	fx_release(&f);
}

static void test_legacy_filters(void **state)
{
	struct fx f;
	struct legacy_base b = base_legacy(&f, FX_CAP_QEMU48, FX_ECAP_QEMU);

	fx_legacy_ctx(&f, b.ctp, 0x20, fx_legacy_lo(0, b.slpt), fx_legacy_hi(2, 6));
	/* a broken entry on a device the filter leaves out stays silent */
	fx_legacy_ctx(&f, b.ctp, 0x30, fx_legacy_lo(3, b.slpt), fx_legacy_hi(2, 6));
	fx_filter_device(&f, 0, 0x20);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 1);
	assert_int_equal(f.att[0].dev.id, 0x20);
	assert_int_equal(f.nr_fnd, 0);

	/* legacy contexts serve requests without PASID only */
	fx_filter_pasid(&f, 1);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 0);
	fx_filter_pasid(&f, PASID_NONE);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 1);

	/* a filter on another bus skips bus 0 entirely */
	f.filter.nr_devices = 0;
	f.filter.pasid_set = false;
	fx_filter_device(&f, 7, 0);
	fx_wr(&f, f.root + 8, 1); /* reserved, but bus 0 is not wanted */
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 0);
	assert_int_equal(f.nr_fnd, 0);
	fx_release(&f);
}

static void test_scalable_attachments(void **state)
{
	struct fx f;
	struct sm_base b = base_sm(&f, FX_CAP_SM, FX_ECAP_SM);
	uint64_t uctp = fx_page(&f), dir2 = fx_page(&f), s2 = fx_page(&f);
	const struct attach *a;

	/* 00:03.0 PASID 2 pass-through DID 1, PASID 0x1234 nested */
	fx_pasid_entry(&f, b.dir, 2, VTD_PE0_P | (uint64_t)VTD_PGTT_PT << VTD_PE0_PGTT_SHIFT,
		       1, 0);
	fx_pasid_entry(&f, b.dir, 0x1234,
		       (fx_pe_sl(1, s2) & ~VTD_PE0_PGTT_MASK) |
		       (uint64_t)VTD_PGTT_NESTED << VTD_PE0_PGTT_SHIFT | VTD_PE0_SLEE,
		       7, fx_pe_fl(0, 0x5000) | VTD_PE2_NXE);
	/* 00:13.1 (devfn 0x99, upper half): context present, no RID_PASID
	 * entry -> blocked; PASID 5 present but PASIDE clear -> unused */
	fx_sm_root(&f, 0, true, uctp);
	fx_sm_ctx(&f, uctp, 0x99, VTD_SM_CTX_LO_P | dir2 | 1ull << VTD_SM_CTX_LO_PDTS_SHIFT, 0);
	fx_pasid_entry(&f, dir2, 5, fx_pe_sl(2, b.slpt), 4, 0);
	assert_int_equal(fx_decode(&f), 0);
	for (size_t k = 0; k < f.nr_fnd; k++)
		print_message("  got %s: %s\n", f.fnd[k].code, f.fnd[k].message);
	assert_int_equal(f.nr_fnd, 0);
	assert_int_equal(f.nr_att, 5);

	a = fx_att(&f, 0, 0x18, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_int_equal(a->domain, 2);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_vtd_ss);
	assert_int_equal(a->cfg.levels, 4);
	assert_int_equal(a->root, b.slpt);
	assert_string_equal(a->path, "root[0x00]/sm-ctx[0x18]/pasid[0x0]");

	a = fx_att(&f, 0, 0x18, 1);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_TRANSLATE);
	assert_int_equal(a->domain, 3);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_x86_64);
	assert_int_equal(a->cfg.levels, 4);
	assert_int_equal(a->cfg.ias, 48);
	assert_int_equal(a->cfg.flags, PT_X86_F_1G);
	assert_int_equal(a->root, b.flpt);
	assert_string_equal(a->path, "root[0x00]/sm-ctx[0x18]/pasid[0x1]");

	a = fx_att(&f, 0, 0x18, 2);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_PASSTHROUGH);
	assert_int_equal(a->domain, 1);

	a = fx_att(&f, 0, 0x18, 0x1234);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_NESTED);
	assert_int_equal(a->domain, 7);
	assert_ptr_equal(a->cfg.fmt, &pt_fmt_x86_64);
	assert_int_equal(a->cfg.flags, PT_X86_F_1G | PT_X86_F_NXE);
	assert_int_equal(a->root, 0x5000);
	assert_ptr_equal(a->s2cfg.fmt, &pt_fmt_vtd_ss);
	assert_int_equal(a->s2cfg.levels, 3);
	assert_true(a->s2cfg.flags & PT_VTD_F_SLEE);
	assert_int_equal(a->s2root, s2);
	assert_string_equal(a->path, "root[0x00]/sm-ctx[0x18]/pasid[0x1234]");

	a = fx_att(&f, 0, 0x99, PASID_NONE);
	assert_non_null(a);
	assert_int_equal(a->mode, ATTACH_BLOCKED);
	assert_int_equal(a->domain, DOMAIN_NONE);
	assert_string_equal(a->path, "root[0x00]/sm-ctx[0x99]/pasid[0x0]");
	assert_null(fx_att(&f, 0, 0x99, 5));
	fx_release(&f);
}

static void test_scalable_filters(void **state)
{
	struct fx f;
	struct sm_base b = base_sm(&f, FX_CAP_SM, FX_ECAP_SM);

	fx_pasid_entry(&f, b.dir, 0x41, fx_pe_sl(2, b.slpt), 9, 0);
	fx_filter_pasid(&f, 1);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 1);
	assert_int_equal(f.att[0].pasid, 1);

	fx_filter_pasid(&f, 0x41);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 1);
	assert_int_equal(f.att[0].domain, 9);

	/* the RID_PASID entry is "requests without PASID", not PASID 0 */
	fx_filter_pasid(&f, 0);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 0);
	fx_filter_pasid(&f, PASID_NONE);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 1);
	assert_int_equal(f.att[0].domain, 2);

	/* a PASID beyond the directory is simply absent */
	fx_filter_pasid(&f, 0xfffff);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_att, 0);
	assert_int_equal(f.nr_fnd, 0);
	fx_release(&f);
}

/* RID_PASID other than 0, in a second directory page (PDTS 3: 1024
 * entries = 2 pages). */
static void test_scalable_rid_pasid(void **state)
{
	struct fx f;
	struct sm_base b = base_sm(&f, FX_CAP_SM, FX_ECAP_SM);
	uint64_t dir = fx_page(&f), dir_hi = fx_page(&f);
	const struct attach *a;

	assert_int_equal(dir_hi, dir + 0x1000);
	fx_sm_ctx(&f, b.lctp, 0x18, VTD_SM_CTX_LO_P | dir | 3ull << VTD_SM_CTX_LO_PDTS_SHIFT,
		  0xa000);
	fx_pasid_entry(&f, dir, 0xa000, fx_pe_sl(2, b.slpt), 12, 0);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_fnd, 0);
	assert_int_equal(f.nr_att, 1);
	a = &f.att[0];
	assert_int_equal(a->pasid, PASID_NONE);
	assert_int_equal(a->domain, 12);
	assert_string_equal(a->path, "root[0x00]/sm-ctx[0x18]/pasid[0xa000]");
	fx_release(&f);
}

static void test_scalable_needs_smts(void **state)
{
	struct fx f;

	base_sm(&f, FX_CAP_SM, FX_ECAP_SM & ~(1ull << 43));
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(fx_count(&f, "vtd.rtaddr.ttm-unsupported"), 1);
	assert_int_equal(f.nr_att, 2); /* decoded anyway */
	fx_release(&f);
}

static void test_abort_mode_blocks_listed_devices(void **state)
{
	struct fx f;

	sc_ttm_abort(&f);
	fx_add_device(&f, 0x18);
	fx_add_device(&f, 0x0100);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(fx_count(&f, "vtd.rtaddr.ttm-abort"), 1);
	assert_int_equal(fx_count(&f, "vtd.rtaddr.ttm-unsupported"), 0);
	assert_int_equal(f.nr_att, 2);
	assert_int_equal(f.att[0].mode, ATTACH_BLOCKED);
	assert_int_equal(f.att[1].dev.id, 0x100);
	fx_release(&f);
}

static void test_missing_rtaddr_is_an_error(void **state)
{
	struct fx f;

	base_legacy(&f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_del_reg(&f, "rtaddr");
	assert_int_equal(fx_decode(&f), -EINVAL);
	assert_non_null(strstr(f.err.msg, "rtaddr"));
	assert_int_equal(f.nr_att, 0);
	fx_release(&f);
}

static void test_root_outside_is_an_error(void **state)
{
	struct fx f;

	base_legacy(&f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_set_reg(&f, "rtaddr", FX_OUTSIDE | 1ull << 10);
	assert_int_equal(fx_decode(&f), -ENOENT);
	assert_string_equal(f.err.msg, "vtd unit 0: root table at 0x40000000 "
			    "(rtaddr 0x40000400) is outside the dump");
	assert_int_equal(f.nr_att, 0);
	fx_release(&f);
}

/* One info finding when registers are missing, and the permissive
 * defaults still decode everything. */
static void test_assumed_registers(void **state)
{
	struct fx f;
	struct sm_base b = base_sm(&f, FX_CAP_SM, FX_ECAP_SM);

	fx_del_reg(&f, "cap");
	/* DID beyond ND 0 and AW 3 would be findings with the real CAP */
	fx_wr(&f, b.rid_entry, fx_pe_sl(3, b.slpt));
	fx_wr(&f, b.rid_entry + 8, 0xfff0);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_fnd, 1);
	assert_string_equal(f.fnd[0].code, "vtd.regs.assumed");
	assert_int_equal(f.fnd[0].severity, SEV_INFO);
	assert_non_null(strstr(f.fnd[0].message, "no cap"));
	assert_int_equal(f.nr_att, 2);
	assert_int_equal(fx_att(&f, 0, 0x18, PASID_NONE)->cfg.levels, 5);
	fx_release(&f);

	base_legacy(&f, FX_CAP_QEMU48, FX_ECAP_QEMU);
	fx_del_reg(&f, "ecap");
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(f.nr_fnd, 1);
	assert_non_null(strstr(f.fnd[0].message, "no ecap"));
	fx_release(&f);
}

/* ---- hostile tables ---- */

static void test_context_table_is_root_table(void **state)
{
	struct fx f;

	fx_init(&f, FX_CAP_QEMU48, true, FX_ECAP_QEMU, true, VTD_TTM_LEGACY);
	/* every root entry points at the root table itself */
	for (unsigned bus = 0; bus < 256; bus++)
		fx_legacy_root(&f, bus, f.root);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(fx_count(&f, "vtd.root.ctp-shared"), 256);
	assert_non_null(strstr(fx_find(&f, "vtd.root.ctp-shared")->message, "root table"));
	/* the root entries read as context entries with TT 0, AW 0 (not in
	 * SAGAW): blocked, never a crash */
	assert_true(fx_count(&f, "vtd.context.aw-unsupported") > 0);
	fx_release(&f);
}

static void test_pasid_dir_points_at_itself(void **state)
{
	struct fx f;
	struct sm_base b = base_sm(&f, FX_CAP_SM, FX_ECAP_SM);

	/* PDTS 7 (16384 entries, 32 pages): only the first page is present;
	 * every entry of it points back at the directory */
	fx_sm_ctx(&f, b.lctp, 0x18, VTD_SM_CTX_LO_P | VTD_SM_CTX_LO_PASIDE |
		  (FX_ARENA_BASE + FX_ARENA_SIZE - 0x1000) |
		  7ull << VTD_SM_CTX_LO_PDTS_SHIFT, 0);
	assert_int_equal(arena_reserve(f.a, FX_ARENA_BASE + FX_ARENA_SIZE - 0x1000,
				       0x1000, &f.err), 0);
	for (unsigned i = 0; i < 512; i++)
		fx_wr(&f, FX_ARENA_BASE + FX_ARENA_SIZE - 0x1000 + i * 8,
		      FX_ARENA_BASE + FX_ARENA_SIZE - 0x1000 + 1);
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(fx_count(&f, "vtd.context.pasiddir-outside"), 31);
	assert_int_equal(fx_count(&f, "vtd.pasid-dir.alias"), 1);
	assert_non_null(strstr(fx_find(&f, "vtd.pasid-dir.alias")->message,
			       "in this directory: 511)"));
	/* the directory read as PASID entries: PGTT 0 everywhere */
	assert_int_equal(fx_count(&f, "vtd.pasid.pgtt-reserved"), 512 * 64);
	assert_int_equal(f.nr_att, 512 * 64);
	fx_release(&f);
}

static void test_table_budget_stops_cleanly(void **state)
{
	struct fx f;
	struct sm_base b = base_sm(&f, FX_CAP_SM, FX_ECAP_SM);
	/* 128 directory entries all pointing at one PASID table: with a
	 * budget of 20 pages the walk stops with one finding */
	for (unsigned i = 0; i < 128; i++)
		fx_wr(&f, b.dir + i * 8, fx_rd(&f, b.dir));
	f.limits.max_tables = 20;
	assert_int_equal(fx_decode(&f), 0);
	assert_int_equal(fx_count(&f, "vtd.limit.tables"), 1);
	/* 20 pages: root, context table, directory page, then 17 reads of
	 * the PASID table, each giving two PASIDs */
	assert_int_equal(f.nr_att, 17 * 2);
	assert_int_equal(fx_count(&f, "vtd.pasid-dir.alias"), 1);
	fx_release(&f);
}

/* ---- registers ---- */

struct reg_seen {
	size_t n;
	char sagaw[64], nd[64], ttm[64], sllps[64], cm[64];
	unsigned sagaw_hi, sagaw_lo;
	uint64_t mgaw;
	int stop_after;
};

static int on_field(void *arg, const struct reg_field *fl)
{
	struct reg_seen *s = arg;

	s->n++;
	if (strcmp(fl->field, "SAGAW") == 0) {
		snprintf(s->sagaw, sizeof(s->sagaw), "%s", fl->meaning);
		s->sagaw_hi = fl->hi;
		s->sagaw_lo = fl->lo;
	}
	if (strcmp(fl->field, "ND") == 0)
		snprintf(s->nd, sizeof(s->nd), "%s", fl->meaning);
	if (strcmp(fl->field, "TTM") == 0)
		snprintf(s->ttm, sizeof(s->ttm), "%s", fl->meaning);
	if (strcmp(fl->field, "SLLPS") == 0)
		snprintf(s->sllps, sizeof(s->sllps), "%s", fl->meaning);
	if (strcmp(fl->field, "CM") == 0)
		snprintf(s->cm, sizeof(s->cm), "%s", fl->meaning);
	if (strcmp(fl->field, "MGAW") == 0)
		s->mgaw = fl->value;
	return s->stop_after && s->n == (size_t)s->stop_after ? 42 : 0;
}

static void test_describe_regs(void **state)
{
	struct fx f;
	struct reg_seen s;
	size_t cap_rows = 0, ecap_rows = 0, rt_rows = 0;

	for (size_t i = 0; i < vtd_nr_reg_rows; i++) {
		cap_rows += strcmp(vtd_reg_rows[i].reg, "cap") == 0;
		ecap_rows += strcmp(vtd_reg_rows[i].reg, "ecap") == 0;
		rt_rows += strcmp(vtd_reg_rows[i].reg, "rtaddr") == 0;
	}
	assert_true(cap_rows >= 20);
	assert_true(ecap_rows >= 30);
	assert_int_equal(rt_rows, 2);

	fx_init(&f, FX_CAP_QEMU48 | 0x80, true, FX_ECAP_SM, true, VTD_TTM_SCALABLE);
	memset(&s, 0, sizeof(s));
	assert_int_equal(vtd_decoder.describe_regs(&f.unit, on_field, &s), 0);
	assert_int_equal(s.n, cap_rows + ecap_rows + rt_rows);
	assert_string_equal(s.sagaw, "39-bit,48-bit");
	assert_int_equal(s.sagaw_hi, 12);
	assert_int_equal(s.sagaw_lo, 8);
	assert_string_equal(s.nd, "65536 domains");
	assert_string_equal(s.ttm, "scalable");
	assert_string_equal(s.sllps, "2 MiB,1 GiB");
	assert_string_equal(s.cm, "caching mode");
	assert_int_equal(s.mgaw, 47);

	/* only the registers present; a non-zero return stops */
	fx_del_reg(&f, "cap");
	memset(&s, 0, sizeof(s));
	assert_int_equal(vtd_decoder.describe_regs(&f.unit, on_field, &s), 0);
	assert_int_equal(s.n, ecap_rows + rt_rows);
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	assert_int_equal(vtd_decoder.describe_regs(&f.unit, on_field, &s), 42);
	assert_int_equal(s.n, 3);
	fx_release(&f);
}

static void test_reg_accessors(void **state)
{
	/* the generated accessors agree with formats.md 1.10/1.11 */
	assert_int_equal(vtd_cap_ND(FX_CAP_QEMU48), 6);
	assert_int_equal(vtd_cap_SAGAW(FX_CAP_QEMU48), 0x6);
	assert_int_equal(vtd_cap_MGAW(FX_CAP_QEMU48), 47);
	assert_int_equal(vtd_cap_FRO(FX_CAP_QEMU48) * 16, 0x220);
	assert_int_equal(vtd_cap_MAMV(FX_CAP_QEMU48), 18);
	assert_int_equal(vtd_cap_SLLPS(FX_CAP_QEMU48), 3);
	assert_int_equal(vtd_ecap_IRO(FX_ECAP_QEMU) * 16, 0xf0);
	assert_int_equal(vtd_ecap_MHMV(FX_ECAP_QEMU), 15);
	assert_int_equal(vtd_ecap_PSS(FX_ECAP_SM), 19);
	assert_int_equal(vtd_rtaddr_TTM(0x12345c00), 3);
	assert_int_equal(vtd_rtaddr_RTA(0x12345c00), 0x12345);
	assert_int_equal(vtd_bits(~0ull, 63, 0), ~0ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_has_scenario),
		cmocka_unit_test(test_bases_are_clean),
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_legacy_attachments),
		cmocka_unit_test(test_legacy_filters),
		cmocka_unit_test(test_scalable_attachments),
		cmocka_unit_test(test_scalable_filters),
		cmocka_unit_test(test_scalable_rid_pasid),
		cmocka_unit_test(test_scalable_needs_smts),
		cmocka_unit_test(test_abort_mode_blocks_listed_devices),
		cmocka_unit_test(test_missing_rtaddr_is_an_error),
		cmocka_unit_test(test_root_outside_is_an_error),
		cmocka_unit_test(test_assumed_registers),
		cmocka_unit_test(test_context_table_is_root_table),
		cmocka_unit_test(test_pasid_dir_points_at_itself),
		cmocka_unit_test(test_table_budget_stops_cleanly),
		cmocka_unit_test(test_describe_regs),
		cmocka_unit_test(test_reg_accessors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
