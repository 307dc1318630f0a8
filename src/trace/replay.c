/* Replay of trace.bin through the engine (see replay.h). */
#include "trace/replay.h"

#include <stdlib.h>
#include <string.h>

#include "decoders/pt.h"
#include "decoders/vtd.h"

static const char *const policy_names[REPLAY_NR_POLICIES] = {
	"strict", "lazy", "lazy-single", "caching-mode",
};

const char *replay_policy_name(enum replay_policy p)
{
	return (unsigned)p < REPLAY_NR_POLICIES ? policy_names[p] : NULL;
}

int replay_policy_parse(const char *name)
{
	for (int i = 0; i < REPLAY_NR_POLICIES; i++)
		if (strcmp(policy_names[i], name) == 0)
			return i;
	return -1;
}

/* ---- the page-table format of --iommu, shaped by --reg ---- */

/* The domain Linux's VT-d driver sets up for a unit with these registers
 * (formats.md 1.9): the widest SAGAW width up to 57 bits and MGAW; large
 * pages from SLLPS.  Without CAP: 4 levels, 48 bits, 2 MiB and 1 GiB. */
static int vtd_domain(const struct replay_config *cfg, struct pt_cfg *pt,
		      struct engine_domain_config *dc, struct errbuf *err)
{
	uint64_t cap = 0, ecap = 0, flags;
	bool has_cap = image_unit_reg(&cfg->regs, "cap", &cap);
	unsigned levels = 4, ias = 48, oas = 48;
	int rc;

	image_unit_reg(&cfg->regs, "ecap", &ecap);
	flags = vtd_sl_flags(cap, ecap, false);
	if (!has_cap) {
		flags |= PT_VTD_F_SP2M | PT_VTD_F_SP1G;
	} else {
		unsigned sagaw = (unsigned)vtd_cap_SAGAW(cap);
		unsigned haw = (unsigned)vtd_cap_MGAW(cap) + 1;
		int agaw = -1;

		for (int n = 1; n <= 3; n++) /* 39, 48, 57 bits */
			if ((sagaw & (1u << n)) && 30 + 9 * (unsigned)n <= haw)
				agaw = n;
		if (agaw < 0)
			return err_set(err, -EINVAL,
				       "--reg cap: SAGAW 0x%x offers no table depth within MGAW (%u bits)",
				       sagaw, haw);
		levels = (unsigned)agaw + 2;
		ias = 30 + 9 * (unsigned)agaw;
		oas = vtd_oas(haw);
	}
	rc = pt_cfg_init(pt, &pt_fmt_vtd_ss, levels, ias, oas, 12, flags, err);
	if (rc)
		return err_prefix(err, rc, "vtd page tables");
	engine_domain_config_default(dc, pt);
	/* Linux 5.12 to 6.15 (the 6.1 and 6.12 of the QEMU captures) */
	dc->read_always = true;
	if (has_cap) {
		dc->vtd_caching_mode = vtd_cap_CM(cap);
		dc->vtd_psi = vtd_cap_PSI(cap);
		dc->vtd_mamv = (unsigned)vtd_cap_MAMV(cap);
	}
	return 0;
}

/* Formats of the other IOMMUs, when their codecs are built in. */
static int other_domain(const struct replay_config *cfg, struct pt_cfg *pt,
			struct engine_domain_config *dc, struct errbuf *err)
{
	static const struct {
		enum iommu_kind kind;
		const char *fmt;
		unsigned levels, ias, oas, granule;
	} shapes[] = {
		{ IOMMU_AMD, "amd-v1", 4, 48, 52, 12 },
		{ IOMMU_SMMUV3, "lpae", 4, 48, 48, 12 },
		{ IOMMU_PAPR, "tce", 1, 32, 52, 12 },
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct pt_format *fmt;
		int rc;

		if (shapes[i].kind != cfg->iommu)
			continue;
		fmt = pt_format_find(shapes[i].fmt);
		if (!fmt)
			return err_set(err, -ENOTSUP, "the %s page-table codec is not built in",
				       shapes[i].fmt);
		rc = pt_cfg_init(pt, fmt, shapes[i].levels, shapes[i].ias, shapes[i].oas,
				 shapes[i].granule, 0, err);
		if (rc)
			return err_prefix(err, rc, "%s page tables", iommu_kind_name(cfg->iommu));
		engine_domain_config_default(dc, pt);
		return 0;
	}
	return err_set(err, -EINVAL, "no IOMMU given");
}

static int domain_template(const struct replay_config *cfg, struct pt_cfg *pt,
			   struct engine_domain_config *dc, struct errbuf *err)
{
	int rc;

	if (cfg->policy == REPLAY_CACHING_MODE && cfg->iommu != IOMMU_VTD)
		return err_set(err, -EINVAL, "caching mode is a VT-d policy");
	rc = cfg->iommu == IOMMU_VTD ? vtd_domain(cfg, pt, dc, err)
				     : other_domain(cfg, pt, dc, err);
	if (rc)
		return rc;
	switch (cfg->policy) {
	case REPLAY_STRICT: dc->policy = ENGINE_STRICT; break;
	case REPLAY_LAZY: dc->policy = ENGINE_LAZY; break;
	case REPLAY_LAZY_SINGLE: dc->policy = ENGINE_LAZY_SINGLE; break;
	case REPLAY_CACHING_MODE:
		dc->policy = ENGINE_STRICT;
		dc->vtd_caching_mode = true;
		break;
	default:
		break;
	}
	if (cfg->pgsize_bitmap) {
		if (cfg->pgsize_bitmap & ~pt->leaf_sizes)
			return err_set(err, -EINVAL,
				       "--pgsize-bitmap 0x%llx has sizes the %s tables cannot hold (0x%llx)",
				       (unsigned long long)cfg->pgsize_bitmap, pt->fmt->name,
				       (unsigned long long)pt->leaf_sizes);
		dc->pgsize_bitmap = cfg->pgsize_bitmap;
	}
	if (cfg->allocator)
		dc->allocator = cfg->allocator;
	return 0;
}

/* ---- what the DMA layer handed out: kernel address -> engine state ---- */

enum handout_kind { H_FREE = 0, H_SINGLE, H_SG_DMA, H_SG_PHYS, H_IOVA_STATE };

struct sg_list {
	struct engine_sg *sg;
	size_t nents;
	uint64_t dma_key, phys_key; /* both keys of the list */
};

struct handout {
	uint8_t kind;
	uint32_t dev;
	uint64_t key;        /* kernel DMA address, first phys, or state id */
	uint64_t addr, size; /* H_SINGLE: the engine's DMA address */
	struct sg_list *list;             /* H_SG_* (shared by both keys) */
	struct engine_iova_state *state;  /* H_IOVA_STATE */
};

#define HANDOUT_MAX (1u << 22)

struct handouts {
	struct handout *slots;
	size_t cap, used;
};

static size_t h_hash(uint8_t kind, uint32_t dev, uint64_t key, size_t cap)
{
	uint64_t x = key * 0x9e3779b97f4a7c15ull ^ ((uint64_t)dev << 8 | kind);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (size_t)x & (cap - 1);
}

static struct handout *h_find(struct handouts *h, uint8_t kind, uint32_t dev, uint64_t key)
{
	if (!h->cap)
		return NULL;
	for (size_t i = h_hash(kind, dev, key, h->cap);; i = (i + 1) & (h->cap - 1)) {
		struct handout *s = &h->slots[i];

		if (s->kind == H_FREE)
			return NULL;
		if (s->kind == kind && s->dev == dev && s->key == key)
			return s;
	}
}

static int h_grow(struct handouts *h, struct errbuf *err)
{
	size_t cap = h->cap ? 2 * h->cap : 1024;
	struct handout *old = h->slots, *n = calloc(cap, sizeof(*n));

	if (!n)
		return err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < h->cap; i++) {
		size_t j;

		if (old[i].kind == H_FREE)
			continue;
		for (j = h_hash(old[i].kind, old[i].dev, old[i].key, cap); n[j].kind;
		     j = (j + 1) & (cap - 1))
			;
		n[j] = old[i];
	}
	free(old);
	h->slots = n;
	h->cap = cap;
	return 0;
}

/* Adds (or replaces) an entry; NULL when the table is at its cap. */
static struct handout *h_put(struct handouts *h, uint8_t kind, uint32_t dev, uint64_t key,
			     struct errbuf *err, int *rc)
{
	struct handout *s = h_find(h, kind, dev, key);
	size_t i;

	*rc = 0;
	if (s)
		return s;
	if (h->used >= HANDOUT_MAX)
		return NULL;
	if (2 * (h->used + 1) > h->cap && (*rc = h_grow(h, err)))
		return NULL;
	for (i = h_hash(kind, dev, key, h->cap); h->slots[i].kind; i = (i + 1) & (h->cap - 1))
		;
	s = &h->slots[i];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->dev = dev;
	s->key = key;
	h->used++;
	return s;
}

/* Removes @s keeping every probe chain intact (backward shift). */
static void h_del(struct handouts *h, struct handout *s)
{
	size_t i = (size_t)(s - h->slots), j = i;

	h->slots[i].kind = H_FREE;
	h->used--;
	for (;;) {
		size_t home;

		j = (j + 1) & (h->cap - 1);
		if (h->slots[j].kind == H_FREE)
			return;
		home = h_hash(h->slots[j].kind, h->slots[j].dev, h->slots[j].key, h->cap);
		/* move j back to i when its home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			h->slots[i] = h->slots[j];
			h->slots[j].kind = H_FREE;
			i = j;
		}
	}
}

static void h_release(struct handouts *h)
{
	for (size_t i = 0; i < h->cap; i++) {
		struct handout *s = &h->slots[i];

		if (s->kind == H_SG_DMA) {
			free(s->list->sg);
			free(s->list);
		} else if (s->kind == H_IOVA_STATE) {
			free(s->state);
		}
	}
	free(h->slots);
	memset(h, 0, sizeof(*h));
}

/* ---- replay state ---- */

struct rdev {
	char *name;
	bool pci;
	struct engine_dev *dev;   /* current attachment, NULL before one */
	uint32_t domain;          /* trace domain of @dev */
};

struct replay {
	const struct replay_config *cfg;
	struct pt_cfg pt;
	struct engine_domain_config dom_cfg;
	struct engine *e;
	struct engine_domain **domains; /* by trace domain id */
	uint32_t nr_domains;
	struct rdev *devs;              /* by trace device id */
	uint32_t nr_devs;
	struct handouts h;
	uint64_t synth_phys;            /* backing pages of dma_alloc without any */
	struct replay_stats *st;
	/* the map_pages record just read, for the map record after it */
	struct {
		bool valid;
		uint32_t domain;
		uint64_t iova, paddr, size;
		size_t nr;
		struct engine_pgrun runs[TRACE_MAP_PAGES_MAX];
	} pages;
};

static int domain_of(struct replay *r, uint32_t id, struct engine_domain **out,
		     struct errbuf *err)
{
	int rc;

	*out = NULL;
	if (id == 0 || id > r->nr_domains)
		return 0;
	if (!r->domains[id - 1]) {
		rc = engine_domain_add(r->e, &r->dom_cfg, &r->domains[id - 1], err);
		if (rc)
			return rc;
		r->st->domains++;
	}
	*out = r->domains[id - 1];
	return 0;
}

/* The engine device of trace device @id in trace domain @dom (attaching
 * it there when it is attached nowhere, or elsewhere). */
static int attach(struct replay *r, uint32_t id, uint32_t dom, struct engine_dev **out,
		  struct errbuf *err)
{
	struct engine_dev_config dcfg;
	struct engine_domain *d;
	struct rdev *rd;
	int rc;

	*out = NULL;
	if (id == 0 || id > r->nr_devs)
		return 0;
	rd = &r->devs[id - 1];
	if (rd->dev && (dom == 0 || rd->domain == dom)) {
		*out = rd->dev;
		return 0;
	}
	rc = domain_of(r, dom, &d, err);
	if (rc || !d)
		return rc;
	engine_dev_config_default(&dcfg);
	dcfg.pci = rd->pci;
	rc = engine_dev_add(r->e, d, &dcfg, &rd->dev, err);
	if (rc)
		return rc;
	rd->domain = dom;
	r->st->devices++;
	*out = rd->dev;
	return 0;
}

static int define(struct replay *r, const struct trace_record *rec, struct errbuf *err)
{
	if (rec->type == TRACE_REC_DEVICE) {
		struct rdev *p = realloc(r->devs, (r->nr_devs + 1) * sizeof(*p));
		struct dev_ref ref;

		if (!p)
			return err_set(err, -ENOMEM, "out of memory");
		r->devs = p;
		memset(&p[r->nr_devs], 0, sizeof(*p));
		p[r->nr_devs].name = strndup(rec->u.device.name, rec->u.device.len);
		if (!p[r->nr_devs].name)
			return err_set(err, -ENOMEM, "out of memory");
		p[r->nr_devs].pci = dev_ref_parse_bdf(p[r->nr_devs].name, &ref);
		r->nr_devs++;
	} else {
		struct engine_domain **p = realloc(r->domains, (r->nr_domains + 1) * sizeof(*p));

		if (!p)
			return err_set(err, -ENOMEM, "out of memory");
		r->domains = p;
		p[r->nr_domains++] = NULL;
	}
	return 0;
}

static enum engine_dma_dir dir_of(const struct trace_record *rec)
{
	return rec->dir <= TRACE_DIR_DMA_NONE ? (enum engine_dma_dir)rec->dir
					      : ENGINE_DMA_BIDIRECTIONAL;
}

/* An engine error is counted, not fatal: the trace goes on. */
static void refused(struct replay *r, struct errbuf *err)
{
	r->st->engine_errors++;
	err->msg[0] = '\0';
}

static int replay_single_map(struct replay *r, const struct trace_record *rec,
			     struct engine_dev *dev, uint64_t phys, uint64_t size,
			     uint64_t kernel_dma, struct errbuf *err)
{
	struct handout *h;
	uint64_t dma;
	int rc;

	if (engine_dma_map_page(dev, phys, size, dir_of(rec), &dma, err)) {
		refused(r, err);
		return 0;
	}
	if (dma != kernel_dma)
		r->st->dma_addr_differs++;
	h = h_put(&r->h, H_SINGLE, rec->device, kernel_dma, err, &rc);
	if (rc)
		return rc;
	if (h) {
		h->addr = dma;
		h->size = size;
	}
	return 0;
}

/* Unmaps a list and forgets both of its keys. */
static void sg_forget(struct replay *r, uint32_t dev_id, struct engine_dev *dev,
		      struct sg_list *l)
{
	struct handout *h;

	if (dev)
		engine_dma_unmap_sg(dev, l->sg, l->nents);
	h = h_find(&r->h, H_SG_DMA, dev_id, l->dma_key);
	if (h && h->list == l)
		h_del(&r->h, h);
	h = h_find(&r->h, H_SG_PHYS, dev_id, l->phys_key);
	if (h && h->list == l)
		h_del(&r->h, h);
	free(l->sg);
	free(l);
}

static void replay_single_unmap(struct replay *r, const struct trace_record *rec,
				struct engine_dev *dev, uint64_t kernel_dma)
{
	struct handout *h = h_find(&r->h, H_SINGLE, rec->device, kernel_dma);

	if (h) {
		engine_dma_unmap_page(dev, h->addr, h->size);
		h_del(&r->h, h);
		return;
	}
	/* dma_free of a non-contiguous allocation, replayed as a list */
	h = h_find(&r->h, H_SG_DMA, rec->device, kernel_dma);
	if (h)
		sg_forget(r, rec->device, dev, h->list);
	else
		r->st->dma_unmatched++;
}

static int replay_sg_map(struct replay *r, const struct trace_record *rec,
			 struct engine_dev *dev, struct engine_sg *sg, size_t n,
			 uint64_t kernel_dma, struct errbuf *err)
{
	struct sg_list *l;
	struct handout *a, *b;
	int rc, segs;

	segs = engine_dma_map_sg(dev, sg, n, dir_of(rec), err);
	if (segs < 0) {
		free(sg);
		refused(r, err);
		return 0;
	}
	if (sg[0].dma_address != kernel_dma)
		r->st->dma_addr_differs++;
	l = calloc(1, sizeof(*l));
	if (!l) {
		free(sg);
		return err_set(err, -ENOMEM, "out of memory");
	}
	*l = (struct sg_list){ sg, n, kernel_dma, sg[0].phys };
	/* an address the kernel handed out twice (events lost?): the newest wins */
	a = h_find(&r->h, H_SG_DMA, rec->device, l->dma_key);
	if (a)
		sg_forget(r, rec->device, dev, a->list);
	a = h_put(&r->h, H_SG_DMA, rec->device, l->dma_key, err, &rc);
	if (rc || !a) {
		free(sg);
		free(l);
		return rc;
	}
	a->list = l;
	b = h_put(&r->h, H_SG_PHYS, rec->device, l->phys_key, err, &rc);
	if (b)
		b->list = l;
	return rc;
}

static void replay_sg_unmap(struct replay *r, const struct trace_record *rec,
			    struct engine_dev *dev, bool by_phys, uint64_t key)
{
	struct handout *h = h_find(&r->h, by_phys ? H_SG_PHYS : H_SG_DMA, rec->device, key);

	if (h)
		sg_forget(r, rec->device, dev, h->list);
	else
		r->st->dma_unmatched++;
}

/* Input entries of a map_sg.  Without recorded lengths each entry but the
 * last runs to the end of its granule and the last takes what the
 * outputs add up to. */
static struct engine_sg *sg_inputs(struct replay *r, const struct trace_record *rec,
				   struct engine_domain *d)
{
	uint32_t n = rec->u.map_sg.nr_in;
	uint64_t gran = engine_domain_granule(d), total = 0, sum = 0;
	struct engine_sg *sg = calloc(n ? n : 1, sizeof(*sg));

	if (!sg)
		return NULL;
	for (uint32_t i = 0; i < rec->u.map_sg.nr_out; i++)
		total += rec->u.map_sg.out[i].length;
	for (uint32_t i = 0; i < n; i++) {
		sg[i].phys = rec->u.map_sg.in[i].addr + rec->u.map_sg.in[i].offset;
		sg[i].length = rec->u.map_sg.in[i].length;
	}
	if (rec->flags & TRACE_MAP_SG_F_NO_IN_LENGTHS) {
		r->st->sg_lengths_estimated++;
		for (uint32_t i = 0; i + 1 < n; i++) {
			sg[i].length = (uint32_t)(gran - (sg[i].phys & (gran - 1)));
			sum += sg[i].length;
		}
		if (n)
			sg[n - 1].length = (uint32_t)(total > sum && total - sum <= UINT32_MAX
						      ? total - sum
						      : gran - (sg[n - 1].phys & (gran - 1)));
	}
	return sg;
}

static void keep_map_pages(struct replay *r, const struct trace_record *rec)
{
	r->st->map_pages++;
	r->pages.valid = true;
	r->pages.domain = rec->domain;
	r->pages.iova = rec->u.map_pages.iova;
	r->pages.paddr = rec->u.map_pages.paddr;
	r->pages.size = trace_map_pages_size(rec);
	r->pages.nr = rec->u.map_pages.nr;
	for (uint32_t i = 0; i < rec->u.map_pages.nr; i++)
		r->pages.runs[i] = (struct engine_pgrun){ rec->u.map_pages.runs[i].pgsize,
							  rec->u.map_pages.runs[i].count };
}

/* A map record: with the driver's page sizes when the map_pages record
 * before it describes it (and --pgsize-bitmap does not ask for the
 * engine's own choice), else split by the domain's pgsize bitmap. */
static void replay_map(struct replay *r, const struct trace_record *rec,
		       struct engine_domain *d, bool have_pages, struct errbuf *err)
{
	uint32_t prot = (rec->flags & TRACE_F_NO_PROT)
				? ENGINE_PROT_READ | ENGINE_PROT_WRITE : rec->prot;
	const uint64_t iova = rec->u.map.iova, pa = rec->u.map.paddr;
	int rc;

	if (have_pages && (r->pages.domain != rec->domain || r->pages.iova != iova ||
			   r->pages.paddr != pa || r->pages.size != rec->u.map.size))
		have_pages = false;
	if (have_pages && !engine_split_matches(d, iova, pa, r->pages.runs, r->pages.nr))
		r->st->map_pages_differ++;
	if (have_pages && !r->cfg->pgsize_bitmap) {
		rc = engine_map_pages(d, iova, pa, r->pages.runs, r->pages.nr, prot, err);
		if (!rc)
			r->st->map_pages_replayed++;
	} else {
		rc = engine_map(d, iova, pa, rec->u.map.size, prot, err);
	}
	if (rc)
		refused(r, err);
}

static int replay_record(struct replay *r, const struct trace_record *rec, struct errbuf *err)
{
	struct engine_domain *d = NULL;
	struct engine_dev *dev = NULL;
	bool have_pages = r->pages.valid;
	int rc;

	/* a map_pages record speaks for the record right after it only */
	r->pages.valid = false;
	switch (rec->type) {
	case TRACE_REC_MAP_PAGES:
		keep_map_pages(r, rec);
		return 0;
	case TRACE_REC_DEVICE:
	case TRACE_REC_DOMAIN:
		return define(r, rec, err);
	case TRACE_REC_LOST:
		r->st->lost_events += rec->u.lost.count ? rec->u.lost.count : 1;
		return 0;
	case TRACE_REC_GROUP:
	case TRACE_REC_DMA_SYNC:
		return 0;
	case TRACE_REC_DOMAIN_FREE:
		/* the engine keeps the domain; nothing reaches it any more */
		for (uint32_t i = 0; i < r->nr_devs; i++)
			if (r->devs[i].dev && r->devs[i].domain == rec->domain)
				r->devs[i].dev = NULL;
		if (rec->domain && rec->domain <= r->nr_domains)
			r->domains[rec->domain - 1] = NULL;
		return 0;
	default:
		break;
	}
	rc = engine_at(r->e, rec->time_ns, rec->cpu == TRACE_CPU_NONE ? 0 : rec->cpu, err);
	if (rc)
		return rc;

	switch (rec->type) {
	case TRACE_REC_MAP:
	case TRACE_REC_UNMAP:
	case TRACE_REC_IOTLB_SYNC:
		/* same flag bit for map and unmap */
		if (rec->type != TRACE_REC_IOTLB_SYNC && (rec->flags & TRACE_MAP_F_DMA_API)) {
			r->st->skipped_dma_api++;
			return 0;
		}
		rc = domain_of(r, rec->domain, &d, err);
		if (rc)
			return rc;
		if (!d) {
			r->st->skipped_no_domain++;
			return 0;
		}
		break;
	case TRACE_REC_ATTACH:
		return attach(r, rec->device, rec->domain, &dev, err);
	case TRACE_REC_DETACH:
		if (rec->device && rec->device <= r->nr_devs)
			r->devs[rec->device - 1].dev = NULL;
		return 0;
	case TRACE_REC_ACCESS:
		if (rec->domain) {
			rc = domain_of(r, rec->domain, &d, err);
		} else if (rec->device && rec->device <= r->nr_devs &&
			   r->devs[rec->device - 1].dev) {
			d = engine_dev_domain(r->devs[rec->device - 1].dev);
		}
		if (rc)
			return rc;
		if (!d) {
			r->st->skipped_no_domain++;
			return 0;
		}
		break;
	default:
		/* the DMA API: a device in its domain */
		rc = attach(r, rec->device, rec->domain, &dev, err);
		if (rc)
			return rc;
		if (!dev) {
			r->st->skipped_no_domain++;
			return 0;
		}
		break;
	}
	r->st->replayed++;

	switch (rec->type) {
	case TRACE_REC_MAP:
		replay_map(r, rec, d, have_pages, err);
		return 0;
	case TRACE_REC_UNMAP: {
		uint64_t n = engine_unmap(d, rec->u.unmap.iova, rec->u.unmap.size);

		if (rec->u.unmap.unmapped != TRACE_UNKNOWN64 && n != rec->u.unmap.unmapped)
			r->st->unmapped_differs++;
		return 0;
	}
	case TRACE_REC_IOTLB_SYNC:
		if (rec->flags & TRACE_IOTLB_F_ALL) {
			engine_flush_all(d);
		} else {
			struct engine_gather g;

			engine_gather_init(&g);
			g.start = rec->u.iotlb.iova;
			g.end = rec->u.iotlb.iova + (rec->u.iotlb.size ? rec->u.iotlb.size - 1 : 0);
			engine_iotlb_sync(d, &g);
		}
		return 0;
	case TRACE_REC_ACCESS: {
		enum engine_access_result res =
			engine_dma_access(d, rec->u.access.iova,
					  rec->u.access.size ? rec->u.access.size : 1,
					  rec->flags & TRACE_ACCESS_F_WRITE);

		if ((rec->flags & TRACE_ACCESS_F_FAULT) && res == ENGINE_ACCESS_OK)
			r->st->faults_not_reproduced++;
		return 0;
	}
	case TRACE_REC_DMA_MAP:
		if (rec->flags & TRACE_DMA_F_FAILED) {
			r->st->skipped_failed++;
			return 0;
		}
		return replay_single_map(r, rec, dev, rec->u.dma_map.phys, rec->u.dma_map.size,
					 rec->u.dma_map.dma_addr, err);
	case TRACE_REC_DMA_UNMAP:
		replay_single_unmap(r, rec, dev, rec->u.dma_unmap.dma_addr);
		return 0;
	case TRACE_REC_DMA_ALLOC: {
		uint64_t size = rec->u.dma_alloc.size, gran;

		if (rec->flags & TRACE_DMA_ALLOC_F_FAILED) {
			r->st->skipped_failed++;
			return 0;
		}
		gran = engine_domain_granule(engine_dev_domain(dev));
		if (rec->u.dma_alloc.nr_phys > 1) {
			/* non-contiguous: its pages as a list, one IOVA range */
			uint32_t n = rec->u.dma_alloc.nr_phys;
			struct engine_sg *sg = calloc(n, sizeof(*sg));
			uint64_t left = size;

			if (!sg)
				return err_set(err, -ENOMEM, "out of memory");
			for (uint32_t i = 0; i < n; i++) {
				uint64_t len = i + 1 < n ? (size / n + gran - 1) & ~(gran - 1) : left;

				if (len > left)
					len = left;
				sg[i].phys = rec->u.dma_alloc.phys[i];
				sg[i].length = (uint32_t)(len ? len : gran);
				left -= len;
			}
			return replay_sg_map(r, rec, dev, sg, n, rec->u.dma_alloc.dma_addr, err);
		}
		{
			uint64_t phys = rec->u.dma_alloc.nr_phys ? rec->u.dma_alloc.phys[0] : 0;

			if (!rec->u.dma_alloc.nr_phys) {
				/* the event names no memory: pages of our own,
				 * aligned like the buddy allocator's */
				uint64_t align = gran;

				while (align < size && align < (1ull << 30))
					align <<= 1;
				r->synth_phys = (r->synth_phys + align - 1) & ~(align - 1);
				phys = r->synth_phys;
				r->synth_phys += (size + gran - 1) & ~(gran - 1);
			}
			return replay_single_map(r, rec, dev, phys, size,
						 rec->u.dma_alloc.dma_addr, err);
		}
	}
	case TRACE_REC_DMA_FREE:
		replay_single_unmap(r, rec, dev, rec->u.dma_alloc.dma_addr);
		return 0;
	case TRACE_REC_MAP_SG: {
		struct engine_sg *sg;

		if (rec->flags & TRACE_MAP_SG_F_FAILED) {
			r->st->skipped_failed++;
			return 0;
		}
		if ((rec->flags & TRACE_MAP_SG_F_TRUNCATED) || !rec->u.map_sg.nr_in ||
		    !rec->u.map_sg.nr_out) {
			r->st->skipped_truncated++;
			return 0;
		}
		sg = sg_inputs(r, rec, engine_dev_domain(dev));
		if (!sg)
			return err_set(err, -ENOMEM, "out of memory");
		return replay_sg_map(r, rec, dev, sg, rec->u.map_sg.nr_in,
				     rec->u.map_sg.out[0].addr, err);
	}
	case TRACE_REC_UNMAP_SG:
		if (!rec->u.unmap_sg.nr) {
			r->st->dma_unmatched++;
			return 0;
		}
		replay_sg_unmap(r, rec, dev, rec->flags & TRACE_UNMAP_SG_F_PHYS,
				rec->u.unmap_sg.ents[0].addr);
		return 0;
	case TRACE_REC_IOVA_ALLOC: {
		struct engine_iova_state *s;
		struct handout *h;

		if (rec->flags & TRACE_IOVA_F_FAILED) {
			r->st->skipped_failed++;
			return 0;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return err_set(err, -ENOMEM, "out of memory");
		if (!engine_dma_iova_try_alloc(dev, s, rec->u.iova.phys, rec->u.iova.size)) {
			free(s);
			r->st->engine_errors++;
			return 0;
		}
		if (s->addr != rec->u.iova.iova)
			r->st->dma_addr_differs++;
		h = h_put(&r->h, H_IOVA_STATE, rec->device, rec->u.iova.state, err, &rc);
		if (h && h->state) {
			engine_dma_iova_free(dev, h->state);
			free(h->state);
		}
		if (rc || !h) {
			engine_dma_iova_free(dev, s);
			free(s);
			return rc;
		}
		h->state = s;
		return 0;
	}
	case TRACE_REC_IOVA_LINK:
	case TRACE_REC_IOVA_SYNC:
	case TRACE_REC_IOVA_UNLINK:
	case TRACE_REC_IOVA_FREE: {
		struct handout *h = h_find(&r->h, H_IOVA_STATE, rec->device, rec->u.iova.state);

		if (!h) {
			r->st->dma_unmatched++;
			return 0;
		}
		if (rec->type == TRACE_REC_IOVA_LINK) {
			if (engine_dma_iova_link(dev, h->state, rec->u.iova.phys, rec->u.iova.offset,
						 rec->u.iova.size, dir_of(rec), err))
				refused(r, err);
		} else if (rec->type == TRACE_REC_IOVA_SYNC) {
			if (engine_dma_iova_sync(dev, h->state, rec->u.iova.offset, rec->u.iova.size))
				r->st->engine_errors++;
		} else if (rec->type == TRACE_REC_IOVA_UNLINK) {
			engine_dma_iova_unlink(dev, h->state, rec->u.iova.offset, rec->u.iova.size);
		} else {
			if (rec->u.iova.size)
				engine_dma_iova_destroy(dev, h->state, rec->u.iova.size);
			else
				engine_dma_iova_free(dev, h->state);
			free(h->state);
			h_del(&r->h, h);
		}
		return 0;
	}
	default:
		return 0;
	}
}

static int write_image(struct replay *r, struct errbuf *err)
{
	struct replay_attachment *at = calloc(r->nr_devs ? r->nr_devs : 1, sizeof(*at));
	size_t n = 0;
	int rc;

	if (!at)
		return err_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < r->nr_devs; i++) {
		if (!r->devs[i].dev)
			continue;
		at[n].dev = r->devs[i].name;
		at[n].domain = r->devs[i].domain;
		at[n].d = engine_dev_domain(r->devs[i].dev);
		n++;
	}
	rc = replay_image_write(r->cfg->image, r->cfg, at, n,
				&r->st->image_devices_skipped, err);
	free(at);
	return rc;
}

/* The CPUs the trace names: the engine keeps per-CPU state for each. */
static int count_cpus(const char *path, unsigned *cpus, struct errbuf *err)
{
	struct trace_reader rd;
	struct trace_record rec;
	unsigned max = 0;
	int rc;

	rc = trace_reader_open(&rd, path, err);
	if (rc)
		return rc;
	while ((rc = trace_reader_next(&rd, &rec, err)) == 1) {
		if (rec.cpu == TRACE_CPU_NONE)
			continue;
		if (rec.cpu >= ENGINE_MAX_CPUS) {
			rc = err_set(err, -EINVAL, "%s: cpu %u is beyond the %u the engine models",
				     path, rec.cpu, ENGINE_MAX_CPUS);
			break;
		}
		if (rec.cpu > max)
			max = rec.cpu;
	}
	trace_reader_release(&rd);
	*cpus = max + 1;
	return rc;
}

int replay_stats_foreach(const struct replay_stats *s,
			 int (*fn)(void *arg, const char *name, uint64_t value), void *arg)
{
	const struct { const char *name; uint64_t value; } rows[] = {
		{ "replay.records", s->records },
		{ "replay.replayed", s->replayed },
		{ "replay.map_pages", s->map_pages },
		{ "replay.map_pages_replayed", s->map_pages_replayed },
		{ "replay.map_pages_differ", s->map_pages_differ },
		{ "replay.skipped_dma_api", s->skipped_dma_api },
		{ "replay.skipped_no_domain", s->skipped_no_domain },
		{ "replay.skipped_failed", s->skipped_failed },
		{ "replay.skipped_truncated", s->skipped_truncated },
		{ "replay.sg_lengths_estimated", s->sg_lengths_estimated },
		{ "replay.engine_errors", s->engine_errors },
		{ "replay.unmapped_differs", s->unmapped_differs },
		{ "replay.dma_addr_differs", s->dma_addr_differs },
		{ "replay.dma_unmatched", s->dma_unmatched },
		{ "replay.faults_not_reproduced", s->faults_not_reproduced },
		{ "replay.lost_events", s->lost_events },
		{ "replay.domains", s->domains },
		{ "replay.devices", s->devices },
		{ "replay.cpus", s->cpus },
		{ "replay.image_devices_skipped", s->image_devices_skipped },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = fn(arg, rows[i].name, rows[i].value);

		if (rc)
			return rc;
	}
	return 0;
}

int replay_trace(const char *path, const struct replay_config *cfg,
		 struct engine **engine, struct replay_stats *stats, struct errbuf *err)
{
	struct replay r;
	struct engine_config ec;
	struct trace_reader rd;
	struct trace_record rec;
	int rc;

	*engine = NULL;
	memset(stats, 0, sizeof(*stats));
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.st = stats;
	r.synth_phys = 1ull << 40;
	if (cfg->image && !replay_image_supported(cfg->iommu))
		return err_set(err, -ENOTSUP, "-o: images of %s replays cannot be written yet",
			       iommu_kind_name(cfg->iommu));
	for (size_t i = 0; i < cfg->regs.nr_regs; i++)
		if (!replay_reg_known(cfg->iommu, cfg->regs.regs[i].name))
			return err_set(err, -EINVAL, "--reg %s: a %s replay does not read it%s",
				       cfg->regs.regs[i].name, iommu_kind_name(cfg->iommu),
				       cfg->iommu == IOMMU_VTD ? " (cap, ecap)" :
				       cfg->iommu == IOMMU_AMD ? " (efr)" : "");
	rc = domain_template(cfg, &r.pt, &r.dom_cfg, err);
	if (rc)
		return rc;
	/* the upper half of what the tables can address (a 39-bit VT-d
	 * unit cannot map 1 TiB), where a small guest has no memory */
	if (r.pt.oas < 41)
		r.synth_phys = 1ull << (r.pt.oas - 1);
	rc = count_cpus(path, &stats->cpus, err);
	if (rc)
		return rc;
	engine_config_default(&ec);
	ec.nr_cpus = stats->cpus;
	if (cfg->max_findings)
		ec.max_findings = cfg->max_findings;
	ec.check = cfg->check;
	rc = engine_new(&ec, &r.e, err);
	if (rc)
		return rc;
	rc = trace_reader_open(&rd, path, err);
	if (rc)
		goto out;
	while ((rc = trace_reader_next(&rd, &rec, err)) == 1) {
		stats->records++;
		rc = replay_record(&r, &rec, err);
		if (rc) {
			err_prefix(err, rc, "%s: record %llu (%s)", path,
				   (unsigned long long)rd.nr_read, trace_type_name(rec.type));
			break;
		}
	}
	trace_reader_release(&rd);
	if (rc == 0)
		engine_drain(r.e);
	if (rc == 0 && cfg->image)
		rc = write_image(&r, err);
out:
	h_release(&r.h);
	for (uint32_t i = 0; i < r.nr_devs; i++)
		free(r.devs[i].name);
	free(r.devs);
	free(r.domains);
	if (rc < 0) {
		engine_free(r.e);
		return rc;
	}
	*engine = r.e;
	return 0;
}
