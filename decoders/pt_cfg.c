/* pt_cfg_init: the one place a format instance is set up, so every codec
 * sees the same zeroed struct and the same sanity checks. */
#include "decoders/pt.h"

#include <string.h>

int pt_cfg_init(struct pt_cfg *cfg, const struct pt_format *fmt,
		unsigned levels, unsigned ias, unsigned oas,
		unsigned granule_shift, uint64_t flags, struct errbuf *err)
{
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (!fmt || !fmt->init)
		return err_set(err, -EINVAL, "no page-table format given");
	if (levels == 0 || levels > PT_MAX_LEVELS)
		return err_set(err, -EINVAL, "%s: %u levels not supported",
			       fmt->name, levels);
	if (ias > 64 || oas > 64)
		return err_set(err, -EINVAL, "%s: address width %u/%u bits out of range",
			       fmt->name, ias, oas);
	cfg->fmt = fmt;
	cfg->levels = levels;
	cfg->ias = ias;
	cfg->oas = oas;
	cfg->granule_shift = granule_shift;
	cfg->flags = flags;
	ret = fmt->init(cfg, err);
	if (ret < 0)
		return ret;
	/* Codecs must leave a geometry the walker can trust. */
	for (unsigned l = 0; l < cfg->levels; l++) {
		if (cfg->level_bits[l] == 0 || cfg->level_bits[l] > 28 ||
		    cfg->level_shift[l] + cfg->level_bits[l] > 64 ||
		    (l > 0 && cfg->level_shift[l] <= cfg->level_shift[l - 1]))
			return err_set(err, -EINVAL, "%s: bad geometry at level %u",
				       fmt->name, l);
	}
	if (cfg->leaf_sizes == 0)
		return err_set(err, -EINVAL, "%s: no page sizes", fmt->name);
	return 0;
}
