/* x86-64 4-/5-level paging entries, as used by VT-d first-stage tables
 * and AMD-Vi v2 ("guest") tables.  Intel SDM vol. 3A §4.5 (tables 4-14
 * to 4-20); VT-d spec §9.7 "First-Stage Paging Entries";
 * Linux drivers/iommu/generic_pt/fmt/x86_64.h (X86_64_FMT_*),
 * drivers/iommu/intel/iommu.h (DMA_FL_PTE_*). */
#ifndef IOMMUTOOL_X86_64_DEFS_H
#define IOMMUTOOL_X86_64_DEFS_H

#include <stdint.h>

#define X86_64_P     (1ull << 0)   /* present */
#define X86_64_RW    (1ull << 1)   /* writable */
#define X86_64_US    (1ull << 2)   /* user */
#define X86_64_PWT   (1ull << 3)   /* write-through */
#define X86_64_PCD   (1ull << 4)   /* cache disable */
#define X86_64_A     (1ull << 5)   /* accessed */
#define X86_64_D     (1ull << 6)   /* leaf: dirty */
#define X86_64_PS    (1ull << 7)   /* PDPTE/PDE: 1 = 1 GiB / 2 MiB leaf;
				    * 4 KiB PTE: PAT; PML4E/PML5E: reserved */
#define X86_64_PAT_4K (1ull << 7)  /* PAT in a 4 KiB PTE */
#define X86_64_G     (1ull << 8)   /* leaf: global (ignored by IOMMUs) */
#define X86_64_EA    (1ull << 10)  /* VT-d extended-accessed (EAFE) */
#define X86_64_PAT_LARGE (1ull << 12) /* PAT in a 2 MiB / 1 GiB leaf */
#define X86_64_ADDR  0x000ffffffffff000ull /* 51:12; bits >= MAXPHYADDR
					    * (oas) reserved */
/* Bits 62:52 are ignored (protection keys 62:59 in CPU leaves mean
 * nothing to an IOMMU). */
#define X86_64_XD    (1ull << 63)  /* execute-disable; reserved unless
				    * NXE (PASID entry / EFER.NXE) */

#define X86_64_GRANULE_SHIFT 12
#define X86_64_LEVEL_BITS    9

#endif
