/* Error reporting: a negative errno-style code plus a one-line message in a
 * caller-owned buffer.  Nothing below main() prints. */
#ifndef IOMMUTOOL_ERR_H
#define IOMMUTOOL_ERR_H

#include <errno.h>
#include <stddef.h>

#define ERRBUF_LEN 512

struct errbuf {
	char msg[ERRBUF_LEN];
};

/* Formats the message and returns @code (which should be negative), so a
 * failing function can say `return err_set(err, -EIO, "...", ...);`. */
int err_set(struct errbuf *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes an existing message: "ctx: old message". */
int err_prefix(struct errbuf *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
