/* struct image_info: units, register snapshots, devices and DMA windows,
 * with the value checks the note reader and writer share. */
#include "image/image.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_note.h"

static const char *const kind_names[IOMMU_KIND_MAX] = {
	[IOMMU_VTD] = "vtd",
	[IOMMU_AMD] = "amd",
	[IOMMU_SMMUV3] = "smmuv3",
	[IOMMU_PAPR] = "papr",
};

const char *iommu_kind_name(enum iommu_kind k)
{
	if ((unsigned)k >= IOMMU_KIND_MAX)
		return NULL;
	return kind_names[k];
}

enum iommu_kind iommu_kind_parse(const char *name)
{
	if (!name)
		return IOMMU_NONE;
	for (unsigned k = 0; k < IOMMU_KIND_MAX; k++)
		if (kind_names[k] && strcmp(kind_names[k], name) == 0)
			return (enum iommu_kind)k;
	return IOMMU_NONE;
}

const char *image_reg_name_problem(const char *field, size_t len)
{
	size_t n = strnlen(field, len);

	if (n == len)
		return "is not NUL-terminated";
	if (n == 0)
		return "is empty";
	for (size_t i = 0; i < n; i++) {
		char c = field[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return "has a character outside [a-z0-9_]";
	}
	return NULL;
}

const char *image_dev_name_problem(const char *field, size_t len)
{
	size_t n = strnlen(field, len);

	if (n == len)
		return "is not NUL-terminated";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)field[i] < 0x20 || (unsigned char)field[i] > 0x7e)
			return "has a character outside printable ASCII";
	return NULL;
}

const char *image_window_problem(const struct image_window *w)
{
	if (w->levels < 1 || w->levels > 5)
		return "levels is not 1..5";
	if (w->page_shift < 12 || w->page_shift > 63)
		return "page_shift is not 12..63";
	if (w->table_shift > 63)
		return "table_shift is larger than 63";
	if (w->size == 0)
		return "size is 0";
	if (w->size - 1 > UINT64_MAX - w->bus_start)
		return "bus_start + size wraps past 2^64";
	return NULL;
}

void image_info_init(struct image_info *info)
{
	memset(info, 0, sizeof(*info));
}

static void unit_release(struct image_unit *u)
{
	free(u->regs);
	free(u->devices);
	free(u->windows);
}

void image_info_release(struct image_info *info)
{
	for (size_t i = 0; i < info->nr_units; i++)
		unit_release(&info->units[i]);
	free(info->units);
	image_info_init(info);
}

struct image_unit *image_info_find_unit(const struct image_info *info,
					uint32_t index)
{
	for (size_t i = 0; i < info->nr_units; i++)
		if (info->units[i].index == index)
			return &info->units[i];
	return NULL;
}

struct image_unit *image_info_unit(struct image_info *info, uint32_t index,
				   struct errbuf *err)
{
	struct image_unit *u = image_info_find_unit(info, index);

	if (u)
		return u;
	if (info->nr_units >= IMAGE_MAX_UNITS) {
		err_set(err, -E2BIG, "cannot add unit %" PRIu32 ": more than %d units",
			index, IMAGE_MAX_UNITS);
		return NULL;
	}
	if (!info->units) {
		info->units = calloc(IMAGE_MAX_UNITS, sizeof(*info->units));
		if (!info->units) {
			err_set(err, -ENOMEM, "cannot add unit %" PRIu32 ": out of memory", index);
			return NULL;
		}
	}
	u = &info->units[info->nr_units++];
	memset(u, 0, sizeof(*u));
	u->index = index;
	return u;
}

/* Grows a list whose capacity is implied by its length: 8, then powers
 * of two (the lists only ever grow through this function). */
static int list_reserve_one(void **list, size_t nr, size_t elem)
{
	size_t cap = 8;
	void *p;

	while (cap < nr)
		cap *= 2;
	if (*list && nr < cap)
		return 0;
	if (nr >= IMAGE_MAX_RECORDS)
		return -E2BIG;
	p = realloc(*list, (nr < 8 ? 8 : nr * 2) * elem);
	if (!p)
		return -ENOMEM;
	*list = p;
	return 0;
}

static int list_error(struct errbuf *err, int ret, const char *what, uint32_t unit)
{
	if (ret == -E2BIG)
		return err_set(err, ret, "unit %" PRIu32 " has too many %s (limit %u)",
			       unit, what, IMAGE_MAX_RECORDS);
	return err_set(err, ret, "unit %" PRIu32 ": out of memory for %s", unit, what);
}

int image_unit_set_reg(struct image_unit *u, const char *name, uint64_t value,
		       struct errbuf *err)
{
	const char *problem;
	size_t n = strnlen(name, IMAGE_REG_NAME_LEN);

	problem = image_reg_name_problem(name, IMAGE_REG_NAME_LEN);
	if (problem)
		return err_set(err, -EINVAL, "register name \"%.*s%s\" %s",
			       (int)n, name, n == IMAGE_REG_NAME_LEN ? "..." : "", problem);
	for (size_t i = 0; i < u->nr_regs; i++) {
		if (strcmp(u->regs[i].name, name) == 0) {
			u->regs[i].value = value;
			return 0;
		}
	}
	return image_unit_append_reg(u, name, value, err);
}

int image_unit_append_reg(struct image_unit *u, const char *name, uint64_t value,
			  struct errbuf *err)
{
	struct image_reg *r;
	int ret = list_reserve_one((void **)&u->regs, u->nr_regs, sizeof(*u->regs));

	if (ret < 0)
		return list_error(err, ret, "registers", u->index);
	r = &u->regs[u->nr_regs++];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, strnlen(name, IMAGE_REG_NAME_LEN - 1));
	r->value = value;
	return 0;
}

bool image_unit_reg(const struct image_unit *u, const char *name, uint64_t *value)
{
	for (size_t i = 0; i < u->nr_regs; i++) {
		if (strncmp(u->regs[i].name, name, IMAGE_REG_NAME_LEN) == 0 &&
		    strnlen(name, IMAGE_REG_NAME_LEN) < IMAGE_REG_NAME_LEN) {
			if (value)
				*value = u->regs[i].value;
			return true;
		}
	}
	return false;
}

int image_unit_add_device(struct image_unit *u, const struct image_device *d,
			  struct errbuf *err)
{
	const char *problem = image_dev_name_problem(d->name, IMAGE_DEV_NAME_LEN);
	struct image_device *nd;
	int ret;

	if (problem)
		return err_set(err, -EINVAL, "device 0x%" PRIx32 " of unit %" PRIu32 ": name %s",
			       d->id, u->index, problem);
	if (d->pci && d->id > 0xffff)
		return err_set(err, -EINVAL, "device 0x%" PRIx32 " of unit %" PRIu32
			       ": a PCI requester id is 16 bits (bus << 8 | devfn)",
			       d->id, u->index);
	ret = list_reserve_one((void **)&u->devices, u->nr_devices, sizeof(*u->devices));
	if (ret < 0)
		return list_error(err, ret, "devices", u->index);
	nd = &u->devices[u->nr_devices++];
	memset(nd, 0, sizeof(*nd));
	nd->id = d->id;
	nd->segment = d->segment;
	nd->pci = d->pci;
	memcpy(nd->name, d->name, strlen(d->name));
	return 0;
}

int image_unit_add_window(struct image_unit *u, const struct image_window *w,
			  struct errbuf *err)
{
	const char *problem = image_window_problem(w);
	int ret;

	if (problem)
		return err_set(err, -EINVAL, "window of LIOBN 0x%" PRIx32 " of unit %" PRIu32 ": %s",
			       w->liobn, u->index, problem);
	ret = list_reserve_one((void **)&u->windows, u->nr_windows, sizeof(*u->windows));
	if (ret < 0)
		return list_error(err, ret, "windows", u->index);
	u->windows[u->nr_windows++] = *w;
	return 0;
}
