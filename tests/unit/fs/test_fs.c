/* Unit tests for fs/ without a mount: the version index, commit-prefix
 * resolution, the node table, hashing into inode numbers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../fs/fs.h"

static void push(version *v, const char *path, int n)
{
	folio_entry e = { 0 };
	e.path = (char *)path;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = (uint64_t)n;
	e.oid.id[0] = (unsigned char)n;
	cr_assert_eq(folio_tree_push(&v->tree, &e), 0);
}

static version *mkversion(const char *id)
{
	version *v = calloc(1, sizeof *v);
	cr_assert_not_null(v);
	snprintf(v->id, sizeof v->id, "%s", id);
	folio_tree_init(&v->tree);
	return v;
}

static void vfree(version *v)
{
	folio_tree_clear(&v->tree);
	free(v->dirs);
	free(v->children);
	free(v);
}

static const char *child_name(const version *v, uint32_t dir, uint32_t i, char *buf)
{
	const vchild *c = &v->children[v->dirs[dir].first + i];
	memcpy(buf, c->name, c->len);
	buf[c->len] = '\0';
	return buf;
}

Test(index, folders_children_sorted_and_lookup)
{
	version *v = mkversion("0123456789abcdef0123456789abcdef01234567");
	const char *paths[] = { "a", "a-b", "a.txt", "a/c", "a/d/e", "b/x", "b/y", "z", NULL };
	for (int i = 0; paths[i]; i++)
		push(v, paths[i], i + 1);
	/* "a" and "a/c" cannot coexist in a real tree; use distinct names */
	folio_tree_remove_at(&v->tree, 0);
	folio_tree_sort(&v->tree);
	cr_assert_eq(fs_version_index(v), 0);
	cr_expect_eq(v->ndirs, 4, "root, a, a/d, b");
	/* root: a (dir), a-b, a.txt, b (dir), z */
	cr_assert_eq(v->dirs[0].count, 5);
	char buf[64];
	const char *want[] = { "a", "a-b", "a.txt", "b", "z" };
	for (uint32_t i = 0; i < 5; i++)
		cr_expect_str_eq(child_name(v, 0, i, buf), want[i]);
	const vchild *a = fs_vdir_lookup(v, 0, "a");
	cr_assert_not_null(a);
	cr_expect(a->is_dir);
	cr_expect_eq(v->dirs[a->idx].count, 2, "a/c and a/d");
	const vchild *d = fs_vdir_lookup(v, a->idx, "d");
	cr_assert_not_null(d);
	const vchild *e = fs_vdir_lookup(v, d->idx, "e");
	cr_assert_not_null(e);
	cr_expect(!e->is_dir);
	cr_expect_str_eq(v->tree.v[e->idx].path, "a/d/e");
	cr_expect_null(fs_vdir_lookup(v, 0, "nope"));
	cr_expect_null(fs_vdir_lookup(v, 0, "a-"));
	cr_expect_null(fs_vdir_lookup(v, 0, "a.txtx"));
	/* inode numbers: stable for the same commit and path, distinct otherwise */
	cr_expect_eq(v->dirs[a->idx].ino, fs_vdir_ino(v, "a", 1));
	cr_expect_neq(v->dirs[a->idx].ino, v->dirs[d->idx].ino);
	cr_expect_eq(fs_commit_dir_ino(v->id, "", 0), v->dirs[0].ino, "numbered from the id alone");
	/* subfolder counts, for st_nlink = 2 + nsub */
	const vchild *b = fs_vdir_lookup(v, 0, "b");
	cr_assert_not_null(b);
	cr_expect_eq(v->dirs[0].nsub, 2, "root has a and b");
	cr_expect_eq(v->dirs[a->idx].nsub, 1, "a has d");
	cr_expect_eq(v->dirs[d->idx].nsub, 0);
	cr_expect_eq(v->dirs[b->idx].nsub, 0);
	vfree(v);
}

Test(index, empty_version)
{
	version *v = mkversion("ffffffffffffffffffffffffffffffffffffffff");
	cr_assert_eq(fs_version_index(v), 0);
	cr_expect_eq(v->ndirs, 1);
	cr_expect_eq(v->dirs[0].count, 0);
	cr_expect_null(fs_vdir_lookup(v, 0, "x"));
	vfree(v);
}

Test(index, large_flat_folder)
{
	version *v = mkversion("1111111111111111111111111111111111111111");
	char p[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(p, sizeof p, "small/f%06d", i);
		push(v, p, i);
	}
	cr_assert_eq(fs_version_index(v), 0);
	const vchild *s = fs_vdir_lookup(v, 0, "small");
	cr_assert_not_null(s);
	cr_expect_eq(v->dirs[s->idx].count, 100000);
	cr_expect_not_null(fs_vdir_lookup(v, s->idx, "f099999"));
	cr_expect_not_null(fs_vdir_lookup(v, s->idx, "f000000"));
	vfree(v);
}

Test(refs, commit_prefixes)
{
	refsnap r = { 0 };
	commitent c[3] = { 0 };
	snprintf(c[0].id, sizeof c[0].id, "%s", "1234567890123456789012345678901234567890");
	snprintf(c[1].id, sizeof c[1].id, "%s", "1234ffff90123456789012345678901234567890");
	snprintf(c[2].id, sizeof c[2].id, "%s", "abcdef7890123456789012345678901234567890");
	r.commits = c;
	r.ncommits = 3;
	int amb;
	cr_expect_eq(fs_refs_commit(&r, "abcd", &amb), &c[2]);
	cr_expect_eq(fs_refs_commit(&r, c[0].id, &amb), &c[0]);
	cr_expect_eq(fs_refs_commit(&r, "12345", &amb), &c[0]);
	cr_expect_null(fs_refs_commit(&r, "1234", &amb));
	cr_expect(amb, "1234 matches two commits");
	cr_expect_null(fs_refs_commit(&r, "abc", &amb), "too short");
	cr_expect_null(fs_refs_commit(&r, "ABCD", &amb), "not lowercase hex");
	cr_expect_null(fs_refs_commit(&r, "../x", &amb));
	cr_expect_null(fs_refs_commit(&r, "0000", &amb));
}

static fs F;

static void table_init(void)
{
	memset(&F, 0, sizeof F);
	for (int i = 0; i < 64; i++)
		pthread_mutex_init(&F.nodes_lock[i], NULL);
}

Test(instances, place_numbers)
{
	uint64_t dir = fs_commit_dir_ino("0123456789abcdef0123456789abcdef01234567", "x", 1);
	uint64_t t = fs_ref_seed('t', "v1"), b = fs_ref_seed('b', "v1");

	cr_expect_eq(fs_instance_ino(dir, 0), dir, "commits/<id>/ keeps the commit's numbers");
	cr_expect_neq(t, 0);
	cr_expect_neq(t, b, "a tag and a branch of one name are two places");
	cr_expect_neq(fs_ref_seed('t', "v2"), t);
	cr_expect_neq(fs_ref_seed('l', "v1"), t);
	cr_expect_neq(fs_ref_seed('p', "v1"), t);
	cr_expect_eq(fs_ref_seed('t', "v1"), t, "stable");
	uint64_t it = fs_instance_ino(dir, t), ib = fs_instance_ino(dir, b);
	cr_expect_neq(it, dir);
	cr_expect_neq(it, ib);
	cr_expect_eq(fs_instance_ino(dir, t), it, "stable across calls (and mounts)");
	cr_expect_eq(it >> 61, dir >> 61, "the type tag is kept");
	cr_expect_eq(ib >> 61, dir >> 61);
}

Test(instances, folder_nodes_per_place_files_shared)
{
	table_init();
	version *v = mkversion("0123456789abcdef0123456789abcdef01234567");
	push(v, "a/f", 1);
	push(v, "g", 2);
	cr_assert_eq(fs_version_index(v), 0);
	uint64_t seed = fs_ref_seed('t', "v1");

	node *n0 = fs_vdir_node(&F, v, 0), *n1 = fs_vdir_instance(&F, v, 0, seed);
	cr_assert_not_null(n0);
	cr_assert_not_null(n1);
	cr_expect_neq(n0, n1);
	cr_expect_eq(n0->ino, v->dirs[0].ino);
	cr_expect_eq(n1->ino, fs_instance_ino(v->dirs[0].ino, seed));
	cr_expect_eq(n1->seed, seed);
	cr_expect_eq(n1->v, v);
	cr_expect_eq(n1->dir, 0);
	cr_expect_eq(fs_vdir_instance(&F, v, 0, seed), n1, "one node per folder and place");
	cr_expect_eq(fs_node_instance(&F, n0, seed), n1, "a folder handed out for commits/<id>/, renumbered");
	cr_expect_eq(fs_node_instance(&F, n0, 0), n0);

	/* a file is the same node (and inode) in every place */
	node *file = fs_ventry_node(&F, v, &v->tree.v[1]);
	cr_assert_not_null(file);
	cr_expect_eq(fs_node_instance(&F, file, seed), file);

	/* a menu keeps its version, kind and argument */
	node *m = fs_node_new(fs_vdir_ino(v, "\001menu w ", 9), N_VMENU);
	cr_assert_not_null(m);
	m->v = v;
	m->kind = 'w';
	m->name = strdup("arg");
	m = fs_node_put(&F, m);
	node *mi = fs_node_instance(&F, m, seed);
	cr_assert_not_null(mi);
	cr_expect_neq(mi, m);
	cr_expect_eq(mi->type, N_VMENU);
	cr_expect_eq(mi->ino, fs_instance_ino(m->ino, seed));
	cr_expect_eq(mi->v, v);
	cr_expect_eq(mi->kind, 'w');
	cr_expect_str_eq(mi->name, "arg");
	cr_expect_eq(mi->seed, seed);
	cr_expect_eq(fs_node_instance(&F, m, seed), mi);
	fs_nodes_clear(&F);
	vfree(v);
}

static void *putter(void *arg)
{
	uintptr_t base = (uintptr_t)arg;
	for (uint64_t i = 0; i < 5000; i++) {
		node *n = fs_node_new(1000 + (i % 2500), N_VFILE);
		cr_assert_not_null(n);
		node *got = fs_node_put(&F, n);
		cr_assert_not_null(got);
		cr_assert_eq(got->ino, 1000 + (i % 2500));
	}
	(void)base;
	return NULL;
}

Test(nodes, concurrent_put_get_one_node_per_inode)
{
	table_init();
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, putter, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	size_t total = 0;
	for (int i = 0; i < 64; i++)
		total += F.nnodes[i];
	cr_expect_eq(total, 2500, "total %zu", total);
	for (uint64_t ino = 1000; ino < 3500; ino++)
		cr_expect_not_null(fs_node_get(&F, ino));
	cr_expect_null(fs_node_get(&F, 5));
	fs_nodes_clear(&F);
}

Test(hash, spreads_and_is_stable)
{
	uint64_t a = fs_hash("abc", 3, 0), b = fs_hash("abd", 3, 0);
	cr_expect_neq(a, b);
	cr_expect_eq(a, fs_hash("abc", 3, 0));
	cr_expect_neq(fs_hash("abc", 3, 1), a);
	cr_expect_neq(fs_reflink_ino('B', "main"), fs_reflink_ino('T', "main"));
	cr_expect_geq(fs_reflink_ino('B', "main"), 1ull << 60);
}
