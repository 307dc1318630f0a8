/* Codec "vtd-ss": Intel VT-d second-level (second-stage) tables.
 * Bit facts in vtd_ss_defs.h; level 0 is the 4 KiB PTE, level 1 the PDE
 * (2 MiB superpages), level 2 the PDPE (1 GiB), 3 the PML4E, 4 the PML5E. */
#include "decoders/pt.h"
#include "decoders/vtd_ss_defs.h"

/* Address bits at or above the host address width (cfg->oas), inside the
 * address field; the ignored bits 61:52 and 63 never count. */
static uint64_t vtd_ss_haw_rsvd(const struct pt_cfg *cfg)
{
	if (cfg->oas >= 52)
		return 0;
	return VTD_SS_ADDR & ~((1ull << cfg->oas) - 1);
}

static int vtd_ss_init(struct pt_cfg *cfg, struct errbuf *err)
{
	unsigned coverage;

	if (cfg->levels < VTD_SS_MIN_LEVELS || cfg->levels > VTD_SS_MAX_LEVELS)
		return err_set(err, -EINVAL, "vtd-ss: %u levels not supported (2 to 5)",
			       cfg->levels);
	if (cfg->granule_shift == 0)
		cfg->granule_shift = VTD_SS_GRANULE_SHIFT;
	if (cfg->granule_shift != VTD_SS_GRANULE_SHIFT)
		return err_set(err, -EINVAL, "vtd-ss: granule 2^%u not supported (4 KiB only)",
			       cfg->granule_shift);
	coverage = VTD_SS_GRANULE_SHIFT + VTD_SS_LEVEL_BITS * cfg->levels;
	if (coverage > 64)
		coverage = 64;
	if (cfg->ias == 0)
		cfg->ias = coverage;
	if (cfg->ias > coverage || cfg->ias <= VTD_SS_GRANULE_SHIFT)
		return err_set(err, -EINVAL, "vtd-ss: %u-bit input address does not fit %u levels",
			       cfg->ias, cfg->levels);
	if (cfg->oas == 0)
		cfg->oas = 52;
	if (cfg->oas > 52 || cfg->oas <= VTD_SS_GRANULE_SHIFT)
		return err_set(err, -EINVAL, "vtd-ss: host address width %u out of range (13 to 52)",
			       cfg->oas);
	if (cfg->flags & ~(PT_VTD_F_SP2M | PT_VTD_F_SP1G | PT_VTD_F_SNOOP_CTL |
			   PT_VTD_F_DEVTLB | PT_VTD_F_SLEE))
		return err_set(err, -EINVAL, "vtd-ss: unknown flags 0x%llx",
			       (unsigned long long)cfg->flags);
	for (unsigned l = 0; l < cfg->levels; l++) {
		cfg->level_shift[l] = VTD_SS_GRANULE_SHIFT + VTD_SS_LEVEL_BITS * l;
		cfg->level_bits[l] = VTD_SS_LEVEL_BITS;
	}
	/* pure address bits: below the HAW, above any superpage's size */
	for (unsigned l = 0; l < cfg->levels; l++) {
		unsigned low = l == 1 || l == 2 ? cfg->level_shift[l] : VTD_SS_GRANULE_SHIFT;

		cfg->addr_only[l] = VTD_SS_ADDR & ~((1ull << low) - 1) &
				    ((1ull << cfg->oas) - 1);
	}
	cfg->leaf_sizes = 1ull << 12;
	if ((cfg->flags & PT_VTD_F_SP2M) && cfg->levels > 1)
		cfg->leaf_sizes |= 1ull << 21;
	if ((cfg->flags & PT_VTD_F_SP1G) && cfg->levels > 2)
		cfg->leaf_sizes |= 1ull << 30;
	return 0;
}

static uint32_t vtd_ss_perm(const struct pt_cfg *cfg, uint64_t raw)
{
	uint32_t perm = 0;

	if (raw & VTD_SS_R)
		perm |= PERM_R;
	if (raw & VTD_SS_W)
		perm |= PERM_W;
	if ((cfg->flags & PT_VTD_F_SLEE) && (raw & VTD_SS_X))
		perm |= PERM_X;
	return perm;
}

static void vtd_ss_decode(const struct pt_cfg *cfg, unsigned level,
			  uint64_t iova, uint64_t raw, struct pt_entry *out)
{
	uint64_t rsvd = vtd_ss_haw_rsvd(cfg) | VTD_SS_TM;
	unsigned shift = cfg->level_shift[level];

	*out = (struct pt_entry){ .kind = PTE_EMPTY };
	if (!(raw & (VTD_SS_R | VTD_SS_W)))
		return;
	out->addr = raw & VTD_SS_ADDR;
	if (level == 0 || ((level == 1 || level == 2) && (raw & VTD_SS_PS))) {
		out->kind = PTE_LEAF;
		out->size_shift = shift;
		out->perm = vtd_ss_perm(cfg, raw);
		if (cfg->flags & PT_VTD_F_SNOOP_CTL) {
			if (raw & VTD_SS_SNP)
				out->perm |= PERM_SNP;
		} else {
			rsvd |= VTD_SS_SNP;
		}
		if (cfg->flags & PT_VTD_F_DEVTLB)
			rsvd &= ~VTD_SS_TM;
		if (level > 0) {
			/* superpage: address bits below its size, and PS
			 * itself where the hardware has no such size */
			uint64_t low = ((1ull << shift) - 1) & VTD_SS_ADDR;

			rsvd |= low;
			out->addr &= ~low;
			if (!(cfg->leaf_sizes & (1ull << shift)))
				rsvd |= VTD_SS_PS;
		}
	} else {
		out->kind = PTE_TABLE;
		out->next_level = level - 1;
		/* tables pass snoop down; SNP is decided by the leaf */
		out->perm = vtd_ss_perm(cfg, raw) | PERM_SNP | PERM_U;
		if (!(cfg->flags & PT_VTD_F_SLEE))
			out->perm |= PERM_X;
		rsvd |= level >= 3 ? VTD_SS_RSVD_TOP : VTD_SS_RSVD_TABLE;
	}
	(void)iova;
	out->reserved = raw & rsvd;
}

static uint64_t vtd_ss_make_table(const struct pt_cfg *cfg, unsigned level,
				  uint64_t table_pa)
{
	uint64_t raw = (table_pa & VTD_SS_ADDR) | VTD_SS_R | VTD_SS_W;

	if (cfg->flags & PT_VTD_F_SLEE)
		raw |= VTD_SS_X;
	return raw;
}

/* What Linux writes: R/W from the prot, PS above level 0, SNP for
 * IOMMU_CACHE when snoop control exists. */
static uint64_t vtd_ss_make_leaf(const struct pt_cfg *cfg, unsigned level,
				 uint64_t iova, uint64_t pa, unsigned size_shift,
				 uint32_t perm)
{
	uint64_t raw = pa & VTD_SS_ADDR;

	if (perm & PERM_R)
		raw |= VTD_SS_R;
	if (perm & PERM_W)
		raw |= VTD_SS_W;
	if ((perm & PERM_X) && (cfg->flags & PT_VTD_F_SLEE))
		raw |= VTD_SS_X;
	if ((perm & PERM_SNP) && (cfg->flags & PT_VTD_F_SNOOP_CTL))
		raw |= VTD_SS_SNP;
	if (level > 0)
		raw |= VTD_SS_PS;
	return raw;
}

const struct pt_format pt_fmt_vtd_ss = {
	.name = "vtd-ss",
	.code_prefix = "vtd.slpte",
	.entry_size = 8,
	.partial_unmap = PT_UNMAP_WHOLE_LEAF,
	.init = vtd_ss_init,
	.decode = vtd_ss_decode,
	.make_table = vtd_ss_make_table,
	.make_leaf = vtd_ss_make_leaf,
};
