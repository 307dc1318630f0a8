#include "dump/dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Attachments beyond this are an input error: no real IOMMU has more than
 * 2^16 requester ids × a few PASIDs worth printing. */
#define MAX_ATTACHMENTS (1u << 24)

#define X86_MSI_FIRST 0xfee00000ull
#define X86_MSI_LAST  0xfeefffffull

struct attach_vec {
	struct attach *v; /* owned */
	size_t n, cap;
	bool overflow;
};

/* What a walk keeps of its leaves, in IOVA order: each leaf, or, for a
 * sink that takes runs, runs of leaves that continue each other (same
 * permissions and page size, IOVA and physical address contiguous). */
struct leaf_run {
	uint64_t iova, phys;
	uint64_t page_size;   /* of each leaf */
	uint64_t leaves;
	uint64_t entry_addr;  /* of the first leaf */
	uint32_t perm;
	unsigned level;       /* of the first leaf */
};

static uint64_t run_bytes(const struct leaf_run *r)
{
	return r->leaves * r->page_size;
}

struct leaf_vec {
	struct leaf_run *v; /* owned */
	size_t n, cap;
};

/* The first leaf a mapping check hit, reported when the walk is done. */
struct leaf_hit {
	bool hit;
	uint64_t ordinal;     /* leaves received before it */
	struct pt_leaf leaf;
};

/* Receives one walk's leaves: keeps them in @runs and notes what the
 * mapping checks (check_leaves) hit. */
struct walk_out {
	struct leaf_vec *runs;
	bool join;            /* keep runs, not single leaves */
	bool check_msi;       /* x86: the interrupt address window */
	uint64_t received;
	struct leaf_hit msi, write_only;
};

/* One distinct page-table root and what its walk produced. */
struct root_walk {
	size_t first;         /* index of the first attachment using it */
	struct leaf_vec leaves;
	bool walked;
};

struct dump_run {
	const struct dump_params *p;
	struct dump_stats *stats;
	const char *iommu;    /* "vtd", ... for generic finding codes */
	struct attach_vec atts;
};

static int collect_attach(struct decode_ctx *ctx, const struct attach *a)
{
	struct dump_run *run = ctx->attach_ctx;
	struct attach_vec *av = &run->atts;

	if (!dump_filter_device(run->p->filter, &a->dev))
		return 0;
	if (run->p->filter && run->p->filter->pasid_set &&
	    a->pasid != run->p->filter->pasid)
		return 0;
	if (av->n == av->cap) {
		size_t cap = av->cap ? av->cap * 2 : 64;
		struct attach *v;

		if (cap > MAX_ATTACHMENTS) {
			av->overflow = true;
			return -E2BIG;
		}
		v = realloc(av->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		av->v = v;
		av->cap = cap;
	}
	av->v[av->n++] = *a;
	return 0;
}

/* The walker hands leaves over in batches (PT_WALK_BATCH), in IOVA order.
 * A leaf joins the open run when it continues it; runs end at most at
 * 2^64 (leaves are aligned), so a run whose end wrapped to 0 is closed. */
static int push_leaves(void *ctx, const struct pt_leaf *leaves, size_t n)
{
	struct walk_out *wo = ctx;
	struct leaf_vec *lv = wo->runs;
	const bool join = wo->join;
	struct leaf_run cur = { 0 };   /* the open run, stored when it closes */
	bool have = false;
	uint64_t next_iova = 0, next_phys = 0;
	/* leaves come in IOVA order: a batch wholly below or above the
	 * interrupt window has no leaf in it */
	bool msi_open = wo->check_msi && !wo->msi.hit && n &&
			leaves[0].iova <= X86_MSI_LAST &&
			leaves[n - 1].iova + leaves[n - 1].size - 1 >= X86_MSI_FIRST;
	bool write_only_open = !wo->write_only.hit;

	if (lv->n + n > lv->cap) {
		size_t cap = lv->cap ? lv->cap : 256;
		struct leaf_run *v;

		while (cap < lv->n + n)
			cap *= 2;
		v = realloc(lv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		lv->v = v;
		lv->cap = cap;
	}
	if (join && lv->n) { /* reopen the last run */
		cur = lv->v[--lv->n];
		have = true;
		next_iova = cur.iova + run_bytes(&cur);
		next_phys = cur.phys + run_bytes(&cur);
	}
	for (size_t i = 0; i < n;) {
		const struct pt_leaf *l = &leaves[i];
		size_t first = i;

		if (msi_open && l->iova <= X86_MSI_LAST &&
		    l->iova + l->size - 1 >= X86_MSI_FIRST) {
			wo->msi = (struct leaf_hit){ true, wo->received + i, *l };
			msi_open = false;
		}
		if (!(join && have && l->iova == next_iova && l->phys == next_phys &&
		      next_iova && l->size == cur.page_size && l->perm == cur.perm)) {
			/* a new run; the leaves joining it share its perm, so
			 * only its first can be the first write-only leaf */
			if (have)
				lv->v[lv->n++] = cur;
			if (write_only_open && (l->perm & (PERM_R | PERM_W)) == PERM_W) {
				wo->write_only = (struct leaf_hit){ true, wo->received + i, *l };
				write_only_open = false;
			}
			cur = (struct leaf_run){
				.iova = l->iova, .phys = l->phys, .page_size = l->size,
				.leaves = 0, .entry_addr = l->entry_addr,
				.perm = l->perm, .level = l->level,
			};
			have = true;
			next_iova = l->iova;
			next_phys = l->phys;
		}
		/* this leaf and those continuing it, while the window is not
		 * in question */
		do {
			next_iova += cur.page_size;
			next_phys += cur.page_size;
			i++;
		} while (join && !msi_open && i < n && leaves[i].iova == next_iova &&
			 leaves[i].phys == next_phys && next_iova &&
			 leaves[i].size == cur.page_size && leaves[i].perm == cur.perm);
		cur.leaves += i - first;
	}
	if (have)
		lv->v[lv->n++] = cur;
	wo->received += n;
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Same translation = same format instance, root and stage 2. */
static int cmp_translation(const struct attach *a, const struct attach *b)
{
	int c;

	if ((c = cmp_u64(a->mode, b->mode)) || (c = cmp_u64(a->root, b->root)) ||
	    (c = cmp_u64(a->iova_base, b->iova_base)) ||
	    (c = cmp_u64((uintptr_t)a->cfg.fmt, (uintptr_t)b->cfg.fmt)) ||
	    (c = cmp_u64(a->cfg.levels, b->cfg.levels)) ||
	    (c = cmp_u64(a->cfg.ias, b->cfg.ias)) ||
	    (c = cmp_u64(a->cfg.oas, b->cfg.oas)) ||
	    (c = cmp_u64(a->cfg.granule_shift, b->cfg.granule_shift)) ||
	    (c = cmp_u64(a->cfg.flags, b->cfg.flags)) ||
	    (c = cmp_u64(a->cfg.leaf_sizes, b->cfg.leaf_sizes)))
		return c;
	if (a->mode != ATTACH_NESTED)
		return 0;
	if ((c = cmp_u64(a->s2root, b->s2root)) ||
	    (c = cmp_u64((uintptr_t)a->s2cfg.fmt, (uintptr_t)b->s2cfg.fmt)) ||
	    (c = cmp_u64(a->s2cfg.levels, b->s2cfg.levels)) ||
	    (c = cmp_u64(a->s2cfg.flags, b->s2cfg.flags)) ||
	    (c = cmp_u64(a->s2cfg.oas, b->s2cfg.oas)))
		return c;
	return 0;
}

static int cmp_device(const struct attach *a, const struct attach *b)
{
	int c;

	if ((c = cmp_u64(a->dev.segment, b->dev.segment)) ||
	    (c = cmp_u64(a->dev.pci, b->dev.pci)) ||
	    (c = cmp_u64(a->dev.id, b->dev.id)))
		return c;
	/* requests without PASID first */
	if ((c = cmp_u64((uint64_t)(a->pasid + 1), (uint64_t)(b->pasid + 1))))
		return c;
	return cmp_u64((uint64_t)a->domain, (uint64_t)b->domain);
}

static int qsort_device(const void *x, const void *y)
{
	return cmp_device(x, y);
}

static int qsort_translation_idx(const void *x, const void *y, void *base)
{
	const struct attach *atts = base;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int c = cmp_translation(&atts[i], &atts[j]);

	return c ? c : cmp_u64(i, j);
}

/* ---- nested translation: stage-1 output and tables through stage 2 ---- */

struct s2_lookup {
	const struct leaf_vec *s2;
};

/* Stage-2 leaves are kept one by one (never joined). */
static const struct leaf_run *s2_find(const struct leaf_vec *s2, uint64_t ipa)
{
	size_t lo = 0, hi = s2->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct leaf_run *l = &s2->v[mid];

		if (ipa < l->iova)
			hi = mid;
		else if (ipa - l->iova >= run_bytes(l))
			lo = mid + 1;
		else
			return l;
	}
	return NULL;
}

static int s2_xlate(void *ctx, uint64_t ipa, uint64_t *pa)
{
	const struct s2_lookup *lk = ctx;
	const struct leaf_run *l = s2_find(lk->s2, ipa);

	if (!l)
		return -ENOENT;
	*pa = l->phys + (ipa - l->iova);
	return 0;
}

/* Walks one table tree into @out.  A walk that cannot go on (its root
 * unreadable) becomes an error finding; only running out of memory stops
 * the dump. */
static int walk_one(struct dump_run *run, const struct attach *a,
		    const struct pt_cfg *cfg, uint64_t root, uint64_t iova_base,
		    const struct leaf_vec *s2, struct walk_out *out)
{
	struct errbuf err = { "" };
	char code[48];
	struct s2_lookup lk = { s2 };
	struct pt_walk w = {
		.cfg = cfg,
		.mem = run->p->mem,
		.root = root,
		.iova_base = iova_base,
		.limits = run->p->limits,
		.xlate_table = s2 ? s2_xlate : NULL,
		.xlate_ctx = s2 ? &lk : NULL,
		.leaves = push_leaves,
		.ctx = out,
		.findings = run->p->out,
		.path_prefix = a->path,
		.dev = &a->dev,
		.pasid = a->pasid,
	};
	int rc = pt_walk(&w, &err);

	run->stats->roots++;
	run->stats->tables += w.stats.tables;
	run->stats->entries += w.stats.entries;
	run->stats->leaves += w.stats.leaves;
	if (rc == -ENOMEM || rc >= 0)
		return rc;
	snprintf(code, sizeof(code), "%s.walk.failed", run->iommu);
	return emit_finding(run->p->out, SEV_ERROR, code, root, a->path, &a->dev,
			    a->pasid, "%s", err.msg[0] ? err.msg : "page-table walk failed");
}

/* A mapping-check finding about leaf @l: over the interrupt window, or
 * write-only. */
static int report_leaf(struct dump_run *run, const struct attach *a,
		       const struct pt_leaf *l, bool msi)
{
	char code[48];

	snprintf(code, sizeof(code), "%s.map.%s", run->iommu,
		 msi ? "interrupt-range" : "write-only");
	if (msi)
		return emit_finding(run->p->out, SEV_WARNING, code, l->entry_addr,
				    a->path, &a->dev, a->pasid,
				    "iova 0x%llx-0x%llx overlaps the interrupt address range 0xfee00000-0xfeefffff",
				    (unsigned long long)l->iova,
				    (unsigned long long)(l->iova + l->size - 1));
	return emit_finding(run->p->out, SEV_WARNING, code, l->entry_addr,
			    a->path, &a->dev, a->pasid,
			    "write-only mapping at iova 0x%llx (not all hardware supports it)",
			    (unsigned long long)l->iova);
}

/* Checks that hold for a mapping of any format, once per root: the first
 * leaf over the x86 interrupt window and the first write-only leaf, in
 * leaf order (the window first for the same leaf).  A sink error after a
 * leaf's findings ends the checks. */
static int check_leaves(struct dump_run *run, const struct attach *a,
			const struct walk_out *wo)
{
	const struct leaf_hit *msi = &wo->msi, *wr = &wo->write_only;
	int rc;

	if (msi->hit && (!wr->hit || msi->ordinal <= wr->ordinal)) {
		rc = report_leaf(run, a, &msi->leaf, true);
		if (rc && !(wr->hit && wr->ordinal == msi->ordinal))
			return rc;
		return wr->hit ? report_leaf(run, a, &wr->leaf, false) : rc;
	}
	if (wr->hit && (rc = report_leaf(run, a, &wr->leaf, false)))
		return rc;
	return msi->hit ? report_leaf(run, a, &msi->leaf, true) : 0;
}

/* One stored run (a single leaf unless joined) as one mapping record. */
static int emit_run(struct dump_run *run, const struct attach *a,
		    const struct leaf_run *r)
{
	struct mapping m = {
		.iommu = run->p->unit->kind,
		.dev = a->dev,
		.pasid = a->pasid,
		.domain = a->domain,
		.iova = r->iova,
		.phys = r->phys,
		.size = run_bytes(r),
		.page_size = r->page_size,
		.perm = r->perm & ~a->perm_deny,
		.level = r->level,
		.entry_addr = r->entry_addr,
		.leaves = r->leaves,
	};

	return sink_mapping(run->p->out, &m);
}

/* Stage-1 leaves of a nested attachment: output through stage 2. */
static int emit_nested(struct dump_run *run, const struct attach *a,
		       const struct leaf_run *l, const struct leaf_vec *s2)
{
	uint64_t size = run_bytes(l); /* one leaf: nested runs are not joined */
	uint64_t ipa = l->phys, end = l->phys + size;
	char code[48];

	while (ipa < end) {
		const struct leaf_run *s = s2_find(s2, ipa);
		uint64_t chunk, page;
		struct mapping m;
		int rc;

		if (!s) {
			snprintf(code, sizeof(code), "%s.nested.s2-fault", run->iommu);
			return emit_finding(run->p->out, SEV_WARNING, code, l->entry_addr,
					    a->path, &a->dev, a->pasid,
					    "stage-1 output 0x%llx (iova 0x%llx) has no stage-2 translation",
					    (unsigned long long)ipa,
					    (unsigned long long)(l->iova + (ipa - l->phys)));
		}
		chunk = s->iova + run_bytes(s) - ipa;
		if (chunk > end - ipa)
			chunk = end - ipa;
		page = run_bytes(s) < size ? run_bytes(s) : size;
		m = (struct mapping){
			.iommu = run->p->unit->kind, .dev = a->dev,
			.pasid = a->pasid, .domain = a->domain,
			.iova = l->iova + (ipa - l->phys),
			.phys = s->phys + (ipa - s->iova),
			.size = chunk, .page_size = page,
			.perm = l->perm & s->perm & ~a->perm_deny, .level = l->level,
			.entry_addr = l->entry_addr,
		};
		rc = sink_mapping(run->p->out, &m);
		if (rc)
			return rc;
		ipa += chunk;
	}
	return 0;
}

static int emit_attachment(struct dump_run *run, const struct attach *a,
			   const struct root_walk *rw, const struct leaf_vec *s2)
{
	for (size_t i = 0; i < rw->leaves.n; i++) {
		const struct leaf_run *l = &rw->leaves.v[i];
		int rc = s2 ? emit_nested(run, a, l, s2) : emit_run(run, a, l);

		if (rc)
			return rc;
	}
	return 0;
}

static void leaf_vec_release(struct leaf_vec *lv)
{
	free(lv->v);
	lv->v = NULL;
	lv->n = lv->cap = 0;
}

static int walk_and_emit(struct dump_run *run, struct errbuf *err)
{
	struct attach *atts = run->atts.v;
	size_t n = run->atts.n;
	size_t *order = NULL, *group_of = NULL, nr_groups = 0;
	struct root_walk *groups = NULL;
	struct leaf_vec *s2_leaves = NULL;
	char code[48];
	int rc = 0;

	if (n) /* atts is NULL when nothing attached */
		qsort(atts, n, sizeof(*atts), qsort_device);
	order = calloc(n ? n : 1, sizeof(*order));
	group_of = calloc(n ? n : 1, sizeof(*group_of));
	groups = calloc(n ? n : 1, sizeof(*groups));
	s2_leaves = calloc(n ? n : 1, sizeof(*s2_leaves));
	if (!order || !group_of || !groups || !s2_leaves) {
		rc = err_set(err, -ENOMEM, "out of memory grouping %zu attachments", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), qsort_translation_idx, atts);
	for (size_t i = 0; i < n; i++) {
		const struct attach *a = &atts[order[i]];

		if (i == 0 || cmp_translation(&atts[order[i - 1]], a) != 0)
			groups[nr_groups++].first = order[i];
		group_of[order[i]] = nr_groups - 1;
	}

	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct attach *a = &atts[i];
		struct root_walk *rw = &groups[group_of[i]];
		struct leaf_vec *s2 = NULL;

		run->stats->attachments++;
		switch (a->mode) {
		case ATTACH_PASSTHROUGH:
			run->stats->passthrough++;
			snprintf(code, sizeof(code), "%s.device.passthrough", run->iommu);
			rc = emit_finding(run->p->out, SEV_INFO, code, 0, a->path,
					  &a->dev, a->pasid,
					  "device is in pass-through: it can reach all memory");
			continue;
		case ATTACH_BLOCKED:
			run->stats->blocked++;
			continue;
		case ATTACH_NESTED:
			s2 = &s2_leaves[group_of[i]];
			/* fall through */
		case ATTACH_TRANSLATE:
			run->stats->translated++;
			break;
		}
		if (!rw->walked) {
			/* nested leaves go through stage 2 one by one */
			struct walk_out s1 = {
				.runs = &rw->leaves,
				.join = run->p->out->takes_runs && !s2,
				.check_msi = run->p->unit->kind == IOMMU_VTD ||
					     run->p->unit->kind == IOMMU_AMD,
			};

			rw->walked = true;
			if (s2) {
				struct walk_out s2_out = { .runs = s2 };

				rc = walk_one(run, a, &a->s2cfg, a->s2root, 0, NULL, &s2_out);
			}
			if (rc == 0)
				rc = walk_one(run, a, &a->cfg, a->root, a->iova_base,
					      s2, &s1);
			if (rc == 0)
				rc = check_leaves(run, a, &s1);
			if (rc == -ENOMEM) {
				err_set(err, rc, "out of memory walking the tables of %s", a->path);
				goto out;
			}
			if (rc)
				goto out;
		}
		if (run->p->by_domain && rw->first != i)
			continue;
		rc = emit_attachment(run, a, rw, s2);
	}
out:
	for (size_t g = 0; groups && g < nr_groups; g++)
		leaf_vec_release(&groups[g].leaves);
	for (size_t g = 0; s2_leaves && g < n; g++)
		leaf_vec_release(&s2_leaves[g]);
	free(s2_leaves);
	free(groups);
	free(group_of);
	free(order);
	return rc;
}

bool dump_filter_device(const struct dump_filter *f, const struct dev_ref *d)
{
	if (!f || f->nr_devices == 0)
		return true;
	for (size_t i = 0; i < f->nr_devices; i++) {
		const struct dev_ref *w = &f->devices[i];

		if (w->pci == d->pci && w->id == d->id && w->segment == d->segment)
			return true;
	}
	return false;
}

int dump_unit(const struct dump_params *p, struct dump_stats *stats,
	      struct errbuf *err)
{
	const struct iommu_decoder *dec = iommu_decoder_get(p->unit->kind);
	struct dump_run run = { .p = p, .stats = stats };
	struct decode_ctx ctx = {
		.mem = p->mem,
		.unit = p->unit,
		.filter = p->filter,
		.sink = p->out,
		.limits = p->limits,
		.attach = collect_attach,
		.attach_ctx = &run,
	};
	int rc;

	if (!dec)
		return err_set(err, -ENOTSUP, "no decoder for iommu '%s'",
			       iommu_kind_name(p->unit->kind) ? iommu_kind_name(p->unit->kind) : "none");
	run.iommu = dec->name;
	rc = dec->decode(&ctx, err);
	if (rc == -E2BIG && run.atts.overflow)
		rc = err_set(err, -E2BIG, "more than %u translation contexts", MAX_ATTACHMENTS);
	if (rc >= 0)
		rc = walk_and_emit(&run, err);
	free(run.atts.v);
	return rc < 0 ? rc : 0;
}
