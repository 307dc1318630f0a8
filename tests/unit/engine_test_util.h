/* Helpers shared by the engine unit tests: engines with the reference
 * model on, and a test page-table format ("test-pow2") that holds every
 * power-of-two page size from 4 KiB to 128 TiB as runs of entries, so the
 * engine can be tried on AMD-like and odd page-size bitmaps whatever
 * codecs exist. */
#ifndef ENGINE_TEST_UTIL_H
#define ENGINE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "decoders/pt.h"
#include "engine/engine.h"

#define T_P    (1ull << 0)
#define T_LEAF (1ull << 1)
#define T_R    (1ull << 8)
#define T_W    (1ull << 9)
#define T_ADDR 0x000ffffffffff000ull

static __attribute__((unused)) int tpow2_init(struct pt_cfg *cfg, struct errbuf *err)
{
	if (cfg->levels != 4)
		return err_set(err, -EINVAL, "test-pow2: 4 levels only");
	for (unsigned l = 0; l < 4; l++) {
		cfg->level_shift[l] = 12 + 9 * l;
		cfg->level_bits[l] = 9;
	}
	cfg->ias = 48;
	cfg->oas = 52;
	cfg->granule_shift = 12;
	cfg->leaf_sizes = ((1ull << 48) - 1) & ~0xfffull;
	return 0;
}

static __attribute__((unused)) void tpow2_decode(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
			 uint64_t raw, struct pt_entry *out)
{
	(void)cfg;
	(void)iova;
	memset(out, 0, sizeof(*out));
	if (!(raw & T_P)) {
		out->kind = PTE_EMPTY;
		return;
	}
	out->addr = raw & T_ADDR;
	if (raw & T_LEAF) {
		out->kind = PTE_LEAF;
		out->size_shift = (raw >> 2) & 63;
		out->perm = (raw & T_R ? PERM_R : 0) | (raw & T_W ? PERM_W : 0);
	} else if (level == 0) {
		out->kind = PTE_INVALID;
		out->problem = "table pointer at the lowest level";
	} else {
		out->kind = PTE_TABLE;
		out->next_level = level - 1;
		out->perm = PERM_R | PERM_W;
	}
}

static __attribute__((unused)) uint64_t tpow2_make_table(const struct pt_cfg *cfg, unsigned level,
				 uint64_t pa)
{
	(void)cfg;
	(void)level;
	return pa | T_P;
}

static __attribute__((unused)) uint64_t tpow2_make_leaf(const struct pt_cfg *cfg, unsigned level,
				uint64_t iova, uint64_t pa, unsigned size_shift,
				uint32_t perm)
{
	(void)cfg;
	(void)level;
	(void)iova;
	return pa | T_P | T_LEAF | ((uint64_t)size_shift << 2) |
	       (perm & PERM_R ? T_R : 0) | (perm & PERM_W ? T_W : 0);
}

static __attribute__((unused)) const struct pt_format tpow2_fmt = {
	.name = "test-pow2",
	.code_prefix = "test",
	.entry_size = 8,
	.partial_unmap = PT_UNMAP_WHOLE_LEAF,
	.init = tpow2_init,
	.decode = tpow2_decode,
	.make_table = tpow2_make_table,
	.make_leaf = tpow2_make_leaf,
};

struct tenv {
	struct engine *e;
	struct engine_domain *d;
	struct pt_cfg pt;
	struct errbuf err;
};

static inline void tenv_engine(struct tenv *t, unsigned cpus)
{
	struct engine_config ec;

	memset(t, 0, sizeof(*t));
	engine_config_default(&ec);
	ec.check = true;
	ec.nr_cpus = cpus;
	ec.max_findings = 256;
	assert_int_equal(engine_new(&ec, &t->e, &t->err), 0);
}

/* VT-d second stage, 4 levels, 48 bits, 4K|2M|1G. */
static inline void tenv_vtd(struct tenv *t, struct engine_domain_config *dc)
{
	assert_int_equal(pt_cfg_init(&t->pt, &pt_fmt_vtd_ss, 4, 48, 46, 12,
				     PT_VTD_F_SP2M | PT_VTD_F_SP1G, &t->err), 0);
	engine_domain_config_default(dc, &t->pt);
}

static inline void tenv_pow2(struct tenv *t, struct engine_domain_config *dc,
			     uint64_t bitmap)
{
	assert_int_equal(pt_cfg_init(&t->pt, &tpow2_fmt, 4, 48, 52, 12, 0, &t->err), 0);
	engine_domain_config_default(dc, &t->pt);
	dc->pgsize_bitmap = bitmap;
}

static inline void tenv_domain(struct tenv *t, const struct engine_domain_config *dc)
{
	int ret = engine_domain_add(t->e, dc, &t->d, &t->err);

	if (ret)
		fprintf(stderr, "domain: %s\n", t->err.msg);
	assert_int_equal(ret, 0);
}

static inline const struct engine_report *tenv_report(struct tenv *t)
{
	return engine_report(t->e);
}

/* Fails the test on any reference-model mismatch, and prints findings. */
static inline void tenv_no_mismatch(struct tenv *t)
{
	const struct engine_report *r = engine_report(t->e);

	for (size_t i = 0; i < r->nr_findings; i++)
		if (!strcmp(r->findings[i].code, "engine.check.mismatch"))
			fprintf(stderr, "mismatch: %s\n", r->findings[i].message);
	assert_int_equal(r->check_mismatches, 0);
}

/* engine_domain_check_all, printing what differs. */
static inline void tenv_check_all(struct tenv *t)
{
	uint64_t bad = engine_domain_check_all(t->d);

	if (bad)
		tenv_no_mismatch(t);
	assert_int_equal(bad, 0);
}

static inline unsigned tenv_findings(struct tenv *t, const char *code)
{
	const struct engine_report *r = engine_report(t->e);
	unsigned n = 0;

	for (size_t i = 0; i < r->nr_findings; i++)
		if (!strcmp(r->findings[i].code, code))
			n++;
	return n;
}

static inline uint64_t leaf_size_at(struct tenv *t, uint64_t iova)
{
	struct pt_leaf leaf;

	if (!pt_lookup(engine_domain_mapper(t->d), iova, &leaf))
		return 0;
	return leaf.size;
}

#define RW (ENGINE_PROT_READ | ENGINE_PROT_WRITE)

#endif
