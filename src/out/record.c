#include "out/record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const severity_names[] = {
	[SEV_INFO] = "info",
	[SEV_WARNING] = "warning",
	[SEV_ERROR] = "error",
};

const char *severity_name(enum severity s)
{
	if ((unsigned)s >= sizeof(severity_names) / sizeof(severity_names[0]))
		return "?";
	return severity_names[s];
}

int severity_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(severity_names) / sizeof(severity_names[0]); i++)
		if (strcmp(s, severity_names[i]) == 0)
			return (int)i;
	return -1;
}

void dev_ref_format(const struct dev_ref *d, char buf[DEV_NAME_LEN])
{
	if (d->pci)
		snprintf(buf, DEV_NAME_LEN, "%04x:%02x:%02x.%x", d->segment,
			 (d->id >> 8) & 0xff, (d->id >> 3) & 0x1f, d->id & 7);
	else
		snprintf(buf, DEV_NAME_LEN, "sid:0x%x", d->id);
}

static bool parse_hex(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned digit;

		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			digit = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			digit = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v * 16 + digit;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

bool dev_ref_parse_bdf(const char *s, struct dev_ref *out)
{
	const char *parts[4];
	size_t lens[4];
	unsigned n = 0, seg = 0, bus, dev, fn;
	const char *p = s, *dot = strrchr(s, '.');

	if (!dot)
		return false;
	/* split "[dddd:]bb:dd" at colons */
	while (n < 3) {
		const char *c = strchr(p, ':');

		if (!c || c > dot)
			break;
		parts[n] = p;
		lens[n] = (size_t)(c - p);
		n++;
		p = c + 1;
	}
	parts[n] = p;
	lens[n] = (size_t)(dot - p);
	n++;
	if (n == 3) {
		if (!parse_hex(parts[0], lens[0], 0xffff, &seg))
			return false;
		parts[0] = parts[1]; lens[0] = lens[1];
		parts[1] = parts[2]; lens[1] = lens[2];
	} else if (n != 2) {
		return false;
	}
	if (!parse_hex(parts[0], lens[0], 0xff, &bus) ||
	    !parse_hex(parts[1], lens[1], 0x1f, &dev) ||
	    !parse_hex(dot + 1, strlen(dot + 1), 7, &fn))
		return false;
	out->segment = (uint16_t)seg;
	out->id = bus << 8 | dev << 3 | fn;
	out->pci = true;
	return true;
}

int emit_finding(struct sink *s, enum severity sev, const char *code,
		 uint64_t addr, const char *path, const struct dev_ref *dev,
		 int64_t pasid, const char *fmt, ...)
{
	char msg[256];
	struct finding f = {
		.severity = sev, .code = code, .addr = addr,
		.path = path ? path : "", .message = msg,
		.has_dev = dev != NULL, .pasid = pasid,
	};
	va_list ap;

	if (!s)
		return 0;
	if (dev)
		f.dev = *dev;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sink_finding(s, &f);
}
