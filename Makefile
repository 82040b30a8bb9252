# mcpdeck — non-recursive GNU Makefile.
#   make            build ./build/mcpdeck
#   make run        install what is missing, build, open the TUI
#   make test       install what is missing, build, run every test
#   make asan       the tests under AddressSanitizer + UBSan
#   make fuzz       the parsers under libFuzzer (FUZZ_SECONDS each, default 60)
#   make bench      benchmarks (bench/README.md)
#   make install PREFIX=/usr/local
# Quiet unless V=1.

.DEFAULT_GOAL := all
PKGS     := ncursesw libcurl libcjson sqlite3 libgit2 yaml-0.1 libcrypto libmicrohttpd
PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 \
            -Wno-unused-parameter
ifeq ($(CI),true)
WARN     += -Werror
endif
SAN      ?=
CFLAGS_ALL = $(OPT) $(WARN) $(SAN) -D_GNU_SOURCE -Isrc -Iui -I$(BUILD) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SAN) $(PKG_LIBS) -lpthread -lm $(LDFLAGS) $(LDLIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Dependencies: build/config.mk is (re)made by scripts/deps.sh, which
# installs missing Debian packages first; GNU make then restarts with it.
NODEPS_GOALS := clean help
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
else
-include $(BUILD)/config.mk
endif

$(BUILD)/config.mk: scripts/deps.sh Makefile
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh build
	@pkg-config --exists $(PKGS) || { echo "missing libraries: $(PKGS)" >&2; exit 1; }
	@printf 'PKG_CFLAGS := %s\nPKG_LIBS := %s\n' \
	    "$$(pkg-config --cflags $(PKGS))" "$$(pkg-config --libs $(PKGS))" > $@

# Engine sources (src/), UI sources (ui/). main.c is kept apart so unit
# tests can link the engine library.
ENGINE_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
UI_SRC     := $(wildcard ui/*.c)
EMBED_IN   := $(sort $(wildcard data/*.yaml data/schema/*.sql data/prompts/* themes/*.yaml))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/embedded.o
UI_OBJ     := $(UI_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ   := $(BUILD)/src/main.o
LIB        := $(BUILD)/libmcpdeck.a
BIN        := $(BUILD)/mcpdeck

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FIXTURE_SRC := $(wildcard tests/fixtures/*.c)
FIXTURE_BIN := $(FIXTURE_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)
# Fuzz harnesses: linked with replay.c they replay tests/fuzz/corpus/ in
# `make test`; linked with libFuzzer (clang) `make fuzz` runs them.
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LF    := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/libfuzzer/%)
FUZZ_SECONDS ?= 60

.PHONY: all run test unit e2e asan fuzz fuzz-run bench install clean deps-test help
all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/embedgen: scripts/embedgen.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -std=c11 -Wall -Wextra -o $@ $<

$(BUILD)/embedded.c: $(BUILD)/embedgen $(EMBED_IN)
	@$(if $(Q),echo "  EMBED   $(words $(EMBED_IN)) files")
	$(Q)$(BUILD)/embedgen $@ $(EMBED_IN)

$(BUILD)/embedded.o: $(BUILD)/embedded.c
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(ENGINE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(UI_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(MAIN_OBJ) $(UI_OBJ) $(LIB) $(LDLIBS_ALL)

# The UI's unit tests also link the ui/ objects (main.c excluded).
UI_TESTS := $(BUILD)/tests/test_ui $(BUILD)/tests/test_textedit
$(UI_TESTS): $(BUILD)/tests/%: tests/unit/%.c $(UI_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(UI_OBJ) $(LIB) -lcmocka $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) -lcmocka $(LDLIBS_ALL)

$(BUILD)/fixtures/%: tests/fixtures/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(OPT) $(WARN) -D_GNU_SOURCE -o $@ $<

# The harnesses that draw link the ui/ objects too.
FUZZ_UI := $(foreach h,fuzz_elicit fuzz_text,$(BUILD)/fuzz/$(h) $(BUILD)/libfuzzer/$(h))
$(FUZZ_UI): FUZZ_UI_OBJ = $(UI_OBJ)
$(FUZZ_UI): $(UI_OBJ)

# The harness objects come from the %.o rule (so their headers are tracked).
FUZZ_OBJ := $(FUZZ_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/fuzz/replay.o
.SECONDARY: $(FUZZ_OBJ)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(FUZZ_UI_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/libfuzzer/%: $(BUILD)/tests/fuzz/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@ (libFuzzer)")
	$(Q)$(CC) -fsanitize=fuzzer -o $@ $< $(FUZZ_UI_OBJ) $(LIB) $(LDLIBS_ALL)

deps-test:
	@sh scripts/deps.sh test

run: $(BIN)
	./$(BIN) $(ARGS)

test: deps-test $(BIN) $(UNIT_BIN) $(FIXTURE_BIN) $(FUZZ_BIN)
	@BUILD=$(BUILD) sh tests/run.sh

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

fuzz:
	@sh scripts/deps.sh fuzz
	$(MAKE) BUILD=build-fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined" \
	    CFLAGS="-Wno-missing-field-initializers -Wno-format-nonliteral" fuzz-run

fuzz-run: $(FUZZ_LF)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ)

bench: $(BIN)
	@sh bench/run.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mcpdeck
	install -m 644 completions/mcpdeck.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mcpdeck
	install -m 644 completions/_mcpdeck $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mcpdeck
	install -m 644 completions/mcpdeck.fish \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mcpdeck.fish
	@if [ -f mcpdeck.1 ]; then install -m 644 mcpdeck.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi

clean:
	rm -rf build build-asan build-fuzz

help:
	@sed -n '2,9p' Makefile

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
