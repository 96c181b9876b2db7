# facenet — build, test, benchmark, demo.  `make help` lists the targets.
CC      ?= gcc
SHARED  ?= $(abspath $(CURDIR)/../shared)
MODELS  ?= $(CURDIR)/models
BUILD   := build

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
INCS    := -Iinclude -Isrc
LIBS    := -ldnnl -lopenblas -ljpeg -lpng -lz -lsqlite3 -lcjson \
           -lavformat -lavcodec -lswscale -lavutil -lavdevice -lSDL2 -lpthread -lm

OPTFLAGS  := -O2 -g -fopenmp
ASANFLAGS := -O1 -g -fopenmp -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC       := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRC   := $(shell find src/cli -name '*.c' | sort)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_UTIL := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
BENCH_SRC := $(wildcard bench/bench_*.c)
HDRS      := $(shell find include src tests bench -name '*.h')

# $(1)=variant (opt|asan), $(2)=flags
define variant
$(BUILD)/$(1)/obj/%.o: %.c $(HDRS) Makefile
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(WARN) $(2) $(INCS) -Itests -c $$< -o $$@

$(BUILD)/$(1)/libfacenet.a: $(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(SRC))
	@rm -f $$@
	ar rcs $$@ $$^

$(BUILD)/$(1)/facenet: $(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(CLI_SRC)) $(BUILD)/$(1)/libfacenet.a
	$(CC) $(2) -o $$@ $$^ $(LIBS)

$(BUILD)/$(1)/tests/%: $(BUILD)/$(1)/obj/tests/%.o $(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(TEST_UTIL)) $(BUILD)/$(1)/libfacenet.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ $(LIBS)

$(BUILD)/$(1)/bench/%: $(BUILD)/$(1)/obj/bench/%.o $(BUILD)/$(1)/libfacenet.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ $(LIBS)
endef

$(eval $(call variant,opt,$(OPTFLAGS)))
$(eval $(call variant,asan,$(ASANFLAGS)))

TESTS_OPT  := $(patsubst tests/%.c,$(BUILD)/opt/tests/%,$(TEST_SRC))
TESTS_ASAN := $(patsubst tests/%.c,$(BUILD)/asan/tests/%,$(TEST_SRC))
BENCHES    := $(patsubst bench/%.c,$(BUILD)/opt/bench/%,$(BENCH_SRC))

.PHONY: all deps check check-opt check-asan bench models demo clean help
.SECONDARY:

all: $(BUILD)/opt/facenet
	@ln -sf $(BUILD)/opt/facenet facenet

help:
	@echo "make          build libfacenet and the facenet CLI (./facenet)"
	@echo "make check    run the tests, optimised and under ASan/UBSan (SHARED=dir: reference data)"
	@echo "make bench    run the benchmarks (PyTorch peer in the same run)"
	@echo "make models   fetch the default model bundle into ./models"
	@echo "make demo     install what is missing, build, fetch models, run the demo"
	@echo "make deps     install what the build needs (deps-demo, deps-check, deps-bench: those targets')"

# deps: what `make` needs; deps-TARGET: what TARGET needs (scripts/install-deps.sh).
deps:
	bash scripts/install-deps.sh build
deps-%:
	MODELS=$(MODELS) bash scripts/install-deps.sh $*

check: deps-check all $(TESTS_OPT) $(TESTS_ASAN) $(BUILD)/asan/facenet
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/opt $(BUILD)/asan

check-opt: all $(TESTS_OPT)
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/opt

check-asan: $(TESTS_ASAN) $(BUILD)/asan/facenet
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/asan

bench: deps-bench all $(BENCHES)
	SHARED=$(SHARED) MODELS=$(MODELS) bash bench/run.sh $(BUILD)/opt

models:
	bash scripts/fetch-models.sh $(MODELS)

demo: deps-demo
	$(MAKE) all models
	bash scripts/demo.sh

clean:
	rm -rf $(BUILD) facenet
