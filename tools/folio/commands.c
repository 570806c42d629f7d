/*
 * commands.c — the table of folio commands; each command's run function
 * and --help text live with its code in cmd_*.c.
 */
#include "cli.h"

#define COMMANDS(X) \
	X(init, "create a new repository") \
	X(add, "copy files or folders into the staged tree") \
	X(rm, "remove files from the staged tree") \
	X(mv, "rename or move staged files and folders") \
	X(import, "bring in a COCO, VOC, YOLO, ImageFolder or IDX dataset") \
	X(status, "show the branch and the staged changes") \
	X(commit, "record the staged tree as a new version") \
	X(log, "list versions") \
	X(show, "show one version and what it changed") \
	X(diff, "compare two versions (or a version and the stage)") \
	X(ls, "list the files of a version") \
	X(cat, "print one file of a version") \
	X(labels, "summarise the labels of a version and the errors in them") \
	X(export, "materialise a version as plain files") \
	X(tag, "list, create or delete tags") \
	X(branch, "list, create or delete branches") \
	X(switch, "change the current branch") \
	X(mount, "mount a repository: every version a folder, HEAD writable") \
	X(umount, "unmount a folio mount") \
	X(index, "compute and cache the image features of a version") \
	X(query, "list the samples a view pipeline selects, without FUSE") \
	X(slice, "save, list or remove named pipelines (.folio/slices/)") \
	X(fsck, "verify every object and every reachable version") \
	X(gc, "remove objects nothing refers to")

#define DECLARE(name, summary) \
	int cmd_##name(cli *c); \
	extern const char *const usage_##name;
COMMANDS(DECLARE)

#define ENTRY(name, summary) { #name, cmd_##name, summary, &usage_##name },
const command folio_commands[] = { COMMANDS(ENTRY) { 0 } };
