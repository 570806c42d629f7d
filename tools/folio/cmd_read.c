/*
 * cmd_read.c — ls, cat and export: reading versions without a mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "cli.h"

const char *const usage_ls =
	"usage: folio ls VERSION [PATH] [-r] [-l] [--json]\n"
	"\n"
	"Lists a folder of a version (default: its root). VERSION ':' is the\n"
	"staged tree. Folders end in '/'.\n"
	"\n"
	"Options:\n"
	"  -r, --recursive   every file below PATH, with its full path\n"
	"  -l, --long        mode, kind (lfs/blob/link), size and object id\n"
	"  --json            a JSON array of {name, path, type, mode, kind, oid, size}\n";

static void ls_print(const folio_entry *e, const char *name, int is_dir, int lng, cJSON *arr)
{
	char hex[FOLIO_OID_HEXSZ + 1];

	if (arr) {
		cJSON *o;
		if (is_dir) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "type", "dir");
		} else {
			o = json_entry(e);
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "type", e->kind == FOLIO_ENTRY_LINK ? "link" : "file");
		}
		cJSON_AddItemToArray(arr, o);
		return;
	}
	if (is_dir) {
		printf(lng ? "%-6s %-4s %12s %-12s %s/\n" : "%.0s%.0s%.0s%.0s%s/\n", "040000", "dir", "-", "-", name);
		return;
	}
	if (lng) {
		folio_oid_tohex(hex, &e->oid);
		printf("%06o %-4s %12llu %.12s %s\n", e->mode, kind_name(e->kind),
		       (unsigned long long)e->size, hex, name);
	} else {
		printf("%s\n", name);
	}
}

typedef struct lsitem {
	const char *name; /* not NUL-terminated at len for folders */
	size_t len;
	const folio_entry *e;
	int is_dir;
} lsitem;

static int cmp_lsitem(const void *x, const void *y)
{
	const lsitem *a = x, *b = y;
	size_t l = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->name, b->name, l);

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->is_dir - b->is_dir;
}

int cmd_ls(cli *c);
int cmd_ls(cli *c)
{
	int recursive = 0, lng = 0, json = 0;
	cli_opt opts[] = {
		{ "recursive", 'r', 0, NULL, &recursive },
		{ "long", 'l', 0, NULL, &lng },
		{ "json", 0, 0, NULL, &json },
		{ 0 },
	};
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	char *dir = NULL;
	cJSON *arr = NULL;

	folio_tree_init(&t);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos < 1 || npos > 2) {
		free(pos);
		return cli_usage_error(c, "give VERSION and optionally PATH");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&t, repo, pos[0], NULL)) < 0)
		goto fail;
	size_t dl = 0;
	if (npos > 1 && strcmp(pos[1], ".") && strcmp(pos[1], "/")) {
		dl = strlen(pos[1]);
		while (dl > 0 && pos[1][dl - 1] == '/')
			dl--;
		dir = strndup(pos[1], dl);
		if (!dir) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (json)
		arr = cJSON_CreateArray();
	folio_entry *file = dir ? folio_tree_find(&t, dir) : NULL;
	if (file) {
		ls_print(file, file->path, 0, lng, arr);
	} else {
		/* Gather this level's names, then sort and drop repeated folders
		 * (bytewise path order interleaves "a/x", "a.txt", "a/y"). */
		lsitem *items = calloc(t.n ? t.n : 1, sizeof *items);
		size_t shown = 0;
		if (!items) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < t.n; i++) {
			const char *p = t.v[i].path;
			if (dir) {
				if (strncmp(p, dir, dl) != 0 || p[dl] != '/')
					continue;
				p += dl + 1;
			}
			const char *slash = recursive ? NULL : strchr(p, '/');
			items[shown++] = (lsitem){ recursive ? t.v[i].path : p,
						   slash ? (size_t)(slash - p) : strlen(recursive ? t.v[i].path : p),
						   &t.v[i], slash != NULL };
		}
		qsort(items, shown, sizeof *items, cmp_lsitem);
		for (size_t i = 0; i < shown; i++) {
			if (i && items[i].is_dir && items[i - 1].is_dir && items[i].len == items[i - 1].len &&
			    strncmp(items[i].name, items[i - 1].name, items[i].len) == 0)
				continue;
			char name[PATH_MAX];
			snprintf(name, sizeof name, "%.*s", (int)items[i].len, items[i].name);
			ls_print(items[i].e, name, items[i].is_dir, lng, arr);
		}
		free(items);
		if (dir && shown == 0) {
			rc = folio_error_set(FOLIO_ENOTFOUND, "%s: no such file or folder in %s", dir, pos[0]);
			goto fail;
		}
	}
	if (arr) {
		json_print(arr);
		arr = NULL;
	}
	rc = 0;
fail:
	cJSON_Delete(arr);
	free(dir);
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Streams an entry's content to fd: from the store, or from git for a
 * text blob that was committed by stock git and never entered the store. */
static int stream_entry(int fd, folio_repo *repo, const folio_entry *e, const char *what)
{
	int rc;

	if (e->kind != FOLIO_ENTRY_LFS && !folio_store_exists(repo->store, &e->oid)) {
		void *buf = NULL;
		size_t len = 0;
		if ((rc = folio_version_read_blob(&buf, &len, repo->version, e->blob)) < 0)
			return rc;
		int w = write_all(fd, buf, len);
		free(buf);
		return w < 0 ? folio_error_errno(-w, "cannot write %s", what) : 0;
	}
	folio_reader *r = NULL;
	char buf[1 << 16];
	ssize_t n;
	if ((rc = folio_store_open_reader(&r, repo->store, &e->oid, 1)) < 0)
		return rc;
	while ((n = folio_reader_read(r, buf, sizeof buf)) > 0) {
		int w = write_all(fd, buf, (size_t)n);
		if (w < 0) {
			folio_reader_free(r);
			return folio_error_errno(-w, "cannot write %s", what);
		}
	}
	folio_reader_free(r);
	return n < 0 ? (int)n : 0;
}

const char *const usage_cat =
	"usage: folio cat VERSION:PATH\n"
	"\n"
	"Writes one file of a version to standard output, verifying its hash as\n"
	"it streams. ':PATH' reads the staged tree. For a symbolic link, prints\n"
	"its target.\n";

int cmd_cat(cli *c);
int cmd_cat(cli *c)
{
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	char *spec = NULL;

	folio_tree_init(&t);
	if ((rc = cli_parse(c, NULL, &pos, &npos)))
		return rc;
	if (npos != 1 || !strchr(pos[0], ':')) {
		free(pos);
		return cli_usage_error(c, "give VERSION:PATH (e.g. main:images/cat.jpg, or :PATH for the stage)");
	}
	const char *colon = strchr(pos[0], ':');
	const char *path = colon + 1;
	if (!(spec = strndup(pos[0], (size_t)(colon - pos[0])))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&t, repo, spec[0] ? spec : ":", NULL)) < 0)
		goto fail;
	const folio_entry *e = folio_tree_find(&t, path);
	if (!e) {
		rc = folio_error_set(FOLIO_ENOTFOUND, "%s: no such file in %s (see `folio ls %s`)",
				     path, spec[0] ? spec : "the stage", spec[0] ? spec : ":");
		goto fail;
	}
	rc = stream_entry(STDOUT_FILENO, repo, e, "standard output");
fail:
	free(spec);
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}

/* The folders a file at path goes in. */
static int mkdirs_for(char *path)
{
	char *slash = strrchr(path, '/');
	int rc;

	if (!slash || slash == path)
		return 0;
	*slash = '\0';
	rc = folio_path_mkdirs(path);
	*slash = '/';
	return rc;
}

const char *const usage_export =
	"usage: folio export VERSION DIR [--copy]\n"
	"\n"
	"Materialises a version as plain files in DIR (absent or empty; missing\n"
	"parent folders are created). Each file is reflinked from the store where\n"
	"the filesystem can (btrfs, xfs), else hardlinked (read-only: it shares the\n"
	"store's immutable file), else copied. Compressed objects are decompressed.\n"
	"\n"
	"Options:\n"
	"  --copy   never hardlink: every file is a writable copy (or a reflink)\n";

int cmd_export(cli *c);
int cmd_export(cli *c)
{
	int copy = 0;
	cli_opt opts[] = { { "copy", 0, 0, NULL, &copy }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	size_t how[3] = { 0 };
	uint64_t bytes = 0;
	char *dest = NULL;

	folio_tree_init(&t);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos != 2) {
		free(pos);
		return cli_usage_error(c, "give VERSION and DIR");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&t, repo, pos[0], NULL)) < 0)
		goto fail;
	struct stat st;
	if (stat(pos[1], &st) == 0) {
		DIR *d = opendir(pos[1]);
		struct dirent *de;
		int empty = 1;
		if (!d) {
			rc = folio_error_errno(errno, "%s", pos[1]);
			goto fail;
		}
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		closedir(d);
		if (!empty) {
			rc = folio_error_set(FOLIO_EEXISTS, "%s is not empty; export into a new or empty folder", pos[1]);
			goto fail;
		}
	} else if ((rc = folio_path_mkdirs(pos[1])) < 0) {
		goto fail;  /* a new folder, and its missing parents */
	}
	progress pr;
	progress_begin(&pr, "export", t.n);
	for (size_t i = 0; i < t.n; i++) {
		const folio_entry *e = &t.v[i];
		size_t l = strlen(pos[1]) + strlen(e->path) + 2;
		free(dest);
		if (!(dest = malloc(l))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		snprintf(dest, l, "%s/%s", pos[1], e->path);
		if ((rc = mkdirs_for(dest)) < 0)
			goto fail;
		if (e->kind == FOLIO_ENTRY_LINK) {
			void *target = NULL;
			size_t len = 0;
			if (folio_store_exists(repo->store, &e->oid))
				rc = folio_store_read_all(&target, &len, repo->store, &e->oid, PATH_MAX);
			else
				rc = folio_version_read_blob(&target, &len, repo->version, e->blob);
			if (rc < 0)
				goto fail;
			char *s = strndup(target, len);
			free(target);
			if (!s || symlink(s, dest) < 0) {
				rc = s ? folio_error_errno(errno, "cannot create link %s", dest) :
					 folio_error_set(FOLIO_ENOMEM, "out of memory");
				free(s);
				goto fail;
			}
			free(s);
			how[2]++;
		} else if (folio_store_exists(repo->store, &e->oid)) {
			char h = 'c';
			mode_t mode = e->mode == FOLIO_MODE_EXEC ? 0755 : 0644;
			/* A hardlink shares the store's 0444 inode, which cannot carry
			 * the executable bit: executables are always copies. */
			int link_ok = !copy && e->mode != FOLIO_MODE_EXEC;
			if ((rc = folio_store_checkout(&h, repo->store, &e->oid, dest, mode, link_ok)) < 0)
				goto fail;
			how[h == 'r' ? 0 : h == 'h' ? 1 : 2]++;
		} else if (e->kind == FOLIO_ENTRY_BLOB) {
			int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				      e->mode == FOLIO_MODE_EXEC ? 0755 : 0644);
			if (fd < 0) {
				rc = folio_error_errno(errno, "cannot create %s", dest);
				goto fail;
			}
			rc = stream_entry(fd, repo, e, dest);
			close(fd);
			if (rc < 0)
				goto fail;
			how[2]++;
		} else {
			char hex[FOLIO_OID_HEXSZ + 1];
			folio_oid_tohex(hex, &e->oid);
			rc = folio_error_set(FOLIO_ENOTFOUND,
				"%s: object %s is missing from the store; run `folio fsck`", e->path, hex);
			goto fail;
		}
		bytes += e->size;
		progress_update(&pr, i + 1, bytes);
	}
	progress_end(&pr);
	if (isatty(STDOUT_FILENO))
		printf("exported %zu files to %s (%zu reflinked, %zu hardlinked, %zu copied)\n",
		       t.n, pos[1], how[0], how[1], how[2]);
	rc = 0;
fail:
	free(dest);
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
