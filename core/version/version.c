/*
 * version.c — opening the git repository that holds folio's history, and
 * reading from it: resolving version names, flattening a commit's tree into
 * a folio_tree, commit metadata, log, blobs, and the committer identity.
 *
 * Workload: a dataset version is a git tree of up to a few hundred
 * thousand files, almost all of them git-lfs pointer blobs (~130 bytes) and
 * the rest small text files (labels, manifests). Reading a version happens
 * once per version per process (the daemon keeps the flattened result), so
 * read_tree favours simplicity: one odb read per blob, no caching between
 * calls. Every blob must be read anyway, because a file is a pointer or
 * not depending on its bytes, and a plain blob's folio id is the SHA-256
 * of those bytes.
 *
 * Threads: libgit2 is initialised once per process; a folio_version (one
 * git_repository) is used by one thread at a time. Threads that need git
 * access concurrently open their own folio_version.
 *
 * Errors from libgit2 are translated here, keeping git_error_last()'s
 * message after our own description of what was being done.
 */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/oid.h"
#include "folio/version.h"
#include "version/version_int.h"

/* ---- process-wide libgit2 set-up ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result; /* written once under init_once, read after it */

static void global_init(void)
{
	if (git_libgit2_init() < 0) {
		init_result = FOLIO_ERROR;
		return;
	}
	/*
	 * fsync pack files, index files, loose objects and refs (and their
	 * directories) before renaming them into place: a commit is only
	 * acknowledged once its objects and the moved ref are durable.
	 */
	if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0)
		init_result = FOLIO_ERROR;
}

int version_global_init(void)
{
	pthread_once(&init_once, global_init);
	if (init_result < 0) {
		const git_error *e = git_error_last();
		return folio_error_set(FOLIO_ERROR, "cannot initialise libgit2: %s",
				       e && e->message ? e->message : "unknown error");
	}
	return 0;
}

/* ---- error translation ---- */

int version_map_git_code(int gerr)
{
	const git_error *e;

	switch (gerr) {
	case 0:
		return 0;
	case GIT_ENOTFOUND:
	case GIT_EUNBORNBRANCH:
		return FOLIO_ENOTFOUND;
	case GIT_EEXISTS:
		return FOLIO_EEXISTS;
	case GIT_EAMBIGUOUS:
		return FOLIO_EAMBIGUOUS;
	case GIT_ELOCKED:
	case GIT_EMODIFIED:
		return FOLIO_ELOCKED;
	case GIT_EINVALIDSPEC:
	case GIT_EINVALID:
	case GIT_EDIRECTORY:
		return FOLIO_EINVAL;
	case GIT_EMISMATCH:
		return FOLIO_ECORRUPT;
	default:
		break;
	}
	e = git_error_last();
	if (!e)
		return FOLIO_ERROR;
	switch (e->klass) {
	case GIT_ERROR_NOMEMORY:
		return FOLIO_ENOMEM;
	case GIT_ERROR_OS:
		/* libgit2 leaves errno from the failed system call. */
		if (errno == ENOSPC || errno == EDQUOT)
			return FOLIO_ENOSPC;
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return FOLIO_EACCES;
		return FOLIO_EIO;
	case GIT_ERROR_ZLIB:
		return FOLIO_ECORRUPT;
	default:
		return FOLIO_ERROR;
	}
}

int version_git_error(int gerr, int code, const char *fmt, ...)
{
	char what[512];
	const git_error *e = git_error_last();
	va_list ap;

	if (!code)
		code = version_map_git_code(gerr);
	if (!code)
		code = FOLIO_ERROR;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return folio_error_set(code, "%s: %s", what,
			       e && e->message ? e->message : "libgit2 gave no reason");
}

void version_oid_hex(char out[FOLIO_COMMIT_HEXSZ + 1], const git_oid *id)
{
	git_oid_tostr(out, FOLIO_COMMIT_HEXSZ + 1, id);
}

/* ---- repository ---- */

int folio_version_init(const char *gitdir)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int rc, err;

	if ((rc = version_global_init()) < 0)
		return rc;
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
		     GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = "main";
	if ((err = git_repository_init_ext(&repo, gitdir, &opts)) < 0) {
		rc = version_git_error(err, 0, "cannot create a git repository at %s", gitdir);
		goto cleanup;
	}
	/*
	 * Bare repositories do not keep reflogs by default; ours should, so
	 * an accidentally moved or deleted branch can be recovered with
	 * stock git (`git --git-dir=... reflog`).
	 */
	if ((err = git_repository_config(&cfg, repo)) < 0 ||
	    (err = git_config_set_bool(cfg, "core.logAllRefUpdates", 1)) < 0) {
		rc = version_git_error(err, 0, "cannot configure the git repository at %s", gitdir);
		goto cleanup;
	}
	rc = 0;
cleanup:
	git_config_free(cfg);
	git_repository_free(repo);
	return rc;
}

int folio_version_open(folio_version **out, const char *gitdir)
{
	folio_version *v = NULL;
	int rc, err;

	*out = NULL;
	if ((rc = version_global_init()) < 0)
		return rc;
	if (!(v = calloc(1, sizeof *v)) || !(v->gitdir = strdup(gitdir))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory opening %s", gitdir);
		goto cleanup;
	}
	err = git_repository_open_ext(&v->repo, gitdir,
				      GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
				      NULL);
	if (err < 0) {
		rc = version_git_error(err, 0, "cannot open the git repository %s", gitdir);
		goto cleanup;
	}
	*out = v;
	v = NULL;
	rc = 0;
cleanup:
	folio_version_free(v);
	return rc;
}

void folio_version_free(folio_version *v)
{
	if (!v)
		return;
	git_repository_free(v->repo);
	free(v->gitdir);
	free(v);
}

/* ---- resolving names ---- */

static int is_hex40(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return 0;
	}
	return i == FOLIO_COMMIT_HEXSZ;
}

int version_lookup_commit(git_commit **out, git_repository *repo,
			  const char *commit_hex)
{
	git_oid id;
	int err;

	*out = NULL;
	if (!commit_hex || !is_hex40(commit_hex) || git_oid_fromstr(&id, commit_hex) < 0)
		return folio_error_set(FOLIO_EINVAL,
			"'%s' is not a full 40-digit commit id (resolve version names first)",
			commit_hex ? commit_hex : "(null)");
	err = git_commit_lookup(out, repo, &id);
	if (err == GIT_ENOTFOUND)
		return version_git_error(err, FOLIO_ENOTFOUND, "no commit %s", commit_hex);
	if (err < 0)
		return version_git_error(err, 0, "cannot read commit %s", commit_hex);
	return 0;
}

/* 1 if HEAD is a symbolic ref to a branch that does not exist yet. */
static int head_is_unborn(git_repository *repo)
{
	return git_repository_head_unborn(repo) == 1;
}

int version_resolve_commit(git_commit **out, folio_version *v, const char *spec)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc, err;

	*out = NULL;
	if (!spec || !*spec)
		return folio_error_set(FOLIO_EINVAL, "empty version name");
	err = git_revparse_single(&obj, v->repo, spec);
	if (err == GIT_ENOTFOUND || err == GIT_EUNBORNBRANCH) {
		if (strncmp(spec, "HEAD", 4) == 0 && head_is_unborn(v->repo))
			rc = folio_error_set(FOLIO_ENOTFOUND,
				"no version named '%s': the current branch has no commits yet", spec);
		else
			rc = folio_error_set(FOLIO_ENOTFOUND,
				"no version named '%s': not a branch, tag or commit; "
				"see `folio log`, `folio branch`, `folio tag`", spec);
		goto cleanup;
	}
	if (err == GIT_EAMBIGUOUS) {
		rc = folio_error_set(FOLIO_EAMBIGUOUS,
			"version '%s' is ambiguous: several objects have ids starting with it; "
			"give more digits", spec);
		goto cleanup;
	}
	if (err < 0) {
		rc = version_git_error(err, FOLIO_EINVAL, "'%s' is not a valid version name", spec);
		goto cleanup;
	}
	if ((err = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT)) < 0) {
		rc = version_git_error(err, FOLIO_EINVAL, "'%s' names a %s, not a version", spec,
				       git_object_type2string(git_object_type(obj)));
		goto cleanup;
	}
	*out = (git_commit *)peeled;
	peeled = NULL;
	rc = 0;
cleanup:
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

int folio_version_resolve(char out[FOLIO_COMMIT_HEXSZ + 1], folio_version *v,
			  const char *spec)
{
	git_commit *c = NULL;
	int rc;

	out[0] = '\0';
	if ((rc = version_resolve_commit(&c, v, spec)) < 0)
		return rc;
	version_oid_hex(out, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

/* ---- blobs and entries ---- */

int version_parse_blob(folio_entry *e, git_odb *odb, const git_oid *blob_id,
		       git_filemode_t mode, const char *path)
{
	git_odb_object *obj = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	const void *data;
	size_t len;
	int rc, err;

	memset(e, 0, sizeof *e);
	if ((err = git_odb_read(&obj, odb, blob_id)) < 0) {
		git_oid_tostr(hex, sizeof hex, blob_id);
		/* The tree names it, so a missing blob is a broken repository. */
		return version_git_error(err, err == GIT_ENOTFOUND ? FOLIO_ECORRUPT : 0,
					 "cannot read git blob %s of '%s'", hex, path);
	}
	if (git_odb_object_type(obj) != GIT_OBJECT_BLOB) {
		git_oid_tostr(hex, sizeof hex, blob_id);
		rc = folio_error_set(FOLIO_ECORRUPT, "git object %s of '%s' is a %s, not a blob",
				     hex, path, git_object_type2string(git_odb_object_type(obj)));
		goto cleanup;
	}
	data = git_odb_object_data(obj);
	len = git_odb_object_size(obj);
	memcpy(e->blob, blob_id->id, sizeof e->blob);
	if (mode == GIT_FILEMODE_LINK) {
		e->kind = FOLIO_ENTRY_LINK;
		e->mode = FOLIO_MODE_LINK;
	} else {
		e->mode = mode == GIT_FILEMODE_BLOB_EXECUTABLE ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
		if (len < LFS_POINTER_MAX &&
		    !version_lfs_parse_quiet(&e->oid, &e->size, data, len)) {
			e->kind = FOLIO_ENTRY_LFS;
			rc = 0;
			goto cleanup;
		}
		e->kind = FOLIO_ENTRY_BLOB;
	}
	e->size = len;
	rc = folio_hash_buf(&e->oid, data, len);
cleanup:
	git_odb_object_free(obj);
	return rc;
}

typedef struct flatten_ctx {
	git_repository *repo;
	git_odb *odb;
	folio_tree *out;
	const char *commit_hex;
	char *path;       /* current directory path, '/'-terminated unless empty */
	size_t len, cap;
} flatten_ctx;

/* Git limits nothing, but our paths are at most 4095 bytes, so deeper
 * trees cannot be valid datasets; refusing them bounds the recursion. */
#define MAX_DEPTH 2048

static int path_append(flatten_ctx *c, const char *name)
{
	size_t n = strlen(name);

	if (c->len + n + 2 > c->cap) {
		size_t cap = (c->len + n + 2) * 2;
		char *p = realloc(c->path, cap);
		if (!p)
			return folio_error_set(FOLIO_ENOMEM, "out of memory building a path");
		c->path = p;
		c->cap = cap;
	}
	memcpy(c->path + c->len, name, n + 1);
	c->len += n;
	return 0;
}

static int flatten(flatten_ctx *c, const git_tree *tree, int depth)
{
	size_t count = git_tree_entrycount(tree);
	size_t base = c->len;
	int rc = 0, err;

	if (depth > MAX_DEPTH)
		return folio_error_set(FOLIO_EINVAL, "commit %s: trees nest deeper than %d levels at '%.200s'",
				       c->commit_hex, MAX_DEPTH, c->path);
	for (size_t i = 0; i < count && rc == 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		git_object_t type = git_tree_entry_type(te);

		c->len = base;
		if ((rc = path_append(c, git_tree_entry_name(te))) < 0)
			break;
		if (type == GIT_OBJECT_TREE) {
			git_tree *sub = NULL;
			char hex[GIT_OID_HEXSZ + 1];

			if ((err = git_tree_lookup(&sub, c->repo, git_tree_entry_id(te))) < 0) {
				git_oid_tostr(hex, sizeof hex, git_tree_entry_id(te));
				rc = version_git_error(err, err == GIT_ENOTFOUND ? FOLIO_ECORRUPT : 0,
					"commit %s: cannot read git tree %s of '%s'",
					c->commit_hex, hex, c->path);
				break;
			}
			c->path[c->len++] = '/';
			c->path[c->len] = '\0';
			rc = flatten(c, sub, depth + 1);
			git_tree_free(sub);
		} else if (type == GIT_OBJECT_BLOB) {
			folio_entry e;

			if ((rc = folio_path_validate(c->path)) < 0) {
				rc = folio_error_wrap(rc, "commit %s", c->commit_hex);
				break;
			}
			rc = version_parse_blob(&e, c->odb, git_tree_entry_id(te),
						git_tree_entry_filemode(te), c->path);
			if (rc == 0) {
				e.path = c->path;
				rc = folio_tree_push(c->out, &e);
			}
		} else {
			rc = folio_error_set(FOLIO_EINVAL,
				"commit %s: '%s' is a git submodule (or another non-file entry), "
				"which folio does not support", c->commit_hex, c->path);
		}
	}
	c->len = base;
	if (c->path)
		c->path[base] = '\0';
	return rc;
}

/* The commit and its root tree (both to be freed by the caller). */
static int commit_tree(git_commit **commit, git_tree **tree, folio_version *v,
		       const char *commit_hex)
{
	int rc, err;

	if ((rc = version_lookup_commit(commit, v->repo, commit_hex)) < 0)
		return rc;
	if ((err = git_commit_tree(tree, *commit)) < 0)
		return version_git_error(err, err == GIT_ENOTFOUND ? FOLIO_ECORRUPT : 0,
					 "cannot read the tree of commit %s", commit_hex);
	return 0;
}

int folio_version_read_tree(folio_tree *out, folio_version *v,
			    const char *commit_hex)
{
	flatten_ctx c = {0};
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	int rc, err;

	folio_tree_init(out);
	if ((rc = commit_tree(&commit, &tree, v, commit_hex)) < 0)
		goto cleanup;
	if ((err = git_repository_odb(&c.odb, v->repo)) < 0) {
		rc = version_git_error(err, 0, "cannot open the object database of %s", v->gitdir);
		goto cleanup;
	}
	c.repo = v->repo;
	c.out = out;
	c.commit_hex = commit_hex;
	if ((rc = path_append(&c, "")) < 0)
		goto cleanup;
	if ((rc = flatten(&c, tree, 0)) < 0)
		goto cleanup;
	/* Git's tree order already is bytewise path order (a directory sorts
	 * as "name/"), so this is a check rather than a sort; it also fixes
	 * trees written by tools that got the order wrong. */
	folio_tree_sort(out);
cleanup:
	if (rc < 0)
		folio_tree_clear(out);
	free(c.path);
	git_odb_free(c.odb);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

int folio_version_read_entry(folio_entry *out, folio_version *v, const char *commit_hex,
			     const char *path)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_odb *odb = NULL;
	int rc, err;

	memset(out, 0, sizeof *out);
	if ((rc = commit_tree(&commit, &tree, v, commit_hex)) < 0)
		goto cleanup;
	if ((err = git_tree_entry_bypath(&te, tree, path)) < 0) {
		rc = version_git_error(err, 0, "%s: not in commit %.12s", path, commit_hex);
		goto cleanup;
	}
	git_filemode_t mode = git_tree_entry_filemode(te);
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		rc = folio_error_set(FOLIO_ENOTFOUND, "%s: a folder in commit %.12s, not a file", path,
				     commit_hex);
		goto cleanup;
	}
	if ((err = git_repository_odb(&odb, v->repo)) < 0) {
		rc = version_git_error(err, 0, "cannot open the object database of %s", v->gitdir);
		goto cleanup;
	}
	rc = version_parse_blob(out, odb, git_tree_entry_id(te), mode, path);
cleanup:
	git_odb_free(odb);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

int folio_version_read_blob(void **out, size_t *len, folio_version *v,
			    const unsigned char blob[20])
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];
	void *buf;
	size_t n;
	int rc, err;

	*out = NULL;
	*len = 0;
	git_oid_fromraw(&id, blob);
	git_oid_tostr(hex, sizeof hex, &id);
	if ((err = git_repository_odb(&odb, v->repo)) < 0) {
		rc = version_git_error(err, 0, "cannot open the object database of %s", v->gitdir);
		goto cleanup;
	}
	if ((err = git_odb_read(&obj, odb, &id)) < 0) {
		rc = version_git_error(err, 0, "cannot read git blob %s", hex);
		goto cleanup;
	}
	if (git_odb_object_type(obj) != GIT_OBJECT_BLOB) {
		rc = folio_error_set(FOLIO_EINVAL, "git object %s is a %s, not a blob", hex,
				     git_object_type2string(git_odb_object_type(obj)));
		goto cleanup;
	}
	n = git_odb_object_size(obj);
	/* One spare byte so text callers get a terminated string. */
	if (!(buf = malloc(n + 1))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading git blob %s (%zu bytes)", hex, n);
		goto cleanup;
	}
	memcpy(buf, git_odb_object_data(obj), n);
	((char *)buf)[n] = '\0';
	*out = buf;
	*len = n;
	rc = 0;
cleanup:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

int version_load_content(void **out, size_t *len, const folio_entry *e,
			 folio_content_cb content_cb, void *payload)
{
	folio_oid got;
	void *data = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if (!content_cb)
		return folio_error_set(FOLIO_EINVAL,
			"'%s' needs its content to be written to git, but no content callback was given",
			e->path);
	if ((rc = content_cb(&data, &n, e, payload)) < 0)
		return rc;
	if (!folio_oid_is_zero(&e->oid)) {
		if (n != e->size) {
			rc = folio_error_set(FOLIO_ECORRUPT,
				"content of '%s' is %zu bytes but the entry records %llu",
				e->path, n, (unsigned long long)e->size);
			goto fail;
		}
		if ((rc = folio_hash_buf(&got, data, n)) < 0)
			goto fail;
		if (folio_oid_cmp(&got, &e->oid) != 0) {
			char want[FOLIO_OID_HEXSZ + 1], have[FOLIO_OID_HEXSZ + 1];
			folio_oid_tohex(want, &e->oid);
			folio_oid_tohex(have, &got);
			rc = folio_error_set(FOLIO_ECORRUPT,
				"content of '%s' has SHA-256 %s but the entry records %s",
				e->path, have, want);
			goto fail;
		}
	}
	*out = data;
	*len = n;
	return 0;
fail:
	free(data);
	return rc;
}

int folio_version_hash_entry(folio_entry *e, folio_version *v,
			     folio_content_cb content_cb, void *payload)
{
	git_oid id;
	void *data = NULL;
	size_t len = 0;
	char ptr[200];
	int rc, err;

	(void)v;
	if ((rc = version_global_init()) < 0)
		return rc;
	if (e->kind == FOLIO_ENTRY_LFS) {
		len = folio_lfs_pointer(ptr, &e->oid, e->size);
		err = git_odb_hash(&id, ptr, len, GIT_OBJECT_BLOB);
	} else if (e->kind == FOLIO_ENTRY_BLOB || e->kind == FOLIO_ENTRY_LINK) {
		if ((rc = version_load_content(&data, &len, e, content_cb, payload)) < 0)
			return rc;
		err = git_odb_hash(&id, data, len, GIT_OBJECT_BLOB);
		free(data);
	} else {
		return folio_error_set(FOLIO_EINVAL, "'%s' has an unknown entry kind %d",
				       e->path, (int)e->kind);
	}
	if (err < 0)
		return version_git_error(err, 0, "cannot hash '%s' as a git blob", e->path);
	memcpy(e->blob, id.id, sizeof e->blob);
	return 0;
}

/* ---- identity ---- */

static int copy_field(char *dst, size_t cap, const char *src, const char *what)
{
	size_t n = strlen(src);

	if (n >= cap)
		return folio_error_set(FOLIO_EINVAL, "%s is longer than %zu bytes", what, cap - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

/* Reads a string from git config; 1 if found and non-empty. */
static int config_string(git_config *cfg, const char *key, char *dst, size_t cap)
{
	git_buf buf = {0};
	int found = 0;

	if (cfg && git_config_get_string_buf(&buf, cfg, key) == 0 && buf.ptr && buf.ptr[0] &&
	    buf.size < cap) {
		memcpy(dst, buf.ptr, buf.size + 1);
		found = 1;
	}
	git_buf_dispose(&buf);
	git_error_clear();
	return found;
}

/* The OS user's full name (GECOS) or login name, and login name. */
static void os_user(char *name, size_t name_cap, char *login, size_t login_cap)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	const char *env;

	name[0] = login[0] = '\0';
	if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res) {
		snprintf(login, login_cap, "%s", res->pw_name ? res->pw_name : "");
		if (res->pw_gecos && res->pw_gecos[0] && res->pw_gecos[0] != ',') {
			size_t n = strcspn(res->pw_gecos, ",");
			snprintf(name, name_cap, "%.*s", (int)n, res->pw_gecos);
		}
	}
	if (!login[0]) {
		env = getenv("USER");
		if (!env || !*env)
			env = getenv("LOGNAME");
		snprintf(login, login_cap, "%s", env && *env ? env : "unknown");
	}
	if (!name[0])
		snprintf(name, name_cap, "%s", login);
}

int folio_version_identity(folio_signature *out, folio_version *v)
{
	git_config *cfg = NULL;
	const char *env;
	char login[256], host[256];
	int rc = 0, err;

	memset(out, 0, sizeof *out);
	if ((rc = version_global_init()) < 0)
		return rc;
	/* The repository's config includes the global and system levels. */
	err = v ? git_repository_config(&cfg, v->repo) : git_config_open_default(&cfg);
	if (err < 0) {
		cfg = NULL;
		git_error_clear();
	}

	if ((env = getenv("GIT_AUTHOR_NAME")) && *env) {
		if ((rc = copy_field(out->name, sizeof out->name, env, "GIT_AUTHOR_NAME")) < 0)
			goto cleanup;
	} else if (!config_string(cfg, "user.name", out->name, sizeof out->name)) {
		os_user(out->name, sizeof out->name, login, sizeof login);
	}

	if ((env = getenv("GIT_AUTHOR_EMAIL")) && *env) {
		if ((rc = copy_field(out->email, sizeof out->email, env, "GIT_AUTHOR_EMAIL")) < 0)
			goto cleanup;
	} else if (!config_string(cfg, "user.email", out->email, sizeof out->email)) {
		if ((env = getenv("EMAIL")) && *env && strlen(env) < sizeof out->email) {
			memcpy(out->email, env, strlen(env) + 1);
		} else {
			char name[256];
			os_user(name, sizeof name, login, sizeof login);
			if (gethostname(host, sizeof host) != 0 || !host[0])
				snprintf(host, sizeof host, "localhost");
			host[sizeof host - 1] = '\0';
			snprintf(out->email, sizeof out->email, "%.120s@%.120s", login, host);
		}
	}
	rc = 0;
cleanup:
	git_config_free(cfg);
	return rc;
}

/* ---- commit metadata and log ---- */

void folio_commit_info_clear(folio_commit_info *ci)
{
	free(ci->message);
	memset(ci, 0, sizeof *ci);
}

int version_fill_commit_info(folio_commit_info *ci, const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	const char *msg = git_commit_message(c);
	unsigned n = git_commit_parentcount(c);

	memset(ci, 0, sizeof *ci);
	version_oid_hex(ci->id, git_commit_id(c));
	version_oid_hex(ci->tree, git_commit_tree_id(c));
	/* Octopus merges keep their first two parents here. */
	ci->nparents = n > 2 ? 2 : n;
	for (unsigned i = 0; i < ci->nparents; i++)
		version_oid_hex(ci->parents[i], git_commit_parent_id(c, i));
	if (a) {
		snprintf(ci->author_name, sizeof ci->author_name, "%s", a->name ? a->name : "");
		snprintf(ci->author_email, sizeof ci->author_email, "%s", a->email ? a->email : "");
		ci->time = (int64_t)a->when.time;
		ci->offset_minutes = a->when.offset;
	}
	if (!(ci->message = strdup(msg ? msg : "")))
		return folio_error_set(FOLIO_ENOMEM, "out of memory reading commit %s", ci->id);
	return 0;
}

int folio_version_commit_info(folio_commit_info *out, folio_version *v,
			      const char *commit_hex)
{
	git_commit *c = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = version_lookup_commit(&c, v->repo, commit_hex)) < 0)
		return rc;
	rc = version_fill_commit_info(out, c);
	git_commit_free(c);
	return rc;
}

int folio_version_log(folio_version *v, const char *spec, size_t max,
		      folio_log_cb cb, void *payload)
{
	git_commit *start = NULL, *c = NULL;
	git_revwalk *walk = NULL;
	folio_commit_info ci = {0};
	git_oid id;
	size_t seen = 0;
	int rc, err;

	if (!spec)
		spec = "HEAD";
	/* An empty history is a log with no entries, not an error. */
	if (strcmp(spec, "HEAD") == 0 && head_is_unborn(v->repo))
		return 0;
	if ((rc = version_resolve_commit(&start, v, spec)) < 0)
		return rc;
	if ((err = git_revwalk_new(&walk, v->repo)) < 0 ||
	    (err = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME)) < 0 ||
	    (err = git_revwalk_push(walk, git_commit_id(start))) < 0) {
		rc = version_git_error(err, 0, "cannot walk the history of '%s'", spec);
		goto cleanup;
	}
	rc = 0;
	while (max == 0 || seen < max) {
		char hex[GIT_OID_HEXSZ + 1];

		err = git_revwalk_next(&id, walk);
		if (err == GIT_ITEROVER)
			break;
		if (err < 0) {
			rc = version_git_error(err, err == GIT_ENOTFOUND ? FOLIO_ECORRUPT : 0,
					       "cannot walk the history of '%s'", spec);
			break;
		}
		if ((err = git_commit_lookup(&c, v->repo, &id)) < 0) {
			git_oid_tostr(hex, sizeof hex, &id);
			rc = version_git_error(err, err == GIT_ENOTFOUND ? FOLIO_ECORRUPT : 0,
					       "cannot read commit %s", hex);
			break;
		}
		rc = version_fill_commit_info(&ci, c);
		git_commit_free(c);
		c = NULL;
		if (rc < 0)
			break;
		rc = cb(&ci, payload);
		folio_commit_info_clear(&ci);
		if (rc != 0)
			break;
		seen++;
	}
cleanup:
	folio_commit_info_clear(&ci);
	git_revwalk_free(walk);
	git_commit_free(start);
	return rc;
}
