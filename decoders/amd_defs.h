/* AMD-Vi in-memory formats: device table entry (DTE), v1 host page-table
 * entries (PDE/PTE), GCR3 table entries and the MMIO registers the decoder
 * reads.  Names follow the AMD I/O Virtualization Technology (IOMMU)
 * Specification; bit positions are cross-checked against
 *   Linux drivers/iommu/amd/amd_iommu_types.h (DEV_ENTRY_*, DTE_*, PM_*,
 *         IOMMU_PTE_*, FEATURE_*, MMIO_*),
 *   Linux drivers/iommu/generic_pt/fmt/amdv1.h (AMDV1PT_FMT_*),
 *   QEMU hw/i386/amd_iommu.h (AMDVI_DEV_*, AMDVI_DTE_*_RESERVED),
 *   VirtualBox include/VBox/iommu-amd.h (DTE_T, IOPTE_T, IOPDE_T),
 * as summarised in formats.md section 2.  Register fields live in
 * amd_regs.def. */
#ifndef IOMMUTOOL_AMD_DEFS_H
#define IOMMUTOOL_AMD_DEFS_H

#include <stdint.h>

#define AMD_BIT(n)            (1ull << (n))
/* Mask of bits hi..lo (inclusive), hi <= 63. */
#define AMD_MASK(hi, lo)      ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* ---- MMIO register offsets (spec 3.4, Linux MMIO_*) ---- */
#define AMD_MMIO_DEV_TABLE    0x0000 /* Device Table Base Address */
#define AMD_MMIO_EXT_FEATURES 0x0030 /* Extended Feature Register */

/* ---- Device Table Base Address register (MMIO 0x0000) ---- */
#define AMD_DTBASE_SIZE       AMD_MASK(8, 0)   /* table bytes = (Size+1) * 4 KiB */
#define AMD_DTBASE_ADDR       AMD_MASK(51, 12) /* DevTabBase */
#define AMD_DTBASE_RESERVED   (AMD_MASK(11, 9) | AMD_MASK(63, 52))
#define AMD_DTBASE_MAX_BYTES  (512ull * 4096)  /* Size = 0x1FF: 65536 DTEs */

/* ---- Device table entry: 256 bits, 4 little-endian quadwords ---- */
#define AMD_DTE_SIZE          32u
#define AMD_DTE_QWORDS        4u
#define AMD_DEVID_MAX         0xffffu

/* A DTE field by absolute bit numbers (all fields sit inside one QW). */
struct amd_dte_field {
	const char *name;    /* spec name */
	unsigned hi, lo;     /* absolute bits 255..0 */
	const char *comment; /* short meaning */
};

/* X(ID, name, hi, lo, comment): every defined DTE field in bit order.
 * Spec "Device Table Entry Format"; Linux DEV_ENTRY_* are the same
 * absolute bit numbers. */
#define AMD_DTE_FIELDS(X) \
	X(V,          "V",          0,   0,   "DTE valid") \
	X(TV,         "TV",         1,   1,   "translation information valid") \
	X(HAD,        "HAD",        8,   7,   "host access/dirty update") \
	X(MODE,       "Mode",       11,  9,   "host page-table levels, 0 = no translation") \
	X(PT_ROOT,    "PageTableRootPtr", 51, 12, "v1 table root, bits 51:12") \
	X(PPR,        "PPR",        52,  52,  "peripheral page request enable") \
	X(GRPR,       "GRPR",       53,  53,  "guest PPR response with PASID") \
	X(GIOV,       "GIoV",       54,  54,  "guest I/O protection valid") \
	X(GV,         "GV",         55,  55,  "guest translation valid") \
	X(GLX,        "GLX",        57,  56,  "GCR3 table levels - 1") \
	X(GCR3_14_12, "GCR3TRP[14:12]", 60, 58, "GCR3 table root, bits 14:12") \
	X(IR,         "IR",         61,  61,  "I/O read permission") \
	X(IW,         "IW",         62,  62,  "I/O write permission") \
	X(DOMAIN_ID,  "DomainID",   79,  64,  "domain tag") \
	X(GCR3_30_15, "GCR3TRP[30:15]", 95, 80, "GCR3 table root, bits 30:15") \
	X(I,          "I",          96,  96,  "IOTLB (ATS) enable") \
	X(SE,         "SE",         97,  97,  "suppress I/O page faults") \
	X(SA,         "SA",         98,  98,  "suppress all I/O page faults") \
	X(IOCTL,      "IoCtl",      100, 99,  "port I/O control") \
	X(CACHE,      "Cache",      101, 101, "IOTLB cache hint") \
	X(SD,         "SD",         102, 102, "snoop disable") \
	X(EX,         "EX",         103, 103, "allow exclusion range") \
	X(SYSMGT,     "SysMgt",     105, 104, "system management messages") \
	X(GCR3_51_31, "GCR3TRP[51:31]", 127, 107, "GCR3 table root, bits 51:31") \
	X(IV,         "IV",         128, 128, "interrupt map valid") \
	X(INTTABLEN,  "IntTabLen",  132, 129, "interrupt table has 2^n entries") \
	X(IG,         "IG",         133, 133, "ignore unmapped interrupts") \
	X(INT_ROOT,   "IntTableRootPtr", 179, 134, "interrupt table root, bits 51:6") \
	X(GPT_LEVEL,  "GPTLevel",   183, 182, "guest page-table levels: 0 = 4, 1 = 5") \
	X(INITPASS,   "InitPass",   184, 184, "INIT pass-through") \
	X(EINTPASS,   "EIntPass",   185, 185, "ExtInt pass-through") \
	X(NMIPASS,    "NMIPass",    186, 186, "NMI pass-through") \
	X(INTCTL,     "IntCtl",     189, 188, "fixed/arbitrated interrupt control") \
	X(LINT0PASS,  "Lint0Pass",  190, 190, "LINT0 pass-through") \
	X(LINT1PASS,  "Lint1Pass",  191, 191, "LINT1 pass-through") \
	X(ATTRV,      "AttrV",      246, 246, "attribute override") \
	X(MODE0FC,    "Mode0FC",    247, 247, "force coherent when Mode = 0") \
	X(SNOOPATTR,  "SnoopAttr",  255, 248, "snoop attribute")

enum amd_dte_field_id {
#define AMD_DTE_ENUM(id, name, hi, lo, comment) AMD_DTE_##id,
	AMD_DTE_FIELDS(AMD_DTE_ENUM)
#undef AMD_DTE_ENUM
	AMD_DTE_NR_FIELDS
};

/* Reserved bits per quadword: QW0 6:2 and 63, QW1 42 (absolute 106),
 * QW2 53:52 and 59 (absolute 181:180, 187), QW3 53:0 (absolute 245:192).
 * Matches VBox's valid masks; QW2 55:54 is the newer GPT level field. */
#define AMD_DTE_QW0_RESERVED  (AMD_MASK(6, 2) | AMD_BIT(63))
#define AMD_DTE_QW1_RESERVED  AMD_BIT(42)
#define AMD_DTE_QW2_RESERVED  (AMD_MASK(53, 52) | AMD_BIT(59))
#define AMD_DTE_QW3_RESERVED  AMD_MASK(53, 0)

/* Reads field @hi:@lo (absolute bits) of a DTE. */
static inline uint64_t amd_dte_get(const uint64_t dte[AMD_DTE_QWORDS],
				   unsigned hi, unsigned lo)
{
	unsigned qw = lo / 64;

	return (dte[qw] & AMD_MASK(hi % 64, lo % 64)) >> (lo % 64);
}
/* Writes field @hi:@lo (absolute bits) of a DTE. */
static inline void amd_dte_set(uint64_t dte[AMD_DTE_QWORDS], unsigned hi,
			       unsigned lo, uint64_t value)
{
	unsigned qw = lo / 64;
	uint64_t mask = AMD_MASK(hi % 64, lo % 64);

	dte[qw] = (dte[qw] & ~mask) | ((value << (lo % 64)) & mask);
}

#define AMD_DTE_MODE_NONE     0u /* no translation: IR/IW decide */
#define AMD_DTE_MODE_MAX      6u
#define AMD_DTE_MODE_RESERVED 7u

/* GCR3 table root pointer: DTE bits 60:58, 95:80 and 127:107 hold address
 * bits 14:12, 30:15 and 51:31 (Linux DTE_GCR3_VAL_A/B/C). */
static inline uint64_t amd_dte_gcr3_root(const uint64_t dte[AMD_DTE_QWORDS])
{
	return (amd_dte_get(dte, 60, 58) << 12) |
	       (amd_dte_get(dte, 95, 80) << 15) |
	       (amd_dte_get(dte, 127, 107) << 31);
}
static inline void amd_dte_set_gcr3_root(uint64_t dte[AMD_DTE_QWORDS],
					 uint64_t pa)
{
	amd_dte_set(dte, 60, 58, (pa >> 12) & 0x7);
	amd_dte_set(dte, 95, 80, (pa >> 15) & 0xffff);
	amd_dte_set(dte, 127, 107, (pa >> 31) & 0x1fffff);
}

/* IntCtl values (VBox IOMMU_INTR_CTRL_*). */
#define AMD_INTCTL_ABORT      0u
#define AMD_INTCTL_FORWARD    1u
#define AMD_INTCTL_REMAP      2u
/* IntTabLen above 11 (2048 entries) is reserved. */
#define AMD_INTTABLEN_MAX     11u

/* ---- v1 host page table: PDE / PTE, 64 bits (spec 2.2.3) ---- */
#define AMD_PTE_PR            AMD_BIT(0)       /* present */
#define AMD_PTE_A             AMD_BIT(5)       /* accessed (HAD) */
#define AMD_PTE_D             AMD_BIT(6)       /* dirty, PTE only */
#define AMD_PTE_NEXT_LEVEL    AMD_MASK(11, 9)  /* NextLevel */
#define AMD_PTE_NEXT_LEVEL_SHIFT 9
#define AMD_PTE_ADDR          AMD_MASK(51, 12) /* table or page address */
#define AMD_PTE_U             AMD_BIT(59)      /* untranslated access only, PTE */
#define AMD_PTE_FC            AMD_BIT(60)      /* force coherent, PTE */
#define AMD_PTE_IR            AMD_BIT(61)      /* read permission */
#define AMD_PTE_IW            AMD_BIT(62)      /* write permission */
/* Reserved: 58:52 in a PTE, 60:52 in a PDE (VBox IOPTE_T / IOPDE_T). */
#define AMD_PTE_RESERVED      AMD_MASK(58, 52)
#define AMD_PDE_RESERVED      AMD_MASK(60, 52)

#define AMD_NL_PAGE           0u /* leaf of the level's natural size */
#define AMD_NL_SIZED_PAGE     7u /* leaf, size encoded in the address */

/* v1 levels: entry at 0-based level l spans 2^(12 + 9l) bytes
 * (Linux PM_LEVEL_SHIFT); the 6-level root indexes IOVA bits 63:57 only. */
#define AMD_V1_LEVEL_SHIFT(l) (12u + 9u * (l))
#define AMD_V1_MAX_LEVELS     6u
#define AMD_V1_OAS_MAX        52u
/* 512 GiB pages are left out of Linux's pgsize bitmap (hardware bug,
 * AMD_IOMMU_PGSIZES); decoding still accepts them. */
#define AMD_V1_PGSIZE_HOLE    (1ull << 39)

/* ---- Extended Feature Register fields the decoder acts on ---- */
#define AMD_EFR_PPRSUP        AMD_BIT(1)
#define AMD_EFR_NXSUP         AMD_BIT(3)
#define AMD_EFR_GTSUP         AMD_BIT(4)
#define AMD_EFR_HATS_SHIFT    10               /* 0/1/2 = 4/5/6 levels, 3 reserved */
#define AMD_EFR_HATS_MASK     0x3u
#define AMD_EFR_GATS_SHIFT    12               /* 0 = 4-level, 1 = 5-level v2 */
#define AMD_EFR_GATS_MASK     0x3u
#define AMD_EFR_GLXSUP_SHIFT  14               /* max DTE GLX */
#define AMD_EFR_GLXSUP_MASK   0x3u
#define AMD_EFR_PASMAX_SHIFT  32               /* PASID width - 1 */
#define AMD_EFR_PASMAX_MASK   0x1fu
#define AMD_EFR_GIOSUP        AMD_BIT(48)
#define AMD_EFR_HASUP         AMD_BIT(49)
#define AMD_EFR_HDSUP         AMD_BIT(52)
#define AMD_EFR_HATS_RESERVED 3u               /* Linux: host translation disabled */

/* amd-v1 codec option (pt_cfg.flags): set FC in every leaf, as Linux's
 * io_pgtable.c does (generic-pt: PT_FEAT_AMDV1_FORCE_COHERENCE). */
#define PT_AMD_V1_F_FC        (1ull << 0)

/* ---- GCR3 table (guest CR3 per PASID), 64-bit entries ---- */
#define AMD_GCR3_VALID        AMD_BIT(0)       /* Linux GCR3_VALID */
#define AMD_GCR3_ADDR         AMD_MASK(51, 12) /* next table or guest CR3 */
#define AMD_GCR3_RESERVED     AMD_MASK(63, 52)
#define AMD_GCR3_INDEX_BITS   9u
#define AMD_PASID_BITS_MAX    20u

#endif
