#include "out/print.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

static const char *size_string(uint64_t size, char buf[24])
{
	static const char units[] = "KMGTPE";
	unsigned u = 0;

	if (size < 1024 || size % 1024) {
		snprintf(buf, 24, "%" PRIu64 "B", size);
		return buf;
	}
	size /= 1024;
	while (size >= 1024 && size % 1024 == 0 && u < sizeof(units) - 2) {
		size /= 1024;
		u++;
	}
	snprintf(buf, 24, "%" PRIu64 "%c", size, units[u]);
	return buf;
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

static void print_mapping_json(struct printer *p, const struct mapping *m)
{
	char dev[DEV_NAME_LEN];

	dev_ref_format(&m->dev, dev);
	fprintf(p->out, "{\"type\":\"mapping\",\"iommu\":\"%s\",\"device\":\"%s\",\"pasid\":",
		iommu_kind_name(m->iommu), dev);
	if (m->pasid == PASID_NONE)
		fputs("null", p->out);
	else
		fprintf(p->out, "%" PRId64, m->pasid);
	fputs(",\"domain\":", p->out);
	if (m->domain == DOMAIN_NONE)
		fputs("null", p->out);
	else
		fprintf(p->out, "%" PRId64, m->domain);
	fprintf(p->out,
		",\"iova\":\"0x%" PRIx64 "\",\"phys\":\"0x%" PRIx64 "\",\"size\":%" PRIu64
		",\"read\":%s,\"write\":%s,\"exec\":%s,\"user\":%s,\"snoop\":%s"
		",\"page_size\":%" PRIu64 ",\"level\":%u,\"entry\":\"0x%" PRIx64 "\"}\n",
		m->iova, m->phys, m->size,
		m->perm & PERM_R ? "true" : "false", m->perm & PERM_W ? "true" : "false",
		m->perm & PERM_X ? "true" : "false", m->perm & PERM_U ? "true" : "false",
		m->perm & PERM_SNP ? "true" : "false",
		m->page_size, m->level, m->entry_addr);
}

static void print_mapping_text(struct printer *p, const struct mapping *m)
{
	char dev[DEV_NAME_LEN], perm[8], size[24], psize[24];

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
	fprintf(p->out, "  iova 0x%012" PRIx64 "-0x%012" PRIx64 " -> phys 0x%012" PRIx64
		" %6s %s %s pages\n",
		m->iova, m->iova + m->size - 1, m->phys, size_string(m->size, size),
		perm_string(m->perm, perm), size_string(m->page_size, psize));
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

	p->leaves++;
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
