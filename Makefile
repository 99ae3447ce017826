# SPDX-License-Identifier: GPL-2.0
# nattrav build. Everything lands in $(OUT); nothing generated goes to git
# except vmlinux/<arch>/vmlinux.h (scripts/gen-vmlinux.sh).
#
#   make            build BPF objects, skeletons, tools, tests
#   make test       build and run every test (needs root)
#   make V=1        show the commands

OUT      ?= build
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
UARCH    := $(shell uname -m)
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# vmlinux.h: from the running kernel's BTF when it has one, else the copy in git.
ifneq ($(wildcard /sys/kernel/btf/vmlinux),)
VMLINUX_H := $(OUT)/vmlinux/vmlinux.h
else
VMLINUX_H := vmlinux/$(UARCH)/vmlinux.h
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wimplicit-fallthrough -Wno-unused-parameter
CFLAGS   ?= -O2 -g
# Build-time limits of include/nattrav_abi.h, e.g. NT_DEFS=-DNT_GROUP_MAX_MEMBERS=32
NT_DEFS  ?=
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(OUT) $(NT_DEFS)
LDLIBS   := -lbpf -lelf -lz -lssl -lcrypto -lm -lhiredis
# nattravd only: sd_notify for Type=notify, a no-op when systemd did not start it.
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Wno-unused-function -Iinclude -Ibpf -I$(OUT)/vmlinux $(NT_DEFS)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
BPF_HDRS  := $(wildcard bpf/*.h) $(wildcard include/*.h)

# user/lib/*.c: code shared by the daemon, the client, the ctl tool and tests.
LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(patsubst user/lib/%.c,$(OUT)/lib/%.o,$(LIB_SRCS))
LIB       := $(OUT)/libnattrav.a
USER_HDRS := $(wildcard user/lib/*.h) $(wildcard include/*.h) $(wildcard user/*/*.h)

# Each folder user/<tool>/ is one program, built as $(OUT)/<tool>.
TOOLS     := $(notdir $(patsubst %/,%,$(filter-out user/lib/,$(sort $(dir $(wildcard user/*/*.c))))))
TOOL_BINS := $(addprefix $(OUT)/,$(TOOLS))

# Each tests/unit/test_*.c and tests/bpf/test_*.c is one Criterion binary.
UNIT_SRCS := $(wildcard tests/unit/test_*.c) $(wildcard tests/bpf/test_*.c)
UNIT_BINS := $(patsubst tests/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
TEST_HDRS := $(wildcard tests/*.h) $(wildcard tests/*/*.h)

# Each tests/bench/*.c is one benchmark program (no test runner), build/bench/<name>.
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))

# libFuzzer targets: tests/fuzz/fuzz_*.c, with the library rebuilt by clang
# under ASan and UBSan. Not part of "all": run with scripts/fuzz.sh.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst user/lib/%.c,$(OUT)/fuzz/lib/%.o,$(LIB_SRCS))
FUZZ_LIB  := $(OUT)/fuzz/libnattrav-fuzz.a
FUZZ_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -Wall -Iinclude -Iuser/lib -I$(OUT)

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
# systemd-sysusers reads /usr/lib/sysusers.d, not $(PREFIX)/lib
SYSUSERS_DIR ?= /usr/lib/sysusers.d

.PHONY: all clean test test-unit test-e2e demo fuzz install
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BPF_OBJS) $(SKELS) $(LIB) $(TOOL_BINS) $(UNIT_BINS) $(BENCH_BINS)

$(OUT)/vmlinux/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

ifneq ($(VMLINUX_H),$(OUT)/vmlinux/vmlinux.h)
$(OUT)/vmlinux/vmlinux.h: $(VMLINUX_H)
	$(Q)mkdir -p $(dir $@) && cp $< $@
endif

$(OUT)/obj/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(OUT)/vmlinux/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/obj/%.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT)/lib/%.o: user/lib/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
$(OUT)/nattravd $(OUT)/asan/nattravd: LDLIBS += $(SYSTEMD_LIBS)

$(TOOL_BINS): $(OUT)/%: $$(wildcard user/%/*.c) $(USER_HDRS) $(LIB) $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.c,$^) $(LIB) $(LDLIBS) -o $@

$(OUT)/tests/%: tests/%.c $(TEST_HDRS) $(USER_HDRS) $(LIB) $(SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB) $(LDLIBS) -lcriterion -o $@

# test.sh installs missing dependencies before it builds: a fresh machine
# has no clang or libbpf yet, so this target must not depend on "all".
test:
	$(Q)scripts/test.sh

$(OUT)/bench/%: tests/bench/%.c $(TEST_HDRS) $(USER_HDRS) $(LIB) $(SKELS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB) $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)

$(OUT)/fuzz/lib/%.o: user/lib/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

# The BPF objects are inside the programs (skeletons): nothing else to ship.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include/nattrav $(DESTDIR)$(SYSTEMD_DIR) \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)/etc/nattrav $(DESTDIR)$(SYSUSERS_DIR)
	install -m 0755 $(OUT)/nattravd $(DESTDIR)$(PREFIX)/sbin/nattravd
	install -m 0755 $(OUT)/nattravctl $(DESTDIR)$(PREFIX)/sbin/nattravctl
	install -m 0755 $(OUT)/nattrav-client $(DESTDIR)$(PREFIX)/bin/nattrav-client
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libnattrav.a
	install -m 0644 include/*.h user/lib/*.h $(DESTDIR)$(PREFIX)/include/nattrav/
	sed 's|/usr/local|$(PREFIX)|g' scripts/nattravd.service > $(DESTDIR)$(SYSTEMD_DIR)/nattravd.service
	install -m 0644 scripts/nattrav.sysusers $(DESTDIR)$(SYSUSERS_DIR)/nattrav.conf
	install -m 0644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	test -e $(DESTDIR)/etc/nattrav/nattravd.conf || \
		install -m 0640 docs/nattravd.conf.example $(DESTDIR)/etc/nattrav/nattravd.conf
	@# on this host (no DESTDIR): the user the unit runs as, and its config readable by it
	if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERS_DIR)/nattrav.conf && \
		chgrp nattrav /etc/nattrav/nattravd.conf; \
	fi

clean:
	$(Q)rm -rf $(OUT)

# The daemon, client and ctl tool under ASan and UBSan, in $(OUT)/asan/, for
# tests/e2e/sanitized.sh (which also runs the daemon under valgrind).
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(OUT)
ASAN_LIB_OBJS := $(patsubst user/lib/%.c,$(OUT)/asan/lib/%.o,$(LIB_SRCS))
ASAN_LIB  := $(OUT)/asan/libnattrav.a
ASAN_BINS := $(addprefix $(OUT)/asan/,$(TOOLS))

.PHONY: asan valgrind
asan: $(ASAN_BINS)

$(OUT)/asan/lib/%.o: user/lib/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ASAN_BINS): $(OUT)/asan/%: $$(wildcard user/%/*.c) $(USER_HDRS) $(ASAN_LIB) $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ASAN_CFLAGS) $(filter %.c,$^) $(ASAN_LIB) $(LDLIBS) -o $@

# Daemon and clients under ASan/UBSan, then the daemon under valgrind (needs root).
valgrind: all asan
	$(Q)bash tests/e2e/sanitized.sh
