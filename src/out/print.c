#include "out/print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Mapping records are built in memory and written with one fwrite:
 * printf costs microseconds per line, which dominates dumps of a million
 * leaves.  Every piece is bounded (numbers, short names), so a line never
 * reaches LINE_LEN; line_mem() clips rather than overrun. */
#define LINE_LEN 512

struct line {
	size_t n;
	char buf[LINE_LEN];
};

static void line_mem(struct line *l, const char *s, size_t len)
{
	if (len > LINE_LEN - l->n)
		len = LINE_LEN - l->n;
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

static void line_str(struct line *l, const char *s)
{
	line_mem(l, s, strlen(s));
}

#define line_lit(l, lit) line_mem((l), (lit), sizeof(lit) - 1)

/* Hex digits of @v, at least @min (<= 16) of them (printf "%0*" PRIx64),
 * written in place from the last digit back. */
static void line_hex(struct line *l, uint64_t v, unsigned min)
{
	unsigned k = (67 - (unsigned)__builtin_clzll(v | 1)) / 4;
	char *p;

	if (k < min)
		k = min;
	if (k > LINE_LEN - l->n)
		return;
	p = l->buf + l->n + k;
	l->n += k;
	while (k--) {
		*--p = "0123456789abcdef"[v & 15];
		v >>= 4;
	}
}

/* Decimal digits of @v into the end of @d; returns how many. */
static unsigned dec_digits(uint64_t v, char d[20])
{
	unsigned k = 0;

	do {
		d[20 - ++k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return k;
}

static void line_u64(struct line *l, uint64_t v)
{
	char d[20];
	unsigned k = dec_digits(v, d);

	line_mem(l, d + 20 - k, k);
}

static void line_i64(struct line *l, int64_t v)
{
	if (v < 0) {
		line_mem(l, "-", 1);
		line_u64(l, 0 - (uint64_t)v);
	} else {
		line_u64(l, (uint64_t)v);
	}
}

/* @s right-aligned in @width columns (printf "%*s"). */
static void line_right(struct line *l, const char *s, size_t len, size_t width)
{
	static const char spaces[] = "                ";

	while (len < width) {
		size_t pad = width - len < sizeof(spaces) - 1 ? width - len
							       : sizeof(spaces) - 1;

		line_mem(l, spaces, pad);
		width -= pad;
	}
	line_mem(l, s, len);
}

static void line_write(const struct line *l, FILE *f)
{
	fwrite(l->buf, 1, l->n, f);
}

static const char *perm_string(uint32_t perm, char buf[8])
{
	buf[0] = perm & PERM_R ? 'r' : '-';
	buf[1] = perm & PERM_W ? 'w' : '-';
	buf[2] = perm & PERM_X ? 'x' : '-';
	buf[3] = perm & PERM_U ? 'u' : '-';
	buf[4] = perm & PERM_SNP ? 's' : '-';
	buf[5] = '\0';
	return buf;
}

/* "4K", "2M", "12288B": the largest unit dividing @size; returns the
 * length written into @buf (no terminator). */
static size_t size_string(uint64_t size, char buf[24])
{
	static const char units[] = "KMGTPE";
	unsigned u = 0, k;
	char d[20];

	if (size < 1024 || size % 1024) {
		k = dec_digits(size, d);
		memcpy(buf, d + 20 - k, k);
		buf[k] = 'B';
		return k + 1;
	}
	size /= 1024;
	while (size >= 1024 && size % 1024 == 0 && u < sizeof(units) - 2) {
		size /= 1024;
		u++;
	}
	k = dec_digits(size, d);
	memcpy(buf, d + 20 - k, k);
	buf[k] = units[u];
	return k + 1;
}

void print_hex(FILE *f, uint64_t v)
{
	fprintf(f, "0x%" PRIx64, v);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void line_bool(struct line *l, bool b)
{
	if (b)
		line_lit(l, "true");
	else
		line_lit(l, "false");
}

static void print_mapping_json(struct printer *p, const struct mapping *m)
{
	const char *iommu = iommu_kind_name(m->iommu);
	struct line l;

	l.n = 0;
	if (!p->json_dev_valid || p->json_dev.id != m->dev.id ||
	    p->json_dev.segment != m->dev.segment || p->json_dev.pci != m->dev.pci) {
		dev_ref_format(&m->dev, p->json_dev_name);
		p->json_dev = m->dev;
		p->json_dev_valid = true;
	}
	line_lit(&l, "{\"type\":\"mapping\",\"iommu\":\"");
	line_str(&l, iommu ? iommu : "(null)"); /* what printf made of NULL */
	line_lit(&l, "\",\"device\":\"");
	line_str(&l, p->json_dev_name);
	line_lit(&l, "\",\"pasid\":");
	if (m->pasid == PASID_NONE)
		line_lit(&l, "null");
	else
		line_i64(&l, m->pasid);
	line_lit(&l, ",\"domain\":");
	if (m->domain == DOMAIN_NONE)
		line_lit(&l, "null");
	else
		line_i64(&l, m->domain);
	line_lit(&l, ",\"iova\":\"0x");
	line_hex(&l, m->iova, 1);
	line_lit(&l, "\",\"phys\":\"0x");
	line_hex(&l, m->phys, 1);
	line_lit(&l, "\",\"size\":");
	line_u64(&l, m->size);
	line_lit(&l, ",\"read\":");
	line_bool(&l, m->perm & PERM_R);
	line_lit(&l, ",\"write\":");
	line_bool(&l, m->perm & PERM_W);
	line_lit(&l, ",\"exec\":");
	line_bool(&l, m->perm & PERM_X);
	line_lit(&l, ",\"user\":");
	line_bool(&l, m->perm & PERM_U);
	line_lit(&l, ",\"snoop\":");
	line_bool(&l, m->perm & PERM_SNP);
	line_lit(&l, ",\"page_size\":");
	line_u64(&l, m->page_size);
	line_lit(&l, ",\"level\":");
	line_u64(&l, m->level);
	line_lit(&l, ",\"entry\":\"0x");
	line_hex(&l, m->entry_addr, 1);
	line_lit(&l, "\"}\n");
	line_write(&l, p->out);
}

static void print_mapping_text(struct printer *p, const struct mapping *m)
{
	char dev[DEV_NAME_LEN], perm[8], size[24];
	struct line l;
	size_t n;

	if (!p->have_header || p->cur_dev.id != m->dev.id ||
	    p->cur_dev.segment != m->dev.segment || p->cur_dev.pci != m->dev.pci ||
	    p->cur_pasid != m->pasid || p->cur_domain != m->domain) {
		dev_ref_format(&m->dev, dev);
		fprintf(p->out, "%s", dev);
		if (m->pasid != PASID_NONE)
			fprintf(p->out, " pasid %" PRId64, m->pasid);
		if (m->domain != DOMAIN_NONE)
			fprintf(p->out, " domain %" PRId64, m->domain);
		fputs(":\n", p->out);
		p->cur_dev = m->dev;
		p->cur_pasid = m->pasid;
		p->cur_domain = m->domain;
		p->have_header = true;
	}
	/* "  iova 0x%012llx-0x%012llx -> phys 0x%012llx %6s %s %s pages" */
	l.n = 0;
	line_lit(&l, "  iova 0x");
	line_hex(&l, m->iova, 12);
	line_lit(&l, "-0x");
	line_hex(&l, m->iova + m->size - 1, 12);
	line_lit(&l, " -> phys 0x");
	line_hex(&l, m->phys, 12);
	line_lit(&l, " ");
	n = size_string(m->size, size);
	line_right(&l, size, n, 6);
	line_lit(&l, " ");
	line_mem(&l, perm_string(m->perm, perm), 5);
	line_lit(&l, " ");
	line_mem(&l, size, size_string(m->page_size, size));
	line_lit(&l, " pages\n");
	line_write(&l, p->out);
}

static void print_mapping(struct printer *p, const struct mapping *m)
{
	p->mappings++;
	if (p->json)
		print_mapping_json(p, m);
	else
		print_mapping_text(p, m);
}

static bool continues(const struct mapping *a, const struct mapping *b)
{
	return a->iommu == b->iommu && a->dev.id == b->dev.id &&
	       a->dev.segment == b->dev.segment && a->dev.pci == b->dev.pci &&
	       a->pasid == b->pasid && a->domain == b->domain &&
	       a->perm == b->perm && a->page_size == b->page_size &&
	       a->iova + a->size == b->iova && a->phys + a->size == b->phys &&
	       a->iova + a->size > a->iova;
}

static int on_mapping(struct sink *s, const struct mapping *m)
{
	struct printer *p = (struct printer *)s;

	p->leaves += m->leaves > 1 ? m->leaves : 1;
	p->bytes += m->size;
	if (p->pages) {
		print_mapping(p, m);
		return 0;
	}
	if (p->pending_valid && continues(&p->pending, m)) {
		p->pending.size += m->size;
		return 0;
	}
	if (p->pending_valid)
		print_mapping(p, &p->pending);
	p->pending = *m;
	p->pending_valid = true;
	return 0;
}

static void print_finding_json(FILE *f, const struct finding *fd)
{
	char dev[DEV_NAME_LEN];

	fprintf(f, "{\"type\":\"finding\",\"severity\":\"%s\",\"code\":",
		severity_name(fd->severity));
	json_string(f, fd->code);
	fprintf(f, ",\"addr\":\"0x%" PRIx64 "\",\"path\":", fd->addr);
	json_string(f, fd->path ? fd->path : "");
	fputs(",\"device\":", f);
	if (fd->has_dev) {
		dev_ref_format(&fd->dev, dev);
		json_string(f, dev);
	} else {
		fputs("null", f);
	}
	fputs(",\"pasid\":", f);
	if (fd->has_dev && fd->pasid != PASID_NONE)
		fprintf(f, "%" PRId64, fd->pasid);
	else
		fputs("null", f);
	fputs(",\"message\":", f);
	json_string(f, fd->message ? fd->message : "");
	fputs("}\n", f);
}

static char *format_finding_text(const struct finding *fd)
{
	char dev[DEV_NAME_LEN] = "";
	char *line = NULL;

	if (fd->has_dev)
		dev_ref_format(&fd->dev, dev);
	if (asprintf(&line, "%-7s %s at 0x%" PRIx64 "%s%s%s%s: %s",
		     severity_name(fd->severity), fd->code, fd->addr,
		     fd->has_dev ? " " : "", dev,
		     fd->path && *fd->path ? " " : "", fd->path ? fd->path : "",
		     fd->message ? fd->message : "") < 0)
		return NULL;
	return line;
}

static int on_finding(struct sink *s, const struct finding *fd)
{
	struct printer *p = (struct printer *)s;

	if ((unsigned)fd->severity < 3)
		p->findings[fd->severity]++;
	if ((int)fd->severity > p->worst)
		p->worst = (int)fd->severity;
	if (p->json) {
		print_finding_json(p->out, fd);
		return 0;
	}
	if (p->nr_held >= PRINT_MAX_HELD_FINDINGS)
		return 0;
	if (p->nr_held == p->cap_held) {
		size_t cap = p->cap_held ? p->cap_held * 2 : 32;
		struct held_finding *v = realloc(p->held, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->held = v;
		p->cap_held = cap;
	}
	p->held[p->nr_held].severity = fd->severity;
	p->held[p->nr_held].text = format_finding_text(fd);
	if (!p->held[p->nr_held].text)
		return -ENOMEM;
	p->nr_held++;
	return 0;
}

void printer_init(struct printer *p, FILE *out, bool json, bool pages)
{
	memset(p, 0, sizeof(*p));
	p->sink.mapping = on_mapping;
	p->sink.finding = on_finding;
	p->out = out;
	p->json = json;
	p->pages = pages;
	p->sink.takes_runs = !pages; /* on_mapping joins them anyway */
	p->worst = -1;
}

int printer_finish(struct printer *p)
{
	uint64_t total;

	if (p->pending_valid) {
		print_mapping(p, &p->pending);
		p->pending_valid = false;
	}
	if (!p->json) {
		total = p->findings[0] + p->findings[1] + p->findings[2];
		if (p->nr_held)
			fputs("findings:\n", p->out);
		for (size_t i = 0; i < p->nr_held; i++)
			fprintf(p->out, "  %s\n", p->held[i].text);
		if (total > p->nr_held)
			fprintf(p->out, "  ... %" PRIu64 " more findings not shown (use --json)\n",
				total - p->nr_held);
		fprintf(p->out, "%" PRIu64 " leaves in %" PRIu64 " ranges; findings: %" PRIu64
			" error, %" PRIu64 " warning, %" PRIu64 " info\n",
			p->leaves, p->mappings, p->findings[SEV_ERROR],
			p->findings[SEV_WARNING], p->findings[SEV_INFO]);
	}
	if (fflush(p->out) != 0 || ferror(p->out))
		return -EIO;
	return 0;
}

void printer_release(struct printer *p)
{
	for (size_t i = 0; i < p->nr_held; i++)
		free(p->held[i].text);
	free(p->held);
	p->held = NULL;
	p->nr_held = p->cap_held = 0;
}
