/* Encoding, decoding and checking of trace.bin records (format.h). */
#include "trace/trace.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	[TRACE_REC_MAP] = "map",
	[TRACE_REC_UNMAP] = "unmap",
	[TRACE_REC_MAP_SG] = "map_sg",
	[TRACE_REC_UNMAP_SG] = "unmap_sg",
	[TRACE_REC_DMA_MAP] = "dma_map",
	[TRACE_REC_DMA_UNMAP] = "dma_unmap",
	[TRACE_REC_DMA_ALLOC] = "dma_alloc",
	[TRACE_REC_DMA_FREE] = "dma_free",
	[TRACE_REC_DMA_SYNC] = "dma_sync",
	[TRACE_REC_IOVA_ALLOC] = "iova_alloc",
	[TRACE_REC_IOVA_LINK] = "iova_link",
	[TRACE_REC_IOVA_SYNC] = "iova_sync",
	[TRACE_REC_IOVA_UNLINK] = "iova_unlink",
	[TRACE_REC_IOVA_FREE] = "iova_free",
	[TRACE_REC_ATTACH] = "attach",
	[TRACE_REC_DETACH] = "detach",
	[TRACE_REC_IOTLB_SYNC] = "iotlb_sync",
	[TRACE_REC_ACCESS] = "access",
	[TRACE_REC_GROUP] = "group",
	[TRACE_REC_LOST] = "lost",
	[TRACE_REC_DOMAIN_FREE] = "domain_free",
	[TRACE_REC_DEVICE] = "device",
	[TRACE_REC_DOMAIN] = "domain",
};
#define NR_TYPE_NAMES (sizeof(type_names) / sizeof(type_names[0]))

/* Flags each type may carry besides TRACE_F_NO_PROT. */
static uint16_t type_flags(uint16_t type)
{
	switch (type) {
	case TRACE_REC_MAP: return TRACE_MAP_F_DRIVER | TRACE_MAP_F_DMA_API;
	case TRACE_REC_UNMAP: return TRACE_UNMAP_F_DRIVER | TRACE_UNMAP_F_DMA_API;
	case TRACE_REC_MAP_SG:
		return TRACE_MAP_SG_F_TRUNCATED | TRACE_MAP_SG_F_FAILED |
		       TRACE_MAP_SG_F_NO_IN_LENGTHS;
	case TRACE_REC_UNMAP_SG:
		return TRACE_UNMAP_SG_F_PHYS | TRACE_UNMAP_SG_F_NO_LENGTHS;
	case TRACE_REC_DMA_MAP: return TRACE_DMA_F_RESOURCE | TRACE_DMA_F_FAILED;
	case TRACE_REC_DMA_UNMAP: return TRACE_DMA_F_RESOURCE;
	case TRACE_REC_DMA_ALLOC:
		return TRACE_DMA_ALLOC_F_PAGES | TRACE_DMA_ALLOC_F_SGT |
		       TRACE_DMA_ALLOC_F_FAILED;
	case TRACE_REC_DMA_FREE: return TRACE_DMA_ALLOC_F_PAGES | TRACE_DMA_ALLOC_F_SGT;
	case TRACE_REC_DMA_SYNC:
		return TRACE_DMA_SYNC_F_FOR_DEVICE | TRACE_DMA_SYNC_F_SG;
	case TRACE_REC_IOVA_ALLOC: return TRACE_IOVA_F_FAILED;
	case TRACE_REC_IOTLB_SYNC: return TRACE_IOTLB_F_ALL;
	case TRACE_REC_ACCESS:
		return TRACE_ACCESS_F_WRITE | TRACE_ACCESS_F_FAULT | TRACE_ACCESS_F_PASID;
	case TRACE_REC_GROUP: return TRACE_GROUP_F_REMOVE;
	default: return 0;
	}
}

/* Optional types (TRACE_REC_OPTIONAL and up) this version knows. */
static const struct {
	uint16_t type;
	const char *name;
} optional_names[] = {
	{ TRACE_REC_MAP_PAGES, "map_pages" },
};
#define NR_OPTIONAL_NAMES (sizeof(optional_names) / sizeof(optional_names[0]))

const char *trace_type_name(uint16_t type)
{
	if (type < NR_TYPE_NAMES)
		return type_names[type];
	for (size_t i = 0; i < NR_OPTIONAL_NAMES; i++)
		if (optional_names[i].type == type)
			return optional_names[i].name;
	return NULL;
}

uint16_t trace_type_parse(const char *name)
{
	for (uint16_t t = 1; t < NR_TYPE_NAMES; t++)
		if (type_names[t] && strcmp(type_names[t], name) == 0)
			return t;
	for (size_t i = 0; i < NR_OPTIONAL_NAMES; i++)
		if (strcmp(optional_names[i].name, name) == 0)
			return optional_names[i].type;
	return 0;
}

const char *trace_dir_name(uint8_t dir)
{
	static const char *const names[] = { "bidirectional", "to_device",
					     "from_device", "none" };
	return dir < 4 ? names[dir] : NULL;
}

const char *trace_domain_origin_name(uint32_t origin)
{
	static const char *const names[] = {
		[TRACE_DOMAIN_ORIGIN_HANDLE] = "handle",
		[TRACE_DOMAIN_ORIGIN_DEVICE] = "device",
		[TRACE_DOMAIN_ORIGIN_SINGLE] = "single",
		[TRACE_DOMAIN_ORIGIN_GENERATED] = "generated",
	};
	return origin >= 1 && origin < TRACE_DOMAIN_ORIGIN_MAX ? names[origin] : NULL;
}

static const struct {
	uint64_t bit;
	const char *name;
} attr_names[] = {
	{ TRACE_ATTR_WEAK_ORDERING, "WEAK_ORDERING" },
	{ TRACE_ATTR_WRITE_COMBINE, "WRITE_COMBINE" },
	{ TRACE_ATTR_NO_KERNEL_MAPPING, "NO_KERNEL_MAPPING" },
	{ TRACE_ATTR_SKIP_CPU_SYNC, "SKIP_CPU_SYNC" },
	{ TRACE_ATTR_FORCE_CONTIGUOUS, "FORCE_CONTIGUOUS" },
	{ TRACE_ATTR_ALLOC_SINGLE_PAGES, "ALLOC_SINGLE_PAGES" },
	{ TRACE_ATTR_NO_WARN, "NO_WARN" },
	{ TRACE_ATTR_PRIVILEGED, "PRIVILEGED" },
	{ TRACE_ATTR_MMIO, "MMIO" },
	{ TRACE_ATTR_UNKNOWN, "UNKNOWN" },
};

const char *trace_attr_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (bit < 64 && attr_names[i].bit == 1ull << bit)
			return attr_names[i].name;
	return NULL;
}

uint64_t trace_attr_parse(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (strlen(attr_names[i].name) == len &&
		    memcmp(attr_names[i].name, name, len) == 0)
			return attr_names[i].bit;
	return 0;
}

const char *trace_flag_name(uint16_t type, uint16_t flag)
{
	if (flag == TRACE_F_NO_PROT)
		return "no_prot";
	switch (type) {
	case TRACE_REC_MAP:
	case TRACE_REC_UNMAP:
		return flag == TRACE_MAP_F_DRIVER ? "driver" :
		       flag == TRACE_MAP_F_DMA_API ? "dma_api" : NULL;
	case TRACE_REC_MAP_SG:
		return flag == TRACE_MAP_SG_F_TRUNCATED ? "truncated" :
		       flag == TRACE_MAP_SG_F_FAILED ? "failed" :
		       flag == TRACE_MAP_SG_F_NO_IN_LENGTHS ? "no_in_lengths" : NULL;
	case TRACE_REC_UNMAP_SG:
		return flag == TRACE_UNMAP_SG_F_PHYS ? "phys" :
		       flag == TRACE_UNMAP_SG_F_NO_LENGTHS ? "no_lengths" : NULL;
	case TRACE_REC_DMA_MAP:
	case TRACE_REC_DMA_UNMAP:
		return flag == TRACE_DMA_F_RESOURCE ? "resource" :
		       flag == TRACE_DMA_F_FAILED ? "failed" : NULL;
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE:
		return flag == TRACE_DMA_ALLOC_F_PAGES ? "pages" :
		       flag == TRACE_DMA_ALLOC_F_SGT ? "sgt" :
		       flag == TRACE_DMA_ALLOC_F_FAILED ? "failed" : NULL;
	case TRACE_REC_DMA_SYNC:
		return flag == TRACE_DMA_SYNC_F_FOR_DEVICE ? "for_device" :
		       flag == TRACE_DMA_SYNC_F_SG ? "sg" : NULL;
	case TRACE_REC_IOVA_ALLOC:
		return flag == TRACE_IOVA_F_FAILED ? "failed" : NULL;
	case TRACE_REC_IOTLB_SYNC:
		return flag == TRACE_IOTLB_F_ALL ? "all" : NULL;
	case TRACE_REC_ACCESS:
		return flag == TRACE_ACCESS_F_WRITE ? "write" :
		       flag == TRACE_ACCESS_F_FAULT ? "fault" :
		       flag == TRACE_ACCESS_F_PASID ? "pasid" : NULL;
	case TRACE_REC_GROUP:
		return flag == TRACE_GROUP_F_REMOVE ? "remove" : NULL;
	default:
		return NULL;
	}
}

void trace_record_init(struct trace_record *rec, uint16_t type)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->cpu = TRACE_CPU_NONE;
	rec->pid = TRACE_PID_NONE;
	rec->dir = TRACE_DIR_NONE;
}

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Fixed size of a type (the whole record when it has no arrays), 0 when
 * the type is unknown. */
static size_t fixed_size(uint16_t type)
{
	switch (type) {
	case TRACE_REC_MAP: return TRACE_MAP_SIZE;
	case TRACE_REC_UNMAP: return TRACE_UNMAP_SIZE;
	case TRACE_REC_MAP_SG: return TRACE_MAP_SG_FIXED;
	case TRACE_REC_UNMAP_SG: return TRACE_UNMAP_SG_FIXED;
	case TRACE_REC_DMA_MAP: return TRACE_DMA_MAP_SIZE;
	case TRACE_REC_DMA_UNMAP: return TRACE_DMA_UNMAP_SIZE;
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE: return TRACE_DMA_ALLOC_FIXED;
	case TRACE_REC_DMA_SYNC: return TRACE_DMA_SYNC_FIXED;
	case TRACE_REC_IOVA_ALLOC:
	case TRACE_REC_IOVA_LINK:
	case TRACE_REC_IOVA_SYNC:
	case TRACE_REC_IOVA_UNLINK:
	case TRACE_REC_IOVA_FREE: return TRACE_IOVA_SIZE;
	case TRACE_REC_ATTACH:
	case TRACE_REC_DETACH: return TRACE_ATTACH_SIZE;
	case TRACE_REC_IOTLB_SYNC: return TRACE_IOTLB_SIZE;
	case TRACE_REC_ACCESS: return TRACE_ACCESS_SIZE;
	case TRACE_REC_GROUP: return TRACE_GROUP_SIZE;
	case TRACE_REC_LOST: return TRACE_LOST_SIZE;
	case TRACE_REC_DOMAIN_FREE: return TRACE_DOMAIN_FREE_SIZE;
	case TRACE_REC_DEVICE: return TRACE_DEVICE_OFF_NAME;
	case TRACE_REC_DOMAIN: return TRACE_DOMAIN_SIZE;
	case TRACE_REC_MAP_PAGES: return TRACE_MAP_PAGES_FIXED;
	default: return 0;
	}
}

size_t trace_record_size(const struct trace_record *rec)
{
	size_t n = fixed_size(rec->type), extra = 0;

	switch (rec->type) {
	case TRACE_REC_MAP_SG:
		extra = ((size_t)rec->u.map_sg.nr_in + rec->u.map_sg.nr_out) * TRACE_SEG_SIZE;
		break;
	case TRACE_REC_UNMAP_SG:
		extra = (size_t)rec->u.unmap_sg.nr * TRACE_SEG_SIZE;
		break;
	case TRACE_REC_DMA_SYNC:
		extra = (size_t)rec->u.dma_sync.nr * TRACE_SEG_SIZE;
		break;
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE:
		extra = (size_t)rec->u.dma_alloc.nr_phys * 8;
		break;
	case TRACE_REC_DEVICE:
		extra = round8(rec->u.device.len);
		break;
	case TRACE_REC_MAP_PAGES:
		extra = (size_t)rec->u.map_pages.nr * TRACE_PGRUN_SIZE;
		break;
	}
	if (n == 0 || extra > TRACE_REC_MAX_SIZE || n + extra > TRACE_REC_MAX_SIZE)
		return 0;
	return n + extra;
}

static void put_segs(unsigned char *p, const struct trace_seg *s, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++, p += TRACE_SEG_SIZE) {
		trace_put64(p + TRACE_SEG_OFF_ADDR, s[i].addr);
		trace_put32(p + TRACE_SEG_OFF_LENGTH, s[i].length);
		trace_put32(p + TRACE_SEG_OFF_OFFSET, s[i].offset);
	}
}

void trace_record_encode(const struct trace_record *rec, unsigned char *b)
{
	size_t size = trace_record_size(rec);

	memset(b, 0, size);
	trace_put16(b + TRACE_REC_OFF_TYPE, rec->type);
	trace_put16(b + TRACE_REC_OFF_FLAGS, rec->flags);
	trace_put32(b + TRACE_REC_OFF_SIZE, (uint32_t)size);
	trace_put64(b + TRACE_REC_OFF_TIME, rec->time_ns);
	trace_put32(b + TRACE_REC_OFF_CPU, rec->cpu);
	trace_put32(b + TRACE_REC_OFF_PID, rec->pid);
	trace_put32(b + TRACE_REC_OFF_DOMAIN, rec->domain);
	trace_put32(b + TRACE_REC_OFF_DEVICE, rec->device);
	trace_put16(b + TRACE_REC_OFF_PROT, rec->prot);
	b[TRACE_REC_OFF_DIR] = rec->dir;

	switch (rec->type) {
	case TRACE_REC_MAP:
		trace_put64(b + TRACE_MAP_OFF_IOVA, rec->u.map.iova);
		trace_put64(b + TRACE_MAP_OFF_PADDR, rec->u.map.paddr);
		trace_put64(b + TRACE_MAP_OFF_SIZE, rec->u.map.size);
		break;
	case TRACE_REC_UNMAP:
		trace_put64(b + TRACE_UNMAP_OFF_IOVA, rec->u.unmap.iova);
		trace_put64(b + TRACE_UNMAP_OFF_SIZE, rec->u.unmap.size);
		trace_put64(b + TRACE_UNMAP_OFF_UNMAPPED, rec->u.unmap.unmapped);
		break;
	case TRACE_REC_MAP_SG:
		trace_put32(b + TRACE_MAP_SG_OFF_NR_IN, rec->u.map_sg.nr_in);
		trace_put32(b + TRACE_MAP_SG_OFF_NR_OUT, rec->u.map_sg.nr_out);
		trace_put32(b + TRACE_MAP_SG_OFF_FULL_NENTS, rec->u.map_sg.full_nents);
		trace_put32(b + TRACE_MAP_SG_OFF_FULL_ENTS, rec->u.map_sg.full_ents);
		trace_put64(b + TRACE_MAP_SG_OFF_ATTRS, rec->u.map_sg.attrs);
		put_segs(b + TRACE_MAP_SG_FIXED, rec->u.map_sg.in, rec->u.map_sg.nr_in);
		put_segs(b + TRACE_MAP_SG_FIXED + (size_t)rec->u.map_sg.nr_in * TRACE_SEG_SIZE,
			 rec->u.map_sg.out, rec->u.map_sg.nr_out);
		break;
	case TRACE_REC_UNMAP_SG:
		trace_put32(b + TRACE_UNMAP_SG_OFF_NR, rec->u.unmap_sg.nr);
		trace_put64(b + TRACE_UNMAP_SG_OFF_ATTRS, rec->u.unmap_sg.attrs);
		put_segs(b + TRACE_UNMAP_SG_FIXED, rec->u.unmap_sg.ents, rec->u.unmap_sg.nr);
		break;
	case TRACE_REC_DMA_MAP:
		trace_put64(b + TRACE_DMA_MAP_OFF_PHYS, rec->u.dma_map.phys);
		trace_put64(b + TRACE_DMA_MAP_OFF_DMA, rec->u.dma_map.dma_addr);
		trace_put64(b + TRACE_DMA_MAP_OFF_SIZE, rec->u.dma_map.size);
		trace_put64(b + TRACE_DMA_MAP_OFF_ATTRS, rec->u.dma_map.attrs);
		break;
	case TRACE_REC_DMA_UNMAP:
		trace_put64(b + TRACE_DMA_UNMAP_OFF_DMA, rec->u.dma_unmap.dma_addr);
		trace_put64(b + TRACE_DMA_UNMAP_OFF_SIZE, rec->u.dma_unmap.size);
		trace_put64(b + TRACE_DMA_UNMAP_OFF_ATTRS, rec->u.dma_unmap.attrs);
		break;
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE:
		trace_put64(b + TRACE_DMA_ALLOC_OFF_DMA, rec->u.dma_alloc.dma_addr);
		trace_put64(b + TRACE_DMA_ALLOC_OFF_SIZE, rec->u.dma_alloc.size);
		trace_put64(b + TRACE_DMA_ALLOC_OFF_ATTRS, rec->u.dma_alloc.attrs);
		trace_put32(b + TRACE_DMA_ALLOC_OFF_NR_PHYS, rec->u.dma_alloc.nr_phys);
		for (uint32_t i = 0; i < rec->u.dma_alloc.nr_phys; i++)
			trace_put64(b + TRACE_DMA_ALLOC_FIXED + 8 * (size_t)i,
				    rec->u.dma_alloc.phys[i]);
		break;
	case TRACE_REC_DMA_SYNC:
		trace_put32(b + TRACE_DMA_SYNC_OFF_NR, rec->u.dma_sync.nr);
		put_segs(b + TRACE_DMA_SYNC_FIXED, rec->u.dma_sync.ents, rec->u.dma_sync.nr);
		break;
	case TRACE_REC_IOVA_ALLOC:
	case TRACE_REC_IOVA_LINK:
	case TRACE_REC_IOVA_SYNC:
	case TRACE_REC_IOVA_UNLINK:
	case TRACE_REC_IOVA_FREE:
		trace_put32(b + TRACE_IOVA_OFF_STATE, rec->u.iova.state);
		trace_put64(b + TRACE_IOVA_OFF_IOVA, rec->u.iova.iova);
		trace_put64(b + TRACE_IOVA_OFF_PHYS, rec->u.iova.phys);
		trace_put64(b + TRACE_IOVA_OFF_OFFSET, rec->u.iova.offset);
		trace_put64(b + TRACE_IOVA_OFF_SIZE, rec->u.iova.size);
		trace_put64(b + TRACE_IOVA_OFF_ATTRS, rec->u.iova.attrs);
		break;
	case TRACE_REC_IOTLB_SYNC:
		trace_put64(b + TRACE_IOTLB_OFF_IOVA, rec->u.iotlb.iova);
		trace_put64(b + TRACE_IOTLB_OFF_SIZE, rec->u.iotlb.size);
		break;
	case TRACE_REC_ACCESS:
		trace_put64(b + TRACE_ACCESS_OFF_IOVA, rec->u.access.iova);
		trace_put64(b + TRACE_ACCESS_OFF_SIZE, rec->u.access.size);
		trace_put32(b + TRACE_ACCESS_OFF_PASID, rec->u.access.pasid);
		break;
	case TRACE_REC_GROUP:
		trace_put32(b + TRACE_GROUP_OFF_GROUP, rec->u.group.group);
		break;
	case TRACE_REC_LOST:
		trace_put64(b + TRACE_LOST_OFF_COUNT, rec->u.lost.count);
		break;
	case TRACE_REC_DEVICE:
		trace_put32(b + TRACE_DEVICE_OFF_LEN, rec->u.device.len);
		memcpy(b + TRACE_DEVICE_OFF_NAME, rec->u.device.name, rec->u.device.len);
		break;
	case TRACE_REC_DOMAIN:
		trace_put64(b + TRACE_DOMAIN_OFF_HANDLE, rec->u.domain.handle);
		trace_put32(b + TRACE_DOMAIN_OFF_ORIGIN, rec->u.domain.origin);
		break;
	case TRACE_REC_MAP_PAGES:
		trace_put64(b + TRACE_MAP_PAGES_OFF_IOVA, rec->u.map_pages.iova);
		trace_put64(b + TRACE_MAP_PAGES_OFF_PADDR, rec->u.map_pages.paddr);
		trace_put32(b + TRACE_MAP_PAGES_OFF_NR, rec->u.map_pages.nr);
		for (uint32_t i = 0; i < rec->u.map_pages.nr; i++) {
			unsigned char *p = b + TRACE_MAP_PAGES_FIXED + (size_t)i * TRACE_PGRUN_SIZE;

			trace_put64(p + TRACE_PGRUN_OFF_PGSIZE, rec->u.map_pages.runs[i].pgsize);
			trace_put64(p + TRACE_PGRUN_OFF_PGCOUNT, rec->u.map_pages.runs[i].count);
		}
		break;
	}
}

void trace_scratch_release(struct trace_scratch *s)
{
	free(s->segs);
	free(s->phys);
	free(s->runs);
	memset(s, 0, sizeof(*s));
}

static struct trace_seg *scratch_segs(struct trace_scratch *s, size_t n)
{
	if (n > s->segs_cap) {
		struct trace_seg *p = realloc(s->segs, n * sizeof(*p));

		if (!p)
			return NULL;
		s->segs = p;
		s->segs_cap = n;
	}
	return s->segs;
}

static void get_segs(struct trace_seg *s, const unsigned char *p, uint32_t nr)
{
	for (uint32_t i = 0; i < nr; i++, p += TRACE_SEG_SIZE) {
		s[i].addr = trace_get64(p + TRACE_SEG_OFF_ADDR);
		s[i].length = trace_get32(p + TRACE_SEG_OFF_LENGTH);
		s[i].offset = trace_get32(p + TRACE_SEG_OFF_OFFSET);
	}
}

int trace_record_decode(const unsigned char *b, size_t size,
			struct trace_record *rec, struct trace_scratch *s,
			struct errbuf *err)
{
	uint16_t type;
	size_t fixed, want;
	struct trace_seg *segs;

	if (size < TRACE_REC_HDR_SIZE || size % 8 || size > TRACE_REC_MAX_SIZE)
		return err_set(err, -EINVAL, "bad record size %zu", size);
	type = trace_get16(b + TRACE_REC_OFF_TYPE);
	trace_record_init(rec, type);
	rec->flags = trace_get16(b + TRACE_REC_OFF_FLAGS);
	rec->time_ns = trace_get64(b + TRACE_REC_OFF_TIME);
	rec->cpu = trace_get32(b + TRACE_REC_OFF_CPU);
	rec->pid = trace_get32(b + TRACE_REC_OFF_PID);
	rec->domain = trace_get32(b + TRACE_REC_OFF_DOMAIN);
	rec->device = trace_get32(b + TRACE_REC_OFF_DEVICE);
	rec->prot = trace_get16(b + TRACE_REC_OFF_PROT);
	rec->dir = b[TRACE_REC_OFF_DIR];

	fixed = fixed_size(type);
	if (fixed == 0) {
		if (type >= TRACE_REC_OPTIONAL)
			return 0;
		return err_set(err, -EINVAL, "unknown record type 0x%04x", type);
	}
	if (size < fixed)
		return err_set(err, -EINVAL, "%s record of %zu bytes, needs %zu",
			       trace_type_name(type), size, fixed);

	/* Arrays: the counts must account for the size exactly. */
	want = fixed;
	switch (type) {
	case TRACE_REC_MAP_SG: {
		uint32_t nr_in = trace_get32(b + TRACE_MAP_SG_OFF_NR_IN);
		uint32_t nr_out = trace_get32(b + TRACE_MAP_SG_OFF_NR_OUT);

		if ((uint64_t)nr_in + nr_out > (size - fixed) / TRACE_SEG_SIZE)
			break; /* reported below as a size mismatch */
		want += ((size_t)nr_in + nr_out) * TRACE_SEG_SIZE;
		if (want != size)
			break;
		segs = scratch_segs(s, (size_t)nr_in + nr_out);
		if (!segs && nr_in + nr_out)
			return err_set(err, -ENOMEM, "out of memory");
		get_segs(segs, b + fixed, nr_in);
		get_segs(segs + nr_in, b + fixed + (size_t)nr_in * TRACE_SEG_SIZE, nr_out);
		rec->u.map_sg.nr_in = nr_in;
		rec->u.map_sg.nr_out = nr_out;
		rec->u.map_sg.in = segs;
		rec->u.map_sg.out = segs + nr_in;
		rec->u.map_sg.full_nents = trace_get32(b + TRACE_MAP_SG_OFF_FULL_NENTS);
		rec->u.map_sg.full_ents = trace_get32(b + TRACE_MAP_SG_OFF_FULL_ENTS);
		rec->u.map_sg.attrs = trace_get64(b + TRACE_MAP_SG_OFF_ATTRS);
		return 0;
	}
	case TRACE_REC_UNMAP_SG:
	case TRACE_REC_DMA_SYNC: {
		size_t off_nr = type == TRACE_REC_UNMAP_SG ? TRACE_UNMAP_SG_OFF_NR
							   : TRACE_DMA_SYNC_OFF_NR;
		uint32_t nr = trace_get32(b + off_nr);

		if (nr > (size - fixed) / TRACE_SEG_SIZE)
			break;
		want += (size_t)nr * TRACE_SEG_SIZE;
		if (want != size)
			break;
		segs = scratch_segs(s, nr);
		if (!segs && nr)
			return err_set(err, -ENOMEM, "out of memory");
		get_segs(segs, b + fixed, nr);
		if (type == TRACE_REC_UNMAP_SG) {
			rec->u.unmap_sg.nr = nr;
			rec->u.unmap_sg.ents = segs;
			rec->u.unmap_sg.attrs = trace_get64(b + TRACE_UNMAP_SG_OFF_ATTRS);
		} else {
			rec->u.dma_sync.nr = nr;
			rec->u.dma_sync.ents = segs;
		}
		return 0;
	}
	case TRACE_REC_DMA_ALLOC:
	case TRACE_REC_DMA_FREE: {
		uint32_t nr = trace_get32(b + TRACE_DMA_ALLOC_OFF_NR_PHYS);

		if (nr > (size - fixed) / 8)
			break;
		want += (size_t)nr * 8;
		if (want != size)
			break;
		if (nr > s->phys_cap) {
			uint64_t *p = realloc(s->phys, nr * sizeof(*p));

			if (!p)
				return err_set(err, -ENOMEM, "out of memory");
			s->phys = p;
			s->phys_cap = nr;
		}
		for (uint32_t i = 0; i < nr; i++)
			s->phys[i] = trace_get64(b + fixed + 8 * (size_t)i);
		rec->u.dma_alloc.nr_phys = nr;
		rec->u.dma_alloc.phys = s->phys;
		rec->u.dma_alloc.dma_addr = trace_get64(b + TRACE_DMA_ALLOC_OFF_DMA);
		rec->u.dma_alloc.size = trace_get64(b + TRACE_DMA_ALLOC_OFF_SIZE);
		rec->u.dma_alloc.attrs = trace_get64(b + TRACE_DMA_ALLOC_OFF_ATTRS);
		return 0;
	}
	case TRACE_REC_MAP_PAGES: {
		uint32_t nr = trace_get32(b + TRACE_MAP_PAGES_OFF_NR);

		if (nr > TRACE_MAP_PAGES_MAX)
			return err_set(err, -EINVAL, "map_pages record with %u runs (at most %d)",
				       nr, TRACE_MAP_PAGES_MAX);
		want += (size_t)nr * TRACE_PGRUN_SIZE;
		if (want != size)
			break;
		if (nr > s->runs_cap) {
			struct trace_pgrun *p = realloc(s->runs, TRACE_MAP_PAGES_MAX * sizeof(*p));

			if (!p)
				return err_set(err, -ENOMEM, "out of memory");
			s->runs = p;
			s->runs_cap = TRACE_MAP_PAGES_MAX;
		}
		for (uint32_t i = 0; i < nr; i++) {
			const unsigned char *p = b + fixed + (size_t)i * TRACE_PGRUN_SIZE;

			s->runs[i].pgsize = trace_get64(p + TRACE_PGRUN_OFF_PGSIZE);
			s->runs[i].count = trace_get64(p + TRACE_PGRUN_OFF_PGCOUNT);
		}
		rec->u.map_pages.iova = trace_get64(b + TRACE_MAP_PAGES_OFF_IOVA);
		rec->u.map_pages.paddr = trace_get64(b + TRACE_MAP_PAGES_OFF_PADDR);
		rec->u.map_pages.nr = nr;
		rec->u.map_pages.runs = s->runs;
		return 0;
	}
	case TRACE_REC_DEVICE: {
		uint32_t len = trace_get32(b + TRACE_DEVICE_OFF_LEN);

		if (len > TRACE_DEVICE_NAME_MAX)
			return err_set(err, -EINVAL, "device name of %u bytes (at most %d)",
				       len, TRACE_DEVICE_NAME_MAX);
		want += round8(len);
		if (want != size)
			break;
		rec->u.device.len = len;
		rec->u.device.name = (const char *)b + TRACE_DEVICE_OFF_NAME;
		return 0;
	}
	default:
		break;
	}
	if (want != size)
		return err_set(err, -EINVAL, "%s record size %zu does not match its contents",
			       trace_type_name(type), size);

	switch (type) {
	case TRACE_REC_MAP:
		rec->u.map.iova = trace_get64(b + TRACE_MAP_OFF_IOVA);
		rec->u.map.paddr = trace_get64(b + TRACE_MAP_OFF_PADDR);
		rec->u.map.size = trace_get64(b + TRACE_MAP_OFF_SIZE);
		break;
	case TRACE_REC_UNMAP:
		rec->u.unmap.iova = trace_get64(b + TRACE_UNMAP_OFF_IOVA);
		rec->u.unmap.size = trace_get64(b + TRACE_UNMAP_OFF_SIZE);
		rec->u.unmap.unmapped = trace_get64(b + TRACE_UNMAP_OFF_UNMAPPED);
		break;
	case TRACE_REC_DMA_MAP:
		rec->u.dma_map.phys = trace_get64(b + TRACE_DMA_MAP_OFF_PHYS);
		rec->u.dma_map.dma_addr = trace_get64(b + TRACE_DMA_MAP_OFF_DMA);
		rec->u.dma_map.size = trace_get64(b + TRACE_DMA_MAP_OFF_SIZE);
		rec->u.dma_map.attrs = trace_get64(b + TRACE_DMA_MAP_OFF_ATTRS);
		break;
	case TRACE_REC_DMA_UNMAP:
		rec->u.dma_unmap.dma_addr = trace_get64(b + TRACE_DMA_UNMAP_OFF_DMA);
		rec->u.dma_unmap.size = trace_get64(b + TRACE_DMA_UNMAP_OFF_SIZE);
		rec->u.dma_unmap.attrs = trace_get64(b + TRACE_DMA_UNMAP_OFF_ATTRS);
		break;
	case TRACE_REC_IOVA_ALLOC:
	case TRACE_REC_IOVA_LINK:
	case TRACE_REC_IOVA_SYNC:
	case TRACE_REC_IOVA_UNLINK:
	case TRACE_REC_IOVA_FREE:
		rec->u.iova.state = trace_get32(b + TRACE_IOVA_OFF_STATE);
		rec->u.iova.iova = trace_get64(b + TRACE_IOVA_OFF_IOVA);
		rec->u.iova.phys = trace_get64(b + TRACE_IOVA_OFF_PHYS);
		rec->u.iova.offset = trace_get64(b + TRACE_IOVA_OFF_OFFSET);
		rec->u.iova.size = trace_get64(b + TRACE_IOVA_OFF_SIZE);
		rec->u.iova.attrs = trace_get64(b + TRACE_IOVA_OFF_ATTRS);
		break;
	case TRACE_REC_IOTLB_SYNC:
		rec->u.iotlb.iova = trace_get64(b + TRACE_IOTLB_OFF_IOVA);
		rec->u.iotlb.size = trace_get64(b + TRACE_IOTLB_OFF_SIZE);
		break;
	case TRACE_REC_ACCESS:
		rec->u.access.iova = trace_get64(b + TRACE_ACCESS_OFF_IOVA);
		rec->u.access.size = trace_get64(b + TRACE_ACCESS_OFF_SIZE);
		rec->u.access.pasid = trace_get32(b + TRACE_ACCESS_OFF_PASID);
		break;
	case TRACE_REC_GROUP:
		rec->u.group.group = trace_get32(b + TRACE_GROUP_OFF_GROUP);
		break;
	case TRACE_REC_LOST:
		rec->u.lost.count = trace_get64(b + TRACE_LOST_OFF_COUNT);
		break;
	case TRACE_REC_DOMAIN:
		rec->u.domain.handle = trace_get64(b + TRACE_DOMAIN_OFF_HANDLE);
		rec->u.domain.origin = trace_get32(b + TRACE_DOMAIN_OFF_ORIGIN);
		break;
	}
	return 0;
}

static bool range_ok(uint64_t start, uint64_t size)
{
	return size != 0 && start + (size - 1) >= start;
}

uint64_t trace_map_pages_size(const struct trace_record *rec)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < rec->u.map_pages.nr; i++) {
		const struct trace_pgrun *r = &rec->u.map_pages.runs[i];

		if (r->count && r->pgsize > UINT64_MAX / r->count)
			return 0;
		if (total + r->pgsize * r->count < total)
			return 0;
		total += r->pgsize * r->count;
	}
	return total;
}

int trace_record_check(const struct trace_record *rec, struct trace_ids *ids,
		       struct errbuf *err)
{
	const char *name = trace_type_name(rec->type);
	uint16_t allowed;

	if (!name)
		return err_set(err, -EINVAL, "unknown record type 0x%04x", rec->type);
	allowed = type_flags(rec->type) | TRACE_F_NO_PROT;
	if (rec->flags & ~allowed)
		return err_set(err, -EINVAL, "%s record with unknown flags 0x%04x",
			       name, rec->flags & ~allowed);
	if (rec->prot & ~TRACE_PROT_KNOWN)
		return err_set(err, -EINVAL, "%s record with unknown prot bits 0x%04x",
			       name, rec->prot & ~TRACE_PROT_KNOWN);
	if (rec->dir > TRACE_DIR_DMA_NONE && rec->dir != TRACE_DIR_NONE)
		return err_set(err, -EINVAL, "%s record with bad direction %u", name, rec->dir);

	switch (rec->type) {
	case TRACE_REC_DEVICE:
		if (rec->device != ids->nr_devices + 1 || rec->device > TRACE_ID_MAX)
			return err_set(err, -EINVAL, "device record defines id %u, expected %u",
				       rec->device, ids->nr_devices + 1);
		if (rec->domain)
			return err_set(err, -EINVAL, "device record with a domain");
		if (rec->u.device.len == 0 || rec->u.device.len > TRACE_DEVICE_NAME_MAX)
			return err_set(err, -EINVAL, "device name of %u bytes", rec->u.device.len);
		for (uint32_t i = 0; i < rec->u.device.len; i++) {
			unsigned char c = (unsigned char)rec->u.device.name[i];

			if (c <= ' ' || c >= 0x7f)
				return err_set(err, -EINVAL,
					       "device name with byte 0x%02x (printable ASCII without spaces only)",
					       c);
		}
		ids->nr_devices++;
		return 0;
	case TRACE_REC_DOMAIN:
		if (rec->domain != ids->nr_domains + 1 || rec->domain > TRACE_ID_MAX)
			return err_set(err, -EINVAL, "domain record defines id %u, expected %u",
				       rec->domain, ids->nr_domains + 1);
		if (!trace_domain_origin_name(rec->u.domain.origin))
			return err_set(err, -EINVAL, "domain record with unknown origin %u",
				       rec->u.domain.origin);
		if (rec->device > ids->nr_devices)
			return err_set(err, -EINVAL, "domain record names undefined device %u",
				       rec->device);
		if ((rec->u.domain.origin == TRACE_DOMAIN_ORIGIN_DEVICE) != (rec->device != 0))
			return err_set(err, -EINVAL,
				       "domain record: a device is named exactly when the origin is device");
		ids->nr_domains++;
		return 0;
	}
	if (rec->device > ids->nr_devices)
		return err_set(err, -EINVAL, "%s record uses undefined device %u", name, rec->device);
	if (rec->domain > ids->nr_domains)
		return err_set(err, -EINVAL, "%s record uses undefined domain %u", name, rec->domain);

	switch (rec->type) {
	case TRACE_REC_MAP:
		if (!range_ok(rec->u.map.iova, rec->u.map.size) ||
		    !range_ok(rec->u.map.paddr, rec->u.map.size))
			return err_set(err, -EINVAL, "map record with an empty or wrapping range");
		break;
	case TRACE_REC_UNMAP:
		if (!range_ok(rec->u.unmap.iova, rec->u.unmap.size))
			return err_set(err, -EINVAL, "unmap record with an empty or wrapping range");
		break;
	case TRACE_REC_MAP_PAGES: {
		uint64_t total;

		if (rec->u.map_pages.nr == 0 || rec->u.map_pages.nr > TRACE_MAP_PAGES_MAX)
			return err_set(err, -EINVAL, "map_pages record with %u runs (1 to %d)",
				       rec->u.map_pages.nr, TRACE_MAP_PAGES_MAX);
		for (uint32_t i = 0; i < rec->u.map_pages.nr; i++) {
			const struct trace_pgrun *r = &rec->u.map_pages.runs[i];

			if (!r->pgsize || (r->pgsize & (r->pgsize - 1)) || !r->count)
				return err_set(err, -EINVAL,
					       "map_pages run %u: %llu pages of 0x%llx bytes (a power of two, at least one page)",
					       i, (unsigned long long)r->count,
					       (unsigned long long)r->pgsize);
		}
		total = trace_map_pages_size(rec);
		if (!range_ok(rec->u.map_pages.iova, total) ||
		    !range_ok(rec->u.map_pages.paddr, total))
			return err_set(err, -EINVAL,
				       "map_pages record with an overflowing or wrapping range");
		break;
	}
	case TRACE_REC_MAP_SG: {
		bool trunc = rec->flags & TRACE_MAP_SG_F_TRUNCATED;

		if (rec->u.map_sg.nr_in > rec->u.map_sg.full_nents ||
		    rec->u.map_sg.nr_out > rec->u.map_sg.full_ents)
			return err_set(err, -EINVAL, "map_sg record holds more entries than its totals");
		if (!trunc && (rec->u.map_sg.nr_in != rec->u.map_sg.full_nents ||
			       rec->u.map_sg.nr_out != rec->u.map_sg.full_ents))
			return err_set(err, -EINVAL,
				       "map_sg record holds fewer entries than its totals but is not marked truncated");
		if ((rec->flags & TRACE_MAP_SG_F_FAILED) && rec->u.map_sg.full_ents)
			return err_set(err, -EINVAL, "failed map_sg record with output entries");
		break;
	}
	}
	return 0;
}
