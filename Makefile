# coinpipe: one Makefile for the library, the tools, the tests and the pages.
VERSION = 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = libcurl jansson libcrypto zlib

# Where objects and binaries go; `make asan` uses its own tree so the two
# builds never mix objects.
BUILD ?= build

CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla
# A package pkg-config cannot find stops the build here, by name, instead
# of a "jansson.h: No such file" later. Targets that compile nothing (clean,
# uninstall, demo: it installs the packages first) skip the check.
NO_PKG_GOALS = clean uninstall demo fuzz-clean
ifneq ($(filter-out $(NO_PKG_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell command -v $(PKG_CONFIG) 2>/dev/null),)
$(error cannot run $(PKG_CONFIG) (run scripts/install-deps))
endif
PKG_MISSING := $(shell for p in $(PKGS); do \
	$(PKG_CONFIG) --exists $$p 2>/dev/null || printf '%s ' $$p; done)
ifneq ($(strip $(PKG_MISSING)),)
$(error pkg-config cannot find: $(strip $(PKG_MISSING)) \
	(run scripts/install-deps))
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
endif
# -MMD -MP: each object gets a .d file naming every header it includes, so
# editing any header (lib/, tests/unit/stubsrv.h, tests/fuzz/fuzz.h)
# rebuilds exactly the objects that use it. An object without its .d (built
# before, or the .d deleted) is rebuilt once through the empty .d rule.
DEPFLAGS = -MMD -MP
ALL_CPPFLAGS = -Ilib -D_POSIX_C_SOURCE=200809L \
	-DCOINPIPE_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDLIBS = $(PKG_LIBS) -lm $(LDLIBS)

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA = $(BUILD)/libcoinpipe.a
# The tools' shared front (options, messages): it prints, so it is not in
# lib/; its own archive, linked into each tool before libcoinpipe.a.
TOOL_SRC = $(sort $(wildcard cmd/common/*.c))
TOOL_OBJ = $(TOOL_SRC:%.c=$(BUILD)/%.o)
TOOLA = $(BUILD)/libcoinpipe-tool.a

TOOLS = $(sort $(notdir $(basename $(wildcard cmd/*.c))))
BINS = $(TOOLS:%=$(BUILD)/%)
MAN1 = $(sort $(wildcard man/*.1))
MAN7 = $(sort $(wildcard man/*.7))

UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC = $(sort $(wildcard tests/helpers/*.c))
HELPER_BINS = $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
# The SigV4 runner lives at tests/sigv4-cases in the default build (the name
# the issue and tests/README.md give it), inside the build tree otherwise.
SIGV4_CASES = $(if $(filter build,$(BUILD)),tests/sigv4-cases,$(BUILD)/tests/sigv4-cases)

.PHONY: all tests-build check test unit e2e asan valgrind chaos lint \
	lint-layers install uninstall clean bench demo

all: $(BINS)

$(BUILD)/%.o: %.c $(BUILD)/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(TOOLA): $(TOOL_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(TOOL_OBJ)

$(BUILD)/%: $(BUILD)/cmd/%.o $(TOOLA) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(TOOLA) $(LIBA) $(ALL_LDLIBS)

$(BUILD)/tests/test_tool: $(BUILD)/tests/unit/test_tool.o $(TOOLA) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(TOOLA) $(LIBA) $(ALL_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(ALL_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/helpers/%.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(ALL_LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c $(BUILD)/tests/unit/%.d
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(DEPFLAGS) -Itests/unit $(ALL_CFLAGS) -c -o $@ $<

$(SIGV4_CASES): $(BUILD)/tests/sigv4-cases.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(ALL_LDLIBS)

tests-build: $(BINS) $(UNIT_BINS) $(HELPER_BINS) $(SIGV4_CASES)

# The README's test command is `make check`; tests/run prints one summary
# line "total: N passed, N failed" and exits non-zero if anything failed.
check test: tests-build
	tests/run --build $(BUILD) --sigv4 $(SIGV4_CASES)

unit: tests-build
	tests/run --build $(BUILD) --sigv4 $(SIGV4_CASES) --only unit

e2e: tests-build
	tests/run --build $(BUILD) --sigv4 $(SIGV4_CASES) --only e2e

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
asan:
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" check

# The end-to-end tests with every tool under valgrind memcheck
# (tests/valgrind/wrap): any error or definitely lost block fails the test.
valgrind: tests-build
	tests/run --build $(BUILD) --sigv4 $(SIGV4_CASES) --only e2e --valgrind

# 200,000 records through both pipelines behind fault proxies, with SIGKILL
# restarts (tests/chaos/run --help); CHAOS_ARGS passes options through.
chaos: all
	tests/chaos/run --build $(BUILD) $(CHAOS_ARGS)

# clang-tidy turns every finding into an error (.clang-tidy:
# WarningsAsErrors) and exits non-zero; its findings are also looked for in
# its output, so a check left out of WarningsAsErrors still fails the target.
# cppcheck does not read system headers: tests/lint/jansson.cfg tells it
# jansson's loop macros.
LINT_TIDY_OUT = $(BUILD)/lint-clang-tidy.out
# The layer check (lint-layers, below) is on unless LINT_LAYERS=0.
LINT_LAYERS ?= 1
lint: $(if $(filter 1,$(LINT_LAYERS)),lint-layers)
	@for f in $(MAN1) $(MAN7); do mandoc -Tlint -Wwarning $$f || exit 1; done
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--library=tests/lint/jansson.cfg \
		--inline-suppr --std=c11 -Ilib -Itests/unit \
		$(LIB_SRC) $(wildcard cmd/*.c tests/*.c) $(TOOL_SRC) $(UNIT_SRC)
	@mkdir -p $(BUILD)
	@echo clang-tidy --quiet $(LIB_SRC) $(wildcard cmd/*.c) $(TOOL_SRC)
	@clang-tidy --quiet $(LIB_SRC) $(wildcard cmd/*.c) $(TOOL_SRC) -- \
		$(ALL_CPPFLAGS) -std=c11 $(PKG_CFLAGS) >$(LINT_TIDY_OUT) 2>&1; \
	rc=$$?; \
	grep -v -E '^[0-9]+ (warning|error)s? (and [0-9]+ (warning|error)s? )?generated\.$$' \
		$(LINT_TIDY_OUT); \
	if [ $$rc -ne 0 ] || grep -q -E ': (warning|error): ' $(LINT_TIDY_OUT); \
	then echo "make lint: clang-tidy reported findings (exit $$rc)" >&2; \
		exit 1; fi

# The layers of lib/ run one way (tests/lint/layers, its own test first):
# no circle among the modules, no module but lib/cli uses lib/cli, none
# prints or exits. Derived from the objects' symbols, so it builds them.
# LINT_LAYERS=0 (set above) leaves it out of `make lint`.
lint-layers: $(LIB_OBJ)
	@tests/lint/layers.t >$(BUILD)/lint-layers-test.out 2>&1 || \
	    { cat $(BUILD)/lint-layers-test.out; exit 1; }
	tests/lint/layers $(LIB_OBJ)

# Shell completion: bash-completion loads completions/<command> on demand,
# so the one bash file (it completes all the tools) goes in once per tool;
# zsh has one _<tool> file each.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	$(if $(BINS),install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/)
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/)
	for t in $(TOOLS); do \
		install -m 644 completions/coinpipe.bash \
		    $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; \
	done
	install -m 644 $(TOOLS:%=completions/zsh/_%) $(DESTDIR)$(ZSHCOMPDIR)/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(MAN7:man/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -f $(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	rm -f $(TOOLS:%=$(DESTDIR)$(ZSHCOMPDIR)/_%)

clean:
	rm -rf build build-asan tests/sigv4-cases

bench: all
	scripts/bench

# Not `demo: all`: on a fresh machine the build needs the packages that
# scripts/demo installs first (scripts/install-deps); it builds afterwards.
demo:
	scripts/demo

# Objects that only a pattern rule names (build/cmd/*.o) stay after the link.
.PRECIOUS: $(BUILD)/%.o $(BUILD)/tests/unit/%.o

# The header dependencies -MMD wrote (none before the first build). Each .d
# is named here so it is no intermediate file: a missing one rebuilds its
# object.
DEP_FILES = $(patsubst %.c,$(BUILD)/%.d,$(LIB_SRC) $(wildcard cmd/*.c) $(TOOL_SRC) \
	$(UNIT_SRC) $(HELPER_SRC) tests/sigv4-cases.c)
$(DEP_FILES): ;
-include $(wildcard $(DEP_FILES))

# Fuzzing (libFuzzer with clang; each harness also builds as a plain
# replay program that CI runs over the committed corpus).
-include tests/fuzz/fuzz.mk
