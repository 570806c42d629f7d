/*
 * cmd_stage.c — rm, mv and status: changing and inspecting the stage.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Index range [*lo, *hi) of entries equal to path or under path/. */
static void prefix_range(const folio_tree *t, const char *path, size_t *lo, size_t *hi)
{
	size_t l = strlen(path), i = folio_tree_lower_bound(t, path);

	*lo = i;
	/* Entries under path/ need not be contiguous with path itself in
	 * bytewise order ("a", "a-b", "a/c"), so scan the prefix run. */
	while (i < t->n && strncmp(t->v[i].path, path, l) == 0)
		i++;
	*hi = i;
}

static int under(const char *p, const char *dir)
{
	size_t l = strlen(dir);
	return strncmp(p, dir, l) == 0 && (p[l] == '/' || p[l] == '\0');
}

static char *trim_slashes(const char *s)
{
	size_t l = strlen(s);

	while (l > 1 && s[l - 1] == '/')
		l--;
	return strndup(s, l);
}

const char *const usage_rm =
	"usage: folio rm [-r] PATH...\n"
	"\n"
	"Removes files from the staged tree (the next commit will not have them).\n"
	"Earlier versions keep them. A folder needs -r.\n"
	"\n"
	"Options:\n"
	"  -r, --recursive   remove folders and everything under them\n"
	"  -f, --force       do not fail on paths that are not staged\n";

int cmd_rm(cli *c);
int cmd_rm(cli *c)
{
	int recursive = 0, force = 0;
	cli_opt opts[] = {
		{ "recursive", 'r', 0, NULL, &recursive },
		{ "force", 'f', 0, NULL, &force },
		{ 0 },
	};
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	size_t removed = 0;

	folio_tree_init(&t);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos == 0) {
		free(pos);
		return cli_usage_error(c, "give the paths to remove");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_repo_lock(repo, "folio rm")) < 0 ||
	    (rc = folio_stage_load(&t, base, repo)) < 0)
		goto fail;
	for (int i = 0; i < npos; i++) {
		char *p = trim_slashes(pos[i]);
		if (!p) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		folio_entry *e = folio_tree_find(&t, p);
		if (e) {
			folio_tree_remove_at(&t, (size_t)(e - t.v));
			removed++;
		} else {
			size_t lo, hi, n = 0;
			prefix_range(&t, p, &lo, &hi);
			for (size_t k = lo; k < hi; k++)
				n += under(t.v[k].path, p);
			if (n && !recursive) {
				rc = folio_error_set(FOLIO_EINVAL,
					"%s is a folder with %zu files; use `folio rm -r %s`", p, n, p);
				free(p);
				goto fail;
			}
			if (!n && !force) {
				rc = folio_error_set(FOLIO_ENOTFOUND,
					"%s is not in the staged tree (see `folio ls :`)", p);
				free(p);
				goto fail;
			}
			for (size_t k = lo; k < hi;) {
				if (under(t.v[k].path, p)) {
					folio_tree_remove_at(&t, k);
					hi--;
					removed++;
				} else {
					k++;
				}
			}
		}
		free(p);
	}
	if ((rc = folio_stage_save(repo, &t, base)) < 0)
		goto fail;
	if (isatty(STDOUT_FILENO))
		printf("removed %zu files from the stage\n", removed);
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return EXIT_OK;
fail:
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return cli_fail(rc);
}

const char *const usage_mv =
	"usage: folio mv SRC... DST\n"
	"\n"
	"Renames or moves files and folders in the staged tree. With one SRC, DST\n"
	"is its new path, unless DST is an existing folder, in which case SRC\n"
	"moves into it; with several SRCs, DST is the folder they move into.\n"
	"The content is not copied: renames cost nothing and `folio diff` shows\n"
	"them as renames.\n"
	"\n"
	"Options:\n"
	"  -f, --force   replace files already at the destination\n";

int cmd_mv(cli *c);
int cmd_mv(cli *c)
{
	int force = 0;
	cli_opt opts[] = { { "force", 'f', 0, NULL, &force }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t, moved;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	char *dst = NULL;

	folio_tree_init(&t);
	folio_tree_init(&moved);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos < 2) {
		free(pos);
		return cli_usage_error(c, "give SRC and DST");
	}
	if (!(dst = trim_slashes(pos[npos - 1]))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = folio_path_validate(dst)) < 0)
		goto fail;
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_repo_lock(repo, "folio mv")) < 0 ||
	    (rc = folio_stage_load(&t, base, repo)) < 0)
		goto fail;

	/* Is DST an existing folder? */
	size_t lo, hi;
	int dst_is_dir = 0;
	prefix_range(&t, dst, &lo, &hi);
	for (size_t k = lo; k < hi; k++)
		if (t.v[k].path[strlen(dst)] == '/')
			dst_is_dir = 1;
	if (npos > 2 && !dst_is_dir && folio_tree_find(&t, dst)) {
		rc = folio_error_set(FOLIO_EINVAL, "%s is a file; several sources need a folder", dst);
		goto fail;
	}
	int into = dst_is_dir || npos > 2;

	for (int i = 0; i < npos - 1; i++) {
		char *src = trim_slashes(pos[i]);
		if (!src) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		const char *name = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
		size_t sl = strlen(src), n = 0;
		char *target = NULL;
		if (into) {
			target = malloc(strlen(dst) + strlen(name) + 2);
			if (target)
				snprintf(target, strlen(dst) + strlen(name) + 2, "%s/%s", dst, name);
		} else {
			target = strdup(dst);
		}
		if (!target) {
			free(src);
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		if (under(target, src)) {
			rc = folio_error_set(FOLIO_EINVAL, "cannot move %s into itself (%s)", src, target);
			free(src);
			free(target);
			goto fail;
		}
		prefix_range(&t, src, &lo, &hi);
		for (size_t k = lo; k < hi;) {
			if (!under(t.v[k].path, src)) {
				k++;
				continue;
			}
			const char *rest = t.v[k].path + sl;
			size_t tl = strlen(target) + strlen(rest) + 1;
			char *np = malloc(tl);
			if (!np) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				free(src);
				free(target);
				goto fail;
			}
			snprintf(np, tl, "%s%s", target, rest);
			folio_entry e = t.v[k];
			e.path = np;
			rc = folio_tree_push(&moved, &e);
			free(np);
			if (rc < 0) {
				free(src);
				free(target);
				goto fail;
			}
			folio_tree_remove_at(&t, k);
			hi--;
			n++;
		}
		if (n == 0) {
			rc = folio_error_set(FOLIO_ENOTFOUND, "%s is not in the staged tree (see `folio ls :`)", src);
			free(src);
			free(target);
			goto fail;
		}
		free(src);
		free(target);
	}
	folio_tree_sort(&moved);
	for (size_t k = 0; k < moved.n; k++) {
		folio_entry *clash = folio_tree_find(&t, moved.v[k].path);
		if (clash && !force) {
			rc = folio_error_set(FOLIO_EEXISTS,
				"%s already exists in the staged tree; use -f to replace it", moved.v[k].path);
			goto fail;
		}
		if ((rc = folio_tree_push(&t, &moved.v[k])) < 0)
			goto fail;
	}
	folio_tree_sort(&t);
	if ((rc = folio_tree_check_conflicts(&t)) < 0 ||
	    (rc = folio_stage_save(repo, &t, base)) < 0)
		goto fail;
	free(dst);
	folio_tree_clear(&t);
	folio_tree_clear(&moved);
	folio_repo_free(repo);
	free(pos);
	return EXIT_OK;
fail:
	free(dst);
	folio_tree_clear(&t);
	folio_tree_clear(&moved);
	folio_repo_free(repo);
	free(pos);
	return cli_fail(rc);
}

const char *const usage_status =
	"usage: folio status [--json]\n"
	"\n"
	"Shows the branch and what the next commit would change against it:\n"
	"added (A), removed (D), modified (M) and renamed (R) paths.\n"
	"\n"
	"Options:\n"
	"  --json   one JSON object: branch, head, and the changes\n";

int cmd_status(cli *c);
int cmd_status(cli *c)
{
	int json = 0;
	cli_opt opts[] = { { "json", 0, 0, NULL, &json }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree head, stage;
	folio_diff d = { 0 };
	char headid[FOLIO_COMMIT_HEXSZ + 1], base[FOLIO_COMMIT_HEXSZ + 1];
	char *branch = NULL;

	folio_tree_init(&head);
	folio_tree_init(&stage);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	free(pos);
	if (npos) 
		return cli_usage_error(c, "takes no arguments");
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_version_head(&branch, headid, repo->version)) < 0 ||
	    (headid[0] && (rc = folio_version_read_tree(&head, repo->version, headid)) < 0) ||
	    (rc = folio_stage_load(&stage, base, repo)) < 0 ||
	    (rc = folio_diff_trees(&d, &head, &stage)) < 0)
		goto fail;
	if (json) {
		cJSON *top = cJSON_CreateObject();
		cJSON_AddItemToObject(top, "branch", branch ? cJSON_CreateString(branch) : cJSON_CreateNull());
		cJSON_AddItemToObject(top, "head", headid[0] ? cJSON_CreateString(headid) : cJSON_CreateNull());
		cJSON_AddNumberToObject(top, "staged_files", (double)stage.n);
		cJSON_AddItemToObject(top, "diff", diff_json(&d));
		json_print(top);
	} else {
		printf("On branch %s%s\n", branch ? branch : "(detached HEAD)",
		       headid[0] ? "" : " (no commits yet)");
		if (d.n == 0) {
			printf("Nothing to commit: %zu files staged, same as %s.\n", stage.n,
			       headid[0] ? "HEAD" : "an empty tree");
		} else {
			printf("Changes to be committed (%zu added, %zu removed, %zu modified, %zu renamed):\n",
			       d.added, d.removed, d.modified, d.renamed);
			print_diff(&d, 0);
		}
	}
	rc = 0;
fail:
	folio_diff_clear(&d);
	folio_tree_clear(&head);
	folio_tree_clear(&stage);
	free(branch);
	folio_repo_free(repo);
	return rc ? cli_fail(rc) : EXIT_OK;
}
