/* Armv7 short-descriptor translation tables ("v7s"), 32-bit entries, as
 * Linux io-pgtable-arm-v7s writes them (simplified AP[2:1] model with
 * AP[0] as the access flag, TEX remap).
 *
 * Sources: Arm ARM DDI0406C B3.5.1 "Short-descriptor translation table
 * format descriptors", Linux drivers/iommu/io-pgtable-arm-v7s.c
 * (ARM_V7S_*).  Arm level 1 (4096 entries, 1 MiB each) is our level 1,
 * Arm level 2 (256 entries, 4 KiB each) our level 0. */
#ifndef IOMMUTOOL_V7S_DEFS_H
#define IOMMUTOOL_V7S_DEFS_H

#include <stdint.h>

/* Codec options in struct pt_cfg.flags for pt_fmt_v7s. */
#define PT_V7S_F_NO_PERMS   (1ull << 0) /* IO_PGTABLE_QUIRK_NO_PERMS: no AP
					 * or XN bits; AF=0 is expected */

#define V7S_BIT(n)          (1u << (n))

#define V7S_L1_SHIFT        20   /* Arm level 1: IA[31:20] */
#define V7S_L2_SHIFT        12   /* Arm level 2: IA[19:12] */
#define V7S_L1_BITS         12
#define V7S_L2_BITS         8
#define V7S_L2_TABLE_SIZE   1024 /* 256 x 4 bytes */
#define V7S_CONT_BITS       4    /* supersections, large pages: 16 copies */

/* bits 1:0 */
#define V7S_TYPE_MASK       0x3u
#define V7S_L1_TYPE_TABLE   0x1u /* page table */
#define V7S_L1_TYPE_SECTION V7S_BIT(1) /* 1x: section; bit 0 = PXN */
#define V7S_L2_TYPE_LARGE   0x1u /* 64 KiB large page */
#define V7S_L2_TYPE_SMALL   V7S_BIT(1) /* 1x: small page; bit 0 = XN */

/* Level-1 page-table descriptor */
#define V7S_TABLE_PXN       V7S_BIT(2)
#define V7S_TABLE_NS        V7S_BIT(3)
#define V7S_TABLE_SBZ       V7S_BIT(4)
#define V7S_TABLE_ADDR_MASK 0xfffffc00u /* bits 31:10 */

/* Section / supersection */
#define V7S_SECTION_PXN     V7S_BIT(0)
#define V7S_B               V7S_BIT(2)
#define V7S_C               V7S_BIT(3)
#define V7S_SECTION_XN      V7S_BIT(4)
#define V7S_SUPERSECTION    V7S_BIT(18)
#define V7S_SECTION_NS      V7S_BIT(19)
#define V7S_SECTION_ADDR_MASK 0xfff00000u   /* bits 31:20 */
#define V7S_SUPER_ADDR_MASK 0xff000000u     /* bits 31:24 */
#define V7S_SUPER_PA35_32   0x00f00000u     /* bits 23:20 = PA[35:32] */
#define V7S_SUPER_PA39_36   0x000001e0u     /* bits 8:5 = PA[39:36] */

/* Small / large page */
#define V7S_SMALL_XN        V7S_BIT(0)
#define V7S_LARGE_XN        V7S_BIT(15)
#define V7S_LARGE_SBZ       0x000001c0u     /* bits 8:6 */
#define V7S_LARGE_TEX_SHIFT 12              /* TEX moves to 14:12 */
#define V7S_SMALL_ADDR_MASK 0xfffff000u
#define V7S_LARGE_ADDR_MASK 0xffff0000u

/* The attribute byte sits at bits 17:10 in level-1 entries and 11:4 in
 * level-2 entries (ARM_V7S_ATTR_SHIFT); fields relative to that byte. */
#define V7S_ATTR_SHIFT_L1   10
#define V7S_ATTR_SHIFT_L2   4
#define V7S_ATTR_AP0        V7S_BIT(0) /* access flag (SCTLR.AFE = 1) */
#define V7S_ATTR_AP1        V7S_BIT(1) /* unprivileged access */
#define V7S_ATTR_TEX_SHIFT  2
#define V7S_ATTR_TEX_MASK   0x1cu      /* TEX[2:0] */
#define V7S_ATTR_AP2        V7S_BIT(5) /* read-only */
#define V7S_ATTR_S          V7S_BIT(6)
#define V7S_ATTR_NG         V7S_BIT(7)

#endif
