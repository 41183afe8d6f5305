//===----------------------------------------------------------------------===//
// floe: UPDATE of an Iceberg table, merge-on-read: each updated row is deleted where it is (a
// position delete) and its whole new version written through the same partitioned writer as
// INSERT, both committed in one snapshot. The table entry makes DuckDB project every column of
// an UPDATE (IcebergTableEntry::BindUpdateConstraints), so the new rows are complete.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/execution/physical_operator.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/planner/operator/logical_update.hpp"
#include "floe/deleted_rows.hpp"

namespace floe {

class IcebergUpdate {
public:
	//! Plans UPDATE ... SET ... [FROM ...] [WHERE ...] over `child`, whose rows hold the SET values,
	//! the other columns and, last, the row-id columns.
	static duckdb::PhysicalOperator &Plan(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                      duckdb::LogicalUpdate &op, duckdb::PhysicalOperator &child);
};

//! Streams the new rows of an UPDATE on to the writer, recording the position of the old row of
//! each; a row an UPDATE ... FROM matches twice is updated once (the first match), as in DuckDB's
//! own tables.
class IcebergUpdateRows : public duckdb::PhysicalOperator {
public:
	IcebergUpdateRows(duckdb::PhysicalPlan &physical_plan, vector<duckdb::LogicalType> types,
	                  shared_ptr<DeletedRows> deleted_rows, idx_t estimated_cardinality);

	//! Where the old row's data file and position are: right after the table's columns.
	idx_t FileColumn() const {
		return types.size();
	}

	shared_ptr<DeletedRows> deleted_rows;

	duckdb::OperatorResultType Execute(duckdb::ExecutionContext &context, duckdb::DataChunk &input,
	                                   duckdb::DataChunk &chunk, duckdb::GlobalOperatorState &gstate,
	                                   duckdb::OperatorState &state) const override;
	bool ParallelOperator() const override {
		return true;
	}
	string GetName() const override {
		return "ICEBERG_UPDATE_ROWS";
	}
};

} // namespace floe
