/*
 * cmd_init.c — init: making a new repository.
 */
#include <stdlib.h>

#include "cli.h"

const char *const usage_init =
	"usage: folio init DIR\n"
	"\n"
	"Creates a new, empty folio repository in DIR (which must be absent or\n"
	"empty): DIR/git (a bare git repository), DIR/objects (the object store),\n"
	"DIR/stage and DIR/cache. The first branch is 'main'.\n";

int cmd_init(cli *c);
int cmd_init(cli *c)
{
	char **pos;
	int npos, rc;

	if ((rc = cli_parse(c, NULL, &pos, &npos)))
		return rc;
	if (npos != 1) {
		free(pos);
		return cli_usage_error(c, "expected one folder, got %d arguments", npos);
	}
	rc = folio_repo_init(pos[0]);
	if (rc == 0)
		printf("Initialised empty folio repository in %s\n", pos[0]);
	free(pos);
	return rc ? cli_fail(rc) : EXIT_OK;
}
