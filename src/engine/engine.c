/* The engine object: configuration, the arena holding every domain's
 * tables, the trace-driven clock and its timers, findings, and the thin
 * public wrappers that count each IOMMU-API operation. */
#include "engine/engine_int.h"

#include "decoders/pt_pgsize.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ARENA_BASE 0x100000000ull   /* tables above 4 GiB */
#define DEFAULT_ARENA_LIMIT (64ull << 30)
#define DEFAULT_MAX_FINDINGS 64
#define DEFAULT_MAX_OP_PAGES (1ull << 24)
#define ENGINE_MAX_FINDINGS_KEPT 100000

void engine_config_default(struct engine_config *c)
{
	memset(c, 0, sizeof(*c));
	c->nr_cpus = 1;
	c->stale = true;
	c->arena_base = DEFAULT_ARENA_BASE;
	c->arena_limit = DEFAULT_ARENA_LIMIT;
	c->max_findings = DEFAULT_MAX_FINDINGS;
	c->max_op_pages = DEFAULT_MAX_OP_PAGES;
}

const char *engine_allocator_name(unsigned i)
{
	const struct iova_allocator_ops *ops = iova_allocator_at(i);

	return ops ? ops->name : NULL;
}

void engine_dev_config_default(struct engine_dev_config *c)
{
	memset(c, 0, sizeof(*c));
	c->pci = true;
	c->dma_mask = UINT64_MAX;
	c->seg_boundary_mask = 0xffffffffull;
	c->max_seg_size = 65536;
}

int engine_new(const struct engine_config *cfg, struct engine **out,
	       struct errbuf *err)
{
	struct engine *e;
	int ret;

	*out = NULL;
	if (!cfg->nr_cpus || cfg->nr_cpus > ENGINE_MAX_CPUS)
		return err_set(err, -EINVAL, "cpu count %u is not in 1..%u",
			       cfg->nr_cpus, ENGINE_MAX_CPUS);
	if (cfg->max_findings > ENGINE_MAX_FINDINGS_KEPT)
		return err_set(err, -EINVAL, "more than %u findings asked for",
			       ENGINE_MAX_FINDINGS_KEPT);
	e = calloc(1, sizeof(*e));
	if (!e)
		return err_set(err, -ENOMEM, "out of memory for the engine");
	e->cfg = *cfg;
	if (!e->cfg.max_op_pages)
		e->cfg.max_op_pages = DEFAULT_MAX_OP_PAGES;
	e->next_deadline = UINT64_MAX;
	hist_init(&e->rep.stale_ns);
	hist_init(&e->rep.stale_ops);
	if (cfg->max_findings) {
		e->findings = calloc(cfg->max_findings, sizeof(*e->findings));
		if (!e->findings) {
			ret = err_set(err, -ENOMEM, "out of memory for findings");
			goto fail;
		}
	}
	e->arena = arena_new(cfg->arena_base, cfg->arena_limit);
	if (!e->arena) {
		ret = err_set(err, -ENOMEM, "cannot create a page-table arena at 0x%llx",
			      (unsigned long long)cfg->arena_base);
		goto fail;
	}
	*out = e;
	return 0;
fail:
	engine_free(e);
	return ret;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < e->nr_domains; i++) {
		domain_release(e->domains[i]);
		free(e->domains[i]);
	}
	free(e->domains);
	for (unsigned i = 0; i < e->nr_devs; i++)
		free(e->devs[i]);
	free(e->devs);
	if (e->arena)
		arena_free(e->arena);
	free(e->findings);
	free(e);
}

int engine_domain_add(struct engine *e, const struct engine_domain_config *c,
		      struct engine_domain **out, struct errbuf *err)
{
	struct engine_domain *d, **grown;
	int ret;

	*out = NULL;
	if (e->nr_domains >= ENGINE_MAX_DOMAINS)
		return err_set(err, -ENOSPC, "more than %u domains", ENGINE_MAX_DOMAINS);
	grown = realloc(e->domains, (e->nr_domains + 1) * sizeof(*grown));
	if (!grown)
		return err_set(err, -ENOMEM, "out of memory for a domain");
	e->domains = grown;
	d = malloc(sizeof(*d));
	if (!d)
		return err_set(err, -ENOMEM, "out of memory for a domain");
	ret = domain_init(d, e, c, err);
	if (ret < 0) {
		free(d);
		return ret;
	}
	d->id = e->nr_domains;
	e->domains[e->nr_domains++] = d;
	*out = d;
	return 0;
}

int engine_dev_add(struct engine *e, struct engine_domain *d,
		   const struct engine_dev_config *c, struct engine_dev **out,
		   struct errbuf *err)
{
	struct engine_dev *dev, **grown;

	*out = NULL;
	if (e->nr_devs >= ENGINE_MAX_DEVICES)
		return err_set(err, -ENOSPC, "more than %u devices", ENGINE_MAX_DEVICES);
	if (!d || d->e != e)
		return err_set(err, -EINVAL, "device attached to a foreign domain");
	grown = realloc(e->devs, (e->nr_devs + 1) * sizeof(*grown));
	if (!grown)
		return err_set(err, -ENOMEM, "out of memory for a device");
	e->devs = grown;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return err_set(err, -ENOMEM, "out of memory for a device");
	dev->e = e;
	dev->d = d;
	dev->cfg = *c;
	if (!dev->cfg.max_seg_size)
		dev->cfg.max_seg_size = 65536;
	dev->pci_32bit_workaround = c->pci && !c->forcedac;
	dev->id = e->nr_devs;
	e->devs[e->nr_devs++] = dev;
	*out = dev;
	return 0;
}

/* ---- clock ---- */

void engine_domain_deadline_changed(struct engine_domain *d)
{
	if (d->deadline < d->e->next_deadline)
		d->e->next_deadline = d->deadline;
}

static void recompute_deadline(struct engine *e)
{
	e->next_deadline = UINT64_MAX;
	for (unsigned i = 0; i < e->nr_domains; i++)
		if (e->domains[i]->deadline < e->next_deadline)
			e->next_deadline = e->domains[i]->deadline;
}

/* Fires every timer due at or before @t, earliest first, each at its own
 * due time. */
static void run_timers_until(struct engine *e, uint64_t t)
{
	while (e->next_deadline <= t) {
		struct engine_domain *first = NULL;

		for (unsigned i = 0; i < e->nr_domains; i++)
			if (!first || e->domains[i]->deadline < first->deadline)
				first = e->domains[i];
		if (!first || first->deadline > t) {
			recompute_deadline(e);
			break;
		}
		domain_run_timers(first, first->deadline);
		recompute_deadline(e);
	}
}

int engine_at(struct engine *e, uint64_t time_ns, unsigned cpu,
	      struct errbuf *err)
{
	if (cpu >= e->cfg.nr_cpus)
		return err_set(err, -EINVAL, "cpu %u of a %u-cpu replay", cpu,
			       e->cfg.nr_cpus);
	if (!e->started) {
		e->started = true;
		e->now = time_ns;
		e->rep.time_first_ns = time_ns;
	}
	if (time_ns < e->now) {
		e->rep.time_regressions++;
		time_ns = e->now;
	}
	if (e->next_deadline <= time_ns)
		run_timers_until(e, time_ns);
	e->now = time_ns;
	e->cpu = cpu;
	e->rep.time_last_ns = time_ns;
	return 0;
}

void engine_drain(struct engine *e)
{
	while (e->next_deadline != UINT64_MAX)
		run_timers_until(e, e->next_deadline);
	if (e->now > e->rep.time_last_ns)
		e->rep.time_last_ns = e->now;
}

uint64_t engine_now(const struct engine *e)
{
	return e->now;
}

/* ---- operations, errors, findings ---- */

void engine_count_error(struct engine *e, int code)
{
	switch (code) {
	case -EINVAL:
		e->rep.err_einval++;
		break;
	case -EEXIST:
		e->rep.err_eexist++;
		break;
	case -ENOMEM:
		e->rep.err_enomem++;
		break;
	default:
		e->rep.err_other++;
		break;
	}
}

void engine_finding(struct engine *e, enum severity sev, const char *code,
		    const struct engine_domain *d, uint64_t iova, uint64_t size,
		    const char *fmt, ...)
{
	struct engine_finding *f;
	va_list ap;

	e->rep.findings_total++;
	if ((unsigned)sev < 3)
		e->rep.findings_by_severity[sev]++;
	if (e->rep.nr_findings >= e->cfg.max_findings)
		return;
	f = &e->findings[e->rep.nr_findings++];
	*f = (struct engine_finding){
		.severity = sev, .code = code, .time_ns = e->now, .op = e->op,
		.domain = d ? d->id : 0, .iova = iova, .size = size,
	};
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

/* ---- IOMMU API wrappers ---- */

int engine_map(struct engine_domain *d, uint64_t iova, uint64_t pa,
	       uint64_t size, uint32_t prot, struct errbuf *err)
{
	int ret;

	engine_op_begin(d->e, ENGINE_OP_MAP);
	if (size == 1ull << d->min_shift)
		ret = domain_map_one(d, iova, pa, prot, DOMAIN_MAP_SYNC, err);
	else
		ret = domain_map(d, iova, pa, size, prot, DOMAIN_MAP_SYNC, err);
	domain_op_end(d);
	return ret;
}

/* Bytes @runs cover; 0 when they are empty or overflow. */
static uint64_t runs_size(const struct engine_pgrun *runs, size_t nr)
{
	uint64_t total = 0;

	for (size_t i = 0; i < nr; i++) {
		if (!runs[i].count || !runs[i].pgsize ||
		    runs[i].pgsize > UINT64_MAX / runs[i].count ||
		    total + runs[i].pgsize * runs[i].count < total)
			return 0;
		total += runs[i].pgsize * runs[i].count;
	}
	return total;
}

int engine_map_pages(struct engine_domain *d, uint64_t iova, uint64_t pa,
		     const struct engine_pgrun *runs, size_t nr, uint32_t prot,
		     struct errbuf *err)
{
	uint64_t size = runs_size(runs, nr);
	int ret;

	engine_op_begin(d->e, ENGINE_OP_MAP);
	if (!size) {
		engine_count_error(d->e, -EINVAL);
		ret = err_set(err, -EINVAL, "map at iova 0x%llx: no pages, or too many",
			      (unsigned long long)iova);
	} else if (nr == 1 && runs[0].count == 1 && size == 1ull << d->min_shift) {
		ret = domain_map_one(d, iova, pa, prot, DOMAIN_MAP_SYNC, err);
	} else {
		ret = domain_map_runs(d, iova, pa, size, runs, nr, prot, DOMAIN_MAP_SYNC, err);
	}
	domain_op_end(d);
	return ret;
}

bool engine_split_matches(const struct engine_domain *d, uint64_t iova,
			  uint64_t pa, const struct engine_pgrun *runs,
			  size_t nr)
{
	uint64_t left = runs_size(runs, nr), run_left;
	size_t run = 0;

	if (!left)
		return false;
	run_left = runs[0].count;
	while (left) {
		uint64_t count, pgsize = pt_pgsize(d->pgsize_bitmap, iova, pa, left, &count);

		if (!pgsize || !count)
			return false;
		iova += pgsize * count;
		pa += pgsize * count;
		left -= pgsize * count;
		/* the same pages: consume @count pages of @pgsize from the runs */
		while (count) {
			uint64_t take;

			if (run == nr || runs[run].pgsize != pgsize)
				return false;
			take = count < run_left ? count : run_left;
			count -= take;
			run_left -= take;
			if (!run_left && ++run < nr)
				run_left = runs[run].count;
		}
	}
	return run == nr;
}

int engine_map_nosync(struct engine_domain *d, uint64_t iova, uint64_t pa,
		      uint64_t size, uint32_t prot, struct errbuf *err)
{
	int ret;

	engine_op_begin(d->e, ENGINE_OP_MAP_NOSYNC);
	ret = domain_map(d, iova, pa, size, prot, 0, err);
	domain_op_end(d);
	return ret;
}

void engine_sync_map(struct engine_domain *d, uint64_t iova, uint64_t size)
{
	engine_op_begin(d->e, ENGINE_OP_SYNC_MAP);
	domain_sync_map(d, iova, size);
	domain_op_end(d);
}

/* iommu_unmap of anything but one smallest page: a gather and its sync */
static __attribute__((noinline)) uint64_t unmap_sync(struct engine_domain *d,
						     uint64_t iova, uint64_t size)
{
	struct engine_gather g;
	uint64_t n;

	engine_gather_init(&g);
	n = domain_unmap(d, iova, size, &g);
	domain_iotlb_sync(d, &g, ENGINE_FLUSH_STRICT);
	return n;
}

uint64_t engine_unmap(struct engine_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t n;

	engine_op_begin(d->e, ENGINE_OP_UNMAP);
	if (size == 1ull << d->min_shift)
		n = domain_unmap_one_sync(d, iova);
	else
		n = unmap_sync(d, iova, size);
	domain_op_end(d);
	return n;
}

uint64_t engine_unmap_fast(struct engine_domain *d, uint64_t iova,
			   uint64_t size, struct engine_gather *g)
{
	uint64_t n;

	engine_op_begin(d->e, ENGINE_OP_UNMAP_FAST);
	n = domain_unmap(d, iova, size, g);
	domain_op_end(d);
	return n;
}

void engine_iotlb_sync(struct engine_domain *d, struct engine_gather *g)
{
	engine_op_begin(d->e, ENGINE_OP_IOTLB_SYNC);
	domain_iotlb_sync(d, g, ENGINE_FLUSH_STRICT);
	domain_op_end(d);
}

void engine_flush_all(struct engine_domain *d)
{
	engine_op_begin(d->e, ENGINE_OP_FLUSH_ALL);
	domain_flush_all(d, ENGINE_FLUSH_EXPLICIT);
	domain_op_end(d);
}

int64_t engine_map_sg(struct engine_domain *d, uint64_t iova,
		      const struct engine_sg *sg, size_t nents, uint32_t prot,
		      struct errbuf *err)
{
	int64_t ret;

	engine_op_begin(d->e, ENGINE_OP_MAP_SG);
	ret = domain_map_sg(d, iova, sg, nents, prot, 0, err);
	domain_op_end(d);
	return ret;
}

/* ---- IOVA ---- */

uint64_t engine_iova_alloc(struct engine_domain *d, uint64_t size,
			   uint64_t dma_limit)
{
	uint64_t g = 1ull << d->min_shift, pages, limit, pfn = 0;

	engine_op_begin(d->e, ENGINE_OP_IOVA_ALLOC);
	pages = size / g + (size % g != 0);
	limit = dma_limit && dma_limit < d->aperture_end ? dma_limit : d->aperture_end;
	if (pages)
		pfn = domain_iova_alloc(d, pages, limit >> d->min_shift, true);
	domain_op_end(d);
	return pfn << d->min_shift;
}

void engine_iova_free(struct engine_domain *d, uint64_t iova, uint64_t size)
{
	uint64_t g = 1ull << d->min_shift;

	engine_op_begin(d->e, ENGINE_OP_IOVA_FREE);
	domain_iova_free(d, iova >> d->min_shift, size / g + (size % g != 0));
	domain_op_end(d);
}

int engine_iova_reserve(struct engine_domain *d, uint64_t iova, uint64_t size,
			struct errbuf *err)
{
	if (!size || iova + size - 1 < iova)
		return err_set(err, -EINVAL, "bad reserved range 0x%llx+0x%llx",
			       (unsigned long long)iova, (unsigned long long)size);
	return iova_reserve(&d->iovad, iova >> d->min_shift,
			    (iova + size - 1) >> d->min_shift, err);
}

/* ---- introspection ---- */

struct engine_domain *engine_dev_domain(const struct engine_dev *dev)
{
	return dev->d;
}

struct arena *engine_arena(struct engine *e)
{
	return e->arena;
}

uint64_t engine_domain_granule(const struct engine_domain *d)
{
	return 1ull << d->min_shift;
}

uint64_t engine_domain_pgsize_bitmap(const struct engine_domain *d)
{
	return d->pgsize_bitmap;
}

const struct pt_mapper *engine_domain_mapper(const struct engine_domain *d)
{
	return &d->mapper;
}

uint64_t engine_domain_mapped_bytes(const struct engine_domain *d)
{
	return d->mapped_bytes;
}
