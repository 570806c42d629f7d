/*
 * expr.c — fuzz target for the @where expression language
 * (core/views/expr.c): folio_expr_parsen on the raw bytes, then the
 * promises of the canonical text (include/folio/expr.h): it parses back,
 * gives the same canonical text again, and selects the same samples as
 * the expression it came from (on the samples of the expr unit tests).
 */
#include <string.h>

#include "folio/error.h"
#include "folio/expr.h"
#include "fuzz.h"
#include "../unit/expr/samples.h"

static const sample *const samples[] = { &A, &B, &C };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	folio_expr *e = NULL, *back = NULL;
	char *canon = NULL, *again = NULL;

	if (folio_expr_parsen(&e, (const char *)data, size) < 0) {
		fuzz_note("refused: %s", folio_error_last());
		return 0;
	}
	if (!(canon = folio_expr_canonical(e)))
		goto done; /* out of memory */
	if (folio_expr_parse(&back, canon) < 0)
		fuzz_fail("canonical text '%s' does not parse back", canon);
	if (!(again = folio_expr_canonical(back)))
		goto done;
	fuzz_note("canonical: %s", canon);
	if (strcmp(canon, again) != 0)
		fuzz_fail("canonical text not stable: '%s' then '%s'", canon, again);
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		if (folio_expr_eval(e, &ops, samples[i]) != folio_expr_eval(back, &ops, samples[i]))
			fuzz_fail("'%.*s' and its canonical text '%s' differ on sample %zu",
				  (int)size, (const char *)data, canon, i);
done:
	free(canon);
	free(again);
	folio_expr_free(e);
	folio_expr_free(back);
	return 0;
}
