#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct errbuf *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct errbuf *err, int code, const char *fmt, ...)
{
	char old[ERRBUF_LEN];
	size_t n;
	va_list ap;

	if (!err)
		return code;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = (size_t)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n + 2 < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %.*s",
			 (int)(sizeof(err->msg) - n - 3), old);
	return code;
}
