//===----------------------------------------------------------------------===//
// floe: DuckDB column types as the core's JSON (floe_core::commit::schema::DuckColumn), for
// CREATE TABLE; the core decides how each maps to Iceberg.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/parser/column_list.hpp"
#include "duckdb/parser/constraint.hpp"
#include "floe/json.hpp"

namespace floe {

JsonBuilder::Value TypeToJson(JsonBuilder &json, const duckdb::LogicalType &type);

JsonBuilder::Value ColumnsToJson(JsonBuilder &json, const duckdb::ColumnList &columns,
                                 const vector<unique_ptr<duckdb::Constraint>> &constraints);

} // namespace floe
