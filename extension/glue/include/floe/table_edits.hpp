//===----------------------------------------------------------------------===//
// floe: ALTER TABLE and COMMENT ON statements as the core's table edits
// (floe_core::commit::evolution::TableEdit), which check them against Iceberg's evolution rules.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/parser/parsed_data/alter_info.hpp"
#include "duckdb/parser/parsed_expression.hpp"
#include "floe/columns.hpp"

namespace floe {

//! The edit as JSON; throws for ALTER forms an Iceberg table has no equivalent of, naming `table`.
//! `columns` are the table's, for the type a SET DEFAULT is folded to.
std::string TableEditJson(duckdb::ClientContext &context, const duckdb::AlterInfo &info, const std::string &table,
                          const vector<IcebergColumn> &columns);

//! A table option's value (CREATE TABLE ... WITH, ALTER TABLE ... SET) as the property text.
std::string TableOptionText(const duckdb::ParsedExpression &expression);

} // namespace floe
