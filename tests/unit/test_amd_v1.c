/* amd-v1 codec: geometry, entry decoding by NextLevel, the NextLevel=7
 * size encoding (formats.md 2.3), level skipping and reserved bits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "decoders/pt.h"
#include "decoders/amd_defs.h"

static void cfg_for(struct pt_cfg *cfg, unsigned levels, unsigned oas,
		    uint64_t flags)
{
	struct errbuf err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->fmt = &pt_fmt_amd_v1;
	cfg->levels = levels;
	cfg->oas = oas;
	cfg->flags = flags;
	assert_int_equal(pt_fmt_amd_v1.init(cfg, &err), 0);
}

static void decode(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
		   uint64_t raw, struct pt_entry *e)
{
	memset(e, 0x5a, sizeof(*e)); /* decode must fill every field */
	pt_fmt_amd_v1.decode(cfg, level, iova, raw, e);
}

static void test_geometry(void **state)
{
	struct pt_cfg cfg;

	(void)state;
	cfg_for(&cfg, 3, 0, 0);
	assert_int_equal(cfg.ias, 39);
	assert_int_equal(cfg.oas, 52);
	assert_int_equal(cfg.granule_shift, 12);
	for (unsigned l = 0; l < 3; l++) {
		assert_int_equal(cfg.level_shift[l], 12 + 9 * l);
		assert_int_equal(cfg.level_bits[l], 9);
	}
	/* every power of two from 4 KiB to 2^38 */
	assert_true(cfg.leaf_sizes == (((1ull << 39) - 1) & ~0xfffull));

	cfg_for(&cfg, 6, 0, 0);
	assert_int_equal(cfg.ias, 64);
	assert_int_equal(cfg.level_shift[5], 57);
	assert_int_equal(cfg.level_bits[5], 7); /* IOVA bits 63:57 */
	/* up to 2^51 (the address field), without 512 GiB */
	assert_true(cfg.leaf_sizes ==
		    ((((1ull << 52) - 1) & ~0xfffull) & ~(1ull << 39)));

	cfg_for(&cfg, 4, 40, 0);
	assert_true(cfg.leaf_sizes ==
		    ((((1ull << 40) - 1) & ~0xfffull) & ~(1ull << 39)));
}

static void test_init_rejects(void **state)
{
	struct pt_cfg cfg;
	struct errbuf err;
	const struct {
		unsigned levels, ias, oas, granule;
	} bad[] = {
		{ 0, 0, 0, 0 }, { 7, 0, 0, 0 }, { 3, 40, 0, 0 }, { 3, 30, 0, 0 },
		{ 3, 0, 53, 0 }, { 3, 0, 0, 16 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.levels = bad[i].levels;
		cfg.ias = bad[i].ias;
		cfg.oas = bad[i].oas;
		cfg.granule_shift = bad[i].granule;
		err.msg[0] = 0;
		assert_int_equal(pt_fmt_amd_v1.init(&cfg, &err), -EINVAL);
		assert_true(strncmp(err.msg, "amd-v1: ", 8) == 0);
	}
}

static void test_decode_4k_and_empty(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;

	(void)state;
	cfg_for(&cfg, 3, 0, 0);
	decode(&cfg, 0, 0x1000, 0x7ffff12345000ull | AMD_PTE_IR | AMD_PTE_IW, &e);
	assert_int_equal(e.kind, PTE_EMPTY); /* PR clear */

	decode(&cfg, 0, 0x1000, 0x12345000ull | AMD_PTE_PR | AMD_PTE_IR |
	       AMD_PTE_FC | AMD_PTE_U | AMD_PTE_A | AMD_PTE_D, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_true(e.addr == 0x12345000ull);
	assert_int_equal(e.size_shift, 12);
	assert_int_equal(e.perm, PERM_R | PERM_SNP);
	assert_true(e.reserved == 0); /* U, A, D are defined bits */
}

static void test_decode_natural_large(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;

	(void)state;
	cfg_for(&cfg, 4, 0, 0);
	/* NextLevel 0 at level 1 / 2 / 3 = 2 MiB / 1 GiB / 512 GiB */
	for (unsigned l = 1; l < 4; l++) {
		uint64_t pa = 1ull << (12 + 9 * l + 1);

		decode(&cfg, l, 0, pa | AMD_PTE_PR | AMD_PTE_IW, &e);
		assert_int_equal(e.kind, PTE_LEAF);
		assert_int_equal(e.size_shift, 12 + 9 * l);
		assert_true(e.addr == pa);
		assert_int_equal(e.perm, PERM_W);
		assert_true(e.reserved == 0);
	}
	/* a 2 MiB page whose address is not 2 MiB aligned */
	decode(&cfg, 1, 0, 0x40002000ull | AMD_PTE_PR | AMD_PTE_IR, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_true(e.reserved == 0x2000);
	assert_true(e.addr == 0x40000000ull);
}

/* formats.md 2.3: 32 KiB → level 0, 8 copies, address bits 13:12 = 11b,
 * bit 14 = 0; 4 MiB → level 1, 2 copies. */
static void test_sized_page_encoding(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;
	uint64_t raw;

	(void)state;
	cfg_for(&cfg, 3, 0, 0);
	raw = pt_fmt_amd_v1.make_leaf(&cfg, 0, 0x18000, 0x4000000ull + 0x3000,
				      15, PERM_R | PERM_W);
	assert_true((raw & AMD_PTE_ADDR) == 0x4003000ull);
	assert_int_equal((raw & AMD_PTE_NEXT_LEVEL) >> 9, 7);
	assert_true(raw & AMD_PTE_PR);
	assert_true((raw & (AMD_PTE_IR | AMD_PTE_IW)) == (AMD_PTE_IR | AMD_PTE_IW));
	assert_false(raw & AMD_PTE_FC);

	/* the 4th replica of the page starting at IOVA 0x10000 */
	decode(&cfg, 0, 0x13000, raw, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.size_shift, 15);
	assert_true(e.addr == 0x4003000ull);
	assert_true(e.reserved == 0);

	raw = pt_fmt_amd_v1.make_leaf(&cfg, 1, 0x400000, 0x80000000ull, 22, PERM_R);
	assert_true((raw & AMD_PTE_ADDR) == (0x80000000ull | 0x1ff000));
	decode(&cfg, 1, 0x600000, raw, &e);
	assert_int_equal(e.size_shift, 22);
	assert_true(e.addr == 0x80200000ull);
}

/* Encode → decode for every size the instance may hold, at the level
 * Linux picks (PAGE_SIZE_LEVEL) and for every replica. */
static void test_round_trip_all_sizes(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;

	(void)state;
	cfg_for(&cfg, 6, 0, PT_AMD_V1_F_FC);
	for (unsigned s = 12; s < 64; s++) {
		if (!(cfg.leaf_sizes & (1ull << s)))
			continue;
		unsigned level = (s - 12) / 9;
		unsigned span = cfg.level_shift[level];
		uint64_t replicas = 1ull << (s - span);
		uint64_t size = 1ull << s;
		uint64_t iova = 3 * size, pa = (s < 50 ? 5 : 1) * size;
		uint64_t first = 0;

		for (uint64_t i = 0; i < replicas; i++) {
			uint64_t off = i << span;
			uint64_t raw = pt_fmt_amd_v1.make_leaf(&cfg, level,
				iova + off, pa + off, s, PERM_W);

			if (i == 0)
				first = raw;
			assert_true(raw == first); /* identical replicas */
			assert_true(raw & AMD_PTE_FC);
			decode(&cfg, level, iova + off, raw, &e);
			assert_int_equal(e.kind, PTE_LEAF);
			assert_int_equal(e.size_shift, s);
			assert_true(e.addr == pa + off);
			assert_int_equal(e.perm, PERM_W | PERM_SNP);
			assert_true(e.reserved == 0);
		}
	}
}

static void test_tables_and_skipping(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;
	uint64_t raw;

	(void)state;
	cfg_for(&cfg, 4, 0, 0);
	for (unsigned l = 1; l < 4; l++) {
		raw = pt_fmt_amd_v1.make_table(&cfg, l, 0x123000);
		assert_int_equal((raw & AMD_PTE_NEXT_LEVEL) >> 9, l);
		decode(&cfg, l, 0, raw, &e);
		assert_int_equal(e.kind, PTE_TABLE);
		assert_int_equal(e.next_level, l - 1);
		assert_true(e.addr == 0x123000);
		assert_true((e.perm & (PERM_R | PERM_W)) == (PERM_R | PERM_W));
		assert_true(e.reserved == 0);
	}
	/* level 3 (spec level 4) pointing to a spec level-1 table: skips 2 */
	decode(&cfg, 3, 0, 0x200000ull | (1ull << 9) | AMD_PTE_PR | AMD_PTE_IR, &e);
	assert_int_equal(e.kind, PTE_TABLE);
	assert_int_equal(e.next_level, 0);
	/* a table without IW masks writes below it, keeps other bits */
	assert_int_equal(e.perm & (PERM_R | PERM_W), PERM_R);
	assert_true(e.perm & PERM_SNP);
	/* U and FC are reserved in a PDE */
	decode(&cfg, 2, 0, 0x200000ull | (2ull << 9) | AMD_PTE_PR | AMD_PTE_U, &e);
	assert_true(e.reserved == AMD_PTE_U);
}

static void test_invalid_next_level(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;

	(void)state;
	cfg_for(&cfg, 6, 0, 0);
	/* NextLevel 1..6 in a bottom-level entry */
	for (unsigned nl = 1; nl <= 6; nl++) {
		decode(&cfg, 0, 0, 0x1000ull | ((uint64_t)nl << 9) | AMD_PTE_PR, &e);
		assert_int_equal(e.kind, PTE_INVALID);
		assert_non_null(e.problem);
	}
	/* NextLevel equal to or above the entry's own spec level */
	decode(&cfg, 2, 0, 0x1000ull | (3ull << 9) | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	decode(&cfg, 2, 0, 0x1000ull | (6ull << 9) | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	/* the sixth level holds no pages */
	decode(&cfg, 5, 0, 0x1000ull | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	decode(&cfg, 5, 0, 0x1000ull | (7ull << 9) | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	/* NextLevel 7 at level 1 encoding 8 KiB (bit 12 clear) */
	decode(&cfg, 1, 0, 0x200000ull | (7ull << 9) | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	/* NextLevel 7 at level 0 encoding 2 MiB: 512 replicas, a whole table */
	decode(&cfg, 0, 0, 0x0ff000ull | (7ull << 9) | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	/* a run of 1s through bit 51 */
	decode(&cfg, 4, 0, AMD_PTE_ADDR | (7ull << 9) | AMD_PTE_PR, &e);
	assert_int_equal(e.kind, PTE_INVALID);
}

static void test_reserved_bits(void **state)
{
	struct pt_cfg cfg;
	struct pt_entry e;

	(void)state;
	cfg_for(&cfg, 3, 40, 0);
	decode(&cfg, 0, 0, 0x5000ull | AMD_PTE_PR | (1ull << 55), &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_true(e.reserved == (1ull << 55));
	/* address bits at or above the output width */
	decode(&cfg, 0, 0, 0x5000ull | AMD_PTE_PR | (1ull << 45), &e);
	assert_true(e.reserved == (1ull << 45));
	assert_true(e.addr == 0x5000);
	decode(&cfg, 1, 0, 0x5000ull | (1ull << 9) | AMD_PTE_PR | (1ull << 41), &e);
	assert_int_equal(e.kind, PTE_TABLE);
	assert_true(e.reserved == (1ull << 41));
	/* bit 63 is ignored */
	decode(&cfg, 0, 0, 0x5000ull | AMD_PTE_PR | (1ull << 63), &e);
	assert_true(e.reserved == 0);
}

/* cfg->leaf_addr: moving a clean leaf (natural or NextLevel=7 run start)
 * by changing address bits at or above its size changes only its address,
 * as the walker's memos assume; bits below the size are not in the mask. */
static void test_leaf_addr_moves_only_address(void **state)
{
	struct pt_cfg cfg;
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	cfg_for(&cfg, 4, 48, 0);
	assert_true(cfg.leaf_addr[0] == (AMD_PTE_ADDR & ((1ull << 48) - 1)));
	for (unsigned level = 0; level < 3; level++) {
		unsigned span = cfg.level_shift[level];

		for (unsigned s = span; s < span + 9; s++) {
			uint64_t pa = 1ull << 40, raw = pt_fmt_amd_v1.make_leaf(
				&cfg, level, 0, pa, s, PERM_R | PERM_W);
			uint64_t mask = cfg.leaf_addr[level] & ~((1ull << s) - 1);
			struct pt_entry e, m;

			decode(&cfg, level, 0, raw, &e);
			assert_int_equal(e.kind, PTE_LEAF);
			assert_int_equal(e.size_shift, s);
			assert_true(e.reserved == 0 && e.warn == NULL);
			for (int k = 0; k < 64; k++) {
				uint64_t moved;

				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				moved = (raw & ~mask) | (seed & mask);
				decode(&cfg, level, 0, moved, &m);
				assert_int_equal(m.kind, PTE_LEAF);
				assert_int_equal(m.size_shift, s);
				assert_int_equal(m.perm, e.perm);
				assert_true(m.reserved == 0 && m.warn == NULL);
				assert_true(m.addr == ((e.addr & ~mask) | (moved & mask)));
			}
		}
	}
	cfg_for(&cfg, 6, 0, 0);
	assert_true(cfg.leaf_addr[5] == 0); /* the 6th level holds no pages */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_decode_4k_and_empty),
		cmocka_unit_test(test_decode_natural_large),
		cmocka_unit_test(test_sized_page_encoding),
		cmocka_unit_test(test_round_trip_all_sizes),
		cmocka_unit_test(test_tables_and_skipping),
		cmocka_unit_test(test_invalid_next_level),
		cmocka_unit_test(test_reserved_bits),
		cmocka_unit_test(test_leaf_addr_moves_only_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
