# facenet — build, test, benchmark, demo, install.  `make help` lists the targets.
CC      ?= gcc
SHARED  ?= $(abspath $(CURDIR)/../shared)
MODELS  ?= $(CURDIR)/models
BUILD   := build
.DEFAULT_GOAL := all

# libfacenet's version; the soname carries the major number (0.x: any minor
# release may change the ABI, so bump SOVERSION with it until 1.0).
VERSION   := $(shell sed -n 's/^\#define FN_VERSION "\(.*\)"/\1/p' include/facenet/core.h)
SOVERSION := 1

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
DEPS    := -MMD -MP
# The library, tests and benches see the whole tree.
INCS    := -Iinclude -Isrc -Itests -I/usr/include/postgresql
# The public-API rule: the CLI is a client of include/ like any other program
# and sees only the public headers and its own (`make check-public-api`).
CLI_INCS := -Iinclude -Isrc/cli
# The HTTP server (facenet serve) is a front end too: src/serve sees the
# public headers and its own, and opens libmicrohttpd when it starts
# (src/serve/mhd.c: linked, it cost every command 10 libraries at start);
# cmd_serve.c alone also sees src/serve (for serve.h).
SERVE_INCS := -Iinclude -Isrc/serve
SERVE_LIBS :=
# What libfacenet links with.  FFmpeg is not linked: src/video/avlib.c
# loads it (dlopen by soname) on the first video call, and the CLI loads
# SDL2 when it opens a window (src/cli/display.c): linking them cost every
# command ~200 shared libraries and ~100 ms before main (docs/performance.md,
# "Start-up").  Their headers are still used, for the types.  oneDNN and
# libpq are opened the same way on first use (src/nn/mathlib.c,
# src/gallery/pqlib.c): `detect` uses neither, and linking oneDNN cost every
# command ~12 ms of CPU at start; libpq pulls ~30 libraries (TLS, Kerberos).
# FAISS (the gallery's ANN index, src/gallery/faiss_shim.cpp): Debian ships
# only a static libfaiss.a, built position independent, so it goes into
# libfacenet.so itself (hidden behind the version script like everything
# else), with the C++ runtime; its BLAS and LAPACK calls are forwarded to
# the OpenBLAS that mathlib.c opens (src/gallery/faiss_blas.c).
LIB_LIBS := -l:libfaiss.a -lstdc++ -ljpeg -lpng -lz -lsqlite3 -lcjson -lutf8proc -ldl -lpthread -lm
LIBS     := $(LIB_LIBS)

# opt objects go into libfacenet.a and libfacenet.so alike: position
# independent, and hidden unless a public header declares them (the
# `#pragma GCC visibility` in include/), so only the API is exported.
OPTFLAGS  := -O2 -g -fopenmp -fPIC -fvisibility=hidden -fno-semantic-interposition
ASANFLAGS := -O1 -g -fopenmp -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TSANFLAGS := -O1 -g -fopenmp -fsanitize=thread

SRC       := $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/serve/*' | sort) $(shell find src -name '*.cpp' | sort)
CXX      ?= g++
CXXSTD   := -std=c++17
CLI_SRC   := $(shell find src/cli src/serve -name '*.c' | sort)
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_SH   := $(wildcard tests/test_*.sh)
TEST_UTIL := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
BENCH_SRC := $(wildcard bench/bench_*.c)
EXAMPLES  := $(wildcard examples/*.c)

# $(1)=variant (opt|asan|tsan), $(2)=flags
define variant
$(BUILD)/$(1)/obj/%.o: %.c Makefile
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(WARN) $(2) $(DEPS) $(INCS) -c $$< -o $$@

$(BUILD)/$(1)/obj/%.o: %.cpp Makefile
	@mkdir -p $$(dir $$@)
	$(CXX) $(CXXSTD) $(WARN) $(2) $(DEPS) $(INCS) -c $$< -o $$@

$(BUILD)/$(1)/obj/src/cli/%.o: src/cli/%.c Makefile
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(WARN) $(2) $(DEPS) $(CLI_INCS) -c $$< -o $$@

$(BUILD)/$(1)/obj/src/cli/cmd_serve.o: src/cli/cmd_serve.c Makefile
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(WARN) $(2) $(DEPS) $(CLI_INCS) -Isrc/serve -c $$< -o $$@

$(BUILD)/$(1)/obj/src/serve/%.o: src/serve/%.c Makefile
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(WARN) $(2) $(DEPS) $(SERVE_INCS) -c $$< -o $$@

# The web page is embedded with .incbin: the object follows its files.
$(BUILD)/$(1)/obj/src/serve/assets.o: $(wildcard src/serve/web/*)

$(BUILD)/$(1)/obj/examples/%.o: examples/%.c Makefile
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(WARN) $(2) $(DEPS) -Iinclude -c $$< -o $$@

$(BUILD)/$(1)/libfacenet.a: $(patsubst %.cpp,$(BUILD)/$(1)/obj/%.o,$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(SRC)))
	@rm -f $$@
	ar rcs $$@ $$^

$(BUILD)/$(1)/facenet: $(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(CLI_SRC)) $(BUILD)/$(1)/libfacenet.a
	$(CC) $(2) -o $$@ $$^ $(LIBS) $(SERVE_LIBS) $(3)

$(BUILD)/$(1)/tests/%: $(BUILD)/$(1)/obj/tests/%.o $(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(TEST_UTIL)) $(BUILD)/$(1)/libfacenet.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$(filter %.o,$$^) $$(filter %.a,$$^) $(LIBS) $(3)

# Unit tests of the CLI's own modules link them beside the library.
$(BUILD)/$(1)/tests/test_cli_options $(BUILD)/$(1)/tests/test_cli_outputs: \
    $(BUILD)/$(1)/obj/src/cli/options.o $(BUILD)/$(1)/obj/src/cli/outputs.o

# A shell test runs as a binary of the variant, so tests/run.sh reports it
# like the others; it gets the variant's directory as its argument.
$(BUILD)/$(1)/tests/%: tests/%.sh
	@mkdir -p $$(dir $$@)
	printf '#!/bin/sh\nexec bash %s %s "$$$$@"\n' $$< $(BUILD)/$(1) > $$@
	chmod +x $$@

$(BUILD)/$(1)/examples/%: $(BUILD)/$(1)/obj/examples/%.o $(BUILD)/$(1)/libfacenet.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ $(LIBS) $(3)

$(BUILD)/$(1)/bench/%: $(BUILD)/$(1)/obj/bench/%.o $(BUILD)/$(1)/libfacenet.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ $(LIBS) $(3) -lopenblas
endef

# The sanitizer builds link oneDNN and OpenBLAS at start (mathlib.c's dlopen
# then finds them loaded): with libdnnl opened by dlopen, LeakSanitizer's
# tracer crashed at exit (SIGSEGV in the tracer, GCC 12's libsanitizer) after
# every check had passed.  The opt build, what users run, opens them lazily.
SAN_LIBS := -Wl,--no-as-needed -ldnnl -lopenblas -lpq -lmicrohttpd -Wl,--as-needed
$(eval $(call variant,opt,$(OPTFLAGS),))
$(eval $(call variant,asan,$(ASANFLAGS),$(SAN_LIBS)))
$(eval $(call variant,tsan,$(TSANFLAGS),$(SAN_LIBS)))

# Header dependencies as the compiler saw them (-MMD -MP).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

TEST_NAMES := $(patsubst tests/%.c,%,$(TEST_SRC)) $(patsubst tests/%.sh,%,$(TEST_SH))
TESTS_OPT  := $(TEST_NAMES:%=$(BUILD)/opt/tests/%)
TESTS_ASAN := $(TEST_NAMES:%=$(BUILD)/asan/tests/%)
BENCHES    := $(patsubst bench/%.c,$(BUILD)/opt/bench/%,$(BENCH_SRC))
EXAMPLES_OPT  := $(patsubst examples/%.c,$(BUILD)/opt/examples/%,$(EXAMPLES))
EXAMPLES_ASAN := $(patsubst examples/%.c,$(BUILD)/asan/examples/%,$(EXAMPLES))

# ------------------------------------------------------------ shared library
# Only the public API leaves the library: objects are compiled hidden, the
# public headers mark what they declare default-visible, and the version
# script (generated from the headers) exports exactly those names, so even a
# symbol the compiler makes visible on its own (a target_clones resolver)
# stays inside.  `make check-exports` proves it on the built file.
SONAME := libfacenet.so.$(SOVERSION)
SO     := $(BUILD)/opt/libfacenet.so
LIB_OBJS_OPT := $(patsubst %.cpp,$(BUILD)/opt/obj/%.o,$(patsubst %.c,$(BUILD)/opt/obj/%.o,$(SRC)))
PUBLIC_HDRS  := $(shell find include -name '*.h' | sort)

# Regenerated on every run (a removed or renamed header changes no date);
# the file is replaced only when the list changes, so the library relinks then.
$(BUILD)/opt/facenet.map: scripts/public-symbols.sh FORCE
	@mkdir -p $(dir $@)
	@bash scripts/public-symbols.sh --map include > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo "exports: $@ ($$(grep -c 'fn_' $@) functions)"; fi

$(SO).$(VERSION): $(LIB_OBJS_OPT) $(BUILD)/opt/facenet.map
	$(CC) -shared -fopenmp -o $@ $(LIB_OBJS_OPT) -Wl,-soname,$(SONAME) \
	  -Wl,--version-script=$(BUILD)/opt/facenet.map -Wl,-z,defs -Wl,--as-needed $(LIB_LIBS)

$(SO): $(SO).$(VERSION)
	ln -sf libfacenet.so.$(VERSION) $(BUILD)/opt/$(SONAME)
	ln -sf $(SONAME) $@

# ------------------------------------------------------------------ install
PREFIX       ?= /usr/local
DESTDIR      ?=
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# What a static link (`pkg-config --static`) needs besides libfacenet.a.
LIBS_PRIVATE := $(LIB_LIBS) -lgomp

$(BUILD)/opt/facenet.pc: facenet.pc.in Makefile FORCE
	@sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR:$(PREFIX)/%=$${prefix}/%)|; s|@INCLUDEDIR@|$(INCLUDEDIR:$(PREFIX)/%=$${prefix}/%)|' \
	     -e 's|@VERSION@|$(VERSION)|; s|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

install: all $(SO) $(BUILD)/opt/libfacenet.a $(BUILD)/opt/facenet.pc
	@case "$(PREFIX)" in /*) ;; *) echo "PREFIX must be an absolute path (facenet.pc records it): $(PREFIX)"; exit 2;; esac
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(BUILD)/opt/facenet $(DESTDIR)$(BINDIR)/facenet
	install -m 755 $(SO).$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libfacenet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libfacenet.so
	install -m 644 $(BUILD)/opt/libfacenet.a $(DESTDIR)$(LIBDIR)/
	for h in $(PUBLIC_HDRS:include/%=%); do install -D -m 644 include/$$h $(DESTDIR)$(INCLUDEDIR)/$$h || exit 1; done
	install -m 644 $(BUILD)/opt/facenet.pc $(DESTDIR)$(PKGCONFIGDIR)/facenet.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/facenet $(DESTDIR)$(PKGCONFIGDIR)/facenet.pc
	rm -f $(DESTDIR)$(LIBDIR)/libfacenet.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libfacenet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libfacenet.a
	rm -f $(PUBLIC_HDRS:include/%=$(DESTDIR)$(INCLUDEDIR)/%)
	-rmdir $(DESTDIR)$(INCLUDEDIR)/facenet 2>/dev/null

# ------------------------------------------------------------------- checks
.PHONY: all deps check check-run bench-run check-opt check-asan check-exports check-public-api print-cli-incs test tsan \
        python python-venv check-python \
        examples install uninstall compile_commands.json bench models demo clean help FORCE
.SECONDARY:
FORCE:

all: $(BUILD)/opt/facenet $(SO) $(EXAMPLES_OPT)
	@ln -sf $(BUILD)/opt/facenet facenet

help:
	@echo "make              build libfacenet (.a and .so), the examples and the facenet CLI (./facenet)"
	@echo "make check        every test, optimised and under ASan/UBSan, plus the export and public-API checks and the Python tests"
	@echo "make python       the Python package in build/venv (Debian's numpy, Pillow, Jupyter; import facenet)"
	@echo "make check-python the Python package's tests alone"
	@echo "make test T=NAME  one test (tests/NAME.c or .sh) in both builds"
	@echo "make tsan         the threaded tests under ThreadSanitizer"
	@echo "make install      PREFIX=/usr/local [DESTDIR=...]: library, headers, CLI, facenet.pc; make uninstall"
	@echo "make compile_commands.json   for clangd and other tools"
	@echo "make bench        run the benchmarks (PyTorch peer in the same run)"
	@echo "make models       fetch the default model bundle into ./models"
	@echo "make demo         install what is missing, build, fetch models, run the demo"
	@echo "make deps         install what the build needs (deps-demo, deps-check, deps-bench, deps-fuzz, deps-python: those targets')"

# deps: what `make` needs; deps-TARGET: what TARGET needs (scripts/install-deps.sh).
deps:
	bash scripts/install-deps.sh build
deps-%:
	MODELS=$(MODELS) bash scripts/install-deps.sh $*

examples: $(EXAMPLES_OPT)

# The tests run first, so a broken rule below still leaves their summary.
# The packages first, then everything else: under -j a prerequisite list
# gives no order, and the build must not start before its libraries are there.
check: deps-check
	@$(MAKE) --no-print-directory check-run
check-run: all $(TESTS_OPT) $(TESTS_ASAN) $(BUILD)/asan/facenet $(EXAMPLES_ASAN)
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/opt $(BUILD)/asan; rc=$$?; \
	  $(MAKE) --no-print-directory check-exports check-public-api || rc=1; \
	  $(MAKE) --no-print-directory check-python || rc=1; exit $$rc

# ------------------------------------------------------------------- python
# The Python package (python/facenet, ctypes over libfacenet.so: nothing to
# compile).  Debian's python3 is "externally managed" (PEP 668: pip may not
# install into it), so `make python` makes a virtual environment that sees
# Debian's packages (--system-site-packages: numpy, Pillow, matplotlib,
# Jupyter from apt) and holds one .pth file naming python/: an editable
# install without pip or a network.  build/venv/bin/python3 -c "import facenet".
# Without the venv: PYTHONPATH=python python3 (the package finds
# build/opt/libfacenet.so from the checkout either way; FACENET_LIB overrides).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV   ?= $(BUILD)/venv
python: deps-python
	@$(MAKE) --no-print-directory python-venv
python-venv: $(SO)
	$(PYTHON) -m venv --system-site-packages --without-pip $(VENV)
	$(VENV)/bin/python3 -c 'import site, sys; open(site.getsitepackages()[0] + "/facenet-checkout.pth", "w").write(sys.argv[1] + "\n")' $(CURDIR)/python
	$(VENV)/bin/python3 -c 'import facenet; print("facenet", facenet.__version__, "over", facenet.LIB_PATH)'
	@echo "use: $(VENV)/bin/python3, or . $(VENV)/bin/activate"

# The package's tests (pytest; skipped with a message without numpy/pytest).
check-python: $(SO) $(BUILD)/opt/facenet
	SHARED=$(SHARED) MODELS=$(MODELS) bash scripts/check-python.sh $(PYTHON)

check-opt: all $(TESTS_OPT)
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/opt

check-asan: $(TESTS_ASAN) $(BUILD)/asan/facenet $(EXAMPLES_ASAN)
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/asan

# libfacenet.so exports exactly the functions declared in include/.
check-exports: $(SO)
	bash scripts/check-exports.sh $(SO) include

# src/cli includes only public headers and its own (see CLI_INCS).
check-public-api:
	bash scripts/check-public-api.sh src/cli include src/serve
	bash scripts/check-public-api.sh src/serve include

print-cli-incs:
	@echo $(CLI_INCS)

# One test in both builds: make test T=test_gallery
test:
	@test -n "$(T)" || { echo "usage: make test T=test_name (one of: $(TEST_NAMES))"; exit 2; }
	@$(MAKE) --no-print-directory $(BUILD)/opt/tests/$(T) $(BUILD)/asan/tests/$(T) \
	  $(BUILD)/opt/facenet $(BUILD)/asan/facenet $(SO) $(EXAMPLES_OPT) $(EXAMPLES_ASAN)
	@mkdir -p $(BUILD)/one/opt/tests $(BUILD)/one/asan/tests
	@for v in opt asan; do rm -f $(BUILD)/one/$$v/tests/*; \
	  ln -sf ../../../$$v/tests/$(T) $(BUILD)/one/$$v/tests/$(T); \
	  ln -sf ../../$$v/facenet $(BUILD)/one/$$v/facenet; done
	SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/one/opt $(BUILD)/one/asan

# ThreadSanitizer on the tests that run threads of their own: gallery search
# from several threads, Haar and InceptionResnetV1 engines shared by test
# threads, the video source's reader thread (through the CLI), MTCNN batches.
# libgomp synchronises its workers with futexes ThreadSanitizer cannot see, so
# every OpenMP region on 2+ threads reports races that are not there (seen in
# mtcnn.c's P-Net bands and haar.c's scan), and a suppression cannot tell
# them from real ones: the worker's stack is often "failed to restore".  So
# OMP_THREAD_LIMIT=1 caps every OpenMP region at the calling thread (and
# OPENBLAS_NUM_THREADS=1 keeps OpenBLAS's own pthread pool, as invisible to
# TSan, from writing a GEMM's output while our thread reads it) (the tests
# ask for 2 threads themselves, which OMP_NUM_THREADS=1 does not stop): TSan
# checks our own pthreads exactly, and the OpenMP loops are checked by the
# optimised and ASan tests, which compare 2-thread results with 1-thread and
# reference ones.  FFmpeg's decoder threads are uninstrumented too: see
# tests/tsan.supp.  Not part of `make check`.  .ci/run runs the default set:
# gallery search from 4 threads on one handle (our own pthreads and rwlock;
# seconds).  `make tsan TSAN_TESTS="$(TSAN_ALL)"` adds the engines shared by
# test threads and the video source's reader thread through the CLI (tens of
# minutes under TSan on this 2-core machine: Haar alone ~40).
TSAN_ALL   := test_gallery_search test_serve test_haar test_irv1 test_video test_mtcnn test_batch
TSAN_TESTS ?= test_gallery_search test_serve
tsan: $(TSAN_TESTS:%=$(BUILD)/tsan/tests/%) $(BUILD)/tsan/facenet
	OMP_THREAD_LIMIT=1 OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/tsan.supp $(TSAN_OPTIONS)" \
	  SHARED=$(SHARED) MODELS=$(MODELS) bash tests/run.sh $(BUILD)/tsan

# The compile command of every source, from the same variables the rules use.
compile_commands.json:
	@{ echo '['; sep=''; \
	  for f in $(SRC) $(TEST_SRC) $(TEST_UTIL) $(BENCH_SRC); do \
	    printf '%s{"directory":"%s","file":"%s","command":"%s %s %s %s %s -c %s -o %s"}\n' "$$sep" "$(CURDIR)" "$$f" \
	      "$(CC)" "$(CSTD)" "$(WARN)" "$(OPTFLAGS)" "$(INCS)" "$$f" "$(BUILD)/opt/obj/$${f%.c}.o"; sep=','; done; \
	  for f in $(CLI_SRC); do \
	    printf '%s{"directory":"%s","file":"%s","command":"%s %s %s %s %s -c %s -o %s"}\n' "$$sep" "$(CURDIR)" "$$f" \
	      "$(CC)" "$(CSTD)" "$(WARN)" "$(OPTFLAGS)" "$(CLI_INCS)" "$$f" "$(BUILD)/opt/obj/$${f%.c}.o"; sep=','; done; \
	  for f in $(EXAMPLES); do \
	    printf '%s{"directory":"%s","file":"%s","command":"%s %s %s %s -Iinclude -c %s -o %s"}\n' "$$sep" "$(CURDIR)" "$$f" \
	      "$(CC)" "$(CSTD)" "$(WARN)" "$(OPTFLAGS)" "$$f" "$(BUILD)/opt/obj/$${f%.c}.o"; sep=','; done; \
	  echo ']'; } > $@
	@echo "compile_commands.json: $$(grep -c '"file"' $@) files"

bench: deps-bench
	@$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCHES)
	SHARED=$(SHARED) MODELS=$(MODELS) bash bench/run.sh $(BUILD)/opt

models:
	bash scripts/fetch-models.sh $(MODELS)

demo: deps-demo
	$(MAKE) all models
	bash scripts/demo.sh

clean:
	rm -rf $(BUILD) facenet compile_commands.json

-include fuzz/fuzz.mk
