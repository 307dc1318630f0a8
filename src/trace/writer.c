/* Streaming writer of trace.bin.  The header is written first with the
 * streaming flag set, so a file cut short is still readable; on a
 * seekable file trace_writer_finish fills in the record count. */
#include "trace/trace.h"

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

static void encode_header(unsigned char *h, uint32_t flags, uint64_t count,
			  uint32_t source)
{
	memset(h, 0, TRACE_HDR_SIZE);
	memcpy(h + TRACE_HDR_OFF_MAGIC, TRACE_MAGIC, TRACE_MAGIC_LEN);
	trace_put16(h + TRACE_HDR_OFF_VERSION, TRACE_VERSION);
	trace_put16(h + TRACE_HDR_OFF_HDRSIZE, TRACE_HDR_SIZE);
	trace_put32(h + TRACE_HDR_OFF_FLAGS, flags);
	trace_put64(h + TRACE_HDR_OFF_COUNT, count);
	trace_put32(h + TRACE_HDR_OFF_SOURCE, source);
}

static int write_error(struct trace_writer *w, struct errbuf *err)
{
	int e = errno ? errno : EIO;

	return err_set(err, -e, "cannot write %s: %s", w->path, strerror(e));
}

int trace_writer_open(struct trace_writer *w, const char *path,
		      enum trace_source source, struct errbuf *err)
{
	unsigned char h[TRACE_HDR_SIZE];
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->path = strdup(strcmp(path, "-") == 0 ? "<stdout>" : path);
	if (!w->path)
		return err_set(err, -ENOMEM, "out of memory");
	if (strcmp(path, "-") == 0) {
		w->f = stdout;
	} else {
		w->f = fopen(path, "wb");
		if (!w->f) {
			int e = errno;

			free(w->path);
			w->path = NULL;
			return err_set(err, -e, "cannot create %s: %s", path, strerror(e));
		}
		w->own = true;
	}
	/* the header is rewritten in place: not on pipes, nor on a file
	 * opened for appending (stdout redirected with >>) */
	w->seekable = fstat(fileno(w->f), &st) == 0 && S_ISREG(st.st_mode) &&
		      ftello(w->f) == 0 && !(fcntl(fileno(w->f), F_GETFL) & O_APPEND);
	w->source = source;
	encode_header(h, TRACE_FILE_STREAMING, 0, source);
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h)) {
		int rc = write_error(w, err);

		trace_writer_release(w);
		return rc;
	}
	return 0;
}

void trace_writer_set_flags(struct trace_writer *w, uint32_t flags)
{
	w->file_flags |= flags & (TRACE_FILE_KNOWN_FLAGS & ~TRACE_FILE_STREAMING);
}

int trace_writer_put(struct trace_writer *w, const struct trace_record *rec,
		     struct errbuf *err)
{
	size_t size = trace_record_size(rec);
	int rc;

	if (size == 0)
		return err_set(err, -EINVAL, "%s: %s record too large or of unknown type",
			       w->path, trace_type_name(rec->type) ? trace_type_name(rec->type) : "a");
	rc = trace_record_check(rec, &w->ids, err);
	if (rc)
		return err_prefix(err, rc, "%s: record %llu", w->path,
				  (unsigned long long)w->count);
	if (size > w->buf_size) {
		unsigned char *p = realloc(w->buf, size);

		if (!p)
			return err_set(err, -ENOMEM, "out of memory");
		w->buf = p;
		w->buf_size = size;
	}
	trace_record_encode(rec, w->buf);
	if (fwrite(w->buf, 1, size, w->f) != size)
		return write_error(w, err);
	w->count++;
	return 0;
}

int trace_writer_finish(struct trace_writer *w, struct errbuf *err)
{
	int rc = 0;

	/* A stream cannot be patched: it keeps the streaming flag, and its
	 * LOST records are all that tell of lost events. */
	if (w->seekable) {
		unsigned char h[TRACE_HDR_SIZE];

		encode_header(h, w->file_flags, w->count, w->source);
		if (fflush(w->f) || fseeko(w->f, 0, SEEK_SET) ||
		    fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
			rc = write_error(w, err);
	}
	if (!rc && fflush(w->f))
		rc = write_error(w, err);
	if (w->own) {
		if (fclose(w->f) && !rc)
			rc = write_error(w, err);
		w->own = false;
	}
	w->f = NULL;
	trace_writer_release(w);
	return rc;
}

void trace_writer_release(struct trace_writer *w)
{
	if (w->own && w->f)
		fclose(w->f);
	free(w->buf);
	free(w->path);
	memset(w, 0, sizeof(*w));
}
