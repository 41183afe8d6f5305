#include "floe/update.hpp"

#include "duckdb/execution/operator/projection/physical_projection.hpp"
#include "duckdb/planner/expression/bound_reference_expression.hpp"
#include "floe/delete.hpp"
#include "floe/duckdb_compat.hpp"
#include "floe/insert.hpp"

namespace floe {

using namespace duckdb;

//! Whether `plan` may name a row of the table twice: only a join (UPDATE ... FROM) can; a scan,
//! its filters and projections name each row once, and then no row needs to be remembered.
static bool MayRepeatRows(PhysicalOperator &plan) {
	switch (plan.type) {
	case PhysicalOperatorType::TABLE_SCAN:
	case PhysicalOperatorType::FILTER:
	case PhysicalOperatorType::PROJECTION:
		break;
	default:
		return true;
	}
	for (auto &child : plan.children) {
		if (MayRepeatRows(child.get())) {
			return true;
		}
	}
	return false;
}

PhysicalOperator &IcebergUpdate::Plan(ClientContext &context, PhysicalPlanGenerator &planner, LogicalUpdate &op,
                                      PhysicalOperator &child) {
	auto &table = op.table.Cast<IcebergTableEntry>();
	CheckRowLevelTarget(table, "UPDATE", op.return_chunk);
	auto name = compat::Str(table.name);
	auto width = table.Description().columns.size();
	if (op.columns.size() != width || child.types.size() < 2) {
		throw InternalException("UPDATE of Iceberg table '%s' did not project every column", name);
	}
	// The new row in table order, then the old row's data file and position (the last two columns).
	vector<unique_ptr<Expression>> expressions(width);
	vector<LogicalType> types(width);
	for (idx_t i = 0; i < width; i++) {
		auto column = op.columns[i].index;
		auto expression = op.expressions[i]->Copy();
		if (expression->GetExpressionClass() == ExpressionClass::BOUND_DEFAULT) {
			expression = op.bound_defaults[column]->Copy();
		}
		types[column] = compat::ReturnType(*expression);
		expressions[column] = std::move(expression);
	}
	auto row_ids = child.types.size() - 2;
	vector<LogicalType> projected = types;
	for (idx_t i = 0; i < 2; i++) {
		projected.push_back(child.types[row_ids + i]);
		expressions.push_back(make_uniq<BoundReferenceExpression>(child.types[row_ids + i], row_ids + i));
	}
	auto &projection =
	    planner.Make<PhysicalProjection>(std::move(projected), std::move(expressions), child.estimated_cardinality);
	projection.children.push_back(child);

	auto repeats = MayRepeatRows(child) ? DeletedRows::Repeats::FIRST_ONLY : DeletedRows::Repeats::NONE;
	auto deleted_rows =
	    make_shared_ptr<DeletedRows>(table, IcebergDelete::Request(table, child, "update", false), repeats);
	auto &rows = planner.Make<IcebergUpdateRows>(std::move(types), deleted_rows, child.estimated_cardinality);
	rows.children.push_back(projection);
	auto &insert = IcebergInsert::Plan(context, planner, table, rows).Cast<IcebergInsert>();
	insert.deleted_rows = std::move(deleted_rows);
	return insert;
}

IcebergUpdateRows::IcebergUpdateRows(PhysicalPlan &physical_plan, vector<LogicalType> types,
                                     shared_ptr<DeletedRows> deleted_rows_p, idx_t estimated_cardinality)
    : PhysicalOperator(physical_plan, PhysicalOperatorType::EXTENSION, std::move(types), estimated_cardinality),
      deleted_rows(std::move(deleted_rows_p)) {
}

OperatorResultType IcebergUpdateRows::Execute(ExecutionContext &context, DataChunk &input, DataChunk &chunk,
                                              GlobalOperatorState &gstate, OperatorState &state) const {
	SelectionVector first(input.size());
	auto count = deleted_rows->AddFirst(input, FileColumn(), FileColumn() + 1,
	                                    *FlatVector::IncrementalSelectionVector(), input.size(), first);
	for (idx_t i = 0; i < types.size(); i++) {
		chunk.data[i].Slice(input.data[i], first, count);
	}
	chunk.SetCardinality(count);
	return OperatorResultType::NEED_MORE_INPUT;
}

} // namespace floe
