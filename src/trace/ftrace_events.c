/* Parsers of the event bodies we import.  Each follows the event's
 * TP_printk format token by token, so a changed or damaged line is
 * reported with what was expected where.  Formats: formats.md section 6
 * (include/trace/events/iommu.h, include/trace/events/dma.h); kprobe
 * lines are "(LOCATION) name=value ..." and are known by their names. */
#include "trace/ftrace.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over an event body. */
struct cur {
	const char *p;
};

static int expected(const struct cur *c, const char *what, struct errbuf *err)
{
	if (*c->p == '\0')
		return err_set(err, -EINVAL, "expected %s at end of line", what);
	return err_set(err, -EINVAL, "expected %s at \"%.24s\"", what, c->p);
}

static bool lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Hex digits without a prefix (%llx). */
static bool hex(struct cur *c, uint64_t *v)
{
	const char *p = c->p;
	uint64_t x = 0;
	int d;

	if (hexval(*p) < 0)
		return false;
	while ((d = hexval(*p)) >= 0) {
		if (x >> 60)
			return false;
		x = x << 4 | (uint64_t)d;
		p++;
	}
	c->p = p;
	*v = x;
	return true;
}

static bool hex0x(struct cur *c, uint64_t *v)
{
	struct cur t = *c;

	if (!lit(&t, "0x") || !hex(&t, v))
		return false;
	*c = t;
	return true;
}

static bool dec(struct cur *c, uint64_t *v)
{
	const char *p = c->p;
	uint64_t x = 0;

	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		uint64_t d = (uint64_t)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		p++;
	}
	c->p = p;
	*v = x;
	return true;
}

/* A number as kprobes print it: 0x-hex or decimal. */
static bool number(struct cur *c, uint64_t *v)
{
	return hex0x(c, v) || dec(c, v);
}

/* A run of characters up to a space or the end; not empty. */
static bool word(struct cur *c, const char **s, size_t *n)
{
	size_t len = strcspn(c->p, " ");

	if (len == 0)
		return false;
	*s = c->p;
	*n = len;
	c->p += len;
	return true;
}

static bool at_end(const struct cur *c)
{
	return *c->p == '\0';
}

static int set_dev(struct ftrace_event *ev, const char *s, size_t n, struct errbuf *err)
{
	if (n == 0 || n > TRACE_DEVICE_NAME_MAX)
		return err_set(err, -EINVAL, "device name of %zu bytes", n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return err_set(err, -EINVAL, "device name with byte 0x%02x",
				       (unsigned char)s[i]);
	memcpy(ev->dev, s, n);
	ev->dev[n] = '\0';
	return 0;
}

static bool range_ok(uint64_t start, uint64_t size)
{
	return size != 0 && start + (size - 1) >= start;
}

/* ---- iommu:* ---- */

/* "iova=0x%016llx" and, since v5.17, " - 0x%016llx" (iova + size) */
static int iova_range(struct cur *c, uint64_t *iova, bool *has_end, uint64_t *end,
		      struct errbuf *err)
{
	if (!lit(c, "iova=") || !hex0x(c, iova))
		return expected(c, "iova=0x...", err);
	*has_end = lit(c, " - ");
	if (*has_end && !hex0x(c, end))
		return expected(c, "the end of the iova range", err);
	return 0;
}

static int check_end(bool has_end, uint64_t iova, uint64_t size, uint64_t end,
		     struct errbuf *err)
{
	if (!range_ok(iova, size))
		return err_set(err, -EINVAL, "empty or wrapping range at iova 0x%llx",
			       (unsigned long long)iova);
	if (has_end && end != iova + size)
		return err_set(err, -EINVAL, "range end 0x%llx is not iova+size 0x%llx",
			       (unsigned long long)end, (unsigned long long)(iova + size));
	return 0;
}

static int parse_iommu_map(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	uint64_t end = 0;
	bool has_end;
	int rc;

	rc = iova_range(c, &ev->rec.u.map.iova, &has_end, &end, err);
	if (rc)
		return rc;
	if (!lit(c, " paddr=") || !hex0x(c, &ev->rec.u.map.paddr))
		return expected(c, "paddr=0x...", err);
	if (!lit(c, " size=") || !dec(c, &ev->rec.u.map.size))
		return expected(c, "size=N", err);
	if (!at_end(c))
		return expected(c, "end of line", err);
	rc = check_end(has_end, ev->rec.u.map.iova, ev->rec.u.map.size, end, err);
	if (rc)
		return rc;
	if (!range_ok(ev->rec.u.map.paddr, ev->rec.u.map.size))
		return err_set(err, -EINVAL, "wrapping physical range");
	ev->kind = FT_IOMMU_MAP;
	ev->rec.type = TRACE_REC_MAP;
	ev->rec.flags = TRACE_F_NO_PROT;
	return 0;
}

static int parse_iommu_unmap(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	uint64_t end = 0;
	bool has_end;
	int rc;

	rc = iova_range(c, &ev->rec.u.unmap.iova, &has_end, &end, err);
	if (rc)
		return rc;
	if (!lit(c, " size=") || !dec(c, &ev->rec.u.unmap.size))
		return expected(c, "size=N", err);
	if (!lit(c, " unmapped_size=") || !dec(c, &ev->rec.u.unmap.unmapped))
		return expected(c, "unmapped_size=N", err);
	if (!at_end(c))
		return expected(c, "end of line", err);
	rc = check_end(has_end, ev->rec.u.unmap.iova, ev->rec.u.unmap.size, end, err);
	if (rc)
		return rc;
	ev->kind = FT_IOMMU_UNMAP;
	ev->rec.type = TRACE_REC_UNMAP;
	return 0;
}

static int parse_iommu_device(struct cur *c, struct ftrace_event *ev, bool detach,
			      struct errbuf *err)
{
	const char *s;
	size_t n;

	if (!lit(c, "device=") || !word(c, &s, &n))
		return expected(c, "device=NAME", err);
	if (!at_end(c))
		return expected(c, "end of line", err);
	ev->kind = FT_IOMMU_ATTACH;
	ev->rec.type = detach ? TRACE_REC_DETACH : TRACE_REC_ATTACH;
	return set_dev(ev, s, n, err);
}

static int parse_iommu_group(struct cur *c, struct ftrace_event *ev, bool remove,
			     struct errbuf *err)
{
	uint64_t gid;
	const char *s;
	size_t n;

	if (!lit(c, "groupID=") || !dec(c, &gid) || gid > UINT32_MAX)
		return expected(c, "groupID=N", err);
	if (!lit(c, " device=") || !word(c, &s, &n))
		return expected(c, "device=NAME", err);
	if (!at_end(c))
		return expected(c, "end of line", err);
	ev->kind = FT_OTHER;
	ev->rec.type = TRACE_REC_GROUP;
	ev->rec.u.group.group = (uint32_t)gid;
	ev->rec.flags = remove ? TRACE_GROUP_F_REMOVE : 0;
	return set_dev(ev, s, n, err);
}

/* "IOMMU:%s %s iova=0x%016llx flags=0x%04x" (driver, device, ...) */
static int parse_io_page_fault(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	const char *drv, *s;
	size_t ndrv, n;
	uint64_t flags;

	if (!word(c, &drv, &ndrv) || !lit(c, " ") || !word(c, &s, &n))
		return expected(c, "DRIVER DEVICE", err);
	if (!lit(c, " iova=") || !hex0x(c, &ev->rec.u.access.iova))
		return expected(c, "iova=0x...", err);
	if (!lit(c, " flags=") || !hex0x(c, &flags))
		return expected(c, "flags=0x...", err);
	if (!at_end(c))
		return expected(c, "end of line", err);
	ev->kind = FT_OTHER;
	ev->rec.type = TRACE_REC_ACCESS;
	ev->rec.flags = TRACE_ACCESS_F_FAULT | ((flags & 1) ? TRACE_ACCESS_F_WRITE : 0);
	return set_dev(ev, s, n, err);
}

/* ---- dma:* ---- */

static int dma_dir(struct cur *c, uint8_t *dir, struct errbuf *err)
{
	static const char *const names[] = { "BIDIRECTIONAL", "TO_DEVICE",
					     "FROM_DEVICE", "NONE" };
	const char *s;
	size_t n;

	if (!lit(c, " dir=") || !word(c, &s, &n))
		return expected(c, "dir=DIRECTION", err);
	for (uint8_t i = 0; i < 4; i++) {
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) {
			*dir = i;
			return 0;
		}
	}
	return err_set(err, -EINVAL, "unknown DMA direction \"%.*s\"", (int)n, s);
}

/* The body's first word is the device, then " dir=". */
static int dma_head(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	const char *s;
	size_t n;
	int rc;

	if (!word(c, &s, &n))
		return expected(c, "a device name", err);
	rc = set_dev(ev, s, n, err);
	if (rc)
		return rc;
	return dma_dir(c, &ev->rec.dir, err);
}

/* " attrs=A|B|0x40" (empty when no attribute is set); ends the line. */
static int dma_attrs(struct cur *c, uint64_t *attrs, struct errbuf *err)
{
	const char *s = NULL;
	size_t n = 0;

	*attrs = 0;
	if (!lit(c, " attrs="))
		return expected(c, "attrs=", err);
	if (!at_end(c))
		word(c, &s, &n);
	while (n) {
		size_t len = 0;
		uint64_t bit;

		while (len < n && s[len] != '|')
			len++;
		if (len > 2 && s[0] == '0' && s[1] == 'x') {
			struct cur h = { s };
			uint64_t v;

			if (!hex0x(&h, &v) || h.p != s + len)
				return err_set(err, -EINVAL, "bad DMA attribute \"%.*s\"", (int)len, s);
			*attrs |= v;
		} else {
			bit = trace_attr_parse(s, len);
			*attrs |= bit ? bit : TRACE_ATTR_UNKNOWN;
		}
		if (len == n)
			break;
		s += len + 1;
		n -= len + 1;
		if (n == 0)
			return err_set(err, -EINVAL, "DMA attributes end with '|'");
	}
	if (!at_end(c))
		return expected(c, "end of line", err);
	return 0;
}

/* "{0x1,0x2}" into a new array; *nr entries. */
static int u64_array(struct cur *c, uint64_t **out, uint32_t *nr, struct errbuf *err)
{
	const char *p = c->p;
	size_t cap = 1;
	uint64_t *v;
	uint32_t n = 0;

	if (*p != '{')
		return expected(c, "{", err);
	for (const char *q = p + 1; *q && *q != '}'; q++)
		cap += *q == ',';
	v = malloc(cap * sizeof(*v));
	if (!v)
		return err_set(err, -ENOMEM, "out of memory");
	c->p++;
	if (!lit(c, "}")) {
		do {
			if (!hex0x(c, &v[n])) {
				free(v);
				return expected(c, "0x... in the array", err);
			}
			n++;
		} while (n < cap && lit(c, ","));
		if (!lit(c, "}")) {
			free(v);
			return expected(c, "} closing the array", err);
		}
	}
	*out = v;
	*nr = n;
	return 0;
}

static int key_array(struct cur *c, const char *key, uint64_t **out, uint32_t *nr,
		     struct errbuf *err)
{
	if (!lit(c, " ") || !lit(c, key) || !lit(c, "="))
		return expected(c, key, err);
	return u64_array(c, out, nr, err);
}

static int alloc_segs(struct ftrace_event *ev, size_t nr, struct errbuf *err)
{
	ev->segs = calloc(nr ? nr : 1, sizeof(*ev->segs));
	if (!ev->segs)
		return err_set(err, -ENOMEM, "out of memory");
	ev->bytes += nr * sizeof(*ev->segs);
	return 0;
}

static int fits_u32(const uint64_t *v, uint32_t nr, struct errbuf *err)
{
	for (uint32_t i = 0; i < nr; i++)
		if (v[i] > UINT32_MAX)
			return err_set(err, -EINVAL, "length 0x%llx does not fit 32 bits",
				       (unsigned long long)v[i]);
	return 0;
}

/* "%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s" */
static int parse_dma_map(struct cur *c, struct ftrace_event *ev, bool resource,
			 struct errbuf *err)
{
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	if (!lit(c, " dma_addr=") || !hex(c, &ev->rec.u.dma_map.dma_addr))
		return expected(c, "dma_addr=HEX", err);
	if (!lit(c, " size=") || !dec(c, &ev->rec.u.dma_map.size))
		return expected(c, "size=N", err);
	if (!lit(c, " phys_addr=") || !hex(c, &ev->rec.u.dma_map.phys))
		return expected(c, "phys_addr=HEX", err);
	rc = dma_attrs(c, &ev->rec.u.dma_map.attrs, err);
	if (rc)
		return rc;
	ev->kind = FT_DMA_MAP;
	ev->rec.type = TRACE_REC_DMA_MAP;
	ev->rec.flags = (resource ? TRACE_DMA_F_RESOURCE : 0) |
			(ev->rec.u.dma_map.dma_addr == UINT64_MAX ? TRACE_DMA_F_FAILED : 0);
	return 0;
}

/* "%s dir=%s dma_addr=%llx size=%zu attrs=%s" */
static int parse_dma_unmap(struct cur *c, struct ftrace_event *ev, bool resource,
			   struct errbuf *err)
{
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	if (!lit(c, " dma_addr=") || !hex(c, &ev->rec.u.dma_unmap.dma_addr))
		return expected(c, "dma_addr=HEX", err);
	if (!lit(c, " size=") || !dec(c, &ev->rec.u.dma_unmap.size))
		return expected(c, "size=N", err);
	rc = dma_attrs(c, &ev->rec.u.dma_unmap.attrs, err);
	if (rc)
		return rc;
	ev->kind = FT_DMA_UNMAP;
	ev->rec.type = TRACE_REC_DMA_UNMAP;
	ev->rec.flags = resource ? TRACE_DMA_F_RESOURCE : 0;
	return 0;
}

enum alloc_variant { ALLOC, ALLOC_PAGES, ALLOC_SGT_ERR, ALLOC_SGT, FREE, FREE_PAGES, FREE_SGT };

/* alloc: "%s dir=%s dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s"
 * alloc_sgt: "... size=%zu phys_addrs=%s flags=%s attrs=%s"
 * free:  "%s dir=%s dma_addr=%llx size=%zu virt_addr=%p attrs=%s"
 * free_sgt: "%s dir=%s dma_addr=%llx size=%zu phys_addrs=%s" */
static int parse_dma_alloc(struct cur *c, struct ftrace_event *ev, enum alloc_variant v,
			   struct errbuf *err)
{
	bool is_free = v >= FREE, sgt = v == ALLOC_SGT || v == FREE_SGT;
	const char *s = NULL;
	size_t n = 0;
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	ev->rec.type = is_free ? TRACE_REC_DMA_FREE : TRACE_REC_DMA_ALLOC;
	ev->kind = is_free ? FT_DMA_UNMAP : FT_DMA_MAP;
	if (!lit(c, " dma_addr=") || !hex(c, &ev->rec.u.dma_alloc.dma_addr))
		return expected(c, "dma_addr=HEX", err);
	if (!lit(c, " size=") || !dec(c, &ev->rec.u.dma_alloc.size))
		return expected(c, "size=N", err);
	if (sgt) {
		rc = key_array(c, "phys_addrs", &ev->phys, &ev->rec.u.dma_alloc.nr_phys, err);
		if (rc)
			return rc;
		ev->bytes += ev->rec.u.dma_alloc.nr_phys * sizeof(uint64_t);
		ev->rec.u.dma_alloc.phys = ev->phys;
		ev->rec.flags |= TRACE_DMA_ALLOC_F_SGT;
	} else {
		if (!lit(c, " virt_addr=") || !word(c, &s, &n))
			return expected(c, "virt_addr=POINTER", err);
	}
	if (v == ALLOC || v == ALLOC_PAGES || v == ALLOC_SGT || v == ALLOC_SGT_ERR) {
		const char *f;
		size_t nf;

		if (!lit(c, " flags=") || !word(c, &f, &nf))
			return expected(c, "flags=GFP", err);
	}
	if (v == FREE_SGT) {
		if (!at_end(c))
			return expected(c, "end of line", err);
	} else {
		rc = dma_attrs(c, &ev->rec.u.dma_alloc.attrs, err);
		if (rc)
			return rc;
	}
	if (v == ALLOC_PAGES || v == FREE_PAGES)
		ev->rec.flags |= TRACE_DMA_ALLOC_F_PAGES;
	if (v == ALLOC_SGT_ERR)
		ev->rec.flags |= TRACE_DMA_ALLOC_F_SGT | TRACE_DMA_ALLOC_F_FAILED;
	/* the event records dma_addr 0 when no memory was returned */
	if (v == ALLOC || v == ALLOC_PAGES) {
		bool null_ptr = n == 6 && memcmp(s, "(null)", 6) == 0;

		if (!null_ptr && n) {
			null_ptr = true;
			for (size_t i = 0; i < n; i++)
				null_ptr &= s[i] == '0';
		}
		if (ev->rec.u.dma_alloc.dma_addr == 0 && null_ptr)
			ev->rec.flags |= TRACE_DMA_ALLOC_F_FAILED;
	}
	if (ev->rec.flags & TRACE_DMA_ALLOC_F_FAILED)
		ev->kind = FT_OTHER;
	return 0;
}

/* newest: "%s dir=%s nents=%d/%d ents=%d/%d%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s"
 * first:  "%s dir=%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s" */
static int parse_dma_map_sg(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	uint64_t traced_nents = 0, full_nents = 0, traced_ents = 0, full_ents = 0;
	uint64_t *dma = NULL, *len = NULL, *phys = NULL;
	uint32_t ndma, nlen, nphys;
	bool counted, truncated = false;
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	counted = lit(c, " nents=");
	if (counted) {
		if (!dec(c, &traced_nents) || !lit(c, "/") || !dec(c, &full_nents))
			return expected(c, "nents=N/N", err);
		if (!lit(c, " ents=") || !dec(c, &traced_ents) || !lit(c, "/") ||
		    !dec(c, &full_ents))
			return expected(c, "ents=N/N", err);
		truncated = lit(c, " [TRUNCATED]");
		if (full_nents > UINT32_MAX || full_ents > UINT32_MAX)
			return err_set(err, -EINVAL, "entry count does not fit 32 bits");
	}
	rc = key_array(c, "dma_addrs", &dma, &ndma, err);
	if (!rc)
		rc = key_array(c, "sizes", &len, &nlen, err);
	if (!rc)
		rc = key_array(c, "phys_addrs", &phys, &nphys, err);
	if (!rc)
		rc = dma_attrs(c, &ev->rec.u.map_sg.attrs, err);
	if (!rc && ndma != nlen)
		rc = err_set(err, -EINVAL, "%u dma_addrs but %u sizes", ndma, nlen);
	if (!rc && counted && (traced_ents != ndma || traced_nents != nphys))
		rc = err_set(err, -EINVAL, "array lengths %u/%u do not match nents=%llu ents=%llu",
			     nphys, ndma, (unsigned long long)traced_nents,
			     (unsigned long long)traced_ents);
	if (!rc && counted && (traced_nents > full_nents || traced_ents > full_ents))
		rc = err_set(err, -EINVAL, "more entries traced than mapped");
	if (!rc)
		rc = fits_u32(len, nlen, err);
	if (!rc)
		rc = alloc_segs(ev, (size_t)nphys + ndma, err);
	if (rc)
		goto out;
	if (!counted) {
		traced_nents = full_nents = nphys;
		traced_ents = full_ents = ndma;
	}
	if (traced_nents < full_nents || traced_ents < full_ents)
		truncated = true;
	for (uint32_t i = 0; i < nphys; i++)
		ev->segs[i].addr = phys[i];
	/* Without merging (as many outputs as inputs) each output is its
	 * input's length; otherwise input lengths are not in the event. */
	if (full_nents == full_ents && !truncated) {
		for (uint32_t i = 0; i < nphys; i++)
			ev->segs[i].length = (uint32_t)len[i];
	} else if (nphys) {
		ev->rec.flags |= TRACE_MAP_SG_F_NO_IN_LENGTHS;
	}
	for (uint32_t i = 0; i < ndma; i++) {
		ev->segs[nphys + i].addr = dma[i];
		ev->segs[nphys + i].length = (uint32_t)len[i];
	}
	ev->kind = FT_DMA_MAP;
	ev->rec.type = TRACE_REC_MAP_SG;
	ev->rec.flags |= truncated ? TRACE_MAP_SG_F_TRUNCATED : 0;
	ev->rec.u.map_sg.full_nents = (uint32_t)full_nents;
	ev->rec.u.map_sg.full_ents = (uint32_t)full_ents;
	ev->rec.u.map_sg.nr_in = nphys;
	ev->rec.u.map_sg.nr_out = ndma;
	ev->rec.u.map_sg.in = ev->segs;
	ev->rec.u.map_sg.out = ev->segs + nphys;
out:
	free(dma);
	free(len);
	free(phys);
	return rc;
}

/* "%s dir=%s dma_addrs=%s err=%d attrs=%s" (the array holds physical addresses) */
static int parse_dma_map_sg_err(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	uint64_t *phys = NULL;
	uint32_t nphys;
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	rc = key_array(c, "dma_addrs", &phys, &nphys, err);
	if (rc)
		return rc;
	if (!lit(c, " err=-") && !lit(c, " err=")) {
		free(phys);
		return expected(c, "err=N", err);
	}
	{
		uint64_t e;

		if (!dec(c, &e)) {
			free(phys);
			return expected(c, "an error number", err);
		}
	}
	rc = dma_attrs(c, &ev->rec.u.map_sg.attrs, err);
	if (!rc)
		rc = alloc_segs(ev, nphys, err);
	if (!rc) {
		for (uint32_t i = 0; i < nphys; i++)
			ev->segs[i].addr = phys[i];
		ev->kind = FT_OTHER;
		ev->rec.type = TRACE_REC_MAP_SG;
		ev->rec.flags = TRACE_MAP_SG_F_FAILED |
				(nphys ? TRACE_MAP_SG_F_NO_IN_LENGTHS : 0);
		ev->rec.u.map_sg.full_nents = nphys;
		ev->rec.u.map_sg.nr_in = nphys;
		ev->rec.u.map_sg.in = ev->segs;
		ev->rec.u.map_sg.out = ev->segs + nphys;
	}
	free(phys);
	return rc;
}

/* newest: "%s dir=%s phys_addrs=%s attrs=%s"
 * first:  "%s dir=%s dma_addrs=%s sizes=%s attrs=%s" */
static int parse_dma_unmap_sg(struct cur *c, struct ftrace_event *ev, struct errbuf *err)
{
	uint64_t *addr = NULL, *len = NULL;
	uint32_t naddr, nlen = 0;
	bool phys;
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	phys = strncmp(c->p, " phys_addrs=", 12) == 0;
	rc = key_array(c, phys ? "phys_addrs" : "dma_addrs", &addr, &naddr, err);
	if (!rc && !phys)
		rc = key_array(c, "sizes", &len, &nlen, err);
	if (!rc)
		rc = dma_attrs(c, &ev->rec.u.unmap_sg.attrs, err);
	if (!rc && !phys && nlen != naddr)
		rc = err_set(err, -EINVAL, "%u dma_addrs but %u sizes", naddr, nlen);
	if (!rc && !phys)
		rc = fits_u32(len, nlen, err);
	if (!rc)
		rc = alloc_segs(ev, naddr, err);
	if (!rc) {
		for (uint32_t i = 0; i < naddr; i++) {
			ev->segs[i].addr = addr[i];
			ev->segs[i].length = phys ? 0 : (uint32_t)len[i];
		}
		ev->kind = FT_DMA_UNMAP;
		ev->rec.type = TRACE_REC_UNMAP_SG;
		ev->rec.flags = phys ? TRACE_UNMAP_SG_F_PHYS | TRACE_UNMAP_SG_F_NO_LENGTHS : 0;
		ev->rec.u.unmap_sg.nr = naddr;
		ev->rec.u.unmap_sg.ents = ev->segs;
	}
	free(addr);
	free(len);
	return rc;
}

/* single: "%s dir=%s dma_addr=%llx size=%zu"; sg: "%s dir=%s dma_addrs=%s sizes=%s" */
static int parse_dma_sync(struct cur *c, struct ftrace_event *ev, bool sg, bool for_device,
			  struct errbuf *err)
{
	int rc = dma_head(c, ev, err);

	if (rc)
		return rc;
	ev->kind = FT_OTHER;
	ev->rec.type = TRACE_REC_DMA_SYNC;
	ev->rec.flags = (sg ? TRACE_DMA_SYNC_F_SG : 0) |
			(for_device ? TRACE_DMA_SYNC_F_FOR_DEVICE : 0);
	if (!sg) {
		uint64_t addr, size;

		if (!lit(c, " dma_addr=") || !hex(c, &addr))
			return expected(c, "dma_addr=HEX", err);
		if (!lit(c, " size=") || !dec(c, &size))
			return expected(c, "size=N", err);
		if (!at_end(c))
			return expected(c, "end of line", err);
		rc = fits_u32(&size, 1, err);
		if (!rc)
			rc = alloc_segs(ev, 1, err);
		if (rc)
			return rc;
		ev->segs[0].addr = addr;
		ev->segs[0].length = (uint32_t)size;
		ev->rec.u.dma_sync.nr = 1;
	} else {
		uint64_t *addr = NULL, *len = NULL;
		uint32_t naddr, nlen = 0;

		rc = key_array(c, "dma_addrs", &addr, &naddr, err);
		if (!rc)
			rc = key_array(c, "sizes", &len, &nlen, err);
		if (!rc && !at_end(c))
			rc = expected(c, "end of line", err);
		if (!rc && nlen != naddr)
			rc = err_set(err, -EINVAL, "%u dma_addrs but %u sizes", naddr, nlen);
		if (!rc)
			rc = fits_u32(len, nlen, err);
		if (!rc)
			rc = alloc_segs(ev, naddr, err);
		if (!rc) {
			for (uint32_t i = 0; i < naddr; i++) {
				ev->segs[i].addr = addr[i];
				ev->segs[i].length = (uint32_t)len[i];
			}
			ev->rec.u.dma_sync.nr = naddr;
		}
		free(addr);
		free(len);
		if (rc)
			return rc;
	}
	ev->rec.u.dma_sync.ents = ev->segs;
	return 0;
}

/* ---- kprobes ---- */

#define KP_MAX_FIELDS 16

struct kp_field {
	const char *name, *val;
	size_t name_len, val_len;
	bool quoted;
};

static const struct kp_field *kp_get(const struct kp_field *f, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (f[i].name_len == strlen(name) && memcmp(f[i].name, name, f[i].name_len) == 0)
			return &f[i];
	return NULL;
}

static int kp_number(const struct kp_field *f, uint64_t *v, struct errbuf *err)
{
	struct cur c = { f->val };

	if (f->quoted || !number(&c, v) || c.p != f->val + f->val_len)
		return err_set(err, -EINVAL, "kprobe field %.*s=%.*s is not an unsigned number",
			       (int)f->name_len, f->name, (int)f->val_len, f->val);
	return 0;
}

/* "(LOCATION) name=value ...": 1 when the field names make it one of ours. */
static int parse_kprobe(const char *event, size_t event_len, const char *body,
			struct ftrace_event *ev, struct errbuf *err)
{
	struct kp_field f[KP_MAX_FIELDS] = { { 0 } };
	const struct kp_field *dom, *iova, *paddr, *pgsize, *pgcount, *size, *prot, *dev;
	const char *p = body;
	size_t nr = 0;
	uint64_t v_iova = 0, v_size = 0, v_count = 1;
	int rc;

	if (*p != '(' || !(p = strchr(p, ')')))
		return 0;
	p++;
	while (*p) {
		const char *eq;

		if (*p != ' ' || nr == KP_MAX_FIELDS)
			return 0;
		p++;
		eq = p;
		while (isalnum((unsigned char)*eq) || *eq == '_')
			eq++;
		if (eq == p || *eq != '=')
			return 0;
		f[nr].name = p;
		f[nr].name_len = (size_t)(eq - p);
		p = eq + 1;
		f[nr].quoted = *p == '"';
		if (f[nr].quoted) {
			const char *end = strchr(p + 1, '"');

			if (!end)
				return 0;
			f[nr].val = p + 1;
			f[nr].val_len = (size_t)(end - p - 1);
			p = end + 1;
		} else {
			f[nr].val = p;
			f[nr].val_len = strcspn(p, " ");
			p += f[nr].val_len;
		}
		nr++;
	}
	dom = kp_get(f, nr, "dom");
	iova = kp_get(f, nr, "iova");
	paddr = kp_get(f, nr, "paddr");
	pgsize = kp_get(f, nr, "pgsize");
	pgcount = kp_get(f, nr, "pgcount");
	size = kp_get(f, nr, "size");
	prot = kp_get(f, nr, "prot");
	dev = kp_get(f, nr, "dev");
	if (!dom)
		return 0;
	if (nr == 1) {
		/* a domain_free probe: "dom" alone would say too little */
		bool named_free = false;

		for (size_t i = 0; i + 4 <= event_len; i++)
			named_free |= memcmp(event + i, "free", 4) == 0;
		if (!named_free)
			return 0;
		rc = kp_number(dom, &ev->handle, err);
		if (rc)
			return rc;
		ev->kind = FT_KPROBE_FREE;
		ev->rec.type = TRACE_REC_DOMAIN_FREE;
		return 1;
	}
	if (dev && !iova) {
		rc = kp_number(dom, &ev->handle, err);
		if (rc)
			return rc;
		if (!dev->quoted)
			return err_set(err, -EINVAL, "kprobe field dev=%.*s is not a string",
				       (int)dev->val_len, dev->val);
		rc = set_dev(ev, dev->val, dev->val_len, err);
		if (rc)
			return rc;
		ev->kind = FT_KPROBE_ATTACH;
		ev->rec.type = TRACE_REC_ATTACH;
		return 1;
	}
	if (!iova || !((pgsize && pgcount) || size))
		return 0;
	rc = kp_number(dom, &ev->handle, err);
	if (!rc)
		rc = kp_number(iova, &v_iova, err);
	if (!rc && pgsize && pgcount) {
		rc = kp_number(pgsize, &v_size, err);
		if (!rc)
			rc = kp_number(pgcount, &v_count, err);
		if (!rc && v_count && v_size > UINT64_MAX / v_count)
			rc = err_set(err, -EINVAL, "pgsize * pgcount overflows");
		if (!rc)
			v_size *= v_count;
	} else if (!rc) {
		rc = kp_number(size, &v_size, err);
	}
	if (rc)
		return rc;
	if (!range_ok(v_iova, v_size))
		return err_set(err, -EINVAL, "empty or wrapping range at iova 0x%llx",
			       (unsigned long long)v_iova);
	if (paddr) {
		uint64_t v_paddr, v_prot = 0;

		rc = kp_number(paddr, &v_paddr, err);
		if (!rc && prot)
			rc = kp_number(prot, &v_prot, err);
		if (rc)
			return rc;
		if (!range_ok(v_paddr, v_size))
			return err_set(err, -EINVAL, "wrapping physical range");
		ev->kind = FT_KPROBE_MAP;
		ev->rec.type = TRACE_REC_MAP;
		/* a probe that does not fetch prot leaves it unknown */
		ev->rec.flags = TRACE_MAP_F_DRIVER | (prot ? 0 : TRACE_F_NO_PROT);
		ev->rec.prot = prot ? (uint16_t)(v_prot & TRACE_PROT_KNOWN) : 0;
		ev->rec.u.map.iova = v_iova;
		ev->rec.u.map.paddr = v_paddr;
		ev->rec.u.map.size = v_size;
		if (pgsize && pgcount && v_count) {
			ev->pgsize = v_size / v_count;
			ev->pgcount = v_count;
		}
	} else {
		ev->kind = FT_KPROBE_UNMAP;
		ev->rec.type = TRACE_REC_UNMAP;
		ev->rec.flags = TRACE_UNMAP_F_DRIVER;
		ev->rec.u.unmap.iova = v_iova;
		ev->rec.u.unmap.size = v_size;
		ev->rec.u.unmap.unmapped = TRACE_UNKNOWN64;
	}
	return 1;
}

/* ---- dispatch ---- */

enum ev_id {
	E_MAP, E_UNMAP, E_ATTACH, E_DETACH, E_GROUP_ADD, E_GROUP_REMOVE, E_FAULT,
	E_DMA_MAP, E_DMA_MAP_RES, E_DMA_UNMAP, E_DMA_UNMAP_RES,
	E_ALLOC, E_ALLOC_PAGES, E_ALLOC_SGT, E_ALLOC_SGT_ERR,
	E_FREE, E_FREE_PAGES, E_FREE_SGT,
	E_MAP_SG, E_MAP_SG_ERR, E_UNMAP_SG,
	E_SYNC_SINGLE_CPU, E_SYNC_SINGLE_DEV, E_SYNC_SG_CPU, E_SYNC_SG_DEV,
};

static const struct {
	const char *name;
	enum ev_id id;
	bool iommu; /* an iommu:* event: the body starts with "IOMMU:" */
} events[] = {
	{ "map", E_MAP, true },
	{ "unmap", E_UNMAP, true },
	{ "attach_device_to_domain", E_ATTACH, true },
	{ "detach_device_from_domain", E_DETACH, true },
	{ "add_device_to_group", E_GROUP_ADD, true },
	{ "remove_device_from_group", E_GROUP_REMOVE, true },
	{ "io_page_fault", E_FAULT, true },
	{ "dma_map_page", E_DMA_MAP, false },
	{ "dma_map_phys", E_DMA_MAP, false },
	{ "dma_map_resource", E_DMA_MAP_RES, false },
	{ "dma_unmap_page", E_DMA_UNMAP, false },
	{ "dma_unmap_phys", E_DMA_UNMAP, false },
	{ "dma_unmap_resource", E_DMA_UNMAP_RES, false },
	{ "dma_alloc", E_ALLOC, false },
	{ "dma_alloc_pages", E_ALLOC_PAGES, false },
	{ "dma_alloc_sgt", E_ALLOC_SGT, false },
	{ "dma_alloc_sgt_err", E_ALLOC_SGT_ERR, false },
	{ "dma_free", E_FREE, false },
	{ "dma_free_pages", E_FREE_PAGES, false },
	{ "dma_free_sgt", E_FREE_SGT, false },
	{ "dma_map_sg", E_MAP_SG, false },
	{ "dma_map_sg_err", E_MAP_SG_ERR, false },
	{ "dma_unmap_sg", E_UNMAP_SG, false },
	{ "dma_sync_single_for_cpu", E_SYNC_SINGLE_CPU, false },
	{ "dma_sync_single_for_device", E_SYNC_SINGLE_DEV, false },
	{ "dma_sync_sg_for_cpu", E_SYNC_SG_CPU, false },
	{ "dma_sync_sg_for_device", E_SYNC_SG_DEV, false },
};

static int parse_known(enum ev_id id, struct cur *c, struct ftrace_event *ev,
		       struct errbuf *err)
{
	switch (id) {
	case E_MAP: return parse_iommu_map(c, ev, err);
	case E_UNMAP: return parse_iommu_unmap(c, ev, err);
	case E_ATTACH: return parse_iommu_device(c, ev, false, err);
	case E_DETACH: return parse_iommu_device(c, ev, true, err);
	case E_GROUP_ADD: return parse_iommu_group(c, ev, false, err);
	case E_GROUP_REMOVE: return parse_iommu_group(c, ev, true, err);
	case E_FAULT: return parse_io_page_fault(c, ev, err);
	case E_DMA_MAP: return parse_dma_map(c, ev, false, err);
	case E_DMA_MAP_RES: return parse_dma_map(c, ev, true, err);
	case E_DMA_UNMAP: return parse_dma_unmap(c, ev, false, err);
	case E_DMA_UNMAP_RES: return parse_dma_unmap(c, ev, true, err);
	case E_ALLOC: return parse_dma_alloc(c, ev, ALLOC, err);
	case E_ALLOC_PAGES: return parse_dma_alloc(c, ev, ALLOC_PAGES, err);
	case E_ALLOC_SGT: return parse_dma_alloc(c, ev, ALLOC_SGT, err);
	case E_ALLOC_SGT_ERR: return parse_dma_alloc(c, ev, ALLOC_SGT_ERR, err);
	case E_FREE: return parse_dma_alloc(c, ev, FREE, err);
	case E_FREE_PAGES: return parse_dma_alloc(c, ev, FREE_PAGES, err);
	case E_FREE_SGT: return parse_dma_alloc(c, ev, FREE_SGT, err);
	case E_MAP_SG: return parse_dma_map_sg(c, ev, err);
	case E_MAP_SG_ERR: return parse_dma_map_sg_err(c, ev, err);
	case E_UNMAP_SG: return parse_dma_unmap_sg(c, ev, err);
	case E_SYNC_SINGLE_CPU: return parse_dma_sync(c, ev, false, false, err);
	case E_SYNC_SINGLE_DEV: return parse_dma_sync(c, ev, false, true, err);
	case E_SYNC_SG_CPU: return parse_dma_sync(c, ev, true, false, err);
	case E_SYNC_SG_DEV: return parse_dma_sync(c, ev, true, true, err);
	}
	return err_set(err, -EINVAL, "internal: unhandled event");
}

void ftrace_event_release(struct ftrace_event *ev)
{
	free(ev->segs);
	free(ev->phys);
	ev->segs = NULL;
	ev->phys = NULL;
	ev->bytes = 0;
}

int ftrace_parse_event(const struct ftrace_line *line, struct ftrace_event *ev,
		       struct errbuf *err)
{
	int rc;

	memset(ev, 0, sizeof(*ev));
	trace_record_init(&ev->rec, 0);
	ev->rec.time_ns = line->time_ns;
	ev->rec.cpu = line->cpu;
	ev->rec.pid = line->pid;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		struct cur c = { line->body };
		const char *name = events[i].name;

		if (strlen(name) != line->event_len || memcmp(name, line->event, line->event_len))
			continue;
		/* "map"/"unmap" are common names: ours only with the IOMMU prefix */
		if (events[i].iommu && !lit(&c, events[i].id == E_FAULT ? "IOMMU:" : "IOMMU: "))
			return 0;
		rc = parse_known(events[i].id, &c, ev, err);
		if (rc) {
			ftrace_event_release(ev);
			return err_prefix(err, rc, "malformed %s%s event", events[i].iommu ?
					  "iommu:" : "dma:", name);
		}
		return 1;
	}
	rc = parse_kprobe(line->event, line->event_len, line->body, ev, err);
	if (rc < 0)
		return err_prefix(err, rc, "malformed kprobe event %.*s", (int)line->event_len,
				  line->event);
	return rc;
}
