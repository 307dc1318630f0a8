/* Helpers the physmem backends share; see backend.h. */
#include "mem/backend.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int mem_file_open(const char *path, uint64_t *size, struct errbuf *err)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		ret = err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		ret = err_set(err, -EISDIR, "cannot open %s: is a directory", path);
	else if (!S_ISREG(st.st_mode))
		ret = err_set(err, -EINVAL, "cannot open %s: not a regular file", path);
	else if (st.st_size == 0)
		ret = err_set(err, -EINVAL, "%s: empty file", path);
	else {
		*size = (uint64_t)st.st_size;
		return fd;
	}
	close(fd);
	return ret;
}

int mem_file_pread(int fd, void *buf, size_t len, uint64_t off, size_t *done)
{
	size_t got = 0;
	int ret = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : MEM_FILE_SHORT;
			break;
		}
		got += (size_t)n;
	}
	if (done)
		*done = got;
	return ret;
}

void mem_file_init(struct mem_file *f, int fd, uint64_t size)
{
	*f = (struct mem_file){ .fd = -1 };
	if (size <= SIZE_MAX) {
		void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (map != MAP_FAILED) {
			f->map = map;
			f->map_len = (size_t)size;
		}
	}
	if (f->map)
		close(fd);
	else
		f->fd = fd;
}

int mem_file_read(const struct mem_file *f, const char *path, uint64_t off,
		  void *buf, size_t len, uint64_t pa, struct errbuf *err)
{
	size_t done;
	int ret;

	if (f->map) {
		memcpy(buf, f->map + off, len);
		return 0;
	}
	ret = mem_file_pread(f->fd, buf, len, off, &done);
	if (ret == 0)
		return 0;
	return err_set(err, ret < 0 ? ret : -EIO,
		       "cannot read 0x%zx bytes at 0x%" PRIx64 " in %s: %s at file offset 0x%" PRIx64,
		       len, pa, path, ret < 0 ? strerror(-ret) : "unexpected end of file",
		       off + done);
}

void mem_file_release(struct mem_file *f)
{
	if (f->map)
		munmap((void *)f->map, f->map_len);
	if (f->fd >= 0)
		close(f->fd);
	*f = (struct mem_file){ .fd = -1 };
}

const void *peek_copy_read(struct peek_copy *pc, struct physmem *pm,
			   uint64_t pa, size_t len)
{
	if (len > pc->len) {
		unsigned char *p = realloc(pc->buf, len);

		if (!p)
			return NULL;
		pc->buf = p;
		pc->len = len;
	}
	if (pm->ops->read(pm, pa, pc->buf, len, NULL) < 0)
		return NULL;
	return pc->buf;
}

void peek_copy_release(struct peek_copy *pc)
{
	free(pc->buf);
	pc->buf = NULL;
	pc->len = 0;
}
