/*
 * stage.c — the staged tree, kept in REPO/stage/index.
 *
 * The stage is the whole tree the next commit will record, not a list of
 * changes: status and commit compare it with HEAD's tree. It is a text file
 * (so it can be inspected and repaired by hand) rewritten whole and
 * atomically on every change; at 100,000 files it is ~15 MB and takes well
 * under a second to write, which is fine for the CLI's batch changes.
 *
 *   folio-stage 1
 *   base <40-hex commit the stage started from, or ->
 *   <kind> <mode, octal> <sha256 hex> <size> <mtime_ns> <blob hex or -> <path>
 *   ...
 *
 * kind is L (lfs), B (blob) or S (symlink). The path is last and runs to the
 * end of the line; validated paths contain no control characters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/repo.h"

#define STAGE_MAGIC "folio-stage 1"

static int stage_path(char *buf, size_t len, const folio_repo *repo, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/stage/%s", repo->path, name) >= len)
		return folio_error_set(FOLIO_EINVAL, "repository path too long: %s", repo->path);
	return 0;
}

static int hex20(unsigned char out[20], const char *s)
{
	for (int i = 0; i < 20; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int is_zero20(const unsigned char b[20])
{
	for (int i = 0; i < 20; i++)
		if (b[i])
			return 0;
	return 1;
}

static int parse_line(folio_entry *e, char *line, const char *file, size_t lineno)
{
	char kind, oidhex[65], blobhex[41];
	unsigned mode;
	uint64_t size;
	int64_t mtime;
	int off = 0;

	if (sscanf(line, "%c %o %64s %" SCNu64 " %" SCNd64 " %40s %n",
		   &kind, &mode, oidhex, &size, &mtime, blobhex, &off) != 6 || off == 0)
		return folio_error_set(FOLIO_ECORRUPT, "%s:%zu: malformed stage line", file, lineno);
	memset(e, 0, sizeof *e);
	e->kind = kind == 'L' ? FOLIO_ENTRY_LFS : kind == 'B' ? FOLIO_ENTRY_BLOB :
		  kind == 'S' ? FOLIO_ENTRY_LINK : 0;
	if (!e->kind || (mode != FOLIO_MODE_FILE && mode != FOLIO_MODE_EXEC && mode != FOLIO_MODE_LINK))
		return folio_error_set(FOLIO_ECORRUPT, "%s:%zu: bad kind or mode", file, lineno);
	e->mode = mode;
	if (folio_oid_fromhex(&e->oid, oidhex) < 0)
		return folio_error_set(FOLIO_ECORRUPT, "%s:%zu: bad object id", file, lineno);
	e->size = size;
	e->mtime_ns = mtime;
	if (strcmp(blobhex, "-") != 0 && (strlen(blobhex) != 40 || hex20(e->blob, blobhex) < 0))
		return folio_error_set(FOLIO_ECORRUPT, "%s:%zu: bad blob id", file, lineno);
	e->path = line + off;
	if (folio_path_validate(e->path) < 0)
		return folio_error_wrap(FOLIO_ECORRUPT, "%s:%zu", file, lineno);
	return 0;
}

int folio_stage_load(folio_tree *out, char base_hex[FOLIO_COMMIT_HEXSZ + 1], folio_repo *repo)
{
	char path[4096];
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	folio_tree_init(out);
	base_hex[0] = '\0';
	if ((rc = stage_path(path, sizeof path, repo, "index")) < 0)
		return rc;
	if (!(f = fopen(path, "re"))) {
		if (errno != ENOENT)
			return folio_error_errno(errno, "cannot read the stage %s", path);
		/* No stage file: the stage is HEAD's tree. */
		char *branch = NULL;
		if ((rc = folio_version_head(&branch, base_hex, repo->version)) < 0)
			return rc;
		free(branch);
		if (base_hex[0])
			rc = folio_version_read_tree(out, repo->version, base_hex);
		return rc;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n') {
			rc = folio_error_set(FOLIO_ECORRUPT, "%s:%zu: truncated line", path, lineno);
			goto done;
		}
		line[n - 1] = '\0';
		if (lineno == 1) {
			if (strcmp(line, STAGE_MAGIC) != 0) {
				rc = folio_error_set(FOLIO_ECORRUPT, "%s:1: not a folio stage file", path);
				goto done;
			}
			continue;
		}
		if (lineno == 2) {
			if (strncmp(line, "base ", 5) != 0) {
				rc = folio_error_set(FOLIO_ECORRUPT, "%s:2: missing base line", path);
				goto done;
			}
			if (strcmp(line + 5, "-") != 0) {
				if (strlen(line + 5) != FOLIO_COMMIT_HEXSZ) {
					rc = folio_error_set(FOLIO_ECORRUPT, "%s:2: bad base commit", path);
					goto done;
				}
				memcpy(base_hex, line + 5, FOLIO_COMMIT_HEXSZ + 1);
			}
			continue;
		}
		folio_entry e;
		if ((rc = parse_line(&e, line, path, lineno)) < 0 ||
		    (rc = folio_tree_push(out, &e)) < 0)
			goto done;
	}
	if (ferror(f))
		rc = folio_error_errno(errno, "cannot read the stage %s", path);
	else if (lineno < 2)
		rc = folio_error_set(FOLIO_ECORRUPT, "%s: truncated stage file", path);
	else
		folio_tree_sort(out);
done:
	free(line);
	fclose(f);
	if (rc < 0)
		folio_tree_free(out);
	return rc;
}

int folio_stage_save(folio_repo *repo, const folio_tree *tree, const char *base_hex)
{
	char path[4096], tmp[4096], dir[4096];
	char oidhex[FOLIO_OID_HEXSZ + 1];
	FILE *f = NULL;
	int rc;

	if ((rc = stage_path(path, sizeof path, repo, "index")) < 0 ||
	    (rc = stage_path(tmp, sizeof tmp, repo, "index.tmp")) < 0 ||
	    (rc = stage_path(dir, sizeof dir, repo, "")) < 0)
		return rc;
	if (!(f = fopen(tmp, "we")))
		return folio_error_errno(errno, "cannot write the stage %s", tmp);
	fprintf(f, "%s\nbase %s\n", STAGE_MAGIC, base_hex && *base_hex ? base_hex : "-");
	for (size_t i = 0; i < tree->n; i++) {
		const folio_entry *e = &tree->v[i];
		char blobhex[41] = "-";
		if (!is_zero20(e->blob))
			for (int k = 0; k < 20; k++)
				snprintf(blobhex + 2 * k, 3, "%02x", e->blob[k]);
		folio_oid_tohex(oidhex, &e->oid);
		fprintf(f, "%c %o %s %" PRIu64 " %" PRId64 " %s %s\n",
			e->kind == FOLIO_ENTRY_LFS ? 'L' : e->kind == FOLIO_ENTRY_BLOB ? 'B' : 'S',
			e->mode, oidhex, e->size, e->mtime_ns, blobhex, e->path);
	}
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
		rc = folio_error_errno(errno ? errno : EIO, "cannot write the stage %s", tmp);
		fclose(f);
		unlink(tmp);
		return rc;
	}
	if (fclose(f) != 0) {
		rc = folio_error_errno(errno, "cannot write the stage %s", tmp);
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) < 0) {
		rc = folio_error_errno(errno, "cannot replace the stage %s", path);
		unlink(tmp);
		return rc;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return folio_error_errno(errno, "%s", dir);
	rc = fsync(dfd) < 0 ? folio_error_errno(errno, "fsync %s", dir) : 0;
	close(dfd);
	return rc;
}

/* Open-addressing set of strings (folder prefixes), sized once. */
typedef struct {
	const char **slot;
	size_t *len;
	size_t cap;
} strset;

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* Returns 1 if present, 0 if inserted. */
static int strset_put(strset *s, const char *p, size_t n, int insert)
{
	size_t i = hash_bytes(p, n) & (s->cap - 1);

	while (s->slot[i]) {
		if (s->len[i] == n && memcmp(s->slot[i], p, n) == 0)
			return 1;
		i = (i + 1) & (s->cap - 1);
	}
	if (insert) {
		s->slot[i] = p;
		s->len[i] = n;
	}
	return 0;
}

int folio_tree_check_conflicts(const folio_tree *tree)
{
	size_t total = 0;
	strset set = { 0 };
	int rc = 0;

	for (size_t i = 0; i < tree->n; i++)
		for (const char *p = tree->v[i].path; *p; p++)
			total += *p == '/';
	set.cap = 16;
	while (set.cap < 2 * total + 16)
		set.cap <<= 1;
	set.slot = calloc(set.cap, sizeof *set.slot);
	set.len = calloc(set.cap, sizeof *set.len);
	if (!set.slot || !set.len) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory checking %zu paths", tree->n);
		goto done;
	}
	for (size_t i = 0; i < tree->n; i++) {
		const char *p = tree->v[i].path;
		for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/'))
			strset_put(&set, p, (size_t)(s - p), 1);
	}
	for (size_t i = 0; i < tree->n; i++) {
		const char *p = tree->v[i].path;
		if (strset_put(&set, p, strlen(p), 0)) {
			rc = folio_error_set(FOLIO_EINVAL,
				"'%s' would be both a file and a folder; remove one with `folio rm` first", p);
			goto done;
		}
	}
done:
	free(set.slot);
	free(set.len);
	return rc;
}

int folio_stage_reset(folio_repo *repo)
{
	char path[4096];
	int rc;

	if ((rc = stage_path(path, sizeof path, repo, "index")) < 0)
		return rc;
	if (unlink(path) < 0 && errno != ENOENT)
		return folio_error_errno(errno, "cannot reset the stage %s", path);
	return 0;
}
