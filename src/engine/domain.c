/* One IOMMU domain: the iommu_map / iommu_unmap loops of
 * drivers/iommu/iommu.c (formats.md §5.2-5.4) over a page-table codec,
 * the IOTLB gather and its syncs (§5.5), flush-on-map for caching IOMMUs,
 * and the bookkeeping of the stale-IOTLB and reference models. */
#include "engine/engine_int.h"

#include <string.h>

#include "decoders/pt_pgsize.h"
#include "engine/domain_check.h"

/* x86 IOMMUs report the interrupt window as an MSI reserved region; Arm
 * dma-iommu reserves a software MSI window (formats.md §5.6). */
#define X86_MSI_BASE 0xfee00000ull
#define X86_MSI_LAST 0xfeefffffull
#define ARM_MSI_IOVA_BASE 0x8000000ull
#define ARM_MSI_IOVA_LENGTH 0x100000ull

/* CAP_REG.MAMV of QEMU's intel-iommu (formats.md §1.10); parts vary. */
#define VTD_DEFAULT_MAMV 18

#define DEFAULT_MAX_STALE (1ull << 20)

static inline unsigned ctz64(uint64_t v)
{
	return (unsigned)__builtin_ctzll(v);
}

static uint32_t prot_to_perm(const struct engine_domain *d, uint32_t prot)
{
	uint32_t perm = 0;

	if ((prot & ENGINE_PROT_READ) || d->cfg.read_always)
		perm |= PERM_R;
	if (prot & ENGINE_PROT_WRITE)
		perm |= PERM_W;
	return perm;
}

static void account_tables_slow(struct engine_domain *d)
{
	struct engine_report *r = &d->e->rep;
	uint64_t in_use = arena_pages_in_use(d->e->arena);

	r->tables_allocated += d->mapper.tables_allocated - d->tables_alloc_seen;
	r->tables_freed += d->mapper.tables_freed - d->tables_freed_seen;
	d->tables_alloc_seen = d->mapper.tables_allocated;
	d->tables_freed_seen = d->mapper.tables_freed;
	if (in_use > r->table_pages_max)
		r->table_pages_max = in_use;
}

static inline void account_tables(struct engine_domain *d)
{
	if (d->mapper.tables_allocated != d->tables_alloc_seen ||
	    d->mapper.tables_freed != d->tables_freed_seen)
		account_tables_slow(d);
}

/* ---- stale bookkeeping ---- */

static void cover_range(void *ctx, uint64_t start, uint64_t end)
{
	struct engine_domain *d = ctx;

	if (!stale_empty(&d->stale))
		stale_cover(&d->stale, start, end, d->e->now, d->e->op);
}

static void cover_all(void *ctx)
{
	struct engine_domain *d = ctx;

	if (!stale_empty(&d->stale))
		stale_cover_all(&d->stale, d->e->now, d->e->op);
}

void domain_op_end_slow(struct engine_domain *d)
{
	if (d->timers_touched) {
		d->timers_touched = false;
		domain_update_deadline(d);
	}
}

void domain_reuse_check_slow(struct engine_domain *d, uint64_t iova,
			     uint64_t size, const char *what)
{
	struct engine *e = d->e;
	struct stale_hit hit;
	uint64_t end = iova + size;

	if (!e->cfg.stale || !size)
		return;
	if (stale_find(&d->stale, iova, end, &hit)) {
		e->rep.reuse_before_flush++;
		engine_finding(e, SEV_ERROR, "engine.iova.reuse-before-flush",
			       d, iova, size,
			       "%s iova 0x%llx-0x%llx whose range 0x%llx-0x%llx was unmapped at %llu ns (operation %llu) and is not yet invalidated",
			       what, (unsigned long long)iova,
			       (unsigned long long)(end - 1),
			       (unsigned long long)hit.start,
			       (unsigned long long)(hit.end - 1),
			       (unsigned long long)hit.unmap_ns,
			       (unsigned long long)hit.unmap_op);
	}
}

/* ---- gather (formats.md §5.5) ---- */

void engine_gather_init(struct engine_gather *g)
{
	*g = (struct engine_gather){ .start = UINT64_MAX, .end = 0 };
}

static bool gather_disjoint(const struct engine_gather *g, uint64_t iova,
			    uint64_t size)
{
	uint64_t last = iova + size - 1;

	return g->end != 0 && (last + 1 < g->start || iova > g->end + 1);
}

static void gather_add_range(struct engine_gather *g, uint64_t iova,
			     uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (iova < g->start)
		g->start = iova;
	if (last > g->end)
		g->end = last;
}

void domain_iotlb_sync(struct engine_domain *d, struct engine_gather *g,
		       enum engine_flush_cause cause)
{
	bool queued = g->queued;

	if (g->start <= g->end) {
		inv_range(&d->caps, g->start, g->end, g->pgsize, true,
			  &d->e->rep.inv, &d->cover);
		d->e->rep.flushes[cause]++;
	}
	engine_gather_init(g);
	g->queued = queued;
}

/* What the driver's unmap_pages adds to the gather for @size bytes just
 * unmapped at @iova with pages of @pgsize: VT-d adds the call's range as
 * one "page" (intel_iommu_unmap), io-pgtable-arm each leaf, both only when
 * not queued; AMD adds the range and syncs first on a disjoint one when
 * NpCache is on (amd_iommu_iotlb_gather_add_page). */
static void gather_add(struct engine_domain *d, struct engine_gather *g,
		       uint64_t iova, uint64_t size, uint64_t pgsize)
{
	struct engine_report *r = &d->e->rep;

	if (d->gather_mode == ENGINE_GATHER_PAGE) {
		uint64_t unit = d->caps.model == INV_MODEL_SMMU ? pgsize : size;

		if (g->queued)
			return;
		if (g->pgsize && g->pgsize != unit) {
			r->gather_forced_pgsize++;
			domain_iotlb_sync(d, g, ENGINE_FLUSH_GATHER);
		} else if (gather_disjoint(g, iova, size)) {
			r->gather_forced_disjoint++;
			domain_iotlb_sync(d, g, ENGINE_FLUSH_GATHER);
		}
		g->pgsize = unit;
	} else if (d->caps.model == INV_MODEL_AMD && d->caps.amd_np_cache &&
		   gather_disjoint(g, iova, size)) {
		r->gather_forced_disjoint++;
		domain_iotlb_sync(d, g, ENGINE_FLUSH_GATHER);
	}
	gather_add_range(g, iova, size);
}

/* ---- map ---- */

/* The end of every map: on success the model check and flush-on-map, on
 * failure the error count and the model check; the tables either way. */
static inline int map_finish(struct engine_domain *d, uint64_t iova, uint64_t pa,
			     uint64_t size, uint32_t perm, unsigned flags,
			     bool expect_exist, int ret)
{
	struct engine *e = d->e;

	if (ret) {
		engine_count_error(e, ret);
		if (e->cfg.check)
			check_map_failed(d, iova, size, ret, expect_exist);
	} else {
		if (e->cfg.check)
			check_map_done(d, iova, pa, size, perm, expect_exist);
		if ((flags & DOMAIN_MAP_SYNC) && d->map_flushes)
			domain_sync_map(d, iova, size);
	}
	account_tables(d);
	return ret;
}

/* The page sizes of @nr runs fit the tables and the addresses: every size
 * is one the codec holds and every run starts aligned to its size. */
static int check_runs(const struct engine_domain *d, uint64_t iova, uint64_t pa,
		      const struct engine_pgrun *runs, size_t nr, struct errbuf *err)
{
	for (size_t i = 0; i < nr; i++) {
		uint64_t pgsize = runs[i].pgsize;

		if (!pgsize || (pgsize & (pgsize - 1)) || !(pgsize & d->mapper.cfg->leaf_sizes))
			return err_set(err, -EINVAL,
				       "page size 0x%llx at iova 0x%llx is not one the %s tables hold",
				       (unsigned long long)pgsize, (unsigned long long)iova,
				       d->mapper.cfg->fmt->name);
		if ((iova | pa) & (pgsize - 1))
			return err_set(err, -EINVAL,
				       "iova 0x%llx pa 0x%llx is not aligned to its page size 0x%llx",
				       (unsigned long long)iova, (unsigned long long)pa,
				       (unsigned long long)pgsize);
		iova += pgsize * runs[i].count;
		pa += pgsize * runs[i].count;
	}
	return 0;
}

int domain_map(struct engine_domain *d, uint64_t iova, uint64_t pa,
	       uint64_t size, uint32_t prot, unsigned flags, struct errbuf *err)
{
	return domain_map_runs(d, iova, pa, size, NULL, 0, prot, flags, err);
}

int domain_map_runs(struct engine_domain *d, uint64_t iova, uint64_t pa,
		    uint64_t size, const struct engine_pgrun *runs, size_t nr,
		    uint32_t prot, unsigned flags, struct errbuf *err)
{
	struct engine *e = d->e;
	struct engine_report *r = &e->rep;
	uint64_t min = 1ull << d->min_shift, left = size, cur = iova, cur_pa = pa;
	uint64_t leaves = 0;
	uint32_t perm = prot_to_perm(d, prot);
	bool expect_exist = false;
	size_t run = 0;
	int ret = 0;

	if ((iova | pa | size) & (min - 1)) {
		engine_count_error(e, -EINVAL);
		return err_set(err, -EINVAL,
			       "unaligned: iova 0x%llx pa 0x%llx size 0x%llx min_pagesz 0x%llx",
			       (unsigned long long)iova, (unsigned long long)pa,
			       (unsigned long long)size, (unsigned long long)min);
	}
	if (!size)
		return 0;
	if (iova + size - 1 < iova || pa + size - 1 < pa) {
		engine_count_error(e, -EINVAL);
		return err_set(err, -EINVAL, "iova 0x%llx or pa 0x%llx + size 0x%llx wraps",
			       (unsigned long long)iova, (unsigned long long)pa,
			       (unsigned long long)size);
	}
	if (runs && (ret = check_runs(d, iova, pa, runs, nr, err)) < 0) {
		engine_count_error(e, ret);
		return ret;
	}
	if (!(flags & DOMAIN_MAP_REUSE_CHECKED))
		domain_reuse_check(d, iova, size, "mapping");
	if (e->cfg.check) {
		r->checks++;
		expect_exist = ref_count_range(&d->ref, iova, size) != 0;
	}
	while (left) {
		uint64_t count, done = 0, pgsize;
		unsigned shift;

		if (runs) {
			/* the kernel's own map_pages calls, one per run */
			pgsize = run < nr ? runs[run].pgsize : 0;
			count = run < nr ? runs[run].count : 0;
			run++;
			if (pgsize && count > left / pgsize)
				pgsize = 0;
		} else {
			pgsize = pt_pgsize(d->pgsize_bitmap, cur, cur_pa, left, &count);
		}
		if (!pgsize || !count) {
			ret = err_set(err, -EINVAL,
				      "no page size fits iova 0x%llx pa 0x%llx size 0x%llx",
				      (unsigned long long)cur,
				      (unsigned long long)cur_pa,
				      (unsigned long long)left);
			break;
		}
		shift = ctz64(pgsize);
		leaves += count;
		if (leaves > e->cfg.max_op_pages) {
			ret = err_set(err, -E2BIG,
				      "mapping 0x%llx bytes at iova 0x%llx needs more than %llu page-table entries",
				      (unsigned long long)size,
				      (unsigned long long)iova,
				      (unsigned long long)e->cfg.max_op_pages);
			break;
		}
		ret = pt_map_pages(&d->mapper, cur, cur_pa, shift, count, perm,
				   &done, err);
		r->codec_map_calls++;
		r->pages_mapped[shift] += done >> shift;
		if (done > left)
			done = left;
		left -= done;
		if (ret)
			break;
		cur += done;
		cur_pa += done;
	}
	d->mapped_bytes += size - left;
	r->bytes_mapped += size - left;
	if (ret) {
		if (size - left) {
			/* iommu_map undoes exactly what was reported mapped,
			 * with iommu_unmap (so with a sync) */
			struct engine_gather g;

			r->rollbacks++;
			engine_gather_init(&g);
			domain_unmap_nocheck(d, iova, size - left, &g);
			domain_iotlb_sync(d, &g, ENGINE_FLUSH_STRICT);
		}
	}
	return map_finish(d, iova, pa, size, perm, flags, expect_exist, ret);
}

/* domain_map of one smallest page, the bulk of any replay: the same
 * steps without the loop. */
int domain_map_one(struct engine_domain *d, uint64_t iova, uint64_t pa,
		   uint32_t prot, unsigned flags, struct errbuf *err)
{
	struct engine *e = d->e;
	struct engine_report *r = &e->rep;
	uint64_t g = 1ull << d->min_shift, done = 0;
	uint32_t perm = prot_to_perm(d, prot);
	bool expect_exist = false;
	int ret;

	/* g is the smallest size of the bitmap: for an aligned iova and pa
	 * pt_pgsize() picks one page of g, so it need not be asked */
	if ((iova | pa) & (g - 1))
		return domain_map(d, iova, pa, g, prot, flags, err);
	if (!(flags & DOMAIN_MAP_REUSE_CHECKED))
		domain_reuse_check(d, iova, g, "mapping");
	if (e->cfg.check) {
		r->checks++;
		expect_exist = ref_count_range(&d->ref, iova, g) != 0;
	}
	ret = pt_map_pages(&d->mapper, iova, pa, d->min_shift, 1, perm, &done, err);
	r->codec_map_calls++;
	if (!ret) {
		r->pages_mapped[d->min_shift]++;
		d->mapped_bytes += g;
		r->bytes_mapped += g;
	}
	return map_finish(d, iova, pa, g, perm, flags, expect_exist, ret);
}

void domain_sync_map(struct engine_domain *d, uint64_t iova, uint64_t size)
{

	if (!size || !d->map_flushes)
		return;
	if (inv_map(&d->caps, iova, iova + size - 1, &d->e->rep.inv,
		    &d->cover))
		d->e->rep.flushes[ENGINE_FLUSH_CACHING_MODE]++;
}

void domain_flush_all(struct engine_domain *d, enum engine_flush_cause cause)
{

	inv_all(&d->caps, d->cfg.vtd_global_flush_all, &d->e->rep.inv,
		&d->cover);
	d->e->rep.flushes[cause]++;
}

/* ---- unmap ---- */

uint64_t domain_unmap_nocheck(struct engine_domain *d, uint64_t iova,
			      uint64_t size, struct engine_gather *g)
{
	struct engine *e = d->e;
	struct engine_report *r = &e->rep;
	uint64_t min = 1ull << d->min_shift, unmapped = 0, cur = iova;
	struct stale_rec *rec = NULL;

	if ((iova | size) & (min - 1)) {
		/* the core logs "unaligned" and unmaps nothing */
		engine_count_error(e, -EINVAL);
		return 0;
	}
	if (e->cfg.stale && size)
		rec = stale_begin(&d->stale, e->now, e->op, iova, size);
	while (unmapped < size) {
		uint64_t count, n, freed;
		uint64_t pgsize = pt_pgsize(d->pgsize_bitmap, cur, cur,
					    size - unmapped, &count);
		struct pt_leaf before;
		bool had_leaf = false;

		if (!pgsize || !count)
			break;
		if (e->cfg.check)
			had_leaf = pt_lookup(&d->mapper, cur, &before);
		/* drivers free the tables an unmap covers whole (VT-d
		 * domain_unmap, io-pgtable-arm's table entries), not those
		 * emptied page by page: approximated by calls that span at
		 * least one lowest-level table */
		n = pt_unmap_pages(&d->mapper, cur, ctz64(pgsize), count,
				   d->partial_override,
				   d->free_tables && count << ctz64(pgsize) >= d->table_span);
		r->codec_unmap_calls++;
		if (!n)
			break;
		r->pages_unmapped[ctz64(pgsize)] += count;
		freed = d->mapper.tables_freed - d->tables_freed_seen;
		d->gather_tables += freed;
		account_tables(d);
		/* pending before the gather add: a sync it forces runs after
		 * this piece's PTEs are gone, so its range counts */
		stale_piece(&d->stale, rec, cur, cur + n);
		gather_add(d, g, cur, n, pgsize);
		if (freed && d->caps.model == INV_MODEL_SMMU) {
			/* io-pgtable-arm flushes the walk cache at once
			 * when it frees a table (tlb_flush_walk) */
			inv_range(&d->caps, cur, cur + n - 1, min, false,
				  &r->inv, &d->cover);
			r->flushes[ENGINE_FLUSH_WALK]++;
		}
		if (had_leaf && before.iova < cur)
			check_leaf_before(d, &before, cur);
		if (cur + n < cur) {
			unmapped += n;
			break;
		}
		cur += n;
		unmapped += n;
	}
	stale_end(&d->stale, rec, e->now, e->op);
	r->bytes_unmapped += unmapped;
	d->mapped_bytes -= unmapped < d->mapped_bytes ? unmapped : d->mapped_bytes;
	if (unmapped < size)
		r->short_unmaps++;
	else if (unmapped > size)
		r->long_unmaps++;
	return unmapped;
}

/* iommu_unmap (with its sync) of one smallest page: domain_unmap and
 * domain_iotlb_sync on a fresh gather, without the gather. */
uint64_t domain_unmap_one_sync(struct engine_domain *d, uint64_t iova)
{
	struct engine *e = d->e;
	struct engine_report *r = &e->rep;
	uint64_t g = 1ull << d->min_shift, n, freed, unit;
	const struct inv_cover *cv;
	struct pt_leaf before;
	bool had_leaf = false;

	/* an aligned iova is one page of g for pt_pgsize(), as in
	 * domain_map_one */
	if (iova & (g - 1)) {
		struct engine_gather gather;

		engine_gather_init(&gather);
		n = domain_unmap(d, iova, g, &gather);
		domain_iotlb_sync(d, &gather, ENGINE_FLUSH_STRICT);
		return n;
	}
	if (e->cfg.check)
		had_leaf = pt_lookup(&d->mapper, iova, &before);
	n = pt_unmap_pages(&d->mapper, iova, d->min_shift, 1, d->partial_override,
			   d->free_tables && g >= d->table_span);
	r->codec_unmap_calls++;
	if (!n) {
		r->short_unmaps++;
		if (e->cfg.check)
			check_after_unmap(d, iova, g, 0);
		return 0;
	}
	r->pages_unmapped[d->min_shift]++;
	freed = d->mapper.tables_freed - d->tables_freed_seen;
	account_tables(d);
	/* the page is invalidated before this operation ends, so it never
	 * enters the stale tree; the tree hears of invalidations only when
	 * it holds something */
	cv = stale_empty(&d->stale) ? NULL : &d->cover;
	if (freed && d->caps.model == INV_MODEL_SMMU) {
		inv_range(&d->caps, iova, iova + n - 1, g, false, &r->inv, cv);
		r->flushes[ENGINE_FLUSH_WALK]++;
	}
	if (had_leaf && before.iova < iova)
		check_leaf_before(d, &before, iova);
	r->bytes_unmapped += n;
	d->mapped_bytes -= n < d->mapped_bytes ? n : d->mapped_bytes;
	if (n > g)
		r->long_unmaps++;
	/* what the gather would hold: [iova, iova+n-1], page size per
	 * gather_add; one page with nobody to tell is one counted command */
	if (n == INV_PAGE_SIZE && d->page_inv && !cv) {
		(*d->page_inv)++;
		r->inv.syncs++;
	} else {
		unit = d->gather_mode != ENGINE_GATHER_PAGE ? 0 :
		       d->caps.model == INV_MODEL_SMMU ? g : n;
		inv_range(&d->caps, iova, iova + n - 1, unit, true, &r->inv, cv);
	}
	r->flushes[ENGINE_FLUSH_STRICT]++;
	if (e->cfg.stale)
		stale_add_closed(&d->stale);
	if (e->cfg.check)
		check_after_unmap(d, iova, g, n);
	return n;
}

uint64_t domain_unmap(struct engine_domain *d, uint64_t iova, uint64_t size,
		      struct engine_gather *g)
{
	uint64_t n = domain_unmap_nocheck(d, iova, size, g);

	if (d->e->cfg.check && !((iova | size) & ((1ull << d->min_shift) - 1)))
		check_after_unmap(d, iova, size, n);
	return n;
}

/* ---- map_sg (iommu_map_sg) ---- */

int64_t domain_map_sg(struct engine_domain *d, uint64_t iova,
		      const struct engine_sg *sg, size_t nents, uint32_t prot,
		      unsigned flags, struct errbuf *err)
{
	uint64_t len = 0, start = 0, mapped = 0;
	int ret;

	for (size_t i = 0; i <= nents; i++) {
		/* map the run so far when this entry does not continue it */
		if (len && (i == nents || sg[i].phys != start + len)) {
			ret = domain_map(d, iova + mapped, start, len, prot,
					 flags, err);
			if (ret)
				goto undo;
			mapped += len;
			len = 0;
		}
		if (i == nents)
			break;
		if (sg[i].p2p_bus)
			continue;
		if (len) {
			len += sg[i].length;
		} else {
			len = sg[i].length;
			start = sg[i].phys;
		}
	}
	domain_sync_map(d, iova, mapped);
	return (int64_t)mapped;
undo:
	if (mapped) {
		struct engine_gather g;

		engine_gather_init(&g);
		domain_unmap(d, iova, mapped, &g);
		domain_iotlb_sync(d, &g, ENGINE_FLUSH_STRICT);
	}
	return ret;
}

/* ---- IOVA ---- */

uint64_t domain_iova_alloc(struct engine_domain *d, uint64_t pages,
			   uint64_t limit_pfn, bool flush_rcache)
{
	struct engine *e = d->e;
	uint64_t pfn = iova_alloc_fast(&d->iovad, e->cpu, e->now, pages,
				       limit_pfn, flush_rcache);

	if (pfn)
		domain_reuse_check(d, pfn << d->min_shift,
				   iova_fast_rounded(pages) << d->min_shift,
				   "allocating");
	return pfn;
}

void domain_iova_free(struct engine_domain *d, uint64_t pfn, uint64_t pages)
{
	struct engine *e = d->e;

	d->timers_touched = true; /* a depot push may schedule a trim */
	if (!iova_free_fast(&d->iovad, e->cpu, e->now, pfn, pages))
		engine_finding(e, SEV_WARNING, "engine.iova.bad-free", d,
			       pfn << d->min_shift, pages << d->min_shift,
			       "freeing iova 0x%llx that is not an allocated range",
			       (unsigned long long)(pfn << d->min_shift));
}

static void fq_flush_hook(void *ctx, enum engine_flush_cause cause)
{
	domain_flush_all(ctx, cause);
}

static void fq_release_hook(void *ctx, unsigned cpu, const struct fq_entry *ent)
{
	struct engine_domain *d = ctx;
	struct engine *e = d->e;

	if (!iova_free_fast(&d->iovad, cpu, e->now, ent->pfn, ent->pages))
		engine_finding(e, SEV_WARNING, "engine.iova.bad-free", d,
			       ent->pfn << d->min_shift, ent->pages << d->min_shift,
			       "flush queue frees iova 0x%llx that is not an allocated range",
			       (unsigned long long)(ent->pfn << d->min_shift));
}

static const struct fq_hooks *fq_hooks(struct engine_domain *d,
				       struct fq_hooks *h)
{
	*h = (struct fq_hooks){ .flush_all = fq_flush_hook,
				.release = fq_release_hook, .ctx = d };
	return h;
}

void domain_free_iova_after_unmap(struct engine_domain *d, uint64_t iova,
				  uint64_t size, const struct engine_gather *g)
{
	struct engine *e = d->e;
	uint64_t pfn = iova >> d->min_shift, pages = size >> d->min_shift;

	if (g->queued && d->has_fq) {
		struct fq_hooks h;

		d->timers_touched = true;
		if (!fq_queue(&d->fq, fq_hooks(d, &h), e->cpu, e->now, pfn, pages,
			      d->gather_tables)) {
			/* no ring memory: flush now and free, as strict */
			domain_flush_all(d, ENGINE_FLUSH_FQ_FULL);
			domain_iova_free(d, pfn, pages);
		}
		d->gather_tables = 0;
	} else {
		domain_iova_free(d, pfn, pages);
	}
}

/* ---- timers ---- */

void domain_update_deadline(struct engine_domain *d)
{
	uint64_t due = iova_next_deadline(&d->iovad);

	if (d->has_fq && d->fq.timer_on && d->fq.timer_due < due)
		due = d->fq.timer_due;
	d->deadline = due;
	engine_domain_deadline_changed(d);
}

/* Runs the earliest timer of @d (due at d->deadline <= @now). */
void domain_run_timers(struct engine_domain *d, uint64_t now)
{
	while (d->deadline <= now) {
		uint64_t due = d->deadline;

		d->e->now = due;
		if (d->has_fq && d->fq.timer_on && d->fq.timer_due == due) {
			struct fq_hooks h;

			fq_timeout(&d->fq, fq_hooks(d, &h));
		} else {
			iova_run_timers(&d->iovad, due);
		}
		domain_update_deadline(d);
	}
}

/* ---- setup ---- */

static enum inv_model model_for(const struct engine_domain_config *c)
{
	const char *name = c->pt.fmt->name;

	switch (c->inv) {
	case ENGINE_INV_VTD:
		return INV_MODEL_VTD;
	case ENGINE_INV_AMD:
		return INV_MODEL_AMD;
	case ENGINE_INV_SMMU:
		return INV_MODEL_SMMU;
	case ENGINE_INV_AUTO:
		break;
	}
	if (!strncmp(name, "amd", 3))
		return INV_MODEL_AMD;
	if (!strncmp(name, "lpae", 4) || !strncmp(name, "arm", 3) ||
	    !strcmp(name, "v7s"))
		return INV_MODEL_SMMU;
	return INV_MODEL_VTD;
}

void engine_domain_config_default(struct engine_domain_config *c,
				  const struct pt_cfg *pt)
{
	memset(c, 0, sizeof(*c));
	if (pt)
		c->pt = *pt;
	c->policy = ENGINE_STRICT;
	c->inv = ENGINE_INV_AUTO;
	c->gather = ENGINE_GATHER_AUTO;
	c->vtd_psi = true;
	c->vtd_mamv = VTD_DEFAULT_MAMV;
	c->partial_unmap = -1;
	c->free_tables = -1;
	c->allocator = "rbtree";
	c->rcache = true;
	c->reserve_msi = true;
}

static int domain_setup_iova(struct engine_domain *d, struct errbuf *err)
{
	const struct engine_domain_config *c = &d->cfg;
	const struct iova_allocator_ops *ops;
	struct iova_space sp;
	struct iova_rcache_cfg rc;
	unsigned shift = d->min_shift, ias = c->pt.ias;
	uint64_t msi_lo, msi_hi;
	int ret;

	ops = iova_allocator_find(c->allocator ? c->allocator : "rbtree");
	if (!ops)
		return err_set(err, -EINVAL, "unknown iova allocator '%s'",
			       c->allocator);
	d->aperture_end = c->aperture_end ? c->aperture_end :
			  (ias == 0 || ias >= 64) ? UINT64_MAX : (1ull << ias) - 1;
	sp = (struct iova_space){
		.start_pfn = c->aperture_start >> shift ? c->aperture_start >> shift : 1,
		.end_pfn = d->aperture_end >> shift,
		.dma_32bit_pfn = shift < 32 ? 1ull << (32 - shift) : 1,
		.bitmap_pages = c->bitmap_pages,
	};
	rc = (struct iova_rcache_cfg){
		.enabled = c->rcache, .nr_cpus = d->e->cfg.nr_cpus,
		.mag_size = c->rcache_mag_size, .depot_max = c->rcache_depot_max,
		.depot_delay_ns = IOVA_DEPOT_DELAY_NS,
	};
	ret = iova_domain_init(&d->iovad, ops, &sp, &rc, err);
	if (ret < 0)
		return ret;
	if (!c->reserve_msi)
		return 0;
	if (d->caps.model == INV_MODEL_SMMU) {
		msi_lo = ARM_MSI_IOVA_BASE;
		msi_hi = ARM_MSI_IOVA_BASE + ARM_MSI_IOVA_LENGTH - 1;
	} else {
		msi_lo = X86_MSI_BASE;
		msi_hi = X86_MSI_LAST;
	}
	if (msi_hi > d->aperture_end || (msi_lo >> shift) < sp.start_pfn)
		return 0;
	return iova_reserve(&d->iovad, msi_lo >> shift, msi_hi >> shift, err);
}

int domain_init(struct engine_domain *d, struct engine *e,
		const struct engine_domain_config *c, struct errbuf *err)
{
	uint64_t bitmap;
	int ret;

	memset(d, 0, sizeof(*d));
	d->e = e;
	d->cfg = *c;
	d->deadline = UINT64_MAX;
	if (!c->pt.fmt)
		return err_set(err, -EINVAL, "domain without a page-table format");
	bitmap = c->pgsize_bitmap ? c->pgsize_bitmap : c->pt.leaf_sizes;
	if (!bitmap)
		return err_set(err, -EINVAL, "%s: empty page-size bitmap",
			       c->pt.fmt->name);
	if (bitmap & ~c->pt.leaf_sizes)
		return err_set(err, -EINVAL,
			       "%s: page-size bitmap 0x%llx has sizes the table cannot hold (0x%llx)",
			       c->pt.fmt->name, (unsigned long long)bitmap,
			       (unsigned long long)(bitmap & ~c->pt.leaf_sizes));
	d->pgsize_bitmap = bitmap;
	d->min_shift = ctz64(bitmap);
	if (d->min_shift < REF_PAGE_SHIFT)
		return err_set(err, -EINVAL,
			       "%s: smallest page 0x%llx is below 4 KiB",
			       c->pt.fmt->name, 1ull << d->min_shift);
	d->max_pgsize = 1ull << (63 - __builtin_clzll(bitmap));
	d->table_span = c->pt.level_shift[0] + c->pt.level_bits[0] >= 64 ? UINT64_MAX :
			1ull << (c->pt.level_shift[0] + c->pt.level_bits[0]);

	d->caps = (struct inv_caps){
		.model = model_for(c),
		.vtd_psi = c->vtd_psi,
		.vtd_mamv = c->vtd_mamv,
		.vtd_caching_mode = c->vtd_caching_mode,
		.vtd_first_level = !strcmp(c->pt.fmt->name, "x86-64"),
		.amd_np_cache = c->amd_np_cache,
		.smmu_range_inv = c->smmu_range_inv,
		.smmu_tg_shift = d->min_shift,
		.smmu_max_tlbi_ops = c->smmu_max_tlbi_ops,
	};
	d->gather_mode = c->gather != ENGINE_GATHER_AUTO ? c->gather :
			 d->caps.model == INV_MODEL_AMD ? ENGINE_GATHER_RANGE
							: ENGINE_GATHER_PAGE;
	d->cover = (struct inv_cover){ .range = cover_range, .all = cover_all, .ctx = d };
	d->page_inv = inv_page_counter(&d->caps, &e->rep.inv);
	d->map_flushes = (d->caps.model == INV_MODEL_VTD && c->vtd_caching_mode) ||
			 (d->caps.model == INV_MODEL_AMD && c->amd_np_cache);
	d->partial_override = c->partial_unmap;
	d->free_tables = c->free_tables >= 0 ? c->free_tables != 0
					     : d->caps.model != INV_MODEL_AMD;
	d->policy = c->policy;
	/* caching mode (a virtual IOMMU) makes the VT-d driver force strict */
	if (d->caps.model == INV_MODEL_VTD && c->vtd_caching_mode)
		d->policy = ENGINE_STRICT;

	ret = pt_mapper_init(&d->mapper, &d->cfg.pt, e->arena, err);
	if (ret < 0)
		return ret;
	d->tables_alloc_seen = d->mapper.tables_allocated;
	e->rep.tables_allocated += d->mapper.tables_allocated;

	if (d->policy != ENGINE_STRICT) {
		bool single = d->policy == ENGINE_LAZY_SINGLE;
		unsigned size = c->fq_size ? c->fq_size :
				single ? FQ_SINGLE_SIZE : FQ_DEFAULT_SIZE;
		uint64_t timeout = c->fq_timeout_ns ? c->fq_timeout_ns :
				   single ? FQ_SINGLE_TIMEOUT_NS : FQ_DEFAULT_TIMEOUT_NS;

		ret = fq_init(&d->fq, e->cfg.nr_cpus, single, size, timeout, err);
		if (ret < 0)
			goto fail;
		d->has_fq = true;
	}
	ret = domain_setup_iova(d, err);
	if (ret < 0)
		goto fail;
	stale_init(&d->stale, e->cfg.max_stale_ranges ? e->cfg.max_stale_ranges
						      : DEFAULT_MAX_STALE,
		   &e->rep.stale_ns, &e->rep.stale_ops);
	if (e->cfg.check && ref_init(&d->ref) < 0) {
		ret = err_set(err, -ENOMEM, "out of memory for the reference model");
		goto fail;
	}
	account_tables(d);
	return 0;
fail:
	domain_release(d);
	return ret;
}

void domain_release(struct engine_domain *d)
{
	fq_release(&d->fq);
	iova_domain_release(&d->iovad);
	stale_release(&d->stale);
	ref_release(&d->ref);
}
