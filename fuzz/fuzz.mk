# fuzz.mk — libFuzzer targets for every parser facenet owns or drives
# (included from the Makefile; see fuzz/README.md).  The library is rebuilt
# with clang and coverage + ASan/UBSan into build/fuzz/, one binary per parser.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(sort $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# -Werror off: clang warns about things gcc (the project's compiler) does not.
FUZZ_CFLAGS  := $(CSTD) $(filter-out -Werror,$(WARN)) -Wno-unknown-pragmas -Wno-pass-failed -O1 -g -fopenmp $(FUZZ_SAN) $(INCS) -MMD -MP
# the FAISS shim: no UBSan vptr checks (their handlers live in the C++ UBSan
# runtime, which clang does not link into these C programs)
FUZZ_CXX     ?= clang++
FUZZ_OBJS    := $(patsubst %.cpp,$(FUZZ_DIR)/obj/%.o,$(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(SRC)))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
# Is Debian's clang with libFuzzer here?  (empty when not; asked only when a
# goal needs it, so a plain `make` does not run clang)
ifneq ($(filter check check-run fuzz%,$(MAKECMDGOALS)),)
FUZZ_HAVE    := $(if $(wildcard $(shell $(FUZZ_CC) -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)),yes)
endif

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) -std=c++17 $(filter-out -std=c11,$(FUZZ_CFLAGS)) -fno-sanitize=vptr,function -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libfacenet.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_DIR)/libfacenet.a
	$(FUZZ_CC) -fopenmp $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS) $(SAN_LIBS)

# facenet serve's body parser is a front end's file, outside libfacenet.
$(FUZZ_DIR)/fuzz_multipart: $(FUZZ_DIR)/obj/src/serve/multipart.o

-include $(FUZZ_OBJS:.o=.d) $(patsubst %,$(FUZZ_DIR)/obj/fuzz/%.d,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-regress
ifeq ($(FUZZ_HAVE),yes)
fuzz-build: $(FUZZ_BINS)
fuzz-seeds:
	bash scripts/fuzz-seeds.sh $(FUZZ_DIR)/seeds
# Fuzz each target in turn for FUZZ_SECONDS (one process at a time, niced).
fuzz: fuzz-build fuzz-seeds
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz-run.sh $(FUZZ_DIR) $(FUZZ_TARGETS)
else
fuzz-build fuzz-seeds fuzz:
	@echo "fuzz: SKIPPED — $(FUZZ_CC) with libFuzzer is missing (make deps-fuzz)"; exit 77
endif
# Every target once over its seeds and fuzz/regress/<target>/ (no fuzzing);
# exits 77 ("skipped") when clang/libFuzzer is missing.
fuzz-regress: $(if $(FUZZ_HAVE),fuzz-build fuzz-seeds)
	bash scripts/fuzz-regress.sh $(FUZZ_DIR) $(FUZZ_TARGETS)
# make check builds the fuzz targets too; tests/test_fuzz_regress runs them.
check-run: $(if $(FUZZ_HAVE),fuzz-build fuzz-seeds)
