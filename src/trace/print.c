/* Text and JSON printers of trace records (see print.h). */
#include "trace/print.h"

#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

/* One output line under construction: text fields are written straight
 * to the stream, JSON fields collected in an object. */
struct line {
	FILE *f;
	json_object *obj;   /* NULL for text */
};

static void put_u64(struct line *l, const char *key, uint64_t v)
{
	if (l->obj)
		json_object_object_add(l->obj, key, json_object_new_uint64(v));
	else
		fprintf(l->f, " %s=%" PRIu64, key, v);
}

static void put_hex(struct line *l, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	if (l->obj)
		json_object_object_add(l->obj, key, json_object_new_string(buf));
	else
		fprintf(l->f, " %s=%s", key, buf);
}

/* Sizes: hex in text (like the addresses), numbers in JSON. */
static void put_size(struct line *l, const char *key, uint64_t v)
{
	if (l->obj)
		json_object_object_add(l->obj, key, json_object_new_uint64(v));
	else
		fprintf(l->f, " %s=0x%" PRIx64, key, v);
}

static void put_str(struct line *l, const char *key, const char *s)
{
	if (l->obj)
		json_object_object_add(l->obj, key, json_object_new_string(s));
	else
		fprintf(l->f, " %s=%s", key, s);
}

static void put_unknown(struct line *l, const char *key)
{
	if (l->obj)
		json_object_object_add(l->obj, key, NULL);
	else
		fprintf(l->f, " %s=?", key);
}

/* Words joined by @sep into @buf; "" when none. */
static void join(char *buf, size_t size, const char *word, char sep)
{
	size_t n = strlen(buf);

	if (n && n + 1 < size)
		buf[n++] = sep;
	snprintf(buf + n, size - n, "%s", word);
}

static void put_flags(struct line *l, const struct trace_record *rec)
{
	char buf[160] = "";
	json_object *arr = l->obj ? json_object_new_array() : NULL;

	for (unsigned b = 0; b < 16; b++) {
		uint16_t flag = (uint16_t)(1u << b);
		const char *name;

		/* shown as prot=? (null in JSON) */
		if (!(rec->flags & flag) || flag == TRACE_F_NO_PROT)
			continue;
		name = trace_flag_name(rec->type, flag);
		if (!name)
			name = "?";
		if (arr)
			json_object_array_add(arr, json_object_new_string(name));
		else
			join(buf, sizeof(buf), name, ',');
	}
	if (arr) {
		if (json_object_array_length(arr))
			json_object_object_add(l->obj, "flags", arr);
		else
			json_object_put(arr);
	} else if (buf[0]) {
		fprintf(l->f, " flags=%s", buf);
	}
}

static void put_prot(struct line *l, const struct trace_record *rec)
{
	static const char *const names[] = { "r", "w", "cache", "noexec", "mmio", "priv" };
	char buf[64] = "";

	if (rec->flags & TRACE_F_NO_PROT) {
		put_unknown(l, "prot");
		return;
	}
	for (unsigned b = 0; b < 6; b++) {
		if (!(rec->prot & (1u << b)))
			continue;
		/* "rw" reads better than "r,w" */
		if (b == 1 && (rec->prot & 1))
			strcat(buf, "w");
		else
			join(buf, sizeof(buf), names[b], ',');
	}
	put_str(l, "prot", buf[0] ? buf : "none");
}

static void put_attrs(struct line *l, const char *key, uint64_t attrs)
{
	char buf[256] = "";

	if (l->obj) {
		json_object *arr = json_object_new_array();

		for (unsigned b = 0; b < 64; b++) {
			const char *name = trace_attr_name(b);
			char hex[24];

			if (!(attrs & (1ull << b)))
				continue;
			if (!name) {
				snprintf(hex, sizeof(hex), "0x%llx", 1ull << b);
				name = hex;
			}
			json_object_array_add(arr, json_object_new_string(name));
		}
		json_object_object_add(l->obj, key, arr);
		return;
	}
	if (!attrs)
		return;
	for (unsigned b = 0; b < 64; b++) {
		const char *name = trace_attr_name(b);
		char hex[24];

		if (!(attrs & (1ull << b)))
			continue;
		if (!name) {
			snprintf(hex, sizeof(hex), "0x%llx", 1ull << b);
			name = hex;
		}
		join(buf, sizeof(buf), name, '|');
	}
	fprintf(l->f, " %s=%s", key, buf);
}

enum seg_kind { SEG_PHYS_OFFSET, SEG_ADDR_LEN, SEG_ADDR };

static void put_segs(struct line *l, const char *key, const struct trace_seg *s,
		     uint32_t nr, enum seg_kind kind)
{
	if (l->obj) {
		json_object *arr = json_object_new_array();

		for (uint32_t i = 0; i < nr; i++) {
			json_object *o = json_object_new_object();
			char buf[24];

			snprintf(buf, sizeof(buf), "0x%" PRIx64, s[i].addr);
			json_object_object_add(o, "addr", json_object_new_string(buf));
			if (kind != SEG_ADDR)
				json_object_object_add(o, "length", json_object_new_uint64(s[i].length));
			if (kind == SEG_PHYS_OFFSET)
				json_object_object_add(o, "offset", json_object_new_uint64(s[i].offset));
			json_object_array_add(arr, o);
		}
		json_object_object_add(l->obj, key, arr);
		return;
	}
	fprintf(l->f, " %s={", key);
	for (uint32_t i = 0; i < nr; i++) {
		fprintf(l->f, "%s0x%" PRIx64, i ? "," : "", s[i].addr);
		if (kind == SEG_PHYS_OFFSET && s[i].offset)
			fprintf(l->f, "+0x%x", s[i].offset);
		if (kind != SEG_ADDR)
			fprintf(l->f, ":0x%x", s[i].length);
	}
	fputc('}', l->f);
}

static void put_phys_list(struct line *l, const uint64_t *phys, uint32_t nr)
{
	if (l->obj) {
		json_object *arr = json_object_new_array();

		for (uint32_t i = 0; i < nr; i++) {
			char buf[24];

			snprintf(buf, sizeof(buf), "0x%" PRIx64, phys[i]);
			json_object_array_add(arr, json_object_new_string(buf));
		}
		json_object_object_add(l->obj, "phys", arr);
		return;
	}
	if (!nr)
		return;
	fprintf(l->f, " phys={");
	for (uint32_t i = 0; i < nr; i++)
		fprintf(l->f, "%s0x%" PRIx64, i ? "," : "", phys[i]);
	fputc('}', l->f);
}

/* The runs of a map_pages record: {0x1000*16,0x200000*2} in text. */
static void put_runs(struct line *l, const struct trace_record *r)
{
	if (l->obj) {
		json_object *arr = json_object_new_array();

		for (uint32_t i = 0; i < r->u.map_pages.nr; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "pgsize",
					       json_object_new_uint64(r->u.map_pages.runs[i].pgsize));
			json_object_object_add(o, "pgcount",
					       json_object_new_uint64(r->u.map_pages.runs[i].count));
			json_object_array_add(arr, o);
		}
		json_object_object_add(l->obj, "pages", arr);
		return;
	}
	fprintf(l->f, " pages={");
	for (uint32_t i = 0; i < r->u.map_pages.nr; i++)
		fprintf(l->f, "%s0x%" PRIx64 "*%" PRIu64, i ? "," : "",
			r->u.map_pages.runs[i].pgsize, r->u.map_pages.runs[i].count);
	fputc('}', l->f);
}

static void put_body(struct line *l, const struct trace_record *r)
{
	switch (r->type) {
	case TRACE_REC_MAP:
		put_hex(l, "iova", r->u.map.iova);
		put_hex(l, "paddr", r->u.map.paddr);
		put_size(l, "size", r->u.map.size);
		break;
	case TRACE_REC_MAP_PAGES:
		put_hex(l, "iova", r->u.map_pages.iova);
		put_hex(l, "paddr", r->u.map_pages.paddr);
		put_runs(l, r);
		break;
	case TRACE_REC_UNMAP:
		put_hex(l, "iova", r->u.unmap.iova);
		put_size(l, "size", r->u.unmap.size);
		if (r->u.unmap.unmapped == TRACE_UNKNOWN64)
			put_unknown(l, "unmapped");
		else
			put_size(l, "unmapped", r->u.unmap.unmapped);
		break;
	case TRACE_REC_MAP_SG:
		put_u64(l, "nents", r->u.map_sg.full_nents);
		put_u64(l, "ents", r->u.map_sg.full_ents);
		put_attrs(l, "attrs", r->u.map_sg.attrs);
		put_segs(l, "in", r->u.map_sg.in, r->u.map_sg.nr_in,
			 (r->flags & TRACE_MAP_SG_F_NO_IN_LENGTHS) ? SEG_ADDR : SEG_PHYS_OFFSET);
		put_segs(l, "out", r->u.map_sg.out, r->u.map_sg.nr_out, SEG_ADDR_LEN);
		break;
	case TRACE_REC_UNMAP_SG:
		put_attrs(l, "attrs", r->u.unmap_sg.attrs);
		put_segs(l, (r->flags & TRACE_UNMAP_SG_F_PHYS) ? "phys" : "dma",
			 r->u.unmap_sg.ents, r->u.unmap_sg.nr,
			 (r->flags & TRACE_UNMAP_SG_F_NO_LENGTHS) ? SEG_ADDR : SEG_ADDR_LEN);
		break;
	case TRACE_REC_DMA_MAP:
		put_hex(l, "dma_addr", r->u.dma_map.dma_addr);
		put_size(l, "size", r->u.dma_map.size);
		put_hex(l, "phys", r->u.dma_map.phys);
		put_attrs(l, "attrs", r->u.dma_map.attrs);
		break;
	case TRACE_REC_DMA_UNMAP:
		put_hex(l, "dma_addr", r->u.dma_unmap.dma_addr);
		put_size(l, "size", r->u.dma_unmap.size);
		put_attrs(l, "attrs", r->u.dma_unmap.attrs);
		break;
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE:
		put_hex(l, "dma_addr", r->u.dma_alloc.dma_addr);
		put_size(l, "size", r->u.dma_alloc.size);
		put_attrs(l, "attrs", r->u.dma_alloc.attrs);
		put_phys_list(l, r->u.dma_alloc.phys, r->u.dma_alloc.nr_phys);
		break;
	case TRACE_REC_DMA_SYNC:
		put_segs(l, "dma", r->u.dma_sync.ents, r->u.dma_sync.nr, SEG_ADDR_LEN);
		break;
	case TRACE_REC_IOVA_ALLOC:
		put_u64(l, "state", r->u.iova.state);
		put_hex(l, "iova", r->u.iova.iova);
		put_hex(l, "phys", r->u.iova.phys);
		put_size(l, "size", r->u.iova.size);
		break;
	case TRACE_REC_IOVA_LINK:
		put_u64(l, "state", r->u.iova.state);
		put_size(l, "offset", r->u.iova.offset);
		put_hex(l, "phys", r->u.iova.phys);
		put_size(l, "size", r->u.iova.size);
		put_attrs(l, "attrs", r->u.iova.attrs);
		break;
	case TRACE_REC_IOVA_SYNC:
		put_u64(l, "state", r->u.iova.state);
		put_size(l, "offset", r->u.iova.offset);
		put_size(l, "size", r->u.iova.size);
		break;
	case TRACE_REC_IOVA_UNLINK:
		put_u64(l, "state", r->u.iova.state);
		put_size(l, "offset", r->u.iova.offset);
		put_size(l, "size", r->u.iova.size);
		put_attrs(l, "attrs", r->u.iova.attrs);
		break;
	case TRACE_REC_IOVA_FREE:
		put_u64(l, "state", r->u.iova.state);
		put_size(l, "mapped_len", r->u.iova.size);
		break;
	case TRACE_REC_IOTLB_SYNC:
		if (!(r->flags & TRACE_IOTLB_F_ALL)) {
			put_hex(l, "iova", r->u.iotlb.iova);
			put_size(l, "size", r->u.iotlb.size);
		}
		break;
	case TRACE_REC_ACCESS:
		put_hex(l, "iova", r->u.access.iova);
		if (r->u.access.size) /* a reported fault does not say */
			put_size(l, "size", r->u.access.size);
		if (r->flags & TRACE_ACCESS_F_PASID)
			put_u64(l, "pasid", r->u.access.pasid);
		break;
	case TRACE_REC_GROUP:
		put_u64(l, "group", r->u.group.group);
		break;
	case TRACE_REC_LOST:
		if (r->u.lost.count)
			put_u64(l, "count", r->u.lost.count);
		else
			put_unknown(l, "count");
		break;
	case TRACE_REC_DOMAIN:
		put_str(l, "origin", trace_domain_origin_name(r->u.domain.origin));
		if (r->u.domain.handle)
			put_hex(l, "handle", r->u.domain.handle);
		break;
	}
}

int trace_print_record(FILE *out, bool json, const struct trace_record *rec,
		       trace_device_lookup lookup, const void *ctx)
{
	struct line l = { out, NULL };
	const char *type = trace_type_name(rec->type);
	const char *dev = rec->device ? lookup(ctx, rec->device) : NULL;

	if (json) {
		l.obj = json_object_new_object();
		put_u64(&l, "time_ns", rec->time_ns);
		if (rec->cpu != TRACE_CPU_NONE)
			put_u64(&l, "cpu", rec->cpu);
		if (rec->pid != TRACE_PID_NONE)
			put_u64(&l, "pid", rec->pid);
		put_str(&l, "type", type ? type : "?");
	} else {
		fprintf(out, "%" PRIu64 ".%09" PRIu64, rec->time_ns / 1000000000u,
			rec->time_ns % 1000000000u);
		if (rec->cpu != TRACE_CPU_NONE)
			fprintf(out, " cpu=%" PRIu32, rec->cpu);
		if (rec->pid != TRACE_PID_NONE)
			fprintf(out, " pid=%" PRIu32, rec->pid);
		fprintf(out, " %s", type ? type : "?");
	}

	switch (rec->type) {
	case TRACE_REC_DEVICE:
		put_u64(&l, "id", rec->device);
		put_str(&l, "name", dev ? dev : "?");
		break;
	case TRACE_REC_DOMAIN:
		put_u64(&l, "id", rec->domain);
		if (dev)
			put_str(&l, "dev", dev);
		break;
	default:
		if (rec->domain)
			put_u64(&l, "domain", rec->domain);
		if (dev)
			put_str(&l, "dev", dev);
		if (rec->dir != TRACE_DIR_NONE)
			put_str(&l, "dir", trace_dir_name(rec->dir));
		if (rec->type == TRACE_REC_MAP || rec->prot ||
		    (rec->flags & TRACE_F_NO_PROT))
			put_prot(&l, rec);
		break;
	}
	put_body(&l, rec);
	put_flags(&l, rec);

	if (json) {
		fputs(json_object_to_json_string_ext(l.obj, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE), out);
		json_object_put(l.obj);
	}
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
