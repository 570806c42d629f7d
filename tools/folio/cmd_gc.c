/*
 * cmd_gc.c — gc: removing objects nothing refers to (folio_repo_gc in
 * core/repo does the work and the locking).
 */
#include <stdlib.h>

#include "cli.h"

const char *const usage_gc =
	"usage: folio gc [--dry-run]\n"
	"\n"
	"Removes objects that no branch, tag or staged file refers to, and temp\n"
	"files left by killed writers. Waits for running adds to finish and never\n"
	"removes an object that a concurrent add has just written.\n"
	"\n"
	"Options:\n"
	"  -n, --dry-run   only count what would be removed\n";

int cmd_gc(cli *c);
int cmd_gc(cli *c)
{
	int dry = 0;
	cli_opt opts[] = { { "dry-run", 'n', 0, NULL, &dry }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_gc_report r;
	cli_report rep = { .cmd = "gc" };
	folio_gc_opts go = { .warn = cli_report_warn, .payload = &rep };

	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	free(pos);
	if (npos)
		return cli_usage_error(c, "takes no arguments");
	go.dry_run = dry;
	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	rc = folio_repo_gc(&r, repo, &go);
	/* removals that failed were named; the rest was done */
	if (rc == 0 || r.failed) {
		char sz[32];
		human_size(sz, sizeof sz, r.freed);
		printf("%s %zu unreachable objects (%s); %zu commits keep the rest\n",
		       dry ? "would remove" : "removed", r.removed, sz, r.commits);
	}
fail:
	folio_repo_free(repo);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
