/* The lpae (VMSAv8-64) and v7s codecs: geometry per granule and stage,
 * descriptors bit for bit as Linux io-pgtable-arm(-v7s) writes them,
 * decode of every descriptor kind, reserved bits, the access flag,
 * hierarchical permissions, contiguous runs, and map → walk round trips
 * through the shared mapper and walker. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "decoders/lpae_defs.h"
#include "decoders/pt.h"
#include "decoders/pt_pgsize.h"
#include "decoders/v7s_defs.h"

#define PERM_ALL (PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP)
#define KiB(n) ((uint64_t)(n) << 10)
#define MiB(n) ((uint64_t)(n) << 20)
#define GiB(n) ((uint64_t)(n) << 30)

static void cfg_ok(struct pt_cfg *cfg, const struct pt_format *fmt, unsigned levels,
		   unsigned ias, unsigned oas, unsigned g, uint64_t flags)
{
	struct errbuf err;
	int rc = pt_cfg_init(cfg, fmt, levels, ias, oas, g, flags, &err);

	if (rc < 0)
		fail_msg("pt_cfg_init: %s", err.msg);
}

static int cfg_try(const struct pt_format *fmt, unsigned levels, unsigned ias,
		   unsigned oas, unsigned g, uint64_t flags)
{
	struct pt_cfg cfg;
	struct errbuf err;

	return pt_cfg_init(&cfg, fmt, levels, ias, oas, g, flags, &err);
}

/* ---- geometry ---- */

static void test_geometry_stage1(void **state)
{
	struct pt_cfg c;

	(void)state;
	/* 4K, 48-bit: 4 levels of 9 bits, Arm start level 0 */
	cfg_ok(&c, &pt_fmt_lpae, lpae_s1_levels(48, 12), 48, 48, 12, 0);
	assert_int_equal(c.levels, 4);
	for (unsigned l = 0; l < 4; l++) {
		assert_int_equal(c.level_bits[l], 9);
		assert_int_equal(c.level_shift[l], 12 + 9 * l);
	}
	assert_int_equal(c.leaf_sizes, KiB(4) | MiB(2) | GiB(1));
	/* 4K, 39-bit: 3 levels, 1G blocks at the root */
	cfg_ok(&c, &pt_fmt_lpae, 3, 39, 44, 12, 0);
	assert_int_equal(c.level_bits[2], 9);
	assert_int_equal(c.leaf_sizes, KiB(4) | MiB(2) | GiB(1));
	/* 4K, 32-bit: 3 levels, root of 4 entries */
	cfg_ok(&c, &pt_fmt_lpae, lpae_s1_levels(32, 12), 32, 40, 12, 0);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.level_bits[2], 2);
	/* 16K, 48-bit: 4 levels, level 0 has 2 entries, only 32M blocks */
	cfg_ok(&c, &pt_fmt_lpae, lpae_s1_levels(48, 14), 48, 48, 14, 0);
	assert_int_equal(c.levels, 4);
	assert_int_equal(c.level_bits[3], 1);
	assert_int_equal(c.level_bits[0], 11);
	assert_int_equal(c.level_shift[1], 25);
	assert_int_equal(c.leaf_sizes, KiB(16) | MiB(32));
	/* 64K, 48-bit: 3 levels, root 6 bits; 4T blocks only with 52-bit OA */
	cfg_ok(&c, &pt_fmt_lpae, lpae_s1_levels(48, 16), 48, 48, 16, 0);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.level_bits[2], 6);
	assert_int_equal(c.leaf_sizes, KiB(64) | MiB(512));
	cfg_ok(&c, &pt_fmt_lpae, lpae_s1_levels(52, 16), 52, 52, 16, 0);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.level_bits[2], 10);
	assert_int_equal(c.leaf_sizes, KiB(64) | MiB(512) | (1ull << 42));
	/* stage 1 cannot concatenate, 52 bits need 64K, bad granule */
	assert_true(cfg_try(&pt_fmt_lpae, 3, 48, 48, 12, 0) < 0);
	assert_true(cfg_try(&pt_fmt_lpae, 4, 52, 48, 12, 0) < 0);
	assert_true(cfg_try(&pt_fmt_lpae, 3, 48, 52, 12, 0) < 0);
	assert_true(cfg_try(&pt_fmt_lpae, 3, 48, 48, 13, 0) < 0);
	assert_true(cfg_try(&pt_fmt_lpae, 5, 48, 48, 12, 0) < 0);
}

static void test_geometry_stage2(void **state)
{
	struct pt_cfg c;

	(void)state;
	/* Linux: 4K 40-bit IPA → start level 1 with 2 concatenated tables */
	assert_int_equal(lpae_s2_linux_levels(40, 12), 3);
	cfg_ok(&c, &pt_fmt_lpae, 3, 40, 40, 12, PT_LPAE_F_STAGE2);
	assert_int_equal(c.level_bits[2], 10);
	/* 4K 44-bit: level 0 would hold 32 entries: no concatenation */
	assert_int_equal(lpae_s2_linux_levels(44, 12), 4);
	/* 4K 42-bit: 8 tables concatenated */
	assert_int_equal(lpae_s2_linux_levels(42, 12), 3);
	cfg_ok(&c, &pt_fmt_lpae, 3, 42, 44, 12, PT_LPAE_F_STAGE2);
	assert_int_equal(c.level_bits[2], 12);
	/* levels = 0 asks the codec for Linux's choice */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, PT_LPAE_F_STAGE2);
	assert_int_equal(c.level_bits[3], 9);
	/* SL0 = level 2 with 4K and a 40-bit IPA would need 2^10 tables */
	assert_true(cfg_try(&pt_fmt_lpae, 2, 40, 40, 12, PT_LPAE_F_STAGE2) < 0);
	/* 16 concatenated tables is the limit: 4K, 34-bit, start level 2 */
	cfg_ok(&c, &pt_fmt_lpae, 2, 34, 40, 12, PT_LPAE_F_STAGE2);
	assert_int_equal(c.level_bits[1], 13);
	assert_true(cfg_try(&pt_fmt_lpae, 2, 35, 40, 12, PT_LPAE_F_STAGE2) < 0);
	/* a start level above the input size has no root */
	assert_true(cfg_try(&pt_fmt_lpae, 4, 36, 40, 12, PT_LPAE_F_STAGE2) < 0);
	/* 64K 52-bit stage 2 */
	cfg_ok(&c, &pt_fmt_lpae, 3, 52, 52, 16, PT_LPAE_F_STAGE2);
	assert_int_equal(c.level_bits[2], 10);
}

static void test_geometry_v7s(void **state)
{
	struct pt_cfg c;

	(void)state;
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 32, 12, 0);
	assert_int_equal(c.level_bits[1], 12);
	assert_int_equal(c.level_bits[0], 8);
	assert_int_equal(c.level_shift[1], 20);
	assert_int_equal(c.leaf_sizes, KiB(4) | KiB(64) | MiB(1) | MiB(16));
	assert_int_equal(pt_fmt_v7s.table_size(&c, 0), 1024);
	assert_int_equal(pt_fmt_v7s.table_size(&c, 1), 16384);
	assert_int_equal(pt_fmt_v7s.entry_size, 4);
	assert_true(cfg_try(&pt_fmt_v7s, 3, 32, 32, 12, 0) < 0);
	assert_true(cfg_try(&pt_fmt_v7s, 2, 33, 32, 12, 0) < 0);
}

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(pt_format_find("lpae"), &pt_fmt_lpae);
	assert_ptr_equal(pt_format_find("v7s"), &pt_fmt_v7s);
	assert_string_equal(pt_fmt_lpae.code_prefix, "smmu.lpae");
	assert_string_equal(pt_fmt_v7s.code_prefix, "smmu.v7s");
}

/* ---- descriptors as Linux writes them ---- */

static void test_linux_bits_stage1(void **state)
{
	struct pt_cfg c;
	const uint64_t pa = 0x41234000;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	/* IOMMU_READ|WRITE|CACHE: nG, AP[1], AttrIndx 1, SH inner, AF, page */
	assert_int_equal(pt_fmt_lpae.make_leaf(&c, 0, 0, pa, 12, PERM_R | PERM_W | PERM_X |
					       PERM_U | PERM_SNP), pa | 0xf47);
	/* non-coherent: AttrIndx 0, SH outer */
	assert_int_equal(pt_fmt_lpae.make_leaf(&c, 0, 0, pa, 12, PERM_R | PERM_W | PERM_X |
					       PERM_U), pa | 0xe43);
	/* read-only, privileged, no-exec 2M block */
	assert_int_equal(pt_fmt_lpae.make_leaf(&c, 1, 0, 0x40200000, 21, PERM_R | PERM_SNP),
			 0x40200000ull | 0x3ull << 53 | 0xf85);
	/* table: address | 11b */
	assert_int_equal(pt_fmt_lpae.make_table(&c, 3, 0x7fff0000), 0x7fff0003);
}

static void test_linux_bits_stage2(void **state)
{
	struct pt_cfg c;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 3, 40, 40, 12, PT_LPAE_F_STAGE2);
	/* S2AP RW, MemAttr 0xf, SH inner, AF, page */
	assert_int_equal(pt_fmt_lpae.make_leaf(&c, 0, 0, 0x80000000, 12, PERM_ALL),
			 0x80000000ull | 0x7ff);
	/* read-only, non-cacheable (MemAttr 0x5, SH outer), no-exec 1G block */
	assert_int_equal(pt_fmt_lpae.make_leaf(&c, 2, 0, GiB(2), 30, PERM_R),
			 GiB(2) | 0x3ull << 53 | 0x655);
}

static void test_linux_bits_52bit(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;
	const uint64_t pa = 0x000f123456780000ull; /* OA[51:48] = 0xf */
	uint64_t raw;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 3, 52, 52, 16, 0);
	raw = pt_fmt_lpae.make_table(&c, 2, pa);
	assert_int_equal(raw, 0x12345678f003ull); /* bits 15:12 = PA[51:48] */
	pt_fmt_lpae.decode(&c, 2, 0, raw, &e);
	assert_int_equal(e.kind, PTE_TABLE);
	assert_int_equal(e.addr, pa);
	assert_int_equal(e.reserved, 0);
	raw = pt_fmt_lpae.make_leaf(&c, 0, 0, pa, 16, PERM_ALL);
	pt_fmt_lpae.decode(&c, 0, 0, raw, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.addr, pa);
	/* 4T block at Arm level 1 */
	raw = pt_fmt_lpae.make_leaf(&c, 2, 0, 1ull << 42, 42, PERM_ALL);
	pt_fmt_lpae.decode(&c, 2, 0, raw, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.size_shift, 42);
	/* the same bits with a 48-bit OA are reserved */
	cfg_ok(&c, &pt_fmt_lpae, 3, 48, 48, 16, 0);
	pt_fmt_lpae.decode(&c, 0, 0, 0x1234f743, &e);
	assert_int_equal(e.reserved & 0xf000, 0xf000);
	pt_fmt_lpae.decode(&c, 2, 0, (1ull << 42) | 0x741, &e);
	assert_int_equal(e.kind, PTE_INVALID); /* no 4T blocks without LPA */
}

static void test_linux_bits_v7s(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;

	(void)state;
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 32, 12, 0);
	/* READ|WRITE|CACHE small page: attr nG S TEX1 AF AP1 at 11:4, B C, type 1x */
	assert_int_equal(pt_fmt_v7s.make_leaf(&c, 0, 0, 0x80001000, 12, PERM_ALL), 0x80001c7e);
	/* large page: TEX to 14:12, type 01 */
	assert_int_equal(pt_fmt_v7s.make_leaf(&c, 0, 0x3000, 0x80013000, 16, PERM_ALL),
			 0x80011c3d);
	/* section and supersection: attr at 17:10 */
	assert_int_equal(pt_fmt_v7s.make_leaf(&c, 1, 0, 0x80100000, 20, PERM_ALL), 0x80131c0e);
	assert_int_equal(pt_fmt_v7s.make_leaf(&c, 1, 0x300000, 0x81300000, 24, PERM_ALL),
			 0x81071c0e);
	/* read-only no-exec section: AP2 (bit 15), XN (bit 4) */
	assert_int_equal(pt_fmt_v7s.make_leaf(&c, 1, 0, 0x80100000, 20, PERM_R | PERM_U),
			 0x80139c12);
	assert_int_equal(pt_fmt_v7s.make_table(&c, 1, 0x12345c00), 0x12345c01);
	/* supersection copies decode to their own 1M */
	pt_fmt_v7s.decode(&c, 1, 0x300000, 0x81071c0e, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.addr, 0x81300000);
	assert_int_equal(e.size_shift, 24);
	assert_int_equal(e.perm, PERM_ALL);
	pt_fmt_v7s.decode(&c, 0, 0x7000, 0x80011c3d, &e);
	assert_int_equal(e.addr, 0x80017000);
	assert_int_equal(e.size_shift, 16);
	assert_int_equal(e.perm, PERM_ALL);
	pt_fmt_v7s.decode(&c, 1, 0, 0x80139c12, &e);
	assert_int_equal(e.perm, PERM_R | PERM_U);
}

/* ---- decode of every descriptor kind ---- */

static void test_decode_kinds(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	pt_fmt_lpae.decode(&c, 2, 0, 0, &e);
	assert_int_equal(e.kind, PTE_EMPTY);
	pt_fmt_lpae.decode(&c, 2, 0, 0x12340002, &e); /* valid bit clear */
	assert_int_equal(e.kind, PTE_EMPTY);
	pt_fmt_lpae.decode(&c, 3, 0, 0x12345003, &e);
	assert_int_equal(e.kind, PTE_TABLE);
	assert_int_equal(e.addr, 0x12345000);
	assert_int_equal(e.next_level, 2);
	assert_int_equal(e.perm, PERM_ALL);
	/* a block at Arm level 0 (4K) is not allowed */
	pt_fmt_lpae.decode(&c, 3, 0, 0x8000000741, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	assert_non_null(e.problem);
	/* type 01 at level 3 is reserved */
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345741, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	/* 1G and 2M blocks */
	pt_fmt_lpae.decode(&c, 2, 0, 0x40000741, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.size_shift, 30);
	assert_int_equal(e.addr, 0x40000000);
	pt_fmt_lpae.decode(&c, 1, 0, 0x40200741, &e);
	assert_int_equal(e.size_shift, 21);
	/* 16K: no blocks at Arm level 1 */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 14, 0);
	pt_fmt_lpae.decode(&c, 2, 0, 0x1000000741, &e);
	assert_int_equal(e.kind, PTE_INVALID);
	pt_fmt_lpae.decode(&c, 1, 0, 0x2000741, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.size_shift, 25);
	/* v7s: empty, page table, section, small page */
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 32, 12, 0);
	pt_fmt_v7s.decode(&c, 1, 0, 0, &e);
	assert_int_equal(e.kind, PTE_EMPTY);
	pt_fmt_v7s.decode(&c, 1, 0, 0x12345c01, &e);
	assert_int_equal(e.kind, PTE_TABLE);
	assert_int_equal(e.addr, 0x12345c00);
	assert_int_equal(e.next_level, 0);
	pt_fmt_v7s.decode(&c, 1, 0, 0x12345c05, &e); /* PXN on the table */
	assert_int_equal(e.perm, PERM_ALL & ~PERM_X);
}

static void test_decode_reserved(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 40, 12, 0);
	/* output address above a 40-bit OA */
	pt_fmt_lpae.decode(&c, 0, 0, (1ull << 44) | 0x12345f47, &e);
	assert_int_equal(e.kind, PTE_LEAF);
	assert_int_equal(e.reserved, 1ull << 44);
	/* bits 20:12 of a 2M block are RES0, bit 16 (nT) is not */
	pt_fmt_lpae.decode(&c, 1, 0, 0x40200741 | 0x2000, &e);
	assert_int_equal(e.reserved, 0x2000);
	pt_fmt_lpae.decode(&c, 1, 0, 0x40200741 | 0x10000, &e);
	assert_int_equal(e.reserved, 0);
	/* bits 49:48 of a leaf, 51:48 of a table */
	pt_fmt_lpae.decode(&c, 0, 0, 1ull << 49 | 0x1000f47, &e);
	assert_int_equal(e.reserved, 1ull << 49);
	pt_fmt_lpae.decode(&c, 2, 0, 1ull << 50 | 0x1000003, &e);
	assert_int_equal(e.kind, PTE_TABLE);
	assert_int_equal(e.reserved, 1ull << 50);
	/* 16K page: bits 13:12 RES0 */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 14, 0);
	pt_fmt_lpae.decode(&c, 0, 0, 0x12341f47, &e);
	assert_int_equal(e.reserved, 0x1000);
	pt_fmt_lpae.decode(&c, 3, 0, 0x12342003, &e);
	assert_int_equal(e.reserved, 0x2000);
	/* v7s: SBZ bit of a page table, SBZ bits of a large page,
	 * supersection base above 32 bits */
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 32, 12, 0);
	pt_fmt_v7s.decode(&c, 1, 0, 0x12345c11, &e);
	assert_int_equal(e.reserved, 0x10);
	pt_fmt_v7s.decode(&c, 0, 0, 0x80011c3d | 0x40, &e);
	assert_int_equal(e.reserved, 0x40);
	pt_fmt_v7s.decode(&c, 1, 0, 0x81371c0e, &e);
	assert_int_equal(e.reserved, 0x00300000);
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 36, 12, 0);
	pt_fmt_v7s.decode(&c, 1, 0, 0x81371c0e, &e);
	assert_int_equal(e.reserved, 0);
	assert_int_equal(e.addr, 0x381000000ull);
}

static void test_access_flag(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345b47, &e); /* AF clear */
	assert_int_equal(e.kind, PTE_LEAF);
	assert_non_null(e.warn);
	assert_string_equal(e.warn, "af");
	assert_non_null(e.problem);
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345f47, &e);
	assert_null(e.warn);
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, PT_LPAE_F_AF_NO_FAULT);
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345b47, &e);
	assert_null(e.warn);
	cfg_ok(&c, &pt_fmt_lpae, 3, 40, 40, 12, PT_LPAE_F_STAGE2);
	pt_fmt_lpae.decode(&c, 0, 0, 0x123453ff, &e);
	assert_string_equal(e.warn, "af");
	/* v7s: AP[0] is the access flag unless the tables have no perms */
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 32, 12, 0);
	pt_fmt_v7s.decode(&c, 0, 0, 0x80001c6e, &e);
	assert_string_equal(e.warn, "af");
	cfg_ok(&c, &pt_fmt_v7s, 2, 32, 32, 12, PT_V7S_F_NO_PERMS);
	pt_fmt_v7s.decode(&c, 0, 0, 0x80001c6e, &e);
	assert_null(e.warn);
}

static void test_permissions(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;

	(void)state;
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	/* APTable[1] no write, APTable[0] no EL0, UXNTable/PXNTable no exec */
	pt_fmt_lpae.decode(&c, 1, 0, LPAE_APTABLE1 | 0x1000003, &e);
	assert_int_equal(e.perm, PERM_ALL & ~PERM_W);
	pt_fmt_lpae.decode(&c, 1, 0, LPAE_APTABLE0 | 0x1000003, &e);
	assert_int_equal(e.perm, PERM_ALL & ~PERM_U);
	pt_fmt_lpae.decode(&c, 1, 0, LPAE_PXNTABLE | 0x1000003, &e);
	assert_int_equal(e.perm, PERM_ALL & ~PERM_X);
	pt_fmt_lpae.decode(&c, 1, 0, LPAE_UXNTABLE | 0x1000003, &e);
	assert_int_equal(e.perm, PERM_ALL & ~PERM_X);
	/* CD.HAD: the table attributes are ignored */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, PT_LPAE_F_HAD);
	pt_fmt_lpae.decode(&c, 1, 0, LPAE_APTABLE1 | LPAE_UXNTABLE | 0x1000003, &e);
	assert_int_equal(e.perm, PERM_ALL);
	/* stage 2 ignores them too */
	cfg_ok(&c, &pt_fmt_lpae, 3, 40, 40, 12, PT_LPAE_F_STAGE2);
	pt_fmt_lpae.decode(&c, 1, 0, LPAE_APTABLE1 | 0x1000003, &e);
	assert_int_equal(e.perm, PERM_ALL);
	/* stage-2 leaves: S2AP write-only, MemAttr device */
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345000 | 0x787, &e);
	assert_int_equal(e.perm, PERM_W | PERM_X);
	/* stage-1 leaves: PXN alone removes exec; AttrIndx per MAIR */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	pt_fmt_lpae.decode(&c, 0, 0, LPAE_PXN | 0x12345f47, &e);
	assert_int_equal(e.perm, PERM_ALL & ~PERM_X);
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345f4f, &e); /* AttrIndx 3 */
	assert_int_equal(e.perm, PERM_ALL & ~PERM_SNP);
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, PT_LPAE_F_MAIR_WB(1u << 3));
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345f4f, &e);
	assert_int_equal(e.perm, PERM_ALL);
	pt_fmt_lpae.decode(&c, 0, 0, 0x12345f47, &e); /* AttrIndx 1 now NC */
	assert_int_equal(e.perm, PERM_ALL & ~PERM_SNP);
	assert_true(lpae_mair_attr_is_wb(0xff));
	assert_false(lpae_mair_attr_is_wb(0x44));
	assert_false(lpae_mair_attr_is_wb(0x04));
	assert_false(lpae_mair_attr_is_wb(0xf4));
}

/* every codec/stage/granule: make_leaf → decode gives back the leaf */
static void test_leaf_round_trip(void **state)
{
	static const struct { unsigned ias, oas, g; uint64_t flags; } cfgs[] = {
		{ 48, 48, 12, 0 }, { 48, 48, 14, 0 }, { 48, 48, 16, 0 }, { 52, 52, 16, 0 },
		{ 40, 40, 12, PT_LPAE_F_STAGE2 }, { 47, 48, 14, PT_LPAE_F_STAGE2 },
		{ 44, 44, 16, PT_LPAE_F_STAGE2 },
	};
	static const uint32_t perms1[] = {
		PERM_R, PERM_R | PERM_W, PERM_ALL, PERM_R | PERM_U | PERM_SNP, PERM_R | PERM_X,
	};
	static const uint32_t perms2[] = {
		PERM_R, PERM_W, PERM_R | PERM_W, PERM_ALL & ~PERM_U, PERM_W | PERM_SNP,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		bool s2 = cfgs[i].flags & PT_LPAE_F_STAGE2;
		unsigned levels = s2 ? lpae_s2_linux_levels(cfgs[i].ias, cfgs[i].g)
				     : lpae_s1_levels(cfgs[i].ias, cfgs[i].g);
		struct pt_cfg c;

		cfg_ok(&c, &pt_fmt_lpae, levels, cfgs[i].ias, cfgs[i].oas, cfgs[i].g,
		       cfgs[i].flags | PT_LPAE_F_CONTIG);
		for (unsigned l = 0; l < c.levels; l++) {
			for (unsigned sz = c.level_shift[l]; sz < 64; sz++) {
				uint64_t pa = (1ull << c.oas) - (1ull << sz) * 3, raw;
				struct pt_entry e;

				if (!(c.leaf_sizes & (1ull << sz)) ||
				    (sz > c.level_shift[l] && l + 1 < c.levels &&
				     sz >= c.level_shift[l + 1]))
					continue;
				if (sz != c.level_shift[l] && !(l == 0 || c.leaf_sizes & (1ull << c.level_shift[l])))
					continue;
				for (size_t p = 0; p < 5; p++) {
					uint32_t perm = s2 ? perms2[p] : perms1[p];

					raw = pt_fmt_lpae.make_leaf(&c, l, 0, pa, sz, perm);
					pt_fmt_lpae.decode(&c, l, 0, raw, &e);
					assert_int_equal(e.kind, PTE_LEAF);
					assert_int_equal(e.addr, pa);
					assert_int_equal(e.size_shift, sz);
					assert_int_equal(e.reserved, 0);
					assert_null(e.warn);
					assert_int_equal(e.perm, perm);
				}
			}
			if (l > 0) {
				uint64_t t = (1ull << c.oas) - (1ull << c.granule_shift) * 5;
				struct pt_entry e;

				pt_fmt_lpae.decode(&c, l, 0, pt_fmt_lpae.make_table(&c, l, t), &e);
				assert_int_equal(e.kind, PTE_TABLE);
				assert_int_equal(e.addr, t);
				assert_int_equal(e.reserved, 0);
			}
		}
	}
}

static void test_contiguous(void **state)
{
	struct pt_cfg c;
	struct pt_entry e;
	uint64_t raw;

	(void)state;
	/* without the flag Linux's page sizes only */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	assert_false(c.leaf_sizes & KiB(64));
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, PT_LPAE_F_CONTIG);
	assert_int_equal(c.leaf_sizes, KiB(4) | KiB(64) | MiB(2) | MiB(32) | GiB(1) | GiB(16));
	raw = pt_fmt_lpae.make_leaf(&c, 0, 0, 0x10005000, 16, PERM_ALL);
	assert_int_equal(raw, LPAE_CONTIG | 0x10005f47);
	pt_fmt_lpae.decode(&c, 0, 0, raw, &e);
	assert_int_equal(e.size_shift, 16);
	assert_int_equal(e.addr, 0x10005000);
	/* 16K: 128 pages (2M) at level 3, 32 blocks (1G) at level 2 */
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 14, PT_LPAE_F_CONTIG);
	assert_int_equal(c.leaf_sizes, KiB(16) | MiB(2) | MiB(32) | GiB(1));
	/* 64K: 32 pages (2M) and 32 blocks (16G) */
	cfg_ok(&c, &pt_fmt_lpae, 3, 48, 48, 16, PT_LPAE_F_CONTIG);
	assert_int_equal(c.leaf_sizes, KiB(64) | MiB(2) | MiB(512) | GiB(16));
	/* no hint for 64K level-1 blocks: the bit is reserved there */
	cfg_ok(&c, &pt_fmt_lpae, 3, 52, 52, 16, 0);
	pt_fmt_lpae.decode(&c, 2, 0, LPAE_CONTIG | 1ull << 42 | 0x741, &e);
	assert_int_equal(e.reserved, LPAE_CONTIG);
	assert_int_equal(e.size_shift, 42);
	/* a run longer than the root of a 4K 32-bit table */
	cfg_ok(&c, &pt_fmt_lpae, 3, 32, 40, 12, PT_LPAE_F_CONTIG);
	assert_false(c.leaf_sizes & GiB(16));
}

/* ---- map → walk through the shared mapper and walker ---- */

struct collected {
	struct pt_leaf leaf[64];
	size_t n;
};

static int collect(void *ctx, const struct pt_leaf *l)
{
	struct collected *c = ctx;

	if (c->n < 64)
		c->leaf[c->n] = *l;
	c->n++;
	return 0;
}

struct counted_sink {
	struct sink s;
	unsigned n;
	char last[64];
};

static int count_finding(struct sink *s, const struct finding *f)
{
	struct counted_sink *cs = (struct counted_sink *)s;

	cs->n++;
	strncpy(cs->last, f->code, sizeof(cs->last) - 1);
	return 0;
}

struct range {
	uint64_t iova, pa, size;
	uint64_t leaf_size; /* page size the walk must report */
};

static void round_trip(const struct pt_format *fmt, unsigned levels, unsigned ias,
		       unsigned oas, unsigned g, uint64_t flags, const struct range *r,
		       size_t nr)
{
	struct arena *a = arena_new(0x40000000, MiB(64));
	struct physmem *pm;
	struct pt_cfg c;
	struct pt_mapper m;
	struct errbuf err;
	struct collected got = { .n = 0 };
	struct counted_sink cs = { .s = { .finding = count_finding } };
	struct pt_walk w;
	size_t k = 0;

	assert_non_null(a);
	cfg_ok(&c, fmt, levels, ias, oas, g, flags);
	assert_int_equal(pt_mapper_init(&m, &c, a, &err), 0);
	for (size_t i = 0; i < nr; i++) {
		uint64_t mapped = 0;
		int rc = pt_map_range(&m, r[i].iova, r[i].pa, r[i].size,
				      PERM_R | PERM_W | PERM_U | PERM_SNP, &mapped, &err);

		if (rc < 0)
			fail_msg("map %zu: %s", i, err.msg);
	}
	assert_int_equal(arena_physmem(a, &pm, &err), 0);
	memset(&w, 0, sizeof(w));
	w.cfg = &c;
	w.mem = pm;
	w.root = m.root;
	w.leaf = collect;
	w.ctx = &got;
	w.findings = &cs.s;
	w.pasid = PASID_NONE;
	assert_int_equal(pt_walk(&w, &err), 0);
	if (cs.n)
		fail_msg("walk reported %u findings, last %s", cs.n, cs.last);
	/* every range comes back as leaves of the expected size, in order */
	for (size_t i = 0; i < nr; i++) {
		for (uint64_t off = 0; off < r[i].size; off += r[i].leaf_size, k++) {
			assert_true(k < got.n);
			assert_int_equal(got.leaf[k].iova, r[i].iova + off);
			assert_int_equal(got.leaf[k].phys, r[i].pa + off);
			assert_int_equal(got.leaf[k].size, r[i].leaf_size);
			assert_int_equal(got.leaf[k].perm & (PERM_R | PERM_W), PERM_R | PERM_W);
		}
	}
	assert_int_equal(got.n, k);
	physmem_free(pm);
	arena_free(a);
}

static void test_walk_lpae_4k(void **state)
{
	const struct range r[] = {
		{ 0x1000, 0x80001000, 0x2000, KiB(4) },
		{ MiB(4), 0x80400000, MiB(4), MiB(2) },
		{ GiB(3), GiB(5), GiB(1), GiB(1) },
		{ 0xfffffffff000ull, 0x1000, 0x1000, KiB(4) },
	};

	(void)state;
	round_trip(&pt_fmt_lpae, 4, 48, 48, 12, 0, r, 4);
	round_trip(&pt_fmt_lpae, 3, 40, 40, 12, PT_LPAE_F_STAGE2, r, 3);
}

/* Leaves with AF=0 each get their own warning: one that differs from the
 * previous only in address bits is not taken as a copy of it. */
static void test_walk_af_each_leaf(void **state)
{
	struct arena *a = arena_new(0x40000000, MiB(64));
	struct physmem *pm;
	struct pt_cfg c;
	struct pt_mapper m;
	struct errbuf err;
	struct collected got = { .n = 0 };
	struct counted_sink cs = { .s = { .finding = count_finding } };
	struct pt_walk w;
	uint64_t mapped = 0;

	(void)state;
	assert_non_null(a);
	cfg_ok(&c, &pt_fmt_lpae, 4, 48, 48, 12, 0);
	assert_int_equal(pt_mapper_init(&m, &c, a, &err), 0);
	assert_int_equal(pt_map_range(&m, 0x10000, 0x80010000, 0x3000, PERM_R | PERM_W,
				      &mapped, &err), 0);
	for (uint64_t iova = 0x10000; iova < 0x13000; iova += 0x1000) {
		struct pt_leaf l;
		uint64_t *pte;

		assert_true(pt_lookup(&m, iova, &l));
		pte = (uint64_t *)((char *)arena_page(a, l.entry_addr) + (l.entry_addr & 0xfff));
		*pte &= ~(1ull << 10); /* AF */
	}
	assert_int_equal(arena_physmem(a, &pm, &err), 0);
	memset(&w, 0, sizeof(w));
	w.cfg = &c;
	w.mem = pm;
	w.root = m.root;
	w.leaf = collect;
	w.ctx = &got;
	w.findings = &cs.s;
	w.pasid = PASID_NONE;
	assert_int_equal(pt_walk(&w, &err), 0);
	assert_int_equal(got.n, 3);
	assert_int_equal(cs.n, 3);
	assert_string_equal(cs.last, "smmu.lpae.af");
	physmem_free(pm);
	arena_free(a);
}

static void test_walk_lpae_16k_64k(void **state)
{
	const struct range r16[] = {
		{ 0x4000, 0x80004000, 0x8000, KiB(16) },
		{ MiB(64), 0x82000000, MiB(32), MiB(32) },
		{ 0xffffffffc000ull, 0x4000, 0x4000, KiB(16) },
	};
	const struct range r64[] = {
		{ 0x10000, 0x80010000, 0x20000, KiB(64) },
		{ MiB(512), GiB(2), MiB(512), MiB(512) },
		{ 0xffffffff0000ull, 0x10000, 0x10000, KiB(64) },
	};
	const struct range r52[] = {
		{ 0x10000, 0xf000080010000ull, 0x10000, KiB(64) },
		{ 1ull << 42, 1ull << 50, 1ull << 42, 1ull << 42 },
	};

	(void)state;
	round_trip(&pt_fmt_lpae, 4, 48, 48, 14, 0, r16, 3);
	round_trip(&pt_fmt_lpae, 3, 48, 48, 16, 0, r64, 3);
	round_trip(&pt_fmt_lpae, 3, 52, 52, 16, 0, r52, 2);
	round_trip(&pt_fmt_lpae, 3, 48, 48, 16, PT_LPAE_F_STAGE2, r64, 3);
}

static void test_walk_lpae_contiguous(void **state)
{
	const struct range r[] = {
		{ 0x10000, 0x80010000, 0x10000, KiB(64) },
		{ 0x30000, 0x80033000, 0x1000, KiB(4) },
		{ MiB(32), MiB(64), MiB(32), MiB(32) },
	};

	(void)state;
	round_trip(&pt_fmt_lpae, 4, 48, 48, 12, PT_LPAE_F_CONTIG, r, 3);
}

static void test_walk_v7s(void **state)
{
	const struct range r[] = {
		{ 0x1000, 0x80001000, 0x1000, KiB(4) },
		{ 0x10000, 0x80010000, 0x20000, KiB(64) },
		{ MiB(1), 0x80100000, MiB(1), MiB(1) },
		{ MiB(16), 0x81000000, MiB(32), MiB(16) },
		{ 0xfffff000, 0x1000, 0x1000, KiB(4) },
	};

	(void)state;
	round_trip(&pt_fmt_v7s, 2, 32, 32, 12, 0, r, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_stage1),
		cmocka_unit_test(test_geometry_stage2),
		cmocka_unit_test(test_geometry_v7s),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_linux_bits_stage1),
		cmocka_unit_test(test_linux_bits_stage2),
		cmocka_unit_test(test_linux_bits_52bit),
		cmocka_unit_test(test_linux_bits_v7s),
		cmocka_unit_test(test_decode_kinds),
		cmocka_unit_test(test_decode_reserved),
		cmocka_unit_test(test_access_flag),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_leaf_round_trip),
		cmocka_unit_test(test_contiguous),
		cmocka_unit_test(test_walk_lpae_4k),
		cmocka_unit_test(test_walk_af_each_leaf),
		cmocka_unit_test(test_walk_lpae_16k_64k),
		cmocka_unit_test(test_walk_lpae_contiguous),
		cmocka_unit_test(test_walk_v7s),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
