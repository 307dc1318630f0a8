/* Live recording through tracefs (see tracefs.h). */
#include "trace/tracefs.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* An event switch we turn on, and what it said before. */
struct toggle {
	char path[PATH_MAX];
	char old[8];
	bool set;
};

enum { T_TRACING_ON, T_IOMMU, T_DMA, NR_TOGGLES };

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static const char *access_hint(int e)
{
	return e == EACCES || e == EPERM ? " (recording needs root)" : "";
}

static int write_file(const char *path, const char *s, struct errbuf *err)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	size_t n = strlen(s);

	if (fd < 0 || write(fd, s, n) != (ssize_t)n) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return err_set(err, -e, "cannot write %s: %s%s", path, strerror(e),
			       access_hint(e));
	}
	if (close(fd)) {
		int e = errno;

		return err_set(err, -e, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}

static int toggle_on(struct toggle *t, const char *dir, const char *name,
		     struct errbuf *err)
{
	ssize_t n;
	int fd, rc;

	snprintf(t->path, sizeof(t->path), "%s/%s", dir, name);
	fd = open(t->path, O_RDONLY);
	if (fd < 0) {
		int e = errno;

		return err_set(err, -e, "cannot open %s: %s%s", t->path, strerror(e),
			       access_hint(e));
	}
	n = read(fd, t->old, sizeof(t->old) - 1);
	close(fd);
	t->old[n > 0 ? n : 0] = '\0';
	/* "X" (some events of a system on) cannot be written back: use 0 */
	if (t->old[0] != '0' && t->old[0] != '1')
		strcpy(t->old, "0");
	t->old[1] = '\0';
	rc = write_file(t->path, "1", err);
	if (!rc)
		t->set = true;
	return rc;
}

static void toggles_restore(struct toggle *t, size_t nr)
{
	struct errbuf ignored;

	/* best effort: the recording's own outcome is what gets reported */
	for (size_t i = nr; i-- > 0;)
		if (t[i].set)
			write_file(t[i].path, t[i].old, &ignored);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Feeds every complete line in buf[0..*len) and keeps the rest. */
static int feed_lines(struct importer *imp, char *buf, size_t *len, bool final,
		      const char *pipe_path, uint64_t *lineno, struct errbuf *err)
{
	size_t start = 0;
	int rc;

	for (size_t i = 0; i < *len; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = '\0';
		++*lineno;
		rc = importer_line(imp, buf + start, err);
		if (rc)
			return err_prefix(err, rc, "%s:%llu", pipe_path, (unsigned long long)*lineno);
		start = i + 1;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
	if (final && *len) {
		buf[*len] = '\0';
		++*lineno;
		rc = importer_line(imp, buf, err);
		*len = 0;
		if (rc)
			return err_prefix(err, rc, "%s:%llu", pipe_path, (unsigned long long)*lineno);
	}
	if (*len >= FTRACE_LINE_MAX - 1)
		return err_set(err, -E2BIG, "%s:%llu: line longer than %d bytes", pipe_path,
			       (unsigned long long)*lineno + 1, FTRACE_LINE_MAX - 1);
	return 0;
}

static int read_pipe(struct importer *imp, const char *dir, unsigned seconds,
		     struct errbuf *err)
{
	char pipe_path[PATH_MAX];
	char *buf = malloc(FTRACE_LINE_MAX);
	size_t len = 0;
	uint64_t lineno = 0;
	double end = now() + seconds;
	int fd, rc = 0;

	if (!buf)
		return err_set(err, -ENOMEM, "out of memory");
	snprintf(pipe_path, sizeof(pipe_path), "%s/trace_pipe", dir);
	fd = open(pipe_path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		free(buf);
		return err_set(err, -e, "cannot open %s: %s%s", pipe_path, strerror(e),
			       access_hint(e));
	}
	for (;;) {
		double left = end - now();
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		int pr;

		if (left <= 0)
			break;
		pr = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			rc = err_set(err, -errno, "cannot poll %s: %s", pipe_path, strerror(errno));
			break;
		}
		if (pr == 0)
			continue;
		n = read(fd, buf + len, FTRACE_LINE_MAX - 1 - len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			rc = err_set(err, -errno, "cannot read %s: %s", pipe_path, strerror(errno));
			break;
		}
		if (n == 0)
			break; /* a regular file standing in for the pipe has ended */
		len += (size_t)n;
		rc = feed_lines(imp, buf, &len, false, pipe_path, &lineno, err);
		if (rc)
			break;
	}
	if (!rc)
		rc = feed_lines(imp, buf, &len, true, pipe_path, &lineno, err);
	close(fd);
	free(buf);
	return rc;
}

int tracefs_record(const char *dir, const char *out, unsigned seconds,
		   struct import_stats *stats, struct errbuf *err)
{
	struct toggle toggles[NR_TOGGLES];
	struct trace_writer w;
	struct importer imp;
	int rc;

	memset(toggles, 0, sizeof(toggles));
	memset(stats, 0, sizeof(*stats));
	if (!dir) {
		if (geteuid() != 0)
			return err_set(err, -EPERM,
				       "recording needs root (tracefs is readable by root only)");
		if (exists(TRACEFS_DEFAULT, "trace_pipe"))
			dir = TRACEFS_DEFAULT;
		else if (exists(TRACEFS_DEBUGFS, "trace_pipe"))
			dir = TRACEFS_DEBUGFS;
		else
			return err_set(err, -ENOENT,
				       "no tracefs at %s or %s (mount -t tracefs nodev %s)",
				       TRACEFS_DEFAULT, TRACEFS_DEBUGFS, TRACEFS_DEFAULT);
	} else if (!exists(dir, "trace_pipe")) {
		return err_set(err, -ENOENT, "%s is not a tracefs: it has no trace_pipe", dir);
	}
	if (!exists(dir, "events/iommu/enable"))
		return err_set(err, -ENOENT,
			       "%s has no iommu trace events (kernel built without them?)", dir);

	rc = toggle_on(&toggles[T_IOMMU], dir, "events/iommu/enable", err);
	if (!rc && exists(dir, "events/dma/enable"))
		rc = toggle_on(&toggles[T_DMA], dir, "events/dma/enable", err);
	if (!rc && exists(dir, "tracing_on"))
		rc = toggle_on(&toggles[T_TRACING_ON], dir, "tracing_on", err);
	if (rc)
		goto restore;

	rc = trace_writer_open(&w, out, TRACE_SOURCE_TRACEFS, err);
	if (rc)
		goto restore;
	rc = importer_init(&imp, &w, IMPORT_ATTR_DYNAMIC, err);
	if (!rc)
		rc = read_pipe(&imp, dir, seconds, err);
	if (!rc)
		rc = importer_flush(&imp, err);
	*stats = imp.stats;
	importer_release(&imp);
	if (!rc) {
		rc = trace_writer_finish(&w, err);
	} else {
		trace_writer_release(&w);
		if (strcmp(out, "-") != 0)
			unlink(out);
	}
restore:
	toggles_restore(toggles, NR_TOGGLES);
	return rc;
}
