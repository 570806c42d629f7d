/*
 * cmd_version.c — commit, log, show, diff, tag, branch and switch.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void format_time(char *buf, size_t len, int64_t t, int offset_min)
{
	time_t local = (time_t)(t + (int64_t)offset_min * 60);
	struct tm tm;
	int off = offset_min < 0 ? -offset_min : offset_min;

	gmtime_r(&local, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, " %c%02d%02d", offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

static cJSON *commit_json(const folio_commit_info *ci)
{
	char date[64];
	cJSON *o = cJSON_CreateObject();
	cJSON *parents = cJSON_CreateArray();

	format_time(date, sizeof date, ci->time, ci->offset_minutes);
	cJSON_AddStringToObject(o, "id", ci->id);
	cJSON_AddStringToObject(o, "tree", ci->tree);
	for (unsigned i = 0; i < ci->nparents && i < 2; i++)
		cJSON_AddItemToArray(parents, cJSON_CreateString(ci->parents[i]));
	cJSON_AddItemToObject(o, "parents", parents);
	cJSON_AddStringToObject(o, "author", ci->author_name);
	cJSON_AddStringToObject(o, "email", ci->author_email);
	cJSON_AddNumberToObject(o, "time", (double)ci->time);
	cJSON_AddStringToObject(o, "date", date);
	cJSON_AddStringToObject(o, "message", ci->message ? ci->message : "");
	return o;
}

static void print_commit(const folio_commit_info *ci, int oneline)
{
	char date[64];

	if (oneline) {
		const char *m = ci->message ? ci->message : "";
		printf("%.12s %.*s\n", ci->id, (int)strcspn(m, "\n"), m);
		return;
	}
	format_time(date, sizeof date, ci->time, ci->offset_minutes);
	printf("commit %s\nAuthor: %s <%s>\nDate:   %s\n\n", ci->id, ci->author_name,
	       ci->author_email, date);
	const char *m = ci->message ? ci->message : "";
	while (*m) {
		size_t l = strcspn(m, "\n");
		printf("    %.*s\n", (int)l, m);
		m += l + (m[l] == '\n');
	}
	printf("\n");
}

const char *const usage_commit =
	"usage: folio commit -m MESSAGE [--allow-empty]\n"
	"\n"
	"Records the staged tree as a new version on the current branch. The\n"
	"author is $GIT_AUTHOR_NAME/$GIT_AUTHOR_EMAIL, else git's user.name and\n"
	"user.email, else the OS user. A commit interrupted at any moment leaves\n"
	"the branch at the old or the new version.\n"
	"\n"
	"Options:\n"
	"  -m, --message MSG   the commit message (required)\n"
	"  --allow-empty       commit even if nothing changed\n";

int cmd_commit(cli *c);
int cmd_commit(cli *c)
{
	const char *msg = NULL;
	int allow_empty = 0;
	cli_opt opts[] = {
		{ "message", 'm', 1, &msg, NULL },
		{ "allow-empty", 0, 0, NULL, &allow_empty },
		{ 0 },
	};
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree head, stage;
	folio_diff d = { 0 };
	char headid[FOLIO_COMMIT_HEXSZ + 1], base[FOLIO_COMMIT_HEXSZ + 1], id[FOLIO_COMMIT_HEXSZ + 1];
	char *branch = NULL;
	folio_signature sig;
	int code = EXIT_OK;

	folio_tree_init(&head);
	folio_tree_init(&stage);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	free(pos);
	if (npos)
		return cli_usage_error(c, "unexpected argument; quote the message: -m \"...\"");
	if (!msg || !*msg)
		return cli_usage_error(c, "a commit needs a message: -m \"what changed and why\"");
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_repo_lock(repo, "folio commit")) < 0 ||
	    (rc = folio_version_head(&branch, headid, repo->version)) < 0 ||
	    (headid[0] && (rc = folio_version_read_tree(&head, repo->version, headid)) < 0) ||
	    (rc = folio_stage_load(&stage, base, repo)) < 0 ||
	    (rc = folio_diff_trees(&d, &head, &stage)) < 0)
		goto fail;
	if (!branch) {
		rc = folio_error_set(FOLIO_EINVAL, "HEAD is detached; `folio switch BRANCH` first");
		goto fail;
	}
	if (d.n == 0 && !allow_empty) {
		fprintf(stderr, "folio commit: nothing to commit (the stage equals %s); "
			"`folio add` files first, or use --allow-empty\n", headid[0] ? "HEAD" : "an empty tree");
		code = EXIT_FAIL;
		goto out;
	}
	if ((rc = folio_tree_check_conflicts(&stage)) < 0 ||
	    (rc = folio_version_identity(&sig, repo->version)) < 0 ||
	    (rc = folio_version_commit(id, repo->version, &stage, msg, &sig,
				       folio_repo_content_cb, repo)) < 0)
		goto fail;
	/* The stage now equals the new HEAD; record that, keeping the stat
	 * cache. A failure here is harmless: status compares with HEAD. */
	if (folio_stage_save(repo, &stage, id) < 0)
		fprintf(stderr, "folio commit: warning: %s\n", folio_error_last());
	printf("[%s %.12s] %.*s\n %zu added, %zu removed, %zu modified, %zu renamed; %zu files\n",
	       branch, id, (int)strcspn(msg, "\n"), msg, d.added, d.removed, d.modified,
	       d.renamed, stage.n);
	goto out;
fail:
	code = cli_fail(rc);
out:
	folio_diff_clear(&d);
	folio_tree_clear(&head);
	folio_tree_clear(&stage);
	free(branch);
	folio_repo_free(repo);
	return code;
}

typedef struct log_state {
	int json, oneline;
	cJSON *arr;
} log_state;

static int log_cb(const folio_commit_info *ci, void *payload)
{
	log_state *s = payload;

	if (s->json)
		cJSON_AddItemToArray(s->arr, commit_json(ci));
	else
		print_commit(ci, s->oneline);
	return 0;
}

const char *const usage_log =
	"usage: folio log [VERSION] [-n N] [--oneline] [--json]\n"
	"\n"
	"Lists versions, newest first, starting at VERSION (default HEAD).\n"
	"\n"
	"Options:\n"
	"  -n, --max-count N   at most N versions\n"
	"  --oneline           short id and first line of the message\n"
	"  --json              a JSON array of commits (id, tree, parents, author,\n"
	"                      email, time, date, message)\n";

int cmd_log(cli *c);
int cmd_log(cli *c)
{
	const char *max_s = NULL;
	log_state s = { 0 };
	cli_opt opts[] = {
		{ "max-count", 'n', 1, &max_s, NULL },
		{ "oneline", 0, 0, NULL, &s.oneline },
		{ "json", 0, 0, NULL, &s.json },
		{ 0 },
	};
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	size_t max = 0;

	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	const char *spec = npos ? pos[0] : "HEAD";
	if (npos > 1) {
		free(pos);
		return cli_usage_error(c, "give at most one VERSION");
	}
	if (max_s) {
		char *end;
		long v = strtol(max_s, &end, 10);
		if (*end || v < 0) {
			free(pos);
			return cli_usage_error(c, "-n wants a count, not '%s'", max_s);
		}
		max = (size_t)v;
	}
	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	char head[FOLIO_COMMIT_HEXSZ + 1];
	char *branch = NULL;
	if (!npos) {
		if ((rc = folio_version_head(&branch, head, repo->version)) < 0)
			goto fail;
		free(branch);
		if (!head[0]) {
			if (s.json)
				printf("[]\n");
			else
				fprintf(stderr, "folio log: no commits yet\n");
			folio_repo_free(repo);
			free(pos);
			return EXIT_OK;
		}
	}
	if (s.json)
		s.arr = cJSON_CreateArray();
	if ((rc = folio_version_log(repo->version, spec, max, log_cb, &s)) < 0) {
		cJSON_Delete(s.arr);
		goto fail;
	}
	if (s.json)
		json_print(s.arr);
	folio_repo_free(repo);
	free(pos);
	return EXIT_OK;
fail:
	folio_repo_free(repo);
	free(pos);
	return cli_fail(rc);
}

const char *const usage_show =
	"usage: folio show [VERSION] [--json]\n"
	"\n"
	"Shows one version (default HEAD): its id, author, date, message and the\n"
	"paths it changed against its first parent.\n";

int cmd_show(cli *c);
int cmd_show(cli *c)
{
	int json = 0;
	cli_opt opts[] = { { "json", 0, 0, NULL, &json }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_commit_info ci = { 0 };
	folio_tree a, b;
	folio_diff d = { 0 };
	char id[FOLIO_COMMIT_HEXSZ + 1];

	folio_tree_init(&a);
	folio_tree_init(&b);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos > 1) {
		free(pos);
		return cli_usage_error(c, "give at most one VERSION");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_version_resolve(id, repo->version, npos ? pos[0] : "HEAD")) < 0 ||
	    (rc = folio_version_commit_info(&ci, repo->version, id)) < 0 ||
	    (ci.nparents && (rc = folio_version_read_tree(&a, repo->version, ci.parents[0])) < 0) ||
	    (rc = folio_version_read_tree(&b, repo->version, id)) < 0 ||
	    (rc = folio_diff_trees(&d, &a, &b)) < 0)
		goto fail;
	if (json) {
		cJSON *o = commit_json(&ci);
		cJSON_AddNumberToObject(o, "files", (double)b.n);
		cJSON_AddItemToObject(o, "diff", diff_json(&d));
		json_print(o);
	} else {
		print_commit(&ci, 0);
		printf("%zu files; %zu added, %zu removed, %zu modified, %zu renamed\n",
		       b.n, d.added, d.removed, d.modified, d.renamed);
		print_diff(&d, 0);
	}
	rc = 0;
fail:
	folio_commit_info_clear(&ci);
	folio_diff_clear(&d);
	folio_tree_clear(&a);
	folio_tree_clear(&b);
	folio_repo_free(repo);
	free(pos);
	return rc ? cli_fail(rc) : EXIT_OK;
}

const char *const usage_diff =
	"usage: folio diff A [B] [--json]\n"
	"\n"
	"Lists the paths added (A), removed (D), modified (M) and renamed (R)\n"
	"from version A to version B. Without B, compares A with the staged tree.\n"
	"':' names the staged tree explicitly.\n"
	"\n"
	"Options:\n"
	"  --json   {\"changes\": [{status, path, from?, old?, new?}], counts}\n";

int cmd_diff(cli *c);
int cmd_diff(cli *c)
{
	int json = 0;
	cli_opt opts[] = { { "json", 0, 0, NULL, &json }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree a, b;
	folio_diff d = { 0 };

	folio_tree_init(&a);
	folio_tree_init(&b);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos < 1 || npos > 2) {
		free(pos);
		return cli_usage_error(c, "give one or two versions");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&a, repo, pos[0], NULL)) < 0 ||
	    (rc = cli_load_tree(&b, repo, npos > 1 ? pos[1] : ":", NULL)) < 0 ||
	    (rc = folio_diff_trees(&d, &a, &b)) < 0)
		goto fail;
	print_diff(&d, json);
	rc = 0;
fail:
	folio_diff_clear(&d);
	folio_tree_clear(&a);
	folio_tree_clear(&b);
	folio_repo_free(repo);
	free(pos);
	return rc ? cli_fail(rc) : EXIT_OK;
}

typedef struct ref_state {
	int json;
	cJSON *arr;
} ref_state;

static int ref_cb(const folio_ref_info *r, void *payload)
{
	ref_state *s = payload;

	if (s->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", r->name);
		cJSON_AddStringToObject(o, "commit", r->target);
		cJSON_AddBoolToObject(o, "head", r->is_head);
		cJSON_AddItemToArray(s->arr, o);
	} else {
		printf("%c %-24s %.12s\n", r->is_head ? '*' : ' ', r->name, r->target);
	}
	return 0;
}

static int list_refs(folio_repo *repo, int tags, int json)
{
	ref_state s = { json, json ? cJSON_CreateArray() : NULL };
	int rc = folio_version_refs(repo->version, tags, ref_cb, &s);

	if (rc < 0) {
		cJSON_Delete(s.arr);
		return rc;
	}
	if (json)
		json_print(s.arr);
	return 0;
}

/*
 * tag and branch: list (no NAME), create NAME at VERSION (default HEAD),
 * or delete NAME. Only tags take a message (-m: annotated).
 */
static int refs_command(cli *c, int tags)
{
	const char *msg = NULL;
	int force = 0, del = 0, json = 0;
	cli_opt opts[] = {
		{ "force", 'f', 0, NULL, &force },
		{ "delete", 'd', 0, NULL, &del },
		{ "json", 0, 0, NULL, &json },
		{ "message", 'm', 1, &msg, NULL }, /* tags only: cut off below for branches */
		{ 0 },
	};
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;

	if (!tags)
		opts[3] = (cli_opt){ 0 };
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos > 2 || (del && npos != 1)) {
		free(pos);
		return cli_usage_error(c, "wrong number of arguments");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	if (npos == 0)
		rc = list_refs(repo, tags, json);
	else if ((rc = folio_repo_lock(repo, tags ? "folio tag" : "folio branch")) < 0)
		goto fail;
	else if (del)
		rc = tags ? folio_version_tag_delete(repo->version, pos[0])
			  : folio_version_branch_delete(repo->version, pos[0]);
	else if (tags)
		rc = folio_version_tag_create(repo->version, pos[0], npos > 1 ? pos[1] : "HEAD", msg, force);
	else
		rc = folio_version_branch_create(repo->version, pos[0], npos > 1 ? pos[1] : "HEAD", force);
fail:
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}

const char *const usage_tag =
	"usage: folio tag [--json]                     list tags\n"
	"       folio tag NAME [VERSION] [-m MSG] [-f] tag VERSION (default HEAD)\n"
	"       folio tag -d NAME                      delete a tag\n"
	"\n"
	"Tags name versions that never move: hand out tags/v1 and it stays the\n"
	"same data. With -m the tag is annotated (records who and when).\n"
	"\n"
	"Options:\n"
	"  -m, --message MSG   annotated tag with this message\n"
	"  -f, --force         move an existing tag\n"
	"  -d, --delete        delete the tag\n";

int cmd_tag(cli *c);
int cmd_tag(cli *c)
{
	return refs_command(c, 1);
}

const char *const usage_branch =
	"usage: folio branch [--json]                  list branches (* = current)\n"
	"       folio branch NAME [START] [-f]         create NAME at START (default HEAD)\n"
	"       folio branch -d NAME                   delete a branch\n"
	"\n"
	"Options:\n"
	"  -f, --force    move an existing branch\n"
	"  -d, --delete   delete the branch (not the current one)\n";

int cmd_branch(cli *c);
int cmd_branch(cli *c)
{
	return refs_command(c, 0);
}

const char *const usage_switch =
	"usage: folio switch [-c] BRANCH [--discard]\n"
	"\n"
	"Makes BRANCH the current branch; the stage becomes its tree. Refuses\n"
	"(exit 7) when staged changes would be lost, unless --discard.\n"
	"\n"
	"Options:\n"
	"  -c, --create   create BRANCH at HEAD first\n"
	"  --discard      drop staged changes\n";

int cmd_switch(cli *c);
int cmd_switch(cli *c)
{
	int create = 0, discard = 0;
	cli_opt opts[] = {
		{ "create", 'c', 0, NULL, &create },
		{ "discard", 0, 0, NULL, &discard },
		{ 0 },
	};
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
	if (npos != 1) {
		free(pos);
		return cli_usage_error(c, "give one branch");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_repo_lock(repo, "folio switch")) < 0 ||
	    (rc = folio_version_head(&branch, headid, repo->version)) < 0 ||
	    (headid[0] && (rc = folio_version_read_tree(&head, repo->version, headid)) < 0) ||
	    (rc = folio_stage_load(&stage, base, repo)) < 0 ||
	    (rc = folio_diff_trees(&d, &head, &stage)) < 0)
		goto fail;
	if (d.n && !discard && !create) {
		rc = folio_error_set(FOLIO_EDIRTY,
			"%zu staged changes would be lost; commit them, or use --discard", d.n);
		goto fail;
	}
	if (create && (rc = folio_version_branch_create(repo->version, pos[0], "HEAD", 0)) < 0)
		goto fail;
	if ((rc = folio_version_set_head(repo->version, pos[0])) < 0)
		goto fail;
	/* With -c the new branch has the same tree, so the stage carries over. */
	if (!create && (rc = folio_stage_reset(repo)) < 0)
		goto fail;
	printf("Switched to branch '%s'\n", pos[0]);
fail:
	folio_diff_clear(&d);
	folio_tree_clear(&head);
	folio_tree_clear(&stage);
	free(branch);
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
