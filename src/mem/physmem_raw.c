/* A flat file of physical memory whose first byte sits at a given base
 * address (e.g. a RAM image saved with QEMU's pmemsave).  Mapped
 * read-only when possible, pread otherwise. */
#include "mem/physmem.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem/backend.h"

struct raw_mem {
	struct mem_file file;
	uint64_t base;
	struct peek_copy copy;
};

static int raw_read(struct physmem *pm, uint64_t pa, void *buf, size_t len,
		    struct errbuf *err)
{
	struct raw_mem *rm = pm->priv;

	return mem_file_read(&rm->file, pm->path, pa - rm->base, buf, len, pa, err);
}

static const void *raw_peek(struct physmem *pm, uint64_t pa, size_t len)
{
	struct raw_mem *rm = pm->priv;

	if (rm->file.map)
		return rm->file.map + (pa - rm->base);
	return peek_copy_read(&rm->copy, pm, pa, len);
}

static void raw_free(struct physmem *pm)
{
	struct raw_mem *rm = pm->priv;

	if (!rm)
		return;
	mem_file_release(&rm->file);
	peek_copy_release(&rm->copy);
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
	uint64_t size;
	int fd, ret;

	*out = NULL;
	fd = mem_file_open(path, &size, err);
	if (fd < 0)
		return fd;
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
	rm->file.fd = -1;
	rm->base = base;
	range = malloc(sizeof(*range));
	if (!range) {
		ret = err_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	range->start = base;
	range->size = size;
	ret = physmem_set_ranges(pm, range, 1, err);
	if (ret < 0)
		goto fail;
	mem_file_init(&rm->file, fd, size);
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
