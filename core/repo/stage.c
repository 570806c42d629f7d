/*
 * stage.c — the staged tree, kept in REPO/stage/index.
 *
 * The stage is the whole tree the next commit will record, not a list of
 * changes: status and commit compare it with HEAD's tree. It is a text file
 * (so it can be inspected and repaired by hand) rewritten whole and
 * atomically by the CLI's batch changes; at 100,000 files it is ~13 MB.
 *
 *   folio-stage 1
 *   base <40-hex commit the stage started from, or ->
 *   id <16-hex, new on every rewrite>            (absent in older files)
 *   <kind> <mode, octal> <sha256 hex> <size> <mtime_ns> <blob hex or -> <path>
 *   ...
 *
 * kind is L (lfs), B (blob) or S (symlink). The path is last and runs to the
 * end of the line; validated paths contain no control characters.
 *
 * The mount's HEAD/ saves a change on every close, which must not cost a
 * rewrite of the whole file: it appends to stage/journal instead, and every
 * load replays the journal on top of the index it names:
 *
 *   folio-journal 1 <id of the index>
 *   <8-hex check> + <an index line>          set a file
 *   <8-hex check> - <path>                   remove a file
 *   <8-hex check> > <path>\t<new path>       move a file or folder
 *
 * The check is FNV-1a (32 bits) of the rest of the line after its space.
 * A crash can cut the last line short (it was never reported saved): a last
 * line without its newline or with a wrong check is ignored, and the next
 * append cuts it off. A bad line anywhere else is an error naming it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/repo.h"

#define STAGE_MAGIC "folio-stage 1"
#define JOURNAL_MAGIC "folio-journal 1"
#define ID_HEXSZ 16

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

/* One index line for e, with its newline; the length, or -1 if it does not
 * fit in len. */
static int entry_line(char *buf, size_t len, const folio_entry *e)
{
	char oidhex[FOLIO_OID_HEXSZ + 1], blobhex[41] = "-";

	if (!is_zero20(e->blob))
		for (int k = 0; k < 20; k++)
			snprintf(blobhex + 2 * k, 3, "%02x", e->blob[k]);
	folio_oid_tohex(oidhex, &e->oid);
	int n = snprintf(buf, len, "%c %o %s %" PRIu64 " %" PRId64 " %s %s\n",
			 e->kind == FOLIO_ENTRY_LFS ? 'L' : e->kind == FOLIO_ENTRY_BLOB ? 'B' : 'S',
			 e->mode, oidhex, e->size, e->mtime_ns, blobhex, e->path);
	return n > 0 && (size_t)n < len ? n : -1;
}

/* The checksum of a journal record (32-bit FNV-1a): part of the on-disk
 * journal format (docs/storage.md), so it is not folio_fnv1a. */
static uint32_t journal_sum(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* ---- applying changes ---- */

static int apply_rename(folio_tree *t, const char *from, const char *to)
{
	size_t fl = strlen(from), moved = 0;

	for (size_t k = 0; k < t->n; k++) {
		char *p = t->v[k].path;
		if (strcmp(p, from) != 0 && !folio_path_under(p, from))
			continue;
		size_t nl = strlen(to) + strlen(p + fl) + 1;
		char *np = malloc(nl);
		if (!np)
			return folio_error_set(FOLIO_ENOMEM, "out of memory moving %s", from);
		snprintf(np, nl, "%s%s", to, p + fl);
		free(p);
		t->v[k].path = np;
		moved++;
	}
	if (moved)
		folio_tree_sort(t);
	return 0;
}

int folio_stage_apply(folio_tree *t, const folio_stage_op *ops, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const folio_stage_op *o = &ops[i];
		if (o->type == FOLIO_STAGE_SET) {
			folio_entry e = o->e;
			e.path = o->path;
			rc = folio_tree_set(t, &e);
		} else if (o->type == FOLIO_STAGE_DEL) {
			folio_entry *old = folio_tree_find(t, o->path);
			if (old)
				folio_tree_remove_at(t, (size_t)(old - t->v));
		} else if (o->type == FOLIO_STAGE_REN) {
			rc = apply_rename(t, o->path, o->to);
		}
	}
	return rc;
}

/* ---- the journal ---- */

/* Sets and removals since the last sort were pushed unsorted, a removal
 * as an entry of kind 0: a stable sort keeps the last of each path, and
 * the removals then go. */
static void replay_flush(folio_tree *t, int *pending)
{
	if (!*pending)
		return;
	folio_tree_sort(t);
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].kind) {
			free(t->v[i].path);
			continue;
		}
		t->v[w++] = t->v[i];
	}
	t->n = w;
	*pending = 0;
}

/* Parses one journal record (line without its newline, check verified)
 * and applies it: sets and removals are batched (see replay_flush). */
static int replay_record(folio_tree *t, char *rec, int *pending, const char *file, size_t lineno)
{
	folio_entry e;
	int rc;

	if (rec[0] == '+' && rec[1] == ' ') {
		if ((rc = parse_line(&e, rec + 2, file, lineno)) < 0)
			return rc;
		*pending = 1;
		return folio_tree_push(t, &e);
	}
	if (rec[0] == '-' && rec[1] == ' ') {
		if (folio_path_validate(rec + 2) < 0)
			return folio_error_wrap(FOLIO_ECORRUPT, "%s:%zu", file, lineno);
		memset(&e, 0, sizeof e);
		e.path = rec + 2;
		*pending = 1;
		return folio_tree_push(t, &e);
	}
	if (rec[0] == '>' && rec[1] == ' ') {
		char *to = strchr(rec + 2, '\t');
		if (!to)
			return folio_error_set(FOLIO_ECORRUPT, "%s:%zu: malformed move", file, lineno);
		*to++ = '\0';
		if (folio_path_validate(rec + 2) < 0 || folio_path_validate(to) < 0)
			return folio_error_wrap(FOLIO_ECORRUPT, "%s:%zu", file, lineno);
		replay_flush(t, pending);
		return apply_rename(t, rec + 2, to);
	}
	return folio_error_set(FOLIO_ECORRUPT, "%s:%zu: unknown journal record", file, lineno);
}

/* A line "<8-hex> <record>\n": 1 if whole and its check matches. */
static int record_ok(const char *line, ssize_t n)
{
	unsigned v;
	char c;

	if (n < 12 || line[n - 1] != '\n' || line[8] != ' ' ||
	    sscanf(line, "%8x%c", &v, &c) != 2 || c != ' ')
		return 0;
	return journal_sum(line + 9, (size_t)n - 10) == v;
}

/* Replays REPO/stage/journal on the sorted tree t if it follows the index
 * whose id is id ("" for an index without one: then it cannot). */
static int replay_journal(folio_tree *t, const folio_repo *repo, const char *id)
{
	char path[FOLIO_PATH_MAX], head[64];
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0;
	ssize_t n;
	int rc, pending = 0;
	FILE *f;

	if ((rc = stage_path(path, sizeof path, repo, "journal")) < 0)
		return rc;
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? 0 : folio_error_errno(errno, "cannot read %s", path);
	snprintf(head, sizeof head, "%s %s\n", JOURNAL_MAGIC, id);
	if (!id[0] || (n = getline(&line, &cap, f)) <= 0 || strcmp(line, head) != 0) {
		/* left from an older index (or cut short in its header) */
		free(line);
		fclose(f);
		return 0;
	}
	lineno = 1;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (bad) {
			rc = folio_error_set(FOLIO_ECORRUPT, "%s:%zu: damaged journal line", path, bad);
			goto done;
		}
		if (!record_ok(line, n)) {
			bad = lineno;     /* an error unless it is the last line */
			continue;
		}
		line[n - 1] = '\0';
		if ((rc = replay_record(t, line + 9, &pending, path, lineno)) < 0)
			goto done;
	}
	if (ferror(f))
		rc = folio_error_errno(errno, "cannot read %s", path);
	else
		replay_flush(t, &pending);
done:
	free(line);
	fclose(f);
	return rc;
}

/* The id on line 3 of the index at path; "" if it has none. */
static int index_id(const char *path, char id[ID_HEXSZ + 1])
{
	char buf[256];
	FILE *f = fopen(path, "re");

	id[0] = '\0';
	if (!f)
		return errno == ENOENT ? folio_error_set(FOLIO_ENOTFOUND, "no stage file %s", path)
				       : folio_error_errno(errno, "cannot read the stage %s", path);
	for (int i = 0; i < 3 && fgets(buf, sizeof buf, f); i++)
		if (i == 2 && !strncmp(buf, "id ", 3) && strlen(buf) == 3 + ID_HEXSZ + 1) {
			memcpy(id, buf + 3, ID_HEXSZ);
			id[ID_HEXSZ] = '\0';
		}
	fclose(f);
	return 0;
}

/* Cuts off a last line that a crash left without its newline, or whole
 * but with a wrong check, so that the next record does not follow it. */
static int trim_torn_tail(int fd, off_t size)
{
	char buf[16384];
	off_t from = size > (off_t)sizeof buf ? size - (off_t)sizeof buf : 0;
	ssize_t n = pread(fd, buf, (size_t)(size - from), from);

	if (n < 0)
		return -1;
	ssize_t end = n;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	if (end > 0) {
		ssize_t start = end - 1;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		/* the header line (from 0) is checked by the caller */
		if ((start > 0 || from > 0) && !record_ok(buf + start, end - start))
			end = start;
	}
	if (end == n)
		return 0;
	/* no newline in the last 16 KiB (records are shorter): start over */
	return ftruncate(fd, end > 0 ? from + end : 0);
}

int folio_stage_append(folio_repo *repo, const folio_stage_op *ops, size_t n)
{
	char ipath[FOLIO_PATH_MAX], jpath[FOLIO_PATH_MAX], dir[FOLIO_PATH_MAX], id[ID_HEXSZ + 1], head[64], want[64];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int rc, fd, fresh = 0;

	if ((rc = stage_path(ipath, sizeof ipath, repo, "index")) < 0 ||
	    (rc = stage_path(jpath, sizeof jpath, repo, "journal")) < 0 ||
	    (rc = stage_path(dir, sizeof dir, repo, "")) < 0 ||
	    (rc = index_id(ipath, id)) < 0)
		return rc;
	if (!id[0])
		return folio_error_set(FOLIO_ENOTFOUND, "the stage %s has no id", ipath);
	for (size_t i = 0; i < n; i++) {
		const folio_stage_op *o = &ops[i];
		char rec[8400];
		int k = 0;
		if (o->type == FOLIO_STAGE_SET) {
			folio_entry e = o->e;
			e.path = o->path;
			rec[0] = '+';
			rec[1] = ' ';
			k = entry_line(rec + 2, sizeof rec - 2, &e);
			k = k < 0 ? -1 : k + 2;
		} else if (o->type == FOLIO_STAGE_DEL) {
			k = snprintf(rec, sizeof rec, "- %s\n", o->path);
		} else {
			k = snprintf(rec, sizeof rec, "> %s\t%s\n", o->path, o->to);
		}
		if (k < 0 || (size_t)k >= sizeof rec) {
			free(buf);
			return folio_error_set(FOLIO_EINVAL, "stage change too long: %s", o->path);
		}
		if (len + (size_t)k + 9 > cap) {
			size_t nc = (len + (size_t)k + 9) * 2 + 4096;
			char *nb = realloc(buf, nc);
			if (!nb) {
				free(buf);
				return folio_error_set(FOLIO_ENOMEM, "out of memory");
			}
			buf = nb;
			cap = nc;
		}
		snprintf(buf + len, 10, "%08x ", journal_sum(rec, (size_t)k - 1));
		memcpy(buf + len + 9, rec, (size_t)k);
		len += (size_t)k + 9;
	}
	if ((fd = open(jpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		rc = folio_error_errno(errno, "cannot write %s", jpath);
		free(buf);
		return rc;
	}
	snprintf(want, sizeof want, "%s %s\n", JOURNAL_MAGIC, id);
	ssize_t hn = pread(fd, head, strlen(want), 0);
	if (fstat(fd, &st) < 0)
		goto fail;
	if (hn != (ssize_t)strlen(want) || memcmp(head, want, strlen(want)) != 0) {
		/* new, or left from an older index: start it again */
		if (ftruncate(fd, 0) < 0 || write(fd, want, strlen(want)) != (ssize_t)strlen(want))
			goto fail;
		fresh = st.st_size == 0;
	} else if (trim_torn_tail(fd, st.st_size) < 0) {
		goto fail;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if ((fresh ? fsync(fd) : fdatasync(fd)) < 0)
		goto fail;
	close(fd);
	free(buf);
	if (fresh) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0) {
			rc = folio_error_errno(errno, "fsync %s", dir);
			if (dfd >= 0)
				close(dfd);
			return rc;
		}
		close(dfd);
	}
	return 0;
fail:
	rc = folio_error_errno(errno ? errno : EIO, "cannot write %s", jpath);
	close(fd);
	free(buf);
	return rc;
}

/* ---- the index ---- */

int folio_stage_load(folio_tree *out, char base_hex[FOLIO_COMMIT_HEXSZ + 1], folio_repo *repo)
{
	char path[FOLIO_PATH_MAX], id[ID_HEXSZ + 1] = "";
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
		if (lineno == 3 && !strncmp(line, "id ", 3)) {
			if (strlen(line + 3) != ID_HEXSZ) {
				rc = folio_error_set(FOLIO_ECORRUPT, "%s:3: bad id", path);
				goto done;
			}
			memcpy(id, line + 3, ID_HEXSZ + 1);
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
	else {
		folio_tree_sort(out);
		rc = replay_journal(out, repo, id);
	}
done:
	free(line);
	fclose(f);
	if (rc < 0)
		folio_tree_clear(out);
	return rc;
}

static void new_id(char id[ID_HEXSZ + 1])
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
	}
	snprintf(id, ID_HEXSZ + 1, "%016" PRIx64, r);
}

int folio_stage_save(folio_repo *repo, const folio_tree *tree, const char *base_hex)
{
	char path[FOLIO_PATH_MAX], tmp[FOLIO_PATH_MAX], dir[FOLIO_PATH_MAX], jpath[FOLIO_PATH_MAX], id[ID_HEXSZ + 1];
	char line[8400];
	FILE *f = NULL;
	int rc;

	if ((rc = stage_path(path, sizeof path, repo, "index")) < 0 ||
	    (rc = stage_path(tmp, sizeof tmp, repo, "index.tmp")) < 0 ||
	    (rc = stage_path(jpath, sizeof jpath, repo, "journal")) < 0 ||
	    (rc = stage_path(dir, sizeof dir, repo, "")) < 0)
		return rc;
	if (!(f = fopen(tmp, "we")))
		return folio_error_errno(errno, "cannot write the stage %s", tmp);
	new_id(id);
	fprintf(f, "%s\nbase %s\nid %s\n", STAGE_MAGIC, base_hex && *base_hex ? base_hex : "-", id);
	for (size_t i = 0; i < tree->n; i++) {
		if (entry_line(line, sizeof line, &tree->v[i]) < 0) {
			fclose(f);
			unlink(tmp);
			return folio_error_set(FOLIO_EINVAL, "path too long: %s", tree->v[i].path);
		}
		fputs(line, f);
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
	/* the journal now follows no index: drop it (left behind by a crash,
	 * it is ignored, as its header names the old id) */
	unlink(jpath);
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

/* Returns 1 if present, 0 if inserted. */
static int strset_put(strset *s, const char *p, size_t n, int insert)
{
	size_t i = folio_fnv1a(p, n, 0) & (s->cap - 1);

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
	char path[FOLIO_PATH_MAX];
	int rc;

	if ((rc = stage_path(path, sizeof path, repo, "index")) < 0)
		return rc;
	if (unlink(path) < 0 && errno != ENOENT)
		return folio_error_errno(errno, "cannot reset the stage %s", path);
	if ((rc = stage_path(path, sizeof path, repo, "journal")) < 0)
		return rc;
	if (unlink(path) < 0 && errno != ENOENT)
		return folio_error_errno(errno, "cannot reset the stage %s", path);
	return 0;
}
