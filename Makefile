# SPDX-License-Identifier: GPL-2.0
# nattrav build. Everything lands in $(OUT); nothing generated goes to git
# except vmlinux/<arch>/vmlinux.h (scripts/gen-vmlinux.sh).
#
#   make            build BPF objects, skeletons, tools, tests
#   make tools      only the programs (what "make install" installs)
#   make test       build and run every test (needs root)
#   make install    PREFIX=/usr/local DESTDIR= (builds only what it installs)
#   make uninstall  remove what "make install" put there (not the config)
#   make V=1        show the commands
#   make WERROR=1   warnings are errors (scripts/test.sh and CI set it)
#
# CFLAGS, CPPFLAGS and LDFLAGS from the environment or the command line reach
# every userspace object and program (a distribution's hardening flags); the
# BPF objects take only their own flags (-target bpf).

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

# vmlinux.h: the copy in git, vmlinux/<arch>/vmlinux.h, whatever kernel the
# build host runs. The BPF programs are CO-RE: libbpf relocates every field
# they touch against the BTF of the kernel they are loaded into, so the
# header only has to declare the types; a header from the build host's own
# kernel would make the build depend on that host (a package built on one
# machine runs on others). VMLINUX_BTF=/sys/kernel/btf/vmlinux builds against
# a BTF file instead (scripts/gen-vmlinux.sh refreshes the copy in git).
VMLINUX_BTF ?=
VMLINUX_H := vmlinux/$(UARCH)/vmlinux.h

# The version the programs report (--version, metrics, nattravctl status):
# NT_VERSION from the command line or the environment (debian/rules sets it
# from debian/changelog), else git describe, else VERSION with the commit.
VERSION  := 0.1.0
ifeq ($(origin NT_VERSION),undefined)
NT_VERSION := $(shell git describe --tags --dirty --match 'v[0-9]*' 2>/dev/null | sed 's/^v//')
ifeq ($(NT_VERSION),)
NT_GIT_HASH := $(shell git rev-parse --short HEAD 2>/dev/null)
NT_VERSION := $(VERSION)$(if $(NT_GIT_HASH),+g$(NT_GIT_HASH))
endif
endif

# Warnings stay warnings by default: the next compiler's new warning must not
# break a user's or a distribution's build. Tests and CI build with WERROR=1.
WARN     := -Wall -Wextra -Wshadow -Wimplicit-fallthrough -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN     += -Werror
endif
CFLAGS   ?= -O2 -g
# Build-time limits of include/nattrav_abi.h, e.g. NT_DEFS=-DNT_GROUP_MAX_MEMBERS=32
NT_DEFS  ?=
# override: "make CFLAGS=..." (as packaging tools do) adds to these, not replaces them
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(OUT) $(NT_DEFS) $(CPPFLAGS)
LDFLAGS  ?=
LDLIBS   := -lbpf -lelf -lz -lssl -lcrypto -lm
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

.PHONY: all tools clean test test-unit test-e2e demo fuzz install uninstall FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BPF_OBJS) $(SKELS) $(LIB) $(TOOL_BINS) $(UNIT_BINS) $(BENCH_BINS)

ifneq ($(VMLINUX_BTF),)
$(OUT)/vmlinux/vmlinux.h: $(VMLINUX_BTF)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@
else
$(OUT)/vmlinux/vmlinux.h: $(VMLINUX_H)
	$(Q)test -r $< || { echo "no $< for this architecture: make VMLINUX_BTF=/sys/kernel/btf/vmlinux, or scripts/gen-vmlinux.sh" >&2; exit 1; }
	$(Q)mkdir -p $(dir $@) && cp $< $@
endif

# Rewritten only when the version changes, so a build without changes relinks nothing.
$(OUT)/nt_version.h: FORCE
	$(Q)mkdir -p $(dir $@)
	$(Q)echo '#define NT_VERSION "$(NT_VERSION)"' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

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

$(TOOL_BINS): $(OUT)/%: $$(wildcard user/%/*.c) $(USER_HDRS) $(LIB) $(SKELS) $(OUT)/nt_version.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c,$^) $(LIB) $(LDLIBS) -o $@

tools: $(TOOL_BINS)

$(OUT)/tests/%: tests/%.c $(TEST_HDRS) $(USER_HDRS) $(LIB) $(SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests $< $(LIB) $(LDLIBS) -lcriterion -o $@

# test.sh installs missing dependencies before it builds: a fresh machine
# has no clang or libbpf yet, so this target must not depend on "all".
test:
	$(Q)scripts/test.sh

$(OUT)/bench/%: tests/bench/%.c $(TEST_HDRS) $(USER_HDRS) $(LIB) $(SKELS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests $< $(LIB) $(LDLIBS) -o $@

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
# /etc/nattrav/nattravd.conf is written once and kept (it is the operator's).
BASHCOMP_DIR ?= $(PREFIX)/share/bash-completion/completions
INSTALLED := $(PREFIX)/sbin/nattravd $(PREFIX)/sbin/nattravctl $(PREFIX)/bin/nattrav-client \
	$(PREFIX)/lib/libnattrav.a $(SYSTEMD_DIR)/nattravd.service $(SYSUSERS_DIR)/nattrav.conf \
	$(BASHCOMP_DIR)/nattravctl \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man8/%,$(wildcard docs/man/*.8)) \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man5/%,$(wildcard docs/man/*.5)) \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man1/%,$(wildcard docs/man/*.1)) \
	$(patsubst %,$(PREFIX)/include/nattrav/%,$(notdir $(wildcard include/*.h user/lib/*.h)))

install: $(TOOL_BINS) $(LIB)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include/nattrav $(DESTDIR)$(SYSTEMD_DIR) \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(BASHCOMP_DIR) \
		$(DESTDIR)/etc/nattrav $(DESTDIR)$(SYSUSERS_DIR)
	install -m 0755 $(OUT)/nattravd $(DESTDIR)$(PREFIX)/sbin/nattravd
	install -m 0755 $(OUT)/nattravctl $(DESTDIR)$(PREFIX)/sbin/nattravctl
	install -m 0755 $(OUT)/nattrav-client $(DESTDIR)$(PREFIX)/bin/nattrav-client
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libnattrav.a
	install -m 0644 include/*.h user/lib/*.h $(DESTDIR)$(PREFIX)/include/nattrav/
	sed 's|/usr/local|$(PREFIX)|g' scripts/nattravd.service > $(DESTDIR)$(SYSTEMD_DIR)/nattravd.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_DIR)/nattravd.service
	install -m 0644 scripts/nattrav.sysusers $(DESTDIR)$(SYSUSERS_DIR)/nattrav.conf
	install -m 0644 scripts/nattravctl.bash-completion $(DESTDIR)$(BASHCOMP_DIR)/nattravctl
	install -m 0644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	test -e $(DESTDIR)/etc/nattrav/nattravd.conf || \
		install -m 0640 docs/nattravd.conf.example $(DESTDIR)/etc/nattrav/nattravd.conf
	@# on this host (no DESTDIR): the user the unit runs as, and its config readable by it
	if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERS_DIR)/nattrav.conf && \
		chgrp nattrav /etc/nattrav/nattravd.conf; \
	fi

# What install wrote, except /etc/nattrav (the operator's settings, keys and
# secret) and the nattrav user (files it owns may remain): removed by hand.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(PREFIX)/include/nattrav 2>/dev/null
	@echo "kept: /etc/nattrav and the nattrav user (remove them by hand: rm -r /etc/nattrav; userdel nattrav)"

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

$(ASAN_BINS): $(OUT)/asan/%: $$(wildcard user/%/*.c) $(USER_HDRS) $(ASAN_LIB) $(SKELS) $(OUT)/nt_version.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ASAN_CFLAGS) $(filter %.c,$^) $(ASAN_LIB) $(LDLIBS) -o $@

# Daemon and clients under ASan/UBSan, then the daemon under valgrind (needs root).
valgrind: all asan
	$(Q)bash tests/e2e/sanitized.sh
