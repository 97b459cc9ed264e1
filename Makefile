# xturn — STUN/TURN relay on XDP and AF_XDP. GNU make; see README.md.
#
#   make deps | all | check | asan | bench | demo | format | clean
#   SANITIZE=1 make check    same tests under AddressSanitizer + UBSan (in build/asan)

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SAN_FLAGS :=
endif

CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
MULTIARCH := $(shell $(CC) -dumpmachine)

CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I$(BUILD) $(SAN_FLAGS)
DEPFLAGS = -MMD -MP
LDFLAGS := $(SAN_FLAGS)
LDLIBS := -lxdp -lbpf -lelf -lz -lcrypto -lyaml -lpcap -lmnl -lmicrohttpd -lpthread -lm
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -I. -I/usr/include/$(MULTIARCH)

# ---- modules: every .c in a module folder (but BPF sources and main.c) goes into lib<module>.a ----
# Link order follows the dependency direction pkt <- turn <- xdp/config <- app.
MODULES := app config xdp turn pkt
module_srcs = $(filter-out %.bpf.c $(1)/main.c,$(wildcard $(1)/*.c))
module_lib = $(BUILD)/$(1)/libxturn_$(1).a
LIBS := $(foreach m,$(MODULES),$(if $(call module_srcs,$(m)),$(call module_lib,$(m))))

# ---- BPF objects and their libbpf skeletons ----
BPF_SRCS := $(wildcard xdp/*.bpf.c tests/bpf/*.bpf.c tools/*/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:%.bpf.c=$(BUILD)/%.bpf.o)
SKELS := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(wildcard xdp/*.bpf.c tools/*/*.bpf.c))

# ---- programs: app/main.c is xturnd; every tools/<name>/main.c is a tool ----
PROGRAMS := $(if $(wildcard app/main.c),$(BUILD)/xturnd)
TOOL_DIRS := $(patsubst %/main.c,%,$(wildcard tools/*/main.c))
PROGRAMS += $(foreach t,$(TOOL_DIRS),$(BUILD)/$(notdir $(t)))

# ---- tests: unit (CUnit, one runner), bpf (CUnit, root) ----
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BIN := $(BUILD)/tests/unit-tests
BPF_TEST_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bpf/*.c))
BPF_TEST_BIN := $(if $(BPF_TEST_SRCS),$(BUILD)/tests/bpf-tests)
TEST_BINS := $(UNIT_BIN) $(BPF_TEST_BIN)

# ---- benchmarks: tools/bench/bench_*.c, one binary each ----
BENCH_SRCS := $(wildcard tools/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tools/bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps check asan bench demo format clean tests
all: $(LIBS) $(BPF_OBJS) $(SKELS) $(PROGRAMS)
tests: all $(TEST_BINS) $(BENCH_BINS)

deps:
	@tools/deps.sh

# Every compile needs the Debian packages; order-only, so that deps never forces a rebuild.
$(BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: %.bpf.c | deps
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(@:.o=.d) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

define module_rules
$(call module_lib,$(1)): $(patsubst %.c,$(BUILD)/%.o,$(call module_srcs,$(1)))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(if $(call module_srcs,$(m)),$(eval $(call module_rules,$(m)))))

# User-space objects of xdp/ and app/ include generated skeletons.
$(patsubst %.c,$(BUILD)/%.o,$(call module_srcs,xdp) $(call module_srcs,app) $(wildcard app/main.c)): | $(SKELS)

$(BUILD)/xturnd: $(BUILD)/app/main.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tools may carry their own BPF programs (tools/<name>/*.bpf.c), included as skeletons.
define tool_rules
$(patsubst %.c,$(BUILD)/%.o,$(filter-out %.bpf.c,$(wildcard $(1)/*.c))): | $(SKELS)
$(BUILD)/$(notdir $(1)): $(patsubst %.c,$(BUILD)/%.o,$(filter-out %.bpf.c,$(wildcard $(1)/*.c))) $(LIBS)
	$(CC) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach t,$(TOOL_DIRS),$(eval $(call tool_rules,$(t))))

# The unit runner calls <file>_register() for every tests/unit/test_*.c; the list is generated.
$(BUILD)/tests/unit_suites.h: $(UNIT_SRCS) | deps
	@mkdir -p $(@D)
	@for f in $(sort $(filter tests/unit/test_%.c,$(UNIT_SRCS))); do \
		b=$${f##*/}; echo "UNIT_SUITE($${b%.c})"; done > $@.tmp && mv $@.tmp $@
$(BUILD)/tests/unit/main.o: $(BUILD)/tests/unit_suites.h

$(UNIT_BIN): $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRCS)) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(patsubst %.c,$(BUILD)/%.o,$(BPF_TEST_SRCS)): | $(SKELS)
$(BUILD)/tests/bpf-tests: $(patsubst %.c,$(BUILD)/%.o,$(BPF_TEST_SRCS)) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(BUILD)/bench/%: $(BUILD)/tools/bench/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check: tests
	@tests/run-tests.sh $(BUILD)

asan:
	$(MAKE) SANITIZE=1 check

bench: tests
	@tools/bench/run.sh $(BUILD)

demo: all
	@tools/demo.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# ---- fuzzing: libFuzzer targets tests/fuzz/fuzz_*.c, built with clang into build/fuzz ----
# Module sources are compiled again with the fuzzer's instrumentation (their gcc objects stay as
# they are). `make fuzz` runs each target FUZZ_SECONDS; the check's fuzz layer runs a short slice.
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 120
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -D_GNU_SOURCE -I. -I$(FUZZ_BUILD) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_MOD_SRCS := $(call module_srcs,pkt) $(call module_srcs,turn) $(call module_srcs,config) \
	$(wildcard app/pipeline.c app/neigh.c app/log.c app/turn_setup.c)
FUZZ_MOD_OBJS := $(FUZZ_MOD_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_BUILD)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_MOD_OBJS)
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ -lcrypto -lz -lyaml -lmnl -lpthread

.SECONDARY: $(FUZZ_BINS:$(FUZZ_BUILD)/%=$(FUZZ_BUILD)/tests/fuzz/%.o)
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
tests: fuzz-build
fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

-include $(sort $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null))
