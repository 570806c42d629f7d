/*
 * commit.c — writing a version: folio_tree -> git blobs, trees, commit ->
 * one pack file -> ref update.
 *
 * Workload: a commit has 5,000 to a few hundred thousand files, most of
 * them unchanged since the parent. Stock git (and libgit2's defaults) would
 * write each new object as its own zlib-compressed loose file, fsynced: tens
 * of thousands of files and fsyncs for a big import. Instead:
 *
 *  1. We open a private git_repository for the duration of the commit and
 *     put an in-memory "mempack" odb backend in front of its on-disk
 *     backends. New objects are written straight into it (not through
 *     git_odb_write, whose freshen step rescans the pack directory on
 *     every miss). An object that already exists (looked up without pack
 *     directory refresh) is not written again.
 *  2. Trees are serialised here from the sorted path list in one pass:
 *     bytewise path order is exactly git's tree entry order (a directory
 *     sorts as "name/"), so each directory's entries arrive contiguous and
 *     in order.
 *  3. The commit object is created with libgit2 (it lands in the mempack).
 *  4. Exactly the new objects are streamed, zlib-compressed and whole (no
 *     delta search), into git_odb_write_pack's indexer, which writes
 *     pack-*.pack and pack-*.idx, fsynced (GIT_OPT_ENABLE_FSYNC_GITDIR)
 *     and renamed into place. (git_mempack_dump would pack the commit's
 *     whole tree, re-storing every unchanged blob; see write_pack for why
 *     not git_packbuilder either.)
 *  5. After checking that the commit is readable from disk, the branch is
 *     moved with a compare-and-swap (git_reference_create_matching against
 *     the parent we built on), through a lock file that is fsynced and
 *     renamed, with a reflog entry "commit: <subject>".
 *
 * A kill at any point leaves either the old ref (plus possibly an
 * unreferenced pack, harmless and removable by gc) or the new one. The
 * private repository handle, and with it the mempack, is freed on every
 * path, so nothing written to memory can leak into later operations.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZLIB_CONST
#include <openssl/evp.h>
#include <zlib.h>

#include <git2/sys/commit.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/version.h"
#include "version/version_int.h"

typedef struct commit_ctx {
	git_repository *repo;   /* private handle; owns odb */
	git_odb *odb;           /* repo's odb, with the mempack in front */
	git_odb_backend *mem;   /* owned by odb once added */
	const folio_tree *tree;
	git_oid *blobs;         /* blob id of tree->v[i] */
	git_oid *fresh;         /* objects written to the mempack */
	size_t nfresh, capfresh;
	folio_content_cb content_cb;
	void *payload;
} commit_ctx;

/* Does the odb (mempack or disk) already have id? No pack rescans: the
 * handle was opened for this commit, so its pack list is current. */
static int have(commit_ctx *c, const git_oid *id)
{
	return git_odb_exists_ext(c->odb, id, GIT_ODB_LOOKUP_NO_REFRESH) == 1;
}

/* Puts a new object into the mempack and remembers it for the pack. */
static int put(commit_ctx *c, const git_oid *id, const void *data, size_t len,
	       git_object_t type)
{
	int err;

	if (c->nfresh == c->capfresh) {
		size_t cap = c->capfresh ? c->capfresh * 2 : 1024;
		git_oid *p = realloc(c->fresh, cap * sizeof *p);
		if (!p)
			return folio_error_set(FOLIO_ENOMEM, "out of memory listing new git objects");
		c->fresh = p;
		c->capfresh = cap;
	}
	if ((err = c->mem->write(c->mem, id, data, len, type)) < 0)
		return version_git_error(err, 0, "cannot stage a git %s in memory",
					 git_object_type2string(type));
	c->fresh[c->nfresh++] = *id;
	return 0;
}

static int hash(git_oid *id, const void *data, size_t len, git_object_t type,
		const char *path)
{
	int err = git_odb_hash(id, data, len, type);

	if (err < 0)
		return version_git_error(err, 0, "cannot hash '%s' as a git %s", path,
					 git_object_type2string(type));
	return 0;
}

static int blob_mismatch(const folio_entry *e, const git_oid *want)
{
	char rec[GIT_OID_HEXSZ + 1], got[GIT_OID_HEXSZ + 1];
	git_oid r;

	git_oid_fromraw(&r, e->blob);
	git_oid_tostr(rec, sizeof rec, &r);
	git_oid_tostr(got, sizeof got, want);
	return folio_error_set(FOLIO_ECORRUPT,
		"'%s' records git blob %s but its content hashes to %s (stale stage entry?)",
		e->path, rec, got);
}

static int is_zero20(const unsigned char b[20])
{
	for (int i = 0; i < 20; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Finds or creates the git blob of one entry. */
static int ensure_blob(commit_ctx *c, const folio_entry *e, git_oid *out)
{
	void *data = NULL;
	size_t len = 0;
	char ptr[200];
	int rc;

	if (e->kind == FOLIO_ENTRY_LFS) {
		/* Cheap to recompute, so always checked against e->blob. */
		len = folio_lfs_pointer(ptr, &e->oid, e->size);
		if ((rc = hash(out, ptr, len, GIT_OBJECT_BLOB, e->path)) < 0)
			return rc;
		if (!is_zero20(e->blob) && memcmp(e->blob, out->id, 20) != 0)
			return blob_mismatch(e, out);
		if (have(c, out))
			return 0;
		return put(c, out, ptr, len, GIT_OBJECT_BLOB);
	}
	if (!is_zero20(e->blob)) {
		git_oid_fromraw(out, e->blob);
		if (have(c, out))
			return 0;
	}
	if ((rc = version_load_content(&data, &len, e, c->content_cb, c->payload)) < 0)
		return rc;
	git_oid id;
	if ((rc = hash(&id, data, len, GIT_OBJECT_BLOB, e->path)) < 0)
		goto cleanup;
	if (!is_zero20(e->blob) && memcmp(e->blob, id.id, 20) != 0) {
		rc = blob_mismatch(e, &id);
		goto cleanup;
	}
	*out = id;
	rc = have(c, &id) ? 0 : put(c, &id, data, len, GIT_OBJECT_BLOB);
cleanup:
	free(data);
	return rc;
}

/* folio_path_validate refuses ".git"; git (and libgit2's tree builder)
 * also refuse ".GIT", ".Git", ... because of case-folding filesystems. */
static int has_dotgit(const char *path)
{
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 4 && strncasecmp(p, ".git", 4) == 0)
			return 1;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static int check_entry(const folio_tree *t, size_t i)
{
	const folio_entry *e = &t->v[i];
	int rc;

	if ((rc = folio_path_validate(e->path)) < 0)
		return rc;
	if (has_dotgit(e->path))
		return folio_error_set(FOLIO_EINVAL,
			"'%s' has a component that git reads as '.git' (in any letter case); rename it",
			e->path);
	if (i > 0 && strcmp(t->v[i - 1].path, e->path) >= 0)
		return folio_error_set(FOLIO_EINVAL,
			"file list is not sorted or has duplicates at '%s' (after '%s')",
			e->path, t->v[i - 1].path);
	switch (e->kind) {
	case FOLIO_ENTRY_LFS:
	case FOLIO_ENTRY_BLOB:
		if (e->mode != FOLIO_MODE_FILE && e->mode != FOLIO_MODE_EXEC)
			return folio_error_set(FOLIO_EINVAL, "'%s': a file must have mode 100644 or 100755, not %o",
					       e->path, (unsigned)e->mode);
		if (e->kind == FOLIO_ENTRY_LFS && e->size > (uint64_t)INT64_MAX)
			return folio_error_set(FOLIO_EINVAL, "'%s': size %llu is too large for a git-lfs pointer",
					       e->path, (unsigned long long)e->size);
		return 0;
	case FOLIO_ENTRY_LINK:
		if (e->mode != FOLIO_MODE_LINK)
			return folio_error_set(FOLIO_EINVAL, "'%s': a symbolic link must have mode 120000, not %o",
					       e->path, (unsigned)e->mode);
		return 0;
	default:
		return folio_error_set(FOLIO_EINVAL, "'%s' has an unknown entry kind %d",
				       e->path, (int)e->kind);
	}
}

/* Is there an entry whose whole path is path[0..len) in [lo, hi)? */
static int has_file(const folio_tree *t, size_t lo, size_t hi, const char *path, size_t len)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = t->v[mid].path;
		int cmp = strncmp(p, path, len);
		if (cmp == 0)
			cmp = p[len] != '\0';
		if (cmp == 0)
			return 1;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static const char *mode_text(uint32_t mode)
{
	switch (mode) {
	case FOLIO_MODE_EXEC: return "100755";
	case FOLIO_MODE_LINK: return "120000";
	default: return "100644";
	}
}

/*
 * Writes the tree of the directory whose entries are t->v[lo..hi), all
 * starting with the same prefix of plen bytes (ending in '/', or empty for
 * the root), and returns its id.
 */
static int build_tree(commit_ctx *c, size_t lo, size_t hi, size_t plen, int depth,
		      git_oid *out)
{
	const folio_tree *t = c->tree;
	folio_buf b;
	size_t i = lo;
	int rc = 0;

	if (depth > 4096)
		return folio_error_set(FOLIO_EINVAL, "paths nest too deeply near '%s'", t->v[lo].path);
	folio_buf_init(&b, "a git tree");
	while (i < hi && rc == 0) {
		const char *name = t->v[i].path + plen;
		const char *slash = strchr(name, '/');

		if (!slash) {
			const char *m = mode_text(t->v[i].mode);
			folio_buf_puts(&b, m);
			folio_buf_putc(&b, ' ');
			folio_buf_put(&b, name, strlen(name) + 1);
			folio_buf_put(&b, c->blobs[i].id, GIT_OID_RAWSZ);
			if ((rc = b.rc) < 0)
				break;
			i++;
			continue;
		}
		/* A subdirectory: its entries are the run sharing "name/". */
		size_t dlen = (size_t)(slash - name) + 1;
		size_t j = i + 1;
		while (j < hi && strncmp(t->v[j].path + plen, name, dlen) == 0)
			j++;
		if (has_file(t, lo, i, t->v[i].path, plen + dlen - 1)) {
			rc = folio_error_set(FOLIO_EINVAL, "'%.*s' is both a file and a directory",
					     (int)(plen + dlen - 1), t->v[i].path);
			break;
		}
		git_oid sub;
		if ((rc = build_tree(c, i, j, plen + dlen, depth + 1, &sub)) < 0)
			break;
		folio_buf_puts(&b, "40000 ");
		folio_buf_put(&b, name, dlen - 1);
		folio_buf_putc(&b, '\0');
		folio_buf_put(&b, sub.id, GIT_OID_RAWSZ);
		if ((rc = b.rc) < 0)
			break;
		i = j;
	}
	if (rc == 0)
		rc = hash(out, b.p ? b.p : "", b.n, GIT_OBJECT_TREE, "a directory");
	if (rc == 0 && !have(c, out))
		rc = put(c, out, b.p ? b.p : "", b.n, GIT_OBJECT_TREE);
	folio_buf_clear(&b);
	return rc;
}

/* The branch to move: HEAD's target, and the commit it points to now. */
static int find_branch(git_repository *repo, char **refname, git_oid *parent, int *has_parent)
{
	git_reference *head = NULL;
	int rc = 0, err;

	*refname = NULL;
	*has_parent = 0;
	if ((err = git_reference_lookup(&head, repo, "HEAD")) < 0)
		return version_git_error(err, 0, "cannot read HEAD");
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *target = git_reference_symbolic_target(head);
		if (strncmp(target, "refs/heads/", 11) != 0) {
			rc = folio_error_set(FOLIO_EINVAL,
				"HEAD points to %s, which is not a branch; cannot commit", target);
			goto cleanup;
		}
		err = git_reference_name_to_id(parent, repo, target);
		if (err == 0) {
			*has_parent = 1;
		} else if (err != GIT_ENOTFOUND) {
			rc = version_git_error(err, 0, "cannot read branch %s", target + 11);
			goto cleanup;
		}
		git_error_clear();
		*refname = strdup(target);
	} else {
		/* Detached HEAD: the commit moves HEAD itself, as git does. */
		*parent = *git_reference_target(head);
		*has_parent = 1;
		*refname = strdup("HEAD");
	}
	if (!*refname)
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
cleanup:
	git_reference_free(head);
	return rc;
}

/*
 * The pack stream on its way to the indexer (git_odb_write_pack): bytes
 * collect in buf and are handed over PACK_CHUNK at a time, SHA-1-hashed
 * as they go (a pack ends with the SHA-1 of everything before it). One
 * z_stream, reset per object, compresses every object.
 */
#define PACK_CHUNK (64 * 1024)

typedef struct pack_out {
	git_odb_writepack *wp;
	git_indexer_progress stats;
	EVP_MD_CTX *sha1;
	z_stream z;
	int z_ready;            /* deflateInit succeeded */
	unsigned char *buf;     /* PACK_CHUNK bytes */
	size_t n;               /* bytes of buf in use */
} pack_out;

static int pack_flush(pack_out *p)
{
	int err;

	if (p->n == 0)
		return 0;
	if (EVP_DigestUpdate(p->sha1, p->buf, p->n) != 1)
		return folio_error_set(FOLIO_EIO, "cannot hash the new pack (libcrypto)");
	if ((err = p->wp->append(p->wp, p->buf, p->n, &p->stats)) < 0)
		return version_git_error(err, 0, "cannot index the new pack");
	p->n = 0;
	return 0;
}

static int pack_put(pack_out *p, const void *data, size_t len)
{
	const unsigned char *s = data;
	int rc;

	while (len) {
		size_t k = PACK_CHUNK - p->n < len ? PACK_CHUNK - p->n : len;
		memcpy(p->buf + p->n, s, k);
		p->n += k;
		s += k;
		len -= k;
		if (p->n == PACK_CHUNK && (rc = pack_flush(p)) < 0)
			return rc;
	}
	return 0;
}

/* One whole (non-delta) object: the pack's type-and-size header (type in
 * bits 4-6 of the first byte, size in 4 + 7k bits, little end first, 0x80
 * marking "more"), then the content as one zlib stream. */
static int pack_object(pack_out *p, git_object_t type, const void *data, size_t len)
{
	unsigned char hdr[16];
	const unsigned char *in = data;
	size_t k = 0, rest = len >> 4, left = len;
	int rc, zrc;

	hdr[k++] = (unsigned char)(((unsigned)type << 4) | (len & 0x0f));
	while (rest) {
		hdr[k - 1] |= 0x80;
		hdr[k++] = rest & 0x7f;
		rest >>= 7;
	}
	if ((rc = pack_put(p, hdr, k)) < 0)
		return rc;
	if (deflateReset(&p->z) != Z_OK)
		return folio_error_set(FOLIO_EIO, "cannot reset zlib for the new pack");
	do {
		if (p->z.avail_in == 0 && left) {
			uInt step = left > UINT_MAX ? UINT_MAX : (uInt)left;
			p->z.next_in = in;
			p->z.avail_in = step;
			in += step;
			left -= step;
		}
		if (p->n == PACK_CHUNK && (rc = pack_flush(p)) < 0)
			return rc;
		p->z.next_out = p->buf + p->n;
		p->z.avail_out = (uInt)(PACK_CHUNK - p->n);
		zrc = deflate(&p->z, left ? Z_NO_FLUSH : Z_FINISH);
		p->n = PACK_CHUNK - p->z.avail_out;
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			return folio_error_set(FOLIO_EIO, "zlib failed (%d) compressing a git %s",
					       zrc, git_object_type2string(type));
	} while (zrc != Z_STREAM_END);
	return 0;
}

/*
 * Packs c->fresh into one pack file in objects/pack/, durably. We write
 * the pack stream ourselves rather than with git_packbuilder: the
 * packbuilder searches for deltas (which LFS pointers and fresh trees
 * barely yield: most of a big commit's time went there) and mallocs a
 * 1 MiB zlib output buffer for every object it writes, which costs an
 * mmap, munmap and shadow-memory rewrite per object under ASan. Every
 * object goes in whole, newest first as git orders them (c->fresh holds
 * blobs, then trees bottom-up, then the commit); the indexer checks the
 * stream and writes the .idx.
 */
static int write_pack(commit_ctx *c)
{
	pack_out p = {0};
	unsigned char head[12] = {'P', 'A', 'C', 'K', 0, 0, 0, 2}, trailer[EVP_MAX_MD_SIZE];
	unsigned int tlen = 0;
	void *data = NULL;
	size_t len;
	git_object_t type;
	int rc = 0, err;

	if (c->nfresh > UINT32_MAX)
		return folio_error_set(FOLIO_EINVAL, "%zu new git objects do not fit in one pack",
				       c->nfresh);
	if (!(p.buf = malloc(PACK_CHUNK)) || !(p.sha1 = EVP_MD_CTX_new())) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory writing a pack");
		goto cleanup;
	}
	if (EVP_DigestInit_ex(p.sha1, EVP_sha1(), NULL) != 1) {
		rc = folio_error_set(FOLIO_EIO, "cannot start SHA-1 for the new pack (libcrypto)");
		goto cleanup;
	}
	if (deflateInit(&p.z, Z_DEFAULT_COMPRESSION) != Z_OK) {
		rc = folio_error_set(FOLIO_ENOMEM, "cannot set up zlib for the new pack");
		goto cleanup;
	}
	p.z_ready = 1;
	if ((err = git_odb_write_pack(&p.wp, c->odb, NULL, NULL)) < 0) {
		rc = version_git_error(err, 0, "cannot start a pack of %zu new git objects",
				       c->nfresh);
		goto cleanup;
	}
	for (int i = 0; i < 4; i++)
		head[8 + i] = (unsigned char)(c->nfresh >> (24 - 8 * i));
	if ((rc = pack_put(&p, head, sizeof head)) < 0)
		goto cleanup;
	for (size_t i = c->nfresh; i-- > 0;) {
		if ((err = c->mem->read(&data, &len, &type, c->mem, &c->fresh[i])) < 0) {
			rc = version_git_error(err, 0, "cannot read back a new git object");
			goto cleanup;
		}
		rc = pack_object(&p, type, data, len);
		git_odb_backend_data_free(c->mem, data);
		if (rc < 0)
			goto cleanup;
	}
	if ((rc = pack_flush(&p)) < 0)
		goto cleanup;
	if (EVP_DigestFinal_ex(p.sha1, trailer, &tlen) != 1 || tlen != GIT_OID_RAWSZ) {
		rc = folio_error_set(FOLIO_EIO, "cannot finish the SHA-1 of the new pack (libcrypto)");
		goto cleanup;
	}
	if ((err = p.wp->append(p.wp, trailer, tlen, &p.stats)) < 0 ||
	    (err = p.wp->commit(p.wp, &p.stats)) < 0)
		rc = version_git_error(err, 0, "cannot write the pack of %zu new git objects",
				       c->nfresh);
cleanup:
	if (p.wp)
		p.wp->free(p.wp);
	if (p.z_ready)
		deflateEnd(&p.z);
	EVP_MD_CTX_free(p.sha1);
	free(p.buf);
	return rc;
}

/* "commit: <first line>" for the reflog. */
static void reflog_message(char *out, size_t cap, const char *message, int initial)
{
	size_t n = strcspn(message, "\n");

	if (n > 200)
		n = 200;
	snprintf(out, cap, "commit%s: %.*s", initial ? " (initial)" : "", (int)n, message);
}

int folio_version_commit(char out[FOLIO_COMMIT_HEXSZ + 1], folio_version *v,
			 const folio_tree *tree, const char *message,
			 const folio_signature *author,
			 folio_content_cb content_cb, void *payload)
{
	commit_ctx c = {0};
	folio_signature ident;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
	git_oid tree_id, commit_id, parent;
	const git_oid *parents[1];
	char *refname = NULL, *msg = NULL;
	char logmsg[256], hex[GIT_OID_HEXSZ + 1];
	int has_parent = 0, rc, err;

	out[0] = '\0';
	if (!message)
		message = "";
	c.tree = tree;
	c.content_cb = content_cb;
	c.payload = payload;
	for (size_t i = 0; i < tree->n; i++)
		if ((rc = check_entry(tree, i)) < 0)
			return rc;
	if (!author) {
		if ((rc = folio_version_identity(&ident, v)) < 0)
			return rc;
		author = &ident;
	}

	/* 1. A private handle with the mempack in front of the disk (by the
	 * absolute path libgit2 resolved, in case the cwd has changed). */
	err = git_repository_open_ext(&c.repo, git_repository_path(v->repo),
				      GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL);
	if (err < 0) {
		rc = version_git_error(err, 0, "cannot open the git repository %s", v->gitdir);
		goto cleanup;
	}
	if ((err = git_repository_odb(&c.odb, c.repo)) < 0 ||
	    (err = git_mempack_new(&c.mem)) < 0) {
		rc = version_git_error(err, 0, "cannot set up an in-memory object store");
		goto cleanup;
	}
	if ((err = git_odb_add_backend(c.odb, c.mem, 999)) < 0) {
		c.mem->free(c.mem);
		c.mem = NULL;
		rc = version_git_error(err, 0, "cannot set up an in-memory object store");
		goto cleanup;
	}
	if ((rc = find_branch(c.repo, &refname, &parent, &has_parent)) < 0)
		goto cleanup;

	/* 2. Blobs, then trees. */
	if (tree->n && !(c.blobs = malloc(tree->n * sizeof *c.blobs))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory committing %zu files", tree->n);
		goto cleanup;
	}
	for (size_t i = 0; i < tree->n; i++)
		if ((rc = ensure_blob(&c, &tree->v[i], &c.blobs[i])) < 0)
			goto cleanup;
	if ((rc = build_tree(&c, 0, tree->n, 0, 0, &tree_id)) < 0)
		goto cleanup;

	/* 3. The commit object (message ends with a newline, as git's do). */
	size_t mlen = strlen(message);
	if (!(msg = malloc(mlen + 2))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	memcpy(msg, message, mlen + 1);
	if (mlen && message[mlen - 1] != '\n')
		memcpy(msg + mlen, "\n", 2);
	if ((err = git_signature_now(&sig, author->name, author->email)) < 0) {
		rc = version_git_error(err, FOLIO_EINVAL, "bad author '%s <%s>'",
				       author->name, author->email);
		goto cleanup;
	}
	parents[0] = &parent;
	err = git_commit_create_from_ids(&commit_id, c.repo, NULL, sig, sig, NULL, msg,
					 &tree_id, has_parent ? 1 : 0, parents);
	if (err < 0) {
		rc = version_git_error(err, 0, "cannot create the commit object");
		goto cleanup;
	}
	/* git_odb_write skips objects that exist on disk already (the same
	 * commit made twice in one second); only pack it when it is new. */
	if (c.mem->exists(c.mem, &commit_id)) {
		if (c.nfresh == c.capfresh) {
			git_oid *p = realloc(c.fresh, (c.capfresh + 1) * sizeof *p);
			if (!p) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				goto cleanup;
			}
			c.fresh = p;
			c.capfresh++;
		}
		c.fresh[c.nfresh++] = commit_id;
	}
	version_oid_hex(hex, &commit_id);

	/* 4. One pack, durable before the ref moves. */
	if (c.nfresh && (rc = write_pack(&c)) < 0)
		goto cleanup;
	if ((err = git_mempack_reset(c.mem)) < 0 || (err = git_odb_refresh(c.odb)) < 0) {
		rc = version_git_error(err, 0, "cannot reload the object database after writing a pack");
		goto cleanup;
	}
	if (!git_odb_exists(c.odb, &commit_id)) {
		rc = folio_error_set(FOLIO_ECORRUPT,
			"commit %s is not readable after writing its pack; the branch was not moved", hex);
		goto cleanup;
	}

	/* 5. Move the branch, only if it is still where we started. */
	reflog_message(logmsg, sizeof logmsg, message, !has_parent);
	if (has_parent)
		err = git_reference_create_matching(&ref, c.repo, refname, &commit_id, 1,
						    &parent, logmsg);
	else
		err = git_reference_create(&ref, c.repo, refname, &commit_id, 0, logmsg);
	if (err == GIT_EMODIFIED || err == GIT_EEXISTS) {
		rc = version_git_error(err, FOLIO_ELOCKED,
			"%s moved while committing; commit %s was written but not recorded",
			refname, hex);
		goto cleanup;
	}
	if (err < 0) {
		rc = version_git_error(err, 0, "cannot move %s to commit %s", refname, hex);
		goto cleanup;
	}
	memcpy(out, hex, FOLIO_COMMIT_HEXSZ + 1);
	rc = 0;
cleanup:
	/* Freeing the private repository frees the odb and the mempack
	 * with it, whatever was left in memory. */
	git_reference_free(ref);
	git_signature_free(sig);
	git_odb_free(c.odb);
	git_repository_free(c.repo);
	free(c.blobs);
	free(c.fresh);
	free(refname);
	free(msg);
	return rc;
}
