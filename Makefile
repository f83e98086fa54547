# Two commands do everything on a fresh Debian machine: `make demo` and `make test`.
# Both first install missing Debian packages (scripts/bootstrap.sh), then configure and
# build with Meson.

BUILD      ?= build
ASAN_BUILD ?= build-asan
SHARED_DIR ?= ../shared
# Set SANITIZE=0 to skip the second, ASan+UBSan test run of `make test`.
SANITIZE   ?= 1

MESON_SETUP = meson setup -Dwerror=true -Dshared_dir=$(SHARED_DIR)

.PHONY: all bootstrap build demo test test-asan bench install clean

all: build

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@[ -f $(BUILD)/build.ninja ] || $(MESON_SETUP) $(BUILD)
	meson compile -C $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)/tools

test: build
	meson test -C $(BUILD) --print-errorlogs
	@if [ "$(SANITIZE)" != 0 ]; then $(MAKE) --no-print-directory test-asan; fi

test-asan: bootstrap
	@[ -f $(ASAN_BUILD)/build.ninja ] || $(MESON_SETUP) -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false $(ASAN_BUILD)
	meson compile -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --print-errorlogs

bench: build
	@scripts/bench.sh $(BUILD)

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
