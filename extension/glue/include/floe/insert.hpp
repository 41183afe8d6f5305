//===----------------------------------------------------------------------===//
// floe: INSERT and CREATE TABLE AS into an Iceberg table. DuckDB's own parallel Parquet writer
// (PhysicalCopyToFile) writes the data files with Iceberg field ids into the table's data
// location; this operator collects what it wrote, with its statistics, and hands the files to
// the transaction, which commits them at COMMIT.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/execution/physical_operator.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "floe/deleted_rows.hpp"
#include "floe/table_entry.hpp"

namespace floe {

class IcebergInsert : public duckdb::PhysicalOperator {
public:
	IcebergInsert(duckdb::PhysicalPlan &physical_plan, IcebergTableEntry &table, idx_t estimated_cardinality);

	//! Plans writing the rows of `child` into `table`.
	static duckdb::PhysicalOperator &Plan(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                      IcebergTableEntry &table, duckdb::PhysicalOperator &child);

	//! The table the files are written for (as loaded, staged or replaced in this transaction).
	IcebergTableEntry &table;
	//! Names and types of the partition value columns, in spec order (none if unpartitioned).
	vector<string> partition_names;
	vector<duckdb::LogicalType> partition_types;
	//! The rows an UPDATE or MERGE deletes while it writes these: committed with them.
	shared_ptr<DeletedRows> deleted_rows;
	//! The statement's count when it is not the rows written (MERGE: inserted, updated and deleted).
	shared_ptr<std::atomic<idx_t>> statement_rows;

	unique_ptr<duckdb::GlobalSinkState> GetGlobalSinkState(duckdb::ClientContext &context) const override;
	duckdb::SinkResultType Sink(duckdb::ExecutionContext &context, duckdb::DataChunk &chunk,
	                            duckdb::OperatorSinkInput &input) const override;
	duckdb::SinkFinalizeType Finalize(duckdb::Pipeline &pipeline, duckdb::Event &event, duckdb::ClientContext &context,
	                                  duckdb::OperatorSinkFinalizeInput &input) const override;
	bool IsSink() const override {
		return true;
	}
	bool ParallelSink() const override {
		return false;
	}

	duckdb::SourceResultType GetDataInternal(duckdb::ExecutionContext &context, duckdb::DataChunk &chunk,
	                                         duckdb::OperatorSourceInput &input) const override;
	bool IsSource() const override {
		return true;
	}

	//! DuckDB's partition keys of one written file as the core's partition values, in spec order.
	JsonBuilder::Value PartitionJson(JsonBuilder &json, const duckdb::Value &keys) const;

	string GetName() const override {
		return "ICEBERG_INSERT";
	}
};

} // namespace floe
