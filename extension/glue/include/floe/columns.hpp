//===----------------------------------------------------------------------===//
// floe: the core's column tree (floe_core::types::Column) as DuckDB types and definitions.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/multi_file/multi_file_data.hpp"
#include "duckdb/parser/column_definition.hpp"
#include "floe/json.hpp"

namespace floe {

struct IcebergColumn {
	string name;
	int32_t field_id;
	bool required;
	string doc;
	duckdb::LogicalType type;
	//! STRUCT fields; a LIST's element; a MAP's key and value.
	vector<IcebergColumn> children;

	//! For DuckDB's reader: matched to file columns by Iceberg field id, NULL where absent.
	duckdb::MultiFileColumnDefinition ToMultiFileColumn() const;
	//! For the table entry (DESCRIBE, information_schema).
	duckdb::ColumnDefinition ToColumnDefinition() const;
};

vector<IcebergColumn> ParseColumns(duckdb_yyjson::yyjson_val *array);

} // namespace floe
