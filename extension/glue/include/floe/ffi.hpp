//===----------------------------------------------------------------------===//
// floe: C++ side of floe_abi.h — every handle, string, error and array the core returns is
// owned by an RAII type from the moment the call returns, and errors become DuckDB exceptions.
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>

#include "duckdb.hpp"
#include "floe_abi.h"

namespace floe {

using duckdb::shared_ptr;
using duckdb::string;
using duckdb::unique_ptr;
using duckdb::vector;

//! Frees a core handle with the core's function for its type.
template <class T, void (*FREE)(T *)>
struct CoreDeleter {
	void operator()(T *handle) const {
		FREE(handle);
	}
};

//! Sole owner of a handle of type T the core returned.
template <class T, void (*FREE)(T *)>
using CoreHandle = std::unique_ptr<T, CoreDeleter<T, FREE>>;

using CatalogHandle = CoreHandle<FloeCatalog, floe_catalog_free>;
using TableHandle = CoreHandle<FloeTable, floe_table_free>;
using ScanHandle = CoreHandle<FloeScan, floe_scan_free>;
using TxnHandle = CoreHandle<FloeTxn, floe_txn_free>;
using DeletesHandle = CoreHandle<FloeDeletes, floe_deletes_free>;
using ErrorHandle = CoreHandle<FloeError, floe_error_free>;
using ProgressHandle = CoreHandle<FloeProgress, floe_progress_free>;

//! An out parameter (`T **out`) that hands what the core wrote to `owner` when the full
//! expression ends, whether the call succeeded or the error check threw.
template <class Handle>
class OutHandle {
public:
	using pointer = typename Handle::pointer;
	explicit OutHandle(Handle &owner) : owner(owner) {
	}
	~OutHandle() {
		if (!moved) {
			owner.reset(raw);
		}
	}
	OutHandle(const OutHandle &) = delete;
	OutHandle &operator=(const OutHandle &) = delete;
	OutHandle(OutHandle &&other) : owner(other.owner), raw(other.raw) {
		other.raw = nullptr;
		other.moved = true;
	}

	operator pointer *() {
		return &raw;
	}

private:
	Handle &owner;
	pointer raw = nullptr;
	bool moved = false;
};

//! `Check(floe_catalog_attach(request, Out(handle)))`: `handle` owns the catalog.
template <class Handle>
OutHandle<Handle> Out(Handle &owner) {
	return OutHandle<Handle>(owner);
}

//! Text the core returned (JSON unless the function says otherwise), freed with it.
class CoreString {
public:
	CoreString() : text {nullptr, 0} {
	}
	~CoreString() {
		floe_string_free(text);
	}
	CoreString(const CoreString &) = delete;
	CoreString &operator=(const CoreString &) = delete;

	//! For the call that fills it; frees what it held before.
	FloeString *Out() {
		floe_string_free(text);
		text = {nullptr, 0};
		return &text;
	}
	const char *Data() const {
		return text.data;
	}
	size_t Size() const {
		return text.len;
	}

private:
	FloeString text;
};

//! Sorted row positions the core returned for one data file, freed with it.
class CorePositions {
public:
	CorePositions() = default;
	~CorePositions() {
		floe_positions_free(data, len);
	}
	CorePositions(const CorePositions &) = delete;
	CorePositions &operator=(const CorePositions &) = delete;

	int64_t **Data() {
		return &data;
	}
	size_t *Size() {
		return &len;
	}
	vector<int64_t> ToVector() const {
		return vector<int64_t>(data, data + len);
	}

private:
	int64_t *data = nullptr;
	size_t len = 0;
};

//! Throws the DuckDB exception matching the error's kind, if there is one, and frees it.
void Check(FloeError *error);

//! Shared ownership of a Rust table handle: table entries, scans and functions keep the
//! snapshot they were bound to alive.
class SharedTable {
public:
	explicit SharedTable(TableHandle table) : table(std::move(table)) {
	}

	const FloeTable *Get() const {
		return table.get();
	}

private:
	TableHandle table;
};

} // namespace floe
