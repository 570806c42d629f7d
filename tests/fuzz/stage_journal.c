/*
 * stage_journal.c — fuzz target for the stage journal REPO/stage/journal
 * (core/repo/stage.c): the input is the whole journal, replayed on a
 * fixed index whose id is 0123456789abcdef (seeds begin with
 * "folio-journal 1 0123456789abcdef").
 *
 * A record's check is an FNV-1a of the rest of its line, which mutations
 * almost never keep right, so they would only reach the damaged-line
 * path. A line that starts with "-------- " gets its right check written
 * in before the load: such lines reach the replay itself, the others the
 * checks.
 */
#include "stage.h"

static uint32_t fnv1a32(const uint8_t *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

/* Writes the check of each "-------- " line (see above) into buf. */
static void fill_checks(uint8_t *buf, size_t size)
{
	for (size_t at = 0; at < size;) {
		uint8_t *nl = memchr(buf + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - buf) : size;
		if (end - at >= 9 && memcmp(buf + at, "-------- ", 9) == 0) {
			char hex[9];
			snprintf(hex, sizeof hex, "%08x", fnv1a32(buf + at + 9, end - at - 9));
			memcpy(buf + at, hex, 8);
		}
		at = end + 1;
	}
}

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
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	fill_checks(buf, size);
	stage_setup();
	stage_write("index", index_text, sizeof index_text - 1);
	stage_write("journal", buf, size);
	stage_check_load();
	free(buf);
	return 0;
}
