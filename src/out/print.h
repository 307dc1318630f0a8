/* The print layer: a sink that writes mapping and finding records as text
 * or JSON Lines.  In text mode leaves that continue each other (same
 * device, PASID, domain, permissions and page size; IOVA and physical
 * address both contiguous) are coalesced into ranges unless --pages. */
#ifndef IOMMUTOOL_PRINT_H
#define IOMMUTOOL_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "out/record.h"

/* Text mode keeps findings to print after the mappings; past this many
 * only the count grows. */
#define PRINT_MAX_HELD_FINDINGS 10000

struct held_finding {
	enum severity severity;
	char *text; /* owned, the formatted line */
};

struct printer {
	struct sink sink;        /* first: the printer is a sink */
	FILE *out;
	bool json;
	bool pages;              /* one record per leaf, no coalescing */
	bool pending_valid;
	struct mapping pending;  /* the range being coalesced */
	struct dev_ref cur_dev;  /* text: last device header printed */
	int64_t cur_pasid, cur_domain;
	bool have_header;
	struct dev_ref json_dev;  /* JSON: device of json_dev_name */
	bool json_dev_valid;
	char json_dev_name[DEV_NAME_LEN];
	struct held_finding *held; /* owned */
	size_t nr_held, cap_held;
	uint64_t mappings;       /* records printed */
	uint64_t leaves;         /* leaves received */
	uint64_t bytes;          /* bytes mapped */
	uint64_t findings[3];    /* per severity */
	int worst;               /* highest severity seen, -1 none */
};

void printer_init(struct printer *p, FILE *out, bool json, bool pages);
/* Flushes the pending range; text mode then prints held findings and a
 * summary line.  Returns <0 on a write error. */
int printer_finish(struct printer *p);
void printer_release(struct printer *p);

/* Prints "0x..." with at least @width hex digits. */
void print_hex(FILE *f, uint64_t v);

#endif
