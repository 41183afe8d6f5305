//===----------------------------------------------------------------------===//
// floe: sort orders. ALTER TABLE ... SET SORTED BY keys go to the core as an edit, and every
// write sorts each data file it produces by the table's default sort order, which the core
// records as the file's sort_order_id.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/execution/operator/persistent/physical_copy_to_file.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/parser/result_modifier.hpp"
#include "duckdb/planner/bound_result_modifier.hpp"
#include "floe/columns.hpp"
#include "floe/json.hpp"

namespace floe {

//! A field of a table's default sort order, as the core resolved it
//! (floe_core::commit::sort_order::ResolvedSortField).
struct SortField {
	int32_t source_id;
	//! identity, year, month, day, hour, bucket, truncate (or void, unknown)
	string transform;
	//! N of bucket, W of truncate; 0 for the others.
	int32_t parameter;
	bool descending;
	bool nulls_first;
};

vector<SortField> ParseSortOrder(duckdb_yyjson::yyjson_val *array);

//! SET SORTED BY's ORDER_DEFAULT directions and NULL orders as ORDER BY would take them in this
//! session (DuckDB's default_order and default_null_order), so the table records what was meant.
void ResolveDefaultOrders(duckdb::ClientContext &context, vector<duckdb::OrderByNode> &orders);

//! SET SORTED BY keys (resolved) as the core's SortKeys; none for RESET SORTED BY.
JsonBuilder::Value SortKeysToJson(JsonBuilder &json, const vector<duckdb::OrderByNode> &orders);

//! What rows of `table` (columns in table order) are sorted by to follow `order`: a transform's
//! value, or, for the last field, its source column where the transform keeps the source's
//! order (every transform but bucket), which sorts within ties of the transformed value too.
vector<duckdb::BoundOrderByNode> FileSortKeys(duckdb::ClientContext &context, const string &table,
                                              const vector<SortField> &order, const vector<IcebergColumn> &columns);

//! The COPY operator that writes a statement's data files; `sorted`: each file is to be sorted.
duckdb::PhysicalCopyToFile &MakeCopyToFile(duckdb::PhysicalPlanGenerator &planner, duckdb::CopyFunction function,
                                           unique_ptr<duckdb::FunctionData> bind_data, idx_t estimated_cardinality,
                                           bool sorted);

//! Makes `copy` (from MakeCopyToFile) write each file sorted by `keys`, over the rows of `source`;
//! returns its child.
duckdb::PhysicalOperator &SortEachFile(duckdb::PhysicalPlanGenerator &planner, duckdb::PhysicalCopyToFile &copy,
                                       duckdb::PhysicalOperator &source, vector<duckdb::BoundOrderByNode> keys);

} // namespace floe
