/* AMD-Vi synthetic tables: a spec unit object → device table, v1 host
 * tables, GCR3 tables and v2 tables in an arena, written the way Linux
 * 6.1's AMD driver writes them (io_pgtable.c, iommu.c set_dte_entry,
 * init.c for unused device IDs).  The spec is documented in the AMD-VI
 * section of iommutool-dump(1):
 *
 * { "iommu": "amd", "segment": 0, "regs": { "efr": "0x..." },
 *   "devtab-entries": 256, "unused": "blocked" | "zero",
 *   "domains": [ { "id": 1, "format": "v1", "mode": 3,
 *                  "force-coherent": true, "page-sizes": [ "4K", "2M" ],
 *                  "mappings": [ { "iova": .., "phys": .., "size": ..,
 *                                  "perm": "rw" } ] },
 *                { "id": 2, "format": "v2", "levels": 4, ... } ],
 *   "devices": [ { "bdf": "00:03.0", "name": "nvme", "domain": 1,
 *                  "translation": "translated" | "passthrough" |
 *                                 "blocked" | "invalid",
 *                  "pasids": [ { "pasid": 1, "domain": 2 } ],
 *                  "intremap": true } ] } */
#include "decoders/amd.h"
#include "decoders/pt_pgsize.h"

#include <json-c/json.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EFR written when the spec gives none: PreFSup, PPRSup, NXSup, GTSup,
 * IASup, HATS = 10b (6 levels), GLXSup = 01b, PASMax = 01111b (16-bit
 * PASIDs, as Linux supports), GIoSup. */
#define AMD_SYNTH_DEFAULT_EFR \
	(AMD_BIT(0) | AMD_EFR_PPRSUP | AMD_EFR_NXSUP | AMD_EFR_GTSUP | AMD_BIT(6) | \
	 (2ull << AMD_EFR_HATS_SHIFT) | (1ull << AMD_EFR_GLXSUP_SHIFT) | \
	 (15ull << AMD_EFR_PASMAX_SHIFT) | AMD_EFR_GIOSUP)

/* Linux's DTE_INTTABLEN_VALUE: 512 interrupt remapping entries. */
#define AMD_SYNTH_INTTABLEN 9u

struct synth_domain {
	int64_t id;
	bool v2;
	struct pt_cfg cfg;
	struct pt_mapper mapper;
};

struct synth {
	struct arena *arena;
	struct image_unit *unit;
	struct errbuf *err;
	struct synth_domain *domains;
	size_t nr_domains;
	uint64_t efr;
	bool intremap;  /* some device remaps interrupts: Linux then sets IV
			 * (with an empty table) in every other entry too */
};

/* ---- spec helpers ---- */

static int check_keys(const struct json_object *o, const char *where,
		      const char *const *allowed, struct errbuf *err)
{
	json_object_object_foreach((struct json_object *)o, key, val) {
		size_t i;

		(void)val;
		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return err_set(err, -EINVAL, "%s%s%s: unknown member", where,
				       *where ? "." : "", key);
	}
	return 0;
}

/* A JSON number or a "0x..."/decimal string, whole, non-negative. */
static int get_u64(const struct json_object *o, const char *key,
		   const char *where, bool required, uint64_t *out,
		   struct errbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			return err_set(err, -EINVAL, "%s%s%s: missing", where, *where ? "." : "", key);
		return 1;
	}
	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return err_set(err, -EINVAL, "%s%s%s: negative", where, *where ? "." : "", key);
		*out = json_object_get_uint64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;

		if (*s == '-' || *s == '\0')
			return err_set(err, -EINVAL, "%s%s%s: not a number", where, *where ? "." : "", key);
		errno = 0;
		*out = strtoull(s, &end, 0);
		if (errno || *end)
			return err_set(err, -EINVAL, "%s%s%s: not a number", where, *where ? "." : "", key);
		return 0;
	}
	return err_set(err, -EINVAL, "%s%s%s: not a number", where, *where ? "." : "", key);
}

static int get_string(const struct json_object *o, const char *key,
		      const char *where, const char **out, struct errbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 1;
	if (!json_object_is_type(v, json_type_string))
		return err_set(err, -EINVAL, "%s%s%s: not a string", where, *where ? "." : "", key);
	*out = json_object_get_string(v);
	return 0;
}

static int get_bool(const struct json_object *o, const char *key,
		    const char *where, bool *out, struct errbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 1;
	if (!json_object_is_type(v, json_type_boolean))
		return err_set(err, -EINVAL, "%s%s%s: not true or false", where, *where ? "." : "", key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* An optional array member; NULL and 0 when absent. */
static int get_array(const struct json_object *o, const char *key,
		     const char *where, struct json_object **out, size_t *n,
		     struct errbuf *err)
{
	struct json_object *v;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return err_set(err, -EINVAL, "%s%s%s: not an array", where,
			       *where ? "." : "", key);
	*out = v;
	*n = json_object_array_length(v);
	return 0;
}

static int get_object(struct json_object *arr, size_t i, const char *where,
		      struct json_object **out, struct errbuf *err)
{
	*out = json_object_array_get_idx(arr, i);
	if (!*out || !json_object_is_type(*out, json_type_object))
		return err_set(err, -EINVAL, "%s: not an object", where);
	return 0;
}

/* ---- memory ---- */

static void write_u64(struct synth *s, uint64_t pa, uint64_t value)
{
	uint8_t *page = arena_page(s->arena, pa);

	memcpy(page + (pa & 0xfff), &value, 8); /* little-endian host */
}

static uint64_t read_u64(struct synth *s, uint64_t pa)
{
	uint8_t *page = arena_page(s->arena, pa);
	uint64_t value;

	memcpy(&value, page + (pa & 0xfff), 8);
	return value;
}

static int alloc_page(struct synth *s, const char *what, uint64_t *pa)
{
	*pa = arena_alloc_page(s->arena);
	if (!*pa)
		return err_set(s->err, -ENOMEM, "amd: the arena is full (%s)", what);
	return 0;
}

/* ---- domains ---- */

/* "4K", "8K", "2M", "1G", "512G": a power of two of at least 4 KiB;
 * 0 when the string is none of that. */
static uint64_t parse_pgsize(const char *s)
{
	char *end;
	unsigned long long n;
	unsigned shift;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || end[0] == '\0' || end[1] != '\0')
		return 0;
	switch (end[0]) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return 0;
	}
	if (n == 0 || (n & (n - 1)) || n > (1ull << 20))
		return 0;
	n <<= shift;
	return n >= 4096 ? n : 0;
}

/* Narrows a domain's page sizes to "page-sizes" (4K required). */
static int narrow_sizes(struct synth *s, struct synth_domain *dom,
			struct json_object *o, const char *where)
{
	struct json_object *v;
	uint64_t mask = 0;
	char at[96];

	if (!json_object_object_get_ex(o, "page-sizes", &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return err_set(s->err, -EINVAL, "%s.page-sizes: not an array", where);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		uint64_t size = 0;

		snprintf(at, sizeof(at), "%s.page-sizes[%zu]", where, i);
		if (e && json_object_is_type(e, json_type_string))
			size = parse_pgsize(json_object_get_string(e));
		if (!size)
			return err_set(s->err, -EINVAL,
				       "%s: not a page size such as \"4K\" or \"2M\"", at);
		if (!(dom->cfg.leaf_sizes & size))
			return err_set(s->err, -EINVAL, "%s: not a page size of this domain", at);
		mask |= size;
	}
	if (!(mask & 4096))
		return err_set(s->err, -EINVAL, "%s.page-sizes: 4K is required", where);
	dom->cfg.leaf_sizes &= mask;
	return 0;
}

static struct synth_domain *find_domain(struct synth *s, int64_t id)
{
	for (size_t i = 0; i < s->nr_domains; i++)
		if (s->domains[i].id == id)
			return &s->domains[i];
	return NULL;
}

static int parse_perm(const char *p, const char *where, uint32_t *perm,
		      struct errbuf *err)
{
	*perm = 0;
	for (; *p; p++) {
		if (*p == 'r')
			*perm |= PERM_R;
		else if (*p == 'w')
			*perm |= PERM_W;
		else
			return err_set(err, -EINVAL, "%s.perm: '%c' is not r or w", where, *p);
	}
	/* Linux's map_pages refuses a mapping without IR and IW */
	if (!*perm)
		return err_set(err, -EINVAL, "%s.perm: no permission", where);
	return 0;
}

/* Linux 6.1 starts v1 tables with 3 levels and adds one while the last
 * IOVA does not fit (io_pgtable.c increase_address_space); the tree that
 * results is the same as one built with the final mode. */
static unsigned v1_mode_for(uint64_t last_iova)
{
	unsigned mode = 3;

	while (mode < AMD_V1_MAX_LEVELS && (last_iova >> AMD_V1_LEVEL_SHIFT(mode)))
		mode++;
	return mode;
}

static int map_domain(struct synth *s, struct synth_domain *dom,
		      struct json_object *maps, size_t nr, const char *where)
{
	char at[64];

	for (size_t i = 0; i < nr; i++) {
		static const char *const keys[] = { "iova", "phys", "size", "perm", NULL };
		struct json_object *m;
		uint64_t iova, phys, size, mapped = 0;
		const char *perm_s = "rw";
		uint32_t perm;
		int rc;

		snprintf(at, sizeof(at), "%s.mappings[%zu]", where, i);
		if ((rc = get_object(maps, i, at, &m, s->err)) < 0 ||
		    (rc = check_keys(m, at, keys, s->err)) < 0 ||
		    (rc = get_u64(m, "iova", at, true, &iova, s->err)) < 0 ||
		    (rc = get_u64(m, "phys", at, true, &phys, s->err)) < 0 ||
		    (rc = get_u64(m, "size", at, true, &size, s->err)) < 0 ||
		    (rc = get_string(m, "perm", at, &perm_s, s->err)) < 0 ||
		    (rc = parse_perm(perm_s, at, &perm, s->err)) < 0)
			return rc;
		if (size == 0 || iova + (size - 1) < iova)
			return err_set(s->err, -EINVAL, "%s.size: empty or wraps", at);
		if (dom->cfg.ias < 64 && ((iova + (size - 1)) >> dom->cfg.ias))
			return err_set(s->err, -EINVAL,
				       "%s.iova: beyond the %u-bit IOVA space of the domain",
				       at, dom->cfg.ias);
		rc = pt_map_range(&dom->mapper, iova, phys, size, perm, &mapped, s->err);
		if (rc < 0)
			return err_prefix(s->err, rc, "%s", at);
	}
	return 0;
}

static int parse_domain(struct synth *s, struct json_object *o, size_t idx)
{
	static const char *const keys[] = {
		"id", "format", "mode", "levels", "force-coherent", "page-sizes",
		"mappings", NULL,
	};
	struct synth_domain *dom = &s->domains[idx];
	struct json_object *maps;
	size_t nr_maps;
	char where[32];
	const char *format = "v1";
	uint64_t id, levels = 0, last = 0;
	bool fc = true;
	int rc;

	snprintf(where, sizeof(where), "domains[%zu]", idx);
	if ((rc = check_keys(o, where, keys, s->err)) < 0 ||
	    (rc = get_u64(o, "id", where, true, &id, s->err)) < 0 ||
	    (rc = get_string(o, "format", where, &format, s->err)) < 0 ||
	    (rc = get_bool(o, "force-coherent", where, &fc, s->err)) < 0 ||
	    (rc = get_array(o, "mappings", where, &maps, &nr_maps, s->err)) < 0)
		return rc;
	if (id > 0xffff)
		return err_set(s->err, -EINVAL, "%s.id: DomainID is 16 bits", where);
	if (find_domain(s, (int64_t)id))
		return err_set(s->err, -EINVAL, "%s.id: domain %" PRIu64 " defined twice",
			       where, id);
	dom->id = (int64_t)id;
	if (strcmp(format, "v2") == 0) {
		dom->v2 = true;
	} else if (strcmp(format, "v1") != 0) {
		return err_set(s->err, -EINVAL, "%s.format: \"%s\" is not v1 or v2",
			       where, format);
	}

	if (dom->v2) {
		if ((rc = get_u64(o, "levels", where, false, &levels, s->err)) < 0)
			return rc;
		if (rc > 0)
			levels = 4;
		if (levels != 4 && levels != 5)
			return err_set(s->err, -EINVAL, "%s.levels: v2 tables have 4 or 5 levels",
				       where);
		if (json_object_object_get_ex(o, "mode", NULL))
			return err_set(s->err, -EINVAL, "%s.mode: v2 domains take levels", where);
		rc = pt_cfg_init(&dom->cfg, &pt_fmt_x86_64, (unsigned)levels,
				 12 + 9 * (unsigned)levels, AMD_V1_OAS_MAX, 12,
				 PT_X86_F_1G, s->err);
	} else {
		if (json_object_object_get_ex(o, "mode", NULL) &&
		    json_object_object_get_ex(o, "levels", NULL))
			return err_set(s->err, -EINVAL, "%s: mode and levels are the same; give one",
				       where);
		/* "levels" is an alias of "mode", as VT-d domains spell it */
		if ((rc = get_u64(o, "mode", where, false, &levels, s->err)) > 0)
			rc = get_u64(o, "levels", where, false, &levels, s->err);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			/* the highest IOVA any mapping reaches */
			for (size_t i = 0; i < nr_maps; i++) {
				struct json_object *m = json_object_array_get_idx(maps, i);
				uint64_t iova = 0, size = 0;

				if (m && json_object_is_type(m, json_type_object) &&
				    get_u64(m, "iova", where, false, &iova, s->err) == 0 &&
				    get_u64(m, "size", where, false, &size, s->err) == 0 &&
				    size && iova + (size - 1) > last)
					last = iova + (size - 1);
			}
			levels = v1_mode_for(last);
		}
		if (levels < 1 || levels > AMD_V1_MAX_LEVELS)
			return err_set(s->err, -EINVAL, "%s.mode: not in 1..6", where);
		rc = pt_cfg_init(&dom->cfg, &pt_fmt_amd_v1, (unsigned)levels, 0,
				 AMD_V1_OAS_MAX, 12, fc ? PT_AMD_V1_F_FC : 0, s->err);
	}
	if (rc < 0)
		return err_prefix(s->err, rc, "%s", where);
	if ((rc = narrow_sizes(s, dom, o, where)) < 0)
		return rc;
	rc = pt_mapper_init(&dom->mapper, &dom->cfg, s->arena, s->err);
	if (rc < 0)
		return err_prefix(s->err, rc, "%s", where);
	return map_domain(s, dom, maps, nr_maps, where);
}

/* ---- devices ---- */

struct synth_device {
	struct dev_ref dev;
	uint64_t dte[AMD_DTE_QWORDS];
};

/* GCR3 table for @nr PASID entries; sets GV, GLX, GPTLevel, the root. */
static int build_gcr3(struct synth *s, struct synth_device *sd,
		      struct json_object *pasids, size_t nr,
		      const struct synth_domain *untagged, const char *where)
{
	uint64_t root, max_pasid = 0;
	unsigned glx, levels = untagged ? untagged->cfg.levels : 0;
	char at[64];
	int rc;

	for (size_t i = 0; i < nr; i++) {
		struct json_object *p;
		uint64_t pasid;

		snprintf(at, sizeof(at), "%s.pasids[%zu]", where, i);
		if ((rc = get_object(pasids, i, at, &p, s->err)) < 0 ||
		    (rc = get_u64(p, "pasid", at, true, &pasid, s->err)) < 0)
			return rc;
		if (pasid >> AMD_PASID_BITS_MAX)
			return err_set(s->err, -EINVAL, "%s.pasid: PASIDs are 20 bits", at);
		if (pasid > max_pasid)
			max_pasid = pasid;
	}
	glx = max_pasid >> 18 ? 2 : max_pasid >> 9 ? 1 : 0;
	if ((rc = alloc_page(s, "GCR3 table", &root)) < 0)
		return rc;

	for (size_t i = 0; i <= nr; i++) {
		static const char *const keys[] = { "pasid", "domain", NULL };
		const struct synth_domain *dom = untagged;
		uint64_t pasid = 0, id, table = root, slot;

		if (i < nr) {
			struct json_object *p = json_object_array_get_idx(pasids, i);

			snprintf(at, sizeof(at), "%s.pasids[%zu]", where, i);
			if ((rc = check_keys(p, at, keys, s->err)) < 0 ||
			    (rc = get_u64(p, "pasid", at, true, &pasid, s->err)) < 0 ||
			    (rc = get_u64(p, "domain", at, true, &id, s->err)) < 0)
				return rc;
			dom = find_domain(s, (int64_t)id);
			if (!dom || !dom->v2)
				return err_set(s->err, -EINVAL,
					       "%s.domain: %" PRIu64 " is not a v2 domain", at, id);
			if (untagged && pasid == 0)
				return err_set(s->err, -EINVAL,
					       "%s.pasid: PASID 0 serves the device's own v2 domain",
					       at);
		} else if (!untagged) {
			break;
		}
		if (levels && dom->cfg.levels != levels)
			return err_set(s->err, -EINVAL,
				       "%s: all v2 domains of a device need the same levels", where);
		levels = dom->cfg.levels;
		/* Linux's GCR3 walk: index = PASID >> 9 * level & 0x1ff */
		for (unsigned l = glx; l > 0; l--) {
			slot = table + ((pasid >> (9 * l)) & 0x1ff) * 8;
			uint64_t e = read_u64(s, slot);

			if (!(e & AMD_GCR3_VALID)) {
				uint64_t next;

				if ((rc = alloc_page(s, "GCR3 table", &next)) < 0)
					return rc;
				e = next | AMD_GCR3_VALID;
				write_u64(s, slot, e);
			}
			table = e & AMD_GCR3_ADDR;
		}
		slot = table + (pasid & 0x1ff) * 8;
		if (read_u64(s, slot) & AMD_GCR3_VALID)
			return err_set(s->err, -EINVAL, "%s: PASID %" PRIu64 " given twice",
				       where, pasid);
		write_u64(s, slot, (dom->mapper.root & AMD_GCR3_ADDR) | AMD_GCR3_VALID);
	}

	amd_dte_set(sd->dte, 55, 55, 1);              /* GV */
	amd_dte_set(sd->dte, 57, 56, glx);            /* GLX */
	amd_dte_set(sd->dte, 183, 182, levels == 5);  /* GPTLevel */
	amd_dte_set_gcr3_root(sd->dte, root);
	if (untagged)
		amd_dte_set(sd->dte, 54, 54, 1);      /* GIoV: no PASID → PASID 0 */
	return 0;
}

static int build_intremap(struct synth *s, struct synth_device *sd)
{
	uint64_t irt;
	int rc;

	/* 512 × 32-bit IRTEs = 2 KiB; a page keeps Linux's 128-byte alignment */
	if ((rc = alloc_page(s, "interrupt remapping table", &irt)) < 0)
		return rc;
	amd_dte_set(sd->dte, 128, 128, 1);                    /* IV */
	amd_dte_set(sd->dte, 132, 129, AMD_SYNTH_INTTABLEN);  /* IntTabLen */
	amd_dte_set(sd->dte, 179, 134, irt >> 6);             /* IntTableRootPtr */
	amd_dte_set(sd->dte, 189, 188, AMD_INTCTL_REMAP);     /* IntCtl */
	return 0;
}

static int parse_device(struct synth *s, struct json_object *o, size_t idx,
			struct synth_device *sd)
{
	static const char *const keys[] = {
		"bdf", "name", "domain", "translation", "pasids", "intremap", NULL,
	};
	const char *bdf = NULL, *name = "", *translation = NULL;
	const struct synth_domain *dom = NULL;
	struct json_object *pasids;
	size_t nr_pasids;
	struct image_device idev;
	char where[32];
	uint64_t id, pt_domain_id = 0;
	bool intremap = false;
	int rc;

	snprintf(where, sizeof(where), "devices[%zu]", idx);
	if ((rc = check_keys(o, where, keys, s->err)) < 0 ||
	    (rc = get_string(o, "bdf", where, &bdf, s->err)) < 0 ||
	    (rc = get_string(o, "name", where, &name, s->err)) < 0 ||
	    (rc = get_string(o, "translation", where, &translation, s->err)) < 0 ||
	    (rc = get_bool(o, "intremap", where, &intremap, s->err)) < 0 ||
	    (rc = get_array(o, "pasids", where, &pasids, &nr_pasids, s->err)) < 0)
		return rc;
	if (!bdf)
		return err_set(s->err, -EINVAL, "%s.bdf: missing", where);
	if (!dev_ref_parse_bdf(bdf, &sd->dev))
		return err_set(s->err, -EINVAL, "%s.bdf: bad BDF", where);
	if (sd->dev.segment != s->unit->segment)
		return err_set(s->err, -EINVAL, "%s.bdf: segment %04x is not the unit's %04x",
			       where, sd->dev.segment, s->unit->segment);
	if (strlen(name) >= IMAGE_DEV_NAME_LEN)
		return err_set(s->err, -EINVAL, "%s.name: longer than %d bytes", where,
			       IMAGE_DEV_NAME_LEN - 1);
	if ((rc = get_u64(o, "domain", where, false, &id, s->err)) < 0)
		return rc;
	if (rc == 0 && translation && strcmp(translation, "passthrough") == 0) {
		/* pass-through: "domain" is only the DomainID, as in VT-d */
		if (id > 0xffff || nr_pasids)
			return err_set(s->err, -EINVAL,
				       "%s.domain: a pass-through device takes a 16-bit DomainID and no PASIDs",
				       where);
		pt_domain_id = id;
	} else if (rc == 0) {
		dom = find_domain(s, (int64_t)id);
		if (!dom)
			return err_set(s->err, -EINVAL, "%s.domain: no domain %" PRIu64,
				       where, id);
	}
	if (!translation)
		translation = dom || nr_pasids ? "translated" : "blocked";

	memset(sd->dte, 0, sizeof(sd->dte));
	if (strcmp(translation, "invalid") != 0) {
		amd_dte_set(sd->dte, 0, 0, 1);  /* V */
		amd_dte_set(sd->dte, 1, 1, 1);  /* TV */
	}
	if (strcmp(translation, "translated") == 0) {
		if (!dom && !nr_pasids)
			return err_set(s->err, -EINVAL, "%s.domain: translated needs a domain",
				       where);
		amd_dte_set(sd->dte, 61, 61, 1); /* IR */
		amd_dte_set(sd->dte, 62, 62, 1); /* IW */
		if (dom)
			amd_dte_set(sd->dte, 79, 64, (uint64_t)dom->id);
		if (dom && !dom->v2) {
			if (nr_pasids)
				return err_set(s->err, -EINVAL,
					       "%s.pasids: PASIDs need a v2 domain or none (nested tables are not synthesised)",
					       where);
			amd_dte_set(sd->dte, 11, 9, dom->cfg.levels);
			amd_dte_set(sd->dte, 51, 12, dom->mapper.root >> 12);
		} else {
			rc = build_gcr3(s, sd, pasids, nr_pasids, dom, where);
			if (rc < 0)
				return rc;
		}
	} else if (dom || nr_pasids) {
		return err_set(s->err, -EINVAL, "%s: a %s device takes no domain or PASIDs",
			       where, translation);
	} else if (strcmp(translation, "passthrough") == 0) {
		amd_dte_set(sd->dte, 61, 61, 1);
		amd_dte_set(sd->dte, 62, 62, 1);
		amd_dte_set(sd->dte, 79, 64, pt_domain_id);
	} else if (strcmp(translation, "blocked") != 0 &&
		   strcmp(translation, "invalid") != 0) {
		return err_set(s->err, -EINVAL,
			       "%s.translation: \"%s\" is not translated, passthrough, blocked or invalid",
			       where, translation);
	}
	if (intremap && (rc = build_intremap(s, sd)) < 0)
		return rc;
	if (!intremap && s->intremap && strcmp(translation, "invalid") != 0)
		amd_dte_set(sd->dte, 128, 128, 1);             /* IV, no table */

	memset(&idev, 0, sizeof(idev));
	idev.id = sd->dev.id;
	idev.segment = sd->dev.segment;
	idev.pci = true;
	snprintf(idev.name, sizeof(idev.name), "%s", name);
	return image_unit_add_device(s->unit, &idev, s->err);
}

/* ---- the unit ---- */

static int build_devtab(struct synth *s, struct synth_device *devs, size_t nr,
			uint64_t entries, bool blocked_unused)
{
	uint64_t pages = (entries * AMD_DTE_SIZE + 4095) / 4096, base = 0;

	for (uint64_t p = 0; p < pages; p++) {
		uint64_t pa;
		int rc = alloc_page(s, "device table", &pa);

		if (rc < 0)
			return rc;
		if (p == 0)
			base = pa;
		else if (pa != base + p * 4096)
			return err_set(s->err, -ENOMEM,
				       "amd: no %" PRIu64 " contiguous arena pages for the device table",
				       pages);
	}
	entries = pages * 4096 / AMD_DTE_SIZE;
	/* Linux init_device_table_dma: every ID valid, translation on, no
	 * permission; with interrupt remapping also IV with no table */
	if (blocked_unused)
		for (uint64_t i = 0; i < entries; i++) {
			write_u64(s, base + i * AMD_DTE_SIZE, AMD_BIT(0) | AMD_BIT(1));
			if (s->intremap)
				write_u64(s, base + i * AMD_DTE_SIZE + 16, AMD_BIT(0));
		}
	for (size_t i = 0; i < nr; i++)
		for (unsigned q = 0; q < AMD_DTE_QWORDS; q++)
			write_u64(s, base + devs[i].dev.id * AMD_DTE_SIZE + q * 8,
				  devs[i].dte[q]);
	return image_unit_set_reg(s->unit, "dtbase", base | (pages - 1), s->err);
}

int amd_synth(const struct json_object *spec_c, struct arena *arena,
	      struct image_unit *unit, struct errbuf *err)
{
	static const char *const keys[] = {
		"iommu", "segment", "regs", "devtab-entries", "unused", "domains",
		"devices", "comment", NULL,
	};
	struct json_object *spec = (struct json_object *)spec_c;
	struct synth s = { .arena = arena, .unit = unit, .err = err,
			   .efr = AMD_SYNTH_DEFAULT_EFR };
	struct json_object *regs, *domains, *devices;
	struct synth_device *devs = NULL;
	size_t nr_domains, nr_devices;
	uint64_t entries = 0, segment = 0, max_id = 0;
	const char *unused = "blocked";
	int rc;

	if ((rc = check_keys(spec, "", keys, err)) < 0 ||
	    (rc = get_u64(spec, "segment", "", false, &segment, err)) < 0 ||
	    (rc = get_u64(spec, "devtab-entries", "", false, &entries, err)) < 0 ||
	    (rc = get_string(spec, "unused", "", &unused, err)) < 0 ||
	    (rc = get_array(spec, "domains", "", &domains, &nr_domains, err)) < 0 ||
	    (rc = get_array(spec, "devices", "", &devices, &nr_devices, err)) < 0)
		return rc;
	if (segment > 0xffff)
		return err_set(err, -EINVAL, "segment: 16 bits");
	if (strcmp(unused, "blocked") != 0 && strcmp(unused, "zero") != 0)
		return err_set(err, -EINVAL, "unused: \"%s\" is not blocked or zero", unused);
	if (entries > AMD_DEVID_MAX + 1)
		return err_set(err, -EINVAL, "devtab-entries: at most 65536");
	unit->kind = IOMMU_AMD;
	unit->segment = (uint16_t)segment;

	if (json_object_object_get_ex(spec, "regs", &regs)) {
		static const char *const reg_keys[] = { "efr", NULL };

		if (!json_object_is_type(regs, json_type_object))
			return err_set(err, -EINVAL, "regs: not an object");
		if ((rc = check_keys(regs, "regs", reg_keys, err)) < 0 ||
		    (rc = get_u64(regs, "efr", "regs", false, &s.efr, err)) < 0)
			return rc;
	}
	if ((rc = image_unit_set_reg(unit, "efr", s.efr, err)) < 0)
		return rc;

	for (size_t i = 0; i < nr_devices; i++) {
		struct json_object *o = json_object_array_get_idx(devices, i), *v;

		if (o && json_object_object_get_ex(o, "intremap", &v) &&
		    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v))
			s.intremap = true;
	}
	s.domains = calloc(nr_domains ? nr_domains : 1, sizeof(*s.domains));
	devs = calloc(nr_devices ? nr_devices : 1, sizeof(*devs));
	if (!s.domains || !devs) {
		rc = err_set(err, -ENOMEM, "amd: out of memory");
		goto out;
	}
	for (size_t i = 0; i < nr_domains; i++) {
		struct json_object *o;
		char where[32];

		snprintf(where, sizeof(where), "domains[%zu]", i);
		if ((rc = get_object(domains, i, where, &o, err)) < 0 ||
		    (rc = parse_domain(&s, o, i)) < 0)
			goto out;
		s.nr_domains++;
	}
	for (size_t i = 0; i < nr_devices; i++) {
		struct json_object *o;
		char where[32];

		snprintf(where, sizeof(where), "devices[%zu]", i);
		if ((rc = get_object(devices, i, where, &o, err)) < 0 ||
		    (rc = parse_device(&s, o, i, &devs[i])) < 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (devs[j].dev.id == devs[i].dev.id) {
				rc = err_set(err, -EINVAL, "%s.bdf: device listed twice", where);
				goto out;
			}
		if (devs[i].dev.id > max_id)
			max_id = devs[i].dev.id;
	}
	if (entries == 0)
		entries = max_id + 1;
	else if (entries <= max_id) {
		rc = err_set(err, -EINVAL, "devtab-entries: %" PRIu64
			     " entries do not reach DeviceID 0x%04" PRIx64, entries, max_id);
		goto out;
	}
	rc = build_devtab(&s, devs, nr_devices, entries, strcmp(unused, "blocked") == 0);
out:
	free(s.domains);
	free(devs);
	return rc;
}
