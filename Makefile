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
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser/libclient -I$(OUT) $(NT_DEFS) $(CPPFLAGS)
LDFLAGS  ?=
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
# the internal archive holds the client library's sources too (unit tests, tools)
LIB_SRCS  := $(wildcard user/lib/*.c) $(wildcard user/libclient/*.c)
LIB_OBJS  := $(addprefix $(OUT)/lib/,$(notdir $(LIB_SRCS:.c=.o)))
LIB       := $(OUT)/libnattrav.a
USER_HDRS := $(wildcard user/lib/*.h) $(wildcard user/libclient/*.h) $(wildcard include/*.h) \
	$(wildcard user/*/*.h)

# The client library for applications, libnattrav-client (.so and .a):
# the client sources and the shared code they need, built with hidden
# visibility; only the nt_client_* API of include/nattrav_client.h is
# exported (the version script says so too). Licence: LGPL-2.1 OR BSD-2-Clause.
CLIENT_VERSION := 1.0.0
CLIENT_SONAME  := libnattrav-client.so.1
CLIENT_SRCS := $(wildcard user/libclient/*.c) \
	user/lib/nt_endpoint.c user/lib/nt_line.c user/lib/nt_tls_policy.c user/lib/nt_wire.c \
	user/lib/nt_hmac.c user/lib/nt_redirect.c user/lib/nt_num.c user/lib/nt_stun.c
CLIENT_OBJS := $(addprefix $(OUT)/libclient/,$(notdir $(CLIENT_SRCS:.c=.o)))
CLIENT_MAP  := user/libclient/libnattrav-client.map
CLIENT_SO   := $(OUT)/libnattrav-client.so.$(CLIENT_VERSION)
CLIENT_SO_LINKS := $(OUT)/$(CLIENT_SONAME) $(OUT)/libnattrav-client.so
CLIENT_A    := $(OUT)/libnattrav-client.a
CLIENT_PC   := $(OUT)/nattrav-client.pc
CLIENT_LIBS := -lssl -lcrypto -lz
CLIENT_OUT  := $(CLIENT_SO) $(CLIENT_SO_LINKS) $(CLIENT_A) $(CLIENT_PC)

# examples/*.c: applications of the client library, built here against
# build/ (tests/e2e/client_lib.sh builds them against an installed copy).
EXAMPLE_BINS := $(patsubst examples/%.c,$(OUT)/examples/%,$(wildcard examples/*.c))

# Each folder user/<tool>/ is one program, built as $(OUT)/<tool>.
TOOLS     := $(notdir $(patsubst %/,%,$(filter-out user/lib/ user/libclient/,$(sort $(dir $(wildcard user/*/*.c))))))
TOOL_BINS := $(addprefix $(OUT)/,$(TOOLS))

# Each tests/unit/test_*.c and tests/bpf/test_*.c is one Criterion binary.
UNIT_SRCS := $(wildcard tests/unit/test_*.c) $(wildcard tests/bpf/test_*.c)
UNIT_BINS := $(patsubst tests/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
TEST_HDRS := $(wildcard tests/*.h) $(wildcard tests/*/*.h)

# Each tests/bench/*.c is one benchmark program (no test runner), build/bench/<name>.
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUT)/bench/%,$(BENCH_SRCS))

# Each tests/e2e/lib/*.c is a helper program of the e2e tests, build/e2e/<name>.
E2E_SRCS := $(wildcard tests/e2e/lib/*.c)
E2E_BINS := $(patsubst tests/e2e/lib/%.c,$(OUT)/e2e/%,$(E2E_SRCS))

# libFuzzer targets: tests/fuzz/fuzz_*.c, with the library rebuilt by clang
# under ASan and UBSan. Not part of "all": run with scripts/fuzz.sh.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(addprefix $(OUT)/fuzz/lib/,$(notdir $(LIB_SRCS:.c=.o)))
FUZZ_LIB  := $(OUT)/fuzz/libnattrav-fuzz.a
FUZZ_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -Wall -Iinclude -Iuser/lib -Iuser/libclient -I$(OUT)

PREFIX   ?= /usr/local
DESTDIR  ?=
# Debian's multiarch folder when the packaging sets it: lib/x86_64-linux-gnu
LIBDIR   ?= $(PREFIX)/lib$(if $(DEB_HOST_MULTIARCH),/$(DEB_HOST_MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
# systemd-sysusers reads /usr/lib/sysusers.d, not $(PREFIX)/lib
SYSUSERS_DIR ?= /usr/lib/sysusers.d

.PHONY: all tools clean test test-unit test-e2e demo fuzz install uninstall FORCE
.DELETE_ON_ERROR:
.SECONDARY:
.SECONDEXPANSION:

all: $(BPF_OBJS) $(SKELS) $(LIB) $(CLIENT_OUT) $(TOOL_BINS) $(UNIT_BINS) $(BENCH_BINS) \
	$(EXAMPLE_BINS) $(E2E_BINS)

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

$(OUT)/lib/%.o: user/libclient/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# NT_HMAC_ONESHOT: no per-thread context (and thread key) in a library an
# application may dlclose(); a client computes a few MACs a second
CLIENT_CC = $(CC) $(CFLAGS) -DNT_HMAC_ONESHOT -fPIC -fvisibility=hidden -c $< -o $@
$(OUT)/libclient/%.o: user/lib/%.c $(USER_HDRS)
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLIENT_CC)

$(OUT)/libclient/%.o: user/libclient/%.c $(USER_HDRS)
	$(call msg,CC-PIC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLIENT_CC)

$(CLIENT_SO): $(CLIENT_OBJS) $(CLIENT_MAP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(CLIENT_SONAME) -Wl,--version-script=$(CLIENT_MAP) \
		-Wl,--no-undefined -Wl,-z,relro,-z,now $(CLIENT_OBJS) $(CLIENT_LIBS) -o $@

$(CLIENT_SO_LINKS): $(CLIENT_SO)
	$(Q)ln -sf $(notdir $<) $@

# One relocatable object with the hidden symbols made local: an application
# linking the .a sees only nt_client_* too (no clash with its own nt_line_*).
$(CLIENT_A): $(CLIENT_OBJS)
	$(call msg,AR,$@)
	$(Q)$(LD) -r $(CLIENT_OBJS) -o $(OUT)/libclient/nattrav-client.o
	$(Q)objcopy --localize-hidden $(OUT)/libclient/nattrav-client.o
	$(Q)rm -f $@ && ar rcs $@ $(OUT)/libclient/nattrav-client.o

# What the installed .pc and nattrav-client depend on: rebuilt when PREFIX or
# LIBDIR change between two make runs.
$(OUT)/install/vars: FORCE
	$(Q)mkdir -p $(dir $@)
	$(Q)echo '$(PREFIX) $(LIBDIR)' | cmp -s - $@ || echo '$(PREFIX) $(LIBDIR)' > $@

.PHONY: FORCE
FORCE:

$(CLIENT_PC): user/libclient/nattrav-client.pc.in Makefile $(OUT)/install/vars
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@VERSION@|$(CLIENT_VERSION)|' $< > $@

$(OUT)/nattravd $(OUT)/asan/nattravd: LDLIBS += $(SYSTEMD_LIBS)

# nattrav-client runs on the shared library, found next to it in $(OUT); the
# copy make install installs looks in $(LIBDIR) instead. libnattrav.a after
# it only gives the CLI's own helpers (number and line parsing).
$(OUT)/nattrav-client: $(CLIENT_SO_LINKS)
$(OUT)/nattrav-client: TOOL_LIBS = -L$(OUT) -lnattrav-client -Wl,-rpath,'$$ORIGIN'

$(TOOL_BINS): $(OUT)/%: $$(wildcard user/%/*.c) $(USER_HDRS) $(LIB) $(SKELS) $(OUT)/nt_version.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c,$^) $(TOOL_LIBS) $(LIB) $(LDLIBS) -o $@

tools: $(TOOL_BINS) $(CLIENT_OUT)

$(OUT)/examples/%: examples/%.c include/nattrav_client.h $(CLIENT_SO_LINKS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -L$(OUT) -lnattrav-client -Wl,-rpath,'$$ORIGIN/..' -o $@

# No run path when LIBDIR is one the dynamic linker searches anyway.
INSTALL_RPATH := $(if $(filter /usr/lib /usr/lib/$(DEB_HOST_MULTIARCH) /lib,$(LIBDIR)),,-Wl,-rpath,$(LIBDIR))
$(OUT)/install/nattrav-client: $(wildcard user/nattrav-client/*.c) $(USER_HDRS) $(LIB) $(CLIENT_SO_LINKS) \
		$(OUT)/install/vars $(OUT)/nt_version.h
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c,$^) -L$(OUT) -lnattrav-client $(INSTALL_RPATH) $(LIB) $(LDLIBS) -o $@

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

# end-to-end test programs run on the shared library, as applications do
$(OUT)/e2e/%: tests/e2e/lib/%.c $(USER_HDRS) $(LIB) $(SKELS) $(CLIENT_SO_LINKS)
	$(call msg,E2E,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -L$(OUT) -lnattrav-client -Wl,-rpath,'$$ORIGIN/..' $(LIB) $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)

$(OUT)/fuzz/lib/%.o: user/lib/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUT)/fuzz/lib/%.o: user/libclient/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(LDLIBS) -o $@

# The BPF objects are inside the programs (skeletons): nothing else to ship.
# Of the headers only the client library's public one: the rest is internal.
# /etc/nattrav/nattravd.conf is written once and kept (it is the operator's).
BASHCOMP_DIR ?= $(PREFIX)/share/bash-completion/completions
INSTALLED := $(PREFIX)/sbin/nattravd $(PREFIX)/sbin/nattravctl $(PREFIX)/bin/nattrav-client \
	$(LIBDIR)/$(notdir $(CLIENT_SO)) $(LIBDIR)/$(CLIENT_SONAME) $(LIBDIR)/libnattrav-client.so \
	$(LIBDIR)/$(notdir $(CLIENT_A)) $(LIBDIR)/pkgconfig/$(notdir $(CLIENT_PC)) \
	$(INCLUDEDIR)/nattrav_client.h \
	$(SYSTEMD_DIR)/nattravd.service $(SYSUSERS_DIR)/nattrav.conf \
	$(BASHCOMP_DIR)/nattravctl \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man8/%,$(wildcard docs/man/*.8)) \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man5/%,$(wildcard docs/man/*.5)) \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man3/%,$(wildcard docs/man/*.3)) \
	$(patsubst docs/man/%,$(PREFIX)/share/man/man1/%,$(wildcard docs/man/*.1))

install: $(TOOL_BINS) $(CLIENT_OUT) $(OUT)/install/nattrav-client
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(SYSTEMD_DIR) \
		$(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(BASHCOMP_DIR) \
		$(DESTDIR)/etc/nattrav $(DESTDIR)$(SYSUSERS_DIR)
	install -m 0755 $(OUT)/nattravd $(DESTDIR)$(PREFIX)/sbin/nattravd
	install -m 0755 $(OUT)/nattravctl $(DESTDIR)$(PREFIX)/sbin/nattravctl
	install -m 0755 $(OUT)/install/nattrav-client $(DESTDIR)$(PREFIX)/bin/nattrav-client
	install -m 0755 $(CLIENT_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(CLIENT_SO)) $(DESTDIR)$(LIBDIR)/$(CLIENT_SONAME)
	ln -sf $(CLIENT_SONAME) $(DESTDIR)$(LIBDIR)/libnattrav-client.so
	install -m 0644 $(CLIENT_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(CLIENT_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 include/nattrav_client.h $(DESTDIR)$(INCLUDEDIR)/
	sed 's|/usr/local|$(PREFIX)|g' scripts/nattravd.service > $(DESTDIR)$(SYSTEMD_DIR)/nattravd.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_DIR)/nattravd.service
	install -m 0644 scripts/nattrav.sysusers $(DESTDIR)$(SYSUSERS_DIR)/nattrav.conf
	install -m 0644 scripts/nattravctl.bash-completion $(DESTDIR)$(BASHCOMP_DIR)/nattravctl
	install -m 0644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
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
	@echo "kept: /etc/nattrav and the nattrav user (remove them by hand: rm -r /etc/nattrav; userdel nattrav)"

clean:
	$(Q)rm -rf $(OUT)

# The daemon, client and ctl tool under ASan and UBSan, in $(OUT)/asan/, for
# tests/e2e/sanitized.sh (which also runs the daemon under valgrind).
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser/libclient -I$(OUT)
ASAN_LIB_OBJS := $(addprefix $(OUT)/asan/lib/,$(notdir $(LIB_SRCS:.c=.o)))
ASAN_LIB  := $(OUT)/asan/libnattrav.a
ASAN_BINS := $(addprefix $(OUT)/asan/,$(TOOLS))

.PHONY: asan valgrind
asan: $(ASAN_BINS)

$(OUT)/asan/lib/%.o: user/lib/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(OUT)/asan/lib/%.o: user/libclient/%.c $(USER_HDRS) $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

# The client library under the sanitizers too, and the sanitized
# nattrav-client on it, as the plain one runs on the plain library.
ASAN_CLIENT_OBJS := $(addprefix $(OUT)/asan/libclient/,$(notdir $(CLIENT_SRCS:.c=.o)))
ASAN_CLIENT_SO := $(OUT)/asan/$(CLIENT_SONAME)

$(OUT)/asan/libclient/%.o: user/lib/%.c $(USER_HDRS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -DNT_HMAC_ONESHOT -fPIC -fvisibility=hidden -c $< -o $@

$(OUT)/asan/libclient/%.o: user/libclient/%.c $(USER_HDRS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -DNT_HMAC_ONESHOT -fPIC -fvisibility=hidden -c $< -o $@

$(ASAN_CLIENT_SO): $(ASAN_CLIENT_OBJS) $(CLIENT_MAP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ASAN_CFLAGS) -shared -Wl,-soname,$(CLIENT_SONAME) \
		-Wl,--version-script=$(CLIENT_MAP) $(ASAN_CLIENT_OBJS) $(CLIENT_LIBS) -o $@
	$(Q)ln -sf $(CLIENT_SONAME) $(OUT)/asan/libnattrav-client.so

$(OUT)/asan/nattrav-client: $(ASAN_CLIENT_SO)
$(OUT)/asan/nattrav-client: TOOL_LIBS = -L$(OUT)/asan -lnattrav-client -Wl,-rpath,'$$ORIGIN'

$(ASAN_BINS): $(OUT)/asan/%: $$(wildcard user/%/*.c) $(USER_HDRS) $(ASAN_LIB) $(SKELS) $(OUT)/nt_version.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ASAN_CFLAGS) $(filter %.c,$^) $(TOOL_LIBS) $(ASAN_LIB) $(LDLIBS) -o $@

# Daemon and clients under ASan/UBSan, then the daemon under valgrind (needs root).
valgrind: all asan
	$(Q)bash tests/e2e/sanitized.sh
