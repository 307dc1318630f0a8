/* The -o image of a replay: what the model left mapped, rebuilt by the
 * IOMMU decoder's synth encoder into an ELF image (iommutool-image(5)),
 * so `iommutool dump` reads back every device's final mappings. */
#include "trace/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "decoders/iommu.h"
#include "mem/arena.h"

/* Where the image's table pages go (as synth does). */
#define IMAGE_TABLES_BASE  0x10000000ull
#define IMAGE_TABLES_LIMIT 0x40000000ull

static json_object *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

/* Leaves of one domain, merged into runs contiguous in IOVA and physical
 * address with the same permissions and page size, as long as the
 * encoder's page-size choice (iommu_pgsize over every size the tables
 * hold) splits the run into exactly those leaves again: the image has the
 * replay's page sizes, not the encoder's. */
struct runs {
	json_object *arr;
	uint64_t leaf_sizes;  /* every page size the tables hold */
	uint32_t perm_mask;   /* permissions the spec can say */
	bool open;
	uint64_t iova, phys, size, pgsize;
	uint32_t perm;
	uint64_t sizes_seen;  /* page sizes of the leaves taken */
};

static void run_close(struct runs *r)
{
	static const struct { uint32_t bit; char c; } letters[] = {
		{ PERM_R, 'r' }, { PERM_W, 'w' }, { PERM_X, 'x' }, { PERM_U, 'u' },
		{ PERM_SNP, 's' },
	};
	char perm[8];
	size_t n = 0;
	json_object *m;

	if (!r->open)
		return;
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (r->perm & letters[i].bit)
			perm[n++] = letters[i].c;
	perm[n] = '\0';
	m = json_object_new_object();
	json_object_object_add(m, "iova", hex(r->iova));
	json_object_object_add(m, "phys", hex(r->phys));
	json_object_object_add(m, "size", hex(r->size));
	json_object_object_add(m, "perm", json_object_new_string(perm));
	json_object_array_add(r->arr, m);
	r->open = false;
}

/* Would iommu_pgsize take a page larger than r->pgsize somewhere in the
 * run grown to @size?  Only where iova and phys are congruent modulo the
 * larger size and one whole such page lies inside. */
static bool run_splits_larger(const struct runs *r, uint64_t size)
{
	for (unsigned b = 63; b > 0; b--) {
		uint64_t l = 1ull << b, first;

		if (l <= r->pgsize)
			break;
		if (!(r->leaf_sizes & l) || ((r->iova ^ r->phys) & (l - 1)))
			continue;
		first = (r->iova + l - 1) & ~(l - 1);
		if (first >= r->iova && first - r->iova <= size && size - (first - r->iova) >= l)
			return true;
	}
	return false;
}

static int take_leaf(void *ctx, const struct pt_leaf *leaf)
{
	struct runs *r = ctx;
	uint32_t perm = leaf->perm & r->perm_mask;

	if (!(perm & (PERM_R | PERM_W)))
		return 0;
	r->sizes_seen |= leaf->size;
	if (r->open && perm == r->perm && leaf->size == r->pgsize &&
	    leaf->iova == r->iova + r->size && leaf->phys == r->phys + r->size &&
	    !run_splits_larger(r, r->size + leaf->size)) {
		r->size += leaf->size;
		return 0;
	}
	run_close(r);
	r->open = true;
	r->iova = leaf->iova;
	r->phys = leaf->phys;
	r->size = leaf->size;
	r->pgsize = leaf->size;
	r->perm = perm;
	return 0;
}

/* The mappings of @d into @arr; *@sizes gets the page sizes used. */
static int domain_mappings(struct engine_domain *d, uint32_t perm_mask, json_object *arr,
			   uint64_t *sizes, struct errbuf *err)
{
	const struct pt_mapper *m = engine_domain_mapper(d);
	struct runs r = { .arr = arr, .leaf_sizes = m->cfg->leaf_sizes, .perm_mask = perm_mask };
	struct physmem *mem = NULL;
	struct pt_walk w;
	int rc;

	rc = arena_physmem(m->arena, &mem, err);
	if (rc < 0)
		return rc;
	memset(&w, 0, sizeof(w));
	w.cfg = m->cfg;
	w.mem = mem;
	w.root = m->root;
	w.limits.max_tables = PT_DEFAULT_MAX_TABLES;
	w.limits.max_entries = PT_DEFAULT_MAX_ENTRIES;
	w.leaf = take_leaf;
	w.ctx = &r;
	w.pasid = PASID_NONE;
	rc = pt_walk(&w, err);
	run_close(&r);
	physmem_free(mem);
	*sizes = r.sizes_seen;
	return rc < 0 ? rc : 0;
}

static json_object *page_sizes(uint64_t bitmap)
{
	static const struct { uint64_t size; const char *name; } sizes[] = {
		{ 1ull << 12, "4K" }, { 1ull << 21, "2M" }, { 1ull << 30, "1G" },
	};
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (bitmap & sizes[i].size)
			json_object_array_add(arr, json_object_new_string(sizes[i].name));
	return arr;
}

/* Registers a replay reads of each IOMMU, passed on to synth too. */
static const char *const vtd_regs[] = { "cap", "ecap", NULL };
static const char *const amd_regs[] = { "efr", NULL };
static const char *const no_regs[] = { NULL };

static const char *const *regs_of(enum iommu_kind kind)
{
	return kind == IOMMU_VTD ? vtd_regs : kind == IOMMU_AMD ? amd_regs : no_regs;
}

/* The synth spec of one unit holding every attached device's domain:
 * VT-d second-level, AMD v1 or SMMUv3 stage-1 domains (iommutool-dump(1),
 * Synth spec). */
static int unit_spec(const struct replay_config *cfg, const struct replay_attachment *at,
		     size_t n, json_object **out, unsigned *skipped, struct errbuf *err)
{
	bool vtd = cfg->iommu == IOMMU_VTD, smmu = cfg->iommu == IOMMU_SMMUV3;
	/* VT-d and AMD specs say r, w or rw; SMMUv3 also x, u and s */
	uint32_t perm_mask = smmu ? PERM_R | PERM_W | PERM_X | PERM_U | PERM_SNP
				  : PERM_R | PERM_W;
	json_object *spec = json_object_new_object(), *doms = json_object_new_array();
	json_object *devs = json_object_new_array(), *regs = json_object_new_object();
	uint64_t v;
	int rc = 0;

	json_object_object_add(spec, "iommu", json_object_new_string(iommu_kind_name(cfg->iommu)));
	for (const char *const *r = regs_of(cfg->iommu); *r; r++)
		if (image_unit_reg(&cfg->regs, *r, &v))
			json_object_object_add(regs, *r, hex(v));
	if (json_object_object_length(regs))
		json_object_object_add(spec, "regs", regs);
	else
		json_object_put(regs);
	for (size_t i = 0; i < n && !rc; i++) {
		struct dev_ref ref;
		json_object *dev;
		bool seen = false;

		if (!dev_ref_parse_bdf(at[i].dev, &ref)) {
			++*skipped;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			seen |= at[j].domain == at[i].domain;
		if (!seen) {
			const struct pt_mapper *m = engine_domain_mapper(at[i].d);
			json_object *dom = json_object_new_object(), *maps = json_object_new_array();
			uint64_t sizes = 0;

			rc = domain_mappings(at[i].d, perm_mask, maps, &sizes, err);
			json_object_object_add(dom, "id", json_object_new_uint64(at[i].domain));
			if (vtd) {
				/* the replay's page sizes may be others than the
				 * domain's own (a trace's map_pages) */
				json_object_object_add(dom, "levels",
						       json_object_new_uint64(m->cfg->levels));
				json_object_object_add(dom, "page-sizes",
						       page_sizes(engine_domain_pgsize_bitmap(at[i].d) |
								  sizes));
			} else if (!smmu) {
				json_object_object_add(dom, "format", json_object_new_string("v1"));
				json_object_object_add(dom, "mode",
						       json_object_new_uint64(m->cfg->levels));
			} else {
				json_object_object_add(dom, "ias", json_object_new_uint64(m->cfg->ias));
			}
			json_object_object_add(dom, "mappings", maps);
			json_object_array_add(doms, dom);
		}
		dev = json_object_new_object();
		json_object_object_add(dev, "bdf", json_object_new_string(at[i].dev));
		json_object_object_add(dev, "domain", json_object_new_uint64(at[i].domain));
		json_object_array_add(devs, dev);
	}
	json_object_object_add(spec, "domains", doms);
	json_object_object_add(spec, "devices", devs);
	if (rc) {
		json_object_put(spec);
		return rc;
	}
	*out = spec;
	return 0;
}

bool replay_reg_known(enum iommu_kind kind, const char *name)
{
	const char *const *regs = regs_of(kind);

	for (; *regs; regs++)
		if (strcmp(*regs, name) == 0)
			return true;
	return false;
}

bool replay_image_supported(enum iommu_kind kind)
{
	return kind == IOMMU_VTD || kind == IOMMU_AMD || kind == IOMMU_SMMUV3;
}

int replay_image_write(const char *path, const struct replay_config *cfg,
		       const struct replay_attachment *at, size_t n, unsigned *skipped,
		       struct errbuf *err)
{
	const struct iommu_decoder *dec = iommu_decoder_get(cfg->iommu);
	json_object *spec = NULL;
	struct physmem *view = NULL;
	struct image_info info;
	struct image_unit *unit;
	struct arena *arena;
	int rc;

	*skipped = 0;
	if (!replay_image_supported(cfg->iommu) || !dec || !dec->synth)
		return err_set(err, -ENOTSUP, "-o: images of %s replays cannot be written yet",
			       iommu_kind_name(cfg->iommu));
	rc = unit_spec(cfg, at, n, &spec, skipped, err);
	if (rc)
		return rc;
	image_info_init(&info);
	info.from_note = true;
	arena = arena_new(IMAGE_TABLES_BASE, IMAGE_TABLES_LIMIT);
	unit = arena ? image_info_unit(&info, 0, err) : NULL;
	if (!unit) {
		rc = arena ? -ENOMEM : err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	unit->kind = cfg->iommu;
	rc = dec->synth(spec, arena, unit, err);
	if (rc < 0) {
		err_prefix(err, rc, "-o %s: building the tables", path);
		goto out;
	}
	rc = arena_physmem(arena, &view, err);
	if (rc >= 0)
		rc = image_write(path, view, &info, dec->elf_machine, err);
out:
	physmem_free(view);
	arena_free(arena);
	image_info_release(&info);
	json_object_put(spec);
	return rc < 0 ? rc : 0;
}
