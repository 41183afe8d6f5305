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

struct PartitionField {
	int32_t source_id;
	string name;
	//! identity, year, month, day, hour, bucket[N], truncate[W]
	string transform;
};

vector<PartitionField> ParsePartitionSpec(duckdb_yyjson::yyjson_val *array);

//! PARTITIONED BY keys (`region`, `day(ts)`, `bucket(16, id)`, `truncate(4, name)`) as the core's
//! partition fields JSON.
string PartitionKeysToJson(const vector<unique_ptr<duckdb::ParsedExpression>> &keys);

//! The partition value of `field` for rows whose columns are `columns`, in table order.
unique_ptr<duckdb::Expression> PartitionValue(duckdb::ClientContext &context, const PartitionField &field,
                                              const vector<IcebergColumn> &columns);

} // namespace floe
