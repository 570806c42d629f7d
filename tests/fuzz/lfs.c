/*
 * lfs.c — fuzz target for the git-lfs pointer parser
 * (core/version/lfs.c): folio_lfs_parse on the raw bytes, and the promise
 * that makes a git blob id identify a file, "pointer text <-> (oid,
 * size)" is a bijection: whatever parses is exactly the text
 * folio_lfs_pointer writes for the parsed oid and size.
 */
#include <string.h>

#include "folio/error.h"
#include "folio/version.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	folio_oid oid;
	uint64_t n;
	char text[200];

	if (folio_lfs_parse(&oid, &n, data, size) < 0) {
		fuzz_note("refused: %s", folio_error_last());
		return 0;
	}
	size_t len = folio_lfs_pointer(text, &oid, n);
	if (len != size || memcmp(text, data, size) != 0)
		fuzz_fail("accepted a pointer that is not the canonical text (%zu bytes)", size);
	return 0;
}
