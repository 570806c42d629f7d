/*
 * cli.h — shared pieces of the folio command-line tool: the command table,
 * option parsing helpers, output (JSON, progress bars) and exit codes.
 */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "folio/diff.h"
#include "folio/error.h"
#include "folio/labels.h"
#include "folio/repo.h"
#include "folio/util.h"

/* Exit codes (documented in docs/cli.md and `folio --help`). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* an operation failed (I/O, nothing to commit, ...) */
	EXIT_USAGE = 2,     /* bad command line or invalid input */
	EXIT_NOTFOUND = 3,  /* repository, version, path or object not found */
	EXIT_LOCKED = 4,    /* repository locked by another process */
	EXIT_CORRUPT = 5,   /* stored data failed verification (fsck problems) */
	EXIT_NOSPACE = 6,   /* disk full */
	EXIT_DIRTY = 7,     /* uncommitted changes would be lost */
	EXIT_DENIED = 8,    /* permission denied */
};

typedef struct cli {
	const char *repo_arg;  /* -R REPO, or NULL */
	int argc;              /* the command's own arguments, argv[0] = name */
	char **argv;
} cli;

typedef struct command {
	const char *name;
	int (*run)(cli *c);
	const char *summary;
	const char *const *usage; /* full --help text */
} command;

extern const command folio_commands[];

/* Prints "folio: <message>" for the current error and returns the exit
 * code for rc. */
int cli_fail(int rc);
/* Prints "folio CMD: <message>" and returns EXIT_USAGE. */
int cli_usage_error(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int exit_code_for(int rc);

/* Finds and opens the repository (-R, $FOLIO_REPO, cwd). */
int cli_open_repo(folio_repo **out, const cli *c);

/* 1 if argv holds --help or -h; prints the command's usage. */
int cli_wants_help(const cli *c);

/* Option parsing: a tiny getopt_long wrapper per command. */
typedef struct cli_opt {
	const char *lng;   /* "json" */
	char shrt;         /* 'j' or 0 */
	int has_arg;
	const char **sval; /* set for options with an argument */
	int *flag;         /* incremented for flags */
} cli_opt;
/* Parses options anywhere in argv; leaves positional arguments in
 * *pos / *npos. The global -R REPO / --repo REPO / --repo=REPO is taken
 * here too (into c->repo_arg) unless opts has a 'R' or "repo" option of
 * its own. Returns 0 or EXIT_USAGE after printing an error. */
int cli_parse(cli *c, const cli_opt *opts, char ***pos, int *npos);

/* Progress bar on stderr when stdout and stderr are terminals. */
typedef struct progress {
	const char *label;
	uint64_t total, done, bytes;
	int enabled;
	double start, last;
} progress;
void progress_begin(progress *p, const char *label, uint64_t total);
void progress_update(progress *p, uint64_t done, uint64_t bytes);
void progress_end(progress *p);

double now_seconds(void);

/*
 * The payload of core's progress and warning callbacks in a command: a
 * progress bar, and the command's name for warnings ("folio add: ...").
 * A command with more state for its callbacks puts this first.
 */
typedef struct cli_report {
	progress pr;
	const char *cmd;
} cli_report;
/* progress callback: draws the bar (begun by the caller) of total items */
void cli_report_progress(size_t done, size_t total, uint64_t bytes, void *payload);
/* warning callback: "folio CMD: message" on stderr */
void cli_report_warn(const char *message, void *payload);

/*
 * A --as PATH value: trailing slashes trimmed, then a valid dataset path;
 * with root_ok, an empty result (or no --as at all) is "", the root. *out
 * is malloc'd. Prints "folio CMD: --as ...: why" and returns EXIT_USAGE
 * when it is not valid, EXIT_FAIL when out of memory.
 */
int cli_as_arg(const cli *c, const char *arg, int root_ok, char **out);

/* A --jobs value: 1..256; prints a usage error and returns EXIT_USAGE
 * when it is not one. */
int cli_parse_jobs(const cli *c, const char *s, int *out);

/* JSON output: prints and frees. */
void json_print(cJSON *j);
cJSON *json_entry(const folio_entry *e);
const char *kind_name(folio_entry_kind k);

/* Loads a VERSION's tree, or the stage when spec is ":" or NULL. */
int cli_load_tree(folio_tree *out, folio_repo *repo, const char *spec,
		  char commit_out[FOLIO_COMMIT_HEXSZ + 1]);

/* A diff as a JSON object (changes + counts). */
cJSON *diff_json(const folio_diff *d);
/* Prints a diff as "A path" lines or JSON. */
void print_diff(const folio_diff *d, int json);

void human_size(char *buf, size_t len, uint64_t bytes);

/* folio_labels_read_cb over the repository's store (payload: folio_repo). */
int cli_read_entry(void **out, size_t *len, const folio_entry *e, void *payload);

/* Prints the summary `folio labels` shows (at most max_errors errors). */
void labels_print_summary(const folio_labelset *set, const folio_label_summary *st,
			  int max_errors);

#endif
