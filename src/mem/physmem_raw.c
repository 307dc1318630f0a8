/* A flat file of physical memory whose first byte sits at a given base
 * address (e.g. a RAM image saved with QEMU's pmemsave).  Mapped
 * read-only when possible, pread otherwise. */
#include "mem/physmem.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct raw_mem {
	int fd;                   /* only for pread when map is NULL */
	const unsigned char *map;
	size_t map_len;
	uint64_t base;
	unsigned char *scratch;
	size_t scratch_len;
};

static int raw_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		    struct errbuf *err)
{
	struct raw_mem *rm = pm->priv;
	uint64_t off = pa - rm->base;
	size_t done = 0;

	if (rm->map) {
		memcpy(buf, rm->map + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(rm->fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(err, n < 0 ? -errno : -EIO,
				       "cannot read 0x%zx bytes at 0x%" PRIx64 " in %s: %s at file offset 0x%" PRIx64,
				       len, pa, pm->path, n < 0 ? strerror(errno) : "unexpected end of file",
				       off + done);
		done += (size_t)n;
	}
	return 0;
}

static const void *raw_peek(struct physmem *pm, uint64_t pa, size_t len)
{
	struct raw_mem *rm = pm->priv;

	if (rm->map)
		return rm->map + (pa - rm->base);
	if (len > rm->scratch_len) {
		unsigned char *p = realloc(rm->scratch, len);

		if (!p)
			return NULL;
		rm->scratch = p;
		rm->scratch_len = len;
	}
	if (raw_read(pm, pa, rm->scratch, len, NULL) < 0)
		return NULL;
	return rm->scratch;
}

static void raw_free(struct physmem *pm)
{
	struct raw_mem *rm = pm->priv;

	if (!rm)
		return;
	if (rm->map)
		munmap((void *)rm->map, rm->map_len);
	if (rm->fd >= 0)
		close(rm->fd);
	free(rm->scratch);
	free(rm);
	pm->priv = NULL;
}

static const struct physmem_ops raw_ops = {
	.name = "raw",
	.read = raw_read,
	.peek = raw_peek,
	.free = raw_free,
};

int physmem_open_raw(const char *path, uint64_t base, struct physmem **out,
		     struct errbuf *err)
{
	struct physmem_range *range;
	struct physmem *pm = NULL;
	struct raw_mem *rm = NULL;
	struct stat st;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		ret = err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = err_set(err, -EISDIR, "cannot open %s: is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = err_set(err, -EINVAL, "cannot open %s: not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0) {
		ret = err_set(err, -EINVAL, "%s: empty file", path);
		goto fail;
	}
	pm = calloc(1, sizeof(*pm));
	rm = calloc(1, sizeof(*rm));
	if (pm)
		pm->path = strdup(path);
	if (!pm || !rm || !pm->path) {
		ret = err_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	pm->ops = &raw_ops;
	pm->priv = rm;
	rm->fd = -1;
	rm->base = base;
	range = malloc(sizeof(*range));
	if (!range) {
		ret = err_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	range->start = base;
	range->size = (uint64_t)st.st_size;
	ret = physmem_set_ranges(pm, range, 1, err);
	if (ret < 0)
		goto fail;
	if ((uint64_t)st.st_size <= SIZE_MAX) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (map != MAP_FAILED) {
			rm->map = map;
			rm->map_len = (size_t)st.st_size;
		}
	}
	if (rm->map)
		close(fd);
	else
		rm->fd = fd;
	*out = pm;
	return 0;
fail:
	close(fd);
	if (pm && pm->priv) {
		physmem_free(pm);
	} else {
		free(rm);
		if (pm)
			free(pm->path);
		free(pm);
	}
	return ret;
}
