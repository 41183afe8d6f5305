//===----------------------------------------------------------------------===//
// floe: DELETE with a condition on an Iceberg table, merge-on-read. DuckDB's scan below names
// each deleted row by its data file and position (the table's row-id columns `filename` and
// `file_row_number`); this sink gathers them per data file and hands them to the core at the
// end of the statement, which writes one position delete file per data file touched.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/execution/physical_operator.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/planner/operator/logical_delete.hpp"
#include "floe/table_entry.hpp"

namespace floe {

class IcebergDelete : public duckdb::PhysicalOperator {
public:
	IcebergDelete(duckdb::PhysicalPlan &physical_plan, IcebergTableEntry &table, idx_t file_column, idx_t row_column,
	              string request_json);

	//! Plans DELETE ... WHERE / USING over `child`, whose rows carry the row-id columns.
	static duckdb::PhysicalOperator &Plan(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                      duckdb::LogicalDelete &op, duckdb::PhysicalOperator &child);
	//! The delete request of a statement over `child`: the kind and the filters DuckDB pushed into
	//! its scan of `table` (what a concurrent append is checked against).
	static string Request(IcebergTableEntry &table, duckdb::PhysicalOperator &child, const char *operation,
	                      bool refuse_repeats);

	IcebergTableEntry &table;
	//! Where the data file and the row position are in the child's rows.
	idx_t file_column;
	idx_t row_column;
	string request_json;

	unique_ptr<duckdb::GlobalSinkState> GetGlobalSinkState(duckdb::ClientContext &context) const override;
	unique_ptr<duckdb::LocalSinkState> GetLocalSinkState(duckdb::ExecutionContext &context) const override;
	duckdb::SinkResultType Sink(duckdb::ExecutionContext &context, duckdb::DataChunk &chunk,
	                            duckdb::OperatorSinkInput &input) const override;
	duckdb::SinkCombineResultType Combine(duckdb::ExecutionContext &context,
	                                      duckdb::OperatorSinkCombineInput &input) const override;
	duckdb::SinkFinalizeType Finalize(duckdb::Pipeline &pipeline, duckdb::Event &event, duckdb::ClientContext &context,
	                                  duckdb::OperatorSinkFinalizeInput &input) const override;
	bool IsSink() const override {
		return true;
	}
	bool ParallelSink() const override {
		return true;
	}

	duckdb::SourceResultType GetDataInternal(duckdb::ExecutionContext &context, duckdb::DataChunk &chunk,
	                                         duckdb::OperatorSourceInput &input) const override;
	bool IsSource() const override {
		return true;
	}

	string GetName() const override {
		return "ICEBERG_DELETE";
	}
};

} // namespace floe
