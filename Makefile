# Two commands do everything on a fresh Debian machine: `make demo` and `make test`.
# Both first install missing Debian packages (scripts/bootstrap.sh), then configure and
# build with Meson.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds per fuzz target for `make fuzz` (needs clang; not part of `make test`).
FUZZ_TIME  ?= 60
SHARED_DIR ?= ../shared
# Set SANITIZE=0 to skip the second, ASan+UBSan test run of `make test`.
SANITIZE   ?= 1

MESON_SETUP = meson setup -Dwerror=true -Dshared_dir=$(SHARED_DIR)
# The tests' temporary files go to a scratch directory, on a tmpfs when there is one
# (scripts/in-scratch-dir.sh says why).
SCRATCH = scripts/in-scratch-dir.sh

.PHONY: all bootstrap bootstrap-test configure build demo test test-asan fuzz bench install clean

all: build

bootstrap:
	@scripts/bootstrap.sh

bootstrap-test:
	@scripts/bootstrap.sh --test

build: configure
	meson compile -C $(BUILD)

# The binaries `make demo` runs; it builds only these (and the libraries they link).
TOOLS = spec-kitty kitty-mint-id kitty-init kitty-lanes kitty-parse-tasks kitty-status \
	kitty-release-check kitty-auth-refresh kitty-next kitty-workspace kitty-merge kitty-dashboard kitty-doctor

configure: bootstrap
	@[ -f $(BUILD)/build.ninja ] || $(MESON_SETUP) $(BUILD)

demo: configure
	meson compile -C $(BUILD) $(TOOLS)
	@scripts/demo.sh $(BUILD)/tools

test: bootstrap-test build
	$(SCRATCH) meson test -C $(BUILD) --print-errorlogs
	@if [ "$(SANITIZE)" != 0 ]; then $(MAKE) --no-print-directory test-asan; fi

test-asan: bootstrap
	@[ -f $(ASAN_BUILD)/build.ninja ] || $(MESON_SETUP) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false $(ASAN_BUILD)
	meson compile -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		$(SCRATCH) meson test -C $(ASAN_BUILD) --print-errorlogs

fuzz: bootstrap
	@command -v clang++ >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CXX=clang++ CC=clang meson setup -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false \
		-Dshared_dir=$(SHARED_DIR) $(FUZZ_BUILD)
	meson compile -C $(FUZZ_BUILD)
	@for t in tasks-md:tasks wp-frontmatter:frontmatter lanes-json:lanes-json lane-inputs:lanes-input credentials:credentials status-events:status; do \
		mkdir -p $(FUZZ_BUILD)/corpus-$${t%%:*}; \
		$(FUZZ_BUILD)/tests/fuzz-$${t%%:*} -max_total_time=$(FUZZ_TIME) \
			$(FUZZ_BUILD)/corpus-$${t%%:*} tests/fuzz/seeds/$${t##*:} || exit 1; \
	done

bench: build
	@scripts/bench.sh $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
