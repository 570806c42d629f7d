/*
 * main.c — the folio command: global options and dispatch to commands.
 *
 *   folio [-R REPO] COMMAND [ARGS...]
 *
 * The global -R/--repo may also follow the command name: cli_parse
 * (util.c) takes it there, where it knows which arguments are option
 * values and which options are the command's own.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FOLIO_VERSION_STRING "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: folio [-R REPO] COMMAND [ARGS...]\n"
		"\n"
		"folio keeps versions of image datasets: a content-addressed store of\n"
		"files and a git history of how they are laid out.\n"
		"\n"
		"Commands:\n");
	for (const command *c = folio_commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f,
		"\n"
		"The repository is found from -R REPO (also --repo REPO or --repo=REPO,\n"
		"before or after the command name), then $FOLIO_REPO, then the current\n"
		"folder and its parents. VERSION is a branch, a tag, a full or abbreviated\n"
		"commit id, HEAD or HEAD~N.\n"
		"\n"
		"Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 not found, 4 locked,\n"
		"5 corrupt data found, 6 disk full, 7 uncommitted changes, 8 permission denied.\n"
		"\n"
		"`folio COMMAND --help` describes each command; docs/cli.md has them all.\n");
}

int main(int argc, char **argv)
{
	cli c = { 0 };
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-R") == 0 || strcmp(argv[i], "--repo") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "folio: -R needs a repository path\n");
				return EXIT_USAGE;
			}
			c.repo_arg = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--repo=", 7) == 0) {
			c.repo_arg = argv[i] + 7;
			i++;
		} else if (strncmp(argv[i], "-R", 2) == 0) {
			c.repo_arg = argv[i] + 2; /* -RREPO, as getopt takes it after the command */
			i++;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("folio %s\n", FOLIO_VERSION_STRING);
			return EXIT_OK;
		} else {
			fprintf(stderr, "folio: unknown option %s (see `folio --help`)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[i];
	if (strcmp(name, "help") == 0) {
		if (i + 1 < argc)
			name = argv[i + 1];
		else {
			usage(stdout);
			return EXIT_OK;
		}
		for (const command *cmd = folio_commands; cmd->name; cmd++)
			if (strcmp(cmd->name, name) == 0) {
				fputs(*cmd->usage, stdout);
				return EXIT_OK;
			}
		fprintf(stderr, "folio: no command '%s' (see `folio --help`)\n", name);
		return EXIT_USAGE;
	}
	for (const command *cmd = folio_commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, name) != 0)
			continue;
		c.argc = argc - i;
		c.argv = argv + i;
		if (cli_wants_help(&c)) {
			fputs(*cmd->usage, stdout);
			return EXIT_OK;
		}
		int code = cmd->run(&c);
		if (fflush(stdout) != 0) {
			fprintf(stderr, "folio: cannot write output\n");
			return EXIT_FAIL;
		}
		return code;
	}
	fprintf(stderr, "folio: '%s' is not a folio command (see `folio --help`)\n", name);
	return EXIT_USAGE;
}
