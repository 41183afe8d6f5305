//===----------------------------------------------------------------------===//
// floe: MERGE INTO an Iceberg table, merge-on-read. One operator routes each row of DuckDB's
// join of source and target to the first WHEN clause it satisfies: DELETE records the target
// row's position, UPDATE records it and emits the whole new row, INSERT emits the new row; the
// new rows go through the same partitioned writer as INSERT, and the positions become delete
// files committed in the same snapshot. The same plan on every supported DuckDB version (DuckDB
// 1.5 has no generic MERGE planning, 2.0 plans one pipeline per action).
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/common/enums/merge_action_type.hpp"
#include "duckdb/execution/physical_operator.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/planner/operator/logical_merge_into.hpp"
#include "floe/deleted_rows.hpp"

namespace floe {

class IcebergMerge {
public:
	static duckdb::PhysicalOperator &Plan(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                      duckdb::LogicalMergeInto &op, duckdb::PhysicalOperator &child);
};

//! One WHEN clause.
struct MergeClause {
	duckdb::MergeActionType type;
	//! The clause's AND condition, or null.
	unique_ptr<duckdb::Expression> condition;
	//! UPDATE and INSERT: the new row, one value per table column in order; ERROR: its message, if any.
	vector<unique_ptr<duckdb::Expression>> values;
	//! For messages: WHEN [NOT] MATCHED [BY SOURCE|TARGET] [AND ...].
	string text;
};

class IcebergMergeRows : public duckdb::PhysicalOperator {
public:
	IcebergMergeRows(duckdb::PhysicalPlan &physical_plan, vector<duckdb::LogicalType> types,
	                 idx_t estimated_cardinality);

	string table_name;
	//! The clauses of each match kind, in the order they are tried: matched, not matched by source, not matched
	//! by target (indexed by MergeActionCondition).
	vector<MergeClause> clauses[3];
	//! Where the target row's data file and position are in the input (NULL: no target row).
	idx_t row_id_start;
	//! Set when there are NOT MATCHED BY SOURCE clauses: a column that is NULL where no source row matched.
	duckdb::optional_idx source_marker;
	shared_ptr<DeletedRows> deleted_rows;
	//! Rows inserted, updated or deleted: the statement's count.
	shared_ptr<std::atomic<idx_t>> merged;

	unique_ptr<duckdb::OperatorState> GetOperatorState(duckdb::ExecutionContext &context) const override;
	duckdb::OperatorResultType Execute(duckdb::ExecutionContext &context, duckdb::DataChunk &input,
	                                   duckdb::DataChunk &chunk, duckdb::GlobalOperatorState &gstate,
	                                   duckdb::OperatorState &state) const override;
	bool ParallelOperator() const override {
		return true;
	}
	string GetName() const override {
		return "ICEBERG_MERGE_ROWS";
	}
};

} // namespace floe
