/* AMD-Vi v1 ("host") I/O page tables: the "amd-v1" codec.
 *
 * cfg->levels is the DTE Mode (1..6).  Our level l is the spec's level
 * l+1; an entry at level l spans 2^(12 + 9l) bytes.  A present entry's
 * NextLevel field says what it is:
 *   0        a page of the level's natural size (not at the 6th level),
 *   1..l     a table of spec level NextLevel; below l it skips levels,
 *   7        a page whose size 2^s is encoded by the run of 1s in the low
 *            address bits, replicated over 2^(s - span) entries,
 * and any other value is invalid at that level.  Bit facts: amd_defs.h. */
#include "decoders/pt.h"
#include "decoders/amd_defs.h"

static unsigned amd_v1_natural_ias(unsigned levels)
{
	unsigned bits = AMD_V1_LEVEL_SHIFT(levels);

	return bits > 64 ? 64 : bits;
}

static int amd_v1_init(struct pt_cfg *cfg, struct errbuf *err)
{
	unsigned natural;
	uint64_t sizes = 0;

	if (cfg->levels < 1 || cfg->levels > AMD_V1_MAX_LEVELS)
		return err_set(err, -EINVAL,
			       "amd-v1: %u levels (DTE mode) not in 1..6",
			       cfg->levels);
	natural = amd_v1_natural_ias(cfg->levels);
	if (cfg->ias == 0)
		cfg->ias = natural;
	if (cfg->ias > natural || cfg->ias <= AMD_V1_LEVEL_SHIFT(cfg->levels - 1))
		return err_set(err, -EINVAL,
			       "amd-v1: %u-bit IOVA does not fit %u levels",
			       cfg->ias, cfg->levels);
	if (cfg->oas == 0)
		cfg->oas = AMD_V1_OAS_MAX;
	if (cfg->oas < 32 || cfg->oas > AMD_V1_OAS_MAX)
		return err_set(err, -EINVAL,
			       "amd-v1: output address width %u not in 32..52",
			       cfg->oas);
	if (cfg->granule_shift == 0)
		cfg->granule_shift = 12;
	if (cfg->granule_shift != 12)
		return err_set(err, -EINVAL, "amd-v1: granule 2^%u is not 4 KiB",
			       cfg->granule_shift);

	for (unsigned l = 0; l < cfg->levels; l++) {
		unsigned shift = AMD_V1_LEVEL_SHIFT(l);
		unsigned bits = l + 1 == cfg->levels ? cfg->ias - shift : 9;

		cfg->level_shift[l] = shift;
		cfg->level_bits[l] = bits;
		if (l == AMD_V1_MAX_LEVELS - 1)
			continue; /* the 6th level holds no pages */
		/* natural size and NextLevel=7 sizes up to 256 × the span,
		 * below 2^oas (generic-pt amdv1pt_possible_sizes) */
		for (unsigned s = shift; s < shift + bits && s < cfg->oas; s++)
			sizes |= 1ull << s;
	}
	cfg->leaf_sizes = sizes & ~AMD_V1_PGSIZE_HOLE;
	/* a page's address bits at or above its size (natural or NextLevel=7)
	 * are copied to its output address and below oas never reserved */
	for (unsigned l = 0; l < cfg->levels && l < AMD_V1_MAX_LEVELS - 1; l++)
		cfg->leaf_addr[l] = AMD_PTE_ADDR & ((1ull << cfg->oas) - 1);
	return 0;
}

static uint32_t amd_v1_perm(uint64_t raw)
{
	uint32_t perm = 0;

	if (raw & AMD_PTE_IR)
		perm |= PERM_R;
	if (raw & AMD_PTE_IW)
		perm |= PERM_W;
	return perm;
}

/* Position of the lowest clear bit at or above 12: a NextLevel=7 page is
 * 2^(that + 1) bytes (Linux PTE_PAGE_SIZE). */
static unsigned amd_v1_sized_page_shift(uint64_t raw)
{
	return (unsigned)__builtin_ctzll(~(raw | 0xfff)) + 1;
}

static void amd_v1_decode(const struct pt_cfg *cfg, unsigned level,
			  uint64_t iova, uint64_t raw, struct pt_entry *out)
{
	unsigned nl = (unsigned)((raw & AMD_PTE_NEXT_LEVEL) >> AMD_PTE_NEXT_LEVEL_SHIFT);
	unsigned span = cfg->level_shift[level];
	uint64_t above_oas = AMD_PTE_ADDR & ~((1ull << cfg->oas) - 1);

	*out = (struct pt_entry){ .kind = PTE_EMPTY };
	if (!(raw & AMD_PTE_PR))
		return;

	if (nl != AMD_NL_PAGE && nl != AMD_NL_SIZED_PAGE) {
		/* a PDE: spec level level+1 may point to levels 1..level */
		if (nl > level) {
			out->kind = PTE_INVALID;
			out->problem = level == 0 ?
				"next level in a bottom-level entry" :
				"next level not below this level";
			return;
		}
		out->kind = PTE_TABLE;
		out->addr = raw & AMD_PTE_ADDR & ~above_oas;
		out->next_level = nl - 1;
		out->perm = ~(uint32_t)(PERM_R | PERM_W) | amd_v1_perm(raw);
		out->reserved = raw & (AMD_PDE_RESERVED | above_oas);
		return;
	}

	if (level == AMD_V1_MAX_LEVELS - 1) {
		out->kind = PTE_INVALID;
		out->problem = "page at the sixth level";
		return;
	}
	out->perm = amd_v1_perm(raw) | ((raw & AMD_PTE_FC) ? PERM_SNP : 0);
	out->reserved = raw & (AMD_PTE_RESERVED | above_oas);

	if (nl == AMD_NL_PAGE) {
		out->kind = PTE_LEAF;
		out->size_shift = span;
		/* address bits below a large page's size carry nothing */
		out->reserved |= raw & AMD_PTE_ADDR & ((1ull << span) - 1);
		out->addr = raw & AMD_PTE_ADDR & ~above_oas & ~((1ull << span) - 1);
		return;
	}

	/* NextLevel = 7: 2^s bytes, address bits s-2..12 all 1, bit s-1 0 */
	unsigned s = amd_v1_sized_page_shift(raw);

	if (s > cfg->oas) {
		out->kind = PTE_INVALID;
		out->problem = "encoded page size beyond the output address width";
		return;
	}
	if (s <= span || s >= span + cfg->level_bits[level]) {
		out->kind = PTE_INVALID;
		out->problem = s <= span ?
			"encoded page size not above this level's size" :
			"encoded page size too large for this level";
		return;
	}
	out->kind = PTE_LEAF;
	out->size_shift = s;
	out->addr = (raw & AMD_PTE_ADDR & ~above_oas & ~((1ull << s) - 1)) |
		    (iova & ((1ull << s) - 1) & ~((1ull << span) - 1));
}

static uint64_t amd_v1_make_table(const struct pt_cfg *cfg, unsigned level,
				  uint64_t table_pa)
{
	/* Linux PM_LEVEL_PDE: permissions are controlled at the leaf */
	return (table_pa & AMD_PTE_ADDR) |
	       ((uint64_t)level << AMD_PTE_NEXT_LEVEL_SHIFT) |
	       AMD_PTE_PR | AMD_PTE_IR | AMD_PTE_IW;
}

static uint64_t amd_v1_make_leaf(const struct pt_cfg *cfg, unsigned level,
				 uint64_t iova, uint64_t pa,
				 unsigned size_shift, uint32_t perm)
{
	unsigned span = cfg->level_shift[level];
	uint64_t raw = AMD_PTE_PR;

	if (perm & PERM_R)
		raw |= AMD_PTE_IR;
	if (perm & PERM_W)
		raw |= AMD_PTE_IW;
	if ((perm & PERM_SNP) || (cfg->flags & PT_AMD_V1_F_FC))
		raw |= AMD_PTE_FC;
	if (size_shift <= span)
		return raw | (pa & AMD_PTE_ADDR);

	/* Linux PAGE_SIZE_PTE: every replica holds the whole page's code */
	uint64_t size = 1ull << size_shift;
	uint64_t base = pa & ~(size - 1);

	return raw | ((uint64_t)AMD_NL_SIZED_PAGE << AMD_PTE_NEXT_LEVEL_SHIFT) |
	       ((base | (size - 1)) & ~(size >> 1) & AMD_PTE_ADDR);
}

const struct pt_format pt_fmt_amd_v1 = {
	.name = "amd-v1",
	.code_prefix = "amd.pte",
	.entry_size = 8,
	.big_endian = false,
	.partial_unmap = PT_UNMAP_WHOLE_LEAF,
	.run_identical = true,
	.init = amd_v1_init,
	.decode = amd_v1_decode,
	.make_table = amd_v1_make_table,
	.make_leaf = amd_v1_make_leaf,
};
