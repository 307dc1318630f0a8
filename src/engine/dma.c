/* The DMA API on an IOMMU domain, after drivers/iommu/dma-iommu.c
 * (formats.md §5.6, §5.10): IOVA allocation with the PCI 32-bit-first
 * workaround, map/unmap of one buffer with granule rounding, scatterlists
 * mapped into one IOVA range with segment-boundary padding and
 * __finalise_sg's output segments, and the two-step IOVA API.  Unmaps free
 * their IOVA through the flush queue when the domain has one. */
#include "engine/engine_int.h"

#include <stdlib.h>

#define DMA_BIT_MASK_32 0xffffffffull
/* A list longer than this is refused (it is input-controlled). */
#define DMA_MAX_SG_NENTS (1u << 20)

static uint32_t dma_prot(enum engine_dma_dir dir)
{
	switch (dir) {
	case ENGINE_DMA_BIDIRECTIONAL:
		return ENGINE_PROT_READ | ENGINE_PROT_WRITE;
	case ENGINE_DMA_TO_DEVICE:
		return ENGINE_PROT_READ;
	case ENGINE_DMA_FROM_DEVICE:
		return ENGINE_PROT_WRITE;
	case ENGINE_DMA_NONE:
		break;
	}
	return 0;
}

static inline uint64_t granule_of(const struct engine_domain *d)
{
	return 1ull << d->min_shift;
}

/* round_up(size + off, granule); 0 when it overflows */
static uint64_t align_len(const struct engine_domain *d, uint64_t size,
			  uint64_t off)
{
	uint64_t g = granule_of(d), n = size + off;

	if (n < size || n + g - 1 < n)
		return 0;
	return (n + g - 1) & ~(g - 1);
}

/* iommu_dma_alloc_iova: @size is granule-aligned; returns 0 on failure */
static uint64_t dma_alloc_iova(struct engine_dev *dev, uint64_t size,
			       uint64_t dma_limit)
{
	struct engine_domain *d = dev->d;
	unsigned shift = d->min_shift;
	uint64_t pages = size >> shift, limit = dma_limit, pfn;

	if (!pages)
		return 0;
	if (dev->cfg.bus_dma_limit && (!limit || dev->cfg.bus_dma_limit < limit))
		limit = dev->cfg.bus_dma_limit;
	if (!limit || limit > d->aperture_end)
		limit = d->aperture_end;
	if (dev->pci_32bit_workaround && limit > DMA_BIT_MASK_32) {
		pfn = domain_iova_alloc(d, pages, DMA_BIT_MASK_32 >> shift, false);
		if (pfn)
			return pfn << shift;
		/* from now on this device gets addresses above 4 GiB */
		dev->pci_32bit_workaround = false;
		d->e->rep.iova_32bit_fallbacks++;
	}
	pfn = domain_iova_alloc(d, pages, limit >> shift, true);
	return pfn << shift;
}

static bool dev_queued(const struct engine_dev *dev)
{
	return dev->d->has_fq && !dev->cfg.untrusted;
}

static void op_end(struct engine_dev *dev)
{
	domain_op_end(dev->d);
}

int engine_dma_map_page(struct engine_dev *dev, uint64_t phys, uint64_t size,
			enum engine_dma_dir dir, uint64_t *dma,
			struct errbuf *err)
{
	struct engine_domain *d = dev->d;
	struct engine *e = dev->e;
	uint64_t off = phys & (granule_of(d) - 1), len, iova;
	int ret;

	engine_op_begin(e, ENGINE_OP_DMA_MAP_PAGE);
	*dma = 0;
	len = align_len(d, size, off);
	if (!len) {
		e->rep.dma_map_failures++;
		engine_count_error(e, -EINVAL);
		ret = err_set(err, -EINVAL, "bad dma mapping size 0x%llx at 0x%llx",
			      (unsigned long long)size, (unsigned long long)phys);
		goto out;
	}
	iova = dma_alloc_iova(dev, len, dev->cfg.dma_mask);
	if (!iova) {
		e->rep.dma_map_failures++;
		engine_count_error(e, -ENOMEM);
		ret = err_set(err, -ENOMEM, "no iova space for 0x%llx bytes below 0x%llx",
			      (unsigned long long)len,
			      (unsigned long long)dev->cfg.dma_mask);
		goto out;
	}
	if (len == granule_of(d))
		ret = domain_map_one(d, iova, phys - off, dma_prot(dir),
				     DOMAIN_MAP_SYNC | DOMAIN_MAP_REUSE_CHECKED, err);
	else
		ret = domain_map(d, iova, phys - off, len, dma_prot(dir),
				 DOMAIN_MAP_SYNC | DOMAIN_MAP_REUSE_CHECKED, err);
	if (ret) {
		e->rep.dma_map_failures++;
		domain_iova_free(d, iova >> d->min_shift, len >> d->min_shift);
		goto out;
	}
	*dma = iova + off;
out:
	op_end(dev);
	return ret;
}

/* The unmap both __iommu_dma_unmap and __iommu_dma_iova_unlink do: the
 * granule-aligned [addr, addr+len) into a fresh gather, a warning (@what
 * names the caller) when the driver unmapped another size, and the sync
 * unless the gather is @queued for the flush queue. */
static void dma_unmap_aligned(struct engine_dev *dev, uint64_t addr,
			      uint64_t len, bool queued, const char *what,
			      struct engine_gather *g)
{
	struct engine_domain *d = dev->d;
	uint64_t n;

	engine_gather_init(g);
	g->queued = queued;
	n = domain_unmap(d, addr, len, g);
	if (n != len)
		engine_finding(dev->e, SEV_WARNING, "engine.dma.unmap-size", d,
			       addr, len,
			       "%s of 0x%llx bytes at 0x%llx unmapped 0x%llx",
			       what, (unsigned long long)len,
			       (unsigned long long)addr, (unsigned long long)n);
	if (!g->queued)
		domain_iotlb_sync(d, g, ENGINE_FLUSH_STRICT);
}

/* __iommu_dma_unmap */
static void dma_unmap_range(struct engine_dev *dev, uint64_t dma, uint64_t size)
{
	struct engine_domain *d = dev->d;
	uint64_t off = dma & (granule_of(d) - 1), len;
	struct engine_gather g;

	dma -= off;
	len = align_len(d, size, off);
	if (!len)
		return;
	dma_unmap_aligned(dev, dma, len, dev_queued(dev), "dma unmap", &g);
	domain_free_iova_after_unmap(d, dma, len, &g);
}

void engine_dma_unmap_page(struct engine_dev *dev, uint64_t dma, uint64_t size)
{
	engine_op_begin(dev->e, ENGINE_OP_DMA_UNMAP_PAGE);
	dma_unmap_range(dev, dma, size);
	op_end(dev);
}

/* What iommu_dma_map_sg keeps per input segment between its passes (the
 * kernel stashes it in the sg's dma fields). */
struct sg_work {
	uint64_t iova_off;  /* phys offset inside the granule */
	uint64_t iova_len;  /* rounded length, plus padding added later */
};

/* __finalise_sg: joins mapped segments into DMA segments where the
 * device allows; returns their number. */
static int finalise_sg(struct engine_dev *dev, struct engine_sg *sg,
		       const struct sg_work *w, size_t nents, uint64_t dma_addr)
{
	uint64_t seg_mask = dev->cfg.seg_boundary_mask ? dev->cfg.seg_boundary_mask
						       : UINT64_MAX;
	uint64_t max_len = dev->cfg.max_seg_size, cur_len = 0;
	size_t cur = 0;
	int count = 0;

	for (size_t i = 0; i < nents; i++) {
		uint64_t s_len = sg[i].length;

		sg[i].dma_address = 0;
		sg[i].dma_length = 0;
		sg[i].dma_bus = false;
		if (sg[i].p2p_bus) {
			if (i > 0)
				cur++;
			sg[cur].dma_address = sg[i].phys;
			sg[cur].dma_length = sg[i].length;
			sg[cur].dma_bus = true;
			count++;
			cur_len = 0;
			continue;
		}
		/* join when the last segment is open, this one starts on a
		 * granule, the join is not a boundary and it still fits */
		if (cur_len && !w[i].iova_off && (dma_addr & seg_mask) &&
		    max_len - cur_len >= s_len) {
			cur_len += s_len;
		} else {
			if (i > 0)
				cur++;
			cur_len = s_len;
			count++;
			sg[cur].dma_address = dma_addr + w[i].iova_off;
		}
		sg[cur].dma_length = (uint32_t)cur_len;
		dma_addr += w[i].iova_len;
		if (s_len + w[i].iova_off < w[i].iova_len)
			cur_len = 0; /* ended inside a granule: closed */
	}
	return count;
}

int engine_dma_map_sg(struct engine_dev *dev, struct engine_sg *sg,
		      size_t nents, enum engine_dma_dir dir, struct errbuf *err)
{
	struct engine_domain *d = dev->d;
	struct engine *e = dev->e;
	uint64_t mask = dev->cfg.seg_boundary_mask ? dev->cfg.seg_boundary_mask
						   : UINT64_MAX;
	uint64_t gmask = granule_of(d) - 1, iova_len = 0, iova = 0;
	struct sg_work *w = NULL;
	struct engine_sg *m = NULL;
	size_t prev = SIZE_MAX;
	int64_t mapped;
	int ret;

	engine_op_begin(e, ENGINE_OP_DMA_MAP_SG);
	if (!nents || nents > DMA_MAX_SG_NENTS) {
		ret = err_set(err, -EINVAL, "scatterlist of %zu entries", nents);
		goto fail;
	}
	w = calloc(nents, sizeof(*w));
	m = calloc(nents, sizeof(*m));
	if (!w || !m) {
		ret = err_set(err, -ENOMEM, "out of memory for a %zu-entry scatterlist",
			      nents);
		goto fail;
	}
	/* pass 1: granule-align each segment, pad to segment boundaries */
	for (size_t i = 0; i < nents; i++) {
		uint64_t off = sg[i].phys & gmask, s_len;

		m[i].p2p_bus = sg[i].p2p_bus;
		if (sg[i].p2p_bus)
			continue;
		s_len = (sg[i].length + off + gmask) & ~gmask;
		if (s_len > UINT32_MAX) {
			ret = err_set(err, -EINVAL,
				      "segment %zu (0x%x bytes at 0x%llx) rounds past 4 GiB",
				      i, sg[i].length, (unsigned long long)sg[i].phys);
			goto fail;
		}
		w[i].iova_off = off;
		w[i].iova_len = s_len;
		m[i].phys = sg[i].phys - off;
		m[i].length = (uint32_t)s_len;
		{
			uint64_t pad = (mask - iova_len + 1) & mask;

			/* pad the previous segment so this one starts on a
			 * boundary (the IOVA range is naturally aligned) */
			if (pad && pad < s_len - 1 && prev != SIZE_MAX) {
				m[prev].length += (uint32_t)pad;
				w[prev].iova_len += pad;
				iova_len += pad;
			}
		}
		iova_len += s_len;
		prev = i;
	}
	if (!iova_len) {
		ret = finalise_sg(dev, sg, w, nents, 0);
		goto out;
	}
	iova = dma_alloc_iova(dev, (iova_len + gmask) & ~gmask, dev->cfg.dma_mask);
	if (!iova) {
		ret = err_set(err, -ENOMEM, "no iova space for 0x%llx bytes of scatterlist",
			      (unsigned long long)iova_len);
		goto fail;
	}
	mapped = domain_map_sg(d, iova, m, nents, dma_prot(dir),
			       DOMAIN_MAP_REUSE_CHECKED, err);
	if (mapped < (int64_t)iova_len) {
		ret = mapped < 0 && (mapped == -ENOMEM || mapped == -EREMOTEIO) ?
		      (int)mapped : -EINVAL;
		if (mapped >= 0) {
			struct engine_gather g;

			engine_gather_init(&g);
			domain_unmap(d, iova, (uint64_t)mapped, &g);
			domain_iotlb_sync(d, &g, ENGINE_FLUSH_STRICT);
			err_set(err, ret, "scatterlist mapped 0x%llx of 0x%llx bytes",
				(unsigned long long)mapped,
				(unsigned long long)iova_len);
		}
		domain_iova_free(d, iova >> d->min_shift,
				 ((iova_len + gmask) & ~gmask) >> d->min_shift);
		goto fail;
	}
	ret = finalise_sg(dev, sg, w, nents, iova);
	goto out;
fail:
	e->rep.dma_map_failures++;
	engine_count_error(e, ret);
	for (size_t i = 0; i < nents; i++) {
		sg[i].dma_address = 0;
		sg[i].dma_length = 0;
		sg[i].dma_bus = false;
	}
out:
	free(w);
	free(m);
	op_end(dev);
	return ret;
}

void engine_dma_unmap_sg(struct engine_dev *dev, struct engine_sg *sg,
			 size_t nents)
{
	uint64_t start = 0, end = 0;
	size_t i;

	engine_op_begin(dev->e, ENGINE_OP_DMA_UNMAP_SG);
	/* the list was mapped as one IOVA range: from the first DMA segment
	 * to the end of the last */
	for (i = 0; i < nents; i++) {
		if (sg[i].dma_bus)
			continue;
		if (!sg[i].dma_length)
			break;
		start = sg[i].dma_address;
		break;
	}
	for (; i < nents; i++) {
		if (sg[i].dma_bus)
			continue;
		if (!sg[i].dma_length)
			break;
		end = sg[i].dma_address + sg[i].dma_length;
	}
	if (end)
		dma_unmap_range(dev, start, end - start);
	op_end(dev);
}

/* ---- two-step IOVA API ---- */

bool engine_dma_iova_try_alloc(struct engine_dev *dev,
			       struct engine_iova_state *st, uint64_t phys,
			       uint64_t size)
{
	struct engine_domain *d = dev->d;
	uint64_t off = phys & (granule_of(d) - 1), len, iova = 0;

	engine_op_begin(dev->e, ENGINE_OP_IOVA_TRY_ALLOC);
	st->addr = 0;
	st->size = 0;
	len = size ? align_len(d, size, off) : 0;
	if (len)
		iova = dma_alloc_iova(dev, len, dev->cfg.dma_mask);
	if (iova) {
		st->addr = iova + off;
		st->size = size;
	}
	op_end(dev);
	return iova != 0;
}

int engine_dma_iova_link(struct engine_dev *dev, struct engine_iova_state *st,
			 uint64_t phys, uint64_t offset, uint64_t size,
			 enum engine_dma_dir dir, struct errbuf *err)
{
	struct engine_domain *d = dev->d;
	uint64_t pad = phys & (granule_of(d) - 1), len;
	int ret;

	engine_op_begin(dev->e, ENGINE_OP_IOVA_LINK);
	if (pad && offset > 0) {
		/* only the first link may start inside a granule */
		engine_count_error(dev->e, -EIO);
		ret = err_set(err, -EIO, "link of 0x%llx at offset 0x%llx is not granule aligned",
			      (unsigned long long)phys, (unsigned long long)offset);
	} else if (!(len = align_len(d, size, pad))) {
		engine_count_error(dev->e, -EINVAL);
		ret = err_set(err, -EINVAL, "bad link size 0x%llx", (unsigned long long)size);
	} else {
		ret = domain_map(d, st->addr + offset - pad, phys - pad, len,
				 dma_prot(dir), DOMAIN_MAP_REUSE_CHECKED, err);
	}
	op_end(dev);
	return ret;
}

int engine_dma_iova_sync(struct engine_dev *dev, struct engine_iova_state *st,
			 uint64_t offset, uint64_t size)
{
	struct engine_domain *d = dev->d;
	uint64_t addr = st->addr + offset, pad = addr & (granule_of(d) - 1);

	engine_op_begin(dev->e, ENGINE_OP_IOVA_SYNC);
	domain_sync_map(d, addr - pad, align_len(d, size, pad));
	op_end(dev);
	return 0;
}

/* __iommu_dma_iova_unlink */
static void iova_unlink(struct engine_dev *dev, struct engine_iova_state *st,
			uint64_t offset, uint64_t size, bool free_iova)
{
	struct engine_domain *d = dev->d;
	uint64_t addr = st->addr + offset, pad = addr & (granule_of(d) - 1);
	uint64_t len = align_len(d, size, pad);
	struct engine_gather g;

	if (!len)
		return;
	addr -= pad;
	dma_unmap_aligned(dev, addr, len, free_iova && dev_queued(dev),
			  "iova unlink", &g);
	if (free_iova)
		domain_free_iova_after_unmap(d, addr, len, &g);
}

void engine_dma_iova_unlink(struct engine_dev *dev,
			    struct engine_iova_state *st, uint64_t offset,
			    uint64_t size)
{
	engine_op_begin(dev->e, ENGINE_OP_IOVA_UNLINK);
	iova_unlink(dev, st, offset, size, false);
	op_end(dev);
}

static void iova_state_free(struct engine_dev *dev, struct engine_iova_state *st)
{
	struct engine_domain *d = dev->d;
	uint64_t pad = st->addr & (granule_of(d) - 1);
	uint64_t len = align_len(d, st->size, pad);

	if (st->addr && len)
		domain_iova_free(d, (st->addr - pad) >> d->min_shift,
				 len >> d->min_shift);
}

void engine_dma_iova_destroy(struct engine_dev *dev,
			     struct engine_iova_state *st, uint64_t mapped_len)
{
	engine_op_begin(dev->e, ENGINE_OP_IOVA_DESTROY);
	if (mapped_len)
		iova_unlink(dev, st, 0, mapped_len, true);
	else
		iova_state_free(dev, st);
	op_end(dev);
}

void engine_dma_iova_free(struct engine_dev *dev, struct engine_iova_state *st)
{
	engine_op_begin(dev->e, ENGINE_OP_IOVA_STATE_FREE);
	iova_state_free(dev, st);
	op_end(dev);
}

/* ---- device accesses ---- */

enum engine_access_result engine_dma_access(struct engine_domain *d,
					    uint64_t iova, uint64_t size,
					    bool write)
{
	struct engine *e = d->e;
	enum engine_access_result res = ENGINE_ACCESS_OK;
	uint64_t cur = iova, end = iova + (size ? size : 1);
	struct stale_hit hit;

	engine_op_begin(e, ENGINE_OP_DMA_ACCESS);
	e->rep.dma_accesses++;
	if (end < iova)
		end = UINT64_MAX;
	if (e->cfg.stale && stale_find(&d->stale, iova, end, &hit)) {
		struct pt_leaf leaf;
		bool remapped = pt_lookup(&d->mapper, hit.start, &leaf);

		e->rep.stale_hits++;
		engine_finding(e, remapped ? SEV_ERROR : SEV_WARNING,
			       "engine.dma.stale-hit", d, iova, size,
			       "%s of 0x%llx bytes at 0x%llx hits 0x%llx-0x%llx, unmapped at %llu ns (operation %llu) and not yet invalidated%s",
			       write ? "write" : "read",
			       (unsigned long long)size, (unsigned long long)iova,
			       (unsigned long long)hit.start,
			       (unsigned long long)(hit.end - 1),
			       (unsigned long long)hit.unmap_ns,
			       (unsigned long long)hit.unmap_op,
			       remapped ? "; the iova is mapped again, so the device may use the old translation" : "");
		res = ENGINE_ACCESS_STALE;
		goto out;
	}
	while (cur < end) {
		struct pt_leaf leaf;

		if (!pt_lookup(&d->mapper, cur, &leaf)) {
			e->rep.dma_faults++;
			res = ENGINE_ACCESS_FAULT;
			break;
		}
		if (!(leaf.perm & (write ? PERM_W : PERM_R))) {
			e->rep.dma_perm_faults++;
			res = ENGINE_ACCESS_PERM_FAULT;
			break;
		}
		if (leaf.iova + leaf.size <= cur)
			break;
		cur = leaf.iova + leaf.size;
		if (!cur)
			break;
	}
out:
	domain_op_end(d);
	return res;
}
