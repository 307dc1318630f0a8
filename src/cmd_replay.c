/* iommutool replay: feed a trace to the engine and print its report. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "trace/replay.h"

struct replay_args {
	const char *prog;
	const char *input;
	struct replay_config cfg;
	bool iommu_set, policy_set, compare, json;
	int rc;  /* set by the parser on an error it reported */
};

enum {
	KEY_IOMMU = 0x200, KEY_REG, KEY_PGSIZE, KEY_POLICY, KEY_COMPARE, KEY_ALLOCATOR,
	KEY_JSON, KEY_CHECK, KEY_OUTPUT = 'o',
};

static const struct argp_option options[] = {
	{ "iommu", KEY_IOMMU, "NAME", 0, "IOMMU to model: vtd, amd, smmuv3 or papr", 0 },
	{ "reg", KEY_REG, "NAME=VALUE", 0,
	  "A register of the IOMMU (vtd: cap, ecap), repeatable", 0 },
	{ "pgsize-bitmap", KEY_PGSIZE, "MASK", 0,
	  "Page sizes the domains use (bit n = 2^n bytes), also instead of a trace's", 0 },
	{ "policy", KEY_POLICY, "NAME", 0,
	  "Invalidation policy: strict (default), lazy, lazy-single, caching-mode", 0 },
	{ "compare", KEY_COMPARE, NULL, 0, "Replay under every policy, one column each", 0 },
	{ "allocator", KEY_ALLOCATOR, "NAME", 0, "IOVA allocator: rbtree (default) or bitmap", 0 },
	{ "json", KEY_JSON, NULL, 0, "One JSON object per replay", 0 },
	{ "output", KEY_OUTPUT, "FILE", 0,
	  "Write an ELF image of the tables the replay leaves (VT-d, AMD, SMMUv3)", 0 },
	{ "check", KEY_CHECK, NULL, 0,
	  "Check the page tables against a reference model after every operation (slow)", 0 },
	{ 0 }
};

static error_t parser(int key, char *arg, struct argp_state *state)
{
	struct replay_args *a = state->input;
	struct errbuf err;
	uint64_t v;
	char *eq;
	int p;

	switch (key) {
	case KEY_IOMMU:
		a->cfg.iommu = iommu_kind_parse(arg);
		if (a->cfg.iommu == IOMMU_NONE) {
			cli_error(a->prog, "unknown --iommu '%s' (vtd, amd, smmuv3, papr)", arg);
			return CLI_PARSE_FAILED;
		}
		a->iommu_set = true;
		return 0;
	case KEY_REG:
		eq = strchr(arg, '=');
		if (!eq || eq == arg || !cli_parse_u64(eq + 1, &v)) {
			cli_error(a->prog, "bad --reg '%s' (NAME=VALUE)", arg);
			return CLI_PARSE_FAILED;
		}
		*eq = '\0';
		if (image_unit_set_reg(&a->cfg.regs, arg, v, &err)) {
			cli_error(a->prog, "bad --reg: %s", err.msg);
			return CLI_PARSE_FAILED;
		}
		return 0;
	case KEY_PGSIZE:
		if (!cli_parse_u64(arg, &a->cfg.pgsize_bitmap) || a->cfg.pgsize_bitmap == 0 ||
		    (a->cfg.pgsize_bitmap & 0xfff & (a->cfg.pgsize_bitmap - 1))) {
			cli_error(a->prog, "bad --pgsize-bitmap '%s'", arg);
			return CLI_PARSE_FAILED;
		}
		return 0;
	case KEY_POLICY:
		p = replay_policy_parse(arg);
		if (p < 0) {
			cli_error(a->prog, "unknown --policy '%s' (strict, lazy, lazy-single, caching-mode)",
				  arg);
			return CLI_PARSE_FAILED;
		}
		a->cfg.policy = (enum replay_policy)p;
		a->policy_set = true;
		return 0;
	case KEY_COMPARE:
		a->compare = true;
		return 0;
	case KEY_ALLOCATOR:
		if (strcmp(arg, "rbtree") != 0 && strcmp(arg, "bitmap") != 0) {
			cli_error(a->prog, "unknown --allocator '%s' (rbtree, bitmap)", arg);
			return CLI_PARSE_FAILED;
		}
		a->cfg.allocator = arg;
		return 0;
	case KEY_JSON:
		a->json = true;
		return 0;
	case KEY_CHECK:
		a->cfg.check = true;
		return 0;
	case KEY_OUTPUT:
		a->cfg.image = arg;
		return 0;
	case ARGP_KEY_ARG:
		if (a->input) {
			cli_error(a->prog, "unexpected argument '%s'", arg);
			return CLI_PARSE_FAILED;
		}
		a->input = arg;
		return 0;
	case ARGP_KEY_END:
		if (!a->input) {
			cli_error(a->prog, "no trace file given (try '%s --help')", a->prog);
			return CLI_PARSE_FAILED;
		}
		if (strcmp(a->input, "-") == 0) {
			cli_error(a->prog, "the trace is read more than once: give a file, not '-'");
			return CLI_PARSE_FAILED;
		}
		if (!a->iommu_set) {
			cli_error(a->prog, "no --iommu given (vtd, amd, smmuv3, papr)");
			return CLI_PARSE_FAILED;
		}
		if (a->compare && a->cfg.image) {
			cli_error(a->prog, "-o writes one replay's tables: not with --compare");
			return CLI_PARSE_FAILED;
		}
		if (a->compare && a->policy_set) {
			cli_error(a->prog, "--compare replays every policy: leave out --policy");
			return CLI_PARSE_FAILED;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp replay_argp = {
	options, parser, "TRACE",
	"Replay a trace (man 5 iommutool-trace) through a model of the Linux IOMMU "
	"and DMA-API layers and print what it cost: operations, page sizes, IOTLB "
	"invalidations, flush-queue use, stale-IOTLB windows, IOVA allocation, and "
	"findings.",
	NULL, NULL, NULL
};

/* ---- the counters of one or more runs, as rows ---- */

#define MAX_RUNS REPLAY_NR_POLICIES

struct row {
	char name[64];
	uint64_t value[MAX_RUNS];
};

struct table {
	struct row *rows;
	size_t nr, cap;
	unsigned run;
	size_t next;  /* where a counter new to this run goes: after the
		       * previous counter of the run, so rows keep their order */
};

static int table_add(void *arg, const char *name, uint64_t value)
{
	struct table *t = arg;
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			break;
	if (i == t->nr) {
		if (t->nr == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 128;
			struct row *p = realloc(t->rows, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			t->rows = p;
			t->cap = cap;
		}
		i = t->next < t->nr ? t->next : t->nr;
		memmove(&t->rows[i + 1], &t->rows[i], (t->nr - i) * sizeof(t->rows[0]));
		memset(&t->rows[i], 0, sizeof(t->rows[0]));
		snprintf(t->rows[i].name, sizeof(t->rows[0].name), "%s", name);
		t->nr++;
	}
	t->rows[i].value[t->run] = value;
	t->next = i + 1;
	return 0;
}

static int json_add(void *arg, const char *name, uint64_t value)
{
	json_object_object_add(arg, name, json_object_new_uint64(value));
	return 0;
}

static void print_findings_text(const struct engine_report *rep)
{
	if (!rep->findings_total)
		return;
	printf("findings: %" PRIu64 "%s\n", rep->findings_total,
	       rep->nr_findings < rep->findings_total ? " (the first ones below)" : "");
	for (size_t i = 0; i < rep->nr_findings; i++) {
		const struct engine_finding *f = &rep->findings[i];

		printf("  %s %s at %" PRIu64 ".%09" PRIu64 " op %" PRIu64 " domain %u iova 0x%" PRIx64
		       " size 0x%" PRIx64 ": %s\n", severity_name(f->severity), f->code,
		       f->time_ns / 1000000000u, f->time_ns % 1000000000u, f->op, f->domain,
		       f->iova, f->size, f->message);
	}
}

static void print_json(const struct replay_args *a, enum replay_policy p,
		       const struct engine_report *rep, const struct replay_stats *st)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();
	json_object *fs = json_object_new_array();
	char buf[24];

	json_object_object_add(o, "type", json_object_new_string("replay"));
	json_object_object_add(o, "trace", json_object_new_string(a->input));
	json_object_object_add(o, "iommu", json_object_new_string(iommu_kind_name(a->cfg.iommu)));
	json_object_object_add(o, "policy", json_object_new_string(replay_policy_name(p)));
	replay_stats_foreach(st, json_add, c);
	engine_report_foreach(rep, json_add, c);
	json_object_object_add(o, "counters", c);
	for (size_t i = 0; i < rep->nr_findings; i++) {
		const struct engine_finding *f = &rep->findings[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "severity", json_object_new_string(severity_name(f->severity)));
		json_object_object_add(j, "code", json_object_new_string(f->code));
		json_object_object_add(j, "time_ns", json_object_new_uint64(f->time_ns));
		json_object_object_add(j, "op", json_object_new_uint64(f->op));
		json_object_object_add(j, "domain", json_object_new_uint64(f->domain));
		snprintf(buf, sizeof(buf), "0x%" PRIx64, f->iova);
		json_object_object_add(j, "iova", json_object_new_string(buf));
		json_object_object_add(j, "size", json_object_new_uint64(f->size));
		json_object_object_add(j, "message", json_object_new_string(f->message));
		json_object_array_add(fs, j);
	}
	json_object_object_add(o, "findings", fs);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_table(const struct table *t, const enum replay_policy *runs,
			unsigned nr_runs)
{
	printf("%-40s", "counter");
	for (unsigned i = 0; i < nr_runs; i++)
		printf(" %14s", replay_policy_name(runs[i]));
	putchar('\n');
	for (size_t r = 0; r < t->nr; r++) {
		printf("%-40s", t->rows[r].name);
		for (unsigned i = 0; i < nr_runs; i++)
			printf(" %14" PRIu64, t->rows[r].value[i]);
		putchar('\n');
	}
}

static int run_replay(int argc, char **argv)
{
	struct replay_args a;
	enum replay_policy runs[MAX_RUNS];
	unsigned nr_runs = 0;
	struct table t = { 0 };
	struct errbuf err;
	int rc;

	memset(&a, 0, sizeof(a));
	a.prog = argv[0];
	a.cfg.policy = REPLAY_STRICT;
	rc = cli_parse(&replay_argp, argc, argv, &a);
	if (rc) {
		rc = rc == 1 ? 0 : rc;
		goto out;
	}
	if (a.compare) {
		for (unsigned p = 0; p < REPLAY_NR_POLICIES; p++)
			if (p != REPLAY_CACHING_MODE || a.cfg.iommu == IOMMU_VTD)
				runs[nr_runs++] = (enum replay_policy)p;
	} else {
		runs[nr_runs++] = a.cfg.policy;
	}

	for (unsigned i = 0; i < nr_runs; i++) {
		struct replay_config cfg = a.cfg;
		struct replay_stats st;
		struct engine *e;
		const struct engine_report *rep;

		cfg.policy = runs[i];
		rc = replay_trace(a.input, &cfg, &e, &st, &err);
		if (rc) {
			cli_error(argv[0], "%s", err.msg);
			rc = EXIT_USAGE;
			goto out;
		}
		rep = engine_report(e);
		if (a.json) {
			print_json(&a, runs[i], rep, &st);
		} else {
			t.run = i;
			t.next = 0;
			if (replay_stats_foreach(&st, table_add, &t) ||
			    engine_report_foreach(rep, table_add, &t)) {
				engine_free(e);
				cli_error(argv[0], "out of memory");
				rc = EXIT_USAGE;
				goto out;
			}
			if (nr_runs == 1) {
				print_table(&t, runs, nr_runs);
				print_findings_text(rep);
			}
		}
		engine_free(e);
	}
	if (!a.json && nr_runs > 1)
		print_table(&t, runs, nr_runs);
	rc = fflush(stdout) ? EXIT_USAGE : 0;
out:
	free(t.rows);
	free(a.cfg.regs.regs);
	return rc;
}

const struct command cmd_replay = {
	"replay", "Replay a trace through a model of the IOMMU and DMA layers", run_replay
};
