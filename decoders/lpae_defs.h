/* VMSAv8-64 translation-table descriptors ("LPAE"), as the SMMUv3 walks
 * them for stage 1 (CD.TTB0/TTB1) and stage 2 (STE.S2TTB).
 *
 * Sources: Arm ARM DDI0487 D8.3 "Translation table descriptor formats"
 * (field names), Linux drivers/iommu/io-pgtable-arm.c (ARM_LPAE_PTE_*,
 * arm_lpae_prot_to_pte, paddr_to_iopte), QEMU hw/arm/smmu-internal.h
 * (type decode, APTable), arch/arm64 pgtable-hwdef.h (contiguous runs).
 * Arm level numbers (0..3, 3 = pages) appear only here and in comments;
 * the codec uses our convention (level 0 = pages). */
#ifndef IOMMUTOOL_LPAE_DEFS_H
#define IOMMUTOOL_LPAE_DEFS_H

#include <stdint.h>

/* Codec options in struct pt_cfg.flags for pt_fmt_lpae. */
#define PT_LPAE_F_STAGE2     (1ull << 0) /* stage-2 descriptors (S2AP,
					  * MemAttr), SL0/concatenation */
#define PT_LPAE_F_AF_NO_FAULT (1ull << 1) /* AF=0 does not fault: CD.AFFD
					   * or HA, STE.S2AFFD or S2HA */
#define PT_LPAE_F_HAD        (1ull << 2) /* hierarchical attributes
					  * disabled (CD.HAD0/HAD1) */
#define PT_LPAE_F_CONTIG     (1ull << 3) /* leaf_sizes include contiguous-
					  * hint runs: decoders set it (the
					  * architecture allows them), an
					  * encoder like Linux does not */
#define PT_LPAE_F_MAIR       (1ull << 4) /* bits 15:8 say which AttrIndx
					  * values are write-back cacheable;
					  * without it Linux's MAIR is assumed */
#define PT_LPAE_MAIR_WB_SHIFT 8
#define PT_LPAE_F_MAIR_WB(mask) (PT_LPAE_F_MAIR | \
				 ((uint64_t)((mask) & 0xff) << PT_LPAE_MAIR_WB_SHIFT))

#define LPAE_BIT(n)          (1ull << (n))
#define LPAE_GENMASK(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* Arm levels: 4 at most, start level 0..3 (4 - number of levels). */
#define LPAE_MAX_LEVELS      4
/* Stage 2 may concatenate up to 16 tables at the start level (D8.2.7). */
#define LPAE_S2_MAX_CONCAT_BITS 4

/* bits 1:0: descriptor type */
#define LPAE_DESC_TYPE_MASK  0x3ull
#define LPAE_DESC_VALID      LPAE_BIT(0)
#define LPAE_DESC_BLOCK      0x1ull /* levels 0-2 where the granule allows */
#define LPAE_DESC_TABLE      0x3ull /* levels 0-2 */
#define LPAE_DESC_PAGE       0x3ull /* level 3 */

/* Output / next-level address: bits 47:12 (bits below the granule RES0).
 * With the 64 KiB granule and a 52-bit OA (FEAT_LPA) bits 15:12 carry
 * OA[51:48] (Linux paddr_to_iopte / iopte_to_paddr). */
#define LPAE_ADDR_MASK       LPAE_GENMASK(47, 12)
#define LPAE_OA52_LO_MASK    LPAE_GENMASK(15, 12) /* holds OA[51:48] */
#define LPAE_OA52_SHIFT      36                   /* 48 - 12 */

/* Lower attributes of block and page descriptors */
#define LPAE_ATTRINDX_SHIFT  2          /* stage 1: AttrIndx[2:0], 4:2 */
#define LPAE_ATTRINDX_MASK   LPAE_GENMASK(4, 2)
#define LPAE_NS              LPAE_BIT(5)            /* stage 1 */
#define LPAE_AP1             LPAE_BIT(6)            /* stage 1: EL0 access */
#define LPAE_AP2             LPAE_BIT(7)            /* stage 1: read-only */
#define LPAE_MEMATTR_SHIFT   2          /* stage 2: MemAttr[3:0], 5:2 */
#define LPAE_MEMATTR_MASK    LPAE_GENMASK(5, 2)
#define LPAE_S2AP_R          LPAE_BIT(6)            /* stage 2 S2AP[0] */
#define LPAE_S2AP_W          LPAE_BIT(7)            /* stage 2 S2AP[1] */
#define LPAE_SH_SHIFT        8
#define LPAE_SH_MASK         LPAE_GENMASK(9, 8)
#define LPAE_SH_NS           0x0ull
#define LPAE_SH_OS           0x2ull
#define LPAE_SH_IS           0x3ull
#define LPAE_AF              LPAE_BIT(10)
#define LPAE_NG              LPAE_BIT(11)           /* stage 1 */
#define LPAE_NT              LPAE_BIT(16)           /* blocks, FEAT_BBM */

/* Upper attributes */
#define LPAE_RES0_49_48      LPAE_GENMASK(49, 48)
#define LPAE_GP              LPAE_BIT(50)           /* stage 1, FEAT_BTI */
#define LPAE_DBM             LPAE_BIT(51)
#define LPAE_CONTIG          LPAE_BIT(52)
#define LPAE_PXN             LPAE_BIT(53)           /* stage 1 */
#define LPAE_UXN             LPAE_BIT(54)           /* stage 1 (XN at EL2) */
#define LPAE_S2XN_MASK       LPAE_GENMASK(54, 53)   /* stage 2 XN[1:0] */

/* Table descriptor attributes (stage 1; ignored at stage 2) */
#define LPAE_TBL_RES0_51_48  LPAE_GENMASK(51, 48)
#define LPAE_TBL_SW_SYNC     LPAE_BIT(55)           /* Linux software bit */
#define LPAE_PXNTABLE        LPAE_BIT(59)
#define LPAE_UXNTABLE        LPAE_BIT(60)
#define LPAE_APTABLE0        LPAE_BIT(61)           /* no EL0 access below */
#define LPAE_APTABLE1        LPAE_BIT(62)           /* no write below */
#define LPAE_NSTABLE         LPAE_BIT(63)

/* Stage-2 MemAttr values Linux writes (non-FWB encoding). */
#define LPAE_MEMATTR_DEV     0x1ull /* Device-nGnRE */
#define LPAE_MEMATTR_NC      0x5ull /* Normal non-cacheable */
#define LPAE_MEMATTR_OIWB    0xfull /* Normal outer/inner write-back */

/* Linux's MAIR (ARM_LPAE_MAIR_ATTR_*): index 0 Normal NC (0x44), 1 Normal
 * write-back RW-allocate (0xff), 2 Device-nGnRE (0x04), 3 inner NC / outer
 * WB (0xf4). */
#define LPAE_MAIR_IDX_NC     0
#define LPAE_MAIR_IDX_CACHE  1
#define LPAE_MAIR_IDX_DEV    2
#define LPAE_MAIR_LINUX      0x00000000f404ff44ull

/* A MAIR attribute byte is Normal inner- and outer-write-back when each
 * nibble is 0b01RW (RW != 0, transient) or 0b11RW (non-transient). */
static inline int lpae_mair_attr_is_wb(uint8_t attr)
{
	unsigned hi = attr >> 4, lo = attr & 0xf;
	int hi_wb = (hi & 0xc) == 0xc || ((hi & 0xc) == 0x4 && (hi & 0x3));
	int lo_wb = (lo & 0xc) == 0xc || ((lo & 0xc) == 0x4 && (lo & 0x3));
	return hi_wb && lo_wb;
}

/* PS / IPS / OAS encoding (TCR.IPS, VTCR.PS, SMMU_IDR5.OAS): 0..6 →
 * 32, 36, 40, 42, 44, 48, 52 bits; 7 reserved. */
static inline unsigned lpae_ps_bits(unsigned ps)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	return ps < sizeof(bits) ? bits[ps] : 0;
}

/* Stage-1 levels for an input size (the start level follows from TnSZ,
 * D8.2.6): as few as cover ias - granule bits. */
static inline unsigned lpae_s1_levels(unsigned ias, unsigned granule_shift)
{
	unsigned b = granule_shift - 3;

	return ias > granule_shift ? (ias - granule_shift + b - 1) / b : 0;
}

/* Stage-2 levels as Linux picks them (arm_64_lpae_alloc_pgtable_s2): the
 * stage-1 count, but a level-0 table of at most 16 entries becomes 2..16
 * concatenated level-1 tables. */
static inline unsigned lpae_s2_linux_levels(unsigned ias, unsigned granule_shift)
{
	unsigned b = granule_shift - 3, levels = lpae_s1_levels(ias, granule_shift);

	if (levels == LPAE_MAX_LEVELS &&
	    ias - granule_shift - b * (levels - 1) <= LPAE_S2_MAX_CONCAT_BITS)
		levels--;
	return levels;
}

/* Contiguous-hint run length (log2 entries) per granule and Arm level,
 * Arm ARM D8.6.1 (and Linux arm64 CONT_PTE_SHIFT/CONT_PMD_SHIFT):
 * 4K: L1 16, L2 16, L3 16; 16K: L2 32, L3 128; 64K: L2 32, L3 32.
 * 0 = the hint is not defined at that level. */
static inline unsigned lpae_contig_bits(unsigned granule_shift, unsigned arm_level)
{
	switch (granule_shift) {
	case 12: return arm_level >= 1 ? 4 : 0;
	case 14: return arm_level == 3 ? 7 : arm_level == 2 ? 5 : 0;
	case 16: return arm_level >= 2 ? 5 : 0;
	}
	return 0;
}

/* Whether a block descriptor is allowed at an Arm level (D8.3.2, without
 * FEAT_LPA2): 4K L1 (1 GiB) and L2 (2 MiB); 16K L2 (32 MiB); 64K L2
 * (512 MiB) and L1 (4 TiB) only with a 52-bit output (FEAT_LPA). */
static inline int lpae_block_allowed(unsigned granule_shift, unsigned arm_level,
				     unsigned oas)
{
	switch (granule_shift) {
	case 12: return arm_level == 1 || arm_level == 2;
	case 14: return arm_level == 2;
	case 16: return arm_level == 2 || (arm_level == 1 && oas > 48);
	}
	return 0;
}

#endif
