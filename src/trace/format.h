/* trace.bin on-disk layout, version 1: every offset, size and code of the
 * file format documented byte by byte in man 5 iommutool-trace.  All
 * integers are little-endian; every record is a multiple of 8 bytes.
 * The prot bits are the Linux IOMMU_* values (include/linux/iommu.h) and
 * the direction codes enum dma_data_direction (include/linux/dma-direction.h). */
#ifndef IOMMUTOOL_TRACE_FORMAT_H
#define IOMMUTOOL_TRACE_FORMAT_H

#include <stdint.h>

/* ---- file header (32 bytes) ---- */
#define TRACE_MAGIC        "IOMMUTRC"  /* 8 bytes, no NUL */
#define TRACE_MAGIC_LEN    8
#define TRACE_VERSION      1
#define TRACE_HDR_SIZE     32
#define TRACE_HDR_MAX_SIZE 4096      /* a later version may append fields */

#define TRACE_HDR_OFF_MAGIC    0x00  /* u8[8] */
#define TRACE_HDR_OFF_VERSION  0x08  /* u16 */
#define TRACE_HDR_OFF_HDRSIZE  0x0a  /* u16: offset of the first record */
#define TRACE_HDR_OFF_FLAGS    0x0c  /* u32: TRACE_FILE_* */
#define TRACE_HDR_OFF_COUNT    0x10  /* u64: number of records, 0 if streaming */
#define TRACE_HDR_OFF_SOURCE   0x18  /* u32: TRACE_SOURCE_* */
#define TRACE_HDR_OFF_RESERVED 0x1c  /* u32: 0 */

#define TRACE_FILE_STREAMING   0x1u  /* count not known: read to end of file */
#define TRACE_FILE_LOST_EVENTS 0x2u  /* the source reported lost events */
#define TRACE_FILE_KNOWN_FLAGS (TRACE_FILE_STREAMING | TRACE_FILE_LOST_EVENTS)

enum trace_source {
	TRACE_SOURCE_UNKNOWN = 0,
	TRACE_SOURCE_FTRACE_TEXT = 1, /* trace import */
	TRACE_SOURCE_TRACEFS = 2,     /* trace record (live) */
	TRACE_SOURCE_GENERATED = 3,   /* written by a program (tests, fuzzers) */
};

/* ---- record header (40 bytes) ---- */
#define TRACE_REC_HDR_SIZE    40
#define TRACE_REC_MAX_SIZE    (1u << 20)

#define TRACE_REC_OFF_TYPE    0x00   /* u16: TRACE_REC_* */
#define TRACE_REC_OFF_FLAGS   0x02   /* u16: per type, plus TRACE_F_NO_PROT */
#define TRACE_REC_OFF_SIZE    0x04   /* u32: whole record in bytes */
#define TRACE_REC_OFF_TIME    0x08   /* u64: nanoseconds (trace clock) */
#define TRACE_REC_OFF_CPU     0x10   /* u32: TRACE_CPU_NONE if unknown */
#define TRACE_REC_OFF_PID     0x14   /* u32: TRACE_PID_NONE if unknown */
#define TRACE_REC_OFF_DOMAIN  0x18   /* u32: domain id, 0 = none */
#define TRACE_REC_OFF_DEVICE  0x1c   /* u32: device id, 0 = none */
#define TRACE_REC_OFF_PROT    0x20   /* u16: TRACE_PROT_* */
#define TRACE_REC_OFF_DIR     0x22   /* u8: TRACE_DIR_* */
#define TRACE_REC_OFF_RES8    0x23   /* u8: 0 */
#define TRACE_REC_OFF_RES32   0x24   /* u32: 0 */

#define TRACE_CPU_NONE  0xffffffffu
#define TRACE_PID_NONE  0xffffffffu
#define TRACE_ID_MAX    65535u       /* most devices / domains per file */

/* IOMMU_* prot bits (Linux include/linux/iommu.h). */
#define TRACE_PROT_READ   0x01
#define TRACE_PROT_WRITE  0x02
#define TRACE_PROT_CACHE  0x04
#define TRACE_PROT_NOEXEC 0x08
#define TRACE_PROT_MMIO   0x10
#define TRACE_PROT_PRIV   0x20
#define TRACE_PROT_KNOWN  0x3f

/* enum dma_data_direction; TRACE_DIR_NONE for records without one. */
#define TRACE_DIR_BIDIRECTIONAL 0
#define TRACE_DIR_TO_DEVICE     1
#define TRACE_DIR_FROM_DEVICE   2
#define TRACE_DIR_DMA_NONE      3
#define TRACE_DIR_NONE          0xff

/* DMA_ATTR_* bits stored in the attrs fields (include/linux/dma-mapping.h).
 * Bit 63 is ours: attributes an importer could not name were set. */
#define TRACE_ATTR_WEAK_ORDERING      (1ull << 1)
#define TRACE_ATTR_WRITE_COMBINE      (1ull << 2)
#define TRACE_ATTR_NO_KERNEL_MAPPING  (1ull << 4)
#define TRACE_ATTR_SKIP_CPU_SYNC      (1ull << 5)
#define TRACE_ATTR_FORCE_CONTIGUOUS   (1ull << 6)
#define TRACE_ATTR_ALLOC_SINGLE_PAGES (1ull << 7)
#define TRACE_ATTR_NO_WARN            (1ull << 8)
#define TRACE_ATTR_PRIVILEGED         (1ull << 9)
#define TRACE_ATTR_MMIO               (1ull << 10) /* ≈6.18 */
#define TRACE_ATTR_UNKNOWN            (1ull << 63)

/* Flag common to all types: the prot field was not recorded. */
#define TRACE_F_NO_PROT 0x8000u

/* Record types.  Types at or above TRACE_REC_OPTIONAL are skipped by a
 * reader that does not know them; unknown types below it are an error. */
enum trace_rec_type {
	TRACE_REC_MAP = 1,
	TRACE_REC_UNMAP = 2,
	TRACE_REC_MAP_SG = 3,
	TRACE_REC_UNMAP_SG = 4,
	TRACE_REC_DMA_MAP = 5,
	TRACE_REC_DMA_UNMAP = 6,
	TRACE_REC_DMA_ALLOC = 7,
	TRACE_REC_DMA_FREE = 8,
	TRACE_REC_DMA_SYNC = 9,
	TRACE_REC_IOVA_ALLOC = 10,
	TRACE_REC_IOVA_LINK = 11,
	TRACE_REC_IOVA_SYNC = 12,
	TRACE_REC_IOVA_UNLINK = 13,
	TRACE_REC_IOVA_FREE = 14,
	TRACE_REC_ATTACH = 15,
	TRACE_REC_DETACH = 16,
	TRACE_REC_IOTLB_SYNC = 17,
	TRACE_REC_ACCESS = 18,
	TRACE_REC_GROUP = 19,
	TRACE_REC_LOST = 20,
	TRACE_REC_DOMAIN_FREE = 21,
	TRACE_REC_DEVICE = 0x40,
	TRACE_REC_DOMAIN = 0x41,
	TRACE_REC_OPTIONAL = 0x8000,
	TRACE_REC_MAP_PAGES = 0x8001, /* optional: readers may skip it */
};

/* ---- payloads: offsets from the start of the record ---- */
#define TRACE_P 0x28 /* first payload byte */

/* MAP: iommu_map(domain, iova, paddr, size, prot) */
#define TRACE_MAP_OFF_IOVA   0x28
#define TRACE_MAP_OFF_PADDR  0x30
#define TRACE_MAP_OFF_SIZE   0x38
#define TRACE_MAP_SIZE       0x40
#define TRACE_MAP_F_DRIVER   0x0001  /* one driver map_pages call (kprobe) */
#define TRACE_MAP_F_DMA_API  0x0002  /* done by a DMA-API call of the device
				      * in the header (a dma:* record) */

/* MAP_PAGES: the page sizes of the driver's map_pages calls that made the
 * map record directly after it (same domain, iova and paddr; the runs add
 * up to its size).  nr runs of (pgsize, pgcount) follow the fixed part;
 * consecutive calls with one page size are one run.  Optional, so a
 * reader that does not know it replays the map with its own page sizes. */
#define TRACE_MAP_PAGES_OFF_IOVA  0x28
#define TRACE_MAP_PAGES_OFF_PADDR 0x30
#define TRACE_MAP_PAGES_OFF_NR    0x38 /* u32: 1..TRACE_MAP_PAGES_MAX */
#define TRACE_MAP_PAGES_OFF_RES   0x3c /* u32: 0 */
#define TRACE_MAP_PAGES_FIXED     0x40
#define TRACE_PGRUN_SIZE          16
#define TRACE_PGRUN_OFF_PGSIZE    0x0  /* u64: a power of two */
#define TRACE_PGRUN_OFF_PGCOUNT   0x8  /* u64: not 0 */
#define TRACE_MAP_PAGES_MAX       64

/* UNMAP: iommu_unmap(domain, iova, size) returning unmapped */
#define TRACE_UNMAP_OFF_IOVA     0x28
#define TRACE_UNMAP_OFF_SIZE     0x30
#define TRACE_UNMAP_OFF_UNMAPPED 0x38  /* TRACE_UNKNOWN64 if not recorded */
#define TRACE_UNMAP_SIZE         0x40
#define TRACE_UNMAP_F_DRIVER     0x0001 /* one driver unmap_pages call */
#define TRACE_UNMAP_F_DMA_API    0x0002 /* done by a DMA-API call */
#define TRACE_UNKNOWN64          UINT64_MAX

/* MAP_SG: dma_map_sg; nr_in input entries (phys, length, offset) follow
 * the fixed part, then nr_out output entries (dma_addr, length, 0). */
#define TRACE_MAP_SG_OFF_NR_IN      0x28 /* u32 */
#define TRACE_MAP_SG_OFF_NR_OUT     0x2c /* u32 */
#define TRACE_MAP_SG_OFF_FULL_NENTS 0x30 /* u32: entries the caller passed */
#define TRACE_MAP_SG_OFF_FULL_ENTS  0x34 /* u32: entries the mapping returned */
#define TRACE_MAP_SG_OFF_ATTRS      0x38 /* u64: DMA_ATTR_* */
#define TRACE_MAP_SG_FIXED          0x40
#define TRACE_MAP_SG_F_TRUNCATED    0x0001 /* arrays hold fewer than full_* */
#define TRACE_MAP_SG_F_FAILED       0x0002 /* mapping failed (no outputs) */
#define TRACE_MAP_SG_F_NO_IN_LENGTHS 0x0004 /* input lengths not recorded (0) */

/* An array entry of MAP_SG / UNMAP_SG / DMA_SYNC (16 bytes). */
#define TRACE_SEG_SIZE       16
#define TRACE_SEG_OFF_ADDR   0x0  /* u64 */
#define TRACE_SEG_OFF_LENGTH 0x8  /* u32 */
#define TRACE_SEG_OFF_OFFSET 0xc  /* u32: in-page offset (MAP_SG input), else 0 */

/* UNMAP_SG: dma_unmap_sg; nr entries (addr, length, 0) follow. */
#define TRACE_UNMAP_SG_OFF_NR    0x28 /* u32 */
#define TRACE_UNMAP_SG_OFF_RES   0x2c /* u32: 0 */
#define TRACE_UNMAP_SG_OFF_ATTRS 0x30 /* u64 */
#define TRACE_UNMAP_SG_FIXED     0x38
#define TRACE_UNMAP_SG_F_PHYS       0x0001 /* addresses are CPU physical */
#define TRACE_UNMAP_SG_F_NO_LENGTHS 0x0002 /* lengths not recorded (0) */

/* DMA_MAP: dma_map_page / dma_map_phys / dma_map_resource */
#define TRACE_DMA_MAP_OFF_PHYS  0x28
#define TRACE_DMA_MAP_OFF_DMA   0x30
#define TRACE_DMA_MAP_OFF_SIZE  0x38
#define TRACE_DMA_MAP_OFF_ATTRS 0x40
#define TRACE_DMA_MAP_SIZE      0x48
#define TRACE_DMA_F_RESOURCE    0x0001 /* dma_map/unmap_resource (MMIO) */
#define TRACE_DMA_F_FAILED      0x0002 /* returned DMA_MAPPING_ERROR */

/* DMA_UNMAP */
#define TRACE_DMA_UNMAP_OFF_DMA   0x28
#define TRACE_DMA_UNMAP_OFF_SIZE  0x30
#define TRACE_DMA_UNMAP_OFF_ATTRS 0x38
#define TRACE_DMA_UNMAP_SIZE      0x40

/* DMA_ALLOC / DMA_FREE: dma_alloc*, dma_free*; nr_phys u64 physical
 * addresses follow (the pages of a non-contiguous allocation). */
#define TRACE_DMA_ALLOC_OFF_DMA     0x28
#define TRACE_DMA_ALLOC_OFF_SIZE    0x30
#define TRACE_DMA_ALLOC_OFF_ATTRS   0x38
#define TRACE_DMA_ALLOC_OFF_NR_PHYS 0x40 /* u32 */
#define TRACE_DMA_ALLOC_OFF_RES     0x44 /* u32: 0 */
#define TRACE_DMA_ALLOC_FIXED       0x48
#define TRACE_DMA_ALLOC_F_PAGES     0x0001 /* dma_alloc_pages / dma_free_pages */
#define TRACE_DMA_ALLOC_F_SGT       0x0002 /* dma_alloc_noncontiguous (sg table) */
#define TRACE_DMA_ALLOC_F_FAILED    0x0004 /* allocation failed */

/* DMA_SYNC: dma_sync_{single,sg}_for_{cpu,device}; nr entries follow. */
#define TRACE_DMA_SYNC_OFF_NR   0x28 /* u32 */
#define TRACE_DMA_SYNC_OFF_RES  0x2c /* u32: 0 */
#define TRACE_DMA_SYNC_FIXED    0x30
#define TRACE_DMA_SYNC_F_FOR_DEVICE 0x0001 /* else for the CPU */
#define TRACE_DMA_SYNC_F_SG         0x0002 /* the _sg_ variant */

/* IOVA_ALLOC / LINK / SYNC / UNLINK / FREE: the two-step DMA API
 * (dma_iova_try_alloc, dma_iova_link, dma_iova_sync, dma_iova_unlink,
 * dma_iova_destroy / dma_iova_free).  One layout; unused fields are 0. */
#define TRACE_IOVA_OFF_STATE  0x28 /* u32: handle tying the calls together */
#define TRACE_IOVA_OFF_RES    0x2c /* u32: 0 */
#define TRACE_IOVA_OFF_IOVA   0x30 /* ALLOC: state->addr */
#define TRACE_IOVA_OFF_PHYS   0x38 /* ALLOC, LINK */
#define TRACE_IOVA_OFF_OFFSET 0x40 /* LINK, SYNC, UNLINK */
#define TRACE_IOVA_OFF_SIZE   0x48 /* ALLOC, LINK, SYNC, UNLINK; FREE: mapped_len */
#define TRACE_IOVA_OFF_ATTRS  0x50 /* LINK, UNLINK */
#define TRACE_IOVA_SIZE       0x58
#define TRACE_IOVA_F_FAILED   0x0001 /* ALLOC: dma_iova_try_alloc returned false */

/* ATTACH / DETACH: header only (device and domain in the header). */
#define TRACE_ATTACH_SIZE 0x28

/* IOTLB_SYNC */
#define TRACE_IOTLB_OFF_IOVA 0x28
#define TRACE_IOTLB_OFF_SIZE 0x30
#define TRACE_IOTLB_SIZE     0x38
#define TRACE_IOTLB_F_ALL    0x0001 /* whole domain (iova, size are 0) */

/* ACCESS: a DMA access by a device, or a reported I/O page fault */
#define TRACE_ACCESS_OFF_IOVA  0x28
#define TRACE_ACCESS_OFF_SIZE  0x30
#define TRACE_ACCESS_OFF_PASID 0x38 /* u32 */
#define TRACE_ACCESS_OFF_RES   0x3c /* u32: 0 */
#define TRACE_ACCESS_SIZE      0x40
#define TRACE_ACCESS_F_WRITE   0x0001
#define TRACE_ACCESS_F_FAULT   0x0002 /* reported as a fault (io_page_fault) */
#define TRACE_ACCESS_F_PASID   0x0004 /* pasid is valid */

/* GROUP: device added to / removed from IOMMU group */
#define TRACE_GROUP_OFF_GROUP 0x28 /* u32 */
#define TRACE_GROUP_OFF_RES   0x2c /* u32: 0 */
#define TRACE_GROUP_SIZE      0x30
#define TRACE_GROUP_F_REMOVE  0x0001

/* LOST: the tracer dropped events here (cpu in the header) */
#define TRACE_LOST_OFF_COUNT 0x28 /* u64: 0 if not known */
#define TRACE_LOST_SIZE      0x30

/* DOMAIN_FREE: header only; domain header.domain is gone (its id is not
 * used again: a domain allocated later at the same address gets a new one). */
#define TRACE_DOMAIN_FREE_SIZE 0x28

/* DEVICE: defines device id header.device (ids count up from 1). */
#define TRACE_DEVICE_OFF_LEN  0x28 /* u32: name length, 1..255 */
#define TRACE_DEVICE_OFF_RES  0x2c /* u32: 0 */
#define TRACE_DEVICE_OFF_NAME 0x30 /* name bytes (printable ASCII, no space), zero padded to 8 */
#define TRACE_DEVICE_NAME_MAX 255

/* DOMAIN: defines domain id header.domain (ids count up from 1). */
#define TRACE_DOMAIN_OFF_HANDLE 0x28 /* u64: kernel pointer, 0 if none */
#define TRACE_DOMAIN_OFF_ORIGIN 0x30 /* u32: TRACE_DOMAIN_ORIGIN_* */
#define TRACE_DOMAIN_OFF_RES    0x34 /* u32: 0 */
#define TRACE_DOMAIN_SIZE       0x38

enum trace_domain_origin {
	TRACE_DOMAIN_ORIGIN_HANDLE = 1,  /* a kernel domain pointer (kprobe) */
	TRACE_DOMAIN_ORIGIN_DEVICE = 2,  /* inferred: one per device (header.device) */
	TRACE_DOMAIN_ORIGIN_SINGLE = 3,  /* the one domain of a trace without attribution */
	TRACE_DOMAIN_ORIGIN_GENERATED = 4,
	TRACE_DOMAIN_ORIGIN_MAX
};

/* ---- little-endian access ---- */
static inline uint16_t trace_get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t trace_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t trace_get64(const unsigned char *p)
{
	return (uint64_t)trace_get32(p) | (uint64_t)trace_get32(p + 4) << 32;
}
static inline void trace_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}
static inline void trace_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}
static inline void trace_put64(unsigned char *p, uint64_t v)
{
	trace_put32(p, (uint32_t)v);
	trace_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
