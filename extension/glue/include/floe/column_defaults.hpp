//===----------------------------------------------------------------------===//
// floe: a column's DEFAULT clause (ADD COLUMN, ALTER COLUMN ... SET DEFAULT) as the one
// constant an Iceberg format version 3 table stores as the field's default.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/parser/parsed_expression.hpp"
#include "floe/json.hpp"

namespace floe {

//! Adds the DEFAULT to a table edit: `has_default` (there is one, and it is not NULL) and
//! `default`, the expression folded to a constant of `type`, left out where DuckDB cannot fold
//! it (random(), current_timestamp): the core refuses such a default with the reason.
void AddDefault(JsonBuilder &json, JsonBuilder::Value edit, duckdb::ClientContext &context,
                duckdb::optional_ptr<const duckdb::ParsedExpression> expression, const duckdb::LogicalType &type);

} // namespace floe
