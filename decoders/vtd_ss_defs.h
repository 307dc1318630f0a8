/* Intel VT-d second-level / second-stage paging entries (64 bits).
 * Intel VT-d spec rev 3.x/4.x §9.8 "Second-Stage Paging Entries";
 * Linux drivers/iommu/intel/iommu.h (DMA_PTE_*),
 * drivers/iommu/generic_pt/fmt/vtdss.h (VTDSS_FMT_*);
 * QEMU hw/i386/intel_iommu_internal.h (VTD_SPTE_*_RSVD_MASK). */
#ifndef IOMMUTOOL_VTD_SS_DEFS_H
#define IOMMUTOOL_VTD_SS_DEFS_H

#include <stdint.h>

#define VTD_SS_R     (1ull << 0)   /* read */
#define VTD_SS_W     (1ull << 1)   /* write */
#define VTD_SS_X     (1ull << 2)   /* execute, meaningful only with SLEE */
#define VTD_SS_EMT   (7ull << 3)   /* leaf: extended memory type */
#define VTD_SS_IPAT  (1ull << 6)   /* leaf: ignore PAT */
#define VTD_SS_PS    (1ull << 7)   /* PDE/PDPE: 1 = superpage leaf;
				    * reserved in PML4E/PML5E; not a size
				    * bit in a 4 KiB PTE */
#define VTD_SS_A     (1ull << 8)   /* accessed (SLADE) */
#define VTD_SS_D     (1ull << 9)   /* leaf: dirty (SLADE) */
#define VTD_SS_SNP   (1ull << 11)  /* leaf: snoop (ECAP.SC); reserved
				    * otherwise and in non-leaf entries */
#define VTD_SS_ADDR  0x000ffffffffff000ull /* 51:12; bits >= HAW reserved */
#define VTD_SS_TM    (1ull << 62)  /* leaf: transient mapping (ECAP.DT);
				    * reserved otherwise and in non-leaves */
/* Bits 61:52 and 63 are ignored in every entry (QEMU VTD_SPTE_IGN_COM
 * 0xbff0000000000000); they are never reserved, not even above HAW. */
#define VTD_SS_IGNORED 0xbff0000000000000ull

/* Fixed reserved masks (before the HAW bits and the SNP/TM options). */
#define VTD_SS_RSVD_TABLE   (1ull << 11)               /* PDE/PDPE, PS=0 */
#define VTD_SS_RSVD_TOP     ((1ull << 11) | VTD_SS_PS)  /* PML4E, PML5E */
/* A superpage leaf's address bits below its size: 20:12 (2 MiB) and
 * 29:12 (1 GiB); QEMU's 0x1ff800 / 0x3ffff800 add bit 11 (no SC). */

#define VTD_SS_GRANULE_SHIFT 12
#define VTD_SS_LEVEL_BITS    9
#define VTD_SS_MIN_LEVELS    2   /* AGAW 0, 30-bit; no current hardware */
#define VTD_SS_MAX_LEVELS    5   /* 57-bit */

#endif
