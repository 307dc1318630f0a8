/* Arm SMMUv3 in-memory structures and the registers that locate them:
 * stream table (linear or 2-level with L1 descriptors), Stream Table
 * Entries, context-descriptor tables (linear or 2-level with L1CD
 * descriptors) and Context Descriptors.  All are little-endian arrays of
 * 64-bit words.
 *
 * Sources: Arm IHI0070 (SMMUv3) 5.2 "Stream Table Entry", 5.4 "Context
 * Descriptor", 6.3 registers; Linux drivers/iommu/arm/arm-smmu-v3/
 * arm-smmu-v3.h (STRTAB_*, CTXDESC_*); QEMU hw/arm/smmuv3-internal.h and
 * smmuv3-common.h (STE_*, CD_*).  IDR0..IDR5 and the describe_regs field
 * table are in smmuv3_regs.def.
 *
 * Fields are written as "word, hi, lo" triples (word = 64-bit word of the
 * structure, bits within it) and read with smmu_get(). */
#ifndef IOMMUTOOL_SMMUV3_DEFS_H
#define IOMMUTOOL_SMMUV3_DEFS_H

#include <stdint.h>

static inline uint64_t smmu_get(const uint64_t *dw, unsigned w, unsigned hi,
				unsigned lo)
{
	uint64_t v = dw[w] >> lo;

	return hi - lo == 63 ? v : v & ((1ull << (hi - lo + 1)) - 1);
}

static inline void smmu_set(uint64_t *dw, unsigned w, unsigned hi, unsigned lo,
			    uint64_t val)
{
	uint64_t mask = hi - lo == 63 ? ~0ull : ((1ull << (hi - lo + 1)) - 1);

	dw[w] = (dw[w] & ~(mask << lo)) | ((val & mask) << lo);
}

/* Mask of a field inside its word. */
#define SMMU_MASK(w, hi, lo) \
	((((hi) - (lo) == 63) ? ~0ull : ((1ull << ((hi) - (lo) + 1)) - 1)) << (lo))

/* ---- registers (IHI0070 6.3) ---- */
#define SMMU_REG_IDR0            0x00
#define SMMU_REG_IDR1            0x04
#define SMMU_REG_IDR2            0x08
#define SMMU_REG_IDR3            0x0c
#define SMMU_REG_IDR4            0x10
#define SMMU_REG_IDR5            0x14
#define SMMU_REG_CR0             0x20
#define SMMU_REG_GBPA            0x44
#define SMMU_REG_STRTAB_BASE     0x80 /* 64-bit */
#define SMMU_REG_STRTAB_BASE_CFG 0x88

/* SMMU_STRTAB_BASE (6.3.23) */
#define STRTAB_BASE_ADDR         0, 51, 6
#define STRTAB_BASE_RA           0, 62, 62
/* SMMU_STRTAB_BASE_CFG (6.3.24) */
#define STRTAB_BASE_CFG_LOG2SIZE 0, 5, 0
#define STRTAB_BASE_CFG_SPLIT    0, 10, 6
#define STRTAB_BASE_CFG_FMT      0, 17, 16
#define STRTAB_FMT_LINEAR        0
#define STRTAB_FMT_2LEVEL        1
/* SMMU_CR0 (6.3.9) */
#define CR0_SMMUEN               0, 0, 0
#define CR0_PRIQEN               0, 1, 1
#define CR0_EVENTQEN             0, 2, 2
#define CR0_CMDQEN               0, 3, 3
#define CR0_ATSCHK               0, 4, 4
#define CR0_VMW                  0, 8, 6
/* SMMU_GBPA (6.3.14): what transactions do while SMMUEN = 0 */
#define GBPA_ABORT               0, 20, 20

/* ---- stream table (5.1) ---- */
#define SMMU_STE_SIZE            64ull
#define SMMU_STE_DWORDS          8
#define SMMU_L1STD_SIZE          8ull
/* SPLIT: 6, 8 or 10; Linux uses 8 (STRTAB_SPLIT) */
#define SMMU_SPLIT_VALID(s)      ((s) == 6 || (s) == 8 || (s) == 10)

/* Level-1 stream-table descriptor (5.1.2) */
#define L1STD_SPAN               0, 4, 0  /* L2 holds 2^(Span-1) STEs; 0 invalid */
#define L1STD_L2PTR              0, 51, 6
#define L1STD_RES0               (SMMU_MASK(0, 5, 5) | SMMU_MASK(0, 63, 52))

/* ---- Stream Table Entry (5.2) ---- */
#define STE_V                    0, 0, 0
#define STE_CONFIG               0, 3, 1
#define STE_S1FMT                0, 5, 4
#define STE_S1CONTEXTPTR         0, 51, 6
#define STE_S1CDMAX              0, 63, 59
#define STE_0_RES0               SMMU_MASK(0, 58, 52)

#define STE_S1DSS                1, 1, 0
#define STE_S1CIR                1, 3, 2
#define STE_S1COR                1, 5, 4
#define STE_S1CSH                1, 7, 6
#define STE_MEV                  1, 19, 19
#define STE_S2FWB                1, 25, 25
#define STE_S1STALLD             1, 27, 27
#define STE_EATS                 1, 29, 28
#define STE_STRW                 1, 31, 30
#define STE_MEMATTR              1, 35, 32
#define STE_MTCFG                1, 36, 36
#define STE_ALLOCCFG             1, 40, 37
#define STE_SHCFG                1, 45, 44
#define STE_NSCFG                1, 47, 46
#define STE_PRIVCFG              1, 49, 48
#define STE_INSTCFG              1, 51, 50

#define STE_S2VMID               2, 15, 0
#define STE_S2T0SZ               2, 37, 32
#define STE_S2SL0                2, 39, 38
#define STE_S2IR0                2, 41, 40
#define STE_S2OR0                2, 43, 42
#define STE_S2SH0                2, 45, 44
#define STE_S2TG                 2, 47, 46
#define STE_S2PS                 2, 50, 48
#define STE_S2AA64               2, 51, 51
#define STE_S2ENDI               2, 52, 52
#define STE_S2AFFD               2, 53, 53
#define STE_S2PTW                2, 54, 54
#define STE_S2HD                 2, 55, 55
#define STE_S2HA                 2, 56, 56
#define STE_S2S                  2, 57, 57
#define STE_S2R                  2, 58, 58

#define STE_S2TTB                3, 51, 4
#define STE_3_RES0               (SMMU_MASK(3, 3, 0) | SMMU_MASK(3, 63, 52))

/* STE.Config: bit 0 stage 1, bit 1 stage 2, bit 2 set unless abort;
 * 0b001..0b011 are reserved. */
#define STE_CONFIG_ABORT         0x0
#define STE_CONFIG_BYPASS        0x4
#define STE_CONFIG_S1            0x5
#define STE_CONFIG_S2            0x6
#define STE_CONFIG_NESTED        0x7
#define STE_CONFIG_S1_EN(c)      ((c) & 1)
#define STE_CONFIG_S2_EN(c)      ((c) & 2)

/* STE.S1Fmt */
#define STE_S1FMT_LINEAR         0
#define STE_S1FMT_64K_L2         1 /* 2-level, 4 KiB leaf tables: 64 CDs */
#define STE_S1FMT_1024_L2        2 /* 2-level, 64 KiB leaf tables: 1024 CDs */
#define STE_S1FMT_L2_BITS(f)     ((f) == STE_S1FMT_64K_L2 ? 6 : 10)

/* STE.S1DSS: requests without a SubstreamID when S1CDMax != 0 */
#define STE_S1DSS_TERMINATE      0
#define STE_S1DSS_BYPASS         1
#define STE_S1DSS_SSID0          2

/* STE.S2TG and CD.TG0: 0 4 KiB, 1 64 KiB, 2 16 KiB; CD.TG1: 1 16 KiB,
 * 2 4 KiB, 3 64 KiB. Returns the granule shift, 0 when reserved. */
static inline unsigned smmu_tg0_shift(unsigned tg)
{
	static const unsigned char s[] = { 12, 16, 14, 0 };
	return s[tg & 3];
}
static inline unsigned smmu_tg1_shift(unsigned tg)
{
	static const unsigned char s[] = { 0, 14, 12, 16 };
	return s[tg & 3];
}
static inline unsigned smmu_tg0_encode(unsigned shift)
{
	return shift == 16 ? 1 : shift == 14 ? 2 : 0;
}
static inline unsigned smmu_tg1_encode(unsigned shift)
{
	return shift == 14 ? 1 : shift == 16 ? 3 : 2;
}

/* S2SL0 → Arm start level (VTCR_EL2.SL0 without FEAT_TTST/LPA2):
 * 4 KiB: 0 L2, 1 L1, 2 L0; 16/64 KiB: 0 L3, 1 L2, 2 L1; 3 reserved.
 * Returns the number of levels (4 - start level), 0 when reserved. */
static inline unsigned smmu_s2sl0_levels(unsigned sl0, unsigned granule_shift)
{
	if (sl0 > 2)
		return 0;
	return granule_shift == 12 ? sl0 + 2 : sl0 + 1;
}
static inline unsigned smmu_s2sl0_encode(unsigned levels, unsigned granule_shift)
{
	return granule_shift == 12 ? levels - 2 : levels - 1;
}

/* ---- context descriptors (5.4) ---- */
#define SMMU_CD_SIZE             64ull
#define SMMU_CD_DWORDS           8
#define SMMU_L1CD_SIZE           8ull

/* Level-1 CD descriptor (5.4.1) */
#define L1CD_V                   0, 0, 0
#define L1CD_L2PTR               0, 51, 12
#define L1CD_RES0                (SMMU_MASK(0, 11, 1) | SMMU_MASK(0, 63, 52))

#define CD_T0SZ                  0, 5, 0
#define CD_TG0                   0, 7, 6
#define CD_IR0                   0, 9, 8
#define CD_OR0                   0, 11, 10
#define CD_SH0                   0, 13, 12
#define CD_EPD0                  0, 14, 14
#define CD_ENDI                  0, 15, 15
#define CD_T1SZ                  0, 21, 16
#define CD_TG1                   0, 23, 22
#define CD_IR1                   0, 25, 24
#define CD_OR1                   0, 27, 26
#define CD_SH1                   0, 29, 28
#define CD_EPD1                  0, 30, 30
#define CD_V                     0, 31, 31
#define CD_IPS                   0, 34, 32
#define CD_AFFD                  0, 35, 35
#define CD_WXN                   0, 36, 36
#define CD_UWXN                  0, 37, 37
#define CD_TBI0                  0, 38, 38
#define CD_TBI1                  0, 39, 39
#define CD_PAN                   0, 40, 40
#define CD_AA64                  0, 41, 41
#define CD_HD                    0, 42, 42
#define CD_HA                    0, 43, 43
#define CD_S                     0, 44, 44
#define CD_R                     0, 45, 45
#define CD_A                     0, 46, 46
#define CD_ASET                  0, 47, 47
#define CD_ASID                  0, 63, 48

#define CD_NSCFG0                1, 0, 0
#define CD_HAD0                  1, 1, 1
#define CD_TTB0                  1, 51, 4
#define CD_NSCFG1                2, 0, 0
#define CD_HAD1                  2, 1, 1
#define CD_TTB1                  2, 51, 4
#define CD_MAIR                  3, 63, 0
#define CD_AMAIR                 4, 63, 0

/* Stage-1 input size limits (TnSZ): 16 (48-bit) .. 39 (25-bit); 12
 * (52-bit) with the 64 KiB granule and IDR5.VAX; up to 48 with IDR3.STT. */
#define SMMU_TSZ_MIN             16
#define SMMU_TSZ_MIN_52          12
#define SMMU_TSZ_MAX             39
#define SMMU_TSZ_MAX_STT         48

/* Largest S1CDMax we walk: IDR1.SSIDSIZE is at most 20. */
#define SMMU_SSID_BITS_MAX       20

#endif
