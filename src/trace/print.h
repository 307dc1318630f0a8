/* Printing trace records: one line of text or one JSON object per record
 * (JSON Lines).  Both come from the same field list, so they cannot
 * disagree. */
#ifndef IOMMUTOOL_TRACE_PRINT_H
#define IOMMUTOOL_TRACE_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "trace/trace.h"

/* Looks up a device name by id (NULL when unknown). */
typedef const char *(*trace_device_lookup)(const void *ctx, uint32_t id);

int trace_print_record(FILE *out, bool json, const struct trace_record *rec,
		       trace_device_lookup lookup, const void *ctx);

#endif
