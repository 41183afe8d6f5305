//===----------------------------------------------------------------------===//
// floe: ALTER TABLE and COMMENT ON statements as the core's table edits
// (floe_core::commit::evolution::TableEdit), which check them against Iceberg's evolution rules.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/parser/parsed_data/alter_info.hpp"
#include "duckdb/parser/parsed_expression.hpp"

namespace floe {

//! The edit as JSON; throws for ALTER forms an Iceberg table has no equivalent of, naming `table`.
std::string TableEditJson(const duckdb::AlterInfo &info, const std::string &table);

//! A table option's value (CREATE TABLE ... WITH, ALTER TABLE ... SET) as the property text.
std::string TableOptionText(const duckdb::ParsedExpression &expression);

} // namespace floe
