/*
 * cmd_fsck.c — fsck: verifying the repository (folio_repo_fsck in
 * core/repo does the work); each problem is named on stderr, the summary
 * goes to stdout, and the exit code is 5 if anything was wrong.
 */
#include <stdlib.h>

#include "cli.h"

const char *const usage_fsck =
	"usage: folio fsck [--json]\n"
	"\n"
	"Verifies the repository: recomputes the SHA-256 of every object in the\n"
	"store, reads every commit, tree and blob reachable from any branch or\n"
	"tag, and checks that every file of every version has a sound object,\n"
	"as does every staged file. Each problem is named on stderr (object\n"
	"file, path, commit). Exit code 5 if anything is wrong.\n"
	"\n"
	"Options:\n"
	"  --json   print a summary object {commits, files, objects, bytes, problems}\n";

static void on_problem(const folio_fsck_problem *p, void *payload)
{
	(void)payload;
	fprintf(stderr, "fsck: %s\n", p->message);
}

int cmd_fsck(cli *c);
int cmd_fsck(cli *c)
{
	int json = 0;
	cli_opt opts[] = { { "json", 0, 0, NULL, &json }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_fsck_report r;
	cli_report rep = { .cmd = "fsck" };
	folio_fsck_opts fo = { .problem = on_problem, .progress = cli_report_progress, .payload = &rep };

	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	free(pos);
	if (npos)
		return cli_usage_error(c, "takes no arguments");
	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	/* the bar counts objects; their number is known once the store is
	 * listed, so it starts at the first callback */
	progress_begin(&rep.pr, "fsck", 0);
	rc = folio_repo_fsck(&r, repo, &fo);
	progress_end(&rep.pr);
	if (rc < 0)
		goto fail;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "commits", (double)r.commits);
		cJSON_AddNumberToObject(o, "files", (double)r.files);
		cJSON_AddNumberToObject(o, "objects", (double)r.objects);
		cJSON_AddNumberToObject(o, "bytes", (double)r.bytes);
		cJSON_AddNumberToObject(o, "problems", (double)r.problems);
		json_print(o);
	} else {
		char sz[32];
		human_size(sz, sizeof sz, r.bytes);
		printf("checked %zu commits, %zu distinct files, %zu objects (%s): %s\n", r.commits,
		       r.files, r.objects, sz, r.problems ? "PROBLEMS FOUND" : "no problems");
		if (r.problems)
			printf("%zu problems (listed above)\n", r.problems);
	}
fail:
	folio_repo_free(repo);
	if (rc < 0)
		return cli_fail(rc);
	return r.problems ? EXIT_CORRUPT : EXIT_OK;
}
