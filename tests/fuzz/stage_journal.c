/*
 * stage_journal.c — fuzz target for the stage journal REPO/stage/journal
 * (core/repo/stage.c): the input is the whole journal, replayed on a
 * fixed index whose id is 0123456789abcdef (seeds begin with
 * "folio-journal 1 0123456789abcdef").
 */
#include "stage.h"

static const char index_text[] =
	"folio-stage 1\n"
	"base -\n"
	"id 0123456789abcdef\n"
	"L 100644 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae 3 "
	"1700000000000000000 - images/a.jpg\n"
	"B 100644 fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9 3 "
	"1700000000000000000 b1a6a6c7f8bf2ae2bd5eaa4d36b1e8f1e5bb1c44 images/b.jpg\n"
	"S 120000 3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea 1 "
	"0 f96e7fbc8a4e0e2e6a1b0c5bf8f0c7b0a7f0b0c1 link\n"
	"L 100755 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae 3 "
	"1700000000000000000 - tools/run.sh\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stage_setup();
	stage_write("index", index_text, sizeof index_text - 1);
	stage_write("journal", data, size);
	stage_check_load();
	return 0;
}
