/* The ftrace importer: windowed domain attribution (see import.h),
 * interning of devices and domains, and ids assigned in output order. */
#include "trace/import.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct import_slot {
	struct ftrace_event ev;
	uint32_t dev;      /* internal device id, 0 none */
	uint32_t dom;      /* internal domain id, 0 none */
	bool claimed;      /* a kprobe merged into an iommu record: not written */
	bool dma_used;     /* an unmap-class dma event that attributed its unmap */
	/* an iommu map: the page sizes of the driver calls merged into it */
	struct trace_pgrun *runs;
	uint32_t nr_runs;
	bool runs_unknown; /* a merged call did not say its page size */
};

struct import_dev {
	char *name;
	uint32_t file_id;  /* 0 until written */
	uint32_t cur_dom;  /* domain from the last attach kprobe */
	uint32_t own_dom;  /* domain inferred for this device alone */
};

struct import_dom {
	uint32_t origin;
	bool freed;        /* its handle may come back as another domain */
	uint64_t handle;
	uint32_t dev;      /* ORIGIN_DEVICE: internal device id */
	uint32_t file_id;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

int importer_init(struct importer *imp, struct trace_writer *w,
		  enum import_attribution attribution, struct errbuf *err)
{
	memset(imp, 0, sizeof(*imp));
	imp->w = w;
	imp->attribution = attribution;
	imp->win = calloc(IMPORT_WINDOW, sizeof(*imp->win));
	if (!imp->win)
		return err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static void slot_release(struct import_slot *s)
{
	ftrace_event_release(&s->ev);
	free(s->runs);
	s->runs = NULL;
	s->nr_runs = 0;
}

void importer_release(struct importer *imp)
{
	for (size_t i = 0; i < imp->len; i++)
		slot_release(&imp->win[(imp->head + i) % IMPORT_WINDOW]);
	free(imp->win);
	for (uint32_t i = 0; i < imp->nr_devs; i++)
		free(imp->devs[i].name);
	free(imp->devs);
	free(imp->dev_hash);
	free(imp->doms);
	memset(imp, 0, sizeof(*imp));
}

/* ---- interning ---- */

static int dev_hash_grow(struct importer *imp, struct errbuf *err)
{
	uint32_t size = imp->dev_hash_size ? 2 * imp->dev_hash_size : 64;
	uint32_t *h = calloc(size, sizeof(*h));

	if (!h)
		return err_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < imp->nr_devs; i++) {
		uint32_t k = (uint32_t)fnv1a(imp->devs[i].name) & (size - 1);

		while (h[k])
			k = (k + 1) & (size - 1);
		h[k] = i + 1;
	}
	free(imp->dev_hash);
	imp->dev_hash = h;
	imp->dev_hash_size = size;
	return 0;
}

/* Internal id of device @name, added when new. */
static int intern_dev(struct importer *imp, const char *name, uint32_t *id,
		      struct errbuf *err)
{
	uint32_t k;
	int rc;

	if (imp->dev_hash_size) {
		k = (uint32_t)fnv1a(name) & (imp->dev_hash_size - 1);
		for (; imp->dev_hash[k]; k = (k + 1) & (imp->dev_hash_size - 1)) {
			if (strcmp(imp->devs[imp->dev_hash[k] - 1].name, name) == 0) {
				*id = imp->dev_hash[k];
				return 0;
			}
		}
	}
	if (imp->nr_devs >= TRACE_ID_MAX)
		return err_set(err, -E2BIG, "more than %u devices", TRACE_ID_MAX);
	if (imp->nr_devs == imp->devs_cap) {
		uint32_t cap = imp->devs_cap ? 2 * imp->devs_cap : 16;
		struct import_dev *p = realloc(imp->devs, cap * sizeof(*p));

		if (!p)
			return err_set(err, -ENOMEM, "out of memory");
		imp->devs = p;
		imp->devs_cap = cap;
	}
	if (2 * (imp->nr_devs + 1) > imp->dev_hash_size) {
		rc = dev_hash_grow(imp, err);
		if (rc)
			return rc;
	}
	memset(&imp->devs[imp->nr_devs], 0, sizeof(imp->devs[0]));
	imp->devs[imp->nr_devs].name = strdup(name);
	if (!imp->devs[imp->nr_devs].name)
		return err_set(err, -ENOMEM, "out of memory");
	imp->nr_devs++;
	k = (uint32_t)fnv1a(name) & (imp->dev_hash_size - 1);
	while (imp->dev_hash[k])
		k = (k + 1) & (imp->dev_hash_size - 1);
	imp->dev_hash[k] = imp->nr_devs;
	*id = imp->nr_devs;
	return 0;
}

static int new_dom(struct importer *imp, uint32_t origin, uint64_t handle, uint32_t dev,
		   uint32_t *id, struct errbuf *err)
{
	if (imp->nr_doms >= TRACE_ID_MAX)
		return err_set(err, -E2BIG, "more than %u domains", TRACE_ID_MAX);
	if (imp->nr_doms == imp->doms_cap) {
		uint32_t cap = imp->doms_cap ? 2 * imp->doms_cap : 16;
		struct import_dom *p = realloc(imp->doms, cap * sizeof(*p));

		if (!p)
			return err_set(err, -ENOMEM, "out of memory");
		imp->doms = p;
		imp->doms_cap = cap;
	}
	imp->doms[imp->nr_doms] = (struct import_dom){ origin, false, handle, dev, 0 };
	*id = ++imp->nr_doms;
	return 0;
}

/* Domains named by kernel pointers: few per trace, so a linear search
 * from the newest suffices (bounded by TRACE_ID_MAX). */
static int intern_handle(struct importer *imp, uint64_t handle, uint32_t *id,
			 struct errbuf *err)
{
	for (uint32_t i = imp->nr_doms; i > 0; i--) {
		const struct import_dom *d = &imp->doms[i - 1];

		if (d->origin == TRACE_DOMAIN_ORIGIN_HANDLE && d->handle == handle && !d->freed) {
			*id = i;
			return 0;
		}
	}
	return new_dom(imp, TRACE_DOMAIN_ORIGIN_HANDLE, handle, 0, id, err);
}

/* The domain dma:* events of device @dev act on. */
static int device_domain(struct importer *imp, uint32_t dev, uint32_t *id,
			 struct errbuf *err)
{
	struct import_dev *d = &imp->devs[dev - 1];
	int rc;

	if (d->cur_dom) {
		*id = d->cur_dom;
		return 0;
	}
	if (!d->own_dom) {
		rc = new_dom(imp, TRACE_DOMAIN_ORIGIN_DEVICE, 0, dev, &d->own_dom, err);
		if (rc)
			return rc;
		imp->stats.device_domains++;
	}
	*id = d->own_dom;
	return 0;
}

/* ---- output ---- */

static int put(struct importer *imp, const struct trace_record *rec, struct errbuf *err)
{
	int rc = trace_writer_put(imp->w, rec, err);

	if (!rc)
		imp->stats.records++;
	return rc;
}

static int file_dev(struct importer *imp, uint32_t dev, uint64_t time, uint32_t *out,
		    struct errbuf *err)
{
	struct import_dev *d;
	struct trace_record def;
	int rc;

	*out = 0;
	if (!dev)
		return 0;
	d = &imp->devs[dev - 1];
	if (!d->file_id) {
		trace_record_init(&def, TRACE_REC_DEVICE);
		def.time_ns = time;
		def.device = imp->next_file_dev + 1;
		def.u.device.name = d->name;
		def.u.device.len = (uint32_t)strlen(d->name);
		rc = put(imp, &def, err);
		if (rc)
			return rc;
		d->file_id = ++imp->next_file_dev;
	}
	*out = d->file_id;
	return 0;
}

static int file_dom(struct importer *imp, uint32_t dom, uint64_t time, uint32_t *out,
		    struct errbuf *err)
{
	struct import_dom *d;
	struct trace_record def;
	int rc;

	*out = 0;
	if (!dom)
		return 0;
	d = &imp->doms[dom - 1];
	if (!d->file_id) {
		trace_record_init(&def, TRACE_REC_DOMAIN);
		def.time_ns = time;
		def.domain = imp->next_file_dom + 1;
		def.u.domain.origin = d->origin;
		def.u.domain.handle = d->handle;
		rc = file_dev(imp, d->dev, time, &def.device, err);
		if (rc)
			return rc;
		rc = put(imp, &def, err);
		if (rc)
			return rc;
		d->file_id = ++imp->next_file_dom;
	}
	*out = d->file_id;
	return 0;
}

static bool is_iommu_op(enum ftrace_kind k)
{
	return k == FT_IOMMU_MAP || k == FT_IOMMU_UNMAP || k == FT_IOMMU_ATTACH;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The map_pages record before map record @rec of slot @s: the runs merged
 * into an iommu map, or the one call of a driver-level map of its own. */
static int put_map_pages(struct importer *imp, const struct import_slot *s,
			 const struct trace_record *rec, struct errbuf *err)
{
	struct trace_pgrun one;
	struct trace_record mp;

	trace_record_init(&mp, TRACE_REC_MAP_PAGES);
	if (s->ev.kind == FT_KPROBE_MAP) {
		if (!is_pow2(s->ev.pgsize) || !s->ev.pgcount)
			return 0;
		one = (struct trace_pgrun){ s->ev.pgsize, s->ev.pgcount };
		mp.u.map_pages.runs = &one;
		mp.u.map_pages.nr = 1;
	} else {
		if (!s->nr_runs || s->runs_unknown)
			return 0;
		mp.u.map_pages.runs = s->runs;
		mp.u.map_pages.nr = s->nr_runs;
	}
	mp.time_ns = rec->time_ns;
	mp.cpu = rec->cpu;
	mp.pid = rec->pid;
	mp.domain = rec->domain;
	mp.device = rec->device;
	mp.u.map_pages.iova = rec->u.map.iova;
	mp.u.map_pages.paddr = rec->u.map.paddr;
	if (trace_map_pages_size(&mp) != rec->u.map.size)
		return 0;
	return put(imp, &mp, err);
}

static int emit_front(struct importer *imp, struct errbuf *err)
{
	struct import_slot *s = &imp->win[imp->head];
	struct trace_record rec = s->ev.rec;
	uint32_t dom = s->dom;
	int rc = 0;

	if (!s->claimed) {
		if (is_iommu_op(s->ev.kind) && !dom) {
			bool single = imp->attribution == IMPORT_ATTR_NONE ||
				      (imp->attribution == IMPORT_ATTR_DYNAMIC && !imp->seen_sources);

			if (single) {
				if (!imp->single_dom)
					rc = new_dom(imp, TRACE_DOMAIN_ORIGIN_SINGLE, 0, 0,
						     &imp->single_dom, err);
				dom = imp->single_dom;
				imp->stats.single_domain = true;
			} else if (s->ev.kind != FT_IOMMU_ATTACH) {
				imp->stats.unattributed++;
			}
		}
		if (!rc)
			rc = file_dev(imp, s->dev, rec.time_ns, &rec.device, err);
		if (!rc)
			rc = file_dom(imp, dom, rec.time_ns, &rec.domain, err);
		if (!rc && rec.type == TRACE_REC_MAP)
			rc = put_map_pages(imp, s, &rec, err);
		if (!rc)
			rc = put(imp, &rec, err);
	}
	imp->bytes -= s->ev.bytes;
	slot_release(s);
	imp->head = (imp->head + 1) % IMPORT_WINDOW;
	imp->len--;
	return rc;
}

/* ---- attribution ---- */

static struct import_slot *slot_at(struct importer *imp, size_t i)
{
	return &imp->win[(imp->head + i) % IMPORT_WINDOW];
}

static bool same_task(const struct trace_record *a, const struct trace_record *b)
{
	return a->pid == b->pid && (a->pid != 0 || a->cpu == b->cpu);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a <= b + (blen - 1) && b <= a + (alen - 1);
}

/* Range of an iommu map/unmap record. */
static void iommu_range(const struct trace_record *r, uint64_t *start, uint64_t *len)
{
	if (r->type == TRACE_REC_MAP) {
		*start = r->u.map.iova;
		*len = r->u.map.size;
	} else {
		*start = r->u.unmap.iova;
		*len = r->u.unmap.size;
		if (r->u.unmap.unmapped != TRACE_UNKNOWN64 && r->u.unmap.unmapped > *len)
			*len = r->u.unmap.unmapped;
	}
}

/* Does dma:* record @d touch DMA addresses [start, start+len)?  A
 * dma_unmap_sg of newer kernels holds physical addresses only: it
 * matches any range (it is paired by order alone). */
static bool dma_touches(const struct trace_record *d, uint64_t start, uint64_t len)
{
	switch (d->type) {
	case TRACE_REC_DMA_MAP:
		return overlaps(d->u.dma_map.dma_addr, d->u.dma_map.size, start, len);
	case TRACE_REC_DMA_UNMAP:
		return overlaps(d->u.dma_unmap.dma_addr, d->u.dma_unmap.size, start, len);
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE:
		return overlaps(d->u.dma_alloc.dma_addr, d->u.dma_alloc.size, start, len);
	case TRACE_REC_MAP_SG:
		for (uint32_t i = 0; i < d->u.map_sg.nr_out; i++)
			if (overlaps(d->u.map_sg.out[i].addr, d->u.map_sg.out[i].length, start, len))
				return true;
		return false;
	case TRACE_REC_UNMAP_SG:
		if (d->flags & TRACE_UNMAP_SG_F_PHYS)
			return true;
		for (uint32_t i = 0; i < d->u.unmap_sg.nr; i++)
			if (overlaps(d->u.unmap_sg.ents[i].addr, d->u.unmap_sg.ents[i].length,
				     start, len))
				return true;
		return false;
	default:
		return false;
	}
}

/* Appends a driver call's pages to the runs of map slot @x: calls with
 * the page size of the run before extend it. */
static int add_run(struct import_slot *x, uint64_t pgsize, uint64_t count,
		   struct errbuf *err)
{
	struct trace_pgrun *last = x->nr_runs ? &x->runs[x->nr_runs - 1] : NULL;

	if (x->runs_unknown)
		return 0;
	if (!is_pow2(pgsize) || !count) {
		x->runs_unknown = true;
		return 0;
	}
	if (last && last->pgsize == pgsize && last->count + count > last->count) {
		last->count += count;
		return 0;
	}
	if (x->nr_runs == TRACE_MAP_PAGES_MAX) {
		x->runs_unknown = true; /* more sizes than a record holds */
		return 0;
	}
	if (!x->runs) {
		x->runs = malloc(TRACE_MAP_PAGES_MAX * sizeof(*x->runs));
		if (!x->runs)
			return err_set(err, -ENOMEM, "out of memory");
	}
	x->runs[x->nr_runs++] = (struct trace_pgrun){ pgsize, count };
	return 0;
}

/* Kprobes of one iommu_map: the task's latest unclaimed driver map call
 * at the same iova and paddr, and the ones after it, adding up
 * contiguously to the same size.  Other events may come between: an
 * interrupt runs in the context of the task it interrupts, and its own
 * map or unmap (already matched, so claimed) lands in the middle.  Their
 * page sizes become the map's runs.  1 when claimed, 0 when not. */
static int claim_kprobe_map(struct importer *imp, struct import_slot *x,
			    struct errbuf *err)
{
	const struct trace_record *xr = &x->ev.rec;
	size_t start = SIZE_MAX;
	uint64_t iova, paddr, left;

	for (size_t i = imp->len; i-- > 0;) {
		struct import_slot *s = slot_at(imp, i);

		if (!same_task(&s->ev.rec, xr))
			continue;
		if (s->ev.kind == FT_KPROBE_MAP && !s->claimed &&
		    s->ev.rec.u.map.iova == xr->u.map.iova &&
		    s->ev.rec.u.map.paddr == xr->u.map.paddr) {
			start = i;
			break;
		}
	}
	if (start == SIZE_MAX)
		return 0;
	iova = xr->u.map.iova;
	paddr = xr->u.map.paddr;
	left = xr->u.map.size;
	for (size_t i = start; i < imp->len && left; i++) {
		struct import_slot *s = slot_at(imp, i);

		if (!same_task(&s->ev.rec, xr) || s->ev.kind != FT_KPROBE_MAP || s->claimed)
			continue;
		if (s->dom != slot_at(imp, start)->dom || s->ev.rec.u.map.iova != iova ||
		    s->ev.rec.u.map.paddr != paddr || s->ev.rec.u.map.size > left)
			return 0;
		iova += s->ev.rec.u.map.size;
		paddr += s->ev.rec.u.map.size;
		left -= s->ev.rec.u.map.size;
	}
	if (left)
		return 0;
	/* it adds up: merge */
	left = xr->u.map.size;
	for (size_t i = start; i < imp->len && left; i++) {
		struct import_slot *s = slot_at(imp, i);
		int rc;

		if (!same_task(&s->ev.rec, xr) || s->ev.kind != FT_KPROBE_MAP || s->claimed)
			continue;
		s->claimed = true;
		left -= s->ev.rec.u.map.size;
		rc = add_run(x, s->ev.pgsize, s->ev.pgcount, err);
		if (rc)
			return rc;
	}
	x->dom = slot_at(imp, start)->dom;
	x->ev.rec.prot = slot_at(imp, start)->ev.rec.prot;
	x->ev.rec.flags = (uint16_t)((x->ev.rec.flags & ~TRACE_F_NO_PROT) |
				     (slot_at(imp, start)->ev.rec.flags & TRACE_F_NO_PROT));
	return 1;
}

/* Kprobes of one iommu_unmap: from the same iova, the driver calls inside
 * the range (the driver may unmap more or less than asked, so the sizes
 * cannot be checked). */
static bool claim_kprobe_unmap(struct importer *imp, struct import_slot *x)
{
	const struct trace_record *xr = &x->ev.rec;
	size_t start = SIZE_MAX;
	uint64_t lo, len, prev;

	iommu_range(xr, &lo, &len);
	for (size_t i = imp->len; i-- > 0;) {
		struct import_slot *s = slot_at(imp, i);

		if (!same_task(&s->ev.rec, xr))
			continue;
		if (s->ev.kind == FT_KPROBE_UNMAP && !s->claimed &&
		    s->ev.rec.u.unmap.iova == lo) {
			start = i;
			break;
		}
	}
	if (start == SIZE_MAX)
		return false;
	prev = lo;
	for (size_t i = start; i < imp->len; i++) {
		struct import_slot *s = slot_at(imp, i);
		uint64_t iova = s->ev.rec.u.unmap.iova;

		if (!same_task(&s->ev.rec, xr) || s->ev.kind != FT_KPROBE_UNMAP || s->claimed)
			continue;
		if (s->dom != slot_at(imp, start)->dom || iova < prev ||
		    !overlaps(lo, len, iova, 1))
			break;
		s->claimed = true;
		prev = iova;
	}
	x->dom = slot_at(imp, start)->dom;
	return true;
}

/* The attach kprobe of the same task and device just before an
 * iommu:attach_device_to_domain. */
static bool claim_kprobe_attach(struct importer *imp, struct import_slot *x)
{
	for (size_t i = imp->len; i-- > 0;) {
		struct import_slot *s = slot_at(imp, i);

		if (!same_task(&s->ev.rec, &x->ev.rec))
			continue;
		if (is_iommu_op(s->ev.kind))
			break;
		if (s->ev.kind == FT_KPROBE_ATTACH && !s->claimed && s->dev == x->dev) {
			s->claimed = true;
			x->dom = s->dom;
			return true;
		}
	}
	return false;
}

/* A kprobe's domain (the kernel's pointer) stays: the dma event adds the
 * device and says the DMA layer made the operation. */
static void take_dma(struct import_slot *x, const struct import_slot *d)
{
	if (!x->dom)
		x->dom = d->dom;
	x->dev = d->dev;
	/* same bit for map and unmap */
	x->ev.rec.flags |= TRACE_MAP_F_DMA_API;
}

/* A dma:* event logged before its iommu operation (unmap_sg, free): the
 * nearest dma event of the task, with no iommu operation of the same
 * kind between. */
static void dma_before(struct importer *imp, struct import_slot *x)
{
	enum ftrace_kind want = x->ev.kind == FT_IOMMU_MAP ? FT_DMA_MAP : FT_DMA_UNMAP;
	uint64_t lo, len;

	iommu_range(&x->ev.rec, &lo, &len);
	for (size_t i = imp->len; i-- > 0;) {
		struct import_slot *s = slot_at(imp, i);

		if (!same_task(&s->ev.rec, &x->ev.rec))
			continue;
		if (s->ev.kind == x->ev.kind)
			return;
		if (s->ev.kind != FT_DMA_MAP && s->ev.kind != FT_DMA_UNMAP)
			continue;
		if (s->ev.kind == want && !s->dma_used && dma_touches(&s->ev.rec, lo, len)) {
			take_dma(x, s);
			s->dma_used = want == FT_DMA_UNMAP;
		}
		return;
	}
}

/* A dma:* event logged after its iommu operations (map_page, map_sg,
 * alloc, unmap_page): the task's unattributed operations since its
 * previous dma event for the same device that overlap its DMA addresses
 * (an interrupt's dma events for other devices may come between). */
static void dma_after(struct importer *imp, struct import_slot *d)
{
	enum ftrace_kind want = d->ev.kind == FT_DMA_MAP ? FT_IOMMU_MAP : FT_IOMMU_UNMAP;

	if (d->ev.rec.type == TRACE_REC_UNMAP_SG && (d->ev.rec.flags & TRACE_UNMAP_SG_F_PHYS))
		return; /* no DMA addresses to compare */
	for (size_t i = imp->len; i-- > 0;) {
		struct import_slot *s = slot_at(imp, i);
		uint64_t lo, len;

		if (!same_task(&s->ev.rec, &d->ev.rec))
			continue;
		if ((s->ev.kind == FT_DMA_MAP || s->ev.kind == FT_DMA_UNMAP) && s->dev == d->dev)
			return;
		/* taken: by a dma event, or by no kprobe but a domain of its own */
		if (s->ev.kind != want || (s->ev.rec.flags & TRACE_MAP_F_DMA_API))
			continue;
		iommu_range(&s->ev.rec, &lo, &len);
		if (!dma_touches(&d->ev.rec, lo, len))
			continue;
		take_dma(s, d);
		if (want == FT_IOMMU_UNMAP) {
			d->dma_used = true;
			return;
		}
	}
}

static int attribute(struct importer *imp, struct import_slot *s, struct errbuf *err)
{
	int rc = 0;

	switch (s->ev.kind) {
	case FT_KPROBE_MAP:
	case FT_KPROBE_UNMAP:
	case FT_KPROBE_ATTACH:
		imp->seen_sources = true;
		rc = intern_handle(imp, s->ev.handle, &s->dom, err);
		if (!rc && s->ev.kind == FT_KPROBE_ATTACH)
			imp->devs[s->dev - 1].cur_dom = s->dom;
		return rc;
	case FT_KPROBE_FREE:
		rc = intern_handle(imp, s->ev.handle, &s->dom, err);
		if (rc)
			return rc;
		imp->doms[s->dom - 1].freed = true;
		for (uint32_t i = 0; i < imp->nr_devs; i++)
			if (imp->devs[i].cur_dom == s->dom)
				imp->devs[i].cur_dom = 0;
		return 0;
	case FT_IOMMU_MAP:
		rc = claim_kprobe_map(imp, s, err);
		if (rc >= 0)
			dma_before(imp, s);
		return rc < 0 ? rc : 0;
	case FT_IOMMU_UNMAP:
		claim_kprobe_unmap(imp, s);
		dma_before(imp, s);
		return 0;
	case FT_IOMMU_ATTACH:
		if (claim_kprobe_attach(imp, s))
			return 0;
		/* with dma:* events about, a device has a domain of its own */
		if (imp->attribution != IMPORT_ATTR_NONE && imp->seen_sources &&
		    s->ev.rec.type == TRACE_REC_ATTACH)
			rc = device_domain(imp, s->dev, &s->dom, err);
		return rc;
	case FT_DMA_MAP:
	case FT_DMA_UNMAP:
		imp->seen_sources = true;
		rc = device_domain(imp, s->dev, &s->dom, err);
		if (!rc)
			dma_after(imp, s);
		return rc;
	case FT_OTHER:
		/* faults and syncs belong to the device's domain when it has one */
		if (s->dev && s->ev.rec.type != TRACE_REC_GROUP && imp->seen_sources)
			rc = device_domain(imp, s->dev, &s->dom, err);
		return rc;
	}
	return 0;
}

static int push(struct importer *imp, struct ftrace_event *ev, struct errbuf *err)
{
	struct import_slot *s;
	int rc = 0;

	while (imp->len == IMPORT_WINDOW ||
	       (imp->len && imp->bytes + ev->bytes > IMPORT_WINDOW_BYTES)) {
		rc = emit_front(imp, err);
		if (rc) {
			ftrace_event_release(ev);
			return rc;
		}
	}
	s = slot_at(imp, imp->len);
	memset(s, 0, sizeof(*s));
	s->ev = *ev;
	if (ev->dev[0])
		rc = intern_dev(imp, ev->dev, &s->dev, err);
	if (!rc)
		rc = attribute(imp, s, err);
	if (rc) {
		slot_release(s);
		return rc;
	}
	imp->len++;
	imp->bytes += ev->bytes;
	return 0;
}

int importer_line(struct importer *imp, char *line, struct errbuf *err)
{
	struct ftrace_line fl;
	struct ftrace_event ev;
	int rc;

	imp->stats.lines++;
	ftrace_split_line(line, &fl);
	switch (fl.kind) {
	case FTRACE_LINE_BLANK:
		if (!fl.lost)
			return 0;
		/* an entries-in-buffer/entries-written header that does not add up */
		fl.cpu = TRACE_CPU_NONE;
		/* fall through */
	case FTRACE_LINE_LOST:
		memset(&ev, 0, sizeof(ev));
		trace_record_init(&ev.rec, TRACE_REC_LOST);
		ev.kind = FT_OTHER;
		ev.rec.cpu = fl.cpu;
		ev.rec.time_ns = imp->last_time;
		ev.rec.u.lost.count = fl.lost;
		imp->stats.lost += fl.lost ? fl.lost : 1;
		trace_writer_set_flags(imp->w, TRACE_FILE_LOST_EVENTS);
		return push(imp, &ev, err);
	case FTRACE_LINE_OTHER:
		imp->stats.unknown++;
		return 0;
	case FTRACE_LINE_EVENT:
		break;
	}
	imp->last_time = fl.time_ns;
	rc = ftrace_parse_event(&fl, &ev, err);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		imp->stats.unknown++;
		return 0;
	}
	return push(imp, &ev, err);
}

int importer_flush(struct importer *imp, struct errbuf *err)
{
	while (imp->len) {
		int rc = emit_front(imp, err);

		if (rc)
			return rc;
	}
	return 0;
}

int import_prescan(FILE *f, bool *has_sources, struct errbuf *err)
{
	char *buf = malloc(FTRACE_LINE_MAX);
	int rc;

	if (!buf)
		return err_set(err, -ENOMEM, "out of memory");
	*has_sources = false;
	while (!*has_sources && (rc = ftrace_read_line(f, buf, FTRACE_LINE_MAX)) != 0) {
		struct ftrace_line fl;
		struct ftrace_event ev;
		struct errbuf ignored;

		if (rc < 0 && rc != -E2BIG && rc != -EILSEQ)
			break;
		if (rc < 0)
			continue;
		ftrace_split_line(buf, &fl);
		if (fl.kind != FTRACE_LINE_EVENT)
			continue;
		if (ftrace_parse_event(&fl, &ev, &ignored) == 1) {
			switch (ev.kind) {
			case FT_KPROBE_MAP:
			case FT_KPROBE_UNMAP:
			case FT_KPROBE_ATTACH:
			case FT_KPROBE_FREE:
			case FT_DMA_MAP:
			case FT_DMA_UNMAP:
				*has_sources = true;
				break;
			default:
				break;
			}
			ftrace_event_release(&ev);
		}
	}
	free(buf);
	if (fseeko(f, 0, SEEK_SET) != 0) {
		int e = errno;

		return err_set(err, -e, "cannot rewind: %s", strerror(e));
	}
	return 0;
}

int import_ftrace_file(const char *in, const char *out, struct import_stats *stats,
		       struct errbuf *err)
{
	enum import_attribution attribution = IMPORT_ATTR_DYNAMIC;
	const char *in_name = strcmp(in, "-") == 0 ? "<stdin>" : in;
	struct trace_writer w;
	struct importer imp;
	struct stat st;
	uint64_t lineno = 0;
	char *buf = NULL;
	FILE *f;
	int rc;

	memset(stats, 0, sizeof(*stats));
	f = strcmp(in, "-") == 0 ? stdin : fopen(in, "r");
	if (!f) {
		int e = errno;

		return err_set(err, -e, "cannot open %s: %s", in, strerror(e));
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = err_set(err, -EISDIR, "cannot read %s: %s", in, strerror(EISDIR));
		goto close_in;
	}
	if (S_ISREG(st.st_mode)) {
		bool has_sources;

		rc = import_prescan(f, &has_sources, err);
		if (rc) {
			err_prefix(err, rc, "%s", in_name);
			goto close_in;
		}
		attribution = has_sources ? IMPORT_ATTR_SOURCES : IMPORT_ATTR_NONE;
	}
	buf = malloc(FTRACE_LINE_MAX);
	if (!buf) {
		rc = err_set(err, -ENOMEM, "out of memory");
		goto close_in;
	}
	rc = trace_writer_open(&w, out, TRACE_SOURCE_FTRACE_TEXT, err);
	if (rc)
		goto close_in;
	rc = importer_init(&imp, &w, attribution, err);
	if (rc)
		goto fail_writer;
	for (;;) {
		rc = ftrace_read_line(f, buf, FTRACE_LINE_MAX);
		if (rc == 0)
			break;
		lineno++;
		if (rc == -E2BIG) {
			rc = err_set(err, rc, "%s:%llu: line longer than %d bytes", in_name,
				     (unsigned long long)lineno, FTRACE_LINE_MAX - 1);
			goto fail;
		}
		if (rc == -EILSEQ) {
			rc = err_set(err, rc, "%s:%llu: NUL byte in a text line (not ftrace text?)",
				     in_name, (unsigned long long)lineno);
			goto fail;
		}
		if (rc < 0) {
			rc = err_set(err, rc, "cannot read %s: %s", in_name, strerror(-rc));
			goto fail;
		}
		rc = importer_line(&imp, buf, err);
		if (rc) {
			err_prefix(err, rc, "%s:%llu", in_name, (unsigned long long)lineno);
			goto fail;
		}
	}
	rc = importer_flush(&imp, err);
	if (rc)
		goto fail;
	*stats = imp.stats;
	importer_release(&imp);
	rc = trace_writer_finish(&w, err);
	if (rc && strcmp(out, "-") != 0)
		unlink(out);
	goto close_in;
fail:
	importer_release(&imp);
fail_writer:
	trace_writer_release(&w);
	if (strcmp(out, "-") != 0)
		unlink(out);
close_in:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}
