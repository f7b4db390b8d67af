# tests/fuzz/fuzz.mk: fuzz harnesses, included by the Makefile.
#
# Every tests/fuzz/fuzz_<name>.c builds two ways:
#  - $(BUILD)/tests/test_fuzz_<name>: the harness linked with replay.c and
#    $(LIBA) by the normal compiler; tests/run finds it with the unit tests
#    and it replays tests/fuzz/corpus/<name>/ and tests/fuzz/regress/<name>/;
#  - $(FUZZ_BUILD)/fuzz_<name>: a libFuzzer target, clang with ASan and
#    UBSan, the library compiled the same way; `make fuzz` runs each for
#    FUZZ_SECONDS and reports executions, coverage and crashes.

FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_COMMON_SRC = tests/fuzz/fuzzutil.c
FUZZ_REPLAY_BINS = $(FUZZ_NAMES:%=$(BUILD)/tests/test_fuzz_%)
FUZZ_REPLAY_OBJ = $(FUZZ_SRC:%.c=$(BUILD)/%.o) \
	$(FUZZ_COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/fuzz/replay.o

# An extra prerequisite of the Makefile's tests-build, so `make check`
# (and `make asan`) build the replays and tests/run runs them.
tests-build: $(FUZZ_REPLAY_BINS)

# A static pattern rule: it wins over the Makefile's $(BUILD)/tests/%.
$(FUZZ_REPLAY_BINS): $(BUILD)/tests/test_fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o \
    $(FUZZ_COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/fuzz/replay.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(FUZZ_COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/fuzz/replay.o \
		$(LIBA) $(ALL_LDLIBS)

# ---- make fuzz ----

FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_MERGE ?= 1
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = $(ALL_CFLAGS) $(FUZZ_SAN)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_COMMON_OBJ = $(FUZZ_COMMON_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS = $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build

# Library and harness objects get the fuzzer's coverage instrumentation
# (fuzzer-no-link); only the final link brings in libFuzzer's main.
$(FUZZ_BUILD)/%.o: %.c $(FUZZ_BUILD)/%.d
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(DEPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libcoinpipe.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o \
    $(FUZZ_COMMON_OBJ) $(FUZZ_BUILD)/libcoinpipe.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_COMMON_OBJ) $(FUZZ_BUILD)/libcoinpipe.a $(ALL_LDLIBS)

fuzz-build: $(FUZZ_BINS)

# FUZZ_MERGE=0 leaves the committed corpora alone; otherwise new inputs
# that add coverage join them while they stay small (tests/fuzz/run-fuzz).
fuzz: fuzz-build
	FUZZ_MERGE=$(FUZZ_MERGE) tests/fuzz/run-fuzz $(FUZZ_BUILD) \
		$(FUZZ_SECONDS) $(FUZZ_NAMES)

.PHONY: fuzz-clean
clean: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# Header dependencies of the fuzz build (-MMD, see the Makefile).
FUZZ_DEP_FILES = $(FUZZ_REPLAY_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d) \
	$(FUZZ_COMMON_OBJ:.o=.d) $(FUZZ_SRC:%.c=$(FUZZ_BUILD)/%.d)
$(FUZZ_DEP_FILES): ;
-include $(wildcard $(FUZZ_DEP_FILES))
