//===----------------------------------------------------------------------===//
// floe: the JSON that crosses floe_abi.h, read and built with yyjson (vendored by DuckDB) —
// never assembled from strings.
//===----------------------------------------------------------------------===//
#pragma once

#include "floe/ffi.hpp"
#include "yyjson.hpp"

namespace floe {

//! A parsed JSON document; values stay valid while the document lives.
class Json {
public:
	//! What the core returned; unreadable JSON from it is a bug in floe.
	explicit Json(const CoreString &text);
	//! JSON text floe holds as a string (e.g. a partition value it wrote itself).
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
bool Bool(duckdb_yyjson::yyjson_val *value);
bool IsNull(duckdb_yyjson::yyjson_val *value);
//! The text of a value of a parsed document.
string Write(duckdb_yyjson::yyjson_val *value);
} // namespace json

//! A JSON document for the core. Values are made in the builder's document and live as long
//! as it; strings and keys are copied in.
class JsonBuilder {
public:
	using Value = duckdb_yyjson::yyjson_mut_val *;

	JsonBuilder();
	~JsonBuilder();
	JsonBuilder(const JsonBuilder &) = delete;
	JsonBuilder &operator=(const JsonBuilder &) = delete;

	Value Object();
	Value Array();
	Value String(const string &text);
	Value Int(int64_t number);
	Value UInt(uint64_t number);
	Value Double(double number);
	Value Bool(bool flag);
	Value Null();
	//! JSON text made by a JsonBuilder before (kept as text, e.g. a pushed-down filter).
	Value Raw(const string &json);

	//! Sets `key` of `object` to `value`; returns `object`.
	Value Add(Value object, const string &key, Value value);
	//! Appends `value` to `array`; returns `array`.
	Value Append(Value array, Value value);

	//! The text of `value`.
	string Write(Value value) const;

private:
	duckdb_yyjson::yyjson_mut_doc *doc;
};

} // namespace floe
