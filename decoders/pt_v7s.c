/* Codec for Armv7 short-descriptor tables ("v7s"): 32-bit entries, a
 * 4096-entry level-1 table of 1 MiB sections / 16 MiB supersections and
 * 256-entry level-2 tables of 4 KiB small / 64 KiB large pages, as Linux
 * io-pgtable-arm-v7s writes them.  Facts in v7s_defs.h.
 *
 * Supersections and large pages are one entry repeated 16 times with the
 * run's base address in every copy; decode reports each copy's own span
 * (pt.h convention) and make_leaf writes the run base. */
#include "decoders/pt.h"
#include "decoders/v7s_defs.h"

#include <string.h>

#define PERM_ALL (PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP)

static int v7s_init(struct pt_cfg *cfg, struct errbuf *err)
{
	if (cfg->granule_shift && cfg->granule_shift != 12)
		return err_set(err, -EINVAL, "v7s: granule must be 4 KiB");
	if (cfg->levels && cfg->levels != 2)
		return err_set(err, -EINVAL, "v7s: tables have 2 levels, not %u", cfg->levels);
	if (cfg->ias <= V7S_L1_SHIFT || cfg->ias > 32)
		return err_set(err, -EINVAL, "v7s: input size %u bits outside 21..32", cfg->ias);
	/* Supersections reach 40 bits; Linux uses 32 (MediaTek quirks aside). */
	if (cfg->oas < 32 || cfg->oas > 40)
		return err_set(err, -EINVAL, "v7s: output size %u bits outside 32..40", cfg->oas);
	cfg->granule_shift = 12;
	cfg->levels = 2;
	cfg->level_shift[0] = V7S_L2_SHIFT;
	cfg->level_bits[0] = V7S_L2_BITS;
	cfg->level_shift[1] = V7S_L1_SHIFT;
	cfg->level_bits[1] = cfg->ias - V7S_L1_SHIFT;
	cfg->leaf_sizes = (1ull << 12) | (1ull << 16) | (1ull << 20);
	if (cfg->level_bits[1] >= V7S_CONT_BITS)
		cfg->leaf_sizes |= 1ull << 24;
	/* address bits every entry kind keeps in place: level 0 small and
	 * large pages 31:16; level 1 tables, sections, supersections 31:24 */
	cfg->addr_only[0] = V7S_LARGE_ADDR_MASK;
	cfg->addr_only[1] = V7S_SUPER_ADDR_MASK;
	return 0;
}

/* Permissions from the attribute byte plus B/C and the XN bit. */
static uint32_t attr_perm(const struct pt_cfg *cfg, uint32_t attr, uint32_t raw,
			  bool xn, unsigned tex, struct pt_entry *out)
{
	uint32_t perm = PERM_R;

	if (!(attr & V7S_ATTR_AP2))
		perm |= PERM_W;
	if (attr & V7S_ATTR_AP1)
		perm |= PERM_U;
	if (!xn)
		perm |= PERM_X;
	/* arm_v7s_pte_to_prot: TEX = 0 is MMIO, otherwise C = cacheable */
	if (tex && (raw & V7S_C))
		perm |= PERM_SNP;
	if (!(attr & V7S_ATTR_AP0) && !(cfg->flags & PT_V7S_F_NO_PERMS)) {
		out->warn = "af";
		out->problem = "access flag (ap[0]) clear: the first access faults";
	}
	return perm;
}

static void decode_l1(const struct pt_cfg *cfg, uint64_t iova, uint32_t raw,
		      struct pt_entry *out)
{
	uint32_t attr = (raw >> V7S_ATTR_SHIFT_L1) & 0xff;
	unsigned tex = (attr & V7S_ATTR_TEX_MASK) >> V7S_ATTR_TEX_SHIFT;
	bool xn = raw & (V7S_SECTION_XN | V7S_SECTION_PXN);

	if ((raw & V7S_TYPE_MASK) == V7S_L1_TYPE_TABLE) {
		out->kind = PTE_TABLE;
		out->addr = raw & V7S_TABLE_ADDR_MASK;
		out->next_level = 0;
		out->perm = raw & V7S_TABLE_PXN ? PERM_ALL & ~PERM_X : PERM_ALL;
		out->reserved = raw & V7S_TABLE_SBZ;
		return;
	}
	out->kind = PTE_LEAF;
	if (!(raw & V7S_SUPERSECTION)) {
		out->addr = raw & V7S_SECTION_ADDR_MASK;
		out->size_shift = V7S_L1_SHIFT;
	} else {
		uint64_t ext = ((uint64_t)(raw & V7S_SUPER_PA35_32) << 12) |
			       ((uint64_t)(raw & V7S_SUPER_PA39_36) << 31);

		out->addr = (raw & V7S_SUPER_ADDR_MASK) | ext;
		out->addr |= iova & ((1ull << (V7S_L1_SHIFT + V7S_CONT_BITS)) - 1) &
			     ~((1ull << V7S_L1_SHIFT) - 1);
		out->size_shift = V7S_L1_SHIFT + V7S_CONT_BITS;
		if (cfg->oas < 36)
			out->reserved |= raw & V7S_SUPER_PA35_32 &
					 ~((1u << (cfg->oas - 32 + 20)) - 1);
		if (cfg->oas < 40)
			out->reserved |= raw & V7S_SUPER_PA39_36 &
					 ~((1u << (cfg->oas > 36 ? cfg->oas - 36 + 5 : 5)) - 1);
	}
	out->perm = attr_perm(cfg, attr, raw, xn, tex, out);
}

static void decode_l2(const struct pt_cfg *cfg, uint64_t iova, uint32_t raw,
		      struct pt_entry *out)
{
	uint32_t attr = (raw >> V7S_ATTR_SHIFT_L2) & 0xff;
	unsigned tex;

	out->kind = PTE_LEAF;
	if (raw & V7S_L2_TYPE_SMALL) {
		tex = (attr & V7S_ATTR_TEX_MASK) >> V7S_ATTR_TEX_SHIFT;
		out->addr = raw & V7S_SMALL_ADDR_MASK;
		out->size_shift = V7S_L2_SHIFT;
		out->perm = attr_perm(cfg, attr, raw, raw & V7S_SMALL_XN, tex, out);
		return;
	}
	tex = (raw >> V7S_LARGE_TEX_SHIFT) & 0x7;
	out->addr = (raw & V7S_LARGE_ADDR_MASK) |
		    (iova & ((1ull << (V7S_L2_SHIFT + V7S_CONT_BITS)) - 1) &
		     ~((1ull << V7S_L2_SHIFT) - 1));
	out->size_shift = V7S_L2_SHIFT + V7S_CONT_BITS;
	out->reserved = raw & V7S_LARGE_SBZ;
	out->perm = attr_perm(cfg, attr, raw, raw & V7S_LARGE_XN, tex, out);
}

static void v7s_decode(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
		       uint64_t raw64, struct pt_entry *out)
{
	uint32_t raw = (uint32_t)raw64;

	memset(out, 0, sizeof(*out));
	if (!(raw & V7S_TYPE_MASK)) {
		out->kind = PTE_EMPTY;
		return;
	}
	if (level == 1)
		decode_l1(cfg, iova, raw, out);
	else
		decode_l2(cfg, iova, raw, out);
}

static uint64_t v7s_make_table(const struct pt_cfg *cfg, unsigned level,
			       uint64_t table_pa)
{
	(void)cfg;
	(void)level;
	return (table_pa & V7S_TABLE_ADDR_MASK) | V7S_L1_TYPE_TABLE;
}

/* arm_v7s_prot_to_pte + arm_v7s_pte_to_cont: nG and S always, TEX=1
 * (normal memory), AF, AP1 unless privileged-only, AP2 when read-only,
 * XN for no-exec, B|C for cacheable. */
static uint64_t v7s_make_leaf(const struct pt_cfg *cfg, unsigned level,
			      uint64_t iova, uint64_t pa, unsigned size_shift,
			      uint32_t perm)
{
	bool cont = size_shift > cfg->level_shift[level];
	uint32_t attr = V7S_ATTR_NG | V7S_ATTR_S | (1u << V7S_ATTR_TEX_SHIFT);
	uint32_t pte;

	(void)iova;
	if (!(cfg->flags & PT_V7S_F_NO_PERMS)) {
		attr |= V7S_ATTR_AP0;
		if (perm & PERM_U)
			attr |= V7S_ATTR_AP1;
		if (!(perm & PERM_W))
			attr |= V7S_ATTR_AP2;
	}
	pa &= ~((1ull << size_shift) - 1);
	if (level == 1) {
		pte = (attr << V7S_ATTR_SHIFT_L1) | V7S_L1_TYPE_SECTION;
		if (!(perm & PERM_X) && !(cfg->flags & PT_V7S_F_NO_PERMS))
			pte |= V7S_SECTION_XN;
		if (cont)
			pte |= V7S_SUPERSECTION | (uint32_t)(pa & V7S_SUPER_ADDR_MASK) |
			       (uint32_t)((pa >> 12) & V7S_SUPER_PA35_32) |
			       (uint32_t)((pa >> 31) & V7S_SUPER_PA39_36);
		else
			pte |= (uint32_t)(pa & V7S_SECTION_ADDR_MASK);
	} else if (!cont) {
		pte = (attr << V7S_ATTR_SHIFT_L2) | V7S_L2_TYPE_SMALL |
		      (uint32_t)(pa & V7S_SMALL_ADDR_MASK);
		if (!(perm & PERM_X) && !(cfg->flags & PT_V7S_F_NO_PERMS))
			pte |= V7S_SMALL_XN;
	} else {
		uint32_t tex = (attr & V7S_ATTR_TEX_MASK) >> V7S_ATTR_TEX_SHIFT;

		attr &= ~V7S_ATTR_TEX_MASK;
		pte = (attr << V7S_ATTR_SHIFT_L2) | V7S_L2_TYPE_LARGE |
		      (tex << V7S_LARGE_TEX_SHIFT) | (uint32_t)(pa & V7S_LARGE_ADDR_MASK);
		if (!(perm & PERM_X) && !(cfg->flags & PT_V7S_F_NO_PERMS))
			pte |= V7S_LARGE_XN;
	}
	if (perm & PERM_SNP)
		pte |= V7S_B | V7S_C;
	return pte;
}

static uint64_t v7s_table_size(const struct pt_cfg *cfg, unsigned level)
{
	if (level == 0)
		return V7S_L2_TABLE_SIZE;
	return 4ull << cfg->level_bits[1];
}

const struct pt_format pt_fmt_v7s = {
	.name = "v7s",
	.code_prefix = "smmu.v7s",
	.entry_size = 4,
	.big_endian = false,
	/* arm_v7s_split_blk_unmap: a partial unmap splits the section */
	.partial_unmap = PT_UNMAP_SPLIT,
	.init = v7s_init,
	.decode = v7s_decode,
	.make_table = v7s_make_table,
	.make_leaf = v7s_make_leaf,
	.table_size = v7s_table_size,
};
