# zt - a zero-trust access broker with MCP at its centre.
#
#   make deps    install the Debian packages and npm modules the build and
#                tests need (idempotent; quiet when everything is there)
#   make deps-xrdp  also xrdp + xorgxrdp, a second RDP server for the tests
#                (root only), with the system's xrdp service disabled
#   make all     build ztbroker, ztctl, ztagent and the test programs into build/
#   make check   unit tests (cmocka) and end-to-end tests (node:test)
#   make asan    the same tests under AddressSanitizer + UBSan (build-asan/)
#   make fuzz    a short run of every libFuzzer target (build-fuzz/)
#   make bench   ssh_exec through zt vs OpenSSH, libssh and ssh-mcp; rdp_screenshot
#                warm vs cold vs FreeRDP alone (ratios)
#   make demo    sshd, broker, agent, an admin and a bot; one MCP call (demo-run/)
#   make screenshots  the web console's pages, photographed by its tour test,
#                into docs/screenshots/ (the README shows them)
#
# SANITIZER=address selects the sanitizer build; FUZZ_SECONDS sets the
# length of each fuzz run.

PKGS      := libmicrohttpd libcjson openssl sqlite3 libqrencode libssh yaml-0.1 libcurl
# Only the RDP helper (ztrdp) links FreeRDP and libpng: a crash or a log
# line of theirs stays in its own process, never in ztagent.
RDP_PKGS  := freerdp2 freerdp-client2 winpr2 libpng
SANITIZER ?=
FUZZ_SECONDS ?= 15

ifeq ($(SANITIZER),address)
BUILD     := build-asan
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD     := build
SANFLAGS  :=
endif

# The libraries' flags come from pkg-config, and pkg-config can only answer
# once `make deps` has installed the packages. So every goal that builds
# includes $(CONFIG): make first remakes it (after deps, its order-only
# prerequisite, which runs at every build and installs what is missing),
# then restarts with the flags it wrote. A library that is still missing
# stops the build with its name.
CONFIG    := build/config.mk
NOBUILD   := deps clean help
ifneq ($(filter-out $(NOBUILD),$(or $(MAKECMDGOALS),all)),)
include $(CONFIG)
endif

CFLAGS    ?= -O2 -g
ZT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wformat=2 -Wshadow \
             -Wstrict-prototypes -Wmissing-prototypes -I. -MMD -MP \
             $(PKG_CFLAGS) $(SANFLAGS)
LDLIBS_ZT := $(PKG_LIBS) -lpthread

# Modules of the shared libraries, in dependency order (programs -> mcp,
# resources, policy, audit, store -> tunnel, common). libztbase holds what
# every binary needs (common, tunnel); libzt the rest. ztagent links only
# libztbase: no storage, policy or MCP code.
BASE_SRC   := $(wildcard tunnel/*.c) $(wildcard common/*.c)
LIB_SRC    := $(wildcard resources/*.c) $(wildcard mcp/*.c) $(wildcard policy/*.c) \
              $(wildcard audit/*.c) $(wildcard store/*.c)
BROKER_SRC := $(filter-out broker/main.c,$(wildcard broker/*.c))
CLI_SRC    := $(filter-out cli/main.c,$(wildcard cli/*.c))
AGENT_SRC  := $(filter-out agent/main.c,$(wildcard agent/*.c))
RDP_SRC    := $(wildcard agent/rdp/*.c)
UNIT_SRC   := $(wildcard tests/unit/*_test.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_LIB_SRC := $(wildcard tests/tools/lib/*.c)
CONF_SRC   := $(wildcard tests/conformance/*.c)
FUZZ_SRC   := $(wildcard fuzz/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBBASE := $(BUILD)/libztbase.a
LIBZT   := $(BUILD)/libzt.a $(LIBBASE)
LIBBRK  := $(BUILD)/libbrk.a
LIBCLI  := $(BUILD)/libcli.a
LIBAGT  := $(BUILD)/libagt.a
BINS    := $(BUILD)/ztbroker $(BUILD)/ztctl $(BUILD)/ztagent $(BUILD)/ztrdp
UNITS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
TOOLS   := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
TESTUTIL := $(BUILD)/tests/unit/testutil.o
TOOLUTIL := $(call obj,$(TOOL_LIB_SRC))
CONF_SERVER := $(BUILD)/tests/conformance/mcp-conformance-server

.SECONDARY:
.PHONY: all deps deps-xrdp check check-only unit e2e asan fuzz bench demo screenshots clean help
.DEFAULT_GOAL := all

all: $(BINS) $(UNITS) $(TOOLS) $(CONF_SERVER)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ZT_CFLAGS) -c -o $@ $<

$(BUILD)/libzt.a: $(call obj,$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^

$(LIBBASE): $(call obj,$(BASE_SRC))
	@rm -f $@
	ar rcs $@ $^

# The web console's files (web/README.md), compiled into the broker as a
# generated C table (web/embed.sh): nothing is read from web/ at run time.
# Third-party scripts come from npm (package.json pins their versions;
# make deps installs them) and are served under /assets/vendor/.
WEB_FILES   := web/index.html web/console.css $(sort $(wildcard web/js/*.js))
XTERM       := node_modules/@xterm
WEB_VENDOR  := vendor/xterm.mjs=$(XTERM)/xterm/lib/xterm.mjs \
               vendor/xterm.css=$(XTERM)/xterm/css/xterm.css \
               vendor/addon-fit.mjs=$(XTERM)/addon-fit/lib/addon-fit.mjs
WEB_EMBED   := $(WEB_FILES) $(WEB_VENDOR)
WEB_DEPS    := web/embed.sh $(WEB_FILES) $(foreach v,$(WEB_VENDOR),$(lastword $(subst =, ,$(v))))
CONSOLE_GEN := gen/brk_console_assets

$(XTERM)/%:
	@echo "$@ is missing: make deps installs it (npm ci)" >&2; exit 1

$(BUILD)/$(CONSOLE_GEN).c: $(WEB_DEPS)
	@mkdir -p $(dir $@)
	sh web/embed.sh $@ $(WEB_EMBED)

$(BUILD)/$(CONSOLE_GEN).o: $(BUILD)/$(CONSOLE_GEN).c
	$(CC) $(CFLAGS) $(ZT_CFLAGS) -c -o $@ $<

$(LIBBRK): $(call obj,$(BROKER_SRC)) $(BUILD)/$(CONSOLE_GEN).o
	@rm -f $@
	ar rcs $@ $^

$(LIBCLI): $(call obj,$(CLI_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ztbroker: $(call obj,broker/main.c) $(LIBBRK) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT)

$(BUILD)/ztctl: $(call obj,cli/main.c) $(LIBCLI) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT)

$(LIBAGT): $(call obj,$(AGENT_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ztagent: $(call obj,agent/main.c) $(LIBAGT) $(LIBBASE)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT)

# The RDP helper the agent runs per desktop session (agent/rdp/README.md).
# FreeRDP's headers come in as system headers: their warnings are not ours.
$(call obj,$(RDP_SRC)): ZT_CFLAGS += $(RDP_CFLAGS)

$(BUILD)/ztrdp: $(call obj,$(RDP_SRC)) $(LIBBASE)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(RDP_LIBS) $(LDLIBS_ZT)

# Unit tests link only what they test: brk_*_test the broker's modules,
# cli_*_test ztctl's, agt_*_test ztagent's, the others the shared library;
# all of them the shared test helpers (tests/unit/testutil.c).
$(BUILD)/tests/unit/brk_%_test: $(BUILD)/tests/unit/brk_%_test.o $(TESTUTIL) $(LIBBRK) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT) $(CMOCKA)

$(BUILD)/tests/unit/cli_%_test: $(BUILD)/tests/unit/cli_%_test.o $(TESTUTIL) $(LIBCLI) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT) $(CMOCKA)

$(BUILD)/tests/unit/agt_%_test: $(BUILD)/tests/unit/agt_%_test.o $(TESTUTIL) $(LIBAGT) $(LIBBASE)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT) $(CMOCKA)

$(BUILD)/tests/unit/%_test: $(BUILD)/tests/unit/%_test.o $(TESTUTIL) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT) $(CMOCKA)

# Debian 12 packages: toolchain, the libraries, and the real peers the tests
# start (sshd, Node for the end-to-end tests, clang's libFuzzer).
DEB_PKGS := gcc make pkg-config clang libclang-rt-14-dev libmicrohttpd-dev libcjson-dev \
            libssl-dev libsqlite3-dev libqrencode-dev libcmocka-dev libyaml-dev libssh-dev \
            libcurl4-openssl-dev openssh-server openssh-client nodejs sqlite3 oathtool chromium \
            freerdp2-dev libpng-dev freerdp2-shadow-x11 winpr-utils xvfb xterm x11-apps xdotool \
            openssl
# Opt-in (make deps-xrdp), not in DEB_PKGS: the package's postinst enables
# and starts xrdp.service (every interface, port 3389) and xrdp-sesman where
# systemd runs. The tests run their own xrdp on loopback
# (tests/fixtures/xrdpd.sh) and skip it when these are missing or not root.
XRDP_PKGS := xrdp xorgxrdp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# pkg-config module -> the Debian package that provides it, for errors.
PKG_DEB  := libmicrohttpd=libmicrohttpd-dev libcjson=libcjson-dev openssl=libssl-dev \
            sqlite3=libsqlite3-dev libqrencode=libqrencode-dev libssh=libssh-dev \
            yaml-0.1=libyaml-dev libcurl=libcurl4-openssl-dev cmocka=libcmocka-dev \
            freerdp2=freerdp2-dev freerdp-client2=freerdp2-dev winpr2=freerdp2-dev \
            libpng=libpng-dev

$(CONFIG): Makefile | deps
	@mkdir -p $(dir $@)
	@missing=; for p in $(PKGS) $(RDP_PKGS) cmocka; do pkg-config --exists $$p || \
	  missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  for p in $$missing; do for m in $(PKG_DEB); do [ "$${m%%=*}" = $$p ] && \
	    echo "make: library $$p is missing (Debian package $${m#*=}; make deps installs it)" >&2; \
	  done; done; exit 1; fi
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	  echo "PKG_LIBS := $$(pkg-config --libs $(PKGS))"; \
	  echo "CMOCKA := $$(pkg-config --libs cmocka)"; \
	  echo "RDP_CFLAGS := $$(pkg-config --cflags $(RDP_PKGS) | sed 's/-I/-isystem /g')"; \
	  echo "RDP_LIBS := $$(pkg-config --libs $(RDP_PKGS))"; } >$@.tmp && mv $@.tmp $@

# Test-only programs (never installed) that the end-to-end tests drive,
# with what they share (tests/tools/lib/: options, the test sshd's
# connection); rec_seed records a session as the broker does, so it links
# the broker's modules too.
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(TOOLUTIL) $(TESTUTIL) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT)

$(BUILD)/tests/tools/rec_seed: $(BUILD)/tests/tools/rec_seed.o $(TESTUTIL) $(LIBBRK) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT)

# The MCP conformance server: the engine and the Streamable HTTP transport
# with the official suite's fixtures, on plain HTTP loopback (test-only).
$(CONF_SERVER): $(call obj,$(CONF_SRC)) $(LIBBRK) $(LIBZT)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS_ZT)

deps:
	@have=" $$(dpkg-query -W -f='$${db:Status-Status}:$${Package}\n' $(DEB_PKGS) 2>/dev/null | \
	  sed -n 's/^installed://p' | tr '\n' ' ')"; \
	missing=; for p in $(DEB_PKGS); do case "$$have" in *" $$p "*) ;; \
	  *) missing="$$missing $$p";; esac; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v npm >/dev/null || { echo "deps: installing npm"; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	@if [ -f package-lock.json ] && ! cmp -s package-lock.json node_modules/.zt-lock; then \
	  echo "deps: npm ci"; npm ci --no-audit --no-fund --loglevel=error && \
	  cp package-lock.json node_modules/.zt-lock; fi

# Installs XRDP_PKGS, then stops and disables the system's xrdp services
# (deb-systemd-invoke starts a disabled unit on no later upgrade either);
# where no systemd runs (containers: policy-rc.d) nothing was started.
deps-xrdp: deps
	@missing=; for p in $(XRDP_PKGS); do dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | \
	  grep -qx installed || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps-xrdp: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@if [ -d /run/systemd/system ]; then \
	  $(SUDO) systemctl disable --now -q xrdp.service xrdp-sesman.service; fi

check: deps
	@$(MAKE) --no-print-directory check-only

# The tests without the install step (used by check and asan).
check-only: all
	@$(MAKE) --no-print-directory unit e2e

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "== $$t"; ZT_TEST_DATA=tests/unit/data $$t; done

# The end-to-end tests run on the Node 22 that `npm ci` installs (package
# "node"), whatever Node the system has: Debian 12's own is 18.
NODE22 := node_modules/.bin/node
E2E    := $(wildcard tests/e2e/*.test.mjs)

e2e: $(BINS) $(TOOLS) $(CONF_SERVER)
	ZT_BUILD=$(abspath $(BUILD)) $(NODE22) --test --test-concurrency=2 $(E2E)

asan: deps
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0 \
	  UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	  $(MAKE) --no-print-directory SANITIZER=address check-only

# libFuzzer needs clang; each target links the library, broker, ztctl and
# ztagent modules (not the mains) built with -fsanitize=fuzzer-no-link so the
# fuzzer sees their coverage.
FUZZ_BUILD  := build-fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -MMD -MP $(PKG_CFLAGS) \
               -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(LIB_SRC) $(BASE_SRC) $(BROKER_SRC) \
                $(CLI_SRC) $(AGENT_SRC)) $(FUZZ_BUILD)/$(CONSOLE_GEN).o
FUZZ_BINS := $(patsubst fuzz/%.c,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_SRC))

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/$(CONSOLE_GEN).c: $(WEB_DEPS)
	@mkdir -p $(dir $@)
	sh web/embed.sh $@ $(WEB_EMBED)

$(FUZZ_BUILD)/$(CONSOLE_GEN).o: $(FUZZ_BUILD)/$(CONSOLE_GEN).c
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz/%.o $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ZT)

fuzz: deps $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	  n=$${f#$(FUZZ_BUILD)/fuzz_}; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  echo "== fuzz $$n ($(FUZZ_SECONDS) s)"; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	      $(FUZZ_BUILD)/corpus/$$n fuzz/corpus/$$n >$(FUZZ_BUILD)/$$n.log 2>&1; then \
	    tail -n 40 $(FUZZ_BUILD)/$$n.log; echo "fuzz $$n FAILED (log: $(FUZZ_BUILD)/$$n.log)"; \
	    exit 1; fi; \
	  tail -n 1 $(FUZZ_BUILD)/$$n.log; \
	done

# Benchmarks against peers in the same run (bench/README.md): numbers and
# ratios, never pass/fail.
bench: deps all
	ZT_BUILD=$(abspath $(BUILD)) $(NODE22) bench/ssh_exec.mjs
	ZT_BUILD=$(abspath $(BUILD)) $(NODE22) bench/rdp_screenshot.mjs

demo: deps all
	@./examples/demo.sh

screenshots: deps $(BINS) $(TOOLS)
	ZT_BUILD=$(abspath $(BUILD)) ZT_SCREENSHOTS=$(CURDIR)/docs/screenshots \
	  $(NODE22) --test tests/e2e/console_tour.test.mjs

clean:
	rm -rf build build-asan build-fuzz

help:
	@sed -n '3,15p' Makefile

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
