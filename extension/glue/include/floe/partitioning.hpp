//===----------------------------------------------------------------------===//
// floe: partitioned writes. A table's default partition spec becomes DuckDB expressions that
// compute each row's partition values (Iceberg transforms, bucket with Iceberg's own hash), so
// DuckDB's partitioned Parquet writer puts rows of one partition into one file.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/parser/parsed_expression.hpp"
#include "duckdb/planner/expression.hpp"
#include "floe/columns.hpp"

namespace floe {

//! A field of a table's partition spec, as the core resolved it
//! (floe_core::commit::partitioning::ResolvedPartitionField).
struct PartitionField {
	int32_t source_id;
	string name;
	//! identity, year, month, day, hour, bucket, truncate (or void, unknown: not writable)
	string transform;
	//! N of bucket, W of truncate; 0 for the others.
	int32_t parameter;
};

vector<PartitionField> ParsePartitionSpec(duckdb_yyjson::yyjson_val *array);

//! A PARTITIONED BY (or SORTED BY) key as the core's PartitionKey: its text, function, column
//! and constant arguments.
JsonBuilder::Value PartitionKeyToJson(JsonBuilder &json, const duckdb::ParsedExpression &key);

//! PARTITIONED BY keys as DuckDB parsed them, for the core to turn into Iceberg transforms
//! (floe_core::commit::partitioning::PartitionKey): each key's text, function, column and
//! constant arguments.
JsonBuilder::Value PartitionKeysToJson(JsonBuilder &json, const vector<unique_ptr<duckdb::ParsedExpression>> &keys);

//! The partition value of `field` for rows whose columns are `columns`, in table order.
unique_ptr<duckdb::Expression> PartitionValue(duckdb::ClientContext &context, const PartitionField &field,
                                              const vector<IcebergColumn> &columns);

} // namespace floe
