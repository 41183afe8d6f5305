//===----------------------------------------------------------------------===//
// floe: DuckDB's pushed-down table filters as the core's filter JSON (floe_core::scan::filter).
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/planner/table_filter.hpp"
#include "floe/columns.hpp"
#include "floe/json.hpp"

namespace floe {

//! The filters of a scan as one AND, over the Iceberg field ids of `columns`; "" if none can be
//! expressed. `column_ids` maps the filter set's keys to table column indexes.
string FiltersToJson(const duckdb::TableFilterSet &filters, const vector<duckdb::column_t> &column_ids,
                     const vector<IcebergColumn> &columns);

//! The core's name of a comparison ("eq", "lt", ...); nullptr for one it has none for.
const char *ComparisonName(duckdb::ExpressionType type);
//! {"op":"and"|"or","args":[...]}.
JsonBuilder::Value FilterJunction(JsonBuilder &json, const char *op, const vector<JsonBuilder::Value> &args);
//! {"op":<op>,"field_id":<field_id>}, to complete with the operator's operands.
JsonBuilder::Value FilterOnField(JsonBuilder &json, const char *op, int32_t field_id);

} // namespace floe
