/* Traces of IOMMU and DMA-API operations: the decoded record, and the
 * streaming writer and reader of trace.bin (man 5 iommutool-trace). */
#ifndef IOMMUTOOL_TRACE_H
#define IOMMUTOOL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/format.h"
#include "util/err.h"

/* One entry of a scatter-gather array: MAP_SG input (phys, length,
 * offset), MAP_SG output, UNMAP_SG and DMA_SYNC (addr, length). */
struct trace_seg {
	uint64_t addr;
	uint32_t length;
	uint32_t offset;
};

/* One run of a MAP_PAGES record: @count pages of @pgsize bytes. */
struct trace_pgrun {
	uint64_t pgsize;
	uint64_t count;
};

struct trace_record {
	uint16_t type;     /* enum trace_rec_type */
	uint16_t flags;
	uint64_t time_ns;
	uint32_t cpu;      /* TRACE_CPU_NONE */
	uint32_t pid;      /* TRACE_PID_NONE */
	uint32_t domain;   /* 0 = none */
	uint32_t device;   /* 0 = none */
	uint16_t prot;     /* TRACE_PROT_* */
	uint8_t dir;       /* TRACE_DIR_* */
	union {
		struct { uint64_t iova, paddr, size; } map;
		struct {
			uint64_t iova, paddr;
			uint32_t nr;
			const struct trace_pgrun *runs;
		} map_pages;
		struct { uint64_t iova, size, unmapped; } unmap;
		struct {
			uint32_t full_nents, full_ents;
			uint64_t attrs;
			uint32_t nr_in, nr_out;
			const struct trace_seg *in, *out;
		} map_sg;
		struct {
			uint64_t attrs;
			uint32_t nr;
			const struct trace_seg *ents;
		} unmap_sg;
		struct { uint64_t phys, dma_addr, size, attrs; } dma_map;
		struct { uint64_t dma_addr, size, attrs; } dma_unmap;
		struct {  /* DMA_ALLOC and DMA_FREE */
			uint64_t dma_addr, size, attrs;
			uint32_t nr_phys;
			const uint64_t *phys;
		} dma_alloc;
		struct {
			uint32_t nr;
			const struct trace_seg *ents;
		} dma_sync;
		struct { /* IOVA_ALLOC .. IOVA_FREE */
			uint32_t state;
			uint64_t iova, phys, offset, size, attrs;
		} iova;
		struct { uint64_t iova, size; } iotlb;
		struct { uint64_t iova, size; uint32_t pasid; } access;
		struct { uint32_t group; } group;
		struct { uint64_t count; } lost;
		struct { const char *name; uint32_t len; } device;
		struct { uint64_t handle; uint32_t origin; } domain;
	} u;
};

/* A record with the header fields at their "none" values. */
void trace_record_init(struct trace_record *rec, uint16_t type);

/* "map", "unmap", ... or NULL for an unknown type. */
const char *trace_type_name(uint16_t type);
/* Exact match; 0 when unknown. */
uint16_t trace_type_parse(const char *name);
/* "bidirectional", "to_device", "from_device", "none" or NULL. */
const char *trace_dir_name(uint8_t dir);
/* "handle", "device", "single", "generated" or NULL. */
const char *trace_domain_origin_name(uint32_t origin);
/* Name of one DMA attribute bit ("SKIP_CPU_SYNC", ...) or NULL; and the
 * bit of a name as the kernel prints it, 0 when unknown. */
const char *trace_attr_name(unsigned bit);
uint64_t trace_attr_parse(const char *name, size_t len);
/* Name of one flag bit of a record type ("driver", "truncated", ...). */
const char *trace_flag_name(uint16_t type, uint16_t flag);

/* Bytes a MAP_PAGES record's runs add up to; 0 when they overflow. */
uint64_t trace_map_pages_size(const struct trace_record *rec);

/* Ids defined so far in a stream: the DEVICE/DOMAIN bookkeeping the
 * writer and reader share so that both accept exactly the same files. */
struct trace_ids {
	uint32_t nr_devices;
	uint32_t nr_domains;
};

/* Checks one record against the format's rules (field ranges, array
 * sizes, id definitions in order) and advances @ids for a definition.
 * The message does not name a file or offset; callers prefix it. */
int trace_record_check(const struct trace_record *rec, struct trace_ids *ids,
		       struct errbuf *err);

/* Encoded size of @rec in bytes (a multiple of 8); 0 when too large. */
size_t trace_record_size(const struct trace_record *rec);

/* Encodes @rec into @buf (trace_record_size bytes, zeroed by the call). */
void trace_record_encode(const struct trace_record *rec, unsigned char *buf);

/* Growable arrays a decoded record points into. */
struct trace_scratch {
	struct trace_seg *segs;
	size_t segs_cap;
	uint64_t *phys;
	size_t phys_cap;
	struct trace_pgrun *runs;
	size_t runs_cap;
};
void trace_scratch_release(struct trace_scratch *s);

/* Decodes the @size bytes at @buf (one whole record whose size field
 * says @size) into @rec; arrays point into @s, a DEVICE name into @buf.
 * Checks the layout only: callers run trace_record_check after.  Records
 * of an unknown optional type decode to their header alone. */
int trace_record_decode(const unsigned char *buf, size_t size,
			struct trace_record *rec, struct trace_scratch *s,
			struct errbuf *err);

/* ---- writer ---- */
struct trace_writer {
	FILE *f;
	bool own;          /* we opened f and close it */
	bool seekable;
	char *path;        /* for messages */
	uint64_t count;
	uint32_t file_flags;   /* written by trace_writer_finish (seekable only) */
	uint32_t source;
	struct trace_ids ids;
	unsigned char *buf;
	size_t buf_size;
};

/* Opens @path ("-" = stdout) for writing and writes the header.  On a
 * seekable file the record count is filled in by trace_writer_finish;
 * otherwise the file is marked streaming. */
int trace_writer_open(struct trace_writer *w, const char *path,
		      enum trace_source source, struct errbuf *err);
int trace_writer_put(struct trace_writer *w, const struct trace_record *rec,
		     struct errbuf *err);
/* Sets file flags (TRACE_FILE_LOST_EVENTS) written by trace_writer_finish. */
void trace_writer_set_flags(struct trace_writer *w, uint32_t flags);
/* Completes the header and flushes.  The writer is released either way. */
int trace_writer_finish(struct trace_writer *w, struct errbuf *err);
/* Releases without completing (an output file is left as it is). */
void trace_writer_release(struct trace_writer *w);

/* ---- reader ---- */
struct trace_reader {
	FILE *f;
	bool own;
	char *path;
	uint16_t version;
	uint32_t file_flags;
	uint32_t source;
	uint64_t count;        /* from the header; 0 if streaming */
	uint64_t nr_read;      /* records returned so far */
	uint64_t nr_skipped;   /* optional records of unknown type skipped */
	uint64_t offset;       /* file offset of the next record */
	struct trace_ids ids;
	/* one record's bytes and its decoded arrays, reused */
	unsigned char *buf;
	size_t buf_cap;
	struct trace_scratch scratch;
	/* names of the devices defined so far (index id - 1) */
	char **devices;
	size_t devices_cap;
};

/* Opens @path ("-" = stdin) and checks the header. */
int trace_reader_open(struct trace_reader *r, const char *path,
		      struct errbuf *err);
/* The same on a stream the caller keeps (fmemopen for fuzzing); @name is
 * used in messages. */
int trace_reader_open_stream(struct trace_reader *r, FILE *f, const char *name,
			     struct errbuf *err);
/* Reads the next record: 1 = one read (arrays and names stay valid until
 * the next call), 0 = end of trace, < 0 = error naming file and offset. */
int trace_reader_next(struct trace_reader *r, struct trace_record *rec,
		      struct errbuf *err);
/* Name of a device defined so far, or NULL. */
const char *trace_reader_device(const struct trace_reader *r, uint32_t id);
void trace_reader_release(struct trace_reader *r);

#endif
