/* iommutool dump: placeholder until the dump layer lands. */
#include "cli.h"

static int run_dump(int argc, char **argv)
{
	(void)argc;
	cli_error(argv[0], "not built yet");
	return EXIT_USAGE;
}

const struct command cmd_dump = { "dump", "Decode and validate IOMMU tables", run_dump };
