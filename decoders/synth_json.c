/* Spec helpers shared by the synth builders; see synth_json.h. */
#include "decoders/synth_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void spec_path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

struct json_object *spec_member(const struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

int spec_check_members(struct errbuf *err, const struct json_object *obj,
		       const char *path, const char *const *allowed)
{
	json_object_object_foreach((struct json_object *)obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (!allowed[i])
			return err_set(err, -EINVAL, "%s%sunknown member \"%s\"",
				       path, *path ? ": " : "", key);
	}
	return 0;
}

int spec_need_type(struct errbuf *err, const struct json_object *v,
		   enum json_type t, const char *path, const char *what)
{
	if (v && json_object_is_type(v, t))
		return 0;
	return err_set(err, -EINVAL, "%s: expected %s", path, what);
}

int spec_u64(struct errbuf *err, const struct json_object *v,
	     const char *path, uint64_t *out)
{
	const char *str, *p;
	unsigned base = 10;
	uint64_t val = 0;

	if (v && json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return err_set(err, -EINVAL, "%s: negative number", path);
		*out = json_object_get_uint64(v);
		return 0;
	}
	if (!v || !json_object_is_type(v, json_type_string))
		return err_set(err, -EINVAL, "%s: expected a number", path);
	str = p = json_object_get_string((struct json_object *)v);
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return err_set(err, -EINVAL, "%s: bad number \"%s\"", path, str);
	for (; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return err_set(err, -EINVAL, "%s: bad number \"%s\"", path, str);
		if (val > (UINT64_MAX - d) / base)
			return err_set(err, -EINVAL, "%s: \"%s\" does not fit in 64 bits",
				       path, str);
		val = val * base + d;
	}
	*out = val;
	return 0;
}

int spec_enum(struct errbuf *err, const struct json_object *v,
	      const char *path, const char *const *names)
{
	char list[128];
	size_t used = 0;

	if (v && json_object_is_type(v, json_type_string)) {
		const char *str = json_object_get_string((struct json_object *)v);

		for (int i = 0; names[i]; i++)
			if (strcmp(str, names[i]) == 0)
				return i;
	}
	list[0] = '\0';
	for (int i = 0; names[i] && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i ? ", " : "", names[i]);
	if (v && json_object_is_type(v, json_type_string))
		return err_set(err, -EINVAL, "%s: unknown value \"%s\" (one of %s)", path,
			       json_object_get_string((struct json_object *)v), list);
	return err_set(err, -EINVAL, "%s: expected one of %s", path, list);
}

int spec_top_array(struct errbuf *err, const struct json_object *spec,
		   const char *name, struct json_object **arr, size_t *n)
{
	int rc;

	*n = 0;
	*arr = spec_member(spec, name);
	if (!*arr)
		return 0;
	if ((rc = spec_need_type(err, *arr, json_type_array, name, "an array")) < 0)
		return rc;
	*n = json_object_array_length(*arr);
	if (*n > 0x10000)
		return err_set(err, -EINVAL, "%s: %zu %s, at most 65536", name, *n, name);
	return 0;
}
