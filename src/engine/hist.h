/* A fixed-size log-linear histogram (16 sub-buckets per power of two, so
 * quantiles are within 1/16 of the true value) for distributions over runs
 * of any length in bounded memory. */
#ifndef IOMMUTOOL_ENGINE_HIST_H
#define IOMMUTOOL_ENGINE_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t count, sum, max, min;
	uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* Value at quantile @q in [0, 1]: the upper edge of the bucket holding it,
 * clamped to the exact maximum; 0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
