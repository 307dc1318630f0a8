/* alloc_iova_fast / free_iova_fast and the per-CPU range caches of Linux
 * iova.c (formats.md §5.9).  Cached pfns stay allocated in the allocator's
 * view; a cache hit just hands one back.  Per order and CPU there is a
 * "loaded" and a "prev" magazine; full magazines go to a depot that is
 * either a fixed array (old kernels: overflow returns the pfns to the
 * allocator) or an unbounded list trimmed by a delayed work item. */
#include "engine/iova.h"

#include <stdlib.h>

struct iova_magazine {
	struct iova_magazine *next; /* depot / spare list */
	uint32_t size;
	uint64_t pfns[];
};

struct cpu_rcache {
	struct iova_magazine *loaded, *prev;
};

struct rcache_order {
	struct iova_magazine *depot; /* LIFO */
	unsigned depot_size;
	bool work_pending;
	uint64_t work_due;
	struct cpu_rcache *cpus;
};

struct iova_rcache {
	struct rcache_order orders[IOVA_RANGE_CACHE_MAX_SIZE];
	unsigned nr_cpus, mag_size, depot_max;
	uint64_t delay_ns;
	uint64_t next_due;           /* earliest pending depot work */
	struct iova_magazine *spare; /* empty magazines kept for reuse */
};

static unsigned order_base_2(uint64_t n)
{
	return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
}

uint64_t iova_fast_rounded(uint64_t pages)
{
	if (pages > 1 && pages < (1ull << (IOVA_RANGE_CACHE_MAX_SIZE - 1)))
		return 1ull << order_base_2(pages);
	return pages;
}

static void pfns_in_use_add(struct iova_stats *s, uint64_t n)
{
	s->pfns_in_use += n;
	if (s->pfns_in_use > s->pfns_in_use_max)
		s->pfns_in_use_max = s->pfns_in_use;
}

static struct iova_magazine *mag_new(struct iova_rcache *rc)
{
	struct iova_magazine *m = rc->spare;

	if (m) {
		rc->spare = m->next;
	} else {
		m = malloc(sizeof(*m) + rc->mag_size * sizeof(uint64_t));
		if (!m)
			return NULL;
	}
	m->next = NULL;
	m->size = 0;
	return m;
}

static void mag_put(struct iova_rcache *rc, struct iova_magazine *m)
{
	m->next = rc->spare;
	rc->spare = m;
}

/* Returns the magazine's pfns to the allocator and empties it. */
static void mag_drain(struct iova_domain *iovad, struct iova_magazine *m,
		      unsigned order)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->size; i++)
		if (iovad->ops->free(iovad->priv, m->pfns[i], 1ull << order))
			iovad->stats.pfns_in_use -= 1ull << order;
	m->size = 0;
}

static inline bool mag_full(const struct iova_rcache *rc,
			    const struct iova_magazine *m)
{
	return m && m->size == rc->mag_size;
}

static inline bool mag_empty(const struct iova_magazine *m)
{
	return !m || m->size == 0;
}

/* Pops the topmost pfn not above @limit (scanning down), 0 if none. */
static uint64_t mag_pop(struct iova_magazine *m, uint64_t limit)
{
	uint32_t i = m->size;
	uint64_t pfn;

	while (i > 0 && m->pfns[i - 1] > limit)
		i--;
	if (i == 0)
		return 0;
	pfn = m->pfns[i - 1];
	m->pfns[i - 1] = m->pfns[--m->size];
	return pfn;
}

static void depot_push(struct iova_domain *iovad, unsigned order,
		       struct iova_magazine *m, uint64_t now)
{
	struct iova_rcache *rc = iovad->rcache;
	struct rcache_order *ro = &rc->orders[order];

	if (rc->depot_max && ro->depot_size >= rc->depot_max) {
		iovad->stats.depot_overflows++;
		mag_drain(iovad, m, order);
		mag_put(rc, m);
		return;
	}
	m->next = ro->depot;
	ro->depot = m;
	ro->depot_size++;
	iovad->stats.depot_pushes++;
	/* schedule_delayed_work does nothing when already pending */
	if (!rc->depot_max && !ro->work_pending) {
		ro->work_pending = true;
		ro->work_due = now + rc->delay_ns;
		if (ro->work_due < rc->next_due)
			rc->next_due = ro->work_due;
	}
}

static struct iova_magazine *depot_pop(struct rcache_order *ro)
{
	struct iova_magazine *m = ro->depot;

	if (m) {
		ro->depot = m->next;
		ro->depot_size--;
		m->next = NULL;
	}
	return m;
}

static bool rcache_insert(struct iova_domain *iovad, unsigned cpu, uint64_t now,
			  uint64_t pfn, unsigned order)
{
	struct iova_rcache *rc = iovad->rcache;
	struct cpu_rcache *c = &rc->orders[order].cpus[cpu];

	if (!c->loaded && !(c->loaded = mag_new(rc)))
		return false;
	if (mag_full(rc, c->loaded)) {
		if (!mag_full(rc, c->prev)) {
			struct iova_magazine *t = c->prev;

			if (!t && !(t = mag_new(rc)))
				return false;
			c->prev = c->loaded;
			c->loaded = t;
		} else {
			struct iova_magazine *fresh = mag_new(rc);

			if (!fresh)
				return false;
			depot_push(iovad, order, c->loaded, now);
			c->loaded = fresh;
		}
	}
	c->loaded->pfns[c->loaded->size++] = pfn;
	iovad->stats.rcache_inserts++;
	return true;
}

static uint64_t rcache_get(struct iova_domain *iovad, unsigned cpu,
			   unsigned order, uint64_t limit)
{
	struct iova_rcache *rc = iovad->rcache;
	struct rcache_order *ro = &rc->orders[order];
	struct cpu_rcache *c = &ro->cpus[cpu];

	if (mag_empty(c->loaded)) {
		if (!mag_empty(c->prev)) {
			struct iova_magazine *t = c->prev;

			c->prev = c->loaded;
			c->loaded = t;
		} else if (ro->depot) {
			if (c->loaded)
				mag_put(rc, c->loaded);
			c->loaded = depot_pop(ro);
		} else {
			return 0;
		}
	}
	return mag_pop(c->loaded, limit);
}

uint64_t iova_alloc(struct iova_domain *iovad, uint64_t pages,
		    uint64_t limit_pfn, bool size_aligned)
{
	uint64_t pfn;

	if (limit_pfn > iovad->space.end_pfn)
		limit_pfn = iovad->space.end_pfn;
	pfn = iovad->ops->alloc(iovad->priv, pages, limit_pfn, size_aligned);
	if (pfn) {
		iovad->stats.allocs++;
		pfns_in_use_add(&iovad->stats, pages);
	} else {
		iovad->stats.alloc_failures++;
	}
	return pfn;
}

bool iova_free(struct iova_domain *iovad, uint64_t pfn, uint64_t pages)
{
	if (!iovad->ops->free(iovad->priv, pfn, pages)) {
		iovad->stats.bad_frees++;
		return false;
	}
	iovad->stats.frees++;
	iovad->stats.pfns_in_use -= pages;
	return true;
}

void iova_rcache_flush_all(struct iova_domain *iovad)
{
	struct iova_rcache *rc = iovad->rcache;

	if (!rc)
		return;
	for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct rcache_order *ro = &rc->orders[o];
		struct iova_magazine *m;

		for (unsigned c = 0; c < rc->nr_cpus; c++) {
			mag_drain(iovad, ro->cpus[c].loaded, o);
			mag_drain(iovad, ro->cpus[c].prev, o);
		}
		while ((m = depot_pop(ro))) {
			mag_drain(iovad, m, o);
			mag_put(rc, m);
		}
	}
	iovad->stats.rcache_flushes++;
}

uint64_t iova_alloc_fast(struct iova_domain *iovad, unsigned cpu, uint64_t now,
			 uint64_t pages, uint64_t limit_pfn, bool flush_rcache)
{
	uint64_t pfn;
	unsigned order;

	(void)now;
	if (!pages)
		return 0;
	pages = iova_fast_rounded(pages);
	order = order_base_2(pages);
	if (iovad->rcache && order < IOVA_RANGE_CACHE_MAX_SIZE &&
	    cpu < iovad->rcache->nr_cpus && limit_pfn + 1 >= pages) {
		/* a hit must fit entirely at or below the limit */
		pfn = rcache_get(iovad, cpu, order, limit_pfn + 1 - pages);
		if (pfn) {
			iovad->stats.rcache_hits++;
			return pfn;
		}
		iovad->stats.rcache_misses++;
	}
	pfn = iova_alloc(iovad, pages, limit_pfn, true);
	if (!pfn && flush_rcache && iovad->rcache) {
		iova_rcache_flush_all(iovad);
		pfn = iova_alloc(iovad, pages, limit_pfn, true);
	}
	return pfn;
}

bool iova_free_fast(struct iova_domain *iovad, unsigned cpu, uint64_t now,
		    uint64_t pfn, uint64_t pages)
{
	unsigned order = order_base_2(pages);

	if (!pages)
		return false;
	if (iovad->rcache && order < IOVA_RANGE_CACHE_MAX_SIZE &&
	    cpu < iovad->rcache->nr_cpus) {
		/* only pfns the allocator holds at the cached size may enter */
		if (!iovad->ops->allocated(iovad->priv, pfn)) {
			iovad->stats.bad_frees++;
			return false;
		}
		if (rcache_insert(iovad, cpu, now, pfn, order)) {
			iovad->stats.frees++;
			return true;
		}
	}
	return iova_free(iovad, pfn, iova_fast_rounded(pages));
}

int iova_reserve(struct iova_domain *iovad, uint64_t pfn_lo, uint64_t pfn_hi,
		 struct errbuf *err)
{
	return iovad->ops->reserve(iovad->priv, pfn_lo, pfn_hi, err);
}

uint64_t iova_rcache_cached_pfns(const struct iova_domain *iovad)
{
	const struct iova_rcache *rc = iovad->rcache;
	uint64_t n = 0;

	if (!rc)
		return 0;
	for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		const struct rcache_order *ro = &rc->orders[o];
		uint64_t mags = 0;

		for (unsigned c = 0; c < rc->nr_cpus; c++) {
			if (ro->cpus[c].loaded)
				mags += ro->cpus[c].loaded->size;
			if (ro->cpus[c].prev)
				mags += ro->cpus[c].prev->size;
		}
		for (const struct iova_magazine *m = ro->depot; m; m = m->next)
			mags += m->size;
		n += mags << o;
	}
	return n;
}

uint64_t iova_next_deadline(const struct iova_domain *iovad)
{
	return iovad->rcache ? iovad->rcache->next_due : IOVA_NO_DEADLINE;
}

/* iova_depot_work_func: one surplus magazine per run, rescheduled while
 * the depot still holds more than one per CPU. */
void iova_run_timers(struct iova_domain *iovad, uint64_t now)
{
	struct iova_rcache *rc = iovad->rcache;

	if (!rc)
		return;
	for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct rcache_order *ro = &rc->orders[o];

		while (ro->work_pending && ro->work_due <= now) {
			struct iova_magazine *m = NULL;

			ro->work_pending = false;
			if (ro->depot_size > rc->nr_cpus)
				m = depot_pop(ro);
			if (!m)
				break;
			mag_drain(iovad, m, o);
			mag_put(rc, m);
			iovad->stats.depot_trims++;
			ro->work_pending = true;
			ro->work_due += rc->delay_ns;
		}
	}
	rc->next_due = IOVA_NO_DEADLINE;
	for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++)
		if (rc->orders[o].work_pending && rc->orders[o].work_due < rc->next_due)
			rc->next_due = rc->orders[o].work_due;
}

static void rcache_free(struct iova_rcache *rc)
{
	struct iova_magazine *m;

	if (!rc)
		return;
	for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
		struct rcache_order *ro = &rc->orders[o];

		if (ro->cpus) {
			for (unsigned c = 0; c < rc->nr_cpus; c++) {
				free(ro->cpus[c].loaded);
				free(ro->cpus[c].prev);
			}
			free(ro->cpus);
		}
		while ((m = depot_pop(ro)))
			free(m);
	}
	while ((m = rc->spare)) {
		rc->spare = m->next;
		free(m);
	}
	free(rc);
}

int iova_domain_init(struct iova_domain *iovad,
		     const struct iova_allocator_ops *ops,
		     const struct iova_space *space,
		     const struct iova_rcache_cfg *rcfg, struct errbuf *err)
{
	int ret;

	*iovad = (struct iova_domain){ .ops = ops, .space = *space };
	if (space->start_pfn == 0 || space->end_pfn < space->start_pfn)
		return err_set(err, -EINVAL, "bad iova space 0x%llx-0x%llx",
			       (unsigned long long)space->start_pfn,
			       (unsigned long long)space->end_pfn);
	ret = ops->init(&iovad->priv, space, err);
	if (ret < 0)
		return ret;
	if (rcfg && rcfg->enabled) {
		struct iova_rcache *rc = calloc(1, sizeof(*rc));

		if (!rc)
			goto nomem;
		iovad->rcache = rc;
		rc->nr_cpus = rcfg->nr_cpus ? rcfg->nr_cpus : 1;
		rc->mag_size = rcfg->mag_size ? rcfg->mag_size : IOVA_MAG_SIZE;
		rc->depot_max = rcfg->depot_max;
		rc->delay_ns = rcfg->depot_delay_ns ? rcfg->depot_delay_ns
						    : IOVA_DEPOT_DELAY_NS;
		rc->next_due = IOVA_NO_DEADLINE;
		for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
			rc->orders[o].cpus = calloc(rc->nr_cpus,
						    sizeof(struct cpu_rcache));
			if (!rc->orders[o].cpus)
				goto nomem;
		}
	}
	return 0;
nomem:
	iova_domain_release(iovad);
	return err_set(err, -ENOMEM, "out of memory for iova range caches");
}

void iova_domain_release(struct iova_domain *iovad)
{
	rcache_free(iovad->rcache);
	iovad->rcache = NULL;
	if (iovad->ops && iovad->priv)
		iovad->ops->release(iovad->priv);
	iovad->priv = NULL;
}
