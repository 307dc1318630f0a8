/* Codec for VMSAv8-64 ("LPAE") translation tables, stage 1 and stage 2,
 * 4 KiB / 16 KiB / 64 KiB granules, as the SMMUv3 walks them and as
 * Linux io-pgtable-arm writes them.  Facts in lpae_defs.h.
 *
 * Our level l is Arm level 3 - l: level 0 holds pages, the root is
 * level cfg->levels - 1 (Arm start level 4 - levels). */
#include "decoders/lpae_defs.h"
#include "decoders/pt.h"

#include <string.h>

#define PERM_ALL (PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP)

static unsigned arm_level(unsigned level)
{
	return 3 - level;
}

static bool is_stage2(const struct pt_cfg *cfg)
{
	return cfg->flags & PT_LPAE_F_STAGE2;
}

static bool level_has_leaf(const struct pt_cfg *cfg, unsigned level)
{
	return level == 0 ||
	       lpae_block_allowed(cfg->granule_shift, arm_level(level), cfg->oas);
}

static int lpae_init(struct pt_cfg *cfg, struct errbuf *err)
{
	unsigned g = cfg->granule_shift ? cfg->granule_shift : 12;
	bool s2 = is_stage2(cfg);
	unsigned b, va_bits, root, root_bits, levels = cfg->levels;

	if (g != 12 && g != 14 && g != 16)
		return err_set(err, -EINVAL, "lpae: granule 2^%u is not 4, 16 or 64 KiB", g);
	cfg->granule_shift = g;
	b = g - 3;
	if (cfg->oas < 32 || cfg->oas > 52)
		return err_set(err, -EINVAL, "lpae: output size %u bits outside 32..52", cfg->oas);
	if (cfg->oas > 48 && g != 16)
		return err_set(err, -EINVAL,
			       "lpae: %u-bit output needs the 64 KiB granule (no FEAT_LPA2)",
			       cfg->oas);
	if (cfg->ias > 52 || (cfg->ias > 48 && g != 16) || cfg->ias <= g)
		return err_set(err, -EINVAL,
			       "lpae: input size %u bits impossible with a %u KiB granule",
			       cfg->ias, 1u << (g - 10));
	va_bits = cfg->ias - g;

	if (levels == 0)
		levels = s2 ? lpae_s2_linux_levels(cfg->ias, g) : lpae_s1_levels(cfg->ias, g);
	if (levels < 1 || levels > LPAE_MAX_LEVELS)
		return err_set(err, -EINVAL, "lpae: %u levels (start level %d) impossible",
			       levels, (int)LPAE_MAX_LEVELS - (int)levels);
	root = levels - 1;
	if (va_bits <= b * root)
		return err_set(err, -EINVAL,
			       "lpae: %u-bit input leaves nothing for start level %u",
			       cfg->ias, LPAE_MAX_LEVELS - levels);
	root_bits = va_bits - b * root;
	if (!s2 && root_bits > b)
		return err_set(err, -EINVAL,
			       "lpae: stage 1 %u-bit input needs more than %u levels",
			       cfg->ias, levels);
	if (s2 && root_bits > b + LPAE_S2_MAX_CONCAT_BITS)
		return err_set(err, -EINVAL,
			       "lpae: stage 2 start level %u needs %u concatenated tables (at most 16)",
			       LPAE_MAX_LEVELS - levels, 1u << (root_bits - b));

	cfg->levels = levels;
	cfg->leaf_sizes = 0;
	for (unsigned l = 0; l < levels; l++) {
		cfg->level_shift[l] = g + b * l;
		cfg->level_bits[l] = l == root ? root_bits : b;
	}
	/* Bits [min(oas,48)-1 : span] are output address at every level,
	 * for tables and leaves alike (64K's OA[51:48] live elsewhere). */
	for (unsigned l = 0; l < levels; l++) {
		unsigned top = cfg->oas < 48 ? cfg->oas : 48;

		cfg->addr_only[l] = top > cfg->level_shift[l]
			? LPAE_GENMASK(top - 1, cfg->level_shift[l]) : 0;
	}
	for (unsigned l = 0; l < levels; l++) {
		unsigned cb = lpae_contig_bits(g, arm_level(l));

		if (!level_has_leaf(cfg, l))
			continue;
		cfg->leaf_sizes |= 1ull << cfg->level_shift[l];
		if ((cfg->flags & PT_LPAE_F_CONTIG) && cb && cb <= cfg->level_bits[l])
			cfg->leaf_sizes |= 1ull << (cfg->level_shift[l] + cb);
	}
	return 0;
}

/* Output or next-table address of a descriptor (64 KiB: OA[51:48] are
 * stored in bits 15:12). */
static uint64_t desc_addr(const struct pt_cfg *cfg, uint64_t raw)
{
	uint64_t a = raw & LPAE_ADDR_MASK;

	if (cfg->granule_shift < 16)
		return a;
	return (a & ~LPAE_OA52_LO_MASK) | ((a & LPAE_OA52_LO_MASK) << LPAE_OA52_SHIFT);
}

static uint64_t addr_to_desc(const struct pt_cfg *cfg, uint64_t pa)
{
	if (cfg->granule_shift < 16)
		return pa & LPAE_ADDR_MASK;
	return (pa | (pa >> LPAE_OA52_SHIFT)) & LPAE_ADDR_MASK;
}

/* Descriptor bits holding address bits at or above the output size, or
 * below @low_shift (the granule for tables, the block size for blocks)
 * where the field is RES0. */
static uint64_t addr_reserved(const struct pt_cfg *cfg, uint64_t raw,
			      unsigned low_shift)
{
	uint64_t res = 0;

	if (cfg->oas < 48)
		res |= raw & LPAE_GENMASK(47, cfg->oas);
	if (cfg->granule_shift == 16) {
		/* bits 15:12 = OA[51:48] */
		if (cfg->oas < 52)
			res |= raw & LPAE_GENMASK(15, 12 + (cfg->oas > 48 ? cfg->oas - 48 : 0));
		if (low_shift > 16)
			res |= raw & LPAE_GENMASK(low_shift - 1, 16);
	} else if (low_shift > 12) {
		res |= raw & LPAE_GENMASK(low_shift - 1, 12);
	}
	return res;
}

static uint32_t stage1_table_mask(const struct pt_cfg *cfg, uint64_t raw)
{
	uint32_t perm = PERM_ALL;

	if (is_stage2(cfg) || (cfg->flags & PT_LPAE_F_HAD))
		return perm;
	if (raw & LPAE_APTABLE1)
		perm &= ~PERM_W;
	if (raw & LPAE_APTABLE0)
		perm &= ~PERM_U;
	if (raw & (LPAE_PXNTABLE | LPAE_UXNTABLE))
		perm &= ~PERM_X;
	return perm;
}

static bool attrindx_cacheable(const struct pt_cfg *cfg, unsigned idx)
{
	if (!(cfg->flags & PT_LPAE_F_MAIR))
		return idx == LPAE_MAIR_IDX_CACHE;
	return (cfg->flags >> (PT_LPAE_MAIR_WB_SHIFT + idx)) & 1;
}

static uint32_t leaf_perm(const struct pt_cfg *cfg, uint64_t raw)
{
	uint32_t perm = 0;

	if (is_stage2(cfg)) {
		unsigned memattr = (raw & LPAE_MEMATTR_MASK) >> LPAE_MEMATTR_SHIFT;

		if (raw & LPAE_S2AP_R)
			perm |= PERM_R;
		if (raw & LPAE_S2AP_W)
			perm |= PERM_W;
		if (!(raw & LPAE_S2XN_MASK))
			perm |= PERM_X;
		if (memattr == LPAE_MEMATTR_OIWB)
			perm |= PERM_SNP;
		return perm;
	}
	perm = PERM_R;
	if (!(raw & LPAE_AP2))
		perm |= PERM_W;
	if (raw & LPAE_AP1)
		perm |= PERM_U;
	if (!(raw & (LPAE_PXN | LPAE_UXN)))
		perm |= PERM_X;
	if (attrindx_cacheable(cfg, (raw & LPAE_ATTRINDX_MASK) >> LPAE_ATTRINDX_SHIFT))
		perm |= PERM_SNP;
	return perm;
}

static void lpae_decode(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
			uint64_t raw, struct pt_entry *out)
{
	unsigned g = cfg->granule_shift, span = cfg->level_shift[level];
	uint64_t type = raw & LPAE_DESC_TYPE_MASK;

	(void)iova;
	memset(out, 0, sizeof(*out));
	if (!(raw & LPAE_DESC_VALID)) {
		out->kind = PTE_EMPTY;
		return;
	}
	if (level > 0 && type == LPAE_DESC_TABLE) {
		out->kind = PTE_TABLE;
		out->addr = desc_addr(cfg, raw) & ~((1ull << g) - 1);
		out->next_level = level - 1;
		out->perm = stage1_table_mask(cfg, raw);
		out->reserved = addr_reserved(cfg, raw, g) | (raw & LPAE_TBL_RES0_51_48);
		return;
	}
	if (level == 0 && type == LPAE_DESC_BLOCK) {
		out->kind = PTE_INVALID;
		out->problem = "descriptor type 0b01 is reserved at level 3";
		return;
	}
	if (type == LPAE_DESC_BLOCK && !level_has_leaf(cfg, level)) {
		out->kind = PTE_INVALID;
		out->problem = "block descriptor at a level where this granule has no blocks";
		return;
	}

	out->kind = PTE_LEAF;
	out->addr = desc_addr(cfg, raw) & ~((1ull << span) - 1);
	out->size_shift = span;
	out->perm = leaf_perm(cfg, raw);
	out->reserved = addr_reserved(cfg, raw, span) | (raw & LPAE_RES0_49_48);
	if (level > 0)
		out->reserved &= ~LPAE_NT; /* FEAT_BBM level hint, not RES0 */
	if (raw & LPAE_CONTIG) {
		unsigned cb = lpae_contig_bits(g, arm_level(level));

		if (cb && cb <= cfg->level_bits[level])
			out->size_shift = span + cb;
		else
			out->reserved |= LPAE_CONTIG;
	}
	if (!(raw & LPAE_AF) && !(cfg->flags & PT_LPAE_F_AF_NO_FAULT)) {
		out->warn = "af";
		out->problem = "access flag clear: the first access faults";
	}
}

static uint64_t lpae_make_table(const struct pt_cfg *cfg, unsigned level,
				uint64_t table_pa)
{
	(void)level;
	return addr_to_desc(cfg, table_pa) | LPAE_DESC_TABLE;
}

/* Like Linux arm_lpae_prot_to_pte + __arm_lpae_init_pte: PERM_SNP plays
 * IOMMU_CACHE, a missing PERM_X IOMMU_NOEXEC, a missing PERM_U
 * IOMMU_PRIV. */
static uint64_t lpae_make_leaf(const struct pt_cfg *cfg, unsigned level,
			       uint64_t iova, uint64_t pa, unsigned size_shift,
			       uint32_t perm)
{
	uint64_t pte = addr_to_desc(cfg, pa) | LPAE_AF;

	(void)iova;
	pte |= level == 0 ? LPAE_DESC_PAGE : LPAE_DESC_BLOCK;
	if (is_stage2(cfg)) {
		if (perm & PERM_R)
			pte |= LPAE_S2AP_R;
		if (perm & PERM_W)
			pte |= LPAE_S2AP_W;
		pte |= (perm & PERM_SNP ? LPAE_MEMATTR_OIWB : LPAE_MEMATTR_NC)
		       << LPAE_MEMATTR_SHIFT;
	} else {
		pte |= LPAE_NG;
		if (!(perm & PERM_W))
			pte |= LPAE_AP2;
		if (perm & PERM_U)
			pte |= LPAE_AP1;
		pte |= (uint64_t)(perm & PERM_SNP ? LPAE_MAIR_IDX_CACHE : LPAE_MAIR_IDX_NC)
		       << LPAE_ATTRINDX_SHIFT;
	}
	pte |= (perm & PERM_SNP ? LPAE_SH_IS : LPAE_SH_OS) << LPAE_SH_SHIFT;
	if (!(perm & PERM_X))
		pte |= LPAE_PXN | LPAE_UXN; /* ARM_LPAE_PTE_XN, both stages */
	if (size_shift > cfg->level_shift[level])
		pte |= LPAE_CONTIG;
	return pte;
}

const struct pt_format pt_fmt_lpae = {
	.name = "lpae",
	.code_prefix = "smmu.lpae",
	.entry_size = 8,
	.big_endian = false,
	/* io-pgtable-arm splits a block on a partial unmap up to ~6.13 (the
	 * Debian 6.1/6.12 kernels we capture); newer ones refuse
	 * (PT_UNMAP_REFUSE through the mapper's override). */
	.partial_unmap = PT_UNMAP_SPLIT,
	.init = lpae_init,
	.decode = lpae_decode,
	.make_table = lpae_make_table,
	.make_leaf = lpae_make_leaf,
};
