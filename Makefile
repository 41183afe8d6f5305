# floe — build, test, demo, install, bench. `make help` lists the targets.

# The one place the DuckDB version is set: the extension is built against its headers and
# loads only into this exact version; the Python environment pins the same.
DUCKDB_VERSION := 1.5.5
# libduckdb-sys encodes DuckDB x.y.z as 1.<x><yy><zz>.0 (1.5.5 -> 1.10505.0).
LIBDUCKDB_SYS_VERSION := $(shell echo $(DUCKDB_VERSION) | awk -F. '{ printf "1.%d%02d%02d.0", $$1, $$2, $$3 }')
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

UNAME_M := $(shell uname -m)
PLATFORM := linux_$(if $(filter aarch64 arm64,$(UNAME_M)),arm64,amd64)

# Compiling DuckDB takes ~15 minutes on 2 cores, so it is built once per machine, DuckDB version
# and flags, outside the clone, in FLOE_CACHE; a clean clone reuses it, an empty cache rebuilds it.
# The only state outside the clone that the build and the tests use (.ci/run proves it).
FLOE_CACHE ?= $(HOME)/.cache/floe
DUCKDB_CXXFLAGS := -fvisibility=hidden -fvisibility-inlines-hidden -D_GLIBCXX_USE_CXX11_ABI=1
DUCKDB_DIR := $(FLOE_CACHE)/duckdb-v$(DUCKDB_VERSION)-O2
DUCKDB_PATHS := $(DUCKDB_DIR)/paths
# The extension crate's build script compiles the glue against this DuckDB (for build and lint).
DUCKDB_ENV = FLOE_DUCKDB_LIB_DIR=$$(cut -d' ' -f1 $(DUCKDB_PATHS)) FLOE_DUCKDB_SOURCE=$$(cut -d' ' -f2 $(DUCKDB_PATHS))
export CARGO_TARGET_DIR := $(FLOE_CACHE)/target

VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
BUILD := build
EXTENSION := $(BUILD)/floe.duckdb_extension
EXTENSION_DIR := $(HOME)/.duckdb/extensions/v$(DUCKDB_VERSION)/$(PLATFORM)

SOURCES := Cargo.toml Cargo.lock $(shell find core extension/src extension/glue extension/build.rs -type f 2>/dev/null)

.PHONY: all build wheel test test-rust test-sql test-python test-bench lint demo install venv reference-venv bench clean help
all: build

help:
	@echo "make          build $(EXTENSION) for DuckDB v$(DUCKDB_VERSION)"
	@echo "make test     cargo tests, SQL logic tests and pytest against a real catalog and S3"
	@echo "make lint     rustfmt, clippy (warnings are errors) and clang-format checks"
	@echo "make demo     start the test bed, create a sample table, open DuckDB with floe attached"
	@echo "make install  make 'LOAD floe' work by name in DuckDB v$(DUCKDB_VERSION)"
	@echo "make wheel    the floe_dbt wheel (dbt-duckdb plugin + extension) into $(WHEELS), installed in .venv"
	@echo "make bench    benchmarks against the official extension and plain Parquet"

build: $(EXTENSION)

$(DUCKDB_PATHS): extension/duckdb-static/Cargo.toml.in extension/duckdb-static/Cargo.lock \
		extension/duckdb-static/build.rs extension/duckdb-static/src/main.rs
	mkdir -p $(DUCKDB_DIR)/crate/src
	sed 's/@LIBDUCKDB_SYS_VERSION@/$(LIBDUCKDB_SYS_VERSION)/' extension/duckdb-static/Cargo.toml.in > $(DUCKDB_DIR)/crate/Cargo.toml
	cp extension/duckdb-static/build.rs $(DUCKDB_DIR)/crate/
	cp extension/duckdb-static/src/main.rs $(DUCKDB_DIR)/crate/src/
	[ -f $(DUCKDB_DIR)/crate/Cargo.lock ] || cp extension/duckdb-static/Cargo.lock $(DUCKDB_DIR)/crate/
	cd $(DUCKDB_DIR)/crate && CARGO_TARGET_DIR=$(DUCKDB_DIR) CXXFLAGS="$(DUCKDB_CXXFLAGS)" cargo build --release
	$(DUCKDB_DIR)/release/floe-duckdb-static > $@.tmp && mv $@.tmp $@

# Written beside and renamed into place: a test loading the extension meanwhile (another make in
# the same clone) gets the old file or the new one, never half of one.
$(EXTENSION): $(DUCKDB_PATHS) $(SOURCES) extension/metadata_footer.py
	$(DUCKDB_ENV) cargo build --release -p floe-extension
	mkdir -p $(BUILD)
	strip --strip-unneeded -o $(BUILD)/libfloe.$$$$.so $(CARGO_TARGET_DIR)/release/libfloe.so && \
		python3 extension/metadata_footer.py $(BUILD)/libfloe.$$$$.so $@.$$$$.tmp v$(DUCKDB_VERSION) $(PLATFORM) $(VERSION) && \
		rm $(BUILD)/libfloe.$$$$.so && mv $@.$$$$.tmp $@

# The dbt plugin's wheel carries the extension; installed into .venv for the dbt tests.
WHEELS := $(BUILD)/wheels
PYTHON_SOURCES := $(shell find python -type f -not -name '*.duckdb_extension' -not -path '*/__pycache__/*' 2>/dev/null)
wheel: $(WHEELS)/.installed
$(WHEELS)/.installed: $(EXTENSION) $(PYTHON_SOURCES) $(VENV)/.installed
	cp $(EXTENSION) python/floe_dbt/floe.duckdb_extension
	rm -rf $(WHEELS)
	cd python && FLOE_DUCKDB_VERSION=$(DUCKDB_VERSION) $(VENV)/bin/maturin build --release --quiet -o $(CURDIR)/$(WHEELS)
	$(VENV)/bin/pip install --quiet --force-reinstall --no-deps $(WHEELS)/*.whl
	touch $@

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt duckdb==$(DUCKDB_VERSION) duckdb-cli==$(DUCKDB_VERSION)
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

install: $(EXTENSION) venv reference-venv
	mkdir -p $(EXTENSION_DIR)
	cp $(EXTENSION) $(EXTENSION_DIR)/floe.duckdb_extension
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m tools.install_extensions $(EXTENSION_DIR)
	@echo "installed floe into $(EXTENSION_DIR); in the duckdb shell: SET allow_unsigned_extensions = true" \
		"(or start it with -unsigned), then LOAD floe;"

test: test-rust test-sql test-python test-bench

test-rust: venv
	FLOE_WEED=$(VENV)/bin/weed cargo test --release -p floe-core

test-sql: $(EXTENSION) venv reference-venv
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m sql_tests.run --extension $(EXTENSION)

# The GCS and Azure test beds (tests/cloud_beds.py): Rustberg, a real Iceberg REST catalog that
# keeps a warehouse on either, built once per machine into FLOE_CACHE like DuckDB; Azurite from
# npm at the version tools/azurite/package-lock.json pins (fake-gcs-server comes with the venv).
RUSTBERG_VERSION := 0.3.0
RUSTBERG := $(FLOE_CACHE)/rustberg/bin/rustberg
$(RUSTBERG):
	CARGO_TARGET_DIR=$(FLOE_CACHE)/rustberg-target cargo install --locked rustberg --version $(RUSTBERG_VERSION) --root $(FLOE_CACHE)/rustberg

AZURITE_INSTALLED := tools/azurite/node_modules/.installed
$(AZURITE_INSTALLED): tools/azurite/package.json tools/azurite/package-lock.json
	cd tools/azurite && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Temporary directories of passing tests are removed; a failing test's stay for a look.
# No httpfs is installed for the tests: floe reaches storage itself, and provides CREATE SECRET
# (TYPE s3) where httpfs is absent; the tests that prove coexistence with httpfs load it by path.
# The official extension runs in the reference engine's Python.
test-python: $(EXTENSION) venv reference-venv wheel $(RUSTBERG) $(AZURITE_INSTALLED)
	FLOE_EXTENSION=$(CURDIR)/$(EXTENSION) FLOE_RUSTBERG=$(RUSTBERG) FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) \
		$(VENV)/bin/pytest -q -o tmp_path_retention_policy=failed tests

# The benchmarks at tiny sizes: keeps the harness working; `make bench` measures.
test-bench: $(EXTENSION) venv reference-venv
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m bench.run --extension $(EXTENSION) --smoke

demo: $(EXTENSION) venv
	$(PYTHON) -m tools.demo --extension $(EXTENSION)

bench: $(EXTENSION) venv reference-venv
	FLOE_REFERENCE_PYTHON=$(REFERENCE_PYTHON) $(PYTHON) -m bench.run --extension $(EXTENSION)

# Formatting and lints, all three reported in one run; nothing is rewritten (`cargo fmt --all`
# and `clang-format -i` do that).
# floe_abi.h is generated by cbindgen (extension/build.rs) and laid out by it.
GLUE_SOURCES := $(shell find extension/glue \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) -not -name floe_abi.h 2>/dev/null)
lint: $(DUCKDB_PATHS) clang-format
	@failed=""; \
	cargo fmt --all --check || failed="$$failed rustfmt"; \
	$(DUCKDB_ENV) cargo clippy --release --workspace --all-targets -- -D warnings || failed="$$failed clippy"; \
	clang-format --dry-run --Werror $(GLUE_SOURCES) || failed="$$failed clang-format"; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed"; exit 1; fi

# Debian's clang-format, installed when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
.PHONY: clang-format
clang-format:
	@command -v clang-format >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y clang-format; }

clean:
	rm -rf $(BUILD) python/floe_dbt/floe.duckdb_extension
