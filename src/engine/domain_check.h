/* Checks of a domain against its reference model (check mode): after
 * every operation the touched range of the page table must say what the
 * flat model says.  Mismatches become "engine.check.mismatch" findings. */
#ifndef IOMMUTOOL_ENGINE_DOMAIN_CHECK_H
#define IOMMUTOOL_ENGINE_DOMAIN_CHECK_H

#include "engine/engine_int.h"

void check_mismatch(struct engine_domain *d, uint64_t iova, uint64_t size,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* After a map: the model takes the range and the table must agree; after
 * a failed one the range must be as it was. */
void check_map_done(struct engine_domain *d, uint64_t iova, uint64_t pa,
		    uint64_t size, uint32_t perm, bool expect_exist);
void check_map_failed(struct engine_domain *d, uint64_t iova, uint64_t size,
		      int ret, bool expect_exist);
/* Every page of [iova, iova+size) agrees with the model. */
void check_range(struct engine_domain *d, uint64_t iova, uint64_t size);
/* After an unmap of @size at @iova returned @n: the reported range is
 * gone (and leaves the model), the rest is untouched. */
void check_after_unmap(struct engine_domain *d, uint64_t iova, uint64_t size,
		       uint64_t n);
/* The leaf that held @cur started below it: if it went whole, the pages
 * before @cur were unmapped without being reported. */
void check_leaf_before(struct engine_domain *d, const struct pt_leaf *leaf,
		       uint64_t cur);

#endif
