//===----------------------------------------------------------------------===//
// floe: TRUNCATE and DELETE without a condition on an Iceberg table. No file is read: the
// transaction replaces every row with none (an Iceberg `delete` snapshot) at COMMIT.
//===----------------------------------------------------------------------===//
#pragma once

#include "duckdb/execution/physical_operator.hpp"
#include "duckdb/execution/physical_plan_generator.hpp"
#include "duckdb/planner/operator/logical_delete.hpp"
#include "floe/table_entry.hpp"

namespace floe {

class IcebergTruncate : public duckdb::PhysicalOperator {
public:
	IcebergTruncate(duckdb::PhysicalPlan &physical_plan, IcebergTableEntry &table);

	//! Whether `op` deletes every row (no condition): then no file needs reading.
	static bool Applies(duckdb::LogicalDelete &op);
	//! Plans such a DELETE.
	static duckdb::PhysicalOperator &Plan(duckdb::ClientContext &context, duckdb::PhysicalPlanGenerator &planner,
	                                      duckdb::LogicalDelete &op);

	IcebergTableEntry &table;

	duckdb::SourceResultType GetDataInternal(duckdb::ExecutionContext &context, duckdb::DataChunk &chunk,
	                                         duckdb::OperatorSourceInput &input) const override;
	bool IsSource() const override {
		return true;
	}
	string GetName() const override {
		return "ICEBERG_TRUNCATE";
	}
};

} // namespace floe
