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
	//! Format version 3 defaults (NULL when the field has none): what rows of files written
	//! before the field existed read, and what an INSERT that omits it writes.
	duckdb::Value initial_default;
	duckdb::Value write_default;

	//! For DuckDB's reader: matched to file columns by Iceberg field id, the initial default
	//! (else NULL) where absent.
	duckdb::MultiFileColumnDefinition ToMultiFileColumn() const;
	//! For the table entry (DESCRIBE, information_schema, and the write default DuckDB puts in
	//! the columns an INSERT leaves out).
	duckdb::ColumnDefinition ToColumnDefinition() const;
};

vector<IcebergColumn> ParseColumns(duckdb_yyjson::yyjson_val *array);

} // namespace floe
