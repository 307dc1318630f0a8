/* Intel VT-d in-memory structures: root, context, PASID directory and PASID
 * entries, plus the register accessors generated from vtd_regs.def.
 *
 * Field names follow the VT-d spec (3.x naming: first-level/second-level).
 * Multi-quadword entries are little-endian arrays of u64; QWn is the n-th.
 * Sources: Intel VT-d spec ch. 9 (translation structure formats);
 * torvalds/linux:drivers/iommu/intel/iommu.h (root_entry, context_entry,
 * context_set_*), torvalds/linux:drivers/iommu/intel/pasid.h (pasid_set_*),
 * qemu/qemu:hw/i386/intel_iommu_internal.h (VTD_ROOT_ENTRY_*,
 * VTD_CONTEXT_ENTRY_*, VTD_SM_CONTEXT_ENTRY_*, VTD_PASID_*); collected in
 * /work/shared/reference/formats.md section 1. */
#ifndef IOMMUTOOL_VTD_DEFS_H
#define IOMMUTOOL_VTD_DEFS_H

#include <stdint.h>

/* Every VT-d table is one 4 KiB page (spec 3.4, VTD_PAGE_SHIFT). */
#define VTD_PAGE_SHIFT 12
#define VTD_PAGE_SIZE  (1ull << VTD_PAGE_SHIFT)
#define VTD_PAGE_MASK  (~(VTD_PAGE_SIZE - 1))

/* Bits hi:lo of @v (hi >= lo, both < 64). */
static inline uint64_t vtd_bits(uint64_t v, unsigned hi, unsigned lo)
{
	uint64_t mask = hi - lo >= 63 ? ~0ull : (1ull << (hi - lo + 1)) - 1;

	return (v >> lo) & mask;
}

/* ---- registers: vtd_cap_ND(cap), vtd_ecap_PT(ecap), vtd_rtaddr_TTM() ---- */

/* How a register field's value reads (vtd_regs.def, `dump --regs`). */
enum vtd_reg_decode {
	VTD_DEC_FLAG,   /* 1 = supported */
	VTD_DEC_RAW,    /* plain number, in decimal */
	VTD_DEC_ND,     /* 2^(4 + 2*ND) domains */
	VTD_DEC_SAGAW,  /* bit n: 30+9n-bit, n+2-level tables */
	VTD_DEC_WIDTH,  /* value + 1 bits (MGAW, PSS) */
	VTD_DEC_OFF16,  /* register offset in 16-byte units */
	VTD_DEC_SLLPS,  /* bit 0: 2 MiB, 1: 1 GiB, 2: 512 GiB, 3: 1 TiB */
	VTD_DEC_COUNT1, /* value + 1 of the meaning ("1 fault-recording registers") */
	VTD_DEC_MAMV,   /* 2^value pages */
	VTD_DEC_TTM,    /* RTADDR.TTM */
	VTD_DEC_ADDR,   /* 4 KiB-aligned address field */
};

#define VTD_REG_FIELD(reg, name, hi, lo, dec, text)                           \
	static inline uint64_t vtd_##reg##_##name(uint64_t v)                  \
	{                                                                     \
		return vtd_bits(v, hi, lo);                                   \
	}
#include "decoders/vtd_regs.def"
#undef VTD_REG_FIELD

/* RTADDR_REG (spec 11.4.5): 63:12 RTA, 11:10 TTM, 9:0 reserved. */
#define VTD_RTADDR_RSVD 0x3ffull
enum vtd_ttm {
	VTD_TTM_LEGACY = 0,
	VTD_TTM_SCALABLE = 1,   /* Linux DMA_RTADDR_SMT */
	VTD_TTM_RESERVED = 2,   /* the pre-3.0 "extended" mode */
	VTD_TTM_ABORT_DMA = 3,  /* all DMA blocked; needs ECAP.ADMS */
};

/* Number of domains CAP.ND allows (Linux cap_ndoms); ND=7 is reserved. */
static inline uint64_t vtd_nd_domains(unsigned nd)
{
	return 1ull << (4 + 2 * nd);
}
/* AGAW code (context/PASID AW, SAGAW bit) -> input width and levels
 * (Linux agaw_to_width/agaw_to_level; formats.md 1.9). */
static inline unsigned vtd_agaw_width(unsigned aw)
{
	return 30 + 9 * aw > 64 ? 64 : 30 + 9 * aw;
}
static inline unsigned vtd_agaw_levels(unsigned aw)
{
	return aw + 2;
}
#define VTD_SLLPS_2M (1u << 0)
#define VTD_SLLPS_1G (1u << 1)

/* Address bits at and above @haw (the host address width): reserved in
 * every pointer field. */
static inline uint64_t vtd_haw_rsvd(unsigned haw)
{
	return haw >= 64 ? 0 : ~((1ull << haw) - 1);
}

/* ---- root table: 256 x 128-bit entries indexed by bus (spec 9.1) ---- */
#define VTD_ROOT_ENTRIES    256
#define VTD_ROOT_ENTRY_SIZE 16
/* legacy (TTM=00b) */
#define VTD_ROOT_LO_P     (1ull << 0)
#define VTD_ROOT_LO_RSVD  0xffeull        /* 11:1 */
#define VTD_ROOT_LO_CTP   VTD_PAGE_MASK   /* 63:12 context-table pointer */
#define VTD_ROOT_HI_RSVD  (~0ull)         /* 127:64 */
/* scalable mode (TTM=01b, spec 9.2): lower half for devfn 0x00-0x7f, upper
 * half for 0x80-0xff */
#define VTD_SM_ROOT_LO_LP    (1ull << 0)
#define VTD_SM_ROOT_LO_RSVD  0xffeull      /* 11:1 */
#define VTD_SM_ROOT_LO_LCTP  VTD_PAGE_MASK /* 63:12 */
#define VTD_SM_ROOT_HI_UP    (1ull << 0)   /* bit 64 */
#define VTD_SM_ROOT_HI_RSVD  0xffeull      /* 75:65 */
#define VTD_SM_ROOT_HI_UCTP  VTD_PAGE_MASK /* 127:76 */
#define VTD_SM_DEVFN_UPPER   0x80          /* QEMU VTD_DEVFN_CHECK_MASK */

/* ---- legacy context entry, 128 bits, 256 per table by devfn (spec 9.3) ---- */
#define VTD_CTX_ENTRIES    256
#define VTD_CTX_ENTRY_SIZE 16
#define VTD_CTX_LO_P        (1ull << 0)
#define VTD_CTX_LO_FPD      (1ull << 1)
#define VTD_CTX_LO_TT_SHIFT 2             /* 3:2 */
#define VTD_CTX_LO_TT_MASK  (3ull << 2)
#define VTD_CTX_LO_RSVD     0xff0ull      /* 11:4 */
#define VTD_CTX_LO_SLPTPTR  VTD_PAGE_MASK /* 63:12 (a.k.a. ASR) */
#define VTD_CTX_HI_AW_MASK  0x7ull        /* 66:64 */
#define VTD_CTX_HI_AVAIL    (0xfull << 3) /* 70:67, software */
#define VTD_CTX_HI_DID_SHIFT 8            /* 87:72 */
#define VTD_CTX_HI_DID_MASK (0xffffull << 8)
#define VTD_CTX_HI_RSVD     0xffffffffff000080ull /* 127:88, 71 */
enum vtd_ctx_tt {
	VTD_TT_MULTI_LEVEL = 0,  /* untranslated requests via second level */
	VTD_TT_DEV_IOTLB = 1,    /* plus ATS; needs ECAP.DT */
	VTD_TT_PASS_THROUGH = 2, /* untranslated; needs ECAP.PT */
	VTD_TT_RESERVED = 3,
};

/* ---- scalable-mode context entry, 256 bits, 128 per table (spec 9.4) ---- */
#define VTD_SM_CTX_ENTRIES    128
#define VTD_SM_CTX_ENTRY_SIZE 32
#define VTD_SM_CTX_LO_P        (1ull << 0)
#define VTD_SM_CTX_LO_FPD      (1ull << 1)
#define VTD_SM_CTX_LO_DTE      (1ull << 2)   /* device-TLB enable */
#define VTD_SM_CTX_LO_PASIDE   (1ull << 3)   /* requests-with-PASID */
#define VTD_SM_CTX_LO_PRE      (1ull << 4)   /* page requests */
#define VTD_SM_CTX_LO_RSVD     0x1e0ull      /* 8:5 */
#define VTD_SM_CTX_LO_PDTS_SHIFT 9           /* 11:9 */
#define VTD_SM_CTX_LO_PDTS_MASK  (7ull << 9)
#define VTD_SM_CTX_LO_PASIDDIRPTR VTD_PAGE_MASK /* 63:12 */
#define VTD_SM_CTX_HI_RID_PASID  0xfffffull  /* 83:64 */
#define VTD_SM_CTX_HI_RID_PRIV   (1ull << 20) /* 84 */
#define VTD_SM_CTX_HI_RSVD       0xffffffffffe00000ull /* 127:85 */
/* QW2 and QW3 (255:128) are reserved */

/* PASID directory size: 2^(PDTS + 7) entries (Linux get_pasid_dir_size). */
static inline uint64_t vtd_pdts_entries(unsigned pdts)
{
	return 1ull << (pdts + 7);
}

/* ---- PASID directory entry, 64 bits (spec 9.5) ---- */
#define VTD_PASID_PDE_SHIFT      6       /* dir index = PASID[19:6] */
#define VTD_PASID_TBL_ENTRIES    64      /* table index = PASID[5:0] */
#define VTD_PASID_MAX            0x100000 /* 20-bit PASIDs */
#define VTD_PASID_DIR_ENTRY_SIZE 8
#define VTD_PDE_P         (1ull << 0)
#define VTD_PDE_FPD       (1ull << 1)
#define VTD_PDE_RSVD      0xffcull      /* 11:2 */
#define VTD_PDE_SMPTBLPTR VTD_PAGE_MASK /* 63:12 */

/* ---- scalable-mode PASID table entry, 512 bits (spec 9.6) ---- */
#define VTD_PASID_ENTRY_SIZE 64
#define VTD_PASID_ENTRY_QWORDS 8
/* QW0 */
#define VTD_PE0_P           (1ull << 0)
#define VTD_PE0_FPD         (1ull << 1)
#define VTD_PE0_AW_SHIFT    2             /* 4:2 second-level AGAW */
#define VTD_PE0_AW_MASK     (7ull << 2)
#define VTD_PE0_SLEE        (1ull << 5)   /* second-level execute enable */
#define VTD_PE0_PGTT_SHIFT  6             /* 8:6 */
#define VTD_PE0_PGTT_MASK   (7ull << 6)
#define VTD_PE0_SLADE       (1ull << 9)   /* second-level A/D enable */
#define VTD_PE0_RSVD        0xc00ull      /* 11:10 */
#define VTD_PE0_SLPTPTR     VTD_PAGE_MASK /* 63:12 */
/* QW1 */
#define VTD_PE1_DID_MASK    0xffffull     /* 79:64 */
#define VTD_PE1_RSVD        (0x7full << 16) /* 86:80 */
#define VTD_PE1_PWSNP       (1ull << 23)  /* 87 page-walk snoop */
#define VTD_PE1_PGSNP       (1ull << 24)  /* 88 page snoop */
#define VTD_PE1_CD          (1ull << 25)
#define VTD_PE1_EMTE        (1ull << 26)
/* QW2 */
#define VTD_PE2_SRE         (1ull << 0)   /* 128 supervisor requests */
#define VTD_PE2_ERE         (1ull << 1)   /* 129 execute requests */
#define VTD_PE2_FLPM_SHIFT  2             /* 131:130 */
#define VTD_PE2_FLPM_MASK   (3ull << 2)
#define VTD_PE2_WPE         (1ull << 4)
#define VTD_PE2_NXE         (1ull << 5)   /* 133 */
#define VTD_PE2_SMEP        (1ull << 6)
#define VTD_PE2_EAFE        (1ull << 7)   /* 135 */
#define VTD_PE2_RSVD        0xf00ull      /* 139:136 */
#define VTD_PE2_FLPTPTR     VTD_PAGE_MASK /* 191:140 */
/* QW3..QW7 (511:192) are reserved */
enum vtd_pgtt {
	VTD_PGTT_FL_ONLY = 1,   /* first level (x86-64 paging) */
	VTD_PGTT_SL_ONLY = 2,   /* second level */
	VTD_PGTT_NESTED = 3,    /* first level through second level */
	VTD_PGTT_PT = 4,        /* pass-through */
};
/* FLPM: first-level paging mode (0 = 4-level 48-bit, 1 = 5-level 57-bit). */
#define VTD_FLPM_4LEVEL 0
#define VTD_FLPM_5LEVEL 1

/* Linux: DID 1 tags first-level-only, pass-through and SVA PASID entries
 * (FLPT_DEFAULT_DID); DID 0 is used by caching-mode hardware to tag
 * invalid translations. */
#define VTD_FLPT_DEFAULT_DID 1

#endif
