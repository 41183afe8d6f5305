//===----------------------------------------------------------------------===//
// floe: C++ side of floe_abi.h — handle ownership, errors as DuckDB exceptions, JSON documents.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb.hpp"
#include "floe_abi.h"
#include "yyjson.hpp"

namespace floe {

using duckdb::shared_ptr;
using duckdb::string;
using duckdb::unique_ptr;
using duckdb::vector;

//! Throws the DuckDB exception matching the error's kind, if there is one, and frees it.
void Check(FloeError *error);

//! A parsed JSON document from Rust; values stay valid while the document lives.
class Json {
public:
	explicit Json(FloeString text);
	explicit Json(const string &text);
	~Json();
	Json(const Json &) = delete;
	Json &operator=(const Json &) = delete;

	duckdb_yyjson::yyjson_val *Root() const {
		return duckdb_yyjson::yyjson_doc_get_root(doc);
	}

private:
	duckdb_yyjson::yyjson_doc *doc;
};

//! Accessors that throw a clear error when Rust sent something the ABI does not describe.
namespace json {
duckdb_yyjson::yyjson_val *Get(duckdb_yyjson::yyjson_val *object, const char *key);
string String(duckdb_yyjson::yyjson_val *value);
string StringOr(duckdb_yyjson::yyjson_val *object, const char *key, const string &fallback);
int64_t Int(duckdb_yyjson::yyjson_val *value);
bool IsNull(duckdb_yyjson::yyjson_val *value);
//! A JSON string literal for text, with quotes and escapes.
string Quote(const string &text);
} // namespace json

//! Shared ownership of a Rust table handle: table entries, scans and functions keep the
//! snapshot they were bound to alive.
class TableHandle {
public:
	explicit TableHandle(FloeTable *table) : table(table) {
	}
	~TableHandle() {
		floe_table_free(table);
	}
	TableHandle(const TableHandle &) = delete;
	TableHandle &operator=(const TableHandle &) = delete;

	const FloeTable *Get() const {
		return table;
	}

private:
	FloeTable *table;
};

} // namespace floe
