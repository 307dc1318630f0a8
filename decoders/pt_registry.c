/* Page-table codecs by name.  Adding a format is one line here plus its
 * extern in pt.h. */
#include "decoders/pt.h"

#include <stddef.h>
#include <string.h>

static const struct pt_format *const pt_formats[] = {
	&pt_fmt_vtd_ss,
	&pt_fmt_x86_64,
	&pt_fmt_lpae,
	&pt_fmt_v7s,
	&pt_fmt_amd_v1,
};

#define NR_PT_FORMATS (sizeof(pt_formats) / sizeof(pt_formats[0]))

const struct pt_format *pt_format_at(unsigned i)
{
	return i < NR_PT_FORMATS ? pt_formats[i] : NULL;
}

const struct pt_format *pt_format_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NR_PT_FORMATS; i++)
		if (strcmp(pt_formats[i]->name, name) == 0)
			return pt_formats[i];
	return NULL;
}
