/* Streaming reader of trace.bin for hostile input: one record in memory
 * at a time, every size checked before it is used, every error naming
 * the file and the offset. */
#include "trace/trace.h"

#include <stdlib.h>
#include <string.h>

/* Reads up to @len bytes; returns how many (short only at end of file). */
static size_t read_some(struct trace_reader *r, void *buf, size_t len, int *e)
{
	size_t n = fread(buf, 1, len, r->f);

	*e = n < len && ferror(r->f) ? (errno ? errno : EIO) : 0;
	return n;
}

static int read_error(struct trace_reader *r, int e, struct errbuf *err)
{
	return err_set(err, -e, "cannot read %s: %s", r->path, strerror(e));
}

static int read_header(struct trace_reader *r, struct errbuf *err);

int trace_reader_open(struct trace_reader *r, const char *path,
		      struct errbuf *err)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->path = strdup(strcmp(path, "-") == 0 ? "<stdin>" : path);
	if (!r->path)
		return err_set(err, -ENOMEM, "out of memory");
	if (strcmp(path, "-") == 0) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "rb");
		if (!r->f) {
			e = errno;
			err_set(err, -e, "cannot open %s: %s", path, strerror(e));
			trace_reader_release(r);
			return -e;
		}
		r->own = true;
	}
	return read_header(r, err);
}

int trace_reader_open_stream(struct trace_reader *r, FILE *f, const char *name,
			     struct errbuf *err)
{
	memset(r, 0, sizeof(*r));
	r->path = strdup(name);
	if (!r->path)
		return err_set(err, -ENOMEM, "out of memory");
	r->f = f;
	return read_header(r, err);
}

static int read_header(struct trace_reader *r, struct errbuf *err)
{
	unsigned char h[TRACE_HDR_SIZE];
	uint16_t hdr_size;
	size_t n;
	int e;

	n = read_some(r, h, sizeof(h), &e);
	if (e) {
		read_error(r, e, err);
		goto fail;
	}
	if (n < TRACE_MAGIC_LEN || memcmp(h, TRACE_MAGIC, TRACE_MAGIC_LEN) != 0) {
		err_set(err, -EINVAL, "%s: not an iommutool trace (bad magic at offset 0)",
			r->path);
		goto fail;
	}
	if (n < sizeof(h)) {
		err_set(err, -EINVAL, "%s: truncated header (%zu of %d bytes)", r->path,
			n, TRACE_HDR_SIZE);
		goto fail;
	}
	r->version = trace_get16(h + TRACE_HDR_OFF_VERSION);
	if (r->version != TRACE_VERSION) {
		err_set(err, -EINVAL,
			"%s: unsupported trace version %u at offset 0x%x (this build reads version %d)",
			r->path, r->version, TRACE_HDR_OFF_VERSION, TRACE_VERSION);
		goto fail;
	}
	hdr_size = trace_get16(h + TRACE_HDR_OFF_HDRSIZE);
	if (hdr_size < TRACE_HDR_SIZE || hdr_size > TRACE_HDR_MAX_SIZE || hdr_size % 8) {
		err_set(err, -EINVAL, "%s: bad header size %u at offset 0x%x", r->path,
			hdr_size, TRACE_HDR_OFF_HDRSIZE);
		goto fail;
	}
	r->file_flags = trace_get32(h + TRACE_HDR_OFF_FLAGS);
	r->count = trace_get64(h + TRACE_HDR_OFF_COUNT);
	r->source = trace_get32(h + TRACE_HDR_OFF_SOURCE);
	if ((r->file_flags & TRACE_FILE_STREAMING) && r->count) {
		err_set(err, -EINVAL, "%s: streaming trace with a record count at offset 0x%x",
			r->path, TRACE_HDR_OFF_COUNT);
		goto fail;
	}
	/* Fields a later minor revision appends to the header are skipped. */
	for (size_t left = hdr_size - TRACE_HDR_SIZE; left > 0;) {
		size_t chunk = left < sizeof(h) ? left : sizeof(h);

		n = read_some(r, h, chunk, &e);
		if (e) {
			read_error(r, e, err);
			goto fail;
		}
		if (n < chunk) {
			err_set(err, -EINVAL, "%s: truncated header (%u bytes declared)",
				r->path, hdr_size);
			goto fail;
		}
		left -= chunk;
	}
	r->offset = hdr_size;
	return 0;
fail:
	trace_reader_release(r);
	return -EINVAL;
}

static int remember_device(struct trace_reader *r, const struct trace_record *rec,
			   struct errbuf *err)
{
	size_t idx = rec->device - 1;
	char *name;

	if (idx >= r->devices_cap) {
		size_t cap = r->devices_cap ? 2 * r->devices_cap : 16;
		char **p = realloc(r->devices, cap * sizeof(*p));

		if (!p)
			return err_set(err, -ENOMEM, "out of memory");
		memset(p + r->devices_cap, 0, (cap - r->devices_cap) * sizeof(*p));
		r->devices = p;
		r->devices_cap = cap;
	}
	name = strndup(rec->u.device.name, rec->u.device.len);
	if (!name)
		return err_set(err, -ENOMEM, "out of memory");
	r->devices[idx] = name;
	return 0;
}

int trace_reader_next(struct trace_reader *r, struct trace_record *rec,
		      struct errbuf *err)
{
	for (;;) {
		unsigned char h[TRACE_REC_HDR_SIZE];
		uint64_t at = r->offset;
		uint32_t size;
		size_t n;
		int e, rc;

		if (!(r->file_flags & TRACE_FILE_STREAMING) && r->nr_read == r->count) {
			n = read_some(r, h, 1, &e);
			if (e)
				return read_error(r, e, err);
			if (n)
				return err_set(err, -EINVAL,
					       "%s: data after the last of %llu records at offset 0x%llx",
					       r->path, (unsigned long long)r->count,
					       (unsigned long long)at);
			return 0;
		}
		n = read_some(r, h, sizeof(h), &e);
		if (e)
			return read_error(r, e, err);
		if (n == 0) {
			if (r->file_flags & TRACE_FILE_STREAMING)
				return 0;
			return err_set(err, -EINVAL,
				       "%s: trace ends after %llu of %llu records at offset 0x%llx",
				       r->path, (unsigned long long)r->nr_read,
				       (unsigned long long)r->count, (unsigned long long)at);
		}
		if (n < sizeof(h))
			return err_set(err, -EINVAL,
				       "%s: truncated record header at offset 0x%llx (%zu of %d bytes)",
				       r->path, (unsigned long long)at, n, TRACE_REC_HDR_SIZE);
		size = trace_get32(h + TRACE_REC_OFF_SIZE);
		if (size < TRACE_REC_HDR_SIZE || size % 8 || size > TRACE_REC_MAX_SIZE)
			return err_set(err, -EINVAL, "%s: bad record size %u at offset 0x%llx",
				       r->path, size, (unsigned long long)at);
		if (size > r->buf_cap) {
			unsigned char *p = realloc(r->buf, size);

			if (!p)
				return err_set(err, -ENOMEM, "out of memory");
			r->buf = p;
			r->buf_cap = size;
		}
		memcpy(r->buf, h, sizeof(h));
		n = read_some(r, r->buf + sizeof(h), size - sizeof(h), &e);
		if (e)
			return read_error(r, e, err);
		if (n < size - sizeof(h))
			return err_set(err, -EINVAL,
				       "%s: truncated record at offset 0x%llx (%zu of %u bytes)",
				       r->path, (unsigned long long)at, n + sizeof(h), size);
		r->offset += size;

		rc = trace_record_decode(r->buf, size, rec, &r->scratch, err);
		if (rc == 0 && rec->type >= TRACE_REC_OPTIONAL && !trace_type_name(rec->type)) {
			r->nr_read++;
			r->nr_skipped++;
			continue;
		}
		if (rc == 0)
			rc = trace_record_check(rec, &r->ids, err);
		if (rc == 0 && rec->type == TRACE_REC_DEVICE)
			rc = remember_device(r, rec, err);
		if (rc)
			return err_prefix(err, rc, "%s: record at offset 0x%llx", r->path,
					  (unsigned long long)at);
		r->nr_read++;
		return 1;
	}
}

const char *trace_reader_device(const struct trace_reader *r, uint32_t id)
{
	if (id == 0 || id > r->ids.nr_devices || id - 1 >= r->devices_cap)
		return NULL;
	return r->devices[id - 1];
}

void trace_reader_release(struct trace_reader *r)
{
	if (r->own && r->f)
		fclose(r->f);
	for (size_t i = 0; i < r->devices_cap; i++)
		free(r->devices[i]);
	free(r->devices);
	free(r->buf);
	trace_scratch_release(&r->scratch);
	free(r->path);
	memset(r, 0, sizeof(*r));
}
