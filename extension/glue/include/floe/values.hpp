//===----------------------------------------------------------------------===//
// floe: DuckDB values <-> the core's tagged values ({"int":3}, {"date":20454}, ...).
//===----------------------------------------------------------------------===//
#pragma once

#include "floe/json.hpp"

namespace floe {

//! The constant as a tagged value, or nullptr where it has none the core can compare with (then
//! the filter holding it is not used for pruning; DuckDB still applies it to the rows).
JsonBuilder::Value ValueToJson(JsonBuilder &json, const duckdb::Value &value);

//! A tagged value (or JSON null) from the core as a DuckDB value of `type`.
duckdb::Value ValueFromJson(duckdb_yyjson::yyjson_val *tagged, const duckdb::LogicalType &type);

} // namespace floe
