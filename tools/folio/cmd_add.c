/*
 * cmd_add.c — add: copying outside files and folders into the stage.
 *
 * The command names each SRC in the dataset (--as, or its base name) and
 * hands the files to core/repo (folio_add_collect, folio_repo_add), which
 * stores them with a pool of threads and merges them into the stage under
 * the repository lock; this file draws the progress bar and prints.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const char *const usage_add =
	"usage: folio add [options] SRC... [--as PATH]\n"
	"\n"
	"Copies outside files or folders into the staged tree: by default each SRC\n"
	"lands under its own base name (photos/ -> photos/...). Folders are added\n"
	"recursively; symbolic links are kept as links. Files are hashed in\n"
	"parallel and stored once; a file unchanged since it was last added (same\n"
	"size and modification time) is not read again. Images, binary and large\n"
	"files become git-lfs pointers in the version; small text files stay\n"
	"plain git blobs.\n"
	"\n"
	"Options:\n"
	"  --as PATH        with one SRC: its path in the dataset; with several:\n"
	"                   the folder they go into\n"
	"  --replace        also unstage files under each destination folder that\n"
	"                   SRC no longer has (mirror the folder)\n"
	"  -k, --keep-going skip files that cannot be read, with a warning\n"
	"  -j, --jobs N     threads hashing files (default: 2 x cores, at most 16)\n"
	"  -v, --verbose    print a summary line\n"
	"\n"
	"Nothing is staged if any path is invalid (absolute, '..', not UTF-8,\n"
	"control characters) or any file cannot be read (without -k).\n";

/* SRC without trailing slashes (in buf), and its path in the dataset. */
static int destination(char **out, char *buf, size_t size, const char *src, const char *as,
		       int nsrc)
{
	char real[PATH_MAX];
	size_t l = strlen(src);

	*out = NULL;
	while (l > 1 && src[l - 1] == '/')
		l--;
	snprintf(buf, size, "%.*s", (int)l, src);
	const char *name = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(buf, "/")) {
		if (!realpath(buf, real))
			return folio_error_errno(errno, "cannot add %s", src);
		name = strrchr(real, '/') + 1;
	}
	if (*name == '\0' && !as)
		return folio_error_set(FOLIO_EINVAL, "cannot add %s: give --as PATH to name it in the dataset",
				       src);
	*out = as && nsrc == 1 ? strdup(as) : as ? folio_path_join(as, name) : strdup(name);
	return *out ? 0 : folio_error_set(FOLIO_ENOMEM, "out of memory");
}

int cmd_add(cli *c);
int cmd_add(cli *c)
{
	const char *as_arg = NULL, *jobs_s = NULL;
	int replace = 0, keep_going = 0, verbose = 0;
	cli_opt opts[] = {
		{ "as", 0, 1, &as_arg, NULL },
		{ "replace", 0, 0, NULL, &replace },
		{ "keep-going", 'k', 0, NULL, &keep_going },
		{ "jobs", 'j', 1, &jobs_s, NULL },
		{ "verbose", 'v', 0, NULL, &verbose },
		{ 0 },
	};
	char **pos = NULL, **dests = NULL, *as = NULL;
	int npos = 0, rc, code = EXIT_OK;
	folio_repo *repo = NULL;
	folio_add_jobs jobs = { 0 };
	folio_add_stats st;
	folio_add_opts ao = { .what = "folio add" };
	cli_report rep = { .cmd = "add" };

	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos == 0) {
		free(pos);
		return cli_usage_error(c, "nothing to add: give files or folders");
	}
	if (jobs_s && (code = cli_parse_jobs(c, jobs_s, &ao.threads)))
		goto out;
	if (as_arg && (code = cli_as_arg(c, as_arg, 0, &as)))
		goto out;
	ao.keep_going = keep_going;
	ao.progress = cli_report_progress;
	ao.warn = cli_report_warn;
	ao.payload = &rep;

	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	if (!(dests = calloc((size_t)npos, sizeof *dests))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < npos; i++) {
		char buf[PATH_MAX];
		if ((rc = destination(&dests[i], buf, sizeof buf, pos[i], as, npos)) < 0 ||
		    (rc = folio_add_collect(&jobs, buf, dests[i], &ao)) < 0)
			goto fail;
	}
	if (replace) {
		ao.replace = (const char *const *)dests;
		ao.nreplace = (size_t)npos;
	}

	double t0 = now_seconds();
	progress_begin(&rep.pr, "add", jobs.n);
	rc = folio_repo_add(&st, repo, &jobs, &ao);
	progress_end(&rep.pr);
	if (rc < 0)
		goto fail;
	if (verbose || isatty(STDOUT_FILENO)) {
		char sz[32];
		human_size(sz, sizeof sz, st.new_bytes);
		printf("staged %zu files (%zu new objects, %s) in %.2f s%s\n", st.staged,
		       st.new_objects, sz, now_seconds() - t0, st.skipped ? ", some skipped" : "");
	}
	if (st.skipped)
		code = EXIT_FAIL;
	goto out;

fail:
	code = cli_fail(rc);
out:
	if (dests)
		for (int i = 0; i < npos; i++)
			free(dests[i]);
	free(dests);
	free(as);
	folio_add_jobs_clear(&jobs);
	folio_repo_free(repo);
	free(pos);
	return code;
}
