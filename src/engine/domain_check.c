#include "engine/domain_check.h"

#include <stdarg.h>
#include <stdio.h>

/* Bounds the work of one range check (pages looked at). */
#define CHECK_MAX_STEPS (1u << 22)

void check_mismatch(struct engine_domain *d, uint64_t iova, uint64_t size,
		    const char *fmt, ...)
{
	char msg[ENGINE_FINDING_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->e->rep.check_mismatches++;
	engine_finding(d->e, SEV_ERROR, "engine.check.mismatch", d, iova, size,
		       "%s", msg);
}

static bool perm_matches(uint32_t want, uint32_t got)
{
	if ((want & PERM_R) && !(got & PERM_R))
		return false;
	return !(want & PERM_W) == !(got & PERM_W);
}

void check_range(struct engine_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t cur = iova, end = iova + size, granule = 1ull << d->min_shift;
	unsigned steps = 0;

	if (end < iova)
		end = UINT64_MAX;
	while (cur < end && steps < CHECK_MAX_STEPS) {
		struct pt_leaf leaf;
		uint64_t stop, pa;
		uint32_t perm;

		if (pt_lookup(&d->mapper, cur, &leaf)) {
			stop = leaf.iova + leaf.size;
			if (stop > end || stop < cur)
				stop = end;
			for (uint64_t p = cur; p < stop; p += REF_PAGE_SIZE, steps++) {
				uint64_t want = leaf.phys + (p - leaf.iova);

				if (!ref_lookup(&d->ref, p, &pa, &perm)) {
					check_mismatch(d, p, REF_PAGE_SIZE,
						       "iova 0x%llx is mapped to 0x%llx in the table but not in the reference model",
						       (unsigned long long)p,
						       (unsigned long long)want);
					return;
				}
				if (pa != want || !perm_matches(perm, leaf.perm)) {
					check_mismatch(d, p, REF_PAGE_SIZE,
						       "iova 0x%llx maps to 0x%llx perm 0x%x in the table, 0x%llx perm 0x%x in the reference model",
						       (unsigned long long)p,
						       (unsigned long long)want,
						       leaf.perm, (unsigned long long)pa,
						       perm);
					return;
				}
			}
			cur = stop;
		} else {
			for (uint64_t p = cur; p < cur + granule && p >= cur;
			     p += REF_PAGE_SIZE)
				if (ref_lookup(&d->ref, p, &pa, NULL)) {
					check_mismatch(d, p, REF_PAGE_SIZE,
						       "iova 0x%llx is not mapped in the table but maps to 0x%llx in the reference model",
						       (unsigned long long)p,
						       (unsigned long long)pa);
					return;
				}
			if (cur + granule < cur)
				break;
			cur += granule;
			steps++;
		}
	}
}

void check_map_done(struct engine_domain *d, uint64_t iova, uint64_t pa,
		    uint64_t size, uint32_t perm, bool expect_exist)
{
	if (expect_exist) {
		check_mismatch(d, iova, size,
			       "map succeeded over pages the reference model has mapped");
		ref_unmap(&d->ref, iova, size);
	}
	if (ref_map(&d->ref, iova, pa, size, perm) < 0)
		check_mismatch(d, iova, size, "reference model out of memory");
	check_range(d, iova, size);
}

void check_map_failed(struct engine_domain *d, uint64_t iova, uint64_t size,
		      int ret, bool expect_exist)
{
	if (expect_exist != (ret == -EEXIST))
		check_mismatch(d, iova, size,
			       "map returned %d where the reference model %s", ret,
			       expect_exist ? "has pages mapped" : "has the range free");
	check_range(d, iova, size);
}

struct gone_ctx {
	struct engine_domain *d;
	uint64_t lo, hi;
	bool bad;
};

static void page_gone(void *arg, uint64_t iova, uint64_t pa, uint32_t perm)
{
	struct gone_ctx *g = arg;
	struct pt_leaf leaf;

	(void)pa;
	(void)perm;
	if (g->bad || iova < g->lo || iova >= g->hi)
		return;
	if (pt_lookup(&g->d->mapper, iova, &leaf)) {
		g->bad = true;
		check_mismatch(g->d, iova, REF_PAGE_SIZE,
			       "iova 0x%llx is still mapped after an unmap that reported it",
			       (unsigned long long)iova);
	}
}

void check_after_unmap(struct engine_domain *d, uint64_t iova, uint64_t size,
		       uint64_t n)
{
	uint64_t granule = 1ull << d->min_shift, end = iova + n;
	struct gone_ctx g = { .d = d, .lo = iova, .hi = end < iova ? UINT64_MAX : end };

	d->e->rep.checks++;
	/* the reported range: whatever the model had there must be gone */
	if ((n >> REF_PAGE_SHIFT) > d->ref.cap) {
		ref_foreach(&d->ref, page_gone, &g);
	} else {
		for (uint64_t p = iova; p < g.hi && p >= iova && !g.bad;
		     p += REF_PAGE_SIZE)
			if (ref_lookup(&d->ref, p, NULL, NULL))
				page_gone(&g, p, 0, 0);
	}
	ref_unmap(&d->ref, iova, g.hi - iova);
	/* a short unmap leaves the rest as it was */
	if (n < size)
		check_range(d, iova + n, size - n);
	/* and nothing next to the range changed */
	if (iova >= granule)
		check_range(d, iova - granule, granule);
	end = iova + (n > size ? n : size);
	if (end > iova && end + granule > end)
		check_range(d, end, granule);
}

void check_leaf_before(struct engine_domain *d, const struct pt_leaf *leaf,
		       uint64_t cur)
{
	struct pt_leaf now;

	/* still mapped there (kept whole or split): nothing went unreported */
	if (!d->e->cfg.check || pt_lookup(&d->mapper, leaf->iova, &now))
		return;
	engine_finding(d->e, SEV_WARNING, "engine.unmap.outside-range", d,
		       leaf->iova, cur - leaf->iova,
		       "unmap at 0x%llx removed the whole 0x%llx-byte leaf at 0x%llx, including 0x%llx bytes before the unmapped range",
		       (unsigned long long)cur, (unsigned long long)leaf->size,
		       (unsigned long long)leaf->iova,
		       (unsigned long long)(cur - leaf->iova));
	ref_unmap(&d->ref, leaf->iova, cur - leaf->iova);
}

struct all_ctx {
	struct engine_domain *d;
	uint64_t bad;
	uint64_t table_pages;
};

static void ref_page_check(void *arg, uint64_t iova, uint64_t pa, uint32_t perm)
{
	struct all_ctx *a = arg;
	struct pt_leaf leaf;

	if (!pt_lookup(&a->d->mapper, iova, &leaf) ||
	    leaf.phys + (iova - leaf.iova) != pa || !perm_matches(perm, leaf.perm)) {
		if (!a->bad)
			check_mismatch(a->d, iova, REF_PAGE_SIZE,
				       "iova 0x%llx of the reference model (to 0x%llx) differs in the table",
				       (unsigned long long)iova,
				       (unsigned long long)pa);
		a->bad++;
	}
}

static int count_leaf(void *ctx, const struct pt_leaf *leaf)
{
	struct all_ctx *a = ctx;

	a->table_pages += leaf->size >> REF_PAGE_SHIFT;
	return 0;
}

uint64_t engine_domain_check_all(struct engine_domain *d)
{
	struct engine *e = d->e;
	struct all_ctx a = { .d = d };
	struct pt_walk w = {
		.cfg = &d->cfg.pt,
		.root = d->mapper.root,
		.limits = { PT_DEFAULT_MAX_TABLES, PT_DEFAULT_MAX_ENTRIES },
		.leaf = count_leaf,
		.ctx = &a,
		.pasid = PASID_NONE,
	};
	struct errbuf err;
	int ret;

	if (!e->cfg.check)
		return 0;
	e->rep.checks++;
	ref_foreach(&d->ref, ref_page_check, &a);
	/* the arena's view lists the pages present now */
	ret = arena_physmem(e->arena, &w.mem, &err);
	if (ret == 0) {
		ret = pt_walk(&w, &err);
		physmem_free(w.mem);
	}
	if (ret < 0) {
		check_mismatch(d, 0, 0, "walking the table failed: %s", err.msg);
		return a.bad + 1;
	}
	if (a.table_pages != d->ref.count) {
		check_mismatch(d, 0, 0,
			       "the table maps %llu pages, the reference model %llu",
			       (unsigned long long)a.table_pages,
			       (unsigned long long)d->ref.count);
		a.bad++;
	}
	return a.bad;
}
