/*
 * util.c — the CLI's shared helpers: errors to exit codes, option parsing,
 * progress bars, JSON output, loading a version's or the stage's tree.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int exit_code_for(int rc)
{
	switch (rc) {
	case 0: return EXIT_OK;
	case FOLIO_EINVAL: case FOLIO_EAMBIGUOUS: return EXIT_USAGE;
	case FOLIO_ENOTFOUND: return EXIT_NOTFOUND;
	case FOLIO_ELOCKED: return EXIT_LOCKED;
	case FOLIO_ECORRUPT: return EXIT_CORRUPT;
	case FOLIO_ENOSPC: return EXIT_NOSPACE;
	case FOLIO_EDIRTY: return EXIT_DIRTY;
	case FOLIO_EACCES: return EXIT_DENIED;
	default: return EXIT_FAIL;
	}
}

int cli_fail(int rc)
{
	fprintf(stderr, "folio: %s\n", folio_error_last());
	return exit_code_for(rc);
}

int cli_usage_error(const cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "folio %s: ", c->argv[0]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `folio %s --help`)\n", c->argv[0]);
	return EXIT_USAGE;
}

int cli_open_repo(folio_repo **out, const cli *c)
{
	char *path = NULL;
	int rc = folio_repo_discover(&path, c->repo_arg);

	if (rc == 0)
		rc = folio_repo_open(out, path);
	free(path);
	return rc;
}

int cli_wants_help(const cli *c)
{
	for (int i = 1; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--") == 0)
			break;
		if (strcmp(c->argv[i], "--help") == 0 || strcmp(c->argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/* getopt_long's value for the global --repo (the command's own options are
 * 1000 + their index). */
#define OPT_GLOBAL_REPO 999

int cli_parse(cli *c, const cli_opt *opts, char ***pos, int *npos)
{
	struct option lo[34];
	char so[84];
	size_t n = 0, nl, s = 0;
	int own_R = 0, own_repo = 0;

	so[s++] = '+'; /* stop permutation surprises: we collect positionals ourselves */
	so[s++] = ':';
	for (; opts && opts[n].lng; n++) {
		if (n >= 31)
			return cli_usage_error(c, "internal error: too many options");
		lo[n] = (struct option){ opts[n].lng, opts[n].has_arg ? required_argument : no_argument,
					 NULL, 1000 + (int)n };
		own_repo |= !strcmp(opts[n].lng, "repo");
		if (opts[n].shrt) {
			own_R |= opts[n].shrt == 'R';
			so[s++] = opts[n].shrt;
			if (opts[n].has_arg)
				so[s++] = ':';
		}
	}
	/* The global -R/--repo REPO (main.c) also works after the command
	 * name, unless the command has an option of that name itself. */
	nl = n;
	if (!own_repo)
		lo[nl++] = (struct option){ "repo", required_argument, NULL, OPT_GLOBAL_REPO };
	if (!own_R) {
		so[s++] = 'R';
		so[s++] = ':';
	}
	lo[nl] = (struct option){ 0 };
	so[s] = '\0';

	char **p = calloc((size_t)c->argc + 1, sizeof *p);
	int np = 0;
	if (!p)
		return cli_usage_error(c, "out of memory");
	optind = 1;
	opterr = 0;
	for (;;) {
		while (optind < c->argc && (c->argv[optind][0] != '-' || c->argv[optind][1] == '\0'))
			p[np++] = c->argv[optind++];
		if (optind >= c->argc)
			break;
		if (strcmp(c->argv[optind], "--") == 0) {
			optind++;
			while (optind < c->argc)
				p[np++] = c->argv[optind++];
			break;
		}
		int ch = getopt_long(c->argc, c->argv, so, lo, NULL);
		if (ch == -1)
			break;
		if (ch == '?' || ch == ':') {
			const char *bad = c->argv[optind - 1];
			free(p);
			return cli_usage_error(c, ch == ':' ? "option %s needs a value" : "unknown option %s", bad);
		}
		if (ch == OPT_GLOBAL_REPO || (ch == 'R' && !own_R)) {
			c->repo_arg = optarg;
			continue;
		}
		size_t k = 0;
		if (ch >= 1000)
			k = (size_t)(ch - 1000);
		else
			while (k < n && opts[k].shrt != ch)
				k++;
		if (opts[k].has_arg)
			*opts[k].sval = optarg;
		else
			(*opts[k].flag)++;
	}
	*pos = p;
	*npos = np;
	return 0;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void human_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void progress_begin(progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->total = total;
	p->enabled = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO) &&
		     !getenv("FOLIO_NO_PROGRESS");
	p->start = p->last = now_seconds();
}

static void draw(progress *p, double t)
{
	char sz[32];
	int width = 30;
	double frac = p->total ? (double)p->done / (double)p->total : 0;
	int fill = (int)(frac * width);
	double rate = t > p->start ? (double)p->done / (t - p->start) : 0;

	if (frac > 1)
		frac = 1, fill = width;
	human_size(sz, sizeof sz, p->bytes);
	fprintf(stderr, "\r%-8s [%.*s%*s] %3.0f%% %llu/%llu files, %s, %.0f files/s ",
		p->label, fill, "##############################", width - fill, "",
		frac * 100, (unsigned long long)p->done, (unsigned long long)p->total,
		sz, rate);
	fflush(stderr);
}

void progress_update(progress *p, uint64_t done, uint64_t bytes)
{
	p->done = done;
	p->bytes = bytes;
	if (!p->enabled)
		return;
	double t = now_seconds();
	if (t - p->last < 0.1 && done < p->total)
		return;
	p->last = t;
	draw(p, t);
}

void progress_end(progress *p)
{
	if (!p->enabled)
		return;
	draw(p, now_seconds());
	fputc('\n', stderr);
}

void cli_report_progress(size_t done, size_t total, uint64_t bytes, void *payload)
{
	cli_report *r = payload;

	r->pr.total = total;
	progress_update(&r->pr, done, bytes);
}

void cli_report_warn(const char *message, void *payload)
{
	const cli_report *r = payload;

	fprintf(stderr, "folio %s: %s\n", r->cmd, message);
}

int cli_as_arg(const cli *c, const char *arg, int root_ok, char **out)
{
	size_t l = arg ? strlen(arg) : 0;

	while (l > (root_ok ? 0 : 1) && arg[l - 1] == '/')
		l--;
	if (!(*out = strndup(arg ? arg : "", l))) {
		fprintf(stderr, "folio %s: out of memory\n", c->argv[0]);
		return EXIT_FAIL;
	}
	if ((root_ok && !**out) || folio_path_validate(*out) == 0)
		return 0;
	fprintf(stderr, "folio %s: --as %s: %s\n", c->argv[0], arg ? arg : "", folio_error_last());
	free(*out);
	*out = NULL;
	return EXIT_USAGE;
}

int cli_parse_jobs(const cli *c, const char *s, int *out)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end || n < 1 || n > 256)
		return cli_usage_error(c, "--jobs wants a number from 1 to 256, not '%s'", s);
	*out = (int)n;
	return 0;
}

void json_print(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	cJSON_Delete(j);
}

const char *kind_name(folio_entry_kind k)
{
	return k == FOLIO_ENTRY_LFS ? "lfs" : k == FOLIO_ENTRY_BLOB ? "blob" : "link";
}

cJSON *json_entry(const folio_entry *e)
{
	char hex[FOLIO_OID_HEXSZ + 1];
	char mode[16];
	cJSON *j = cJSON_CreateObject();

	folio_oid_tohex(hex, &e->oid);
	snprintf(mode, sizeof mode, "%06o", e->mode);
	cJSON_AddStringToObject(j, "path", e->path);
	cJSON_AddStringToObject(j, "mode", mode);
	cJSON_AddStringToObject(j, "kind", kind_name(e->kind));
	cJSON_AddStringToObject(j, "oid", hex);
	cJSON_AddNumberToObject(j, "size", (double)e->size);
	return j;
}

int cli_load_tree(folio_tree *out, folio_repo *repo, const char *spec,
		  char commit_out[FOLIO_COMMIT_HEXSZ + 1])
{
	char base[FOLIO_COMMIT_HEXSZ + 1];
	int rc;

	if (!spec || strcmp(spec, ":") == 0) {
		if (commit_out)
			commit_out[0] = '\0';
		return folio_stage_load(out, base, repo);
	}
	char id[FOLIO_COMMIT_HEXSZ + 1];
	if ((rc = folio_version_resolve(id, repo->version, spec)) < 0)
		return rc;
	if (commit_out)
		memcpy(commit_out, id, sizeof id);
	return folio_version_read_tree(out, repo->version, id);
}

cJSON *diff_json(const folio_diff *d)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < d->n; i++) {
		const folio_diff_item *it = &d->v[i];
		cJSON *o = cJSON_CreateObject();
		const char *st = it->status == FOLIO_DIFF_ADDED ? "added" :
				 it->status == FOLIO_DIFF_REMOVED ? "removed" :
				 it->status == FOLIO_DIFF_MODIFIED ? "modified" : "renamed";
		cJSON_AddStringToObject(o, "status", st);
		cJSON_AddStringToObject(o, "path", it->b ? it->b->path : it->a->path);
		if (it->status == FOLIO_DIFF_RENAMED)
			cJSON_AddStringToObject(o, "from", it->a->path);
		if (it->a)
			cJSON_AddItemToObject(o, "old", json_entry(it->a));
		if (it->b)
			cJSON_AddItemToObject(o, "new", json_entry(it->b));
		cJSON_AddItemToArray(arr, o);
	}
	cJSON *top = cJSON_CreateObject();
	cJSON_AddItemToObject(top, "changes", arr);
	cJSON_AddNumberToObject(top, "added", (double)d->added);
	cJSON_AddNumberToObject(top, "removed", (double)d->removed);
	cJSON_AddNumberToObject(top, "modified", (double)d->modified);
	cJSON_AddNumberToObject(top, "renamed", (double)d->renamed);
	return top;
}

void print_diff(const folio_diff *d, int json)
{
	if (json) {
		json_print(diff_json(d));
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		const folio_diff_item *it = &d->v[i];
		if (it->status == FOLIO_DIFF_RENAMED)
			printf("R %s -> %s\n", it->a->path, it->b->path);
		else
			printf("%c %s\n", (char)it->status, it->b ? it->b->path : it->a->path);
	}
}
