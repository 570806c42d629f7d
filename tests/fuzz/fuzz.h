/*
 * fuzz.h — what the fuzz targets of tests/fuzz/ share.
 *
 * Each tests/fuzz/<target>.c defines LLVMFuzzerTestOneInput for one parser
 * of untrusted bytes. `make fuzz` links it with libFuzzer (clang,
 * -fsanitize=fuzzer,address,undefined, build/fuzz/); `make check` links it
 * with replay.c, a plain main() that feeds it every file of
 * tests/fuzz/corpus/<target>/, in the release and the ASan builds, so a
 * machine without clang still replays the corpora and every finding fixed
 * stays fixed.
 *
 * A target returns 0 for any input the parser refuses; it calls
 * fuzz_fail (abort) only when the parser broke a promise it makes (a round
 * trip that does not hold, an unsorted result, an unsafe path). Crashes,
 * leaks and undefined behaviour are the sanitizers' to report.
 */
#ifndef FOLIO_FUZZ_H
#define FOLIO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken promise and aborts (libFuzzer then saves the input). */
#define fuzz_fail(...)                                                    \
	do {                                                              \
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);    \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		abort();                                                  \
	} while (0)

/* With FOLIO_REPLAY_VERBOSE set, says why an input was refused (for
 * checking that seeds reach what they are meant to). */
#define fuzz_note(...)                                                    \
	do {                                                              \
		if (getenv("FOLIO_REPLAY_VERBOSE")) {                     \
			fprintf(stderr, "  ");                            \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
		}                                                         \
	} while (0)

#endif
