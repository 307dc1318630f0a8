/* Codec "x86-64": 4-/5-level x86-64 paging as VT-d first-stage and AMD v2
 * tables use it.  Bit facts in x86_64_defs.h; level 0 is the 4 KiB PTE,
 * 1 the PDE (2 MiB), 2 the PDPTE (1 GiB), 3 the PML4E, 4 the PML5E. */
#include "decoders/pt.h"
#include "decoders/x86_64_defs.h"

static int x86_64_init(struct pt_cfg *cfg, struct errbuf *err)
{
	unsigned coverage;

	if (cfg->levels != 4 && cfg->levels != 5)
		return err_set(err, -EINVAL, "x86-64: %u levels not supported (4 or 5)",
			       cfg->levels);
	if (cfg->granule_shift == 0)
		cfg->granule_shift = X86_64_GRANULE_SHIFT;
	if (cfg->granule_shift != X86_64_GRANULE_SHIFT)
		return err_set(err, -EINVAL, "x86-64: granule 2^%u not supported (4 KiB only)",
			       cfg->granule_shift);
	coverage = X86_64_GRANULE_SHIFT + X86_64_LEVEL_BITS * cfg->levels;
	if (cfg->ias == 0)
		cfg->ias = coverage;
	if (cfg->ias > coverage || cfg->ias <= X86_64_GRANULE_SHIFT)
		return err_set(err, -EINVAL, "x86-64: %u-bit input address does not fit %u levels",
			       cfg->ias, cfg->levels);
	if (cfg->oas == 0)
		cfg->oas = 52;
	if (cfg->oas > 52 || cfg->oas <= X86_64_GRANULE_SHIFT)
		return err_set(err, -EINVAL, "x86-64: physical address width %u out of range (13 to 52)",
			       cfg->oas);
	if (cfg->flags & ~(PT_X86_F_1G | PT_X86_F_NXE))
		return err_set(err, -EINVAL, "x86-64: unknown flags 0x%llx",
			       (unsigned long long)cfg->flags);
	for (unsigned l = 0; l < cfg->levels; l++) {
		cfg->level_shift[l] = X86_64_GRANULE_SHIFT + X86_64_LEVEL_BITS * l;
		cfg->level_bits[l] = X86_64_LEVEL_BITS;
	}
	/* pure address bits: below MAXPHYADDR, above a large leaf's PAT and
	 * reserved low bits */
	for (unsigned l = 0; l < cfg->levels; l++) {
		unsigned low = l == 1 || l == 2 ? cfg->level_shift[l] : X86_64_GRANULE_SHIFT;

		cfg->addr_only[l] = X86_64_ADDR & ~((1ull << low) - 1) &
				    ((1ull << cfg->oas) - 1);
	}
	cfg->leaf_sizes = (1ull << 12) | (1ull << 21);
	if (cfg->flags & PT_X86_F_1G)
		cfg->leaf_sizes |= 1ull << 30;
	return 0;
}

/* R is implied by P; W, U and X come from R/W, U/S and XD. */
static uint32_t x86_64_perm(uint64_t raw)
{
	uint32_t perm = PERM_R;

	if (raw & X86_64_RW)
		perm |= PERM_W;
	if (raw & X86_64_US)
		perm |= PERM_U;
	if (!(raw & X86_64_XD))
		perm |= PERM_X;
	return perm;
}

static void x86_64_decode(const struct pt_cfg *cfg, unsigned level,
			  uint64_t iova, uint64_t raw, struct pt_entry *out)
{
	uint64_t rsvd = 0;
	unsigned shift = cfg->level_shift[level];

	*out = (struct pt_entry){ .kind = PTE_EMPTY };
	if (!(raw & X86_64_P))
		return;
	if (cfg->oas < 52)
		rsvd |= X86_64_ADDR & ~((1ull << cfg->oas) - 1);
	if (!(cfg->flags & PT_X86_F_NXE))
		rsvd |= X86_64_XD;
	out->addr = raw & X86_64_ADDR;
	out->perm = x86_64_perm(raw);
	if (level == 0) {
		out->kind = PTE_LEAF;
		out->size_shift = shift;
	} else if ((level == 1 || level == 2) && (raw & X86_64_PS)) {
		/* large leaf: bit 12 is PAT, bits shift-1..13 are reserved */
		uint64_t low = ((1ull << shift) - 1) & X86_64_ADDR;

		out->kind = PTE_LEAF;
		out->size_shift = shift;
		out->addr &= ~low;
		rsvd |= low & ~X86_64_PAT_LARGE;
		if (!(cfg->leaf_sizes & (1ull << shift)))
			rsvd |= X86_64_PS;
	} else {
		out->kind = PTE_TABLE;
		out->next_level = level - 1;
		out->perm |= PERM_SNP;
		if (level >= 3)
			rsvd |= X86_64_PS;
	}
	(void)iova;
	out->reserved = raw & rsvd;
}

static uint64_t x86_64_make_table(const struct pt_cfg *cfg, unsigned level,
				  uint64_t table_pa)
{
	return (table_pa & X86_64_ADDR) | X86_64_P | X86_64_RW | X86_64_US | X86_64_A;
}

/* What Linux's generic_pt x86_64 writes: P|U|A, RW|D when writable, PS
 * above level 0; XD never. */
static uint64_t x86_64_make_leaf(const struct pt_cfg *cfg, unsigned level,
				 uint64_t iova, uint64_t pa, unsigned size_shift,
				 uint32_t perm)
{
	uint64_t raw = (pa & X86_64_ADDR) | X86_64_P | X86_64_US | X86_64_A;

	if (perm & PERM_W)
		raw |= X86_64_RW | X86_64_D;
	if (level > 0)
		raw |= X86_64_PS;
	return raw;
}

const struct pt_format pt_fmt_x86_64 = {
	.name = "x86-64",
	.code_prefix = "x86.pte",
	.entry_size = 8,
	.partial_unmap = PT_UNMAP_WHOLE_LEAF,
	.init = x86_64_init,
	.decode = x86_64_decode,
	.make_table = x86_64_make_table,
	.make_leaf = x86_64_make_leaf,
};
