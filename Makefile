# mesogif: top-level build. `make help` lists the targets.
#
#   make deps      install the Debian packages needed (root; skipped when already present)
#   make           build bin/mesogif and build/libmesogif.a (CUDA backend when nvcc exists)
#   make test      deps + build + every Check suite and CLI test (no GPU needed)
#   make demo      deps + build + run the default model + print its summary
#   make bench     CPU (and GPU, when a device answers) benchmarks, appended to bench/RESULTS.md
#   make validate  long statistical validations (see README)
#   make check-asan  every test against an AddressSanitizer + UBSan build (build/asan)
#   make fuzz      libFuzzer harnesses (clang), FUZZ_SECONDS each (docs/HARDENING.md)
#   make install PREFIX=$$HOME/.local   (bin (mesogif, mesogif-plot), lib: .a .so pkg-config,
#                  headers, Python package); make PORTABLE=1 for any x86-64-v3 CPU
#   make python    print the PYTHONPATH line for the Python package of this build tree

PREFIX   ?= /usr/local
CC       ?= gcc
NVCC     ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
# Host code is built for the machine it is built on (cluster users build on the target);
# `make PORTABLE=1` (= MARCH=x86-64-v3: AVX2, Intel Haswell / AMD Excavator and newer) gives a
# binary for older compute nodes too, e.g. built on a login node. Results do not depend on it
# (see src/core/fmath.h: no FMA contraction, own exp), only speed does.
MARCH    ?= native
ifeq ($(PORTABLE),1)
MARCH    := x86-64-v3
endif
# Output folders (make BUILD=build/portable BINDIR=build/portable/bin MARCH=x86-64-v3 ...).
BUILD    ?= build
BINDIR   ?= bin
VERSION  := 0.1.0
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

PKGS     := hdf5 jansson check gsl fftw3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null || echo -I/usr/include/hdf5/serial)
PKG_LIBS   := $(shell pkg-config --libs hdf5 jansson gsl fftw3 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -ljansson -lgsl -lgslcblas -lfftw3)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit)

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS   ?= -O3 -g
# -fPIC: the same objects go into libmesogif.a and libmesogif.so; -fno-semantic-interposition
# keeps the inlining of global functions within a file that plain -fPIC would forbid.
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -march=$(MARCH) -ffp-contract=off -fno-math-errno -fopenmp \
              -fPIC -fno-semantic-interposition \
              $(WARN) $(CFLAGS) -Iinclude -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) \
              -DMG_VERSION=\"$(VERSION)\" -DMG_GIT_COMMIT=\"$(GIT_COMMIT)\"
LDLIBS   := $(PKG_LIBS) -lm -fopenmp

# src/ holds one folder per layer (docs/ARCHITECTURE.md); a file left at the top of src/ still
# builds, but tools/include_graph.py (make test) fails until it has its folder.
SRC      := $(wildcard src/*.c src/*/*.c)
OBJ      := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRC)) $(BUILD)/obj/default_model.o
# The library is every src/ file but the command line (src/cli/): it links alone
# (-Wl,--no-undefined) and reports errors as mg_err values. The verbs go into an internal
# archive that bin/mesogif and the tests calling verbs link in front of the library.
CLI_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out src/cli/main.c,$(wildcard src/cli/*.c)))
LIB_OBJ  := $(filter-out $(BUILD)/obj/cli/main.o $(CLI_OBJ),$(OBJ))
SOMAJOR  := 0
SONAME   := libmesogif.so.$(SOMAJOR)
HDR      := $(wildcard include/mesogif/*.h src/*.h src/*/*.h)

# The host emulation of the CUDA code (tests/cuda_emu/): every .cu of kernels/ compiled by the
# host C++ compiler against an emulated CUDA runtime.
EMU_OBJ    := $(patsubst kernels/%.cu,$(BUILD)/obj/emu_%.o,$(wildcard kernels/*.cu kernels/*/*.cu)) \
              $(BUILD)/obj/emu_fibers.o $(BUILD)/obj/emu_cufft.o
# CUDA backend: compiled whenever nvcc exists. sm_90 machine code plus compute_90 PTX so newer
# cards JIT it. -fmad=false: no FMA contraction, as on the host (-ffp-contract=off), so the
# same source gives the same doubles on both sides.
ifneq ($(strip $(NVCC)),)
CUDA_HOME  ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CU_SRC     := $(wildcard kernels/*.cu kernels/*/*.cu)
CU_OBJ     := $(patsubst kernels/%.cu,$(BUILD)/obj/cu_%.o,$(CU_SRC))
NVCCFLAGS  ?= -O3
ALL_NVCCFLAGS := -std=c++17 -fmad=false -gencode=arch=compute_90,code=sm_90 \
                 -gencode=arch=compute_90,code=compute_90 $(NVCCFLAGS) \
                 -Iinclude -Isrc $(filter -I%,$(PKG_CFLAGS)) -DMG_HAVE_CUDA=1 -Xcompiler -fno-math-errno \
                 -Xcompiler -fPIC
LIB_OBJ    += $(CU_OBJ)
LDLIBS     += -L$(CUDA_HOME)/lib64 -lcudart_static -lculibos -ldl -lrt -lpthread -lstdc++
ALL_CFLAGS += -DMG_HAVE_CUDA=1
# The emulation objects are linked in front of the library, in place of nvcc's, by
# tests/test_cuda_emu.c and by a second build of tests/test_ffs_cuda.c (test_ffs_cuda_emu) whose
# device tests then run on the host.
EMU_LINK   := $(EMU_OBJ)
EMU_TEST_BIN := $(BUILD)/tests/test_ffs_cuda_emu
endif
# CUDA_EMU=1 (with NVCC=): a build whose CUDA backend is that host emulation, in the library
# itself: every binary of the build, bin/mesogif included, then has an emulated device. For the
# sanitizers (make check-asan runs check-emu in such a build), which cannot run the CUDA runtime.
ifeq ($(CUDA_EMU),1)
ifneq ($(strip $(NVCC)),)
$(error CUDA_EMU=1 replaces nvcc's objects: give NVCC= too)
endif
LIB_OBJ    += $(EMU_OBJ)
LDLIBS     += -lstdc++
ALL_CFLAGS += -DMG_HAVE_CUDA=1
endif

TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC)) $(EMU_TEST_BIN)
TEST_SH  := $(wildcard tests/test_*.sh)

.PHONY: all deps test test-unit test-cli check-arch check-asan-emu demo bench validate install python clean help stage-gpu gpu-check \
        check-asan check-emu fuzz fuzz-build fuzz-corpus fuzz-replay deps-fuzz
all: $(BINDIR)/mesogif $(BUILD)/libmesogif.a $(BUILD)/libmesogif.so

help:
	@sed -n '2,13p' Makefile | sed 's/^# \{0,1\}//'

DEBIAN_PKGS := build-essential pkg-config libhdf5-dev hdf5-tools libjansson-dev check \
               librandom123-dev libgsl-dev libfftw3-dev xxd python3-numpy python3-h5py \
               python3-matplotlib slurm-wlm munge valgrind python3-cffi python3-tqdm python3-pytest
deps:
	@if dpkg -s $(DEBIAN_PKGS) >/dev/null 2>&1; then echo "deps: all Debian packages present"; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEBIAN_PKGS); fi

$(BUILD)/gen/default_model.c: data/models/bistable_b1.json
	@mkdir -p $(@D)
	cd data/models && xxd -i bistable_b1.json > ../../$@.tmp
	echo 'const char *mg_default_model_text(void) { return (const char *)bistable_b1_json; }' >> $@.tmp
	echo 'unsigned long mg_default_model_size(void) { return bistable_b1_json_len; }' >> $@.tmp
	mv $@.tmp $@

$(BUILD)/obj/default_model.o: $(BUILD)/gen/default_model.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -fPIC -c $< -o $@

$(BUILD)/obj/%.o: src/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The files that record the commit (--version, result and checkpoint attributes) are rebuilt
# when HEAD moves, so an incremental build never reports, or accepts checkpoints of, an old one.
COMMIT_STAMP := $(BUILD)/gen/commit-$(GIT_COMMIT)
$(COMMIT_STAMP):
	@mkdir -p $(@D)
	@rm -f $(BUILD)/gen/commit-*
	@touch $@
$(BUILD)/obj/cli/main.o $(BUILD)/obj/io/io_h5_put.o $(BUILD)/obj/engine/checkpoint.o \
  $(BUILD)/obj/ffs/ffs_ckpt.o: $(COMMIT_STAMP)
# Objects of a build folder made before they were compiled with -fPIC are rebuilt once (the
# shared library cannot link them).
PIC_STAMP := $(BUILD)/gen/pic
$(PIC_STAMP):
	@mkdir -p $(@D)
	@touch $@
$(OBJ) $(CU_OBJ): $(PIC_STAMP)

$(BUILD)/obj/cu_%.o: kernels/%.cu $(HDR) $(wildcard kernels/*.cuh kernels/*/*.cuh)
	@mkdir -p $(@D)
	$(NVCC) $(ALL_NVCCFLAGS) -c $< -o $@

$(BUILD)/libmesogif.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# libmesogif.so.$(VERSION) with soname libmesogif.so.$(SOMAJOR), and the two links to it.
$(BUILD)/libmesogif.so.$(VERSION): $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $^ $(LDLIBS) -o $@
$(BUILD)/libmesogif.so: $(BUILD)/libmesogif.so.$(VERSION)
	ln -sf libmesogif.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(BUILD)/libmesogif_cli.a: $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/mesogif: $(BUILD)/obj/cli/main.o $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests $< $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a $(CHECK_LIBS) $(LDLIBS) -o $@

# The host emulation of the CUDA backends (tests/test_cuda_emu.c, tests/cuda_emu/): the same
# machine flags and no FMA contraction as the C objects, so its arithmetic is the CPU's.
CXX ?= g++
EMU_CXXFLAGS = -x c++ -std=c++17 -D_GNU_SOURCE -march=$(MARCH) -ffp-contract=off -fno-math-errno \
  -fPIC -Wall -Wextra -Wno-unused-parameter $(CFLAGS) -Itests/cuda_emu -Iinclude -Isrc \
  $(PKG_CFLAGS) -DMG_HAVE_CUDA=1
$(BUILD)/obj/emu_%.o: kernels/%.cu $(wildcard kernels/*.cuh kernels/*/*.cuh tests/cuda_emu/*.h tests/cuda_emu/cub/block/*.cuh) $(HDR)
	@mkdir -p $(@D)
	$(CXX) $(EMU_CXXFLAGS) -c $< -o $@
$(BUILD)/obj/emu_fibers.o $(BUILD)/obj/emu_cufft.o: $(BUILD)/obj/%.o: tests/cuda_emu/%.cc $(wildcard tests/cuda_emu/*.h) $(HDR)
	@mkdir -p $(@D)
	$(CXX) $(EMU_CXXFLAGS) -c $< -o $@

$(BUILD)/tests/test_cuda_emu: tests/test_cuda_emu.c $(wildcard tests/*.h) $(EMU_LINK) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests $< $(EMU_LINK) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a $(CHECK_LIBS) $(LDLIBS) -o $@
$(BUILD)/tests/test_ffs_cuda_emu: tests/test_ffs_cuda.c $(wildcard tests/*.h) $(EMU_LINK) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests $< $(EMU_LINK) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a $(CHECK_LIBS) $(LDLIBS) -o $@

# Tests run with at most 2 OpenMP threads unless OMP_NUM_THREADS is set.
test: deps
	$(MAKE) all $(TEST_BIN)
	$(MAKE) test-unit test-cli

test-unit: $(TEST_BIN)
	@fail=0; for t in $(TEST_BIN); do echo "== $$t"; \
	  CK_DEFAULT_TIMEOUT=1200 $$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "SOME UNIT TESTS FAILED"; exit 1; fi

# The architecture check (docs/ARCHITECTURE.md): no include or call cycle, nothing from a lower
# layer of src/ up to a higher one, every file in its layer folder.
check-arch: $(BINDIR)/mesogif $(BUILD)/libmesogif.a
	/usr/bin/python3 tools/include_graph.py --objects $(BUILD)/obj

test-cli: $(BINDIR)/mesogif $(BUILD)/libmesogif.so check-arch
	@fail=0; for t in $(TEST_SH); do echo "== $$t"; MESOGIF=$(BINDIR)/mesogif MG_BUILD=$(BUILD) bash $$t || fail=1; done; \
	  if [ $$fail -ne 0 ]; then echo "SOME CLI TESTS FAILED"; exit 1; fi; echo "all CLI tests passed"

demo: deps
	$(MAKE) all
	$(BINDIR)/mesogif run --t-sim 10s --realizations 100 --out demo.h5 --force
	$(BINDIR)/mesogif info demo.h5

bench: all
	bash bench/run_bench.sh

validate: all $(TEST_BIN)
	bash tests/validate/run_validate.sh

# The Python package goes to $(PREFIX)/lib/python3/dist-packages/mesogif (PYTHONPATH), with
# _libpath.py naming the installed library and headers (the package reads its C declarations
# from them), so that it finds both without LD_LIBRARY_PATH.
PYDIR := $(PREFIX)/lib/python3/dist-packages
install: all
	install -d $(PREFIX)/bin $(PREFIX)/lib/pkgconfig $(PREFIX)/include/mesogif \
	  $(PREFIX)/share/mesogif/models $(PYDIR)/mesogif
	install -m 755 $(BINDIR)/mesogif $(PREFIX)/bin/
	install -m 644 $(BUILD)/libmesogif.a $(PREFIX)/lib/
	install -m 755 $(BUILD)/libmesogif.so.$(VERSION) $(PREFIX)/lib/
	ln -sf libmesogif.so.$(VERSION) $(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(PREFIX)/lib/libmesogif.so
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|' -e 's|@VERSION@|$(VERSION)|' \
	  -e 's|@PRIVATE_LIBS@|$(LDLIBS)|' tools/mesogif.pc.in > $(PREFIX)/lib/pkgconfig/mesogif.pc
	install -m 644 include/mesogif/*.h $(PREFIX)/include/mesogif/
	install -m 644 data/models/*.json $(PREFIX)/share/mesogif/models/
	install -m 755 tools/plot_run.py $(PREFIX)/bin/mesogif-plot
	install -m 644 python/mesogif/*.py $(PYDIR)/mesogif/
	printf 'LIBRARY = "%s"\nINCLUDE = "%s"\n' "$(abspath $(PREFIX))/lib/$(SONAME)" \
	  "$(abspath $(PREFIX))/include" > $(PYDIR)/mesogif/_libpath.py

# The Python package of this build tree (python/mesogif), on libmesogif.so of $(BUILD).
python: $(BUILD)/libmesogif.so
	@echo "export PYTHONPATH=$(CURDIR)/python MESOGIF_LIBRARY=$(abspath $(BUILD))/$(SONAME)"

# Stage a portable build and the shared libraries it needs into build/stage (copied to a GPU
# machine that has the driver but none of our Debian packages; there: bash build/stage/gpu_check.sh).
stage-gpu:
	bash tools/stage_gpu.sh build/stage

gpu-check: stage-gpu
	bash build/stage/gpu_check.sh

clean:
	rm -rf build bin

# ---- hardening (issue 8; docs/HARDENING.md) ---------------------------------------------------
# The fuzz harnesses of tests/fuzz/ linked with tests/fuzz/standalone.c (a main() that feeds the
# files named on its command line) in any build, or with libFuzzer (FUZZ_MAIN empty,
# FUZZ_LDFLAGS=-fsanitize=fuzzer) in the clang build of `make fuzz`.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_MAIN    ?= tests/fuzz/standalone.c
FUZZ_LDFLAGS ?=
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_MAIN) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(FUZZ_LDFLAGS) $< $(FUZZ_MAIN) $(BUILD)/libmesogif_cli.a $(BUILD)/libmesogif.a $(LDLIBS) -o $@

# check-asan: everything built with AddressSanitizer and UBSan (gcc, -O1, no CUDA: the CUDA
# runtime does not run under ASan's memory layout and CI has no GPU) into build/asan, then every
# Check suite, every CLI test and a replay of the fuzz corpora and regression inputs; then the
# CUDA code in the host emulation (build/asan-emu, check-emu). Any sanitizer report fails the
# target: UBSan does not recover, ASan aborts, LeakSanitizer exits non-zero. tests/lsan.supp
# lists the only leaks tolerated (outside mesogif, each justified).
ASAN_BUILD  := build/asan
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
               -fno-sanitize-recover=all
# allocator_may_return_null: an allocation that cannot be satisfied returns NULL (as malloc does
# without ASan) instead of aborting, so that the library's out-of-memory paths are what is
# tested, and so that HDF5's own oversized requests on damaged files fail as they do in
# production. CK_FORK=no: every Check test in the runner's process, so that LeakSanitizer sees
# one process without the parent's OpenMP threads (forked children report "false leaks are
# possible"); CK_TIMEOUT_MULTIPLIER: the sanitizer build runs 3 to 10 times slower.
ASAN_ENV    := ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1:allocator_may_return_null=1 \
               LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 CK_FORK=no CK_TIMEOUT_MULTIPLIER=10
ASAN_MAKE   := $(MAKE) BUILD=$(ASAN_BUILD) BINDIR=$(ASAN_BUILD)/bin NVCC= CFLAGS="$(ASAN_CFLAGS)"
check-asan: deps
	$(ASAN_MAKE) all $(patsubst tests/%.c,$(ASAN_BUILD)/tests/%,$(TEST_SRC)) \
	  $(patsubst tests/fuzz/%.c,$(ASAN_BUILD)/fuzz/%,$(FUZZ_SRC))
	$(ASAN_ENV) $(ASAN_MAKE) test-unit test-cli
	$(ASAN_ENV) $(ASAN_MAKE) fuzz-replay
	$(MAKE) check-asan-emu
	@echo "check-asan: all tests passed under AddressSanitizer and UBSan"
# The last part of check-asan alone: the host emulation of kernels/ under the sanitizers.
check-asan-emu: deps
	$(ASAN_ENV) $(MAKE) BUILD=$(ASAN_BUILD)-emu BINDIR=$(ASAN_BUILD)-emu/bin NVCC= CUDA_EMU=1 \
	  CFLAGS="$(ASAN_CFLAGS)" check-emu

# The CUDA code of kernels/ in the host emulation (build with CUDA_EMU=1): the two suites that
# compare it with the CPU. Under check-asan the device's buffers are host memory, so the
# sanitizers check every access of the kernels and drivers (about 4 minutes).
check-emu: $(BUILD)/tests/test_cuda_emu $(BUILD)/tests/test_ffs_cuda
	$(BUILD)/tests/test_cuda_emu
	$(BUILD)/tests/test_ffs_cuda

# Replay the seed corpora and every regression input through the harnesses of this build.
fuzz-replay: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
	$(BUILD)/fuzz/fuzz_model tests/fuzz/corpus_model tests/fuzz/regressions/model
	bash tools/fuzz_corpus.sh $(BINDIR)/mesogif $(BUILD)/fuzz/corpus_h5
	$(BUILD)/fuzz/fuzz_h5 tests/fuzz/corpus_h5 $(BUILD)/fuzz/corpus_h5/prog tests/fuzz/regressions/h5
	$(BUILD)/fuzz/fuzz_h5_raw $(BUILD)/fuzz/corpus_h5/raw tests/fuzz/regressions/h5_raw

# fuzz: the libFuzzer harnesses (clang, -fsanitize=fuzzer,address,undefined) in build/fuzz, each
# run for FUZZ_SECONDS on FUZZ_JOBS processes from its seed corpus; new inputs are kept in
# build/fuzz/work/<harness>, findings in build/fuzz/findings/ (then: make a regression input of
# it under tests/fuzz/regressions/, see docs/HARDENING.md).
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_PAR     := $(if $(filter 1,$(FUZZ_JOBS)),,-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS))
FUZZ_CC      ?= clang
FUZZ_BUILD   := build/fuzz
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -Wno-pass-failed \
                -fno-sanitize-recover=all
FUZZ_MAKE    := $(MAKE) CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) BINDIR=$(FUZZ_BUILD)/bin NVCC= \
                CFLAGS="$(FUZZ_CFLAGS)" FUZZ_MAIN= FUZZ_LDFLAGS=-fsanitize=fuzzer
FUZZ_ENV     := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp
FUZZ_DEBIAN  := clang libclang-rt-dev libomp-dev
deps-fuzz:
	@if dpkg -s $(FUZZ_DEBIAN) >/dev/null 2>&1; then echo "deps-fuzz: clang and libFuzzer present"; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(FUZZ_DEBIAN); fi

fuzz-build: deps deps-fuzz
	$(FUZZ_MAKE) $(FUZZ_BUILD)/bin/mesogif $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/fuzz/%,$(FUZZ_SRC))

fuzz-corpus: fuzz-build
	bash tools/fuzz_corpus.sh $(FUZZ_BUILD)/bin/mesogif $(FUZZ_BUILD)/corpus_h5

fuzz: fuzz-corpus
	@mkdir -p $(FUZZ_BUILD)/findings $(FUZZ_BUILD)/work/fuzz_model $(FUZZ_BUILD)/work/fuzz_h5 \
	  $(FUZZ_BUILD)/work/fuzz_h5_raw
	$(FUZZ_ENV) $(FUZZ_BUILD)/fuzz/fuzz_model -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	  -rss_limit_mb=4096 -malloc_limit_mb=1000000 $(FUZZ_PAR) \
	  -artifact_prefix=$(FUZZ_BUILD)/findings/model- -dict=tests/fuzz/model.dict \
	  $(FUZZ_BUILD)/work/fuzz_model tests/fuzz/corpus_model tests/fuzz/regressions/model
	$(FUZZ_ENV) $(FUZZ_BUILD)/fuzz/fuzz_h5 -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	  -rss_limit_mb=4096 -malloc_limit_mb=1000000 $(FUZZ_PAR) \
	  -artifact_prefix=$(FUZZ_BUILD)/findings/h5- -dict=tests/fuzz/h5.dict \
	  $(FUZZ_BUILD)/work/fuzz_h5 tests/fuzz/corpus_h5 $(FUZZ_BUILD)/corpus_h5/prog \
	  tests/fuzz/regressions/h5
	@echo "fuzz: fuzz_h5_raw (fork mode: HDF5 1.10.8's own hangs and crashes on damaged bytes"
	@echo "      are collected in $(FUZZ_BUILD)/findings/raw-* for triage, see docs/HARDENING.md)"
	-$(FUZZ_ENV) $(FUZZ_BUILD)/fuzz/fuzz_h5_raw -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	  -rss_limit_mb=4096 -malloc_limit_mb=1000000 -fork=$(FUZZ_JOBS) -ignore_timeouts=1 \
	  -ignore_crashes=1 -ignore_ooms=1 -artifact_prefix=$(FUZZ_BUILD)/findings/raw- \
	  -dict=tests/fuzz/h5.dict $(FUZZ_BUILD)/work/fuzz_h5_raw $(FUZZ_BUILD)/corpus_h5/raw \
	  tests/fuzz/regressions/h5_raw
	@echo "fuzz: triage of the raw findings (mesogif: a bug to fix here; hdf5: HDF5 1.10.8's own)"
	bash tools/fuzz_triage.sh $(FUZZ_BUILD)/fuzz/fuzz_h5_raw $(FUZZ_BUILD)/findings/raw-crash-* \
	  $(FUZZ_BUILD)/findings/raw-timeout-* $(FUZZ_BUILD)/findings/raw-leak-* \
	  $(FUZZ_BUILD)/findings/raw-oom-* | tee $(FUZZ_BUILD)/findings/triage.txt
	@! grep -q '^mesogif' $(FUZZ_BUILD)/findings/triage.txt
	@echo "fuzz: fuzz_model and fuzz_h5 ran $(FUZZ_SECONDS) s each without a finding; fuzz_h5_raw's"
	@echo "      findings are all inside HDF5 ($(FUZZ_BUILD)/findings/triage.txt)"
