#include "floe/truncate.hpp"

#include "duckdb/planner/operator/logical_get.hpp"
#include "floe/deleted_rows.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/transaction.hpp"

namespace floe {

using namespace duckdb;

IcebergTruncate::IcebergTruncate(PhysicalPlan &physical_plan, IcebergTableEntry &table)
    : PhysicalOperator(physical_plan, PhysicalOperatorType::EXTENSION, {LogicalType::BIGINT}, 1), table(table) {
}

//! Whether `op` reads every row of the table: projections over a scan without filters.
static bool ReadsEveryRow(LogicalOperator &op) {
	switch (op.type) {
	case LogicalOperatorType::LOGICAL_PROJECTION:
		return op.children.size() == 1 && ReadsEveryRow(*op.children[0]);
	case LogicalOperatorType::LOGICAL_GET: {
		auto &get = op.Cast<LogicalGet>();
		return !compat::HasFilters(get.table_filters) && !get.dynamic_filters && op.children.empty();
	}
	default:
		return false;
	}
}

PhysicalOperator &IcebergTruncate::Plan(ClientContext &context, PhysicalPlanGenerator &planner, LogicalDelete &op) {
	auto &table = op.table.Cast<IcebergTableEntry>();
	CheckRowLevelTarget(table, "DELETE", op.return_chunk);
	return planner.Make<IcebergTruncate>(table);
}

bool IcebergTruncate::Applies(LogicalDelete &op) {
	return op.children.size() == 1 && ReadsEveryRow(*op.children[0]);
}

SourceResultType IcebergTruncate::GetDataInternal(ExecutionContext &context, DataChunk &chunk,
                                                  OperatorSourceInput &input) const {
	auto removed = IcebergTransaction::Get(context.client, table.catalog).Truncate(table);
	chunk.SetCardinality(1);
	chunk.SetValue(0, 0, Value::BIGINT(NumericCast<int64_t>(removed)));
	return SourceResultType::FINISHED;
}

} // namespace floe
