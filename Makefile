# floe — build, test, demo, install, bench. `make help` lists the targets.

# The DuckDB versions floe is built for are listed in extension/duckdb/versions, the one place
# they are set; the first is the default (build/floe.duckdb_extension, the tests, the demo).
# Each build loads only into its exact version and lives in build/v<version>/.
DUCKDB_VERSIONS := $(shell awk '!/^#/ && NF { print $$1 }' extension/duckdb/versions)
DUCKDB_VERSION := $(firstword $(DUCKDB_VERSIONS))
OTHER_DUCKDB_VERSIONS := $(wordlist 2,$(words $(DUCKDB_VERSIONS)),$(DUCKDB_VERSIONS))
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

UNAME_M := $(shell uname -m)
PLATFORM := linux_$(if $(filter aarch64 arm64,$(UNAME_M)),arm64,amd64)

# Compiling DuckDB takes about 20 minutes per version on 2 cores, so each is built once per machine,
# version and flags, outside the clone, in FLOE_CACHE (extension/duckdb/build.py); a clean clone
# reuses it, an empty cache rebuilds it. The only state outside the clone that the build and the
# tests use (.ci/run proves it).
FLOE_CACHE ?= $(HOME)/.cache/floe
duckdb_paths = $(FLOE_CACHE)/duckdb-v$(1)-O2/paths
DUCKDB_PATHS := $(call duckdb_paths,$(DUCKDB_VERSION))
# The extension crate's build script compiles the glue against this DuckDB (for build and lint).
duckdb_env = FLOE_DUCKDB_VERSION=$(1) FLOE_DUCKDB_LIB_DIR=$$(cut -d' ' -f1 $(call duckdb_paths,$(1))) \
	FLOE_DUCKDB_SOURCE=$$(cut -d' ' -f2 $(call duckdb_paths,$(1)))
export CARGO_TARGET_DIR := $(FLOE_CACHE)/target

VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
BUILD := build
extension_for = $(BUILD)/v$(1)/floe.duckdb_extension
EXTENSIONS := $(foreach v,$(DUCKDB_VERSIONS),$(call extension_for,$(v)))
# The default version's build, where the tests, the demo and the README look for it.
EXTENSION := $(BUILD)/floe.duckdb_extension

SOURCES := Cargo.toml Cargo.lock $(shell find core extension/src extension/glue extension/build.rs -type f 2>/dev/null)

# The C ABI's header, written from its Rust side (extension/src/abi) by cbindgen in a workspace of
# its own (extension/abi-header/Cargo.toml says why); committed, and checked by `make lint`. The
# tool writes the file only when its text changes, so it runs again on each build (a fraction of a second).
ABI_HEADER := extension/glue/include/floe_abi.h
ABI_HEADER_TOOL = CARGO_TARGET_DIR=$(FLOE_CACHE)/abi-header-target cargo run --quiet --locked \
	--manifest-path extension/abi-header/Cargo.toml -- extension/src/abi/mod.rs
$(ABI_HEADER): $(shell find extension/src/abi extension/abi-header/src -type f 2>/dev/null) extension/abi-header/Cargo.lock
	$(ABI_HEADER_TOOL) $@

.PHONY: all build wheel test test-rust test-sql test-python test-bench test-compat lint demo install venv reference-venv bench clean help
all: build

help:
	@echo "make          build floe for DuckDB $(DUCKDB_VERSIONS) into $(BUILD)/v<version>/ ($(EXTENSION): v$(DUCKDB_VERSION))"
	@echo "make test     cargo tests, SQL logic tests and pytest against a real catalog and S3 on v$(DUCKDB_VERSION);"
	@echo "              the SQL logic, shell and dbt tests on $(OTHER_DUCKDB_VERSIONS)"
	@echo "make lint     rustfmt, clippy (warnings are errors) and clang-format checks"
	@echo "make demo     start the test bed, create a sample table, open DuckDB with floe attached"
	@echo "make install  make 'LOAD floe' work by name in DuckDB $(DUCKDB_VERSIONS)"
	@echo "make wheel    the floe_dbt wheel (dbt-duckdb plugin + extension) into $(WHEELS), installed in .venv"
	@echo "make bench    benchmarks against the official extension and plain Parquet"

build: $(EXTENSION) $(EXTENSIONS)

# Only the directory name (version and flags) keys the cache: editing build.py does not rebuild
# a DuckDB that took half an hour. cmake and ninja come from the venv.
$(FLOE_CACHE)/duckdb-v%-O2/paths: | $(VENV)/.installed
	PATH=$(VENV)/bin:$$PATH python3 extension/duckdb/build.py $* $(FLOE_CACHE)

# Written beside and renamed into place: a test loading the extension meanwhile (another make in
# the same clone) gets the old file or the new one, never half of one. The file keeps the name
# floe.duckdb_extension in every version's directory: DuckDB derives the entry point from it.
# One cargo build at a time: they share the target directory and its libfloe.so.
.NOTPARALLEL:
$(BUILD)/v%/floe.duckdb_extension: $(FLOE_CACHE)/duckdb-v%-O2/paths $(ABI_HEADER) $(SOURCES) extension/metadata_footer.py
	$(call duckdb_env,$*) cargo build --release -p floe-extension
	mkdir -p $(@D)
	strip --strip-unneeded -o $(@D)/libfloe.$$$$.so $(CARGO_TARGET_DIR)/release/libfloe.so && \
		python3 extension/metadata_footer.py $(@D)/libfloe.$$$$.so $@.$$$$.tmp v$* $(PLATFORM) $(VERSION) && \
		rm $(@D)/libfloe.$$$$.so && mv $@.$$$$.tmp $@

$(EXTENSION): $(call extension_for,$(DUCKDB_VERSION))
	cp $< $@.$$$$.tmp && mv $@.$$$$.tmp $@

# The dbt plugin's wheel carries the extension; installed into .venv for the dbt tests.
WHEELS := $(BUILD)/wheels
PYTHON_SOURCES := $(shell find python -type f -not -name '*.duckdb_extension' -not -path '*/__pycache__/*' 2>/dev/null)
wheel: $(WHEELS)/.installed
# One extension per DuckDB version, at floe_dbt/duckdb/v<version>/; the package is emptied first
# so that a version dropped from DUCKDB_VERSIONS leaves no build behind in the wheel.
WHEEL_EXTENSIONS := $(foreach v,$(DUCKDB_VERSIONS),$(BUILD)/v$(v)/floe.duckdb_extension)
$(WHEELS)/.installed: $(WHEEL_EXTENSIONS) $(PYTHON_SOURCES) $(VENV)/.installed
	rm -rf python/floe_dbt/duckdb
	$(foreach v,$(DUCKDB_VERSIONS),mkdir -p python/floe_dbt/duckdb/v$(v) && \
		cp $(BUILD)/v$(v)/floe.duckdb_extension python/floe_dbt/duckdb/v$(v)/ && ) true
	rm -rf $(WHEELS)
	cd python && FLOE_DUCKDB_VERSIONS="$(DUCKDB_VERSIONS)" $(VENV)/bin/maturin build --release --quiet -o $(CURDIR)/$(WHEELS)
	$(VENV)/bin/pip install --quiet --force-reinstall --no-deps $(WHEELS)/*.whl
	touch $@

# The default version's environment: its duckdb, and the cmake and ninja that build DuckDB.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt duckdb==$(DUCKDB_VERSION)
	touch $@

# Every other version's: its duckdb and DuckDB's shell (PyPI's duckdb-cli), for test-compat.
$(CURDIR)/.venv-v%/.installed: requirements.txt
	python3 -m venv $(@D)
	$(@D)/bin/pip install --quiet --upgrade pip
	$(@D)/bin/pip install --quiet -r requirements.txt duckdb==$* duckdb-cli==$*
	touch $@

# The reference engine (tests/reference_engine.py): DuckDB's official iceberg extension and httpfs,
# whose PyPI builds exist only for the DuckDB that tools/reference/requirements.txt pins, run in a
# Python of their own; the tests and the benchmark start it as a child process.
REFERENCE_VENV := $(CURDIR)/.venv-reference
REFERENCE_PYTHON := $(REFERENCE_VENV)/bin/python
reference-venv: $(REFERENCE_VENV)/.installed
$(REFERENCE_VENV)/.installed: tools/reference/requirements.txt
	python3 -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/pip install --quiet --upgrade pip
	$(REFERENCE_VENV)/bin/pip install --quiet -r tools/reference/requirements.txt
	touch $@

install: $(EXTENSIONS) venv reference-venv
	$(foreach v,$(DUCKDB_VERSIONS),mkdir -p $(HOME)/.duckdb/extensions/v$(v)/$(PLATFORM) && \
		cp $(call extension_for,$(v)) $(HOME)/.duckdb/extensions/v$(v)/$(PLATFORM)/floe.duckdb_extension && ) true
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m tools.install_extensions $(HOME)/.duckdb/extensions/v$(DUCKDB_VERSION)/$(PLATFORM)
	@echo "installed floe for DuckDB $(DUCKDB_VERSIONS) into $(HOME)/.duckdb/extensions/; in the duckdb shell:" \
		"SET allow_unsigned_extensions = true (or start it with -unsigned), then LOAD floe;"

test: test-rust test-sql test-python test-bench test-compat

test-rust: venv
	FLOE_WEED=$(VENV)/bin/weed cargo test --release -p floe-core

test-sql: $(EXTENSION) venv reference-venv
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m sql_tests.run --extension $(EXTENSION)

# The GCS and Azure test beds (tests/cloud_beds.py): Rustberg, a real Iceberg REST catalog that
# keeps a warehouse on either, built once per machine into FLOE_CACHE like DuckDB; Azurite from
# npm at the version tools/azurite/package-lock.json pins (fake-gcs-server comes with the venv).
RUSTBERG_VERSION := 0.3.0
RUSTBERG := $(FLOE_CACHE)/rustberg/bin/rustberg
# Its release profile asks for fat LTO and one codegen unit, which doubles a cold build on 2 cores
# for a server the tests start; cargo's profile variables override both.
$(RUSTBERG):
	CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
		CARGO_TARGET_DIR=$(FLOE_CACHE)/rustberg-target cargo install --locked rustberg --version $(RUSTBERG_VERSION) --root $(FLOE_CACHE)/rustberg

AZURITE_INSTALLED := tools/azurite/node_modules/.installed
$(AZURITE_INSTALLED): tools/azurite/package.json tools/azurite/package-lock.json
	cd tools/azurite && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Temporary directories of passing tests are removed; a failing test's stay for a look.
# No httpfs is installed for the tests: floe reaches storage itself, and provides CREATE SECRET
# (TYPE s3) where httpfs is absent; the test of coexistence with httpfs loads it by path where a
# build for the host DuckDB exists, the one with another s3:// file system (s3fs) runs everywhere.
# The official extension runs in the reference engine's Python.
test-python: $(EXTENSION) venv reference-venv wheel $(RUSTBERG) $(AZURITE_INSTALLED)
	FLOE_EXTENSION=$(CURDIR)/$(EXTENSION) FLOE_RUSTBERG=$(RUSTBERG) FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) \
		$(VENV)/bin/pytest -q -o tmp_path_retention_policy=failed tests

# The other supported versions, each in a venv with that duckdb: the SQL logic tests, the shell
# (load by path and by name), the dbt end-to-end tests through the wheel that carries every
# build, read restrictions (refused where DuckDB has no secure views) and storage without httpfs
# beside another s3:// file system. The whole suite runs on the default version above.
test-compat: $(foreach v,$(OTHER_DUCKDB_VERSIONS),test-v$(v))
test-v%: $(BUILD)/v%/floe.duckdb_extension $(CURDIR)/.venv-v%/.installed reference-venv wheel $(RUSTBERG)
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(CURDIR)/.venv-v$*/bin/python -m sql_tests.run --extension $(call extension_for,$*)
	$(CURDIR)/.venv-v$*/bin/pip install --quiet --force-reinstall --no-deps $(WHEELS)/*.whl
	FLOE_EXTENSION=$(CURDIR)/$(call extension_for,$*) FLOE_RUSTBERG=$(RUSTBERG) FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) \
		$(CURDIR)/.venv-v$*/bin/pytest -q -o tmp_path_retention_policy=failed tests/test_shell.py tests/test_dbt.py tests/test_dbt_incremental.py tests/test_dbt_wheel.py \
		tests/test_restriction_actions.py tests/test_object_storage.py

# The benchmarks at tiny sizes: keeps the harness working; `make bench` measures. floe runs on
# every version (bench/versions.py): the default's build in this Python, each other's in a child
# of its venv; W5 loads floe through the wheel.
BENCH_PREREQUISITES := $(EXTENSIONS) $(foreach v,$(OTHER_DUCKDB_VERSIONS),$(CURDIR)/.venv-v$(v)/.installed) \
	venv reference-venv wheel
test-bench: $(BENCH_PREREQUISITES)
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m bench.run --extension $(EXTENSION) --smoke

demo: $(EXTENSION) venv
	$(PYTHON) -m tools.demo --extension $(EXTENSION)

bench: $(BENCH_PREREQUISITES)
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m bench.run --extension $(EXTENSION)

# Formatting and lints, all three reported in one run; nothing is rewritten (`cargo fmt --all`
# and `clang-format -i` do that).
# floe_abi.h is generated by cbindgen and laid out by it; lint checks it matches the ABI's Rust side.
GLUE_SOURCES := $(shell find extension/glue \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -not -name floe_abi.h 2>/dev/null)
lint: $(DUCKDB_PATHS) clang-format
	@failed=""; mkdir -p $(BUILD); \
	$(ABI_HEADER_TOOL) $(BUILD)/floe_abi.h.check && cmp -s $(BUILD)/floe_abi.h.check $(ABI_HEADER) || \
		{ echo "$(ABI_HEADER) differs from extension/src/abi: run make $(ABI_HEADER)"; failed="$$failed abi-header"; }; \
	cargo fmt --all --check || failed="$$failed rustfmt"; \
	$(call duckdb_env,$(DUCKDB_VERSION)) cargo clippy --release --workspace --all-targets -- -D warnings || failed="$$failed clippy"; \
	clang-format --dry-run --Werror $(GLUE_SOURCES) || failed="$$failed clang-format"; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed"; exit 1; fi

# Debian's clang-format, installed when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
.PHONY: clang-format
clang-format:
	@command -v clang-format >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y clang-format; }

clean:
	rm -rf $(BUILD) python/floe_dbt/duckdb
