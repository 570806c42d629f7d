# folio — top-level build.
#
#   make            build the library, the CLI and the daemon (build/release/)
#   make check      unit + integration tests, then the same under ASan/UBSan;
#                   the fuzz corpora replayed in both; integration under TSan
#   make deps       install the Debian packages the build and tests need
#   make bench      every benchmark (bench-import, ...)
#   make fuzz       libFuzzer binaries of tests/fuzz/ (clang, build/fuzz/)
#   make check-tsan the integration tests under ThreadSanitizer
#
# CFG selects a configuration: release (default), asan, tsan, fuzz (clang,
# for `make fuzz`). Objects go to build/$(CFG)/. WERROR=1 turns warnings
# into errors (CI sets it).

CFG ?= release
B := build/$(CFG)

PKGS := libgit2 libzstd libcjson libcrypto vips fuse3 expat yaml-0.1 zlib
CC ?= cc
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT_release := -O2
OPT_asan := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDOPT_asan := -fsanitize=address,undefined
# ThreadSanitizer for the threaded daemon (make check-tsan).
OPT_tsan := -O1 -fno-omit-frame-pointer -fsanitize=thread
LDOPT_tsan := -fsanitize=thread
# libFuzzer instrumentation with ASan/UBSan; the targets add the fuzzer main.
OPT_fuzz := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
LDOPT_fuzz := -fsanitize=address,undefined

CFLAGS := -std=gnu17 -g $(WARN) $(OPT_$(CFG)) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread \
	-Iinclude -Icore $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS := $(LDOPT_$(CFG)) -pthread
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

CORE_SRC := $(sort $(wildcard core/*/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
CLI_SRC := $(sort $(wildcard tools/folio/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
LIB := $(B)/libfolio.a
FOLIO := $(B)/bin/folio
FS_SRC := $(sort $(wildcard fs/*.c))
FS_OBJ := $(FS_SRC:%.c=$(B)/%.o)
FSLIB := $(B)/libfoliofs.a
DAEMON_OBJ := $(patsubst %.c,$(B)/%.o,$(sort $(wildcard tools/foliofs/*.c)))
FOLIOFS := $(B)/bin/foliofs

UNIT_DIRS := $(sort $(dir $(wildcard tests/unit/*/*.c)))
UNIT_BINS := $(foreach d,$(UNIT_DIRS),$(B)/tests/unit_$(notdir $(patsubst %/,%,$(d))))

.PHONY: demo install all deps deps-check check check-unit check-integration check-asan \
	bench bench-import bench-read bench-index bench-head clean lint \
	fuzz fuzz-build check-replay check-tsan
all: deps-check $(FOLIO) $(FOLIOFS)

deps:
	tools/deps.sh

# The first of the README's two commands: build, then a short tour on
# photos from a Debian package.
demo: all
	FOLIO=$(CURDIR)/$(FOLIO) tools/demo.sh

# Installs what is missing, and only then (a dpkg query costs ~0.1 s).
deps-check:
	@tools/deps.sh --check 2>/dev/null || tools/deps.sh

# V=1 shows full compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $(CFG)/$<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FOLIO): $(CLI_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LIBS)

$(FSLIB): $(FS_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FOLIOFS): $(DAEMON_OBJ) $(FSLIB) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJ) $(FSLIB) $(LIB) $(LIBS)

# One criterion binary per module folder under tests/unit/. (The object
# list is a function so that make does not substitute the stem into it.)
unit_objs = $(patsubst %.c,$(B)/%.o,$(wildcard tests/unit/$(1)/*.c))
.SECONDARY:
.SECONDEXPANSION:
$(B)/tests/unit_%: $$(call unit_objs,$$*) $(FSLIB) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(FSLIB) $(LIB) $(LIBS) -lcriterion

# make check runs every part even when an earlier one fails -- lint, then
# unit and integration tests in the release build, then both again under
# ASan/UBSan -- so that one run reports every failure. Each failed part
# (and the [FAIL]/FAIL lines of its output) is appended to CHECK_FAILED,
# listed at the end; the exit status is non-zero if anything failed.
CHECK_FAILED ?= /dev/null
CHECK_LIST := $(CURDIR)/build/check-failed.txt

check: deps-check
	@mkdir -p build && : > $(CHECK_LIST)
	@$(MAKE) --no-print-directory lint || echo "make lint: banned functions (listed above)" >> $(CHECK_LIST)
	-@$(MAKE) --no-print-directory -k check-unit check-integration check-replay CFG=release CHECK_FAILED=$(CHECK_LIST)
	-@$(MAKE) --no-print-directory -k check-unit check-integration check-replay CFG=asan CHECK_FAILED=$(CHECK_LIST)
	-@$(MAKE) --no-print-directory check-tsan CHECK_FAILED=$(CHECK_LIST)
	@echo; if [ -s $(CHECK_LIST) ]; then echo "== make check FAILED:"; cat $(CHECK_LIST); exit 1; \
	else echo "== make check: lint, unit and integration tests (release, ASan/UBSan, TSan) and fuzz corpora all passed"; fi

# fontconfig's process-lifetime allocations are not leaks (tests/lsan.supp).
LSAN_ENV := LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

# $(call check_run,LABEL,COMMAND): runs COMMAND with its output shown;
# when it fails, LABEL and the failure lines of its output go to
# $(CHECK_FAILED). Prints how long it took (never checked). Exits with
# COMMAND's status. (Its shell variables are run_*, so that a caller's
# own survive.)
check_run = run_t0=$$(date +%s); run_out=$(B)/.check.$$$$; \
	{ { $(2); } 2>&1; echo $$? > $$run_out.rc; } | tee $$run_out.log; run_rc=$$(cat $$run_out.rc); \
	echo "-- $(1): $$( [ $$run_rc = 0 ] && echo passed || echo "FAILED (exit $$run_rc)") in $$(( $$(date +%s) - run_t0 )) s"; \
	if [ $$run_rc != 0 ]; then { echo "$(1)"; grep -E '^\[FAIL\]|^FAIL|died \(exit|SUMMARY: [A-Za-z]+Sanitizer' \
		$$run_out.log | sed 's/^/    /'; } >> $(CHECK_FAILED); fi; rm -f $$run_out.rc $$run_out.log; [ $$run_rc = 0 ]

# Builds what it can (-k), then runs every unit binary that built, even
# after one fails.
check-unit:
	@$(MAKE) --no-print-directory -k $(UNIT_BINS) $(FOLIO) || \
		echo "build ($(CFG)): unit tests did not all build (see above)" >> $(CHECK_FAILED)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; \
		if ! $(MAKE) --no-print-directory -q $$t 2>/dev/null; then \
			echo "unit ($(CFG)): $$t did not build" | tee -a $(CHECK_FAILED); rc=1; continue; fi; \
		$(call check_run,unit ($(CFG)): $$t,$(LSAN_ENV) FOLIO_TEST_DATA=$(CURDIR)/tests/data $$t --jobs=2) || rc=1; \
	done; exit $$rc

check-integration:
	@$(MAKE) --no-print-directory $(FOLIO) $(FOLIOFS) || \
		{ echo "build ($(CFG)): folio or foliofs did not build" >> $(CHECK_FAILED); exit 1; }
	@echo "== integration ($(CFG))"; \
	$(call check_run,integration ($(CFG)),$(LSAN_ENV) FOLIO=$(CURDIR)/$(FOLIO) tests/integration/run.sh)

check-asan:
	$(MAKE) --no-print-directory -k check-unit check-integration CFG=asan

# ---- fuzz targets (tests/fuzz/fuzz.h) ----
# Each tests/fuzz/<target>.c is linked with libFuzzer in CFG=fuzz (`make
# fuzz`: build/fuzz/fuzz/<target>, run it on tests/fuzz/corpus/<target>/)
# and with tests/fuzz/replay.c in every other configuration, where
# check-replay feeds it its corpus.
FUZZ_TARGETS := $(filter-out replay,$(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/%)
ifeq ($(CFG),fuzz)
FUZZ_MAIN :=
FUZZ_LD := -fsanitize=fuzzer
else
FUZZ_MAIN := $(B)/tests/fuzz/replay.o
FUZZ_LD :=
endif

$(B)/fuzz/%: $(B)/tests/fuzz/%.o $(FUZZ_MAIN) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(FUZZ_LD) -o $@ $< $(FUZZ_MAIN) $(LIB) $(LIBS)

fuzz:
	tools/deps.sh --fuzz
	$(MAKE) --no-print-directory fuzz-build CFG=fuzz CC=clang

fuzz-build: $(FUZZ_BINS)

check-replay:
	@$(MAKE) --no-print-directory -k $(FUZZ_BINS) || \
		echo "build ($(CFG)): fuzz replays did not all build (see above)" >> $(CHECK_FAILED)
	@rc=0; for t in $(FUZZ_TARGETS); do \
		$(call check_run,fuzz corpus ($(CFG)): $$t,$(LSAN_ENV) $(B)/fuzz/$$t tests/fuzz/corpus/$$t) || rc=1; \
	done; exit $$rc

# The integration tests under ThreadSanitizer (build/tsan/; part of make
# check: 4 minutes on the 2-core machine, 17 with both cores busy with
# other work, plus 3-4 to build). Every process,
# the CLI and the daemon, writes its reports to build/tsan/reports/ (a
# daemon's last ones come as it unmounts, after the tests' log scans), and
# any report fails the run; the CLI also exits 66 on one. Third-party
# suppressions, each with why, are in tests/tsan.supp, which also says why
# memcpy and memset are not recorded (intercept_intrin=0).
TSAN_REPORTS := $(CURDIR)/build/tsan/reports
TSAN_ENV := TSAN_OPTIONS="exitcode=66 second_deadlock_stack=1 intercept_intrin=0 \
	log_path=$(TSAN_REPORTS)/report suppressions=$(CURDIR)/tests/tsan.supp"
check-tsan: deps-check
	@$(MAKE) --no-print-directory build/tsan/bin/folio build/tsan/bin/foliofs CFG=tsan || \
		{ echo "build (tsan): folio or foliofs did not build" >> $(CHECK_FAILED); exit 1; }
	@rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	@echo "== integration (tsan)"; \
	$(call check_run,integration (tsan),$(TSAN_ENV) FOLIO=$(CURDIR)/build/tsan/bin/folio tests/integration/run.sh)
	@if [ -n "$$(ls -A $(TSAN_REPORTS))" ]; then cat $(TSAN_REPORTS)/*; \
		echo "ThreadSanitizer reports in $(TSAN_REPORTS)"; \
		echo "integration (tsan): ThreadSanitizer reports in $(TSAN_REPORTS)" >> $(CHECK_FAILED); exit 1; fi

bench: bench-import bench-read bench-index bench-head

bench-import: deps-check $(FOLIO)
	tools/deps.sh --bench
	$(MAKE) --no-print-directory CFG=release build/release/bin/genimages
	FOLIO=$(CURDIR)/build/release/bin/folio tools/bench/import.sh

bench-read: deps-check
	tools/deps.sh --bench
	$(MAKE) --no-print-directory CFG=release build/release/bin/genimages \
		build/release/bin/genfiles build/release/bin/readfiles build/release/bin/pagecache \
		build/release/bin/foliofs build/release/bin/folio
	FOLIO=$(CURDIR)/build/release/bin/folio tools/bench/read.sh

bench-head: deps-check
	$(MAKE) --no-print-directory CFG=release build/release/bin/genfiles \
		build/release/bin/foliofs build/release/bin/folio
	FOLIO=$(CURDIR)/build/release/bin/folio tools/bench/head.sh

bench-index: deps-check
	$(MAKE) --no-print-directory CFG=release build/release/bin/genimages \
		build/release/bin/foliofs build/release/bin/folio
	FOLIO=$(CURDIR)/build/release/bin/folio tools/bench/index.sh

$(B)/bin/readfiles: tools/bench/readfiles.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

$(B)/bin/pagecache: tools/bench/pagecache.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

$(B)/bin/genfiles: tools/bench/genfiles.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

$(B)/bin/genimages: tools/bench/genimages.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LIBS)

# Installs folio and foliofs (foliofs on PATH makes `mount -t fuse.foliofs`
# and fstab entries work: mount.fuse3 runs it by name).
PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(FOLIO) $(FOLIOFS) $(DESTDIR)$(PREFIX)/bin/

# Banned functions (not thread-safe, or unbounded), checked like curl does,
# in every C file of the tree: library, tools, benchmarks and tests. Use
# snprintf / folio_buf, strtok_r, folio_error_errno (or %m), localtime_r
# and gmtime_r, memcpy with a checked length, mkstemp / mkdtemp.
LINT_SRC = $(shell find core fs include tools tests -name '*.[ch]' | sort)
BANNED := sprintf|vsprintf|strcat|strncat|strcpy|gets|strtok|strerror|localtime|gmtime|asctime|ctime|tmpnam|tempnam|mktemp
lint:
	@! grep -nE '\b($(BANNED))\s*\(' $(LINT_SRC) || \
		{ echo "banned function used (see above)"; exit 1; }

clean:
	rm -rf build

UNIT_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard tests/unit/*/*.c))
FUZZ_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard tests/fuzz/*.c))
-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)
-include $(FUZZ_OBJ:.o=.d)
