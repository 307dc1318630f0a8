/* Page-table codecs: one const struct pt_format per format (VT-d second
 * stage, x86-64 / VT-d first stage / AMD v2, AMD v1, Arm LPAE, v7s, TCE),
 * one generic walker (dump, validate) and one generic mapper (synth,
 * replay) on top, so decoding and encoding cannot drift apart.
 *
 * Level convention everywhere: level 0 holds the smallest pages (4 KiB PTEs
 * on x86), level cfg->levels-1 is the root table.  Hardware level names
 * (PML4, L0, ...) appear only in comments and printed paths. */
#ifndef IOMMUTOOL_PT_H
#define IOMMUTOOL_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/arena.h"
#include "mem/physmem.h"
#include "out/record.h"
#include "util/err.h"

#define PT_MAX_LEVELS 6

enum pt_entry_kind {
	PTE_EMPTY = 0, /* not present: translation faults */
	PTE_TABLE,     /* points to a next-level table */
	PTE_LEAF,      /* maps a page or block */
	PTE_INVALID,   /* present but undecodable (e.g. AMD NextLevel at an
			* impossible level); the walker reports it */
};

/* One decoded entry. */
struct pt_entry {
	enum pt_entry_kind kind;
	uint64_t addr;       /* TABLE: next table; LEAF: output address of
			      * this entry's own span (see size_shift) */
	unsigned next_level; /* TABLE: level of the table it points to,
			      * normally level-1 (AMD v1 may skip levels) */
	unsigned size_shift; /* LEAF: log2 of the page size.  When larger than
			      * the level's span, the page is a run of
			      * 2^(size_shift - span) consecutive entries
			      * (AMD NextLevel=7, LPAE contiguous hint) */
	uint32_t perm;       /* PERM_*; for a TABLE the mask it allows below */
	uint64_t reserved;   /* reserved bits that are set; 0 when clean */
	const char *problem; /* INVALID: why, lowercase phrase; with warn:
			      * the warning's message */
	const char *warn;    /* LEAF/TABLE: a non-fatal condition the walker
			      * reports as a warning finding with code
			      * "<code_prefix>.<warn>" (LPAE "af": access flag
			      * clear, the first access faults); NULL: none */
};

/* A format instance: geometry and format options, filled by fmt->init()
 * from levels/ias/oas/granule and the format-specific flags. */
struct pt_cfg {
	const struct pt_format *fmt;
	unsigned levels;      /* number of levels; root is levels-1 */
	unsigned ias;         /* input (IOVA) bits */
	unsigned oas;         /* output address bits (HAW, PS, IPS) */
	unsigned granule_shift;                /* 12, 14 or 16 */
	unsigned level_shift[PT_MAX_LEVELS];   /* lowest IOVA bit indexed */
	unsigned level_bits[PT_MAX_LEVELS];    /* index bits per level; the
						* root may have more (LPAE
						* concatenation) or fewer */
	uint64_t leaf_sizes;  /* page sizes this instance may hold: bit n =
			       * 2^n bytes (a pgsize bitmap) */
	uint64_t flags;       /* format-specific PT_*_F_* options */
	/* Optional, for speed (0 = none): bits of an entry at each level that
	 * are nothing but output-address bits, whatever the entry's kind and
	 * IOVA: decode copies them to pt_entry.addr at the same positions and
	 * they never make the entry reserved or change anything else, and
	 * make_leaf/make_table put those address bits there unchanged.  It
	 * also promises that decode and make_leaf at that level depend on the
	 * IOVA only for runs (leaves longer than the level's span).  The
	 * walker and mapper then patch a previous decode/encode instead of
	 * calling the codec again for an entry that differs only there. */
	uint64_t addr_only[PT_MAX_LEVELS];
	/* Optional, for speed (0 = none): at each level, the bits that carry
	 * a leaf's output address once the leaf's kind is known: for a clean
	 * leaf of 2^s bytes (no reserved bits, no warning) decoded from a run
	 * start or a single entry, an entry equal to it except in the bits of
	 * this mask at or above s decodes to the same leaf with those address
	 * bits replaced.  Weaker than addr_only (which holds whatever the
	 * entry's kind); lets the walker skip decode for moved leaves and
	 * runs of a format whose low address bits encode the size (AMD). */
	uint64_t leaf_addr[PT_MAX_LEVELS];
};

/* What a driver does when an unmap covers only part of a large leaf. */
enum pt_partial_unmap {
	PT_UNMAP_WHOLE_LEAF, /* removes the whole leaf, reports its size
			      * (VT-d, AMD v1) */
	PT_UNMAP_SPLIT,      /* splits the block, unmaps only the range
			      * (io-pgtable-arm before ~6.13) */
	PT_UNMAP_REFUSE,     /* returns 0, leaves the leaf mapped */
};

struct pt_format {
	const char *name;        /* "vtd-ss", "x86-64", "amd-v1", "lpae" ... */
	const char *code_prefix; /* finding codes: "vtd.slpte" → "vtd.slpte.reserved" */
	unsigned entry_size;     /* bytes: 8, or 4 for v7s */
	bool big_endian;         /* TCE tables */
	enum pt_partial_unmap partial_unmap;
	/* The entries of a run (a leaf longer than its entry's span) are
	 * bit-identical copies (AMD NextLevel=7), so the walker checks a run
	 * by comparing raw values instead of decoding every copy. */
	bool run_identical;

	/* Fills geometry and leaf_sizes from cfg->levels/ias/oas/granule/
	 * flags; rejects impossible combinations. */
	int (*init)(struct pt_cfg *cfg, struct errbuf *err);
	/* Decodes @raw found at @level for IOVA @iova (the start of the
	 * entry's span). Never fails: problems go into @out. */
	void (*decode)(const struct pt_cfg *cfg, unsigned level, uint64_t iova,
		       uint64_t raw, struct pt_entry *out);
	/* Encoders.  make_leaf gets the output address of this entry's own
	 * span, so replicated runs are written entry by entry. */
	uint64_t (*make_table)(const struct pt_cfg *cfg, unsigned level,
			       uint64_t table_pa);
	uint64_t (*make_leaf)(const struct pt_cfg *cfg, unsigned level,
			      uint64_t iova, uint64_t pa, unsigned size_shift,
			      uint32_t perm);
	/* Optional: bytes of the table at @level (default: entries ×
	 * entry_size, at least one granule). */
	uint64_t (*table_size)(const struct pt_cfg *cfg, unsigned level);
};

/* Span of one entry at @level, in address bits. */
static inline unsigned pt_level_span(const struct pt_cfg *cfg, unsigned level)
{
	return cfg->level_shift[level];
}
static inline uint64_t pt_level_entries(const struct pt_cfg *cfg, unsigned level)
{
	return 1ull << cfg->level_bits[level];
}

/* Registry of codecs, by exact name. */
const struct pt_format *pt_format_find(const char *name);
/* The @i-th registered codec, NULL past the end (for listings). */
const struct pt_format *pt_format_at(unsigned i);
extern const struct pt_format pt_fmt_vtd_ss;
extern const struct pt_format pt_fmt_x86_64;
extern const struct pt_format pt_fmt_lpae;  /* VMSAv8-64, flags in lpae_defs.h */
extern const struct pt_format pt_fmt_v7s;   /* Armv7 short descriptor */
extern const struct pt_format pt_fmt_amd_v1;

/* pt_cfg.flags of "vtd-ss" (VT-d second stage; vtd_ss_defs.h) */
#define PT_VTD_F_SP2M      (1ull << 0) /* CAP.SLLPS bit 34: 2 MiB leaves */
#define PT_VTD_F_SP1G      (1ull << 1) /* CAP.SLLPS bit 35: 1 GiB leaves */
#define PT_VTD_F_SNOOP_CTL (1ull << 2) /* ECAP.SC: leaf bit 11 is SNP,
					* otherwise reserved */
#define PT_VTD_F_DEVTLB    (1ull << 3) /* ECAP.DT: leaf bit 62 TM allowed */
#define PT_VTD_F_SLEE      (1ull << 4) /* execute requests: X meaningful */

/* pt_cfg.flags of "x86-64" (VT-d first stage, AMD v2; x86_64_defs.h) */
#define PT_X86_F_1G        (1ull << 0) /* 1 GiB leaves (CAP.FL1GP) */
#define PT_X86_F_NXE       (1ull << 1) /* XD (bit 63) allowed (NXE) */

/* Prepares @cfg for @fmt (zeroes it, sets the inputs, calls init). */
int pt_cfg_init(struct pt_cfg *cfg, const struct pt_format *fmt,
		unsigned levels, unsigned ias, unsigned oas,
		unsigned granule_shift, uint64_t flags, struct errbuf *err);

/* ---- walker ---- */

struct pt_leaf {
	uint64_t iova;
	uint64_t phys;
	uint64_t size;       /* page size of the leaf (whole run) */
	uint32_t perm;       /* effective: AND along the walk */
	unsigned level;
	uint64_t entry_addr; /* physical address of the (first) entry */
};

#define PT_WALK_BATCH 64

struct pt_limits {
	uint64_t max_tables;  /* distinct table pages per walk */
	uint64_t max_entries; /* non-empty entries per walk */
};
#define PT_DEFAULT_MAX_TABLES  (1ull << 22)
#define PT_DEFAULT_MAX_ENTRIES (1ull << 32)

struct pt_walk_stats {
	uint64_t tables;
	uint64_t entries;    /* entries read */
	uint64_t leaves;
	uint64_t findings;
};

struct pt_walk {
	/* inputs */
	const struct pt_cfg *cfg;
	struct physmem *mem;
	uint64_t root;         /* physical address of the root table */
	uint64_t iova_base;    /* IOVA of root entry 0 (TTBR1 halves) */
	uint64_t iova_first, iova_last; /* inclusive window to walk; 0,0 = all */
	struct pt_limits limits;
	/* nested: translates a table address (IPA) through stage 2; NULL =
	 * table addresses are physical */
	int (*xlate_table)(void *xlate_ctx, uint64_t ipa, uint64_t *pa);
	void *xlate_ctx;
	/* outputs */
	int (*leaf)(void *ctx, const struct pt_leaf *leaf); /* non-zero stops */
	/* optional, faster: the same leaves in IOVA order, up to
	 * PT_WALK_BATCH at a time; used instead of @leaf when set.  Findings
	 * are never emitted while leaves before them are still held back. */
	int (*leaves)(void *ctx, const struct pt_leaf *leaf, size_t n);
	void *ctx;
	struct sink *findings;         /* may be NULL */
	const char *path_prefix;       /* e.g. "root[0x00]/ctx[0x18]" */
	const struct dev_ref *dev;     /* attached to findings, may be NULL */
	int64_t pasid;
	struct pt_walk_stats stats;
};

/* Walks the table tree in IOVA order.  Structural problems (reserved bits,
 * pointers outside memory, a table reached twice, loops, caps reached)
 * become findings; the walk always ends.  Returns <0 only for errors that
 * stop everything (the root itself unreadable, callback stop).
 *
 * Finding codes, after the format's code_prefix ("vtd.slpte.reserved"):
 *   reserved          error: reserved bits set (mask in the message); the
 *                     entry is not followed
 *   invalid           error: PTE_INVALID, a table at level 0, or a next
 *                     level not below the entry's level
 *   leaf-size         error: a leaf size not in cfg->leaf_sizes (reported)
 *   misaligned        warning: output address not aligned to the leaf
 *   run-inconsistent  error: a run (size_shift > span) that is unaligned,
 *                     too long or not uniform; its entries are reported one
 *                     by one as span-size leaves
 *   table-shared      warning: a table reached a second time (not walked
 *                     again); error with "loop" when it is above the entry
 *   table-outside     error: a table pointer outside present memory
 *   table-unreadable  error: a present table the physmem failed to read
 *   table-xlate       error: xlate_table failed for a table address
 *   limit-tables, limit-entries  error: a limit ended the walk
 *   <pt_entry.warn>   warning: a codec's non-fatal condition, e.g. "af"
 *                     (LPAE/v7s access flag clear); the entry still counts */
int pt_walk(struct pt_walk *w, struct errbuf *err);

/* ---- mapper (encoder) ---- */

struct pt_mapper {
	const struct pt_cfg *cfg;
	struct arena *arena;
	uint64_t root;            /* allocated by pt_mapper_init */
	uint64_t tables_allocated;
	uint64_t tables_freed;
	/* private to pt_map.c: the table last reached at each level, so
	 * consecutive pages skip the descent.  The mapper assumes it is the
	 * only writer of its tables. */
	struct pt_map_cache {
		bool valid;
		uint64_t tag;   /* iova >> (the table's IOVA coverage) */
		uint64_t pa;
		void *ptr;      /* arena_page() of pa; NULL for multi-page tables */
	} cache[PT_MAX_LEVELS];
	void *root_ptr;
	/* the last entry decoded at each level and the last leaf encoded,
	 * patched through cfg->addr_only instead of calling the codec */
	struct pt_map_decoded {
		bool valid;
		uint64_t raw;
		struct pt_entry entry;
	} decoded[PT_MAX_LEVELS];
	struct pt_map_encoded {
		bool valid;
		unsigned level, pgshift;
		uint32_t perm;
		uint64_t pa, raw;
	} encoded;
	/* the single-smallest-page fast paths: cache[0], encoded and
	 * decoded[0] distilled, refreshed whenever one of them changes */
	struct pt_map_fast {
		uint64_t *map_table;   /* cached level-0 table when encoded
					* is a level-0 page; else NULL */
		uint64_t *unmap_table; /* same when decoded[0] is a leaf */
		uint64_t tag;          /* cache[0].tag */
		uint64_t enc_raw, enc_pa; /* encoded.raw/pa, addr_only clear */
		uint64_t dec_raw;      /* decoded[0].raw, addr_only clear */
		uint64_t addr_only;    /* cfg->addr_only[0] */
		uint64_t index_mask;   /* entries of a level-0 table - 1 */
		uint32_t enc_perm;
		unsigned page_shift;   /* level_shift[0]; 0 = no fast paths */
		unsigned tag_shift;    /* IOVA bits a level-0 table covers */
	} fast;
};

int pt_mapper_init(struct pt_mapper *m, const struct pt_cfg *cfg,
		   struct arena *arena, struct errbuf *err);
/* Maps @count pages of 2^@pgshift bytes at @iova → @pa (the driver's
 * map_pages).  -EEXIST when any target entry is in use, -EINVAL when the
 * size is not a leaf size of the cfg or addresses are misaligned, -ENOMEM
 * when the arena is exhausted.  *mapped = bytes mapped before an error. */
int pt_map_pages(struct pt_mapper *m, uint64_t iova, uint64_t pa,
		 unsigned pgshift, uint64_t count, uint32_t perm,
		 uint64_t *mapped, struct errbuf *err);
/* Unmaps like the driver's unmap_pages, following fmt->partial_unmap (or
 * @override when not negative).  Returns bytes unmapped (0 on a hole).
 * Tables left empty are freed onto the arena when @free_tables. */
uint64_t pt_unmap_pages(struct pt_mapper *m, uint64_t iova, unsigned pgshift,
			uint64_t count, int override, bool free_tables);
/* Looks one IOVA up: true and the leaf when mapped. */
bool pt_lookup(const struct pt_mapper *m, uint64_t iova, struct pt_leaf *out);

#endif
