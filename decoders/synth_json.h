/* Spec helpers shared by the synth builders (vtd, smmuv3): member lookup,
 * unknown-member checks, numbers given as JSON integers or "0x.."/decimal
 * strings, enumerations, top-level arrays.  Every error names the spec
 * element (@path). */
#ifndef IOMMUTOOL_SYNTH_JSON_H
#define IOMMUTOOL_SYNTH_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "src/util/err.h"

/* Spec element paths ("devices[2].pasids[0].domain"); long ones are cut. */
void spec_path_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The member @key of @obj, or NULL when absent. */
struct json_object *spec_member(const struct json_object *obj, const char *key);

/* Rejects members not in the NULL-terminated @allowed (typos would
 * silently change the tables otherwise). */
int spec_check_members(struct errbuf *err, const struct json_object *obj,
		       const char *path, const char *const *allowed);

/* 0 when @v is of type @t, else an error "expected @what". */
int spec_need_type(struct errbuf *err, const struct json_object *v,
		   enum json_type t, const char *path, const char *what);

/* A number: JSON integer, or a string in decimal or 0x hex. */
int spec_u64(struct errbuf *err, const struct json_object *v,
	     const char *path, uint64_t *out);

/* Index of @v's string in the NULL-terminated @names, or an error
 * listing them. */
int spec_enum(struct errbuf *err, const struct json_object *v,
	      const char *path, const char *const *names);

/* The top-level array @name ("domains", "devices") of @spec: *@arr NULL
 * and *@n 0 when absent; at most 65536 entries. */
int spec_top_array(struct errbuf *err, const struct json_object *spec,
		   const char *name, struct json_object **arr, size_t *n);

#endif
