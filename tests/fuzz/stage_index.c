/*
 * stage_index.c — fuzz target for the stage file REPO/stage/index
 * (core/repo/stage.c): the input is the whole index; there is no journal.
 */
#include "stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stage_setup();
	stage_write("journal", NULL, 0);
	stage_write("index", data, size);
	stage_check_load();
	return 0;
}
